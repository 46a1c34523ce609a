#pragma once
// CLIP's symmetric InfoNCE with a learnable logit scale (Radford et al. 2021; open_clip):
// logits = exp(s) X Y^T, L = (CE(logits, diag) + CE(logits^T, diag)) / 2. s starts at
// ln(1/0.07) and is clamped to [0, ln 100] inside the forward (as Omni-C does), so it never
// needs a separate clamp after the optimiser step; give it no weight decay.
#include <cmath>

#include "omni/autodiff/module_base.hpp"
#include "omni/loss/cross_entropy.hpp"

namespace omni::loss {

// x, y [B, D] (normalised here), log_scale a one-element tensor -> scalar.
template <class P> Tensor<P> info_nce(const Tensor<P>& x, const Tensor<P>& y, const Tensor<P>& log_scale) {
    detail::check_pair("info_nce", x, y);
    using D = nn::device_of_t<P>;
    return as_op("info_nce", [&] {  // errors inside (a log_scale of several elements, dtypes) name info_nce
        const Tensor<P> hi(Tensor<D>::scalar(std::log(100.0), log_scale.type())), lo(Tensor<D>::scalar(0.0, log_scale.type()));
        const Tensor<P> scale = exp(maximum(minimum(log_scale.reshape(Shape{}), hi), lo));
        const Tensor<P> logits = mul(matmul(l2_normalize(x, -1), l2_normalize(y, -1), false, true), scale);
        const Tensor<P> t = detail::arange_targets<P>(x.shape()[0]);
        return mul(add(cross_entropy(logits, t), cross_entropy(logits.transpose(0, 1), t)), 0.5);
    });
}

/// CLIP's InfoNCE as a module owning its logit scale (named "logit_scale", as open_clip).
template <class P> struct InfoNCE : nn::Module {
    Tensor<P> logit_scale;
    InfoNCE() : logit_scale(nn::make_param<P>(Tensor<nn::device_of_t<P>>::full({1}, std::log(1.0 / 0.07)))) {}
    template <class V> void visit(V& v) { v.param("logit_scale", logit_scale); }
    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& y) const { return info_nce(x, y, logit_scale); }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& y) const { return forward(x, y); }
};

}  // namespace omni::loss

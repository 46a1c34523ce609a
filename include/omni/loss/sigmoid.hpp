#pragma once
// SigLIP's pairwise sigmoid loss (Zhai et al. 2023): logits_ij = exp(t) x_i . y_j + b, label +1
// on the diagonal and -1 elsewhere, L = sum_ij softplus(-z_ij logits_ij) / B (the paper and
// open_clip; SAIL divides by B^2 instead: `per_pair`). Init t = ln 10, b = -10.
#include <cmath>

#include "omni/autodiff/module_base.hpp"
#include "omni/loss/cross_entropy.hpp"

namespace omni::loss {

enum class sigmoid_reduction { per_anchor, per_pair };  // divide by B (paper) or by B^2 (SAIL)

template <class P>
Tensor<P> sigmoid_loss(const Tensor<P>& x, const Tensor<P>& y, const Tensor<P>& log_t, const Tensor<P>& bias,
                       sigmoid_reduction red = sigmoid_reduction::per_anchor) {
    detail::check_pair("sigmoid_loss", x, y);
    using D = nn::device_of_t<P>;
    const std::int64_t b = x.shape()[0];
    const Tensor<P> logits = add(mul(matmul(l2_normalize(x, -1), l2_normalize(y, -1), false, true), exp(log_t.reshape(Shape{}))), bias.reshape(Shape{}));
    // z = 2 I - 1: +1 for the matching pair, -1 for every other.
    const Tensor<P> z = where(detail::eye_mask<P>(b), Tensor<P>(Tensor<D>::scalar(1.0, x.type())), Tensor<P>(Tensor<D>::scalar(-1.0, x.type())));
    const Tensor<P> total = sum(softplus(neg(mul(z, logits))));
    return mul(total, 1.0 / static_cast<double>(red == sigmoid_reduction::per_anchor ? b : b * b));
}

/// SigLIP's sigmoid loss as a module owning its logit scale t and bias b (open_clip's names).
template <class P> struct SigmoidLoss : nn::Module {
    sigmoid_reduction reduction = sigmoid_reduction::per_anchor;
    Tensor<P> logit_scale, logit_bias;  // t and b
    explicit SigmoidLoss(double t0 = std::log(10.0), double b0 = -10.0, sigmoid_reduction r = sigmoid_reduction::per_anchor)
        : reduction(r),
          logit_scale(nn::make_param<P>(Tensor<nn::device_of_t<P>>::full({1}, t0))),
          logit_bias(nn::make_param<P>(Tensor<nn::device_of_t<P>>::full({1}, b0))) {}
    template <class V> void visit(V& v) {
        v.param("logit_scale", logit_scale);
        v.param("logit_bias", logit_bias);
    }
    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& y) const { return sigmoid_loss(x, y, logit_scale, logit_bias, reduction); }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& y) const { return forward(x, y); }
};

}  // namespace omni::loss

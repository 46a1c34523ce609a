#pragma once
// Taped softmax, log_softmax, layer_norm and l2_normalize: each one tape node whose backward is
// the fused backward kernel of its family.
#include "omni/autodiff/tensor.hpp"
#include "omni/backend/layer_norm.hpp"
#include "omni/backend/normalize.hpp"
#include "omni/backend/softmax.hpp"

namespace omni {

template <class P> Var<P> softmax(const Var<P>& x, std::int64_t axis = -1) {
    Tensor<P> y = softmax(x.value(), axis);
    return ad::record<P>("softmax", y, {&x}, [y, axis](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{softmax_backward(y, g, axis, false)};
    });
}

template <class P> Var<P> log_softmax(const Var<P>& x, std::int64_t axis = -1) {
    Tensor<P> y = log_softmax(x.value(), axis);
    return ad::record<P>("log_softmax", y, {&x}, [y, axis](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{softmax_backward(y, g, axis, true)};
    });
}

template <class P> Var<P> layer_norm(const Var<P>& x, const Var<P>& w = {}, const Var<P>& b = {}, double eps = 1e-5) {
    auto r = layer_norm_forward(x.value(), w.value(), b.value(), eps);
    return ad::record<P>("layer_norm", r.y, {&x, &w, &b},
                         [xv = x.value(), wv = w.value(), hb = b.defined(), mean = r.mean, rstd = r.rstd](const Tensor<P>& g) {
        auto [gx, gw, gb] = layer_norm_backward(xv, wv, hb, mean, rstd, g);
        return std::vector<Tensor<P>>{gx, gw, gb};
    });
}

template <class P> Var<P> l2_normalize(const Var<P>& x, std::int64_t axis = -1, double eps = 1e-12) {
    const auto fwd = l2_normalize_forward(x.value(), axis, eps);
    const Tensor<P> y = fwd.first, norm = fwd.second;  // named copies: lambdas may not capture structured bindings before clang 16
    return ad::record<P>("l2_normalize", y, {&x}, [y, norm, axis, eps](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{l2_normalize_backward(y, norm, g, axis, eps)};
    });
}

}  // namespace omni

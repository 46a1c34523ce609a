#pragma once
// Taped RMS norm: one node whose backward is the fused backward kernel (dx and dweight).
#include "omni/autodiff/tensor.hpp"
#include "omni/backend/rms_norm.hpp"

namespace omni {

template <class P> Var<P> rms_norm(const Var<P>& x, const Var<P>& w, double eps = 1e-6) {
    auto r = rms_norm_forward(x.value(), w.value(), eps);
    return ad::record<P>("rms_norm", r.y, {&x, &w}, [xv = x.value(), wv = w.value(), rstd = r.rstd](const Tensor<P>& g) {
        auto [gx, gw] = rms_norm_backward(xv, wv, rstd, g);
        return std::vector<Tensor<P>>{gx, gw};
    });
}

}  // namespace omni

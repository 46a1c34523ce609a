#pragma once
// L2 normalisation along one axis: y = x / max(||x||, eps), as in torch.nn.functional.normalize.
// Fused so the norm is computed once and reused by the backward.
#include "omni/backend/softmax.hpp"  // detail::along_rows and axis orders

namespace omni {

// Specialised by each backend (dense [rows, n] views, norm dense [rows]):
//   forward(x, eps, y, norm)
//   backward(y, norm, g, eps, gx)   gx = (g - y * <g, y>) / norm where norm > eps, else g / eps
template <class P> struct normalize_kernels;

template <device_policy P> std::pair<Tensor<P>, Tensor<P>> l2_normalize_forward(const Tensor<P>& x, std::int64_t axis, double eps) {
    if (!(eps > 0)) throw value_error("l2_normalize", "expected eps > 0, got " + std::to_string(eps));
    Tensor<P> norm;
    Tensor<P> y = detail::along_rows("l2_normalize", x, axis, [&](const Tensor<P>& xr, const Tensor<P>& yr) {
        norm = Tensor<P>::empty(Shape{xr.shape()[0]}, x.type());
        normalize_kernels<P>::forward(kview(xr), eps, kview(yr), kview(norm));
    });
    return {y, norm};
}

template <device_policy P> Tensor<P> l2_normalize(const Tensor<P>& x, std::int64_t axis = -1, double eps = 1e-12) {
    return l2_normalize_forward(x, axis, eps).first;
}

template <device_policy P>
Tensor<P> l2_normalize_backward(const Tensor<P>& y, const Tensor<P>& norm, const Tensor<P>& g, std::int64_t axis, double eps) {
    return detail::rows_backward("l2_normalize", y, g, axis, [&](const Tensor<P>& yr, const Tensor<P>& gr, const Tensor<P>& gx) {
        normalize_kernels<P>::backward(kview(yr), kview(norm), kview(gr), eps, kview(gx));
    });
}

}  // namespace omni

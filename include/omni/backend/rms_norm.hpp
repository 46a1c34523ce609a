#pragma once
// RMS normalisation over the last axis with a weight: y = x * rsqrt(mean(x^2) + eps) * w
// (transformers' Qwen2RMSNorm / LlamaRMSNorm, which upcast to float32 for the statistic; the
// kernels accumulate in double). One fused forward, one fused backward giving dx and dweight.
#include <tuple>

#include "omni/backend/kernel_view.hpp"

namespace omni {

// Specialised by each backend (x, y, gy, gx dense [rows, D]; rstd dense [rows]; w, gw dense [D]):
//   forward(x, w, eps, y, rstd)
//   backward(x, w, rstd, gy, gx, gw)   gw is overwritten, not accumulated
template <class P> struct rms_norm_kernels;

/// What rms_norm_forward returns: y and the per-row rstd that the backward needs.
template <device_policy P> struct RmsNormResult {
    Tensor<P> y, rstd;  // rstd = 1 / sqrt(mean(x^2) + eps) per row, what the backward needs
};

template <device_policy P> RmsNormResult<P> rms_norm_forward(const Tensor<P>& x, const Tensor<P>& w, double eps) {
    if (!is_floating(x.type())) throw dtype_error("rms_norm", std::string("expected float32 or float64, got ") + name_of(x.type()));
    if (x.dim() == 0) throw shape_error("rms_norm", "expected [..., D], got a scalar");
    const std::int64_t D = x.shape().back();
    if (!w.defined() || !(w.shape() == Shape{D}))
        throw shape_error("rms_norm", "expected weight of shape [" + std::to_string(D) + "], got " +
                                          (w.defined() ? w.shape().str() : std::string("none")) + " for input " + x.shape().str());
    if (w.type() != x.type())
        throw dtype_error("rms_norm", std::string("expected weight of dtype ") + name_of(x.type()) + ", got " + name_of(w.type()));
    if (!(eps > 0)) throw value_error("rms_norm", "expected eps > 0, got " + std::to_string(eps));
    const Tensor<P> xc = x.contiguous();
    const std::int64_t rows = D ? x.numel() / D : 0;
    RmsNormResult<P> r{Tensor<P>::empty(x.shape(), x.type()), Tensor<P>::empty(Shape{rows}, x.type())};
    if (rows && D)
        rms_norm_kernels<P>::forward(kview(xc.view(Shape{rows, D})), kview(w.contiguous()), eps, kview(r.y.view(Shape{rows, D})),
                                     kview(r.rstd));
    return r;
}

template <device_policy P> Tensor<P> rms_norm(const Tensor<P>& x, const Tensor<P>& w, double eps = 1e-6) {
    return rms_norm_forward(x, w, eps).y;
}

// (dx, dweight) from the forward's input, weight, saved rstd and dL/dy.
template <device_policy P>
std::pair<Tensor<P>, Tensor<P>> rms_norm_backward(const Tensor<P>& x, const Tensor<P>& w, const Tensor<P>& rstd, const Tensor<P>& gy) {
    const std::int64_t D = x.shape().back(), rows = D ? x.numel() / D : 0;
    Tensor<P> gx = Tensor<P>::empty(x.shape(), x.type());
    Tensor<P> gw = Tensor<P>::zeros(Shape{D}, x.type());
    if (rows && D)
        rms_norm_kernels<P>::backward(kview(x.contiguous().view(Shape{rows, D})), kview(w.contiguous()), kview(rstd),
                                      kview(gy.contiguous().view(Shape{rows, D})), kview(gx.view(Shape{rows, D})), kview(gw));
    return {gx, gw};
}

}  // namespace omni

#pragma once
// Layer normalisation over the last axis with optional affine weight and bias (PyTorch
// F.layer_norm over normalized_shape = [D]), as one fused forward and one fused backward that
// produces dx, dweight and dbias together.
#include <tuple>

#include "omni/backend/kernel_view.hpp"

namespace omni {

// Specialised by each backend (x, y, gy, gx dense [rows, D]; mean, rstd dense [rows]; w, b, gw,
// gb dense [D] or data == nullptr when absent):
//   forward(x, w, b, eps, y, mean, rstd)
//   backward(x, w, mean, rstd, gy, gx, gw, gb)   gw, gb are overwritten, not accumulated
template <class P> struct layer_norm_kernels;

/// What layer_norm_forward returns: y and the per-row mean and rstd that the backward needs.
template <device_policy P> struct LayerNormResult {
    Tensor<P> y, mean, rstd;  // mean and rstd are what the backward needs
};

template <device_policy P>
LayerNormResult<P> layer_norm_forward(const Tensor<P>& x, const Tensor<P>& w, const Tensor<P>& b, double eps) {
    if (!is_floating(x.type())) throw dtype_error("layer_norm", std::string("expected float32 or float64, got ") + name_of(x.type()));
    if (x.dim() == 0) throw shape_error("layer_norm", "expected [..., D], got a scalar");
    const std::int64_t D = x.shape().back();
    for (const Tensor<P>* p : {&w, &b})
        if (p->defined() && !(p->shape() == Shape{D}))
            throw shape_error("layer_norm", "expected weight and bias of shape [" + std::to_string(D) + "], got " + p->shape().str() +
                                                " for input " + x.shape().str());
    if (!(eps > 0)) throw value_error("layer_norm", "expected eps > 0, got " + std::to_string(eps));
    const Tensor<P> xc = x.contiguous();
    const std::int64_t rows = D ? x.numel() / D : 0;
    LayerNormResult<P> r{Tensor<P>::empty(x.shape(), x.type()), Tensor<P>::empty(Shape{rows}, x.type()),
                         Tensor<P>::empty(Shape{rows}, x.type())};
    if (rows && D)
        layer_norm_kernels<P>::forward(kview(xc.view(Shape{rows, D})), kview(w.defined() ? w.contiguous() : w),
                                       kview(b.defined() ? b.contiguous() : b), eps, kview(r.y.view(Shape{rows, D})),
                                       kview(r.mean), kview(r.rstd));
    return r;
}

template <device_policy P>
Tensor<P> layer_norm(const Tensor<P>& x, const Tensor<P>& w = {}, const Tensor<P>& b = {}, double eps = 1e-5) {
    return layer_norm_forward(x, w, b, eps).y;
}

// Returns (dx, dweight, dbias); the last two are undefined when w / b were absent.
template <device_policy P>
std::tuple<Tensor<P>, Tensor<P>, Tensor<P>> layer_norm_backward(const Tensor<P>& x, const Tensor<P>& w, bool has_bias,
                                                                const Tensor<P>& mean, const Tensor<P>& rstd, const Tensor<P>& gy) {
    const std::int64_t D = x.shape().back(), rows = D ? x.numel() / D : 0;
    Tensor<P> gx = Tensor<P>::empty(x.shape(), x.type());
    Tensor<P> gw = w.defined() ? Tensor<P>::zeros(Shape{D}, x.type()) : Tensor<P>();
    Tensor<P> gb = has_bias ? Tensor<P>::zeros(Shape{D}, x.type()) : Tensor<P>();
    if (rows && D)
        layer_norm_kernels<P>::backward(kview(x.contiguous().view(Shape{rows, D})), kview(w.defined() ? w.contiguous() : w),
                                        kview(mean), kview(rstd), kview(gy.contiguous().view(Shape{rows, D})),
                                        kview(gx.view(Shape{rows, D})), kview(gw), kview(gb));
    return {gx, gw, gb};
}

}  // namespace omni

#pragma once
// linear(x, w, b) = x w^T + b with PyTorch's weight layout w [out, in] (torch.nn.functional.linear).
// The transpose is a GEMM flag, never a copy, and the bias is added inside the GEMM (addmm).
// linear(x, w, b, r) = r + x w^T + b, a skip connection added inside the GEMM as well.
#include "omni/autodiff/all.hpp"
#include "omni/core/linkage.hpp"

namespace omni {

template <class P> Tensor<P> linear(const Tensor<P>& x, const Tensor<P>& w, const Tensor<P>& b = {}, const Tensor<P>& residual = {}) {
    if (w.dim() != 2 || x.dim() < 1 || x.shape().back() != w.shape()[1])
        throw shape_error("linear", "expected x [..., " + (w.dim() == 2 ? std::to_string(w.shape()[1]) : std::string("in")) +
                                        "] and weight [out, in], got x " + x.shape().str() + " and weight " + w.shape().str());
    if (b.defined() && !(b.shape() == Shape{w.shape()[0]}))
        throw shape_error("linear", "expected bias [" + std::to_string(w.shape()[0]) + "], got " + b.shape().str());
    const bool vec = x.dim() == 1;
    if (residual.defined()) {
        Shape out = x.shape();
        out[out.size() - 1] = w.shape()[0];
        if (!(residual.shape() == out)) throw shape_error("linear", "expected a residual of shape " + out.str() + ", got " + residual.shape().str());
    }
    const Tensor<P> x2 = vec ? x.unsqueeze(0) : x;
    const Tensor<P> y = residual.defined() ? addmm_residual(vec ? residual.unsqueeze(0) : residual, b, x2, w, false, true)
                        : b.defined()      ? addmm(b, x2, w, false, true)
                                           : matmul(x2, w, false, true);
    return vec ? y.squeeze(0) : y;
}

// Every Omni-C-style model's layers call it taped: compiled once in omni::kernels (see autodiff/cpu_instances.hpp).
#if OMNI_LIB_EXTERN
extern template Tensor<autodiff<cpu>> linear<autodiff<cpu>>(const Tensor<autodiff<cpu>>&, const Tensor<autodiff<cpu>>&, const Tensor<autodiff<cpu>>&, const Tensor<autodiff<cpu>>&);
extern template Tensor<cpu> linear<cpu>(const Tensor<cpu>&, const Tensor<cpu>&, const Tensor<cpu>&, const Tensor<cpu>&);
#endif

}  // namespace omni

#pragma once
// Taped matmul. With y = op(A) op(B): dA_eff = g op(B)^T and dB_eff = op(A)^T g, transposed back
// when the forward used a transpose, then summed over broadcast batch axes.
#include "omni/autodiff/tensor.hpp"
#include "omni/backend/matmul.hpp"

namespace omni {

template <class P> Var<P> matmul(const Var<P>& a, const Var<P>& b, bool trans_a = false, bool trans_b = false) {
    Tensor<P> y = matmul(a.value(), b.value(), trans_a, trans_b);
    return ad::record<P>("matmul", y, {&a, &b},
                         [av = a.value(), bv = b.value(), trans_a, trans_b, ra = a.requires_grad(), rb = b.requires_grad()](const Tensor<P>& g) {
        Tensor<P> ga, gb;
        if (ra) {
            Tensor<P> ge = matmul(g, bv, false, !trans_b);  // d op(A)
            ga = sum_to(trans_a ? ge.transpose(-1, -2) : ge, av.shape());
        }
        if (rb) {
            Tensor<P> ge;
            if (bv.dim() == 2 && av.dim() > 2) {
                // Shared weight under a batch: fold the batch into rows, one GEMM, no [B, K, N] temporary.
                const Tensor<P> ae = trans_a ? av.transpose(-1, -2) : av;
                const std::int64_t K = ae.shape().back(), N = g.shape().back();
                ge = matmul(ae.reshape(Shape{-1, K}), g.reshape(Shape{-1, N}), true, false);
            } else {
                ge = matmul(av, g, !trans_a, false);  // d op(B)
            }
            gb = sum_to(trans_b ? ge.transpose(-1, -2) : ge, bv.shape());
        }
        return std::vector<Tensor<P>>{ga, gb};
    });
}

}  // namespace omni

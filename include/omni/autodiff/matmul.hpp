#pragma once
// Taped matmul. With y = op(A) op(B): d op(A) = g op(B)^T and d op(B) = op(A)^T g; an operand
// used transposed gets the transposed product directly, then sums over broadcast batch axes.
// addmm adds a row bias inside the same GEMM (what Linear uses); addmm_residual also a residual of
// the product's shape (a transformer block's skip connections).
#include <utility>

#include "omni/autodiff/tensor.hpp"
#include "omni/backend/matmul.hpp"

namespace omni {

namespace detail {
// {d a, d b} of y = op(a) op(b) for the operands that need one.
template <class P>
std::pair<Tensor<P>, Tensor<P>> matmul_grads(const Tensor<P>& g, const Tensor<P>& av, const Tensor<P>& bv, bool trans_a, bool trans_b, bool ra,
                                             bool rb) {
    Tensor<P> ga, gb;
    // Each gradient is produced in its operand's own layout (a transposed operand gets the
    // transposed product), so no weight-sized transpose is ever copied.
    if (ra) {
        Tensor<P> ge = trans_a ? matmul(bv, g, trans_b, true)     // d A = op(B) g^T
                               : matmul(g, bv, false, !trans_b);  // d A = g op(B)^T
        ga = sum_to(ge, av.shape());
    }
    if (rb) {
        Tensor<P> ge;
        if (bv.dim() == 2 && av.dim() > 2) {
            // Shared weight under a batch: fold the batch into rows, one GEMM, no [B, K, N] temporary.
            const Tensor<P> ae = trans_a ? av.transpose(-1, -2) : av;
            const std::int64_t K = ae.shape().back(), N = g.shape().back();
            const Tensor<P> a2 = ae.reshape(Shape{-1, K}), g2 = g.reshape(Shape{-1, N});
            ge = trans_b ? matmul(g2, a2, true, false)   // d B = g^T op(A)
                         : matmul(a2, g2, true, false);  // d B = op(A)^T g
        } else {
            ge = trans_b ? matmul(g, av, true, trans_a) : matmul(av, g, !trans_a, false);
        }
        gb = sum_to(ge, bv.shape());
    }
    return {ga, gb};
}
}  // namespace detail

template <class P> Var<P> matmul(const Var<P>& a, const Var<P>& b, bool trans_a = false, bool trans_b = false) {
    Tensor<P> y = matmul(a.value(), b.value(), trans_a, trans_b);
    return ad::record<P>("matmul", y, {&a, &b},
                         [av = a.value(), bv = b.value(), trans_a, trans_b, ra = a.requires_grad(), rb = b.requires_grad()](const Tensor<P>& g) {
        auto [ga, gb] = detail::matmul_grads(g, av, bv, trans_a, trans_b, ra, rb);
        return std::vector<Tensor<P>>{ga, gb};
    });
}

// bias + op(a) op(b), bias [N] broadcast over rows: the bias is fused into the GEMM's output and
// its gradient is the column sum of g.
template <class P> Var<P> addmm(const Var<P>& bias, const Var<P>& a, const Var<P>& b, bool trans_a = false, bool trans_b = false) {
    Tensor<P> y = addmm(bias.value(), a.value(), b.value(), trans_a, trans_b);
    return ad::record<P>("addmm", y, {&bias, &a, &b},
                         [av = a.value(), bv = b.value(), bs = bias.shape(), trans_a, trans_b, rc = bias.requires_grad(), ra = a.requires_grad(),
                          rb = b.requires_grad()](const Tensor<P>& g) {
        auto [ga, gb] = detail::matmul_grads(g, av, bv, trans_a, trans_b, ra, rb);
        return std::vector<Tensor<P>>{rc ? sum_to(g, bs) : Tensor<P>(), ga, gb};
    });
}

// residual + bias + op(a) op(b): the residual's gradient is g itself, the bias's its column sum.
template <class P>
Var<P> addmm_residual(const Var<P>& residual, const Var<P>& bias, const Var<P>& a, const Var<P>& b, bool trans_a = false, bool trans_b = false) {
    Tensor<P> y = addmm_residual(residual.value(), bias.value(), a.value(), b.value(), trans_a, trans_b);
    return ad::record<P>("addmm_residual", y, {&residual, &bias, &a, &b},
                         [av = a.value(), bv = b.value(), bs = bias.defined() ? bias.shape() : Shape{}, trans_a, trans_b,
                          rr = residual.requires_grad(), rc = bias.defined() && bias.requires_grad(), ra = a.requires_grad(),
                          rb = b.requires_grad()](const Tensor<P>& g) {
        auto [ga, gb] = detail::matmul_grads(g, av, bv, trans_a, trans_b, ra, rb);
        return std::vector<Tensor<P>>{rr ? g : Tensor<P>(), rc ? sum_to(g, bs) : Tensor<P>(), ga, gb};
    });
}

}  // namespace omni

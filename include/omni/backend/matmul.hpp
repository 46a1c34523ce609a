#pragma once
// Matrix products: a [..., M, K] x b [..., K, N] -> [..., M, N] with NumPy batch broadcasting and
// optional transposes of either operand. Views are passed to the GEMM as strides, so a
// transposed or sliced operand is not copied unless its rows are not unit-stride either way.
#include <memory>
#include <optional>

#include "omni/backend/elementwise.hpp"
#include "omni/backend/kernel_view.hpp"

namespace omni {

/// One batched GEMM: C[b] = alpha * A[b] * B[b] + beta * C[b]. Element (i, p) of A[b] is at
/// a + b*a_batch + i*a_rs + p*a_cs, and either a_rs or a_cs is 1 (same for B); C is dense rows.
struct GemmArgs {
    dtype type = dtype::f32;
    std::int64_t batch = 1, m = 0, n = 0, k = 0;
    const void* a = nullptr;
    std::int64_t a_batch = 0, a_rs = 0, a_cs = 0;
    const void* b = nullptr;
    std::int64_t b_batch = 0, b_rs = 0, b_cs = 0;
    void* c = nullptr;
    std::int64_t c_batch = 0, c_rs = 0;
    double alpha = 1, beta = 0;
    // The storage B lives in, for backends that keep B prepared across calls (frozen_weights.hpp).
    std::shared_ptr<const void> b_owner;
};

// Specialised by each backend: gemm(const GemmArgs&).
template <class P> struct matmul_kernels;

namespace detail {
// The single stride that walks the first `nb` axes of t in row-major order, if there is one.
template <class P> std::optional<std::int64_t> flat_stride(const Tensor<P>& t, int nb) {
    std::optional<std::int64_t> inner;
    std::int64_t span = 1, stride = 0;
    for (int i = nb - 1; i >= 0; --i) {
        const std::int64_t d = t.shape()[i], s = t.strides()[i];
        if (d == 1) continue;
        if (!inner) { inner = s; stride = s; span = d; continue; }
        if (s != stride * span) return std::nullopt;
        span *= d;
    }
    return inner.value_or(0);
}
template <class P> bool unit_inner(const Tensor<P>& t) {
    const int n = t.dim();
    return t.strides()[n - 1] == 1 || t.strides()[n - 2] == 1 || t.shape()[n - 1] == 1 || t.shape()[n - 2] == 1;
}
template <class P> void fill_operand(const Tensor<P>& t, int nb, const void*& p, std::int64_t& bs, std::int64_t& rs, std::int64_t& cs) {
    const int n = t.dim();
    p = t.raw_data();
    bs = flat_stride(t, nb).value_or(0);  // unused when batch == 1
    rs = t.strides()[n - 2];
    cs = t.strides()[n - 1];
    // Degenerate extents: pick the layout the GEMM can take.
    if (rs != 1 && cs != 1) {
        if (t.shape()[n - 1] == 1) cs = 1;
        else rs = 1;
    }
}
}  // namespace detail

namespace detail {
// op(a) op(b), plus `bias` [N] on every row and `residual` (the product's shape) where defined:
// they are written into C first and the GEMM accumulates onto it (beta = 1), so a Linear's bias
// and a transformer's residual add cost no pass of their own.
template <device_policy P>
Tensor<P> matmul_plus(const char* op, const Tensor<P>& a_in, const Tensor<P>& b_in, bool trans_a, bool trans_b, const Tensor<P>& bias,
                      const Tensor<P>& residual = {}) {
    if (a_in.dim() < 2 || b_in.dim() < 2)
        throw shape_error(op, "expected operands with at least 2 dims, got " + a_in.shape().str() + " and " + b_in.shape().str());
    if (a_in.type() != b_in.type())
        throw dtype_error(op, std::string("expected operands of one dtype, got ") + name_of(a_in.type()) + " and " + name_of(b_in.type()));
    if (!is_floating(a_in.type())) throw dtype_error(op, std::string("expected float32 or float64, got ") + name_of(a_in.type()));
    Tensor<P> a = trans_a ? a_in.transpose(-1, -2) : a_in;
    Tensor<P> b = trans_b ? b_in.transpose(-1, -2) : b_in;
    const std::int64_t M = a.shape()[a.dim() - 2], K = a.shape()[a.dim() - 1], N = b.shape()[b.dim() - 1];
    if (b.shape()[b.dim() - 2] != K)
        throw shape_error(op, "expected [..., M, K] x [..., K, N], got " + a.shape().str() + " x " + b.shape().str() +
                          (trans_a || trans_b ? " (after transposes)" : ""));
    if (bias.defined() && !(bias.shape() == Shape{N}))
        throw shape_error(op, "expected a bias of shape [" + std::to_string(N) + "], got " + bias.shape().str());
    if (bias.defined() && bias.type() != a.type())
        throw dtype_error(op, std::string("expected a bias of dtype ") + name_of(a.type()) + ", got " + name_of(bias.type()));
    Shape ba, bb;
    for (int i = 0; i < a.dim() - 2; ++i) ba.push_back(a.shape()[i]);
    for (int i = 0; i < b.dim() - 2; ++i) bb.push_back(b.shape()[i]);
    const Shape bs = broadcast_shapes(op, ba, bb);

    GemmArgs g;
    g.type = a.type();
    g.n = N;
    g.k = K;
    Shape out_shape = bs;
    out_shape.push_back(M);
    out_shape.push_back(N);
    if (residual.defined() && !(residual.shape() == out_shape))
        throw shape_error(op, "expected a residual of the product's shape " + out_shape.str() + ", got " + residual.shape().str());
    if (residual.defined() && residual.type() != a.type())
        throw dtype_error(op, std::string("expected a residual of dtype ") + name_of(a.type()) + ", got " + name_of(residual.type()));
    Tensor<P> c;
    if (residual.defined() && bias.defined()) {
        c = add(residual, bias);  // one pass writes both; a fresh dense tensor the GEMM adds onto
    } else {
        c = Tensor<P>::empty(out_shape, a.type());  // beta = 0: the kernels write every element
        if (bias.defined()) c.copy_from(bias);      // broadcast over rows
        if (residual.defined()) c.copy_from(residual);
    }
    if (bias.defined() || residual.defined()) g.beta = 1;
    if (K == 0) {  // an empty sum
        if (g.beta == 0) c.fill_(0);
        return c;
    }
    if (c.numel() == 0) return c;
    if (!detail::unit_inner(a)) a = a.contiguous();
    if (!detail::unit_inner(b)) b = b.contiguous();

    // [..., M, K] x [K, N] with row-major a: one tall GEMM over all batch rows.
    const bool fold = bb.size() == 0 && a.strides()[a.dim() - 1] == 1 &&
                      detail::flat_stride(a, a.dim() - 1) == std::optional<std::int64_t>(a.strides()[a.dim() - 2]);
    Tensor<P> ea, eb;  // expanded operands; must outlive the GEMM call below
    if (fold) {
        g.m = c.numel() / N;
        g.batch = 1;
        detail::fill_operand(a, a.dim() - 2, g.a, g.a_batch, g.a_rs, g.a_cs);
        detail::fill_operand(b, 0, g.b, g.b_batch, g.b_rs, g.b_cs);
        g.b_owner = b.storage();
    } else {
        const int nb = bs.size();
        Shape sa = bs, sb = bs;
        sa.push_back(M); sa.push_back(K);
        sb.push_back(K); sb.push_back(N);
        ea = a.expand(sa);
        eb = b.expand(sb);
        if (!detail::flat_stride(ea, nb)) ea = ea.contiguous();
        if (!detail::flat_stride(eb, nb)) eb = eb.contiguous();
        g.m = M;
        g.batch = bs.numel();
        detail::fill_operand(ea, nb, g.a, g.a_batch, g.a_rs, g.a_cs);
        detail::fill_operand(eb, nb, g.b, g.b_batch, g.b_rs, g.b_cs);
    }
    g.c = c.raw_data();
    g.c_rs = N;
    g.c_batch = M * N;
    matmul_kernels<P>::gemm(g);
    return c;
}
}  // namespace detail

template <device_policy P>
Tensor<P> matmul(const Tensor<P>& a, const Tensor<P>& b, bool trans_a = false, bool trans_b = false) {
    return detail::matmul_plus("matmul", a, b, trans_a, trans_b, Tensor<P>{});
}

// bias + op(a) op(b) with bias [N] broadcast over rows (torch.addmm's order), in one GEMM pass.
template <device_policy P>
Tensor<P> addmm(const Tensor<P>& bias, const Tensor<P>& a, const Tensor<P>& b, bool trans_a = false, bool trans_b = false) {
    if (!bias.defined()) throw value_error("addmm", "expected a defined bias, got an empty handle");
    return detail::matmul_plus("addmm", a, b, trans_a, trans_b, bias);
}

// residual + bias + op(a) op(b), residual of the product's shape, bias [N] or undefined: a
// transformer's `x + proj(...)` in the GEMM's own pass over its output.
template <device_policy P>
Tensor<P> addmm_residual(const Tensor<P>& residual, const Tensor<P>& bias, const Tensor<P>& a, const Tensor<P>& b, bool trans_a = false,
                         bool trans_b = false) {
    if (!residual.defined()) throw value_error("addmm_residual", "expected a defined residual, got an empty handle");
    return detail::matmul_plus("addmm_residual", a, b, trans_a, trans_b, bias, residual);
}

}  // namespace omni

#pragma once
// Scaled dot-product attention, fused and memory-efficient: softmax(q k^T * scale + mask) v
// computed tile by tile with an online softmax, so no more than one tile of the score matrix
// exists at a time and memory grows linearly in sequence length (FlashAttention, Dao et al.
// 2022). The forward saves only the per-row log-sum-exp; the backward recomputes scores.
//
// Shapes: q [B, H, Nq, d], k [B, H, Nk, d], v [B, H, Nk, dv] -> out [B, H, Nq, dv], any strides
// with unit stride on the last axis (so q, k, v can be views into one fused qkv projection).
// key_padding_mask [B, Nk] bool, true = ignore that key (PyTorch convention). causal: query i
// sees keys j <= i + causal_offset; offset 0 (the default) is the top-left aligned mask, and
// causal_offset = Nk - Nq is the bottom-right aligned one that decoding with a KV cache needs
// (the Nq new queries follow Nk - Nq cached keys; the mask transformers builds with a cache).
// A query with no visible key outputs zeros and passes no gradient.
#include <cmath>
#include <tuple>

#include "omni/backend/kernel_view.hpp"

namespace omni {

/// The views and settings of one fused attention call, as `attention_kernels<P>` receives them.
struct AttentionArgs {
    KernelView q, k, v, out;  // 4-D views
    KernelView lse;           // [B, H, Nq] dense, the row log-sum-exp (-inf for empty rows)
    KernelView mask;          // [B, Nk] dense bool, or data == nullptr
    bool causal = false;
    double scale = 1;
    std::int64_t causal_offset = 0;  // query i sees keys j <= i + causal_offset when causal
};

// Specialised by each backend:
//   forward(args)                        fills out and lse
//   backward(args, dout, dq, dk, dv)     dq, dk, dv overwritten (views shaped like q, k, v)
template <class P> struct attention_kernels;

/// What attention_forward returns: the output and the row log-sum-exp that the backward needs.
template <device_policy P> struct AttentionResult {
    Tensor<P> out, lse;
};

namespace detail {
template <class P> Tensor<P> unit_last(const Tensor<P>& t) { return t.strides()[t.dim() - 1] == 1 ? t : t.contiguous(); }
// A [B, H, N, d] tensor stored as [B, N, H, d], the layout heads are concatenated back in.
template <class P> Tensor<P> heads_last_empty(std::int64_t B, std::int64_t H, std::int64_t N, std::int64_t d, dtype t) {
    return Tensor<P>::empty({B, N, H, d}, t).permute({0, 2, 1, 3});
}
}  // namespace detail

template <device_policy P>
AttentionResult<P> attention_forward(const Tensor<P>& q_in, const Tensor<P>& k_in, const Tensor<P>& v_in, const Tensor<P>& mask,
                                     bool causal, double scale, std::int64_t causal_offset = 0) {
    const char* op = "attention";
    if (q_in.dim() != 4 || k_in.dim() != 4 || v_in.dim() != 4)
        throw shape_error(op, "expected q [B, H, Nq, d], k [B, H, Nk, d], v [B, H, Nk, dv], got " + q_in.shape().str() + ", " +
                                  k_in.shape().str() + ", " + v_in.shape().str());
    const auto &qs = q_in.shape(), &ks = k_in.shape(), &vs = v_in.shape();
    if (ks[0] != qs[0] || vs[0] != qs[0] || ks[1] != qs[1] || vs[1] != qs[1] || ks[3] != qs[3] || vs[2] != ks[2])
        throw shape_error(op, "expected q [B, H, Nq, d], k [B, H, Nk, d], v [B, H, Nk, dv], got " + qs.str() + ", " + ks.str() + ", " + vs.str());
    if (q_in.type() != k_in.type() || q_in.type() != v_in.type() || !is_floating(q_in.type()))
        throw dtype_error(op, std::string("expected float32 or float64 q, k, v of one dtype, got ") + name_of(q_in.type()) + ", " +
                                  name_of(k_in.type()) + ", " + name_of(v_in.type()));
    if (mask.defined()) {
        check_dtype("attention mask", dtype::b8, mask.type());
        if (!(mask.shape() == Shape{qs[0], ks[2]}))
            throw shape_error(op, "expected a key padding mask [" + std::to_string(qs[0]) + ", " + std::to_string(ks[2]) + "], got " +
                                      mask.shape().str());
    }
    AttentionArgs a;
    const Tensor<P> q = detail::unit_last(q_in), k = detail::unit_last(k_in), v = detail::unit_last(v_in);
    const Tensor<P> m = mask.defined() ? mask.contiguous() : mask;
    AttentionResult<P> r{detail::heads_last_empty<P>(qs[0], qs[1], qs[2], vs[3], q.type()), Tensor<P>::empty({qs[0], qs[1], qs[2]}, q.type())};
    a.q = kview(q);
    a.k = kview(k);
    a.v = kview(v);
    a.out = kview(r.out);
    a.lse = kview(r.lse);
    a.mask = kview(m);
    a.causal = causal;
    a.causal_offset = causal_offset;
    a.scale = scale > 0 ? scale : 1.0 / std::sqrt(static_cast<double>(qs[3]));
    if (r.out.numel()) {
        if (ks[2] == 0) r.out.fill_(0.0), r.lse.fill_(-INFINITY);
        else attention_kernels<P>::forward(a);
    }
    return r;
}

// softmax(q k^T * scale + mask) v; scale <= 0 means 1/sqrt(d).
template <device_policy P>
Tensor<P> attention(const Tensor<P>& q, const Tensor<P>& k, const Tensor<P>& v, const Tensor<P>& key_padding_mask = {},
                    bool causal = false, double scale = 0, std::int64_t causal_offset = 0) {
    return attention_forward(q, k, v, key_padding_mask, causal, scale, causal_offset).out;
}

// (dq, dk, dv) from the forward's inputs, output, lse and dL/dout. Gradients go into the given
// views when defined (unit stride on the last axis), else into new tensors.
template <device_policy P>
std::tuple<Tensor<P>, Tensor<P>, Tensor<P>> attention_backward(const Tensor<P>& q_in, const Tensor<P>& k_in, const Tensor<P>& v_in,
                                                               const Tensor<P>& mask, bool causal, double scale,
                                                               const Tensor<P>& out, const Tensor<P>& lse, const Tensor<P>& dout,
                                                               Tensor<P> dq = {}, Tensor<P> dk = {}, Tensor<P> dv = {},
                                                               std::int64_t causal_offset = 0) {
    const auto &qs = q_in.shape(), &ks = k_in.shape(), &vs = v_in.shape();
    const Tensor<P> q = detail::unit_last(q_in), k = detail::unit_last(k_in), v = detail::unit_last(v_in), g = detail::unit_last(dout);
    if (!dq.defined()) dq = detail::heads_last_empty<P>(qs[0], qs[1], qs[2], qs[3], q.type());
    if (!dk.defined()) dk = detail::heads_last_empty<P>(ks[0], ks[1], ks[2], ks[3], q.type());
    if (!dv.defined()) dv = detail::heads_last_empty<P>(vs[0], vs[1], vs[2], vs[3], q.type());
    AttentionArgs a;
    a.q = kview(q);
    a.k = kview(k);
    a.v = kview(v);
    a.out = kview(out);
    a.lse = kview(lse);
    const Tensor<P> m = mask.defined() ? mask.contiguous() : mask;  // must outlive the kernel call
    a.mask = kview(m);
    a.causal = causal;
    a.causal_offset = causal_offset;
    a.scale = scale > 0 ? scale : 1.0 / std::sqrt(static_cast<double>(qs[3]));
    if (ks[2] == 0 || qs[2] == 0) {
        dq.fill_(0.0), dk.fill_(0.0), dv.fill_(0.0);
    } else {
        attention_kernels<P>::backward(a, kview(g), kview(dq), kview(dk), kview(dv));
    }
    return {dq, dk, dv};
}

// q, k, v views of a fused projection qkv [B, N, 3 * H * hd] laid out [q heads | k heads | v heads]
// (timm's Attention): [B, N, 3, H, hd] permuted to [3, B, H, N, hd]. No copies.
template <class TensorT> std::tuple<TensorT, TensorT, TensorT> split_qkv(const TensorT& qkv, std::int64_t heads) {
    if (qkv.dim() != 3 || heads < 1 || qkv.shape()[2] % (3 * heads) != 0)
        throw shape_error("qkv_attention", "expected qkv [B, N, 3 * heads * head_dim] with " + std::to_string(heads) + " heads, got " +
                                               qkv.shape().str());
    const auto& s = qkv.shape();
    const TensorT t = qkv.view({s[0], s[1], 3, heads, s[2] / (3 * heads)}).permute({2, 0, 3, 1, 4});
    return {t.select(0, 0), t.select(0, 1), t.select(0, 2)};
}

// Multi-head self-attention core on a fused projection: qkv [B, N, 3D] -> [B, N, D], the heads
// concatenated back without a copy (the kernel writes [B, N, H, hd]).
template <device_policy P>
Tensor<P> qkv_attention(const Tensor<P>& qkv, std::int64_t heads, const Tensor<P>& key_padding_mask = {}, bool causal = false) {
    auto [q, k, v] = split_qkv(qkv.contiguous(), heads);
    const Tensor<P> o = attention(q, k, v, key_padding_mask, causal);
    return o.transpose(1, 2).view({qkv.shape()[0], qkv.shape()[1], qkv.shape()[2] / 3});
}

}  // namespace omni

#pragma once
// Multi-head attention for self- and cross-attention (timm Attention naming for the fused self
// case: "qkv", "proj"; separate "q", "k", "v", "proj" otherwise). The core is the fused
// memory-efficient attention op, so long audio and video sequences fit in memory.
#include "omni/autodiff/attention.hpp"
#include "omni/nn/linear.hpp"

namespace omni::nn {

/// Options of MultiheadAttention: width, heads, biases, fused qkv, and the key/value width for cross-attention.
struct AttentionConfig {
    std::int64_t dim = 0, heads = 1;
    bool qkv_bias = true;
    bool fused_qkv = true;       // one [3D, D] projection for self-attention (timm, ViT)
    std::int64_t kv_dim = 0;     // width of the key/value source for cross-attention (0: dim)
    bool proj_bias = true;
};

/// Multi-head self- or cross-attention on the fused attention op (timm names "qkv", "proj"): [B, N, dim] -> [B, N, dim].
template <class P> struct MultiheadAttention : Module {
    AttentionConfig cfg;
    Linear<P> qkv;      // fused self-attention only
    Linear<P> q, k, v;  // unfused or cross-attention
    Linear<P> proj;

    MultiheadAttention() = default;
    MultiheadAttention(const AttentionConfig& c, Generator& g) : cfg(c) {
        if (c.dim < 1 || c.heads < 1 || c.dim % c.heads != 0)
            throw value_error("MultiheadAttention", "expected dim divisible by heads, got dim " + std::to_string(c.dim) + ", heads " +
                                                        std::to_string(c.heads));
        const std::int64_t kv = c.kv_dim ? c.kv_dim : c.dim;
        if (fused()) {
            qkv = Linear<P>({.in = c.dim, .out = 3 * c.dim, .bias = c.qkv_bias}, g);
        } else {
            q = Linear<P>({.in = c.dim, .out = c.dim, .bias = c.qkv_bias}, g);
            k = Linear<P>({.in = kv, .out = c.dim, .bias = c.qkv_bias}, g);
            v = Linear<P>({.in = kv, .out = c.dim, .bias = c.qkv_bias}, g);
        }
        proj = Linear<P>({.in = c.dim, .out = c.dim, .bias = c.proj_bias}, g);
    }
    bool fused() const { return cfg.fused_qkv && cfg.kv_dim == 0; }

    template <class V> void visit(V& vis) {
        if (fused()) vis.module("qkv", qkv);
        else {
            vis.module("q", q);
            vis.module("k", k);
            vis.module("v", v);
        }
        vis.module("proj", proj);
    }

    // Self-attention: x [B, N, D] -> [B, N, D]. key_padding_mask [B, N] bool, true = ignore.
    // residual (optional, [B, N, D]) is added inside the output projection's GEMM: a block's
    // x + attn(norm(x)) in one pass.
    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& key_padding_mask = {}, bool causal = false, const Tensor<P>& residual = {}) const {
        check_input("x", x, cfg.dim);
        if (fused()) return proj(qkv_attention(qkv(x), cfg.heads, key_padding_mask, causal), residual);
        return attend(x, x, key_padding_mask, causal, residual);
    }
    // Cross-attention: queries from x [B, Nq, D], keys and values from context [B, Nk, kv_dim].
    Tensor<P> cross(const Tensor<P>& x, const Tensor<P>& context, const Tensor<P>& key_padding_mask = {}, bool causal = false) const {
        if (fused())
            throw value_error(where("MultiheadAttention"), "expected a cross-attention module (kv_dim set or fused_qkv = false), got a fused self-attention one");
        check_input("x", x, cfg.dim);
        check_input("context", context, cfg.kv_dim ? cfg.kv_dim : cfg.dim);
        if (context.shape()[0] != x.shape()[0])
            throw shape_error(where("MultiheadAttention"), "expected context batch " + std::to_string(x.shape()[0]) + ", got " + context.shape().str());
        return attend(x, context, key_padding_mask, causal);
    }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& key_padding_mask = {}, bool causal = false, const Tensor<P>& residual = {}) const {
        return forward(x, key_padding_mask, causal, residual);
    }

private:
    void check_input(const char* what, const Tensor<P>& t, std::int64_t width) const {
        if (t.dim() != 3 || t.shape()[2] != width)
            throw shape_error(where("MultiheadAttention"), std::string("expected ") + what + " [B, N, " + std::to_string(width) + "], got " + t.shape().str());
    }
    // [B, N, D] -> [B, H, N, hd] as a view.
    Tensor<P> heads(const Tensor<P>& t) const {
        const auto& s = t.shape();
        return t.view({s[0], s[1], cfg.heads, cfg.dim / cfg.heads}).transpose(1, 2);
    }
    Tensor<P> attend(const Tensor<P>& x, const Tensor<P>& ctx, const Tensor<P>& mask, bool causal, const Tensor<P>& residual = {}) const {
        const Tensor<P> o = attention(heads(q(x)), heads(k(ctx)), heads(v(ctx)), mask, causal);
        return proj(o.transpose(1, 2).view({x.shape()[0], x.shape()[1], cfg.dim}), residual);
    }
};

}  // namespace omni::nn

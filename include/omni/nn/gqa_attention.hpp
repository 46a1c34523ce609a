#pragma once
// Grouped-query self-attention with rotary positions: x [B, N, hidden] -> [B, N, hidden]
// (transformers' Qwen2Attention: q_proj, k_proj, v_proj with bias, o_proj without; H query heads
// share KVH key/value heads; RoPE on q and k; causal). The KV heads are repeated to H heads for
// the fused attention kernel, as transformers' repeat_kv does; a kernel that reads each KV head
// once for its group of queries is a later optimisation.
#include "omni/autodiff/all.hpp"
#include "omni/nn/kv_cache.hpp"
#include "omni/nn/linear.hpp"
#include "omni/nn/time/rope.hpp"

namespace omni::nn {

/// Options of GQAttention: width, query heads, key/value heads and RoPE base.
struct GQAConfig {
    std::int64_t hidden = 0, heads = 1, kv_heads = 1;
    double rope_theta = 1e6;
};

/// Grouped-query causal self-attention with RoPE (transformers' Qwen2Attention): [B, N, hidden] -> [B, N, hidden].
template <class P> struct GQAttention : Module {
    using D = device_of_t<P>;
    GQAConfig cfg;
    Linear<P> q_proj, k_proj, v_proj, o_proj;

    GQAttention() = default;
    GQAttention(const GQAConfig& c, Generator& g) : cfg(c) {
        if (c.hidden < 1 || c.heads < 1 || c.kv_heads < 1 || c.hidden % c.heads != 0 || c.heads % c.kv_heads != 0)
            throw value_error("GQAttention", "expected hidden divisible by heads and heads divisible by kv_heads, got hidden " +
                                                 std::to_string(c.hidden) + ", heads " + std::to_string(c.heads) + ", kv_heads " +
                                                 std::to_string(c.kv_heads));
        if ((c.hidden / c.heads) % 2 != 0)
            throw value_error("GQAttention", "expected an even head_dim for rotary positions, got " + std::to_string(c.hidden / c.heads));
        const std::int64_t hd = head_dim();
        q_proj = Linear<P>({.in = c.hidden, .out = c.heads * hd, .bias = true}, g);
        k_proj = Linear<P>({.in = c.hidden, .out = c.kv_heads * hd, .bias = true}, g);
        v_proj = Linear<P>({.in = c.hidden, .out = c.kv_heads * hd, .bias = true}, g);
        o_proj = Linear<P>({.in = c.heads * hd, .out = c.hidden, .bias = false}, g);
    }
    std::int64_t head_dim() const { return cfg.hidden / cfg.heads; }

    template <class V> void visit(V& v) {
        v.module("q_proj", q_proj);
        v.module("k_proj", k_proj);
        v.module("v_proj", v_proj);
        v.module("o_proj", o_proj);
    }

    // Without a cache the positions are 0 .. N - 1. With one, this layer's keys and values are
    // written at cache->length() and the N queries attend to every cached position before theirs
    // (a bottom-right aligned causal mask); the caller advances the cache after the last layer.
    // residual (optional, x's shape) is added inside o_proj's GEMM.
    Tensor<P> forward(const Tensor<P>& x, KVCache<D>* cache = nullptr, std::int64_t layer = 0, const Tensor<P>& residual = {}) const {
        if (x.dim() != 3 || x.shape()[2] != cfg.hidden)
            throw shape_error(where("GQAttention"), "expected x [B, N, " + std::to_string(cfg.hidden) + "], got " + x.shape().str());
        const std::int64_t B = x.shape()[0], N = x.shape()[1], hd = head_dim();
        const std::int64_t offset = cache ? cache->length() : 0;
        if (cache) cache->check_append(B, N, where("GQAttention"));
        const RopeConfig rope{.head_dim = hd, .theta = cfg.rope_theta};
        const Tensor<P> q = apply_rope(heads(q_proj(x), cfg.heads), rope, offset);
        Tensor<P> k = apply_rope(heads(k_proj(x), cfg.kv_heads), rope, offset);
        Tensor<P> v = heads(v_proj(x), cfg.kv_heads);
        if (cache) {
            auto [ck, cv] = cache->append(layer, value_of(k), value_of(v));
            k = Tensor<P>(ck);
            v = Tensor<P>(cv);
        }
        const std::int64_t Nk = k.shape()[2];
        const Tensor<P> o = omni::attention(q, repeat_kv(k), repeat_kv(v), Tensor<P>(), true, 0.0, Nk - N);
        return o_proj(o.transpose(1, 2).reshape({B, N, cfg.heads * hd}), residual);
    }
    Tensor<P> operator()(const Tensor<P>& x, KVCache<D>* cache = nullptr, std::int64_t layer = 0, const Tensor<P>& residual = {}) const {
        return forward(x, cache, layer, residual);
    }

private:
    // [B, N, h * hd] -> [B, h, N, hd] as a view.
    Tensor<P> heads(const Tensor<P>& t, std::int64_t h) const {
        const auto& s = t.shape();
        return t.view({s[0], s[1], h, head_dim()}).transpose(1, 2);
    }
    // [B, KVH, N, hd] -> [B, H, N, hd], each KV head repeated for its H / KVH query heads.
    Tensor<P> repeat_kv(const Tensor<P>& t) const {
        const std::int64_t rep = cfg.heads / cfg.kv_heads;
        if (rep == 1) return t;
        const auto& s = t.shape();
        return t.unsqueeze(2).expand({s[0], s[1], rep, s[2], s[3]}).reshape({s[0], cfg.heads, s[2], s[3]});
    }
};

}  // namespace omni::nn

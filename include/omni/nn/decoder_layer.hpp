#pragma once
// Pre-norm decoder layer: x [B, N, hidden] -> [B, N, hidden],
// h = x + self_attn(input_layernorm(x)), out = h + mlp(post_attention_layernorm(h))
// (transformers' Qwen2DecoderLayer; names "input_layernorm", "self_attn",
// "post_attention_layernorm", "mlp").
#include "omni/nn/gqa_attention.hpp"
#include "omni/nn/rms_norm.hpp"
#include "omni/nn/swiglu.hpp"

namespace omni::nn {

/// Options of DecoderLayer: widths, query and key/value heads, RoPE base and RMSNorm eps.
struct DecoderLayerConfig {
    std::int64_t hidden = 0, intermediate = 0, heads = 1, kv_heads = 1;
    double rope_theta = 1e6, rms_eps = 1e-6;
};

/// Qwen2's pre-norm decoder layer (GQA self-attention, SwiGLU): [B, N, hidden] -> [B, N, hidden].
template <class P> struct DecoderLayer : Module {
    using D = device_of_t<P>;
    DecoderLayerConfig cfg;
    RMSNorm<P> input_layernorm, post_attention_layernorm;
    GQAttention<P> self_attn;
    SwiGLU<P> mlp;

    DecoderLayer() = default;
    DecoderLayer(const DecoderLayerConfig& c, Generator& g)
        : cfg(c),
          input_layernorm({.dim = c.hidden, .eps = c.rms_eps}),
          post_attention_layernorm({.dim = c.hidden, .eps = c.rms_eps}),
          self_attn({.hidden = c.hidden, .heads = c.heads, .kv_heads = c.kv_heads, .rope_theta = c.rope_theta}, g),
          mlp({.dim = c.hidden, .hidden = c.intermediate}, g) {}

    template <class V> void visit(V& v) {
        v.module("self_attn", self_attn);
        v.module("mlp", mlp);
        v.module("input_layernorm", input_layernorm);
        v.module("post_attention_layernorm", post_attention_layernorm);
    }

    // The residual adds ride in the output GEMMs (o_proj, down_proj). cache / layer: see GQAttention.
    Tensor<P> forward(const Tensor<P>& x, KVCache<D>* cache = nullptr, std::int64_t layer = 0) const {
        const Tensor<P> h = self_attn(input_layernorm(x), cache, layer, x);
        return mlp(post_attention_layernorm(h), h);
    }
    Tensor<P> operator()(const Tensor<P>& x, KVCache<D>* cache = nullptr, std::int64_t layer = 0) const {
        return forward(x, cache, layer);
    }
};

}  // namespace omni::nn

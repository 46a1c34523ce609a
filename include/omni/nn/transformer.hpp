#pragma once
// Pre-LN transformer encoder block as in ViT (timm Block): x + attn(norm1(x)), then
// x + mlp(norm2(x)); and an encoder: a stack of blocks and a final LayerNorm. Names follow timm
// ("blocks.3.attn.qkv.weight", "norm.weight"), so ViT checkpoints load by name.
#include "omni/nn/attention.hpp"
#include "omni/nn/layer_norm.hpp"
#include "omni/nn/mlp.hpp"
#include "omni/nn/sequential.hpp"

namespace omni::nn {

/// Options of TransformerBlock: width, heads, MLP ratio, qkv bias and LayerNorm eps.
struct TransformerBlockConfig {
    std::int64_t dim = 768, heads = 12;
    double mlp_ratio = 4.0;
    bool qkv_bias = true;
    double eps = 1e-6;
    activation act = activation::gelu;
};

/// ViT pre-LN block (timm Block): x + attn(norm1(x)), then x + mlp(norm2(x)); [B, N, dim] -> [B, N, dim].
template <class P> struct TransformerBlock : Module {
    TransformerBlockConfig cfg;
    LayerNorm<P> norm1, norm2;
    MultiheadAttention<P> attn;
    MLP<P> mlp;

    TransformerBlock() = default;
    TransformerBlock(const TransformerBlockConfig& c, Generator& g)
        : cfg(c),
          norm1({.dim = c.dim, .eps = c.eps}),
          norm2({.dim = c.dim, .eps = c.eps}),
          attn({.dim = c.dim, .heads = c.heads, .qkv_bias = c.qkv_bias}, g),
          mlp({.in = c.dim, .hidden = static_cast<std::int64_t>(c.dim * c.mlp_ratio), .act = c.act}, g) {}

    template <class V> void visit(V& v) {
        v.module("norm1", norm1);
        v.module("attn", attn);
        v.module("norm2", norm2);
        v.module("mlp", mlp);
    }
    // x [B, N, D]; key_padding_mask [B, N] bool (true = padding), optional.
    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& key_padding_mask = {}, bool causal = false) const {
        // Both skip connections are added inside the GEMMs of attn.proj and mlp.fc2.
        const Tensor<P> h = attn(norm1(x), key_padding_mask, causal, x);
        return mlp(norm2(h), h);
    }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& mask = {}, bool causal = false) const { return forward(x, mask, causal); }
};

/// Options of Transformer: depth, the blocks' options and the final LayerNorm.
struct TransformerConfig {
    int depth = 12;
    TransformerBlockConfig block;
    bool final_norm = true;
};

/// A stack of TransformerBlocks and a final LayerNorm (timm names "blocks.N", "norm").
template <class P> struct Transformer : Module {
    TransformerConfig cfg;
    Stack<TransformerBlock<P>> blocks;
    LayerNorm<P> norm;

    Transformer() = default;
    Transformer(const TransformerConfig& c, Generator& g)
        : cfg(c), blocks(c.depth, [&](int) { return TransformerBlock<P>(c.block, g); }), norm({.dim = c.block.dim, .eps = c.block.eps}) {
        if (c.depth < 0) throw value_error("Transformer", "expected depth >= 0, got " + std::to_string(c.depth));
    }
    template <class V> void visit(V& v) {
        v.module("blocks", blocks);
        if (cfg.final_norm) v.module("norm", norm);
    }
    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& key_padding_mask = {}, bool causal = false) const {
        Tensor<P> h = x;
        for (const auto& b : blocks.blocks) h = b.forward(h, key_padding_mask, causal);
        return cfg.final_norm ? norm(h) : h;
    }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& mask = {}, bool causal = false) const { return forward(x, mask, causal); }
};

// ViT-B/32 width, depth and heads (Dosovitskiy et al.; Omni-C's backbone).
inline constexpr TransformerConfig vit_b32{.depth = 12, .block = {.dim = 768, .heads = 12}};

}  // namespace omni::nn

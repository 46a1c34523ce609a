#pragma once
// A Vision Transformer with timm's layout and parameter names (timm VisionTransformer; Dosovitskiy
// et al., arXiv 2010.11929): images [B, C, H, W] -> patch_embed -> [CLS] + tokens + learned
// pos_embed [1, T, D] -> (norm_pre) -> blocks -> norm -> tokens [B, T, D], T = prefix + (H/p)(W/p);
// pooled by the class token or the patch-token mean -> (fc_norm) -> [B, D] -> (head) -> [B, classes].
// Names are timm's ("cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.3.attn.qkv.weight",
// "norm.weight", "fc_norm.bias", "head.weight"), so a timm state_dict loads by name.
#include <optional>
#include <vector>

#include "omni/nn/embed/patch_embed.hpp"
#include "omni/nn/linear.hpp"
#include "omni/nn/transformer.hpp"

namespace omni::nn {

// How the token sequence becomes one feature: timm's global_pool "token" (the class token's
// output) or "avg" (the mean over the patch tokens, the class token excluded).
enum class vit_pool { token, avg };

/// Options of VisionTransformer (timm's arguments): geometry, width, depth, heads, class token, pooling, norms and head.
struct VisionTransformerConfig {
    std::int64_t height = 224, width = 224, channels = 3, patch = 16;
    std::int64_t dim = 768, depth = 12, heads = 12;
    double mlp_ratio = 4.0;
    bool qkv_bias = true;
    bool class_token = true;
    vit_pool global_pool = vit_pool::token;
    // timm's fc_norm=None rule when unset: the final LayerNorm moves after pooling ("fc_norm") for
    // avg pooling and stays on the tokens ("norm") for token pooling.
    std::optional<bool> fc_norm = std::nullopt;
    bool pre_norm = false;         // timm's pre_norm (CLIP towers): a LayerNorm "norm_pre" before the blocks, no patch bias
    std::int64_t num_classes = 0;  // > 0 adds the classifier "head"; 0 returns the pooled feature
    double eps = 1e-6;             // every LayerNorm (timm's ViT default)

    constexpr bool use_fc_norm() const { return fc_norm.value_or(global_pool == vit_pool::avg); }
    constexpr std::int64_t prefix_tokens() const { return class_token ? 1 : 0; }
    constexpr std::int64_t num_patches() const { return patch > 0 ? (height / patch) * (width / patch) : 0; }
    constexpr std::int64_t num_tokens() const { return prefix_tokens() + num_patches(); }
    constexpr std::int64_t parameter_count() const {
        const std::int64_t d = dim, h = static_cast<std::int64_t>(static_cast<double>(dim) * mlp_ratio);
        const std::int64_t block = 4 * d /* norm1, norm2 */ + 3 * d * d + (qkv_bias ? 3 * d : 0) + d * d + d /* attn */ + d * h + h + h * d + d;
        return d * channels * patch * patch + (pre_norm ? 0 : d) + (class_token ? d : 0) + num_tokens() * d + (pre_norm ? 2 * d : 0) + depth * block + 2 * d +
               (num_classes > 0 ? d * num_classes + num_classes : 0);
    }
};

// timm's vit_tiny_patch16_224 (5.7 M parameters with its 1000-class head) and vit_base_patch16_224.
inline constexpr VisionTransformerConfig vit_tiny_patch16_224{.dim = 192, .depth = 12, .heads = 3, .num_classes = 1000};
inline constexpr VisionTransformerConfig vit_base_patch16_224{.dim = 768, .depth = 12, .heads = 12, .num_classes = 1000};

/// A timm-layout Vision Transformer: [B, C, H, W] -> tokens [B, T, D], pooled [B, D] or logits; timm weights load by name.
template <class P> struct VisionTransformer : Module {
    using D = device_of_t<P>;
    VisionTransformerConfig cfg;
    Tensor<P> cls_token;  // [1, 1, D], defined only with a class token
    Tensor<P> pos_embed;  // [1, T, D], the class token's position first
    PatchEmbed<P> patch_embed;
    LayerNorm<P> norm_pre;  // with cfg.pre_norm
    Stack<TransformerBlock<P>> blocks;
    LayerNorm<P> norm, fc_norm;  // exactly one of them is used (cfg.use_fc_norm())
    Linear<P> head;              // with cfg.num_classes > 0

    VisionTransformer() = default;
    // timm's default initialisation for the embeddings (pos_embed trunc-normal 0.02, cls_token
    // normal 1e-6); the blocks and head keep PyTorch's Linear default. Load a checkpoint for real use.
    VisionTransformer(const VisionTransformerConfig& c, Generator& g) : cfg(c) {
        if (c.patch < 1 || c.channels < 1 || c.dim < 1 || c.heads < 1 || c.dim % c.heads != 0 || c.depth < 0 || c.mlp_ratio <= 0 ||
            c.num_classes < 0)
            throw value_error("VisionTransformer", "expected patch, channels, dim, heads >= 1 with dim divisible by heads, depth >= 0, "
                                                   "mlp_ratio > 0 and num_classes >= 0, got patch " + std::to_string(c.patch) + ", channels " +
                                                       std::to_string(c.channels) + ", dim " + std::to_string(c.dim) + ", heads " +
                                                       std::to_string(c.heads) + ", depth " + std::to_string(c.depth) + ", mlp_ratio " +
                                                       std::to_string(c.mlp_ratio) + ", num_classes " + std::to_string(c.num_classes));
        if (!c.class_token && c.global_pool == vit_pool::token)
            throw value_error("VisionTransformer", "expected a class token for global_pool token, got class_token false");
        patch_embed = PatchEmbed<P>({.channels = c.channels, .patch = c.patch, .dim = c.dim, .height = c.height, .width = c.width,
                                      .bias = !c.pre_norm},
                                     g);
        if (c.class_token) cls_token = make_param<P>(init::normal<D>({1, 1, c.dim}, g, 1e-6));
        pos_embed = make_param<P>(init::trunc_normal<D>({1, c.num_tokens(), c.dim}, g, 0.02));
        if (c.pre_norm) norm_pre = LayerNorm<P>({.dim = c.dim, .eps = c.eps});
        const TransformerBlockConfig bc{.dim = c.dim, .heads = c.heads, .mlp_ratio = c.mlp_ratio, .qkv_bias = c.qkv_bias, .eps = c.eps};
        blocks = Stack<TransformerBlock<P>>(static_cast<int>(c.depth), [&](int) { return TransformerBlock<P>(bc, g); });
        (c.use_fc_norm() ? fc_norm : norm) = LayerNorm<P>({.dim = c.dim, .eps = c.eps});
        if (c.num_classes > 0) head = Linear<P>({.in = c.dim, .out = c.num_classes}, g);
    }

    // timm's state_dict order.
    template <class V> void visit(V& v) {
        if (cfg.class_token) v.param("cls_token", cls_token);
        v.param("pos_embed", pos_embed);
        v.module("patch_embed", patch_embed);
        if (cfg.pre_norm) v.module("norm_pre", norm_pre);
        v.module("blocks", blocks);
        if (cfg.use_fc_norm()) v.module("fc_norm", fc_norm);
        else v.module("norm", norm);
        if (cfg.num_classes > 0) v.module("head", head);
    }

    // images [B, C, H, W] -> tokens [B, T, D] after the last block (and `norm` unless fc_norm).
    Tensor<P> forward_features(const Tensor<P>& images) const {
        Tensor<P> x = patch_embed(images);
        const std::int64_t b = x.shape()[0];
        if (cfg.class_token) x = concat(std::vector<Tensor<P>>{cls_token.expand({b, 1, cfg.dim}), x}, 1);
        x = add(x, pos_embed);
        if (cfg.pre_norm) x = norm_pre(x);
        for (const auto& blk : blocks.blocks) x = blk.forward(x);
        return cfg.use_fc_norm() ? x : norm(x);
    }

    // tokens [B, T, D] -> the pooled feature [B, D] (after fc_norm when it is on).
    Tensor<P> pool(const Tensor<P>& tokens) const {
        const std::int64_t t = cfg.num_tokens();
        if (tokens.dim() != 3 || tokens.shape()[1] != t || tokens.shape()[2] != cfg.dim)
            throw shape_error(where("VisionTransformer") + ".pool", "expected tokens [B, " + std::to_string(t) + ", " + std::to_string(cfg.dim) +
                                                                         "], got " + tokens.shape().str());
        Tensor<P> f = cfg.global_pool == vit_pool::token ? tokens.select(1, 0) : mean(tokens.slice(1, cfg.prefix_tokens(), t), {1});
        return cfg.use_fc_norm() ? fc_norm(f) : f;
    }

    // tokens -> logits [B, num_classes], or the pooled feature [B, D] without a head (timm's
    // forward_head; pre_logits skips the head).
    Tensor<P> forward_head(const Tensor<P>& tokens, bool pre_logits = false) const {
        const Tensor<P> f = pool(tokens);
        return pre_logits || cfg.num_classes == 0 ? f : head(f);
    }

    Tensor<P> forward(const Tensor<P>& images) const { return forward_head(forward_features(images)); }
    Tensor<P> operator()(const Tensor<P>& images) const { return forward(images); }
};

}  // namespace omni::nn

#pragma once
// open_clip checkpoints (open_clip.model.CLIP state_dict) into omni modules.
// The image tower maps onto nn::VisionTransformer configured as open_clip builds it: pre_norm
// (ln_pre, no patch bias), a class token pooled by token, LayerNorm eps 1e-5, GELU MLP, and
// num_classes = the embedding width, the head standing in for `proj` (x @ proj, no bias: the head's
// bias loads as zeros). OpenAI's original weights use QuickGELU, which nn::VisionTransformer
// does not offer: the map loads them, the outputs then differ.
#include <string>

#include "omni/io/name_map.hpp"

namespace omni::io::name_maps {

// Tensors of open_clip's VisionTransformer under `prefix` ("visual." in a CLIP file, "" for the
// tower saved alone) -> nn::VisionTransformer's names.
inline NameMap open_clip_vit(const std::string& prefix = "visual.") {
    using namespace map_entry;
    const std::string b = prefix + "transformer.resblocks.*.";
    return {"open_clip ViT",
            {reshaped("cls_token", prefix + "class_embedding"),         // [D] -> [1, 1, D]
             reshaped("pos_embed", prefix + "positional_embedding"),    // [T, D] -> [1, T, D]
             renamed("patch_embed.proj.weight", prefix + "conv1.weight"),
             renamed("norm_pre.", prefix + "ln_pre."),
             renamed("blocks.*.norm1.", b + "ln_1."),
             renamed("blocks.*.attn.qkv.weight", b + "attn.in_proj_weight"),  // the same [3D, D] packing as timm's qkv
             renamed("blocks.*.attn.qkv.bias", b + "attn.in_proj_bias"),
             renamed("blocks.*.attn.proj.", b + "attn.out_proj."),
             renamed("blocks.*.norm2.", b + "ln_2."),
             renamed("blocks.*.mlp.fc1.", b + "mlp.c_fc."),
             renamed("blocks.*.mlp.fc2.", b + "mlp.c_proj."),
             renamed("norm.", prefix + "ln_post."),  // per token, so before or after pooling the class token is the same
             transposed("head.weight", prefix + "proj"),  // [D, E] -> [E, D]
             zeros("head.bias")}};
}

// torch.nn.MultiheadAttention (open_clip's `attn` in every residual block: in_proj_weight [3D, D]
// holding q, k and v stacked, in_proj_bias [3D], out_proj) under `prefix` -> an unfused
// nn::MultiheadAttention (fused_qkv = false: separate q, k, v), each a slice of the packed tensor.
// A fused one (the ViT's qkv) takes in_proj_weight whole, as open_clip_vit does.
inline NameMap torch_multihead_attention(const std::string& prefix = "") {
    using namespace map_entry;
    return {"torch MultiheadAttention",
            {chunk("q.weight", prefix + "in_proj_weight", 0, 3), chunk("k.weight", prefix + "in_proj_weight", 1, 3),
             chunk("v.weight", prefix + "in_proj_weight", 2, 3), chunk("q.bias", prefix + "in_proj_bias", 0, 3),
             chunk("k.bias", prefix + "in_proj_bias", 1, 3), chunk("v.bias", prefix + "in_proj_bias", 2, 3),
             renamed("proj.", prefix + "out_proj.")}};
}

}  // namespace omni::io::name_maps

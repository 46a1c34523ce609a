#pragma once
// timm checkpoints into omni modules. nn::VisionTransformer uses timm's own names
// (cls_token, pos_embed, patch_embed.proj, blocks.N.attn.qkv, norm, fc_norm, head), so the timm
// ViT table is the identity; it exists so that code choosing a map per family needs no special
// case, and to say that nothing differs.
#include "omni/io/name_map.hpp"

namespace omni::io::name_maps {

inline NameMap timm_vit() { return {"timm ViT", {}}; }

}  // namespace omni::io::name_maps

#pragma once
// Hugging Face transformers checkpoints into omni modules. Both models here already use
// transformers' names, so their tables are the identity plus a prefix rule:
//  - Qwen2 (models::Qwen2ForCausalLM): model.embed_tokens, model.layers.N.{self_attn,mlp,...},
//    model.norm, lm_head. A tied checkpoint (Qwen2.5-0.5B) has no lm_head.weight and a tied
//    omni config has no lm_head parameter; an untied config needs lm_head.weight in the file.
//    Released weights are BF16: load_weights converts them to the module's dtype.
//  - BERT (nn/bert.hpp names BertModel's tensors as transformers does): a BertFor* head model's
//    file holds them under "bert."; pass that as the prefix.
#include <string>

#include "omni/io/name_map.hpp"

namespace omni::io::name_maps {

inline NameMap hf_qwen2() { return {"Hugging Face Qwen2", {}}; }

inline NameMap hf_bert(const std::string& prefix = "") { return {"Hugging Face BERT", {map_entry::renamed("", prefix)}}; }

}  // namespace omni::io::name_maps

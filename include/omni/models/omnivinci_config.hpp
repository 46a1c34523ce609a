#pragma once
// Configuration of the assembled OmniVinci model (OmniVinci, arXiv 2510.15870, sec. 2): its parts'
// configs, the ablation switches (TEG, CRTE, OmniAlignNet), the placeholder and separator token
// ids, the presets and a constexpr parameter count. The model itself is models/omnivinci.hpp.
#include <cstdint>

#include "omni/loss/omni_align.hpp"
#include "omni/models/qwen2.hpp"
#include "omni/nn/omni_align_net.hpp"
#include "omni/nn/time/crte.hpp"
#include "omni/nn/vision_transformer.hpp"
#include "omni/nn/whisper_encoder.hpp"

namespace omni::models {

namespace detail {
// The fields of each nested config, in declaration order.
template <class V> void fields_of(const nn::VisionTransformerConfig& c, V& v) {
    v("height", c.height), v("width", c.width), v("channels", c.channels), v("patch", c.patch), v("dim", c.dim), v("depth", c.depth);
    v("heads", c.heads), v("mlp_ratio", c.mlp_ratio), v("qkv_bias", c.qkv_bias), v("class_token", c.class_token);
    v("global_pool", c.global_pool), v("fc_norm", c.fc_norm ? (*c.fc_norm ? "true" : "false") : "unset"), v("pre_norm", c.pre_norm);
    v("num_classes", c.num_classes), v("eps", c.eps);
}
template <class V> void fields_of(const nn::WhisperEncoderConfig& c, V& v) {
    v("n_mels", c.n_mels), v("d_model", c.d_model), v("layers", c.layers), v("heads", c.heads), v("ffn_dim", c.ffn_dim);
    v("max_source_positions", c.max_source_positions), v("eps", c.eps);
}
template <class V> void fields_of(const nn::CrteConfig& c, V& v) {
    v("d", c.d), v("T_max", c.T_max), v("theta", c.theta), v("schedule", c.schedule), v("mode", c.mode);
}
template <class V> void fields_of(const nn::OmniAlignNetConfig& c, V& v) {
    v("dim", c.dim), v("heads", c.heads), v("n_layers", c.n_layers), v("n_queries", c.n_queries), v("shared_query", c.shared_query);
    v("shared_layers", c.shared_layers), v("mlp_ratio", c.mlp_ratio), v("eps", c.eps);
}
template <class V> void fields_of(const loss::OmniAlignLossConfig& c, V& v) { v("scale", c.scale); }
template <class V> void fields_of(const Qwen2Config& c, V& v) { c.visit(v); }
// A nested config seen through its field list, so canonical()/describe() (train/run_identity.hpp)
// print it field by field without the nn/ configs depending on the train layer.
template <class C> struct ConfigFields {
    const C& c;
    template <class V> void visit(V& v) const { fields_of(c, v); }
};
}  // namespace detail

/// Options of OmniVinci: its parts' configs, the ablation switches and the special token ids.
struct OmniVinciConfig {
    nn::VisionTransformerConfig vision;  // its patch tokens are used (a class token, if any, is dropped)
    nn::WhisperEncoderConfig audio;
    Qwen2Config llm;
    double projector_eps = 1e-5;         // mlp_downsample's LayerNorm
    bool teg = true;                     // false: plain concatenation [all visual; all audio] (the paper's baseline)
    double segment_seconds = 30;         // T_G of TEG
    // Audio tokens averaged in groups of this many before the sound projector (1: none, the
    // release's 25 tokens/s). A scaling knob of ours, not the paper's: the miniature uses 4
    // (6.25 tokens/s) so the LLM's sequences stay short on two cores.
    std::int64_t audio_pool = 1;
    bool crte = true;
    nn::CrteConfig time{};               // CRTE options (d, T_max, schedule, mode)
    bool align = true;                   // OmniAlignNet and its loss
    nn::OmniAlignNetConfig align_net{};  // dim must equal llm.hidden
    loss::OmniAlignLossConfig align_loss{};
    double align_weight = 1.0;           // lambda in L = L_LM + lambda L_align (the paper does not publish it)
    std::int64_t media_token = -1;       // placeholder id in the prompt (exactly one per row)
    std::int64_t separator_token = -1;   // TEG's SEP: the LLM embedding of this id (OmniVinci uses "\n")

    // Seconds of audio one encoder input covers: 2 P mel frames of 10 ms.
    constexpr double chunk_seconds() const { return static_cast<double>(audio.input_frames()) / 100.0; }
    constexpr std::int64_t grid_h() const { return vision.patch > 0 ? vision.height / vision.patch : 0; }
    constexpr std::int64_t grid_w() const { return vision.patch > 0 ? vision.width / vision.patch : 0; }
    // Audio tokens per encoder chunk after pooling, and the seconds each covers.
    constexpr std::int64_t audio_tokens() const { return audio_pool > 0 ? audio.output_tokens() / audio_pool : 0; }
    constexpr double audio_token_seconds() const { return audio_tokens() > 0 ? chunk_seconds() / static_cast<double>(audio_tokens()) : 0; }
    // LLM tokens per frame after the 2x2 space-to-depth projector.
    constexpr std::int64_t tokens_per_frame() const { return ((grid_h() + 1) / 2) * ((grid_w() + 1) / 2); }

    template <class V> void visit(V& v) const {
        v("vision", detail::ConfigFields<nn::VisionTransformerConfig>{vision}), v("audio", detail::ConfigFields<nn::WhisperEncoderConfig>{audio});
        v("llm", detail::ConfigFields<Qwen2Config>{llm}), v("projector_eps", projector_eps), v("teg", teg);
        v("segment_seconds", segment_seconds), v("audio_pool", audio_pool), v("crte", crte), v("time", detail::ConfigFields<nn::CrteConfig>{time}), v("align", align);
        v("align_net", detail::ConfigFields<nn::OmniAlignNetConfig>{align_net});
        v("align_loss", detail::ConfigFields<loss::OmniAlignLossConfig>{align_loss}), v("align_weight", align_weight);
        v("media_token", media_token), v("separator_token", separator_token);
    }
};

// Trainable parameters of OmniAlignNet with config c (queries, two cross-attentions, the blocks).
constexpr std::int64_t parameter_count(const nn::OmniAlignNetConfig& c) {
    const std::int64_t C = c.dim, h = static_cast<std::int64_t>(static_cast<double>(C) * c.mlp_ratio);
    const std::int64_t cross = 4 * (C * C + C);
    const std::int64_t block = 4 * C + 3 * C * C + 3 * C + C * C + C + C * h + h + h * C + C;
    return (c.shared_query ? 1 : 2) * c.n_queries * C + 2 * cross + (c.shared_layers ? 1 : 2) * c.n_layers * block;
}

// Parameters of OmniVinci with config c, counted from the shapes without building it.
constexpr std::int64_t parameter_count(const OmniVinciConfig& c) {
    const std::int64_t v = c.vision.dim, a = c.audio.d_model, C = c.llm.hidden;
    const std::int64_t vision_projector = 2 * 4 * v + (4 * v * C + C) + (C * C + C);
    const std::int64_t audio_projector = (a * C + C) + (C * C + C);
    const std::int64_t align = c.align ? parameter_count(c.align_net) + (c.align_loss.scale == loss::align_scale::learnable ? 1 : 0) : 0;
    return c.vision.parameter_count() + c.audio.parameter_count() + vision_projector + audio_projector + parameter_count(c.llm) + align;
}

namespace omnivinci_presets {
// OmniVinci-9B. Vision: SigLIP-so400m's shape in the library's timm-layout ViT (448 px, patch 14,
// width 1152, depth 27, 16 heads, MLP 4304, learned positions, no class token). What differs
// from the released SigLIP tower: exact-erf GELU (SigLIP uses tanh GELU), a final LayerNorm on the
// tokens (the release reads layer -2 without one), no MAP pooling head (unused by OmniVinci
// either) and no dynamic-S2 multi-scale tiling (frames use the base scale there too; the release
// repeats the 1152 channels per scale, which would make the projector's input 3 x wider).
// Audio: Whisper-large-v3 (AF-Whisper). LLM: Qwen2.5-7B. OmniAlignNet at the LLM width with 28
// heads and 3 layers; CRTE d 128. Separator 198 is "\n" in Qwen2's tokenizer; the placeholder id
// 151665 (the first id after Qwen2.5's added tokens) is ours: the release registers its media
// tokens in its own tokenizer.
inline constexpr OmniVinciConfig paper{
    .vision = {.height = 448, .width = 448, .channels = 3, .patch = 14, .dim = 1152, .depth = 27, .heads = 16,
               .mlp_ratio = 4304.0 / 1152.0, .class_token = false, .global_pool = nn::vit_pool::avg, .fc_norm = false},
    .audio = nn::whisper_large_v3,
    .llm = qwen2_presets::qwen25_7b,
    .time = {.d = 128},
    .align_net = {.dim = 3584, .heads = 28, .n_layers = 3},
    .media_token = 151665,
    .separator_token = 198,
};
// Trains in seconds on 2 cores: 28x28x1 frames (4 x 4 patches -> 4 LLM tokens per frame), 8 s of
// 40-bin audio per chunk (200 tokens), a 64-wide 2-layer Qwen2. The trainer sets vocab,
// media_token and separator_token from its word vocabulary; the defaults here are the last two ids.
inline constexpr OmniVinciConfig tiny{
    .vision = {.height = 28, .width = 28, .channels = 1, .patch = 7, .dim = 64, .depth = 2, .heads = 4, .class_token = false,
               .global_pool = nn::vit_pool::avg, .fc_norm = false},
    .audio = {.n_mels = 40, .d_model = 64, .layers = 2, .heads = 4, .ffn_dim = 128, .max_source_positions = 400},
    .llm = {.vocab = 64, .hidden = 64, .layers = 2, .heads = 4, .kv_heads = 2, .intermediate = 176, .tie_embeddings = true},
    .segment_seconds = 2,
    .time = {.d = 16, .T_max = 16},
    .align_net = {.dim = 64, .heads = 4, .n_layers = 1},
    .media_token = 63,
    .separator_token = 62,
};
}  // namespace omnivinci_presets

}  // namespace omni::models

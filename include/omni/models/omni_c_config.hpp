#pragma once
// Omni-C's settings: the shared ViT, the built-in modalities' input geometry and the heads.
// Shapes (Omni-C (arXiv 2603.05528) sec. III-A and the release's pretraining.py presets): image
// [B, 3, 224, 224] -> 49 patches; audio [B, 1, 128 mel, 256 frames] -> 4 x 8 = 32 patches,
// frequency-major; text ids [B, 256] int64 (BERT uncased).
#include <cstdint>

namespace omni::models {

/// Options of OmniC: the shared ViT, the built-in modalities' input geometry and the heads.
struct OmniCConfig {
    std::int64_t dim = 768, depth = 12, heads = 12;
    double mlp_ratio = 4.0, eps = 1e-6;
    std::int64_t image_size = 224, image_channels = 3, image_patch = 32;
    std::int64_t audio_mels = 128, audio_frames = 256, audio_patch = 32;
    std::int64_t vocab = 30522, text_len = 256;
    std::int64_t head_hidden = 768, head_out = 768;
    bool shared_head = false;     // one head for every modality (the paper's ablation)
    bool xavier_backbone = true;  // the reference's initialize_weights() on the backbone Linears
    // Text keys at [PAD] (id 0) are masked out of attention. The reference has no mask (1.2):
    // pads attend and are attended to, so a short gloss's CLS is mostly padding. Off by default.
    bool mask_text_padding = false;
};

// The paper's configuration: ViT-B/32, heads 768 -> 768 -> 768.
inline constexpr OmniCConfig omni_c_vit_b32{};
// Small enough to pretrain in minutes on two CPU cores: 28 x 28 images (Fashion-MNIST), 64 mel x
// 128 frame spectrograms, 32 text tokens.
inline constexpr OmniCConfig omni_c_tiny{.dim = 128, .depth = 4, .heads = 4, .image_size = 28, .image_patch = 7, .audio_mels = 64,
                                         .audio_frames = 128, .audio_patch = 16, .text_len = 32, .head_hidden = 128, .head_out = 128};

}  // namespace omni::models

#pragma once
// Omni-C (arXiv 2603.05528): one dense ViT encoder shared by images, audio log-mel
// spectrograms and text, with a modality-specific embedder in front and a projection head per
// modality behind (or one shared head, the paper's ablation). The modalities are a compile-time
// list: OmniC<P, modality::image, modality::text> has no audio parts at all.
//
// Shapes (Omni-C sec. III-A and the release's pretraining.py presets): image [B, 3, 224, 224] -> 49 patches; audio [B, 1, 128 mel,
// 256 frames] -> 4 x 8 = 32 patches, frequency-major; text ids [B, 256] int64 (BERT uncased).
// A learnable CLS token is prepended after positions are added; h = final LayerNorm output at
// the CLS slot; z = head(h).
#include <array>
#include <string>

#include "omni/nn/embed/patch_embed.hpp"
#include "omni/nn/embed/sincos.hpp"
#include "omni/nn/embedding.hpp"
#include "omni/nn/heads/projection_head.hpp"
#include "omni/nn/transformer.hpp"

namespace omni::models {

enum class modality : int { image = 0, audio = 1, text = 2 };

inline const char* name_of(modality m) {
    constexpr const char* n[] = {"image", "audio", "text"};
    return n[static_cast<int>(m)];
}

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

template <class P, modality... Ms> struct OmniC : nn::Module {
    static_assert(sizeof...(Ms) >= 1, "omni::models::OmniC: list at least one modality");
    static constexpr bool has(modality m) { return ((Ms == m) || ...); }
    static_assert(((static_cast<int>(Ms) >= 0) && ...) && (int(has(modality::image)) + int(has(modality::audio)) + int(has(modality::text))) == sizeof...(Ms),
                  "omni::models::OmniC: each modality may appear once");
    using D = nn::device_of_t<P>;
    using policy_type = P;

    OmniCConfig cfg;
    nn::PatchEmbed<P> patch_embed_image, patch_embed_audio;
    nn::Embedding<P> text_embed;
    Tensor<P> pos_embed_image, pos_embed_audio, pos_embed_text;  // fixed sin-cos buffers
    Tensor<P> cls_token;                                          // [1, 1, D]
    nn::Stack<nn::TransformerBlock<P>> blocks;
    nn::LayerNorm<P> norm;
    std::array<nn::ProjectionHead<P>, 3> heads;  // by modality; heads[0] when shared

    OmniC() = default;
    OmniC(const OmniCConfig& c, Generator& g) : cfg(c) {
        const std::int64_t d = c.dim;
        if (has(modality::image)) {
            patch_embed_image = nn::PatchEmbed<P>({.channels = c.image_channels, .patch = c.image_patch, .dim = d, .height = c.image_size, .width = c.image_size}, g);
            pos_embed_image = nn::make_buffer<P>(nn::sincos_2d<D>(patch_embed_image.grid_rows(), patch_embed_image.grid_cols(), d, true));
        }
        if (has(modality::audio)) {
            patch_embed_audio = nn::PatchEmbed<P>({.channels = 1, .patch = c.audio_patch, .dim = d, .height = c.audio_mels, .width = c.audio_frames}, g);
            pos_embed_audio = nn::make_buffer<P>(nn::sincos_2d<D>(patch_embed_audio.grid_rows(), patch_embed_audio.grid_cols(), d, true));
        }
        if (has(modality::text)) {
            text_embed = nn::Embedding<P>({.num = c.vocab, .dim = d}, g);
            pos_embed_text = nn::make_buffer<P>(nn::sincos_1d<D>(c.text_len, d));
        }
        cls_token = nn::make_param<P>(nn::init::normal<D>({1, 1, d}, g, 0.02));
        const nn::TransformerBlockConfig bc{.dim = d, .heads = c.heads, .mlp_ratio = c.mlp_ratio, .eps = c.eps};
        blocks = nn::Stack<nn::TransformerBlock<P>>(static_cast<int>(c.depth), [&](int) { return nn::TransformerBlock<P>(bc, g); });
        norm = nn::LayerNorm<P>({.dim = d, .eps = c.eps});
        // The reference re-initialises the backbone Linears before the heads exist (1.5): Xavier
        // uniform weights over the full matrix, zero biases. Heads keep PyTorch's default.
        if (c.xavier_backbone)
            nn::for_each_module(blocks, [&](const std::string&, auto& m) {
                if constexpr (std::is_same_v<std::decay_t<decltype(m)>, nn::Linear<P>>) {
                    nn::value_of(m.weight).copy_from(nn::init::xavier_uniform<D>(m.weight.shape(), g));
                    if (m.bias.defined()) nn::value_of(m.bias).fill_(0.0);
                }
            });
        for (modality m : {modality::image, modality::audio, modality::text})
            if (has(m) && (!c.shared_head || m == first()))
                heads[head_slot(m)] = nn::ProjectionHead<P>({.in = d, .hidden = c.head_hidden, .out = c.head_out}, g);
        nn::name_modules(*this);
    }

    template <class V> void visit(V& v) {
        if (has(modality::image)) {
            v.module("patch_embed_image", patch_embed_image);
            v.buffer("pos_embed_image", pos_embed_image);
        }
        if (has(modality::audio)) {
            v.module("patch_embed_audio", patch_embed_audio);
            v.buffer("pos_embed_audio", pos_embed_audio);
        }
        if (has(modality::text)) {
            v.module("text_embed", text_embed);
            v.buffer("pos_embed_text", pos_embed_text);
        }
        v.param("cls_token", cls_token);
        v.module("blocks", blocks);
        v.module("norm", norm);
        if (cfg.shared_head) v.module("head", heads[0]);
        else
            for (modality m : {modality::image, modality::audio, modality::text})
                if (has(m)) v.module((std::string("head_") + name_of(m)).c_str(), heads[head_slot(m)]);
    }

    // The token sequence the backbone sees: [B, 1 + N, D] with the CLS token first.
    Tensor<P> tokens(modality m, const Tensor<P>& x) const {
        require(m);
        Tensor<P> t, cls = cls_token;
        if (m == modality::text) {
            if (x.dim() != 2 || x.shape()[1] != cfg.text_len)
                throw shape_error(where("OmniC") + ".text", "expected token ids [B, " + std::to_string(cfg.text_len) + "], got " + x.shape().str());
            t = add(text_embed(x), pos_embed_text);  // text CLS takes no position (1.2)
        } else {
            const auto& pe = m == modality::image ? patch_embed_image : patch_embed_audio;
            const auto& pos = m == modality::image ? pos_embed_image : pos_embed_audio;
            t = add(pe(x), pos.slice(0, 1, pos.shape()[0]));
            cls = add(cls, pos.slice(0, 0, 1));  // a zero row: kept for fidelity to the reference
        }
        const std::int64_t b = t.shape()[0];
        return concat(std::vector<Tensor<P>>{cls.expand({b, 1, cfg.dim}), t}, 1);
    }

    // The key-padding mask for `x`'s token sequence: [B, 1 + N] bool, true at text [PAD]s when
    // cfg.mask_text_padding, else undefined (every key attends). The CLS slot is never masked.
    Tensor<P> padding_mask(modality m, const Tensor<P>& x) const {
        if (m != modality::text || !cfg.mask_text_padding) return {};
        const Tensor<D> ids = nn::value_of(x);
        const Tensor<D> pad = eq(ids, Tensor<D>::scalar(0.0, ids.type()));
        return nn::make_buffer<P>(concat(std::vector<Tensor<D>>{Tensor<D>::zeros({ids.shape()[0], 1}, dtype::b8), pad}, 1));
    }

    // h: the CLS output after the final LayerNorm, [B, D] (what linear probes see).
    Tensor<P> encode(modality m, const Tensor<P>& x) const {
        const Tensor<P> mask = padding_mask(m, x);
        Tensor<P> h = tokens(m, x);
        for (const auto& b : blocks.blocks) h = b.forward(h, mask);
        return norm(h).select(1, 0);
    }
    // z: the projected embedding the contrastive loss sees, [B, head_out].
    Tensor<P> project(modality m, const Tensor<P>& h) const { return heads[head_slot(m)](h); }
    Tensor<P> forward(modality m, const Tensor<P>& x) const { return project(m, encode(m, x)); }

private:
    static constexpr modality first() { return std::get<0>(std::make_tuple(Ms...)); }
    int head_slot(modality m) const { return cfg.shared_head ? 0 : static_cast<int>(m); }
    void require(modality m) const {
        if (!has(m)) throw value_error(where("OmniC"), std::string("expected one of the model's modalities, got ") + name_of(m));
    }
};

}  // namespace omni::models

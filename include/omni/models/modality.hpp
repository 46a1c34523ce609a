#pragma once
// Modalities as user-definable tags. A tag is a type with a name, an embedder module and a
// factory; models::OmniC<P, Tags...> holds one embedder (and head) per listed tag and nothing for
// the others, so a fourth modality (video, depth, IMU) is added without editing the library:
//
//   struct imu {
//       static constexpr std::string_view name = "imu";
//       template <class P> using embedder = ImuEmbedder<P>;
//       template <class P> static ImuEmbedder<P> make(const OmniCConfig& c, Generator& g);
//   };
//
// An embedder is an nn::Module with
//   Tensor<P> forward(const Tensor<P>& x) const     input -> tokens [B, N, c.dim], positions added;
//   template <class V> void visit(V& v)             its tensors, named at the model's top level
//                                                   (so prefix them, e.g. "imu_embed.weight");
// and optionally
//   Tensor<P> cls(const Tensor<P>& cls_token) const  the [1, 1, D] CLS token this modality uses;
//   Tensor<P> padding_mask(const Tensor<P>& x) const [B, N] bool, true at keys to ignore, or undefined.
// The built-in tags image, audio and text keep Omni-C's embedders and parameter names
// (patch_embed_image, pos_embed_image, ..., text_embed, pos_embed_text).
#include <concepts>
#include <string>
#include <string_view>

#include "omni/models/omni_c_config.hpp"
#include "omni/nn/embed/patch_embed.hpp"
#include "omni/nn/embed/sincos.hpp"
#include "omni/nn/embedding.hpp"

namespace omni::models {

template <class M, class P>
concept modality_tag = requires(const OmniCConfig& c, Generator& g, const typename M::template embedder<P>& e, const Tensor<P>& x) {
    { M::name } -> std::convertible_to<std::string_view>;
    { M::template make<P>(c, g) } -> std::same_as<typename M::template embedder<P>>;
    { e.forward(x) } -> std::same_as<Tensor<P>>;
} && std::derived_from<typename M::template embedder<P>, nn::Module>;

/// Image or spectrogram patches: a PatchEmbed plus a fixed 2-D sin-cos table whose zero first
/// row is added to the CLS token (the reference's MAE layout). [B, C, H, W] -> [B, H/p * W/p, D].
template <class P> struct PatchTokens : nn::Module {
    using D = nn::device_of_t<P>;
    std::string name;  // names the tensors: patch_embed_<name>, pos_embed_<name>
    nn::PatchEmbed<P> patch_embed;
    Tensor<P> pos_embed;  // [1 + N, D], fixed

    PatchTokens() = default;
    PatchTokens(std::string_view n, const nn::PatchEmbedConfig& c, Generator& g) : name(n), patch_embed(c, g) {
        pos_embed = nn::make_buffer<P>(nn::sincos_2d<D>(patch_embed.grid_rows(), patch_embed.grid_cols(), c.dim, true));
    }
    template <class V> void visit(V& v) {
        v.module(("patch_embed_" + name).c_str(), patch_embed);
        v.buffer(("pos_embed_" + name).c_str(), pos_embed);
    }
    Tensor<P> forward(const Tensor<P>& x) const { return add(patch_embed(x), pos_embed.slice(0, 1, pos_embed.shape()[0])); }
    // A zero row: kept for fidelity to the reference.
    Tensor<P> cls(const Tensor<P>& cls_token) const { return add(cls_token, pos_embed.slice(0, 0, 1)); }
};

/// Token ids [B, L] int64 -> an Embedding plus a fixed 1-D sin-cos table, [B, L, D]; the CLS token
/// takes no position (the reference, 1.2). With mask_padding, keys at [PAD] (id 0) are ignored.
template <class P> struct TextTokens : nn::Module {
    using D = nn::device_of_t<P>;
    nn::Embedding<P> text_embed;
    Tensor<P> pos_embed;  // [L, D], fixed
    std::int64_t len = 0;
    bool mask_padding = false;

    TextTokens() = default;
    TextTokens(const OmniCConfig& c, Generator& g)
        : text_embed({.num = c.vocab, .dim = c.dim}, g), pos_embed(nn::make_buffer<P>(nn::sincos_1d<D>(c.text_len, c.dim))), len(c.text_len),
          mask_padding(c.mask_text_padding) {}
    template <class V> void visit(V& v) {
        v.module("text_embed", text_embed);
        v.buffer("pos_embed_text", pos_embed);
    }
    Tensor<P> forward(const Tensor<P>& x) const {
        if (x.dim() != 2 || x.shape()[1] != len)
            throw shape_error("OmniC.text", "expected token ids [B, " + std::to_string(len) + "], got " + x.shape().str());
        return add(text_embed(x), pos_embed);
    }
    Tensor<P> padding_mask(const Tensor<P>& x) const {
        if (!mask_padding) return {};
        const Tensor<D> ids = nn::value_of(x);
        return nn::make_buffer<P>(eq(ids, Tensor<D>::scalar(0.0, ids.type())));
    }
};

// The built-in modalities.
/// Images [B, C, H, W] through PatchTokens (patch_embed_image, pos_embed_image).
struct image {
    static constexpr std::string_view name = "image";
    template <class P> using embedder = PatchTokens<P>;
    template <class P> static PatchTokens<P> make(const OmniCConfig& c, Generator& g) {
        return {name, {.channels = c.image_channels, .patch = c.image_patch, .dim = c.dim, .height = c.image_size, .width = c.image_size}, g};
    }
};
/// Log-mel spectrograms [B, 1, mels, frames] through PatchTokens (patch_embed_audio, pos_embed_audio).
struct audio {  // log-mel spectrograms [B, 1, mels, frames]
    static constexpr std::string_view name = "audio";
    template <class P> using embedder = PatchTokens<P>;
    template <class P> static PatchTokens<P> make(const OmniCConfig& c, Generator& g) {
        return {name, {.channels = 1, .patch = c.audio_patch, .dim = c.dim, .height = c.audio_mels, .width = c.audio_frames}, g};
    }
};
/// Token ids [B, L] int64 through TextTokens (text_embed, pos_embed_text).
struct text {
    static constexpr std::string_view name = "text";
    template <class P> using embedder = TextTokens<P>;
    template <class P> static TextTokens<P> make(const OmniCConfig& c, Generator& g) { return {c, g}; }
};

/// The former enum's spelling, for type lists: `OmniC<P, modality::image, modality::text>`.
struct modality {
    using image = models::image;
    using audio = models::audio;
    using text = models::text;
};

}  // namespace omni::models

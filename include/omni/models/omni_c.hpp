#pragma once
// Omni-C (arXiv 2603.05528): one dense ViT encoder shared by every modality, with a
// modality-specific embedder in front and a projection head per modality behind (or one shared
// head, the paper's ablation). The modalities are a compile-time list of tags (models/modality.hpp):
// OmniC<P, image, text> has no audio parts at all, and a user's own tag joins the list the same way.
//
// x (the modality's input) -> tokens [B, 1 + N, D] with a learnable CLS token first (positions
// added by the embedder) -> depth pre-LN blocks -> LayerNorm -> h = CLS row [B, D] -> z = head(h)
// [B, head_out]. Shapes of the built-in inputs: models/omni_c_config.hpp.
#include <array>
#include <string>
#include <tuple>
#include <utility>

#include "omni/models/modality.hpp"
#include "omni/nn/heads/projection_head.hpp"
#include "omni/nn/transformer.hpp"

namespace omni::models {

/// One modality's own parts: its embedder and its head (undefined, except in the first part,
/// under a shared head).
template <class P, class M> struct ModalityPart {
    typename M::template embedder<P> embed;
    nn::ProjectionHead<P> head;
};

/// Omni-C: one ViT encoder shared by the listed modality tags, each with its own embedder and projection head;
/// input -> CLS feature [B, D] -> head [B, head_out].
template <class P, class... Ms> struct OmniC : nn::Module {
    static_assert(sizeof...(Ms) >= 1, "omni::models::OmniC: list at least one modality");
    static_assert((modality_tag<Ms, P> && ...), "omni::models::OmniC: each modality must be a tag with name, embedder<P> and make<P> (models/modality.hpp)");
    using D = nn::device_of_t<P>;
    using policy_type = P;
    using tags = std::tuple<Ms...>;
    static constexpr std::size_t modality_count = sizeof...(Ms);
    static constexpr std::array<std::string_view, sizeof...(Ms)> modality_names{std::string_view(Ms::name)...};
    template <class M> static constexpr bool has = (std::is_same_v<M, Ms> || ...);
    template <class M> static constexpr std::size_t index_of() {
        static_assert(has<M>, "omni::models::OmniC: that modality is not in the model's list");
        std::size_t i = 0;
        (void)((std::is_same_v<M, Ms> ? true : (++i, false)) || ...);
        return i;
    }
    static_assert([] {
        for (std::size_t i = 0; i < sizeof...(Ms); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (modality_names[i] == modality_names[j]) return false;
        return true;
    }(), "omni::models::OmniC: each modality (by name) may appear once");

    OmniCConfig cfg;
    std::tuple<ModalityPart<P, Ms>...> parts;  // in list order
    Tensor<P> cls_token;                       // [1, 1, D]
    nn::Stack<nn::TransformerBlock<P>> blocks;
    nn::LayerNorm<P> norm;

    OmniC() = default;
    // Draws in the reference's order: embedders (list order), CLS, blocks, their Xavier
    // re-initialisation, heads (list order).
    OmniC(const OmniCConfig& c, Generator& g) : cfg(c) {
        const std::int64_t d = c.dim;
        each([&]<std::size_t I>(std::integral_constant<std::size_t, I>) { std::get<I>(parts).embed = tag<I>::template make<P>(c, g); });
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
        each([&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
            if (!c.shared_head || I == 0) std::get<I>(parts).head = nn::ProjectionHead<P>({.in = d, .hidden = c.head_hidden, .out = c.head_out}, g);
        });
        nn::name_modules(*this);
    }

    // Embedders' tensors sit at the top level (patch_embed_image.proj.weight, text_embed.weight),
    // then cls_token, blocks, norm, and head_<name> per modality (or one `head` when shared).
    template <class V> void visit(V& v) {
        each([&]<std::size_t I>(std::integral_constant<std::size_t, I>) { std::get<I>(parts).embed.visit(v); });
        v.param("cls_token", cls_token);
        v.module("blocks", blocks);
        v.module("norm", norm);
        if (cfg.shared_head) v.module("head", std::get<0>(parts).head);
        else
            each([&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
                v.module(("head_" + std::string(tag<I>::name)).c_str(), std::get<I>(parts).head);
            });
    }

    template <class M> auto& embedder() { return std::get<index_of<M>()>(parts).embed; }
    template <class M> const auto& embedder() const { return std::get<index_of<M>()>(parts).embed; }
    // The head modality M projects with (the first modality's under a shared head).
    template <class M> nn::ProjectionHead<P>& head() { return cfg.shared_head ? std::get<0>(parts).head : std::get<index_of<M>()>(parts).head; }
    template <class M> const nn::ProjectionHead<P>& head() const {
        return cfg.shared_head ? std::get<0>(parts).head : std::get<index_of<M>()>(parts).head;
    }

    // ---- by tag, checked at compile time ----

    // The token sequence the backbone sees: [B, 1 + N, D] with the CLS token first.
    template <class M> Tensor<P> tokens(const Tensor<P>& x) const { return tokens_at<index_of<M>()>(x); }
    // The key-padding mask for x's token sequence: [B, 1 + N] bool (the CLS slot never masked),
    // or undefined when the modality masks nothing (every key attends).
    template <class M> Tensor<P> padding_mask(const Tensor<P>& x) const { return padding_mask_at<index_of<M>()>(x); }
    // h: the CLS output after the final LayerNorm, [B, D] (what linear probes see).
    template <class M> Tensor<P> encode(const Tensor<P>& x) const { return encode_at<index_of<M>()>(x); }
    // z: the projected embedding the contrastive loss sees, [B, head_out].
    template <class M> Tensor<P> project(const Tensor<P>& h) const { return head<M>()(h); }
    template <class M> Tensor<P> forward(const Tensor<P>& x) const { return project<M>(encode<M>(x)); }

    // ---- by run-time index into the list (the trainers), or by name ----

    // The position of the modality called `name` in the list; value_error when it is not there.
    static std::size_t modality_index(std::string_view name) {
        for (std::size_t i = 0; i < modality_count; ++i)
            if (modality_names[i] == name) return i;
        throw value_error("OmniC", "expected one of the model's modalities (" + names_list() + "), got '" + std::string(name) + "'");
    }
    static std::string_view modality_name(std::size_t i) { return modality_names[checked(i)]; }
    Tensor<P> tokens(std::size_t i, const Tensor<P>& x) const {
        return dispatch(i, [&]<std::size_t I>(std::integral_constant<std::size_t, I>) { return tokens_at<I>(x); });
    }
    Tensor<P> padding_mask(std::size_t i, const Tensor<P>& x) const {
        return dispatch(i, [&]<std::size_t I>(std::integral_constant<std::size_t, I>) { return padding_mask_at<I>(x); });
    }
    Tensor<P> encode(std::size_t i, const Tensor<P>& x) const {
        return dispatch(i, [&]<std::size_t I>(std::integral_constant<std::size_t, I>) { return encode_at<I>(x); });
    }
    Tensor<P> project(std::size_t i, const Tensor<P>& h) const { return head_at(cfg.shared_head ? (checked(i), 0) : checked(i))(h); }
    Tensor<P> forward(std::size_t i, const Tensor<P>& x) const { return project(i, encode(i, x)); }

private:
    template <std::size_t I> using tag = std::tuple_element_t<I, tags>;

    template <class F> static void each(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (f(std::integral_constant<std::size_t, I>{}), ...); }(std::index_sequence_for<Ms...>{});
    }
    static std::string names_list() {
        std::string s;
        for (const auto n : modality_names) s += (s.empty() ? "" : ", ") + std::string(n);
        return s;
    }
    static std::size_t checked(std::size_t i) {
        if (i >= modality_count)
            throw value_error("OmniC", "expected a modality index below " + std::to_string(modality_count) + " (" + names_list() + "), got " + std::to_string(i));
        return i;
    }
    template <class F> static Tensor<P> dispatch(std::size_t i, F&& f) {
        checked(i);
        Tensor<P> out;
        each([&]<std::size_t I>(std::integral_constant<std::size_t, I> k) {
            if (I == i) out = f(k);
        });
        return out;
    }
    const nn::ProjectionHead<P>& head_at(std::size_t i) const {
        const nn::ProjectionHead<P>* h = nullptr;
        each([&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
            if (I == i) h = &std::get<I>(parts).head;
        });
        return *h;
    }

    template <std::size_t I> Tensor<P> tokens_at(const Tensor<P>& x) const {
        const auto& e = std::get<I>(parts).embed;
        const Tensor<P> t = e.forward(x);
        Tensor<P> cls = cls_token;
        if constexpr (requires { e.cls(cls_token); }) cls = e.cls(cls_token);
        const std::int64_t b = t.shape()[0];
        return concat(std::vector<Tensor<P>>{cls.expand({b, 1, cfg.dim}), t}, 1);
    }
    template <std::size_t I> Tensor<P> padding_mask_at(const Tensor<P>& x) const {
        const auto& e = std::get<I>(parts).embed;
        if constexpr (requires { e.padding_mask(x); }) {
            const Tensor<P> m = e.padding_mask(x);
            if (!m.defined()) return {};
            const Tensor<D> mv = nn::value_of(m);
            return nn::make_buffer<P>(concat(std::vector<Tensor<D>>{Tensor<D>::zeros({mv.shape()[0], 1}, dtype::b8), mv}, 1));
        } else {
            return {};
        }
    }
    template <std::size_t I> Tensor<P> encode_at(const Tensor<P>& x) const {
        const Tensor<P> mask = padding_mask_at<I>(x);
        Tensor<P> h = tokens_at<I>(x);
        for (const auto& b : blocks.blocks) h = b.forward(h, mask);
        return norm(h).select(1, 0);
    }
};

// Parameters that modality i's parts hold alone: its embedder and, under separate heads, its
// head. A model of modality i only (the paper's single-modality expert, same config) has
// parameter_count(m) minus the other modalities' own counts, so counting one needs no model of
// its own type.
template <class P, class... Ms> std::int64_t own_parameter_count(OmniC<P, Ms...>& m, std::size_t i) {
    if (i >= sizeof...(Ms))
        throw value_error("OmniC.own_parameter_count", "expected a modality index below " + std::to_string(sizeof...(Ms)) + ", got " + std::to_string(i));
    std::int64_t n = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((I == i ? (n = nn::parameter_count(std::get<I>(m.parts).embed) +
                        (m.cfg.shared_head ? 0 : nn::parameter_count(std::get<I>(m.parts).head)))
                 : 0),
         ...);
    }(std::index_sequence_for<Ms...>{});
    return n;
}

}  // namespace omni::models

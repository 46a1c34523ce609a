#pragma once
// Qwen2 / Qwen2.5 causal language model: token ids [B, L] (int64) -> logits [B, L, vocab]
// (transformers' Qwen2ForCausalLM: model.embed_tokens, model.layers.N, model.norm, lm_head;
// with tied embeddings lm_head reuses model.embed_tokens.weight and is no parameter of its own).
// The LLM of OmniVinci (arXiv 2510.15870), sec. 2, is a Qwen2.5-7B.
#include <vector>

#include "omni/nn/decoder_layer.hpp"
#include "omni/nn/embedding.hpp"
#include "omni/nn/init.hpp"

namespace omni::models {

/// Options of Qwen2 (transformers' Qwen2Config): sizes, RoPE base, RMSNorm eps, tied embeddings, init std.
struct Qwen2Config {
    std::int64_t vocab = 0, hidden = 0, layers = 0, heads = 1, kv_heads = 1, intermediate = 0;
    double rope_theta = 1e6, rms_eps = 1e-6;
    bool tie_embeddings = false;
    double init_std = 0.02;  // transformers' initializer_range: N(0, std) for every Linear and the table

    constexpr std::int64_t head_dim() const { return heads ? hidden / heads : 0; }

    // Every field, for a run's identity (train/run_identity.hpp).
    template <class V> void visit(V& v) const {
        v("vocab", vocab), v("hidden", hidden), v("layers", layers), v("heads", heads), v("kv_heads", kv_heads);
        v("intermediate", intermediate), v("rope_theta", rope_theta), v("rms_eps", rms_eps), v("tie_embeddings", tie_embeddings);
        v("init_std", init_std);
    }
};

namespace qwen2_presets {
// Small enough to train on 2 cores in seconds.
constexpr Qwen2Config tiny{.vocab = 256, .hidden = 64, .layers = 2, .heads = 4, .kv_heads = 2, .intermediate = 176, .tie_embeddings = true};
// Qwen/Qwen2.5-0.5B config.json.
constexpr Qwen2Config qwen25_05b{.vocab = 151936, .hidden = 896, .layers = 24, .heads = 14, .kv_heads = 2, .intermediate = 4864,
                                 .tie_embeddings = true};
// Qwen/Qwen2.5-7B config.json (the OmniVinci LLM).
constexpr Qwen2Config qwen25_7b{.vocab = 152064, .hidden = 3584, .layers = 28, .heads = 28, .kv_heads = 4, .intermediate = 18944,
                                .tie_embeddings = false};
}  // namespace qwen2_presets

// Parameters of Qwen2ForCausalLM with config c, counted from the shapes without building it.
constexpr std::int64_t parameter_count(const Qwen2Config& c) {
    const std::int64_t D = c.hidden, hd = c.head_dim(), q = c.heads * hd, kv = c.kv_heads * hd;
    const std::int64_t attn = (D * q + q) + 2 * (D * kv + kv) + q * D;
    const std::int64_t layer = attn + 3 * D * c.intermediate + 2 * D;
    return c.vocab * D + c.layers * layer + D + (c.tie_embeddings ? 0 : c.vocab * D);
}

/// The model.* part of Qwen2ForCausalLM: ids [B, L] -> final hidden states [B, L, hidden].
template <class P> struct Qwen2Model : nn::Module {
    using D = nn::device_of_t<P>;
    nn::Embedding<P> embed_tokens;
    std::vector<nn::DecoderLayer<P>> layers;
    nn::RMSNorm<P> norm;

    template <class V> void visit(V& v) {
        v.module("embed_tokens", embed_tokens);
        for (std::size_t i = 0; i < layers.size(); ++i) {
            const std::string name = "layers." + std::to_string(i);
            v.module(name.c_str(), layers[i]);
        }
        v.module("norm", norm);
    }
};

/// Qwen2 / Qwen2.5 causal LM (transformers' Qwen2ForCausalLM): ids [B, L] int64 -> logits [B, L, vocab].
template <class P> struct Qwen2 : nn::Module {
    using policy = P;
    using D = nn::device_of_t<P>;
    Qwen2Config cfg;
    Qwen2Model<P> model;
    nn::Linear<P> lm_head;  // untied only

    Qwen2() = default;
    Qwen2(const Qwen2Config& c, Generator& g) : cfg(c) {
        if (c.vocab < 1 || c.hidden < 1 || c.layers < 0 || c.intermediate < 1)
            throw value_error("Qwen2", "expected vocab, hidden, intermediate >= 1 and layers >= 0, got vocab " + std::to_string(c.vocab) +
                                           ", hidden " + std::to_string(c.hidden) + ", intermediate " + std::to_string(c.intermediate) +
                                           ", layers " + std::to_string(c.layers));
        if (c.heads < 1 || c.kv_heads < 1 || c.heads % c.kv_heads != 0)
            throw value_error("Qwen2", "expected heads divisible by kv_heads, got heads " + std::to_string(c.heads) + ", kv_heads " +
                                           std::to_string(c.kv_heads));
        model.embed_tokens = nn::Embedding<P>({.num = c.vocab, .dim = c.hidden}, g);
        for (std::int64_t i = 0; i < c.layers; ++i)
            model.layers.emplace_back(nn::DecoderLayerConfig{.hidden = c.hidden, .intermediate = c.intermediate, .heads = c.heads,
                                                             .kv_heads = c.kv_heads, .rope_theta = c.rope_theta, .rms_eps = c.rms_eps},
                                      g);
        model.norm = nn::RMSNorm<P>({.dim = c.hidden, .eps = c.rms_eps});
        if (!c.tie_embeddings) lm_head = nn::Linear<P>({.in = c.hidden, .out = c.vocab, .bias = false}, g);
        init_weights(g);
        nn::name_modules(*this);
    }

    template <class V> void visit(V& v) {
        v.module("model", model);
        if (!cfg.tie_embeddings) v.module("lm_head", lm_head);
    }

    // The output projection's weight [vocab, hidden]: the embedding table when tied.
    const Tensor<P>& lm_head_weight() const { return cfg.tie_embeddings ? model.embed_tokens.weight : lm_head.weight; }

    // ids [B, L] -> final hidden states [B, L, hidden]; with a cache, positions continue at
    // cache->length() and the cache advances by L.
    Tensor<P> hidden_states(const Tensor<P>& ids, nn::KVCache<D>* cache = nullptr) const {
        if (ids.dim() != 2 || is_floating(ids.type()) || ids.type() == dtype::b8)
            throw shape_error(where("Qwen2"), "expected integer ids [B, L], got " + ids.shape().str() + " " + name_of(ids.type()));
        if (cache) cache->check_append(ids.shape()[0], ids.shape()[1], where("Qwen2"));
        return decode(model.embed_tokens(ids), cache);
    }
    // Input embeddings h [B, L, hidden] (e.g. text embeddings with media spliced in, as OmniVinci
    // feeds its LLM) -> final hidden states [B, L, hidden]; the cache as in hidden_states.
    Tensor<P> hidden_states_from_embeddings(const Tensor<P>& h, nn::KVCache<D>* cache = nullptr) const {
        if (h.dim() != 3 || h.shape()[2] != cfg.hidden || !is_floating(h.type()))
            throw shape_error(where("Qwen2"), "expected float embeddings [B, L, " + std::to_string(cfg.hidden) + "], got " + h.shape().str() + " " +
                                                  name_of(h.type()));
        if (cache) cache->check_append(h.shape()[0], h.shape()[1], where("Qwen2"));
        return decode(h, cache);
    }
    // ids [B, L] -> logits [B, L, vocab].
    Tensor<P> forward(const Tensor<P>& ids, nn::KVCache<D>* cache = nullptr) const {
        return linear(hidden_states(ids, cache), lm_head_weight(), Tensor<P>());
    }
    // h [B, L, hidden] -> logits [B, L, vocab].
    Tensor<P> forward_embeddings(const Tensor<P>& h, nn::KVCache<D>* cache = nullptr) const {
        return linear(hidden_states_from_embeddings(h, cache), lm_head_weight(), Tensor<P>());
    }
    Tensor<P> operator()(const Tensor<P>& ids, nn::KVCache<D>* cache = nullptr) const { return forward(ids, cache); }
    Tensor<P> forward(const Tensor<P>& ids, nn::KVCache<D>& cache) const { return forward(ids, &cache); }

    // A cache sized for this model.
    nn::KVCache<D> make_cache(std::int64_t batch, std::int64_t max_len, dtype t = dtype::f32) const {
        return nn::KVCache<D>({.layers = cfg.layers, .batch = batch, .kv_heads = cfg.kv_heads, .head_dim = cfg.head_dim(),
                               .max_len = max_len, .type = t});
    }

private:
    // The decoder stack on checked input embeddings; advances the cache by L.
    Tensor<P> decode(Tensor<P> h, nn::KVCache<D>* cache) const {
        const std::int64_t L = h.shape()[1];
        for (std::size_t i = 0; i < model.layers.size(); ++i) h = model.layers[i](h, cache, static_cast<std::int64_t>(i));
        if (cache) cache->advance(L);
        return model.norm(h);
    }
    // transformers' Qwen2PreTrainedModel._init_weights: N(0, initializer_range) for Linear
    // weights and the embedding table, zero biases; RMSNorm weights stay ones.
    void init_weights(Generator& g) {
        nn::for_each_module(*this, [&](const std::string&, auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (nn::is_linear<M>::value || std::is_same_v<M, nn::Embedding<P>>) {
                m.weight = nn::make_param<P>(nn::init::normal<D>(m.weight.shape(), g, cfg.init_std));
                if constexpr (nn::is_linear<M>::value)
                    if (m.bias.defined()) m.bias = nn::make_param<P>(Tensor<D>::zeros(m.bias.shape()));
            }
        });
    }
};

}  // namespace omni::models

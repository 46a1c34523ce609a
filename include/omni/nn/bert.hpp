#pragma once
// BERT's encoder (Devlin et al. 2019, arXiv 1810.04805, sec. 3 and fig. 2): token ids [B, L] and
// an attention mask [B, L] -> hidden states [B, L, hidden]. Input embeddings are the sum of the
// token, learned absolute position and token-type (segment) embeddings, then a LayerNorm; each
// layer is post-LN (Vaswani et al. 2017): LN(x + attn(x)), then LN(h + W2 act(W1 h)). Padding
// keys are masked out of every attention (a padded position still gets an output; poolers drop
// it). Names are transformers' BertModel ones ("embeddings.word_embeddings.weight",
// "encoder.layer.3.attention.self.query.weight", "encoder.layer.3.output.LayerNorm.bias"), so a
// BERT checkpoint loads by name; the pooler (a tanh layer over [CLS] for next-sentence
// prediction) is not part of it. No dropout: the forward is the evaluation form, and it is
// differentiable for fine-tuning.
#include <string>
#include <vector>

#include "omni/autodiff/attention.hpp"
#include "omni/nn/activation.hpp"
#include "omni/nn/embedding.hpp"
#include "omni/nn/init.hpp"
#include "omni/nn/layer_norm.hpp"
#include "omni/nn/linear.hpp"

namespace omni::nn {

/// The fields of a transformers BertConfig that shape the encoder (config.json's names in comments).
struct BertConfig {
    std::int64_t vocab = 30522;        // vocab_size
    std::int64_t hidden = 768;         // hidden_size
    std::int64_t layers = 12;          // num_hidden_layers
    std::int64_t heads = 12;           // num_attention_heads
    std::int64_t intermediate = 3072;  // intermediate_size
    std::int64_t max_positions = 512;  // max_position_embeddings
    std::int64_t type_vocab = 2;       // type_vocab_size
    double eps = 1e-12;                // layer_norm_eps
    activation act = activation::gelu;  // hidden_act: "gelu" is the erf form; "gelu_new" the tanh one
    double init_std = 0.02;            // initializer_range

    constexpr std::int64_t parameter_count() const {
        const std::int64_t d = hidden, f = intermediate;
        const std::int64_t layer = 4 * (d * d + d) + 2 * d * f + f + d + 4 * d;
        return (vocab + max_positions + type_vocab) * d + 2 * d + layers * layer;
    }
};

// sentence-transformers/all-MiniLM-L6-v2's encoder (its config.json), 22.7 M parameters.
inline constexpr BertConfig minilm_l6_h384{.hidden = 384, .layers = 6, .heads = 12, .intermediate = 1536};

/// embeddings.*: ids [B, L] (and optional token types [B, L]) -> [B, L, hidden].
template <class P> struct BertEmbeddings : Module {
    Embedding<P> word_embeddings, position_embeddings, token_type_embeddings;
    nn::LayerNorm<P> LayerNorm;  // transformers' attribute name, kept so the checkpoint key matches

    template <class V> void visit(V& v) {
        v.module("word_embeddings", word_embeddings);
        v.module("position_embeddings", position_embeddings);
        v.module("token_type_embeddings", token_type_embeddings);
        v.module("LayerNorm", LayerNorm);
    }
    // Positions 0..L-1 (BERT's absolute positions); token type 0 everywhere unless given.
    Tensor<P> forward(const Tensor<P>& ids, const Tensor<P>& token_types = {}) const {
        const std::int64_t l = ids.shape()[1];
        if (l > position_embeddings.cfg.num)
            throw shape_error(where("BertEmbeddings"), "expected at most " + std::to_string(position_embeddings.cfg.num) +
                                                           " tokens (max_position_embeddings), got " + std::to_string(l));
        Tensor<P> x = add(word_embeddings(ids), position_embeddings.weight.slice(0, 0, l));
        x = token_types.defined() ? add(x, token_type_embeddings(token_types)) : add(x, token_type_embeddings.weight.select(0, 0));
        return LayerNorm(x);
    }
};

/// attention.self.*: the query, key and value projections (separate, as in the checkpoint).
template <class P> struct BertSelfAttention : Module {
    Linear<P> query, key, value;
    template <class V> void visit(V& v) {
        v.module("query", query);
        v.module("key", key);
        v.module("value", value);
    }
};

/// A dense projection added to the block's input, then LayerNorm (transformers' BertSelfOutput and
/// BertOutput): LN(x + dense(h)).
template <class P> struct BertAddNorm : Module {
    Linear<P> dense;
    nn::LayerNorm<P> LayerNorm;
    template <class V> void visit(V& v) {
        v.module("dense", dense);
        v.module("LayerNorm", LayerNorm);
    }
    Tensor<P> forward(const Tensor<P>& h, const Tensor<P>& x) const { return LayerNorm(dense(h, x)); }  // the residual joins in the GEMM
};

/// attention.*: self-attention and its add-and-norm output (transformers' BertAttention).
template <class P> struct BertAttention : Module {
    BertSelfAttention<P> self;
    BertAddNorm<P> output;
    template <class V> void visit(V& v) {
        v.module("self", self);
        v.module("output", output);
    }
};

/// intermediate.*: the feed-forward expansion before the activation (transformers' BertIntermediate).
template <class P> struct BertIntermediate : Module {
    Linear<P> dense;
    template <class V> void visit(V& v) { v.module("dense", dense); }
};

/// encoder.layer.N: x [B, L, D] -> [B, L, D].
template <class P> struct BertLayer : Module {
    std::int64_t heads = 1;
    activation act = activation::gelu;
    BertAttention<P> attention;
    BertIntermediate<P> intermediate;
    BertAddNorm<P> output;

    BertLayer() = default;
    // Linear weights N(0, c.init_std) from g, or zeros without g (to be loaded); zero biases.
    BertLayer(const BertConfig& c, Generator* g) : heads(c.heads), act(c.act) {
        using D = device_of_t<P>;
        const std::int64_t d = c.hidden;
        auto linear = [&](std::int64_t in, std::int64_t out) {
            Linear<P> l;
            l.cfg = {.in = in, .out = out};
            l.weight = make_param<P>(g ? init::normal<D>({out, in}, *g, c.init_std) : Tensor<D>::zeros({out, in}));
            l.bias = make_param<P>(Tensor<D>::zeros({out}));
            return l;
        };
        attention.self.query = linear(d, d);
        attention.self.key = linear(d, d);
        attention.self.value = linear(d, d);
        attention.output.dense = linear(d, d);
        attention.output.LayerNorm = nn::LayerNorm<P>({.dim = d, .eps = c.eps});
        intermediate.dense = linear(d, c.intermediate);
        output.dense = linear(c.intermediate, d);
        output.LayerNorm = nn::LayerNorm<P>({.dim = d, .eps = c.eps});
    }
    template <class V> void visit(V& v) {
        v.module("attention", attention);
        v.module("intermediate", intermediate);
        v.module("output", output);
    }
    // key_padding_mask [B, L] bool, true = a padding key.
    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& key_padding_mask = {}) const {
        const auto& s = x.shape();
        const std::int64_t d = s[2];
        auto split = [&](const Linear<P>& proj) { return proj(x).view({s[0], s[1], heads, d / heads}).transpose(1, 2); };
        const Tensor<P> ctx = omni::attention(split(attention.self.query), split(attention.self.key), split(attention.self.value), key_padding_mask);
        const Tensor<P> h = attention.output.forward(ctx.transpose(1, 2).reshape({s[0], s[1], d}), x);
        return output.forward(activate(act, intermediate.dense(h)), h);
    }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& key_padding_mask = {}) const { return forward(x, key_padding_mask); }
};

/// encoder.*: the stack of layers, named "layer.N" as in transformers.
template <class P> struct BertEncoder : Module {
    std::vector<BertLayer<P>> layer;
    template <class V> void visit(V& v) {
        for (std::size_t i = 0; i < layer.size(); ++i) {
            const std::string name = "layer." + std::to_string(i);
            v.module(name.c_str(), layer[i]);
        }
    }
};

/// transformers' BertModel without the pooler: ids [B, L] -> last_hidden_state [B, L, hidden].
template <class P> struct Bert : Module {
    using D = device_of_t<P>;
    BertConfig cfg;
    BertEmbeddings<P> embeddings;
    BertEncoder<P> encoder;

    Bert() = default;
    // transformers' BertPreTrainedModel._init_weights: N(0, initializer_range) for every Linear
    // weight and embedding table, zero biases, LayerNorms at ones and zeros.
    Bert(const BertConfig& c, Generator& g) : Bert(c, &g) {}
    // Zeros where the random draws would be: the shapes a checkpoint is loaded into, without
    // drawing 20 M normals first.
    explicit Bert(const BertConfig& c) : Bert(c, nullptr) {}

    template <class V> void visit(V& v) {
        v.module("embeddings", embeddings);
        v.module("encoder", encoder);
    }

    // ids [B, L] int32/int64; attention_mask [B, L] (bool or numbers, nonzero = a real token, as
    // transformers' attention_mask), optional; token_types [B, L], optional (all 0).
    Tensor<P> forward(const Tensor<P>& ids, const Tensor<P>& attention_mask = {}, const Tensor<P>& token_types = {}) const {
        if (ids.dim() != 2 || is_floating(ids.type()) || ids.type() == dtype::b8)
            throw shape_error(where("Bert"), "expected integer ids [B, L], got " + ids.shape().str() + " " + name_of(ids.type()));
        for (const auto* t : {&attention_mask, &token_types})
            if (t->defined() && !(t->shape() == ids.shape()))
                throw shape_error(where("Bert"), std::string(t == &attention_mask ? "attention_mask" : "token_types") + ": expected " +
                                                     ids.shape().str() + " (the ids' shape), got " + t->shape().str());
        const Tensor<P> pad = attention_mask.defined() ? eq(attention_mask.to(dtype::f32), Tensor<P>::zeros({1}, dtype::f32)) : Tensor<P>();
        Tensor<P> h = embeddings.forward(ids, token_types);
        for (const auto& layer : encoder.layer) h = layer.forward(h, pad);
        return h;
    }
    Tensor<P> operator()(const Tensor<P>& ids, const Tensor<P>& attention_mask = {}, const Tensor<P>& token_types = {}) const {
        return forward(ids, attention_mask, token_types);
    }

private:
    Bert(const BertConfig& c, Generator* g) : cfg(c) {
        if (c.vocab < 1 || c.hidden < 1 || c.layers < 0 || c.heads < 1 || c.hidden % c.heads != 0 || c.intermediate < 1 ||
            c.max_positions < 1 || c.type_vocab < 1 || !(c.eps > 0))
            throw value_error("Bert", "expected vocab, hidden, heads, intermediate, max_positions, type_vocab >= 1, hidden divisible by "
                                      "heads, layers >= 0 and eps > 0, got vocab " + std::to_string(c.vocab) + ", hidden " +
                                          std::to_string(c.hidden) + ", heads " + std::to_string(c.heads) + ", layers " +
                                          std::to_string(c.layers) + ", intermediate " + std::to_string(c.intermediate) +
                                          ", max_positions " + std::to_string(c.max_positions) + ", type_vocab " +
                                          std::to_string(c.type_vocab) + ", eps " + std::to_string(c.eps));
        auto table = [&](std::int64_t n) {
            Embedding<P> e;
            e.cfg = {.num = n, .dim = c.hidden};
            e.weight = make_param<P>(g ? init::normal<D>({n, c.hidden}, *g, c.init_std) : Tensor<D>::zeros({n, c.hidden}));
            return e;
        };
        embeddings.word_embeddings = table(c.vocab);
        embeddings.position_embeddings = table(c.max_positions);
        embeddings.token_type_embeddings = table(c.type_vocab);
        embeddings.LayerNorm = LayerNorm<P>({.dim = c.hidden, .eps = c.eps});
        for (std::int64_t i = 0; i < c.layers; ++i) encoder.layer.emplace_back(c, g);
        name_modules(*this);
    }
};

}  // namespace omni::nn

#pragma once
// Sentence embeddings as Sentence-BERT computes them (Reimers & Gurevych 2019, arXiv 1908.10084,
// sec. 3): a BERT encoder, the mean of its output tokens over the attention mask (or the [CLS]
// token, or the masked max), then, when the model asks for it, L2 normalisation, so cosine
// similarity is a dot product. SentenceEncoder is the differentiable module (weights by
// transformers' names); SentenceTransformer adds the tokenizer and batching, and loads a
// sentence-transformers model folder (all-MiniLM-L6-v2's, say): config.json, modules.json,
// 1_Pooling/config.json, sentence_bert_config.json, vocab.txt, tokenizer_config.json and
// model.safetensors.
#include <algorithm>
#include <filesystem>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "omni/autodiff/grad_mode.hpp"
#include "omni/core/json.hpp"
#include "omni/data/text/wordpiece.hpp"
#include "omni/io/weights.hpp"
#include "omni/nn/bert.hpp"

namespace omni::models {

// sentence-transformers' Pooling modes omni implements (pooling_mode_*_tokens).
enum class sentence_pool { mean, cls, max };

/// What a sentence-transformers folder configures: the BERT, the pooling, the normalisation, the length limit.
struct SentenceEncoderConfig {
    nn::BertConfig bert = nn::minilm_l6_h384;
    sentence_pool pool = sentence_pool::mean;
    bool normalize = true;               // a Normalize module follows the pooling
    std::int64_t max_seq_length = 256;   // longer texts are truncated (sentence_bert_config.json)
};

namespace detail {
inline json::Value read_object(const std::filesystem::path& p) {
    json::Value v = json::read_file(p.string());
    if (v.type != json::kind::object) throw io_error("sentence_encoder", p.string() + ": expected a JSON object, got another value");
    return v;
}
inline nn::activation hidden_act(const std::string& name, const std::string& file) {
    if (name == "gelu") return nn::activation::gelu;  // transformers' "gelu" is the exact erf form
    if (name == "gelu_new" || name == "gelu_pytorch_tanh") return nn::activation::gelu_tanh;
    if (name == "relu") return nn::activation::relu;
    if (name == "silu" || name == "swish") return nn::activation::silu;
    throw value_error("sentence_encoder", file + ": expected hidden_act gelu, gelu_new, gelu_pytorch_tanh, relu or silu, got " + name);
}
}  // namespace detail

// A transformers BertConfig from config.json. Refuses what the encoder does not implement
// (another model_type, relative position embeddings).
inline nn::BertConfig read_bert_config(const std::string& path) {
    const json::Value c = detail::read_object(path);
    const std::string type = json::get_string(c, "model_type", path).value_or("bert");
    if (type != "bert") throw value_error("read_bert_config", path + ": expected model_type bert, got " + type);
    const std::string pos = json::get_string(c, "position_embedding_type", path).value_or("absolute");
    if (pos != "absolute") throw value_error("read_bert_config", path + ": expected position_embedding_type absolute, got " + pos);
    nn::BertConfig b;
    auto need = [&](const char* key) {
        const auto v = json::get_int(c, key, path);
        if (!v) throw io_error("read_bert_config", path + ": expected \"" + key + "\", got none");
        return *v;
    };
    b.vocab = need("vocab_size");
    b.hidden = need("hidden_size");
    b.layers = need("num_hidden_layers");
    b.heads = need("num_attention_heads");
    b.intermediate = need("intermediate_size");
    b.max_positions = json::get_int(c, "max_position_embeddings", path).value_or(512);
    b.type_vocab = json::get_int(c, "type_vocab_size", path).value_or(2);
    b.eps = json::get_number(c, "layer_norm_eps", path).value_or(1e-12);
    b.init_std = json::get_number(c, "initializer_range", path).value_or(0.02);
    b.act = detail::hidden_act(json::get_string(c, "hidden_act", path).value_or("gelu"), path);
    return b;
}

// The configuration of a sentence-transformers folder: the Transformer module's config.json, the
// Pooling module's mode, whether a Normalize module follows, and max_seq_length. Modules other
// than Transformer, Pooling and Normalize (Dense, say) are refused by name.
inline SentenceEncoderConfig read_sentence_encoder_config(const std::string& dir) {
    namespace fs = std::filesystem;
    const fs::path root(dir);
    SentenceEncoderConfig c;
    c.bert = read_bert_config((root / "config.json").string());
    c.normalize = false;
    fs::path pooling;
    if (fs::exists(root / "modules.json")) {
        const std::string file = (root / "modules.json").string();
        const json::Value mods = json::read_file(file);
        if (mods.type != json::kind::array) throw io_error("read_sentence_encoder_config", file + ": expected a JSON array, got another value");
        for (const json::Value& m : mods.items) {
            const std::string type = json::get_string(m, "type", file).value_or("");
            const std::string path = json::get_string(m, "path", file).value_or("");
            if (type == "sentence_transformers.models.Transformer") {
                if (!path.empty()) throw value_error("read_sentence_encoder_config", file + ": expected the Transformer at the folder's root, got path " + path);
            } else if (type == "sentence_transformers.models.Pooling") {
                pooling = root / path / "config.json";
            } else if (type == "sentence_transformers.models.Normalize") {
                c.normalize = true;
            } else {
                throw value_error("read_sentence_encoder_config", file + ": expected Transformer, Pooling and Normalize modules, got " + type);
            }
        }
    }
    if (!pooling.empty()) {
        const std::string file = pooling.string();
        const json::Value p = detail::read_object(pooling);
        int modes = 0;
        for (const char* key : {"pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                                "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"})
            if (json::get_bool(p, key, file).value_or(false)) {
                const std::string k = key;
                if (k == "pooling_mode_cls_token") c.pool = sentence_pool::cls;
                else if (k == "pooling_mode_mean_tokens") c.pool = sentence_pool::mean;
                else if (k == "pooling_mode_max_tokens") c.pool = sentence_pool::max;
                else throw value_error("read_sentence_encoder_config", file + ": expected cls, mean or max pooling, got " + k);
                ++modes;
            }
        if (modes != 1) throw value_error("read_sentence_encoder_config", file + ": expected exactly one pooling mode, got " + std::to_string(modes));
        const auto dim = json::get_int(p, "word_embedding_dimension", file);
        if (dim && *dim != c.bert.hidden)
            throw value_error("read_sentence_encoder_config", file + ": expected word_embedding_dimension " + std::to_string(c.bert.hidden) +
                                                                 " (hidden_size), got " + std::to_string(*dim));
    }
    c.max_seq_length = c.bert.max_positions;
    if (fs::exists(root / "sentence_bert_config.json")) {
        const std::string file = (root / "sentence_bert_config.json").string();
        const json::Value s = detail::read_object(file);
        c.max_seq_length = json::get_int(s, "max_seq_length", file).value_or(c.max_seq_length);
        // sentence-transformers' own lower-casing (str.lower() before the tokenizer) is not the
        // tokenizer's, so it is refused rather than approximated.
        if (json::get_bool(s, "do_lower_case", file).value_or(false))
            throw value_error("read_sentence_encoder_config", file + ": expected do_lower_case false (the tokenizer's own setting applies), got true");
    }
    if (c.max_seq_length < 2 || c.max_seq_length > c.bert.max_positions)
        throw value_error("read_sentence_encoder_config", dir + ": expected max_seq_length in [2, " + std::to_string(c.bert.max_positions) +
                                                             "], got " + std::to_string(c.max_seq_length));
    return c;
}

/// BERT, pooling and normalisation: ids [B, L], attention_mask [B, L] (nonzero = a token) ->
/// embeddings [B, hidden]. Its tensors carry transformers' BertModel names at the top level
/// ("embeddings.word_embeddings.weight", "encoder.layer.0..."), as in a sentence-transformers
/// model.safetensors.
template <class P> struct SentenceEncoder : nn::Module {
    using policy = P;
    SentenceEncoderConfig cfg;
    nn::Bert<P> bert;

    SentenceEncoder() = default;
    SentenceEncoder(const SentenceEncoderConfig& c, Generator& g) : cfg(c), bert(c.bert, g) {}
    // Zero tensors of the right shapes, for load_sentence_encoder_weights.
    explicit SentenceEncoder(const SentenceEncoderConfig& c) : cfg(c), bert(c.bert) {}

    template <class V> void visit(V& v) { bert.visit(v); }

    // hidden [B, L, D] -> [B, D]: Sentence-BERT's pooling over the real tokens (sec. 3), then the
    // L2 normalisation (F.normalize's eps 1e-12) when cfg.normalize.
    Tensor<P> pool(const Tensor<P>& hidden, const Tensor<P>& attention_mask) const {
        if (hidden.dim() != 3 || !(attention_mask.shape() == Shape{hidden.shape()[0], hidden.shape()[1]}))
            throw shape_error(where("SentenceEncoder") + ".pool", "expected hidden [B, L, D] and attention_mask [B, L], got " +
                                                                     hidden.shape().str() + " and " + attention_mask.shape().str());
        const std::int64_t b = hidden.shape()[0], l = hidden.shape()[1];
        Tensor<P> f;
        if (cfg.pool == sentence_pool::cls) {
            f = hidden.select(1, 0);
        } else {
            const Tensor<P> m = attention_mask.to(hidden.type()).view({b, l, 1});
            if (cfg.pool == sentence_pool::mean) {
                // sum(h * m) / max(sum(m), 1e-9), sentence-transformers' clamp for an all-padding row
                const Tensor<P> count = maximum(sum(m, {1}), Tensor<P>::full({1}, 1e-9, hidden.type()));
                f = div(sum(mul(hidden, m), {1}), count);
            } else {
                const Tensor<P> pad = eq(m, Tensor<P>::zeros({1}, hidden.type()));
                f = max(masked_fill(hidden, pad, -1e9), {1});  // padding at -1e9, as sentence-transformers
            }
        }
        return cfg.normalize ? l2_normalize(f, -1, 1e-12) : f;
    }

    Tensor<P> forward(const Tensor<P>& ids, const Tensor<P>& attention_mask) const {
        return pool(bert.forward(ids, attention_mask), attention_mask);
    }
    Tensor<P> operator()(const Tensor<P>& ids, const Tensor<P>& attention_mask) const { return forward(ids, attention_mask); }
};

// Loads a sentence-transformers / transformers BERT safetensors file into m. The file may carry
// the weights at the top level or under "bert." (a BertFor* checkpoint); every tensor of the
// encoder must be there with its shape (io::load_weights' typed errors name the tensor, the
// expected and the actual shape). What the encoder has no use for is ignored on purpose: the
// pooler (a [CLS] tanh layer for next-sentence prediction, unused by mean pooling) and the
// position_ids buffer; any other extra tensor means another architecture and is refused.
template <class P> void load_sentence_encoder_weights(SentenceEncoder<P>& m, const io::Safetensors& file, const std::string& what = "weights") {
    const bool prefixed = file.tensors.count("bert.embeddings.word_embeddings.weight") > 0;
    const std::string prefix = prefixed ? "bert." : "";
    const auto names = io::state_dict(m);
    for (const auto& [key, t] : file.tensors) {
        if (key.compare(0, prefix.size(), prefix) != 0) {
            if (prefixed && (key.rfind("cls.", 0) == 0 || key.rfind("classifier.", 0) == 0)) continue;  // a BertFor* head
            throw value_error("load_sentence_encoder_weights", what + ": expected tensors under \"" + prefix + "\", got " + key);
        }
        const std::string name = key.substr(prefix.size());
        if (names.count(name) || name.rfind("pooler.", 0) == 0 || name == "embeddings.position_ids") continue;
        throw value_error("load_sentence_encoder_weights", what + ": expected only BERT encoder, pooler and position_ids tensors, got " + key);
    }
    io::load_weights(m, file, io::LoadOptions{.strict = true, .rules = {io::PrefixRule{prefix, ""}}});
}

/// A sentence-transformers model folder ready to embed text: its tokenizer (vocab.txt and
/// tokenizer_config.json) and its encoder, float32. encode() batches like sentence-transformers:
/// texts sorted by length, each batch padded to its longest row and truncated to max_seq_length.
template <class P = cpu> struct SentenceTransformer {
    using D = nn::device_of_t<P>;
    data::WordPiece tokenizer;
    SentenceEncoder<P> model;

    static SentenceTransformer from_pretrained(const std::string& dir) {
        const SentenceEncoderConfig c = read_sentence_encoder_config(dir);
        SentenceTransformer st{data::WordPiece::from_pretrained(dir), SentenceEncoder<P>(c)};
        if (st.tokenizer.vocab_size() != c.bert.vocab)
            throw value_error("SentenceTransformer", dir + ": expected vocab.txt of vocab_size " + std::to_string(c.bert.vocab) + " tokens, got " +
                                                         std::to_string(st.tokenizer.vocab_size()));
        const std::string weights = (std::filesystem::path(dir) / "model.safetensors").string();
        load_sentence_encoder_weights(st.model, io::read_safetensors(weights), weights);
        return st;
    }

    std::int64_t dim() const { return model.cfg.bert.hidden; }

    // ids [B, L] and mask [B, L] of texts, padded to the longest row (not to max_seq_length).
    data::BatchEncoding tokenize(std::span<const std::string> texts) const {
        data::BatchEncoding e = tokenizer.encode_batch(texts, model.cfg.max_seq_length);
        const std::int64_t b = e.ids.shape()[0];
        const auto* m = static_cast<const std::uint8_t*>(e.attention_mask.raw_data());
        std::int64_t longest = 2;
        for (std::int64_t r = 0; r < b; ++r)
            longest = std::max<std::int64_t>(longest, std::count(m + r * model.cfg.max_seq_length, m + (r + 1) * model.cfg.max_seq_length, 1));
        return {e.ids.slice(1, 0, longest).contiguous(), e.attention_mask.slice(1, 0, longest).contiguous()};
    }

    // texts -> embeddings [N, hidden] float32, in the order given; no tape.
    Tensor<D> encode(std::span<const std::string> texts, std::int64_t batch_size = 32) const {
        if (batch_size < 1) throw value_error("SentenceTransformer.encode", "expected batch_size >= 1, got " + std::to_string(batch_size));
        const auto n = static_cast<std::int64_t>(texts.size());
        if (n == 0) return Tensor<D>::zeros({0, dim()});
        no_grad guard;
        std::vector<std::int64_t> order(static_cast<std::size_t>(n));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return texts[a].size() > texts[b].size(); });
        std::vector<Tensor<D>> parts;
        std::vector<std::string> batch;
        for (std::int64_t i = 0; i < n; i += batch_size) {
            batch.clear();
            for (std::int64_t k = i; k < std::min(n, i + batch_size); ++k) batch.push_back(texts[static_cast<std::size_t>(order[k])]);
            const data::BatchEncoding e = tokenize(batch);
            parts.push_back(nn::value_of(model.forward(e.ids.template to<P>(), e.attention_mask.template to<P>())));
        }
        std::vector<std::int64_t> slot(static_cast<std::size_t>(n));  // where each text's row landed
        for (std::int64_t k = 0; k < n; ++k) slot[static_cast<std::size_t>(order[k])] = k;
        return index_select(concat(parts, 0), 0, Tensor<cpu>::from_data(slot, {n}).template to<D>());
    }
    Tensor<D> encode(const std::vector<std::string>& texts, std::int64_t batch_size = 32) const {
        return encode(std::span<const std::string>(texts), batch_size);
    }
};

}  // namespace omni::models

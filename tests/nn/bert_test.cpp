// nn::Bert and models::SentenceEncoder without the real weights: float64 gradcheck of a tiny random
// BERT with padding and of each pooling, padding that changes nothing, typed errors for a missing
// or misshapen weight and for configurations the loader refuses; the cased/uncased WordPiece
// options and the JSON reader behind them. (The real all-MiniLM-L6-v2 against
// sentence-transformers: tests/parity/bert_parity_test.cpp.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/models/sentence_encoder.hpp"

using V = omni::Var<omni::cpu>;
using D = omni::Tensor<omni::cpu>;
using In = std::vector<V>;
namespace nn = omni::nn;
namespace models = omni::models;
using omni::data::WordPiece;
using omni::data::WordPieceOptions;

namespace {
constexpr nn::BertConfig tiny{.vocab = 20, .hidden = 8, .layers = 2, .heads = 2, .intermediate = 12, .max_positions = 6, .type_vocab = 2};

// ids [2, 5]: the second row is 3 tokens and 2 pads.
D ids() { return D::from_data<std::int64_t>({2, 5, 7, 9, 3, 2, 11, 3, 0, 0}, {2, 5}); }
D mask() { return D::from_data<bool>({true, true, true, true, true, true, true, true, false, false}, {2, 5}); }

// gradcheck over every parameter of m: f rebinds the model's parameters to gradcheck's leaves.
template <class M, class F> void check_all_parameters(M& m, F&& forward) {
    nn::cast(m, omni::dtype::f64);
    In params;
    nn::for_each_parameter(m, [&](const std::string&, V& p) { params.push_back(p); });
    const auto r = omni::gradcheck<omni::cpu>(
        [&](const In& v) {
            std::size_t k = 0;
            nn::for_each_parameter(m, [&](const std::string&, V& p) { p = v[k++]; });
            return forward(m);
        },
        params);
    EXPECT_TRUE(r.ok) << r.message;
}

std::string write(const std::filesystem::path& p, const std::string& text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
}
}  // namespace

TEST(Bert, GradcheckEveryParameterWithPaddingAndTokenTypes) {
    omni::Generator g(3);
    nn::Bert<omni::autodiff<omni::cpu>> m(tiny, g);
    const V types(D::from_data<std::int64_t>({0, 0, 1, 1, 1, 0, 0, 1, 0, 0}, {2, 5}));
    // Only the real tokens: a padded position's output is defined but no pooling reads it.
    const V keep(mask().to(omni::dtype::f64).view({2, 5, 1}));
    check_all_parameters(m, [&](auto& b) { return omni::mul(b.forward(V(ids()), V(mask()), types), keep); });
}

TEST(Bert, SentenceEncoderGradcheckForEachPooling) {
    for (auto pool : {models::sentence_pool::mean, models::sentence_pool::cls, models::sentence_pool::max}) {
        SCOPED_TRACE(static_cast<int>(pool));
        omni::Generator g(5);
        models::SentenceEncoder<omni::autodiff<omni::cpu>> m({.bert = tiny, .pool = pool, .normalize = true, .max_seq_length = 6}, g);
        if (pool == models::sentence_pool::mean) {
            check_all_parameters(m, [&](auto& e) { return e.forward(V(ids()), V(mask())); });
        } else {  // the pooling alone, on hidden states as the input
            nn::cast(m, omni::dtype::f64);
            const V h(D::randn({2, 5, 8}, g, omni::dtype::f64), true);
            const auto r = omni::gradcheck<omni::cpu>([&](const In& v) { return m.pool(v[0], V(mask())); }, {h});
            EXPECT_TRUE(r.ok) << r.message;
        }
    }
}

TEST(Bert, PaddingChangesNothingAndEmbeddingsAreUnitLength) {
    omni::Generator g(7);
    models::SentenceEncoder<omni::cpu> m({.bert = tiny, .max_seq_length = 6}, g);
    const D batch = m.forward(ids(), mask());
    const D alone = m.forward(D::from_data<std::int64_t>({2, 11, 3}, {1, 3}), D::ones({1, 3}, omni::dtype::b8));
    const auto a = batch.select(0, 1).to_vector<double>(), b = alone.select(0, 0).to_vector<double>();
    double norm = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_NEAR(a[i], b[i], 1e-6) << i;
        norm += a[i] * a[i];
    }
    EXPECT_NEAR(norm, 1.0, 1e-5);
    EXPECT_EQ(nn::parameter_count(m), tiny.parameter_count());
}

TEST(Bert, WeightErrorsNameTheTensorTheExpectedAndTheActual) {
    omni::Generator g(1);
    models::SentenceEncoder<omni::cpu> m({.bert = tiny, .max_seq_length = 6}, g);
    omni::io::Safetensors full;
    full.tensors = omni::io::state_dict(m);
    full.tensors.emplace("pooler.dense.weight", D::zeros({8, 8}));       // ignored on purpose
    full.tensors.emplace("embeddings.position_ids", D::zeros({1, 6}));  // ignored on purpose
    models::SentenceEncoder<omni::cpu> loaded(m.cfg);
    EXPECT_NO_THROW(models::load_sentence_encoder_weights(loaded, full));
    EXPECT_EQ(loaded.forward(ids(), mask()).to_vector<float>(), m.forward(ids(), mask()).to_vector<float>());

    auto missing = full;  // a "bert." file without one tensor
    missing.tensors.clear();
    for (const auto& [k, t] : full.tensors)
        if (k != "encoder.layer.1.attention.self.key.weight") missing.tensors.emplace("bert." + k, t);
    try {
        models::load_sentence_encoder_weights(loaded, missing);
        FAIL() << "a missing tensor loaded";
    } catch (const omni::io_error& e) {
        EXPECT_NE(std::string(e.what()).find("'bert.encoder.layer.1.attention.self.key.weight'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("[8, 8]"), std::string::npos) << e.what();
    }
    auto wrong = full;
    wrong.tensors.at("encoder.layer.0.intermediate.dense.weight") = D::zeros({12, 9});
    try {
        models::load_sentence_encoder_weights(loaded, wrong);
        FAIL() << "a misshapen tensor loaded";
    } catch (const omni::shape_error& e) {
        const std::string w = e.what();
        EXPECT_NE(w.find("encoder.layer.0.intermediate.dense.weight"), std::string::npos) << w;
        EXPECT_NE(w.find("expected [12, 8], got [12, 9]"), std::string::npos) << w;
    }
    auto extra = full;
    extra.tensors.emplace("encoder.rel_pos_bias.weight", D::zeros({4}));
    EXPECT_THROW(models::load_sentence_encoder_weights(loaded, extra), omni::value_error);
    EXPECT_THROW(m.forward(D::zeros({2, 5}), mask()), omni::shape_error);                                    // float ids
    EXPECT_THROW(m.forward(D::zeros({1, 7}, omni::dtype::i64), D::ones({1, 7}, omni::dtype::b8)), omni::shape_error);  // past max_positions
    EXPECT_THROW(m.forward(ids(), D::ones({2, 4}, omni::dtype::b8)), omni::shape_error);                     // mask shape
    EXPECT_THROW(nn::Bert<omni::cpu>({.hidden = 10, .heads = 3}), omni::value_error);
}

TEST(Bert, ConfigFolderIsReadAndBadValuesRefused) {
    const auto root = std::filesystem::temp_directory_path() / "omni_bert_config_test";
    std::filesystem::remove_all(root);
    const std::string config = R"({"model_type": "bert", "vocab_size": 20, "hidden_size": 8, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 12, "max_position_embeddings": 6, "type_vocab_size": 2,
        "layer_norm_eps": 1e-12, "hidden_act": "gelu", "architectures": ["BertModel"]})";
    write(root / "config.json", config);
    write(root / "modules.json", R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])");
    write(root / "1_Pooling" / "config.json", R"({"word_embedding_dimension": 8, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false})");
    write(root / "sentence_bert_config.json", R"({"max_seq_length": 5, "do_lower_case": false})");
    auto c = models::read_sentence_encoder_config(root.string());
    EXPECT_EQ(c.bert.hidden, 8);
    EXPECT_EQ(c.bert.act, nn::activation::gelu);
    EXPECT_EQ(c.pool, models::sentence_pool::cls);
    EXPECT_FALSE(c.normalize);
    EXPECT_EQ(c.max_seq_length, 5);
    write(root / "sentence_bert_config.json", R"({"max_seq_length": 7})");
    EXPECT_THROW(models::read_sentence_encoder_config(root.string()), omni::value_error);  // past max_position_embeddings
    write(root / "sentence_bert_config.json", R"({"max_seq_length": 5})");
    write(root / "config.json", std::string(config).replace(config.find("\"gelu\""), 6, "\"mish\""));
    EXPECT_THROW(models::read_sentence_encoder_config(root.string()), omni::value_error);
    write(root / "config.json", "{\"vocab_size\": 20,");
    EXPECT_THROW(models::read_sentence_encoder_config(root.string()), omni::io_error);
    std::filesystem::remove_all(root);
}

TEST(Json, ValuesEscapesAndErrors) {
    const auto v = omni::json::parse(R"({"a": [1, -2.5e1, true, null], "s": "x\"\u00e9\ud83d\ude00\n", "o": {"k": false}})");
    EXPECT_EQ(v.find("a")->items.size(), 4u);
    EXPECT_DOUBLE_EQ(v.find("a")->items[1].number, -25.0);
    EXPECT_EQ(v.find("s")->string, "x\"\xc3\xa9\xf0\x9f\x98\x80\n");
    EXPECT_EQ(omni::json::get_bool(*v.find("o"), "k", "t"), false);
    EXPECT_EQ(omni::json::get_bool(v, "missing", "t"), std::nullopt);
    EXPECT_THROW(omni::json::get_int(v, "s", "t"), omni::io_error);
    for (const char* bad : {"", "{", "{\"a\" 1}", "[1,]", "{\"a\": tru}", "\"\\q\"", "1 2", "[01x]"})
        EXPECT_THROW(omni::json::parse(bad), omni::io_error) << bad;
    EXPECT_THROW(omni::json::parse(std::string(100, '[') + std::string(100, ']')), omni::io_error);  // nesting depth
}

TEST(WordPieceCase, CasedAndUncasedFromTokenizerConfig) {
    const std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Hello", "hello", ",", "World", "world",
                                            "!", "Café", "cafe", "naïve", "##s", "中", "文", "e\xcc\x81"};
    const std::string text = "Hello, World! Café na\xc3\xafve Hel\x01lo 中文";
    const WordPiece uncased(vocab);  // the default: lower-case, strip accents
    EXPECT_EQ(uncased.tokenize(text), (std::vector<std::int64_t>{6, 7, 9, 10, 12, 1, 6, 15, 16}));
    WordPieceOptions o;
    o.lowercase = false;
    const WordPiece cased(vocab, o);
    EXPECT_EQ(cased.tokenize(text), (std::vector<std::int64_t>{5, 7, 8, 10, 11, 13, 5, 15, 16}));
    EXPECT_EQ(cased.tokenize("e\xcc\x81"), (std::vector<std::int64_t>{17}));  // a combining mark kept, not composed
    o.tokenize_chinese_chars = false;
    EXPECT_EQ(WordPiece(vocab, o).tokenize("中文"), (std::vector<std::int64_t>{1}));  // one word, no "##文"

    const auto root = std::filesystem::temp_directory_path() / "omni_wordpiece_case_test";
    std::filesystem::remove_all(root);
    std::string lines;
    for (const auto& t : vocab) lines += t + "\n";
    write(root / "vocab.txt", lines);
    write(root / "tokenizer_config.json", R"({"do_lower_case": false, "strip_accents": null, "tokenizer_class": "BertTokenizer"})");
    EXPECT_FALSE(WordPiece::from_pretrained(root.string()).options().lowercase);
    EXPECT_EQ(WordPiece::from_pretrained(root.string()).tokenize(text), cased.tokenize(text));
    write(root / "tokenizer_config.json", R"({"do_lower_case": true})");
    EXPECT_EQ(WordPiece::from_pretrained(root.string()).tokenize(text), uncased.tokenize(text));
    write(root / "tokenizer_config.json", R"({"do_lower_case": false, "strip_accents": true})");
    EXPECT_THROW(WordPiece::from_pretrained(root.string()), omni::value_error);  // accents stripped, case kept: not implemented
    write(root / "tokenizer_config.json", R"({"do_lower_case": "yes"})");
    EXPECT_THROW(WordPiece::from_pretrained(root.string()), omni::io_error);
    std::filesystem::remove(root / "tokenizer_config.json");
    EXPECT_TRUE(WordPiece::from_pretrained(root.string()).options().lowercase);  // no file: BertTokenizer's defaults
    std::filesystem::remove_all(root);
}

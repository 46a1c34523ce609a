// models::SentenceTransformer on the real all-MiniLM-L6-v2 against sentence-transformers, and
// omni's WordPiece against transformers' BertTokenizerFast (uncased from the model's
// tokenizer_config.json, and cased). tests/parity/bert_reference.py writes the references into
// $OMNI_BERT_PARITY_DIR (its docstring gives the files); ctest runs it first in the Hugging Face
// environment. Token ids must be equal; every embedding within 1e-4 (max abs) of the reference.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "omni/backend/cpu.hpp"
#include "omni/models/sentence_encoder.hpp"

#include "parity_case.hpp"

using omni::data::WordPiece;
using Ids = std::vector<std::int64_t>;

namespace {
std::string dir() { return omni::parity::case_dir("OMNI_BERT_PARITY_DIR", "bert_parity"); }
std::string model_dir() { return dir() + "/model"; }

std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out.push_back(s[i]);
            continue;
        }
        switch (s[++i]) {
            case 't': out.push_back('\t'); break;
            case 'n': out.push_back('\n'); break;
            case 'r': out.push_back('\r'); break;
            case 'x':
                out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
                i += 2;
                break;
            default: out.push_back(s[i]);  // "\\"
        }
    }
    return out;
}

std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("missing " + path + ": run tests/parity/bert_reference.py first");
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

std::vector<std::string> sentences() {
    std::vector<std::string> out;
    for (const auto& l : lines(dir() + "/sentences.txt")) out.push_back(unescape(l));
    return out;
}
}  // namespace

TEST(BertParity, WordPieceIdsEqualTransformers) {
    const WordPiece uncased = WordPiece::from_pretrained(model_dir());  // do_lower_case from tokenizer_config.json
    ASSERT_TRUE(uncased.options().lowercase);
    omni::data::WordPieceOptions o;
    o.lowercase = false;
    const WordPiece cased = WordPiece::from_file(model_dir() + "/vocab.txt", o);
    o.tokenize_chinese_chars = false;
    const WordPiece nocjk = WordPiece::from_file(model_dir() + "/vocab.txt", o);
    std::map<std::string, int> checked, failed;
    for (const std::string& l : lines(dir() + "/tokens.tsv")) {
        const auto t1 = l.find('\t'), t2 = l.rfind('\t');
        const std::string mode = l.substr(0, t1), text = unescape(std::string_view(l).substr(t1 + 1, t2 - t1 - 1));
        Ids want;
        std::istringstream ids(l.substr(t2 + 1));
        for (std::int64_t x; ids >> x;) want.push_back(x);
        const WordPiece& wp = mode == "uncased" ? uncased : mode == "cased" ? cased : nocjk;
        const auto e = wp.encode(text, 256);
        const Ids got(e.ids.begin(), e.ids.begin() + std::count(e.attention_mask.begin(), e.attention_mask.end(), 1));
        ++checked[mode];
        if (got != want && ++failed[mode] <= 5) ADD_FAILURE() << mode << ": " << l.substr(t1 + 1, 200);
    }
    for (const auto& [mode, n] : checked) {
        EXPECT_EQ(failed[mode], 0) << mode;
        std::cout << mode << ": " << n << " texts, " << failed[mode] << " differ\n";
    }
    EXPECT_GE(checked["cased"], 6000);
    EXPECT_GE(checked["uncased"], 50);
}

TEST(BertParity, AllMiniLmL6V2EmbeddingsMatchSentenceTransformers) {
    const auto texts = sentences();
    ASSERT_GE(texts.size(), 50u);
    omni::set_num_threads(2);
    const auto st = omni::models::SentenceTransformer<omni::cpu>::from_pretrained(model_dir());
    EXPECT_EQ(st.model.cfg.pool, omni::models::sentence_pool::mean);
    EXPECT_TRUE(st.model.cfg.normalize);
    EXPECT_EQ(st.model.cfg.max_seq_length, 256);
    EXPECT_EQ(omni::nn::parameter_count(const_cast<omni::models::SentenceEncoder<omni::cpu>&>(st.model)),
              omni::nn::minilm_l6_h384.parameter_count());
    const omni::Tensor<omni::cpu> got = st.encode(texts, 32);
    const auto want = omni::io::read_safetensors(dir() + "/embeddings.safetensors").at("embeddings");
    ASSERT_EQ(got.shape(), want.shape());
    const auto a = got.to_vector<double>(), b = want.to_vector<double>();
    const std::int64_t d = got.shape()[1];
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double e = std::abs(a[i] - b[i]);
        EXPECT_LE(e, 1e-4) << "sentence " << i / d << " dim " << i % d << ": " << texts[i / d].substr(0, 80);
        worst = std::max(worst, e);
    }
    std::cout << texts.size() << " sentences, max abs error " << worst << "\n";
}

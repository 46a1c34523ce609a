// omni's WordPiece against Hugging Face tokenizers, token for token. The fixture
// (tests/data/text.cmake) installs tokenizers and the uncased BERT vocab with scripts/text_deps.sh
// and runs tests/parity/wordpiece_reference.py, which writes $OMNI_TEXT_PARITY_DIR/vocab.txt and
// wordpiece_cases.tsv (its docstring gives the format). Every case must agree on the full ids,
// the ids and mask truncated and padded to 16, and the normalised words.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "omni/data/text/wordpiece.hpp"

using omni::data::WordPiece;
using Ids = std::vector<std::int64_t>;

namespace {
std::string dir() {
    const char* d = std::getenv("OMNI_TEXT_PARITY_DIR");
    return d ? d : "text";
}

struct Case {
    std::string kind, text;
    Ids ids, ids16, mask16;
    std::vector<std::string> words;
    int line;
};

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

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, sep)) out.push_back(cur);
    if (!s.empty() && s.back() == sep) out.emplace_back();
    return out;
}

Ids numbers(const std::string& s) {
    Ids out;
    std::istringstream in(s);
    for (std::int64_t v; in >> v;) out.push_back(v);
    return out;
}

const std::vector<Case>& cases() {
    static const std::vector<Case> all = [] {
        const std::string path = dir() + "/wordpiece_cases.tsv";
        std::ifstream in(path, std::ios::binary);
        if (!in) throw std::runtime_error("missing " + path + ": run tests/parity/wordpiece_reference.py first");
        std::vector<Case> out;
        std::string line;
        for (int n = 1; std::getline(in, line); ++n) {
            const auto f = split(line, '\t');
            if (f.size() != 6) throw std::runtime_error(path + ":" + std::to_string(n) + ": expected 6 fields");
            Case c{f[0], unescape(f[1]), numbers(f[2]), numbers(f[3]), numbers(f[4]), {}, n};
            for (const auto& w : split(unescape(f[5]), ' ')) c.words.push_back(w);
            if (f[5].empty()) c.words.clear();
            out.push_back(std::move(c));
        }
        return out;
    }();
    return all;
}

const WordPiece& tokenizer() {
    static const WordPiece wp = WordPiece::from_file(dir() + "/vocab.txt");
    return wp;
}

std::string show(const Ids& v) {
    std::string s;
    for (const auto x : v) s += std::to_string(x) + " ";
    return s;
}

// Checks every case of one kind; prints the count that agree and the first few that do not.
void check_kind(const std::string& kind) {
    int total = 0, bad = 0;
    for (const Case& c : cases()) {
        if (c.kind != kind) continue;
        ++total;
        Ids ids = {tokenizer().cls_id()};
        for (const auto id : tokenizer().tokenize(c.text)) ids.push_back(id);
        ids.push_back(tokenizer().sep_id());
        const auto e = tokenizer().encode(c.text, 16);
        const Ids mask(e.attention_mask.begin(), e.attention_mask.end());
        const auto words = omni::data::unicode::basic_tokenize(c.text);
        if (ids == c.ids && e.ids == c.ids16 && mask == c.mask16 && words == c.words) continue;
        if (++bad <= 5)
            ADD_FAILURE() << kind << " case at line " << c.line << ": " << c.text << "\n  omni: " << show(ids)
                          << "\n  hf:   " << show(c.ids) << "\n  omni words: " << words.size()
                          << ", hf words: " << c.words.size();
    }
    EXPECT_GT(total, 0) << "no " << kind << " cases";
    EXPECT_EQ(bad, 0);
    std::printf("wordpiece parity, %s: %d of %d cases agree with tokenizers\n", kind.c_str(), total - bad, total);
}
}  // namespace

TEST(WordPieceParity, WordNetGlosses) { check_kind("gloss"); }
TEST(WordPieceParity, HardCases) { check_kind("hard"); }
TEST(WordPieceParity, LongTexts) { check_kind("long"); }
TEST(WordPieceParity, EveryCodePoint) { check_kind("sweep"); }

TEST(WordPieceParity, BatchEqualsRows) {
    std::vector<std::string> texts;
    Ids expect;
    for (const Case& c : cases()) {
        texts.push_back(c.text);
        expect.insert(expect.end(), c.ids16.begin(), c.ids16.end());
    }
    const auto b = tokenizer().encode_batch(texts, 16);
    EXPECT_EQ(b.ids.to_vector<std::int64_t>(), expect);
}

TEST(WordPieceParity, StandardSpecialIds) {
    EXPECT_EQ(tokenizer().vocab_size(), 30522);
    EXPECT_EQ(tokenizer().pad_id(), 0);
    EXPECT_EQ(tokenizer().unk_id(), 100);
    EXPECT_EQ(tokenizer().cls_id(), 101);
    EXPECT_EQ(tokenizer().sep_id(), 102);
    EXPECT_EQ(tokenizer().mask_id(), 103);
}

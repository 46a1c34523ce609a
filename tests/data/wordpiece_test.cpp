// WordPiece and the Omni-C text views on a small hand-written vocabulary (no download): greedy
// longest match, "##" continuations, the [UNK] rules, BERT's normalisation and splitting,
// padding, truncation and mask, batches, errors, and the views' rates and determinism.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "omni/data/text/augment.hpp"
#include "omni/data/text/wordpiece.hpp"

using omni::data::WordPiece;
using Ids = std::vector<std::int64_t>;
using Strings = std::vector<std::string>;
using namespace std::string_literals;

namespace {
const Strings vocab_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "want", "##want",
                              "##ed", "wa", "runn", "##ing", ",", ".", "!", "[", "]", "mask", "cafe", "naive",
                              "a", "##a", "中", "文", "hello", "world", "angstrom", "istanbul", "##s", "1", "##0", "##,"};

const WordPiece& vocab() {
    static const WordPiece wp(vocab_tokens);
    return wp;
}

Strings words(std::string_view text) { return omni::data::unicode::basic_tokenize(text); }

std::string temp_file(const std::string& name, const std::string& content) {
    const auto path = std::filesystem::temp_directory_path() / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
}

template <class F> std::string error_of(F&& f) {
    try {
        f();
    } catch (const omni::error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST(WordPiece, GreedyLongestMatchWithContinuations) {
    EXPECT_EQ(vocab().tokens("unwanted running"), (Strings{"un", "##want", "##ed", "runn", "##ing"}));
    EXPECT_EQ(vocab().tokens("unaffable"), (Strings{"un", "##aff", "##able"}));
    // "want" beats the shorter "wa"; a continuation never matches a word-initial entry.
    EXPECT_EQ(vocab().tokens("want wa"), (Strings{"want", "wa"}));
    EXPECT_EQ(vocab().tokens("wantwant"), (Strings{"want", "##want"}));
    EXPECT_EQ(vocab().tokenize("want"), (Ids{8}));
}

TEST(WordPiece, UnknownRules) {
    // One unmatched piece makes the whole word [UNK], not a partial split.
    EXPECT_EQ(vocab().tokens("wantx hello"), (Strings{"[UNK]", "hello"}));
    EXPECT_EQ(vocab().tokens("xyz"), (Strings{"[UNK]"}));
    // 100 code points still split; 101 is one [UNK], even though the pieces exist.
    EXPECT_EQ(vocab().tokenize(std::string(100, 'a')).size(), 100u);
    EXPECT_EQ(vocab().tokens(std::string(101, 'a')), (Strings{"[UNK]"}));
    // The limit counts code points, not bytes: 60 two-byte letters are 60.
    std::string accents;
    for (int i = 0; i < 60; ++i) accents += "\xc3\xa1";  // á, which normalises to a
    EXPECT_EQ(vocab().tokenize(accents).size(), 60u);
}

TEST(WordPiece, NormalisesLikeBert) {
    EXPECT_EQ(words("Café NAÏVE Ångström"), (Strings{"cafe", "naive", "angstrom"}));
    EXPECT_EQ(vocab().tokens("Café NAÏVE Ångström"), (Strings{"cafe", "naive", "angstrom"}));
    EXPECT_EQ(words("\xc4\xb0stanbul"), (Strings{"istanbul"}));  // U+0130: accent stripped, then lower-cased
    EXPECT_EQ(words("e\xcc\x81"), (Strings{"e"}));               // a combining acute alone is dropped
    EXPECT_EQ(words("\xea\xb0\x81"), (Strings{"\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8"}));  // 각 -> jamo (NFD)
    EXPECT_EQ(words("\xce\xa3\xce\x91"), (Strings{"\xcf\x83\xce\xb1"}));                 // ΣΑ -> σα, no final sigma
    // Whitespace of every kind separates; controls, NUL and U+FFFD vanish without separating.
    EXPECT_EQ(words("hel\x01lo\xc2\xa0\t\nwor\0ld\xef\xbf\xbd"s), (Strings{"hello", "world"}));
    EXPECT_EQ(words("  \t\n "), Strings{});
    EXPECT_EQ(words(""), Strings{});
    EXPECT_EQ(words("\xff\xfe ok \xe2\x82"), (Strings{"ok"}));  // malformed UTF-8 is dropped
}

TEST(WordPiece, SplitsPunctuationAndCjk) {
    EXPECT_EQ(words("hello,world!!"), (Strings{"hello", ",", "world", "!", "!"}));
    EXPECT_EQ(words("a$b`c~d"), (Strings{"a", "$", "b", "`", "c", "~", "d"}));  // ASCII symbols count as punctuation
    EXPECT_EQ(words("x\xe2\x80\x94y\xc2\xbfz"), (Strings{"x", "\xe2\x80\x94", "y", "\xc2\xbf", "z"}));  // — and ¿ (P*)
    EXPECT_EQ(words("1,000.5"), (Strings{"1", ",", "000", ".", "5"}));
    EXPECT_EQ(vocab().tokens("hello\xe4\xb8\xad\xe6\x96\x87world"), (Strings{"hello", "中", "文", "world"}));
}

TEST(WordPiece, LiteralSpecialTokens) {
    EXPECT_EQ(vocab().tokens("a[MASK]a"), (Strings{"a", "[MASK]", "a"}));
    EXPECT_EQ(vocab().tokens("[CLS] [SEP][PAD] [UNK]"), (Strings{"[CLS]", "[SEP]", "[PAD]", "[UNK]"}));
    EXPECT_EQ(vocab().tokens("[mask] [MASK ]"), (Strings{"[", "mask", "]", "[", "mask", "]"}));
    const WordPiece plain(vocab_tokens, {.match_special_tokens = false});
    EXPECT_EQ(plain.tokens("[MASK]"), (Strings{"[", "mask", "]"}));
}

TEST(WordPiece, EncodePadsTruncatesAndMasks) {
    const auto e = vocab().encode("hello world", 6);
    EXPECT_EQ(e.ids, (Ids{2, 26, 27, 3, 0, 0}));
    EXPECT_EQ(e.attention_mask, (std::vector<std::uint8_t>{1, 1, 1, 1, 0, 0}));
    // Truncation drops tokens and keeps [SEP] last.
    EXPECT_EQ(vocab().encode("hello world hello", 4).ids, (Ids{2, 26, 27, 3}));
    EXPECT_EQ(vocab().encode("", 3).ids, (Ids{2, 3, 0}));
    EXPECT_EQ(vocab().encode("hello", 2).ids, (Ids{2, 3}));
    EXPECT_EQ(vocab().encode("hello").ids.size(), 256u);
}

TEST(WordPiece, BatchMatchesRows) {
    const Strings texts = {"hello world", "unwanted", "", "Café, naïve!"};
    const auto b = vocab().encode_batch(texts, 8);
    ASSERT_EQ(b.ids.shape(), (omni::Shape{4, 8}));
    EXPECT_EQ(b.ids.type(), omni::dtype::i64);
    EXPECT_EQ(b.attention_mask.type(), omni::dtype::b8);
    const auto ids = b.ids.to_vector<std::int64_t>();
    const auto mask = b.attention_mask.to(omni::dtype::i64).to_vector<std::int64_t>();
    for (std::size_t r = 0; r < texts.size(); ++r) {
        const auto e = vocab().encode(texts[r], 8);
        for (std::size_t j = 0; j < 8; ++j) {
            EXPECT_EQ(ids[r * 8 + j], e.ids[j]) << r << "," << j;
            EXPECT_EQ(mask[r * 8 + j], e.attention_mask[j]) << r << "," << j;
        }
    }
    EXPECT_EQ(vocab().encode_batch(Strings{}, 8).ids.shape(), (omni::Shape{0, 8}));
}

TEST(WordPiece, DecodeForDebugging) {
    const auto e = vocab().encode("unwanted running", 10);
    EXPECT_EQ(vocab().decode(e.ids), "unwanted running");
    EXPECT_EQ(vocab().decode(e.ids, false), "[CLS] unwanted running [SEP] [PAD] [PAD] [PAD]");
}

TEST(WordPiece, Errors) {
    EXPECT_EQ(error_of([] { WordPiece::from_file("/nonexistent/vocab.txt"); }),
              "io_error: wordpiece.from_file: expected a readable vocab file, got /nonexistent/vocab.txt (cannot open)");
    const std::string empty = temp_file("omni_empty_vocab.txt", "");
    EXPECT_EQ(error_of([&] { WordPiece::from_file(empty); }),
              "io_error: wordpiece.from_file: expected one token per line, got an empty file " + empty);
    const std::string no_unk = temp_file("omni_no_unk_vocab.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n");
    EXPECT_EQ(error_of([&] { WordPiece::from_file(no_unk); }),
              "value_error: wordpiece.from_file: expected [UNK] in the vocabulary, got none");
    EXPECT_EQ(error_of([] { vocab().encode("x", 1); }),
              "value_error: wordpiece.encode: expected max_len >= 2 (room for [CLS] and [SEP]), got 1");
    EXPECT_EQ(error_of([] { vocab().id_to_token(99); }),
              "index_error: wordpiece.id_to_token: expected an id in [0, 34), got 99");
    // A file loads like the in-memory list; CRLF line ends are trimmed.
    const std::string crlf = temp_file("omni_crlf_vocab.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n");
    EXPECT_EQ(WordPiece::from_file(crlf).tokens("hello"), (Strings{"hello"}));
    EXPECT_EQ(WordPiece::from_file(crlf).mask_id(), -1);
}

// ---- the Omni-C views ----------------------------------------------------------------------

namespace {
namespace od = omni::data;

// A [CLS] t... [SEP] row of distinct tokens padded to 256, like the tokeniser's output.
Ids row(int n) {
    Ids r(256, 0);
    for (int i = 0; i < n; ++i) r[static_cast<std::size_t>(i)] = 1000 + i;
    return r;
}

// Scripted uniforms, to pin the branch logic exactly.
struct Script {
    std::vector<double> u;
    std::size_t i = 0;
    double operator()() { return u.at(i++); }
};
}  // namespace

TEST(TextViews, ViewOneBranches) {
    const Ids in = {7, 8, 9, 10, 0, 0};
    const od::TextAugmentOptions o{.seq_len = 6};
    // 7 masked, 8 deleted (0.15 <= u < 0.25), 9 and 10 kept; pads draw nothing and stay.
    EXPECT_EQ(od::augment_text(in, Script{{0.1, 0.2, 0.25, 0.9}}, o), (Ids{103, 9, 10, 0, 0, 0}));
}

TEST(TextViews, ViewTwoBranchesAndQuirk) {
    const od::TextAugmentOptions o{.seq_len = 6};
    // Slot 0 swaps (band 0.345..0.395, accept 0.1 < 0.5) so 2 comes first and slot 1 is consumed;
    // consumed slot 1 then draws "mask" and still emits [MASK]; slot 2 keeps.
    EXPECT_EQ(od::augment_text_strong(Ids{1, 2, 3, 0}, Script{{0.36, 0.1, 0.1, 0.9}}, o), (Ids{2, 1, 103, 3, 0, 0}));
    // A consumed slot that keeps or deletes emits nothing.
    EXPECT_EQ(od::augment_text_strong(Ids{1, 2, 3}, Script{{0.36, 0.1, 0.9, 0.9}}, o), (Ids{2, 1, 3, 0, 0, 0}));
    // A rejected swap keeps the token; the last token draws no acceptance value.
    EXPECT_EQ(od::augment_text_strong(Ids{1, 2}, Script{{0.36, 0.7, 0.36}}, o), (Ids{1, 2, 0, 0, 0, 0}));
    // A consumed slot that swaps forward moves its next token up and adds nothing of its own.
    EXPECT_EQ(od::augment_text_strong(Ids{1, 2, 3}, Script{{0.36, 0.1, 0.36, 0.1, 0.9}}, o), (Ids{2, 1, 3, 0, 0, 0}));
    // 0.23 deletes in view 2 (mask band ends at 0.225); pads anywhere are removed first.
    EXPECT_EQ(od::augment_text_strong(Ids{1, 0, 2}, Script{{0.23, 0.5}}, o), (Ids{2, 0, 0, 0, 0, 0}));
}

TEST(TextViews, RatesMatchTheReference) {
    omni::Generator gen(5);
    const Ids in = row(254);
    std::int64_t n = 0, masks1 = 0, kept1 = 0, masks2 = 0, kept2 = 0, swaps2 = 0;
    for (int s = 0; s < 400; ++s) {
        const Ids v1 = od::augment_text(in, gen), v2 = od::augment_text_strong(in, gen);
        ASSERT_EQ(v1.size(), 256u);
        ASSERT_EQ(v2.size(), 256u);
        n += 254;
        for (const auto t : v1) masks1 += t == 103, kept1 += t >= 1000;
        for (std::size_t j = 0; j < v2.size(); ++j) {
            masks2 += v2[j] == 103, kept2 += v2[j] >= 1000;
            swaps2 += j + 1 < v2.size() && v2[j] >= 1000 && v2[j + 1] == v2[j] - 1;
        }
    }
    EXPECT_NEAR(double(masks1) / n, 0.15, 0.01);
    EXPECT_NEAR(double(kept1) / n, 0.75, 0.01);
    // Simulating the reference Python function gives 0.2256, 0.6636 and 0.0241 for these rows.
    EXPECT_NEAR(double(masks2) / n, 0.2256, 0.01);
    EXPECT_NEAR(double(kept2) / n, 0.6636, 0.01);
    EXPECT_NEAR(double(swaps2) / n, 0.0241, 0.005);
}

TEST(TextViews, DeterministicPerSeed) {
    const Ids in = row(100);
    omni::Generator a(11), b(11), c(12);
    const Ids a1 = od::augment_text(in, a), a2 = od::augment_text_strong(in, a);
    EXPECT_EQ(a1, od::augment_text(in, b));
    EXPECT_EQ(a2, od::augment_text_strong(in, b));
    EXPECT_NE(a1, od::augment_text(in, c));
    EXPECT_NE(a1, od::augment_text(in, a));  // the next call reads a fresh stream
    // Pads stay at the end, and view 1 leaves them untouched.
    EXPECT_EQ(a1.back(), 0);
    EXPECT_EQ(a2.back(), 0);
}

TEST(TextViews, BatchedRowsFollowTheStream) {
    Ids flat;
    for (int r = 0; r < 3; ++r) {
        const Ids x = row(50 + 10 * r);
        flat.insert(flat.end(), x.begin(), x.end());
    }
    const auto ids = omni::Tensor<omni::cpu>::from_data(flat, omni::Shape{3, 256});
    omni::Generator g1(3), g2(3);
    const auto v = od::augment_text_strong(ids, g1).to_vector<std::int64_t>();
    for (int r = 0; r < 3; ++r) {
        const Ids expect = od::augment_text_strong(std::span<const std::int64_t>(flat.data() + r * 256, 256), g2);
        EXPECT_EQ(Ids(v.begin() + r * 256, v.begin() + (r + 1) * 256), expect) << r;
    }
    EXPECT_EQ(od::augment_text(ids, g1, {.seq_len = 300}).shape(), (omni::Shape{3, 300}));
    EXPECT_EQ(error_of([&] { od::augment_text(omni::Tensor<omni::cpu>::zeros({4}), g1); }),
              "shape_error: augment_text: expected token ids [B, L], got [4]");
    EXPECT_EQ(error_of([&] { od::augment_text(omni::Tensor<omni::cpu>::zeros({2, 4}), g1); }),
              "dtype_error: augment_text: expected int64 token ids, got float32");
}

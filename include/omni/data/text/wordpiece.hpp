#pragma once
// BERT WordPiece tokeniser: text -> token ids [CLS] ... [SEP] padded with [PAD] to a fixed length,
// with the attention mask; a batch becomes int64 ids [B, L] and a bool mask [B, L]. Uncased by
// default, equal to Hugging Face tokenizers' BertWordPieceTokenizer(vocab, lowercase=True), which
// tests/data/wordpiece_parity_test.cpp checks token for token; cased (lowercase = false, no accent
// stripping: unicode_cased.hpp) as a tokenizer_config.json asks, checked by
// tests/parity/bert_parity_test.cpp against transformers' BertTokenizerFast:
//  - the special tokens of the vocabulary ([PAD] [UNK] [CLS] [SEP] [MASK]) written literally in
//    the text become that token (case-sensitive, anywhere, even inside a word);
//  - the rest goes through BERT's basic tokeniser (unicode.hpp), then each word through greedy
//    longest-match-first WordPiece with "##" continuations; a word of more than 100 code points,
//    or one with a piece no vocabulary entry matches, becomes a single [UNK].
// Where Hugging Face's two tokenisers differ this follows `tokenizers` (Rust): it lower-cases one
// character at a time, so "ΟΔΟΣ" gives "οδοσ" where transformers' Python BertTokenizer applies
// the final-sigma rule ("οδος"), and it uses the Unicode tables tokenizers was built with.
// ref: google-research/bert tokenization.py; huggingface/tokenizers models/wordpiece.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "omni/backend/cpu/parallel.hpp"
#include "omni/core/error.hpp"
#include "omni/core/json.hpp"
#include "omni/core/linkage.hpp"
#include "omni/data/text/unicode.hpp"
#include "omni/data/text/unicode_cased.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::data {

/// How WordPiece splits words and normalises text (BERT's rules, Hugging Face's option names).
struct WordPieceOptions {
    std::size_t max_input_chars_per_word = 100;  // longer words become one [UNK] (BERT's rule)
    std::string continuation_prefix = "##";
    bool match_special_tokens = true;  // "[MASK]" in the text is the mask token, as in tokenizers
    // BertNormalizer's switches under their tokenizer_config.json names (read_tokenizer_config).
    // Two combinations exist in practice and are supported: uncased (lower-case and strip accents,
    // the default) and cased (neither); strip_accents unset follows lowercase, as in HF.
    bool lowercase = true;               // do_lower_case
    std::optional<bool> strip_accents = std::nullopt;  // strip_accents (null: = lowercase)
    bool tokenize_chinese_chars = true;  // each CJK ideograph a word of its own
};

// Options from a Hugging Face tokenizer_config.json: do_lower_case, strip_accents and
// tokenize_chinese_chars where the file has them (null or absent: base's value; HF's
// BertTokenizer defaults are base's defaults). io_error naming the file on a bad value.
inline WordPieceOptions read_tokenizer_config(const std::string& path, WordPieceOptions base = {}) {
    const json::Value cfg = json::read_file(path);
    if (cfg.type != json::kind::object) throw io_error("read_tokenizer_config", path + ": expected a JSON object, got another value");
    if (const auto v = json::get_bool(cfg, "do_lower_case", path)) base.lowercase = *v;
    if (cfg.find("strip_accents")) base.strip_accents = json::get_bool(cfg, "strip_accents", path);
    if (const auto v = json::get_bool(cfg, "tokenize_chinese_chars", path)) base.tokenize_chinese_chars = *v;
    return base;
}

/// One encoded text: ids of length max_len and mask (1 for [CLS], the tokens and [SEP], 0 for pads).
struct Encoding {
    std::vector<std::int64_t> ids;
    std::vector<std::uint8_t> attention_mask;
};

/// A batch: ids int64 [B, L], attention_mask bool [B, L].
struct BatchEncoding {
    Tensor<cpu> ids;
    Tensor<cpu> attention_mask;
};

/// BERT's WordPiece tokeniser over a vocab.txt: text -> [CLS] ids [SEP], padded, with the mask.
/// Immutable once built: every method is const and safe to call from several threads at once.
class WordPiece {
public:
    // Reads a vocab.txt: one token per line, id = line number (0-based), trailing ASCII whitespace
    // trimmed, a later duplicate overriding an earlier one (as tokenizers' reader does).
    static WordPiece from_file(const std::string& path, WordPieceOptions options = {});

    // A Hugging Face tokenizer folder: dir/vocab.txt, with options from dir/tokenizer_config.json
    // when it exists (read_tokenizer_config over base), base alone otherwise.
    static WordPiece from_pretrained(const std::string& dir, WordPieceOptions base = {}) {
        const std::string config = dir + "/tokenizer_config.json";
        if (std::ifstream(config).good()) base = read_tokenizer_config(config, base);
        return from_file(dir + "/vocab.txt", std::move(base));
    }

    // From tokens in id order (tests, or a vocabulary built in memory).
    explicit WordPiece(std::vector<std::string> tokens, WordPieceOptions options = {},
                       const char* op = "wordpiece");

    std::int64_t vocab_size() const { return static_cast<std::int64_t>(tokens_.size()); }
    std::int64_t unk_id() const { return unk_; }
    std::int64_t cls_id() const { return cls_; }
    std::int64_t sep_id() const { return sep_; }
    std::int64_t pad_id() const { return pad_; }
    std::int64_t mask_id() const { return mask_; }  // -1 when the vocabulary has no [MASK]
    const WordPieceOptions& options() const { return options_; }

    // The id of a vocabulary entry exactly as written ("##ing" for a continuation), or -1.
    std::int64_t token_to_id(std::string_view token) const {
        return vocab_.find(token, false);
    }
    const std::string& id_to_token(std::int64_t id) const {
        if (id < 0 || id >= vocab_size())
            throw index_error("wordpiece.id_to_token", "expected an id in [0, " + std::to_string(vocab_size()) +
                                                           "), got " + std::to_string(id));
        return tokens_[static_cast<std::size_t>(id)];
    }

    // Token ids of text, without [CLS]/[SEP], untruncated.
    std::vector<std::int64_t> tokenize(std::string_view text) const;

    // Token strings, for reading what the tokeniser did.
    std::vector<std::string> tokens(std::string_view text) const;

    // [CLS] tokens [SEP], truncated to max_len by dropping tokens (so [SEP] stays last) and padded
    // with [PAD] to exactly max_len.
    Encoding encode(std::string_view text, std::int64_t max_len = 256) const;

    // Every text encoded as by encode(); rows split across omni::num_threads() threads.
    BatchEncoding encode_batch(std::span<const std::string> texts, std::int64_t max_len = 256) const;

    // Text back from ids, for debugging: pieces joined by spaces, "##" pieces glued to the one
    // before, special tokens left out unless asked for. Not an inverse: case, accents and spacing
    // around punctuation are gone.
    std::string decode(std::span<const std::int64_t> ids, bool skip_special_tokens = true) const;

private:
    // Open-addressing table over both kinds of piece, probed a few times per word by the greedy
    // search; node-based maps (std::unordered_map) cost a cache miss per step and were most of
    // encode()'s time.
    class PieceTable {
    public:
        void insert(std::string_view key, bool continuation, std::int32_t id) {
            if (4 * (entries_.size() + 1) > 3 * slots_.size()) grow();
            const std::uint64_t h = hash(key, continuation);
            Slot& s = slots_[index(key, continuation, h)];
            if (s.entry < 0) {
                s = {static_cast<std::uint32_t>(h >> 32), static_cast<std::int32_t>(entries_.size())};
                entries_.push_back({static_cast<std::uint32_t>(pool_.size()), static_cast<std::uint32_t>(key.size()), id, continuation});
                pool_.append(key);
            } else {
                entries_[static_cast<std::size_t>(s.entry)].id = id;  // a later duplicate line wins, as in tokenizers' reader
            }
        }
        std::int32_t find(std::string_view key, bool continuation) const {
            if (slots_.empty()) return -1;
            const Slot& s = slots_[index(key, continuation, hash(key, continuation))];
            return s.entry < 0 ? -1 : entries_[static_cast<std::size_t>(s.entry)].id;
        }

    private:
        // 8-byte slots (a hash tag and an entry index) keep the table of the 30k-token BERT vocab
        // at 512 KiB, inside L2, and most probes that miss never touch the key bytes.
        struct Slot {
            std::uint32_t tag = 0;
            std::int32_t entry = -1;
        };
        struct Entry {
            std::uint32_t offset, len;
            std::int32_t id;
            bool continuation;
        };
        static std::uint64_t hash(std::string_view k, bool continuation) {
            std::uint64_t h = (k.size() + (continuation ? 0x51ED27ull : 0)) * 0x9E3779B97F4A7C15ull, v;
            std::size_t i = 0;
            for (; i + 8 <= k.size(); i += 8) {
                std::memcpy(&v, k.data() + i, 8);
                h = (h ^ v) * 0xFF51AFD7ED558CCDull;
                h ^= h >> 32;
            }
            v = 0;
            if (i < k.size()) std::memcpy(&v, k.data() + i, k.size() - i);
            h = (h ^ v) * 0xC4CEB9FE1A85EC53ull;
            return h ^ (h >> 29);
        }
        // The slot holding key, or the empty slot where it would go (the table is never full).
        std::size_t index(std::string_view key, bool continuation, std::uint64_t h) const {
            const std::size_t mask = slots_.size() - 1;
            const auto tag = static_cast<std::uint32_t>(h >> 32);
            for (std::size_t i = h & mask;; i = (i + 1) & mask) {
                const Slot& s = slots_[i];
                if (s.entry < 0) return i;
                if (s.tag != tag) continue;
                const Entry& e = entries_[static_cast<std::size_t>(s.entry)];
                if (e.len == key.size() && e.continuation == continuation &&
                    std::memcmp(pool_.data() + e.offset, key.data(), key.size()) == 0)
                    return i;
            }
        }
        void grow() {
            slots_.assign(std::max<std::size_t>(64, 2 * slots_.size()), Slot{});
            for (std::size_t k = 0; k < entries_.size(); ++k) {
                const Entry& e = entries_[k];
                const std::string_view key = std::string_view(pool_).substr(e.offset, e.len);
                const std::uint64_t h = hash(key, e.continuation);
                slots_[index(key, e.continuation, h)] = {static_cast<std::uint32_t>(h >> 32), static_cast<std::int32_t>(k)};
            }
        }
        std::vector<Slot> slots_;
        std::vector<Entry> entries_;
        std::string pool_;
    };
    struct Special {
        std::string text;
        std::int64_t id;
    };

    std::int64_t required(const char* token, const char* op) const {
        const std::int64_t id = token_to_id(token);
        if (id < 0) throw value_error(op, std::string("expected ") + token + " in the vocabulary, got none");
        return id;
    }
    static void check_len(std::int64_t max_len, const char* op) {
        if (max_len < 2) throw value_error(op, "expected max_len >= 2 (room for [CLS] and [SEP]), got " + std::to_string(max_len));
    }
    bool is_special(std::int64_t id) const {
        return id == unk_ || id == cls_ || id == sep_ || id == pad_ || id == mask_;
    }

    void encode_row(std::string_view text, std::int64_t max_len, std::int64_t* ids, std::uint8_t* mask,
                    std::vector<std::int64_t>& scratch, unicode::Words& words) const;

    // Splits text at literal special tokens (leftmost, then longest, on the raw bytes, as
    // tokenizers' added-vocabulary matcher does) and tokenises the pieces between.
    void tokenize_into(std::string_view text, std::vector<std::int64_t>& ids, unicode::Words& words) const;

    void tokenize_plain(std::string_view text, std::vector<std::int64_t>& ids, unicode::Words& words) const;

    // Greedy longest-match-first: at each position the longest vocabulary piece ("##"-prefixed
    // after the first), shortening one code point at a time; no match anywhere -> one [UNK].
    void wordpiece(std::string_view word, std::vector<std::int64_t>& ids) const;

    WordPieceOptions options_;
    std::vector<std::string> tokens_;
    PieceTable vocab_;  // continuations keyed without the "##", so lookups need no copy
    std::size_t longest_ = 0;
    std::int64_t unk_ = -1, cls_ = -1, sep_ = -1, pad_ = -1, mask_ = -1;
    std::vector<Special> specials_;
};

#if OMNI_LIB_DEFINE
OMNI_LIB_INLINE WordPiece WordPiece::from_file(const std::string& path, WordPieceOptions options) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("wordpiece.from_file", "expected a readable vocab file, got " + path + " (cannot open)");
    std::vector<std::string> tokens;
    std::string line;
    while (std::getline(in, line)) tokens.push_back(std::move(line));
    if (tokens.empty())
        throw io_error("wordpiece.from_file", "expected one token per line, got an empty file " + path);
    return WordPiece(std::move(tokens), std::move(options), "wordpiece.from_file");
}

OMNI_LIB_INLINE WordPiece::WordPiece(std::vector<std::string> tokens, WordPieceOptions options, const char* op) : options_(std::move(options)) {
    if (tokens.empty()) throw value_error(op, "expected a non-empty vocabulary, got 0 tokens");
    const bool strip = options_.strip_accents.value_or(options_.lowercase);
    if (strip != options_.lowercase || (options_.lowercase && !options_.tokenize_chinese_chars))
        throw value_error(op, std::string("expected uncased (lowercase, strip_accents, tokenize_chinese_chars) or cased (no lowercase, "
                                          "no strip_accents) normalisation, got lowercase ") +
                                  (options_.lowercase ? "true" : "false") + ", strip_accents " + (strip ? "true" : "false") +
                                  ", tokenize_chinese_chars " + (options_.tokenize_chinese_chars ? "true" : "false"));
    const std::string_view prefix = options_.continuation_prefix;
    for (std::size_t id = 0; id < tokens.size(); ++id) {
        std::string& t = tokens[id];
        while (!t.empty() && std::strchr(" \t\r\n\v\f", t.back())) t.pop_back();
        const auto i = static_cast<std::int32_t>(id);
        if (!prefix.empty() && t.size() > prefix.size() && t.starts_with(prefix))
            vocab_.insert(std::string_view(t).substr(prefix.size()), true, i);
        vocab_.insert(t, false, i);  // "##x" itself too, for token_to_id
        longest_ = std::max(longest_, t.size());
    }
    tokens_ = std::move(tokens);
    unk_ = required("[UNK]", op);
    cls_ = required("[CLS]", op);
    sep_ = required("[SEP]", op);
    pad_ = required("[PAD]", op);
    mask_ = token_to_id("[MASK]");
    if (options_.match_special_tokens)
        for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
            if (token_to_id(s) >= 0) specials_.push_back({s, token_to_id(s)});
}

OMNI_LIB_INLINE std::vector<std::int64_t> WordPiece::tokenize(std::string_view text) const {
    std::vector<std::int64_t> ids;
    unicode::Words words;
    tokenize_into(text, ids, words);
    return ids;
}

OMNI_LIB_INLINE std::vector<std::string> WordPiece::tokens(std::string_view text) const {
    std::vector<std::string> out;
    for (const std::int64_t id : tokenize(text)) out.push_back(tokens_[static_cast<std::size_t>(id)]);
    return out;
}

OMNI_LIB_INLINE Encoding WordPiece::encode(std::string_view text, std::int64_t max_len) const {
    check_len(max_len, "wordpiece.encode");
    Encoding e;
    e.ids.resize(static_cast<std::size_t>(max_len));
    e.attention_mask.resize(static_cast<std::size_t>(max_len));
    std::vector<std::int64_t> scratch;
    unicode::Words words;
    encode_row(text, max_len, e.ids.data(), e.attention_mask.data(), scratch, words);
    return e;
}

OMNI_LIB_INLINE BatchEncoding WordPiece::encode_batch(std::span<const std::string> texts, std::int64_t max_len) const {
    check_len(max_len, "wordpiece.encode_batch");
    const auto b = static_cast<std::int64_t>(texts.size());
    BatchEncoding out{Tensor<cpu>::empty({b, max_len}, dtype::i64), Tensor<cpu>::empty({b, max_len}, dtype::b8)};
    auto* ids = out.ids.data<std::int64_t>();
    auto* mask = static_cast<std::uint8_t*>(out.attention_mask.raw_data());  // bool is one byte, 0 or 1
    std::size_t bytes = 0;
    for (const std::string& t : texts) bytes += t.size();
    // Cost per row in rough kernel units: ~20 per input byte, so only real batches fork.
    const std::int64_t cost = 20 * static_cast<std::int64_t>(bytes / std::max<std::size_t>(texts.size(), 1) + 1);
    backend::cpu::parallel_for(b, cost, [&](std::int64_t r0, std::int64_t r1) {
        std::vector<std::int64_t> scratch;
        unicode::Words words;
        for (std::int64_t r = r0; r < r1; ++r)
            encode_row(texts[static_cast<std::size_t>(r)], max_len, ids + r * max_len, mask + r * max_len, scratch, words);
    });
    return out;
}

OMNI_LIB_INLINE std::string WordPiece::decode(std::span<const std::int64_t> ids, bool skip_special_tokens) const {
    std::string out;
    const std::string& prefix = options_.continuation_prefix;
    for (const std::int64_t id : ids) {
        const std::string& t = id_to_token(id);
        if (skip_special_tokens && is_special(id)) continue;
        if (!prefix.empty() && t.size() > prefix.size() && t.starts_with(prefix) && !out.empty()) {
            out.append(t, prefix.size());
        } else {
            if (!out.empty()) out.push_back(' ');
            out += t;
        }
    }
    return out;
}

OMNI_LIB_INLINE void WordPiece::encode_row(std::string_view text, std::int64_t max_len, std::int64_t* ids, std::uint8_t* mask,
                                           std::vector<std::int64_t>& scratch, unicode::Words& words) const {
    scratch.clear();
    tokenize_into(text, scratch, words);
    const auto n = std::min<std::int64_t>(static_cast<std::int64_t>(scratch.size()), max_len - 2);
    ids[0] = cls_;
    std::copy(scratch.begin(), scratch.begin() + n, ids + 1);
    ids[n + 1] = sep_;
    std::fill(ids + n + 2, ids + max_len, pad_);
    std::fill(mask, mask + n + 2, std::uint8_t{1});
    std::fill(mask + n + 2, mask + max_len, std::uint8_t{0});
}

OMNI_LIB_INLINE void WordPiece::tokenize_into(std::string_view text, std::vector<std::int64_t>& ids, unicode::Words& words) const {
    std::size_t begin = 0;
    for (std::size_t i = specials_.empty() ? text.size() : text.find('['); i < text.size(); i = text.find('[', i)) {
        const Special* hit = nullptr;
        for (const Special& s : specials_)
            if (text.substr(i).starts_with(s.text) && (!hit || s.text.size() > hit->text.size())) hit = &s;
        if (!hit) {
            ++i;
            continue;
        }
        tokenize_plain(text.substr(begin, i - begin), ids, words);
        ids.push_back(hit->id);
        i += hit->text.size();
        begin = i;
    }
    tokenize_plain(text.substr(begin), ids, words);
}

OMNI_LIB_INLINE void WordPiece::tokenize_plain(std::string_view text, std::vector<std::int64_t>& ids, unicode::Words& words) const {
    if (text.empty()) return;
    words.clear();
    if (options_.lowercase) unicode::basic_tokenize(text, words);
    else unicode::basic_tokenize_cased(text, words, options_.tokenize_chinese_chars);
    for (std::size_t w = 0; w < words.size(); ++w) wordpiece(words[w], ids);
}

OMNI_LIB_INLINE void WordPiece::wordpiece(std::string_view word, std::vector<std::int64_t>& ids) const {
    std::size_t chars = 0;
    for (const char c : word) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (chars > options_.max_input_chars_per_word) {
        ids.push_back(unk_);
        return;
    }
    const std::size_t first = ids.size();
    for (std::size_t start = 0; start < word.size();) {
        const bool continuation = start > 0;
        // No piece is longer than longest_ bytes, so the search starts there, on a code point boundary.
        std::size_t end = std::min(word.size(), start + longest_);
        while (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;
        std::int32_t id = -1;
        for (; end > start; --end) {
            if (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) continue;
            id = vocab_.find(word.substr(start, end - start), continuation);
            if (id >= 0) break;
        }
        if (id < 0) {
            ids.resize(first);
            ids.push_back(unk_);
            return;
        }
        ids.push_back(id);
        start = end;
    }
}
#endif

}  // namespace omni::data

#pragma once
// BERT's basic tokeniser for cased vocabularies: Hugging Face tokenizers'
// BertNormalizer(lowercase=False, strip_accents=False) + BertPreTokenizer. Without lower-casing and
// accent stripping the normaliser does no NFD, so per code point only three things remain: drop
// control characters (clean_text), turn whitespace into a word break, isolate CJK ideographs (when
// asked) and punctuation. The uncased table (unicode_tables.hpp) already knows whitespace, CJK and
// the pre-tokeniser's classes of every code point; what it cannot tell apart is a control
// character from a non-spacing mark, which the uncased normaliser drops too but a cased one keeps,
// so the control set is listed here (measured on tokenizers 0.20.3; the cased sweep of
// tests/parity/bert_reference.py checks every code point up to U+2FFFF against it).
// ref: google-research/bert tokenization.py (BasicTokenizer, do_lower_case=False).
#include <cstdint>
#include <string_view>

#include "omni/core/linkage.hpp"
#include "omni/data/text/unicode.hpp"

namespace omni::data::unicode {

#if OMNI_LIB_DEFINE
// Code points the cased normaliser drops: C0/C1 controls other than whitespace, format
// characters of tokenizers' (older) Unicode table, private use, and U+FFFD. Inclusive ranges.
inline bool cased_drop(char32_t cp) {
    static constexpr char32_t ranges[][2] = {
        {0x0, 0x8}, {0xB, 0xC}, {0xE, 0x1F}, {0x7F, 0x9F}, {0xAD, 0xAD}, {0x600, 0x605}, {0x61C, 0x61C}, {0x6DD, 0x6DD},
        {0x70F, 0x70F}, {0x180E, 0x180E}, {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064}, {0x2066, 0x206F},
        {0xE000, 0xF8FF}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB}, {0xFFFD, 0xFFFD}, {0x110BD, 0x110BD}, {0x1BCA0, 0x1BCA3},
        {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0xFFFFD}, {0x100000, 0x10FFFD}};
    for (const auto& r : ranges)
        if (cp <= r[1]) return cp >= r[0];
    return false;
}
#endif

// Appends the words of `text` to `out`, case and accents kept; CJK ideographs become words of
// their own when chinese_chars is set (tokenize_chinese_chars).
OMNI_LIB_INLINE void basic_tokenize_cased(std::string_view text, Words& out, bool chinese_chars = true)
#if OMNI_LIB_DEFINE
{
    std::size_t word_begin = out.text.size();
    auto end_word = [&] {
        if (out.text.size() > word_begin) {
            out.ends.push_back(static_cast<std::uint32_t>(out.text.size()));
            word_begin = out.text.size();
        }
    };
    for (std::size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')) {
            out.text.push_back(static_cast<char>(b));
            ++i;
            continue;
        }
        const char32_t cp = decode_utf8(text, i);
        if (cased_drop(cp)) continue;
        const std::uint8_t p = properties(cp);
        const std::uint8_t k = p & kind_mask;
        // The uncased table's punct and pre_space bits are each code point's own class, also for
        // the code points it maps or drops (marks are neither), so they hold here as they are.
        if (k == space || (p & pre_space)) {
            end_word();
        } else if ((k == cjk && chinese_chars) || (p & punct)) {
            end_word();
            append_utf8(out.text, cp);
            end_word();
        } else {
            append_utf8(out.text, cp);
        }
    }
    end_word();
}
#else
;
#endif

}  // namespace omni::data::unicode

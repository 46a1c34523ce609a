#pragma once
// BERT's basic tokeniser: UTF-8 in, normalised words out. Normalisation and pre-tokenisation
// equal Hugging Face tokenizers' BertNormalizer(lowercase) + BertPreTokenizer: drop control
// characters, NUL and U+FFFD; map whitespace to a word break; put each CJK ideograph in a word of
// its own; decompose (NFD), drop non-spacing marks, lower-case; split on whitespace and isolate
// punctuation. Per code point behaviour comes from unicode_tables.hpp, measured on tokenizers by
// scripts/gen_unicode_tables.py, because tokenizers mixes Unicode versions that no single
// database reproduces. ref: google-research/bert tokenization.py (BasicTokenizer).
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "omni/core/linkage.hpp"
#if OMNI_LIB_DEFINE  // the tables and the per code point helpers are needed where basic_tokenize is compiled
#include "omni/data/text/unicode_tables.hpp"
#endif

namespace omni::data::unicode {

inline constexpr char32_t replacement = 0xFFFD;

#if OMNI_LIB_DEFINE
// One code point from s at i (advancing i). Malformed input (stray continuation bytes, overlong
// forms, surrogates, values past U+10FFFF, truncated sequences) decodes to U+FFFD one byte at a
// time, which the normaliser then drops, as it drops U+FFFD itself.
inline char32_t decode_utf8(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    int len = 0;
    char32_t cp = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) len = 2, cp = b0 & 0x1F, min = 0x80;
    else if ((b0 & 0xF0) == 0xE0) len = 3, cp = b0 & 0x0F, min = 0x800;
    else if ((b0 & 0xF8) == 0xF0) len = 4, cp = b0 & 0x07, min = 0x10000;
    if (len == 0 || i + len > s.size()) {
        ++i;
        return replacement;
    }
    for (int k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return replacement;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return replacement;
    }
    i += len;
    return cp;
}

inline void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

namespace detail {
inline std::uint8_t property_search(char32_t cp) {
    const std::uint32_t key = (static_cast<std::uint32_t>(cp) << 8) | 0xFF;
    const auto* it = std::upper_bound(std::begin(property_runs), std::end(property_runs), key);
    return static_cast<std::uint8_t>(*(it - 1) & 0xFF);  // the first run starts at 0, so it > begin
}

// The basic multilingual plane expanded into a flat table (64 KiB, built once): text is almost
// all BMP, and a load beats a binary search over ~2,000 runs on every character.
inline const std::array<std::uint8_t, 0x10000>& bmp_properties() {
    static const auto table = [] {
        std::array<std::uint8_t, 0x10000> t{};
        for (char32_t cp = 0; cp < 0x10000; ++cp) t[cp] = property_search(cp);
        return t;
    }();
    return table;
}
}  // namespace detail

inline std::uint8_t properties(char32_t cp) {
    return cp < 0x10000 ? detail::bmp_properties()[cp] : detail::property_search(cp);
}

// Canonical combining class of a kept mark that tokenizers' NFD reorders; 0 for anything else.
inline int combining_class(char32_t cp) {
    const std::uint32_t key = static_cast<std::uint32_t>(cp) << 8;
    const auto* it = std::lower_bound(std::begin(combining_classes), std::end(combining_classes), key);
    return (it != std::end(combining_classes) && (*it >> 8) == cp) ? static_cast<int>(*it & 0xFF) : 0;
}

// Writes the normalised form of a `mapped` code point to out (at most max_mapping code points)
// and returns its length.
inline int mapping(char32_t cp, char32_t out[max_mapping]) {
    if (cp >= 'A' && cp <= 'Z') {
        out[0] = cp + 32;
        return 1;
    }
    if (cp >= 0xAC00 && cp < 0xAC00 + 11172) {  // Hangul syllable: NFD by arithmetic (Unicode ch. 3.12)
        const char32_t s = cp - 0xAC00, t = s % 28;
        out[0] = 0x1100 + s / 588;
        out[1] = 0x1161 + (s % 588) / 28;
        if (t == 0) return 2;
        out[2] = 0x11A7 + t;
        return 3;
    }
    const auto* it = std::lower_bound(std::begin(mappings), std::end(mappings), cp,
                                      [](const Mapping& m, char32_t c) { return m.from < c; });
    if (it == std::end(mappings) || it->from != cp) {
        out[0] = cp;  // not reached for table data; identity keeps a caller safe
        return 1;
    }
    int n = 0;
    while (n < max_mapping && it->to[n] != 0) out[n] = it->to[n], ++n;
    return n;
}

#endif

// Normalised words of one text: the UTF-8 bytes of all words back to back, and where each ends.
// Reused across calls so a tokeniser loop allocates nothing once warm.
struct Words {
    std::string text;
    std::vector<std::uint32_t> ends;
    std::size_t size() const { return ends.size(); }
    std::string_view operator[](std::size_t i) const {
        const std::uint32_t b = i ? ends[i - 1] : 0;
        return std::string_view(text).substr(b, ends[i] - b);
    }
    void clear() {
        text.clear();
        ends.clear();
    }
};

// Appends the words of `text` to `out`.
OMNI_LIB_INLINE void basic_tokenize(std::string_view text, Words& out)
#if OMNI_LIB_DEFINE
{
    // Marks of non-zero class wait here until the run of marks ends, then enter the word sorted
    // by class (stable), which is NFD's canonical reordering restricted to the marks that survive.
    struct Mark {
        char32_t cp;
        int cls;
    };
    std::vector<Mark> run;
    std::size_t word_begin = out.text.size();
    auto flush_run = [&] {
        if (run.empty()) return;
        std::stable_sort(run.begin(), run.end(), [](const Mark& a, const Mark& b) { return a.cls < b.cls; });
        for (const Mark& m : run) append_utf8(out.text, m.cp);
        run.clear();
    };
    auto end_word = [&] {
        flush_run();
        if (out.text.size() > word_begin) {
            out.ends.push_back(static_cast<std::uint32_t>(out.text.size()));
            word_begin = out.text.size();
        }
    };
    // A normalised code point entering the pre-tokeniser.
    auto emit = [&](char32_t cp, std::uint8_t p) {
        if (p & has_ccc) {
            if (const int cls = combining_class(cp)) {
                run.push_back({cp, cls});
                return;
            }
        }
        flush_run();
        if (p & pre_space) {
            end_word();
        } else if (p & punct) {
            end_word();
            append_utf8(out.text, cp);
            end_word();
        } else {
            append_utf8(out.text, cp);
        }
    };

    char32_t buf[max_mapping];
    for (std::size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        // ASCII letters and digits are most of the text and need no table beyond case.
        if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')) {
            if (!run.empty()) flush_run();
            out.text.push_back(static_cast<char>(b));
            ++i;
            continue;
        }
        const char32_t cp = decode_utf8(text, i);
        const std::uint8_t p = properties(cp);
        switch (p & kind_mask) {
            case drop:
                if (!(p & has_ccc)) flush_run();  // a dropped starter still ends the run of marks
                break;
            case space:
                end_word();
                break;
            case cjk:
                end_word();
                if (p & mapped) {
                    const int n = mapping(cp, buf);
                    for (int k = 0; k < n; ++k) append_utf8(out.text, buf[k]);
                } else {
                    append_utf8(out.text, cp);
                }
                end_word();
                break;
            default:
                if (p & mapped) {
                    const int n = mapping(cp, buf);
                    for (int k = 0; k < n; ++k) emit(buf[k], properties(buf[k]));
                } else {
                    emit(cp, p);
                }
        }
    }
    end_word();
}
#else
;
#endif

OMNI_LIB_INLINE std::vector<std::string> basic_tokenize(std::string_view text)
#if OMNI_LIB_DEFINE
{
    Words w;
    basic_tokenize(text, w);
    std::vector<std::string> out;
    out.reserve(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) out.emplace_back(w[i]);
    return out;
}
#else
;
#endif

}  // namespace omni::data::unicode

#pragma once
// A word-level vocabulary for small templated languages (the questions and answers of
// data/av_clips.hpp): tokens are the space-separated words of a text.
//
// Ids: <pad> = 0, <eos> = 1, <media> = 2 (where a decoder splices in media embeddings),
// <sep> = 3, <unk> = 4, then every distinct word of the texts given to build() in sorted
// (byte-wise) order, so the same texts give the same ids whatever their order.
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "omni/core/error.hpp"

namespace omni::data {

/// A word-level vocabulary with five specials, for small templated languages (the clip set's questions and answers).
class WordVocab {
public:
    static constexpr std::int64_t pad = 0, eos = 1, media = 2, sep = 3, unk = 4;
    static constexpr std::array<std::string_view, 5> specials{"<pad>", "<eos>", "<media>", "<sep>", "<unk>"};

    // The specials alone; build() adds words.
    WordVocab() : words_(specials.begin(), specials.end()) { reindex(); }

    static WordVocab build(const std::vector<std::string>& texts) {
        std::vector<std::string> found;
        for (const std::string& t : texts)
            for (std::string_view w : split(t))
                if (!is_special(w)) found.emplace_back(w);
        std::sort(found.begin(), found.end());
        found.erase(std::unique(found.begin(), found.end()), found.end());
        WordVocab v;
        v.words_.insert(v.words_.end(), found.begin(), found.end());
        v.reindex();
        return v;
    }

    // Ids of the words of `text` (runs of spaces separate; none are tokens); unknown -> <unk>.
    std::vector<std::int64_t> encode(std::string_view text) const {
        std::vector<std::int64_t> ids;
        for (std::string_view w : split(text)) {
            const auto it = index_.find(w);
            ids.push_back(it == index_.end() ? unk : it->second);
        }
        return ids;
    }

    // The words of `ids` joined by single spaces, up to the first <eos>, without <pad>.
    std::string decode(const std::vector<std::int64_t>& ids) const {
        std::string out;
        for (std::int64_t i : ids) {
            if (i == eos) break;
            if (i == pad) continue;
            if (i < 0 || i >= size())
                throw value_error("WordVocab::decode", "expected ids in [0, " + std::to_string(size()) + "), got " +
                                                           std::to_string(i));
            if (!out.empty()) out += ' ';
            out += words_[static_cast<std::size_t>(i)];
        }
        return out;
    }

    std::int64_t size() const { return static_cast<std::int64_t>(words_.size()); }
    bool contains(std::string_view word) const { return index_.find(word) != index_.end(); }

    std::int64_t id(std::string_view word) const {
        const auto it = index_.find(word);
        if (it == index_.end())
            throw value_error("WordVocab::id", "expected a word of the vocabulary (" + std::to_string(size()) +
                                                   " words), got '" + std::string(word) + "'");
        return it->second;
    }

    // Every token by id, the specials first.
    const std::vector<std::string>& words() const { return words_; }

private:
    static bool is_special(std::string_view w) {
        return std::find(specials.begin(), specials.end(), w) != specials.end();
    }
    static std::vector<std::string_view> split(std::string_view s) {
        std::vector<std::string_view> out;
        std::size_t i = 0;
        while (i < s.size()) {
            while (i < s.size() && s[i] == ' ') ++i;
            std::size_t j = i;
            while (j < s.size() && s[j] != ' ') ++j;
            if (j > i) out.push_back(s.substr(i, j - i));
            i = j;
        }
        return out;
    }
    void reindex() {
        index_.clear();
        for (std::size_t i = 0; i < words_.size(); ++i) index_.emplace(words_[i], static_cast<std::int64_t>(i));
    }

    std::vector<std::string> words_;
    std::map<std::string, std::int64_t, std::less<>> index_;
};

}  // namespace omni::data

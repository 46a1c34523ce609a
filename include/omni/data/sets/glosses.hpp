#pragma once
// WordNet glosses labelled by lexicographer file (45 classes, e.g. noun.animal), as
// scripts/data/wordnet_text.py writes them: a label<TAB>lexname<TAB>gloss TSV.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "omni/core/linkage.hpp"
#include "omni/data/data_dir.hpp"
#include "omni/data/tsv.hpp"

namespace omni::data {

/// Labelled texts, as load_text_tsv returns them.
struct TextDataset {
    std::vector<std::string> texts;
    std::vector<std::int64_t> labels;
    std::vector<std::string> label_names;  // per row, e.g. "noun.animal"
    std::int64_t size() const { return static_cast<std::int64_t>(texts.size()); }
};

// Reads a label<TAB>lexname<TAB>gloss file (default: data_dir()/wordnet/glosses.tsv); `max_items`
// >= 0 reads only the first rows. io_error on a missing file, a wrong header or a bad label.
OMNI_LIB_INLINE TextDataset load_text_tsv(std::filesystem::path path = {}, std::int64_t max_items = -1)
#if OMNI_LIB_DEFINE
{
    if (path.empty()) path = data_dir() / "wordnet" / "glosses.tsv";
    TsvReader tsv(path, {"label", "lexname", "gloss"}, "load_text_tsv");
    TextDataset d;
    while (max_items < 0 || d.size() < max_items) {
        const auto f = tsv.next();
        if (f.empty()) break;
        d.labels.push_back(tsv.integer(f[0]));
        d.label_names.emplace_back(f[1]);
        d.texts.emplace_back(f[2]);
    }
    return d;
}
#else
;
#endif

}  // namespace omni::data

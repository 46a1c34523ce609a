#pragma once
// Spoken words: WAV clips of Fashion-MNIST class names and digits spoken by espeak-ng
// (scripts/data/spoken_words.py), listed in a path<TAB>label<TAB>vocab<TAB>word TSV; a fashion
// word's label is its Fashion-MNIST class, so audio and images share labels.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "omni/core/linkage.hpp"
#include "omni/data/data_dir.hpp"
#include "omni/data/tsv.hpp"

namespace omni::data {

/// Labelled audio clips, by path (the WAVs are read later, e.g. by audio/frontend.hpp).
struct AudioDataset {
    std::vector<std::filesystem::path> paths;  // absolute or relative to the working directory
    std::vector<std::int64_t> labels;
    std::vector<std::string> vocab, words;  // "fashion" or "digit"; the class name spoken
    std::int64_t size() const { return static_cast<std::int64_t>(paths.size()); }
};

// Reads a spoken_words.py labels.tsv (default: data_dir()/spoken_words/labels.tsv); paths in it
// are relative to its directory and come back joined to it. `max_items` >= 0 reads only the
// first rows. io_error on a missing file, a wrong header, a short row or a bad label.
OMNI_LIB_INLINE AudioDataset load_audio_tsv(std::filesystem::path path = {}, std::int64_t max_items = -1)
#if OMNI_LIB_DEFINE
{
    if (path.empty()) path = data_dir() / "spoken_words" / "labels.tsv";
    TsvReader tsv(path, {"path", "label", "vocab", "word"}, "load_audio_tsv");
    AudioDataset d;
    while (max_items < 0 || d.size() < max_items) {
        const auto f = tsv.next();
        if (f.empty()) break;
        const std::filesystem::path clip(f[0]);
        d.paths.push_back(clip.is_absolute() ? clip : path.parent_path() / clip);
        d.labels.push_back(tsv.integer(f[1]));
        d.vocab.emplace_back(f[2]);
        d.words.emplace_back(f[3]);
    }
    return d;
}
#else
;
#endif

}  // namespace omni::data

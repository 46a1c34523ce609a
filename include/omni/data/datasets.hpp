#pragma once
// Datasets every Debian machine can have, made by scripts/data/, and the modality-separated
// minibatch sampler of Omni-C's pretraining loop.
//
//   Fashion-MNIST   images [N, 28, 28] float32 in [0, 1] and labels [N] int64, from Debian's
//                   dataset-fashion-mnist (scripts/data/fashion_mnist.sh links it under
//                   $OMNI_DATA/fashion-mnist); read through image/idx.hpp, so link zlib.
//   WordNet glosses label<TAB>lexname<TAB>gloss (scripts/data/wordnet_text.py), 45 classes.
//   Spoken words    WAV paths and labels (scripts/data/spoken_words.py): Fashion-MNIST class
//                   names and digits spoken by espeak-ng, labels shared with the image sets.
//
// Files live under data_dir(): $OMNI_DATA, else ~/.cache/omni, else build/data, the same rule
// as the scripts. A sampler batch becomes a tensor batch with omni::index_select(images, 0, ids)
// (backend/index.hpp) and then image/augment.hpp's augment_views.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/rng.hpp"
#include "omni/data/image/idx.hpp"

namespace omni::data {

// Fashion-MNIST's classes by label (Xiao et al. 2017).
inline constexpr std::array<std::string_view, 10> fashion_mnist_classes{
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

inline std::filesystem::path data_dir() {
    if (const char* d = std::getenv("OMNI_DATA"); d && *d) return d;
    if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "omni";
    return "build/data";
}

// Where Fashion-MNIST's IDX files are: data_dir()/fashion-mnist, else Debian's own directory.
inline std::filesystem::path fashion_mnist_dir() {
    std::error_code ec;
    for (const std::filesystem::path& d : {data_dir() / "fashion-mnist", std::filesystem::path("/usr/share/datasets/fashion-mnist")})
        if (std::filesystem::is_directory(d, ec)) return d;
    throw io_error("fashion_mnist_dir", "expected Fashion-MNIST in " + (data_dir() / "fashion-mnist").string() +
                                            " or /usr/share/datasets/fashion-mnist, got neither (run scripts/data/fashion_mnist.sh)");
}

struct ImageDataset {
    Tensor<cpu> images;  // [N, H, W] float32 in [0, 1]
    Tensor<cpu> labels;  // [N] int64
    std::int64_t size() const { return labels.defined() ? labels.numel() : 0; }
};

enum class Split { train, test };

// The train (60,000) or test (10,000) split; `max_items` >= 0 loads only the first ones.
inline ImageDataset load_fashion_mnist(Split split, std::int64_t max_items = -1, std::filesystem::path dir = {}) {
    if (dir.empty()) dir = fashion_mnist_dir();
    const std::string stem = split == Split::train ? "train" : "t10k";
    // Debian ships *.gz; an unpacked copy is read the same way.
    const auto pick = [&](const std::string& name) {
        std::error_code ec;
        const std::filesystem::path gz = dir / (name + ".gz");
        return std::filesystem::exists(gz, ec) ? gz : dir / name;
    };
    ImageDataset d{load_idx_images(pick(stem + "-images-idx3-ubyte"), max_items),
                   load_idx_labels(pick(stem + "-labels-idx1-ubyte"), max_items)};
    if (d.images.size(0) != d.labels.numel())
        throw io_error("load_fashion_mnist", "expected one label per image in " + dir.string() + ", got " +
                                                 std::to_string(d.images.size(0)) + " images and " +
                                                 std::to_string(d.labels.numel()) + " labels");
    return d;
}

namespace detail {

// Tab-separated rows with a header naming at least `columns`; errors carry file:line.
class TsvReader {
public:
    TsvReader(const std::filesystem::path& path, std::vector<std::string_view> columns, const char* op)
        : path_(path.string()), op_(op), want_(columns.size()) {
        std::error_code ec;
        if (std::filesystem::is_regular_file(path, ec)) in_.open(path);
        if (!in_.is_open()) throw io_error(op, "expected a readable TSV file, got none at '" + path_ + "'");
        std::string header;
        std::getline(in_, header);
        const std::vector<std::string_view> got = split(header);
        bool ok = got.size() >= want_;
        for (std::size_t i = 0; ok && i < want_; ++i) ok = got[i] == columns[i];
        if (!ok) {
            std::string expect;
            for (std::string_view c : columns) expect += (expect.empty() ? "" : "\\t") + std::string(c);
            throw io_error(op, "expected a header starting '" + expect + "' in '" + path_ + "', got '" + header + "'");
        }
    }
    // The next row's fields (views into an internal line), or an empty vector at the end.
    std::vector<std::string_view> next() {
        while (std::getline(in_, line_)) {
            ++line_no_;
            if (!line_.empty() && line_.back() == '\r') line_.pop_back();
            if (line_.empty()) continue;
            std::vector<std::string_view> f = split(line_);
            if (f.size() < want_) fail("expected " + std::to_string(want_) + " tab-separated fields, got " + std::to_string(f.size()));
            return f;
        }
        return {};
    }
    std::int64_t integer(std::string_view s) {
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || end != s.data() + s.size() || v < 0)
            fail("expected a non-negative integer label, got '" + std::string(s) + "'");
        return v;
    }
    [[noreturn]] void fail(const std::string& what) const {
        throw io_error(op_, what + " at " + path_ + ":" + std::to_string(line_no_ + 1));
    }

private:
    static std::vector<std::string_view> split(std::string_view s) {
        std::vector<std::string_view> out;
        for (std::size_t start = 0;;) {
            const std::size_t tab = s.find('\t', start);
            out.push_back(s.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
            if (tab == std::string_view::npos) return out;
            start = tab + 1;
        }
    }
    std::ifstream in_;
    std::string path_, line_;
    const char* op_;
    std::size_t want_;
    std::int64_t line_no_ = 0;  // data rows read; the header is line 1
};

}  // namespace detail

struct TextDataset {
    std::vector<std::string> texts;
    std::vector<std::int64_t> labels;
    std::vector<std::string> label_names;  // per row, e.g. "noun.animal"
    std::int64_t size() const { return static_cast<std::int64_t>(texts.size()); }
};

// A label<TAB>lexname<TAB>gloss file (default: data_dir()/wordnet/glosses.tsv).
inline TextDataset load_text_tsv(std::filesystem::path path = {}, std::int64_t max_items = -1) {
    if (path.empty()) path = data_dir() / "wordnet" / "glosses.tsv";
    detail::TsvReader tsv(path, {"label", "lexname", "gloss"}, "load_text_tsv");
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

struct AudioDataset {
    std::vector<std::filesystem::path> paths;  // absolute or relative to the working directory
    std::vector<std::int64_t> labels;
    std::vector<std::string> vocab, words;  // "fashion" or "digit"; the class name spoken
    std::int64_t size() const { return static_cast<std::int64_t>(paths.size()); }
};

// A spoken_words.py labels.tsv (default: data_dir()/spoken_words/labels.tsv); paths in it are
// relative to its directory and come back joined to it.
inline AudioDataset load_audio_tsv(std::filesystem::path path = {}, std::int64_t max_items = -1) {
    if (path.empty()) path = data_dir() / "spoken_words" / "labels.tsv";
    detail::TsvReader tsv(path, {"path", "label", "vocab", "word"}, "load_audio_tsv");
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

// ---- modality-separated minibatches ----------------------------------------------------------

enum class ModalitySchedule {
    round_robin,   // Omni-C: modality 0, 1, 2, 0, ...; each takes min(batches) per epoch
    proportional,  // every batch of every modality once per epoch, evenly interleaved
};

struct SamplerOptions {
    std::int64_t batch_size = 32;
    ModalitySchedule schedule = ModalitySchedule::round_robin;
    bool drop_last = true;             // Omni-C drops the last partial batch of each modality
    std::int64_t steps_per_turn = 1;   // round robin: consecutive steps per modality (Omni-C's accumulate_steps)
    // Round robin: modality m takes steps_per_turn * turn_weights[m] steps per turn (empty: all 1),
    // for a modality that needs more steps than the others without a second schedule.
    std::vector<std::int64_t> turn_weights{};
    std::uint64_t seed = 0;
};

struct ModalityBatch {
    std::size_t modality = 0;           // index into the sizes given to the sampler
    std::vector<std::int64_t> indices;  // dataset indices of that modality
};

// One batch = one modality. ref: Omni-C sec. III-B and the release's utils/dataloader.py
// (MultimodalDataLoader): each epoch reshuffles every modality, then round robin runs
// M x min_m(batches_m) steps, so larger sets contribute a fresh random subset each epoch.
// Turn weights (omni's, not the reference's) let one modality take several steps per turn.
// Shuffles are Philox streams (seed, epoch * M + m), so any epoch can be produced directly.
class ModalitySampler {
public:
    ModalitySampler(std::vector<std::int64_t> sizes, SamplerOptions opt) : sizes_(std::move(sizes)), opt_(opt) {
        const char* op = "ModalitySampler";
        if (sizes_.empty()) throw value_error(op, "expected at least one modality, got none");
        if (opt_.batch_size < 1) throw value_error(op, "expected batch_size >= 1, got " + std::to_string(opt_.batch_size));
        if (opt_.steps_per_turn < 1)
            throw value_error(op, "expected steps_per_turn >= 1, got " + std::to_string(opt_.steps_per_turn));
        if (!opt_.turn_weights.empty() && opt_.turn_weights.size() != sizes_.size())
            throw value_error(op, "expected one turn weight per modality (" + std::to_string(sizes_.size()) + "), got " +
                                      std::to_string(opt_.turn_weights.size()));
        for (std::size_t m = 0; m < opt_.turn_weights.size(); ++m)
            if (opt_.turn_weights[m] < 1)
                throw value_error(op, "expected turn weights >= 1, got " + std::to_string(opt_.turn_weights[m]) + " for modality " + std::to_string(m));
        for (std::size_t m = 0; m < sizes_.size(); ++m)
            if (batches_of(m) < 1)
                throw value_error(op, "expected every modality to fill a batch of " + std::to_string(opt_.batch_size) +
                                          ", got " + std::to_string(sizes_[m]) + " items in modality " + std::to_string(m));
        if (opt_.schedule == ModalitySchedule::round_robin)
            for (std::size_t m = 0; m < sizes_.size(); ++m)
                if (batches_of(m) < turn_of(m))
                    throw value_error(op, "expected every modality to fill a turn of " + std::to_string(turn_of(m)) + " batches of " +
                                              std::to_string(opt_.batch_size) + ", got " + std::to_string(sizes_[m]) + " items in modality " +
                                              std::to_string(m));
    }

    std::size_t modalities() const { return sizes_.size(); }
    // Batches one pass over modality m yields.
    std::int64_t batches_of(std::size_t m) const {
        const std::int64_t n = sizes_.at(m), b = opt_.batch_size;
        return opt_.drop_last ? n / b : (n + b - 1) / b;
    }
    // Round robin: consecutive steps modality m takes per turn.
    std::int64_t turn_of(std::size_t m) const { return opt_.steps_per_turn * (opt_.turn_weights.empty() ? 1 : opt_.turn_weights.at(m)); }
    // Round robin: whole turns per epoch, as many as the modality with the fewest batches per
    // turn fills (a partial last turn would hand some modality an empty batch).
    std::int64_t turns_per_epoch() const {
        std::int64_t turns = batches_of(0) / turn_of(0);
        for (std::size_t m = 1; m < sizes_.size(); ++m) turns = std::min(turns, batches_of(m) / turn_of(m));
        return turns;
    }
    std::int64_t steps_per_epoch() const {
        std::int64_t per_turn = 0, total = 0;
        for (std::size_t m = 0; m < sizes_.size(); ++m) {
            per_turn += turn_of(m);
            total += batches_of(m);
        }
        return opt_.schedule == ModalitySchedule::round_robin ? turns_per_epoch() * per_turn : total;
    }

    // Modality m's order of items in epoch e: Fisher-Yates on Philox draws.
    std::vector<std::int64_t> permutation(std::int64_t epoch, std::size_t m) const {
        Generator gen(opt_.seed);
        gen.set_state(opt_.seed, static_cast<std::uint64_t>(epoch) * sizes_.size() + m);
        const std::uint64_t stream = gen.next_offset();
        std::vector<std::int64_t> p(static_cast<std::size_t>(sizes_[m]));
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::int64_t>(i);
        for (std::size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[below(gen.seed(), stream, i, i)]);
        return p;
    }

    // The whole schedule of epoch e, in step order.
    std::vector<ModalityBatch> epoch(std::int64_t e) const {
        const std::size_t M = sizes_.size();
        std::vector<std::vector<std::int64_t>> perm(M);
        for (std::size_t m = 0; m < M; ++m) perm[m] = permutation(e, m);
        std::vector<ModalityBatch> out;
        out.reserve(static_cast<std::size_t>(steps_per_epoch()));
        std::vector<std::int64_t> taken(M, 0);
        const auto emit = [&](std::size_t m) {
            const std::int64_t b = taken[m]++, lo = b * opt_.batch_size, hi = std::min(lo + opt_.batch_size, sizes_[m]);
            out.push_back({m, std::vector<std::int64_t>(perm[m].begin() + lo, perm[m].begin() + hi)});
        };
        if (opt_.schedule == ModalitySchedule::round_robin) {
            const std::int64_t turns = turns_per_epoch();
            for (std::int64_t t = 0; t < turns; ++t)
                for (std::size_t m = 0; m < M; ++m)
                    for (std::int64_t k = 0; k < turn_of(m); ++k) emit(m);
        } else {
            // Batch k of modality m sits at (k + 1/2) / batches_m of the epoch: a smooth interleave.
            std::vector<std::pair<double, std::size_t>> slots;
            for (std::size_t m = 0; m < M; ++m)
                for (std::int64_t k = 0; k < batches_of(m); ++k)
                    slots.emplace_back((static_cast<double>(k) + 0.5) / static_cast<double>(batches_of(m)), m);
            std::stable_sort(slots.begin(), slots.end());
            for (const auto& s : slots) emit(s.second);
        }
        return out;
    }

private:
    // An integer in [0, n) from 64 Philox bits (block i of the stream), by multiply-shift: the
    // 24-bit uniforms of philox_uniform would bias a shuffle of a million items.
    static std::size_t below(std::uint64_t seed, std::uint64_t stream, std::uint64_t i, std::size_t n) {
        const philox4x32 r = philox4x32_10(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i >> 32),
                                           static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32),
                                           static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
        const std::uint64_t bits = (static_cast<std::uint64_t>(r.v[0]) << 32) | r.v[1];
        return static_cast<std::size_t>((static_cast<unsigned __int128>(bits) * n) >> 64);
    }

    std::vector<std::int64_t> sizes_;
    SamplerOptions opt_;
};

}  // namespace omni::data

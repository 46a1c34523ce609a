#pragma once
// The demo's three modalities, loaded once and turned into what training and evaluation need:
// pretraining views, clean evaluation batches, labels and raw-input features for the baseline
// probes. Images: Fashion-MNIST; audio: espeak-ng spoken words (Fashion-MNIST class names and
// digits, labels shared with the images); text: WordNet glosses labelled by lexicographer file.
#include <omni/data/audio/frontend.hpp>
#include <omni/data/image/augment.hpp>
#include <omni/data/sets/fashion_mnist.hpp>
#include <omni/data/sets/glosses.hpp>
#include <omni/data/sets/spoken_words.hpp>
#include <omni/data/text/augment.hpp>
#include <omni/data/text/wordpiece.hpp>
#include <omni/train/linear_probe.hpp>

#include <map>
#include <string>
#include <vector>

namespace demo {

using omni::Tensor;
using omni::cpu;
// The demo's three data sets. The values are their positions in the demo's model list (image,
// audio, text); the library's trainers take a modality by name (name_of).
enum class modality : int { image = 0, audio = 1, text = 2 };
inline const char* name_of(modality m) {
    constexpr const char* n[] = {"image", "audio", "text"};
    return n[static_cast<int>(m)];
}

struct DataSizes {
    std::int64_t image_train = 12000, image_probe = 6000, image_test = 2000;
    std::int64_t audio_clips = 2000, audio_test = 400;  // the last audio_test clips are the test split
    // Pretraining reads 48,000 glosses, the probe labels the first 8,000 (with the 8,000 alone,
    // text gained 4-5 points over random init, within noise of the bar; docs/experiments/omni_c_tuning.md).
    std::int64_t text_train = 48000, text_probe = 8000, text_test = 2000;
    std::int64_t text_len = 32;
    std::string glosses;  // WordNet TSV; empty: data_dir()/wordnet/glosses.tsv

    template <class V> void visit(V& v) const {
        v("image_train", image_train), v("image_probe", image_probe), v("image_test", image_test), v("audio_clips", audio_clips);
        v("audio_test", audio_test), v("text_train", text_train), v("text_probe", text_probe), v("text_test", text_test);
        v("text_len", text_len), v("glosses", glosses);
    }
};

// How pretraining views are drawn; the demo's options name them (image_aug, text_aug) and
// these are what the names mean.
struct Augmentations {
    omni::data::AugmentConfig image = omni::data::omni_c_augment(28);
    omni::data::TextAugmentOptions text{};  // the reference's rates
};

// One modality: a training pool (pretraining views come from all of it, the probe trains on its
// first `probe` items) and a test pool.
struct ModalitySet {
    modality m{};
    std::int64_t train = 0, probe = 0, test = 0, classes = 0;
    omni::train::ViewMaker views;                         // over the training pool
    omni::train::BatchMaker train_batch, test_batch;      // clean model inputs
    std::function<Tensor<cpu>(std::span<const std::int64_t>, omni::Generator*)> weak;  // fine-tuning: one weakly augmented view
    Tensor<cpu> train_y, test_y;                          // int64 labels (probe part of train)
    Tensor<cpu> raw_train, raw_test;                      // raw-input probe features
};

inline Tensor<cpu> take(const Tensor<cpu>& t, std::span<const std::int64_t> idx, std::int64_t offset = 0) {
    std::vector<std::int64_t> v(idx.begin(), idx.end());
    for (auto& i : v) i += offset;
    return omni::index_select(t, 0, Tensor<cpu>::from_data(v, {static_cast<std::int64_t>(v.size())}));
}
inline std::vector<std::int64_t> iota(std::int64_t lo, std::int64_t n) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) v[i] = lo + i;
    return v;
}

struct Corpus {
    std::array<ModalitySet, 3> sets;
    // Kept for SAIL pairs and retrieval.
    std::vector<std::int64_t> audio_train_labels, audio_test_labels;  // 0..9 fashion words, 10..19 digits
    std::vector<std::string> audio_words;                             // by label 0..19, as spoken
    omni::data::WordPiece tokenizer;
    std::int64_t text_len = 32;
    ModalitySet& operator[](modality m) { return sets[static_cast<int>(m)]; }
    const ModalitySet& operator[](modality m) const { return sets[static_cast<int>(m)]; }

    Tensor<cpu> tokenize(const std::vector<std::string>& texts) const { return tokenizer.encode_batch(texts, text_len).ids; }
};

inline Corpus load_corpus(const std::string& vocab, const DataSizes& s, const Augmentations& augs) {
    using namespace omni;
    Corpus c{.sets = {}, .audio_train_labels = {}, .audio_test_labels = {}, .audio_words = {}, .tokenizer = data::WordPiece::from_file(vocab), .text_len = s.text_len};

    // ---- images: [N, 28, 28] in [0, 1] -> 3-channel normalised 28 x 28 (the Omni-C chain) ----
    {
        const auto tr = data::load_fashion_mnist(data::Split::train, s.image_train);
        const auto te = data::load_fashion_mnist(data::Split::test, s.image_test);
        ModalitySet& m = c[modality::image];
        m.m = modality::image;
        m.train = tr.size();
        m.probe = std::min(s.image_probe, m.train);
        m.test = te.size();
        m.classes = 10;
        const data::AugmentConfig aug = augs.image;
        const Tensor<cpu> train_images = tr.images, test_images = te.images;
        m.views = [=](std::span<const std::int64_t> idx, Generator& g) { return data::augment_views(take(train_images, idx), aug, g); };
        m.train_batch = [=](std::span<const std::int64_t> idx) { return data::eval_transform(take(train_images, idx), aug); };
        data::AugmentConfig weak = aug;  // the reference's "weak" preset: crop and flip only
        weak.jitter_p = weak.grayscale_p = weak.blur_p = 0;
        m.weak = [=](std::span<const std::int64_t> idx, Generator* g) {
            return g ? data::augment(take(train_images, idx), weak, *g) : data::eval_transform(take(train_images, idx), aug);
        };
        m.test_batch = [=](std::span<const std::int64_t> idx) { return data::eval_transform(take(test_images, idx), aug); };
        m.train_y = tr.labels.slice(0, 0, m.probe).contiguous();
        m.test_y = te.labels;
        m.raw_train = train_images.slice(0, 0, m.probe).reshape({m.probe, 28 * 28});
        m.raw_test = test_images.reshape({m.test, 28 * 28});
    }

    // ---- audio: 16 kHz, 64 mel, 10 ms hop, 128 mirror-padded frames -> [1, 64, 128] ----------
    {
        const auto ds = data::load_audio_tsv({}, s.audio_clips);
        if (ds.size() <= s.audio_test)
            throw value_error("omni_c_demo", "expected more than " + std::to_string(s.audio_test) + " spoken-word clips, got " +
                                                 std::to_string(ds.size()) + " (run scripts/data/spoken_words.py --count 2000)");
        data::AudioFrontendOptions ao = data::AudioFrontendOptions::ast();
        ao.fbank.num_mel_bins = 64;
        ao.target_frames = 128;
        ao.pad = data::FramePad::mirror;
        ao.min_samples = 400;
        ao.augment = {.max_time_shift = 12, .freq_mask_param = 12, .time_mask_param = 25};  // Omni-C's, scaled to 64 x 128
        ao.freq_major = true;
        const auto frontend = std::make_shared<data::AudioFrontend>(ao);
        const std::int64_t n = ds.size();
        std::vector<Tensor<cpu>> mels(static_cast<std::size_t>(n));
        backend::cpu::parallel_for(n, 1 << 20, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t i = b; i < e; ++i) mels[i] = frontend->load(ds.paths[i]);
        });
        const auto mel = std::make_shared<std::vector<Tensor<cpu>>>(std::move(mels));
        const std::int64_t ntr = n - s.audio_test;
        ModalitySet& m = c[modality::audio];
        m.m = modality::audio;
        m.train = m.probe = ntr;
        m.test = s.audio_test;
        m.classes = 20;
        const auto batch = [frontend, mel](std::span<const std::int64_t> idx, std::int64_t off, Generator* g) {
            std::vector<Tensor<cpu>> v;
            for (const std::int64_t i : idx) v.push_back(frontend->view((*mel)[i + off], g).unsqueeze(0));
            return stack(v, 0);
        };
        m.views = [batch](std::span<const std::int64_t> idx, Generator& g) { return std::pair{batch(idx, 0, &g), batch(idx, 0, &g)}; };
        m.train_batch = [batch](std::span<const std::int64_t> idx) { return batch(idx, 0, nullptr); };
        m.weak = [batch](std::span<const std::int64_t> idx, Generator* g) { return batch(idx, 0, g); };
        m.test_batch = [batch, ntr](std::span<const std::int64_t> idx) { return batch(idx, ntr, nullptr); };
        for (std::int64_t i = 0; i < n; ++i) {
            const std::int64_t label = ds.labels[i] + (ds.vocab[i] == "digit" ? 10 : 0);
            (i < ntr ? c.audio_train_labels : c.audio_test_labels).push_back(label);
        }
        c.audio_words.assign(20, "");
        for (std::int64_t i = 0; i < n; ++i) c.audio_words[ds.labels[i] + (ds.vocab[i] == "digit" ? 10 : 0)] = ds.words[i];
        m.train_y = Tensor<cpu>::from_data(c.audio_train_labels, {ntr});
        m.test_y = Tensor<cpu>::from_data(c.audio_test_labels, {m.test});
        const auto all_tr = iota(0, ntr), all_te = iota(0, m.test);
        m.raw_train = m.train_batch(all_tr).reshape({ntr, -1});
        m.raw_test = m.test_batch(all_te).reshape({m.test, -1});
    }

    // ---- text: WordPiece ids [N, text_len]; views as the reference (masking, deletion, swaps) ----
    {
        const auto ds = data::load_text_tsv(s.glosses, s.text_train + s.text_test);
        if (ds.size() < s.text_train + s.text_test)  // a smaller file would quietly pretrain on less
            throw value_error("omni_c_demo", "expected " + std::to_string(s.text_train + s.text_test) + " glosses in " + (s.glosses.empty() ? std::string("glosses.tsv") : s.glosses) + ", got " +
                                                 std::to_string(ds.size()) + " (scripts/data/wordnet_text.py --count 50000, or a smaller --set sizes.text_train=N)");
        const std::int64_t n = ds.size(), ntr = n - s.text_test;
        const Tensor<cpu> ids = c.tokenize(ds.texts);
        ModalitySet& m = c[modality::text];
        m.m = modality::text;
        m.train = ntr;
        m.probe = std::min(s.text_probe, ntr);
        m.test = s.text_test;
        m.classes = 45;  // WordNet lexicographer files
        data::TextAugmentOptions to = augs.text;
        to.seq_len = s.text_len;
        m.views = [ids, to](std::span<const std::int64_t> idx, Generator& g) {
            const Tensor<cpu> b = take(ids, idx);
            return std::pair{data::augment_text(b, g, to), data::augment_text_strong(b, g, to)};
        };
        m.train_batch = [ids](std::span<const std::int64_t> idx) { return take(ids, idx); };
        m.weak = [ids, to](std::span<const std::int64_t> idx, Generator* g) { return g ? data::augment_text(take(ids, idx), *g, to) : take(ids, idx); };
        m.test_batch = [ids, ntr](std::span<const std::int64_t> idx) { return take(ids, idx, ntr); };
        m.train_y = Tensor<cpu>::from_data(std::vector<std::int64_t>(ds.labels.begin(), ds.labels.begin() + m.probe), {m.probe});
        m.test_y = Tensor<cpu>::from_data(std::vector<std::int64_t>(ds.labels.begin() + ntr, ds.labels.end()), {m.test});
        // Raw-input baseline: bag of word pieces over the 4,096 most frequent ids of the probe's texts.
        std::map<std::int64_t, std::int64_t> freq;
        const auto v = ids.to_vector<std::int64_t>();
        for (std::int64_t i = 0; i < m.probe * s.text_len; ++i)
            if (v[i] > 103) ++freq[v[i]];  // skip [PAD], [UNK], [CLS], [SEP], [MASK] and unused ids
        std::vector<std::pair<std::int64_t, std::int64_t>> top(freq.begin(), freq.end());
        std::sort(top.begin(), top.end(), [](auto a, auto b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
        top.resize(std::min<std::size_t>(top.size(), 4096));
        std::map<std::int64_t, std::int64_t> column;
        for (std::size_t k = 0; k < top.size(); ++k) column[top[k].first] = static_cast<std::int64_t>(k);
        const std::int64_t f = static_cast<std::int64_t>(top.size());
        const auto bag = [&](std::int64_t lo, std::int64_t rows) {
            std::vector<float> out(static_cast<std::size_t>(rows * f), 0.0f);
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t t = 0; t < s.text_len; ++t)
                    if (auto it = column.find(v[(lo + r) * s.text_len + t]); it != column.end()) out[r * f + it->second] += 1.0f;
            return Tensor<cpu>::from_data(out, {rows, f});
        };
        m.raw_train = bag(0, m.probe);
        m.raw_test = bag(ntr, m.test);
    }
    return c;
}

}  // namespace demo

// Datasets: the modality sampler's schedule, balance and determinism, and the loaders on the
// subsets that tests/data/datasets.cmake builds from Debian's packages (OMNI_DATA points there).
// A loader test skips when its data is absent, e.g. when this binary runs outside ctest.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "omni/data/modality_sampler.hpp"
#include "omni/data/sets/fashion_mnist.hpp"
#include "omni/data/sets/glosses.hpp"
#include "omni/data/sets/spoken_words.hpp"

namespace fs = std::filesystem;
namespace od = omni::data;

namespace {

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const omni::error& e) {
        return e.what();
    }
    return "no exception";
}

// ---- sampler ---------------------------------------------------------------------------------

TEST(Sampler, RoundRobinTakesMinBatchesFromEachModality) {
    const od::ModalitySampler s({100, 70, 45}, {.batch_size = 10, .seed = 3});
    EXPECT_EQ(s.batches_of(0), 10);
    EXPECT_EQ(s.batches_of(2), 4);  // 45 / 10 with the last 5 dropped
    EXPECT_EQ(s.steps_per_epoch(), 12);  // 3 modalities x min(10, 7, 4)
    const auto epoch = s.epoch(0);
    ASSERT_EQ(epoch.size(), 12u);
    const std::vector<std::int64_t> sizes{100, 70, 45};
    std::vector<std::set<std::int64_t>> seen(3);
    for (std::size_t i = 0; i < epoch.size(); ++i) {
        EXPECT_EQ(epoch[i].modality, i % 3);  // image -> audio -> text -> image ...
        ASSERT_EQ(epoch[i].indices.size(), 10u);
        for (std::int64_t k : epoch[i].indices) {
            EXPECT_TRUE(k >= 0 && k < sizes[epoch[i].modality]);
            EXPECT_TRUE(seen[epoch[i].modality].insert(k).second) << "index repeated within an epoch";
        }
    }
}

TEST(Sampler, SameSeedSameScheduleNewEpochNewOrder) {
    const od::SamplerOptions opt{.batch_size = 8, .seed = 11};
    const od::ModalitySampler a({64, 64, 64}, opt), b({64, 64, 64}, opt);
    const auto e0 = a.epoch(0), e0b = b.epoch(0), e1 = a.epoch(1);
    ASSERT_EQ(e0.size(), e0b.size());
    for (std::size_t i = 0; i < e0.size(); ++i) EXPECT_EQ(e0[i].indices, e0b[i].indices);
    EXPECT_NE(e0[0].indices, e1[0].indices);
    EXPECT_NE(a.permutation(0, 0), a.permutation(0, 1));  // modalities shuffle independently
    const od::ModalitySampler c({64, 64, 64}, {.batch_size = 8, .seed = 12});
    EXPECT_NE(e0[0].indices, c.epoch(0)[0].indices);
    auto p = a.permutation(5, 2);
    std::sort(p.begin(), p.end());
    for (std::int64_t i = 0; i < 64; ++i) EXPECT_EQ(p[i], i);
}

TEST(Sampler, ShuffleIsUnbiasedEnough) {
    // Where item 0 lands over 2,000 epochs of a 10-item set: about 200 per slot.
    const od::ModalitySampler s({10}, {.batch_size = 1, .seed = 1});
    std::vector<int> where(10, 0);
    for (int e = 0; e < 2000; ++e) {
        const auto p = s.permutation(e, 0);
        ++where[std::find(p.begin(), p.end(), 0) - p.begin()];
    }
    for (int n : where) EXPECT_TRUE(n > 140 && n < 260) << n;
}

TEST(Sampler, ProportionalCoversEveryItemEvenlyInterleaved) {
    const od::ModalitySampler s({100, 50, 25}, {.batch_size = 5, .schedule = od::ModalitySchedule::proportional, .seed = 2});
    EXPECT_EQ(s.steps_per_epoch(), 20 + 10 + 5);
    const auto epoch = s.epoch(0);
    std::vector<std::set<std::int64_t>> seen(3);
    std::vector<std::int64_t> last(3, -1), worst_gap(3, 0);
    for (std::size_t i = 0; i < epoch.size(); ++i) {
        const std::size_t m = epoch[i].modality;
        for (std::int64_t k : epoch[i].indices) seen[m].insert(k);
        worst_gap[m] = std::max(worst_gap[m], static_cast<std::int64_t>(i) - last[m]);
        last[m] = static_cast<std::int64_t>(i);
    }
    EXPECT_EQ(seen[0].size(), 100u);
    EXPECT_EQ(seen[1].size(), 50u);
    EXPECT_EQ(seen[2].size(), 25u);
    EXPECT_LE(worst_gap[2], 8);  // 35 steps / 5 batches = one every 7, give or take a tie
    EXPECT_LE(worst_gap[1], 4);
}

TEST(Sampler, KeepLastAndStepsPerTurn) {
    const od::ModalitySampler keep({23, 30}, {.batch_size = 10, .drop_last = false});
    EXPECT_EQ(keep.batches_of(0), 3);
    EXPECT_EQ(keep.steps_per_epoch(), 6);
    const auto e = keep.epoch(0);
    EXPECT_EQ(e[4].modality, 0u);
    EXPECT_EQ(e[4].indices.size(), 3u);  // the partial batch of 23
    const od::ModalitySampler turns({40, 40, 40}, {.batch_size = 10, .steps_per_turn = 2});
    std::vector<std::size_t> order;
    for (const auto& b : turns.epoch(0)) order.push_back(b.modality);
    EXPECT_EQ(order, (std::vector<std::size_t>{0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2}));
}

TEST(Sampler, TurnWeightsAndWholeTurnsOnly) {
    const od::ModalitySampler w({60, 40, 40}, {.batch_size = 10, .turn_weights = {2, 1, 1}, .seed = 4});
    EXPECT_EQ(w.turns_per_epoch(), 3);  // modality 0: 6 batches = 3 turns of 2
    EXPECT_EQ(w.steps_per_epoch(), 12);
    std::vector<std::size_t> order;
    std::vector<std::set<std::int64_t>> seen(3);
    for (const auto& b : w.epoch(1)) {
        order.push_back(b.modality);
        EXPECT_EQ(b.indices.size(), 10u);
        for (const std::int64_t k : b.indices) EXPECT_TRUE(seen[b.modality].insert(k).second) << "item " << k << " twice in one epoch";
    }
    EXPECT_EQ(order, (std::vector<std::size_t>{0, 0, 1, 2, 0, 0, 1, 2, 0, 0, 1, 2}));
    // A partial last turn would hand out an empty batch: 3 batches make one whole turn of 2.
    const od::ModalitySampler partial({30, 30}, {.batch_size = 10, .steps_per_turn = 2});
    EXPECT_EQ(partial.steps_per_epoch(), 4);
    for (const auto& b : partial.epoch(0)) EXPECT_EQ(b.indices.size(), 10u);
    // Proportional ignores turns; every batch of every modality once.
    const od::ModalitySampler prop({60, 40}, {.batch_size = 10, .schedule = od::ModalitySchedule::proportional, .turn_weights = {3, 1}});
    EXPECT_EQ(prop.steps_per_epoch(), 10);
}

TEST(Sampler, RefusesWhatCannotBatch) {
    EXPECT_EQ(error_of([] { od::ModalitySampler({}, {}); }), "value_error: ModalitySampler: expected at least one modality, got none");
    EXPECT_EQ(error_of([] { od::ModalitySampler({100, 20}, {.batch_size = 32}); }),
              "value_error: ModalitySampler: expected every modality to fill a batch of 32, got 20 items in modality 1");
    EXPECT_EQ(error_of([] { od::ModalitySampler({100}, {.batch_size = 0}); }),
              "value_error: ModalitySampler: expected batch_size >= 1, got 0");
    EXPECT_EQ(error_of([] { od::ModalitySampler({100, 100}, {.batch_size = 10, .turn_weights = {2}}); }),
              "value_error: ModalitySampler: expected one turn weight per modality (2), got 1");
    EXPECT_EQ(error_of([] { od::ModalitySampler({100, 100}, {.batch_size = 10, .turn_weights = {1, 0}}); }),
              "value_error: ModalitySampler: expected turn weights >= 1, got 0 for modality 1");
    EXPECT_EQ(error_of([] { od::ModalitySampler({100, 20}, {.batch_size = 10, .turn_weights = {1, 3}}); }),
              "value_error: ModalitySampler: expected every modality to fill a turn of 3 batches of 10, got 20 items in modality 1");
}

// ---- loaders ---------------------------------------------------------------------------------

TEST(Datasets, FashionMnistTestSplitFromDebian) {
    fs::path dir;
    try {
        dir = od::fashion_mnist_dir();
    } catch (const omni::io_error& e) {
        GTEST_SKIP() << e.what();
    }
    const od::ImageDataset d = od::load_fashion_mnist(od::Split::test, -1, dir);
    ASSERT_EQ(d.images.shape(), (omni::Shape{10000, 28, 28}));
    ASSERT_EQ(d.labels.type(), omni::dtype::i64);
    const auto labels = d.labels.to_vector<std::int64_t>();
    std::map<std::int64_t, int> per_class;
    for (std::int64_t l : labels) ++per_class[l];
    ASSERT_EQ(per_class.size(), 10u);
    for (const auto& [label, n] : per_class) EXPECT_EQ(n, 1000) << "class " << label;  // the test split is balanced
    EXPECT_EQ(labels[0], 9);  // the first test image is an ankle boot
    EXPECT_EQ(od::fashion_mnist_classes[9], "Ankle boot");
    const auto px = d.images.to_vector<float>();
    const auto [lo, hi] = std::minmax_element(px.begin(), px.end());
    EXPECT_EQ(*lo, 0.0f);
    EXPECT_EQ(*hi, 1.0f);
    // A subset of the training split reads only its head.
    const od::ImageDataset train = od::load_fashion_mnist(od::Split::train, 500, dir);
    EXPECT_EQ(train.size(), 500);
    EXPECT_EQ(train.images.shape(), (omni::Shape{500, 28, 28}));
}

TEST(Datasets, WordnetGlosses) {
    const fs::path tsv = od::data_dir() / "wordnet" / "glosses.tsv";
    if (!fs::exists(tsv)) GTEST_SKIP() << "no " << tsv << " (run scripts/data/wordnet_text.py)";
    const od::TextDataset d = od::load_text_tsv();
    ASSERT_EQ(d.size(), 300);  // the fixture's --count
    std::map<std::int64_t, std::string> name_of;
    for (std::int64_t i = 0; i < d.size(); ++i) {
        EXPECT_LT(d.labels[i], 45);
        EXPECT_FALSE(d.texts[i].empty());
        const auto [it, fresh] = name_of.emplace(d.labels[i], d.label_names[i]);
        EXPECT_EQ(it->second, d.label_names[i]) << "one name per label";
    }
    EXPECT_GT(name_of.size(), 20u);  // a shuffled subset reaches most lexicographer files
    EXPECT_EQ(od::load_text_tsv(tsv, 7).size(), 7);
}

TEST(Datasets, SpokenWords) {
    const fs::path tsv = od::data_dir() / "spoken_words" / "labels.tsv";
    if (!fs::exists(tsv)) GTEST_SKIP() << "no " << tsv << " (run scripts/data/spoken_words.py)";
    const od::AudioDataset d = od::load_audio_tsv();
    ASSERT_EQ(d.size(), 20);  // one clip of each of the 20 words
    for (std::int64_t i = 0; i < d.size(); ++i) {
        EXPECT_EQ(d.labels[i], i % 10);
        EXPECT_EQ(d.vocab[i], i < 10 ? "fashion" : "digit");
        if (i < 10) {
            EXPECT_EQ(d.words[i], od::fashion_mnist_classes[i]);  // labels shared with the images
        }
        std::ifstream wav(d.paths[i], std::ios::binary);
        char riff[4] = {};
        wav.read(riff, 4);
        EXPECT_EQ(std::string(riff, 4), "RIFF") << d.paths[i];
    }
}

TEST(Datasets, MalformedTsvNamesFileAndLine) {
    const fs::path dir = fs::temp_directory_path() / ("omni_datasets_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "header.tsv") << "id\ttext\n1\thello\n";
    EXPECT_EQ(error_of([&] { od::load_text_tsv(dir / "header.tsv"); }),
              "io_error: load_text_tsv: expected a header starting 'label\\tlexname\\tgloss' in '" + (dir / "header.tsv").string() +
                  "', got 'id\ttext'");
    std::ofstream(dir / "label.tsv") << "label\tlexname\tgloss\n3\tnoun.act\tfine\nx\tnoun.act\tbad\n";
    EXPECT_EQ(error_of([&] { od::load_text_tsv(dir / "label.tsv"); }),
              "io_error: load_text_tsv: expected a non-negative integer label, got 'x' at " + (dir / "label.tsv").string() + ":3");
    std::ofstream(dir / "short.tsv") << "path\tlabel\tvocab\tword\na.wav\t1\n";
    EXPECT_EQ(error_of([&] { od::load_audio_tsv(dir / "short.tsv"); }),
              "io_error: load_audio_tsv: expected 4 tab-separated fields, got 2 at " + (dir / "short.tsv").string() + ":2");
    EXPECT_EQ(error_of([&] { od::load_audio_tsv(dir / "missing.tsv"); }),
              "io_error: load_audio_tsv: expected a readable TSV file, got none at '" + (dir / "missing.tsv").string() + "'");
    fs::remove_all(dir);
}

}  // namespace

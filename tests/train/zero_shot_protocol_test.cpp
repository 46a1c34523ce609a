// train/zero_shot_protocol.hpp on synthetic features whose answer is known: three classes whose
// "image" and "audio" features are two different linear maps of the same class codes, and a text
// encoder that maps each prompt to its class's code plus a template-dependent jitter. SAIL must
// learn to classify unseen-template prompts and to retrieve across modalities it never paired.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "omni/train/zero_shot_protocol.hpp"

namespace {

using namespace omni;
using train::ZeroShotTask;

constexpr std::int64_t D = 16, C = 3;
const std::vector<std::string> names{"heron", "walrus", "lynx"};

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const omni::error& e) {
        return e.what();
    }
    return "no exception";
}

// The synthetic world: class codes [C, D] and one mixing matrix per modality.
struct World {
    Tensor<cpu> codes, image_map, audio_map;
    World() {
        Generator g(5);
        codes = Tensor<cpu>::randn({C, D}, g);
        image_map = Tensor<cpu>::randn({D, D}, g);
        audio_map = Tensor<cpu>::randn({D, D}, g);
    }
    // n items per class, features = code(label) @ map + noise; labels class-major.
    std::pair<Tensor<cpu>, Tensor<cpu>> items(const Tensor<cpu>& map, std::int64_t per_class, std::uint64_t seed) const {
        std::vector<std::int64_t> y;
        for (std::int64_t c = 0; c < C; ++c)
            for (std::int64_t i = 0; i < per_class; ++i) y.push_back(c);
        const Tensor<cpu> labels = Tensor<cpu>::from_data(y, {C * per_class});
        Generator g(seed);
        const Tensor<cpu> x = matmul(index_select(codes, 0, labels), map) + Tensor<cpu>::randn({C * per_class, D}, g) * 0.3;
        return {x.contiguous(), labels};
    }
    // A prompt's features: the code of the class it names, plus a jitter fixed by its text.
    Tensor<cpu> encode_text(const std::vector<std::string>& texts) const {
        std::vector<Tensor<cpu>> rows;
        for (const auto& t : texts) {
            std::int64_t c = 0;
            while (c < C && t.find(names[c]) == std::string::npos) ++c;
            EXPECT_LT(c, C) << "prompt names no class: " << t;
            Generator g(std::hash<std::string>{}(t));
            rows.push_back(codes.select(0, c) + Tensor<cpu>::randn({D}, g) * 0.2);
        }
        return stack(rows, 0);
    }
};

ZeroShotTask task(const World& w, const std::string& m, const Tensor<cpu>& map) {
    auto [xtr, ytr] = w.items(map, 40, m == "image" ? 1 : 2);
    auto [xte, yte] = w.items(map, 20, m == "image" ? 3 : 4);
    return {.modality = m, .train_features = xtr, .train_labels = ytr, .test_features = xte, .test_labels = yte, .class_names = names,
            .train_templates = {"a photo of a {}.", "a {}.", "the {} again"}, .test_templates = {"an image of the {}.", "{}, probably"}};
}

const train::ZeroShotProtocol protocol{.joint_dim = D, .sail = {.epochs = 20, .batch_size = 32, .lr = 1e-2}, .text_modality = "text", .seed = 9};

TEST(ZeroShotProtocol, PromptsAreClassMajor) {
    EXPECT_EQ(train::fill_template("a photo of a {}.", "lynx"), "a photo of a lynx.");
    const auto p = train::class_prompts({"a", "b"}, {"x {}", "{} y", "{}"});
    EXPECT_EQ(p, (std::vector<std::string>{"x a", "a y", "a", "x b", "b y", "b"}));
    EXPECT_EQ(error_of([] { train::fill_template("no slot", "w"); }), "value_error: train::fill_template: expected a template with '{}', got 'no slot'");
    EXPECT_THROW(train::class_prompts({}, {"{}"}), value_error);
}

TEST(ZeroShotProtocol, CaptionsComeFromTheItemsClass) {
    // Caption row c * T + t holds the value 10 c + t in every column, so a row names its origin.
    constexpr std::int64_t T = 4;
    std::vector<float> v;
    for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t t = 0; t < T; ++t)
            for (std::int64_t d = 0; d < 2; ++d) v.push_back(static_cast<float>(10 * c + t));
    const Tensor<cpu> caps = Tensor<cpu>::from_data(v, {C * T, 2});
    const std::vector<std::int64_t> y{2, 0, 1, 1, 2, 0, 0, 2, 1, 1, 0, 2};
    const Tensor<cpu> labels = Tensor<cpu>::from_data(y, {static_cast<std::int64_t>(y.size())});
    Generator g1(3), g2(3);
    const auto a = train::pair_with_captions(caps, labels, T, g1).to_vector<float>();
    const auto b = train::pair_with_captions(caps, labels, T, g2).to_vector<float>();
    EXPECT_EQ(a, b);  // same stream, same pairs
    std::vector<int> used(T, 0);
    for (std::size_t i = 0; i < y.size(); ++i) {
        const int origin = static_cast<int>(a[2 * i]);
        EXPECT_EQ(origin / 10, y[i]) << "item " << i;
        ++used[origin % 10];
    }
    EXPECT_GT(std::count_if(used.begin(), used.end(), [](int u) { return u > 0; }), 1);  // not always the same template
    const Tensor<cpu> bad = Tensor<cpu>::from_data(std::vector<std::int64_t>{0, 3}, {2});
    EXPECT_EQ(error_of([&] { train::pair_with_captions(caps, bad, T, g1); }), "value_error: train::pair_with_captions: expected labels in [0, 3), got 3");
    EXPECT_THROW(train::pair_with_captions(caps, labels, 5, g1), shape_error);
}

TEST(ZeroShotProtocol, ClassifiesUnseenPromptsAndRetrievesAcrossModalities) {
    const World w;
    const train::TextEncoder text = [&w](const std::vector<std::string>& t) { return w.encode_text(t); };
    const auto r = train::sail_zero_shot({task(w, "image", w.image_map), task(w, "audio", w.audio_map)}, text, protocol);
    ASSERT_EQ(r.top1.size(), 2u);
    EXPECT_GT(r.top1[0], 0.9);  // chance: 1/3
    EXPECT_GT(r.top1[1], 0.9);
    EXPECT_LT(r.losses.back(), r.losses.front());
    EXPECT_EQ(r.aligner.cfg.modalities, (std::vector<std::string>{"image", "audio", "text"}));

    // Audio never met images in training: both were only paired with text.
    const auto [qa, ya] = w.items(w.audio_map, 10, 7);
    const auto [gi, yi] = w.items(w.image_map, 20, 8);
    const double p = train::cross_modal_precision_at_k(r.aligner, "audio", qa, ya, "image", gi, yi, C, 10);
    EXPECT_GT(p, 0.9);  // chance: 1/3
    // Queries of a class the gallery lacks are left out: adding some changes nothing.
    const Tensor<cpu> ya_extra = concat(std::vector<Tensor<cpu>>{ya, Tensor<cpu>::full({5}, 7, dtype::i64)}, 0);
    const Tensor<cpu> qa_extra = concat(std::vector<Tensor<cpu>>{qa, qa.slice(0, 0, 5)}, 0);
    EXPECT_EQ(train::cross_modal_precision_at_k(r.aligner, "audio", qa_extra, ya_extra, "image", gi, yi, C, 10), p);
    EXPECT_EQ(train::cross_modal_precision_at_k(r.aligner, "audio", qa.slice(0, 0, 5), Tensor<cpu>::full({5}, 7, dtype::i64), "image", gi, yi, C, 10), 0.0);
    // k beyond the gallery is clipped to it: every item is retrieved, a third relevant.
    EXPECT_NEAR(train::cross_modal_precision_at_k(r.aligner, "audio", qa, ya, "image", gi, yi, C, 1000), 1.0 / 3.0, 1e-9);
}

TEST(ZeroShotProtocol, SameSeedSameResult) {
    const World w;
    const train::TextEncoder text = [&w](const std::vector<std::string>& t) { return w.encode_text(t); };
    const auto a = train::sail_zero_shot({task(w, "image", w.image_map)}, text, protocol);
    const auto b = train::sail_zero_shot({task(w, "image", w.image_map)}, text, protocol);
    EXPECT_EQ(a.losses, b.losses);
    EXPECT_EQ(a.top1, b.top1);
}

TEST(ZeroShotProtocol, RefusesBadInputByName) {
    const World w;
    const train::TextEncoder text = [&w](const std::vector<std::string>& t) { return w.encode_text(t); };
    EXPECT_EQ(error_of([&] { train::sail_zero_shot({}, text, protocol); }), "value_error: train::sail_zero_shot: expected at least one task, got none");
    ZeroShotTask narrow = task(w, "audio", w.audio_map);
    narrow.test_features = narrow.test_features.slice(1, 0, D - 1).contiguous();
    EXPECT_EQ(error_of([&] { train::sail_zero_shot({task(w, "image", w.image_map), narrow}, text, protocol); }),
              "shape_error: train::sail_zero_shot: task 'audio': expected features [N, 16], got [60, 15]");
    const train::TextEncoder short_text = [&w](const std::vector<std::string>& t) { return w.encode_text(t).slice(0, 1, static_cast<std::int64_t>(t.size())); };
    EXPECT_EQ(error_of([&] { train::sail_zero_shot({task(w, "image", w.image_map)}, short_text, protocol); }),
              "shape_error: train::sail_zero_shot: task 'image': expected the text encoder to return [9, 16], got [8, 16]");
    Generator g(0);
    const train::SailAligner al({.in = D, .out = D, .modalities = {"audio", "image"}}, g);
    EXPECT_THROW(train::cross_modal_precision_at_k(al, "audio", Tensor<cpu>::zeros({4, D}), Tensor<cpu>::zeros({3}, dtype::i64), "image",
                                                   Tensor<cpu>::zeros({4, D}), Tensor<cpu>::zeros({4}, dtype::i64), C, 10),
                 shape_error);
    EXPECT_THROW(train::cross_modal_precision_at_k(al, "audio", Tensor<cpu>::zeros({4, D}), Tensor<cpu>::zeros({4}, dtype::i64), "image",
                                                   Tensor<cpu>::zeros({4, D}), Tensor<cpu>::zeros({4}, dtype::i64), C, 0),
                 value_error);
}

}  // namespace

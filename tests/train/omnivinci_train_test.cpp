// train/omnivinci.hpp on a small generated clip set (fixture av_clips): the stages run and
// resume, batches are laid out as documented, and the teacher-forced exact match equals greedy
// decoding sample by sample.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "omni/backend/cpu.hpp"
#include "omni/train/omnivinci.hpp"

using namespace omni;
namespace fs = std::filesystem;
using P = autodiff<cpu>;

namespace {

struct ClipSetup {
    std::vector<data::AvClip> clips;
    data::WordVocab vocab;
    models::OmniVinciConfig cfg;
    train::OmniVinciRecipe recipe;
};

const ClipSetup& setup() {
    static const ClipSetup s = [] {
        ClipSetup s;
        const char* dir = std::getenv("OMNI_AV_CLIPS_DIR");
        s.clips = data::load_av_clips(dir ? fs::path(dir) : data::av_clips_dir());
        std::vector<std::string> texts;
        for (const auto& c : s.clips)
            for (const auto& q : c.questions) texts.push_back(q.text), texts.push_back(q.answer);
        s.vocab = data::WordVocab::build(texts);
        s.cfg = models::omnivinci_presets::tiny;
        s.cfg.llm.vocab = s.vocab.size();
        s.cfg.media_token = data::WordVocab::media;
        s.cfg.separator_token = data::WordVocab::sep;
        s.recipe.batch = 4, s.recipe.encoder_batch = 2;
        s.recipe.vision_steps = 2, s.recipe.audio_steps = 2, s.recipe.align_steps = 3, s.recipe.joint_steps = 6;
        return s;
    }();
    return s;
}

fs::path fresh(const char* name) {
    const fs::path d = fs::temp_directory_path() / name;
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

std::vector<float> weights_of(models::OmniVinci<P>& m) {
    std::vector<float> out;
    for (const auto& [name, t] : io::state_dict(m)) {
        const auto v = t.to_vector<float>();
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

}  // namespace

TEST(OmniVinciTrain, BatchLayout) {
    const ClipSetup& s = setup();
    const train::ClipInputs in = train::prepare_inputs(s.cfg, s.clips, s.recipe);
    ASSERT_EQ(in.mel.size(), s.clips.size());
    EXPECT_EQ(in.mel[0].shape(), Shape({s.cfg.audio.n_mels, s.cfg.audio.input_frames()}));
    Generator g(1);
    const models::OmniVinci<P> m(s.cfg, g);
    const train::ClipFeatures f = train::encode_clips<cpu>(m, in);
    const std::vector<train::QaSample> two{{0, 0}, {1, 0}};
    const auto b = train::make_batch<P>(f, s.clips, s.vocab, two);
    const auto ids = nn::value_of(b.ids).template to_vector<std::int64_t>();
    const auto labels = nn::value_of(b.labels).template to_vector<std::int64_t>();
    const std::int64_t L = b.ids.shape()[1];
    for (std::int64_t r = 0; r < 2; ++r) {
        const auto& q = s.clips[static_cast<std::size_t>(r)].questions[0];
        const auto qt = s.vocab.encode(q.text), ans = s.vocab.encode(q.answer);
        EXPECT_EQ(ids[r * L], data::WordVocab::media);
        for (std::size_t i = 0; i < qt.size(); ++i) EXPECT_EQ(ids[r * L + 1 + i], qt[i]);
        for (std::size_t i = 0; i <= qt.size(); ++i) EXPECT_EQ(labels[r * L + i], -100);
        const std::int64_t a0 = r * L + 1 + static_cast<std::int64_t>(qt.size());
        for (std::size_t i = 0; i < ans.size(); ++i) EXPECT_EQ(labels[a0 + i], ans[i]);
        EXPECT_EQ(labels[a0 + ans.size()], data::WordVocab::eos);
    }
    EXPECT_EQ(b.frame_counts[0], s.clips[0].frames.shape()[0]);
    EXPECT_EQ(b.vision_features.shape()[0], s.clips[0].frames.shape()[0] + s.clips[1].frames.shape()[0]);
}

TEST(OmniVinciTrain, StagesRunResumeAndScoreLikeGreedyDecoding) {
    const ClipSetup& s = setup();
    const fs::path dir = fresh("omni_omnivinci_train");
    const train::ClipInputs in = train::prepare_inputs(s.cfg, s.clips, s.recipe);
    const train::OmniVinciRunOptions run{.checkpoint_dir = dir, .progress = nullptr};
    Generator g(7);
    models::OmniVinci<P> m(s.cfg, g);
    const auto v = train::pretrain_vision<cpu>(m, s.clips, in, s.recipe, 7, run);
    const auto a = train::pretrain_audio<cpu>(m, s.clips, in, s.recipe, 7, run);
    EXPECT_EQ(v.steps, 2);
    EXPECT_EQ(a.steps, 2);
    const train::ClipFeatures f = train::encode_clips<cpu>(m, in);
    const auto [first, joint] = train::train_qa<cpu>(m, f, s.clips, s.vocab, s.recipe, 7, run);
    EXPECT_EQ(first.steps, 3);
    EXPECT_EQ(joint.steps, 6);
    for (float x : joint.losses) EXPECT_TRUE(std::isfinite(x));
    EXPECT_TRUE(fs::exists(dir / "joint.ckpt"));

    // A second model resumes both stages from their final checkpoints: the same weights.
    Generator g2(7);
    models::OmniVinci<P> again(s.cfg, g2);
    const auto [first2, joint2] = train::train_qa<cpu>(again, f, s.clips, s.vocab, s.recipe, 7, run);
    EXPECT_EQ(joint2.resumed_from, 6);
    EXPECT_EQ(weights_of(m), weights_of(again));

    const train::QaScores sc = train::evaluate_qa<cpu>(m, f, s.clips, s.vocab, "val");
    std::int64_t n = 0;
    for (const auto& [t, c] : sc.count) n += c;
    EXPECT_EQ(n, sc.total);
    EXPECT_EQ(static_cast<std::int64_t>(sc.correct.size()), sc.total);
    EXPECT_GE(sc.overall, 0.0);
    EXPECT_LE(sc.overall, 1.0);
    // max_clips: the questions of the first val clip only, scored as in the full evaluation.
    const auto first_val = std::find_if(s.clips.begin(), s.clips.end(), [](const data::AvClip& c) { return c.split == "val"; });
    const train::QaScores one = train::evaluate_qa<cpu>(m, f, s.clips, s.vocab, "val", 32, 1);
    EXPECT_EQ(one.total, static_cast<std::int64_t>(first_val->questions.size()));
    for (std::size_t i = 0; i < one.correct.size(); ++i) EXPECT_EQ(one.correct[i], sc.correct[i]);

    // Exact match by teacher forcing == greedy generation, question by question.
    std::size_t k = 0;
    for (std::size_t c = 0; c < s.clips.size(); ++c) {
        if (s.clips[c].split != "val") continue;
        for (std::size_t q = 0; q < s.clips[c].questions.size(); ++q, ++k) {
            const train::QaSample one{static_cast<std::int32_t>(c), static_cast<std::int32_t>(q)};
            auto b = train::make_batch<P>(f, s.clips, s.vocab, std::span(&one, 1));
            const auto& qq = s.clips[c].questions[q];
            b.ids = b.ids.slice(1, 0, 1 + static_cast<std::int64_t>(s.vocab.encode(qq.text).size()));
            b.labels = Tensor<P>();
            Generator gg(0);
            auto want = s.vocab.encode(qq.answer);
            want.push_back(data::WordVocab::eos);
            const auto got = models::generate(m, b, {.max_new_tokens = static_cast<std::int64_t>(want.size()), .stop_tokens = {data::WordVocab::eos}}, gg);
            EXPECT_EQ(got == want, static_cast<bool>(sc.correct[k])) << qq.text;
        }
    }
    EXPECT_EQ(k, sc.correct.size());
}

TEST(OmniVinciTrain, RefusesTooFewClips) {
    const ClipSetup& s = setup();
    train::OmniVinciRecipe big = s.recipe;
    big.batch = 100000;
    Generator g(3);
    models::OmniVinci<P> m(s.cfg, g);
    const train::ClipFeatures f;
    EXPECT_THROW((void)train::train_qa<cpu>(m, f, s.clips, s.vocab, big, 3, {}), value_error);
}

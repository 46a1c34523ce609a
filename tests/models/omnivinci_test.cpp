// The assembled OmniVinci model: parameter counts (paper preset at compile time, tiny against the
// instance), media lengths and masked labels for the four ablation configurations, the splice
// against Qwen2::forward_embeddings on hand-built rows, the features path against the raw path,
// float64 gradcheck through every part, 30 AdamW steps with a bit-exact resume, cached generation
// against full recomputes, the config's visit, and the typed errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <unistd.h>

#include "omni/autodiff/gradcheck.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/models/omnivinci.hpp"
#include "omni/train/loop.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;
namespace models = omni::models;
namespace train = omni::train;
namespace fs = std::filesystem;

namespace {
constexpr auto f64 = omni::dtype::f64;
constexpr models::OmniVinciConfig tiny = models::omnivinci_presets::tiny;

// The paper preset: OmniVinci-9B (8.71 B without the training-only OmniAlignNet).
constexpr models::OmniVinciConfig paper = models::omnivinci_presets::paper;
static_assert(models::parameter_count(paper) == 9'738'728'688);
static_assert(models::parameter_count(paper) - models::parameter_count(paper.align_net) == 8'710'808'816);

// Two clips: 3 frames at 1 fps with 2.5 s of audio, and 1 frame at 2 fps with a full chunk of
// audio (it outlasts the 0.5 s video). Prompts of 6 tokens, the placeholder at 2 and at 4.
template <class P> models::OmniBatch<P> two_clips(const models::OmniVinciConfig& c, omni::Generator& g, omni::dtype t = omni::dtype::f32) {
    models::OmniBatch<P> b;
    b.frames = omni::Tensor<P>(D::randn({4, c.vision.channels, c.vision.height, c.vision.width}, g, t));
    b.frame_counts = {3, 1};
    b.fps = {1.0, 2.0};
    b.mel = omni::Tensor<P>(D::randn({2, c.audio.n_mels, c.audio.input_frames()}, g, t));
    b.audio_seconds = {2.5, c.chunk_seconds()};
    const std::int64_t m = c.media_token;
    b.ids = omni::Tensor<P>(D::from_data(std::vector<std::int64_t>{1, 2, m, 3, 4, 5, 6, 7, 8, 9, m, 10}, {2, 6}));
    b.labels = omni::Tensor<P>(D::from_data(std::vector<std::int64_t>{-100, -100, -100, 3, 4, 5, -100, -100, -100, -100, -100, 10}, {2, 6}));
    return b;
}

models::OmniVinciConfig ablation(int level) {  // 0 concat, 1 +TEG, 2 +TEG+CRTE, 3 +TEG+CRTE+align
    models::OmniVinciConfig c = tiny;
    c.teg = level >= 1, c.crte = level >= 2, c.align = level >= 3;
    return c;
}

std::vector<double> values(const D& t) { return t.contiguous().to_vector<double>(); }
}  // namespace

TEST(OmniVinci, ParameterCounts) {
    // The paper preset is the sum of its parts (ViT 413 M, Whisper-large-v3 635 M, Qwen2.5-7B,
    // the projectors, OmniAlignNet 1.03 B).
    const std::int64_t C = 3584, v = 1152, a = 1280;
    EXPECT_EQ(models::parameter_count(paper), paper.vision.parameter_count() + paper.audio.parameter_count() +
                                                  models::parameter_count(paper.llm) + (8 * v + 4 * v * C + C + C * C + C) +
                                                  (a * C + C + C * C + C) + models::parameter_count(paper.align_net));
    EXPECT_EQ(paper.vision.parameter_count(), 413'327'088);
    EXPECT_EQ(paper.tokens_per_frame(), 256);
    EXPECT_EQ(paper.audio.output_tokens(), 750);
    EXPECT_DOUBLE_EQ(paper.chunk_seconds(), 30.0);
    // The tiny preset and variants: the constexpr count equals the instance's.
    for (int variant = 0; variant < 4; ++variant) {
        models::OmniVinciConfig c = tiny;
        if (variant == 1) c.align = false;
        if (variant == 2) c.align_net.shared_query = c.align_net.shared_layers = true, c.align_loss.scale = omni::loss::align_scale::learnable;
        if (variant == 3) c.vision.class_token = true, c.vision.global_pool = nn::vit_pool::token, c.llm.tie_embeddings = false, c.align_net.n_queries = 3;
        omni::Generator g(1);
        models::OmniVinci<omni::cpu> m(c, g);
        EXPECT_EQ(models::parameter_count(c), nn::parameter_count(m)) << "variant " << variant;
    }
    EXPECT_EQ(models::parameter_count(tiny), 451'008);
}

TEST(OmniVinci, ConfigVisitListsEveryField) {
    EXPECT_NO_THROW(train::check_visits_every_field(paper, "OmniVinciConfig"));
    EXPECT_NO_THROW(train::check_visits_every_field(paper.llm, "Qwen2Config"));
    const auto nested = [](const auto& c) {
        train::FieldCounter n;
        models::detail::ConfigFields<std::decay_t<decltype(c)>>{c}.visit(n);
        return n.identity;
    };
    EXPECT_EQ(nested(paper.vision), train::detail::field_count<nn::VisionTransformerConfig>());
    EXPECT_EQ(nested(paper.audio), train::detail::field_count<nn::WhisperEncoderConfig>());
    EXPECT_EQ(nested(paper.time), train::detail::field_count<nn::CrteConfig>());
    EXPECT_EQ(nested(paper.align_net), train::detail::field_count<nn::OmniAlignNetConfig>());
    EXPECT_EQ(nested(paper.align_loss), train::detail::field_count<omni::loss::OmniAlignLossConfig>());
    // A nested change reaches the identity.
    models::OmniVinciConfig c = tiny;
    const std::string before = train::RunIdentity().options("model", c).str();
    c.time.T_max = 17;
    EXPECT_NE(train::RunIdentity().options("model", c).str(), before);
    EXPECT_NE(train::describe(c).find("teg true"), std::string::npos);
}

TEST(OmniVinci, MediaLengthsAndMaskedLabelsForEveryAblation) {
    // Clip 0: 3 frames x 4 tokens; audio tokens of 40 ms starting before 2.5 s: 63.
    // Clip 1: 1 frame x 4 tokens; all 200 audio tokens.
    // TEG (T_G 2 s): clip 0 has segments [0, 2) and [2, 3): 8 | SEP | ceil(200 x 63/250) = 51 | SEP |
    // 4 | SEP | 12 | SEP = 79; clip 1 lasts 0.5 s: 4 | SEP | ceil(50 x 200/800) = 13 | SEP = 19 (the
    // audio after the video's end is dropped).
    const std::int64_t concat_len[2] = {12 + 63, 4 + 200}, teg_len[2] = {79, 19};
    for (int level = 0; level < 4; ++level) {
        const auto c = ablation(level);
        omni::Generator g(2);
        models::OmniVinci<A> m(c, g);
        const auto batch = two_clips<A>(c, g);
        const auto out = m(batch);
        const std::int64_t* want = level == 0 ? concat_len : teg_len;
        ASSERT_EQ(out.media_length, (std::vector<std::int64_t>{want[0], want[1]})) << "level " << level;
        EXPECT_EQ(out.media_begin, (std::vector<std::int64_t>{2, 4}));
        const std::int64_t L0 = 5 + want[0], L1 = 5 + want[1], Lmax = std::max(L0, L1);
        EXPECT_EQ(out.lengths, (std::vector<std::int64_t>{L0, L1}));
        EXPECT_EQ(out.logits.shape(), (omni::Shape{2, Lmax, c.llm.vocab}));
        // Labels: text labels move past the media; media and padding are ignored.
        const auto lab = nn::value_of(out.labels).to_vector<std::int64_t>();
        std::vector<std::int64_t> row0(Lmax, -100), row1(Lmax, -100);
        row0[2 + want[0]] = 3, row0[3 + want[0]] = 4, row0[4 + want[0]] = 5;
        row1[4 + want[1]] = 10;
        EXPECT_EQ(std::vector<std::int64_t>(lab.begin(), lab.begin() + Lmax), row0);
        EXPECT_EQ(std::vector<std::int64_t>(lab.begin() + Lmax, lab.end()), row1);
        EXPECT_TRUE(std::isfinite(out.loss.item<double>()));
        EXPECT_EQ(out.align_loss.defined(), level == 3);
        if (level == 3) EXPECT_NEAR(out.loss.item<double>(), out.lm_loss.item<double>() + out.align_loss.item<double>(), 1e-5);
        else EXPECT_EQ(out.loss.item<double>(), out.lm_loss.item<double>());
    }
}

TEST(OmniVinci, MediaLayoutConcatAndTegWithoutCrte) {
    omni::Generator g(3);
    auto c = ablation(1);  // TEG, no CRTE: the media are copies of the projected tokens
    const models::OmniVinci<omni::cpu> m(c, g);
    const auto batch = two_clips<omni::cpu>(c, g);
    const auto media = m.media(batch);
    const D sep = m.llm.model.embed_tokens.weight.select(0, c.separator_token);
    const D& vis = media.visual[0];
    const D& aud = media.audio[0];
    ASSERT_EQ(vis.shape(), (omni::Shape{12, 64}));
    ASSERT_EQ(aud.shape(), (omni::Shape{63, 64}));
    // [v 0..7][SEP][a 0..50][SEP][v 8..11][SEP][a 51..62][SEP]
    std::vector<D> want;
    for (std::int64_t i = 0; i < 8; ++i) want.push_back(vis.select(0, i));
    want.push_back(sep);
    for (std::int64_t i = 0; i < 51; ++i) want.push_back(aud.select(0, i));
    want.push_back(sep);
    for (std::int64_t i = 8; i < 12; ++i) want.push_back(vis.select(0, i));
    want.push_back(sep);
    for (std::int64_t i = 51; i < 63; ++i) want.push_back(aud.select(0, i));
    want.push_back(sep);
    ASSERT_EQ(media.sequence[0].shape()[0], static_cast<std::int64_t>(want.size()));
    for (std::size_t p = 0; p < want.size(); ++p) ASSERT_EQ(values(media.sequence[0].select(0, p)), values(want[p])) << "position " << p;
    // The projected visual tokens are the projector over the encoder's patch grid (up to the last
    // bits: a batch of other size may take another GEMM path, Eigen's or omni's sgemm).
    const D proj = m.vision_projector(m.encode_frames(batch.frames.slice(0, 0, 3)), 4, 4).reshape({12, 64});
    const auto pv = values(proj), vv = values(vis);
    ASSERT_EQ(pv.size(), vv.size());
    for (std::size_t i = 0; i < vv.size(); ++i) EXPECT_NEAR(vv[i], pv[i], 1e-5) << "at " << i;
    // With CRTE, frame 1's tokens turn by omega_0 x 1 s; t = 0 (frame 0) leaves them alone.
    c.crte = true;
    omni::Generator g2(3);
    const models::OmniVinci<omni::cpu> mc(c, g2);
    const auto rotated = mc.media(batch).sequence[0];
    EXPECT_EQ(values(rotated.slice(0, 0, 4)), values(vis.slice(0, 0, 4)));
    EXPECT_NE(values(rotated.slice(0, 4, 8)), values(vis.slice(0, 4, 8)));
}

TEST(OmniVinci, AudioPoolAveragesGroupsOfTokensAndKeepsTheirTimes) {
    omni::Generator g(5);
    auto c = ablation(0);
    c.audio_pool = 4;  // 200 encoder tokens -> 50 of 160 ms
    EXPECT_EQ(c.audio_tokens(), 50);
    EXPECT_DOUBLE_EQ(c.audio_token_seconds(), 0.16);
    const models::OmniVinci<omni::cpu> m(c, g);
    const auto batch = two_clips<omni::cpu>(c, g);
    const auto media = m.media(batch);
    // 2.5 s of audio keeps the tokens whose window starts before it: ceil(2.5 / 0.16) = 16.
    EXPECT_EQ(m.audio_tokens_kept(2.5), 16);
    ASSERT_EQ(media.audio[0].shape(), (omni::Shape{16, 64}));
    ASSERT_EQ(media.audio[1].shape(), (omni::Shape{50, 64}));
    // Token k is the projector over the mean of encoder tokens 4k .. 4k+3.
    const D enc = m.encode_audio(batch.mel);
    for (std::int64_t k : {0, 7, 15}) {
        const D group = omni::mean(enc.select(0, 0).slice(0, 4 * k, 4 * k + 4), {0}, true);
        const D want = m.audio_projector(group.unsqueeze(0)).reshape({64});
        const auto got = values(media.audio[0].select(0, k)), ref = values(want);
        for (std::size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-5) << "token " << k;
    }
    // Pooling by more than the encoder's tokens is refused.
    c.audio_pool = 201;
    omni::Generator g2(5);
    EXPECT_THROW((models::OmniVinci<omni::cpu>(c, g2)), omni::value_error);
}

TEST(OmniVinci, SpliceEqualsForwardEmbeddingsOnHandBuiltRowsAndFeaturesPathIsExact) {
    omni::Generator g(4);
    models::OmniVinci<omni::cpu> m(ablation(3), g);
    nn::cast(m, f64);
    const auto batch = two_clips<omni::cpu>(m.cfg, g, f64);
    const auto out = m(batch);
    const auto media = m.media(batch);
    for (std::int64_t b = 0; b < 2; ++b) {
        const D ids = batch.ids.select(0, b);
        const std::int64_t p = out.media_begin[b];
        const D text = m.llm.model.embed_tokens(ids);
        const D row = omni::concat(std::vector<D>{text.slice(0, 0, p), media.sequence[b], text.slice(0, p + 1, 6)}, 0);
        const D want = m.llm.forward_embeddings(row.unsqueeze(0)).squeeze(0);
        const auto got = values(out.logits.select(0, b).slice(0, 0, out.lengths[b])), ref = values(want);
        ASSERT_EQ(got.size(), ref.size());
        for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], ref[i], 1e-10) << "row " << b << " at " << i;
    }
    // Precomputed encoder outputs give the same numbers bit for bit.
    auto feats = batch;
    feats.vision_features = m.encode_frames(batch.frames), feats.frames = D();
    feats.audio_features = m.encode_audio(batch.mel), feats.mel = D();
    const auto out2 = m(feats);
    EXPECT_EQ(values(out2.logits), values(out.logits));
    EXPECT_EQ(out2.loss.item<double>(), out.loss.item<double>());
    // The ids path of Qwen2 is the embeddings path on the table's rows, bit for bit.
    EXPECT_EQ(values(m.llm(batch.ids)), values(m.llm.forward_embeddings(m.llm.model.embed_tokens(batch.ids))));
}

TEST(OmniVinci, GradcheckThroughEveryPart) {
    // Tiny widths: 8x8 frames (2x2 patches -> 1 token per frame), 16 mel frames (0.16 s, 4 audio
    // tokens), width 8 everywhere; TEG, CRTE and OmniAlignNet on.
    models::OmniVinciConfig c{
        .vision = {.height = 8, .width = 8, .channels = 1, .patch = 4, .dim = 8, .depth = 1, .heads = 2, .class_token = false,
                   .global_pool = nn::vit_pool::avg, .fc_norm = false},
        .audio = {.n_mels = 4, .d_model = 8, .layers = 1, .heads = 2, .ffn_dim = 16, .max_source_positions = 8},
        .llm = {.vocab = 12, .hidden = 8, .layers = 1, .heads = 2, .kv_heads = 1, .intermediate = 16, .tie_embeddings = true, .init_std = 0.3},
        .segment_seconds = 0.1,
        .time = {.d = 4, .T_max = 0.5},
        .align_net = {.dim = 8, .heads = 2, .n_layers = 1},
        .align_loss = {.scale = omni::loss::align_scale::learnable},
        .align_weight = 0.5,
        .media_token = 11,
        .separator_token = 10,
    };
    omni::Generator g(5);
    models::OmniVinci<A> m(c, g);
    nn::cast(m, f64);
    models::OmniBatch<A> batch;
    batch.frames = V(D::randn({3, 1, 8, 8}, g, f64));
    batch.frame_counts = {2, 1};
    batch.fps = {10.0, 5.0};
    batch.mel = V(D::randn({2, 4, 16}, g, f64));
    batch.audio_seconds = {0.1, 0.16};
    batch.ids = V(D::from_data(std::vector<std::int64_t>{1, 11, 2, 3, 4, 5, 11, 6}, {2, 4}));
    batch.labels = V(D::from_data(std::vector<std::int64_t>{-100, -100, 2, 3, -100, 5, -100, 6}, {2, 4}));
    const std::vector<std::string> names = {
        "vision_tower.patch_embed.proj.bias", "vision_tower.blocks.0.attn.qkv.bias", "vision_tower.norm.weight",
        "sound_tower.conv1.bias",             "sound_tower.layers.0.fc2.bias",       "sound_tower.layer_norm.weight",
        "mm_projector.layers.1.weight",       "mm_projector.layers.4.weight",        "sound_mm_projector.layers.0.bias",
        "llm.model.embed_tokens.weight",      "llm.model.layers.0.self_attn.v_proj.bias", "llm.model.norm.weight",
        "align_net.query_v",                  "align_net.cross_a.v.bias",            "align_net.layers_v.0.mlp.fc2.bias",
        "align_loss.logit_scale"};
    std::vector<V> in;
    nn::for_each_parameter(m, [&](const std::string& n, V& t) {
        if (std::find(names.begin(), names.end(), n) != names.end()) in.push_back(t);
    });
    ASSERT_EQ(in.size(), names.size());
    in.push_back(V(batch.frames.value(), true));
    in.push_back(V(batch.mel.value(), true));
    const auto f = [&](const std::vector<V>& xs) {
        models::OmniVinci<A> copy = m;
        std::size_t i = 0;
        nn::for_each_parameter(copy, [&](const std::string& n, V& t) {
            if (std::find(names.begin(), names.end(), n) != names.end()) t = xs[i++];
        });
        auto b = batch;
        b.frames = xs[i], b.mel = xs[i + 1];
        return copy(b).loss;
    };
    const auto r = omni::gradcheck<omni::cpu>(f, in);
    EXPECT_TRUE(r.ok) << r.message;
}

namespace {
// A fixed batch of 4 clips (1-3 frames, 1.5-8 s of audio) whose answers are two words.
models::OmniBatch<A> four_clips(const models::OmniVinciConfig& c) {
    omni::Generator g(21);
    models::OmniBatch<A> b;
    b.frame_counts = {1, 2, 3, 2};
    b.fps = {1.0, 2.0, 1.5, 1.0};
    b.audio_seconds = {1.5, 4.0, 8.0, 2.25};
    b.frames = V(D::randn({8, 1, 28, 28}, g));
    b.mel = V(D::randn({4, c.audio.n_mels, c.audio.input_frames()}, g));
    const std::int64_t m = c.media_token;
    std::vector<std::int64_t> ids, labels;
    for (std::int64_t k = 0; k < 4; ++k) {
        const std::vector<std::int64_t> row{1, m, 2, 3, 10 + 5 * k, 11 + 7 * k % 13, 4};
        ids.insert(ids.end(), row.begin(), row.end());
        for (std::size_t i = 0; i < row.size(); ++i) labels.push_back(i >= 4 ? row[i] : -100);
    }
    b.ids = V(D::from_data(ids, {4, 7}));
    b.labels = V(D::from_data(labels, {4, 7}));
    return b;
}

struct Trainee {
    omni::Generator gen{9};
    models::OmniVinci<A> model{tiny, gen};
    omni::optim::AdamW<omni::cpu> opt{omni::optim::nn_param_groups(model, 0.01), {.lr = 3e-3}};
    std::vector<float> weights() {
        std::vector<float> w;
        nn::for_each_parameter(model, [&](const std::string&, V& t) {
            const auto x = t.value().to_vector<float>();
            w.insert(w.end(), x.begin(), x.end());
        });
        return w;
    }
};
}  // namespace

TEST(OmniVinci, TrainsOnAFixedBatchAndResumesBitExactly) {
    const auto batch = four_clips(tiny);
    const train::LoopOptions base{.steps = 30, .lr = 3e-3, .min_lr = 3e-4, .warmup = 3, .progress = nullptr, .label = "omnivinci"};
    const auto hooks = [&](Trainee& r) {
        train::LoopHooks<omni::cpu> h;
        h.step = [&r, &batch](const train::StepContext&) { return train::StepLoss<omni::cpu>{r.model(batch).loss, 4}; };
        h.identity = train::RunIdentity().options("model", r.model.cfg).str();
        return h;
    };
    Trainee straight;
    const auto r1 = train::run_loop(straight.model, straight.opt, straight.gen, base, hooks(straight));
    ASSERT_EQ(r1.losses.size(), 30u);
    EXPECT_LT(r1.losses.back(), 0.5f * r1.losses.front()) << r1.losses.front() << " -> " << r1.losses.back();

    const fs::path dir = fs::temp_directory_path() / ("omni_omnivinci_test_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto o = base;
    o.checkpoint = (dir / "run.ckpt").string();
    o.checkpoint_every = 15;
    o.stop_after = 15;
    Trainee first;
    EXPECT_EQ(train::run_loop(first.model, first.opt, first.gen, o, hooks(first)).steps, 15);
    o.stop_after = 0;
    Trainee resumed;
    const auto r3 = train::run_loop(resumed.model, resumed.opt, resumed.gen, o, hooks(resumed));
    EXPECT_EQ(r3.resumed_from, 15);
    EXPECT_EQ(r3.losses, r1.losses);
    EXPECT_EQ(resumed.weights(), straight.weights());
    fs::remove_all(dir);
}

TEST(OmniVinci, GreedyGenerationEqualsArgmaxOfFullForwards) {
    auto c = tiny;
    c.llm.init_std = 0.5;  // peaked logits: no near-ties
    omni::Generator g(6);
    const models::OmniVinci<omni::cpu> m(c, g);
    models::OmniBatch<omni::cpu> clip;
    clip.frames = D::randn({2, 1, 28, 28}, g);
    clip.frame_counts = {2};
    clip.fps = {1.0};
    clip.mel = D::randn({1, 40, 800}, g);
    clip.audio_seconds = {3.0};
    std::vector<std::int64_t> ids{5, c.media_token, 7, 8};
    clip.ids = D::from_data(ids, {1, 4});
    omni::Generator gg(0);
    const auto got = models::generate(m, clip, {.max_new_tokens = 6}, gg);
    ASSERT_EQ(got.size(), 6u);
    for (std::int64_t t : got) {
        auto full = clip;
        full.ids = D::from_data(ids, {1, static_cast<std::int64_t>(ids.size())});
        const auto out = m(full);
        const auto last = values(out.logits.select(0, 0).select(0, out.lengths[0] - 1));
        ASSERT_EQ(t, std::max_element(last.begin(), last.end()) - last.begin());
        ids.push_back(t);
    }
    EXPECT_TRUE(models::generate(m, clip, {.max_new_tokens = 0}, gg).empty());
    auto two = two_clips<omni::cpu>(c, g);
    EXPECT_THROW(models::generate(m, two, {}, gg), omni::shape_error);
}

TEST(OmniVinci, PartsFreezeForStagedTraining) {
    omni::Generator g(7);
    models::OmniVinci<A> m(tiny, g);
    const auto count = [&] {
        std::int64_t n = 0;
        for (const auto& grp : omni::optim::nn_param_groups(m, 0.1))
            for (const auto& p : grp.params) n += p.numel();
        return n;
    };
    EXPECT_EQ(count(), models::parameter_count(tiny));
    m.set_trainable(models::omni_part::vision, false);
    m.set_trainable(models::omni_part::audio, false);
    EXPECT_EQ(count(), models::parameter_count(tiny) - tiny.vision.parameter_count() - tiny.audio.parameter_count());
    nn::for_each_parameter(m, [](const std::string& n, V& t) {
        const bool frozen = n.rfind("vision_tower.", 0) == 0 || n.rfind("sound_tower.", 0) == 0;
        EXPECT_EQ(t.requires_grad(), !frozen) << n;
    });
    EXPECT_STREQ(models::OmniVinci<A>::prefix(models::omni_part::vision_projector), "mm_projector");
}

TEST(OmniVinci, TypedErrors) {
    omni::Generator g(8);
    const auto expect_error = [](auto&& f, const char* what) {
        try {
            f();
            ADD_FAILURE() << what << ": no error";
        } catch (const omni::error& e) {
            EXPECT_NE(std::string(e.what()).find("OmniVinci"), std::string::npos) << what << ": " << e.what();
        }
    };
    auto c = tiny;
    c.align_net.dim = 32, c.align_net.heads = 4;
    EXPECT_THROW(models::OmniVinci<omni::cpu>(c, g), omni::value_error);
    expect_error([&] { models::OmniVinci<omni::cpu>(c, g); }, "align dim");
    c = tiny, c.media_token = 64;
    EXPECT_THROW(models::OmniVinci<omni::cpu>(c, g), omni::value_error);
    c = tiny, c.separator_token = -1;
    EXPECT_THROW(models::OmniVinci<omni::cpu>(c, g), omni::value_error);
    c.teg = false;  // no separator needed without TEG
    EXPECT_NO_THROW(models::OmniVinci<omni::cpu>(c, g));

    const models::OmniVinci<omni::cpu> m(tiny, g);
    const auto good = two_clips<omni::cpu>(tiny, g);
    const auto bad = [&](auto edit, auto error, const char* what) {
        auto b = good;
        edit(b);
        EXPECT_THROW(m(b), decltype(error)) << what;
        expect_error([&] { m(b); }, what);
    };
    using B = models::OmniBatch<omni::cpu>;
    bad([](B& b) { b.ids = D::from_data(std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 63, 10, 11}, {2, 6}); }, omni::value_error{"", ""}, "no placeholder");
    bad([](B& b) { b.ids = D::from_data(std::vector<std::int64_t>{1, 63, 63, 4, 5, 6, 7, 8, 9, 63, 10, 11}, {2, 6}); }, omni::value_error{"", ""}, "two placeholders");
    bad([](B& b) { b.frame_counts = {2, 1}; }, omni::shape_error{"", ""}, "frame counts not summing to the frames");
    bad([](B& b) { b.frame_counts = {4}; }, omni::shape_error{"", ""}, "one frame count for two clips");
    bad([](B& b) { b.fps = {1.0, 0.0}; }, omni::value_error{"", ""}, "fps 0");
    bad([](B& b) { b.audio_seconds = {2.5, 8.5}; }, omni::value_error{"", ""}, "audio past the chunk");
    bad([](B& b) { b.audio_seconds = {0.0, 1.0}; }, omni::value_error{"", ""}, "no audio");
    bad([](B& b) { omni::Generator g1(1); b.mel = D::randn({1, 40, 800}, g1); }, omni::shape_error{"", ""}, "mel batch");
    bad([](B& b) { b.labels = D::zeros({2, 5}, omni::dtype::i64); }, omni::shape_error{"", ""}, "labels shape");
    bad([](B& b) { b.vision_features = D::zeros({4, 15, 64}); }, omni::shape_error{"", ""}, "vision features shape");
}

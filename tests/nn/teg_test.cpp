// Temporal Embedding Grouping: the released plan on a case worked by hand, the edge cases,
// grouping by timestamps, the applied sequence and its gradients (gradcheck, separator
// included), and the typed errors. The plan is also checked against a transcription of the
// released code on 38 cases in tests/parity/align_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "omni/autodiff/elementwise.hpp"
#include "omni/autodiff/gradcheck.hpp"
#include "omni/autodiff/reduce.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/time/teg.hpp"

using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;

namespace {
std::vector<std::int64_t> range(std::int64_t b, std::int64_t e) {
    std::vector<std::int64_t> r;
    for (auto i = b; i < e; ++i) r.push_back(i);
    return r;
}
std::vector<std::int64_t> join(std::initializer_list<std::vector<std::int64_t>> parts) {
    std::vector<std::int64_t> r;
    for (const auto& p : parts) r.insert(r.end(), p.begin(), p.end());
    return r;
}
// 10 s at 1 fps, T_G = 4 s: segments [0, 4), [4, 8), [8, 10); 2 tokens per frame; audio of
// 12 s (padded) at 100 STFT frames/s and 0.25 tokens per STFT frame.
nn::TegOptions worked() {
    return {.segment_seconds = 4, .fps = 1, .frame_count = 10, .frame_indices = {0, 3, 5, 9}, .audio_start = 0, .audio_end = 12,
            .stft_frames = 1200, .visual_tokens = 8, .audio_tokens = 300};
}
}  // namespace

TEST(Teg, ReleasedPlanWorkedByHand) {
    const nn::TegPlan p = nn::teg_plan(worked());
    ASSERT_EQ(p.segments.size(), 3u);
    const std::int64_t sep = 308;  // row of the separator in concat(visual 8, audio 300, sep)
    // Visual: frames {0, 3} -> tokens ceil(2 * 2) = 4; {5} -> ceil(3 * 2) = 6; {9}: the rest.
    // Audio: STFT ends round(4 * 100) = 400, 800, 1000 (the video ends at 10 s) -> tokens 100,
    // 200, 250; the 50 tokens of padding after the video are dropped.
    const auto want = join({range(0, 4), {sep}, range(8, 108), {sep}, range(4, 6), {sep}, range(108, 208), {sep}, range(6, 8), {sep},
                            range(208, 258), {sep}});
    EXPECT_EQ(p.index, want);
    EXPECT_EQ(p.segments[1].frame_begin, 2);
    EXPECT_EQ(p.segments[1].frame_end, 3);
    EXPECT_EQ(p.segments[2].stft_begin, 800);
    EXPECT_EQ(p.segments[2].stft_end, 1000);
    EXPECT_EQ(p.segments[1].begin, 4 + 1 + 100 + 1);
    EXPECT_EQ(p.source(0), nn::teg_source::visual);
    EXPECT_EQ(p.source(4), nn::teg_source::separator);
    EXPECT_EQ(p.source(5), nn::teg_source::audio);
    EXPECT_EQ(p.source_index(5), 0);
}

TEST(Teg, EdgeCases) {
    // No audio: the release leaves the video's tokens as they are.
    auto o = worked();
    o.has_audio = false;
    auto p = nn::teg_plan(o);
    EXPECT_EQ(p.index, range(0, 8));
    EXPECT_FALSE(p.separators);
    // Segment longer than the video: one segment with everything up to the video's end.
    o = worked();
    o.segment_seconds = 100;
    p = nn::teg_plan(o);
    ASSERT_EQ(p.segments.size(), 1u);
    EXPECT_EQ(p.index, join({range(0, 8), {308}, range(8, 258), {308}}));
    // One frame.
    o = worked();
    o.frame_count = 1;
    o.frame_indices = {0};
    o.visual_tokens = 3;
    p = nn::teg_plan(o);
    ASSERT_EQ(p.segments.size(), 1u);
    EXPECT_EQ(p.segments[0].n_visual, 3);
    EXPECT_EQ(p.segments[0].stft_end, 100);  // the video lasts 1 s
    // Segments with no frames keep their separators; audio still flows.
    o = worked();
    o.segment_seconds = 1;
    o.frame_indices = {0, 9};
    o.visual_tokens = 4;
    p = nn::teg_plan(o);
    ASSERT_EQ(p.segments.size(), 10u);
    EXPECT_EQ(p.segments[4].n_visual, 0);
    EXPECT_EQ(p.segments[4].n_audio, 25);
    EXPECT_EQ(p.length(), 4 + 250 + 20);
    // Audio shorter than the video: the late segments have no audio at all.
    o = worked();
    o.audio_end = 5;
    o.stft_frames = 500;
    o.audio_tokens = 125;
    p = nn::teg_plan(o);
    EXPECT_EQ(p.segments[1].stft_end, 500);
    EXPECT_EQ(p.segments[2].stft_begin, -1);
    EXPECT_EQ(p.segments[2].n_audio, 0);
    EXPECT_EQ(p.length(), 8 + 125 + 6);
}

TEST(Teg, GroupsByTimestamps) {
    // T_G = 2 s: visual at 0.5, 3, 1 -> segments 0, 1, 0 (input order kept inside a segment);
    // audio at 4.5 -> segment 2; segment 1 has no audio, segment 2 no visual.
    const auto p = nn::teg_plan_by_time({0.5, 3.0, 1.0}, {4.5}, 2.0);
    EXPECT_EQ(p.index, (std::vector<std::int64_t>{0, 2, 4, 4, 1, 4, 4, 4, 3, 4}));
    EXPECT_EQ(nn::teg_plan_by_time({}, {}, 1.0).length(), 0);
    EXPECT_THROW(nn::teg_plan_by_time({std::nan("")}, {}, 1.0), omni::value_error);
    EXPECT_THROW(nn::teg_plan_by_time({}, {-1.0}, 1.0), omni::value_error);
    EXPECT_THROW(nn::teg_plan_by_time({1.0}, {}, 0.0), omni::value_error);
}

TEST(Teg, ApplyCopiesRowsAndSendsGradientsToEverySource) {
    const auto p = nn::teg_plan(worked());
    omni::Generator g(3);
    const D vis = D::randn({8, 5}, g), aud = D::randn({300, 5}, g), sep = D::randn({5}, g);
    const D out = nn::teg_apply(p, vis, aud, sep);
    ASSERT_EQ(out.shape(), (omni::Shape{p.length(), 5}));
    const auto o = out.to_vector<float>(), v = vis.to_vector<float>(), a = aud.to_vector<float>(), s = sep.to_vector<float>();
    for (std::int64_t r = 0; r < p.length(); ++r)
        for (int c = 0; c < 5; ++c) {
            const std::int64_t k = p.source_index(r);
            const float want = p.source(r) == nn::teg_source::visual ? v[k * 5 + c] : p.source(r) == nn::teg_source::audio ? a[k * 5 + c] : s[c];
            ASSERT_EQ(o[r * 5 + c], want) << "row " << r;
        }
    // Taped: the separator's gradient sums its 6 uses; dropped audio tokens get zero.
    V tv(vis, true), ta(aud, true), ts(sep, true);
    omni::sum(nn::teg_apply(p, tv, ta, ts)).backward();
    EXPECT_FLOAT_EQ(ts.grad().to_vector<float>()[0], 6.0f);
    EXPECT_FLOAT_EQ(ta.grad().to_vector<float>()[299 * 5], 0.0f);
    EXPECT_FLOAT_EQ(ta.grad().to_vector<float>()[0], 1.0f);
}

TEST(Teg, Gradcheck) {
    auto o = worked();
    o.visual_tokens = 6;
    o.stft_frames = 1200;
    o.audio_tokens = 12;
    const auto p = nn::teg_plan(o);
    omni::Generator g(4);
    const V vis(D::randn({6, 3}, g, omni::dtype::f64), true), aud(D::randn({12, 3}, g, omni::dtype::f64), true),
        sep(D::randn({3}, g, omni::dtype::f64), true);
    const auto r = omni::gradcheck<omni::cpu>([&](const std::vector<V>& in) { return omni::square(nn::teg_apply(p, in[0], in[1], in[2])); },
                                              {vis, aud, sep});
    EXPECT_TRUE(r.ok) << r.message;
}

TEST(Teg, Errors) {
    auto bad = [](auto edit) {
        auto o = worked();
        edit(o);
        return o;
    };
    auto expect_value_error = [](const nn::TegOptions& o, const std::string& part) {
        try {
            nn::teg_plan(o);
            ADD_FAILURE() << "expected a value_error mentioning " << part;
        } catch (const omni::value_error& e) {
            EXPECT_NE(std::string(e.what()).find("teg"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
        }
    };
    expect_value_error(bad([](auto& o) { o.segment_seconds = 0; }), "segment_seconds > 0, got 0");
    expect_value_error(bad([](auto& o) { o.segment_seconds = std::nan(""); }), "segment_seconds > 0");
    expect_value_error(bad([](auto& o) { o.fps = -1; }), "fps > 0, got -1");
    expect_value_error(bad([](auto& o) { o.frame_indices = {0, 5, 3}; }), "non-decreasing frame indices, got 5 then 3");
    expect_value_error(bad([](auto& o) { o.frame_indices = {0, 10}; }), "in [0, 10), got 10");
    expect_value_error(bad([](auto& o) { o.frame_indices = {}; }), "at least one sampled frame");
    expect_value_error(bad([](auto& o) { o.visual_tokens = 0; }), "visual_tokens >= 1, got 0");
    expect_value_error(bad([](auto& o) { o.audio_tokens = 0; }), "audio_tokens >= 1");
    expect_value_error(bad([](auto& o) { o.audio_end = -1; }), "audio_start <= audio_end");
    expect_value_error(bad([](auto& o) { o.audio_end = std::nan(""); }), "finite audio span");
    expect_value_error(bad([](auto& o) { o.hop_length = 0; }), "hop_length");

    const auto p = nn::teg_plan(worked());
    omni::Generator g(5);
    const D vis = D::randn({8, 4}, g), aud = D::randn({300, 4}, g), sep = D::randn({4}, g);
    EXPECT_THROW(nn::teg_apply(p, D::randn({7, 4}, g), aud, sep), omni::shape_error);
    EXPECT_THROW(nn::teg_apply(p, vis, D::randn({300, 3}, g), sep), omni::shape_error);
    EXPECT_THROW(nn::teg_apply(p, vis, D(), sep), omni::shape_error);
    EXPECT_THROW(nn::teg_apply(p, vis, aud, D::randn({5}, g)), omni::shape_error);
    EXPECT_THROW(nn::teg_apply(p, vis, aud, sep.to(omni::dtype::f64)), omni::dtype_error);
    try {
        nn::teg_apply(p, D::randn({7, 4}, g), aud, sep);
    } catch (const omni::shape_error& e) {
        EXPECT_STREQ(e.what(), "shape_error: teg: expected visual [8, C], got [7, 4]");
    }
}

// The assembled OmniVinci model at the tiny preset on the CPU, random weights, float32: inference
// forward of a 4-clip batch (1-3 frames of 28x28, 1.5-8 s of audio, ~120 media tokens per clip
// with TEG), one training step's forward + backward under autodiff<cpu> (all four ablation
// levels), the media path alone, and cached greedy generation of one clip.
// Threads: OMNI_NUM_THREADS (bench_main.hpp).
#include "bench_main.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/models/omnivinci.hpp"

namespace {
namespace models = omni::models;
using D = omni::Tensor<omni::cpu>;

models::OmniVinciConfig config(std::int64_t level) {  // 0 concat, 1 +TEG, 2 +CRTE, 3 +OmniAlignNet
    models::OmniVinciConfig c = models::omnivinci_presets::tiny;
    c.teg = level >= 1, c.crte = level >= 2, c.align = level >= 3;
    return c;
}

template <class P> models::OmniBatch<P> batch(const models::OmniVinciConfig& c) {
    omni::Generator g(1);
    models::OmniBatch<P> b;
    b.frame_counts = {1, 2, 3, 2};
    b.fps = {1.0, 2.0, 1.5, 1.0};
    b.audio_seconds = {1.5, 4.0, 8.0, 2.25};
    b.frames = omni::Tensor<P>(D::randn({8, 1, 28, 28}, g));
    b.mel = omni::Tensor<P>(D::randn({4, c.audio.n_mels, c.audio.input_frames()}, g));
    std::vector<std::int64_t> ids, labels;
    for (std::int64_t k = 0; k < 4; ++k)
        for (std::int64_t i = 0; i < 12; ++i) {
            ids.push_back(i == 1 ? c.media_token : (i * 7 + k) % 60);
            labels.push_back(i >= 6 ? ids.back() : -100);
        }
    b.ids = omni::Tensor<P>(D::from_data(ids, {4, 12}));
    b.labels = omni::Tensor<P>(D::from_data(labels, {4, 12}));
    return b;
}

void BM_OmniVinciForward(benchmark::State& s) {
    const auto c = config(s.range(0));
    omni::Generator g(0);
    const models::OmniVinci<omni::cpu> m(c, g);
    const auto b = batch<omni::cpu>(c);
    for (auto _ : s) benchmark::DoNotOptimize(m(b).loss.raw_data());
    s.counters["clips/s"] = benchmark::Counter(4, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_OmniVinciTrainStep(benchmark::State& s) {
    const auto c = config(s.range(0));
    omni::Generator g(0);
    models::OmniVinci<omni::autodiff<omni::cpu>> m(c, g);
    const auto b = batch<omni::autodiff<omni::cpu>>(c);
    for (auto _ : s) {
        auto out = m(b);
        out.loss.backward();
        omni::nn::for_each_parameter(m, [](const std::string&, auto& t) { t.zero_grad(); });
    }
    s.counters["clips/s"] = benchmark::Counter(4, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_OmniVinciMedia(benchmark::State& s) {
    const auto c = config(3);
    omni::Generator g(0);
    const models::OmniVinci<omni::cpu> m(c, g);
    const auto b = batch<omni::cpu>(c);
    for (auto _ : s) benchmark::DoNotOptimize(m.media(b).sequence.back().raw_data());
}

void BM_OmniVinciGenerate(benchmark::State& s) {
    const auto c = config(3);
    omni::Generator g(0);
    const models::OmniVinci<omni::cpu> m(c, g);
    auto b = batch<omni::cpu>(c);
    b.frames = b.frames.slice(0, 0, 1), b.frame_counts = {1}, b.fps = {1.0}, b.audio_seconds = {1.5};
    b.mel = b.mel.slice(0, 0, 1), b.ids = b.ids.slice(0, 0, 1), b.labels = D();
    const std::int64_t n = s.range(0);
    for (auto _ : s) {
        omni::Generator gg(0);
        benchmark::DoNotOptimize(models::generate(m, b, {.max_new_tokens = n}, gg).size());
    }
    s.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
}  // namespace

BENCHMARK(BM_OmniVinciForward)->Arg(0)->Arg(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OmniVinciTrainStep)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OmniVinciMedia)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OmniVinciGenerate)->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond);

OMNI_BENCHMARK_MAIN();

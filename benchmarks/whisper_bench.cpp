// OmniVinci's audio path: the Whisper log-mel frontend on 30 s of 16 kHz audio (one chunk of the
// audio tower), the Whisper encoder forward at the whisper-tiny shape on that chunk, and the two
// projectors at OmniVinci's widths (Qwen2.5-7B hidden 3584). Counter x_realtime = seconds of
// audio per second of wall time. The threads argument sets omni::set_num_threads.
// Needs omni::fftw (libfftw3f).
#include <cmath>
#include <vector>

#include "omni/backend/cpu.hpp"
#include "omni/data/audio/whisper_mel.hpp"
#include "omni/nn/projectors/mlp_downsample.hpp"
#include "omni/nn/projectors/sound_mlp.hpp"
#include "omni/nn/whisper_encoder.hpp"

#include "bench_main.hpp"

namespace {

namespace od = omni::data;
namespace nn = omni::nn;
using D = omni::Tensor<omni::cpu>;

// 30 s at 16 kHz: harmonic tones with vibrato over noise (the cost does not depend on content).
const std::vector<float>& clip() {
    static const std::vector<float> x = [] {
        std::vector<float> v(30 * 16000);
        omni::Generator gen(11);
        const std::uint64_t noise = gen.next_offset();
        for (std::size_t i = 0; i < v.size(); ++i) {
            const double t = static_cast<double>(i) / 16000;
            const double f0 = 180 + 40 * std::sin(2 * 3.141592653589793 * 3 * t);
            double s = 0;
            for (int h = 1; h <= 8; ++h) s += std::sin(2 * 3.141592653589793 * h * f0 * t) / h;
            v[i] = static_cast<float>(0.1 * s + 0.01 * omni::philox_normal(gen.seed(), noise, i));
        }
        return v;
    }();
    return x;
}

// Whisper log-mel, 128 bins (large-v3 / OmniVinci) or 80: 3000 frames of 400 samples.
void BM_whisper_mel(benchmark::State& st) {
    omni::set_num_threads(static_cast<int>(st.range(1)));
    const od::WhisperMel mel({.n_mels = static_cast<int>(st.range(0))});
    for (auto _ : st) benchmark::DoNotOptimize(mel(clip()).raw_data());
    st.counters["x_realtime"] = benchmark::Counter(30.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_whisper_mel)->ArgNames({"mels", "threads"})->Args({128, 1})->Args({128, 2})->Args({80, 2})->UseRealTime()->Unit(benchmark::kMillisecond);

// whisper-tiny's encoder (d 384, 4 layers) on one 30 s chunk: [1, 80, 3000] -> [1, 750, 384].
void BM_whisper_tiny_encoder(benchmark::State& st) {
    omni::set_num_threads(static_cast<int>(st.range(0)));
    omni::Generator g(1);
    const nn::WhisperEncoder<omni::cpu> enc(nn::whisper_tiny, g);
    const D mel = od::WhisperMel({.n_mels = 80})(clip()).unsqueeze(0);
    for (auto _ : st) benchmark::DoNotOptimize(enc(mel).raw_data());
    st.counters["x_realtime"] = benchmark::Counter(30.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_whisper_tiny_encoder)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// Sound projector on one chunk's 750 tokens: 1280 -> 3584 -> 3584.
void BM_sound_mlp(benchmark::State& st) {
    omni::Generator g(2);
    const nn::SoundMLP<omni::cpu> m({.in = 1280, .out = 3584}, g);
    const D x = D::randn({1, 750, 1280}, g);
    for (auto _ : st) benchmark::DoNotOptimize(m(x).raw_data());
}
BENCHMARK(BM_sound_mlp)->UseRealTime()->Unit(benchmark::kMillisecond);

// Vision projector on one 448-px frame at one S2 scale: [1, 32 x 32, 1152] -> [1, 256, 3584].
void BM_mlp_downsample(benchmark::State& st) {
    omni::Generator g(3);
    const nn::MLPDownsample<omni::cpu> m({.in = 1152, .out = 3584}, g);
    const D x = D::randn({1, 1024, 1152}, g);
    for (auto _ : st) benchmark::DoNotOptimize(m(x, 32, 32).raw_data());
}
BENCHMARK(BM_mlp_downsample)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

OMNI_BENCHMARK_MAIN()

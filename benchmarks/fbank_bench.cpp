// The audio frontend on one 10 s clip, one thread (data loaders parallelise across clips, not
// within one). Counter x_realtime = seconds of audio processed per second of wall time; the
// Omni-C target is >= 1000. The clip is OMNI_FBANK_BENCH_WAV when set (resampled to each stage's
// rate once, outside the timing; scripts/fbank_vs_torchaudio.sh times torchaudio on the same
// file), otherwise synthetic: harmonic tones with vibrato over noise.
// Needs omni::fftw (libfftw3f).
#include <cmath>
#include <cstdlib>
#include <vector>

#include "omni/data/audio/frontend.hpp"

#include "bench_main.hpp"

namespace {

namespace od = omni::data;

constexpr int clip_rate = 32000;

// The benchmark clip at 32 kHz.
const std::vector<float>& clip() {
    static const std::vector<float> x = [] {
        if (const char* path = std::getenv("OMNI_FBANK_BENCH_WAV"); path && *path) {
            const od::Wav w = od::read_wav(path);
            return od::resample(w.samples, w.sample_rate, clip_rate);
        }
        std::vector<float> v(10 * clip_rate);
        omni::Generator gen(11);
        const std::uint64_t noise = gen.next_offset();
        for (std::size_t i = 0; i < v.size(); ++i) {
            const double t = static_cast<double>(i) / clip_rate;
            const double f0 = 180 + 40 * std::sin(2 * 3.141592653589793 * 3 * t);
            double s = 0;
            for (int h = 1; h <= 8; ++h) s += std::sin(2 * 3.141592653589793 * h * f0 * t) / h;
            v[i] = static_cast<float>(0.1 * s + 0.01 * omni::philox_normal(gen.seed(), noise, i));
        }
        return v;
    }();
    return x;
}

const std::vector<float>& clip_at(int rate) {
    static const std::vector<float> x16 = od::resample(clip(), clip_rate, 16000);
    return rate == 16000 ? x16 : clip();
}

void set_realtime(benchmark::State& st, std::size_t samples, int rate) {
    st.counters["x_realtime"] = benchmark::Counter(static_cast<double>(samples) / rate,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

// Kaldi fbank alone with the Omni-C settings: 256 frames of 800 samples, 1024-point FFTs.
void BM_fbank_omni_c(benchmark::State& st) {
    const od::Fbank fbank(od::FbankOptions::omni_c());
    const auto& x = clip_at(32000);
    for (auto _ : st) benchmark::DoNotOptimize(fbank(x).raw_data());
    set_realtime(st, x.size(), 32000);
}
BENCHMARK(BM_fbank_omni_c)->UseRealTime()->Unit(benchmark::kMicrosecond);

// The AST settings: 998 frames of 400 samples, 512-point FFTs.
void BM_fbank_ast(benchmark::State& st) {
    const od::Fbank fbank(od::FbankOptions::ast());
    const auto& x = clip_at(16000);
    for (auto _ : st) benchmark::DoNotOptimize(fbank(x).raw_data());
    set_realtime(st, x.size(), 16000);
}
BENCHMARK(BM_fbank_ast)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Omni-C steps 1-4 for one training view: mean removal, fbank, 256 frames, shift, SpecAugment,
// normalisation, [128, 256].
void BM_omni_c_train_view(benchmark::State& st) {
    const od::AudioFrontend fe(od::AudioFrontendOptions::omni_c());
    const auto& x = clip_at(32000);
    omni::Generator gen(1);
    for (auto _ : st) benchmark::DoNotOptimize(fe.view(fe.log_mel(x, 32000), &gen).raw_data());
    set_realtime(st, x.size(), 32000);
}
BENCHMARK(BM_omni_c_train_view)->UseRealTime()->Unit(benchmark::kMicrosecond);

// AudioSet clips often arrive at 44.1 kHz: the default (torchaudio) filter to 32 kHz.
void BM_resample_44k1_to_32k(benchmark::State& st) {
    static const std::vector<float> x44 = od::resample(clip(), clip_rate, 44100);
    const od::Resampler r(44100, 32000);
    for (auto _ : st) benchmark::DoNotOptimize(r(x44).data());
    set_realtime(st, x44.size(), 44100);
}
BENCHMARK(BM_resample_44k1_to_32k)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

OMNI_BENCHMARK_MAIN();

// Qwen2 decoder on the CPU, random weights, float32: prefill (tokens/s over a whole prompt) and
// cached decode (tokens/s, one token at a time after a 128-token prefill) at the tiny preset
// and the Qwen2.5-0.5B shape. Threads: OMNI_NUM_THREADS (bench_main.hpp).
#include "bench_main.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/models/qwen2.hpp"

namespace {
using Model = omni::models::Qwen2<omni::cpu>;
using D = omni::Tensor<omni::cpu>;

const Model& model(int preset) {
    static omni::Generator g(0);
    static Model tiny(omni::models::qwen2_presets::tiny, g);
    if (preset == 0) return tiny;
    static Model small(omni::models::qwen2_presets::qwen25_05b, g);  // built on first use only
    return small;
}
D ids(std::int64_t n, std::int64_t vocab) {
    std::vector<std::int64_t> v(n);
    for (std::int64_t i = 0; i < n; ++i) v[i] = (i * 7919) % vocab;
    return D::from_data(v, {1, n});
}

void BM_Prefill(benchmark::State& s) {
    const Model& m = model(static_cast<int>(s.range(0)));
    const std::int64_t n = s.range(1);
    const D x = ids(n, m.cfg.vocab);
    for (auto _ : s) benchmark::DoNotOptimize(m(x).raw_data());
    s.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Decode(benchmark::State& s) {
    const Model& m = model(static_cast<int>(s.range(0)));
    const std::int64_t prefill = 128, steps = s.range(1);
    const D x = ids(prefill + steps, m.cfg.vocab);
    for (auto _ : s) {
        s.PauseTiming();
        auto cache = m.make_cache(1, prefill + steps);
        m(x.slice(1, 0, prefill), &cache);
        s.ResumeTiming();
        for (std::int64_t t = prefill; t < prefill + steps; ++t) benchmark::DoNotOptimize(m(x.slice(1, t, t + 1), &cache).raw_data());
    }
    s.counters["tokens/s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsIterationInvariantRate);
}
}  // namespace

// Args: preset (0 tiny, 1 Qwen2.5-0.5B), tokens.
BENCHMARK(BM_Prefill)->Args({0, 128})->Args({0, 512})->Args({1, 128})->Args({1, 512})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode)->Args({0, 32})->Args({1, 16})->Unit(benchmark::kMillisecond)->UseRealTime();

OMNI_BENCHMARK_MAIN()

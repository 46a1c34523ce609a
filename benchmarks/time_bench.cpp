// OmniVinci time embeddings on the CPU at model shapes: CRTE over N = 4096 media tokens at the
// Qwen2.5-7B width C = 3584 (d = 128, the encoders' default trope_dim, and d = 1792 = C/2) and a
// small width; RoPE on one layer's q [1, 28, 4096, 128]. "bytes/s" counts the tensor traffic
// (x read, y written; backward also g read, dx written), "tokens/s" media tokens or positions.
// BM_rotary_kernel times the op alone with prebuilt tables, so the table build (cos/sin in
// float64 per token) is the difference to BM_crte_forward.
#include <cstdint>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/time/crte.hpp"
#include "omni/nn/time/rope.hpp"

#include "bench_main.hpp"

namespace {

using T = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;

nn::CrteConfig crte_config(std::int64_t d, std::int64_t mode) {
    return {.d = d, .T_max = 60, .mode = mode ? nn::CrteMode::reference : nn::CrteMode::paper};
}

void counters(benchmark::State& st, std::int64_t tokens, std::int64_t elements, int passes) {
    st.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsIterationInvariantRate);
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * elements * 4 * 2 * passes);
}

// Args: tokens N, width C, rotated dims d, mode (0 paper, 1 reference).
void BM_crte_forward(benchmark::State& st) {
    const std::int64_t N = st.range(0), C = st.range(1);
    omni::Generator g(1);
    const T x = T::randn({1, N, C}, g), t = T::rand({1, N}, g, omni::dtype::f32, 0, 120);
    const auto cfg = crte_config(st.range(2), st.range(3));
    for (auto _ : st) benchmark::DoNotOptimize(nn::crte(x, t, cfg).raw_data());
    counters(st, N, N * C, 1);
}

void BM_crte_forward_backward(benchmark::State& st) {
    const std::int64_t N = st.range(0), C = st.range(1);
    omni::Generator g(1);
    const T xv = T::randn({1, N, C}, g), t = T::rand({1, N}, g, omni::dtype::f32, 0, 120), gy = T::randn({1, N, C}, g);
    const auto cfg = crte_config(st.range(2), st.range(3));
    for (auto _ : st) {
        const V x(xv, true);
        nn::crte(x, V(t), cfg).backward(gy);
        benchmark::DoNotOptimize(x.grad().raw_data());
    }
    counters(st, N, N * C, 2);
}

// The op alone on [1, N, C] with per-token tables of width rot (interleaved, as CRTE).
void BM_rotary_kernel(benchmark::State& st) {
    const std::int64_t N = st.range(0), C = st.range(1), rot = st.range(2);
    omni::Generator g(1);
    const T x = T::randn({1, N, C}, g), c = T::randn({N, rot}, g), s = T::randn({N, rot}, g);
    for (auto _ : st) benchmark::DoNotOptimize(omni::rotary(x, c, s, omni::rotary_pairing::interleaved).raw_data());
    counters(st, N, N * C, 1);
}

#define CRTE_SHAPES                                                  \
    ArgNames({"N", "C", "d", "ref"})                                 \
        ->Args({4096, 3584, 128, 0})   /* encoders' default trope_dim */ \
        ->Args({4096, 3584, 1792, 0})  /* trope_dim = hidden / 2 */    \
        ->Args({4096, 3584, 1792, 1})  /* released layout */           \
        ->Args({4096, 256, 128, 0})    /* small width */               \
        ->UseRealTime()                                              \
        ->Unit(benchmark::kMillisecond)
BENCHMARK(BM_crte_forward)->CRTE_SHAPES;
BENCHMARK(BM_crte_forward_backward)->CRTE_SHAPES;
BENCHMARK(BM_rotary_kernel)
    ->ArgNames({"N", "C", "rot"})
    ->Args({4096, 3584, 128})
    ->Args({4096, 3584, 1792})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Args: heads, positions N, head_dim, table prebuilt (1) or built per call (0).
void BM_rope(benchmark::State& st) {
    const std::int64_t H = st.range(0), N = st.range(1), hd = st.range(2);
    omni::Generator g(1);
    const T q = T::randn({1, H, N, hd}, g);
    const nn::RopeConfig cfg{.head_dim = hd, .theta = 1e6};
    const auto table = nn::rope_table<omni::cpu>(cfg, N);
    for (auto _ : st) {
        if (st.range(3)) benchmark::DoNotOptimize(nn::apply_rope(q, table).raw_data());
        else benchmark::DoNotOptimize(nn::apply_rope(q, cfg).raw_data());
    }
    counters(st, N, H * N * hd, 1);
}
BENCHMARK(BM_rope)
    ->ArgNames({"H", "N", "hd", "table"})
    ->Args({28, 4096, 128, 0})
    ->Args({28, 4096, 128, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

OMNI_BENCHMARK_MAIN();

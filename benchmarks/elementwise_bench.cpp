// Memory-bound ops at ViT-B/32 activation shapes ([400, 768] residual stream, [400, 3072] MLP
// hidden, [96*50, 50] attention scores) and at sizes past the last-level cache. Counter GBps is
// the minimum traffic the op must cause (each input read once, each output written once) over
// time, so it is comparable with the machine's memory bandwidth.
#include <vector>

#include "omni/backend/cpu.hpp"

#include "bench_main.hpp"

namespace {

using T = omni::Tensor<omni::cpu>;

void set_bytes(benchmark::State& st, double bytes) {
    st.counters["GBps"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// rows x cols of float32: ViT shapes first, then batch 64 (3200 rows) and a 64 MiB tensor.
void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"rows", "cols"});
    for (auto [r, c] : std::vector<std::pair<int, int>>{{400, 768}, {400, 3072}, {3200, 768}, {3200, 3072}, {4096, 4096}})
        b->Args({r, c});
    b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

void BM_gelu(benchmark::State& st) {
    omni::Generator gen(1);
    const T x = T::randn({st.range(0), st.range(1)}, gen);
    for (auto _ : st) benchmark::DoNotOptimize(omni::gelu(x).raw_data());
    set_bytes(st, 2.0 * 4 * x.numel());
}
BENCHMARK(BM_gelu)->Apply(shapes);

// Residual add: the plain bandwidth reference for the ops above (two reads, one write).
void BM_add(benchmark::State& st) {
    omni::Generator gen(2);
    const T a = T::randn({st.range(0), st.range(1)}, gen), b = T::randn({st.range(0), st.range(1)}, gen);
    for (auto _ : st) benchmark::DoNotOptimize(omni::add(a, b).raw_data());
    set_bytes(st, 3.0 * 4 * a.numel());
}
BENCHMARK(BM_add)->Apply(shapes);

void BM_softmax(benchmark::State& st) {
    omni::Generator gen(3);
    const T x = T::randn({st.range(0), st.range(1)}, gen);
    for (auto _ : st) benchmark::DoNotOptimize(omni::softmax(x, -1).raw_data());
    set_bytes(st, 2.0 * 4 * x.numel());
}
// 4800 x 50 is the attention-score softmax of 8 images x 12 heads x 50 queries.
BENCHMARK(BM_softmax)->Apply(shapes)->Args({8 * 12 * 50, 50});

void BM_layer_norm(benchmark::State& st) {
    const std::int64_t rows = st.range(0), d = st.range(1);
    omni::Generator gen(4);
    const T x = T::randn({rows, d}, gen), w = T::randn({d}, gen), b = T::randn({d}, gen);
    for (auto _ : st) benchmark::DoNotOptimize(omni::layer_norm(x, w, b, 1e-5).raw_data());
    set_bytes(st, 4.0 * (2 * x.numel() + 2 * d));  // x in, y out, weight and bias in
}
BENCHMARK(BM_layer_norm)->Apply(shapes);

// One AdamW update (torch.optim.AdamW's arithmetic): the parameter and both moments read and
// written, the gradient read: 28 bytes per float32 element. 2.4M elements is one ViT-B/32 MLP
// weight, 88M all of the encoder's parameters (one training step's update).
void BM_adamw_step(benchmark::State& st) {
    const std::int64_t n = st.range(0);
    omni::Generator gen(5);
    const T p = T::randn({n}, gen), g = T::randn({n}, gen), m = T::zeros({n}), v = T::zeros({n});
    std::int64_t step = 0;
    for (auto _ : st) omni::adamw_step(p, g, m, v, omni::AdamWStep{.lr = 1e-4, .weight_decay = 0.1, .step = ++step});
    set_bytes(st, 28.0 * n);
}
BENCHMARK(BM_adamw_step)->ArgName("elements")->Arg(768 * 3072)->Arg(88 << 20)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

OMNI_BENCHMARK_MAIN()

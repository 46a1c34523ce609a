// A ViT-B/32 transformer block (batch 8, 50 tokens, width 768, 12 heads) forward, and forward +
// backward on the tape; fused attention at 50, 512 and 4096 tokens. Each reports GFLOPS and the
// peak tensor storage allocated while it runs (PeakMiB, from omni::cpu::memory()).
#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/transformer.hpp"

#include "bench_main.hpp"

namespace {

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;

// Forward flops of one block on T tokens of width d with sequences of n: 24 T d^2 for the
// linears (qkv 3, proj 1, mlp 8, times 2 flops) + 4 T n d for the two attention products.
double block_flops(double tokens, double d, double n) { return 24 * tokens * d * d + 4 * tokens * n * d; }

void report(benchmark::State& st, double flops, std::int64_t base) {
    st.counters["GFLOPS"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    st.counters["PeakMiB"] = static_cast<double>(omni::cpu::memory().peak.load() - base) / (1 << 20);
}

void BM_vit_block_forward(benchmark::State& st) {
    omni::Generator g(1);
    const omni::nn::TransformerBlock<omni::cpu> blk(omni::nn::vit_b32.block, g);
    const D x = D::randn({8, 50, 768}, g);
    auto& mem = omni::cpu::memory();
    const std::int64_t base = mem.current.load();
    mem.reset_peak();
    for (auto _ : st) benchmark::DoNotOptimize(blk(x).raw_data());
    report(st, block_flops(400, 768, 50), base);
}
BENCHMARK(BM_vit_block_forward)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_vit_block_forward_backward(benchmark::State& st) {
    omni::Generator g(1);
    const omni::nn::TransformerBlock<A> blk(omni::nn::vit_b32.block, g);
    const V x(D::randn({8, 50, 768}, g), true);
    const D up = D::randn({8, 50, 768}, g);
    auto& mem = omni::cpu::memory();
    const std::int64_t base = mem.current.load();
    mem.reset_peak();
    for (auto _ : st) {
        blk(x).backward(up);
        benchmark::DoNotOptimize(x.grad().raw_data());
    }
    report(st, 3 * block_flops(400, 768, 50), base);  // backward costs about twice the forward
}
BENCHMARK(BM_vit_block_forward_backward)->UseRealTime()->Unit(benchmark::kMillisecond);

// One sequence, 12 heads of 64: the memory of a materialised score matrix would be 12 n^2 floats
// (768 MiB at 4096); the fused kernel needs O(n) beyond its inputs and outputs.
void BM_attention(benchmark::State& st) {
    const std::int64_t n = st.range(0);
    const bool backward = st.range(1) != 0;
    omni::Generator g(2);
    const V q(D::randn({1, 12, n, 64}, g), true), k(D::randn({1, 12, n, 64}, g), true), v(D::randn({1, 12, n, 64}, g), true);
    const D up = D::randn({1, 12, n, 64}, g);
    auto& mem = omni::cpu::memory();
    const std::int64_t base = mem.current.load();
    mem.reset_peak();
    for (auto _ : st) {
        const V o = omni::attention(q, k, v);
        if (backward) o.backward(up);
        benchmark::DoNotOptimize(o.value().raw_data());
    }
    report(st, (backward ? 3.0 : 1.0) * 4.0 * 12 * n * n * 64, base);
}
BENCHMARK(BM_attention)->ArgNames({"tokens", "backward"})->ArgsProduct({{50, 512, 4096}, {0, 1}})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

OMNI_BENCHMARK_MAIN()

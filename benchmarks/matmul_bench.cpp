// GEMM throughput at square sizes and at the ViT-B/32 shapes (batch 8 x 50 tokens = 400 rows,
// width 768, MLP 3072, 12 heads of 64), in fp32 and under matmul_precision::bf16 (AMX tiles, or
// AVX512-BF16 dot products), next to the measured fp32 FMA and VDPBF16PS peaks. Counter
// GFLOPS = 2*M*N*K*batch / 1e9 per second.
#include <immintrin.h>

#include "omni/backend/cpu.hpp"
#include "omni/backend/cpu/amx_gemm.hpp"   // amx::available(), which a prebuilt user includes itself
#include "omni/backend/cpu/bf16_gemm.hpp"  // bf16_gemm::use()

#include "bench_main.hpp"

namespace {

using T = omni::Tensor<omni::cpu>;

void set_flops(benchmark::State& st, double flops) {
    st.counters["GFLOPS"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// The measured float32 FMA peak that GEMM efficiency is quoted against: every thread runs 16
// independent chains of the widest vector FMA this build has (enough to hide the FMA latency on
// two pipes). Built with -march=native like every suite here.
#if defined(__AVX512F__)
using FmaVec = __m512;
inline FmaVec fma_set(float x) { return _mm512_set1_ps(x); }
inline FmaVec fma_step(FmaVec acc, FmaVec a, FmaVec b) { return _mm512_fmadd_ps(acc, a, b); }
#elif defined(__FMA__)
using FmaVec = __m256;
inline FmaVec fma_set(float x) { return _mm256_set1_ps(x); }
inline FmaVec fma_step(FmaVec acc, FmaVec a, FmaVec b) { return _mm256_fmadd_ps(acc, a, b); }
#endif
#if defined(__AVX512F__) || defined(__FMA__)
void BM_fma_peak(benchmark::State& st) {
    constexpr int chains = 16, lanes = sizeof(FmaVec) / sizeof(float);
    constexpr std::int64_t iters = 1 << 16;
    const int threads = omni::num_threads();
    for (auto _ : st) {
#pragma omp parallel num_threads(threads)
        {
            FmaVec acc[chains];
            const FmaVec a = fma_set(0.999999f), b = fma_set(1e-7f);
            for (int c = 0; c < chains; ++c) acc[c] = fma_set(static_cast<float>(c));
            for (std::int64_t i = 0; i < iters; ++i)
#pragma GCC unroll 16
                for (int c = 0; c < chains; ++c) acc[c] = fma_step(acc[c], a, b);
            for (int c = 0; c < chains; ++c) benchmark::DoNotOptimize(acc[c]);
        }
    }
    set_flops(st, 2.0 * lanes * chains * iters * threads);
}
BENCHMARK(BM_fma_peak)->UseRealTime()->Unit(benchmark::kMicrosecond);
#endif

#if defined(__AVX512BF16__)
// The same for VDPBF16PS (32 multiply-adds an instruction): bf16_gemm.hpp's probe, as a rate.
void BM_dpbf16_peak(benchmark::State& st) {
    constexpr int chains = 16;
    constexpr std::int64_t iters = 1 << 16;
    const int threads = omni::num_threads();
    for (auto _ : st) {
#pragma omp parallel num_threads(threads)
        {
            __m512 acc[chains];
            const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80);
            for (int c = 0; c < chains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
            for (std::int64_t i = 0; i < iters; ++i)
#pragma GCC unroll 16
                for (int c = 0; c < chains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], a, a);
            for (int c = 0; c < chains; ++c) benchmark::DoNotOptimize(acc[c]);
        }
    }
    set_flops(st, 2.0 * 32 * chains * iters * threads);
}
BENCHMARK(BM_dpbf16_peak)->UseRealTime()->Unit(benchmark::kMicrosecond);
#endif

// Arg bf16: 0 fp32; 1 matmul_precision::bf16 with the kernel matmul picks (AMX, or AVX512-BF16
// where its probe found it faster than fp32, else fp32); 2 the AVX512-BF16 kernel forced.
struct Precision {
    omni::matmul_precision_guard guard;
    explicit Precision(std::int64_t mode) : guard(mode ? omni::matmul_precision::bf16 : omni::matmul_precision::highest) {
        namespace cpu = omni::backend::cpu;
        if (mode == 2) {
            cpu::cpu_isa_limit(cpu::cpu_isa::avx512_bf16);
            cpu::bf16_gemm::use(cpu::bf16_gemm::when::always);
        }
    }
    ~Precision() {
        omni::backend::cpu::cpu_isa_limit(omni::backend::cpu::cpu_isa::amx);
        omni::backend::cpu::bf16_gemm::use(omni::backend::cpu::bf16_gemm::when::measured);
    }
    static bool skip(benchmark::State& st, std::int64_t mode) {
        if (mode == 1 && !omni::backend::cpu::amx::available() && !omni::backend::cpu::bf16_gemm::chosen()) {
            st.SkipWithError("no bf16 kernel faster than fp32 on this CPU");
            return true;
        }
        if (mode == 2 && !omni::backend::cpu::bf16_gemm::available()) {
            st.SkipWithError("no AVX512-BF16 on this CPU");
            return true;
        }
        return false;
    }
};

// [n x n] x [n x n]; arg bf16 as above.
void BM_matmul_square(benchmark::State& st) {
    const std::int64_t n = st.range(0);
    if (Precision::skip(st, st.range(1))) return;
    const Precision precision(st.range(1));
    omni::Generator gen(1);
    const T a = T::randn({n, n}, gen), b = T::randn({n, n}, gen);
    for (auto _ : st) benchmark::DoNotOptimize(omni::matmul(a, b).raw_data());
    set_flops(st, 2.0 * n * n * n);
}
BENCHMARK(BM_matmul_square)->ArgNames({"n", "bf16"})->ArgsProduct({{128, 256, 512, 1024, 2048}, {0, 1, 2}})->UseRealTime()->Unit(benchmark::kMicrosecond);

// [T x K] x [K x N] with T = 8 * 50. Arg trans_b = 1 stores the weight PyTorch-style as [N x K],
// which is how a Linear layer calls it; arg bf16 as above.
void BM_matmul_vit(benchmark::State& st) {
    const std::int64_t t = 8 * 50, k = st.range(0), n = st.range(1);
    const bool trans_b = st.range(2) != 0;
    if (Precision::skip(st, st.range(3))) return;
    const Precision precision(st.range(3));
    omni::Generator gen(2);
    const T x = T::randn({t, k}, gen);
    const T w = trans_b ? T::randn({n, k}, gen) : T::randn({k, n}, gen);
    for (auto _ : st) benchmark::DoNotOptimize(omni::matmul(x, w, false, trans_b).raw_data());
    set_flops(st, 2.0 * t * k * n);
}
BENCHMARK(BM_matmul_vit)
    ->ArgNames({"K", "N", "trans_b", "bf16"})
    ->ArgsProduct({{768}, {2304, 3072}, {0, 1}, {0, 1, 2}})  // qkv, mlp.fc1
    ->ArgsProduct({{3072}, {768}, {0, 1}, {0, 1, 2}})        // mlp.fc2
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Attention per head, batch 8 x 12 heads, 50 tokens, head dim 64.
// Arg 0: scores = q [96,50,64] x k^T [96,64,50] (k stored [96,50,64], trans_b);
// Arg 1: the same product with k already laid out [96,64,50];
// Arg 2: out = attn [96,50,50] x v [96,50,64].
void BM_matmul_attention(benchmark::State& st) {
    constexpr std::int64_t bh = 8 * 12, s = 50, d = 64;
    const int which = static_cast<int>(st.range(0));
    omni::Generator gen(3);
    const T a = which == 2 ? T::randn({bh, s, s}, gen) : T::randn({bh, s, d}, gen);
    const T b = which == 1 ? T::randn({bh, d, s}, gen) : T::randn({bh, s, d}, gen);
    const bool trans_b = which == 0;
    for (auto _ : st) benchmark::DoNotOptimize(omni::matmul(a, b, false, trans_b).raw_data());
    set_flops(st, 2.0 * bh * s * s * d);
}
BENCHMARK(BM_matmul_attention)->ArgName("variant")->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

OMNI_BENCHMARK_MAIN()

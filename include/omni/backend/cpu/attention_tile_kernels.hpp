#pragma once
// The float32 tile products of CPU attention (scores Q K^T and the accumulation P V, with their
// transposed forms for the backward), in AVX2 + FMA and AVX-512 builds of one source, chosen at
// run time: the widest the CPU and OMNI_CPU_ISA allow (backend/cpu/isa.hpp), or none, and then
// attention uses Eigen. They replace Eigen's GEMM on these small shapes because Eigen packs both
// operands on every call, a third of the forward's time at 4096 tokens.
#include <cstdint>

#include "omni/backend/cpu/isa.hpp"
#include "omni/backend/cpu/simd_float.hpp"

namespace omni::backend::cpu::attention_tiles {

/// One ISA's kernels (the signatures of scores and accumulate_pv in attention_tile_kernels.inl).
struct TileKernels {
    void (*scores)(const float* q, std::int64_t q_rs, std::int64_t nq, std::int64_t d, const float* kt, std::int64_t ldk, std::int64_t nk,
                   float scale, float* s, std::int64_t lds);
    void (*accumulate_pv)(const float* pm, std::int64_t prs, std::int64_t pcs, std::int64_t rows, std::int64_t inner, const float* v,
                          std::int64_t v_rs, std::int64_t cols, float* o, std::int64_t ldo);
    cpu_isa isa;
};

#ifdef OMNI_HAVE_X86_DISPATCH

namespace avx512 {
OMNI_BEGIN_TARGET_AVX512
using namespace simd::avx512;
inline constexpr int max_nv = 4;  // 4 x 4 accumulators + 4 loads + 1 broadcast of 32 registers
#include "omni/backend/cpu/attention_tile_kernels.inl"
OMNI_END_TARGET
}  // namespace avx512

namespace avx2 {
OMNI_BEGIN_TARGET_AVX2
using namespace simd::avx2;
inline constexpr int max_nv = 2;  // 4 x 2 accumulators + 2 loads + 2 masks + 1 broadcast of 16 registers
#include "omni/backend/cpu/attention_tile_kernels.inl"
OMNI_END_TARGET
}  // namespace avx2

#endif

/// The kernels for this CPU under the ISA limit, or nullptr (attention then uses Eigen).
inline const TileKernels* float_tile_kernels() {
#ifdef OMNI_HAVE_X86_DISPATCH
    static constexpr TileKernels k512{&avx512::scores, &avx512::accumulate_pv, cpu_isa::avx512};
    static constexpr TileKernels k2{&avx2::scores, &avx2::accumulate_pv, cpu_isa::avx2};
    if (cpu_isa_allows(cpu_isa::avx512)) return &k512;
    if (cpu_isa_allows(cpu_isa::avx2)) return &k2;
#endif
    return nullptr;
}

}  // namespace omni::backend::cpu::attention_tiles

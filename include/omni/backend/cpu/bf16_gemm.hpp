#pragma once
// A float32 GEMM through AVX512-BF16's VDPBF16PS, for float32_matmul_precision() == bf16 on CPUs
// that have the instruction but no AMX tiles (Intel Cooper Lake; Sapphire and Emerald Rapids where
// the OS or hypervisor withholds AMX; AMD Zen 4 and 5). As on AMX (amx_gemm.hpp), both operands
// are rounded to bfloat16 (nearest even) as they are packed and the products accumulate in fp32.
// The loop nest, blocking and threading are sgemm.hpp's; the packed panels hold k in pairs, the
// unit VDPBF16PS multiplies: dword p nr + j of a B panel is (b[2p][j], b[2p + 1][j]) and dword
// p mr + r of an A panel is (a[r][2p], a[r][2p + 1]), the even k in the low half.
//
// One VDPBF16PS is 32 multiply-adds, twice an FMA's, but CPUs retire it at different rates: an
// Emerald Rapids core runs it at half an FMA's rate (so the fp32 FMA kernel is faster there).
// matmul takes this kernel only where profitable() measured it faster than the FMA, unless
// bf16_gemm::use() says otherwise.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

#include "omni/backend/cpu/isa.hpp"
#include "omni/backend/cpu/sgemm.hpp"
#include "omni/backend/matmul.hpp"
#include "omni/core/dtype.hpp"

namespace omni::backend::cpu::bf16_gemm {

/// When matmul takes this kernel for bf16-precision float32 products (AMX, where available,
/// comes first): where the probe measured it faster than fp32 FMAs, always (where the CPU has
/// AVX512-BF16), or never.
enum class when : int { measured, always, never };

namespace detail {
inline std::atomic<int>& when_slot() {
    static std::atomic<int> slot{static_cast<int>(when::measured)};
    return slot;
}
}  // namespace detail

inline when use() { return static_cast<when>(detail::when_slot().load(std::memory_order_relaxed)); }
inline void use(when w) { detail::when_slot().store(static_cast<int>(w), std::memory_order_relaxed); }

// (bf16(lo), bf16(hi)) as one dword, the scalar edge of the packing.
inline std::uint32_t pair_bits(float lo, float hi) { return bf16(lo).bits | static_cast<std::uint32_t>(bf16(hi).bits) << 16; }

#ifdef OMNI_HAVE_X86_DISPATCH

// Compiled for AVX512-BF16 whatever the -march. No standard-library templates in here: an
// instantiation compiled for this ISA could be the one the linker keeps for every caller.
OMNI_BEGIN_TARGET_AVX512_BF16

using simd::avx512::tail_mask;  // the first `left` of 16 lanes

// 16 dwords, dword j = (bf16(u[j]), bf16(w[j])): two k rows of 16 columns as pairs.
inline __m512i pair_up(__m512 u, __m512 w) {
    const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(w, u);  // words 0-15: u, 16-31: w
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19,
                                                3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(interleave, both);
}

// The pairs [0, left / 2) of up to 32 consecutive floats as 16 dwords (zero past `left`).
inline __m512i pairs_of(const float* x, std::int64_t left) {
    const __m512 lo = _mm512_maskz_loadu_ps(tail_mask(left), x), hi = _mm512_maskz_loadu_ps(tail_mask(left - 16), x + 16);
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

// B[p0 .. p0 + kc)[j0 .. j0 + nc) as panels of nr columns of kp = ceil(kc / 2) pairs: panel q
// holds dword (q kp + p) nr + j; zero past column n and past k = p0 + kc.
inline void pack_b(std::uint32_t* out, const float* B, std::int64_t rs, std::int64_t cs, std::int64_t p0, std::int64_t kc, std::int64_t j0,
                   std::int64_t nc, std::int64_t n, std::int64_t nr) {
    const std::int64_t kp = (kc + 1) / 2;
    const __m512i down = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(int(nr)));
    for (std::int64_t q = 0; q * nr < nc; ++q) {
        std::uint32_t* panel = out + q * kp * nr;
        const std::int64_t jq = j0 + q * nr, w = n - jq < nr ? n - jq : nr;
        if (cs == 1) {  // rows of B contiguous: two rows make 16 pairs per vector
            for (std::int64_t p = 0; p < kp; ++p) {
                const float* r0 = B + (p0 + 2 * p) * rs + jq;
                const bool second = 2 * p + 1 < kc;
                for (std::int64_t v = 0; v < nr / 16; ++v) {
                    const __mmask16 m = tail_mask(w - 16 * v);
                    const __m512 u = _mm512_maskz_loadu_ps(m, r0 + 16 * v);
                    const __m512 x = second ? _mm512_maskz_loadu_ps(m, r0 + rs + 16 * v) : _mm512_setzero_ps();
                    _mm512_storeu_si512(panel + p * nr + 16 * v, pair_up(u, x));
                }
            }
        } else if (rs == 1) {  // B = W^T of a row-major W: each column's k contiguous, 16 pairs scattered down it
            if (w < nr) std::memset(panel, 0, static_cast<std::size_t>(kp * nr) * 4);
            for (std::int64_t j = 0; j < w; ++j) {
                const float* col = B + (jq + j) * cs + p0;
                for (std::int64_t p = 0; p < kp; p += 16)
                    _mm512_mask_i32scatter_epi32(panel + p * nr + j, tail_mask(kp - p), down, pairs_of(col + 2 * p, kc - 2 * p), 4);
            }
        } else {
            for (std::int64_t p = 0; p < kp; ++p)
                for (std::int64_t j = 0; j < nr; ++j) {
                    const std::int64_t k = p0 + 2 * p;
                    const float* x = B + k * rs + (jq + j) * cs;
                    panel[p * nr + j] = j < w ? pair_bits(x[0], 2 * p + 1 < kc ? x[rs] : 0.0f) : 0u;
                }
        }
    }
}

// A[i0 .. i1)[p0 .. p0 + kc) as panels of mr rows: panel t holds dword (t kp + p) mr + r; zero
// past row i1 and past k = p0 + kc.
inline void pack_a(std::uint32_t* out, const float* A, std::int64_t rs, std::int64_t cs, std::int64_t i0, std::int64_t i1, std::int64_t p0,
                   std::int64_t kc, std::int64_t mr) {
    const std::int64_t kp = (kc + 1) / 2;
    const __m512i down = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(int(mr)));
    for (std::int64_t t = 0; i0 + t * mr < i1; ++t) {
        std::uint32_t* panel = out + t * kp * mr;
        const std::int64_t r0 = i0 + t * mr, rows = i1 - r0 < mr ? i1 - r0 : mr;
        if (cs == 1) {  // rows of A contiguous: 16 pairs of a row scattered down the panel
            for (std::int64_t r = 0; r < mr; ++r) {
                if (r >= rows) {
                    for (std::int64_t p = 0; p < kp; ++p) panel[p * mr + r] = 0u;
                    continue;
                }
                const float* row = A + (r0 + r) * rs + p0;
                for (std::int64_t p = 0; p < kp; p += 16)
                    _mm512_mask_i32scatter_epi32(panel + p * mr + r, tail_mask(kp - p), down, pairs_of(row + 2 * p, kc - 2 * p), 4);
            }
        } else if (rs == 1 && mr <= 16) {  // A = X^T: the panel's rows contiguous at each k
            const __mmask16 m = tail_mask(rows);
            for (std::int64_t p = 0; p < kp; ++p) {
                const float* x = A + (p0 + 2 * p) * cs + r0;
                const __m512 u = _mm512_maskz_loadu_ps(m, x);
                const __m512 v = 2 * p + 1 < kc ? _mm512_maskz_loadu_ps(m, x + cs) : _mm512_setzero_ps();
                _mm512_mask_storeu_epi32(panel + p * mr, tail_mask(mr), pair_up(u, v));
            }
        } else {
            for (std::int64_t p = 0; p < kp; ++p)
                for (std::int64_t r = 0; r < mr; ++r) {
                    const float* x = A + (r0 + r) * rs + (p0 + 2 * p) * cs;
                    panel[p * mr + r] = r < rows ? pair_bits(x[0], 2 * p + 1 < kc ? x[cs] : 0.0f) : 0u;
                }
        }
    }
}

// C tile (6 x 64) = alpha * A B (+ C as sgemm's store_tile says), kp pairs of k.
inline void micro_kernel(const std::uint32_t* a, const std::uint32_t* b, std::int64_t kp, float* c, std::int64_t ldc, std::int64_t rows,
                         std::int64_t cols, float alpha, float beta, bool first) {
    constexpr int MR = 6, NV = 4;
    __m512 acc[MR][NV];
    _Pragma("GCC unroll 16") for (int r = 0; r < MR; ++r)
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
    for (std::int64_t p = 0; p < kp; ++p) {
        __m512bh bv[NV];
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) bv[v] = (__m512bh)_mm512_loadu_si512(b + p * 16 * NV + 16 * v);
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; ++r) {
            const __m512bh ab = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[p * MR + r]));
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], ab, bv[v]);
        }
    }
    sgemm::avx512::store_tile<MR, NV>(acc, c, ldc, rows, cols, alpha, beta, first);
}

// The probe: n rounds of 12 independent VDPBF16PS, and of 12 independent FMAs.
__attribute__((noinline)) inline float probe_dpbf16(std::int64_t n) {
    __m512 acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_setzero_ps();
    __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80);
    for (std::int64_t k = 0; k < n; ++k) {
        _Pragma("GCC unroll 12") for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], x, x);
        __asm__ volatile("" : "+v"(x));
    }
    for (int i = 1; i < 12; ++i) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    return _mm512_cvtss_f32(acc[0]);  // one lane keeps the work alive
}
__attribute__((noinline)) inline float probe_fma(std::int64_t n) {
    __m512 acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_setzero_ps();
    __m512 x = _mm512_set1_ps(1.0f);
    for (std::int64_t k = 0; k < n; ++k) {
        _Pragma("GCC unroll 12") for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(x, x, acc[i]);
        __asm__ volatile("" : "+v"(x));
    }
    for (int i = 1; i < 12; ++i) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    return _mm512_cvtss_f32(acc[0]);  // one lane keeps the work alive
}

OMNI_END_TARGET

/// VDPBF16PS's multiply-adds per second over the FMA's on this core (best of seven alternating
/// runs of about 30 us each, measured once; 0 where the CPU lacks the instruction): 2 where both
/// retire at the same rate.
inline double measured_speedup() {
    static const double ratio = [] {
        if (static_cast<int>(detected_cpu_isa()) < static_cast<int>(cpu_isa::avx512_bf16)) return 0.0;  // the CPU, not the cap
        using clock = std::chrono::steady_clock;
        constexpr std::int64_t n = 8192;
        double t_dp = 1e30, t_fma = 1e30;
        volatile float sink = 0;
        for (int rep = 0; rep < 7; ++rep) {
            auto t0 = clock::now();
            sink = sink + probe_fma(n);
            auto t1 = clock::now();
            sink = sink + probe_dpbf16(n);
            auto t2 = clock::now();
            t_fma = std::min(t_fma, std::chrono::duration<double>(t1 - t0).count());
            t_dp = std::min(t_dp, std::chrono::duration<double>(t2 - t1).count());
        }
        return 2.0 * t_fma / t_dp;
    }();
    return ratio;
}

/// Whether the CPU (under OMNI_CPU_ISA / cpu_isa_limit) has AVX512-BF16.
inline bool available() { return cpu_isa_allows(cpu_isa::avx512_bf16); }

/// Whether matmul takes this kernel for bf16-precision products: see use().
inline bool chosen() {
    switch (use()) {
        case when::never: return false;
        case when::always: return available();
        case when::measured: return available() && measured_speedup() >= 1.25;
    }
    return false;
}

/// The kernel as sgemm::block takes it: a 6 x 64 register tile (24 accumulators, 4 B vectors and
/// one broadcast A pair of the 32 registers) over panels of k pairs; kc_block counts k values (256
/// pairs: a 6 KiB A panel in L1, a 1 MiB kc x nc B block in L2).
struct Kernel {
    std::int64_t mr = 6, nr = 64;

    using packed = std::uint32_t;
    static constexpr std::int64_t kc_block = 512;
    static constexpr std::int64_t depth(std::int64_t kc) { return (kc + 1) / 2; }
    void pack_b(std::uint32_t* out, const float* B, std::int64_t rs, std::int64_t cs, std::int64_t p0, std::int64_t kc, std::int64_t j0,
                std::int64_t nc, std::int64_t n) const {
        bf16_gemm::pack_b(out, B, rs, cs, p0, kc, j0, nc, n, nr);
    }
    void pack_a(std::uint32_t* out, const float* A, std::int64_t rs, std::int64_t cs, std::int64_t i0, std::int64_t i1, std::int64_t p0,
                std::int64_t kc) const {
        bf16_gemm::pack_a(out, A, rs, cs, i0, i1, p0, kc, mr);
    }
    static void micro(const std::uint32_t* a, const std::uint32_t* b, std::int64_t kp, float* c, std::int64_t ldc, std::int64_t rows,
                      std::int64_t cols, float alpha, float beta, bool first) {
        micro_kernel(a, b, kp, c, ldc, rows, cols, alpha, beta, first);
    }
};

/// C = alpha A B + beta C for float32 operands rounded to bf16 (k > 0; the CPU must have
/// AVX512-BF16: available()).
inline void gemm(const GemmArgs& g) {
    if (!available()) throw value_error("bf16_gemm::gemm", "expected a CPU with AVX512-BF16 (under OMNI_CPU_ISA), got " +
                                                               std::string(cpu_isa_name(active_cpu_isa())));
    sgemm::gemm(Kernel{}, g);
}

#else

inline double measured_speedup() { return 0.0; }
inline bool available() { return false; }
inline bool chosen() { return false; }
inline void gemm(const GemmArgs&) { throw value_error("bf16_gemm::gemm", "expected an x86-64 build, got another target"); }

#endif

}  // namespace omni::backend::cpu::bf16_gemm

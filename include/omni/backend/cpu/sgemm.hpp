#pragma once
// omni's own float32 GEMM for large CPU products, in the BLIS arrangement: B is packed in blocks
// of kc x nc (kept in L2) as panels of nr columns, A in panels of mr rows (each kept in L1 while
// it meets every B panel), and an mr x nr register tile of C accumulates in the micro-kernel
// (sgemm_kernel.inl), compiled for AVX-512 and for AVX2 + FMA and chosen at run time
// (backend/cpu/isa.hpp). Any strides for A and B (packing reads them); rows of C split across
// threads, each element summed over k in one fixed order by one thread, so the bits do not depend
// on the thread count.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include "omni/backend/cpu/isa.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/cpu/simd_float.hpp"
#include "omni/backend/matmul.hpp"

namespace omni::backend::cpu::sgemm {

#ifdef OMNI_HAVE_X86_DISPATCH

namespace avx512 {
OMNI_BEGIN_TARGET_AVX512
using namespace simd::avx512;
inline constexpr int nr_vectors = 4, mr = 6;  // 24 accumulators + 4 loads + 1 broadcast of 32 registers
#include "omni/backend/cpu/sgemm_kernel.inl"

OMNI_END_TARGET
}  // namespace avx512

namespace avx2 {
OMNI_BEGIN_TARGET_AVX2
using namespace simd::avx2;
inline constexpr int nr_vectors = 2, mr = 6;  // 12 accumulators + 2 loads + 1 broadcast of 16 registers
#include "omni/backend/cpu/sgemm_kernel.inl"
OMNI_END_TARGET
}  // namespace avx2

#endif

// kc: the inner block (an mr x kc A panel, 6 KiB, stays in L1); nc: the columns of one packed B
// block (kc x nc floats, 1 MiB, in L2); mc: the rows of A packed at once (bounds the scratch).
inline constexpr std::int64_t kc_block = 256, nc_block = 1024, mc_block = 768;

// B[p0 .. p0 + kc)[j0 .. j0 + nc) as panels of nr columns: panel q holds b[(q kc + p) nr + j],
// zero past column n.
inline void pack_b(float* out, const float* B, std::int64_t rs, std::int64_t cs, std::int64_t p0, std::int64_t kc, std::int64_t j0,
                   std::int64_t nc, std::int64_t n, std::int64_t nr) {
    for (std::int64_t q = 0; q * nr < nc; ++q) {
        float* panel = out + q * kc * nr;
        const std::int64_t jq = j0 + q * nr, w = std::min(nr, n - jq);
        if (cs == 1) {
            for (std::int64_t p = 0; p < kc; ++p) {
                const float* src = B + (p0 + p) * rs + jq;
                float* dst = panel + p * nr;
                std::copy(src, src + w, dst);
                std::fill(dst + w, dst + nr, 0.0f);
            }
        } else {  // a transposed operand (B = W^T), or general strides: contiguous stores, a row of the panel at a
                  // time (its nr loads come from nr lines of W that the next 15 rows reuse from L1)
            const float* src = B + p0 * rs + jq * cs;
            for (std::int64_t p = 0; p < kc; ++p) {
                float* dst = panel + p * nr;
                for (std::int64_t j = 0; j < w; ++j) dst[j] = src[p * rs + j * cs];
                for (std::int64_t j = w; j < nr; ++j) dst[j] = 0.0f;
            }
        }
    }
}

// A[i0 .. i0 + mc)[p0 .. p0 + kc) as panels of mr rows: panel t holds a[(t kc + p) mr + r], zero
// past row i1.
inline void pack_a(float* out, const float* A, std::int64_t rs, std::int64_t cs, std::int64_t i0, std::int64_t i1, std::int64_t p0,
                   std::int64_t kc, std::int64_t mr) {
    for (std::int64_t t = 0; i0 + t * mr < i1; ++t) {
        float* panel = out + t * kc * mr;
        const std::int64_t r0 = i0 + t * mr, rows = std::min(mr, i1 - r0);
        const float* src = A + r0 * rs + p0 * cs;
        if (rows == mr && cs == 1) {  // contiguous stores from mr row streams
            for (std::int64_t p = 0; p < kc; ++p)
                for (std::int64_t r = 0; r < mr; ++r) panel[p * mr + r] = src[r * rs + p];
        } else {
            for (std::int64_t p = 0; p < kc; ++p)
                for (std::int64_t r = 0; r < mr; ++r) panel[p * mr + r] = r < rows ? src[r * rs + p * cs] : 0.0f;
        }
    }
}

namespace detail {
struct FreeAligned {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
};
// Per-thread packing space, grown as needed and kept for the next product.
inline float* scratch(int which, std::int64_t n) {
    thread_local std::unique_ptr<float[], FreeAligned> buf[2];
    thread_local std::int64_t size[2] = {0, 0};
    if (size[which] < n) {
        buf[which].reset(static_cast<float*>(::operator new[](static_cast<std::size_t>(n) * sizeof(float), std::align_val_t(64))));
        size[which] = n;
    }
    return buf[which].get();
}
}  // namespace detail

using MicroKernel = void (*)(const float* a, const float* b, std::int64_t kc, float* c, std::int64_t ldc, std::int64_t rows, std::int64_t cols,
                             float alpha, float beta, bool first);
/// One ISA's micro-kernel and its register tile (mr rows x nr columns of C), with what block()
/// asks of every kernel type: the packed element, the k block, a panel's depth for kc values of
/// k, and the two packings.
struct Kernel {
    MicroKernel micro;
    std::int64_t mr, nr;
    cpu_isa isa;

    using packed = float;
    static constexpr std::int64_t kc_block = sgemm::kc_block;
    static constexpr std::int64_t depth(std::int64_t kc) { return kc; }
    void pack_b(float* out, const float* B, std::int64_t rs, std::int64_t cs, std::int64_t p0, std::int64_t kc, std::int64_t j0, std::int64_t nc,
                std::int64_t n) const {
#ifdef OMNI_HAVE_X86_DISPATCH
        if (rs == 1 && cs != 1 && isa == cpu_isa::avx512) return avx512::pack_b_transposed(out, B, cs, p0, kc, j0, nc, n, nr);
        if (rs == 1 && cs != 1 && isa == cpu_isa::avx2) return avx2::pack_b_transposed(out, B, cs, p0, kc, j0, nc, n, nr);
#endif
        sgemm::pack_b(out, B, rs, cs, p0, kc, j0, nc, n, nr);
    }
    void pack_a(float* out, const float* A, std::int64_t rs, std::int64_t cs, std::int64_t i0, std::int64_t i1, std::int64_t p0,
                std::int64_t kc) const {
        sgemm::pack_a(out, A, rs, cs, i0, i1, p0, kc, mr);
    }
};

/// The micro-kernel for this CPU under the ISA limit, or nullptr (matmul then uses Eigen).
inline const Kernel* kernel() {
#ifdef OMNI_HAVE_X86_DISPATCH
    static constexpr Kernel k512{&avx512::micro_kernel, avx512::mr, avx512::lanes * avx512::nr_vectors, cpu_isa::avx512};
    static constexpr Kernel k2{&avx2::micro_kernel, avx2::mr, avx2::lanes * avx2::nr_vectors, cpu_isa::avx2};
    if (cpu_isa_allows(cpu_isa::avx512)) return &k512;
    if (cpu_isa_allows(cpu_isa::avx2)) return &k2;
#endif
    return nullptr;
}

// Rows [i0, i1) x columns [j0, j1) of C for product bi of the batch, for any kernel type K
// (Kernel above, bf16_gemm::Kernel): panels of K::packed, depth(kc) entries deep.
template <class K>
void block(const K& kr, const GemmArgs& g, std::int64_t bi, std::int64_t i0, std::int64_t i1, std::int64_t j0, std::int64_t j1) {
    using P = typename K::packed;
    static_assert(sizeof(P) == sizeof(float), "packing space is counted in floats");
    const float* A = static_cast<const float*>(g.a) + bi * g.a_batch;
    const float* B = static_cast<const float*>(g.b) + bi * g.b_batch;
    float* C = static_cast<float*>(g.c) + bi * g.c_batch;
    const std::int64_t mr = kr.mr, nr = kr.nr, deepest = K::depth(K::kc_block);
    const float alpha = static_cast<float>(g.alpha), beta = static_cast<float>(g.beta);
    P* bp = reinterpret_cast<P*>(detail::scratch(0, deepest * ((std::min(nc_block, j1 - j0) + nr - 1) / nr * nr)));
    P* ap = reinterpret_cast<P*>(detail::scratch(1, deepest * ((std::min(mc_block, i1 - i0) + mr - 1) / mr * mr)));
    for (std::int64_t jc = j0; jc < j1; jc += nc_block) {
        const std::int64_t nc = std::min(nc_block, j1 - jc);
        for (std::int64_t p0 = 0; p0 < g.k; p0 += K::kc_block) {
            const std::int64_t kc = std::min(K::kc_block, g.k - p0), d = K::depth(kc);
            kr.pack_b(bp, B, g.b_rs, g.b_cs, p0, kc, jc, nc, j1);
            for (std::int64_t ic = i0; ic < i1; ic += mc_block) {
                const std::int64_t ie = std::min(i1, ic + mc_block);
                kr.pack_a(ap, A, g.a_rs, g.a_cs, ic, ie, p0, kc);
                for (std::int64_t t = 0; ic + t * mr < ie; ++t) {
                    const std::int64_t i = ic + t * mr;
                    for (std::int64_t q = 0; q * nr < nc; ++q) {
                        const std::int64_t j = jc + q * nr;
                        kr.micro(ap + t * d * mr, bp + q * d * nr, d, C + i * g.c_rs + j, g.c_rs, std::min(mr, ie - i), std::min(nr, j1 - j), alpha,
                                 beta, p0 == 0);
                    }
                }
            }
        }
    }
}

/// C = alpha A B + beta C for every product of the batch (float32; k > 0). Threads split the
/// longer side of C, so each packs its share of the larger operand and all of the smaller. Any
/// kernel type block() takes.
template <class K> void gemm(const K& kr, const GemmArgs& g) {
    for (std::int64_t bi = 0; bi < g.batch; ++bi) {
        if (g.n > g.m) {
            const std::int64_t panels = (g.n + kr.nr - 1) / kr.nr;
            parallel_for(panels, kr.nr * g.m * g.k, [&](std::int64_t q0, std::int64_t q1) {
                block(kr, g, bi, 0, g.m, q0 * kr.nr, std::min(g.n, q1 * kr.nr));
            });
        } else {
            const std::int64_t panels = (g.m + kr.mr - 1) / kr.mr;
            parallel_for(panels, kr.mr * g.n * g.k, [&](std::int64_t t0, std::int64_t t1) {
                block(kr, g, bi, t0 * kr.mr, std::min(g.m, t1 * kr.mr), 0, g.n);
            });
        }
    }
}

}  // namespace omni::backend::cpu::sgemm

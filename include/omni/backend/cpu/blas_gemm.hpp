#pragma once
// Large float32/float64 products handed to an optimised BLAS (sgemm_/dgemm_), opt-in: link the
// omni::blas target (CMake option OMNI_WITH_BLAS), which defines OMNI_BLAS and links the system
// BLAS (Debian: libopenblas0-openmp through libblas.so.3). Without it this header declares
// nothing and Eigen does every product; Eigen stays the reference either way (docs/performance.md
// gives both). On the ViT-B/32 shapes OpenBLAS 0.3.21 runs 280-290 GFLOP/s on 2 AVX-512 cores
// where Eigen 3.4 runs 170-270.
//
// BLAS is column-major, omni row-major: C = A B is computed as C^T = B^T A^T, and each operand
// with a unit stride on either axis maps without copies (the other stride is its leading
// dimension). Operands with no unit stride, or sizes past 32-bit BLAS integers, stay with Eigen.
//
// OpenBLAS picks its kernels by CPU model when it loads. On a virtual machine whose CPUID it does
// not know it falls back to "Prescott" (SSE3) kernels, 4-8x slower than Eigen; omni then keeps
// Eigen and says once on stderr to set OPENBLAS_CORETYPE (e.g. SkylakeX, Haswell, Zen).
#ifdef OMNI_BLAS
#include <cpuid.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>

#include "omni/backend/matmul.hpp"

extern "C" {
void sgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const float* alpha, const float* a, const int* lda,
            const float* b, const int* ldb, const float* beta, float* c, const int* ldc);
void dgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const double* alpha, const double* a, const int* lda,
            const double* b, const int* ldb, const double* beta, double* c, const int* ldc);
// OpenBLAS only; null with another BLAS.
const char* openblas_get_corename() __attribute__((weak));
}

namespace omni::backend::cpu::blas {

// Whether the BLAS may be used: not OpenBLAS on generic pre-AVX kernels on a CPU with AVX2.
inline bool usable() {
    static const bool ok = [] {
        if (!openblas_get_corename) return true;
        const char* core = openblas_get_corename();
        unsigned a = 0, b = 0, c = 0, d = 0;
        const bool avx2 = __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((b >> 5) & 1u);
        const bool generic = core && (!std::strcmp(core, "Prescott") || !std::strcmp(core, "Core2") || !std::strcmp(core, "Nehalem") ||
                                      !std::strcmp(core, "Penryn") || !std::strcmp(core, "Dunnington") || !std::strcmp(core, "Atom"));
        if (avx2 && generic) {
            std::fprintf(stderr,
                         "omni: OpenBLAS chose its %s kernels on a CPU with AVX2 (an unrecognised CPU model); omni keeps Eigen for "
                         "matmuls. Set OPENBLAS_CORETYPE (SkylakeX, Haswell, Zen, ...) to use OpenBLAS.\n",
                         core);
            return false;
        }
        return true;
    }();
    return ok;
}

// What omni uses for large products: the OpenBLAS core name (or "blas"), or "eigen" when not usable.
inline const char* describe() {
    if (!usable()) return "eigen";
    return openblas_get_corename ? openblas_get_corename() : "blas";
}

// Product bi of the batch through ?gemm_; false (and nothing done) when the layout does not map.
template <class T> bool gemm(const GemmArgs& g, std::int64_t bi) {
    constexpr std::int64_t int_max = std::numeric_limits<int>::max();
    if (g.m > int_max || g.n > int_max || g.k > int_max || g.c_rs > int_max) return false;
    // B^T as a column-major n x k: B row-major (unit column stride) is that matrix as it lies.
    char tb = 0, ta = 0;
    std::int64_t ldb = 0, lda = 0;
    if (g.b_cs == 1 && g.b_rs >= std::max<std::int64_t>(1, g.n)) tb = 'N', ldb = g.b_rs;
    else if (g.b_rs == 1 && g.b_cs >= std::max<std::int64_t>(1, g.k)) tb = 'T', ldb = g.b_cs;
    if (g.a_cs == 1 && g.a_rs >= std::max<std::int64_t>(1, g.k)) ta = 'N', lda = g.a_rs;
    else if (g.a_rs == 1 && g.a_cs >= std::max<std::int64_t>(1, g.m)) ta = 'T', lda = g.a_cs;
    if (!ta || !tb || lda > int_max || ldb > int_max || g.c_rs < std::max<std::int64_t>(1, g.n)) return false;
    const int m = static_cast<int>(g.n), n = static_cast<int>(g.m), k = static_cast<int>(g.k);
    const int ilda = static_cast<int>(ldb), ildb = static_cast<int>(lda), ildc = static_cast<int>(g.c_rs);
    const T alpha = static_cast<T>(g.alpha), beta = static_cast<T>(g.beta);
    const T* b = static_cast<const T*>(g.b) + bi * g.b_batch;
    const T* a = static_cast<const T*>(g.a) + bi * g.a_batch;
    T* c = static_cast<T*>(g.c) + bi * g.c_batch;
    if constexpr (std::is_same_v<T, float>) sgemm_(&tb, &ta, &m, &n, &k, &alpha, b, &ilda, a, &ildb, &beta, c, &ildc);
    else dgemm_(&tb, &ta, &m, &n, &k, &alpha, b, &ilda, a, &ildb, &beta, c, &ildc);
    return true;
}

}  // namespace omni::backend::cpu::blas
#endif

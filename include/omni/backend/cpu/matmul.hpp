#pragma once
// CPU GEMM through Eigen: each operand is mapped in place (row- or column-major with an outer
// stride), so views and transposes cost nothing. Many small products (attention heads at 50
// tokens) run one per thread; a large one uses Eigen's own threads. Under
// float32_matmul_precision() == bf16, large float32 products go to AMX tiles (amx_gemm.hpp), or
// without AMX to AVX512-BF16 dot products where those are the faster (bf16_gemm.hpp); with
// omni::blas linked, other large products go to the system BLAS (blas_gemm.hpp); else large
// float32 products run omni's own GEMM (sgemm.hpp) where the CPU has AVX2 or AVX-512, whatever
// -march the code was compiled for, with the same bits at any thread count.
#include <Eigen/Core>
#include <type_traits>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "omni/backend/cpu/amx_gemm.hpp"
#include "omni/backend/cpu/bf16_gemm.hpp"
#include "omni/backend/cpu/blas_gemm.hpp"
#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/cpu/sgemm.hpp"
#include "omni/backend/matmul.hpp"
#include "omni/core/matmul_precision.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

namespace backend::cpu::gemm_eigen {

template <class T, int Order> using MapC = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>, 0, Eigen::OuterStride<>>;

// Product bi of the batch, each operand mapped in the layout its strides have.
template <class T> void one(const GemmArgs& g, std::int64_t bi) {
    using Out = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;
    const T* a = static_cast<const T*>(g.a) + bi * g.a_batch;
    const T* b = static_cast<const T*>(g.b) + bi * g.b_batch;
    Out C(static_cast<T*>(g.c) + bi * g.c_batch, g.m, g.n, Eigen::OuterStride<>(g.c_rs));
    const T alpha = static_cast<T>(g.alpha);
    auto run = [&](const auto& A, const auto& B) {
        if (g.beta == 0) C.noalias() = alpha * (A * B);
        else {
            if (g.beta != 1) C *= static_cast<T>(g.beta);
            C.noalias() += alpha * (A * B);
        }
    };
    auto with_b = [&](const auto& A) {
        if (g.b_cs == 1) run(A, MapC<T, Eigen::RowMajor>(b, g.k, g.n, Eigen::OuterStride<>(g.b_rs)));
        else run(A, MapC<T, Eigen::ColMajor>(b, g.k, g.n, Eigen::OuterStride<>(g.b_cs)));
    };
    if (g.a_cs == 1) with_b(MapC<T, Eigen::RowMajor>(a, g.m, g.k, Eigen::OuterStride<>(g.a_rs)));
    else with_b(MapC<T, Eigen::ColMajor>(a, g.m, g.k, Eigen::OuterStride<>(g.a_cs)));
}

/// Eigen's GEMM threads for one product. Eigen::setNbThreads writes a plain static int that every
/// product reads: a data race when matmuls run on several threads at once (ThreadSanitizer finds
/// it, tests/threads/thread_safety_test.cpp). With that setting left at its default, Eigen asks
/// omp_get_max_threads(), which is the calling thread's own: so the count is set there for the
/// product and restored after, and no other thread sees it.
class EigenThreads {
public:
    explicit EigenThreads([[maybe_unused]] int n) {
#ifdef _OPENMP
        prev_ = omp_get_max_threads();
        if (n != prev_) omp_set_num_threads(n);
#endif
    }
    ~EigenThreads() {
#ifdef _OPENMP
        if (omp_get_max_threads() != prev_) omp_set_num_threads(prev_);
#endif
    }
    EigenThreads(const EigenThreads&) = delete;
    EigenThreads& operator=(const EigenThreads&) = delete;

private:
    [[maybe_unused]] int prev_ = 1;
};

// Products worth handing to AMX tiles or a BLAS: smaller ones cost more to pack than they save.
inline bool large_product(const GemmArgs& g) { return g.m >= 32 && g.n >= 32 && g.k >= 32 && g.m * g.n * g.k >= (std::int64_t{1} << 18); }
// Products for omni's sgemm: any inner dimension, but at least 16 rows and columns (a register
// tile is 6 x 16 or 6 x 64; matrix-vector products stay with Eigen's GEMV).
inline bool sgemm_product(const GemmArgs& g) { return g.m >= 16 && g.n >= 16 && g.k >= 1 && g.m * g.n * g.k >= (std::int64_t{1} << 18); }
// Below this many multiply-adds Eigen runs on the calling thread: a fork costs about what it
// saves, and a serial product's bits do not depend on the thread count.
inline constexpr std::int64_t eigen_threaded_flops = std::int64_t{1} << 21;

}  // namespace backend::cpu::gemm_eigen

OMNI_KERNELS_INLINE void matmul_kernels<cpu>::gemm(const GemmArgs& g) {
    using backend::cpu::gemm_eigen::one;
    dispatch_float(g.type, "matmul", [&]<class T>() {
        const std::int64_t flops = g.m * g.n * g.k;
        if constexpr (std::is_same_v<T, float>) {
            if (float32_matmul_precision() == matmul_precision::bf16) {
                if (backend::cpu::gemm_eigen::large_product(g) && backend::cpu::amx::available()) {
                    backend::cpu::amx::gemm(g);
                    return;
                }
                if (backend::cpu::gemm_eigen::sgemm_product(g) && backend::cpu::bf16_gemm::chosen()) {
                    backend::cpu::bf16_gemm::gemm(g);
                    return;
                }
            }
        }
        if (g.batch > 1 && flops < (std::int64_t{1} << 21)) {
            // Small products: one whole GEMM per thread (Eigen stays serial inside a parallel region).
            backend::cpu::parallel_for(g.batch, flops / 64 + 1, [&](std::int64_t b, std::int64_t e) {
                for (std::int64_t i = b; i < e; ++i) one<T>(g, i);
            });
        } else {
            // Also the BLAS's thread count: OpenMP builds of OpenBLAS and BLIS read the same setting.
            const backend::cpu::gemm_eigen::EigenThreads threads(flops < backend::cpu::gemm_eigen::eigen_threaded_flops ? 1 : num_threads());
#ifdef OMNI_BLAS
            if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
                if (backend::cpu::gemm_eigen::large_product(g) && backend::cpu::blas::usable()) {
                    for (std::int64_t i = 0; i < g.batch; ++i)
                        if (!backend::cpu::blas::gemm<T>(g, i)) one<T>(g, i);
                    return;
                }
            }
#endif
            if constexpr (std::is_same_v<T, float>) {
                if (backend::cpu::gemm_eigen::sgemm_product(g)) {
                    if (const auto* kernel = backend::cpu::sgemm::kernel()) {
                        backend::cpu::sgemm::gemm(*kernel, g);
                        return;
                    }
                }
            }
            for (std::int64_t i = 0; i < g.batch; ++i) one<T>(g, i);
        }
    });
}

}  // namespace omni

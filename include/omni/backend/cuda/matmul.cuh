#pragma once
// CUDA GEMM through cuBLAS's strided-batched S/D GEMM. cuBLAS is column-major and omni's C is
// row-major, so the call computes C^T = B^T A^T: a row-major operand is already its own transpose
// in column-major terms (op N), a column-major one is read with op T, and nothing is copied
// unless a view has no valid leading dimension (a zero-stride, broadcast row axis), in which
// case that operand is packed densely first.
#include <cublas_v2.h>

#include <climits>
#include <string>

#include "omni/backend/cuda/kernels.hpp"
#include "omni/backend/cuda/memory.cuh"

namespace omni::backend::cuda {

inline void check_cublas(cublasStatus_t s, const char* call) {
    if (s != CUBLAS_STATUS_SUCCESS)
        throw device_error("matmul", std::string("expected ") + call + " to succeed, got " + cublasGetStatusName(s) + " (" +
                                         cublasGetStatusString(s) + ")");
}

// One handle per host thread (a handle is not safe to share between threads mid-call), remade
// when the thread switches device because a handle is bound to the device it was created on.
inline cublasHandle_t cublas_handle() {
    struct Owned {
        cublasHandle_t h = nullptr;
        int device = -1;
        ~Owned() {
            if (h) cublasDestroy(h);  // at exit the library may be gone already; nothing to report to
        }
    };
    thread_local Owned owned;
    int device = 0;
    check(cudaGetDevice(&device), "matmul", "cudaGetDevice");
    if (!owned.h || owned.device != device) {
        if (owned.h) cublasDestroy(owned.h);
        owned.h = nullptr;
        check_cublas(cublasCreate(&owned.h), "cublasCreate");
        owned.device = device;
    }
    return owned.h;
}

// A [batch, rows, cols] operand with element (i, j) of batch b at p + b*batch + i*rs + j*cs, as
// the column-major matrix cuBLAS reads to get its transpose (cols x rows).
struct GemmOperand {
    const void* p;
    std::int64_t batch, rows, cols, rs, cs;
    cublasOperation_t op = CUBLAS_OP_N;
    std::int64_t ld = 0;

    // False when neither layout has a leading dimension cuBLAS accepts.
    bool layout() {
        // Row-major: column-major storage of X^T (cols x rows), ld = rs. One row needs no real ld.
        if (cs == 1 && (rows == 1 || rs >= std::max<std::int64_t>(cols, 1))) {
            op = CUBLAS_OP_N;
            ld = rows == 1 ? std::max<std::int64_t>(cols, 1) : rs;
            return true;
        }
        // Column-major: storage of X (rows x cols), ld = cs, read transposed.
        if (rs == 1 && (cols == 1 || cs >= std::max<std::int64_t>(rows, 1))) {
            op = CUBLAS_OP_T;
            ld = cols == 1 ? std::max<std::int64_t>(rows, 1) : cs;
            return true;
        }
        return false;
    }
};

// Makes `x` a dense row-major copy in `buf` when its strides do not suit cuBLAS.
inline void pack_if_needed(GemmOperand& x, dtype t, std::optional<Scratch>& buf) {
    if (x.layout()) return;
    const Shape shape{x.batch, x.rows, x.cols};
    buf.emplace(static_cast<std::size_t>(shape.numel()) * size_of(t));
    omni::cuda::copy_strided(shape, buf->as<void>(), t, contiguous_strides(shape), x.p, t, Strides{x.batch, x.rs, x.cs});
    x = {buf->as<void>(), x.rows * x.cols, x.rows, x.cols, std::max<std::int64_t>(x.cols, 1), 1};
    x.layout();  // always valid now: dense rows
}

template <class T> void gemm_strided_batched(cublasHandle_t h, const GemmOperand& a, const GemmOperand& b, const GemmArgs& g,
                                             std::int64_t batch0, int count) {
    const T alpha = static_cast<T>(g.alpha), beta = static_cast<T>(g.beta);
    const T* bp = static_cast<const T*>(b.p) + batch0 * b.batch;
    const T* ap = static_cast<const T*>(a.p) + batch0 * a.batch;
    T* cp = static_cast<T*>(g.c) + batch0 * g.c_batch;
    const int m = static_cast<int>(g.n), n = static_cast<int>(g.m), k = static_cast<int>(g.k);
    // cublas m, n, k = N, M, K; first operand B^T, second A^T; C^T has leading dimension c_rs.
    if constexpr (std::is_same_v<T, float>)
        check_cublas(cublasSgemmStridedBatched(h, b.op, a.op, m, n, k, &alpha, bp, static_cast<int>(b.ld), b.batch, ap,
                                               static_cast<int>(a.ld), a.batch, &beta, cp, static_cast<int>(g.c_rs), g.c_batch, count),
                     "cublasSgemmStridedBatched");
    else
        check_cublas(cublasDgemmStridedBatched(h, b.op, a.op, m, n, k, &alpha, bp, static_cast<int>(b.ld), b.batch, ap,
                                               static_cast<int>(a.ld), a.batch, &beta, cp, static_cast<int>(g.c_rs), g.c_batch, count),
                     "cublasDgemmStridedBatched");
}

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE void matmul_kernels<cuda>::gemm(const GemmArgs& g) {
    namespace be = backend::cuda;
    if (g.batch == 0 || g.m == 0 || g.n == 0) return;
    dispatch_float(g.type, "matmul", [&]<class T>() {
        be::GemmOperand a{g.a, g.a_batch, g.m, g.k, g.a_rs, g.a_cs}, b{g.b, g.b_batch, g.k, g.n, g.b_rs, g.b_cs};
        std::optional<be::Scratch> a_buf, b_buf;
        be::pack_if_needed(a, g.type, a_buf);
        be::pack_if_needed(b, g.type, b_buf);
        for (std::int64_t v : {g.m, g.n, g.k, a.ld, b.ld, g.c_rs})
            if (v > INT_MAX)
                throw value_error("matmul", "expected matrix extents and strides below 2^31 for cuBLAS, got " + std::to_string(v));
        // Large batch counts are split: some cuBLAS kernels put the batch on a 65535-wide grid axis.
        const std::int64_t chunk = 65535;
        for (std::int64_t b0 = 0; b0 < g.batch; b0 += chunk)
            be::gemm_strided_batched<T>(be::cublas_handle(), a, b, g, b0, static_cast<int>(std::min(chunk, g.batch - b0)));
    });
}

}  // namespace omni

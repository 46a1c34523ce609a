#pragma once
// CUDA softmax rows: one block per row of the dense [rows, n] view; the max, the exp-sum and the
// scaled write are three passes over the row, which stays in L1/L2 for the row lengths of
// attention and classification heads.
#include <cmath>

#include "omni/backend/cuda/block_reduce.cuh"
#include "omni/backend/cuda/kernels.hpp"

namespace omni::backend::cuda {

template <class T> __global__ void softmax_forward_kernel(const T* x, T* y, std::int64_t rows, std::int64_t n, bool log_out) {
    using std::exp, std::log, std::isinf;
    for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * n;
        T* yr = y + r * n;
        T m = row_max(xr, n);
        if (isinf(m) && m < 0) m = 0;  // a fully masked row gives NaN like PyTorch (and the CPU), not a crash
        T s = 0;
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) s += exp(xr[i] - m);
        s = row_sum(s);
        if (log_out) {
            // (x - m) - log s, not x - (m + log s): the latter rounds to m's precision when |m| >> log s.
            const T ls = log(s);
            for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = (xr[i] - m) - ls;
        } else {
            const T inv = T(1) / s;
            for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = exp(xr[i] - m) * inv;
        }
    }
}

template <class T>
__global__ void softmax_backward_kernel(const T* y, const T* g, T* gx, std::int64_t rows, std::int64_t n, bool log_out) {
    using std::exp;
    for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* yr = y + r * n;
        const T* gr = g + r * n;
        T* o = gx + r * n;
        T dot = 0;
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) dot += log_out ? gr[i] : gr[i] * yr[i];
        dot = row_sum(dot);
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x)
            o[i] = log_out ? gr[i] - exp(yr[i]) * dot : yr[i] * (gr[i] - dot);
    }
}

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE void softmax_kernels<cuda>::forward(const KernelView& x, const KernelView& y, bool log) {
    namespace be = backend::cuda;
    const std::int64_t rows = x.shape[0], n = x.shape[1];
    const char* op = log ? "log_softmax" : "softmax";
    dispatch_float(x.type, op, [&]<class T>() {
        be::softmax_forward_kernel<T><<<be::row_grid(rows), be::row_threads>>>(x.as<T>(), y.as<T>(), rows, n, log);
    });
    be::check_launch(op);
}

OMNI_CUDA_INLINE void softmax_kernels<cuda>::backward(const KernelView& y, const KernelView& g, const KernelView& gx, bool log) {
    namespace be = backend::cuda;
    const std::int64_t rows = y.shape[0], n = y.shape[1];
    const char* op = log ? "log_softmax" : "softmax";
    dispatch_float(y.type, op, [&]<class T>() {
        be::softmax_backward_kernel<T><<<be::row_grid(rows), be::row_threads>>>(y.as<T>(), g.as<T>(), gx.as<T>(), rows, n, log);
    });
    be::check_launch(op);
}

}  // namespace omni

#pragma once
// CUDA L2 normalisation rows: one block per row of the dense [rows, n] view, squared norms and
// the backward dot product accumulated in double as on the CPU.
#include <cmath>

#include "omni/backend/cuda/block_reduce.cuh"
#include "omni/backend/cuda/kernels.hpp"

namespace omni::backend::cuda {

template <class T> __global__ void l2_forward_kernel(const T* x, double eps, T* y, T* norm, std::int64_t rows, std::int64_t n) {
    using std::sqrt;
    for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * n;
        double ss = 0;
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) ss += static_cast<double>(xr[i]) * xr[i];
        const double nm = sqrt(row_sum(ss));
        if (threadIdx.x == 0) norm[r] = static_cast<T>(nm);
        const T inv = static_cast<T>(1.0 / (nm < eps ? eps : nm));  // std::max(nm, eps), NaN included
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) y[r * n + i] = xr[i] * inv;
    }
}

template <class T>
__global__ void l2_backward_kernel(const T* y, const T* norm, const T* g, double eps, T* gx, std::int64_t rows, std::int64_t n) {
    for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* yr = y + r * n;
        const T* gr = g + r * n;
        T* o = gx + r * n;
        const double nm = norm[r];
        if (nm > eps) {
            double dot = 0;
            for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) dot += static_cast<double>(gr[i]) * yr[i];
            dot = row_sum(dot);
            const T inv = static_cast<T>(1.0 / nm), d = static_cast<T>(dot);
            for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) o[i] = (gr[i] - yr[i] * d) * inv;
        } else {
            const T inv = static_cast<T>(1.0 / eps);
            for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) o[i] = gr[i] * inv;
        }
    }
}

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE void normalize_kernels<cuda>::forward(const KernelView& x, double eps, const KernelView& y, const KernelView& norm) {
    namespace be = backend::cuda;
    const std::int64_t rows = x.shape[0], n = x.shape[1];
    dispatch_float(x.type, "l2_normalize", [&]<class T>() {
        be::l2_forward_kernel<T><<<be::row_grid(rows), be::row_threads>>>(x.as<T>(), eps, y.as<T>(), norm.as<T>(), rows, n);
    });
    be::check_launch("l2_normalize");
}

OMNI_CUDA_INLINE void normalize_kernels<cuda>::backward(const KernelView& y, const KernelView& norm, const KernelView& g, double eps,
                                                        const KernelView& gx) {
    namespace be = backend::cuda;
    const std::int64_t rows = y.shape[0], n = y.shape[1];
    dispatch_float(y.type, "l2_normalize", [&]<class T>() {
        be::l2_backward_kernel<T><<<be::row_grid(rows), be::row_threads>>>(y.as<T>(), norm.as<T>(), g.as<T>(), eps, gx.as<T>(),
                                                                           rows, n);
    });
    be::check_launch("l2_normalize");
}

}  // namespace omni

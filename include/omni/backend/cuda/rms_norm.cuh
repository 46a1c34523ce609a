#pragma once
// CUDA RMS norm, laid out like the layer norm kernels: forward and dx one block per row, the
// weight gradient a column sum over rows (threads own columns, the grid splits rows, a small
// kernel adds the partials). Sums accumulate in double, as on the CPU.
#include <cmath>

#include "omni/backend/cuda/block_reduce.cuh"
#include "omni/backend/cuda/kernels.hpp"
#include "omni/backend/cuda/memory.cuh"

namespace omni::backend::cuda {

template <class T>
__global__ void rms_norm_forward_kernel(const T* x, const T* w, double eps, T* y, T* rstd, std::int64_t rows, std::int64_t D) {
    using std::sqrt;
    for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * D;
        T* yr = y + r * D;
        double ss = 0;
        for (std::int64_t i = threadIdx.x; i < D; i += blockDim.x) ss += static_cast<double>(xr[i]) * xr[i];
        const double rs = 1.0 / sqrt(row_sum(ss) / D + eps);
        if (threadIdx.x == 0) rstd[r] = static_cast<T>(rs);
        const T q = static_cast<T>(rs);
        for (std::int64_t i = threadIdx.x; i < D; i += blockDim.x) yr[i] = w[i] * (xr[i] * q);
    }
}

template <class T>
__global__ void rms_norm_dx_kernel(const T* x, const T* w, const T* rstd, const T* gy, T* gx, std::int64_t rows, std::int64_t D) {
    for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * D;
        const T* g = gy + r * D;
        T* o = gx + r * D;
        const T q = rstd[r];
        double s = 0;
        for (std::int64_t i = threadIdx.x; i < D; i += blockDim.x) s += static_cast<double>(g[i]) * w[i] * xr[i];
        const T c = static_cast<T>(row_sum(s) / D) * q * q;
        for (std::int64_t i = threadIdx.x; i < D; i += blockDim.x) o[i] = q * (g[i] * w[i] - xr[i] * c);
    }
}

inline constexpr int rms_col_threads = 32, rms_col_lanes = 8;

// partial[split][i] = sum over this split's rows of gy * x * rstd.
template <class T>
__global__ void rms_norm_dw_partial_kernel(const T* x, const T* rstd, const T* gy, double* pw, std::int64_t rows, std::int64_t D) {
    __shared__ double sw[rms_col_lanes][rms_col_threads];
    const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * rms_col_threads + threadIdx.x;
    double aw = 0;
    if (i < D)
        for (std::int64_t r = static_cast<std::int64_t>(blockIdx.y) * rms_col_lanes + threadIdx.y; r < rows;
             r += static_cast<std::int64_t>(gridDim.y) * rms_col_lanes)
            aw += static_cast<double>(gy[r * D + i]) * x[r * D + i] * rstd[r];
    sw[threadIdx.y][threadIdx.x] = aw;
    __syncthreads();
    if (threadIdx.y == 0 && i < D) {
        for (int l = 1; l < rms_col_lanes; ++l) aw += sw[l][threadIdx.x];
        pw[blockIdx.y * D + i] = aw;
    }
}

template <class T> __global__ void rms_norm_dw_finish_kernel(const double* pw, T* gw, int splits, std::int64_t D) {
    for (std::int64_t i = first_index(); i < D; i += grid_stride()) {
        double aw = 0;
        for (int s = 0; s < splits; ++s) aw += pw[s * D + i];
        gw[i] = static_cast<T>(aw);
    }
}

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE void rms_norm_kernels<cuda>::forward(const KernelView& x, const KernelView& w, double eps, const KernelView& y,
                                                      const KernelView& rstd) {
    namespace be = backend::cuda;
    const std::int64_t rows = x.shape[0], D = x.shape[1];
    dispatch_float(x.type, "rms_norm", [&]<class T>() {
        be::rms_norm_forward_kernel<T><<<be::row_grid(rows), be::row_threads>>>(x.as<T>(), w.as<T>(), eps, y.as<T>(), rstd.as<T>(), rows, D);
    });
    be::check_launch("rms_norm");
}

OMNI_CUDA_INLINE void rms_norm_kernels<cuda>::backward(const KernelView& x, const KernelView& w, const KernelView& rstd,
                                                       const KernelView& gy, const KernelView& gx, const KernelView& gw) {
    namespace be = backend::cuda;
    const std::int64_t rows = x.shape[0], D = x.shape[1];
    dispatch_float(x.type, "rms_norm", [&]<class T>() {
        be::rms_norm_dx_kernel<T><<<be::row_grid(rows), be::row_threads>>>(x.as<T>(), w.as<T>(), rstd.as<T>(), gy.as<T>(), gx.as<T>(), rows, D);
        be::check_launch("rms_norm");
        const int splits = static_cast<int>(std::clamp<std::int64_t>((rows + 63) / 64, 1, 256));
        be::Scratch pw(splits * D * sizeof(double));
        const dim3 grid(static_cast<unsigned>((D + be::rms_col_threads - 1) / be::rms_col_threads), static_cast<unsigned>(splits));
        const dim3 block(be::rms_col_threads, be::rms_col_lanes);
        be::rms_norm_dw_partial_kernel<T><<<grid, block>>>(x.as<T>(), rstd.as<T>(), gy.as<T>(), pw.as<double>(), rows, D);
        be::check_launch("rms_norm");
        be::rms_norm_dw_finish_kernel<T><<<be::grid_for(D), be::block_threads>>>(pw.as<double>(), gw.as<T>(), splits, D);
        be::check_launch("rms_norm");
    });
}

}  // namespace omni

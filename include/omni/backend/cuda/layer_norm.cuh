#pragma once
// CUDA layer norm. Forward and the dx part of the backward run one block per row; the weight and
// bias gradients are column sums over rows, done by a separate kernel whose threads own columns
// (coalesced reads) and whose grid splits the rows, finished by a small kernel that adds the
// per-split partials. Statistics and column sums accumulate in double, as on the CPU.
#include <cmath>

#include "omni/backend/cuda/block_reduce.cuh"
#include "omni/backend/cuda/kernels.hpp"
#include "omni/backend/cuda/memory.cuh"

namespace omni::backend::cuda {

template <class T>
__global__ void layer_norm_forward_kernel(const T* x, const T* w, const T* b, double eps, T* y, T* mean, T* rstd,
                                          std::int64_t rows, std::int64_t D) {
    using std::sqrt;
    for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * D;
        T* yr = y + r * D;
        double s = 0;
        for (std::int64_t i = threadIdx.x; i < D; i += blockDim.x) s += xr[i];
        const double mu = row_sum(s) / D;
        double ss = 0;
        for (std::int64_t i = threadIdx.x; i < D; i += blockDim.x) ss += (xr[i] - mu) * (xr[i] - mu);
        const double sq = row_sum(ss);
        // As the CPU kernel: a variance past double's range is NaN (macros: numeric_limits is host-only here).
        const double rs = sq == static_cast<double>(INFINITY) ? static_cast<double>(NAN) : 1.0 / sqrt(sq / D + eps);
        if (threadIdx.x == 0) {
            mean[r] = static_cast<T>(mu);
            rstd[r] = static_cast<T>(rs);
        }
        const T m = static_cast<T>(mu), q = static_cast<T>(rs);
        for (std::int64_t i = threadIdx.x; i < D; i += blockDim.x) {
            T v = (xr[i] - m) * q;
            if (w) v *= w[i];
            if (b) v += b[i];
            yr[i] = v;
        }
    }
}

template <class T>
__global__ void layer_norm_dx_kernel(const T* x, const T* w, const T* mean, const T* rstd, const T* gy, T* gx,
                                     std::int64_t rows, std::int64_t D) {
    for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * D;
        const T* g = gy + r * D;
        T* o = gx + r * D;
        const T m = mean[r], q = rstd[r];
        double s1 = 0, s2 = 0;
        for (std::int64_t i = threadIdx.x; i < D; i += blockDim.x) {
            const T xh = (xr[i] - m) * q;
            const T dxh = w ? g[i] * w[i] : g[i];
            s1 += dxh;
            s2 += dxh * xh;
        }
        const T a = static_cast<T>(row_sum(s1) / D), c = static_cast<T>(row_sum(s2) / D);
        for (std::int64_t i = threadIdx.x; i < D; i += blockDim.x) {
            const T dxh = w ? g[i] * w[i] : g[i];
            o[i] = q * (dxh - a - (xr[i] - m) * q * c);
        }
    }
}

inline constexpr int col_threads = 32, col_lanes = 8;  // a warp of columns, 8 rows in flight per column

// partial[split][i] = sum over this split's rows of gy * xhat (pw) and of gy (pb).
template <class T>
__global__ void layer_norm_dwb_partial_kernel(const T* x, const T* mean, const T* rstd, const T* gy, double* pw, double* pb,
                                              std::int64_t rows, std::int64_t D) {
    __shared__ double sw[col_lanes][col_threads], sb[col_lanes][col_threads];
    const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * col_threads + threadIdx.x;
    double aw = 0, ab = 0;
    if (i < D)
        for (std::int64_t r = static_cast<std::int64_t>(blockIdx.y) * col_lanes + threadIdx.y; r < rows;
             r += static_cast<std::int64_t>(gridDim.y) * col_lanes) {
            const T g = gy[r * D + i];
            const T xh = (x[r * D + i] - mean[r]) * rstd[r];
            aw += g * xh;
            ab += g;
        }
    sw[threadIdx.y][threadIdx.x] = aw;
    sb[threadIdx.y][threadIdx.x] = ab;
    __syncthreads();
    if (threadIdx.y == 0 && i < D) {
        for (int l = 1; l < col_lanes; ++l) {
            aw += sw[l][threadIdx.x];
            ab += sb[l][threadIdx.x];
        }
        if (pw) pw[blockIdx.y * D + i] = aw;
        if (pb) pb[blockIdx.y * D + i] = ab;
    }
}

template <class T> __global__ void layer_norm_dwb_finish_kernel(const double* pw, const double* pb, T* gw, T* gb, int splits, std::int64_t D) {
    for (std::int64_t i = first_index(); i < D; i += grid_stride()) {
        double aw = 0, ab = 0;
        for (int s = 0; s < splits; ++s) {
            if (pw) aw += pw[s * D + i];
            if (pb) ab += pb[s * D + i];
        }
        if (gw) gw[i] = static_cast<T>(aw);
        if (gb) gb[i] = static_cast<T>(ab);
    }
}

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE void layer_norm_kernels<cuda>::forward(const KernelView& x, const KernelView& w, const KernelView& b, double eps,
                                                        const KernelView& y, const KernelView& mean, const KernelView& rstd) {
    namespace be = backend::cuda;
    const std::int64_t rows = x.shape[0], D = x.shape[1];
    dispatch_float(x.type, "layer_norm", [&]<class T>() {
        be::layer_norm_forward_kernel<T><<<be::row_grid(rows), be::row_threads>>>(x.as<T>(), w.as<T>(), b.as<T>(), eps, y.as<T>(),
                                                                                  mean.as<T>(), rstd.as<T>(), rows, D);
    });
    be::check_launch("layer_norm");
}

// gw and gb are overwritten (the backend contract); the CPU adds into the zeros its caller made.
OMNI_CUDA_INLINE void layer_norm_kernels<cuda>::backward(const KernelView& x, const KernelView& w, const KernelView& mean,
                                                         const KernelView& rstd, const KernelView& gy, const KernelView& gx,
                                                         const KernelView& gw, const KernelView& gb) {
    namespace be = backend::cuda;
    const std::int64_t rows = x.shape[0], D = x.shape[1];
    dispatch_float(x.type, "layer_norm", [&]<class T>() {
        be::layer_norm_dx_kernel<T><<<be::row_grid(rows), be::row_threads>>>(x.as<T>(), w.as<T>(), mean.as<T>(), rstd.as<T>(),
                                                                             gy.as<T>(), gx.as<T>(), rows, D);
        be::check_launch("layer_norm");
        if (!gw.data && !gb.data) return;
        // About 64 rows per split: enough blocks to fill the device at small D without a long
        // serial finish over splits.
        const int splits = static_cast<int>(std::clamp<std::int64_t>((rows + 63) / 64, 1, 256));
        be::Scratch pw(gw.data ? splits * D * sizeof(double) : 1), pb(gb.data ? splits * D * sizeof(double) : 1);
        double* pwp = gw.data ? pw.as<double>() : nullptr;
        double* pbp = gb.data ? pb.as<double>() : nullptr;
        const dim3 grid(static_cast<unsigned>((D + be::col_threads - 1) / be::col_threads), static_cast<unsigned>(splits));
        const dim3 block(be::col_threads, be::col_lanes);
        be::layer_norm_dwb_partial_kernel<T><<<grid, block>>>(x.as<T>(), mean.as<T>(), rstd.as<T>(), gy.as<T>(), pwp, pbp, rows, D);
        be::check_launch("layer_norm");
        be::layer_norm_dwb_finish_kernel<T><<<be::grid_for(D), be::block_threads>>>(pwp, pbp, gw.as<T>(), gb.as<T>(), splits, D);
        be::check_launch("layer_norm");
    });
}

}  // namespace omni

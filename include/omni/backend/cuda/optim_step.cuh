#pragma once
// CUDA optimiser updates: one thread per parameter element, the update written as on the CPU
// (same operation order in the parameter's dtype, scalar factors formed in double on the host).
// sum_of_squares reduces per block into a fixed grid of partials and adds those in block order,
// so the result depends on the tensor size only, never on scheduling.
#include <algorithm>
#include <cmath>
#include <vector>

#include "omni/backend/cuda/block_reduce.cuh"
#include "omni/backend/cuda/kernels.hpp"
#include "omni/backend/cuda/memory.cuh"

namespace omni::backend::cuda {

template <class T> struct AdamWScalars {
    T decay, b1, c1, b2, c2, step_size, bc2_sqrt, eps;
};

template <class T> __global__ void adamw_kernel(std::int64_t n, T* p, const T* g, T* m, T* v, AdamWScalars<T> s) {
    using std::sqrt;
    for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
        const T gi = g[i];
        const T mi = m[i] * s.b1 + s.c1 * gi;
        const T vi = v[i] * s.b2 + s.c2 * gi * gi;
        const T denom = sqrt(vi) / s.bc2_sqrt + s.eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * s.decay - s.step_size * (mi / denom);
    }
}

template <class T>
__global__ void sgd_kernel(std::int64_t n, T* p, const T* g, T* buf, T lr, T wd, T mu, T keep, bool decay, bool use_buf, bool first,
                           bool nesterov) {
    for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
        T d = decay ? g[i] + wd * p[i] : g[i];
        if (use_buf) {
            const T bi = first ? d : buf[i] * mu + keep * d;
            buf[i] = bi;
            d = nesterov ? d + mu * bi : bi;
        }
        p[i] = p[i] - lr * d;
    }
}

// One partial per block; launched with row_threads threads.
template <class T> __global__ void sum_of_squares_kernel(std::int64_t n, const T* x, double* partial) {
    double acc = 0;
    for (std::int64_t i = first_index(); i < n; i += grid_stride()) acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    acc = row_sum(acc);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

inline constexpr unsigned sum_blocks_max = 1024;

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE void optim_kernels<cuda>::adamw_step(const KernelView& param, const KernelView& grad, const KernelView& exp_avg,
                                                      const KernelView& exp_avg_sq, const AdamWStep& s) {
    namespace be = backend::cuda;
    const double bc1 = 1 - std::pow(s.beta1, static_cast<double>(s.step));
    const double bc2 = 1 - std::pow(s.beta2, static_cast<double>(s.step));
    const std::int64_t n = param.numel();
    dispatch_float(param.type, "adamw_step", [&]<class T>() {
        const be::AdamWScalars<T> k{static_cast<T>(1 - s.lr * s.weight_decay), static_cast<T>(s.beta1), static_cast<T>(1 - s.beta1),
                                    static_cast<T>(s.beta2),  static_cast<T>(1 - s.beta2), static_cast<T>(s.lr / bc1),
                                    static_cast<T>(std::sqrt(bc2)), static_cast<T>(s.eps)};
        be::adamw_kernel<T><<<be::grid_for(n), be::block_threads>>>(n, param.as<T>(), grad.as<T>(), exp_avg.as<T>(),
                                                                    exp_avg_sq.as<T>(), k);
    });
    be::check_launch("adamw_step");
}

OMNI_CUDA_INLINE void optim_kernels<cuda>::sgd_step(const KernelView& param, const KernelView& grad, const KernelView& momentum_buf,
                                                    const SgdStep& s) {
    namespace be = backend::cuda;
    const std::int64_t n = param.numel();
    dispatch_float(param.type, "sgd_step", [&]<class T>() {
        be::sgd_kernel<T><<<be::grid_for(n), be::block_threads>>>(
            n, param.as<T>(), grad.as<T>(), momentum_buf.as<T>(), static_cast<T>(s.lr), static_cast<T>(s.weight_decay),
            static_cast<T>(s.momentum), static_cast<T>(1 - s.dampening), s.weight_decay != 0, s.momentum != 0, s.first_step, s.nesterov);
    });
    be::check_launch("sgd_step");
}

OMNI_CUDA_INLINE double optim_kernels<cuda>::sum_of_squares(const KernelView& x) {
    namespace be = backend::cuda;
    const std::int64_t n = x.numel();
    const unsigned blocks = std::min(be::grid_for(n, be::row_threads), be::sum_blocks_max);
    const be::Scratch partial(blocks * sizeof(double));
    dispatch_float(x.type, "sum_of_squares", [&]<class T>() {
        be::sum_of_squares_kernel<T><<<blocks, be::row_threads>>>(n, x.as<T>(), partial.as<double>());
    });
    be::check_launch("sum_of_squares");
    std::vector<double> host(blocks);
    be::check(cudaMemcpy(host.data(), partial.as<double>(), blocks * sizeof(double), cudaMemcpyDeviceToHost), "sum_of_squares",
              "cudaMemcpy");
    double total = 0;
    for (double v : host) total += v;
    return total;
}

}  // namespace omni

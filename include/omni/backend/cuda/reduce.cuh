#pragma once
// CUDA row reductions: one block per row of the dense [rows, n] view. Sums and the exp-sum of
// logsumexp accumulate in double for float32 too, as the CPU loops do, so the two agree to the
// last float bit on all but adversarial rows.
#include <cmath>

#include "omni/backend/cuda/block_reduce.cuh"
#include "omni/backend/cuda/kernels.hpp"

namespace omni::backend::cuda {

template <class T> __global__ void reduce_rows_kernel(reduce_op op, const T* x, T* out, std::int64_t rows, std::int64_t n) {
    using std::exp, std::log, std::isinf;
    for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* row = x + r * n;
        if (op == reduce_op::sum) {
            double acc = 0;
            for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) acc += row[i];
            acc = row_sum(acc);
            if (threadIdx.x == 0) out[r] = static_cast<T>(acc);
            continue;
        }
        const T m = row_max(row, n);
        if (op == reduce_op::max || isinf(m)) {  // an all -inf row stays -inf instead of NaN
            if (threadIdx.x == 0) out[r] = m;
            continue;
        }
        double acc = 0;
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) acc += exp(static_cast<double>(row[i] - m));
        acc = row_sum(acc);
        if (threadIdx.x == 0) out[r] = static_cast<T>(m + log(acc));
    }
}

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE void reduce_kernels<cuda>::reduce_rows(reduce_op op, const KernelView& x, const KernelView& out) {
    namespace be = backend::cuda;
    const std::int64_t rows = x.shape[0], n = x.shape[1];
    dispatch_float(x.type, "reduce", [&]<class T>() {
        be::reduce_rows_kernel<T><<<be::row_grid(rows), be::row_threads>>>(op, x.as<T>(), out.as<T>(), rows, n);
    });
    be::check_launch("reduce");
}

}  // namespace omni

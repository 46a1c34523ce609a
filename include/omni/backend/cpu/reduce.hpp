#pragma once
// CPU row reductions. Sums accumulate in double for float32 input, so a long reduction keeps
// the accuracy users expect from PyTorch.
#include <algorithm>
#include <cmath>
#include <limits>

#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/reduce.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

OMNI_KERNELS_INLINE void reduce_kernels<cpu>::reduce_rows(reduce_op op, const KernelView& x, const KernelView& out) {
    const std::int64_t rows = x.shape[0], n = x.shape[1];
    dispatch_float(x.type, "reduce", [&]<class T>() {
        const T* xp = x.as<T>();
        T* o = out.as<T>();
        backend::cpu::parallel_for(rows, n, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t r = b; r < e; ++r) {
                const T* row = xp + r * n;
                if (op == reduce_op::sum) {
                    double acc = 0;
                    for (std::int64_t i = 0; i < n; ++i) acc += row[i];
                    o[r] = static_cast<T>(acc);
                } else {
                    T m = row[0];
                    // A NaN anywhere wins and stays (torch.amax): `x > m` alone would skip it.
                    for (std::int64_t i = 1; i < n; ++i) m = (row[i] > m || row[i] != row[i]) ? row[i] : m;
                    if (op == reduce_op::max) { o[r] = m; continue; }
                    if (std::isinf(m)) { o[r] = m; continue; }  // all -inf stays -inf
                    double acc = 0;
                    for (std::int64_t i = 0; i < n; ++i) acc += std::exp(static_cast<double>(row[i] - m));
                    o[r] = static_cast<T>(m + std::log(acc));
                }
            }
        });
    });
}

// out[j] = sum_i x[i, j] for dense x [n, cols]: the adjoint of broadcasting over leading
// axes (bias and position gradients), read in memory order instead of transposed first.
OMNI_KERNELS_INLINE void reduce_kernels<cpu>::sum_cols(const KernelView& x, const KernelView& out) {
    const std::int64_t n = x.shape[0], cols = x.shape[1];
    dispatch_float(x.type, "sum", [&]<class T>() {
        const T* xp = x.as<T>();
        T* o = out.as<T>();
        constexpr std::int64_t chunk = 256;  // columns per task: a double accumulator in L1
        const std::int64_t tasks = (cols + chunk - 1) / chunk;
        backend::cpu::parallel_for(tasks, n * chunk, [&](std::int64_t b, std::int64_t e) {
            double acc[chunk];
            for (std::int64_t t = b; t < e; ++t) {
                const std::int64_t j0 = t * chunk, w = std::min(chunk, cols - j0);
                for (std::int64_t j = 0; j < w; ++j) acc[j] = 0;
                for (std::int64_t i = 0; i < n; ++i) {
                    const T* row = xp + i * cols + j0;
                    for (std::int64_t j = 0; j < w; ++j) acc[j] += row[j];
                }
                for (std::int64_t j = 0; j < w; ++j) o[j0 + j] = static_cast<T>(acc[j]);
            }
        });
    });
}

}  // namespace omni

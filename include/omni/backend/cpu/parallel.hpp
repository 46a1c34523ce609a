#pragma once
// How CPU kernels split work across omni::num_threads() OpenMP threads. Small work runs inline:
// waking threads costs more than a few thousand flops.
#include <algorithm>
#include <cstdint>

#include "omni/core/strided_loop.hpp"
#include "omni/core/threads.hpp"

namespace omni::backend::cpu {

inline constexpr std::int64_t parallel_grain = 1 << 16;  // work units per thread, at least: below it a fork costs more than it saves
// Rows per partial sum in reductions over rows (norm weight gradients): fixed, not per thread, so
// the grouping of the sum and hence its bits do not depend on the thread count.
inline constexpr std::int64_t norm_block_rows = 256;

// f(begin, end) over [0, n) in contiguous chunks, one per thread.
template <class F> void parallel_for(std::int64_t n, std::int64_t cost_per_item, F&& f) {
    const std::int64_t work = n * std::max<std::int64_t>(cost_per_item, 1);
    const int threads = static_cast<int>(std::min<std::int64_t>(num_threads(), std::max<std::int64_t>(work / parallel_grain, 1)));
    if (threads <= 1 || n < 2) {
        if (n > 0) f(std::int64_t{0}, n);
        return;
    }
    const std::int64_t chunk = (n + threads - 1) / threads;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int t = 0; t < threads; ++t) {
        const std::int64_t b = t * chunk, e = std::min(n, b + chunk);
        if (b < e) f(b, e);
    }
}

// f(offsets, n, inner_strides) over every row of a strided loop, splitting long rows too, so a
// dense tensor (one merged row) still uses every thread.
template <int K, class F> void for_each_row(const StridedLoop<K>& loop, F&& f) {
    if (loop.rows == 1) {
        parallel_for(loop.row_len, 1, [&](std::int64_t b, std::int64_t e) {
            loop.run(0, 1, [&](auto off, std::int64_t, auto inc) {
                for (int k = 0; k < K; ++k) off[k] += b * inc[k];
                f(off, e - b, inc);
            });
        });
    } else {
        parallel_for(loop.rows, loop.row_len, [&](std::int64_t b, std::int64_t e) { loop.run(b, e, f); });
    }
}

}  // namespace omni::backend::cpu

#pragma once
// Block-wide reductions for the row kernels (reduce, softmax, layer norm, L2 normalise): one
// block owns one row at a time, each thread folds a strided slice of it, and cub::BlockReduce
// combines the threads. Every thread gets the result, so a kernel can reduce twice in a row.
#include <cub/block/block_reduce.cuh>

#include <cstdint>

#include "omni/backend/cuda/launch.cuh"

namespace omni::backend::cuda {

inline constexpr int row_threads = 256;

struct SumOp {
    template <class T> __device__ T operator()(T a, T b) const { return a + b; }
};
// Takes `b` when it is larger or NaN, so a NaN anywhere wins and then stays (torch.amax).
struct MaxOp {
    template <class T> __device__ T operator()(T a, T b) const { return (b > a || b != b) ? b : a; }
};

// Must be reached by every thread of a row_threads-wide block.
template <class T, class Op> __device__ T block_all_reduce(T v, Op op) {
    using Reduce = cub::BlockReduce<T, row_threads>;
    __shared__ typename Reduce::TempStorage tmp;
    __shared__ T result;
    const T r = Reduce(tmp).Reduce(v, op);
    if (threadIdx.x == 0) result = r;
    __syncthreads();
    const T all = result;
    __syncthreads();  // tmp and result are free for the next call
    return all;
}

// The row maximum as the CPU loop finds it: NaN if the row holds one, otherwise the largest number.
template <class T> __device__ T row_max(const T* x, std::int64_t n) {
    T m = x[0];
    for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) m = MaxOp{}(m, x[i]);
    return block_all_reduce(m, MaxOp{});
}

template <class T> __device__ T row_sum(T v) { return block_all_reduce(v, SumOp{}); }

inline unsigned row_grid(std::int64_t rows) { return static_cast<unsigned>(std::clamp<std::int64_t>(rows, 1, max_blocks)); }

}  // namespace omni::backend::cuda

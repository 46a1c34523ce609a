#pragma once
// How the CUDA kernels are launched and how their failures are reported: grid sizes for
// grid-stride loops, the device side of StridedLoop, and the checks that turn a cudaError_t or a
// cublasStatus_t into an omni::device_error naming the op.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "omni/backend/cuda/config.cuh"
#include "omni/core/error.hpp"
#include "omni/core/strided_loop.hpp"

namespace omni::backend::cuda {

inline constexpr int block_threads = 256;
// Grid-stride loops cover any size, so more blocks than this only adds scheduling work.
inline constexpr std::int64_t max_blocks = std::int64_t{1} << 16;

inline unsigned grid_for(std::int64_t n, int threads = block_threads) {
    return static_cast<unsigned>(std::clamp<std::int64_t>((n + threads - 1) / threads, 1, max_blocks));
}

__device__ inline std::int64_t first_index() {
    return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline std::int64_t grid_stride() { return static_cast<std::int64_t>(gridDim.x) * blockDim.x; }

// Throws device_error for a failed runtime call. The error is also cleared from the runtime's
// last-error slot, so the next launch check does not report it a second time.
inline void check(cudaError_t e, const char* op, const char* call) {
    if (e == cudaSuccess) return;
    (void)cudaGetLastError();
    throw device_error(op, std::string("expected ") + call + " to succeed, got " + cudaGetErrorName(e) + " (" +
                               cudaGetErrorString(e) + ")");
}
// A launch with a bad configuration fails at once; faults inside the kernel surface at the next
// synchronising call (a copy to the host or cuda::synchronize).
inline void check_launch(const char* op) { check(cudaGetLastError(), op, "the kernel launch"); }

// The merged shape and per-operand strides of a StridedLoop, in a form a kernel takes by value.
// Element i in row-major order over the merged shape lives at offsets at(i).
template <int K> struct StridedOffsets {
    int nd = 0;
    std::int64_t shape[max_dims] = {};
    std::int64_t strides[K][max_dims] = {};
    std::int64_t numel = 0;

    explicit StridedOffsets(const StridedLoop<K>& loop) : nd(loop.shape.size()), numel(loop.rows * loop.row_len) {
        for (int d = 0; d < nd; ++d) {
            shape[d] = loop.shape[d];
            for (int k = 0; k < K; ++k) strides[k][d] = loop.strides[k][d];
        }
    }

    __device__ void at(std::int64_t i, std::int64_t (&off)[K]) const {
        for (int k = 0; k < K; ++k) off[k] = 0;
        for (int d = nd - 1; d > 0; --d) {  // one 64-bit division per merged axis; a dense tensor has none
            const std::int64_t q = i / shape[d];
            const std::int64_t r = i - q * shape[d];
            for (int k = 0; k < K; ++k) off[k] += r * strides[k][d];
            i = q;
        }
        for (int k = 0; k < K; ++k) off[k] += i * strides[k][0];
    }
};

}  // namespace omni::backend::cuda

#pragma once
// Definitions of the omni::cuda memory primitives (declared in policy/cuda.hpp): allocation,
// host transfers, strided copies with dtype conversion, and fill.
#include <cuda_runtime.h>

#include <cstring>
#include <type_traits>

#include "omni/backend/cuda/launch.cuh"
#include "omni/policy/cuda.hpp"

namespace omni::backend::cuda {

// bf16 on the device: the same bit layout and rounding as omni::bf16 (round to nearest even, NaN
// kept a NaN), written with bit intrinsics because std::memcpy is host-only.
__device__ inline float bf16_to_float(bf16 v) { return __uint_as_float(static_cast<unsigned>(v.bits) << 16); }
__device__ inline bf16 float_to_bf16(float f) {
    unsigned u = __float_as_uint(f);
    bf16 r;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        r.bits = 0x7fc0;
        return r;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    r.bits = static_cast<std::uint16_t>(u >> 16);
    return r;
}

// The device twin of omni::cast_value.
template <class To, class From> __device__ To device_cast(From v) {
    if constexpr (std::is_same_v<To, From>) return v;
    else if constexpr (std::is_same_v<From, bf16>) return device_cast<To>(bf16_to_float(v));
    else if constexpr (std::is_same_v<To, bf16>) return float_to_bf16(static_cast<float>(v));
    else if constexpr (std::is_same_v<To, bool>) return v != From(0);
    else return static_cast<To>(v);
}

template <class D, class S> __global__ void copy_kernel(StridedOffsets<2> ix, D* dst, const S* src) {
    for (std::int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
        std::int64_t off[2];
        ix.at(i, off);
        dst[off[0]] = device_cast<D>(src[off[1]]);
    }
}

template <class D> __global__ void fill_kernel(StridedOffsets<1> ix, D* dst, D value) {
    for (std::int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
        std::int64_t off[1];
        ix.at(i, off);
        dst[off[0]] = value;
    }
}

template <int K> bool dense_with_unit_stride(const StridedLoop<K>& loop) {
    if (loop.shape.size() != 1) return false;
    for (int k = 0; k < K; ++k)
        if (loop.strides[k][0] != 1) return false;
    return true;
}

// Device scratch memory owned for the span of one kernel call (partial sums, error flags, packed
// GEMM operands). Freeing is stream-ordered, so it is safe while the kernels using it still run.
class Scratch {
public:
    explicit Scratch(std::size_t bytes) : p_(omni::cuda::allocate(bytes)), bytes_(bytes) {}
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() { omni::cuda::deallocate(p_, bytes_); }
    template <class T> T* as() const { return static_cast<T*>(p_); }

private:
    void* p_;
    std::size_t bytes_;
};

}  // namespace omni::backend::cuda

namespace omni {

// cudaMallocAsync rather than cudaMalloc: cudaFree synchronises the whole device, and the many
// short-lived temporaries of a forward pass would each stall the host.
OMNI_CUDA_INLINE void* cuda::allocate(std::size_t bytes) {
    // The default pool hands freed memory back to the driver at every synchronisation; keeping it
    // cached makes the next step's allocations free, as PyTorch's caching allocator does.
    static const bool pool_kept = [] {
        int dev = 0;
        cudaMemPool_t pool;
        std::uint64_t keep = ~std::uint64_t{0};
        const bool ok = cudaGetDevice(&dev) == cudaSuccess && cudaDeviceGetDefaultMemPool(&pool, dev) == cudaSuccess &&
                        cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep) == cudaSuccess;
        if (!ok) (void)cudaGetLastError();  // only a speed setting: allocation below reports real failures
        return ok;
    }();
    (void)pool_kept;
    void* p = nullptr;
    const cudaError_t e = cudaMallocAsync(&p, bytes ? bytes : 1, 0);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        throw device_error("cuda.allocate", "expected " + std::to_string(bytes) + " bytes of device memory, got " +
                                                cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
    }
    return p;
}

OMNI_CUDA_INLINE void cuda::deallocate(void* p, std::size_t) noexcept {
    // At process exit the runtime may already be gone; the memory goes with it, so errors are dropped.
    if (p && cudaFreeAsync(p, 0) != cudaSuccess) (void)cudaGetLastError();
}

OMNI_CUDA_INLINE void cuda::copy_from_host(void* dst, const void* src, std::size_t bytes) {
    backend::cuda::check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cuda.copy_from_host", "cudaMemcpy");
}

OMNI_CUDA_INLINE void cuda::copy_to_host(void* dst, const void* src, std::size_t bytes) {
    backend::cuda::check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cuda.copy_to_host", "cudaMemcpy");
}

OMNI_CUDA_INLINE void cuda::copy_strided(const Shape& shape, void* dst, dtype dt, const Strides& dst_st, const void* src,
                                         dtype st, const Strides& src_st) {
    namespace be = backend::cuda;
    const StridedLoop<2> loop(shape, {dst_st, src_st});
    const std::int64_t n = loop.rows * loop.row_len;
    dispatch_any(dt, "copy", [&]<class D>() {
        dispatch_any(st, "copy", [&]<class S>() {
            if (n == 0) return;
            if (std::is_same_v<D, S> && be::dense_with_unit_stride(loop)) {
                be::check(cudaMemcpyAsync(dst, src, n * sizeof(D), cudaMemcpyDeviceToDevice, 0), "copy", "cudaMemcpyAsync");
                return;
            }
            be::copy_kernel<D, S><<<be::grid_for(n), be::block_threads>>>(be::StridedOffsets<2>(loop), static_cast<D*>(dst),
                                                                          static_cast<const S*>(src));
            be::check_launch("copy");
        });
    });
}

OMNI_CUDA_INLINE void cuda::fill(dtype dt, void* dst, const Shape& shape, const Strides& st, double value) {
    namespace be = backend::cuda;
    const StridedLoop<1> loop(shape, {st});
    const std::int64_t n = loop.rows * loop.row_len;
    dispatch_any(dt, "fill", [&]<class D>() {
        if (n == 0) return;
        const D v = cast_value<D>(value);
        const D zero{};
        if (be::dense_with_unit_stride(loop) && std::memcmp(&v, &zero, sizeof(D)) == 0) {
            be::check(cudaMemsetAsync(dst, 0, n * sizeof(D), 0), "fill", "cudaMemsetAsync");
            return;
        }
        be::fill_kernel<D><<<be::grid_for(n), be::block_threads>>>(be::StridedOffsets<1>(loop), static_cast<D*>(dst), v);
        be::check_launch("fill");
    });
}

OMNI_CUDA_INLINE bool cuda::available() noexcept {
    // The answer cannot change while the process runs, and asking again costs a driver call.
    static const bool ok = [] {
        int n = 0;
        if (cudaGetDeviceCount(&n) != cudaSuccess) {
            (void)cudaGetLastError();
            return false;
        }
        return n > 0;
    }();
    return ok;
}

OMNI_CUDA_INLINE void cuda::synchronize() {
    backend::cuda::check(cudaDeviceSynchronize(), "cuda.synchronize", "cudaDeviceSynchronize");
}

}  // namespace omni

#pragma once
// CUDA indexing kernels. Reads (select, gather) check every index on the device: a thread that
// meets an out-of-range index skips it and lowers a device word to its position with atomicMin,
// so the host learns the first bad index in index order, the one the CPU loop reports. The
// adjoints (index_add, scatter_add) add with atomics because two indices may name one row; they
// skip out-of-range indices rather than write outside the tensor (the CPU backend does not check).
#include <optional>

#include "omni/backend/cuda/kernels.hpp"
#include "omni/backend/cuda/memory.cuh"

namespace omni::backend::cuda {

using BadPos = unsigned long long;  // the type atomicMin takes; all ones means "no bad index"

template <class I> __device__ bool in_range(I v, std::int64_t n) { return v >= 0 && static_cast<std::int64_t>(v) < n; }

// Elements are moved as raw words of the element size, so select works for every dtype.
template <class W, class I>
__global__ void select_kernel(const W* x, const I* idx, W* out, std::int64_t m, std::int64_t n, std::int64_t inner,
                              std::int64_t total, BadPos* bad) {
    for (std::int64_t k = first_index(); k < total; k += grid_stride()) {
        const std::int64_t i = k % inner, r = k / inner, j = r % m, o = r / m;
        const I v = idx[j];
        if (in_range(v, n)) out[k] = x[(o * n + v) * inner + i];
        else atomicMin(bad, static_cast<BadPos>(j));
    }
}

template <class T, class I>
__global__ void select_add_kernel(T* out, const I* idx, const T* src, std::int64_t m, std::int64_t n, std::int64_t inner,
                                  std::int64_t total) {
    for (std::int64_t k = first_index(); k < total; k += grid_stride()) {
        const std::int64_t i = k % inner, r = k / inner, j = r % m, o = r / m;
        const I v = idx[j];
        if (in_range(v, n)) atomicAdd(out + (o * n + v) * inner + i, src[k]);
    }
}

template <class T, class I>
__global__ void gather_kernel(const T* x, const I* idx, T* out, std::int64_t m, std::int64_t n, std::int64_t inner,
                              std::int64_t total, BadPos* bad) {
    for (std::int64_t k = first_index(); k < total; k += grid_stride()) {
        const std::int64_t i = k % inner, o = k / inner / m;
        const I v = idx[k];
        if (in_range(v, n)) out[k] = x[(o * n + v) * inner + i];
        else atomicMin(bad, static_cast<BadPos>(k));
    }
}

template <class T, class I>
__global__ void scatter_add_kernel(T* out, const I* idx, const T* src, std::int64_t m, std::int64_t n, std::int64_t inner,
                                   std::int64_t total) {
    for (std::int64_t k = first_index(); k < total; k += grid_stride()) {
        const std::int64_t i = k % inner, o = k / inner / m;
        const I v = idx[k];
        if (in_range(v, n)) atomicAdd(out + (o * n + v) * inner + i, src[k]);
    }
}

// The device word a read kernel reports into, and the host side that turns it into the value
// of the first bad index. Reading it back synchronises with the kernel.
class BadIndexFlag {
public:
    explicit BadIndexFlag(const char* op) : op_(op), word_(sizeof(BadPos)) {
        check(cudaMemsetAsync(word_.as<BadPos>(), 0xff, sizeof(BadPos), 0), op_, "cudaMemsetAsync");
    }
    BadPos* device() const { return word_.as<BadPos>(); }
    template <class I> std::optional<std::int64_t> first_bad(const I* idx) const {
        BadPos pos = 0;
        check(cudaMemcpy(&pos, word_.as<BadPos>(), sizeof(BadPos), cudaMemcpyDeviceToHost), op_, "cudaMemcpy");
        if (pos == ~BadPos{0}) return std::nullopt;
        I v{};
        check(cudaMemcpy(&v, idx + pos, sizeof(I), cudaMemcpyDeviceToHost), op_, "cudaMemcpy");
        return static_cast<std::int64_t>(v);
    }

private:
    const char* op_;
    Scratch word_;
};

// Calls f.template operator()<W>() with an unsigned word type of the dtype's size.
template <class F> void dispatch_word(dtype t, F&& f) {
    switch (size_of(t)) {
        case 1: f.template operator()<std::uint8_t>(); break;
        case 2: f.template operator()<std::uint16_t>(); break;
        case 4: f.template operator()<std::uint32_t>(); break;
        default: f.template operator()<std::uint64_t>(); break;
    }
}

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE std::optional<std::int64_t> index_kernels<cuda>::select(const KernelView& x, const KernelView& idx,
                                                                          const KernelView& out) {
    namespace be = backend::cuda;
    const std::int64_t n = x.shape[1], inner = x.shape[2], m = idx.numel(), total = out.numel();
    return dispatch_index(idx.type, "index_select", [&]<class I>() {
        const be::BadIndexFlag bad("index_select");
        be::dispatch_word(x.type, [&]<class W>() {
            be::select_kernel<W, I><<<be::grid_for(total), be::block_threads>>>(x.as<W>(), idx.as<I>(), out.as<W>(), m, n, inner,
                                                                                total, bad.device());
        });
        be::check_launch("index_select");
        return bad.first_bad(idx.as<I>());
    });
}

OMNI_CUDA_INLINE void index_kernels<cuda>::select_add(const KernelView& out, const KernelView& idx, const KernelView& src) {
    namespace be = backend::cuda;
    const std::int64_t n = out.shape[1], inner = out.shape[2], m = idx.numel(), total = src.numel();
    dispatch_float(out.type, "index_add", [&]<class T>() {
        dispatch_index(idx.type, "index_add", [&]<class I>() {
            be::select_add_kernel<T, I><<<be::grid_for(total), be::block_threads>>>(out.as<T>(), idx.as<I>(), src.as<T>(), m, n,
                                                                                    inner, total);
        });
    });
    be::check_launch("index_add");
}

OMNI_CUDA_INLINE std::optional<std::int64_t> index_kernels<cuda>::gather(const KernelView& x, const KernelView& idx,
                                                                          const KernelView& out) {
    namespace be = backend::cuda;
    const std::int64_t m = idx.shape[1], inner = idx.shape[2], n = x.shape[1], total = idx.numel();
    return dispatch_index(idx.type, "gather", [&]<class I>() {
        const be::BadIndexFlag bad("gather");
        dispatch_any(x.type, "gather", [&]<class T>() {
            be::gather_kernel<T, I><<<be::grid_for(total), be::block_threads>>>(x.as<T>(), idx.as<I>(), out.as<T>(), m, n, inner,
                                                                                total, bad.device());
        });
        be::check_launch("gather");
        return bad.first_bad(idx.as<I>());
    });
}

OMNI_CUDA_INLINE void index_kernels<cuda>::scatter_add(const KernelView& out, const KernelView& idx, const KernelView& src) {
    namespace be = backend::cuda;
    const std::int64_t m = idx.shape[1], inner = idx.shape[2], n = out.shape[1], total = idx.numel();
    dispatch_float(out.type, "scatter_add", [&]<class T>() {
        dispatch_index(idx.type, "scatter_add", [&]<class I>() {
            be::scatter_add_kernel<T, I><<<be::grid_for(total), be::block_threads>>>(out.as<T>(), idx.as<I>(), src.as<T>(), m, n,
                                                                                     inner, total);
        });
    });
    be::check_launch("scatter_add");
}

}  // namespace omni

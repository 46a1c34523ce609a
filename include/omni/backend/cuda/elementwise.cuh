#pragma once
// CUDA kernels for the elementwise family: one thread per output element in a grid-stride loop,
// with operand offsets from the merged strides of a StridedLoop (so broadcast and transposed
// operands need no copies). The scalar math is functors.hpp, shared with the CPU loops.
#include "omni/backend/cuda/kernels.hpp"
#include "omni/backend/cuda/memory.cuh"

namespace omni::backend::cuda {

template <class T, unary_op Op> __global__ void unary_kernel(StridedOffsets<2> ix, T* out, const T* x) {
    for (std::int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
        std::int64_t off[2];
        ix.at(i, off);
        out[off[0]] = unary_fwd<Op>(x[off[1]]);
    }
}

template <class T, unary_op Op>
__global__ void unary_backward_kernel(std::int64_t n, const T* x, const T* y, const T* g, T* gx) {
    for (std::int64_t i = first_index(); i < n; i += grid_stride()) gx[i] = unary_bwd<Op>(x[i], y[i], g[i]);
}

template <class T, binary_op Op> __global__ void binary_kernel(StridedOffsets<3> ix, T* out, const T* a, const T* b) {
    for (std::int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
        std::int64_t off[3];
        ix.at(i, off);
        out[off[0]] = binary_fwd<Op>(a[off[1]], b[off[2]]);
    }
}

template <class T> __global__ void scalar_kernel(StridedOffsets<2> ix, scalar_op op, T s, T* out, const T* x) {
    for (std::int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
        std::int64_t off[2];
        ix.at(i, off);
        out[off[0]] = scalar_fwd(op, x[off[1]], s);
    }
}

template <class T> __global__ void compare_kernel(StridedOffsets<3> ix, compare_op op, bool* out, const T* a, const T* b) {
    for (std::int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
        std::int64_t off[3];
        ix.at(i, off);
        out[off[0]] = compare_fwd(op, a[off[1]], b[off[2]]);
    }
}

template <class T> __global__ void where_kernel(StridedOffsets<4> ix, T* out, const bool* c, const T* a, const T* b) {
    for (std::int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
        std::int64_t off[4];
        ix.at(i, off);
        out[off[0]] = c[off[1]] ? a[off[2]] : b[off[3]];
    }
}

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE void elementwise_kernels<cuda>::unary(unary_op op, const KernelView& x, const KernelView& out) {
    namespace be = backend::cuda;
    const be::StridedOffsets<2> ix(StridedLoop<2>(x.shape, {out.strides, x.strides}));
    dispatch_float(x.type, name_of(op), [&]<class T>() {
        dispatch_unary(op, [&]<unary_op Op>() {
            be::unary_kernel<T, Op><<<be::grid_for(ix.numel), be::block_threads>>>(ix, out.as<T>(), x.as<T>());
        });
    });
    be::check_launch(name_of(op));
}

OMNI_CUDA_INLINE void elementwise_kernels<cuda>::unary_backward(unary_op op, const KernelView& x, const KernelView& y,
                                                                const KernelView& g, const KernelView& gx) {
    namespace be = backend::cuda;
    const std::int64_t n = x.numel();
    dispatch_float(x.type, name_of(op), [&]<class T>() {
        dispatch_unary(op, [&]<unary_op Op>() {
            be::unary_backward_kernel<T, Op><<<be::grid_for(n), be::block_threads>>>(n, x.as<T>(), y.as<T>(), g.as<T>(), gx.as<T>());
        });
    });
    be::check_launch(name_of(op));
}

OMNI_CUDA_INLINE void elementwise_kernels<cuda>::binary(binary_op op, const KernelView& a, const KernelView& b,
                                                        const KernelView& out) {
    namespace be = backend::cuda;
    const be::StridedOffsets<3> ix(StridedLoop<3>(out.shape, {out.strides, a.strides, b.strides}));
    dispatch_numeric(out.type, name_of(op), [&]<class T>() {
        dispatch_binary(op, [&]<binary_op Op>() {
            be::binary_kernel<T, Op><<<be::grid_for(ix.numel), be::block_threads>>>(ix, out.as<T>(), a.as<T>(), b.as<T>());
        });
    });
    be::check_launch(name_of(op));
}

OMNI_CUDA_INLINE void elementwise_kernels<cuda>::scalar(scalar_op op, const KernelView& x, double s, const KernelView& out) {
    namespace be = backend::cuda;
    const be::StridedOffsets<2> ix(StridedLoop<2>(x.shape, {out.strides, x.strides}));
    dispatch_float(x.type, "scalar", [&]<class T>() {
        be::scalar_kernel<T><<<be::grid_for(ix.numel), be::block_threads>>>(ix, op, static_cast<T>(s), out.as<T>(), x.as<T>());
    });
    be::check_launch("scalar");
}

OMNI_CUDA_INLINE void elementwise_kernels<cuda>::compare(compare_op op, const KernelView& a, const KernelView& b,
                                                         const KernelView& out) {
    namespace be = backend::cuda;
    const be::StridedOffsets<3> ix(StridedLoop<3>(out.shape, {out.strides, a.strides, b.strides}));
    dispatch_numeric(a.type, "compare", [&]<class T>() {
        be::compare_kernel<T><<<be::grid_for(ix.numel), be::block_threads>>>(ix, op, out.as<bool>(), a.as<T>(), b.as<T>());
    });
    be::check_launch("compare");
}

OMNI_CUDA_INLINE void elementwise_kernels<cuda>::where(const KernelView& c, const KernelView& a, const KernelView& b,
                                                       const KernelView& out) {
    namespace be = backend::cuda;
    const be::StridedOffsets<4> ix(StridedLoop<4>(out.shape, {out.strides, c.strides, a.strides, b.strides}));
    dispatch_numeric(a.type, "where", [&]<class T>() {
        be::where_kernel<T><<<be::grid_for(ix.numel), be::block_threads>>>(ix, out.as<T>(), c.as<bool>(), a.as<T>(), b.as<T>());
    });
    be::check_launch("where");
}

}  // namespace omni

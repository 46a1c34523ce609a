#pragma once
// CPU loops for the elementwise family. Dense operands take a unit-stride loop the compiler
// vectorises; anything else walks rows of a StridedLoop.
#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/cpu/vector_math.hpp"
#include "omni/backend/elementwise.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

OMNI_KERNELS_INLINE void elementwise_kernels<cpu>::unary(unary_op op, const KernelView& x, const KernelView& out) {
    StridedLoop<2> loop(x.shape, {out.strides, x.strides});
    dispatch_float(x.type, name_of(op), [&]<class T>() {
        dispatch_unary(op, [&]<unary_op Op>() {
            T* o = out.as<T>();
            const T* xp = x.as<T>();
            backend::cpu::for_each_row(loop, [&](auto off, std::int64_t n, auto inc) {
                T* op_ = o + off[0];
                const T* xq = xp + off[1];
                if (inc[0] == 1 && inc[1] == 1)
                    backend::cpu::unary_dense<Op>(xq, op_, n);
                else
                    for (std::int64_t i = 0; i < n; ++i) op_[i * inc[0]] = unary_fwd<Op>(xq[i * inc[1]]);
            });
        });
    });
}

OMNI_KERNELS_INLINE void elementwise_kernels<cpu>::unary_backward(unary_op op, const KernelView& x, const KernelView& y, const KernelView& g,
                                                                  const KernelView& gx) {
    dispatch_float(x.type, name_of(op), [&]<class T>() {
        dispatch_unary(op, [&]<unary_op Op>() {
            const T *xp = x.as<T>(), *yp = y.as<T>(), *gp = g.as<T>();
            T* o = gx.as<T>();
            backend::cpu::parallel_for(x.numel(), 4, [&](std::int64_t b, std::int64_t e) {
                backend::cpu::unary_backward_dense<Op>(xp + b, yp + b, gp + b, o + b, e - b);
            });
        });
    });
}

OMNI_KERNELS_INLINE void elementwise_kernels<cpu>::binary(binary_op op, const KernelView& a, const KernelView& b, const KernelView& out) {
    StridedLoop<3> loop(out.shape, {out.strides, a.strides, b.strides});
    dispatch_numeric(out.type, name_of(op), [&]<class T>() {
        dispatch_binary(op, [&]<binary_op Op>() {
            T* o = out.as<T>();
            const T *ap = a.as<T>(), *bp = b.as<T>();
            backend::cpu::for_each_row(loop, [&](auto off, std::int64_t n, auto inc) {
                T* oq = o + off[0];
                const T *aq = ap + off[1], *bq = bp + off[2];
                if (inc[1] == 1 && inc[2] == 1)
                    for (std::int64_t i = 0; i < n; ++i) oq[i] = binary_fwd<Op>(aq[i], bq[i]);
                else if (inc[1] == 1 && inc[2] == 0)
                    for (std::int64_t i = 0; i < n; ++i) oq[i] = binary_fwd<Op>(aq[i], bq[0]);
                else
                    for (std::int64_t i = 0; i < n; ++i) oq[i] = binary_fwd<Op>(aq[i * inc[1]], bq[i * inc[2]]);
            });
        });
    });
}

OMNI_KERNELS_INLINE void elementwise_kernels<cpu>::scalar(scalar_op op, const KernelView& x, double s, const KernelView& out) {
    StridedLoop<2> loop(x.shape, {out.strides, x.strides});
    dispatch_float(x.type, "scalar", [&]<class T>() {
        const T sv = static_cast<T>(s);
        T* o = out.as<T>();
        const T* xp = x.as<T>();
        backend::cpu::for_each_row(loop, [&](auto off, std::int64_t n, auto inc) {
            for (std::int64_t i = 0; i < n; ++i) o[off[0] + i] = scalar_fwd(op, xp[off[1] + i * inc[1]], sv);
        });
    });
}

OMNI_KERNELS_INLINE void elementwise_kernels<cpu>::compare(compare_op op, const KernelView& a, const KernelView& b, const KernelView& out) {
    StridedLoop<3> loop(out.shape, {out.strides, a.strides, b.strides});
    dispatch_numeric(a.type, "compare", [&]<class T>() {
        bool* o = out.as<bool>();
        const T *ap = a.as<T>(), *bp = b.as<T>();
        loop.run(0, loop.rows, [&](auto off, std::int64_t n, auto inc) {
            for (std::int64_t i = 0; i < n; ++i)
                o[off[0] + i * inc[0]] = compare_fwd(op, ap[off[1] + i * inc[1]], bp[off[2] + i * inc[2]]);
        });
    });
}

OMNI_KERNELS_INLINE void elementwise_kernels<cpu>::where(const KernelView& c, const KernelView& a, const KernelView& b, const KernelView& out) {
    StridedLoop<4> loop(out.shape, {out.strides, c.strides, a.strides, b.strides});
    dispatch_numeric(a.type, "where", [&]<class T>() {
        T* o = out.as<T>();
        const bool* cp = c.as<bool>();
        const T *ap = a.as<T>(), *bp = b.as<T>();
        backend::cpu::for_each_row(loop, [&](auto off, std::int64_t n, auto inc) {
            for (std::int64_t i = 0; i < n; ++i)
                o[off[0] + i * inc[0]] = cp[off[1] + i * inc[1]] ? ap[off[2] + i * inc[2]] : bp[off[3] + i * inc[3]];
        });
    });
}

}  // namespace omni

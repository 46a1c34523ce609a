#pragma once
// CPU softmax rows: max, exp-sum, scale; backward from the saved output.
#include <cmath>
#include <limits>

#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/cpu/vector_math.hpp"
#include "omni/backend/softmax.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

OMNI_KERNELS_INLINE void softmax_kernels<cpu>::forward(const KernelView& x, const KernelView& y, bool log) {
    const std::int64_t rows = x.shape[0], n = x.shape[1];
    dispatch_float(x.type, log ? "log_softmax" : "softmax", [&]<class T>() {
        backend::cpu::parallel_for(rows, n * 4, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t r = b; r < e; ++r) {
                const backend::cpu::ConstArrayMap<T> xr(x.as<T>() + r * n, n);
                backend::cpu::ArrayMap<T> yr(y.as<T>() + r * n, n);
                T m = xr.template maxCoeff<Eigen::PropagateNaN>();  // a NaN anywhere makes the row NaN, as in PyTorch
                if (std::isinf(m) && m < 0) m = 0;  // a fully masked row gives NaN like PyTorch, not a crash
                // Packet exp, the row's only transcendental pass; masked (-inf) entries are then set
                // to exactly 0, since Eigen's exp(-inf) is a denormal, not 0 (a separate loop:
                // Eigen 3.4 does not vectorise select(), which made the exp scalar).
                yr = (xr - m).exp();
                for (std::int64_t i = 0; i < n; ++i)
                    if (xr[i] == -std::numeric_limits<T>::infinity()) yr[i] = 0;
                const T s = yr.sum();
                // (x - m) - log s as PyTorch: x - (m + log s) rounds to m's precision when |m| >> log s.
                if (log) yr = (xr - m) - std::log(s);
                else yr *= T(1) / s;
            }
        });
    });
}

OMNI_KERNELS_INLINE void softmax_kernels<cpu>::backward(const KernelView& y, const KernelView& g, const KernelView& gx, bool log) {
    const std::int64_t rows = y.shape[0], n = y.shape[1];
    dispatch_float(y.type, log ? "log_softmax" : "softmax", [&]<class T>() {
        backend::cpu::parallel_for(rows, n * 4, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t r = b; r < e; ++r) {
                const T* yr = y.as<T>() + r * n;
                const T* gr = g.as<T>() + r * n;
                T* o = gx.as<T>() + r * n;
                T dot = 0;
                if (log) {
                    for (std::int64_t i = 0; i < n; ++i) dot += gr[i];
                    backend::cpu::ArrayMap<T>(o, n) = backend::cpu::ConstArrayMap<T>(gr, n) - backend::cpu::ConstArrayMap<T>(yr, n).exp() * dot;
                } else {
                    for (std::int64_t i = 0; i < n; ++i) dot += gr[i] * yr[i];
                    for (std::int64_t i = 0; i < n; ++i) o[i] = yr[i] * (gr[i] - dot);
                }
            }
        });
    });
}

}  // namespace omni

#pragma once
// CPU L2 normalisation rows.
#include <cmath>

#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/normalize.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

OMNI_KERNELS_INLINE void normalize_kernels<cpu>::forward(const KernelView& x, double eps, const KernelView& y, const KernelView& norm) {
    const std::int64_t rows = x.shape[0], n = x.shape[1];
    dispatch_float(x.type, "l2_normalize", [&]<class T>() {
        backend::cpu::parallel_for(rows, n * 2, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t r = b; r < e; ++r) {
                const T* xr = x.as<T>() + r * n;
                double ss = 0;
                for (std::int64_t i = 0; i < n; ++i) ss += static_cast<double>(xr[i]) * xr[i];
                const double nm = std::sqrt(ss);
                norm.as<T>()[r] = static_cast<T>(nm);
                const T inv = static_cast<T>(1.0 / std::max(nm, eps));
                for (std::int64_t i = 0; i < n; ++i) y.as<T>()[r * n + i] = xr[i] * inv;
            }
        });
    });
}
OMNI_KERNELS_INLINE void normalize_kernels<cpu>::backward(const KernelView& y, const KernelView& norm, const KernelView& g, double eps, const KernelView& gx) {
    const std::int64_t rows = y.shape[0], n = y.shape[1];
    dispatch_float(y.type, "l2_normalize", [&]<class T>() {
        backend::cpu::parallel_for(rows, n * 2, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t r = b; r < e; ++r) {
                const T* yr = y.as<T>() + r * n;
                const T* gr = g.as<T>() + r * n;
                T* o = gx.as<T>() + r * n;
                const double nm = norm.as<T>()[r];
                if (nm > eps) {
                    double dot = 0;
                    for (std::int64_t i = 0; i < n; ++i) dot += static_cast<double>(gr[i]) * yr[i];
                    const T inv = static_cast<T>(1.0 / nm), d = static_cast<T>(dot);
                    for (std::int64_t i = 0; i < n; ++i) o[i] = (gr[i] - yr[i] * d) * inv;
                } else {
                    const T inv = static_cast<T>(1.0 / eps);
                    for (std::int64_t i = 0; i < n; ++i) o[i] = gr[i] * inv;
                }
            }
        });
    });
}

}  // namespace omni

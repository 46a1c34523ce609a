#pragma once
// CPU RMS norm. The mean square accumulates in double (transformers upcasts to float32; double
// keeps float32 parity well inside 1e-6). Backward: partial dweight in double per block of
// norm_block_rows rows, summed at the end: no atomics, the same bits at any thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/rms_norm.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

OMNI_KERNELS_INLINE void rms_norm_kernels<cpu>::forward(const KernelView& x, const KernelView& w, double eps, const KernelView& y, const KernelView& rstd) {
    const std::int64_t rows = x.shape[0], D = x.shape[1];
    dispatch_float(x.type, "rms_norm", [&]<class T>() {
        const T* wp = w.as<T>();
        backend::cpu::parallel_for(rows, D * 3, [&](std::int64_t r0, std::int64_t r1) {
            for (std::int64_t r = r0; r < r1; ++r) {
                const T* xr = x.as<T>() + r * D;
                T* yr = y.as<T>() + r * D;
                double ss = 0;
                for (std::int64_t i = 0; i < D; ++i) ss += static_cast<double>(xr[i]) * xr[i];
                const double rs = 1.0 / std::sqrt(ss / D + eps);
                rstd.as<T>()[r] = static_cast<T>(rs);
                const T q = static_cast<T>(rs);
                for (std::int64_t i = 0; i < D; ++i) yr[i] = wp[i] * (xr[i] * q);
            }
        });
    });
}

// y = w * x * r with r = (mean(x^2) + eps)^(-1/2):
//   dw = sum_rows gy * x * r,   dx = r * (gy * w - x * r^2 * mean(gy * w * x)).
OMNI_KERNELS_INLINE void rms_norm_kernels<cpu>::backward(const KernelView& x, const KernelView& w, const KernelView& rstd, const KernelView& gy, const KernelView& gx,
                                                         const KernelView& gw) {
    const std::int64_t rows = x.shape[0], D = x.shape[1];
    dispatch_float(x.type, "rms_norm", [&]<class T>() {
        const T* wp = w.as<T>();
        // Partial dweight per fixed block of rows, added in block order: the same bits at any
        // thread count.
        const std::int64_t nb = (rows + backend::cpu::norm_block_rows - 1) / backend::cpu::norm_block_rows;
        std::vector<double> pw(nb * D, 0.0);
        backend::cpu::parallel_for(nb, backend::cpu::norm_block_rows * D * 5, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t blk = b0; blk < b1; ++blk) {
                double* lw = pw.data() + blk * D;
                for (std::int64_t r = blk * backend::cpu::norm_block_rows; r < std::min(rows, (blk + 1) * backend::cpu::norm_block_rows); ++r) {
                    const T* xr = x.as<T>() + r * D;
                    const T* g = gy.as<T>() + r * D;
                    T* o = gx.as<T>() + r * D;
                    const T q = rstd.as<T>()[r];
                    double s = 0;
                    for (std::int64_t i = 0; i < D; ++i) {
                        s += static_cast<double>(g[i]) * wp[i] * xr[i];
                        lw[i] += static_cast<double>(g[i]) * xr[i] * q;
                    }
                    const T c = static_cast<T>(s / D) * q * q;
                    for (std::int64_t i = 0; i < D; ++i) o[i] = q * (g[i] * wp[i] - xr[i] * c);
                }
            }
        });
        for (std::int64_t i = 0; i < D; ++i) {
            double sw = 0;
            for (std::int64_t blk = 0; blk < nb; ++blk) sw += pw[blk * D + i];
            gw.as<T>()[i] += static_cast<T>(sw);
        }
    });
}

}  // namespace omni

#pragma once
// CPU layer norm. Statistics in double for float32 rows (PyTorch accumulates in float with
// Welford; double keeps parity well inside 1e-5 at D = 768). Backward: partial dweight / dbias
// per block of norm_block_rows rows, summed at the end, so rows split across threads without
// atomics and the bits do not depend on the thread count.
#include <cmath>
#include <vector>

#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/layer_norm.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

OMNI_KERNELS_INLINE void layer_norm_kernels<cpu>::forward(const KernelView& x, const KernelView& w, const KernelView& b, double eps, const KernelView& y,
                                                          const KernelView& mean, const KernelView& rstd) {
    const std::int64_t rows = x.shape[0], D = x.shape[1];
    dispatch_float(x.type, "layer_norm", [&]<class T>() {
        const T* wp = w.as<T>();
        const T* bp = b.as<T>();
        backend::cpu::parallel_for(rows, D * 4, [&](std::int64_t r0, std::int64_t r1) {
            for (std::int64_t r = r0; r < r1; ++r) {
                const T* xr = x.as<T>() + r * D;
                T* yr = y.as<T>() + r * D;
                double s = 0, ss = 0;
                for (std::int64_t i = 0; i < D; ++i) s += xr[i];
                const double mu = s / D;
                for (std::int64_t i = 0; i < D; ++i) ss += (xr[i] - mu) * (xr[i] - mu);
                // A variance past double's range gives NaN as in PyTorch, not rstd 0 and a row of b.
                const double rs = std::isinf(ss) ? std::nan("") : 1.0 / std::sqrt(ss / D + eps);
                mean.as<T>()[r] = static_cast<T>(mu);
                rstd.as<T>()[r] = static_cast<T>(rs);
                const T m = static_cast<T>(mu), q = static_cast<T>(rs);
                for (std::int64_t i = 0; i < D; ++i) {
                    T v = (xr[i] - m) * q;
                    if (wp) v *= wp[i];
                    if (bp) v += bp[i];
                    yr[i] = v;
                }
            }
        });
    });
}

OMNI_KERNELS_INLINE void layer_norm_kernels<cpu>::backward(const KernelView& x, const KernelView& w, const KernelView& mean, const KernelView& rstd,
                                                           const KernelView& gy, const KernelView& gx, const KernelView& gw, const KernelView& gb) {
    const std::int64_t rows = x.shape[0], D = x.shape[1];
    dispatch_float(x.type, "layer_norm", [&]<class T>() {
        const T* wp = w.as<T>();
        // Partial dweight / dbias per fixed block of rows, added in block order: the same bits at
        // any thread count.
        const std::int64_t nb = (rows + backend::cpu::norm_block_rows - 1) / backend::cpu::norm_block_rows;
        std::vector<double> pw(gw.data ? nb * D : 0), pb(gb.data ? nb * D : 0);
        backend::cpu::parallel_for(nb, backend::cpu::norm_block_rows * D * 6, [&](std::int64_t b0, std::int64_t b1) {
            std::vector<T> dxh(D);
            for (std::int64_t blk = b0; blk < b1; ++blk) {
                double* lw = gw.data ? pw.data() + blk * D : nullptr;
                double* lb = gb.data ? pb.data() + blk * D : nullptr;
                for (std::int64_t r = blk * backend::cpu::norm_block_rows; r < std::min(rows, (blk + 1) * backend::cpu::norm_block_rows); ++r) {
                    const T* xr = x.as<T>() + r * D;
                    const T* g = gy.as<T>() + r * D;
                    T* o = gx.as<T>() + r * D;
                    const T m = mean.as<T>()[r], q = rstd.as<T>()[r];
                    double s1 = 0, s2 = 0;
                    for (std::int64_t i = 0; i < D; ++i) {
                        const T xh = (xr[i] - m) * q;
                        dxh[i] = wp ? g[i] * wp[i] : g[i];
                        s1 += dxh[i];
                        s2 += dxh[i] * xh;
                        if (lw) lw[i] += g[i] * xh;
                        if (lb) lb[i] += g[i];
                    }
                    const T a = static_cast<T>(s1 / D), c = static_cast<T>(s2 / D);
                    for (std::int64_t i = 0; i < D; ++i) o[i] = q * (dxh[i] - a - (xr[i] - m) * q * c);
                }
            }
        });
        for (std::int64_t i = 0; i < D; ++i) {
            double sw = 0, sb = 0;
            for (std::int64_t blk = 0; blk < nb; ++blk) {
                if (gw.data) sw += pw[blk * D + i];
                if (gb.data) sb += pb[blk * D + i];
            }
            if (gw.data) gw.as<T>()[i] += static_cast<T>(sw);
            if (gb.data) gb.as<T>()[i] += static_cast<T>(sb);
        }
    });
}

}  // namespace omni

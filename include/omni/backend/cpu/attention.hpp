#pragma once
// CPU fused attention. Work splits over (batch, head) pairs, one pair per task; inside a pair
// the queries go in tiles of 64 and keys in tiles of 128, each tile product one small Eigen GEMM
// on strided maps of q, k, v (no copies). Per-thread scratch is O(tile^2 + tile * d).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "omni/backend/attention.hpp"
#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

namespace backend::cpu::attention_tiles {

inline constexpr std::int64_t tile_q = 64, tile_k = 128;

template <class T> using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T> using CMap = Eigen::Map<const Mat<T>, 0, Eigen::OuterStride<>>;
template <class T> using MMap = Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>>;

// Rows [r0, r0 + n) of the (b, h) matrix of a 4-D view.
template <class T> CMap<T> rows(const KernelView& t, std::int64_t b, std::int64_t h, std::int64_t r0, std::int64_t n) {
    const T* p = t.as<T>() + b * t.strides[0] + h * t.strides[1] + r0 * t.strides[2];
    return CMap<T>(p, n, t.shape[3], Eigen::OuterStride<>(t.strides[2]));
}
template <class T> MMap<T> rows_mut(const KernelView& t, std::int64_t b, std::int64_t h, std::int64_t r0, std::int64_t n) {
    T* p = t.as<T>() + b * t.strides[0] + h * t.strides[1] + r0 * t.strides[2];
    return MMap<T>(p, n, t.shape[3], Eigen::OuterStride<>(t.strides[2]));
}

// Masks one score tile in place: -inf where the key is padding or in the causal future.
template <class T> void apply_mask(Mat<T>& s, const AttentionArgs& a, std::int64_t b, std::int64_t q0, std::int64_t k0) {
    const bool* m = a.mask.data ? a.mask.as<bool>() + b * a.k.shape[2] : nullptr;
    if (!m && !a.causal) return;
    const T ninf = -std::numeric_limits<T>::infinity();
    for (std::int64_t i = 0; i < s.rows(); ++i)
        for (std::int64_t j = 0; j < s.cols(); ++j)
            if ((m && m[k0 + j]) || (a.causal && k0 + j > q0 + i + a.causal_offset)) s(i, j) = ninf;
}

}  // namespace backend::cpu::attention_tiles

OMNI_KERNELS_INLINE void attention_kernels<cpu>::forward(const AttentionArgs& a) {
    using namespace backend::cpu::attention_tiles;
    dispatch_float(a.q.type, "attention", [&]<class T>() {
        const std::int64_t B = a.q.shape[0], H = a.q.shape[1], Nq = a.q.shape[2], Nk = a.k.shape[2], dv = a.v.shape[3];
        const T scale = static_cast<T>(a.scale);
        backend::cpu::parallel_for(B * H, Nq * Nk * (a.q.shape[3] + dv), [&](std::int64_t p0, std::int64_t p1) {
            Mat<T> s, acc;
            Eigen::Matrix<T, Eigen::Dynamic, 1> mrow, lrow;
            for (std::int64_t p = p0; p < p1; ++p) {
                const std::int64_t b = p / H, h = p % H;
                for (std::int64_t q0 = 0; q0 < Nq; q0 += tile_q) {
                    const std::int64_t nq = std::min(tile_q, Nq - q0);
                    const auto Q = rows<T>(a.q, b, h, q0, nq);
                    acc.setZero(nq, dv);
                    mrow.setConstant(nq, -std::numeric_limits<T>::infinity());
                    lrow.setZero(nq);
                    const std::int64_t k_end = a.causal ? std::clamp<std::int64_t>(q0 + nq + a.causal_offset, 0, Nk) : Nk;  // later keys are all masked
                    for (std::int64_t k0 = 0; k0 < k_end; k0 += tile_k) {
                        const std::int64_t nk = std::min(tile_k, k_end - k0);
                        s.noalias() = (Q * rows<T>(a.k, b, h, k0, nk).transpose()) * scale;
                        apply_mask(s, a, b, q0, k0);
                        for (std::int64_t i = 0; i < nq; ++i) {
                            // NaN-propagating max: a NaN score must poison its row, not vanish.
                            const T tile_max = s.row(i).template maxCoeff<Eigen::PropagateNaN>();
                            const T mnew = std::isnan(tile_max) || tile_max > mrow[i] ? tile_max : mrow[i];
                            if (mnew == -std::numeric_limits<T>::infinity()) { s.row(i).setZero(); continue; }
                            const T corr = std::exp(mrow[i] - mnew);  // exp(-inf) = 0 on the first tile
                            // Packet exp over the tile row; masked scores become exactly 0.
                            s.row(i) = (s.row(i).array() != -std::numeric_limits<T>::infinity())
                                           .select((s.row(i).array() - mnew).exp(), T(0))
                                           .matrix();
                            lrow[i] = lrow[i] * corr + s.row(i).sum();
                            acc.row(i) *= corr;
                            mrow[i] = mnew;
                        }
                        acc.noalias() += s * rows<T>(a.v, b, h, k0, nk);
                    }
                    auto O = rows_mut<T>(a.out, b, h, q0, nq);
                    T* lse = a.lse.as<T>() + (b * H + h) * Nq + q0;
                    for (std::int64_t i = 0; i < nq; ++i) {
                        if (lrow[i] != 0) {  // 0: every key masked; NaN carries on
                            O.row(i) = acc.row(i) / lrow[i];
                            lse[i] = mrow[i] + std::log(lrow[i]);
                        } else {
                            O.row(i).setZero();
                            lse[i] = -std::numeric_limits<T>::infinity();
                        }
                    }
                }
            }
        });
    });
}

OMNI_KERNELS_INLINE void attention_kernels<cpu>::backward(const AttentionArgs& a, const KernelView& dout, const KernelView& dq, const KernelView& dk, const KernelView& dv) {
    using namespace backend::cpu::attention_tiles;
    dispatch_float(a.q.type, "attention", [&]<class T>() {
        const std::int64_t B = a.q.shape[0], H = a.q.shape[1], Nq = a.q.shape[2], Nk = a.k.shape[2];
        const T scale = static_cast<T>(a.scale);
        backend::cpu::parallel_for(B * H, 2 * Nq * Nk * (a.q.shape[3] + a.v.shape[3]), [&](std::int64_t p0, std::int64_t p1) {
            Mat<T> s, dp;
            Eigen::Matrix<T, Eigen::Dynamic, 1> drow;
            for (std::int64_t p = p0; p < p1; ++p) {
                const std::int64_t b = p / H, h = p % H;
                const T* lse = a.lse.as<T>() + (b * H + h) * Nq;
                // D_i = <dO_i, O_i>: the softmax-backward correction, once per row.
                drow.resize(Nq);
                for (std::int64_t i = 0; i < Nq; ++i) drow[i] = rows<T>(dout, b, h, i, 1).row(0).dot(rows<T>(a.out, b, h, i, 1).row(0));
                rows_mut<T>(dq, b, h, 0, Nq).setZero();
                for (std::int64_t k0 = 0; k0 < Nk; k0 += tile_k) {
                    const std::int64_t nk = std::min(tile_k, Nk - k0);
                    const auto K = rows<T>(a.k, b, h, k0, nk), V = rows<T>(a.v, b, h, k0, nk);
                    auto dK = rows_mut<T>(dk, b, h, k0, nk);
                    auto dV = rows_mut<T>(dv, b, h, k0, nk);
                    dK.setZero();
                    dV.setZero();
                    // Earlier queries never see these keys (query i sees key j iff i >= j - offset).
                    const std::int64_t first_q = std::max<std::int64_t>(0, k0 - a.causal_offset);
                    const std::int64_t q_begin = a.causal ? (first_q / tile_q) * tile_q : 0;
                    for (std::int64_t q0 = q_begin; q0 < Nq; q0 += tile_q) {
                        const std::int64_t nq = std::min(tile_q, Nq - q0);
                        const auto Q = rows<T>(a.q, b, h, q0, nq), dO = rows<T>(dout, b, h, q0, nq);
                        s.noalias() = (Q * K.transpose()) * scale;
                        apply_mask(s, a, b, q0, k0);
                        for (std::int64_t i = 0; i < nq; ++i) {
                            const T l = lse[q0 + i];
                            if (l == -std::numeric_limits<T>::infinity()) s.row(i).setZero();
                            else
                                s.row(i) = (s.row(i).array() != -std::numeric_limits<T>::infinity()).select((s.row(i).array() - l).exp(), T(0)).matrix();
                        }
                        dV.noalias() += s.transpose() * dO;
                        dp.noalias() = dO * V.transpose();
                        for (std::int64_t i = 0; i < nq; ++i)
                            for (std::int64_t j = 0; j < nk; ++j) dp(i, j) = s(i, j) * (dp(i, j) - drow[q0 + i]) * scale;
                        rows_mut<T>(dq, b, h, q0, nq).noalias() += dp * K;
                        dK.noalias() += dp.transpose() * Q;
                    }
                }
            }
        });
    });
}

}  // namespace omni

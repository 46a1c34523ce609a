#pragma once
// CPU fused attention. Work splits over (batch, head) pairs, one pair per task; inside a pair
// the queries go in tiles of 64 and keys in tiles of 128, each tile product one small Eigen GEMM
// on strided maps of q, k, v (no copies), or, for float32 on a CPU with AVX2 or AVX-512, one call
// of the tile kernels (attention_tile_kernels.hpp). Per-thread scratch is O(tile^2 + tile * d).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "omni/backend/attention.hpp"
#include "omni/backend/cpu/attention_tile_kernels.hpp"
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

// Writes `value` over the masked entries of one score tile: keys that are padding, and keys in
// the causal future. Ranges, not a per-entry test: a padding mask masks whole columns, the causal
// mask a suffix of each row (only tiles that cross the diagonal have one).
template <class T> void apply_mask(Mat<T>& s, const AttentionArgs& a, std::int64_t b, std::int64_t q0, std::int64_t k0, T value) {
    const std::int64_t nq = s.rows(), nk = s.cols();
    if (a.mask.data) {
        const bool* m = a.mask.as<bool>() + b * a.k.shape[2] + k0;
        for (std::int64_t j = 0; j < nk; ++j)
            if (m[j]) s.col(j).setConstant(value);
    }
    if (a.causal)
        for (std::int64_t i = 0; i < nq; ++i) {
            const std::int64_t first = std::clamp<std::int64_t>(q0 + i + a.causal_offset + 1 - k0, 0, nk);  // first key it must not see
            if (first < nk) s.row(i).tail(nk - first).setConstant(value);
        }
}

// The tile kernels for T: float32 where the CPU has them, else none (Eigen).
template <class T> const TileKernels* tile_kernels_for() {
    if constexpr (std::is_same_v<T, float>) return float_tile_kernels();
    else return nullptr;
}

// Whether the tile (q0.., k0..) has any masked entry.
inline bool tile_masked(const AttentionArgs& a, std::int64_t q0, std::int64_t k0, std::int64_t nk) {
    return a.mask.data || (a.causal && k0 + nk - 1 > q0 + a.causal_offset);
}

// Packs rows [0, n) of one head's 4-D view, transposed, tile by tile: tile t is a width x tile_k
// block with rows of tile_k, so the score kernel reads 512-byte rows (one transpose of 4096
// columns would put its rows 16 KiB apart, all in the same L1 sets). O(N d) scratch.
template <class M> void pack_transposed_tiles(M& out, const KernelView& t, std::int64_t b, std::int64_t h, std::int64_t n, std::int64_t tile) {
    const std::int64_t width = t.shape[3];
    out.resize((n + tile - 1) / tile * width, tile);
    for (std::int64_t k0 = 0; k0 < n; k0 += tile) {
        const std::int64_t nk = std::min(tile, n - k0);
        out.block(k0 / tile * width, 0, width, nk).noalias() = rows<typename M::Scalar>(t, b, h, k0, nk).transpose();
    }
}


}  // namespace backend::cpu::attention_tiles

OMNI_KERNELS_INLINE void attention_kernels<cpu>::forward(const AttentionArgs& a) {
    using namespace backend::cpu::attention_tiles;
    dispatch_float(a.q.type, "attention", [&]<class T>() {
        const std::int64_t B = a.q.shape[0], H = a.q.shape[1], Nq = a.q.shape[2], Nk = a.k.shape[2], dv = a.v.shape[3];
        const T scale = static_cast<T>(a.scale);
        const TileKernels* tk = tile_kernels_for<T>();  // before the workers: a bad OMNI_CPU_ISA throws here
        backend::cpu::parallel_for(B * H, Nq * Nk * (a.q.shape[3] + dv), [&](std::int64_t p0, std::int64_t p1) {
            Mat<T> s, acc, kt;
            Eigen::Matrix<T, Eigen::Dynamic, 1> mrow, lrow, shift(tile_q), corr(tile_q);
            const T ninf = -std::numeric_limits<T>::infinity();
            [[maybe_unused]] const std::int64_t d = a.q.shape[3];
            for (std::int64_t p = p0; p < p1; ++p) {
                const std::int64_t b = p / H, h = p % H;
                if (tk) pack_transposed_tiles(kt, a.k, b, h, Nk, tile_k);  // K^T of this head, once
                for (std::int64_t q0 = 0; q0 < Nq; q0 += tile_q) {
                    const std::int64_t nq = std::min(tile_q, Nq - q0);
                    const auto Q = rows<T>(a.q, b, h, q0, nq);
                    acc.setZero(nq, dv);
                    mrow.setConstant(nq, -std::numeric_limits<T>::infinity());
                    lrow.setZero(nq);
                    const std::int64_t k_end = a.causal ? std::clamp<std::int64_t>(q0 + nq + a.causal_offset, 0, Nk) : Nk;  // later keys are all masked
                    for (std::int64_t k0 = 0; k0 < k_end; k0 += tile_k) {
                        const std::int64_t nk = std::min(tile_k, k_end - k0);
                        if (tk) {
                            if constexpr (std::is_same_v<T, float>) {
                                s.resize(nq, nk);
                                tk->scores(Q.data(), a.q.strides[2], nq, d, kt.data() + k0 / tile_k * d * tile_k, tile_k, nk, scale, s.data(), nk);
                            }
                        } else
                            s.noalias() = (Q * rows<T>(a.k, b, h, k0, nk).transpose()) * scale;
                        const bool masked = tile_masked(a, q0, k0, nk);
                        if (masked) apply_mask(s, a, b, q0, k0, ninf);
                        // Online softmax, one tile at a time: new row maxima, the factor that
                        // rescales what was accumulated, then one packet exp over the whole tile.
                        for (std::int64_t i = 0; i < nq; ++i) {
                            // The packet max may skip a NaN score; the row still ends NaN, since
                            // exp(NaN - m) is NaN in its sum (Eigen's NaN-propagating max is scalar).
                            const T tile_max = s.row(i).maxCoeff();
                            const T mnew = std::isnan(tile_max) || tile_max > mrow[i] ? tile_max : mrow[i];
                            // A row with no visible key so far subtracts 0 (its exps are zeroed below).
                            shift[i] = mnew == ninf ? T(0) : mnew;
                            corr[i] = mnew == ninf ? T(1) : std::exp(mrow[i] - mnew);  // exp(-inf) = 0 on the first tile
                            mrow[i] = mnew;
                        }
                        // Row by row: Eigen 3.4 vectorises neither select() nor a broadcast's exp.
                        for (std::int64_t i = 0; i < nq; ++i) s.row(i).array() = (s.row(i).array() - shift[i]).exp();
                        // Eigen's packet exp clamps its argument, so exp(-inf) is a denormal, not 0.
                        if (masked) apply_mask(s, a, b, q0, k0, T(0));
                        for (std::int64_t i = 0; i < nq; ++i)
                            if (mrow[i] == ninf) s.row(i).setZero();
                        lrow.array() = lrow.array() * corr.head(nq).array() + s.rowwise().sum().array();
                        acc.array().colwise() *= corr.head(nq).array();
                        if (tk) {
                            if constexpr (std::is_same_v<T, float>)
                                tk->accumulate_pv(s.data(), nk, 1, nq, nk, rows<T>(a.v, b, h, k0, nk).data(), a.v.strides[2], dv, acc.data(), dv);
                        } else
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
        const TileKernels* tk = tile_kernels_for<T>();  // before the workers: a bad OMNI_CPU_ISA throws here
        backend::cpu::parallel_for(B * H, 2 * Nq * Nk * (a.q.shape[3] + a.v.shape[3]), [&](std::int64_t p0, std::int64_t p1) {
            Mat<T> s, dp, kt, vt;
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
                    if (tk) {  // K^T and V^T of this key tile, for the score-shaped products
                        kt.noalias() = K.transpose();
                        vt.noalias() = V.transpose();
                    }
                    // Earlier queries never see these keys (query i sees key j iff i >= j - offset).
                    const std::int64_t first_q = std::max<std::int64_t>(0, k0 - a.causal_offset);
                    const std::int64_t q_begin = a.causal ? (first_q / tile_q) * tile_q : 0;
                    for (std::int64_t q0 = q_begin; q0 < Nq; q0 += tile_q) {
                        const std::int64_t nq = std::min(tile_q, Nq - q0);
                        const auto Q = rows<T>(a.q, b, h, q0, nq), dO = rows<T>(dout, b, h, q0, nq);
                        if (tk) {
                            if constexpr (std::is_same_v<T, float>) {
                                s.resize(nq, nk);
                                tk->scores(Q.data(), a.q.strides[2], nq, Q.cols(), kt.data(), nk, nk, scale, s.data(), nk);
                            }
                        } else
                            s.noalias() = (Q * K.transpose()) * scale;
                        const bool masked = tile_masked(a, q0, k0, nk);
                        // P = exp(S - lse) over the whole tile; rows with no visible key
                        // (lse = -inf) and masked entries are exactly 0.
                        const auto L = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(lse + q0, nq);
                        for (std::int64_t i = 0; i < nq; ++i) s.row(i).array() = (s.row(i).array() - L[i]).exp();
                        for (std::int64_t i = 0; i < nq; ++i)
                            if (L[i] == -std::numeric_limits<T>::infinity()) s.row(i).setZero();
                        if (masked) apply_mask(s, a, b, q0, k0, T(0));
                        if (tk) {
                            if constexpr (std::is_same_v<T, float>) {
                                const std::int64_t d = Q.cols(), e = dO.cols();
                                tk->accumulate_pv(s.data(), 1, nk, nk, nq, dO.data(), dout.strides[2], e, dV.data(), dv.strides[2]);  // dV += P^T dO
                                dp.resize(nq, nk);
                                tk->scores(dO.data(), dout.strides[2], nq, e, vt.data(), nk, nk, 1.0f, dp.data(), nk);  // dP = dO V^T
                                for (std::int64_t i = 0; i < nq; ++i)
                                    dp.row(i).array() = s.row(i).array() * (dp.row(i).array() - drow[q0 + i]) * scale;
                                tk->accumulate_pv(dp.data(), nk, 1, nq, nk, K.data(), a.k.strides[2], d, rows_mut<T>(dq, b, h, q0, nq).data(),
                                                  dq.strides[2]);  // dQ += dS K
                                tk->accumulate_pv(dp.data(), 1, nk, nk, nq, Q.data(), a.q.strides[2], d, dK.data(), dk.strides[2]);  // dK += dS^T Q
                            }
                            continue;
                        }
                        dV.noalias() += s.transpose() * dO;
                        dp.noalias() = dO * V.transpose();
                        // Row by row: Eigen 3.4 does not vectorise a broadcast over rows.
                        for (std::int64_t i = 0; i < nq; ++i) dp.row(i).array() = s.row(i).array() * (dp.row(i).array() - drow[q0 + i]) * scale;
                        rows_mut<T>(dq, b, h, q0, nq).noalias() += dp * K;
                        dK.noalias() += dp.transpose() * Q;
                    }
                }
            }
        });
    });
}

}  // namespace omni

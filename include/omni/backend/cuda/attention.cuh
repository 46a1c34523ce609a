#pragma once
// CUDA fused attention, the plain version: one warp per query row (forward, dq) or key row (dk,
// dv). A warp walks the other side 32 rows at a time, one row per lane for the dot products,
// with the same online softmax as the CPU tiles; the probabilities of the 32 rows go through
// shared memory and every lane then updates its own columns of the output row, which lives in
// global memory and is touched by this warp only. No score matrix is stored and no atomics are
// needed; the backward recomputes scores from the saved log-sum-exp, as the CPU does.
#include <cmath>

#include "omni/backend/cuda/kernels.hpp"
#include "omni/backend/cuda/memory.cuh"

namespace omni::backend::cuda {

inline constexpr int attn_warps = 4;  // rows per block
inline constexpr unsigned full_warp = 0xffffffffu;

// Rows of a [B, H, N, d] view with unit stride on d.
template <class T> struct HeadRows {
    T* p;
    std::int64_t sb, sh, sr;
    __device__ T* row(std::int64_t b, std::int64_t h, std::int64_t i) const { return p + b * sb + h * sh + i * sr; }
};
template <class T> HeadRows<T> head_rows(const KernelView& v) {
    return {static_cast<T*>(v.data), v.strides[0], v.strides[1], v.strides[2]};
}

template <class T> __device__ T warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(full_warp, v, o);
    return v;
}
template <class T> __device__ T warp_max(T v) {
    for (int o = 16; o > 0; o >>= 1) {
        const T w = __shfl_xor_sync(full_warp, v, o);
        v = (w > v || w != w) ? w : v;  // NaN-propagating, as the CPU kernel
    }
    return v;
}
template <class T> __device__ T dot(const T* a, const T* b, std::int64_t n) {
    T s = 0;
    for (std::int64_t c = 0; c < n; ++c) s += a[c] * b[c];
    return s;
}

struct AttnShape {
    std::int64_t B, H, Nq, Nk, d, dv;
    std::int64_t offset;  // causal: query i sees keys j <= i + offset
};
// One past the last key query i sees.
__device__ inline std::int64_t causal_end(bool causal, std::int64_t i, const AttnShape& s) {
    if (!causal) return s.Nk;
    const std::int64_t e = i + 1 + s.offset;
    return e < 0 ? 0 : (e < s.Nk ? e : s.Nk);
}

template <class T>
__global__ void attention_forward_kernel(HeadRows<const T> q, HeadRows<const T> k, HeadRows<const T> v, HeadRows<T> out, T* lse,
                                         const bool* mask, bool causal, T scale, AttnShape s) {
    using std::exp, std::log;
    __shared__ T probs[attn_warps][32];
    T* pw = probs[threadIdx.y];
    const int lane = threadIdx.x;
    const T ninf = -static_cast<T>(INFINITY);
    for (std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * attn_warps + threadIdx.y; r < s.B * s.H * s.Nq;
         r += static_cast<std::int64_t>(gridDim.x) * attn_warps) {
        const std::int64_t i = r % s.Nq, h = r / s.Nq % s.H, b = r / s.Nq / s.H;
        const T* qi = q.row(b, h, i);
        T* o = out.row(b, h, i);
        for (std::int64_t c = lane; c < s.dv; c += 32) o[c] = 0;
        T m = ninf, l = 0;
        const std::int64_t k_end = causal_end(causal, i, s);  // later keys are all masked
        for (std::int64_t j0 = 0; j0 < k_end; j0 += 32) {
            const std::int64_t j = j0 + lane;
            T sc = ninf;
            if (j < k_end && !(mask && mask[b * s.Nk + j])) sc = dot(qi, k.row(b, h, j), s.d) * scale;
            const T tile_max = warp_max(sc);
            const T mnew = (tile_max > m || tile_max != tile_max) ? tile_max : m;
            if (mnew == ninf) continue;  // nothing visible yet; the same for the whole warp
            const T corr = exp(m - mnew);  // exp(-inf) = 0 on the first visible tile
            const T e = exp(sc - mnew);
            l = l * corr + warp_sum(e);
            m = mnew;
            pw[lane] = e;
            __syncwarp();
            const int n = static_cast<int>(k_end - j0 < 32 ? k_end - j0 : 32);
            for (std::int64_t c = lane; c < s.dv; c += 32) {
                T acc = o[c] * corr;
                for (int t = 0; t < n; ++t) acc += pw[t] * v.row(b, h, j0 + t)[c];
                o[c] = acc;
            }
            __syncwarp();  // pw is rewritten by the next tile
        }
        for (std::int64_t c = lane; c < s.dv; c += 32) o[c] = l != 0 ? o[c] / l : T(0);  // 0: every key masked; NaN carries on
        if (lane == 0) lse[r] = l != 0 ? m + log(l) : ninf;
    }
}

// dq for one query row per warp, and D_i = <dO_i, O_i> saved for the dk/dv kernel.
template <class T>
__global__ void attention_dq_kernel(HeadRows<const T> q, HeadRows<const T> k, HeadRows<const T> v, HeadRows<const T> out,
                                    const T* lse, HeadRows<const T> dout, HeadRows<T> dq, T* dsave, const bool* mask, bool causal,
                                    T scale, AttnShape s) {
    using std::exp;
    __shared__ T grads[attn_warps][32];
    T* gw = grads[threadIdx.y];
    const int lane = threadIdx.x;
    for (std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * attn_warps + threadIdx.y; r < s.B * s.H * s.Nq;
         r += static_cast<std::int64_t>(gridDim.x) * attn_warps) {
        const std::int64_t i = r % s.Nq, h = r / s.Nq % s.H, b = r / s.Nq / s.H;
        const T *qi = q.row(b, h, i), *gi = dout.row(b, h, i), *oi = out.row(b, h, i);
        T part = 0;
        for (std::int64_t c = lane; c < s.dv; c += 32) part += gi[c] * oi[c];
        const T Di = warp_sum(part);
        if (lane == 0) dsave[r] = Di;
        T* g = dq.row(b, h, i);
        for (std::int64_t c = lane; c < s.d; c += 32) g[c] = 0;
        const T li = lse[r];
        if (li == -static_cast<T>(INFINITY)) continue;  // no visible key: no gradient
        const std::int64_t k_end = causal_end(causal, i, s);
        for (std::int64_t j0 = 0; j0 < k_end; j0 += 32) {
            const std::int64_t j = j0 + lane;
            T ds = 0;
            if (j < k_end && !(mask && mask[b * s.Nk + j])) {
                const T p = exp(dot(qi, k.row(b, h, j), s.d) * scale - li);
                ds = p * (dot(gi, v.row(b, h, j), s.dv) - Di) * scale;
            }
            gw[lane] = ds;
            __syncwarp();
            const int n = static_cast<int>(k_end - j0 < 32 ? k_end - j0 : 32);
            for (std::int64_t c = lane; c < s.d; c += 32) {
                T acc = g[c];
                for (int t = 0; t < n; ++t) acc += gw[t] * k.row(b, h, j0 + t)[c];
                g[c] = acc;
            }
            __syncwarp();
        }
    }
}

// dk and dv for one key row per warp, walking the queries that see it.
template <class T>
__global__ void attention_dkv_kernel(HeadRows<const T> q, HeadRows<const T> k, HeadRows<const T> v, const T* lse,
                                     HeadRows<const T> dout, const T* dsave, HeadRows<T> dk, HeadRows<T> dvw, const bool* mask,
                                     bool causal, T scale, AttnShape s) {
    using std::exp;
    __shared__ T probs[attn_warps][32], grads[attn_warps][32];
    T* pw = probs[threadIdx.y];
    T* gw = grads[threadIdx.y];
    const int lane = threadIdx.x;
    const T ninf = -static_cast<T>(INFINITY);  // numeric_limits is host-only without --expt-relaxed-constexpr
    for (std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * attn_warps + threadIdx.y; r < s.B * s.H * s.Nk;
         r += static_cast<std::int64_t>(gridDim.x) * attn_warps) {
        const std::int64_t j = r % s.Nk, h = r / s.Nk % s.H, b = r / s.Nk / s.H;
        const T *kj = k.row(b, h, j), *vj = v.row(b, h, j);
        T *gk = dk.row(b, h, j), *gv = dvw.row(b, h, j);
        for (std::int64_t c = lane; c < s.d; c += 32) gk[c] = 0;
        for (std::int64_t c = lane; c < s.dv; c += 32) gv[c] = 0;
        if (mask && mask[b * s.Nk + j]) continue;  // a padding key gets no gradient
        const T* lse_bh = lse + (b * s.H + h) * s.Nq;
        const T* d_bh = dsave + (b * s.H + h) * s.Nq;
        for (std::int64_t i0 = causal ? (j - s.offset > 0 ? j - s.offset : 0) : 0; i0 < s.Nq; i0 += 32) {  // causal: only queries i >= j - offset see key j
            const std::int64_t i = i0 + lane;
            T p = 0, ds = 0;
            if (i < s.Nq && lse_bh[i] != ninf) {
                p = exp(dot(q.row(b, h, i), kj, s.d) * scale - lse_bh[i]);
                ds = p * (dot(dout.row(b, h, i), vj, s.dv) - d_bh[i]) * scale;
            }
            pw[lane] = p;
            gw[lane] = ds;
            __syncwarp();
            const int n = static_cast<int>(s.Nq - i0 < 32 ? s.Nq - i0 : 32);
            for (std::int64_t c = lane; c < s.dv; c += 32) {
                T acc = gv[c];
                for (int t = 0; t < n; ++t) acc += pw[t] * dout.row(b, h, i0 + t)[c];
                gv[c] = acc;
            }
            for (std::int64_t c = lane; c < s.d; c += 32) {
                T acc = gk[c];
                for (int t = 0; t < n; ++t) acc += gw[t] * q.row(b, h, i0 + t)[c];
                gk[c] = acc;
            }
            __syncwarp();
        }
    }
}

inline unsigned attn_grid(std::int64_t rows) {
    return static_cast<unsigned>(std::clamp<std::int64_t>((rows + attn_warps - 1) / attn_warps, 1, max_blocks));
}
inline AttnShape attn_shape(const AttentionArgs& a) {
    return {a.q.shape[0], a.q.shape[1], a.q.shape[2], a.k.shape[2], a.q.shape[3], a.v.shape[3], a.causal_offset};
}

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE void attention_kernels<cuda>::forward(const AttentionArgs& a) {
    namespace be = backend::cuda;
    const be::AttnShape s = be::attn_shape(a);
    const dim3 block(32, be::attn_warps);
    dispatch_float(a.q.type, "attention", [&]<class T>() {
        be::attention_forward_kernel<T><<<be::attn_grid(s.B * s.H * s.Nq), block>>>(
            be::head_rows<const T>(a.q), be::head_rows<const T>(a.k), be::head_rows<const T>(a.v), be::head_rows<T>(a.out),
            a.lse.as<T>(), a.mask.data ? a.mask.as<bool>() : nullptr, a.causal, static_cast<T>(a.scale), s);
    });
    be::check_launch("attention");
}

OMNI_CUDA_INLINE void attention_kernels<cuda>::backward(const AttentionArgs& a, const KernelView& dout, const KernelView& dq,
                                                        const KernelView& dk, const KernelView& dv) {
    namespace be = backend::cuda;
    const be::AttnShape s = be::attn_shape(a);
    const dim3 block(32, be::attn_warps);
    const bool* mask = a.mask.data ? a.mask.as<bool>() : nullptr;
    dispatch_float(a.q.type, "attention", [&]<class T>() {
        const be::Scratch dsave(static_cast<std::size_t>(s.B * s.H * s.Nq) * sizeof(T));
        const auto q = be::head_rows<const T>(a.q), k = be::head_rows<const T>(a.k), v = be::head_rows<const T>(a.v);
        const auto g = be::head_rows<const T>(dout);
        const T scale = static_cast<T>(a.scale);
        be::attention_dq_kernel<T><<<be::attn_grid(s.B * s.H * s.Nq), block>>>(q, k, v, be::head_rows<const T>(a.out), a.lse.as<T>(), g,
                                                                               be::head_rows<T>(dq), dsave.as<T>(), mask, a.causal, scale, s);
        be::check_launch("attention");
        be::attention_dkv_kernel<T><<<be::attn_grid(s.B * s.H * s.Nk), block>>>(q, k, v, a.lse.as<T>(), g, dsave.as<T>(),
                                                                                be::head_rows<T>(dk), be::head_rows<T>(dv), mask,
                                                                                a.causal, scale, s);
        be::check_launch("attention");
    });
}

}  // namespace omni

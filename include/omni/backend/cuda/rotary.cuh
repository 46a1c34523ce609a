#pragma once
// CUDA rotary kernel: one thread per channel pair of a row (grid-stride over rows x pairs), plus
// a plain copy of the pass-through channels; the same pair formula as the CPU kernel.
#include "omni/backend/cuda/kernels.hpp"
#include "omni/backend/cuda/launch.cuh"

namespace omni::backend::cuda {

template <class T, bool Backward>
__global__ void rotary_kernel(const T* in, const T* cos, const T* sin, std::int64_t R, std::int64_t C, std::int64_t nt,
                              std::int64_t rot, std::int64_t inner, std::int64_t a_step, std::int64_t b_off, T* out) {
    const std::int64_t h = rot / 2, pass = C - rot, per_row = h + pass;
    for (std::int64_t i = first_index(); i < R * per_row; i += grid_stride()) {
        const std::int64_t r = i / per_row, j = i - r * per_row;
        const T* x = in + r * C;
        T* y = out + r * C;
        if (j >= h) {  // a pass-through channel
            const std::int64_t c = rot + (j - h);
            y[c] = x[c];
            continue;
        }
        const T* c = cos + ((r / inner) % nt) * rot;
        const T* s = sin + ((r / inner) % nt) * rot;
        const std::int64_t a = j * a_step, b = a + b_off;
        const T xa = x[a], xb = x[b];
        if (Backward) {
            y[a] = xa * c[a] + xb * s[b];
            y[b] = xb * c[b] - xa * s[a];
        } else {
            y[a] = xa * c[a] - xb * s[a];
            y[b] = xb * c[b] + xa * s[b];
        }
    }
}

template <bool Backward>
void rotary_launch(const KernelView& in, const KernelView& cos, const KernelView& sin, std::int64_t inner, rotary_pairing pairing,
                   const KernelView& out) {
    const std::int64_t R = in.shape[0], C = in.shape[1], nt = cos.shape[0], rot = cos.shape[1];
    const std::int64_t a_step = pairing == rotary_pairing::interleaved ? 2 : 1;
    const std::int64_t b_off = pairing == rotary_pairing::interleaved ? 1 : rot / 2;
    dispatch_float(in.type, "rotary", [&]<class T>() {
        rotary_kernel<T, Backward><<<grid_for(R * (C - rot / 2)), block_threads>>>(in.as<T>(), cos.as<T>(), sin.as<T>(), R, C, nt, rot,
                                                                                   inner, a_step, b_off, out.as<T>());
    });
    check_launch("rotary");
}

}  // namespace omni::backend::cuda

namespace omni {

OMNI_CUDA_INLINE void rotary_kernels<cuda>::forward(const KernelView& x, const KernelView& cos, const KernelView& sin, std::int64_t inner,
                                                    rotary_pairing pairing, const KernelView& y) {
    backend::cuda::rotary_launch<false>(x, cos, sin, inner, pairing, y);
}

OMNI_CUDA_INLINE void rotary_kernels<cuda>::backward(const KernelView& g, const KernelView& cos, const KernelView& sin, std::int64_t inner,
                                                     rotary_pairing pairing, const KernelView& gx) {
    backend::cuda::rotary_launch<true>(g, cos, sin, inner, pairing, gx);
}

}  // namespace omni

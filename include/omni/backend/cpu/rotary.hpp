#pragma once
// CPU rotary kernel: rows split across threads; inside a row one loop over the pairs, which for
// the half pairing is two unit-stride streams the compiler vectorises.
#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/rotary.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

namespace backend::cpu {

// For a pair (a, b) of channels the forward is
//   out_a = in_a cos_a - in_b sin_a,   out_b = in_b cos_b + in_a sin_b
// and its transpose (Backward) swaps which sine each output uses and its sign:
//   out_a = in_a cos_a + in_b sin_b,   out_b = in_b cos_b - in_a sin_a.
template <bool Backward>
void rotary_rows(const KernelView& in, const KernelView& cos, const KernelView& sin, std::int64_t inner, rotary_pairing pairing,
                 const KernelView& out) {
    const std::int64_t R = in.shape[0], C = in.shape[1], nt = cos.shape[0], rot = cos.shape[1], h = rot / 2;
    const std::int64_t a_step = pairing == rotary_pairing::interleaved ? 2 : 1;  // channel of pair m: a = m * a_step
    const std::int64_t b_off = pairing == rotary_pairing::interleaved ? 1 : h;   // its partner: b = a + b_off
    dispatch_float(in.type, "rotary", [&]<class T>() {
        parallel_for(R, C, [&](std::int64_t r0, std::int64_t r1) {
            for (std::int64_t r = r0; r < r1; ++r) {
                const T* x = in.as<T>() + r * C;
                T* y = out.as<T>() + r * C;
                const T* c = cos.as<T>() + ((r / inner) % nt) * rot;
                const T* s = sin.as<T>() + ((r / inner) % nt) * rot;
                for (std::int64_t m = 0; m < h; ++m) {
                    const std::int64_t a = m * a_step, b = a + b_off;
                    const T xa = x[a], xb = x[b];
                    if constexpr (Backward) {
                        y[a] = xa * c[a] + xb * s[b];
                        y[b] = xb * c[b] - xa * s[a];
                    } else {
                        y[a] = xa * c[a] - xb * s[a];
                        y[b] = xb * c[b] + xa * s[b];
                    }
                }
                for (std::int64_t i = rot; i < C; ++i) y[i] = x[i];
            }
        });
    });
}

}  // namespace backend::cpu

OMNI_KERNELS_INLINE void rotary_kernels<cpu>::forward(const KernelView& x, const KernelView& cos, const KernelView& sin, std::int64_t inner, rotary_pairing pairing,
                                                      const KernelView& y) {
    backend::cpu::rotary_rows<false>(x, cos, sin, inner, pairing, y);
}
OMNI_KERNELS_INLINE void rotary_kernels<cpu>::backward(const KernelView& g, const KernelView& cos, const KernelView& sin, std::int64_t inner, rotary_pairing pairing,
                                                       const KernelView& gx) {
    backend::cpu::rotary_rows<true>(g, cos, sin, inner, pairing, gx);
}

}  // namespace omni

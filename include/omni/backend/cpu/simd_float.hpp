#pragma once
// float32 vector operations for the hand-written CPU kernels, one namespace per ISA (AVX-512,
// AVX2 + FMA), each compiled for its ISA whatever the -march (backend/cpu/isa.hpp). A kernel
// source (an .inl) is written once over these names and included in each ISA's namespace; masks
// cover the tail of a row, so no shape needs padding.
#include <cstdint>

#include "omni/backend/cpu/isa.hpp"

#ifdef OMNI_HAVE_X86_DISPATCH
#include <immintrin.h>

namespace omni::backend::cpu::simd {

namespace avx512 {
OMNI_BEGIN_TARGET_AVX512
using vec = __m512;
using mask = __mmask16;
inline constexpr int lanes = 16;
inline mask tail_mask(std::int64_t left) { return left >= 16 ? mask(0xFFFF) : left <= 0 ? mask(0) : mask((1u << left) - 1u); }
inline vec zero() { return _mm512_setzero_ps(); }
inline vec loadu(const float* p) { return _mm512_loadu_ps(p); }
inline vec load(mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
inline void store(float* p, mask m, vec v) { _mm512_mask_storeu_ps(p, m, v); }
inline vec broadcast(float x) { return _mm512_set1_ps(x); }
inline vec fmadd(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
inline vec mul(vec a, vec b) { return _mm512_mul_ps(a, b); }
inline vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
// r[i][j] <- r[j][i] over 16 x 16 floats: pairs interleaved as floats, then as doubles, then the
// 128-bit lanes regrouped twice (64 shuffles). The zero-masked forms with every lane kept are the
// plain instructions; g++ 12 warns that the plain intrinsics' undefined pass-through operand may
// be used uninitialised when they are inlined (fixed in g++ 13).
inline void transpose(vec (&r)[16]) {
    constexpr __mmask16 f = 0xFFFF;
    constexpr __mmask8 d = 0xFF;
    vec t[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_maskz_unpacklo_ps(f, r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_maskz_unpackhi_ps(f, r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {  // r[4i + m], 128-bit lane L: rows 4i .. 4i + 3 of column m + 4L
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 2]), e = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(d, a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(d, a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(d, b, e));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(d, b, e));
    }
    for (int m = 0; m < 4; ++m) {
        const vec u0 = _mm512_maskz_shuffle_f32x4(f, r[m], r[4 + m], 0x88), u1 = _mm512_maskz_shuffle_f32x4(f, r[m], r[4 + m], 0xdd);
        const vec u2 = _mm512_maskz_shuffle_f32x4(f, r[8 + m], r[12 + m], 0x88), u3 = _mm512_maskz_shuffle_f32x4(f, r[8 + m], r[12 + m], 0xdd);
        t[m] = _mm512_maskz_shuffle_f32x4(f, u0, u2, 0x88);
        t[m + 4] = _mm512_maskz_shuffle_f32x4(f, u1, u3, 0x88);
        t[m + 8] = _mm512_maskz_shuffle_f32x4(f, u0, u2, 0xdd);
        t[m + 12] = _mm512_maskz_shuffle_f32x4(f, u1, u3, 0xdd);
    }
    for (int i = 0; i < 16; ++i) r[i] = t[i];
}
OMNI_END_TARGET
}  // namespace avx512

namespace avx2 {
OMNI_BEGIN_TARGET_AVX2
using vec = __m256;
using mask = __m256i;  // all-ones lanes are read and written
inline constexpr int lanes = 8;
inline mask tail_mask(std::int64_t left) {
    const int n = left >= 8 ? 8 : left <= 0 ? 0 : static_cast<int>(left);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline vec zero() { return _mm256_setzero_ps(); }
inline vec loadu(const float* p) { return _mm256_loadu_ps(p); }
inline vec load(mask m, const float* p) { return _mm256_maskload_ps(p, m); }  // masked-off lanes read nothing
inline void store(float* p, mask m, vec v) { _mm256_maskstore_ps(p, m, v); }
inline vec broadcast(float x) { return _mm256_set1_ps(x); }
inline vec fmadd(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
inline vec mul(vec a, vec b) { return _mm256_mul_ps(a, b); }
inline vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
// r[i][j] <- r[j][i] over 8 x 8 floats: pairs interleaved, then quads, then the 128-bit halves
// swapped across (24 shuffles).
inline void transpose(vec (&r)[8]) {
    vec t[8], u[8];
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; ++i) {  // u[4i + m], half H: rows 4i .. 4i + 3 of column m + 4H
        u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int m = 0; m < 4; ++m) {
        r[m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x20);
        r[m + 4] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x31);
    }
}
OMNI_END_TARGET
}  // namespace avx2

}  // namespace omni::backend::cpu::simd

#endif

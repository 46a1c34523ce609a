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
OMNI_END_TARGET
}  // namespace avx2

}  // namespace omni::backend::cpu::simd

#endif

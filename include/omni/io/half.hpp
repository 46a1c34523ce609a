#pragma once
// float16 at the io boundary. omni stores float16 (dtype::f16) but has no CPU kernels for it yet,
// so Tensor::to refuses it; files (safetensors F16) and foreign tensors (DLPack) carry it all the
// same. to_dtype converts between any two storable dtypes, float16 included, so loaders can
// turn half-precision checkpoints into the float32 a module holds.
// ref: IEEE 754-2008 binary16 (1 sign bit, 5 exponent bits with bias 15, 10 mantissa bits).
#include <cstdint>
#include <cstring>
#include <vector>

#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::io {

// Exact: every binary16 value is a binary32 value.
inline float f16_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    std::uint32_t u;
    if (exp == 0) {  // zero or subnormal: mant * 2^-24
        float f = static_cast<float>(mant) * (1.0f / 16777216.0f);
        std::memcpy(&u, &f, 4);
        u |= sign;
    } else if (exp == 31) {  // infinity, or NaN with its payload kept
        u = sign | 0x7f800000u | (mant << 13);
    } else {
        u = sign | ((exp + 112u) << 23) | (mant << 13);  // rebias 15 -> 127
    }
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Rounded to nearest, ties to even (as PyTorch's .half()); past 65504 it overflows to infinity.
inline std::uint16_t float_to_f16(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
    const std::uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u;            // NaN stays a (quiet) NaN
    if (a >= 0x477ff000u) return sign | 0x7c00u;           // >= 65520 rounds to infinity
    if (a >= 0x38800000u)                                  // normal in binary16 (>= 2^-14)
        return sign | static_cast<std::uint16_t>((a - (112u << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13);
    if (a <= 0x33000000u) return sign;                     // <= 2^-25: ties to the even zero
    // Subnormal: the value in units of 2^-24, the 24-bit significand shifted right with rounding.
    const std::uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u, s = 126u - e;
    std::uint32_t h = m >> s;
    const std::uint32_t rem = m & ((1u << s) - 1u), half = 1u << (s - 1u);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return sign | static_cast<std::uint16_t>(h);
}

namespace detail {
// Calls f(element offset of src, index in row-major order) for every element of a strided view.
template <class F> void for_each_offset(const Tensor<cpu>& t, F&& f) {
    const std::int64_t n = t.numel();
    std::vector<std::int64_t> idx(static_cast<std::size_t>(t.dim()), 0);
    std::int64_t off = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        f(off, i);
        for (int a = t.dim() - 1; a >= 0; --a) {  // odometer step
            if (++idx[a] < t.shape()[a]) { off += t.strides()[a]; break; }
            off -= (idx[a] - 1) * t.strides()[a];
            idx[a] = 0;
        }
    }
}
}  // namespace detail

// A contiguous copy of t converted to `dt`, float16 on either side included (Tensor::to for
// every other pair). float16 goes through float32 values.
inline Tensor<cpu> to_dtype(const Tensor<cpu>& t, dtype dt) {
    if (!t.defined()) throw value_error("to_dtype", "expected a defined tensor, got an empty handle");
    if (t.type() != dtype::f16 && dt != dtype::f16) return t.to(dt);
    Tensor<cpu> out = Tensor<cpu>::empty(t.shape(), dt);
    if (t.numel() == 0) return out;
    if (t.type() == dtype::f16) {
        const auto* src = static_cast<const std::uint16_t*>(t.raw_data());
        if (dt == dtype::f16) {
            auto* d = static_cast<std::uint16_t*>(out.raw_data());
            detail::for_each_offset(t, [&](std::int64_t off, std::int64_t i) { d[i] = src[off]; });
            return out;
        }
        Tensor<cpu> f = Tensor<cpu>::empty(t.shape(), dtype::f32);
        auto* d = static_cast<float*>(f.raw_data());
        detail::for_each_offset(t, [&](std::int64_t off, std::int64_t i) { d[i] = f16_to_float(src[off]); });
        return dt == dtype::f32 ? f : f.to(dt);
    }
    const Tensor<cpu> f = t.to(dtype::f32);  // dense float32 values
    const auto* s = static_cast<const float*>(f.raw_data());
    auto* d = static_cast<std::uint16_t*>(out.raw_data());
    for (std::int64_t i = 0; i < t.numel(); ++i) d[i] = float_to_f16(s[i]);
    return out;
}

}  // namespace omni::io

#pragma once
// Runtime element types. docs/architecture.md explains why dtype is a value, not a template
// parameter: one module instantiation serves float32 training, float64 gradcheck, int64 token
// ids and bool masks in the same graph.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "omni/core/error.hpp"

namespace omni {

/// The bf16 storage type: the upper half of an IEEE float, rounded to nearest even.
struct bf16 {
    std::uint16_t bits = 0;
    bf16() = default;
    explicit bf16(float f) {
        std::uint32_t u;
        std::memcpy(&u, &f, 4);
        if ((u & 0x7fffffffu) > 0x7f800000u) { bits = 0x7fc0; return; }  // keep NaN a NaN
        u += 0x7fffu + ((u >> 16) & 1u);
        bits = static_cast<std::uint16_t>(u >> 16);
    }
    explicit operator float() const {
        std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    }
};

enum class dtype : std::uint8_t { f32, f64, i32, i64, b8, bf16, f16 };

constexpr std::size_t size_of(dtype t) {
    switch (t) {
        case dtype::f32: case dtype::i32: return 4;
        case dtype::f64: case dtype::i64: return 8;
        case dtype::b8: return 1;
        case dtype::bf16: case dtype::f16: return 2;
    }
    return 0;
}

inline const char* name_of(dtype t) {
    switch (t) {
        case dtype::f32: return "float32";
        case dtype::f64: return "float64";
        case dtype::i32: return "int32";
        case dtype::i64: return "int64";
        case dtype::b8: return "bool";
        case dtype::bf16: return "bfloat16";
        case dtype::f16: return "float16";
    }
    return "?";
}

constexpr bool is_floating(dtype t) { return t == dtype::f32 || t == dtype::f64; }
constexpr bool is_integral(dtype t) { return t == dtype::i32 || t == dtype::i64; }

template <class T> constexpr dtype dtype_of() {
    if constexpr (std::is_same_v<T, float>) return dtype::f32;
    else if constexpr (std::is_same_v<T, double>) return dtype::f64;
    else if constexpr (std::is_same_v<T, std::int32_t>) return dtype::i32;
    else if constexpr (std::is_same_v<T, std::int64_t>) return dtype::i64;
    else if constexpr (std::is_same_v<T, bool>) return dtype::b8;
    else if constexpr (std::is_same_v<T, bf16>) return dtype::bf16;
    else static_assert(sizeof(T) == 0, "omni: no dtype for this C++ type");
}

// Calls f.template operator()<T>() with the C++ type of a floating dtype; the op name goes
// into the error for any other dtype.
template <class F> decltype(auto) dispatch_float(dtype t, const char* op, F&& f) {
    switch (t) {
        case dtype::f32: return f.template operator()<float>();
        case dtype::f64: return f.template operator()<double>();
        default: throw dtype_error(op, std::string("expected float32 or float64, got ") + name_of(t));
    }
}

// Numeric dtypes: floats and integers (arithmetic, copies, comparisons).
template <class F> decltype(auto) dispatch_numeric(dtype t, const char* op, F&& f) {
    switch (t) {
        case dtype::f32: return f.template operator()<float>();
        case dtype::f64: return f.template operator()<double>();
        case dtype::i32: return f.template operator()<std::int32_t>();
        case dtype::i64: return f.template operator()<std::int64_t>();
        default: throw dtype_error(op, std::string("expected a numeric dtype, got ") + name_of(t));
    }
}

template <class F> decltype(auto) dispatch_index(dtype t, const char* op, F&& f) {
    switch (t) {
        case dtype::i32: return f.template operator()<std::int32_t>();
        case dtype::i64: return f.template operator()<std::int64_t>();
        default: throw dtype_error(op, std::string("expected int32 or int64 indices, got ") + name_of(t));
    }
}

// Every storable dtype (copies and casts); float16 has no CPU arithmetic yet.
template <class F> decltype(auto) dispatch_any(dtype t, const char* op, F&& f) {
    switch (t) {
        case dtype::f32: return f.template operator()<float>();
        case dtype::f64: return f.template operator()<double>();
        case dtype::i32: return f.template operator()<std::int32_t>();
        case dtype::i64: return f.template operator()<std::int64_t>();
        case dtype::b8: return f.template operator()<bool>();
        case dtype::bf16: return f.template operator()<bf16>();
        default: throw dtype_error(op, std::string("no kernels for ") + name_of(t) + " yet");
    }
}

// Value conversion between storable types; bf16 goes through float.
template <class To, class From> To cast_value(From v) {
    if constexpr (std::is_same_v<To, From>) return v;
    else if constexpr (std::is_same_v<From, bf16>) return static_cast<To>(static_cast<float>(v));
    else if constexpr (std::is_same_v<To, bf16>) return bf16(static_cast<float>(v));
    else if constexpr (std::is_same_v<To, bool>) return v != From(0);
    else return static_cast<To>(v);
}

inline void check_dtype(const char* op, dtype expected, dtype actual) {
    if (expected != actual)
        throw dtype_error(op, std::string("expected ") + name_of(expected) + ", got " + name_of(actual));
}

}  // namespace omni

#pragma once
// Scalar math of the elementwise op families, shared by the CPU loops and the CUDA kernels.
// Each op keeps its derivative next to it: bwd(x, y, g) returns dL/dx given y = f(x), dL/dy = g.
#include <cmath>
#include <cstdint>

#include "omni/core/shape.hpp"  // OMNI_HD

namespace omni {

enum class unary_op : std::uint8_t { neg, exp, log, sqrt, rsqrt, tanh, sigmoid, relu, gelu_erf, gelu_tanh, silu, abs, square, softplus };
enum class binary_op : std::uint8_t { add, sub, mul, div, maximum, minimum };
enum class scalar_op : std::uint8_t { add, mul, pow };
enum class compare_op : std::uint8_t { eq, ne, lt, le, gt, ge };

inline const char* name_of(unary_op op) {
    constexpr const char* n[] = {"neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "gelu", "gelu_tanh", "silu", "abs", "square", "softplus"};
    return n[static_cast<int>(op)];
}
inline const char* name_of(binary_op op) {
    constexpr const char* n[] = {"add", "sub", "mul", "div", "maximum", "minimum"};
    return n[static_cast<int>(op)];
}

template <unary_op Op, class T> OMNI_HD inline T unary_fwd(T x) {
    using std::exp, std::log, std::sqrt, std::tanh, std::erf, std::abs;
    constexpr T k_tanh = T(0.7978845608028654);  // sqrt(2/pi)
    if constexpr (Op == unary_op::neg) return -x;
    else if constexpr (Op == unary_op::exp) return exp(x);
    else if constexpr (Op == unary_op::log) return log(x);
    else if constexpr (Op == unary_op::sqrt) return sqrt(x);
    else if constexpr (Op == unary_op::rsqrt) return T(1) / sqrt(x);
    else if constexpr (Op == unary_op::tanh) return tanh(x);
    else if constexpr (Op == unary_op::sigmoid) return T(1) / (T(1) + exp(-x));
    else if constexpr (Op == unary_op::relu) return x <= T(0) ? T(0) : x;  // NaN passes through, as torch.relu
    else if constexpr (Op == unary_op::gelu_erf) return T(0.5) * x * (T(1) + erf(x * T(0.7071067811865476)));
    else if constexpr (Op == unary_op::gelu_tanh) return T(0.5) * x * (T(1) + tanh(k_tanh * (x + T(0.044715) * x * x * x)));
    else if constexpr (Op == unary_op::silu) return x / (T(1) + exp(-x));
    else if constexpr (Op == unary_op::abs) return abs(x);
    else if constexpr (Op == unary_op::square) return x * x;
    else return x > T(0) ? x + std::log1p(exp(-x)) : std::log1p(exp(x));  // softplus, stable both ways
}

template <unary_op Op, class T> OMNI_HD inline T unary_bwd(T x, T y, T g) {
    using std::exp, std::tanh;
    constexpr T k_tanh = T(0.7978845608028654);
    if constexpr (Op == unary_op::neg) return -g;
    else if constexpr (Op == unary_op::exp) return g * y;
    else if constexpr (Op == unary_op::log) return g / x;
    else if constexpr (Op == unary_op::sqrt) return g * T(0.5) / y;
    else if constexpr (Op == unary_op::rsqrt) return g * T(-0.5) * y * y * y;
    else if constexpr (Op == unary_op::tanh) return g * (T(1) - y * y);
    else if constexpr (Op == unary_op::sigmoid) return g * y * (T(1) - y);
    else if constexpr (Op == unary_op::relu) return x <= T(0) ? T(0) : g;  // as torch threshold_backward, NaN x passes g
    else if constexpr (Op == unary_op::gelu_erf) {
        const T cdf = T(0.5) * (T(1) + std::erf(x * T(0.7071067811865476)));
        const T pdf = T(0.3989422804014327) * exp(T(-0.5) * x * x);
        return g * (cdf + x * pdf);
    } else if constexpr (Op == unary_op::gelu_tanh) {
        const T u = k_tanh * (x + T(0.044715) * x * x * x);
        const T t = tanh(u);
        const T du = k_tanh * (T(1) + T(3) * T(0.044715) * x * x);
        return g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
    } else if constexpr (Op == unary_op::silu) {
        const T s = T(1) / (T(1) + exp(-x));
        return g * s * (T(1) + x * (T(1) - s));
    } else if constexpr (Op == unary_op::abs) return x > T(0) ? g : (x < T(0) ? -g : T(0));
    else if constexpr (Op == unary_op::square) return g * T(2) * x;
    else return g / (T(1) + exp(-x));  // softplus' = sigmoid
}

// Calls f.template operator()<Op>() with the unary op as a compile-time constant, so the switch
// runs once per kernel call, not per element.
template <class F> decltype(auto) dispatch_unary(unary_op op, F&& f) {
    switch (op) {
#define OMNI_UNARY_CASE(o) case unary_op::o: return f.template operator()<unary_op::o>();
        OMNI_UNARY_CASE(neg) OMNI_UNARY_CASE(exp) OMNI_UNARY_CASE(log) OMNI_UNARY_CASE(sqrt)
        OMNI_UNARY_CASE(rsqrt) OMNI_UNARY_CASE(tanh) OMNI_UNARY_CASE(sigmoid) OMNI_UNARY_CASE(relu)
        OMNI_UNARY_CASE(gelu_erf) OMNI_UNARY_CASE(gelu_tanh) OMNI_UNARY_CASE(silu) OMNI_UNARY_CASE(abs)
        OMNI_UNARY_CASE(square)
#undef OMNI_UNARY_CASE
        default: return f.template operator()<unary_op::softplus>();
    }
}

template <binary_op Op, class T> OMNI_HD inline T binary_fwd(T a, T b) {
    if constexpr (Op == binary_op::add) return a + b;
    else if constexpr (Op == binary_op::sub) return a - b;
    else if constexpr (Op == binary_op::mul) return a * b;
    else if constexpr (Op == binary_op::div) return a / b;
    // A NaN on either side wins (torch.maximum / minimum); `a != a` is false for integers.
    else if constexpr (Op == binary_op::maximum) return (a > b || a != a) ? a : b;
    else return (a < b || a != a) ? a : b;
}

template <class F> decltype(auto) dispatch_binary(binary_op op, F&& f) {
    switch (op) {
        case binary_op::add: return f.template operator()<binary_op::add>();
        case binary_op::sub: return f.template operator()<binary_op::sub>();
        case binary_op::mul: return f.template operator()<binary_op::mul>();
        case binary_op::div: return f.template operator()<binary_op::div>();
        case binary_op::maximum: return f.template operator()<binary_op::maximum>();
        default: return f.template operator()<binary_op::minimum>();
    }
}

template <class T> OMNI_HD inline T scalar_fwd(scalar_op op, T x, T s) {
    using std::pow, std::sqrt;
    if (op == scalar_op::add) return x + s;
    if (op == scalar_op::mul) return x * s;
    // torch.pow takes exponents +-0.5 as sqrt / rsqrt, which differ from C's pow at -0 and -inf:
    // pow(-inf, 0.5) is NaN there (C: +inf), pow(-0, -0.5) is -inf (C: +inf).
    if (s == T(0.5)) return sqrt(x);
    if (s == T(-0.5)) return T(1) / sqrt(x);
    return T(pow(x, s));
}

template <class T> OMNI_HD inline bool compare_fwd(compare_op op, T a, T b) {
    switch (op) {
        case compare_op::eq: return a == b;
        case compare_op::ne: return a != b;
        case compare_op::lt: return a < b;
        case compare_op::le: return a <= b;
        case compare_op::gt: return a > b;
        default: return a >= b;
    }
}

}  // namespace omni

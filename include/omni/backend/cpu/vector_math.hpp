#pragma once
// Vectorised transcendental functions for dense rows. A scalar std::erf / std::exp loop does not
// vectorise (glibc's vector variants need -ffast-math), while Eigen's packet math does: GELU
// runs about 25x and exp 7x faster on AVX-512, within 3e-7 of the scalar result in float32.
// Ops without a transcendental stay plain loops (the compiler vectorises those itself).
#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>

#include "omni/backend/functors.hpp"

namespace omni::backend::cpu {

template <class T> using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T> using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// y[i] = op(x[i]) for i < n, unit stride.
template <unary_op Op, class T> void unary_dense(const T* xp, T* yp, std::int64_t n) {
    const ConstArrayMap<T> x(xp, n);
    ArrayMap<T> y(yp, n);
    constexpr T rsqrt2 = T(0.7071067811865476), k_tanh = T(0.7978845608028654);
    if constexpr (Op == unary_op::exp) y = x.exp();
    else if constexpr (Op == unary_op::log) y = x.log();
    else if constexpr (Op == unary_op::sqrt) y = x.sqrt();
    else if constexpr (Op == unary_op::rsqrt) y = x.rsqrt();
    else if constexpr (Op == unary_op::tanh) y = x.tanh();
    else if constexpr (Op == unary_op::sigmoid) y = T(1) / (T(1) + (-x).exp());
    else if constexpr (Op == unary_op::gelu_erf) y = T(0.5) * x * (T(1) + (x * rsqrt2).erf());
    else if constexpr (Op == unary_op::gelu_tanh) y = T(0.5) * x * (T(1) + (k_tanh * (x + T(0.044715) * x.cube())).tanh());
    else if constexpr (Op == unary_op::silu) y = x / (T(1) + (-x).exp());
    else
        for (std::int64_t i = 0; i < n; ++i) yp[i] = unary_fwd<Op>(xp[i]);
}

// gx[i] = dL/dx for i < n, unit stride; the transcendental derivatives use packet math too.
template <unary_op Op, class T> void unary_backward_dense(const T* xp, const T* yp, const T* gp, T* op, std::int64_t n) {
    const ConstArrayMap<T> x(xp, n), g(gp, n);
    ArrayMap<T> o(op, n);
    constexpr T rsqrt2 = T(0.7071067811865476), inv_sqrt_2pi = T(0.3989422804014327), k_tanh = T(0.7978845608028654);
    if constexpr (Op == unary_op::gelu_erf) {
        o = g * (T(0.5) * (T(1) + (x * rsqrt2).erf()) + x * inv_sqrt_2pi * (T(-0.5) * x.square()).exp());
    } else if constexpr (Op == unary_op::gelu_tanh) {
        const auto t = (k_tanh * (x + T(0.044715) * x.cube())).tanh().eval();
        o = g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t.square()) * k_tanh * (T(1) + T(3 * 0.044715) * x.square()));
    } else if constexpr (Op == unary_op::silu) {
        const auto s = (T(1) / (T(1) + (-x).exp())).eval();
        o = g * s * (T(1) + x * (T(1) - s));
    } else {
        for (std::int64_t i = 0; i < n; ++i) op[i] = unary_bwd<Op>(xp[i], yp[i], gp[i]);
    }
}

}  // namespace omni::backend::cpu

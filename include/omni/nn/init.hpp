#pragma once
// Initialisers matching the reference implementations. All draw from a seeded omni::Generator,
// so a model built twice with the same seed is bit-identical on every policy.
#include <cmath>

#include "omni/nn/module.hpp"

namespace omni::nn::init {

template <class D> Tensor<D> uniform(const Shape& s, Generator& g, double lo, double hi, dtype t = dtype::f32) {
    return Tensor<D>::rand(s, g, t, lo, hi);
}
template <class D> Tensor<D> normal(const Shape& s, Generator& g, double std, dtype t = dtype::f32) {
    return Tensor<D>::randn(s, g, t, 0.0, std);
}

// N(0, std) restricted to [lo, hi] (absolute bounds, as timm's trunc_normal_(std=.02) with its
// defaults a=-2, b=2), by redrawing out-of-range values.
template <class D> Tensor<D> trunc_normal(const Shape& s, Generator& g, double std, double lo = -2, double hi = 2, dtype t = dtype::f32) {
    if (!(lo < hi)) throw value_error("trunc_normal", "expected lo < hi, got [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    const std::uint64_t off = g.next_offset(), seed = g.seed();
    std::uint64_t draw = 0;  // elements are made in order, each from the next in-range draws
    return Tensor<D>::generated(s, t, [&](std::uint64_t) {
        double x;
        do {
            x = std * philox_normal(seed, off, draw++);
        } while (x < lo || x > hi);
        return x;
    });
}

// Glorot & Bengio: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) for a [out, in] weight.
template <class D> Tensor<D> xavier_uniform(const Shape& s, Generator& g, dtype t = dtype::f32) {
    if (s.size() < 2) throw shape_error("xavier_uniform", "expected a weight with at least 2 dims, got " + s.str());
    std::int64_t rf = 1;
    for (int i = 2; i < s.size(); ++i) rf *= s[i];
    const double a = std::sqrt(6.0 / static_cast<double>(s[1] * rf + s[0] * rf));
    return uniform<D>(s, g, -a, a, t);
}

// PyTorch's default for Linear and Conv weights and biases (kaiming_uniform with a = sqrt(5)):
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
template <class D> Tensor<D> torch_default(const Shape& s, std::int64_t fan_in, Generator& g, dtype t = dtype::f32) {
    const double b = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    return uniform<D>(s, g, -b, b, t);
}

}  // namespace omni::nn::init

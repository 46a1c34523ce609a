#pragma once
// Fixed sin-cos position tables (Vaswani et al.; the 2-D form of MAE, as Omni-C uses them),
// computed in double and stored as float32. Layouts follow the Omni-C release (utils/pos_embed.py): within a table
// of width E all sines come first, then all cosines; a 2-D table gives its first E/2 channels to
// the column (x, time) index and the last E/2 to the row (y, mel) index.
#include <cmath>
#include <vector>

#include "omni/nn/module.hpp"

namespace omni::nn {

namespace detail {
// Appends [sin(pos w_k) for k < E/2, cos(pos w_k) for k < E/2], w_k = 10000^(-k / (E/2)).
inline void sincos_row(std::vector<double>& out, double pos, std::int64_t e) {
    const std::int64_t half = e / 2;
    for (std::int64_t k = 0; k < half; ++k) out.push_back(std::sin(pos * std::pow(10000.0, -static_cast<double>(k) / half)));
    for (std::int64_t k = 0; k < half; ++k) out.push_back(std::cos(pos * std::pow(10000.0, -static_cast<double>(k) / half)));
}
}  // namespace detail

// [positions, width] table for positions 0 .. positions-1.
template <class D> Tensor<D> sincos_1d(std::int64_t positions, std::int64_t width) {
    if (width < 2 || width % 2) throw value_error("sincos_1d", "expected an even width >= 2, got " + std::to_string(width));
    std::vector<double> v;
    v.reserve(static_cast<std::size_t>(positions * width));
    for (std::int64_t m = 0; m < positions; ++m) detail::sincos_row(v, static_cast<double>(m), width);
    return Tensor<D>::from_data(v, {positions, width}).to(dtype::f32);
}

// [(cls ? 1 : 0) + rows * cols, width] table for a row-major grid (index r * cols + c), with a
// zero row first when cls is set.
template <class D> Tensor<D> sincos_2d(std::int64_t rows, std::int64_t cols, std::int64_t width, bool cls) {
    if (width < 4 || width % 4) throw value_error("sincos_2d", "expected a width divisible by 4, got " + std::to_string(width));
    std::vector<double> v(cls ? static_cast<std::size_t>(width) : 0u, 0.0);
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
            detail::sincos_row(v, static_cast<double>(c), width / 2);  // column first ("w goes first")
            detail::sincos_row(v, static_cast<double>(r), width / 2);
        }
    return Tensor<D>::from_data(v, {(cls ? 1 : 0) + rows * cols, width}).to(dtype::f32);
}

}  // namespace omni::nn

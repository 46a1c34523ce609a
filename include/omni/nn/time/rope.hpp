#pragma once
// Rotary position embedding (Su et al., RoFormer) in the half-split form of LLaMA and Qwen2
// (transformers' Qwen2RotaryEmbedding, rotate_half and apply_rotary_pos_emb): x [B, H, N, hd]
// at positions offset .. offset + N - 1 -> the same shape, channel i < hd/2 paired with i + hd/2,
//   inv_freq_k = theta^(-2k / hd),  angle_{n,k} = (offset + n) inv_freq_k,
//   cos/sin tables [N, hd] = cat(cos(angle), cos(angle)) and the same for sin.
// Angles are computed in float64 and cast to x's dtype once; transformers computes inv_freq and
// the angles in float32, so at position p its tables carry an angle error of about p * 6e-8 rad
// (about 2.5e-4 at p = 4096) that these do not.
#include <cmath>
#include <string>
#include <vector>

#include "omni/autodiff/rotary.hpp"
#include "omni/nn/module.hpp"

namespace omni::nn {

/// Options of rope_table: head width and rope_theta.
struct RopeConfig {
    std::int64_t head_dim = 0;  // hd, even
    double theta = 1e6;         // rope_theta (1e6 for Qwen2.5-7B, 1e4 for LLaMA)
};

/// The cos and sin tables [N, hd] of N consecutive positions from offset, in dtype t, on device D.
/// Build them once per forward and apply them to q and k of every layer.
template <class D> struct RopeTable {
    Tensor<D> cos, sin;
    std::int64_t offset = 0;
};

template <class D> RopeTable<D> rope_table(const RopeConfig& c, std::int64_t n, std::int64_t offset = 0, dtype t = dtype::f32) {
    if (c.head_dim < 2 || c.head_dim % 2)
        throw value_error("rope", "expected an even head_dim >= 2, got " + std::to_string(c.head_dim));
    if (!(c.theta > 0) || !std::isfinite(c.theta)) throw value_error("rope", "expected a finite theta > 0, got " + std::to_string(c.theta));
    if (offset < 0) throw value_error("rope", "expected a position offset >= 0, got " + std::to_string(offset));
    if (n < 1) throw value_error("rope", "expected at least one position, got " + std::to_string(n));
    if (!is_floating(t)) throw dtype_error("rope", std::string("expected a float32 or float64 table, got ") + name_of(t));
    const std::int64_t hd = c.head_dim, h = hd / 2;
    std::vector<double> inv(static_cast<std::size_t>(h));
    for (std::int64_t k = 0; k < h; ++k) inv[k] = std::pow(c.theta, -2.0 * static_cast<double>(k) / static_cast<double>(hd));
    auto [cv, sv] = rotary_tables<D>(n, hd, t, [&]<class T>(std::int64_t p, T* cr, T* sr) {
        for (std::int64_t k = 0; k < h; ++k) {
            const double a = static_cast<double>(offset + p) * inv[k];
            cr[k] = cr[k + h] = static_cast<T>(std::cos(a));
            sr[k] = sr[k + h] = static_cast<T>(std::sin(a));
        }
    });
    return {cv, sv, offset};
}

namespace detail {
template <class P> void check_rope_input(const Tensor<P>& x, std::int64_t hd) {
    if (x.dim() != 4 || x.shape()[3] != hd)
        throw shape_error("rope", "expected x [B, H, N, " + std::to_string(hd) + "], got " + x.shape().str());
}
}  // namespace detail

// x [B, H, N, hd] with precomputed tables of exactly N positions.
template <class P> Tensor<P> apply_rope(const Tensor<P>& x, const RopeTable<device_of_t<P>>& table) {
    detail::check_rope_input(x, table.cos.dim() == 2 ? table.cos.shape()[1] : -1);
    if (table.cos.shape()[0] != x.shape()[2])
        throw shape_error("rope", "expected a table of " + std::to_string(x.shape()[2]) + " positions for x " + x.shape().str() + ", got " +
                                      table.cos.shape().str());
    if (table.cos.type() != x.type())
        throw dtype_error("rope", std::string("expected a table of x's dtype ") + name_of(x.type()) + ", got " + name_of(table.cos.type()));
    return rotary(x, table.cos, table.sin, rotary_pairing::half);
}

// Rotary position embedding: x [B, H, N, hd] (any strides; tensor or taped Var), positions
// offset .. offset + N - 1 (offset = tokens already in the KV cache) -> same shape.
template <class P> Tensor<P> apply_rope(const Tensor<P>& x, const RopeConfig& c, std::int64_t offset = 0) {
    if (c.head_dim < 2 || c.head_dim % 2)
        throw value_error("rope", "expected an even head_dim >= 2, got " + std::to_string(c.head_dim));
    detail::check_rope_input(x, c.head_dim);
    if (!is_floating(x.type())) throw dtype_error("rope", std::string("expected a float32 or float64 x, got ") + name_of(x.type()));
    if (x.shape()[2] == 0) return x.clone();
    return apply_rope(x, rope_table<device_of_t<P>>(c, x.shape()[2], offset, x.type()));
}

}  // namespace omni::nn

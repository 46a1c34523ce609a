#pragma once
// Rotary embedding with per-channel angles, the op under RoPE (transformers' apply_rotary_pos_emb)
// and OmniVinci's CRTE (arXiv 2510.15870, sec. 2):
//   y_c = x_c cos_c + R(x)_c sin_c   for c < rot,   y_c = x_c   for rot <= c < C,
// where R turns each pair of channels by 90 degrees, either
//   interleaved (rotary-embedding-torch's rotate_half): pairs (2m, 2m+1), R(x)_2m = -x_2m+1, R(x)_2m+1 = x_2m,
//   half (transformers' rotate_half): pairs (i, i + rot/2), R(x)_i = -x_i+rot/2, R(x)_i+rot/2 = x_i.
// The angles are per channel, not per pair, so the released CRTE (whose two channels of a pair
// use different angles) is expressible. x is seen as rows [R, C]; row r uses table row
// (r / inner) % T of cos and sin [T, rot], so per-token tables ([B, N, C] with T = B N) and
// per-position tables shared over batch and heads ([B, H, N, hd] with T = N) both work without
// materialising a broadcast.
#include <string>
#include <vector>

#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/kernel_view.hpp"

namespace omni {

enum class rotary_pairing { interleaved, half };

inline const char* name_of(rotary_pairing p) { return p == rotary_pairing::interleaved ? "interleaved" : "half"; }

// Specialised by each backend (x, y, g, gx dense [R, C]; cos, sin dense [T, rot]):
//   forward(x, cos, sin, inner, pairing, y)     the formula above
//   backward(g, cos, sin, inner, pairing, gx)   its transpose: gx = cos g - R(sin g) on the first
//                                               rot channels (R is antisymmetric), g elsewhere
template <class P> struct rotary_kernels;

namespace detail {

// The checks shared by forward and backward; returns the row count R.
template <device_policy P>
std::int64_t rotary_check(const Tensor<P>& x, const Tensor<P>& cos, const Tensor<P>& sin, std::int64_t inner) {
    if (!is_floating(x.type())) throw dtype_error("rotary", std::string("expected float32 or float64 input, got ") + name_of(x.type()));
    if (cos.type() != x.type() || sin.type() != x.type())
        throw dtype_error("rotary", std::string("expected cos and sin of the input's dtype ") + name_of(x.type()) + ", got " +
                                        name_of(cos.type()) + " and " + name_of(sin.type()));
    if (x.dim() == 0) throw shape_error("rotary", "expected input [..., C], got a scalar");
    if (cos.dim() != 2 || !(cos.shape() == sin.shape()))
        throw shape_error("rotary", "expected cos and sin of one shape [T, rot], got " + cos.shape().str() + " and " + sin.shape().str());
    const std::int64_t C = x.shape().back(), T = cos.shape()[0], rot = cos.shape()[1];
    if (rot < 2 || rot % 2 || rot > C)
        throw shape_error("rotary", "expected an even rotated width rot in [2, " + std::to_string(C) + "] (the input's last axis), got " +
                                        std::to_string(rot));
    if (inner < 1) throw value_error("rotary", "expected inner >= 1, got " + std::to_string(inner));
    const std::int64_t R = C ? x.numel() / C : 0;
    if (T < 1 || R % (inner * T))
        throw shape_error("rotary", "expected the " + std::to_string(R) + " rows of input " + x.shape().str() +
                                        " to be a multiple of inner * T = " + std::to_string(inner) + " * " + std::to_string(T) +
                                        ", got tables " + cos.shape().str());
    return R;
}

}  // namespace detail

// The tables [rows, rot] of dtype t on policy P, built on the host: fill(r, cos_row, sin_row)
// writes row r's rot values (angles in double, cast once). Rows are filled in parallel, so fill
// must only write its own row.
template <device_policy P, class F> std::pair<Tensor<P>, Tensor<P>> rotary_tables(std::int64_t rows, std::int64_t rot, dtype t, F&& fill) {
    return dispatch_float(t, "rotary", [&]<class T>() {
        std::vector<T> c(static_cast<std::size_t>(rows * rot)), s(c.size());
        backend::cpu::parallel_for(rows, rot * 20, [&](std::int64_t r0, std::int64_t r1) {
            for (std::int64_t r = r0; r < r1; ++r) fill(r, c.data() + r * rot, s.data() + r * rot);
        });
        return std::pair{Tensor<P>::from_data(c, {rows, rot}), Tensor<P>::from_data(s, {rows, rot})};
    });
}

// y = rotary(x, cos, sin, pairing, inner): the formula above over the last axis of x (any strides).
template <device_policy P>
Tensor<P> rotary(const Tensor<P>& x, const Tensor<P>& cos, const Tensor<P>& sin, rotary_pairing pairing, std::int64_t inner = 1) {
    const std::int64_t R = detail::rotary_check(x, cos, sin, inner), C = x.shape().back();
    Tensor<P> y = Tensor<P>::empty(x.shape(), x.type());
    if (R)
        rotary_kernels<P>::forward(kview(x.contiguous().view(Shape{R, C})), kview(cos.contiguous()), kview(sin.contiguous()), inner,
                                   pairing, kview(y.view(Shape{R, C})));
    return y;
}

// The gradient of rotary with respect to x, given the output gradient g (x's shape).
template <device_policy P>
Tensor<P> rotary_backward(const Tensor<P>& g, const Tensor<P>& cos, const Tensor<P>& sin, rotary_pairing pairing, std::int64_t inner = 1) {
    const std::int64_t R = detail::rotary_check(g, cos, sin, inner), C = g.shape().back();
    Tensor<P> gx = Tensor<P>::empty(g.shape(), g.type());
    if (R)
        rotary_kernels<P>::backward(kview(g.contiguous().view(Shape{R, C})), kview(cos.contiguous()), kview(sin.contiguous()), inner,
                                    pairing, kview(gx.view(Shape{R, C})));
    return gx;
}

}  // namespace omni

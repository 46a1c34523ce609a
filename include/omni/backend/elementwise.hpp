#pragma once
// Elementwise ops on device tensors: unary math, broadcasting binary arithmetic, scalar ops,
// comparisons and `where`. Shape and dtype checks live here once; a backend specialises
// elementwise_kernels<P> with loops over KernelViews (backend/cpu/elementwise.hpp, backend/cuda/).
#include <string>

#include "omni/backend/functors.hpp"
#include "omni/backend/kernel_view.hpp"

namespace omni {

// Specialised by each backend:
//   unary(op, x, out)                  out dense, x any strides, same shape
//   unary_backward(op, x, y, g, gx)    all dense, same shape
//   binary(op, a, b, out)              a, b broadcast to out's shape (zero strides allowed)
//   scalar(op, x, s, out)              out = x (op) s
//   compare(op, a, b, out)             out bool
//   where(cond, a, b, out)             cond bool; all broadcast to out's shape
template <class P> struct elementwise_kernels;

namespace detail {
inline void check_same_dtype(const char* op, dtype a, dtype b) {
    if (a != b)
        throw dtype_error(op, std::string("expected operands of one dtype, got ") + name_of(a) + " and " + name_of(b));
}
inline void check_floating(const char* op, dtype t) {
    if (!is_floating(t)) throw dtype_error(op, std::string("expected float32 or float64, got ") + name_of(t));
}
}  // namespace detail

template <device_policy P> Tensor<P> unary(unary_op op, const Tensor<P>& x) {
    detail::check_floating(name_of(op), x.type());
    Tensor<P> out = Tensor<P>::empty(x.shape(), x.type());
    if (x.numel()) elementwise_kernels<P>::unary(op, kview(x), kview(out));
    return out;
}

// dL/dx of y = op(x) given dL/dy = g.
template <device_policy P>
Tensor<P> unary_backward(unary_op op, const Tensor<P>& x, const Tensor<P>& y, const Tensor<P>& g) {
    Tensor<P> gx = Tensor<P>::empty(x.shape(), x.type());
    if (x.numel())
        elementwise_kernels<P>::unary_backward(op, kview(x.contiguous()), kview(y.contiguous()), kview(g.contiguous()), kview(gx));
    return gx;
}

template <device_policy P> Tensor<P> neg(const Tensor<P>& x) { return unary(unary_op::neg, x); }
template <device_policy P> Tensor<P> exp(const Tensor<P>& x) { return unary(unary_op::exp, x); }
template <device_policy P> Tensor<P> log(const Tensor<P>& x) { return unary(unary_op::log, x); }
template <device_policy P> Tensor<P> sqrt(const Tensor<P>& x) { return unary(unary_op::sqrt, x); }
template <device_policy P> Tensor<P> rsqrt(const Tensor<P>& x) { return unary(unary_op::rsqrt, x); }
template <device_policy P> Tensor<P> tanh(const Tensor<P>& x) { return unary(unary_op::tanh, x); }
template <device_policy P> Tensor<P> sigmoid(const Tensor<P>& x) { return unary(unary_op::sigmoid, x); }
template <device_policy P> Tensor<P> relu(const Tensor<P>& x) { return unary(unary_op::relu, x); }
template <device_policy P> Tensor<P> gelu(const Tensor<P>& x) { return unary(unary_op::gelu_erf, x); }
template <device_policy P> Tensor<P> gelu_tanh(const Tensor<P>& x) { return unary(unary_op::gelu_tanh, x); }
template <device_policy P> Tensor<P> silu(const Tensor<P>& x) { return unary(unary_op::silu, x); }
template <device_policy P> Tensor<P> abs(const Tensor<P>& x) { return unary(unary_op::abs, x); }
template <device_policy P> Tensor<P> square(const Tensor<P>& x) { return unary(unary_op::square, x); }
template <device_policy P> Tensor<P> softplus(const Tensor<P>& x) { return unary(unary_op::softplus, x); }

template <device_policy P> Tensor<P> binary(binary_op op, const Tensor<P>& a, const Tensor<P>& b) {
    const char* name = name_of(op);
    detail::check_same_dtype(name, a.type(), b.type());
    if (a.type() == dtype::b8 || a.type() == dtype::bf16 || a.type() == dtype::f16)
        throw dtype_error(name, std::string("expected a numeric dtype, got ") + name_of(a.type()));
    const Shape s = broadcast_shapes(name, a.shape(), b.shape());
    Tensor<P> out = Tensor<P>::empty(s, a.type());
    if (out.numel()) elementwise_kernels<P>::binary(op, kview(a.expand(s)), kview(b.expand(s)), kview(out));
    return out;
}

template <device_policy P> Tensor<P> add(const Tensor<P>& a, const Tensor<P>& b) { return binary(binary_op::add, a, b); }
template <device_policy P> Tensor<P> sub(const Tensor<P>& a, const Tensor<P>& b) { return binary(binary_op::sub, a, b); }
template <device_policy P> Tensor<P> mul(const Tensor<P>& a, const Tensor<P>& b) { return binary(binary_op::mul, a, b); }
template <device_policy P> Tensor<P> div(const Tensor<P>& a, const Tensor<P>& b) { return binary(binary_op::div, a, b); }
template <device_policy P> Tensor<P> maximum(const Tensor<P>& a, const Tensor<P>& b) { return binary(binary_op::maximum, a, b); }
template <device_policy P> Tensor<P> minimum(const Tensor<P>& a, const Tensor<P>& b) { return binary(binary_op::minimum, a, b); }

template <device_policy P> Tensor<P> scalar(scalar_op op, const Tensor<P>& x, double s) {
    detail::check_floating(op == scalar_op::pow ? "pow" : "scalar", x.type());
    Tensor<P> out = Tensor<P>::empty(x.shape(), x.type());
    if (x.numel()) elementwise_kernels<P>::scalar(op, kview(x), s, kview(out));
    return out;
}
template <device_policy P> Tensor<P> add(const Tensor<P>& x, double s) { return scalar(scalar_op::add, x, s); }
template <device_policy P> Tensor<P> mul(const Tensor<P>& x, double s) { return scalar(scalar_op::mul, x, s); }
template <device_policy P> Tensor<P> pow(const Tensor<P>& x, double p) { return scalar(scalar_op::pow, x, p); }

template <device_policy P> Tensor<P> compare(compare_op op, const Tensor<P>& a, const Tensor<P>& b) {
    detail::check_same_dtype("compare", a.type(), b.type());
    const Shape s = broadcast_shapes("compare", a.shape(), b.shape());
    Tensor<P> out = Tensor<P>::empty(s, dtype::b8);
    if (out.numel()) elementwise_kernels<P>::compare(op, kview(a.expand(s)), kview(b.expand(s)), kview(out));
    return out;
}
template <device_policy P> Tensor<P> eq(const Tensor<P>& a, const Tensor<P>& b) { return compare(compare_op::eq, a, b); }
template <device_policy P> Tensor<P> lt(const Tensor<P>& a, const Tensor<P>& b) { return compare(compare_op::lt, a, b); }
template <device_policy P> Tensor<P> gt(const Tensor<P>& a, const Tensor<P>& b) { return compare(compare_op::gt, a, b); }

// cond ? a : b, broadcasting all three.
template <device_policy P> Tensor<P> where(const Tensor<P>& cond, const Tensor<P>& a, const Tensor<P>& b) {
    check_dtype("where", dtype::b8, cond.type());
    detail::check_same_dtype("where", a.type(), b.type());
    const Shape s = broadcast_shapes("where", cond.shape(), broadcast_shapes("where", a.shape(), b.shape()));
    Tensor<P> out = Tensor<P>::empty(s, a.type());
    if (out.numel()) elementwise_kernels<P>::where(kview(cond.expand(s)), kview(a.expand(s)), kview(b.expand(s)), kview(out));
    return out;
}

// x with `value` wherever mask is true (mask broadcasts to x).
template <device_policy P> Tensor<P> masked_fill(const Tensor<P>& x, const Tensor<P>& mask, double value) {
    const Shape s = broadcast_shapes("masked_fill", x.shape(), mask.shape());
    if (!(s == x.shape()))
        throw shape_error("masked_fill", "expected a mask broadcastable to " + x.shape().str() + ", got " + mask.shape().str());
    return where(mask, Tensor<P>::scalar(value, x.type()), x);
}

// Operators for every policy: the calls resolve to the taped overloads for Tensor<autodiff<P>>.
template <class P> Tensor<P> operator+(const Tensor<P>& a, const Tensor<P>& b) { return add(a, b); }
template <class P> Tensor<P> operator-(const Tensor<P>& a, const Tensor<P>& b) { return sub(a, b); }
template <class P> Tensor<P> operator*(const Tensor<P>& a, const Tensor<P>& b) { return mul(a, b); }
template <class P> Tensor<P> operator/(const Tensor<P>& a, const Tensor<P>& b) { return div(a, b); }
template <class P> Tensor<P> operator-(const Tensor<P>& x) { return neg(x); }
template <class P> Tensor<P> operator+(const Tensor<P>& x, double s) { return add(x, s); }
template <class P> Tensor<P> operator+(double s, const Tensor<P>& x) { return add(x, s); }
template <class P> Tensor<P> operator-(const Tensor<P>& x, double s) { return add(x, -s); }
template <class P> Tensor<P> operator-(double s, const Tensor<P>& x) { return add(neg(x), s); }
template <class P> Tensor<P> operator*(const Tensor<P>& x, double s) { return mul(x, s); }
template <class P> Tensor<P> operator*(double s, const Tensor<P>& x) { return mul(x, s); }
template <class P> Tensor<P> operator/(const Tensor<P>& x, double s) { return mul(x, 1.0 / s); }
template <class P> Tensor<P> operator/(double s, const Tensor<P>& x) { return mul(pow(x, -1.0), s); }

}  // namespace omni

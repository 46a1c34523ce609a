#pragma once
// Taped elementwise ops. Each forward calls the undecorated op on the values; each backward is
// written with the same device ops, next to its forward.
#include "omni/autodiff/tensor.hpp"

namespace omni {

template <class P> Var<P> unary(unary_op op, const Var<P>& x) {
    Tensor<P> y = unary(op, x.value());
    return ad::record<P>(name_of(op), y, {&x}, [op, xv = x.value(), y](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{unary_backward(op, xv, y, g)};
    });
}

template <class P> Var<P> neg(const Var<P>& x) { return unary(unary_op::neg, x); }
template <class P> Var<P> exp(const Var<P>& x) { return unary(unary_op::exp, x); }
template <class P> Var<P> log(const Var<P>& x) { return unary(unary_op::log, x); }
template <class P> Var<P> sqrt(const Var<P>& x) { return unary(unary_op::sqrt, x); }
template <class P> Var<P> rsqrt(const Var<P>& x) { return unary(unary_op::rsqrt, x); }
template <class P> Var<P> tanh(const Var<P>& x) { return unary(unary_op::tanh, x); }
template <class P> Var<P> sigmoid(const Var<P>& x) { return unary(unary_op::sigmoid, x); }
template <class P> Var<P> relu(const Var<P>& x) { return unary(unary_op::relu, x); }
template <class P> Var<P> gelu(const Var<P>& x) { return unary(unary_op::gelu_erf, x); }
template <class P> Var<P> gelu_tanh(const Var<P>& x) { return unary(unary_op::gelu_tanh, x); }
template <class P> Var<P> silu(const Var<P>& x) { return unary(unary_op::silu, x); }
template <class P> Var<P> abs(const Var<P>& x) { return unary(unary_op::abs, x); }
template <class P> Var<P> square(const Var<P>& x) { return unary(unary_op::square, x); }
template <class P> Var<P> softplus(const Var<P>& x) { return unary(unary_op::softplus, x); }

template <class P> Var<P> binary(binary_op op, const Var<P>& a, const Var<P>& b) {
    Tensor<P> out = binary(op, a.value(), b.value());
    return ad::record<P>(name_of(op), out, {&a, &b},
                         [op, av = a.value(), bv = b.value(), ra = a.requires_grad(), rb = b.requires_grad()](const Tensor<P>& g) {
        Tensor<P> ga, gb;
        switch (op) {
            case binary_op::add:
                if (ra) ga = g;
                if (rb) gb = g;
                break;
            case binary_op::sub:
                if (ra) ga = g;
                if (rb) gb = neg(g);
                break;
            case binary_op::mul:
                if (ra) ga = mul(g, bv);
                if (rb) gb = mul(g, av);
                break;
            case binary_op::div:
                if (ra) ga = div(g, bv);
                if (rb) gb = neg(div(mul(g, av), mul(bv, bv)));
                break;
            case binary_op::maximum:
            case binary_op::minimum: {
                // The winner takes the gradient; a tie splits it evenly (as PyTorch does).
                const auto t = g.type();
                const Tensor<P> wins = compare(op == binary_op::maximum ? compare_op::gt : compare_op::lt, av, bv);
                const Tensor<P> share_a = where(wins, Tensor<P>::scalar(1.0, t),
                                                where(eq(av, bv), Tensor<P>::scalar(0.5, t), Tensor<P>::scalar(0.0, t)));
                if (ra) ga = mul(g, share_a);
                if (rb) gb = mul(g, add(neg(share_a), 1.0));
                break;
            }
        }
        if (ga.defined()) ga = sum_to(ga, av.shape());
        if (gb.defined()) gb = sum_to(gb, bv.shape());
        return std::vector<Tensor<P>>{ga, gb};
    });
}

template <class P> Var<P> add(const Var<P>& a, const Var<P>& b) { return binary(binary_op::add, a, b); }
template <class P> Var<P> sub(const Var<P>& a, const Var<P>& b) { return binary(binary_op::sub, a, b); }
template <class P> Var<P> mul(const Var<P>& a, const Var<P>& b) { return binary(binary_op::mul, a, b); }
template <class P> Var<P> div(const Var<P>& a, const Var<P>& b) { return binary(binary_op::div, a, b); }
template <class P> Var<P> maximum(const Var<P>& a, const Var<P>& b) { return binary(binary_op::maximum, a, b); }
template <class P> Var<P> minimum(const Var<P>& a, const Var<P>& b) { return binary(binary_op::minimum, a, b); }

template <class P> Var<P> add(const Var<P>& x, double s) {
    return ad::record<P>("add", add(x.value(), s), {&x}, [](const Tensor<P>& g) { return std::vector<Tensor<P>>{g}; });
}
template <class P> Var<P> mul(const Var<P>& x, double s) {
    return ad::record<P>("mul", mul(x.value(), s), {&x}, [s](const Tensor<P>& g) { return std::vector<Tensor<P>>{mul(g, s)}; });
}
template <class P> Var<P> pow(const Var<P>& x, double p) {
    return ad::record<P>("pow", pow(x.value(), p), {&x}, [p, xv = x.value()](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{mul(mul(g, pow(xv, p - 1)), p)};
    });
}

// Comparisons and conditions carry no gradient.
template <class P> Var<P> compare(compare_op op, const Var<P>& a, const Var<P>& b) { return Var<P>(compare(op, a.value(), b.value())); }
template <class P> Var<P> eq(const Var<P>& a, const Var<P>& b) { return compare(compare_op::eq, a, b); }
template <class P> Var<P> lt(const Var<P>& a, const Var<P>& b) { return compare(compare_op::lt, a, b); }
template <class P> Var<P> gt(const Var<P>& a, const Var<P>& b) { return compare(compare_op::gt, a, b); }

template <class P> Var<P> where(const Var<P>& cond, const Var<P>& a, const Var<P>& b) {
    Tensor<P> out = where(cond.value(), a.value(), b.value());
    return ad::record<P>("where", out, {&a, &b},
                         [c = cond.value(), as = a.shape(), bs = b.shape(), ra = a.requires_grad(), rb = b.requires_grad()](const Tensor<P>& g) {
        const Tensor<P> zero = Tensor<P>::scalar(0.0, g.type());
        return std::vector<Tensor<P>>{ra ? sum_to(where(c, g, zero), as) : Tensor<P>(), rb ? sum_to(where(c, zero, g), bs) : Tensor<P>()};
    });
}

template <class P> Var<P> masked_fill(const Var<P>& x, const Var<P>& mask, double value) {
    const Shape s = broadcast_shapes("masked_fill", x.shape(), mask.shape());
    if (!(s == x.shape()))
        throw shape_error("masked_fill", "expected a mask broadcastable to " + x.shape().str() + ", got " + mask.shape().str());
    return where(mask, Var<P>(Tensor<P>::scalar(value, x.type())), x);
}

}  // namespace omni

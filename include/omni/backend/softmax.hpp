#pragma once
// softmax and log_softmax along one axis, forward and backward. Both are single fused kernels:
// a max-subtracted pass per row, never an exp that can overflow.
#include "omni/backend/kernel_view.hpp"

namespace omni {

// Specialised by each backend (all views dense [rows, n]):
//   forward(x, y, log)         y = softmax(x) or log_softmax(x) per row
//   backward(y, g, gx, log)    softmax: gx = y * (g - sum(g * y)); log: gx = g - exp(y) * sum(g)
template <class P> struct softmax_kernels;

namespace detail {
// Moves `axis` last; returns the order used so the caller can move it back.
inline std::vector<int> axis_last_order(int nd, int axis) {
    std::vector<int> order;
    for (int i = 0; i < nd; ++i)
        if (i != axis) order.push_back(i);
    order.push_back(axis);
    return order;
}
inline std::vector<int> inverse_order(const std::vector<int>& order) {
    std::vector<int> inv(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) inv[order[i]] = static_cast<int>(i);
    return inv;
}
// Applies f(rows_view_in, rows_view_out) to `x` laid out as dense rows along `axis`.
template <class P, class F> Tensor<P> along_rows(const char* op, const Tensor<P>& x, std::int64_t axis, F&& f) {
    if (!is_floating(x.type())) throw dtype_error(op, std::string("expected float32 or float64, got ") + name_of(x.type()));
    if (x.dim() == 0) throw shape_error(op, "expected at least 1 dim, got a scalar");
    const int a = normalize_axis(op, axis, x.dim());
    const auto order = axis_last_order(x.dim(), a);
    const Tensor<P> xr = x.permute(order).contiguous();
    Tensor<P> y = Tensor<P>::empty(xr.shape(), x.type());
    const std::int64_t n = x.shape()[a];
    if (y.numel()) f(xr.view(Shape{y.numel() / n, n}), y.view(Shape{y.numel() / n, n}));
    return a == x.dim() - 1 ? y : y.permute(inverse_order(order));
}
// The backward twin of along_rows: lays y and g out as dense rows along `axis`, lets f(y_rows,
// g_rows, gx_rows) fill the gradient, and moves the axis back.
template <class P, class F> Tensor<P> rows_backward(const char* op, const Tensor<P>& y, const Tensor<P>& g, std::int64_t axis, F&& f) {
    const int a = normalize_axis(op, axis, y.dim());
    const auto order = axis_last_order(y.dim(), a);
    const Tensor<P> yr = y.permute(order).contiguous(), gr = g.permute(order).contiguous();
    Tensor<P> gx = Tensor<P>::empty(yr.shape(), y.type());
    const std::int64_t n = y.shape()[a];
    if (gx.numel()) {
        const Shape rows{gx.numel() / n, n};
        f(yr.view(rows), gr.view(rows), gx.view(rows));
    }
    return a == y.dim() - 1 ? gx : gx.permute(inverse_order(order));
}
}  // namespace detail

template <device_policy P> Tensor<P> softmax(const Tensor<P>& x, std::int64_t axis = -1) {
    return detail::along_rows("softmax", x, axis, [](const Tensor<P>& xr, const Tensor<P>& y) {
        softmax_kernels<P>::forward(kview(xr), kview(y), false);
    });
}
template <device_policy P> Tensor<P> log_softmax(const Tensor<P>& x, std::int64_t axis = -1) {
    return detail::along_rows("log_softmax", x, axis, [](const Tensor<P>& xr, const Tensor<P>& y) {
        softmax_kernels<P>::forward(kview(xr), kview(y), true);
    });
}
// dL/dx given the forward output y and dL/dy = g.
template <device_policy P>
Tensor<P> softmax_backward(const Tensor<P>& y, const Tensor<P>& g, std::int64_t axis, bool log) {
    return detail::rows_backward("softmax_backward", y, g, axis, [log](const Tensor<P>& yr, const Tensor<P>& gr, const Tensor<P>& gx) {
        softmax_kernels<P>::backward(kview(yr), kview(gr), kview(gx), log);
    });
}

}  // namespace omni

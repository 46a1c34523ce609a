#pragma once
// Reductions over axes: sum, mean, max, logsumexp, and sum_to (the adjoint of broadcasting).
// The reduced axes are moved last and made dense, so a backend reduces rows of a matrix only.
#include <algorithm>
#include <vector>

#include "omni/backend/elementwise.hpp"
#include "omni/backend/kernel_view.hpp"

namespace omni {

enum class reduce_op : std::uint8_t { sum, max, logsumexp };

// Specialised by each backend:
//   reduce_rows(op, x, out)   x dense [rows, n], out dense [rows]
template <class P> struct reduce_kernels;

namespace detail {
struct ReducePlan {
    std::vector<int> order;  // kept axes, then reduced axes
    Shape kept_shape, out_shape;
    std::int64_t rows = 1, n = 1;
};

inline ReducePlan plan_reduce(const char* op, const Shape& s, std::vector<std::int64_t> axes, bool keepdim) {
    const int nd = s.size();
    std::vector<bool> red(nd, axes.empty());  // no axes: reduce everything
    for (auto a : axes) {
        const int i = normalize_axis(op, a, nd);
        if (red[i] && !axes.empty())
            throw value_error(op, "expected each axis once, got axis " + std::to_string(i) + " twice");
        red[i] = true;
    }
    ReducePlan p;
    for (int i = 0; i < nd; ++i)
        if (!red[i]) { p.order.push_back(i); p.kept_shape.push_back(s[i]); p.rows *= s[i]; }
    for (int i = 0; i < nd; ++i)
        if (red[i]) { p.order.push_back(i); p.n *= s[i]; }
    for (int i = 0; i < nd; ++i)
        if (!red[i]) p.out_shape.push_back(s[i]);
        else if (keepdim) p.out_shape.push_back(1);
    return p;
}
}  // namespace detail

template <device_policy P>
Tensor<P> reduce(reduce_op op, const char* name, const Tensor<P>& x, std::vector<std::int64_t> axes, bool keepdim) {
    if (!is_floating(x.type())) throw dtype_error(name, std::string("expected float32 or float64, got ") + name_of(x.type()));
    const auto plan = detail::plan_reduce(name, x.shape(), axes, keepdim);
    if (plan.n == 0 && op != reduce_op::sum)
        throw shape_error(name, "expected a non-empty reduction, got shape " + x.shape().str());
    Tensor<P> out = Tensor<P>::empty(plan.out_shape, x.type());
    // A sum over leading axes of a dense tensor (bias and position gradients) is a column sum
    // of a [n, rows] matrix: backends that have one skip the transposing copy.
    if constexpr (requires(const KernelView& v) { reduce_kernels<P>::sum_cols(v, v); }) {
        bool leading = op == reduce_op::sum && x.is_contiguous() && plan.n > 1 && plan.rows >= 16;
        for (std::size_t i = 0; leading && i < plan.order.size(); ++i)
            leading = plan.order[i] == static_cast<int>((i + plan.order.size() - plan.kept_shape.size()) % plan.order.size());
        if (leading) {
            reduce_kernels<P>::sum_cols(kview(x.view(Shape{plan.n, plan.rows})), kview(out.view(Shape{plan.rows})));
            return out;
        }
    }
    const Tensor<P> rows = x.permute(plan.order).contiguous();
    if (plan.rows) {
        if (plan.n == 0) out.fill_(0.0);
        else reduce_kernels<P>::reduce_rows(op, kview(rows.view(Shape{plan.rows, plan.n})), kview(out.view(Shape{plan.rows})));
    }
    return out;
}

// Reduce over `axes` (all axes when empty).
template <device_policy P> Tensor<P> sum(const Tensor<P>& x, std::vector<std::int64_t> axes = {}, bool keepdim = false) {
    return reduce(reduce_op::sum, "sum", x, std::move(axes), keepdim);
}
template <device_policy P> Tensor<P> mean(const Tensor<P>& x, std::vector<std::int64_t> axes = {}, bool keepdim = false) {
    const auto plan = detail::plan_reduce("mean", x.shape(), axes, keepdim);
    if (plan.n == 0) throw shape_error("mean", "expected a non-empty reduction, got shape " + x.shape().str());
    return mul(reduce(reduce_op::sum, "mean", x, std::move(axes), keepdim), 1.0 / static_cast<double>(plan.n));
}
template <device_policy P> Tensor<P> max(const Tensor<P>& x, std::vector<std::int64_t> axes = {}, bool keepdim = false) {
    return reduce(reduce_op::max, "max", x, std::move(axes), keepdim);
}
template <device_policy P> Tensor<P> logsumexp(const Tensor<P>& x, std::vector<std::int64_t> axes = {}, bool keepdim = false) {
    return reduce(reduce_op::logsumexp, "logsumexp", x, std::move(axes), keepdim);
}

// Sums a broadcast gradient back to `shape`: the adjoint of expand.
template <device_policy P> Tensor<P> sum_to(const Tensor<P>& g, const Shape& shape) {
    if (g.shape() == shape) return g;
    const int lead = g.dim() - shape.size();
    if (lead < 0) throw shape_error("sum_to", "expected a shape with at most " + std::to_string(g.dim()) + " dims, got " + shape.str());
    std::vector<std::int64_t> axes;
    for (int i = 0; i < g.dim(); ++i)
        if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) axes.push_back(i);
    if (axes.empty()) return g.reshape(shape);
    return sum(g, axes, true).reshape(shape);
}

}  // namespace omni

#pragma once
// Taped reductions. Their backward broadcasts the output gradient back over the reduced axes.
#include "omni/autodiff/tensor.hpp"

namespace omni {

namespace detail {
// g reshaped so it broadcasts against the input (reduced axes as extent 1).
template <class P> Tensor<P> keepdim_grad(const Tensor<P>& g, const Shape& in, std::vector<std::int64_t> axes) {
    return g.reshape(plan_reduce("reduce", in, std::move(axes), true).out_shape);
}
}  // namespace detail

template <class P> Var<P> sum(const Var<P>& x, std::vector<std::int64_t> axes = {}, bool keepdim = false) {
    return ad::record<P>("sum", sum(x.value(), axes, keepdim), {&x}, [axes, in = x.shape()](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{detail::keepdim_grad(g, in, axes).expand(in).contiguous()};
    });
}

template <class P> Var<P> mean(const Var<P>& x, std::vector<std::int64_t> axes = {}, bool keepdim = false) {
    const auto n = detail::plan_reduce("mean", x.shape(), axes, keepdim).n;
    return ad::record<P>("mean", mean(x.value(), axes, keepdim), {&x}, [axes, n, in = x.shape()](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{mul(detail::keepdim_grad(g, in, axes).expand(in), 1.0 / static_cast<double>(n))};
    });
}

// Gradient flows to the maxima; ties share it evenly (torch.amax).
template <class P> Var<P> max(const Var<P>& x, std::vector<std::int64_t> axes = {}, bool keepdim = false) {
    Tensor<P> y = max(x.value(), axes, keepdim);
    return ad::record<P>("max", y, {&x}, [axes, xv = x.value(), y](const Tensor<P>& g) {
        const Tensor<P> hit = eq(xv, detail::keepdim_grad(y, xv.shape(), axes)).to(xv.type());
        const Tensor<P> count = sum(hit, axes, true);
        return std::vector<Tensor<P>>{div(mul(hit, detail::keepdim_grad(g, xv.shape(), axes)), count)};
    });
}

template <class P> Var<P> logsumexp(const Var<P>& x, std::vector<std::int64_t> axes = {}, bool keepdim = false) {
    Tensor<P> y = logsumexp(x.value(), axes, keepdim);
    return ad::record<P>("logsumexp", y, {&x}, [axes, xv = x.value(), y](const Tensor<P>& g) {
        const Tensor<P> p = exp(sub(xv, detail::keepdim_grad(y, xv.shape(), axes)));
        return std::vector<Tensor<P>>{mul(p, detail::keepdim_grad(g, xv.shape(), axes))};
    });
}

}  // namespace omni

#pragma once
// Alignment and uniformity of an embedding space (Wang & Isola 2020, as SimCSE reports them):
// alignment = E ||f(x) - f(y)||^alpha over positive pairs; uniformity = log E_{i<j}
// exp(-t ||f(x_i) - f(x_j)||^2). Inputs are normalised here. Lower is better for both;
// uniformity of unit vectors lies in [-4, 0].
#include "omni/loss/cross_entropy.hpp"

namespace omni::loss {

template <class P> Tensor<P> alignment(const Tensor<P>& x, const Tensor<P>& y, double alpha = 2.0) {
    detail::check_pair("alignment", x, y);
    const Tensor<P> d = sum(square(sub(l2_normalize(x, -1), l2_normalize(y, -1))), {1});
    return mean(alpha == 2.0 ? d : pow(d, alpha / 2.0));
}

template <class P> Tensor<P> uniformity(const Tensor<P>& x, double t = 2.0) {
    if (x.dim() != 2 || x.shape()[0] < 2) throw shape_error("uniformity", "expected [B, D] with B >= 2, got " + x.shape().str());
    using D = nn::device_of_t<P>;
    const std::int64_t b = x.shape()[0];
    const Tensor<P> u = l2_normalize(x, -1);
    const Tensor<P> sq = add(mul(matmul(u, u, false, true), -2.0), 2.0);  // ||u_i - u_j||^2 for unit vectors
    std::vector<double> upper(static_cast<std::size_t>(b * b), 0.0);
    for (std::int64_t i = 0; i < b; ++i)
        for (std::int64_t j = i + 1; j < b; ++j) upper[i * b + j] = 1.0;
    const Tensor<P> mask(Tensor<D>::from_data(upper, {b, b}).to(dtype::b8));
    const Tensor<P> k = where(mask, exp(mul(sq, -t)), Tensor<P>(Tensor<D>::scalar(0.0, x.type())));
    return log(mul(sum(k), 2.0 / static_cast<double>(b * (b - 1))));
}

}  // namespace omni::loss

#pragma once
// Cross-entropy over rows of logits (torch.nn.functional.cross_entropy with reduction "mean"
// and optional label smoothing). Built from taped log_softmax and gather, so it works on any
// policy and its gradient is checked with the ops it is made of.
#include "omni/autodiff/all.hpp"
#include "omni/autodiff/device.hpp"

namespace omni::loss {

// logits [N, C], targets int [N] in [0, C) -> scalar mean over rows.
// With smoothing e the target distribution is (1 - e) one-hot + e / C uniform.
template <class P> Tensor<P> cross_entropy(const Tensor<P>& logits, const Tensor<P>& targets, double label_smoothing = 0.0) {
    if (logits.dim() != 2 || targets.dim() != 1 || targets.shape()[0] != logits.shape()[0])
        throw shape_error("cross_entropy", "expected logits [N, C] and targets [N], got " + logits.shape().str() + " and " + targets.shape().str());
    if (label_smoothing < 0 || label_smoothing > 1)
        throw value_error("cross_entropy", "expected label_smoothing in [0, 1], got " + std::to_string(label_smoothing));
    return as_op("cross_entropy", [&] {
        const Tensor<P> logp = log_softmax(logits, -1);
        Tensor<P> loss = neg(mean(gather(logp, 1, targets.unsqueeze(1))));
        if (label_smoothing > 0) loss = add(mul(loss, 1.0 - label_smoothing), mul(neg(mean(logp)), label_smoothing));
        return loss;
    });
}

namespace detail {
template <class P> Tensor<P> arange_targets(std::int64_t n, std::int64_t offset = 0) {
    using D = nn::device_of_t<P>;
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) v[i] = (i + offset) % (n ? n : 1);
    return Tensor<P>(Tensor<D>::from_data(v, {n}));
}
// Bool [n, n] identity mask.
template <class P> Tensor<P> eye_mask(std::int64_t n) {
    using D = nn::device_of_t<P>;
    std::vector<double> v(static_cast<std::size_t>(n * n), 0.0);
    for (std::int64_t i = 0; i < n; ++i) v[i * n + i] = 1.0;
    return Tensor<P>(Tensor<D>::from_data(v, {n, n}).to(dtype::b8));
}
template <class P> void check_pair(const char* op, const Tensor<P>& x, const Tensor<P>& y) {
    if (x.dim() != 2 || !(x.shape() == y.shape()) || x.shape()[0] < 1)
        throw shape_error(op, "expected two [B, D] batches of one shape with B >= 1, got " + x.shape().str() + " and " + y.shape().str());
}
}  // namespace detail

}  // namespace omni::loss

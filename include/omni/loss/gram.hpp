#pragma once
// GRAM (Cicchetti et al. 2025): align 2 or 3 modalities by the volume of the parallelotope their
// normalised embeddings span, Vol = sqrt(|det G|) with G the Gram matrix. Anchor t_i is scored
// against candidate j's other modalities (v_j, a_j); logits = -Vol / tau with tau a learnable
// divisor (init 0.07, not log-parameterised, as the reference); L = (CE(logits, diag) +
// CE(logits^T, diag)) / 2 with label smoothing 0.1.
#include "omni/loss/cross_entropy.hpp"

namespace omni::loss {

// anchor [B, D] against candidates {others[k][j]}; 1 or 2 other modalities. Returns [B, B] volumes.
template <class P> Tensor<P> gram_volume(const Tensor<P>& anchor, const std::vector<Tensor<P>>& others) {
    if (others.empty() || others.size() > 2)
        throw value_error("gram_volume", "expected 1 or 2 modalities besides the anchor, got " + std::to_string(others.size()));
    for (const auto& o : others) detail::check_pair("gram_volume", anchor, o);
    const Tensor<P> t = l2_normalize(anchor, -1), v = l2_normalize(others[0], -1);
    const Tensor<P> tv = matmul(t, v, false, true);  // [B, B]: t_i . v_j
    Tensor<P> det;
    if (others.size() == 1) {
        det = add(neg(square(tv)), 1.0);  // |t|^2 |v|^2 - (t.v)^2 with unit vectors
    } else {
        const Tensor<P> a = l2_normalize(others[1], -1);
        const Tensor<P> ta = matmul(t, a, false, true);
        const Tensor<P> va = sum(mul(v, a), {1}).unsqueeze(0);  // [1, B]: within candidate j
        // det of [[1, tv, ta], [tv, 1, va], [ta, va, 1]]
        det = add(sub(sub(sub(mul(mul(mul(tv, ta), va), 2.0), square(tv)), square(ta)), square(va)), 1.0);
    }
    return sqrt(abs(det));
}

template <class P>
Tensor<P> gram_loss(const Tensor<P>& anchor, const std::vector<Tensor<P>>& others, const Tensor<P>& tau, double label_smoothing = 0.1) {
    const Tensor<P> logits = div(neg(gram_volume(anchor, others)), tau.reshape(Shape{}));
    const Tensor<P> t = detail::arange_targets<P>(anchor.shape()[0]);
    return mul(add(cross_entropy(logits, t, label_smoothing), cross_entropy(logits.transpose(0, 1), t, label_smoothing)), 0.5);
}

}  // namespace omni::loss

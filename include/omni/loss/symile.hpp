#pragma once
// Symile (Saporta et al. 2024): a contrastive objective for M >= 2 modalities at once, scoring a
// candidate by the multilinear inner product MIP(a, b, c) = sum_d a_d b_d c_d, a lower bound on
// total correlation. For each modality as anchor: logits[i, j] = exp(s) MIP(anchor_i, others at
// candidate j), positives on the diagonal, L = mean over anchors of CE(logits, diag).
// Negatives use the reference's O(B) sampling: every non-anchor modality is permuted
// independently, then the diagonal is overwritten with the true positive scores.
#include <numeric>
#include <vector>

#include "omni/loss/cross_entropy.hpp"

namespace omni::loss {

namespace detail {
template <class P> Tensor<P> random_permutation(std::int64_t n, Generator& gen) {
    std::vector<std::int64_t> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), 0);
    for (std::int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[static_cast<std::int64_t>(gen.uniform() * (i + 1))]);
    return Tensor<P>(Tensor<nn::device_of_t<P>>::from_data(p, {n}));
}
}  // namespace detail

// xs: M tensors [B, D] (normalise them first if the recipe calls for it); log_scale one element.
template <class P> Tensor<P> symile(const std::vector<Tensor<P>>& xs, const Tensor<P>& log_scale, Generator& gen) {
    if (xs.size() < 2) throw value_error("symile", "expected at least 2 modalities, got " + std::to_string(xs.size()));
    for (std::size_t m = 1; m < xs.size(); ++m) detail::check_pair("symile", xs[0], xs[m]);
    const std::int64_t b = xs[0].shape()[0];
    const Tensor<P> scale = exp(log_scale.reshape(Shape{}));
    const Tensor<P> eye = detail::eye_mask<P>(b), targets = detail::arange_targets<P>(b);
    Tensor<P> total;
    for (std::size_t m = 0; m < xs.size(); ++m) {
        Tensor<P> truth, shuffled;  // products of the other modalities, aligned and permuted
        for (std::size_t k = 0; k < xs.size(); ++k) {
            if (k == m) continue;
            const Tensor<P> perm = index_select(xs[k], 0, detail::random_permutation<P>(b, gen));
            truth = truth.defined() ? mul(truth, xs[k]) : xs[k];
            shuffled = shuffled.defined() ? mul(shuffled, perm) : perm;
        }
        const Tensor<P> positive = sum(mul(xs[m], truth), {1}, true);  // [B, 1]
        const Tensor<P> logits = mul(where(eye, positive, matmul(xs[m], shuffled, false, true)), scale);
        const Tensor<P> l = cross_entropy(logits, targets);
        total = total.defined() ? add(total, l) : l;
    }
    return mul(total, 1.0 / static_cast<double>(xs.size()));
}

}  // namespace omni::loss

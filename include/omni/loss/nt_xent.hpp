#pragma once
// NT-Xent (SimCLR; Omni-C eq. 1): the 2N views of a batch, cosine similarities over temperature,
// each view's partner as the positive and the other 2N - 2 views as negatives (self-similarity
// excluded). Equals the reference's "delete the diagonal, targets N + i - 1 / i" form.
// Temperature: the paper's 0.05 by default; the released Omni-C code uses 0.5.
#include "omni/loss/cross_entropy.hpp"

namespace omni::loss {

/// Options of nt_xent: the temperature.
struct NTXentConfig {
    double temperature = 0.05;
};

// z1, z2 [N, D]: two projected views of the same N samples -> scalar loss.
template <class P> Tensor<P> nt_xent(const Tensor<P>& z1, const Tensor<P>& z2, const NTXentConfig& cfg = {}) {
    detail::check_pair("nt_xent", z1, z2);
    if (!(cfg.temperature > 0)) throw value_error("nt_xent", "expected temperature > 0, got " + std::to_string(cfg.temperature));
    const std::int64_t n = z1.shape()[0];
    return as_op("nt_xent", [&] {  // errors inside name nt_xent, the inner op after it
        const Tensor<P> u = l2_normalize(concat(std::vector<Tensor<P>>{z1, z2}, 0), -1);
        Tensor<P> s = mul(matmul(u, u, false, true), 1.0 / cfg.temperature);
        s = masked_fill(s, detail::eye_mask<P>(2 * n), -INFINITY);  // exp(-inf) = 0: the diagonal leaves every denominator
        return cross_entropy(s, detail::arange_targets<P>(2 * n, n));  // row a's positive is a + N (mod 2N)
    });
}

}  // namespace omni::loss

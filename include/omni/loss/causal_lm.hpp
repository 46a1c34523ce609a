#pragma once
// Causal language-modelling loss: logits [B, L, V] and labels [B, L] (integer) -> the mean
// cross-entropy of logits[:, :-1] against labels[:, 1:] over the positions whose shifted label is
// not ignore_index (transformers' ForCausalLMLoss / Qwen2ForCausalLM's loss). When every label is
// ignored PyTorch returns NaN (0 / 0); this returns 0 with a zero gradient instead, so a
// micro-batch without supervised tokens adds nothing to an accumulated step.
#include <vector>

#include "omni/loss/cross_entropy.hpp"

namespace omni::loss {

/// Options of causal_lm_loss: the label value of positions that are not supervised.
struct CausalLMOptions {
    std::int64_t ignore_index = -100;
};

template <class P> Tensor<P> causal_lm_loss(const Tensor<P>& logits, const Tensor<P>& labels, const CausalLMOptions& o = {}) {
    using D = nn::device_of_t<P>;
    if (logits.dim() != 3 || labels.dim() != 2 || labels.shape()[0] != logits.shape()[0] || labels.shape()[1] != logits.shape()[1])
        throw shape_error("causal_lm_loss", "expected logits [B, L, V] and labels [B, L], got " + logits.shape().str() + " and " +
                                                labels.shape().str());
    if (is_floating(labels.type()) || labels.type() == dtype::b8)
        throw dtype_error("causal_lm_loss", std::string("expected int32 or int64 labels, got ") + name_of(labels.type()));
    if (!is_floating(logits.type()))
        throw dtype_error("causal_lm_loss", std::string("expected float32 or float64 logits, got ") + name_of(logits.type()));
    const std::int64_t B = logits.shape()[0], L = logits.shape()[1], V = logits.shape()[2];
    // Which shifted positions count is data, not shape: read the labels once on the host.
    const std::vector<std::int64_t> lab = nn::value_of(labels).template to_vector<std::int64_t>();
    std::vector<std::int64_t> rows, targets;
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t i = 0; i + 1 < L; ++i) {
            const std::int64_t y = lab[b * L + i + 1];
            if (y == o.ignore_index) continue;
            if (y < 0 || y >= V)
                throw index_error("causal_lm_loss", "expected labels in [0, " + std::to_string(V) + ") or " + std::to_string(o.ignore_index) +
                                                        ", got " + std::to_string(y));
            rows.push_back(b * L + i);
            targets.push_back(y);
        }
    const Tensor<P> flat = logits.reshape({B * L, V});
    if (rows.empty()) return mul(sum(flat), 0.0);
    const auto n = static_cast<std::int64_t>(rows.size());
    const Tensor<P> picked = index_select(flat, 0, Tensor<P>(Tensor<D>::from_data(rows, {n})));
    return cross_entropy(picked, Tensor<P>(Tensor<D>::from_data(targets, {n})));
}

}  // namespace omni::loss

#pragma once
// Taped fused attention: one node; its backward recomputes scores from the saved log-sum-exp.
#include "omni/autodiff/tensor.hpp"
#include "omni/backend/attention.hpp"

namespace omni {

template <class P>
Var<P> attention(const Var<P>& q, const Var<P>& k, const Var<P>& v, const Var<P>& key_padding_mask = {}, bool causal = false,
                 double scale = 0) {
    const Tensor<P> mask = key_padding_mask.value();
    auto r = attention_forward(q.value(), k.value(), v.value(), mask, causal, scale);
    return ad::record<P>("attention", r.out, {&q, &k, &v},
                         [qv = q.value(), kv = k.value(), vv = v.value(), mask, causal, scale, out = r.out, lse = r.lse](const Tensor<P>& g) {
        auto [dq, dk, dv] = attention_backward(qv, kv, vv, mask, causal, scale, out, lse, g);
        return std::vector<Tensor<P>>{dq, dk, dv};
    });
}

}  // namespace omni

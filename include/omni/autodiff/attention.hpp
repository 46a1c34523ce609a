#pragma once
// Taped fused attention: one node; its backward recomputes scores from the saved log-sum-exp.
#include "omni/autodiff/tensor.hpp"
#include "omni/backend/attention.hpp"

namespace omni {

template <class P>
Var<P> attention(const Var<P>& q, const Var<P>& k, const Var<P>& v, const Var<P>& key_padding_mask = {}, bool causal = false,
                 double scale = 0, std::int64_t causal_offset = 0) {
    const Tensor<P> mask = key_padding_mask.value();
    auto r = attention_forward(q.value(), k.value(), v.value(), mask, causal, scale, causal_offset);
    return ad::record<P>("attention", r.out, {&q, &k, &v},
                         [qv = q.value(), kv = k.value(), vv = v.value(), mask, causal, scale, causal_offset, out = r.out,
                          lse = r.lse](const Tensor<P>& g) {
        auto [dq, dk, dv] = attention_backward(qv, kv, vv, mask, causal, scale, out, lse, g, {}, {}, {}, causal_offset);
        return std::vector<Tensor<P>>{dq, dk, dv};
    });
}

// Taped qkv_attention: one node whose backward writes dq, dk, dv straight into one d(qkv)
// buffer, so the split into heads costs nothing in either direction.
template <class P> Var<P> qkv_attention(const Var<P>& qkv, std::int64_t heads, const Var<P>& key_padding_mask = {}, bool causal = false) {
    const Tensor<P> x = qkv.value().contiguous();
    const Tensor<P> mask = key_padding_mask.value();
    auto [q, k, v] = split_qkv(x, heads);
    auto r = attention_forward(q, k, v, mask, causal, 0.0);
    const auto& s = x.shape();
    const Tensor<P> out = r.out.transpose(1, 2).view({s[0], s[1], s[2] / 3});
    return ad::record<P>("qkv_attention", out, {&qkv}, [x, heads, mask, causal, o = r.out, lse = r.lse](const Tensor<P>& g) {
        const auto& s = x.shape();
        auto [q, k, v] = split_qkv(x, heads);
        Tensor<P> dx = Tensor<P>::empty(s, x.type());
        auto [dq, dk, dv] = split_qkv(dx, heads);
        const Tensor<P> go = g.view({s[0], s[1], heads, s[2] / (3 * heads)}).transpose(1, 2);
        attention_backward(q, k, v, mask, causal, 0.0, o, lse, go, dq, dk, dv);
        return std::vector<Tensor<P>>{dx};
    });
}

}  // namespace omni

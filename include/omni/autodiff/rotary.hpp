#pragma once
// Taped rotary embedding: one node whose backward is the transposed rotary kernel. The cos and
// sin tables are constants (angles come from positions or timestamps, never learned here).
#include "omni/autodiff/tensor.hpp"
#include "omni/backend/rotary.hpp"

namespace omni {

template <class P>
Var<P> rotary(const Var<P>& x, const Tensor<P>& cos, const Tensor<P>& sin, rotary_pairing pairing, std::int64_t inner = 1) {
    Tensor<P> y = rotary(x.value(), cos, sin, pairing, inner);
    return ad::record<P>("rotary", y, {&x}, [cos, sin, pairing, inner](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{rotary_backward(g, cos, sin, pairing, inner)};
    });
}

}  // namespace omni

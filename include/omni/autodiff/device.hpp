#pragma once
// The device policy under a (possibly taped) policy, and the helpers that make and read tensors
// across that boundary: device_of_t, make_param, make_buffer, value_of. They sit in autodiff,
// below nn and loss, so a loss with a learnable scale needs no module headers. nn:: names them
// too (the spelling every module and loss uses).
#include <utility>

#include "omni/autodiff/tensor.hpp"

namespace omni {

/// The device policy under P: P itself, or the policy autodiff<P> decorates.
template <class P> struct device_of { using type = P; };
/// autodiff<P> runs on P.
template <class P> struct device_of<autodiff<P>> { using type = P; };
template <class P> using device_of_t = typename device_of<P>::type;

// A trainable parameter of policy P from an initial value: a gradient leaf under autodiff.
template <class P> Tensor<P> make_param(Tensor<device_of_t<P>> init) {
    if constexpr (is_autodiff_v<P>) return Tensor<P>(std::move(init), true);
    else return init;
}
// A fixed tensor (positional tables, running statistics): never trained.
template <class P> Tensor<P> make_buffer(Tensor<device_of_t<P>> init) { return Tensor<P>(std::move(init)); }

// The device tensor under any tensor (the value of a taped one).
template <class P> const Tensor<device_of_t<P>>& value_of(const Tensor<P>& t) {
    if constexpr (is_autodiff_v<P>) return t.value();
    else return t;
}

namespace nn {
using omni::device_of;
using omni::device_of_t;
using omni::make_buffer;
using omni::make_param;
using omni::value_of;
}  // namespace nn

}  // namespace omni

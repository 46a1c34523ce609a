#pragma once
// The raw argument of a kernel: a pointer with shape, strides and dtype. Backends see only
// these; ownership and autodiff stay in the layers above.
#include "omni/core/dtype.hpp"
#include "omni/core/shape.hpp"
#include "omni/policy/concept.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni {

/// A kernel's raw operand: data pointer, shape, element strides and dtype; it owns nothing.
struct KernelView {
    void* data = nullptr;
    Shape shape;
    Strides strides;
    dtype type = dtype::f32;

    template <class T> T* as() const { return static_cast<T*>(data); }
    std::int64_t numel() const { return shape.numel(); }
};

template <class P> KernelView kview(const Tensor<P>& t) {
    return {t.defined() ? t.raw_data() : nullptr, t.shape(), t.strides(), t.type()};
}

}  // namespace omni

#pragma once
// What a device policy is. A policy is a plain struct of static memory primitives; the math
// comes from kernel-family specialisations in backend/<policy>/. autodiff<P> is not a device
// policy: it decorates one (autodiff/autodiff.hpp).
#include <concepts>
#include <cstddef>

#include "omni/core/dtype.hpp"
#include "omni/core/shape.hpp"

namespace omni {

template <class P>
concept device_policy = requires(void* p, const void* cp, std::size_t n, const Shape& s, dtype t, double v) {
    { P::name } -> std::convertible_to<const char*>;
    { P::allocate(n) } -> std::same_as<void*>;
    P::deallocate(p, n);
    P::copy_from_host(p, cp, n);
    P::copy_to_host(p, cp, n);
    // dst[i] = convert(src[i]) over `shape`, each side with its own dtype and strides.
    P::copy_strided(s, p, t, s, cp, t, s);
    P::fill(t, p, s, s, v);
};

}  // namespace omni

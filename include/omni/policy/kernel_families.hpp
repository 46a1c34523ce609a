#pragma once
// The kernel families a device policy must specialise before tensors on it can do math. A
// family is a class template backend/<family>.hpp declares and backend/<policy>/ specialises;
// kernel_policy<P> holds when every one is complete for P. backend/cpu.hpp asserts it (and
// tests/prebuilt/kernel_policy_test.cpp for cuda), so a family left out of a backend is one
// static_assert line; a translation unit can assert it too, before its first tensor op, to turn
// a forgotten backend include into one line instead of an `incomplete type` in a kernel.
#include "omni/policy/concept.hpp"

namespace omni {

// The primary templates, declared again (unchanged) so this layer can name them.
template <class P> struct elementwise_kernels;
template <class P> struct reduce_kernels;
template <class P> struct matmul_kernels;
template <class P> struct softmax_kernels;
template <class P> struct layer_norm_kernels;
template <class P> struct rms_norm_kernels;
template <class P> struct normalize_kernels;
template <class P> struct optim_kernels;
template <class P> struct attention_kernels;
template <class P> struct index_kernels;
template <class P> struct rotary_kernels;

namespace detail {
template <class T> concept complete_type = requires { sizeof(T); };
}  // namespace detail

// Satisfaction is checked where it is first named; name it after the backend include.
template <class P>
concept kernel_policy = device_policy<P> && detail::complete_type<elementwise_kernels<P>> && detail::complete_type<reduce_kernels<P>> &&
                        detail::complete_type<matmul_kernels<P>> && detail::complete_type<softmax_kernels<P>> &&
                        detail::complete_type<layer_norm_kernels<P>> && detail::complete_type<rms_norm_kernels<P>> &&
                        detail::complete_type<normalize_kernels<P>> && detail::complete_type<optim_kernels<P>> &&
                        detail::complete_type<attention_kernels<P>> && detail::complete_type<index_kernels<P>> &&
                        detail::complete_type<rotary_kernels<P>>;

}  // namespace omni

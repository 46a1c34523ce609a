#pragma once
// Parameter-free activation modules, so they can sit in a Sequential.
#include "omni/autodiff/elementwise.hpp"
#include "omni/nn/module.hpp"

namespace omni::nn {

#define OMNI_ACTIVATION(Name, fn)                                                  \
    template <class P> struct Name : Module {                                      \
        template <class V> void visit(V&) {}                                       \
        Tensor<P> forward(const Tensor<P>& x) const { return fn(x); }              \
        Tensor<P> operator()(const Tensor<P>& x) const { return forward(x); }      \
    };

OMNI_ACTIVATION(ReLU, relu)
OMNI_ACTIVATION(GELU, gelu)          // exact erf form, torch.nn.GELU()
OMNI_ACTIVATION(GELUTanh, gelu_tanh) // torch.nn.GELU(approximate="tanh")
OMNI_ACTIVATION(SiLU, silu)
OMNI_ACTIVATION(Tanh, tanh)
OMNI_ACTIVATION(Sigmoid, sigmoid)
#undef OMNI_ACTIVATION

enum class activation { relu, gelu, gelu_tanh, silu };

template <class P> Tensor<P> activate(activation a, const Tensor<P>& x) {
    switch (a) {
        case activation::relu: return relu(x);
        case activation::gelu: return gelu(x);
        case activation::gelu_tanh: return gelu_tanh(x);
        default: return silu(x);
    }
}

}  // namespace omni::nn

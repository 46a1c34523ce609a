#pragma once
// Two-layer perceptron fc1 -> activation -> fc2 (timm Mlp: names "fc1", "fc2").
#include "omni/nn/activation.hpp"
#include "omni/nn/linear.hpp"

namespace omni::nn {

/// Options of MLP: widths (out 0: in), activation and bias.
struct MLPConfig {
    std::int64_t in = 0, hidden = 0, out = 0;  // out = 0 means out = in
    activation act = activation::gelu;
    bool bias = true;
};

/// Two-layer perceptron fc1 -> activation -> fc2 (timm Mlp): [..., in] -> [..., out].
template <class P> struct MLP : Module {
    MLPConfig cfg;
    Linear<P> fc1, fc2;

    MLP() = default;
    MLP(const MLPConfig& c, Generator& g)
        : cfg(c), fc1({.in = c.in, .out = c.hidden, .bias = c.bias}, g), fc2({.in = c.hidden, .out = c.out ? c.out : c.in, .bias = c.bias}, g) {}
    template <class V> void visit(V& v) {
        v.module("fc1", fc1);
        v.module("fc2", fc2);
    }
    std::int64_t out_features() const { return fc2.cfg.out; }
    // residual + mlp(x) when residual is given, added inside fc2's GEMM.
    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& residual = {}) const { return fc2(activate(cfg.act, fc1(x)), residual); }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& residual = {}) const { return forward(x, residual); }
};

}  // namespace omni::nn

#pragma once
// SwiGLU feed-forward: x [..., dim] -> [..., dim], down_proj(silu(gate_proj(x)) * up_proj(x)),
// no biases (transformers' Qwen2MLP; names "gate_proj", "up_proj", "down_proj").
#include "omni/autodiff/elementwise.hpp"
#include "omni/nn/linear.hpp"

namespace omni::nn {

/// Options of SwiGLU: width and intermediate width.
struct SwiGLUConfig {
    std::int64_t dim = 0, hidden = 0;  // hidden: the intermediate width
};

/// SwiGLU feed-forward down(silu(gate(x)) * up(x)) (transformers' Qwen2MLP): [..., dim] -> [..., dim].
template <class P> struct SwiGLU : Module {
    SwiGLUConfig cfg;
    Linear<P> gate_proj, up_proj, down_proj;

    SwiGLU() = default;
    SwiGLU(const SwiGLUConfig& c, Generator& g) : cfg(c) {
        if (c.dim < 1 || c.hidden < 1)
            throw value_error("SwiGLU", "expected dim >= 1 and hidden >= 1, got dim " + std::to_string(c.dim) + ", hidden " +
                                            std::to_string(c.hidden));
        gate_proj = Linear<P>({.in = c.dim, .out = c.hidden, .bias = false}, g);
        up_proj = Linear<P>({.in = c.dim, .out = c.hidden, .bias = false}, g);
        down_proj = Linear<P>({.in = c.hidden, .out = c.dim, .bias = false}, g);
    }
    template <class V> void visit(V& v) {
        v.module("gate_proj", gate_proj);
        v.module("up_proj", up_proj);
        v.module("down_proj", down_proj);
    }

    // residual (optional, x's shape) is added inside down_proj's GEMM: a block's x + mlp(norm(x)).
    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& residual = {}) const {
        if (x.dim() < 1 || x.shape().back() != cfg.dim)
            throw shape_error(where("SwiGLU"), "expected [..., " + std::to_string(cfg.dim) + "], got " + x.shape().str());
        return down_proj(mul(silu(gate_proj(x)), up_proj(x)), residual);
    }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& residual = {}) const { return forward(x, residual); }
};

}  // namespace omni::nn

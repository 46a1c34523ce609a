#pragma once
// LayerNorm over the last axis (torch.nn.LayerNorm(dim, eps); names "weight", "bias").
#include "omni/autodiff/normalization.hpp"
#include "omni/nn/init.hpp"

namespace omni::nn {

/// Options of LayerNorm: width, eps and whether it has a weight and bias.
struct LayerNormConfig {
    std::int64_t dim = 0;
    double eps = 1e-5;
    bool affine = true;
};

/// LayerNorm over the last axis (torch.nn.LayerNorm): [..., dim] -> [..., dim].
template <class P> struct LayerNorm : Module {
    using D = device_of_t<P>;
    LayerNormConfig cfg;
    Tensor<P> weight, bias;  // [dim], ones and zeros

    LayerNorm() = default;
    explicit LayerNorm(const LayerNormConfig& c) : cfg(c) {
        if (c.dim < 1) throw value_error("LayerNorm", "expected dim >= 1, got " + std::to_string(c.dim));
        if (c.affine) {
            weight = make_param<P>(Tensor<D>::ones({c.dim}));
            bias = make_param<P>(Tensor<D>::zeros({c.dim}));
        }
    }
    template <class V> void visit(V& v) {
        if (cfg.affine) {
            v.param("weight", weight);
            v.param("bias", bias);
        }
    }
    Tensor<P> forward(const Tensor<P>& x) const {
        if (x.dim() < 1 || x.shape().back() != cfg.dim)
            throw shape_error(where("LayerNorm"), "expected [..., " + std::to_string(cfg.dim) + "], got " + x.shape().str());
        return layer_norm(x, weight, bias, cfg.eps);
    }
    Tensor<P> operator()(const Tensor<P>& x) const { return forward(x); }
};

}  // namespace omni::nn

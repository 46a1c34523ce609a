#pragma once
// RMSNorm over the last axis: x [..., D] -> [..., D], y = x * rsqrt(mean(x^2) + eps) * weight
// (transformers' Qwen2RMSNorm; name "weight", initialised to ones). One fused tape node.
#include "omni/autodiff/rms_norm.hpp"
#include "omni/nn/module.hpp"

namespace omni::nn {

/// Options of RMSNorm: width and eps.
struct RMSNormConfig {
    std::int64_t dim = 0;
    double eps = 1e-6;
};

/// RMSNorm over the last axis (transformers' Qwen2RMSNorm), one fused tape node: [..., D] -> [..., D].
template <class P> struct RMSNorm : Module {
    using D = device_of_t<P>;
    RMSNormConfig cfg;
    Tensor<P> weight;  // [dim]

    RMSNorm() = default;
    explicit RMSNorm(const RMSNormConfig& c) : cfg(c) {
        if (c.dim < 1) throw value_error("RMSNorm", "expected dim >= 1, got " + std::to_string(c.dim));
        if (!(c.eps > 0)) throw value_error("RMSNorm", "expected eps > 0, got " + std::to_string(c.eps));
        weight = make_param<P>(Tensor<D>::ones({c.dim}));
    }
    template <class V> void visit(V& v) { v.param("weight", weight); }

    Tensor<P> forward(const Tensor<P>& x) const {
        if (x.dim() < 1 || x.shape().back() != cfg.dim)
            throw shape_error(where("RMSNorm"), "expected [..., " + std::to_string(cfg.dim) + "], got " + x.shape().str());
        return rms_norm(x, weight, cfg.eps);
    }
    Tensor<P> operator()(const Tensor<P>& x) const { return forward(x); }
};

}  // namespace omni::nn

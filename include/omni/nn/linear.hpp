#pragma once
// Linear: y = x W^T + b, W [out, in] (torch.nn.Linear; names "weight", "bias"). An adapted
// Linear (nn::attach_adapters) also adds a low-rank update, named "adapter.lora_b" etc.
#include <memory>

#include "omni/nn/adapters/low_rank_delta.hpp"
#include "omni/nn/init.hpp"
#include "omni/ops/linear.hpp"

namespace omni::nn {

/// Options of Linear: input and output widths and bias.
struct LinearConfig {
    std::int64_t in = 0, out = 0;
    bool bias = true;
};

/// Linear layer y = x W^T + b (torch.nn.Linear): [..., in] -> [..., out]; may carry a low-rank adapter.
template <class P> struct Linear : Module {
    using D = device_of_t<P>;
    LinearConfig cfg;
    Tensor<P> weight;  // [out, in]
    Tensor<P> bias;    // [out], undefined without bias
    std::shared_ptr<LowRankDelta<P>> adapter;  // set by attach_adapters; shared like the tensors

    Linear() = default;
    // PyTorch's default initialisation; re-initialise with init:: helpers where a model says so.
    Linear(const LinearConfig& c, Generator& g) : cfg(c) {
        if (c.in < 1 || c.out < 1)
            throw value_error("Linear", "expected in >= 1 and out >= 1, got in " + std::to_string(c.in) + ", out " + std::to_string(c.out));
        weight = make_param<P>(init::torch_default<D>({c.out, c.in}, c.in, g));
        if (c.bias) bias = make_param<P>(init::torch_default<D>({c.out}, c.in, g));
    }

    template <class V> void visit(V& v) {
        v.param("weight", weight);
        if (cfg.bias) v.param("bias", bias);
        if (adapter) v.module("adapter", *adapter);
    }

    std::int64_t out_features() const { return cfg.out; }
    // residual (optional, the output's shape) is added inside the GEMM: x + f(x) without a pass.
    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& residual = {}) const {
        if (x.dim() < 1 || x.shape().back() != cfg.in)
            throw shape_error(where("Linear"), "expected [..., " + std::to_string(cfg.in) + "], got " + x.shape().str());
        return adapter ? add(linear(x, weight, bias, residual), adapter->forward(x)) : linear(x, weight, bias, residual);
    }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& residual = {}) const { return forward(x, residual); }
};

/// Whether T is an nn::Linear: attach_adapters adapts exactly these.
template <class T> struct is_linear : std::false_type {};
/// `nn::Linear<P>` is one; `policy` names its P.
template <class P> struct is_linear<Linear<P>> : std::true_type { using policy = P; };

}  // namespace omni::nn

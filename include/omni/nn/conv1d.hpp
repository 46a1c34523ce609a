#pragma once
// Conv1d: x [B, in, T] -> [B, out, Tout] with zero padding (torch.nn.Conv1d without dilation or
// groups; names "weight" [out, in, kernel], "bias" [out]). The op is omni::conv1d (ops/conv1d.hpp).
#include "omni/nn/init.hpp"
#include "omni/ops/conv1d.hpp"

namespace omni::nn {

/// Options of Conv1d: channels, kernel, stride, padding and bias.
struct Conv1dConfig {
    std::int64_t in = 0, out = 0, kernel = 1;
    std::int64_t stride = 1, padding = 0;
    bool bias = true;
};

/// 1-D convolution (torch.nn.Conv1d without dilation or groups): [B, in, T] -> [B, out, Tout].
template <class P> struct Conv1d : Module {
    using D = device_of_t<P>;
    Conv1dConfig cfg;
    Tensor<P> weight;  // [out, in, kernel]
    Tensor<P> bias;    // [out], undefined without bias

    Conv1d() = default;
    // PyTorch's default initialisation: U(-1/sqrt(in kernel), 1/sqrt(in kernel)) for both tensors.
    Conv1d(const Conv1dConfig& c, Generator& g) : cfg(c) {
        if (c.in < 1 || c.out < 1 || c.kernel < 1 || c.stride < 1 || c.padding < 0)
            throw value_error("Conv1d", "expected in, out, kernel, stride >= 1 and padding >= 0, got in " + std::to_string(c.in) + ", out " +
                                            std::to_string(c.out) + ", kernel " + std::to_string(c.kernel) + ", stride " +
                                            std::to_string(c.stride) + ", padding " + std::to_string(c.padding));
        weight = make_param<P>(init::torch_default<D>({c.out, c.in, c.kernel}, c.in * c.kernel, g));
        if (c.bias) bias = make_param<P>(init::torch_default<D>({c.out}, c.in * c.kernel, g));
    }

    template <class V> void visit(V& v) {
        v.param("weight", weight);
        if (cfg.bias) v.param("bias", bias);
    }
    // Output length for an input of t frames.
    std::int64_t out_length(std::int64_t t) const { return (t + 2 * cfg.padding - cfg.kernel) / cfg.stride + 1; }

    Tensor<P> forward(const Tensor<P>& x) const {
        if (x.dim() != 3 || x.shape()[1] != cfg.in)
            throw shape_error(where("Conv1d"), "expected [B, " + std::to_string(cfg.in) + ", T], got " + x.shape().str());
        return conv1d(x, weight, bias, cfg.stride, cfg.padding);
    }
    Tensor<P> operator()(const Tensor<P>& x) const { return forward(x); }
};

}  // namespace omni::nn

#pragma once
// OmniVinci's sound projector `mlp` (OmniVinci, arXiv 2510.15870, sec. 2; VILA's "mlp" projector
// type): audio tokens [B, N, in] -> Linear(in, out) -> GELU -> Linear(out, out) -> [B, N, out].
// Parameter names are the released nn.Sequential's: "layers.0" and "layers.2" (1 is the GELU).
#include "omni/nn/linear.hpp"

namespace omni::nn {

/// Options of SoundMLP: the audio encoder width and the LLM width.
struct SoundMLPConfig {
    std::int64_t in = 1280;  // the Whisper encoder's width
    std::int64_t out = 0;    // LLM hidden size (3584 for Qwen2.5-7B)
};

/// OmniVinci's sound projector, Linear -> GELU -> Linear: [B, N, in] -> [B, N, out].
template <class P> struct SoundMLP : Module {
    SoundMLPConfig cfg;
    Linear<P> fc1;  // layers.0
    Linear<P> fc2;  // layers.2

    SoundMLP() = default;
    SoundMLP(const SoundMLPConfig& c, Generator& g) : cfg(c) {
        if (c.in < 1 || c.out < 1)
            throw value_error("SoundMLP", "expected in >= 1 and out >= 1, got in " + std::to_string(c.in) + ", out " + std::to_string(c.out));
        fc1 = Linear<P>({.in = c.in, .out = c.out}, g);
        fc2 = Linear<P>({.in = c.out, .out = c.out}, g);
    }
    template <class V> void visit(V& v) {
        v.module("layers.0", fc1);
        v.module("layers.2", fc2);
    }
    Tensor<P> forward(const Tensor<P>& x) const {
        if (x.dim() < 1 || x.shape().back() != cfg.in)
            throw shape_error(where("SoundMLP"), "expected [..., " + std::to_string(cfg.in) + "], got " + x.shape().str());
        return fc2(gelu(fc1(x)));
    }
    Tensor<P> operator()(const Tensor<P>& x) const { return forward(x); }
};

}  // namespace omni::nn

#pragma once
// OmniVinci's vision projector `mlp_downsample` (OmniVinci, arXiv 2510.15870, sec. 2; the NVILA /
// VILA multimodal projector): tokens [B, h w, Cin] on an h x w grid -> 2x2 space-to-depth
// (VILA's DownSampleBlock / flat_square) -> LayerNorm(4 Cin) -> Linear(4 Cin, D) -> GELU ->
// Linear(D, D) -> [B, ceil(h/2) ceil(w/2), D]. Parameter names are the released nn.Sequential's
// indices: "layers.1" the LayerNorm, "layers.2" and "layers.4" the Linears (0 is the downsample
// block, 3 the GELU; neither has parameters).
#include "omni/nn/layer_norm.hpp"
#include "omni/nn/linear.hpp"

namespace omni::nn {

// 2x2 space-to-depth on a row-major grid: x [B, h w, C] -> [B, ceil(h/2) ceil(w/2), 4 C]. An odd
// h or w is zero-padded at the bottom / right first. New token (i, j), row-major, is the channel
// concat of the tokens at (2i, 2j), (2i, 2j+1), (2i+1, 2j), (2i+1, 2j+1) (VILA's flat_square in
// its current form, with the final permute; the first VILA release omitted it and emitted the
// new tokens column-major).
template <class P> Tensor<P> space_to_depth_2x2(const Tensor<P>& x, std::int64_t h, std::int64_t w) {
    if (h < 1 || w < 1) throw value_error("space_to_depth_2x2", "expected a grid of at least 1 x 1, got " + std::to_string(h) + " x " + std::to_string(w));
    if (x.dim() != 3 || x.shape()[1] != h * w)
        throw shape_error("space_to_depth_2x2", "expected x [B, " + std::to_string(h * w) + " (" + std::to_string(h) + " x " + std::to_string(w) +
                                                    "), C], got " + x.shape().str());
    const std::int64_t b = x.shape()[0], c = x.shape()[2], h2 = (h + 1) / 2, w2 = (w + 1) / 2;
    Tensor<P> g = x.view({b, h, w, c});
    if (h % 2) g = concat(std::vector<Tensor<P>>{g, Tensor<P>::zeros(Shape{b, 1, w, c}, x.type())}, 1);
    if (w % 2) g = concat(std::vector<Tensor<P>>{g, Tensor<P>::zeros(Shape{b, 2 * h2, 1, c}, x.type())}, 2);
    // [B, h2, 2 (row in block), w2, 2 (column in block), C] -> [B, h2, w2, 2, 2, C]
    return g.view({b, h2, 2, w2, 2, c}).permute({0, 1, 3, 2, 4, 5}).reshape({b, h2 * w2, 4 * c});
}

/// Options of MLPDownsample: vision feature width, LLM width and LayerNorm eps.
struct MLPDownsampleConfig {
    std::int64_t in = 0;   // mm_hidden_size: vision feature width (1152 x number of S2 scales)
    std::int64_t out = 0;  // LLM hidden size (3584 for Qwen2.5-7B)
    double eps = 1e-5;     // torch.nn.LayerNorm's default
};

/// OmniVinci's vision projector: 2x2 space-to-depth, LayerNorm, Linear, GELU, Linear; [B, h w, Cin] -> [B, ceil(h/2) ceil(w/2), D].
template <class P> struct MLPDownsample : Module {
    MLPDownsampleConfig cfg;
    LayerNorm<P> norm;  // layers.1
    Linear<P> fc1;      // layers.2
    Linear<P> fc2;      // layers.4

    MLPDownsample() = default;
    MLPDownsample(const MLPDownsampleConfig& c, Generator& g) : cfg(c) {
        if (c.in < 1 || c.out < 1)
            throw value_error("MLPDownsample", "expected in >= 1 and out >= 1, got in " + std::to_string(c.in) + ", out " + std::to_string(c.out));
        norm = LayerNorm<P>({.dim = 4 * c.in, .eps = c.eps});
        fc1 = Linear<P>({.in = 4 * c.in, .out = c.out}, g);
        fc2 = Linear<P>({.in = c.out, .out = c.out}, g);
    }
    template <class V> void visit(V& v) {
        v.module("layers.1", norm);
        v.module("layers.2", fc1);
        v.module("layers.4", fc2);
    }
    // Tokens after the projector for an h x w grid.
    static std::int64_t out_tokens(std::int64_t h, std::int64_t w) { return ((h + 1) / 2) * ((w + 1) / 2); }

    // x [B, h w, in] on an h x w row-major grid -> [B, ceil(h/2) ceil(w/2), out].
    Tensor<P> forward(const Tensor<P>& x, std::int64_t h, std::int64_t w) const {
        if (x.dim() != 3 || x.shape()[1] != h * w || x.shape()[2] != cfg.in)
            throw shape_error(where("MLPDownsample"), "expected x [B, " + std::to_string(h * w) + " (grid " + std::to_string(h) + " x " +
                                                          std::to_string(w) + "), " + std::to_string(cfg.in) + "], got " + x.shape().str());
        return fc2(gelu(fc1(norm(space_to_depth_2x2(x, h, w)))));
    }
    Tensor<P> operator()(const Tensor<P>& x, std::int64_t h, std::int64_t w) const { return forward(x, h, w); }
};

}  // namespace omni::nn

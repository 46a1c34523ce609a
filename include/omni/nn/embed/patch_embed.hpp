#pragma once
// Patch embedding: a convolution with kernel = stride = patch (timm PatchEmbed; name
// "proj.weight" [D, C, P, P], "proj.bias"), computed as patch extraction plus one GEMM. Input
// [B, C, H, W] -> [B, (H/P) * (W/P), D], patches in row-major grid order, each patch's pixels in
// (channel, y, x) order, exactly as the convolution reads them.
#include "omni/nn/init.hpp"
#include "omni/ops/linear.hpp"

namespace omni::nn {

/// Options of PatchEmbed: channels, patch size, width, image size and bias.
struct PatchEmbedConfig {
    std::int64_t channels = 3, patch = 32, dim = 768;
    std::int64_t height = 224, width = 224;
    bool bias = true;  // timm drops it under pre_norm (CLIP towers)
};

/// Patch embedding as one GEMM (timm PatchEmbed, "proj.weight"): [B, C, H, W] -> [B, (H/P)(W/P), D].
template <class P> struct PatchEmbed : Module {
    using D = device_of_t<P>;
    PatchEmbedConfig cfg;
    Tensor<P> weight, bias;  // [D, C, P, P], [D] (undefined without bias): named proj.weight / proj.bias

    PatchEmbed() = default;
    PatchEmbed(const PatchEmbedConfig& c, Generator& g) : cfg(c) {
        if (c.patch < 1 || c.height % c.patch || c.width % c.patch)
            throw value_error("PatchEmbed", "expected height and width divisible by the patch " + std::to_string(c.patch) + ", got " +
                                                std::to_string(c.height) + " x " + std::to_string(c.width));
        const std::int64_t fan_in = c.channels * c.patch * c.patch;  // PyTorch's Conv2d default init
        weight = make_param<P>(init::torch_default<D>({c.dim, c.channels, c.patch, c.patch}, fan_in, g));
        if (c.bias) bias = make_param<P>(init::torch_default<D>({c.dim}, fan_in, g));
    }
    std::int64_t grid_rows() const { return cfg.height / cfg.patch; }
    std::int64_t grid_cols() const { return cfg.width / cfg.patch; }
    std::int64_t num_patches() const { return grid_rows() * grid_cols(); }

    template <class V> void visit(V& v) {
        v.param("proj.weight", weight);
        if (cfg.bias) v.param("proj.bias", bias);
    }

    Tensor<P> forward(const Tensor<P>& x) const {
        const auto& s = x.shape();
        if (x.dim() != 4 || s[1] != cfg.channels || s[2] != cfg.height || s[3] != cfg.width)
            throw shape_error(where("PatchEmbed"), "expected [B, " + std::to_string(cfg.channels) + ", " + std::to_string(cfg.height) + ", " +
                                                       std::to_string(cfg.width) + "], got " + s.str());
        const std::int64_t p = cfg.patch, gh = grid_rows(), gw = grid_cols();
        // [B, C, gh, P, gw, P] -> [B, gh, gw, C, P, P] -> [B, gh*gw, C*P*P]: one copy, then one GEMM.
        const Tensor<P> patches = x.view({s[0], cfg.channels, gh, p, gw, p}).permute({0, 2, 4, 1, 3, 5}).reshape({s[0], gh * gw, cfg.channels * p * p});
        return linear(patches, weight.view({cfg.dim, cfg.channels * p * p}), bias);
    }
    Tensor<P> operator()(const Tensor<P>& x) const { return forward(x); }
};

}  // namespace omni::nn

#pragma once
// OmniVinci's omni-modal alignment loss (arXiv 2510.15870, sec. 2, OmniAlignNet): for the
// paired embeddings V, A [B, C] of B videos, s = scale V A^T and
// L = (CE(s, diag) + CE(s^T, diag)) / 2 -> scalar. The paper shows no temperature, so the scale
// is 1 by default; the option `learnable` is CLIP's exp(logit_scale) (initialised at 1/0.07,
// clamped to [1, 100], as loss::info_nce), which sharpens the softmax over logits that unit
// vectors alone keep inside [-1, 1].
#include <algorithm>
#include <cmath>
#include <string>

#include "omni/autodiff/module_base.hpp"
#include "omni/loss/info_nce.hpp"

namespace omni::loss {

enum class align_scale { fixed, learnable };

/// Options of OmniAlignLoss: a fixed unit scale or CLIP's learnable logit scale.
struct OmniAlignLossConfig {
    align_scale scale = align_scale::fixed;
};

/// OmniVinci's alignment loss as a module: symmetric InfoNCE over V A^T, owning the logit scale when it is learnable.
template <class P> struct OmniAlignLoss : nn::Module {
    using D = nn::device_of_t<P>;
    OmniAlignLossConfig cfg;
    Tensor<P> logit_scale;  // [1], learnable scale only (named as open_clip's)

    OmniAlignLoss() = default;
    explicit OmniAlignLoss(const OmniAlignLossConfig& c) : cfg(c) {
        if (c.scale == align_scale::learnable) logit_scale = nn::make_param<P>(Tensor<D>::full({1}, std::log(1.0 / 0.07)));
    }
    template <class V> void visit(V& v) {
        if (cfg.scale == align_scale::learnable) v.param("logit_scale", logit_scale);
    }

    // The multiplier on V A^T this loss applies now.
    double scale() const {
        if (cfg.scale == align_scale::fixed) return 1.0;
        return std::exp(std::clamp(nn::value_of(logit_scale).template to_vector<double>()[0], 0.0, std::log(100.0)));
    }

    // v, a [B, C] with B >= 2 (row i of each from video i).
    Tensor<P> forward(const Tensor<P>& v, const Tensor<P>& a) const {
        if (v.dim() != 2 || a.dim() != 2 || !(v.shape() == a.shape()))
            throw shape_error(where("OmniAlignLoss"), "expected V and A of one shape [B, C], got " + v.shape().str() + " and " + a.shape().str());
        if (v.shape()[0] < 2)
            throw value_error(where("OmniAlignLoss"), "expected a batch of at least 2 pairs (each video is contrasted with the others), got " +
                                                          std::to_string(v.shape()[0]));
        // exp(0) = 1: the paper's unscaled similarities (the clamp's lower end, never crossed).
        const Tensor<P> s = cfg.scale == align_scale::learnable ? logit_scale : Tensor<P>(Tensor<D>::zeros({1}, v.type()));
        return info_nce(v, a, s);
    }
    Tensor<P> operator()(const Tensor<P>& v, const Tensor<P>& a) const { return forward(v, a); }
};

}  // namespace omni::loss

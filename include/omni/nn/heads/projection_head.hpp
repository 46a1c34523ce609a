#pragma once
// Projection head of Omni-C / SimCLR: Linear(D, hidden) -> ReLU -> Linear(hidden, out), both with
// bias and PyTorch's default init (Omni-C sec. III-A; the release's models/heads.py), names "fc1", "fc2". With `single` it
// is one Linear (the SAIL alignment layer), name "fc1".
#include "omni/nn/activation.hpp"
#include "omni/nn/linear.hpp"

namespace omni::nn {

/// Options of ProjectionHead: widths, and `single` for one Linear (SAIL).
struct ProjectionHeadConfig {
    std::int64_t in = 768, hidden = 768, out = 768;
    bool single = false;
};

/// Omni-C / SimCLR projection head, Linear -> ReLU -> Linear (or one Linear): [B, in] -> [B, out].
template <class P> struct ProjectionHead : Module {
    ProjectionHeadConfig cfg;
    Linear<P> fc1, fc2;

    ProjectionHead() = default;
    ProjectionHead(const ProjectionHeadConfig& c, Generator& g)
        : cfg(c), fc1({.in = c.in, .out = c.single ? c.out : c.hidden}, g) {
        if (!c.single) fc2 = Linear<P>({.in = c.hidden, .out = c.out}, g);
    }
    template <class V> void visit(V& v) {
        v.module("fc1", fc1);
        if (!cfg.single) v.module("fc2", fc2);
    }
    Tensor<P> forward(const Tensor<P>& h) const { return cfg.single ? fc1(h) : fc2(relu(fc1(h))); }
    Tensor<P> operator()(const Tensor<P>& h) const { return forward(h); }
};

}  // namespace omni::nn

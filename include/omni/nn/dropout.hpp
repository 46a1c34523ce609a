#pragma once
// Dropout with its own seeded Philox stream: in training each element is zeroed with
// probability p and the rest scaled by 1/(1-p); in eval it is the identity (torch.nn.Dropout).
#include "omni/autodiff/elementwise.hpp"
#include "omni/nn/module.hpp"

namespace omni::nn {

/// Options of Dropout: the drop probability and the seed of its own stream.
struct DropoutConfig {
    double p = 0.1;
    std::uint64_t seed = 0;
};

/// Dropout with its own seeded Philox stream; the identity in eval (torch.nn.Dropout).
template <class P> struct Dropout : Module {
    using D = device_of_t<P>;
    DropoutConfig cfg;
    Generator gen;

    Dropout() = default;
    explicit Dropout(const DropoutConfig& c) : cfg(c), gen(c.seed) {
        if (c.p < 0 || c.p >= 1) throw value_error("Dropout", "expected p in [0, 1), got " + std::to_string(c.p));
    }
    template <class V> void visit(V&) {}

    Tensor<P> forward(const Tensor<P>& x) {
        if (!training || cfg.p == 0) return x;
        const double keep = 1.0 - cfg.p;
        const Tensor<D> u = Tensor<D>::rand(x.shape(), gen, x.type());
        const Tensor<D> mask = mul(lt(u, Tensor<D>::scalar(keep, x.type())).to(x.type()), 1.0 / keep);
        return mul(x, Tensor<P>(mask));
    }
    Tensor<P> operator()(const Tensor<P>& x) { return forward(x); }
};

}  // namespace omni::nn

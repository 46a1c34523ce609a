#pragma once
// Low-rank adapters (LoRA, and SBoRA-FA as Omni-C fine-tunes with it; the update itself is in
// low_rank_delta.hpp), two ways:
//   LowRankAdapter<P>     one frozen Linear plus its update, as a module of its own;
//   attach_adapters(m)    adapts every Linear of a whole model in place (Omni-C: qkv, proj, fc1,
//                         fc2 of every block), freezing their weights, so the model's own forward
//                         trains only the updates; merge_adapters(m) folds them back for inference.
#include <functional>

#include "omni/nn/linear.hpp"

namespace omni::nn {

/// A frozen Linear plus its trainable low-rank update, as one module.
template <class P> struct LowRankAdapter : Module {
    using D = device_of_t<P>;
    Linear<P> base;  // frozen
    LowRankDelta<P> delta;

    LowRankAdapter() = default;
    LowRankAdapter(Linear<P> frozen, const AdapterConfig& c, Generator& g)
        : base(std::move(frozen)), delta(base.cfg.in, base.cfg.out, c, g) {
        set_requires_grad(base, false);
    }
    const AdapterConfig& config() const { return delta.cfg; }
    double scale() const { return delta.scale(); }

    template <class V> void visit(V& v) {
        v.module("base", base);
        delta.visit(v);  // "lora_a" / "sbora_index", "lora_b" at this level
    }

    Tensor<P> forward(const Tensor<P>& x) const { return add(base(x), delta(x)); }
    Tensor<P> operator()(const Tensor<P>& x) const { return forward(x); }

    // The plain Linear with the update folded in: W + (alpha/r) B A.
    Linear<P> merge() const {
        Linear<P> out = base;
        out.weight = make_param<P>(delta.merged(value_of(base.weight)));
        if (base.bias.defined()) out.bias = make_param<P>(value_of(base.bias).clone());
        return out;
    }
};

// Adapts, in place, every Linear of m whose dotted path passes `select` (default: all): its
// weight and bias are frozen and a zero-initialised update is attached, so m's output is
// unchanged until the updates train. Returns how many Linears were adapted. Build optimiser
// groups afterwards (freezing swaps tensor nodes).
template <module M>
int attach_adapters(M& m, const AdapterConfig& cfg, Generator& g, const std::function<bool(const std::string&)>& select = {}) {
    int n = 0;
    for_each_module(m, [&](const std::string& path, auto& mod) {
        using T = std::decay_t<decltype(mod)>;
        if constexpr (is_linear<T>::value) {
            if (select && !select(path)) return;
            if (mod.adapter) throw value_error("attach_adapters", path + ": expected a plain Linear, got one already adapted");
            set_requires_grad(mod, false);
            mod.adapter = std::make_shared<LowRankDelta<typename is_linear<T>::policy>>(mod.cfg.in, mod.cfg.out, cfg, g);
            ++n;
        }
    });
    if (n == 0) throw value_error("attach_adapters", "expected at least one Linear to adapt, got none selected");
    return n;
}

// Folds every attached update into its Linear's weight and removes it: the merged model is a
// plain model again, as fast as the original, with the fine-tuned behaviour.
template <module M> int merge_adapters(M& m) {
    int n = 0;
    for_each_module(m, [&](const std::string&, auto& mod) {
        if constexpr (is_linear<std::decay_t<decltype(mod)>>::value) {
            if (!mod.adapter) return;
            value_of(mod.weight).copy_from(mod.adapter->merged(value_of(mod.weight)));
            mod.adapter.reset();
            ++n;
        }
    });
    return n;
}

}  // namespace omni::nn

#pragma once
// SGD with momentum, dampening, Nesterov and coupled L2 weight decay, matching torch.optim.SGD:
//   d = g + wd p;  buf = momentum buf + (1 - dampening) d  (buf = d on its first update);
//   d = nesterov ? d + momentum buf : buf;  p -= lr d
// Unlike AdamW the decay is added to the gradient, so momentum carries it too.
#include <vector>

#include "omni/backend/optim_step.hpp"
#include "omni/optim/param_group.hpp"

namespace omni::optim {

/// Options of SGD (torch.optim.SGD's): default lr, momentum, dampening, weight decay and Nesterov.
struct SGDOptions {
    double lr = 1e-3;  // used by step() without an argument
    double momentum = 0, dampening = 0;
    double weight_decay = 0;  // for groups that leave theirs unset
    bool nesterov = false;
};

/// The momentum buffer of one parameter; undefined until its first update with momentum.
template <class P> struct SGDState {
    Tensor<P> momentum_buffer;
};

/// SGD with momentum over parameter groups (torch.optim.SGD), one fused update per parameter.
template <class P> struct SGD {
    std::vector<ParamGroup<P>> groups;
    SGDOptions options;
    std::vector<std::vector<SGDState<P>>> state;  // state[g][i] belongs to groups[g].params[i]

    SGD(std::vector<ParamGroup<P>> param_groups, const SGDOptions& o = {}) : groups(std::move(param_groups)), options(o) {
        detail::check_lr("SGD", o.lr);
        if (!(o.momentum >= 0)) throw value_error("SGD", "expected momentum >= 0, got " + std::to_string(o.momentum));
        if (!(o.weight_decay >= 0)) throw value_error("SGD", "expected weight_decay >= 0, got " + std::to_string(o.weight_decay));
        // Nesterov's look-ahead needs a buffer that is exactly the running gradient, as PyTorch.
        if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
            throw value_error("SGD", "expected momentum > 0 and dampening 0 with nesterov, got momentum " + std::to_string(o.momentum) +
                                         ", dampening " + std::to_string(o.dampening));
        detail::check_groups("SGD", groups);
        for (const auto& g : groups) state.emplace_back(g.params.size());
    }

    // One update of every parameter that has a gradient, at lr * lr_scale per group.
    void step(double lr) {
        detail::check_lr("SGD.step", lr);
        for (std::size_t gi = 0; gi < groups.size(); ++gi) {
            const ParamGroup<P>& g = groups[gi];
            for (std::size_t i = 0; i < g.params.size(); ++i) {
                const Var<P>& p = g.params[i];
                const Tensor<P> grad = p.grad();
                if (!grad.defined()) continue;
                Tensor<P> buf = state[gi][i].momentum_buffer;
                const bool first = !buf.defined();
                if (options.momentum != 0 && first) buf = Tensor<P>::empty(p.shape(), p.type());  // the kernel writes it whole
                sgd_step(p.value(), grad, buf,
                         SgdStep{.lr = lr * g.lr_scale, .momentum = options.momentum, .dampening = options.dampening,
                                 .weight_decay = g.weight_decay.value_or(options.weight_decay), .nesterov = options.nesterov,
                                 .first_step = first});
                state[gi][i].momentum_buffer = buf;  // kept only once the kernel filled it
            }
        }
    }
    void step() { step(options.lr); }

    void zero_grad() {
        for (auto& g : groups)
            for (auto& p : g.params) p.zero_grad();
    }
};

}  // namespace omni::optim

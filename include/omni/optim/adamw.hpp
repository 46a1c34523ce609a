#pragma once
// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019), matching torch.optim.AdamW
// (amsgrad off): every parameter with a gradient moves by
//   p *= 1 - lr wd;  p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// with its own step count t, so a parameter that missed steps (no gradient) is corrected for
// the steps it actually took, as in PyTorch.
//
//   auto opt = optim::AdamW<cpu>(optim::nn_param_groups(model, 0.1), {.lr = 1e-4});
//   loss.backward(); opt.step(schedule.lr(epoch)); opt.zero_grad();
#include <vector>

#include "omni/backend/optim_step.hpp"
#include "omni/optim/param_group.hpp"

namespace omni::optim {

/// Options of AdamW (torch.optim.AdamW's): default lr, betas, eps and weight decay.
struct AdamWOptions {
    double lr = 1e-3;  // used by step() without an argument
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    double weight_decay = 1e-2;  // for groups that leave theirs unset
};

/// The moments of one parameter, allocated at its first update (zeros before it, as PyTorch).
/// Public so checkpoints can save and restore them (keys: `<name>.exp_avg`, `<name>.exp_avg_sq`).
template <class P> struct AdamWState {
    Tensor<P> exp_avg, exp_avg_sq;  // undefined until the first step with a gradient
    std::int64_t step = 0;          // updates taken so far
};

/// AdamW over parameter groups (torch.optim.AdamW, amsgrad off), one fused update per parameter.
template <class P> struct AdamW {
    std::vector<ParamGroup<P>> groups;
    AdamWOptions options;
    std::vector<std::vector<AdamWState<P>>> state;  // state[g][i] belongs to groups[g].params[i]

    AdamW(std::vector<ParamGroup<P>> param_groups, const AdamWOptions& o = {}) : groups(std::move(param_groups)), options(o) {
        detail::check_lr("AdamW", o.lr);
        if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1))
            throw value_error("AdamW", "expected 0 <= beta1, beta2 < 1, got beta1 " + std::to_string(o.beta1) + ", beta2 " + std::to_string(o.beta2));
        if (!(o.eps >= 0)) throw value_error("AdamW", "expected eps >= 0, got " + std::to_string(o.eps));
        if (!(o.weight_decay >= 0)) throw value_error("AdamW", "expected weight_decay >= 0, got " + std::to_string(o.weight_decay));
        detail::check_groups("AdamW", groups);
        for (const auto& g : groups) state.emplace_back(g.params.size());
    }

    // One update of every parameter that has a gradient, at lr * lr_scale per group. The lr is
    // an argument because schedules live outside the optimiser (Omni-C sets it per iteration).
    void step(double lr) {
        detail::check_lr("AdamW.step", lr);
        for (std::size_t gi = 0; gi < groups.size(); ++gi) {
            const ParamGroup<P>& g = groups[gi];
            const double wd = g.weight_decay.value_or(options.weight_decay);
            for (std::size_t i = 0; i < g.params.size(); ++i) {
                const Var<P>& p = g.params[i];
                const Tensor<P> grad = p.grad();
                if (!grad.defined()) continue;  // not reached by backward: no update, no step count
                AdamWState<P>& s = state[gi][i];
                if (!s.exp_avg.defined()) {
                    s.exp_avg = Tensor<P>::zeros(p.shape(), p.type());
                    s.exp_avg_sq = Tensor<P>::zeros(p.shape(), p.type());
                }
                const std::int64_t t = s.step + 1;
                adamw_step(p.value(), grad, s.exp_avg, s.exp_avg_sq,
                           AdamWStep{.lr = lr * g.lr_scale, .beta1 = options.beta1, .beta2 = options.beta2, .eps = options.eps,
                                     .weight_decay = wd, .step = t});
                s.step = t;  // only once the update went through
            }
        }
    }
    void step() { step(options.lr); }

    // Drops every gradient (PyTorch's set_to_none): the next backward starts from nothing.
    void zero_grad() {
        for (auto& g : groups)
            for (auto& p : g.params) p.zero_grad();
    }
};

}  // namespace omni::optim

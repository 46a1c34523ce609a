#pragma once
// ParamGroup: the parameters one optimiser treats alike (torch.optim param_groups), and
// nn_param_groups, timm's add_weight_decay split of a module into decayed and undecayed groups
// (ref: timm 0.3.2 optim_factory.add_weight_decay, as Omni-C trains), and scale_lr, which gives
// named parameters their own lr multiplier.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "omni/nn/module.hpp"

namespace omni::optim {

/// Parameters one optimiser treats alike, with their names, lr scale and weight decay (torch.optim param_groups).
/// Handles in `params` share their tape node and storage with the module's parameters, so an
/// optimiser reads the gradients backward() left there and writes the module's weights in place.
/// Replacing a module's tensors afterwards (nn::cast, loading into a fresh tensor, freezing or
/// unfreezing, which swaps the node) detaches them from the group: build groups after the model
/// is final.
template <class P> struct ParamGroup {
    std::vector<std::string> names{};      // dotted PyTorch names, one per param (or empty); checkpoint keys
    std::vector<Var<P>> params{};
    double lr_scale = 1;                   // this group's lr = schedule lr * lr_scale
    std::optional<double> weight_decay{};  // unset: the optimiser's option applies
};

namespace detail {
// The device policy of a training module M<autodiff<P>>, or the one the caller names.
template <class P, class M> struct group_policy { using type = P; };
template <template <class> class M, class Q> struct group_policy<void, M<autodiff<Q>>> { using type = Q; };

inline bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Every trainable parameter of m with its name; frozen ones (requires_grad off) are left out,
// as timm skips them, so an optimiser never holds state for a weight it must not move.
template <class P, class M, class F> void for_each_trainable(M& m, F&& f) {
    nn::for_each_parameter(m, [&](const std::string& name, auto& t) {
        static_assert(std::is_same_v<std::decay_t<decltype(t)>, Var<P>>,
                      "omni::optim: parameter groups need a training module (policy autodiff<P>) whose parameters are Var<P>");
        if (t.defined() && t.requires_grad()) f(name, t);
    });
}
}  // namespace detail

namespace detail {
template <class P, class M> std::vector<ParamGroup<P>> split_by_decay(M& m, double weight_decay, const std::vector<std::string>& skip) {
    if (!(weight_decay >= 0))
        throw value_error("nn_param_groups", "expected weight_decay >= 0, got " + std::to_string(weight_decay));
    ParamGroup<P> decay{.weight_decay = weight_decay}, no_decay{.weight_decay = 0.0};
    std::unordered_set<std::string> unmatched(skip.begin(), skip.end());
    for_each_trainable<P>(m, [&](const std::string& name, const Var<P>& t) {
        const bool skipped = unmatched.erase(name) > 0;  // names are unique, so each matches once
        ParamGroup<P>& g = (t.dim() == 1 || ends_with(name, ".bias") || skipped) ? no_decay : decay;
        g.names.push_back(name);
        g.params.push_back(t);
    });
    if (!unmatched.empty())  // a typo would otherwise quietly decay the table it meant to spare
        throw value_error("nn_param_groups", "expected every skip name to be a trainable parameter, got '" + *unmatched.begin() + "'");
    return {std::move(decay), std::move(no_decay)};
}

template <class P, class M> ParamGroup<P> one_group(M& m, std::optional<double> weight_decay) {
    ParamGroup<P> g{.weight_decay = weight_decay};
    for_each_trainable<P>(m, [&](const std::string& name, const Var<P>& t) {
        g.names.push_back(name);
        g.params.push_back(t);
    });
    return g;
}
}  // namespace detail

// timm's rule: 1-D parameters (biases, norm weights and shifts), any name ending in ".bias" and
// the exact names in `skip` (timm's skip_list, e.g. {"text_embed.weight"}) get no decay;
// everything else, including 3-D tokens and embedding tables, gets `weight_decay`.
// Returns {decay, no_decay}. P is deduced from a module template M<autodiff<P>>; name it
// (nn_param_groups<cpu>(model, 0.1)) for a model struct that is not such a template.
template <class P = void, nn::module M> auto nn_param_groups(M& m, double weight_decay, const std::vector<std::string>& skip = {}) {
    using Q = typename detail::group_policy<P, M>::type;
    static_assert(!std::is_void_v<Q>, "omni::optim::nn_param_groups: expected a training module M<autodiff<P>>; for a model struct "
                                      "that is not one, name the policy: nn_param_groups<P>(model, wd)");
    if constexpr (!std::is_void_v<Q>) return detail::split_by_decay<Q>(m, weight_decay, skip);  // one error line, not a cascade
}

// Every trainable parameter of m in one group (a linear probe decays weight and bias alike);
// weight_decay unset leaves the optimiser's option in charge.
template <class P = void, nn::module M> auto nn_param_group(M& m, std::optional<double> weight_decay = std::nullopt) {
    using Q = typename detail::group_policy<P, M>::type;
    static_assert(!std::is_void_v<Q>, "omni::optim::nn_param_group: expected a training module M<autodiff<P>>; for a model struct "
                                      "that is not one, name the policy: nn_param_group<P>(model)");
    if constexpr (!std::is_void_v<Q>) return detail::one_group<Q>(m, weight_decay);
}

// Moves each named parameter into a group of its own whose lr is `scale` times its old group's
// (one embedding table may want a faster rate than the encoder it feeds). It keeps the weight
// decay it had; the group it left keeps its place, possibly empty. A name that matches no
// parameter in `groups` throws: a typo would otherwise leave the table at the base rate.
template <class P> std::vector<ParamGroup<P>> scale_lr(std::vector<ParamGroup<P>> groups, const std::map<std::string, double>& scale) {
    std::vector<ParamGroup<P>> moved;
    for (const auto& entry : scale) {
        const std::string& name = entry.first;  // not a structured binding: clang before 16 cannot capture one
        const double factor = entry.second;
        if (!(factor >= 0) || !std::isfinite(factor))
            throw value_error("scale_lr", "expected a finite lr scale >= 0 for '" + name + "', got " + std::to_string(factor));
        const auto holds = [&](const ParamGroup<P>& g) { return std::ranges::find(g.names, name) != g.names.end(); };
        const auto owner = std::ranges::find_if(groups, holds);
        if (owner == groups.end()) throw value_error("scale_lr", "expected every name to be a parameter of the groups, got '" + name + "'");
        const auto i = std::ranges::find(owner->names, name) - owner->names.begin();
        moved.push_back(ParamGroup<P>{.names = {name}, .params = {owner->params[i]}, .lr_scale = owner->lr_scale * factor, .weight_decay = owner->weight_decay});
        owner->names.erase(owner->names.begin() + i);
        owner->params.erase(owner->params.begin() + i);
    }
    for (ParamGroup<P>& g : moved) groups.push_back(std::move(g));  // after the groups they left, which keep their order
    return groups;
}

namespace detail {
inline void check_lr(const char* op, double lr) {
    if (!(lr >= 0) || !std::isfinite(lr)) throw value_error(op, "expected a finite lr >= 0, got " + std::to_string(lr));
}

// What every optimiser checks on construction: names line up, scales and decays are in range,
// every parameter is a leaf, and none appears twice (it would be stepped twice per step).
template <class P> void check_groups(const char* op, const std::vector<ParamGroup<P>>& groups) {
    std::unordered_set<const void*> seen;
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
        const ParamGroup<P>& g = groups[gi];
        const std::string where = "group " + std::to_string(gi);
        if (!g.names.empty() && g.names.size() != g.params.size())
            throw value_error(op, where + ": expected one name per parameter (" + std::to_string(g.params.size()) + "), got " +
                                      std::to_string(g.names.size()));
        if (!(g.lr_scale >= 0)) throw value_error(op, where + ": expected lr_scale >= 0, got " + std::to_string(g.lr_scale));
        if (g.weight_decay && !(*g.weight_decay >= 0))
            throw value_error(op, where + ": expected weight_decay >= 0, got " + std::to_string(*g.weight_decay));
        for (std::size_t i = 0; i < g.params.size(); ++i) {
            const Var<P>& p = g.params[i];
            const std::string who = where + ", parameter " + (g.names.empty() ? std::to_string(i) : g.names[i]);
            if (!p.defined()) throw value_error(op, who + ": expected a defined tensor, got an empty handle");
            if (!p.is_leaf()) throw value_error(op, who + ": expected a leaf tensor, got the output of '" + std::string(p.node()->op) + "'");
            if (!is_floating(p.type())) throw dtype_error(op, who + ": expected float32 or float64, got " + name_of(p.type()));
            // The tape node identifies a parameter across handles. A handle without one (frozen)
            // never receives a gradient, so it is never stepped and cannot be stepped twice.
            if (p.node() && !seen.insert(p.node().get()).second)
                throw value_error(op, who + ": expected each parameter in one group once, got it twice");
        }
    }
}
}  // namespace detail

}  // namespace omni::optim

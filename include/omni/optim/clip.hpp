#pragma once
// Gradient clipping by global L2 norm (torch.nn.utils.clip_grad_norm_, norm_type 2): when the
// norm of all gradients together exceeds max_norm, every gradient is scaled in place by
// max_norm / (norm + 1e-6). Call between backward() and the optimiser step.
#include <cmath>
#include <string>
#include <vector>

#include "omni/backend/optim_step.hpp"
#include "omni/optim/param_group.hpp"

namespace omni::optim {

namespace detail {
inline void check_max_norm(double max_norm) {
    if (!(max_norm > 0)) throw value_error("clip_grad_norm", "expected max_norm > 0, got " + std::to_string(max_norm));
}

template <class P> double clip_with(const std::vector<const Var<P>*>& params, double max_norm) {
    double squares = 0;
    for (const Var<P>* p : params) {
        const Tensor<P> g = p->grad();
        if (g.defined()) squares += sum_of_squares(g);
    }
    const double total = std::sqrt(squares);
    // The 1e-6 keeps a zero norm finite, as PyTorch. A non-finite norm scales nothing (the
    // gradients already hold the inf or nan) and is returned so the caller can skip the step.
    const double scale = max_norm / (total + 1e-6);
    if (scale < 1)
        for (const Var<P>* p : params) {
            const Tensor<P> g = p->grad();  // shares the leaf's buffer, which the leaf owns
            if (g.defined()) scale_(g, scale);
        }
    return total;
}
}  // namespace detail

// Returns the total norm before clipping. Parameters without a gradient are ignored.
template <class P> double clip_grad_norm(const std::vector<Var<P>>& params, double max_norm) {
    detail::check_max_norm(max_norm);
    std::vector<const Var<P>*> ps;
    for (const auto& p : params) ps.push_back(&p);
    return detail::clip_with(ps, max_norm);
}

// Over every parameter of every group: the norm is global, across groups.
template <class P> double clip_grad_norm(const std::vector<ParamGroup<P>>& groups, double max_norm) {
    detail::check_max_norm(max_norm);
    std::vector<const Var<P>*> ps;
    for (const auto& g : groups)
        for (const auto& p : g.params) ps.push_back(&p);
    return detail::clip_with(ps, max_norm);
}

}  // namespace omni::optim

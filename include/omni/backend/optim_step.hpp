#pragma once
// Optimiser updates on device tensors: one fused AdamW or SGD step per parameter, and the sum of
// squares that gradient clipping needs. Fusing the update into one pass matters because it runs
// once per parameter per step over every weight of the model: as separate elementwise ops it
// would read and write each tensor about ten times. The optimisers in omni/optim/ call these;
// a backend specialises optim_kernels<P> (backend/cpu/optim_step.hpp).
#include <string>

#include "omni/backend/elementwise.hpp"
#include "omni/backend/kernel_view.hpp"

namespace omni {

/// The scalars of one AdamW update (torch.optim.AdamW). A struct rather than six positional
/// doubles: lr, betas, eps and decay are all doubles, and a swapped pair would compile silently.
struct AdamWStep {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
    std::int64_t step = 1;  // 1 on the first update of this parameter; drives the bias corrections
};

/// The scalars of one SGD update (torch.optim.SGD).
struct SgdStep {
    double lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0;
    bool nesterov = false;
    bool first_step = false;  // the momentum buffer holds nothing yet: it starts as the gradient itself
};

// Specialised by each backend. All views are dense, of one shape and one float dtype; param and
// the state buffers are updated in place, grad is only read.
//   adamw_step(param, grad, exp_avg, exp_avg_sq, AdamWStep)
//       p *= 1 - lr wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//       p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//   sgd_step(param, grad, momentum_buf, SgdStep)        momentum_buf unused when momentum == 0
//       d = g + wd p;  buf = first ? d : momentum buf + (1 - dampening) d;
//       d = nesterov ? d + momentum buf : buf (d itself without momentum);  p -= lr d
//   sum_of_squares(x) -> double                         accumulated in double
template <class P> struct optim_kernels;

namespace detail {
template <class P> void check_optim_operand(const char* op, const char* what, const Tensor<P>& param, const Tensor<P>& t) {
    if (!t.defined()) throw value_error(op, std::string("expected a defined ") + what + ", got an empty handle");
    if (!(t.shape() == param.shape()))
        throw shape_error(op, std::string("expected ") + what + " of shape " + param.shape().str() + ", got " + t.shape().str());
    if (t.type() != param.type())
        throw dtype_error(op, std::string("expected ") + what + " of dtype " + name_of(param.type()) + ", got " + name_of(t.type()));
    if (!t.is_contiguous())
        throw value_error(op, std::string("expected a contiguous ") + what + ", got strides " + t.strides().str() + " for shape " +
                                  t.shape().str());
}
template <class P> void check_optim_param(const char* op, const Tensor<P>& param) {
    if (!param.defined()) throw value_error(op, "expected a defined parameter, got an empty handle");
    detail::check_floating(op, param.type());
    // Updated in place through one pointer: a strided view would need a copy, and writing the
    // copy would not reach the module's storage.
    check_optim_operand(op, "parameter", param, param);
}
}  // namespace detail

// One AdamW update of `param` in place, with its two moment buffers updated in place too.
template <device_policy P>
void adamw_step(const Tensor<P>& param, const Tensor<P>& grad, const Tensor<P>& exp_avg, const Tensor<P>& exp_avg_sq,
                const AdamWStep& s) {
    detail::check_optim_param("adamw_step", param);
    if (!grad.defined()) throw value_error("adamw_step", "expected a defined gradient, got an empty handle");
    const Tensor<P> g = grad.contiguous();  // read only, so a copy is fine
    detail::check_optim_operand("adamw_step", "gradient", param, g);
    detail::check_optim_operand("adamw_step", "exp_avg", param, exp_avg);
    detail::check_optim_operand("adamw_step", "exp_avg_sq", param, exp_avg_sq);
    if (s.step < 1) throw value_error("adamw_step", "expected step >= 1 (bias corrections divide by 1 - beta^step), got " + std::to_string(s.step));
    if (param.numel()) optim_kernels<P>::adamw_step(kview(param), kview(g), kview(exp_avg), kview(exp_avg_sq), s);
}

// One SGD update of `param` in place; momentum_buf may be undefined when s.momentum == 0.
template <device_policy P>
void sgd_step(const Tensor<P>& param, const Tensor<P>& grad, const Tensor<P>& momentum_buf, const SgdStep& s) {
    detail::check_optim_param("sgd_step", param);
    if (!grad.defined()) throw value_error("sgd_step", "expected a defined gradient, got an empty handle");
    const Tensor<P> g = grad.contiguous();
    detail::check_optim_operand("sgd_step", "gradient", param, g);
    if (s.momentum != 0) detail::check_optim_operand("sgd_step", "momentum buffer", param, momentum_buf);
    if (param.numel()) optim_kernels<P>::sgd_step(kview(param), kview(g), kview(momentum_buf), s);
}

// sum(x^2) in double: the squared L2 norm that clip_grad_norm adds up over parameters.
template <device_policy P> double sum_of_squares(const Tensor<P>& x) {
    if (!x.defined()) throw value_error("sum_of_squares", "expected a defined tensor, got an empty handle");
    detail::check_floating("sum_of_squares", x.type());
    if (!x.numel()) return 0.0;
    return optim_kernels<P>::sum_of_squares(kview(x.contiguous()));
}

// x *= s in place. Elementwise kernels read x[i] before writing out[i] at the same index, so
// passing one dense view as both operands is safe and spares a gradient-sized temporary.
template <device_policy P> void scale_(const Tensor<P>& x, double s) {
    if (!x.defined()) throw value_error("scale_", "expected a defined tensor, got an empty handle");
    detail::check_floating("scale_", x.type());
    if (!x.is_contiguous())
        throw value_error("scale_", "expected a contiguous tensor, got strides " + x.strides().str() + " for shape " + x.shape().str());
    if (x.numel()) elementwise_kernels<P>::scalar(scalar_op::mul, kview(x), s, kview(x));
}

}  // namespace omni

#pragma once
// gradcheck: compares the taped gradients of f against central finite differences in float64,
// the check every op and layer in omni passes and the one library authors run on their own.
// The output is projected onto a fixed random direction r, so one backward checks the full
// Jacobian-vector product: d<r, f(x)>/dx.
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "omni/autodiff/tensor.hpp"

namespace omni {

/// Finite-difference step, tolerances and seed of gradcheck.
struct GradcheckOptions {
    double eps = 1e-6;   // finite-difference step
    double atol = 1e-5;  // pass when |analytic - numeric| <= atol + rtol * |numeric|
    double rtol = 1e-3;
    std::uint64_t seed = 1234;
};

/// What gradcheck found: pass or fail, the largest error and the worst element of each failing input.
struct GradcheckResult {
    bool ok = true;
    double max_abs_error = 0;
    std::string message;  // the worst element of each failing input
    explicit operator bool() const { return ok; }
};

// f maps the inputs to one tensor of any shape. Inputs must be float64; those that do not
// require grad are held fixed.
template <class P, class F>
GradcheckResult gradcheck(F&& f, const std::vector<Var<P>>& inputs, const GradcheckOptions& opt = {}) {
    for (std::size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i].requires_grad() && inputs[i].type() != dtype::f64)
            throw dtype_error("gradcheck", "expected float64 inputs, got " + std::string(name_of(inputs[i].type())) + " at input " +
                                               std::to_string(i));
    // Fresh leaves so the check never touches the caller's gradients.
    std::vector<Var<P>> leaves;
    for (const auto& x : inputs) leaves.emplace_back(x.value().clone(), x.requires_grad());
    Var<P> out = f(leaves);
    if (out.type() != dtype::f64)
        throw dtype_error("gradcheck", std::string("expected a float64 output, got ") + name_of(out.type()));
    Generator gen(opt.seed);
    const Tensor<P> r = Tensor<P>::randn(out.shape(), gen, dtype::f64);
    const std::vector<double> rv = r.template to_vector<double>();
    auto project = [&](const Var<P>& y) {
        const std::vector<double> v = y.template to_vector<double>();
        double s = 0;
        for (std::size_t i = 0; i < v.size(); ++i) s += v[i] * rv[i];
        return s;
    };
    if (out.requires_grad()) out.backward(r);

    GradcheckResult res;
    std::ostringstream msg;
    for (std::size_t i = 0; i < leaves.size(); ++i) {
        if (!leaves[i].requires_grad()) continue;
        const Shape s = leaves[i].shape();
        const Tensor<P> g = leaves[i].grad();
        const std::vector<double> analytic = g.defined() ? g.template to_vector<double>() : std::vector<double>(s.numel(), 0.0);
        std::vector<double> x = leaves[i].template to_vector<double>();
        double worst = -1, worst_a = 0, worst_n = 0;
        std::size_t worst_j = 0;
        for (std::size_t j = 0; j < x.size(); ++j) {
            const double x0 = x[j];
            auto eval = [&](double v) {
                x[j] = v;
                std::vector<Var<P>> probe = leaves;
                probe[i] = Var<P>(Tensor<P>::from_data(x, s));
                no_grad ng;
                return project(f(probe));
            };
            const double numeric = (eval(x0 + opt.eps) - eval(x0 - opt.eps)) / (2 * opt.eps);
            x[j] = x0;
            const double err = std::abs(analytic[j] - numeric);
            res.max_abs_error = std::max(res.max_abs_error, err);
            const double excess = err - (opt.atol + opt.rtol * std::abs(numeric));
            if (excess > 0 && excess > worst) {
                worst = excess;
                worst_j = j;
                worst_a = analytic[j];
                worst_n = numeric;
            }
        }
        if (worst > 0) {
            res.ok = false;
            msg << "input " << i << " " << s.str() << ": element " << worst_j << " analytic " << worst_a << " numeric " << worst_n << "; ";
        }
    }
    res.message = msg.str();
    return res;
}

}  // namespace omni

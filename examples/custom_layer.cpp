// Writing a new layer: one struct with a config, its parameters, a visit and a forward. The
// backward comes from the taped ops it is built from, the same source runs untaped for
// inference, and it composes with the built-in layers. This example writes RMSNorm
// (Zhang & Sennrich 2019), checks its gradient, and trains a small stack that uses it.
#include <omni/nn/activation.hpp>
#include <omni/nn/linear.hpp>
#include <omni/nn/sequential.hpp>
#include <omni/omni.hpp>

#include <iostream>

namespace my {

struct RMSNormConfig {
    std::int64_t dim = 0;
    double eps = 1e-6;
};

// y = x / sqrt(mean(x^2) + eps) * weight, over the last axis.
template <class P> struct RMSNorm : omni::nn::Module {
    RMSNormConfig cfg;
    omni::Tensor<P> weight;  // [dim], ones

    RMSNorm() = default;
    explicit RMSNorm(const RMSNormConfig& c) : cfg(c) {
        weight = omni::nn::make_param<P>(omni::Tensor<omni::nn::device_of_t<P>>::ones({c.dim}));
    }
    template <class V> void visit(V& v) { v.param("weight", weight); }

    omni::Tensor<P> forward(const omni::Tensor<P>& x) const {
        if (x.dim() < 1 || x.shape().back() != cfg.dim)
            throw omni::shape_error(where("RMSNorm"), "expected [..., " + std::to_string(cfg.dim) + "], got " + x.shape().str());
        const auto ms = omni::mean(omni::square(x), {-1}, true);
        return x * omni::rsqrt(ms + cfg.eps) * weight;
    }
    omni::Tensor<P> operator()(const omni::Tensor<P>& x) const { return forward(x); }
};

}  // namespace my

int main() {
    using A = omni::autodiff<omni::cpu>;
    using V = omni::Var<omni::cpu>;
    using D = omni::Tensor<omni::cpu>;
    omni::Generator gen(3);

    // 1. The new layer's gradient, against finite differences in float64.
    my::RMSNorm<A> norm({.dim = 6});
    omni::nn::cast(norm, omni::dtype::f64);
    const V x(D::randn({4, 6}, gen, omni::dtype::f64), true);
    const auto check = omni::gradcheck<omni::cpu>(
        [&](const std::vector<V>& in) {
            my::RMSNorm<A> n = norm;
            n.weight = in[1];
            return n(in[0]);
        },
        {x, norm.weight});
    std::cout << "gradcheck RMSNorm: " << (check.ok ? "ok" : check.message) << "\n";
    if (!check.ok) return 1;

    // 2. Composition with built-in layers; names follow the torch.nn.Sequential convention.
    using Net = omni::nn::Sequential<omni::nn::Linear<A>, my::RMSNorm<A>, omni::nn::GELU<A>, omni::nn::Linear<A>>;
    Net net(omni::nn::Linear<A>({.in = 8, .out = 32}, gen), my::RMSNorm<A>({.dim = 32}), {}, omni::nn::Linear<A>({.in = 32, .out = 1}, gen));
    omni::nn::for_each_parameter(net, [](const std::string& name, const V& p) { std::cout << "  " << name << " " << p.shape().str() << "\n"; });

    // 3. A few steps of plain SGD on a regression target.
    const D inputs = D::randn({64, 8}, gen);
    const D target = omni::sum(omni::tanh(inputs * 2.0), {1}, true);  // a smooth nonlinear target
    float first = 0, last = 0;
    for (int step = 0; step < 300; ++step) {
        V loss = omni::mean(omni::square(net(V(inputs)) - V(target)));
        loss.backward();
        omni::no_grad ng;
        omni::nn::for_each_parameter(net, [](const std::string&, V& p) {
            p.value().copy_from(p.value() - p.grad() * 0.05);
            p.zero_grad();
        });
        last = loss.item<float>();
        if (step == 0) first = last;
    }
    std::cout << "training loss " << first << " -> " << last << "\n";
    return last < 0.5f * first ? 0 : 1;
}

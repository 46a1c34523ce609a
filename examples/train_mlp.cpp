// Fits a two-layer MLP to a noisy sine with plain SGD: the whole training loop on omni's tape,
// no optimiser library needed. Prints the loss falling and fails if it does not.
#include <omni/omni.hpp>

#include <cmath>
#include <iostream>

int main() {
    using D = omni::Tensor<omni::cpu>;
    using V = omni::Var<omni::cpu>;
    omni::Generator gen(42);
    const int n = 256, hidden = 64;
    const D x = D::rand({n, 1}, gen, omni::dtype::f32, -3, 3);
    std::vector<float> xs = x.to_vector<float>(), ys(n);
    for (int i = 0; i < n; ++i) ys[i] = std::sin(xs[i]) + 0.05f * static_cast<float>(gen.normal());
    const D y = D::from_data(ys, {n, 1});

    V w1(D::randn({hidden, 1}, gen, omni::dtype::f32, 0, 1.0), true), b1(D::zeros({hidden}), true);
    V w2(D::randn({1, hidden}, gen, omni::dtype::f32, 0, 1.0 / std::sqrt(hidden)), true), b2(D::zeros({1}), true);
    const std::vector<V*> params{&w1, &b1, &w2, &b2};
    float first = 0, last = 0;
    for (int step = 0; step <= 2000; ++step) {
        V pred = omni::linear(omni::tanh(omni::linear(V(x), w1, b1)), w2, b2);
        V loss = omni::mean(omni::square(pred - V(y)));
        loss.backward();
        {
            omni::no_grad ng;
            for (V* p : params) {
                p->value().copy_from(p->value() - p->grad() * 0.05);  // SGD in place on the parameter's storage
                p->zero_grad();
            }
        }
        last = loss.item<float>();
        if (step == 0) first = last;
        if (step % 500 == 0) std::cout << "step " << step << " mse " << last << "\n";
    }
    std::cout << "mse " << first << " -> " << last << "\n";
    return last < 0.1f * first ? 0 : 1;
}

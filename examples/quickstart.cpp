// The README quick start: tensors, a taped forward pass, gradients.
#include <omni/omni.hpp>

#include <iostream>

int main() {
    using V = omni::Var<omni::cpu>;  // Tensor<autodiff<cpu>>: a CPU tensor on the tape
    omni::Generator gen(0);
    V x = V::randn({4, 8}, gen);                                  // a batch of 4 inputs
    V w(omni::Tensor<omni::cpu>::randn({3, 8}, gen, omni::dtype::f32, 0, 0.1), true);  // a trainable weight
    V loss = omni::mean(omni::square(omni::gelu(omni::linear(x, w))));
    loss.backward();
    std::cout << "loss " << loss.item<float>() << ", grad of w has shape " << w.grad().shape().str() << "\n";
}

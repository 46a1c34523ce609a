// libFuzzer harness: io::load_checkpoint (cereal portable binary) into a Linear(4 -> 3) and its
// AdamW state.
#include "fuzz_input.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/io/checkpoint.hpp"
#include "omni/nn/linear.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using A = omni::autodiff<omni::cpu>;
    static omni::Generator gen(0);
    static omni::nn::Linear<A> lin({.in = 4, .out = 3}, gen);
    static omni::optim::AdamW<omni::cpu> opt(omni::optim::nn_param_groups(lin, 0.1));
    const auto path = omni_fuzz::write_file("c.ckpt", {data, size});
    omni::io::TrainState state;
    omni_fuzz::expect_omni_errors([&] { omni::io::load_checkpoint(path, lin, opt, state); });
    return 0;
}

// libFuzzer harness: io::read_safetensors on a file of arbitrary bytes, then io::load_weights of
// what it read into a Linear(4 -> 3) by name (strict and with a prefix rule).
#include "fuzz_input.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/io/weights.hpp"
#include "omni/nn/linear.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static omni::Generator gen(0);
    static omni::nn::Linear<omni::cpu> lin({.in = 4, .out = 3}, gen);
    const auto path = omni_fuzz::write_file("w.safetensors", {data, size});
    omni_fuzz::expect_omni_errors([&] {
        const omni::io::Safetensors st = omni::io::read_safetensors(path.string());
        omni_fuzz::expect_omni_errors([&] { omni::io::load_weights(lin, st); });
        omni_fuzz::expect_omni_errors(
            [&] { omni::io::load_weights(lin, st, omni::io::LoadOptions{.strict = false, .rules = {{"fc.", ""}}}); });
    });
    return 0;
}

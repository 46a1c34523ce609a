// libFuzzer harness: io::read_safetensors on a file of arbitrary bytes, mapped (the default:
// aligned tensors borrow the mapping) and through a stream, which must agree tensor for tensor;
// then every tensor converted to float32 (io::to_dtype: F16 and BF16 too) and io::load_weights
// of what it read into a Linear(4 -> 3) by name (strict and with a prefix rule).
#include <cstring>

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
        const omni::io::Safetensors copied = omni::io::read_safetensors(path.string(), {.map = false});
        if (st.tensors.size() != copied.tensors.size() || copied.mapped != 0) std::abort();
        for (const auto& kv : st.tensors) {  // no structured binding: clang 14 cannot capture one
            const omni::Tensor<omni::cpu>& t = kv.second;
            const omni::Tensor<omni::cpu>& c = copied.at(kv.first);
            const std::size_t bytes = static_cast<std::size_t>(t.numel()) * omni::size_of(t.type());
            if (!(c.shape() == t.shape()) || c.type() != t.type() || (bytes && std::memcmp(c.raw_data(), t.raw_data(), bytes) != 0)) std::abort();
            omni_fuzz::expect_omni_errors([&] { (void)omni::io::to_dtype(t, omni::dtype::f32); });
        }
        omni_fuzz::expect_omni_errors([&] { (void)omni::io::read_safetensors(path.string(), {.half_to_f32 = true}); });
        omni_fuzz::expect_omni_errors([&] { omni::io::load_weights(lin, st); });
        omni_fuzz::expect_omni_errors(
            [&] { omni::io::load_weights(lin, st, omni::io::LoadOptions{.strict = false, .rules = {{"fc.", ""}}}); });
    });
    return 0;
}

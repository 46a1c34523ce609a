// libFuzzer harness: io::load_npy (.npy through xtensor) as float32, int64 and bool.
#include "fuzz_input.hpp"
#include "omni/io/xtensor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = omni_fuzz::write_file("a.npy", {data, size}).string();
    omni_fuzz::expect_omni_errors([&] { (void)omni::io::load_npy<float>(path); });
    omni_fuzz::expect_omni_errors([&] { (void)omni::io::load_npy<std::int64_t>(path); });
    omni_fuzz::expect_omni_errors([&] { (void)omni::io::load_npy<bool>(path); });
    return 0;
}

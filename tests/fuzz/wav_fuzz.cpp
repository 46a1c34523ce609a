// libFuzzer harness: data::decode_wav (RIFF/WAVE parser) on arbitrary bytes, mixed and channel 0.
#include "fuzz_input.hpp"
#include "omni/data/audio/wav.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    omni_fuzz::expect_omni_errors([&] { (void)omni::data::decode_wav(bytes, "fuzz.wav"); });
    omni_fuzz::expect_omni_errors([&] { (void)omni::data::decode_wav(bytes, "fuzz.wav", 0); });
    return 0;
}

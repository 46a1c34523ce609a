// libFuzzer harness: data::decode_image (PNG and JPEG through stb_image) as stored and converted
// to RGB. The pixel limit is lowered so that one input cannot take seconds; the default limit is
// tested in tests/data/image_test.cpp.
#include "fuzz_input.hpp"
#include "omni/data/image/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    omni_fuzz::expect_omni_errors([&] { (void)omni::data::decode_image(bytes, {.max_pixels = 1 << 20}, "fuzz.img"); });
    omni_fuzz::expect_omni_errors(
        [&] { (void)omni::data::decode_image(bytes, {.channels = 3, .layout = omni::data::ImageLayout::hwc, .max_pixels = 1 << 20}, "fuzz.img"); });
    return 0;
}

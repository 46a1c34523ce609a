// libFuzzer harness: data::decode_image as stored and converted to RGB. Built twice
// (tests/fuzz/CMakeLists.txt): image_fuzz decodes JPEG through libjpeg-turbo (OMNI_WITH_LIBJPEG),
// image_stb_fuzz through stb_image; PNG goes through stb_image in both. The pixel limit is lowered so that one input cannot take seconds; the default limit is
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

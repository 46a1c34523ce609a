// libFuzzer harness: data::load_av_clips on a clips.jsonl of arbitrary bytes, in a directory that
// holds one real 28x28 grey PNG frame (f.png) and one 0.25 s WAV at 8 kHz (a.wav), so lines that
// name them reach the image, audio and resampling paths.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <vector>

#include "fuzz_input.hpp"
#include "omni/data/av_clips.hpp"

namespace {
const std::filesystem::path& clip_dir() {
    static const std::filesystem::path dir = [] {
        const std::filesystem::path d = omni_fuzz::scratch_dir() / "clips";
        std::filesystem::create_directories(d);
        std::vector<std::uint8_t> grey(28 * 28);
        for (std::size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<std::uint8_t>(i * 7);
        stbi_write_png((d / "f.png").c_str(), 28, 28, 1, grey.data(), 28);
        const std::vector<float> wave(2000, 0.25f);
        omni::data::write_wav(d / "a.wav", wave, 1, 8000);
        return d;
    }();
    return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path& dir = clip_dir();
    {
        std::ofstream out(dir / "clips.jsonl", std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    omni_fuzz::expect_omni_errors([&] { (void)omni::data::load_av_clips(dir); });
    return 0;
}

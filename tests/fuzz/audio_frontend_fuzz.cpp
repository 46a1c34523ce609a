// libFuzzer harness: what the audio frontend does with a file it reads: decode_wav, then the
// resampler to the frontend's rate and the log-mel (AudioFrontend::log_mel), as load() does.
#include "fuzz_input.hpp"
#include "omni/data/audio/frontend.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const omni::data::AudioFrontend frontend([] {
        omni::data::AudioFrontendOptions o;
        o.fbank.sample_rate = 16000;
        o.target_frames = 16;
        return o;
    }());
    omni_fuzz::expect_omni_errors([&] {
        const omni::data::Wav wav = omni::data::decode_wav({data, size}, "fuzz.wav");
        (void)frontend(wav.samples, wav.sample_rate);
    });
    return 0;
}

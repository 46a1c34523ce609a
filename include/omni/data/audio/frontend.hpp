#pragma once
// The audio frontends of the seed systems: resample, pad, remove the mean, log-mel, fix the frame
// count, augment, normalise, lay out. ref: the Omni-C release's utils/audio_dataset.py (AudioSet clips to
// [128, 256]) and AST (Gong et al. 2021, ast/src/dataloader.py, AudioSet recipe).
//
// Two stages because Omni-C augments twice per clip: log_mel() is the deterministic part (its
// steps 1-3), view() makes one view of it (step 4: circular shift, SpecAugment, normalisation,
// transpose). Augmentation draws come from an omni::Generator, so a seed fixes every view.
// Needs omni::fftw (see fbank.hpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"
#include "omni/core/rng.hpp"
#include "omni/data/audio/fbank.hpp"
#include "omni/data/audio/resample.hpp"
#include "omni/data/audio/wav.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::data {

enum class FramePad {
    mirror,  // Omni-C: the last frames in reverse order, repeated cyclically when short
    zeros,   // AST: ZeroPad2d
};

namespace audio_detail {
OMNI_FFTW_INLINE std::vector<float> frames_of(const Tensor<cpu>& fb, const char* op)
#if OMNI_FFTW_DEFINE
{
    if (fb.dim() != 2) throw shape_error(op, "expected a [frames, bins] tensor, got " + fb.shape().str());
    return fb.to_vector<float>();
}
#else
;
#endif
}  // namespace audio_detail

// [T, F] -> [target, F]. Longer inputs are truncated. Shorter ones are padded after their last
// frame (step 3): mirror fills pad[n+i] = fb[n-1-i] for the first min(n, p) missing frames
// and, when p > n, repeats that reversed block cyclically, pad[2n+i] = pad[n + i mod n]; zeros
// fills zero rows. A tensor with no frames pads with zeros in either mode.
OMNI_FFTW_INLINE Tensor<cpu> fix_frames(const Tensor<cpu>& fb, std::int64_t target, FramePad mode = FramePad::mirror)
#if OMNI_FFTW_DEFINE
{
    const std::vector<float> in = audio_detail::frames_of(fb, "fix_frames");
    if (target < 0) throw value_error("fix_frames", "expected target frames >= 0, got " + std::to_string(target));
    const std::int64_t n = fb.size(0), bins = fb.size(1);
    Tensor<cpu> out = Tensor<cpu>::zeros(Shape{target, bins});
    float* o = out.data<float>();
    for (std::int64_t t = 0; t < target; ++t) {
        std::int64_t src = t;
        if (t >= n) {
            if (mode == FramePad::zeros || n == 0) continue;
            src = n - 1 - (t - n) % n;
        }
        std::copy_n(in.data() + src * bins, bins, o + t * bins);
    }
    return out;
}
#else
;
#endif

/// Options of AudioFrontend::view()'s augmentation: a circular time shift, one frequency and one time mask.
/// Omni-C's augmentation settings (step 4) are the defaults.
struct SpecAugmentOptions {
    int max_time_shift = 25;   // circular shift s ~ U{-max..max} along time; 0 disables
    int freq_mask_param = 25;  // one frequency mask of width floor(u * param), i.e. 0..param-1; 0 disables
    int time_mask_param = 50;  // one time mask, likewise
    float mask_value = 0;      // written before normalisation, so a masked cell ends near 0.467
};

/// One view's random choices; [start, start + width) is masked.
struct SpecAugmentDraw {
    std::int64_t shift = 0;
    std::int64_t freq_start = 0, freq_width = 0;
    std::int64_t time_start = 0, time_width = 0;
};

namespace audio_detail {
// torchaudio 0.8 mask_along_axis: value = u1 * param, start = floor(u2 * (size - value)),
// end = start + floor(value). Clamped to the axis when param exceeds its size.
OMNI_FFTW_INLINE void draw_mask(Generator& gen, int param, std::int64_t size, std::int64_t& start, std::int64_t& width)
#if OMNI_FFTW_DEFINE
{
    if (param <= 0 || size <= 0) return;
    const double value = gen.uniform() * param;
    const double min_value = gen.uniform() * (static_cast<double>(size) - value);
    start = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(min_value)), 0, size);
    width = std::min<std::int64_t>(static_cast<std::int64_t>(std::floor(value)), size - start);
}
#else
;
#endif
}  // namespace audio_detail

// Draws in the order they are applied: the shift (one uniform), the frequency mask (two), the time
// mask (two); a disabled step draws nothing.
OMNI_FFTW_INLINE SpecAugmentDraw draw_spec_augment(std::int64_t frames, std::int64_t bins, const SpecAugmentOptions& opt,
                                         Generator& gen)
#if OMNI_FFTW_DEFINE
{
    SpecAugmentDraw d;
    if (opt.max_time_shift > 0) {
        const std::int64_t choices = 2 * static_cast<std::int64_t>(opt.max_time_shift) + 1;
        d.shift = std::min<std::int64_t>(static_cast<std::int64_t>(gen.uniform() * static_cast<double>(choices)),
                                         choices - 1) - opt.max_time_shift;
    }
    audio_detail::draw_mask(gen, opt.freq_mask_param, bins, d.freq_start, d.freq_width);
    audio_detail::draw_mask(gen, opt.time_mask_param, frames, d.time_start, d.time_width);
    return d;
}
#else
;
#endif

// [T, F] -> [T, F]: out[t] = in[(t - shift) mod T] (torch.roll along time), then both masks.
OMNI_FFTW_INLINE Tensor<cpu> apply_spec_augment(const Tensor<cpu>& fb, const SpecAugmentDraw& d, float mask_value = 0)
#if OMNI_FFTW_DEFINE
{
    const std::vector<float> in = audio_detail::frames_of(fb, "apply_spec_augment");
    const std::int64_t n = fb.size(0), bins = fb.size(1);
    Tensor<cpu> out = Tensor<cpu>::empty(Shape{n, bins});
    float* o = out.data<float>();
    for (std::int64_t t = 0; t < n; ++t) {
        const std::int64_t src = ((t - d.shift) % n + n) % n;
        std::copy_n(in.data() + src * bins, bins, o + t * bins);
    }
    const std::int64_t f0 = std::clamp<std::int64_t>(d.freq_start, 0, bins),
                       f1 = std::clamp<std::int64_t>(d.freq_start + d.freq_width, f0, bins);
    const std::int64_t t0 = std::clamp<std::int64_t>(d.time_start, 0, n),
                       t1 = std::clamp<std::int64_t>(d.time_start + d.time_width, t0, n);
    for (std::int64_t t = 0; t < n; ++t) {
        if (t >= t0 && t < t1) {
            std::fill_n(o + t * bins, bins, mask_value);
        } else {
            std::fill(o + t * bins + f0, o + t * bins + f1, mask_value);
        }
    }
    return out;
}
#else
;
#endif

// (x - mean) / (2 std): AST's convention, which Omni-C copies with AudioSet's statistics.
OMNI_FFTW_INLINE Tensor<cpu> normalize_fbank(const Tensor<cpu>& fb, float mean = -4.2677393f, float std = 4.5689974f)
#if OMNI_FFTW_DEFINE
{
    std::vector<float> v = fb.to_vector<float>();
    const float denom = std * 2.0f;
    for (float& x : v) x = (x - mean) / denom;
    return Tensor<cpu>::from_data(v, fb.shape());
}
#else
;
#endif

/// Options of AudioFrontend: filterbank, resampling, channel, padding, frame count, augmentation, normalisation and layout;
/// presets omni_c() and ast().
struct AudioFrontendOptions {
    FbankOptions fbank;
    // Used when a clip's rate differs from fbank.sample_rate: torchaudio's filter with exact
    // phases. torchaudio rounds them to float32, which moves samples by up to ~2e-5 and, on the
    // parity clips, log-mel cells by up to 0.04 near -8 and 0.2 in near-silent cells; omni
    // matches torchaudio run in float64.
    ResampleOptions resample;
    int channel = 0;                  // the channel load() keeps; mix_channels averages them
    std::int64_t min_samples = 0;     // shorter clips are zero-padded (after resampling)
    bool subtract_mean = true;        // remove the clip's mean before framing
    std::int64_t target_frames = 0;   // 0 keeps every frame
    FramePad pad = FramePad::mirror;
    SpecAugmentOptions augment;       // applied by view() when given a Generator
    bool normalize = true;
    float norm_mean = -4.2677393f, norm_std = 4.5689974f;  // AudioSet statistics from AST
    bool freq_major = true;           // view() lays out [F, T] (Omni-C) instead of [T, F] (AST)

    // The release: 32 kHz, at least 800 samples, mean removed, 256 mirror-padded frames, shift 25 and
    // masks 25/50, normalised, [128, 256]. Channel 0 as the Omni-C loader reads it.
    static AudioFrontendOptions omni_c() {
        AudioFrontendOptions o;
        o.fbank = FbankOptions::omni_c();
        o.min_samples = 800;
        o.target_frames = 256;
        return o;
    }
    // AST's AudioSet recipe: 16 kHz, 1024 zero-padded frames, masks 48/192, no shift, [1024, 128].
    static AudioFrontendOptions ast() {
        AudioFrontendOptions o;
        o.fbank = FbankOptions::ast();
        o.target_frames = 1024;
        o.pad = FramePad::zeros;
        o.augment = {.max_time_shift = 0, .freq_mask_param = 48, .time_mask_param = 192};
        o.freq_major = false;
        return o;
    }
};

/// A frontend for one set of options; cheap to call from many threads (const, no shared state
/// besides FFTW plans).
class AudioFrontend {
public:
    explicit AudioFrontend(const AudioFrontendOptions& opt) : opt_(opt), fbank_(opt.fbank) {}
    const AudioFrontendOptions& options() const { return opt_; }

    // Steps 1-3: samples at sample_rate -> [target_frames, F] log-mel, unnormalised.
    Tensor<cpu> log_mel(std::span<const float> wave, std::int64_t sample_rate) const;
    Tensor<cpu> log_mel(const Wav& wav) const { return log_mel(wav.samples, wav.sample_rate); }
    Tensor<cpu> load(const std::filesystem::path& path) const { return log_mel(read_wav(path, opt_.channel)); }

    // Step 4: one view of log_mel(). With a Generator: circular shift and SpecAugment; then
    // normalisation and the layout ([F, T] when freq_major).
    Tensor<cpu> view(const Tensor<cpu>& log_mel, Generator* gen = nullptr) const;

    // Evaluation features: log_mel() then view() without augmentation.
    Tensor<cpu> operator()(std::span<const float> wave, std::int64_t sample_rate) const;

private:
    AudioFrontendOptions opt_;
    Fbank fbank_;
};

#if OMNI_FFTW_DEFINE
OMNI_FFTW_INLINE Tensor<cpu> AudioFrontend::log_mel(std::span<const float> wave, std::int64_t sample_rate) const {
    const double rate = opt_.fbank.sample_rate;
    std::vector<float> x;
    if (static_cast<double>(sample_rate) != rate) {
        if (rate != std::floor(rate))
            throw value_error("audio_frontend", "expected an integer fbank sample_rate to resample to, got " +
                                                    std::to_string(rate));
        x = Resampler(sample_rate, static_cast<std::int64_t>(rate), opt_.resample)(wave);
    } else {
        x.assign(wave.begin(), wave.end());
    }
    if (static_cast<std::int64_t>(x.size()) < opt_.min_samples) x.resize(static_cast<std::size_t>(opt_.min_samples), 0.0f);
    if (opt_.subtract_mean && !x.empty()) {
        double sum = 0;
        for (const float v : x) sum += v;
        const float mean = static_cast<float>(sum / static_cast<double>(x.size()));
        for (float& v : x) v -= mean;
    }
    Tensor<cpu> fb = fbank_(x);
    return opt_.target_frames > 0 ? fix_frames(fb, opt_.target_frames, opt_.pad) : fb;
}

OMNI_FFTW_INLINE Tensor<cpu> AudioFrontend::view(const Tensor<cpu>& log_mel, Generator* gen) const {
    Tensor<cpu> x = log_mel;
    if (gen) {
        const SpecAugmentDraw d = draw_spec_augment(x.size(0), x.size(1), opt_.augment, *gen);
        x = apply_spec_augment(x, d, opt_.augment.mask_value);
    }
    if (opt_.normalize) x = normalize_fbank(x, opt_.norm_mean, opt_.norm_std);
    return opt_.freq_major ? x.transpose(0, 1).contiguous() : x;
}

OMNI_FFTW_INLINE Tensor<cpu> AudioFrontend::operator()(std::span<const float> wave, std::int64_t sample_rate) const {
    return view(log_mel(wave, sample_rate));
}
#endif

}  // namespace omni::data

#pragma once
// Band-limited resampling between integer sample rates, [n] -> [ceil(n * new / orig)].
// ref: torchaudio.functional.resample (0.13), same algorithm and defaults, so a clip resampled
// here matches one resampled by the Omni-C and AST data loaders (tests/parity checks ~1e-6).
//
// The ratio is reduced by the gcd to down:up; output sample k*up + p is a dot product of the
// input around k*down with phase p of a windowed sinc whose cutoff is rolloff x the lower of the
// two Nyquist rates. The window (Hann-squared-cosine or Kaiser) spans lowpass_filter_width zero
// crossings each side. torchaudio stores every phase over the whole span 2*width + down and
// convolves with it; here each phase keeps only the taps inside its window (the rest are zero, or
// ~1e-24 for Kaiser), so a prime ratio such as 44101 -> 16000 costs the same per sample as 2:1.
//
// Accuracy (tone gain after resampling, away from the clip edges; frequency and phase are kept
// to 1e-11 rad; tests/data/audio_test.cpp pins the numbers marked *):
//   default (hann, width 6, rolloff 0.99, ~12-33 taps per output sample):
//     passband gain within 0.03 dB (0.35%*) up to 0.7 x the lower Nyquist rate, -0.5 dB at 0.8,
//     -2.4 dB at 0.9; a tone at 1.25 x the new Nyquist rate folds back at -45 dB*, at 1.5 x at
//     -55 dB, at 1.1 x only at -14 dB (still inside the transition band).
//   kaiser_best() (width 64, rolloff 0.9476, beta 14.77, ~135-370 taps):
//     gain within 1e-5* up to 0.8 x Nyquist, -0.02 dB at 0.9; aliases below -140 dB*.
// The first and last ~width input samples see zero padding, as in torchaudio.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"

namespace omni::data {

enum class ResampleWindow { hann, kaiser };

/// Options of Resampler (torchaudio.functional.resample's): filter width, rolloff and window.
struct ResampleOptions {
    int lowpass_filter_width = 6;          // zero crossings of the sinc kept on each side
    double rolloff = 0.99;                 // cutoff as a fraction of the lower Nyquist rate
    ResampleWindow window = ResampleWindow::hann;
    double beta = 14.769656459379492;      // Kaiser shape; ignored by hann

    // Long Kaiser filters as librosa/resampy name them: best quality, and a cheaper compromise.
    static ResampleOptions kaiser_best() { return {64, 0.9475937167399596, ResampleWindow::kaiser, 14.769656459379492}; }
    static ResampleOptions kaiser_fast() { return {16, 0.85, ResampleWindow::kaiser, 8.555504641634386}; }
};

/// A resampler for one rate pair; build it once and apply it to many clips.
class Resampler {
public:
    Resampler(std::int64_t orig_rate, std::int64_t new_rate, const ResampleOptions& opt = {});

    std::int64_t orig_rate() const { return orig_rate_; }
    std::int64_t new_rate() const { return new_rate_; }
    // Output samples for n input samples: ceil(n * new / orig).
    std::int64_t output_length(std::int64_t n) const { return (n * up_ + down_ - 1) / down_; }
    // Taps per output sample averaged over phases: the cost of one output sample.
    double taps_per_sample() const {
        return up_ == down_ ? 1.0 : static_cast<double>(taps_.size()) / static_cast<double>(up_);
    }

    std::vector<float> operator()(std::span<const float> x) const;

private:
    std::int64_t orig_rate_, new_rate_;
    std::int64_t down_ = 1, up_ = 1, width_ = 0;
    std::vector<std::int64_t> first_;   // per phase: input offset of the first tap, relative to k*down
    std::vector<std::size_t> offset_;   // per phase: where its taps start in taps_ (up_ + 1 entries)
    std::vector<float> taps_;
};

#if OMNI_LIB_DEFINE
OMNI_LIB_INLINE Resampler::Resampler(std::int64_t orig_rate, std::int64_t new_rate, const ResampleOptions& opt) : orig_rate_(orig_rate), new_rate_(new_rate) {
    const std::string op = "resample";
    if (orig_rate <= 0 || new_rate <= 0)
        throw value_error(op, "expected positive sample rates, got " + std::to_string(orig_rate) + " -> " +
                                  std::to_string(new_rate));
    if (opt.lowpass_filter_width <= 0)
        throw value_error(op, "expected lowpass_filter_width > 0, got " + std::to_string(opt.lowpass_filter_width));
    if (!(opt.rolloff > 0 && opt.rolloff <= 1))
        throw value_error(op, "expected rolloff in (0, 1], got " + std::to_string(opt.rolloff));
    if (opt.window == ResampleWindow::kaiser && !(opt.beta >= 0))
        throw value_error(op, "expected a Kaiser beta >= 0, got " + std::to_string(opt.beta));
    const std::int64_t g = std::gcd(orig_rate, new_rate);
    down_ = orig_rate / g;
    up_ = new_rate / g;
    if (down_ == up_) return;  // same rate: a copy, as torchaudio returns its input

    const double lpw = opt.lowpass_filter_width;
    const double base = static_cast<double>(std::min(down_, up_)) * opt.rolloff;
    width_ = static_cast<std::int64_t>(std::ceil(lpw * static_cast<double>(down_) / base));
    const double scale = base / static_cast<double>(down_);
    const double i0_beta = std::cyl_bessel_i(0.0, opt.beta);
    const double pi = 3.14159265358979323846;
    const std::int64_t span = 2 * width_ + down_;
    first_.resize(static_cast<std::size_t>(up_));
    offset_.assign(1, 0);
    for (std::int64_t p = 0; p < up_; ++p) {
        // torchaudio rounds -p/up to float32 here, a timing error of up to 6e-8 x down input
        // samples (2.6e-3 samples for 44101 -> 16000); double keeps the phase exact.
        const double phase = -static_cast<double>(p) / static_cast<double>(up_);
        const double centre = static_cast<double>(width_) - phase * static_cast<double>(down_);
        const double half = lpw * static_cast<double>(down_) / base;
        const std::int64_t lo = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(centre - half)) - 1);
        const std::int64_t hi = std::min<std::int64_t>(span - 1, static_cast<std::int64_t>(std::ceil(centre + half)) + 1);
        std::int64_t first = -1;
        std::vector<float> taps;
        for (std::int64_t m = lo; m <= hi; ++m) {
            const double t = (phase + static_cast<double>(m - width_) / static_cast<double>(down_)) * base;
            if (!(std::abs(t) < lpw)) continue;  // outside the window: zero (or ~1e-24 for Kaiser)
            double w;
            if (opt.window == ResampleWindow::hann) {
                const double c = std::cos(t * pi / lpw / 2);
                w = c * c;
            } else {
                w = std::cyl_bessel_i(0.0, opt.beta * std::sqrt(1 - (t / lpw) * (t / lpw))) / i0_beta;
            }
            const double tp = t * pi;
            const double sinc = tp == 0 ? 1.0 : std::sin(tp) / tp;
            if (first < 0) first = m;
            taps.push_back(static_cast<float>(sinc * (w * scale)));
        }
        // Trailing and leading exact zeros (the Hann window's end points) cost a multiply each.
        while (!taps.empty() && taps.back() == 0.0f) taps.pop_back();
        std::size_t lead = 0;
        while (lead < taps.size() && taps[lead] == 0.0f) ++lead;
        first_[static_cast<std::size_t>(p)] = (first < 0 ? 0 : first + static_cast<std::int64_t>(lead)) - width_;
        taps_.insert(taps_.end(), taps.begin() + static_cast<std::ptrdiff_t>(lead), taps.end());
        offset_.push_back(taps_.size());
    }
}

OMNI_LIB_INLINE std::vector<float> Resampler::operator()(std::span<const float> x) const {
    if (up_ == down_) return std::vector<float>(x.begin(), x.end());
    const std::int64_t n = static_cast<std::int64_t>(x.size()), len = output_length(n);
    std::vector<float> y(static_cast<std::size_t>(len));
    for (std::int64_t o0 = 0; o0 < len; o0 += up_) {
        const std::int64_t k = o0 / up_;
        for (std::int64_t p = 0; p < up_ && o0 + p < len; ++p) {
            const float* h = taps_.data() + offset_[static_cast<std::size_t>(p)];
            const std::int64_t count = static_cast<std::int64_t>(offset_[static_cast<std::size_t>(p) + 1] -
                                                                 offset_[static_cast<std::size_t>(p)]);
            const std::int64_t start = k * down_ + first_[static_cast<std::size_t>(p)];
            // Taps that fall before the first or after the last input sample meet zero padding.
            const std::int64_t a = std::max<std::int64_t>(0, -start), b = std::min<std::int64_t>(count, n - start);
            double acc = 0;
            for (std::int64_t j = a; j < b; ++j) acc += static_cast<double>(h[j]) * x[static_cast<std::size_t>(start + j)];
            y[static_cast<std::size_t>(o0 + p)] = static_cast<float>(acc);
        }
    }
    return y;
}
#endif

// One-off resampling; build a Resampler to reuse the kernel across clips.
OMNI_LIB_INLINE std::vector<float> resample(std::span<const float> x, std::int64_t orig_rate, std::int64_t new_rate,
                                   const ResampleOptions& opt = {})
#if OMNI_LIB_DEFINE
{
    return Resampler(orig_rate, new_rate, opt)(x);
}
#else
;
#endif

}  // namespace omni::data

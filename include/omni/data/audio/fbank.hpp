#pragma once
// Kaldi-compatible log-mel filterbank: mono float samples [n] -> Tensor<cpu> float32
// [frames, num_mel_bins (+1 with use_energy)]. ref: Kaldi compute-fbank-feats as re-implemented
// by torchaudio.compliance.kaldi.fbank (0.13). Defaults are Kaldi's; the Omni-C and AST settings
// are FbankOptions::omni_c() / ast() and the whole pipelines live in frontend.hpp.
//
// Accuracy (tests/data/audio_parity_test.cpp, espeak-ng speech, against torchaudio run in
// float64): within 4e-4 in log units for cells up to 60 dB under their frame's strongest cell.
// Deeper cells are limited by the float32 FFT to about 2 FLT_EPSILON sqrt(peak / cell) (1e-3 at
// 75 dB down); torchaudio's own float32 path is ~2e-3 off there, so the two agree within 2e-3.
//
// Per frame: optional dither, DC removal, pre-emphasis (the first sample is its own
// predecessor), window, zero-pad to a power of two, real FFT, power (or magnitude) spectrum,
// triangular filters on the Kaldi mel scale 1127 ln(1 + f/700) (the Nyquist bin gets weight 0),
// natural log floored at FLT_EPSILON.
//
// Linking: this header calls FFTW single precision; a target including it links omni::fftw
// (cmake/omni_fftw.cmake, -lfftw3f). Nothing else in omni includes it.
// Threads: FFTW's planner is not thread-safe, its execute functions are. One plan per FFT size is
// made under a mutex and then run with fftwf_execute_dft_r2c on buffers owned by each call, so one
// Fbank may serve many threads. The mutex cannot cover FFTW planner calls made by other code in
// the same process; such code must plan before omni runs or share a lock with it.
#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"
#include "omni/core/rng.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::data {

enum class FbankWindow { hanning, hamming, povey, rectangular, blackman };

/// Options of Fbank, the Kaldi log-mel filterbank.
/// Option names and defaults follow torchaudio.compliance.kaldi.fbank.
struct FbankOptions {
    double sample_rate = 16000;
    double frame_length_ms = 25;
    double frame_shift_ms = 10;
    std::int64_t frame_shift_samples = 0;  // > 0 overrides frame_shift_ms
    int num_mel_bins = 23;
    FbankWindow window = FbankWindow::povey;
    double blackman_coeff = 0.42;
    double dither = 0;          // std of Gaussian noise added to each sample; needs a Generator
    double preemphasis = 0.97;
    bool remove_dc_offset = true;
    bool round_to_power_of_two = true;
    bool snip_edges = true;     // false: frames centred on multiples of the shift, edges reflected
    double low_freq = 20;
    double high_freq = 0;       // <= 0: offset from the Nyquist rate
    bool htk_compat = false;    // with use_energy: energy last instead of first
    bool use_energy = false;
    bool raw_energy = true;     // energy before pre-emphasis and window
    double energy_floor = 1;
    bool use_log_fbank = true;
    bool use_power = true;      // false: magnitude spectrum

    // Omni-C (the release's utils/audio_dataset.py): 32 kHz, 128 bins, 25 ms hanning frames every
    // int(32000 * 39.12 ms) = 1251 samples, so a 10 s clip gives exactly 256 frames.
    static FbankOptions omni_c() {
        FbankOptions o;
        o.sample_rate = 32000;
        o.frame_shift_ms = 39.12;
        o.num_mel_bins = 128;
        o.window = FbankWindow::hanning;
        o.htk_compat = true;
        return o;
    }
    // AST (Gong et al. 2021): 16 kHz, 128 bins, 25 ms hanning frames every 10 ms.
    static FbankOptions ast() {
        FbankOptions o;
        o.num_mel_bins = 128;
        o.window = FbankWindow::hanning;
        o.htk_compat = true;
        return o;
    }

    // Sizes in samples, truncated as torchaudio does: int(rate * ms * 0.001).
    std::int64_t window_size() const { return static_cast<std::int64_t>(sample_rate * frame_length_ms * 0.001); }
    std::int64_t window_shift() const {
        return frame_shift_samples > 0 ? frame_shift_samples
                                       : static_cast<std::int64_t>(sample_rate * frame_shift_ms * 0.001);
    }
    std::int64_t padded_window_size() const {
        const std::int64_t n = window_size();
        if (!round_to_power_of_two || n <= 1) return n;
        std::int64_t p = 1;
        while (p < n) p *= 2;
        return p;
    }
    // Kaldi's frame count. With snip_edges a clip shorter than one window has none (torchaudio
    // asserts instead); otherwise frames are centred on multiples of the shift.
    std::int64_t num_frames(std::int64_t num_samples) const {
        const std::int64_t size = window_size(), shift = window_shift();
        if (snip_edges) return num_samples < size ? 0 : 1 + (num_samples - size) / shift;
        return (num_samples + shift / 2) / shift;
    }
};

namespace audio_detail {

struct FftwFree {
    void operator()(void* p) const { fftwf_free(p); }
};

// One r2c plan per FFT size for the whole process, created on first use.
class R2cPlans {
public:
    static R2cPlans& instance() {
        static R2cPlans cache;
        return cache;
    }
    fftwf_plan get(int n) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (const auto it = plans_.find(n); it != plans_.end()) return it->second;
        // Planned on FFTW-allocated arrays, so any buffer from fftwf_alloc_* has the alignment the
        // plan assumes. FFTW_ESTIMATE: the same algorithm every run (MEASURE times candidates and
        // may pick a different, differently rounding, one per process).
        std::unique_ptr<float, FftwFree> in(fftwf_alloc_real(static_cast<std::size_t>(n)));
        std::unique_ptr<fftwf_complex, FftwFree> out(fftwf_alloc_complex(static_cast<std::size_t>(n / 2 + 1)));
        const fftwf_plan p = fftwf_plan_dft_r2c_1d(n, in.get(), out.get(), FFTW_ESTIMATE);
        if (!p) throw value_error("fbank", "expected FFTW to plan a real FFT of size " + std::to_string(n) + ", got no plan");
        plans_.emplace(n, p);
        return p;
    }
    R2cPlans(const R2cPlans&) = delete;
    R2cPlans& operator=(const R2cPlans&) = delete;

private:
    R2cPlans() = default;
    ~R2cPlans() {
        for (auto& kv : plans_) fftwf_destroy_plan(kv.second);
    }
    std::mutex mutex_;
    std::map<int, fftwf_plan> plans_;
};

}  // namespace audio_detail

/// A filterbank for one set of options: window, mel filters and FFT plan built once.
class Fbank {
public:
    explicit Fbank(const FbankOptions& opt);

    const FbankOptions& options() const { return opt_; }
    std::int64_t num_frames(std::int64_t num_samples) const { return opt_.num_frames(num_samples); }
    std::int64_t num_features() const { return opt_.num_mel_bins + (opt_.use_energy ? 1 : 0); }
    // Centre frequency of each mel filter in Hz.
    std::vector<double> center_freqs() const;
    static double mel(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

    // [num_frames, num_features] float32. `gen` is required when dither > 0.
    Tensor<cpu> operator()(std::span<const float> wave, Generator* gen = nullptr) const;

    // Writes num_frames(wave.size()) rows of num_features() floats to `out`.
    void compute(std::span<const float> wave, float* out, Generator* gen = nullptr) const;

private:
    static double frame_energy(const double* x, std::int64_t n) {
        double s = 0;
        for (std::int64_t j = 0; j < n; ++j) s += x[j] * x[j];
        return s;
    }

    // Copies frame f's samples to x. With snip_edges=false the signal is extended as torchaudio
    // does: the first samples mirrored on the left (x[pad-1], ..., x[0], x[0], x[1], ...) and the
    // whole clip reversed on the right; a negative pad drops samples from the front instead.
    void load_frame(std::span<const float> wave, std::int64_t f, double* x) const;

    // torch.*_window(periodic=False); in double, as torchaudio evaluates them for float64 input.
    void make_window();

    // Triangular filters, stored sparsely (each covers a few dozen FFT bins at most). The
    // arithmetic is float32 in torchaudio's order: with 512-point FFTs some low filters hold a
    // single bin near their edge, whose small weight would otherwise differ in relative terms.
    void make_mel_banks();

    FbankOptions opt_;
    std::int64_t size_ = 0, shift_ = 0, padded_ = 0;
    double high_freq_ = 0;
    std::vector<double> window_;
    std::vector<std::int64_t> mel_first_;  // first FFT bin of each filter
    std::vector<std::size_t> mel_offset_;  // filter m's weights: mel_weight_[offset[m], offset[m+1])
    std::vector<float> mel_weight_;
    fftwf_plan plan_ = nullptr;
};

#if OMNI_FFTW_DEFINE
OMNI_FFTW_INLINE Fbank::Fbank(const FbankOptions& opt) : opt_(opt) {
    const std::string op = "fbank";
    auto need = [&](bool ok, const std::string& what) {
        if (!ok) throw value_error(op, what);
    };
    need(opt.sample_rate > 0, "expected sample_rate > 0, got " + std::to_string(opt.sample_rate));
    size_ = opt.window_size();
    shift_ = opt.window_shift();
    padded_ = opt.padded_window_size();
    need(size_ >= 2, "expected a window of at least 2 samples, got " + std::to_string(size_) + " (" +
                         std::to_string(opt.frame_length_ms) + " ms at " + std::to_string(opt.sample_rate) + " Hz)");
    need(shift_ > 0, "expected a frame shift of at least 1 sample, got " + std::to_string(shift_));
    need(padded_ % 2 == 0 && padded_ <= (1 << 24),
         "expected an even padded window size up to 2^24, got " + std::to_string(padded_) +
             " (use round_to_power_of_two or change frame_length_ms)");
    need(opt.preemphasis >= 0 && opt.preemphasis <= 1,
         "expected preemphasis in [0, 1], got " + std::to_string(opt.preemphasis));
    need(opt.num_mel_bins >= 3, "expected at least 3 mel bins, got " + std::to_string(opt.num_mel_bins));
    need(opt.dither >= 0, "expected dither >= 0, got " + std::to_string(opt.dither));
    const double nyquist = 0.5 * opt.sample_rate;
    high_freq_ = opt.high_freq <= 0 ? opt.high_freq + nyquist : opt.high_freq;
    need(opt.low_freq >= 0 && opt.low_freq < nyquist && high_freq_ > 0 && high_freq_ <= nyquist &&
             opt.low_freq < high_freq_,
         "expected 0 <= low_freq < high_freq <= Nyquist " + std::to_string(nyquist) + ", got low_freq " +
             std::to_string(opt.low_freq) + " and high_freq " + std::to_string(high_freq_));
    make_window();
    make_mel_banks();
    plan_ = audio_detail::R2cPlans::instance().get(static_cast<int>(padded_));
}

OMNI_FFTW_INLINE std::vector<double> Fbank::center_freqs() const {
    std::vector<double> f(static_cast<std::size_t>(opt_.num_mel_bins));
    const double lo = mel(opt_.low_freq), delta = (mel(high_freq_) - lo) / (opt_.num_mel_bins + 1);
    for (std::size_t j = 0; j < f.size(); ++j) f[j] = 700.0 * (std::exp((lo + (static_cast<double>(j) + 1.0) * delta) / 1127.0) - 1.0);
    return f;
}

OMNI_FFTW_INLINE Tensor<cpu> Fbank::operator()(std::span<const float> wave, Generator* gen) const {
    const std::int64_t frames = num_frames(static_cast<std::int64_t>(wave.size()));
    Tensor<cpu> out = Tensor<cpu>::empty(Shape{frames, num_features()});
    compute(wave, out.data<float>(), gen);
    return out;
}

OMNI_FFTW_INLINE void Fbank::compute(std::span<const float> wave, float* out, Generator* gen) const {
    if (opt_.dither > 0 && !gen)
        throw value_error("fbank", "expected a Generator for dither " + std::to_string(opt_.dither) + ", got none");
    const std::int64_t n = static_cast<std::int64_t>(wave.size()), frames = num_frames(n);
    const std::uint64_t noise = (opt_.dither > 0) ? gen->next_offset() : 0;
    const std::int64_t bins = padded_ / 2 + 1, width = num_features();
    std::unique_ptr<float, audio_detail::FftwFree> buf(fftwf_alloc_real(static_cast<std::size_t>(padded_)));
    std::unique_ptr<fftwf_complex, audio_detail::FftwFree> spec(fftwf_alloc_complex(static_cast<std::size_t>(bins)));
    if (!buf || !spec) throw std::bad_alloc();
    float* x = buf.get();
    std::vector<double> frame(static_cast<std::size_t>(size_));
    double* y = frame.data();
    std::vector<float> power(static_cast<std::size_t>(bins));
    const float eps = 1.1920928955078125e-07f;  // FLT_EPSILON, Kaldi's floor
    const double coeff = opt_.preemphasis;
    const double log_floor = opt_.energy_floor > 0 ? std::log(opt_.energy_floor) : -HUGE_VAL;

    for (std::int64_t f = 0; f < frames; ++f) {
        // Everything before the FFT runs in double. Pre-emphasis cancels most of the low
        // frequencies, so float32 rounding there is magnified in the quiet low bands of loud
        // frames; in double, the only float32 step left is the FFT itself.
        load_frame(wave, f, y);
        if (opt_.dither > 0)
            for (std::int64_t j = 0; j < size_; ++j)
                y[j] += opt_.dither * philox_normal(gen->seed(), noise, static_cast<std::uint64_t>(f * size_ + j));
        if (opt_.remove_dc_offset) {
            double sum = 0;
            for (std::int64_t j = 0; j < size_; ++j) sum += y[j];
            const double mean = sum / static_cast<double>(size_);
            for (std::int64_t j = 0; j < size_; ++j) y[j] -= mean;
        }
        double energy = 0;
        if (opt_.use_energy && opt_.raw_energy) energy = frame_energy(y, size_);
        if (coeff != 0) {
            for (std::int64_t j = size_ - 1; j > 0; --j) y[j] -= coeff * y[j - 1];
            y[0] -= coeff * y[0];
        }
        for (std::int64_t j = 0; j < size_; ++j) {
            y[j] *= window_[static_cast<std::size_t>(j)];
            x[j] = static_cast<float>(y[j]);
        }
        std::fill(x + size_, x + padded_, 0.0f);
        if (opt_.use_energy && !opt_.raw_energy) energy = frame_energy(y, size_);

        fftwf_execute_dft_r2c(plan_, x, spec.get());
        for (std::int64_t k = 0; k < bins; ++k) {
            const float re = spec.get()[k][0], im = spec.get()[k][1];
            const float p = re * re + im * im;
            power[static_cast<std::size_t>(k)] = opt_.use_power ? p : std::sqrt(p);
        }

        float* row = out + f * width;
        float* mels = row + ((opt_.use_energy && !opt_.htk_compat) ? 1 : 0);
        for (int m = 0; m < opt_.num_mel_bins; ++m) {
            const std::size_t a = mel_offset_[static_cast<std::size_t>(m)], b = mel_offset_[static_cast<std::size_t>(m) + 1];
            const float* pw = power.data() + mel_first_[static_cast<std::size_t>(m)];
            float acc = 0;
            for (std::size_t i = a; i < b; ++i) acc += mel_weight_[i] * pw[i - a];
            mels[m] = opt_.use_log_fbank ? std::log(std::max(acc, eps)) : acc;
        }
        if (opt_.use_energy) {
            const double e = std::max(std::log(std::max(energy, static_cast<double>(eps))), log_floor);
            row[opt_.htk_compat ? opt_.num_mel_bins : 0] = static_cast<float>(e);
        }
    }
}

OMNI_FFTW_INLINE void Fbank::load_frame(std::span<const float> wave, std::int64_t f, double* x) const {
    const std::int64_t n = static_cast<std::int64_t>(wave.size());
    if (opt_.snip_edges) {
        std::copy_n(wave.data() + f * shift_, size_, x);
        return;
    }
    const std::int64_t pad = size_ / 2 - shift_ / 2;
    for (std::int64_t j = 0; j < size_; ++j) {
        std::int64_t e = f * shift_ + j, i;
        if (pad >= 0) {
            i = e < pad ? pad - 1 - e : (e < pad + n ? e - pad : n - 1 - (e - pad - n));
        } else {
            i = e < n + pad ? e - pad : n - 1 - (e - (n + pad));
        }
        // Only reachable for clips shorter than half a window, where torchaudio fails.
        if (i < 0 || i >= n)
            throw value_error("fbank", "expected a clip of at least " + std::to_string(size_ / 2) +
                                           " samples with snip_edges=false, got " + std::to_string(n));
        x[j] = wave[static_cast<std::size_t>(i)];
    }
}

OMNI_FFTW_INLINE void Fbank::make_window() {
    window_.resize(static_cast<std::size_t>(size_));
    const double a = 2 * 3.14159265358979323846 / static_cast<double>(size_ - 1);
    for (std::int64_t j = 0; j < size_; ++j) {
        const double c = std::cos(a * static_cast<double>(j));
        double w = 1;
        switch (opt_.window) {
        case FbankWindow::hanning: w = 0.5 - 0.5 * c; break;
        case FbankWindow::hamming: w = 0.54 - 0.46 * c; break;
        case FbankWindow::povey: w = std::pow(0.5 - 0.5 * c, 0.85); break;
        case FbankWindow::rectangular: w = 1; break;
        case FbankWindow::blackman:
            w = opt_.blackman_coeff - 0.5 * c + (0.5 - opt_.blackman_coeff) * std::cos(2 * a * static_cast<double>(j));
            break;
        }
        window_[static_cast<std::size_t>(j)] = w;
    }
}

OMNI_FFTW_INLINE void Fbank::make_mel_banks() {
    const int m_bins = opt_.num_mel_bins;
    const std::int64_t fft_bins = padded_ / 2;  // the Nyquist bin is left out (weight 0)
    const float bin_width = static_cast<float>(opt_.sample_rate / static_cast<double>(padded_));
    const double mel_lo = mel(opt_.low_freq), mel_hi = mel(high_freq_);
    const float lo = static_cast<float>(mel_lo), delta = static_cast<float>((mel_hi - mel_lo) / (m_bins + 1));
    std::vector<float> bin_mel(static_cast<std::size_t>(fft_bins));
    for (std::int64_t k = 0; k < fft_bins; ++k) {
        const float hz = bin_width * static_cast<float>(k);
        const float ratio = 1.0f + hz / 700.0f;
        bin_mel[static_cast<std::size_t>(k)] = 1127.0f * static_cast<float>(std::log(static_cast<double>(ratio)));
    }
    mel_offset_.assign(1, 0);
    for (int m = 0; m < m_bins; ++m) {
        const float left = lo + static_cast<float>(m) * delta;
        const float centre = lo + static_cast<float>(m + 1) * delta;
        const float right = lo + static_cast<float>(m + 2) * delta;
        std::int64_t first = -1, last = -1;
        std::vector<float> w(static_cast<std::size_t>(fft_bins));
        for (std::int64_t k = 0; k < fft_bins; ++k) {
            const float x = bin_mel[static_cast<std::size_t>(k)];
            const float up = (x - left) / (centre - left), down = (right - x) / (right - centre);
            const float v = std::max(0.0f, std::min(up, down));
            w[static_cast<std::size_t>(k)] = v;
            if (v > 0) {
                if (first < 0) first = k;
                last = k;
            }
        }
        if (first < 0) first = last = 0;  // a filter between two bins: empty, its energy is 0
        else mel_weight_.insert(mel_weight_.end(), w.begin() + first, w.begin() + last + 1);
        mel_first_.push_back(first);
        mel_offset_.push_back(mel_weight_.size());
    }
}
#endif

// One-off filterbank; build an Fbank to reuse its window, filters and plan across clips.
OMNI_FFTW_INLINE Tensor<cpu> fbank(std::span<const float> wave, const FbankOptions& opt = {}, Generator* gen = nullptr)
#if OMNI_FFTW_DEFINE
{
    return Fbank(opt)(wave, gen);
}
#else
;
#endif

}  // namespace omni::data

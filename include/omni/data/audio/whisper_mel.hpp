#pragma once
// Whisper's log-mel frontend: 16 kHz mono float samples [n] -> Tensor<cpu> float32
// [n_mels, frames]. ref: transformers' WhisperFeatureExtractor (feature_size 128 for Whisper-large-v3
// and OmniVinci's audio tower, 80 for the older Whisper sizes), as OmniVinci (arXiv 2510.15870,
// sec. 2) feeds its audio encoder.
//
//   pad (zeros) or truncate to 30 s = 480,000 samples (the extractor's default), or keep the length;
//   centred STFT: n_fft 400, hop 160, periodic Hann window, reflect padding of 200 samples each side;
//   power |X|^2; the last frame is dropped (480,000 samples -> 3000 frames, 100 per second);
//   mel: Slaney-scale, Slaney-normalised triangular filters over 0..8000 Hz;
//   log10(max(mel, 1e-10)); floor at (maximum over the whole example - 8); (x + 4) / 4.
//
// Precision: framing, window, power and mel sums in double, the FFT in float32 (FFTW); the
// extractor's torch path computes everything in float32. Against it on espeak-ng speech
// (tests/parity/whisper_mel_parity_test.cpp) every cell agrees within 6e-5 (mean 3e-7), in
// output units; the filter bank equals transformers' mel_filter_bank to 1e-15.
//
// Linking: calls FFTW single precision through the shared plan cache of fbank.hpp; a target
// including it links omni::fftw. A WhisperMel may serve many threads (see fbank.hpp on FFTW plans).
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "omni/backend/cpu/parallel.hpp"
#include "omni/data/audio/fbank.hpp"

namespace omni::data {

/// Options of WhisperMel: mel bins and padding or truncation to one chunk; the STFT constants are Whisper's.
struct WhisperMelOptions {
    int n_mels = 128;                     // 80 for Whisper tiny..large-v2
    bool pad_or_truncate = true;          // to chunk_samples, as WhisperFeatureExtractor's default
    std::int64_t chunk_samples = 480000;  // 30 s at 16 kHz -> 3000 frames

    static constexpr int sample_rate = 16000, n_fft = 400, hop = 160;
    static constexpr double f_max = 8000.0;

    // Frames for n input samples (before padding or truncation).
    std::int64_t num_frames(std::int64_t n) const { return (pad_or_truncate ? chunk_samples : n) / hop; }
};

// Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above.
inline double slaney_hz_to_mel(double hz) {
    const double logstep = 27.0 / std::log(6.4);
    return hz < 1000.0 ? 3.0 * hz / 200.0 : 15.0 + std::log(hz / 1000.0) * logstep;
}
inline double slaney_mel_to_hz(double mel) {
    const double logstep = std::log(6.4) / 27.0;
    return mel < 15.0 ? 200.0 * mel / 3.0 : 1000.0 * std::exp(logstep * (mel - 15.0));
}

/// The frontend for one set of options: window, filters and FFT plan built once.
class WhisperMel {
public:
    explicit WhisperMel(const WhisperMelOptions& opt = {}) : opt_(opt) {
        if (opt.n_mels < 1 || opt.n_mels > 512)
            throw value_error("whisper_mel", "expected n_mels in [1, 512], got " + std::to_string(opt.n_mels));
        if (opt.pad_or_truncate && opt.chunk_samples <= n_fft / 2)
            throw value_error("whisper_mel", "expected chunk_samples > " + std::to_string(n_fft / 2) + ", got " + std::to_string(opt.chunk_samples));
        window_.resize(n_fft);
        for (int j = 0; j < n_fft; ++j) window_[static_cast<std::size_t>(j)] = 0.5 - 0.5 * std::cos(2 * 3.14159265358979323846 * j / n_fft);
        make_filters();
        plan_ = audio_detail::R2cPlans::instance().get(n_fft);
    }

    const WhisperMelOptions& options() const { return opt_; }
    // The filter bank as transformers' mel_filter_bank returns it, [n_fft/2 + 1, n_mels] float64.
    Tensor<cpu> filters() const {
        std::vector<double> f(static_cast<std::size_t>(bins * opt_.n_mels), 0.0);
        for (int m = 0; m < opt_.n_mels; ++m)
            for (std::size_t i = offset_[m]; i < offset_[m + 1]; ++i)
                f[(first_[m] + (i - offset_[m])) * static_cast<std::size_t>(opt_.n_mels) + static_cast<std::size_t>(m)] = weight_[i];
        return Tensor<cpu>::from_data(f, Shape{bins, opt_.n_mels});
    }

    Tensor<cpu> operator()(std::span<const float> wave) const {
        const char* op = "whisper_mel";
        if (wave.empty()) throw value_error(op, "expected a non-empty waveform, got 0 samples");
        for (std::size_t i = 0; i < wave.size(); ++i)
            if (!std::isfinite(wave[i]))
                throw value_error(op, "expected finite samples, got " + std::to_string(wave[i]) + " at sample " + std::to_string(i));
        std::vector<float> padded;
        std::span<const float> x = wave;
        if (opt_.pad_or_truncate && static_cast<std::int64_t>(wave.size()) != opt_.chunk_samples) {
            padded.assign(static_cast<std::size_t>(opt_.chunk_samples), 0.0f);
            std::copy_n(wave.begin(), std::min(wave.size(), padded.size()), padded.begin());
            x = padded;
        }
        const std::int64_t n = static_cast<std::int64_t>(x.size());
        if (n <= n_fft / 2)  // reflect padding needs more samples than it mirrors (torch.stft's rule)
            throw value_error(op, "expected more than " + std::to_string(n_fft / 2) + " samples without pad_or_truncate, got " + std::to_string(n));
        const std::int64_t frames = n / hop;
        const int mels = opt_.n_mels;
        std::vector<double> logmel(static_cast<std::size_t>(frames * mels));

        // 400 taps and ~400 filter weights per frame.
        backend::cpu::parallel_for(frames, 4 * n_fft, [&](std::int64_t f0, std::int64_t f1) {
            std::unique_ptr<float, audio_detail::FftwFree> buf(fftwf_alloc_real(n_fft));
            std::unique_ptr<fftwf_complex, audio_detail::FftwFree> spec(fftwf_alloc_complex(bins));
            if (!buf || !spec) throw std::bad_alloc();
            std::vector<double> power(static_cast<std::size_t>(bins));
            for (std::int64_t f = f0; f < f1; ++f) {
                for (int j = 0; j < n_fft; ++j) {
                    std::int64_t i = f * hop - n_fft / 2 + j;
                    i = i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i);
                    buf.get()[j] = static_cast<float>(window_[static_cast<std::size_t>(j)] * static_cast<double>(x[static_cast<std::size_t>(i)]));
                }
                fftwf_execute_dft_r2c(plan_, buf.get(), spec.get());
                for (int k = 0; k < bins; ++k) {
                    const double re = spec.get()[k][0], im = spec.get()[k][1];
                    power[static_cast<std::size_t>(k)] = re * re + im * im;
                }
                double* row = logmel.data() + f * mels;
                for (int m = 0; m < mels; ++m) {
                    double acc = 0;
                    const double* p = power.data() + first_[m];
                    for (std::size_t i = offset_[m]; i < offset_[m + 1]; ++i) acc += weight_[i] * p[i - offset_[m]];
                    row[m] = std::log10(std::max(acc, 1e-10));
                }
            }
        });

        double peak = -HUGE_VAL;
        for (const double v : logmel) peak = std::max(peak, v);
        Tensor<cpu> out = Tensor<cpu>::empty(Shape{mels, frames});
        float* o = out.data<float>();
        for (std::int64_t f = 0; f < frames; ++f)
            for (int m = 0; m < mels; ++m)
                o[m * frames + f] = static_cast<float>((std::max(logmel[static_cast<std::size_t>(f * mels + m)], peak - 8.0) + 4.0) / 4.0);
        return out;
    }

    static constexpr int n_fft = WhisperMelOptions::n_fft, hop = WhisperMelOptions::hop, bins = n_fft / 2 + 1;

private:
    // transformers' mel_filter_bank(201, n_mels, 0, 8000, 16000, norm="slaney", mel_scale="slaney"):
    // triangles between filter edges equally spaced in mel, on FFT bins at linspace(0, 8000, 201),
    // each scaled by 2 / (right edge - left edge) in Hz. Stored sparsely: each covers few bins.
    void make_filters() {
        const int m_count = opt_.n_mels;
        const double lo = slaney_hz_to_mel(0.0), hi = slaney_hz_to_mel(WhisperMelOptions::f_max);
        std::vector<double> edge(static_cast<std::size_t>(m_count + 2));
        for (int i = 0; i < m_count + 2; ++i)
            edge[static_cast<std::size_t>(i)] = slaney_mel_to_hz(lo + (hi - lo) * i / (m_count + 1));
        offset_.assign(1, 0);
        for (int m = 0; m < m_count; ++m) {
            const double left = edge[static_cast<std::size_t>(m)], centre = edge[static_cast<std::size_t>(m) + 1], right = edge[static_cast<std::size_t>(m) + 2];
            const double norm = 2.0 / (right - left);
            int first = -1;
            std::vector<double> w;
            for (int k = 0; k < bins; ++k) {
                const double hz = WhisperMelOptions::f_max * k / (bins - 1);
                const double v = std::max(0.0, std::min((hz - left) / (centre - left), (right - hz) / (right - centre)));
                if (v > 0) {
                    if (first < 0) first = k;
                    w.resize(static_cast<std::size_t>(k - first + 1), 0.0);
                    w.back() = v * norm;
                }
            }
            first_.push_back(first < 0 ? 0 : first);  // a filter between two bins stays empty, as in the reference
            weight_.insert(weight_.end(), w.begin(), w.end());
            offset_.push_back(weight_.size());
        }
    }

    WhisperMelOptions opt_;
    std::vector<double> window_;
    std::vector<std::size_t> first_;   // first FFT bin of each filter
    std::vector<std::size_t> offset_;  // filter m's weights: weight_[offset_[m], offset_[m+1])
    std::vector<double> weight_;
    fftwf_plan plan_ = nullptr;
};

// One-off frontend; build a WhisperMel to reuse its filters and plan across clips.
inline Tensor<cpu> whisper_mel(std::span<const float> wave, const WhisperMelOptions& opt = {}) { return WhisperMel(opt)(wave); }

}  // namespace omni::data

// omni's audio frontend against torchaudio on espeak-ng speech (tests/parity/fbank_reference.py
// writes the clips and torchaudio's outputs; ctest runs it first and passes the directory in
// OMNI_AUDIO_PARITY_DIR). Each reference comes twice: torchaudio run in float64, the exact result
// of its algorithm, and torchaudio in float32, as the seed systems ran it. omni must be within
// the limit of the float64 one, and within the limit plus torchaudio's own float32 error of the
// other. Limits (maximum absolute difference):
//   WAV decoding        0 for channel 0; 1e-7 for the channel mean (one rounding)
//   resampling          1e-6 (torchaudio float32 itself is 2e-5 off: it rounds phases to float32)
//   log-mel filterbank  1e-3 in natural-log units (Omni-C, AST and other Kaldi options), widened
//                       by float32's resolution for cells far under their frame's strongest: a
//                       float32 FFT is exact to about FLT_EPSILON x the frame's amplitude, so a
//                       cell of power E under a peak P is known to ~2 FLT_EPSILON sqrt(P / E) in
//                       log units. The limit is 1e-3 + 2 FLT_EPSILON sqrt(P / E): 1.24e-3 at 60 dB
//                       under the peak, 2.4e-3 at 80 dB, where torchaudio float32 is itself 2e-3
//                       off. Measured: at most ~4e-4 within 60 dB of the peak, ~1e-3 anywhere.
//   Omni-C view         1e-3 after normalisation, from the 22.05 kHz file through omni's
//                       resampler, padding, fbank and layout
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "omni/data/audio/frontend.hpp"

namespace od = omni::data;

namespace {
struct Case {
    std::string kind, wav, ref64, ref32;
    std::int64_t rows = 0, cols = 0;
};

std::filesystem::path dir() {
    const char* d = std::getenv("OMNI_AUDIO_PARITY_DIR");
    return d ? d : "audio_parity";
}

std::vector<Case> manifest() {
    const auto path = dir() / "manifest.txt";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("missing " + path.string() + ": run tests/parity/fbank_reference.py first");
    std::vector<Case> cases;
    for (Case c; in >> c.kind >> c.wav >> c.ref64 >> c.ref32 >> c.rows >> c.cols;) cases.push_back(c);
    return cases;
}

std::vector<float> load_f32(const Case& c, const std::string& file) {
    std::ifstream in(dir() / file, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() != static_cast<std::size_t>(c.rows * c.cols) * 4)
        throw std::runtime_error(file + ": expected " + std::to_string(c.rows * c.cols) + " floats");
    std::vector<float> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), bytes.size());  // little-endian on every host we test
    return v;
}

struct Worst {
    double to64 = 0, to32 = 0, ref32 = 0, within60 = 0;
};

// For log-mel cells: how far each lies under its frame's strongest cell, in log units (0 otherwise).
std::vector<double> depths(const Case& c, const std::vector<float>& r64, bool log_mel) {
    std::vector<double> depth(r64.size(), 0.0);
    if (!log_mel) return depth;
    for (std::int64_t r = 0; r < c.rows; ++r) {
        const float* row = r64.data() + r * c.cols;
        const double peak = *std::max_element(row, row + c.cols);
        for (std::int64_t j = 0; j < c.cols; ++j) depth[static_cast<std::size_t>(r * c.cols + j)] = peak - row[j];
    }
    return depth;
}

// Runs every case of the given kinds through `compute` and checks it against both references.
// `within60` reports the largest difference from float64 over cells within 60 dB of their peak.
// With `take_log`, values and references are compared as log(max(v, FLT_EPSILON)).
template <class F>
void check(const std::vector<std::string>& kinds, double limit, bool log_mel, F compute, bool take_log = false) {
    std::map<std::string, Worst> worst;
    int seen = 0;
    for (const Case& c : manifest()) {
        if (std::find(kinds.begin(), kinds.end(), c.kind) == kinds.end()) continue;
        ++seen;
        const omni::Tensor<omni::cpu> got_t = compute(c);
        if (c.rows != 1) {
            EXPECT_EQ(got_t.shape(), (omni::Shape{c.rows, c.cols})) << c.kind << " " << c.wav;
        }
        std::vector<float> got = got_t.to_vector<float>(), r64 = load_f32(c, c.ref64), r32 = load_f32(c, c.ref32);
        if (take_log)
            for (auto* v : {&got, &r64, &r32})
                for (float& x : *v) x = std::log(std::max(x, 1.1920928955078125e-07f));
        ASSERT_EQ(got.size(), r64.size()) << c.kind << " " << c.wav;
        const std::vector<double> depth = depths(c, r64, log_mel);
        Worst& w = worst[c.kind];
        std::size_t bad64 = 0, bad32 = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
            const double tol = limit + (log_mel ? 2 * 1.1920928955078125e-07 * std::exp(depth[i] / 2) : 0.0);
            const double d64 = std::abs(static_cast<double>(got[i]) - r64[i]);
            const double d32 = std::abs(static_cast<double>(got[i]) - r32[i]);
            const double own = std::abs(static_cast<double>(r32[i]) - r64[i]);  // torchaudio's float32 error
            bad64 += d64 > tol;
            bad32 += d32 > tol + own;
            w.to64 = std::max(w.to64, d64), w.to32 = std::max(w.to32, d32), w.ref32 = std::max(w.ref32, own);
            if (depth[i] <= std::log(1e6)) w.within60 = std::max(w.within60, d64);
        }
        EXPECT_EQ(bad64, 0u) << c.kind << " " << c.wav << ": values off the float64 reference";
        EXPECT_EQ(bad32, 0u) << c.kind << " " << c.wav << ": values off the float32 reference";
    }
    EXPECT_GT(seen, 0) << "no cases of the kinds checked here in the manifest";
    for (const auto& [kind, w] : worst)
        std::printf("%-15s max |omni - ta64| %.2g (%.2g within 60 dB of the peak), |omni - ta32| %.2g, "
                    "|ta32 - ta64| %.2g\n", kind.c_str(), w.to64, w.within60, w.to32, w.ref32);
}

omni::Tensor<omni::cpu> row(const std::vector<float>& v) {
    return omni::Tensor<omni::cpu>::from_data(v, {1, static_cast<std::int64_t>(v.size())});
}
}  // namespace

TEST(AudioParity, WavDecodingMatchesTorchaudioLoad) {
    check({"read_ch0"}, 0.0, false, [](const Case& c) { return row(od::read_wav(dir() / c.wav, 0).samples); });
    check({"read_mix"}, 1e-7, false, [](const Case& c) { return row(od::read_wav(dir() / c.wav).samples); });
}

TEST(AudioParity, ResampleMatchesTorchaudio) {
    check({"resample_16000", "resample_32000"}, 1e-6, false, [](const Case& c) {
        const od::Wav w = od::read_wav(dir() / c.wav);
        return row(od::resample(w.samples, w.sample_rate, c.kind == "resample_16000" ? 16000 : 32000));
    });
}

TEST(AudioParity, FbankMatchesTorchaudioKaldi) {
    // Raw features: the presets without frame fixing, normalisation or augmentation.
    auto raw = [](od::AudioFrontendOptions o) {
        o.target_frames = 0;
        return od::AudioFrontend(o);
    };
    const od::AudioFrontend omni_c = raw(od::AudioFrontendOptions::omni_c()), ast = raw(od::AudioFrontendOptions::ast());
    check({"omni_c_fbank", "ast_fbank"}, 1e-3, true, [&](const Case& c) {
        return (c.kind == "ast_fbank" ? ast : omni_c).log_mel(od::read_wav(dir() / c.wav));
    });
}

// The VARIANTS table of fbank_reference.py, on 16 kHz input.
od::FbankOptions variant(int i) {
    od::FbankOptions o;  // Kaldi's defaults, as torchaudio's
    switch (i) {
    case 0: o.window = od::FbankWindow::hamming, o.snip_edges = false; break;
    case 1: o.use_energy = true; break;
    case 2:
        o.window = od::FbankWindow::rectangular, o.use_energy = true, o.raw_energy = false, o.energy_floor = 0;
        o.use_power = false;
        break;
    case 3:
        o.window = od::FbankWindow::blackman, o.round_to_power_of_two = false, o.low_freq = 100, o.high_freq = -400;
        o.num_mel_bins = 40, o.preemphasis = 0, o.remove_dc_offset = false;
        break;
    case 4:
        o.use_log_fbank = false, o.frame_shift_ms = 12.5, o.frame_length_ms = 20, o.num_mel_bins = 64;
        o.low_freq = 64, o.high_freq = 7800;
        break;
    default: break;
    }
    return o;
}

TEST(AudioParity, OtherKaldiOptions) {
    check({"kaldi_0", "kaldi_1", "kaldi_2", "kaldi_3", "kaldi_5"}, 1e-3, true, [](const Case& c) {
        return od::fbank(od::read_wav(dir() / c.wav).samples, variant(c.kind.back() - '0'));
    });
}

TEST(AudioParity, LinearFilterbankInRelativeTerms) {
    // Linear energies span many decades: compared as logs, the limit is relative.
    check({"kaldi_4"}, 1e-3, true, [](const Case& c) {
        return od::fbank(od::read_wav(dir() / c.wav).samples, variant(4));
    }, true);
}

TEST(AudioParity, OmniCPipelineFromTheOriginalFile) {
    const od::AudioFrontend fe(od::AudioFrontendOptions::omni_c());
    check({"omni_c_view"}, 1e-3, false, [&](const Case& c) { return fe.view(fe.load(dir() / c.wav)); });
}

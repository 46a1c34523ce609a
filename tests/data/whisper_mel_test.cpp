// data::WhisperMel (transformers' WhisperFeatureExtractor): shapes, padding and truncation, exact
// values on silence, a tone's peak bin, the filter bank's Slaney normalisation, and errors.
// Parity on speech is in tests/parity/whisper_mel_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "omni/data/audio/whisper_mel.hpp"

using omni::Shape;
namespace data = omni::data;

namespace {
std::vector<float> tone(double hz, std::int64_t n, double amp = 0.5) {
    std::vector<float> x(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(amp * std::sin(2 * M_PI * hz * i / 16000.0));
    return x;
}
}  // namespace

TEST(WhisperMel, ShapesPaddingAndTruncation) {
    const data::WhisperMel mel;
    const std::vector<float> x = tone(440, 16000);
    EXPECT_EQ(mel(x).shape(), (Shape{128, 3000}));
    EXPECT_EQ(data::WhisperMel({.n_mels = 80})(x).shape(), (Shape{80, 3000}));
    const data::WhisperMel natural({.pad_or_truncate = false});
    EXPECT_EQ(natural(x).shape(), (Shape{128, 100}));
    EXPECT_EQ(natural(tone(440, 16159)).shape(), (Shape{128, 100}));
    EXPECT_EQ(natural.options().num_frames(16160), 101);
    // 40 s is cut to its first 30 s.
    std::vector<float> long_x = tone(300, 16000 * 40);
    const std::vector<float> first(long_x.begin(), long_x.begin() + 480000);
    EXPECT_EQ(mel(long_x).to_vector<float>(), mel(first).to_vector<float>());
    // Padding is zeros: 1 s of tone alone equals the tone followed by 29 s of explicit silence.
    std::vector<float> padded = x;
    padded.resize(480000, 0.0f);
    EXPECT_EQ(mel(x).to_vector<float>(), mel(padded).to_vector<float>());
}

TEST(WhisperMel, SilenceIsTheFloor) {
    // Every mel energy is clamped to 1e-10: log10 = -10 everywhere, so (-10 + 4) / 4 = -1.5.
    const auto v = data::WhisperMel()(std::vector<float>(1000, 0.0f)).to_vector<float>();
    for (float f : v) ASSERT_EQ(f, -1.5f);
}

TEST(WhisperMel, ToneLandsInItsFilterAndTheRangeIsTwo) {
    const data::WhisperMel mel({.pad_or_truncate = false});
    const omni::Tensor<omni::cpu> y = mel(tone(1000, 16000));
    const auto v = y.to_vector<float>();
    const std::int64_t frames = y.shape()[1];
    // Peak bin of a middle frame: the filter whose triangle covers 1 kHz the most.
    const std::int64_t f = frames / 2;
    int best = 0;
    for (int m = 1; m < 128; ++m)
        if (v[static_cast<std::size_t>(m * frames + f)] > v[static_cast<std::size_t>(best * frames + f)]) best = m;
    const omni::Tensor<omni::cpu> fb = mel.filters();  // [201, 128]
    const auto w = fb.to_vector<double>();
    int expect = 0;
    for (int m = 1; m < 128; ++m)
        if (w[25 * 128 + static_cast<std::size_t>(m)] > w[25 * 128 + static_cast<std::size_t>(expect)]) expect = m;  // bin 25 = 1000 Hz
    EXPECT_EQ(best, expect);
    // Everything lies in [max - 2, max]: the floor is 8 log10 units under the peak, then / 4.
    float hi = -1e9f, lo = 1e9f;
    for (float x : v) {
        hi = std::max(hi, x);
        lo = std::min(lo, x);
    }
    EXPECT_NEAR(hi - lo, 2.0f, 1e-5f);
}

TEST(WhisperMel, SlaneyFiltersHaveUnitArea) {
    // Slaney normalisation scales each triangle to area 1 in Hz: sum_k w_k * 40 Hz is 1 for
    // filters wider than a few bins (the high ones), while narrow low filters undersample theirs.
    const auto w = data::WhisperMel().filters().to_vector<double>();
    for (int m = 100; m < 128; ++m) {
        double area = 0;
        for (int k = 0; k < 201; ++k) area += w[static_cast<std::size_t>(k * 128 + m)] * 40.0;
        EXPECT_NEAR(area, 1.0, 0.02) << "filter " << m;
    }
    EXPECT_NEAR(data::slaney_mel_to_hz(data::slaney_hz_to_mel(3000.0)), 3000.0, 1e-9);
    EXPECT_DOUBLE_EQ(data::slaney_hz_to_mel(1000.0), 15.0);
}

TEST(WhisperMel, Errors) {
    const data::WhisperMel mel;
    EXPECT_THROW(mel(std::vector<float>{}), omni::value_error);
    std::vector<float> x(4000, 0.1f);
    x[1234] = std::numeric_limits<float>::quiet_NaN();
    try {
        mel(x);
        FAIL() << "expected a value_error";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("whisper_mel: expected finite samples"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("sample 1234"), std::string::npos) << e.what();
    }
    x[1234] = std::numeric_limits<float>::infinity();
    EXPECT_THROW(mel(x), omni::value_error);
    EXPECT_THROW(data::WhisperMel({.pad_or_truncate = false})(std::vector<float>(200, 0.1f)), omni::value_error);
    EXPECT_NO_THROW(data::WhisperMel({.pad_or_truncate = false})(std::vector<float>(201, 0.1f)));
    EXPECT_THROW(data::WhisperMel({.n_mels = 0}), omni::value_error);
}

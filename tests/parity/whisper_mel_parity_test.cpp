// data::WhisperMel against the real transformers WhisperFeatureExtractor (feature_size 128 and
// 80) on espeak-ng speech resampled to 16 kHz (tests/parity/whisper_reference.py): padded to 30 s,
// truncated from 33 s, and at natural length. The extractor computes in float32 (torch.stft);
// omni frames and sums in double around a float32 FFT, so cells differ by float32 rounding: the
// test bounds the largest difference (in the extractor's output units, (log10 + 4) / 4).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "omni/data/audio/whisper_mel.hpp"
#include "omni/io/safetensors.hpp"

#include "parity_case.hpp"

namespace data = omni::data;

namespace {
std::string dir() { return omni::parity::case_dir("OMNI_WHISPER_PARITY_DIR", "whisper_parity"); }
omni::io::Safetensors load_case(const std::string& name) {
    return omni::parity::load_case("OMNI_WHISPER_PARITY_DIR", "whisper_parity", "whisper_reference.py", name);
}
}  // namespace

TEST(WhisperMelParity, FilterBankMatchesTransformers) {
    for (int bins : {128, 80}) {
        const auto ref = load_case("mel_filters_" + std::to_string(bins)).at("out").to_vector<double>();
        const auto ours = data::WhisperMel({.n_mels = bins}).filters().to_vector<double>();
        ASSERT_EQ(ours.size(), ref.size());
        double worst = 0;
        for (std::size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(ours[i] - ref[i]));
        EXPECT_LE(worst, 1e-15) << bins << " bins";
    }
}

TEST(WhisperMelParity, SpeechAgainstWhisperFeatureExtractor) {
    std::ifstream list(dir() + "/mel_cases.txt");
    ASSERT_TRUE(list) << "missing " << dir() << "/mel_cases.txt";
    std::string name;
    int cases = 0;
    while (list >> name) {
        const auto f = load_case(name);
        const int bins = name.find("_80") != std::string::npos ? 80 : 128;
        const bool natural = name.find("_natural") != std::string::npos;
        const auto wave = f.at("in.wave").to_vector<float>();
        const omni::Tensor<omni::cpu> ours = data::WhisperMel({.n_mels = bins, .pad_or_truncate = !natural})(wave);
        const omni::Tensor<omni::cpu>& ref = f.at("out");
        ASSERT_EQ(ours.shape(), ref.shape()) << name;
        const auto a = ours.to_vector<float>(), b = ref.to_vector<float>();
        double worst = 0, sum = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            const double e = std::abs(static_cast<double>(a[i]) - b[i]);
            worst = std::max(worst, e);
            sum += e;
        }
        std::cout << name << " " << ours.shape().str() << ": max abs difference " << worst << ", mean " << sum / static_cast<double>(a.size()) << "\n";
        EXPECT_LE(worst, 1e-4) << name;
        ++cases;
    }
    EXPECT_EQ(cases, 10);
}

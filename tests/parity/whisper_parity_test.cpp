// OmniVinci's audio tower and projectors against the real implementations on identical weights
// and inputs (tests/parity/whisper_reference.py writes them; ctest runs it first in the Hugging
// Face environment): conv1d against torch.nn.Conv1d, WhisperEncoder against transformers'
// Qwen2AudioEncoder, MLPDownsample against VILA's DownSampleBlock + nn.Sequential, SoundMLP, and
// Whisper's positional table. The references are float64; omni runs each case twice:
//   float64: output and every gradient within 1e-10 of the reference's largest magnitude (plus
//            1e-13 absolute);
//   float32: within 1e-4 (plus 1e-6 absolute), the bound of tests/parity/nn_parity_test.cpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/io/weights.hpp"
#include "omni/nn/projectors/mlp_downsample.hpp"
#include "omni/nn/projectors/sound_mlp.hpp"
#include "omni/nn/whisper_encoder.hpp"

#include "parity_case.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;

namespace {
using omni::parity::Tolerance;

omni::io::Safetensors load_case(const std::string& name) {
    return omni::parity::load_case("OMNI_WHISPER_PARITY_DIR", "whisper_parity", "whisper_reference.py", name);
}
using omni::parity::rel_error;

// Loads the case's weights into m (cast to t), runs forward and backward with the reference's
// upstream gradient, checks output, every parameter gradient and the input gradient; returns the
// worst relative error.
template <class M, class Call> double check(const std::string& name, M m, omni::dtype t, Tolerance tol, Call call) {
    const auto f = load_case(name);
    nn::cast(m, t);
    omni::io::load_weights(m, f);
    const V x(f.at("in.x").to(t), true);
    const V out = call(m, x);
    double worst = rel_error(out.value(), f.at("out"), tol);
    EXPECT_LE(worst, tol.rel) << name << " output";
    out.backward(f.at("upstream").to(t));
    int checked = 0;
    nn::for_each_parameter(m, [&](const std::string& p, V& w) {
        ASSERT_TRUE(f.tensors.count("grad." + p)) << name << ": no reference gradient for " << p;
        const double e = rel_error(w.grad(), f.at("grad." + p), tol);
        EXPECT_LE(e, tol.rel) << name << " grad of " << p;
        worst = std::max(worst, e);
        ++checked;
    });
    const double e = rel_error(x.grad(), f.at("grad.in.x"), tol);
    EXPECT_LE(e, tol.rel) << name << " grad of the input";
    worst = std::max(worst, e);
    std::cout << name << " (" << omni::name_of(t) << "): output, input and " << checked << " parameter gradients, worst relative error "
              << worst << "\n";
    return worst;
}

template <class M, class Call> void check_both(const std::string& name, const M& m, Call call) {
    check(name, m, omni::dtype::f64, {1e-10, 1e-13}, call);
    check(name, m, omni::dtype::f32, {1e-4, 1e-6}, call);
}

// The reference's configurations (whisper_reference.py: CONV, ENCODERS, DOWNSAMPLE).
struct ConvCase {
    std::int64_t in, out, kernel, stride, padding;
    bool bias;
};
const ConvCase conv_cases[] = {{5, 4, 3, 1, 1, true}, {5, 4, 3, 2, 1, true}, {3, 6, 5, 3, 0, false}, {4, 2, 1, 1, 0, true}, {2, 3, 6, 2, 2, true}};
const nn::WhisperEncoderConfig encoder_cases[] = {
    {.n_mels = 8, .d_model = 16, .layers = 2, .heads = 4, .ffn_dim = 32, .max_source_positions = 6},
    {.n_mels = 10, .d_model = 24, .layers = 1, .heads = 2, .ffn_dim = 40, .max_source_positions = 7}};
struct GridCase {
    std::int64_t h, w, in, out;
};
const GridCase grid_cases[] = {{4, 4, 6, 10}, {3, 5, 6, 10}, {5, 2, 4, 8}, {1, 1, 4, 8}, {7, 7, 3, 5}};
}  // namespace

TEST(WhisperParity, Conv1dAgainstTorch) {
    omni::Generator g(1);
    int i = 0;
    for (const auto& c : conv_cases) {
        nn::Conv1d<A> m({.in = c.in, .out = c.out, .kernel = c.kernel, .stride = c.stride, .padding = c.padding, .bias = c.bias}, g);
        check_both("conv1d_" + std::to_string(i++), m, [](auto& m, const V& x) { return m(x); });
    }
}

TEST(WhisperParity, EncoderAgainstQwen2AudioEncoder) {
    omni::Generator g(1);
    int i = 0;
    for (const auto& c : encoder_cases) {
        nn::WhisperEncoder<A> m(c, g);
        check_both("encoder_" + std::to_string(i++), m, [](auto& m, const V& x) { return m(x); });
    }
}

TEST(WhisperParity, SinusoidsMatchWhisperLargeV3Table) {
    const D ref = load_case("sinusoids").at("out");
    const D ours = nn::whisper_sinusoids<omni::cpu>(1500, 1280);
    ASSERT_EQ(ours.shape(), ref.shape());
    const auto a = ours.to_vector<float>(), b = ref.to_vector<float>();
    double worst = 0, worst_early = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double e = std::abs(a[i] - b[i]);
        worst = std::max(worst, e);
        if (i < 64 * 1280) worst_early = std::max(worst_early, e);
    }
    std::cout << "sinusoids(1500, 1280): max abs difference " << worst << ", rows < 64: " << worst_early << "\n";
    // Same float32 angles except where torch's expf is an ulp off: then the angle t w_k moves by
    // about t * 6e-8 (one float ulp of 1499 at most, 1.2e-4) and sin/cos by as much.
    EXPECT_LE(worst, 1.3e-4);
    EXPECT_LE(worst_early, 1e-5);
}

TEST(WhisperParity, MLPDownsampleAgainstVilaDownSampleBlock) {
    omni::Generator g(1);
    int i = 0;
    for (const auto& c : grid_cases) {
        nn::MLPDownsample<A> m({.in = c.in, .out = c.out}, g);
        check_both("downsample_" + std::to_string(i++), m, [h = c.h, w = c.w](auto& m, const V& x) { return m(x, h, w); });
    }
}

TEST(WhisperParity, SoundMLP) {
    omni::Generator g(1);
    nn::SoundMLP<A> m({.in = 12, .out = 20}, g);
    check_both("sound_mlp", m, [](auto& m, const V& x) { return m(x); });
}

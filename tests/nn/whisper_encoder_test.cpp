// nn::WhisperEncoder (transformers' Qwen2AudioEncoder): presets and parameter counts, names,
// shapes, the positional table, errors and a float64 gradcheck of a whole tiny encoder.
// Parity with transformers is in tests/parity/whisper_parity_test.cpp.
#include <gtest/gtest.h>

#include <set>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/whisper_encoder.hpp"

using omni::Shape;
using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
using In = std::vector<V>;
namespace nn = omni::nn;

namespace {
constexpr nn::WhisperEncoderConfig tiny{.n_mels = 6, .d_model = 8, .layers = 2, .heads = 2, .ffn_dim = 12, .max_source_positions = 4};
}

TEST(WhisperEncoder, LargeV3ParameterCountMatchesTransformers) {
    // transformers 4.45.2: Qwen2AudioEncoder(Qwen2AudioEncoderConfig()).num_parameters() = 636,968,960,
    // of which 1500 x 1280 = 1,920,000 are the frozen positional table (requires_grad False).
    constexpr nn::WhisperEncoderConfig c = nn::whisper_large_v3;
    static_assert(c.n_mels == 128 && c.d_model == 1280 && c.layers == 32 && c.heads == 20 && c.ffn_dim == 5120);
    EXPECT_EQ(c.parameter_count(), 635048960);
    EXPECT_EQ(c.parameter_count() + c.max_source_positions * c.d_model, 636968960);
    EXPECT_EQ(c.input_frames(), 3000);
    EXPECT_EQ(c.output_tokens(), 750);
    // The formula is the module's own count (checked where building is cheap).
    omni::Generator g(1);
    for (const auto& cfg : {tiny, nn::whisper_tiny}) {
        nn::WhisperEncoder<omni::cpu> m(cfg, g);
        EXPECT_EQ(nn::parameter_count(m), cfg.parameter_count());
    }
}

TEST(WhisperEncoder, HuggingFaceNames) {
    omni::Generator g(2);
    nn::WhisperEncoder<omni::cpu> m(tiny, g);
    std::set<std::string> params, buffers;
    nn::for_each_tensor(m, [&](const std::string& n, const D& t, bool is_param) { (is_param ? params : buffers).insert(n + " " + t.shape().str()); });
    EXPECT_EQ(buffers, (std::set<std::string>{"embed_positions.weight [4, 8]"}));
    for (const char* n : {"conv1.weight [8, 6, 3]", "conv1.bias [8]", "conv2.weight [8, 8, 3]", "layers.1.self_attn.k_proj.weight [8, 8]",
                          "layers.1.self_attn.q_proj.bias [8]", "layers.1.self_attn.v_proj.bias [8]", "layers.1.self_attn.out_proj.weight [8, 8]",
                          "layers.1.self_attn_layer_norm.weight [8]", "layers.1.fc1.weight [12, 8]", "layers.1.fc2.bias [8]",
                          "layers.1.final_layer_norm.bias [8]", "layer_norm.weight [8]"})
        EXPECT_TRUE(params.count(n)) << n;
    EXPECT_FALSE(params.count("layers.0.self_attn.k_proj.bias [8]"));  // Whisper's key projection has no bias
    EXPECT_EQ(params.size(), 4u + 2 * 15 + 2);
}

TEST(WhisperEncoder, ShapesAndPooling) {
    omni::Generator g(3);
    nn::WhisperEncoder<omni::cpu> m(tiny, g);
    const D y = m(D::randn({3, 6, 8}, g));
    EXPECT_EQ(y.shape(), (Shape{3, 2, 8}));
    // Odd frame count after conv2: the last frame is dropped by the pooling, as AvgPool1d does.
    nn::WhisperEncoderConfig odd = tiny;
    odd.max_source_positions = 5;
    nn::WhisperEncoder<omni::cpu> m5(odd, g);
    EXPECT_EQ(m5(D::randn({1, 6, 10}, g)).shape(), (Shape{1, 2, 8}));
    // Each output token is LayerNorm-ed: mean 0 over channels with the initial weight 1, bias 0.
    for (std::int64_t t = 0; t < 2; ++t) {
        const auto row = y.select(0, 1).select(0, t).contiguous().to_vector<float>();
        double mean = 0;
        for (float v : row) mean += v;
        EXPECT_NEAR(mean / 8, 0.0, 1e-5);
    }
}

TEST(WhisperEncoder, SinusoidTable) {
    const D t = nn::whisper_sinusoids<omni::cpu>(50, 8);
    ASSERT_EQ(t.shape(), (Shape{50, 8}));
    const auto v = t.to_vector<float>();
    // Row t: [sin(t w_0..3) | cos(t w_0..3)], w_k = 10000^(-k/3).
    for (int row : {0, 1, 17, 49})
        for (int k = 0; k < 4; ++k) {
            const double a = row * std::pow(10000.0, -k / 3.0);
            EXPECT_NEAR(v[static_cast<std::size_t>(row * 8 + k)], std::sin(a), 2e-6) << row << " " << k;
            EXPECT_NEAR(v[static_cast<std::size_t>(row * 8 + 4 + k)], std::cos(a), 2e-6) << row << " " << k;
        }
    EXPECT_THROW(nn::whisper_sinusoids<omni::cpu>(10, 7), omni::value_error);
    EXPECT_THROW(nn::whisper_sinusoids<omni::cpu>(0, 8), omni::value_error);
}

TEST(WhisperEncoder, Errors) {
    omni::Generator g(4);
    nn::WhisperEncoder<omni::cpu> m(tiny, g);
    try {
        m(D::randn({1, 6, 10}, g));
        FAIL() << "expected a shape_error";
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("WhisperEncoder: expected mel [B, 6, 8], got [1, 6, 10]"), std::string::npos) << e.what();
    }
    EXPECT_THROW(m(D::randn({1, 5, 8}, g)), omni::shape_error);
    EXPECT_THROW(m(D::randn({6, 8}, g)), omni::shape_error);
    nn::WhisperEncoderConfig bad = tiny;
    bad.heads = 3;
    EXPECT_THROW(nn::WhisperEncoder<omni::cpu>(bad, g), omni::value_error);
    bad = tiny;
    bad.max_source_positions = 1;
    EXPECT_THROW(nn::WhisperEncoder<omni::cpu>(bad, g), omni::value_error);
}

TEST(Gradcheck, WhisperEncoderAllParameters) {
    omni::Generator g(5);
    nn::WhisperEncoder<A> enc(tiny, g);
    nn::cast(enc, omni::dtype::f64);
    In params;
    nn::for_each_parameter(enc, [&](const std::string&, V& p) { params.push_back(p); });
    params.push_back(V(D::randn({2, 6, 8}, g, omni::dtype::f64), true));
    auto f = [&](const In& in) {
        nn::WhisperEncoder<A> e = enc;
        std::size_t i = 0;
        nn::for_each_parameter(e, [&](const std::string&, V& p) { p = in[i++]; });
        return e(in.back());
    };
    const auto r = omni::gradcheck<omni::cpu>(f, params);
    EXPECT_TRUE(r.ok) << r.message;
}

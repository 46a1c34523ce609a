// OmniVinci's projectors: space_to_depth_2x2 (VILA's flat_square), MLPDownsample and SoundMLP:
// exact token layout, names, shapes, errors and float64 gradchecks. Parity with the torch
// transcription of VILA is in tests/parity/whisper_parity_test.cpp.
#include <gtest/gtest.h>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/projectors/mlp_downsample.hpp"
#include "omni/nn/projectors/sound_mlp.hpp"

using omni::Shape;
using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
using In = std::vector<V>;
namespace nn = omni::nn;

namespace {
template <class M> std::vector<std::string> names(M& m) {
    std::vector<std::string> out;
    nn::for_each_parameter(m, [&](const std::string& n, const auto& t) { out.push_back(n + " " + t.shape().str()); });
    return out;
}
// Gradcheck of m's parameters and the input x through call(module, x).
template <class M, class Call> omni::GradcheckResult check_all(M m, const V& x, Call call) {
    nn::cast(m, omni::dtype::f64);
    In params;
    nn::for_each_parameter(m, [&](const std::string&, V& p) { params.push_back(p); });
    params.push_back(x);
    return omni::gradcheck<omni::cpu>([&](const In& in) {
        M c = m;
        std::size_t i = 0;
        nn::for_each_parameter(c, [&](const std::string&, V& p) { p = in[i++]; });
        return call(c, in.back());
    }, params);
}
}  // namespace

TEST(SpaceToDepth, OddGridTokenLayout) {
    // 3 x 3 grid of 1-channel tokens 1..9, zero-padded to 4 x 4: token (i, j) = (2i, 2j), (2i, 2j+1),
    // (2i+1, 2j), (2i+1, 2j+1), tokens row-major.
    const D x = D::from_data<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 9, 1});
    const D y = nn::space_to_depth_2x2(x, 3, 3);
    EXPECT_EQ(y.shape(), (Shape{1, 4, 4}));
    EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 2, 4, 5, 3, 0, 6, 0, 7, 8, 0, 0, 9, 0, 0, 0}));
    // A 2 x 4 grid with 2 channels: channels stay together inside each quarter.
    std::vector<float> v(16);
    for (int i = 0; i < 16; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(i);
    const D z = nn::space_to_depth_2x2(D::from_data<float>(v, {1, 8, 2}), 2, 4);
    EXPECT_EQ(z.shape(), (Shape{1, 2, 8}));
    EXPECT_EQ(z.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15}));
}

TEST(MLPDownsample, NamesShapesAndErrors) {
    omni::Generator g(1);
    nn::MLPDownsample<omni::cpu> m({.in = 6, .out = 10}, g);
    EXPECT_EQ(names(m), (std::vector<std::string>{"layers.1.weight [24]", "layers.1.bias [24]", "layers.2.weight [10, 24]", "layers.2.bias [10]",
                                                  "layers.4.weight [10, 10]", "layers.4.bias [10]"}));
    EXPECT_EQ(m(D::randn({2, 32 * 32, 6}, g), 32, 32).shape(), (Shape{2, 256, 10}));  // a 448-px SigLIP tile -> 256 tokens
    EXPECT_EQ(m(D::randn({1, 27 * 27, 6}, g), 27, 27).shape(), (Shape{1, 196, 10}));
    EXPECT_EQ(nn::MLPDownsample<omni::cpu>::out_tokens(27, 27), 196);
    try {
        m(D::randn({1, 15, 6}, g), 4, 4);
        FAIL() << "expected a shape_error";
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("MLPDownsample: expected x [B, 16 (grid 4 x 4), 6], got [1, 15, 6]"), std::string::npos) << e.what();
    }
    EXPECT_THROW(m(D::randn({1, 16, 5}, g), 4, 4), omni::shape_error);
    EXPECT_THROW(nn::space_to_depth_2x2(D::randn({1, 0, 5}, g), 0, 3), omni::value_error);
    EXPECT_THROW(nn::space_to_depth_2x2(D::randn({1, 6, 5}, g), 2, 2), omni::shape_error);
    EXPECT_THROW(nn::MLPDownsample<omni::cpu>({.in = 0, .out = 4}, g), omni::value_error);
}

TEST(SoundMLP, NamesShapesAndErrors) {
    omni::Generator g(2);
    nn::SoundMLP<omni::cpu> m({.in = 12, .out = 20}, g);
    EXPECT_EQ(names(m), (std::vector<std::string>{"layers.0.weight [20, 12]", "layers.0.bias [20]", "layers.2.weight [20, 20]", "layers.2.bias [20]"}));
    EXPECT_EQ(m(D::randn({2, 7, 12}, g)).shape(), (Shape{2, 7, 20}));
    EXPECT_THROW(m(D::randn({2, 7, 11}, g)), omni::shape_error);
    EXPECT_THROW(nn::SoundMLP<omni::cpu>({.in = 12, .out = 0}, g), omni::value_error);
}

TEST(Gradcheck, MLPDownsampleOddGrid) {
    omni::Generator g(3);
    nn::MLPDownsample<A> m({.in = 3, .out = 5}, g);
    for (const auto& grid : {std::pair<std::int64_t, std::int64_t>{3, 5}, {2, 2}}) {
        const std::int64_t h = grid.first, w = grid.second;  // not a structured binding: clang before 16 cannot capture one
        const V x(D::randn({2, h * w, 3}, g, omni::dtype::f64), true);
        const auto r = check_all(m, x, [h, w](auto& m, const V& x) { return m(x, h, w); });
        EXPECT_TRUE(r.ok) << h << " x " << w << ": " << r.message;
    }
}

TEST(Gradcheck, SoundMLP) {
    omni::Generator g(4);
    nn::SoundMLP<A> m({.in = 4, .out = 6}, g);
    const V x(D::randn({2, 3, 4}, g, omni::dtype::f64), true);
    const auto r = check_all(m, x, [](auto& m, const V& x) { return m(x); });
    EXPECT_TRUE(r.ok) << r.message;
}

// Module model: names, visiting, counts, modes, composition, errors with module paths, and
// gradcheck of whole layers in float64.
#include <gtest/gtest.h>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/dropout.hpp"
#include "omni/nn/embedding.hpp"
#include "omni/nn/transformer.hpp"

using omni::Shape;
using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
using In = std::vector<V>;
namespace nn = omni::nn;

namespace {
std::vector<std::string> names(auto& m) {
    std::vector<std::string> out;
    nn::for_each_parameter(m, [&](const std::string& n, auto&) { out.push_back(n); });
    return out;
}
}  // namespace

TEST(Module, ViTBlockNamesMatchTimm) {
    omni::Generator g(1);
    nn::TransformerBlock<omni::cpu> b({.dim = 32, .heads = 4}, g);
    EXPECT_EQ(names(b), (std::vector<std::string>{"norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight",
                                                  "attn.proj.bias", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias",
                                                  "mlp.fc2.weight", "mlp.fc2.bias"}));
    // 4 D^2 (qkv, proj) + 8 D^2 (mlp) + biases 3D + D + 4D + D + norms 4D
    EXPECT_EQ(nn::parameter_count(b), 12 * 32 * 32 + 13 * 32);
}

TEST(Module, ViTB32ParameterCountMatchesReference) {
    omni::Generator g(1);
    nn::TransformerBlock<omni::cpu> b(nn::vit_b32.block, g);
    EXPECT_EQ(nn::parameter_count(b), 7087872);  // per ViT-B block (timm Block at width 768)
}

TEST(Module, EncoderPathsAndModes) {
    omni::Generator g(2);
    nn::Transformer<A> enc({.depth = 2, .block = {.dim = 16, .heads = 2}}, g);
    nn::name_modules(enc, "encoder");
    EXPECT_EQ(enc.blocks[1].attn.path, "encoder.blocks.1.attn");
    EXPECT_EQ(enc.blocks[1].attn.qkv.path, "encoder.blocks.1.attn.qkv");
    EXPECT_EQ(names(enc).back(), "norm.bias");
    nn::set_training(enc, false);
    EXPECT_FALSE(enc.blocks[0].mlp.fc2.training);
    try {
        enc(V(D::zeros({2, 5, 15})));
        FAIL();
    } catch (const omni::shape_error& e) {
        EXPECT_STREQ(e.what(), "shape_error: encoder.blocks.0.norm1: expected [..., 16], got [2, 5, 15]");
    }
    int linears = 0;
    nn::for_each_module(enc, [&](const std::string&, auto& m) {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, nn::Linear<A>>) ++linears;
    });
    EXPECT_EQ(linears, 2 * 4);
}

TEST(Module, ParametersAreLeavesOnlyUnderAutodiff) {
    omni::Generator g(3);
    nn::Linear<A> taped({.in = 4, .out = 3}, g);
    EXPECT_TRUE(taped.weight.requires_grad());
    nn::set_requires_grad(taped, false);
    EXPECT_FALSE(taped.weight.requires_grad());
    nn::Linear<omni::cpu> plain({.in = 4, .out = 3, .bias = false}, g);
    EXPECT_FALSE(plain.bias.defined());
    EXPECT_EQ(names(plain), (std::vector<std::string>{"weight"}));
}

TEST(Module, SameSeedSameWeightsOnEveryPolicy) {
    omni::Generator g1(5), g2(5);
    nn::MLP<omni::cpu> a({.in = 8, .hidden = 16}, g1);
    nn::MLP<A> b({.in = 8, .hidden = 16}, g2);
    EXPECT_EQ(a.fc2.weight.to_vector<float>(), b.fc2.weight.to_vector<float>());
}

TEST(Module, SequentialResidualStack) {
    omni::Generator g(4);
    using L = nn::Linear<omni::cpu>;
    nn::Sequential<L, nn::GELU<omni::cpu>, L> seq(L({.in = 4, .out = 8}, g), {}, L({.in = 8, .out = 4}, g));
    EXPECT_EQ(names(seq), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
    const D x = D::randn({3, 4}, g);
    const D y = seq(x);
    EXPECT_EQ(y.shape(), (Shape{3, 4}));
    nn::Residual<decltype(seq)> res(seq);
    const auto r = res(x).to_vector<float>(), xs = x.to_vector<float>(), ys = y.to_vector<float>();
    for (std::size_t i = 0; i < r.size(); ++i) EXPECT_NEAR(r[i], xs[i] + ys[i], 1e-6);
    nn::Stack<L> stack(3, [&](int) { return L({.in = 4, .out = 4}, g); });
    EXPECT_EQ(names(stack)[4], "2.weight");
    EXPECT_EQ(stack(x).shape(), (Shape{3, 4}));
    nn::Residual<L> bad(L({.in = 4, .out = 5}, g));
    try {
        bad(x);
        FAIL() << "a Residual whose inner part changes the shape must throw";
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("Residual"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("got [3, 5]"), std::string::npos) << e.what();
    }
}

// Linear and MLP take the skip input inside their last GEMM; attention (whose second argument
// is a mask) must not be mistaken for such a layer.
static_assert(nn::fuses_residual<nn::Linear<omni::cpu>, omni::cpu> && nn::fuses_residual<nn::MLP<A>, A>);
static_assert(!nn::fuses_residual<nn::MultiheadAttention<A>, A>);

TEST(Module, ResidualOfAFusingLayerMatchesTheSeparateSumWithGradients) {
    omni::Generator g(5);
    nn::MLP<A> mlp({.in = 6, .hidden = 12}, g);
    nn::Residual<nn::MLP<A>> res(mlp);  // shares mlp's parameters
    const V x(D::randn({4, 6}, g, omni::dtype::f32), true);
    const V fused = res(x);
    const V separate = omni::add(x, mlp(x));
    const auto a = fused.value().to_vector<float>(), b = separate.value().to_vector<float>();
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
    omni::sum(fused).backward();
    const auto gx = x.grad().to_vector<float>(), gw = mlp.fc1.weight.grad().to_vector<float>();
    x.zero_grad();
    mlp.fc1.weight.zero_grad();
    omni::sum(separate).backward();
    const auto gx2 = x.grad().to_vector<float>(), gw2 = mlp.fc1.weight.grad().to_vector<float>();
    for (std::size_t i = 0; i < gx.size(); ++i) EXPECT_NEAR(gx[i], gx2[i], 1e-5);
    for (std::size_t i = 0; i < gw.size(); ++i) EXPECT_NEAR(gw[i], gw2[i], 1e-5);
}

TEST(Module, DropoutIsSeededAndOffInEval) {
    nn::Dropout<omni::cpu> d1({.p = 0.5, .seed = 9}), d2({.p = 0.5, .seed = 9});
    const D x = D::ones({1000});
    const auto a = d1(x).to_vector<float>(), b = d2(x).to_vector<float>();
    EXPECT_EQ(a, b);
    int zeros = 0;
    for (float v : a) {
        ASSERT_TRUE(v == 0.0f || v == 2.0f);
        zeros += v == 0.0f;
    }
    EXPECT_NEAR(zeros, 500, 60);
    d1.training = false;
    EXPECT_EQ(d1(x).to_vector<float>(), x.to_vector<float>());
    EXPECT_THROW(nn::Dropout<omni::cpu>({.p = 1.0}), omni::value_error);
}

TEST(Module, EmbeddingAndErrors) {
    omni::Generator g(6);
    nn::Embedding<omni::cpu> e({.num = 10, .dim = 4}, g);
    EXPECT_EQ(e(D::from_data<std::int64_t>({1, 2, 9}, {3})).shape(), (Shape{3, 4}));
    EXPECT_THROW(e(D::from_data<std::int64_t>({10}, {1})), omni::index_error);
    EXPECT_THROW(nn::MultiheadAttention<omni::cpu>({.dim = 10, .heads = 3}, g), omni::value_error);
}

TEST(Module, CrossAttentionShapes) {
    omni::Generator g(7);
    nn::MultiheadAttention<omni::cpu> x({.dim = 16, .heads = 2, .kv_dim = 24}, g);
    EXPECT_EQ(names(x)[2], "k.weight");
    EXPECT_EQ(x.cross(D::randn({2, 3, 16}, g), D::randn({2, 9, 24}, g)).shape(), (Shape{2, 3, 16}));
    EXPECT_THROW(x.cross(D::randn({2, 3, 16}, g), D::randn({2, 9, 16}, g)), omni::shape_error);
}

TEST(Gradcheck, TransformerBlockAllParameters) {
    omni::Generator g(8);
    nn::TransformerBlock<A> blk({.dim = 8, .heads = 2}, g);
    nn::cast(blk, omni::dtype::f64);
    In params;
    nn::for_each_parameter(blk, [&](const std::string&, V& p) { params.push_back(p); });
    params.push_back(V(D::randn({2, 3, 8}, g, omni::dtype::f64), true));
    const D mask = D::from_data<bool>({false, false, true, false, false, false}, {2, 3});
    auto f = [&](const In& in) {
        nn::TransformerBlock<A> b = blk;
        std::size_t i = 0;
        nn::for_each_parameter(b, [&](const std::string&, V& p) { p = in[i++]; });
        return b(in.back(), V(mask));
    };
    const auto r = omni::gradcheck<omni::cpu>(f, params);
    EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradcheck, CrossAttentionModule) {
    omni::Generator g(9);
    nn::MultiheadAttention<A> m({.dim = 4, .heads = 2, .fused_qkv = false}, g);
    nn::cast(m, omni::dtype::f64);
    const V x(D::randn({1, 3, 4}, g, omni::dtype::f64), true), c(D::randn({1, 5, 4}, g, omni::dtype::f64), true);
    const auto r = omni::gradcheck<omni::cpu>([&](const In& in) { return m.cross(in[0], in[1]); }, {x, c});
    EXPECT_TRUE(r.ok) << r.message;
}

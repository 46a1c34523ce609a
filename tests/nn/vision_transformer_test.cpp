// nn::VisionTransformer (timm's layout): parameter counts against timm, names, shapes of the token
// sequence and pooled feature on non-square images, the pooling rules, errors and a float64
// gradcheck of a whole tiny model. Parity with timm is in tests/parity/vit_parity_test.cpp.
#include <gtest/gtest.h>

#include <set>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/vision_transformer.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;

namespace {
constexpr nn::VisionTransformerConfig tiny{.height = 8, .width = 12, .channels = 2, .patch = 4, .dim = 8, .depth = 2, .heads = 2,
                                           .mlp_ratio = 1.5, .num_classes = 3};

std::set<std::string> names(nn::VisionTransformer<omni::cpu>& m) {
    std::set<std::string> out;
    nn::for_each_tensor(m, [&](const std::string& n, auto&, bool) { out.insert(n); });
    return out;
}
}  // namespace

TEST(VisionTransformer, ParameterCountsMatchTimm) {
    // timm 1.0.9: sum(p.numel()) of create_model(name, pretrained=False).
    static_assert(nn::vit_tiny_patch16_224.parameter_count() == 5717416);
    static_assert(nn::vit_base_patch16_224.parameter_count() == 86567656);
    omni::Generator g(1);
    for (const auto& c : {tiny, nn::vit_tiny_patch16_224,
                          nn::VisionTransformerConfig{.height = 8, .width = 4, .patch = 4, .dim = 6, .depth = 1, .heads = 3, .qkv_bias = false,
                                                      .class_token = false, .global_pool = nn::vit_pool::avg, .pre_norm = true}}) {
        nn::VisionTransformer<omni::cpu> m(c, g);
        EXPECT_EQ(nn::parameter_count(m), c.parameter_count());
    }
}

TEST(VisionTransformer, TimmNames) {
    omni::Generator g(2);
    nn::VisionTransformer<omni::cpu> m(tiny, g);
    const auto n = names(m);
    for (const char* k : {"cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias", "blocks.0.norm1.weight",
                          "blocks.1.attn.qkv.weight", "blocks.1.attn.qkv.bias", "blocks.1.attn.proj.bias", "blocks.1.mlp.fc1.weight",
                          "blocks.1.mlp.fc2.bias", "blocks.1.norm2.bias", "norm.weight", "norm.bias", "head.weight", "head.bias"})
        EXPECT_TRUE(n.count(k)) << k;
    EXPECT_FALSE(n.count("fc_norm.weight"));
    EXPECT_FALSE(n.count("blocks.2.norm1.weight"));
    EXPECT_EQ(m.pos_embed.shape(), omni::Shape({1, 1 + 2 * 3, 8}));
    EXPECT_EQ(m.patch_embed.weight.shape(), omni::Shape({8, 2, 4, 4}));

    // timm's fc_norm rule: avg pooling moves the final norm after pooling; no head, no class token.
    nn::VisionTransformer<omni::cpu> avg({.height = 8, .width = 12, .channels = 2, .patch = 4, .dim = 8, .depth = 1, .heads = 2,
                                          .class_token = false, .global_pool = nn::vit_pool::avg, .pre_norm = true},
                                         g);
    const auto a = names(avg);
    for (const char* k : {"fc_norm.weight", "norm_pre.bias"}) EXPECT_TRUE(a.count(k)) << k;
    for (const char* k : {"norm.weight", "cls_token", "head.weight", "patch_embed.proj.bias"}) EXPECT_FALSE(a.count(k)) << k;  // pre_norm: no patch bias
    EXPECT_EQ(avg.pos_embed.shape(), omni::Shape({1, 6, 8}));
    // ... unless fc_norm is set explicitly.
    nn::VisionTransformer<omni::cpu> avg_norm({.height = 4, .width = 4, .channels = 1, .patch = 4, .dim = 4, .depth = 0, .heads = 1,
                                               .global_pool = nn::vit_pool::avg, .fc_norm = false},
                                              g);
    EXPECT_TRUE(names(avg_norm).count("norm.weight"));
}

TEST(VisionTransformer, ShapesOnNonSquareImages) {
    omni::Generator g(3);
    nn::VisionTransformer<omni::cpu> m(tiny, g);
    const D x = D::randn({5, 2, 8, 12}, g);
    const D tokens = m.forward_features(x);
    EXPECT_EQ(tokens.shape(), omni::Shape({5, 7, 8}));
    EXPECT_EQ(m.forward_head(tokens, true).shape(), omni::Shape({5, 8}));
    const D logits = m(x);
    EXPECT_EQ(logits.shape(), omni::Shape({5, 3}));
    // Token pooling is the class token's row of the normed sequence; the head is one Linear on it.
    const D manual = m.head(tokens.select(1, 0).contiguous());
    const auto l = logits.to_vector<float>(), r = manual.to_vector<float>();
    for (std::size_t i = 0; i < l.size(); ++i) EXPECT_NEAR(l[i], r[i], 1e-5);
}

TEST(VisionTransformer, AvgPoolSkipsTheClassToken) {
    omni::Generator g(4);
    nn::VisionTransformerConfig c = tiny;
    c.global_pool = nn::vit_pool::avg;
    c.fc_norm = false;
    c.num_classes = 0;
    nn::VisionTransformer<omni::cpu> m(c, g);
    const D tokens = m.forward_features(D::randn({2, 2, 8, 12}, g));
    const auto t = tokens.to_vector<double>();
    const auto f = m(D::randn({1, 2, 8, 12}, g)).shape();
    EXPECT_EQ(f, omni::Shape({1, 8}));
    const auto pooled = m.pool(tokens).to_vector<double>();
    for (int b = 0; b < 2; ++b)
        for (int d = 0; d < 8; ++d) {
            double s = 0;
            for (int n = 1; n < 7; ++n) s += t[static_cast<std::size_t>((b * 7 + n) * 8 + d)];
            EXPECT_NEAR(pooled[static_cast<std::size_t>(b * 8 + d)], s / 6, 1e-5);
        }
}

TEST(VisionTransformer, InferenceAndTapedAgree) {
    omni::Generator g(5);
    nn::VisionTransformer<A> taped(tiny, g);
    nn::VisionTransformer<omni::cpu> plain(tiny, g);
    nn::for_each_tensor(plain, [&](const std::string& name, D& t, bool) {
        nn::for_each_tensor(taped, [&](const std::string& n2, V& u, bool) {
            if (n2 == name) t.copy_from(u.value());
        });
    });
    const D x = D::randn({2, 2, 8, 12}, g);
    const auto a = plain(x).to_vector<float>(), b = taped(V(x)).value().to_vector<float>();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
}

TEST(VisionTransformer, GradcheckWholeModel) {
    for (const bool avg : {false, true}) {
        SCOPED_TRACE(avg ? "avg pool, no class token, fc_norm" : "token pool, head");
        omni::Generator g(6);
        nn::VisionTransformerConfig c{.height = 4, .width = 8, .channels = 1, .patch = 4, .dim = 4, .depth = 1, .heads = 2, .mlp_ratio = 1.0,
                                      .num_classes = 2};
        if (avg) {
            c.class_token = false;
            c.global_pool = nn::vit_pool::avg;
        }
        nn::VisionTransformer<A> m(c, g);
        nn::cast(m, omni::dtype::f64);
        std::vector<V> in{V(D::randn({2, 1, 4, 8}, g, omni::dtype::f64), true)};
        nn::for_each_parameter(m, [&](const std::string&, V& p) { in.push_back(p); });
        if (!avg) in[1] = V(D::randn({1, 1, 4}, g, omni::dtype::f64), true);  // a class token large enough to matter
        const auto r = omni::gradcheck<omni::cpu>([&](const std::vector<V>& x) {
            nn::VisionTransformer<A> mm = m;
            std::size_t i = 1;
            nn::for_each_parameter(mm, [&](const std::string&, V& p) { p = x[i++]; });
            return mm(x[0]);
        }, in);
        EXPECT_TRUE(r.ok) << r.message;
        EXPECT_GT(in.size(), 15u);
    }
}

TEST(VisionTransformer, Errors) {
    omni::Generator g(7);
    EXPECT_THROW(nn::VisionTransformer<omni::cpu>({.class_token = false, .global_pool = nn::vit_pool::token}, g), omni::value_error);
    EXPECT_THROW(nn::VisionTransformer<omni::cpu>({.dim = 10, .heads = 3}, g), omni::value_error);
    EXPECT_THROW(nn::VisionTransformer<omni::cpu>({.height = 30, .width = 32, .patch = 16}, g), omni::value_error);
    nn::VisionTransformer<omni::cpu> m(tiny, g);
    nn::name_modules(m, "visual");
    try {
        m(D::randn({1, 2, 12, 8}, g));  // transposed image
        FAIL() << "expected a shape_error";
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("visual.patch_embed"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("[B, 2, 8, 12]"), std::string::npos) << e.what();
    }
    try {
        m.pool(D::zeros({1, 6, 8}));
        FAIL() << "expected a shape_error";
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("visual.pool: expected tokens [B, 7, 8], got [1, 6, 8]"), std::string::npos) << e.what();
    }
}

// Omni-C assembly: parameter counts against the reference, names, shapes, position tables,
// compile-time modality lists and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/models/omni_c.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;
using omni::models::modality;

TEST(OmniC, ViTB32ParameterCountMatchesTheReference) {
    omni::Generator g(1);
    omni::models::OmniC<omni::cpu, modality::image, modality::audio, modality::text> m(omni::models::omni_c_vit_b32, g);
    EXPECT_EQ(nn::parameter_count(m), 115188480);  // the release's ViT-B/32 preset, all three heads
    std::int64_t blocks = 0, text = 0;
    nn::for_each_parameter(m, [&](const std::string& n, const D& t) {
        if (n.rfind("blocks.", 0) == 0) blocks += t.numel();
        if (n == "text_embed.weight") text = t.numel();
    });
    EXPECT_EQ(blocks, 85054464);
    EXPECT_EQ(text, 23440896);
}

TEST(OmniC, SinCosTablesFollowTheReferenceLayout) {
    const D t1 = nn::sincos_1d<omni::cpu>(4, 8);
    const auto v = t1.to_vector<float>();
    EXPECT_NEAR(v[2 * 8 + 1], std::sin(2 * std::pow(10000.0, -0.25)), 1e-6);  // row 2, sine k = 1
    EXPECT_NEAR(v[2 * 8 + 4], std::cos(2.0), 1e-6);                           // row 2, cosine k = 0
    const D t2 = nn::sincos_2d<omni::cpu>(2, 3, 8, true);
    EXPECT_EQ(t2.shape(), (omni::Shape{7, 8}));
    const auto w = t2.to_vector<float>();
    for (int i = 0; i < 8; ++i) EXPECT_EQ(w[i], 0.0f);  // the CLS row
    // Grid cell (r = 1, c = 2) is table row 1 + 1 * 3 + 2 = 6: column index in the first half.
    EXPECT_NEAR(w[6 * 8 + 0], std::sin(2.0), 1e-6);
    EXPECT_NEAR(w[6 * 8 + 4], std::sin(1.0), 1e-6);
    EXPECT_THROW(nn::sincos_2d<omni::cpu>(2, 2, 6, false), omni::value_error);
}

TEST(OmniC, TinyModelShapesAndNames) {
    omni::Generator g(2);
    omni::models::OmniC<A, modality::image, modality::text> m(omni::models::omni_c_tiny, g);
    std::vector<std::string> names;
    nn::for_each_tensor(m, [&](const std::string& n, const V&, bool) { names.push_back(n); });
    EXPECT_EQ(names.front(), "patch_embed_image.proj.weight");
    EXPECT_EQ(names.back(), "head_text.fc2.bias");
    EXPECT_EQ(std::count(names.begin(), names.end(), "patch_embed_audio.proj.weight"), 0);
    const V img(D::randn({2, 3, 28, 28}, g));
    EXPECT_EQ(m.tokens(modality::image, img).shape(), (omni::Shape{2, 17, 128}));
    EXPECT_EQ(m.encode(modality::image, img).shape(), (omni::Shape{2, 128}));
    const V ids(D::from_data<std::int64_t>(std::vector<std::int64_t>(64, 101), {2, 32}));
    EXPECT_EQ(m.forward(modality::text, ids).shape(), (omni::Shape{2, 128}));
    EXPECT_THROW(m.encode(modality::audio, img), omni::value_error);
    try {
        m.encode(modality::image, V(D::zeros({2, 3, 27, 28})));
        FAIL();
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("patch_embed_image: expected [B, 3, 28, 28], got [2, 3, 27, 28]"), std::string::npos) << e.what();
    }
    // The backbone starts Xavier-initialised with zero biases; heads keep PyTorch's default.
    EXPECT_EQ(m.blocks[0].attn.qkv.bias.to_vector<float>(), std::vector<float>(384, 0.0f));
    EXPECT_NE(m.heads[2].fc1.bias.to_vector<float>()[0], 0.0f);
}

TEST(OmniC, SharedHeadAblation) {
    omni::Generator g(3);
    auto cfg = omni::models::omni_c_tiny;
    cfg.shared_head = true;
    omni::models::OmniC<omni::cpu, modality::image, modality::audio, modality::text> m(cfg, g);
    int heads = 0;
    nn::for_each_parameter(m, [&](const std::string& n, const D&) { heads += n.rfind("head.", 0) == 0; });
    EXPECT_EQ(heads, 4);
    const D a = D::randn({1, 1, 64, 128}, g);
    EXPECT_EQ(m.forward(modality::audio, a).shape(), (omni::Shape{1, 128}));
}

TEST(OmniC, PatchEmbedEqualsAConvolution) {
    omni::Generator g(4);
    nn::PatchEmbed<omni::cpu> pe({.channels = 2, .patch = 2, .dim = 3, .height = 4, .width = 6}, g);
    const D x = D::randn({1, 2, 4, 6}, g, omni::dtype::f32);
    const auto y = pe(x).to_vector<float>();
    const auto xv = x.to_vector<float>(), w = pe.weight.to_vector<float>(), b = pe.bias.to_vector<float>();
    for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 3; ++c)
            for (int o = 0; o < 3; ++o) {
                double acc = b[o];
                for (int ch = 0; ch < 2; ++ch)
                    for (int dy = 0; dy < 2; ++dy)
                        for (int dx = 0; dx < 2; ++dx)
                            acc += w[((o * 2 + ch) * 2 + dy) * 2 + dx] * xv[(ch * 4 + r * 2 + dy) * 6 + c * 2 + dx];
                EXPECT_NEAR(y[(r * 3 + c) * 3 + o], acc, 1e-5);
            }
}

TEST(OmniC, TextPaddingMaskHidesPadsFromTheClsToken) {
    // With the mask, a gloss's CLS output cannot depend on the [PAD] embedding row; without it
    // (the reference), it does. Image inputs never get a mask.
    for (const bool masked : {false, true}) {
        omni::Generator g(5);
        auto cfg = omni::models::omni_c_tiny;
        cfg.mask_text_padding = masked;
        omni::models::OmniC<omni::cpu, modality::image, modality::text> m(cfg, g);
        std::vector<std::int64_t> v(64, 0);
        for (int t = 0; t < 5; ++t) v[t] = 1000 + t;    // row 0: 5 tokens, 27 pads
        for (int t = 0; t < 32; ++t) v[32 + t] = 2000 + t;  // row 1: no pads
        const D ids = D::from_data(v, {2, 32});
        const D mask = m.padding_mask(modality::text, ids);
        EXPECT_EQ(mask.defined(), masked);
        if (masked) {
            EXPECT_EQ(mask.shape(), (omni::Shape{2, 33}));
            const auto mv = mask.to_vector<bool>();
            EXPECT_FALSE(mv[0]);   // CLS
            EXPECT_FALSE(mv[5]);   // the fifth token
            EXPECT_TRUE(mv[6]);    // the first pad
            EXPECT_FALSE(mv[33]);  // row 1 has none
            EXPECT_FALSE(mv[65]);
        }
        EXPECT_FALSE(m.padding_mask(modality::image, D::zeros({2, 3, 28, 28})).defined());
        const auto before = m.encode(modality::text, ids).to_vector<float>();
        m.text_embed.weight.select(0, 0).copy_from(D::randn({128}, g));
        const auto after = m.encode(modality::text, ids).to_vector<float>();
        double row0 = 0, row1 = 0;
        for (int j = 0; j < 128; ++j) row0 = std::max(row0, std::abs(double(before[j]) - after[j]));
        for (int j = 128; j < 256; ++j) row1 = std::max(row1, std::abs(double(before[j]) - after[j]));
        EXPECT_EQ(row1, 0.0);  // no pads: untouched either way
        if (masked) EXPECT_EQ(row0, 0.0);
        else EXPECT_GT(row0, 1e-3);
    }
}

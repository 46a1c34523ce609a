// Omni-C assembly: parameter counts against the reference, names, shapes, position tables,
// modality tags (compile-time lists, run-time index and name lookup) and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "omni/autodiff/all.hpp"
#include "omni/autodiff/gradcheck.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/models/omni_c.hpp"
#include "omni/nn/linear.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;
using omni::models::audio;
using omni::models::image;
using omni::models::text;

TEST(OmniC, ViTB32ParameterCountMatchesTheReference) {
    omni::Generator g(1);
    omni::models::OmniC<omni::cpu, image, audio, text> m(omni::models::omni_c_vit_b32, g);
    EXPECT_EQ(nn::parameter_count(m), 115188480);  // the release's ViT-B/32 preset, all three heads
    std::int64_t blocks = 0, table = 0;
    nn::for_each_parameter(m, [&](const std::string& n, const D& t) {
        if (n.rfind("blocks.", 0) == 0) blocks += t.numel();
        if (n == "text_embed.weight") table = t.numel();
    });
    EXPECT_EQ(blocks, 85054464);
    EXPECT_EQ(table, 23440896);
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
    omni::models::OmniC<A, image, text> m(omni::models::omni_c_tiny, g);
    std::vector<std::string> names;
    nn::for_each_tensor(m, [&](const std::string& n, const V&, bool) { names.push_back(n); });
    EXPECT_EQ(names.front(), "patch_embed_image.proj.weight");
    EXPECT_EQ(names.back(), "head_text.fc2.bias");
    EXPECT_EQ(std::count(names.begin(), names.end(), "patch_embed_audio.proj.weight"), 0);
    const V img(D::randn({2, 3, 28, 28}, g));
    EXPECT_EQ(m.tokens<image>(img).shape(), (omni::Shape{2, 17, 128}));
    EXPECT_EQ(m.encode<image>(img).shape(), (omni::Shape{2, 128}));
    const V ids(D::from_data<std::int64_t>(std::vector<std::int64_t>(64, 101), {2, 32}));
    EXPECT_EQ(m.forward<text>(ids).shape(), (omni::Shape{2, 128}));
    static_assert(!decltype(m)::has<audio>);  // encode<audio> would not compile
    EXPECT_THROW(m.encode(2, img), omni::value_error);
    try {
        m.encode<image>(V(D::zeros({2, 3, 27, 28})));
        FAIL();
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("patch_embed_image: expected [B, 3, 28, 28], got [2, 3, 27, 28]"), std::string::npos) << e.what();
    }
    // The backbone starts Xavier-initialised with zero biases; heads keep PyTorch's default.
    EXPECT_EQ(m.blocks[0].attn.qkv.bias.to_vector<float>(), std::vector<float>(384, 0.0f));
    EXPECT_NE(m.head<text>().fc1.bias.to_vector<float>()[0], 0.0f);
    try {
        m.forward<text>(V(D::zeros({2, 31}, omni::dtype::i64)));
        FAIL();
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("OmniC.text: expected token ids [B, 32], got [2, 31]"), std::string::npos) << e.what();
    }
}

TEST(OmniC, SharedHeadAblation) {
    omni::Generator g(3);
    auto cfg = omni::models::omni_c_tiny;
    cfg.shared_head = true;
    omni::models::OmniC<omni::cpu, image, audio, text> m(cfg, g);
    int heads = 0;
    nn::for_each_parameter(m, [&](const std::string& n, const D&) { heads += n.rfind("head.", 0) == 0; });
    EXPECT_EQ(heads, 4);
    const D a = D::randn({1, 1, 64, 128}, g);
    EXPECT_EQ(m.forward<audio>(a).shape(), (omni::Shape{1, 128}));
    EXPECT_EQ(&m.head<text>(), &m.head<image>());  // one module, not three
    EXPECT_EQ(m.forward<text>(D::zeros({1, 32}, omni::dtype::i64)).to_vector<float>(),
              m.head<image>()(m.encode<text>(D::zeros({1, 32}, omni::dtype::i64))).to_vector<float>());
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
        omni::models::OmniC<omni::cpu, image, text> m(cfg, g);
        std::vector<std::int64_t> v(64, 0);
        for (int t = 0; t < 5; ++t) v[t] = 1000 + t;    // row 0: 5 tokens, 27 pads
        for (int t = 0; t < 32; ++t) v[32 + t] = 2000 + t;  // row 1: no pads
        const D ids = D::from_data(v, {2, 32});
        const D mask = m.padding_mask<text>(ids);
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
        EXPECT_FALSE(m.padding_mask<image>(D::zeros({2, 3, 28, 28})).defined());
        const auto before = m.encode<text>(ids).to_vector<float>();
        m.embedder<text>().text_embed.weight.select(0, 0).copy_from(D::randn({128}, g));
        const auto after = m.encode<text>(ids).to_vector<float>();
        double row0 = 0, row1 = 0;
        for (int j = 0; j < 128; ++j) row0 = std::max(row0, std::abs(double(before[j]) - after[j]));
        for (int j = 128; j < 256; ++j) row1 = std::max(row1, std::abs(double(before[j]) - after[j]));
        EXPECT_EQ(row1, 0.0);  // no pads: untouched either way
        if (masked) EXPECT_EQ(row0, 0.0);
        else EXPECT_GT(row0, 1e-3);
    }
}

namespace {
using omni::Tensor;

// A modality the library does not know: a 1-D multichannel signal [B, C, L] cut into patches of
// `patch` samples, each patch (all channels) a token through one Linear, plus 1-D sin-cos positions.
template <class P> struct SensorTokens : nn::Module {
    using D = nn::device_of_t<P>;
    std::int64_t channels = 2, length = 16, patch = 4;
    nn::Linear<P> proj;
    Tensor<P> pos;
    template <class V> void visit(V& v) {
        v.module("sensor_embed", proj);
        v.buffer("pos_embed_sensor", pos);
    }
    Tensor<P> forward(const Tensor<P>& x) const {
        if (x.dim() != 3 || x.shape()[1] != channels || x.shape()[2] != length)
            throw omni::shape_error("SensorTokens", "expected [B, 2, 16], got " + x.shape().str());
        const std::int64_t b = x.shape()[0], n = length / patch;
        return omni::add(proj(x.view({b, channels, n, patch}).permute({0, 2, 1, 3}).reshape({b, n, channels * patch})), pos);
    }
};
struct sensor {
    static constexpr std::string_view name = "sensor";
    template <class P> using embedder = SensorTokens<P>;
    template <class P> static SensorTokens<P> make(const omni::models::OmniCConfig& c, omni::Generator& g) {
        SensorTokens<P> e;
        e.proj = nn::Linear<P>({.in = e.channels * e.patch, .out = c.dim}, g);
        e.pos = nn::make_buffer<P>(nn::sincos_1d<nn::device_of_t<P>>(e.length / e.patch, c.dim));
        return e;
    }
};
omni::models::OmniCConfig micro() {
    auto c = omni::models::omni_c_tiny;
    c.dim = 16, c.depth = 1, c.heads = 2, c.head_hidden = 16, c.head_out = 8, c.vocab = 40, c.text_len = 6, c.image_size = 8, c.image_patch = 4;
    return c;
}
}  // namespace

TEST(OmniC, ModalitiesByRunTimeIndexAndName) {
    omni::Generator g(6);
    using M = omni::models::OmniC<omni::cpu, text, image>;  // the list's order, not the built-ins'
    static_assert(M::modality_count == 2 && M::index_of<image>() == 1 && M::has<text> && !M::has<audio>);
    static_assert(std::is_same_v<omni::models::OmniC<omni::cpu, omni::models::modality::text, omni::models::modality::image>, M>);  // the old spelling
    M m(micro(), g);
    EXPECT_EQ(M::modality_index("image"), 1u);
    EXPECT_EQ(M::modality_name(0), "text");
    const D img = D::randn({3, 3, 8, 8}, g);
    EXPECT_EQ(m.encode(1, img).to_vector<float>(), m.encode<image>(img).to_vector<float>());
    EXPECT_EQ(m.forward(1, img).to_vector<float>(), m.forward<image>(img).to_vector<float>());
    EXPECT_EQ(m.tokens(1, img).shape(), (omni::Shape{3, 5, 16}));
    EXPECT_NE(m.forward(1, img).to_vector<float>(), m.head<text>()(m.encode<image>(img)).to_vector<float>());  // each its own head
    try {
        (void)M::modality_index("audio");
        FAIL();
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("OmniC: expected one of the model's modalities (text, image), got 'audio'"), std::string::npos) << e.what();
    }
    try {
        m.forward(2, img);
        FAIL();
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("expected a modality index below 2 (text, image), got 2"), std::string::npos) << e.what();
    }
    EXPECT_THROW(M::modality_name(7), omni::value_error);
    // Parameters in list order: text's embedder first, its head before image's.
    std::vector<std::string> names;
    nn::for_each_tensor(m, [&](const std::string& n, const D&, bool) { names.push_back(n); });
    EXPECT_EQ(names.front(), "text_embed.weight");
    const auto at = [&](const char* n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
    EXPECT_LT(at("head_text.fc1.weight"), at("head_image.fc1.weight"));
    EXPECT_LT(at("pos_embed_text"), at("patch_embed_image.proj.weight"));
}

TEST(OmniC, AUserDefinedModalityJoinsTheList) {
    omni::Generator g(7);
    omni::models::OmniC<A, image, sensor> m(micro(), g);
    std::vector<std::string> names;
    nn::for_each_tensor(m, [&](const std::string& n, const V&, bool) { names.push_back(n); });
    for (const char* n : {"sensor_embed.weight", "sensor_embed.bias", "pos_embed_sensor", "head_sensor.fc2.bias", "patch_embed_image.proj.weight"})
        EXPECT_EQ(std::count(names.begin(), names.end(), n), 1) << n;
    EXPECT_EQ(std::count(names.begin(), names.end(), "text_embed.weight"), 0);
    const V x(D::randn({3, 2, 16}, g));
    EXPECT_EQ(m.tokens<sensor>(x).shape(), (omni::Shape{3, 5, 16}));  // CLS + 4 patches
    EXPECT_EQ(m.forward<sensor>(x).shape(), (omni::Shape{3, 8}));
    EXPECT_EQ(m.forward(m.modality_index("sensor"), x).value().to_vector<float>(), m.forward<sensor>(x).value().to_vector<float>());
    EXPECT_FALSE(m.padding_mask<sensor>(x).defined());  // no padding_mask member: every key attends
    EXPECT_THROW(m.forward<sensor>(V(D::randn({3, 2, 15}, g))), omni::shape_error);
    // Gradients reach the custom embedder's weights through the shared backbone.
    omni::mean(omni::square(m.forward<sensor>(x))).backward();
    const auto grad = m.embedder<sensor>().proj.weight.grad().to_vector<float>();
    EXPECT_TRUE(std::any_of(grad.begin(), grad.end(), [](float v) { return v != 0.0f; }));
}

TEST(OmniC, GradcheckThroughAUserDefinedModality) {
    omni::Generator g(8);
    auto c = micro();
    c.head_out = 3;
    omni::models::OmniC<A, sensor> m(c, g);
    nn::cast(m, omni::dtype::f64);
    const V x(D::randn({2, 2, 16}, g, omni::dtype::f64), true);
    const auto r = omni::gradcheck<omni::cpu>([&](const std::vector<V>& in) { return m.forward<sensor>(in[0]); }, {x});
    EXPECT_TRUE(r.ok) << r.message;
}

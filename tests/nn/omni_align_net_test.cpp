// OmniAlignNet and its alignment loss: parameter names for every option, shapes and unit rows,
// padding masks, gradcheck of the whole module + loss in float64, typed errors, and a training
// sanity check (AdamW on a small paired batch drives the loss down). PyTorch parity is in
// tests/parity/align_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "omni/autodiff/gradcheck.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/loss/omni_align.hpp"
#include "omni/nn/omni_align_net.hpp"
#include "omni/optim/adamw.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;
using omni::loss::align_scale;
using omni::loss::OmniAlignLoss;

namespace {
std::set<std::string> names(nn::OmniAlignNet<A>& m) {
    std::set<std::string> s;
    nn::for_each_parameter(m, [&](const std::string& n, V&) { s.insert(n); });
    return s;
}
}  // namespace

TEST(OmniAlignNet, ParameterNamesFollowTheOptions) {
    omni::Generator g(1);
    nn::OmniAlignNet<A> sep({.dim = 16, .heads = 2}, g);
    const auto s = names(sep);
    for (const char* n : {"query_v", "query_a", "cross_v.q.weight", "cross_a.v.bias", "cross_v.proj.weight", "layers_v.0.attn.qkv.weight",
                          "layers_a.2.mlp.fc2.bias", "layers_v.2.norm1.weight"})
        EXPECT_TRUE(s.count(n)) << n;
    EXPECT_FALSE(s.count("layers_v.3.norm1.weight"));
    EXPECT_EQ(sep.query_v.shape(), (omni::Shape{1, 16}));
    nn::OmniAlignNet<A> shared({.dim = 16, .heads = 2, .n_layers = 1, .n_queries = 4, .shared_query = true, .shared_layers = true}, g);
    const auto t = names(shared);
    EXPECT_TRUE(t.count("query") && t.count("layers.0.attn.proj.weight") && t.count("cross_a.k.weight"));
    EXPECT_FALSE(t.count("query_a") || t.count("layers_a.0.attn.proj.weight"));
    EXPECT_EQ(shared.query_v.shape(), (omni::Shape{4, 16}));
    // Separate branches hold twice the stack; the learnable scale is one more parameter.
    nn::OmniAlignNet<A> one({.dim = 16, .heads = 2, .shared_query = true, .shared_layers = true}, g);
    EXPECT_EQ(nn::parameter_count(sep), nn::parameter_count(one) + nn::parameter_count(sep.layers_a) + 16);
    OmniAlignLoss<A> learn({.scale = align_scale::learnable});
    EXPECT_EQ(nn::parameter_count(learn), 1);
    EXPECT_NEAR(learn.scale(), 1 / 0.07, 1e-4);
    EXPECT_EQ(OmniAlignLoss<A>().scale(), 1.0);
}

TEST(OmniAlignNet, UnitEmbeddingsAndPaddingIsIgnored) {
    omni::Generator g(2);
    const nn::OmniAlignNet<omni::cpu> m({.dim = 16, .heads = 4, .n_queries = 2}, g);
    const D ev = D::randn({3, 5, 16}, g), ea = D::randn({3, 7, 16}, g);
    const auto o = m(ev, ea);
    ASSERT_EQ(o.visual.shape(), (omni::Shape{3, 16}));
    ASSERT_EQ(o.audio.shape(), (omni::Shape{3, 16}));
    const auto v = o.visual.to_vector<float>();
    for (int b = 0; b < 3; ++b) {
        double n = 0;
        for (int c = 0; c < 16; ++c) n += v[b * 16 + c] * v[b * 16 + c];
        EXPECT_NEAR(n, 1.0, 1e-5);
    }
    // Padding the audio with junk tokens that the mask hides changes nothing.
    std::vector<float> pad(3 * 9 * 16);
    const auto a = ea.to_vector<float>();
    std::vector<float> mask(3 * 9, 0);
    for (int b = 0; b < 3; ++b)
        for (int n = 0; n < 9; ++n) {
            for (int c = 0; c < 16; ++c) pad[(b * 9 + n) * 16 + c] = n < 7 ? a[(b * 7 + n) * 16 + c] : 100.0f;
            mask[b * 9 + n] = n >= 7;
        }
    const D padded = D::from_data(pad, {3, 9, 16}), pmask = D::from_data(mask, {3, 9}).to(omni::dtype::b8);
    const auto want = o.audio.to_vector<float>(), got = m.embed_audio(padded, pmask).to_vector<float>();
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5);
}

TEST(OmniAlignNet, GradcheckModuleAndLoss) {
    for (const bool shared : {false, true}) {
        SCOPED_TRACE(shared ? "shared, learnable scale" : "separate, fixed scale");
        omni::Generator g(3);
        nn::OmniAlignNet<A> m({.dim = 4, .heads = 2, .n_layers = 1, .n_queries = shared ? 2 : 1, .shared_query = shared, .shared_layers = shared,
                               .mlp_ratio = 2},
                              g);
        OmniAlignLoss<A> l({.scale = shared ? align_scale::learnable : align_scale::fixed});
        nn::cast(m, omni::dtype::f64);
        nn::cast(l, omni::dtype::f64);
        std::vector<V> in{V(D::randn({3, 3, 4}, g, omni::dtype::f64), true), V(D::randn({3, 2, 4}, g, omni::dtype::f64), true)};
        nn::for_each_parameter(m, [&](const std::string&, V& p) { in.push_back(p); });
        nn::for_each_parameter(l, [&](const std::string&, V& p) { in.push_back(p); });
        if (shared) in.back() = V(D::full({1}, 1.5, omni::dtype::f64), true);  // inside the clamp, so it has a gradient
        const auto r = omni::gradcheck<omni::cpu>([&](const std::vector<V>& x) {
            nn::OmniAlignNet<A> mm = m;
            OmniAlignLoss<A> ll = l;
            std::size_t i = 2;
            nn::for_each_parameter(mm, [&](const std::string&, V& p) { p = x[i++]; });
            nn::for_each_parameter(ll, [&](const std::string&, V& p) { p = x[i++]; });
            const auto o = mm(x[0], x[1]);
            return omni::add(ll(o.visual, o.audio), omni::sum(omni::mul(o.visual, o.audio)));
        }, in);
        EXPECT_TRUE(r.ok) << r.message;
        EXPECT_GT(in.size(), 20u);
    }
}

TEST(OmniAlignNet, Errors) {
    omni::Generator g(4);
    try {
        nn::OmniAlignNet<omni::cpu>({.dim = 10, .heads = 4}, g);
        ADD_FAILURE();
    } catch (const omni::value_error& e) {
        EXPECT_STREQ(e.what(), "value_error: OmniAlignNet: expected dim divisible by heads, got dim 10, heads 4");
    }
    EXPECT_THROW(nn::OmniAlignNet<omni::cpu>({.dim = 8, .heads = 2, .n_queries = 0}, g), omni::value_error);
    EXPECT_THROW(nn::OmniAlignNet<omni::cpu>({.dim = 8, .heads = 2, .n_layers = -1}, g), omni::value_error);
    const nn::OmniAlignNet<omni::cpu> m({.dim = 8, .heads = 2, .n_layers = 1}, g);
    try {
        m(D::randn({2, 3, 6}, g), D::randn({2, 3, 8}, g));
        ADD_FAILURE();
    } catch (const omni::shape_error& e) {
        EXPECT_STREQ(e.what(), "shape_error: OmniAlignNet: expected visual tokens [B, N >= 1, 8], got [2, 3, 6]");
    }
    EXPECT_THROW(m(D::randn({2, 3, 8}, g), D::randn({3, 3, 8}, g)), omni::shape_error);  // batch mismatch
    EXPECT_THROW(m(D::randn({2, 0, 8}, g), D::randn({2, 3, 8}, g)), omni::shape_error);  // no tokens
    EXPECT_THROW(m.embed_audio(D::randn({2, 3}, g)), omni::shape_error);
    const OmniAlignLoss<omni::cpu> l;
    try {
        l(D::randn({1, 8}, g), D::randn({1, 8}, g));
        ADD_FAILURE();
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("expected a batch of at least 2 pairs (each video is contrasted with the others), got 1"), std::string::npos) << e.what();
    }
    EXPECT_THROW(l(D::randn({3, 8}, g), D::randn({2, 8}, g)), omni::shape_error);
}

TEST(OmniAlignNet, TrainingLowersTheLoss) {
    // 8 videos whose audio tokens are a fixed linear map of their visual tokens plus noise: the
    // two branches must learn to meet. AdamW, lr 3e-3, learnable scale (with scale 1 the loss
    // cannot fall far below ln 8 - 2 = 0.08 over the [-1, 1] logits).
    omni::Generator g(5);
    nn::OmniAlignNet<A> m({.dim = 16, .heads = 2, .n_layers = 2}, g);
    OmniAlignLoss<A> l({.scale = align_scale::learnable});
    const D ev = D::randn({8, 6, 16}, g);
    const D mix = D::randn({16, 16}, g, omni::dtype::f32, 0, 0.25);
    const D ea = omni::add(omni::matmul(ev.view({48, 16}), mix).view({8, 6, 16}), D::randn({8, 6, 16}, g, omni::dtype::f32, 0, 0.1));
    auto groups = omni::optim::nn_param_groups(m, 0.01);
    auto lg = omni::optim::nn_param_groups(l, 0.0);
    groups.insert(groups.end(), lg.begin(), lg.end());
    omni::optim::AdamW<omni::cpu> opt(groups, {.lr = 3e-3});
    double first = 0, last = 0;
    for (int step = 0; step < 60; ++step) {
        const auto o = m(V(ev), V(ea));
        const V loss = l(o.visual, o.audio);
        if (step == 0) first = loss.item<double>();
        last = loss.item<double>();
        loss.backward();
        opt.step();
        opt.zero_grad();
    }
    std::cout << "loss " << first << " -> " << last << " in 60 steps\n";
    EXPECT_NEAR(first, std::log(8.0), 0.7);  // chance level at the start
    EXPECT_LT(last, 0.3 * first) << "first " << first << ", last " << last;
}

// LoRA and SBoRA-FA adapters: start equal to the base, train only B (and A for LoRA), merge
// exactly, gradcheck.
#include <gtest/gtest.h>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/adapters/sbora.hpp"
#include "omni/nn/transformer.hpp"
#include "omni/optim/sgd.hpp"

#include <algorithm>

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;

namespace {
double max_diff(const D& a, const D& b) {
    const auto x = a.to_vector<double>(), y = b.to_vector<double>();
    double m = 0;
    for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
    return m;
}
}  // namespace

class Adapter : public ::testing::TestWithParam<nn::adapter_kind> {};

TEST_P(Adapter, StartsAtTheBaseTrainsOnlyTheAdapterAndMerges) {
    omni::Generator g(1);
    nn::Linear<A> base({.in = 16, .out = 8}, g);
    nn::LowRankAdapter<A> ad(base, {.kind = GetParam(), .rank = 4, .alpha = 8}, g);
    const V x(D::randn({5, 16}, g));
    EXPECT_EQ(max_diff(ad(x).value(), base(x).value()), 0.0);  // B = 0
    std::vector<std::string> trainable;
    nn::for_each_parameter(ad, [&](const std::string& n, V& p) {
        if (p.requires_grad()) trainable.push_back(n);
    });
    const std::vector<std::string> expected =
        GetParam() == nn::adapter_kind::lora ? std::vector<std::string>{"lora_a", "lora_b"} : std::vector<std::string>{"lora_b"};
    EXPECT_EQ(trainable, expected);
    // A few SGD steps on B (and A), then merging must reproduce the adapted output.
    const D target = D::randn({5, 8}, g);
    for (int s = 0; s < 5; ++s) {
        omni::mean(omni::square(ad(x) - V(target))).backward();
        omni::no_grad ng;
        nn::for_each_parameter(ad, [](const std::string&, V& p) {
            if (p.requires_grad() && p.grad().defined()) {
                p.value().copy_from(p.value() - p.grad() * 0.5);
                p.zero_grad();
            }
        });
    }
    EXPECT_GT(max_diff(ad(x).value(), base(x).value()), 1e-3);
    EXPECT_FALSE(base.weight.grad().defined());
    EXPECT_LT(max_diff(ad.merge()(x).value(), ad(x).value()), 1e-5);
}

TEST_P(Adapter, Gradcheck) {
    omni::Generator g(2);
    nn::Linear<A> base({.in = 6, .out = 3}, g);
    nn::cast(base, omni::dtype::f64);
    nn::LowRankAdapter<A> ad(base, {.kind = GetParam(), .rank = 2, .alpha = 4}, g);
    nn::cast(ad, omni::dtype::f64);
    ad.delta.lora_b = V(D::randn({3, 2}, g, omni::dtype::f64), true);
    const V x(D::randn({4, 6}, g, omni::dtype::f64), true);
    const auto r = omni::gradcheck<omni::cpu>([&](const std::vector<V>& in) {
        nn::LowRankAdapter<A> a = ad;
        a.delta.lora_b = in[1];
        return a(in[0]);
    }, {x, ad.delta.lora_b});
    EXPECT_TRUE(r.ok) << r.message;
}

INSTANTIATE_TEST_SUITE_P(Kinds, Adapter, ::testing::Values(nn::adapter_kind::lora, nn::adapter_kind::sbora_fa));

TEST(Adapter, SBoRATrainableCountMatchesThePaper) {
    // ViT-B/32 block, r = 128: 128 x (2304 + 768 + 3072 + 768) = 884,736 trainable per block.
    omni::Generator g(3);
    std::int64_t total = 0;
    for (auto [in, out] : {std::pair{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}}) {
        nn::LowRankAdapter<A> ad(nn::Linear<A>({.in = in, .out = out}, g), {.rank = 128, .alpha = 128}, g);
        nn::for_each_parameter(ad, [&](const std::string&, V& p) {
            if (p.requires_grad()) total += p.numel();
        });
    }
    EXPECT_EQ(total, 884736);
    EXPECT_THROW(nn::LowRankAdapter<A>(nn::Linear<A>({.in = 4, .out = 2}, g), {.rank = 5}, g), omni::value_error);
}

// Whole-model adaptation: every Linear of a transformer stack gets an update in place; the
// model starts unchanged, trains only the updates, and merging returns a plain model with the
// same outputs.
TEST_P(Adapter, AttachToEveryBlockLinearTrainThenMerge) {
    omni::Generator g(4);
    nn::Stack<nn::TransformerBlock<A>> blocks(2, [&](int) { return nn::TransformerBlock<A>({.dim = 16, .heads = 2}, g); });
    nn::name_modules(blocks);
    const V x(D::randn({2, 5, 16}, g));
    const D before = blocks.forward(x).value().clone();
    EXPECT_EQ(nn::attach_adapters(blocks, {.kind = GetParam(), .rank = 4, .alpha = 8}, g), 8);  // qkv, proj, fc1, fc2 x 2
    EXPECT_EQ(max_diff(blocks.forward(x).value(), before), 0.0);
    std::vector<std::string> trainable;
    nn::for_each_parameter(blocks, [&](const std::string& n, V& p) {
        if (p.requires_grad() && n.find("adapter") != std::string::npos) trainable.push_back(n);
    });
    EXPECT_EQ(trainable.size(), GetParam() == nn::adapter_kind::lora ? 16u : 8u);
    EXPECT_NE(std::find(trainable.begin(), trainable.end(), "0.attn.qkv.adapter.lora_b"), trainable.end());
    auto groups = omni::optim::nn_param_groups<omni::cpu>(blocks, 0.0);
    std::int64_t in_groups = 0;
    for (const auto& gr : groups) in_groups += static_cast<std::int64_t>(gr.params.size());
    EXPECT_EQ(in_groups, static_cast<std::int64_t>(trainable.size()) + 8);  // + the LayerNorms, still trainable here
    omni::optim::SGD<omni::cpu> opt(std::move(groups), {.lr = 0.5});
    const D target = D::randn({2, 5, 16}, g);
    for (int s = 0; s < 3; ++s) {
        omni::mean(omni::square(blocks.forward(x) - V(target))).backward();
        opt.step();
        opt.zero_grad();
    }
    const D adapted = blocks.forward(x).value().clone();
    EXPECT_GT(max_diff(adapted, before), 1e-4);
    EXPECT_EQ(nn::merge_adapters(blocks), 8);
    EXPECT_LT(max_diff(blocks.forward(x).value(), adapted), 1e-5);
    EXPECT_FALSE(blocks[0].attn.qkv.adapter);
    EXPECT_THROW(nn::attach_adapters(blocks, {.rank = 4}, g, [](const std::string&) { return false; }), omni::value_error);
    nn::attach_adapters(blocks, {.rank = 4}, g);
    EXPECT_THROW(nn::attach_adapters(blocks, {.rank = 4}, g), omni::value_error);  // already adapted
}

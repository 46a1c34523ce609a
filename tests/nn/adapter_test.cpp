// LoRA and SBoRA-FA adapters: start equal to the base, train only B (and A for LoRA), merge
// exactly, gradcheck.
#include <gtest/gtest.h>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/adapters/sbora.hpp"

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
    ad.lora_b = V(D::randn({3, 2}, g, omni::dtype::f64), true);
    const V x(D::randn({4, 6}, g, omni::dtype::f64), true);
    const auto r = omni::gradcheck<omni::cpu>([&](const std::vector<V>& in) {
        nn::LowRankAdapter<A> a = ad;
        a.lora_b = in[1];
        return a(in[0]);
    }, {x, ad.lora_b});
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

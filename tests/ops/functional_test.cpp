// The functional API through its umbrella alone: one representative op of every family on the
// untaped cpu policy and on the taped autodiff<cpu>, against values worked out by hand. This
// translation unit includes nothing of omni but omni/ops.hpp, so a family the umbrella stops
// bringing (its untaped form, its taped overload or its CPU kernels) fails to compile here.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "omni/ops.hpp"

using omni::dtype;
using omni::Shape;

namespace {

template <class P> omni::Tensor<P> f64(const std::vector<double>& v, const Shape& s) { return omni::Tensor<P>::from_data(v, s); }
// A float64 input that, under autodiff, is a gradient leaf (so each taped op must record).
template <class P> omni::Tensor<P> leaf(const std::vector<double>& v, const Shape& s) {
    return omni::make_param<P>(omni::Tensor<omni::device_of_t<P>>::from_data(v, s));
}
template <class P> omni::Tensor<P> ids(const std::vector<std::int64_t>& v, const Shape& s) { return omni::Tensor<P>::from_data(v, s); }

// Shape and values (1e-12 relative), and under autodiff that the result is on the tape.
template <class P> void expect_values(const omni::Tensor<P>& got, const Shape& shape, const std::vector<double>& want, const char* what) {
    SCOPED_TRACE(what);
    if constexpr (omni::is_autodiff_v<P>) {
        EXPECT_TRUE(got.requires_grad()) << "the taped overload must record";
    }
    ASSERT_EQ(got.shape(), shape);
    const auto g = got.template to_vector<double>();
    ASSERT_EQ(g.size(), want.size());
    for (std::size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[i], 1e-12 * (1 + std::abs(want[i]))) << "at " << i;
}

double gelu_ref(double x) { return 0.5 * x * (1 + std::erf(x / std::numbers::sqrt2)); }

}  // namespace

template <class P> class Functional : public ::testing::Test {};
using Policies = ::testing::Types<omni::cpu, omni::autodiff<omni::cpu>>;
TYPED_TEST_SUITE(Functional, Policies);

TYPED_TEST(Functional, Elementwise) {
    using P = TypeParam;
    const auto x = leaf<P>({-1, 0, 2}, {3});
    expect_values(omni::gelu(x), {3}, {gelu_ref(-1), 0, gelu_ref(2)}, "gelu");
    expect_values(omni::add(x, x), {3}, {-2, 0, 4}, "add");
    expect_values(omni::mul(x, 3.0), {3}, {-3, 0, 6}, "mul by a scalar");
    expect_values(x * x - 1.0, {3}, {0, -1, 3}, "operators");
    expect_values(omni::where(omni::gt(x, omni::Tensor<P>::zeros({3}, dtype::f64)), x, omni::mul(x, 0.5)), {3}, {-0.5, 0, 2}, "where");
}

TYPED_TEST(Functional, Reductions) {
    using P = TypeParam;
    const auto x = leaf<P>({1, 2, 3, 4, 5, 6}, {2, 3});
    expect_values(omni::sum(x), {}, {21}, "sum");
    expect_values(omni::sum(x, {1}), {2}, {6, 15}, "sum over an axis");
    expect_values(omni::mean(x, {0}, true), {1, 3}, {2.5, 3.5, 4.5}, "mean keepdim");
    expect_values(omni::max(x, {0}), {3}, {4, 5, 6}, "max");
    const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    expect_values(omni::logsumexp(x, {1}), {2}, {lse, lse + 3}, "logsumexp");
}

TYPED_TEST(Functional, Matmul) {
    using P = TypeParam;
    const auto a = leaf<P>({1, 2, 3, 4, 5, 6}, {2, 3});
    const auto b = leaf<P>({1, 0, 0, 1, 1, 1}, {3, 2});
    expect_values(omni::matmul(a, b), {2, 2}, {4, 5, 10, 11}, "matmul");
    expect_values(omni::matmul(a, a, false, true), {2, 2}, {14, 32, 32, 77}, "matmul with b transposed");
    expect_values(omni::addmm(leaf<P>({10, 20}, {2}), a, b), {2, 2}, {14, 25, 20, 31}, "addmm");
}

TYPED_TEST(Functional, Softmax) {
    using P = TypeParam;
    const auto x = leaf<P>({0, std::log(2.0), std::log(3.0)}, {1, 3});
    expect_values(omni::softmax(x), {1, 3}, {1.0 / 6, 2.0 / 6, 3.0 / 6}, "softmax");
    expect_values(omni::log_softmax(x, 1), {1, 3}, {std::log(1.0 / 6), std::log(2.0 / 6), std::log(3.0 / 6)}, "log_softmax");
}

TYPED_TEST(Functional, Normalisations) {
    using P = TypeParam;
    const auto x = leaf<P>({1, 2, 3, 4}, {1, 4});
    const double sd = std::sqrt(1.25 + 1e-5);  // mean 2.5, biased variance 1.25
    expect_values(omni::layer_norm(x, leaf<P>({1, 2, 1, 2}, {4}), leaf<P>({0, 0, 1, 1}, {4})), {1, 4},
                  {-1.5 / sd, 2 * -0.5 / sd, 0.5 / sd + 1, 2 * 1.5 / sd + 1}, "layer_norm");
    const auto y = leaf<P>({3, 4}, {1, 2});
    const double rms = std::sqrt(12.5 + 1e-6);
    expect_values(omni::rms_norm(y, leaf<P>({1, 2}, {2})), {1, 2}, {3 / rms, 8 / rms}, "rms_norm");
    expect_values(omni::l2_normalize(y), {1, 2}, {0.6, 0.8}, "l2_normalize");
}

TYPED_TEST(Functional, Rotary) {
    using P = TypeParam;
    using D = omni::Tensor<omni::device_of_t<P>>;  // the tables are constants on the device policy
    const double c = std::cos(0.3), s = std::sin(0.3);
    const D cos = D::from_data(std::vector<double>{c, c}, {1, 2}), sin = D::from_data(std::vector<double>{s, s}, {1, 2});
    const auto x = leaf<P>({1, 2, 5}, {1, 3});  // the third channel is not rotated
    expect_values(omni::rotary(x, cos, sin, omni::rotary_pairing::half), {1, 3}, {c - 2 * s, 2 * c + s, 5}, "rotary");
}

TYPED_TEST(Functional, Attention) {
    using P = TypeParam;
    // Equal scores: each query averages the values it may see; causal row 0 sees key 0 only.
    const auto q = leaf<P>({0, 0}, {1, 1, 2, 1}), k = leaf<P>({0, 0}, {1, 1, 2, 1}), v = leaf<P>({1, 3}, {1, 1, 2, 1});
    expect_values(omni::attention(q, k, v), {1, 1, 2, 1}, {2, 2}, "attention");
    expect_values(omni::attention(q, k, v, omni::Tensor<P>{}, true), {1, 1, 2, 1}, {1, 2}, "causal attention");
}

TYPED_TEST(Functional, Indexing) {
    using P = TypeParam;
    const auto w = leaf<P>({0, 1, 2, 3, 4, 5}, {3, 2});
    expect_values(omni::embedding(w, ids<P>({2, 0}, {2})), {2, 2}, {4, 5, 0, 1}, "embedding");
    expect_values(omni::gather(w, 1, ids<P>({1, 0, 1}, {3, 1})), {3, 1}, {1, 2, 5}, "gather");
    expect_values(omni::index_select(w, 0, ids<P>({1}, {1})), {1, 2}, {2, 3}, "index_select");
}

TYPED_TEST(Functional, Joins) {
    using P = TypeParam;
    const auto a = leaf<P>({1, 2}, {1, 2}), b = leaf<P>({3, 4, 5, 6}, {2, 2});
    const auto ab = omni::concat(std::vector<omni::Tensor<P>>{a, b}, 0);
    expect_values(ab, {3, 2}, {1, 2, 3, 4, 5, 6}, "concat");
    const auto parts = omni::split(ab, {2, 1}, 0);
    ASSERT_EQ(parts.size(), 2u);
    expect_values(parts[1], {1, 2}, {5, 6}, "split");
    expect_values(omni::stack(std::vector<omni::Tensor<P>>{a, a}, 0), {2, 1, 2}, {1, 2, 1, 2}, "stack");
}

TYPED_TEST(Functional, Composites) {
    using P = TypeParam;
    const auto x = leaf<P>({1, 2, 3}, {1, 3});
    const auto w = leaf<P>({1, 0, 0, 0, 1, 1}, {2, 3});
    expect_values(omni::linear(x, w, leaf<P>({10, 20}, {2})), {1, 2}, {11, 25}, "linear");
    const auto s = leaf<P>({1, 2, 3, 4}, {1, 1, 4});
    const auto k = leaf<P>({1, 1}, {1, 1, 2});
    expect_values(omni::conv1d(s, k), {1, 1, 3}, {3, 5, 7}, "conv1d");
    expect_values(omni::conv1d(s, k, omni::Tensor<P>{}, 2, 1), {1, 1, 3}, {1, 5, 4}, "conv1d, stride 2, padding 1");
}

// The taped forms differentiate correctly when chained across families (float64 central
// differences through omni::gradcheck, part of the same umbrella).
TEST(FunctionalTape, ChainsAcrossFamiliesPassGradcheck) {
    using V = omni::Var<omni::cpu>;
    using D = omni::Tensor<omni::cpu>;
    omni::Generator gen(5);
    const auto p = [&](const Shape& s) { return V(D::randn(s, gen, dtype::f64), true); };
    const std::vector<V> in{p({2, 3, 4}), p({5, 4}), p({5}), p({5}), p({4, 5, 2})};
    const auto r = omni::gradcheck<omni::cpu>(
        [](const std::vector<V>& v) {
            const V h = omni::layer_norm(omni::gelu(omni::linear(v[0], v[1], v[2])), v[3]);        // [2, 3, 5]
            const V c = omni::conv1d(h.transpose(1, 2), v[4], V{}, 1, 1);                          // [2, 4, 4]
            return omni::mul(omni::softmax(c, -1), omni::l2_normalize(omni::sum(c, {1}, true)));  // [2, 4, 4]
        },
        in);
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_LT(r.max_abs_error, 1e-5);
}

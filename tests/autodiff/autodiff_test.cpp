// Tape semantics: accumulation, no_grad, detach, retain_graph, leaves, and one module source
// serving both the plain and the taped policy.
#include <gtest/gtest.h>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/ops/linear.hpp"

using omni::Shape;
using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;

namespace {
std::vector<double> v(const D& t) { return t.to_vector<double>(); }
// A two-layer MLP written once over any policy.
template <class P> omni::Tensor<P> mlp(const omni::Tensor<P>& x, const omni::Tensor<P>& w1, const omni::Tensor<P>& w2) {
    return omni::linear(omni::gelu(omni::linear(x, w1)), w2);
}
}  // namespace

TEST(Autodiff, SimpleChainRule) {
    const V x(D::from_data<double>({1, 2, 3}, {3}), true);
    const V y = omni::sum(x * x * 3.0);
    y.backward();
    EXPECT_EQ(v(x.grad()), (std::vector<double>{6, 12, 18}));
    EXPECT_TRUE(x.is_leaf());
    EXPECT_FALSE(y.is_leaf());
}

TEST(Autodiff, GradientsAccumulateAcrossBackwardCalls) {
    const V x(D::from_data<double>({1, 2}, {2}), true);
    omni::sum(x * 2.0).backward();
    omni::sum(x * 2.0).backward();
    EXPECT_EQ(v(x.grad()), (std::vector<double>{4, 4}));
    x.zero_grad();
    EXPECT_FALSE(x.grad().defined());
    omni::sum(x).backward();
    EXPECT_EQ(v(x.grad()), (std::vector<double>{1, 1}));
}

TEST(Autodiff, SharedSubgraphIsVisitedOnce) {
    const V x(D::from_data<double>({2}, {1}), true);
    const V h = x * x;          // used twice below
    const V y = h * h + h;      // y = x^4 + x^2, dy/dx = 4x^3 + 2x = 36
    omni::sum(y).backward();
    EXPECT_DOUBLE_EQ(x.grad().item<double>(), 36.0);
}

TEST(Autodiff, LeafGradientsOwnTheirBuffers) {
    const V a(D::ones({3}, omni::dtype::f64), true), b(D::ones({3}, omni::dtype::f64), true);
    omni::sum(a + b).backward();  // the same gradient tensor reaches both leaves
    EXPECT_NE(a.grad().storage(), b.grad().storage());
    a.grad().fill_(5);
    EXPECT_EQ(v(b.grad()), (std::vector<double>{1, 1, 1}));
}

TEST(Autodiff, NoGradRecordsNothing) {
    const V x(D::ones({2}), true);
    {
        omni::no_grad guard;
        EXPECT_FALSE(omni::grad_enabled());
        const V y = x * 2.0;
        EXPECT_FALSE(y.requires_grad());
        {
            omni::enable_grad on;
            EXPECT_TRUE((x * 2.0).requires_grad());
        }
        EXPECT_FALSE((x * 2.0).requires_grad());
    }
    EXPECT_TRUE(omni::grad_enabled());
    EXPECT_TRUE((x * 2.0).requires_grad());
}

TEST(Autodiff, DetachCutsTheTape) {
    const V x(D::from_data<double>({3}, {1}), true);
    const V y = x * x.detach();  // d/dx = x (the detached factor is a constant)
    omni::sum(y).backward();
    EXPECT_DOUBLE_EQ(x.grad().item<double>(), 3.0);
    EXPECT_FALSE(x.detach().requires_grad());
}

TEST(Autodiff, RetainGraphAndReleasedGraphs) {
    const V x(D::from_data<double>({1, 2}, {2}), true);
    const V y = omni::sum(omni::exp(x));
    y.backward({}, true);
    y.backward();
    EXPECT_NEAR(x.grad().to_vector<double>()[0], 2 * std::exp(1.0), 1e-12);
    try {
        y.backward();
        FAIL() << "second backward through a freed graph did not throw";
    } catch (const omni::autodiff_error& e) {
        EXPECT_NE(std::string(e.what()).find("already freed"), std::string::npos);
    }
}

TEST(Autodiff, BackwardArgumentChecks) {
    const V x(D::ones({2, 2}), true);
    const V y = x * 2.0;
    EXPECT_THROW(y.backward(), omni::autodiff_error);  // non-scalar without a gradient
    EXPECT_THROW(y.backward(D::ones({3})), omni::shape_error);
    y.backward(D::ones({2, 2}));
    EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 2, 2, 2}));
    EXPECT_THROW(V(D::ones({2})).backward(), omni::autodiff_error);
    V ints(D::ones({2}, omni::dtype::i64));
    EXPECT_THROW(ints.set_requires_grad(true), omni::dtype_error);
}

TEST(Autodiff, ConstantsDoNotGetGradients) {
    const V w(D::ones({3}), true);
    const V c(D::ones({3}));
    omni::sum(w * c).backward();
    EXPECT_TRUE(w.grad().defined());
    EXPECT_FALSE(c.grad().defined());
}

TEST(Autodiff, OneSourceServesInferenceAndTraining) {
    omni::Generator gen(11);
    const D x = D::randn({4, 8}, gen), w1 = D::randn({16, 8}, gen), w2 = D::randn({3, 16}, gen);
    const D plain = mlp<omni::cpu>(x, w1, w2);
    const V w1v(w1, true), w2v(w2, true);
    const V taped = mlp<omni::autodiff<omni::cpu>>(V(x), w1v, w2v);
    EXPECT_EQ(plain.to_vector<float>(), taped.to_vector<float>());
    omni::mean(taped).backward();
    EXPECT_EQ(w1v.grad().shape(), (Shape{16, 8}));
    EXPECT_EQ(w2v.grad().shape(), (Shape{3, 16}));
}

TEST(Autodiff, DeepChainsDoNotOverflowTheStack) {
    const V x(D::ones({1}, omni::dtype::f64), true);
    V y = x;
    for (int i = 0; i < 20000; ++i) y = y + 1.0;
    omni::sum(y).backward();
    EXPECT_DOUBLE_EQ(x.grad().item<double>(), 1.0);
}

// RMSNorm: the fused op against its definition, its backward through gradcheck in float64, the
// module's name and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "omni/autodiff/gradcheck.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/rms_norm.hpp"

using omni::Shape;
using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
using In = std::vector<V>;
namespace nn = omni::nn;

TEST(RmsNorm, MatchesDefinitionInFloat32AndFloat64) {
    omni::Generator g(3);
    for (omni::dtype t : {omni::dtype::f32, omni::dtype::f64}) {
        const D x = D::randn({3, 5, 37}, g, t) * 3.0, w = D::randn({37}, g, t);
        const auto y = omni::rms_norm(x, w, 1e-6).to_vector<double>();
        const auto xv = x.to_vector<double>(), wv = w.to_vector<double>();
        for (std::int64_t r = 0; r < 15; ++r) {
            double ss = 0;
            for (int i = 0; i < 37; ++i) ss += xv[r * 37 + i] * xv[r * 37 + i];
            const double q = 1.0 / std::sqrt(ss / 37 + 1e-6);
            for (int i = 0; i < 37; ++i)
                ASSERT_NEAR(y[r * 37 + i], xv[r * 37 + i] * q * wv[i], t == omni::dtype::f64 ? 1e-12 : 1e-5) << r << "," << i;
        }
    }
}

TEST(RmsNorm, StridedInputAndEpsilon) {
    omni::Generator g(4);
    const D x = D::randn({6, 8}, g, omni::dtype::f64), w = D::randn({6}, g, omni::dtype::f64);
    const D xt = x.transpose(0, 1);  // [8, 6], not contiguous
    const auto a = omni::rms_norm(xt, w, 0.5).to_vector<double>(), b = omni::rms_norm(xt.contiguous(), w, 0.5).to_vector<double>();
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_DOUBLE_EQ(a[i], b[i]);
    // A zero row maps to zeros (eps keeps it finite), not NaN.
    const auto z = omni::rms_norm(D::zeros({2, 6}, omni::dtype::f64), w).to_vector<double>();
    for (double v : z) ASSERT_EQ(v, 0.0);
}

TEST(RmsNorm, GradcheckInputAndWeight) {
    omni::Generator g(5);
    const V x(D::randn({2, 3, 9}, g, omni::dtype::f64), true), w(D::randn({9}, g, omni::dtype::f64), true);
    const auto r = omni::gradcheck<omni::cpu>([](const In& in) { return omni::rms_norm(in[0], in[1], 1e-6); }, {x, w});
    EXPECT_TRUE(r.ok) << r.message;
    // Rows large enough for several threads' partial weight gradients.
    const V x2(D::randn({300, 4}, g, omni::dtype::f64), true), w2(D::randn({4}, g, omni::dtype::f64), true);
    const auto r2 = omni::gradcheck<omni::cpu>([](const In& in) { return omni::rms_norm(in[0], in[1], 1e-3); }, {x2, w2});
    EXPECT_TRUE(r2.ok) << r2.message;
}

TEST(RmsNorm, OneTapeNode) {
    omni::Generator g(6);
    const V x(D::randn({4, 8}, g), true), w(D::ones({8}), true);
    const V y = omni::rms_norm(x, w);
    ASSERT_NE(y.node(), nullptr);
    EXPECT_EQ(std::string(y.node()->op), "rms_norm");
    EXPECT_EQ(y.node()->inputs[0], x.node());  // straight from the leaf: no intermediate nodes
    EXPECT_EQ(y.node()->inputs.size(), 2u);
}

TEST(RmsNorm, ModuleNameInitAndErrors) {
    nn::RMSNorm<A> m({.dim = 8});
    std::vector<std::string> names;
    nn::for_each_parameter(m, [&](const std::string& n, const V&) { names.push_back(n); });
    EXPECT_EQ(names, std::vector<std::string>{"weight"});
    for (double v : m.weight.value().to_vector<double>()) EXPECT_EQ(v, 1.0);
    EXPECT_EQ(m.cfg.eps, 1e-6);
    EXPECT_THROW(m(V(D::zeros({2, 7}))), omni::shape_error);
    EXPECT_THROW(nn::RMSNorm<A>({.dim = 0}), omni::value_error);
    EXPECT_THROW(omni::rms_norm(D::zeros({2, 4}), D::ones({5})), omni::shape_error);
    EXPECT_THROW(omni::rms_norm(D::zeros({2, 4}), D::ones({4}), 0.0), omni::value_error);
    EXPECT_THROW(omni::rms_norm(D::zeros({2, 4}, omni::dtype::i64), D::ones({4})), omni::dtype_error);
    try {
        omni::rms_norm(D::zeros({2, 4}), D::ones({5}));
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("rms_norm"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("[4]"), std::string::npos);
    }
}

// omni::conv1d and nn::Conv1d: values against a direct loop, gradcheck in float64, errors.
#include <gtest/gtest.h>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/conv1d.hpp"

using omni::Shape;
using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
using In = std::vector<V>;
namespace nn = omni::nn;

namespace {
// out[b, o, t] = bias[o] + sum_{c, j} w[o, c, j] x[b, c, t s + j - p], zeros outside x.
std::vector<double> direct(const D& x, const D& w, const D& b, std::int64_t s, std::int64_t p) {
    const auto xv = x.to_vector<double>(), wv = w.to_vector<double>();
    const std::int64_t B = x.shape()[0], C = x.shape()[1], T = x.shape()[2], O = w.shape()[0], K = w.shape()[2];
    const std::int64_t To = (T + 2 * p - K) / s + 1;
    std::vector<double> out(static_cast<std::size_t>(B * O * To));
    for (std::int64_t bi = 0; bi < B; ++bi)
        for (std::int64_t o = 0; o < O; ++o)
            for (std::int64_t t = 0; t < To; ++t) {
                double acc = b.defined() ? b.to_vector<double>()[static_cast<std::size_t>(o)] : 0.0;
                for (std::int64_t c = 0; c < C; ++c)
                    for (std::int64_t j = 0; j < K; ++j) {
                        const std::int64_t i = t * s + j - p;
                        if (i >= 0 && i < T) acc += wv[static_cast<std::size_t>((o * C + c) * K + j)] * xv[static_cast<std::size_t>((bi * C + c) * T + i)];
                    }
                out[static_cast<std::size_t>((bi * O + o) * To + t)] = acc;
            }
    return out;
}
}  // namespace

TEST(Conv1d, HandComputedValues) {
    // x = [1 2 3 4], w = [1 -1], stride 1, no padding: differences x[t] - x[t+1] = -1, plus bias 0.5.
    const D x = D::from_data<float>({1, 2, 3, 4}, {1, 1, 4});
    const D w = D::from_data<float>({1, -1}, {1, 1, 2});
    const D b = D::from_data<float>({0.5f}, {1});
    const D y = omni::conv1d(x, w, b);
    EXPECT_EQ(y.shape(), (Shape{1, 1, 3}));
    EXPECT_EQ(y.contiguous().to_vector<float>(), (std::vector<float>{-0.5f, -0.5f, -0.5f}));
    // stride 2, padding 1: taps over [0 1 2 3 4 0] at t = 0, 2, 4 -> (0-1), (2-3), (4-0).
    EXPECT_EQ(omni::conv1d(x, w, {}, 2, 1).contiguous().to_vector<float>(), (std::vector<float>{-1, -1, 4}));
}

TEST(Conv1d, MatchesDirectLoopForStridesAndPadding) {
    omni::Generator g(3);
    struct Case {
        std::int64_t b, c, o, t, k, s, p;
        bool bias;
    };
    for (const Case& k : {Case{2, 3, 4, 10, 3, 1, 1, true}, Case{1, 2, 5, 9, 3, 2, 1, true}, Case{3, 4, 2, 8, 1, 1, 0, false},
                          Case{1, 3, 3, 7, 5, 3, 2, true}, Case{2, 1, 1, 5, 7, 1, 1, false}}) {
        const D x = D::randn({k.b, k.c, k.t}, g, omni::dtype::f64), w = D::randn({k.o, k.c, k.k}, g, omni::dtype::f64);
        const D b = k.bias ? D::randn({k.o}, g, omni::dtype::f64) : D();
        const D y = omni::conv1d(x, w, b, k.s, k.p);
        const std::int64_t to = (k.t + 2 * k.p - k.k) / k.s + 1;
        ASSERT_EQ(y.shape(), (Shape{k.b, k.o, to}));
        const auto got = y.contiguous().to_vector<double>(), want = direct(x, w, b, k.s, k.p);
        for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << "case k " << k.k << " s " << k.s << " at " << i;
    }
}

TEST(Conv1d, TapedAndUntapedAgree) {
    omni::Generator g(4);
    const D x = D::randn({2, 3, 9}, g), w = D::randn({4, 3, 3}, g), b = D::randn({4}, g);
    const V y = omni::conv1d(V(x, true), V(w, true), V(b, true), 2, 1);
    EXPECT_EQ(y.value().contiguous().to_vector<float>(), omni::conv1d(x, w, b, 2, 1).contiguous().to_vector<float>());
}

TEST(Gradcheck, Conv1dStridedPadded) {
    omni::Generator g(5);
    const V x(D::randn({2, 3, 9}, g, omni::dtype::f64), true), w(D::randn({4, 3, 3}, g, omni::dtype::f64), true),
        b(D::randn({4}, g, omni::dtype::f64), true);
    for (const auto& sp : {std::pair<std::int64_t, std::int64_t>{1, 1}, {2, 1}, {3, 0}, {2, 2}}) {
        const std::int64_t s = sp.first, p = sp.second;  // not a structured binding: clang before 16 cannot capture one
        const auto r = omni::gradcheck<omni::cpu>([s, p](const In& in) { return omni::conv1d(in[0], in[1], in[2], s, p); }, {x, w, b});
        EXPECT_TRUE(r.ok) << "stride " << s << " padding " << p << ": " << r.message;
    }
    const auto r = omni::gradcheck<omni::cpu>([](const In& in) { return omni::conv1d(in[0], in[1]); },
                                              {x, V(D::randn({2, 3, 1}, g, omni::dtype::f64), true)});
    EXPECT_TRUE(r.ok) << "kernel 1, no bias: " << r.message;
}

TEST(Conv1d, ModuleNamesShapesAndInit) {
    omni::Generator g(6);
    nn::Conv1d<omni::cpu> m({.in = 4, .out = 6, .kernel = 3, .stride = 2, .padding = 1}, g);
    std::vector<std::string> names;
    nn::for_each_parameter(m, [&](const std::string& n, const D& t) {
        names.push_back(n + " " + t.shape().str());
        // torch's default: U(-1/sqrt(in kernel), 1/sqrt(in kernel)).
        for (float v : t.to_vector<float>()) EXPECT_LE(std::abs(v), 1 / std::sqrt(12.0f));
    });
    EXPECT_EQ(names, (std::vector<std::string>{"weight [6, 4, 3]", "bias [6]"}));
    EXPECT_EQ(m(D::randn({2, 4, 3000}, g)).shape(), (Shape{2, 6, 1500}));
    EXPECT_EQ(m.out_length(3000), 1500);
    nn::Conv1d<omni::cpu> nb({.in = 4, .out = 6, .kernel = 3, .bias = false}, g);
    EXPECT_EQ(nn::parameter_count(nb), 72);
}

TEST(Conv1d, Errors) {
    omni::Generator g(7);
    const D x = D::randn({2, 3, 8}, g), w = D::randn({4, 3, 3}, g);
    EXPECT_THROW(omni::conv1d(D::randn({3, 8}, g), w), omni::shape_error);
    EXPECT_THROW(omni::conv1d(x, D::randn({4, 3}, g)), omni::shape_error);
    EXPECT_THROW(omni::conv1d(x, D::randn({4, 2, 3}, g)), omni::shape_error);
    EXPECT_THROW(omni::conv1d(x, w, D::randn({3}, g)), omni::shape_error);
    EXPECT_THROW(omni::conv1d(x, w.to(omni::dtype::f64)), omni::dtype_error);
    EXPECT_THROW(omni::conv1d(x, w, {}, 0), omni::value_error);
    EXPECT_THROW(omni::conv1d(x, w, {}, 1, -1), omni::value_error);
    EXPECT_THROW(omni::conv1d(x, D::randn({4, 3, 11}, g), {}, 1, 1), omni::shape_error);  // 11 taps > 8 + 2
    EXPECT_NO_THROW(omni::conv1d(x, D::randn({4, 3, 10}, g), {}, 1, 1));
    try {
        omni::conv1d(x, D::randn({4, 5, 3}, g));
        FAIL() << "expected a shape_error";
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("conv1d: expected x [B, 5, T]"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("[2, 3, 8]"), std::string::npos) << e.what();
    }
    EXPECT_THROW(nn::Conv1d<omni::cpu>({.in = 3, .out = 4, .kernel = 0}, g), omni::value_error);
    EXPECT_THROW(nn::Conv1d<omni::cpu>({.in = 3, .out = 4, .kernel = 3, .stride = 0}, g), omni::value_error);
    nn::Conv1d<omni::cpu> m({.in = 3, .out = 4, .kernel = 3}, g);
    m.path = "encoder.conv1";
    try {
        m(D::randn({2, 5, 8}, g));
        FAIL() << "expected a shape_error";
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("encoder.conv1: expected [B, 3, T], got [2, 5, 8]"), std::string::npos) << e.what();
    }
}

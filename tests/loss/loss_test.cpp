// Contrastive objectives and embedding metrics: values against direct formulas, gradcheck in
// float64, and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "omni/backend/cpu.hpp"
#include "omni/loss/gram.hpp"
#include "omni/loss/info_nce.hpp"
#include "omni/loss/metrics.hpp"
#include "omni/loss/nt_xent.hpp"
#include "omni/loss/sigmoid.hpp"
#include "omni/loss/symile.hpp"

using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;
using In = std::vector<V>;
namespace loss = omni::loss;

namespace {
omni::Generator gen(31);
V param(const omni::Shape& s) { return V(D::randn(s, gen, omni::dtype::f64), true); }
std::vector<std::vector<double>> rows(const D& t) {
    const auto v = t.to_vector<double>();
    const std::int64_t n = t.shape()[0], d = t.shape()[1];
    std::vector<std::vector<double>> r(n, std::vector<double>(d));
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < d; ++j) r[i][j] = v[i * d + j];
    return r;
}
double cosine(const std::vector<double>& a, const std::vector<double>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
    return ab / std::sqrt(aa * bb);
}
template <class F> void expect_gradcheck(F f, const In& in) {
    const auto r = omni::gradcheck<omni::cpu>(f, in);
    EXPECT_TRUE(r.ok) << r.message;
}
}  // namespace

TEST(CrossEntropy, MatchesDefinitionAndSmoothing) {
    const D logits = D::from_data<double>({1, 2, 3, 0, 0, 0}, {2, 3});
    const D t = D::from_data<std::int64_t>({2, 0}, {2});
    const double l0 = -std::log(std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0))), l1 = std::log(3.0);
    EXPECT_NEAR(loss::cross_entropy(logits, t).item<double>(), (l0 + l1) / 2, 1e-12);
    // Smoothing e: (1 - e) NLL + e * mean over classes of -log p.
    const double m0 = -(std::log(std::exp(1.0)) + std::log(std::exp(2.0)) + 3 - 3 * std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0))) / 3;
    EXPECT_NEAR(loss::cross_entropy(logits, t, 0.1).item<double>(), 0.9 * (l0 + l1) / 2 + 0.1 * (m0 + l1) / 2, 1e-12);
    EXPECT_THROW(loss::cross_entropy(logits, D::from_data<std::int64_t>({0}, {1})), omni::shape_error);
    EXPECT_THROW(loss::cross_entropy(logits, D::from_data<std::int64_t>({3, 0}, {2})), omni::index_error);
    // Issue 28: an error from an op inside names the function the user called, the inner op after it.
    try {
        loss::cross_entropy(logits, D::from_data<std::int64_t>({3, 0}, {2}));
        ADD_FAILURE() << "no error";
    } catch (const omni::index_error& e) {
        EXPECT_EQ(e.op(), "cross_entropy");
        EXPECT_EQ(std::string(e.what()).rfind("index_error: cross_entropy: in gather: ", 0), 0u) << e.what();
    }
    expect_gradcheck([t](const In& v) { return loss::cross_entropy(v[0], V(t), 0.2); }, {param({2, 3})});
}

// The contrastive composites name themselves too when an op inside refuses.
TEST(Loss, CompositeErrorsNameTheLossTheUserCalled) {
    omni::Generator g(4);
    const D x = D::randn({3, 4}, g), y = D::randn({3, 4}, g);
    try {
        loss::info_nce(x, y, D::zeros({2}));  // log_scale must hold one number
        ADD_FAILURE() << "no error";
    } catch (const omni::error& e) {
        EXPECT_EQ(e.op(), "info_nce") << e.what();
        EXPECT_NE(std::string(e.what()).find("info_nce: in "), std::string::npos) << e.what();
    }
    try {
        loss::nt_xent(x, y.to(omni::dtype::f64));  // mixed dtypes reach concat
        ADD_FAILURE() << "no error";
    } catch (const omni::error& e) {
        EXPECT_EQ(e.op(), "nt_xent") << e.what();
    }
}

TEST(NTXent, MatchesTheSimCLRFormula) {
    const D z1 = D::randn({4, 5}, gen, omni::dtype::f64), z2 = D::randn({4, 5}, gen, omni::dtype::f64);
    const double tau = 0.5;
    auto u = rows(z1);
    for (auto& r : rows(z2)) u.push_back(r);
    const std::size_t n2 = u.size(), n = n2 / 2;
    double expected = 0;
    for (std::size_t a = 0; a < n2; ++a) {
        const std::size_t pos = (a + n) % n2;
        double denom = 0;
        for (std::size_t b = 0; b < n2; ++b)
            if (b != a) denom += std::exp(cosine(u[a], u[b]) / tau);
        expected += -std::log(std::exp(cosine(u[a], u[pos]) / tau) / denom);
    }
    EXPECT_NEAR(loss::nt_xent(z1, z2, {.temperature = tau}).item<double>(), expected / n2, 1e-12);
    expect_gradcheck([](const In& v) { return loss::nt_xent(v[0], v[1]); }, {param({3, 4}), param({3, 4})});
    EXPECT_THROW(loss::nt_xent(z1, z2.slice(0, 0, 3)), omni::shape_error);
    EXPECT_THROW(loss::nt_xent(z1, z2, {.temperature = 0}), omni::value_error);
}

TEST(InfoNCE, SymmetricAndClamped) {
    const D x = D::randn({3, 4}, gen, omni::dtype::f64), y = D::randn({3, 4}, gen, omni::dtype::f64);
    const auto xr = rows(x), yr = rows(y);
    const double s = 2.0;
    double row = 0, col = 0;
    for (int i = 0; i < 3; ++i) {
        double dr = 0, dc = 0;
        for (int j = 0; j < 3; ++j) dr += std::exp(s * cosine(xr[i], yr[j])), dc += std::exp(s * cosine(xr[j], yr[i]));
        row += -std::log(std::exp(s * cosine(xr[i], yr[i])) / dr);
        col += -std::log(std::exp(s * cosine(xr[i], yr[i])) / dc);
    }
    EXPECT_NEAR(loss::info_nce(x, y, D::scalar(std::log(s), omni::dtype::f64)).item<double>(), (row + col) / 6, 1e-12);
    // The scale saturates at 100: ln s above ln 100 changes nothing.
    EXPECT_NEAR(loss::info_nce(x, y, D::scalar(9.0, omni::dtype::f64)).item<double>(),
                loss::info_nce(x, y, D::scalar(std::log(100.0), omni::dtype::f64)).item<double>(), 1e-12);
    expect_gradcheck([](const In& v) { return loss::info_nce(v[0], v[1], v[2]); }, {param({3, 4}), param({3, 4}), V(D::full({1}, 1.5, omni::dtype::f64), true)});
    loss::InfoNCE<omni::autodiff<omni::cpu>> m;
    EXPECT_NEAR(m.logit_scale.item<float>(), std::log(1 / 0.07), 1e-6);
}

TEST(SigmoidLoss, MatchesSigLIP) {
    const D x = D::randn({3, 4}, gen, omni::dtype::f64), y = D::randn({3, 4}, gen, omni::dtype::f64);
    const auto xr = rows(x), yr = rows(y);
    const double t = 10.0, b = -10.0;
    double total = 0;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            const double z = i == j ? 1 : -1, l = t * cosine(xr[i], yr[j]) + b;
            total += -std::log(1 / (1 + std::exp(-z * l)));
        }
    const D lt = D::scalar(std::log(t), omni::dtype::f64), lb = D::scalar(b, omni::dtype::f64);
    EXPECT_NEAR(loss::sigmoid_loss(x, y, lt, lb).item<double>(), total / 3, 1e-10);
    EXPECT_NEAR(loss::sigmoid_loss(x, y, lt, lb, loss::sigmoid_reduction::per_pair).item<double>(), total / 9, 1e-10);
    expect_gradcheck([](const In& v) { return loss::sigmoid_loss(v[0], v[1], v[2], v[3]); },
                     {param({3, 4}), param({3, 4}), V(D::full({1}, 1.0, omni::dtype::f64), true), V(D::full({1}, -2.0, omni::dtype::f64), true)});
}

TEST(Symile, SeededNegativesAndGradient) {
    const V x = param({4, 3}), y = param({4, 3}), z = param({4, 3});
    omni::Generator g1(5), g2(5);
    const D s = D::scalar(0.5, omni::dtype::f64);
    const double a = loss::symile<omni::autodiff<omni::cpu>>({x, y, z}, V(s), g1).item<double>();
    const double b = loss::symile<omni::autodiff<omni::cpu>>({x, y, z}, V(s), g2).item<double>();
    EXPECT_EQ(a, b);  // same seed, same negatives
    EXPECT_GT(a, 0);
    expect_gradcheck([](const In& v) {
        omni::Generator g(9);
        return loss::symile<omni::autodiff<omni::cpu>>({v[0], v[1], v[2]}, v[3], g);
    }, {x, y, z, V(D::full({1}, 0.3, omni::dtype::f64), true)});
    EXPECT_THROW(loss::symile<omni::cpu>({D::zeros({2, 3})}, s, g1), omni::value_error);
}

TEST(Gram, VolumesAndLoss) {
    // Two unit vectors at angle theta span area |sin theta|.
    const D t = D::from_data<double>({1, 0}, {1, 2}), v = D::from_data<double>({std::cos(0.3), std::sin(0.3)}, {1, 2});
    EXPECT_NEAR(loss::gram_volume(t, {v}).item<double>(), std::sin(0.3), 1e-12);
    // Three orthonormal vectors span a unit cube.
    const D e1 = D::from_data<double>({1, 0, 0}, {1, 3}), e2 = D::from_data<double>({0, 2, 0}, {1, 3}), e3 = D::from_data<double>({0, 0, 5}, {1, 3});
    EXPECT_NEAR(loss::gram_volume(e1, {e2, e3}).item<double>(), 1.0, 1e-12);
    EXPECT_NEAR(loss::gram_volume(e1, {e1, e3}).item<double>(), 0.0, 1e-7);
    expect_gradcheck([](const In& v) { return loss::gram_loss(v[0], {v[1], v[2]}, v[3]); },
                     {param({3, 4}), param({3, 4}), param({3, 4}), V(D::full({1}, 0.07, omni::dtype::f64), true)});
    EXPECT_THROW(loss::gram_volume(e1, {}), omni::value_error);
}

TEST(Metrics, AlignmentAndUniformity) {
    const D x = D::randn({6, 4}, gen, omni::dtype::f64);
    EXPECT_NEAR(loss::alignment(x, x).item<double>(), 0.0, 1e-12);
    EXPECT_NEAR(loss::alignment(x, omni::neg(x)).item<double>(), 4.0, 1e-12);  // antipodal unit vectors
    EXPECT_NEAR(loss::uniformity(D::ones({5, 3}, omni::dtype::f64)).item<double>(), 0.0, 1e-12);  // collapsed
    // Two antipodal points: ||u - v||^2 = 4, so log exp(-2 * 4) = -8.
    EXPECT_NEAR(loss::uniformity(D::from_data<double>({1, 0, -1, 0}, {2, 2})).item<double>(), -8.0, 1e-12);
    const double u = loss::uniformity(x).item<double>();
    EXPECT_LT(u, 0);
    EXPECT_THROW(loss::uniformity(D::zeros({1, 3})), omni::shape_error);
}

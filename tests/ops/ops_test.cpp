// Forward values of every op on Tensor<cpu> against plain reference loops, including
// broadcasting, strided (transposed, sliced, expanded) inputs and empty tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "omni/backend/cpu.hpp"

using T = omni::Tensor<omni::cpu>;
using D = T;
using omni::Shape;

namespace {
omni::Generator gen(2024);
T randn(const Shape& s) { return T::randn(s, gen, omni::dtype::f64); }
std::vector<double> v(const T& t) { return t.to_vector<double>(); }
void expect_near(const std::vector<double>& a, const std::vector<double>& b, double tol = 1e-12) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol) << "at " << i;
}
// Reference matmul on dense row-major double data.
std::vector<double> ref_mm(const std::vector<double>& a, const std::vector<double>& b, int m, int k, int n) {
    std::vector<double> c(m * n, 0.0);
    for (int i = 0; i < m; ++i)
        for (int p = 0; p < k; ++p)
            for (int j = 0; j < n; ++j) c[i * n + j] += a[i * k + p] * b[p * n + j];
    return c;
}
}  // namespace

TEST(Unary, MatchesStdMath) {
    const T x = randn({3, 7});
    const auto xs = v(x);
    auto check = [&](const T& y, auto f) {
        const auto ys = v(y);
        for (std::size_t i = 0; i < xs.size(); ++i) ASSERT_NEAR(ys[i], f(xs[i]), 1e-12);
    };
    check(omni::exp(x), [](double a) { return std::exp(a); });
    check(omni::tanh(x), [](double a) { return std::tanh(a); });
    check(omni::sigmoid(x), [](double a) { return 1 / (1 + std::exp(-a)); });
    check(omni::relu(x), [](double a) { return a > 0 ? a : 0; });
    check(omni::gelu(x), [](double a) { return 0.5 * a * (1 + std::erf(a / std::sqrt(2.0))); });
    check(omni::gelu_tanh(x), [](double a) { return 0.5 * a * (1 + std::tanh(std::sqrt(2 / M_PI) * (a + 0.044715 * a * a * a))); });
    check(omni::silu(x), [](double a) { return a / (1 + std::exp(-a)); });
    check(omni::neg(x), [](double a) { return -a; });
    check(omni::abs(x), [](double a) { return std::abs(a); });
    check(omni::square(x), [](double a) { return a * a; });
    check(omni::softplus(x), [](double a) { return std::log(1 + std::exp(a)); });
    EXPECT_EQ(omni::softplus(D::from_data<double>({1000.0, -1000.0}, {2})).to_vector<double>(), (std::vector<double>{1000.0, 0.0}));
    const T p = omni::abs(x) + 0.1;
    const auto ps = v(p);
    const auto l = v(omni::log(p)), s = v(omni::sqrt(p)), r = v(omni::rsqrt(p)), pw = v(omni::pow(p, 1.5));
    for (std::size_t i = 0; i < ps.size(); ++i) {
        EXPECT_NEAR(l[i], std::log(ps[i]), 1e-12);
        EXPECT_NEAR(s[i], std::sqrt(ps[i]), 1e-12);
        EXPECT_NEAR(r[i], 1 / std::sqrt(ps[i]), 1e-12);
        EXPECT_NEAR(pw[i], std::pow(ps[i], 1.5), 1e-12);
    }
}

TEST(Unary, StridedInputAndFloat32) {
    const T x = randn({4, 5}).to(omni::dtype::f32);
    const T y = omni::exp(x.transpose(0, 1));
    EXPECT_EQ(y.shape(), (Shape{5, 4}));
    const auto xs = x.to_vector<float>(), ys = y.to_vector<float>();
    EXPECT_NEAR(ys[1 * 4 + 2], std::exp(xs[2 * 5 + 1]), 1e-5);
    EXPECT_EQ(omni::exp(T::zeros({0, 3})).shape(), (Shape{0, 3}));
}

TEST(Binary, BroadcastingAllDirections) {
    const T a = randn({2, 1, 4}), b = randn({3, 1});
    const T c = omni::mul(a, b);
    ASSERT_EQ(c.shape(), (Shape{2, 3, 4}));
    const auto av = v(a), bv = v(b), cv = v(c);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k) EXPECT_DOUBLE_EQ(cv[(i * 3 + j) * 4 + k], av[i * 4 + k] * bv[j]);
    expect_near(v(a - a), std::vector<double>(8, 0.0));
    expect_near(v(omni::div(a, a)), std::vector<double>(8, 1.0));
    const auto mx = v(omni::maximum(a, T::scalar(0.0, omni::dtype::f64)));
    for (std::size_t i = 0; i < mx.size(); ++i) EXPECT_EQ(mx[i], std::max(av[i], 0.0));
    const auto mn = v(omni::minimum(a, T::scalar(0.0, omni::dtype::f64)));
    for (std::size_t i = 0; i < mn.size(); ++i) EXPECT_EQ(mn[i], std::min(av[i], 0.0));
}

TEST(Binary, StridedOperandsAndIntegers) {
    const T a = randn({3, 4});
    const T s = omni::add(a.transpose(0, 1), a.transpose(0, 1).contiguous());
    expect_near(v(s), v(omni::mul(a.transpose(0, 1), 2.0)));
    const T i = T::arange(6, omni::dtype::i64).view({2, 3});
    EXPECT_EQ(omni::add(i, i).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 2, 4, 6, 8, 10}));
    EXPECT_EQ(omni::lt(i, T::full({3}, 2, omni::dtype::i64)).to_vector<bool>(), (std::vector<bool>{1, 1, 0, 0, 0, 0}));
}

TEST(Binary, OperatorsWithScalars) {
    const T a = T::from_data<double>({1, 2}, {2});
    expect_near(v(2.0 * a + 1.0), {3, 5});
    expect_near(v(1.0 - a), {0, -1});
    expect_near(v(a / 2.0), {0.5, 1});
    expect_near(v(-a), {-1, -2});
}

TEST(Where, MaskedFillBroadcast) {
    const T x = randn({2, 3});
    const T mask = T::from_data<bool>({true, false, true}, {3});
    const auto y = v(omni::masked_fill(x, mask, -1e9)), xs = v(x);
    for (int r = 0; r < 2; ++r) {
        EXPECT_EQ(y[r * 3 + 0], -1e9);
        EXPECT_EQ(y[r * 3 + 1], xs[r * 3 + 1]);
    }
    const auto w = v(omni::where(mask, x, omni::neg(x)));
    EXPECT_EQ(w[1], -xs[1]);
    EXPECT_EQ(w[2], xs[2]);
}

TEST(Reduce, AxesKeepdimAndAll) {
    const T x = randn({2, 3, 4});
    const auto xs = v(x);
    const T s = omni::sum(x, {0, 2});
    ASSERT_EQ(s.shape(), (Shape{3}));
    for (int j = 0; j < 3; ++j) {
        double acc = 0;
        for (int i = 0; i < 2; ++i)
            for (int k = 0; k < 4; ++k) acc += xs[(i * 3 + j) * 4 + k];
        EXPECT_NEAR(s.to_vector<double>()[j], acc, 1e-12);
    }
    EXPECT_EQ(omni::sum(x, {1}, true).shape(), (Shape{2, 1, 4}));
    EXPECT_EQ(omni::mean(x).shape(), Shape{});
    double tot = 0, mx = -1e300;
    for (double a : xs) { tot += a; mx = std::max(mx, a); }
    EXPECT_NEAR(omni::mean(x).item<double>(), tot / 24, 1e-12);
    EXPECT_EQ(omni::max(x).item<double>(), mx);
    double lse = 0;
    for (int k = 0; k < 4; ++k) lse += std::exp(xs[k]);
    EXPECT_NEAR(omni::logsumexp(x, {-1}).to_vector<double>()[0], std::log(lse), 1e-12);
    // Large values do not overflow.
    EXPECT_NEAR(omni::logsumexp(T::from_data<double>({1000, 1000}, {2})).item<double>(), 1000 + std::log(2.0), 1e-9);
    EXPECT_EQ(omni::sum(T::zeros({0, 3}), {0}).to_vector<float>(), (std::vector<float>{0, 0, 0}));
    expect_near(v(omni::sum_to(T::ones({2, 3, 4}, omni::dtype::f64), {3, 1})), {8, 8, 8});
}

TEST(Matmul, PlainTransposedAndBatched) {
    const T a = randn({5, 3}), b = randn({3, 4});
    expect_near(v(omni::matmul(a, b)), ref_mm(v(a), v(b), 5, 3, 4));
    expect_near(v(omni::matmul(a.transpose(0, 1).contiguous(), b, true, false)), ref_mm(v(a), v(b), 5, 3, 4));
    expect_near(v(omni::matmul(a, b.transpose(0, 1).contiguous(), false, true)), ref_mm(v(a), v(b), 5, 3, 4));
    expect_near(v(omni::matmul(a, b.transpose(0, 1), false, true)), ref_mm(v(a), v(b), 5, 3, 4));
    // [2, 5, 3] x [3, 4]: folded into one tall GEMM.
    const T a3 = randn({2, 5, 3});
    const auto y3 = v(omni::matmul(a3, b));
    const auto r3 = ref_mm(v(a3), v(b), 10, 3, 4);
    expect_near(y3, r3);
    // Batch broadcasting [2, 1, 5, 3] x [3, 3, 4] -> [2, 3, 5, 4].
    const T a4 = randn({2, 1, 5, 3}), b3 = randn({3, 3, 4});
    const T c = omni::matmul(a4, b3);
    ASSERT_EQ(c.shape(), (Shape{2, 3, 5, 4}));
    const auto av = v(a4), bv = v(b3), cv = v(c);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) {
            const auto ref = ref_mm({av.begin() + i * 15, av.begin() + (i + 1) * 15}, {bv.begin() + j * 12, bv.begin() + (j + 1) * 12}, 5, 3, 4);
            for (int e = 0; e < 20; ++e) ASSERT_NEAR(cv[(i * 3 + j) * 20 + e], ref[e], 1e-12);
        }
    // Sliced operand (row stride > columns) and a non-unit-stride operand that must be copied.
    const T wide = randn({5, 6});
    expect_near(v(omni::matmul(wide.slice(1, 0, 3), b)), ref_mm(v(wide.slice(1, 0, 3)), v(b), 5, 3, 4));
    expect_near(v(omni::matmul(wide.slice(1, 0, 6, 2), b)), ref_mm(v(wide.slice(1, 0, 6, 2)), v(b), 5, 3, 4));
    EXPECT_EQ(omni::matmul(T::zeros({2, 0}), T::zeros({0, 3})).to_vector<float>(), std::vector<float>(6, 0.0f));
}

TEST(Matmul, Float32LargeMatchesDouble) {
    const T a = randn({64, 130}), b = randn({130, 70});
    const auto ref = v(omni::matmul(a, b));
    const auto f = omni::matmul(a.to(omni::dtype::f32), b.to(omni::dtype::f32)).to_vector<double>();
    for (std::size_t i = 0; i < f.size(); ++i) ASSERT_NEAR(f[i], ref[i], 1e-3);
}

TEST(Softmax, RowsSumToOneOnAnyAxis) {
    const T x = randn({3, 4, 5});
    for (int axis : {0, 1, 2}) {
        const T y = omni::softmax(x, axis);
        expect_near(v(omni::sum(y, {axis})), std::vector<double>(x.numel() / x.shape()[axis], 1.0), 1e-12);
        expect_near(v(omni::log_softmax(x, axis)), v(omni::log(y)), 1e-12);
    }
    const T big = T::from_data<double>({1000, 0}, {2});
    EXPECT_NEAR(omni::softmax(big).to_vector<double>()[0], 1.0, 1e-12);
    const auto masked = v(omni::softmax(T::from_data<double>({-INFINITY, 0.0}, {2})));
    EXPECT_EQ(masked[0], 0.0);
    EXPECT_EQ(masked[1], 1.0);
}

// PyTorch: a NaN anywhere in a row makes the whole softmax (and log_softmax) row NaN; a kernel
// that took the max over the other entries used to renormalise the row around it instead.
TEST(Softmax, NanAnywhereInARowMakesTheRowNan) {
    for (const auto dt : {omni::dtype::f32, omni::dtype::f64})
        for (int at = 0; at < 3; ++at) {
            std::vector<double> row{1.0, 2.0, 3.0};
            row[at] = NAN;
            const T x = T::from_data<double>({row[0], row[1], row[2], 0.5, 0.25, 0.125}, {2, 3}).to(dt);
            for (const bool log : {false, true}) {
                const auto y = (log ? omni::log_softmax(x, 1) : omni::softmax(x, 1)).to_vector<double>();
                for (int i = 0; i < 3; ++i) EXPECT_TRUE(std::isnan(y[i])) << "NaN at " << at << ", output " << i << (log ? " (log)" : "");
                for (int i = 3; i < 6; ++i) EXPECT_FALSE(std::isnan(y[i])) << "the other row stays finite";
            }
        }
}

// float32 logits near 1e4: (x - m) - log s keeps the small differences; x - (m + log s) rounded
// to m's precision (ulp 1e-3 at 1e4) and lost about 5e-4.
TEST(Softmax, LogSoftmaxOfLargeFloat32LogitsKeepsFullPrecision) {
    const std::vector<double> x{1e4, 1e4 + 1.0, 1e4 - 2.0, 1e4 + 0.5};
    const auto y = omni::log_softmax(T::from_data(x, {1, 4}).to(omni::dtype::f32), 1).to_vector<double>();
    double s = 0;
    for (const double xi : x) s += std::exp(xi - (1e4 + 1.0));
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], (x[i] - (1e4 + 1.0)) - std::log(s), 1e-6) << i;
}

TEST(LayerNorm, MatchesDefinition) {
    const T x = randn({4, 6}), w = randn({6}), b = randn({6});
    const auto y = v(omni::layer_norm(x, w, b, 1e-6));
    const auto xs = v(x), ws = v(w), bs = v(b);
    for (int r = 0; r < 4; ++r) {
        double mu = 0, var = 0;
        for (int i = 0; i < 6; ++i) mu += xs[r * 6 + i] / 6;
        for (int i = 0; i < 6; ++i) var += (xs[r * 6 + i] - mu) * (xs[r * 6 + i] - mu) / 6;
        for (int i = 0; i < 6; ++i)
            EXPECT_NEAR(y[r * 6 + i], (xs[r * 6 + i] - mu) / std::sqrt(var + 1e-6) * ws[i] + bs[i], 1e-12);
    }
    EXPECT_EQ(omni::layer_norm(x.transpose(0, 1)).shape(), (Shape{6, 4}));
}

TEST(L2Normalize, UnitNormsAndZeroRows) {
    const T x = randn({3, 8});
    const T y = omni::l2_normalize(x, 1);
    expect_near(v(omni::sum(omni::square(y), {1})), {1, 1, 1}, 1e-12);
    expect_near(v(omni::l2_normalize(T::zeros({1, 3}, omni::dtype::f64))), {0, 0, 0});
    const T c = omni::l2_normalize(x, 0);
    expect_near(v(omni::sum(omni::square(c), {0})), std::vector<double>(8, 1.0), 1e-12);
}

TEST(Index, SelectEmbeddingGather) {
    const T x = T::arange(12, omni::dtype::f64).view({3, 4});
    const T idx = T::from_data<std::int64_t>({2, 0, 2}, {3});
    expect_near(v(omni::index_select(x, 0, idx)), {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
    expect_near(v(omni::index_select(x, 1, T::from_data<std::int32_t>({3, 1}, {2}))), {3, 1, 7, 5, 11, 9});
    const T ids = T::from_data<std::int64_t>({1, 1, 0, 2}, {2, 2});
    const T e = omni::embedding(x, ids);
    EXPECT_EQ(e.shape(), (Shape{2, 2, 4}));
    EXPECT_EQ(v(e)[8], 0.0);
    const T g = omni::gather(x, 1, T::from_data<std::int64_t>({0, 3, 1, 1, 2, 0}, {3, 2}));
    expect_near(v(g), {0, 3, 5, 5, 10, 8});
    expect_near(v(omni::index_add({3, 2}, 0, idx, T::ones({3, 2}, omni::dtype::f64))), {1, 1, 0, 0, 2, 2});
    expect_near(v(omni::scatter_add({1, 3}, 1, T::from_data<std::int64_t>({2, 2}, {1, 2}), T::ones({1, 2}, omni::dtype::f64))), {0, 0, 2});
}

TEST(Join, ConcatStackSplitChunk) {
    const T a = T::arange(6, omni::dtype::f64).view({2, 3}), b = T::arange(4, omni::dtype::f64).view({2, 2});
    const T c = omni::concat<omni::cpu>({a, b}, 1);
    expect_near(v(c), {0, 1, 2, 0, 1, 3, 4, 5, 2, 3});
    const auto parts = omni::split(c, {3, 2}, 1);
    expect_near(v(parts[0]), v(a));
    expect_near(v(parts[1]), v(b));
    const T s = omni::stack<T>({a, a}, 0);
    EXPECT_EQ(s.shape(), (Shape{2, 2, 3}));
    EXPECT_EQ(omni::chunk(s, 3, 2).size(), 3u);
}

// addmm = bias on every row + the product, for a folded batch and a transposed weight; the
// bias must not leak into an empty product either.
TEST(Ops, AddmmAddsTheBiasInsideTheProduct) {
    const T a = randn({2, 5, 3}), w = randn({4, 3}), bias = randn({4});
    const auto y = v(omni::addmm(bias, a, w, false, true));
    const auto ref = ref_mm(v(a), v(w.transpose(0, 1).contiguous()), 10, 3, 4);
    const auto bv = v(bias);
    ASSERT_EQ(y.size(), ref.size());
    for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], ref[i] + bv[i % 4], 1e-12) << i;
    const auto e = v(omni::addmm(bias, T::zeros({3, 0}, omni::dtype::f64), T::zeros({0, 4}, omni::dtype::f64)));
    for (std::size_t i = 0; i < e.size(); ++i) EXPECT_EQ(e[i], bv[i % 4]);
}

// addmm_residual = residual + bias + the product, with the bias, without it and for an empty sum.
TEST(Ops, AddmmResidualAddsTheSkipConnectionInsideTheProduct) {
    const T a = randn({2, 5, 3}), w = randn({4, 3}), bias = randn({4}), r = randn({2, 5, 4});
    const auto ref = ref_mm(v(a), v(w.transpose(0, 1).contiguous()), 10, 3, 4);
    const auto bv = v(bias), rv = v(r);
    const auto y = v(omni::addmm_residual(r, bias, a, w, false, true)), y0 = v(omni::addmm_residual(r, T{}, a, w, false, true));
    ASSERT_EQ(y.size(), ref.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
        EXPECT_NEAR(y[i], rv[i] + bv[i % 4] + ref[i], 1e-12) << i;
        EXPECT_NEAR(y0[i], rv[i] + ref[i], 1e-12) << i;
    }
    const T r2 = randn({3, 4});
    const auto e = v(omni::addmm_residual(r2, T{}, T::zeros({3, 0}, omni::dtype::f64), T::zeros({0, 4}, omni::dtype::f64)));
    EXPECT_EQ(e, v(r2));
}

// max and logsumexp return NaN for a row holding one, wherever it sits (torch.amax).
TEST(Ops, MaxAndLogsumexpPropagateNaN) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int pos = 0; pos < 3; ++pos) {
        std::vector<double> x{1.0, 5.0, 2.0, 3.0, 0.5, 4.0};
        x[pos] = nan;
        const T t = T::from_data(x, {2, 3});
        const auto mx = v(omni::max(t, {1})), lse = v(omni::logsumexp(t, {1}));
        EXPECT_TRUE(std::isnan(mx[0])) << "NaN at " << pos;
        EXPECT_TRUE(std::isnan(lse[0])) << "NaN at " << pos;
        EXPECT_EQ(mx[1], 4.0);
        EXPECT_FALSE(std::isnan(lse[1]));
    }
}

// A NaN must surface, never be zeroed: relu passes it through like torch.relu.
TEST(Ops, ReluPropagatesNaN) {
    const T x = T::from_data<float>({-1.f, NAN, 2.f}, {3});
    const auto r = omni::relu(x).to_vector<float>();
    EXPECT_EQ(r[0], 0.f);
    EXPECT_TRUE(std::isnan(r[1]));
    EXPECT_EQ(r[2], 2.f);
}

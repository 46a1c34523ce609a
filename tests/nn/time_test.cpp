// The rotary op family, CRTE and RoPE: hand-computed values, gradchecks in float64 (op, both
// pairings, partial rotation, shared tables; CRTE both modes; RoPE with an offset), the KV-cache
// offset against a slice of a longer run, and every error.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>

#include "omni/autodiff/gradcheck.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/time/crte.hpp"
#include "omni/nn/time/rope.hpp"

using omni::dtype;
using omni::Shape;
using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;
using In = std::vector<V>;
namespace nn = omni::nn;

namespace {
omni::Generator gen(2510);
V param(const Shape& s) { return V(D::randn(s, gen, dtype::f64), true); }

void expect_close(const D& a, const D& b, double tol, const std::string& what = "") {
    ASSERT_EQ(a.shape(), b.shape()) << what;
    const auto x = a.to_vector<double>(), y = b.to_vector<double>();
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], y[i], tol) << what << " at " << i;
}

template <class F> void check_grad(F f, const In& in) {
    const auto r = omni::gradcheck<omni::cpu>(f, in);
    EXPECT_TRUE(r.ok) << r.message;
}

// The typed error f throws must name `op` and contain `part`.
template <class E, class F> void expect_error(F&& f, const std::string& op, const std::string& part) {
    try {
        f();
        ADD_FAILURE() << "expected an error mentioning '" << part << "'";
    } catch (const E& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find(op), std::string::npos) << m;
        EXPECT_NE(m.find(part), std::string::npos) << m;
    }
}

// The rotary formula element by element, straight from its definition.
D rotary_reference(const D& x, const D& cos, const D& sin, omni::rotary_pairing pairing, std::int64_t inner) {
    const std::int64_t C = x.shape().back(), R = x.numel() / C, T = cos.shape()[0], rot = cos.shape()[1];
    const auto xv = x.contiguous().to_vector<double>(), cv = cos.to_vector<double>(), sv = sin.to_vector<double>();
    std::vector<double> y(xv);
    for (std::int64_t r = 0; r < R; ++r) {
        const std::int64_t t = (r / inner) % T;
        for (std::int64_t c = 0; c < rot; ++c) {
            double rx;  // R(x)_c
            if (pairing == omni::rotary_pairing::interleaved) rx = c % 2 ? xv[r * C + c - 1] : -xv[r * C + c + 1];
            else rx = c < rot / 2 ? -xv[r * C + c + rot / 2] : xv[r * C + c - rot / 2];
            y[r * C + c] = xv[r * C + c] * cv[t * rot + c] + rx * sv[t * rot + c];
        }
    }
    return D::from_data(y, x.shape());
}
}  // namespace

// ---- the op ------------------------------------------------------------------------------

TEST(Rotary, MatchesTheDefinitionForBothPairingsPartialRotationAndSharedTables) {
    for (auto pairing : {omni::rotary_pairing::interleaved, omni::rotary_pairing::half}) {
        SCOPED_TRACE(omni::name_of(pairing));
        const D x = D::randn({2, 3, 5, 10}, gen, dtype::f64);  // rows 30, C 10
        const D cos = D::randn({5, 6}, gen, dtype::f64), sin = D::randn({5, 6}, gen, dtype::f64);  // per channel, not unit
        expect_close(omni::rotary(x, cos, sin, pairing), rotary_reference(x, cos, sin, pairing, 1), 1e-14, "T = 5, inner 1");
        const D c3 = D::randn({3, 4}, gen, dtype::f64), s3 = D::randn({3, 4}, gen, dtype::f64);
        expect_close(omni::rotary(x, c3, s3, pairing, 5), rotary_reference(x, c3, s3, pairing, 5), 1e-14, "T = 3, inner 5");
        const D xt = x.transpose(1, 2);  // strided input
        expect_close(omni::rotary(xt, cos, sin, pairing), rotary_reference(xt, cos, sin, pairing, 1), 1e-14, "strided");
        const D x32 = x.to(dtype::f32);
        expect_close(omni::rotary(x32, cos.to(dtype::f32), sin.to(dtype::f32), pairing), rotary_reference(x, cos, sin, pairing, 1), 1e-5,
                     "float32");
    }
}

TEST(Rotary, GradcheckBothPairingsPartialAndSharedTables) {
    for (auto pairing : {omni::rotary_pairing::interleaved, omni::rotary_pairing::half}) {
        SCOPED_TRACE(omni::name_of(pairing));
        const V x = param({2, 4, 6});
        const D c = D::randn({4, 6}, gen, dtype::f64), s = D::randn({4, 6}, gen, dtype::f64);  // unequal angles per pair
        check_grad([&](const In& v) { return omni::rotary(v[0], c, s, pairing); }, {x});
        const D cp = D::randn({2, 4}, gen, dtype::f64), sp = D::randn({2, 4}, gen, dtype::f64);  // rot 4 < C 6, inner 2
        check_grad([&](const In& v) { return omni::rotary(v[0], cp, sp, pairing, 2); }, {x});
        check_grad([&](const In& v) { return omni::rotary(v[0].transpose(0, 1), cp, sp, pairing, 1); }, {x});
    }
}

TEST(Rotary, Errors) {
    const D x = D::randn({2, 3, 8}, gen), c = D::randn({3, 4}, gen);
    using omni::rotary_pairing;
    expect_error<omni::shape_error>([&] { omni::rotary(x, D::randn({3, 5}, gen), D::randn({3, 5}, gen), rotary_pairing::half); }, "rotary", "even");
    expect_error<omni::shape_error>([&] { omni::rotary(x, D::randn({3, 10}, gen), D::randn({3, 10}, gen), rotary_pairing::half); }, "rotary", "[2, 8]");
    expect_error<omni::shape_error>([&] { omni::rotary(x, c, D::randn({3, 6}, gen), rotary_pairing::half); }, "rotary", "one shape");
    expect_error<omni::shape_error>([&] { omni::rotary(x, D::randn({4, 4}, gen), D::randn({4, 4}, gen), rotary_pairing::half); }, "rotary",
                                    "multiple of inner * T");
    expect_error<omni::value_error>([&] { omni::rotary(x, c, c, rotary_pairing::half, 0); }, "rotary", "inner >= 1");
    expect_error<omni::dtype_error>([&] { omni::rotary(x, c.to(dtype::f64), c, rotary_pairing::half); }, "rotary", "float64");
    expect_error<omni::dtype_error>([&] { omni::rotary(x.to(dtype::i32), c, c, rotary_pairing::half); }, "rotary", "int32");
}

// ---- CRTE --------------------------------------------------------------------------------

TEST(Crte, ZeroTimeIsTheIdentity) {
    const D x = D::randn({2, 5, 16}, gen);
    for (auto mode : {nn::CrteMode::paper, nn::CrteMode::reference})
        expect_close(nn::crte(x, D::zeros({2, 5}), {.d = 8, .mode = mode}), x, 0.0);
}

TEST(Crte, PaperModeTurnsEachPairByOmegaTimesT) {
    const nn::CrteConfig cfg{.d = 8, .T_max = 30, .theta = 5};
    const D x = D::randn({1, 3, 10}, gen, dtype::f64), t = D::from_data<double>({0.5, 7.25, 100.0}, {1, 3});
    const D y = nn::crte(x, t, cfg);
    const auto xv = x.to_vector<double>(), yv = y.to_vector<double>(), tv = t.to_vector<double>();
    for (int n = 0; n < 3; ++n)
        for (int m = 0; m < 4; ++m) {
            const double w = 2 * std::numbers::pi / (30.0 * std::pow(5.0, m / 4.0)), a = w * tv[n];
            const double x0 = xv[n * 10 + 2 * m], x1 = xv[n * 10 + 2 * m + 1];
            EXPECT_NEAR(yv[n * 10 + 2 * m], x0 * std::cos(a) - x1 * std::sin(a), 1e-13);
            EXPECT_NEAR(yv[n * 10 + 2 * m + 1], x1 * std::cos(a) + x0 * std::sin(a), 1e-13);
            EXPECT_NEAR(std::hypot(yv[n * 10 + 2 * m], yv[n * 10 + 2 * m + 1]), std::hypot(x0, x1), 1e-13);  // a rotation
        }
    for (int n = 0; n < 3; ++n)  // channels >= d pass through
        for (int c = 8; c < 10; ++c) EXPECT_EQ(yv[n * 10 + c], xv[n * 10 + c]);
    // The fastest channel has period T_max: t = T_max is the identity on pair 0.
    const D yT = nn::crte(x, D::full({1, 3}, 30.0, dtype::f64), cfg);
    for (int n = 0; n < 3; ++n)
        for (int c = 0; c < 2; ++c) EXPECT_NEAR(yT.to_vector<double>()[n * 10 + c], xv[n * 10 + c], 1e-12);
}

TEST(Crte, ReferenceModeUsesOneAnglePerChannelOverTheFirstHalfOfD) {
    const nn::CrteConfig cfg{.d = 8, .T_max = 20, .mode = nn::CrteMode::reference};
    const D x = D::randn({2, 2, 6}, gen, dtype::f64), t = D::from_data<double>({1.0, 3.0, 11.5, 40.0}, {2, 2});
    const auto w = nn::crte_frequencies(cfg);
    const auto xv = x.to_vector<double>(), yv = nn::crte(x, t, cfg).to_vector<double>(), tv = t.to_vector<double>();
    bool norm_changed = false;
    for (int r = 0; r < 4; ++r) {
        for (int m = 0; m < 2; ++m) {  // rot = d/2 = 4 channels, 2 pairs, channel c uses phi_c
            const double a0 = w[2 * m] * tv[r], a1 = w[2 * m + 1] * tv[r];
            const double x0 = xv[r * 6 + 2 * m], x1 = xv[r * 6 + 2 * m + 1];
            const double y0 = yv[r * 6 + 2 * m], y1 = yv[r * 6 + 2 * m + 1];
            EXPECT_NEAR(y0, x0 * std::cos(a0) - x1 * std::sin(a0), 1e-13);
            EXPECT_NEAR(y1, x1 * std::cos(a1) + x0 * std::sin(a1), 1e-13);
            norm_changed = norm_changed || std::abs(std::hypot(y0, y1) - std::hypot(x0, x1)) > 1e-6;
        }
        for (int c = 4; c < 6; ++c) EXPECT_EQ(yv[r * 6 + c], xv[r * 6 + c]);
    }
    EXPECT_TRUE(norm_changed) << "unequal angles within a pair do not preserve its norm";
}

TEST(Crte, Schedules) {
    const double pi2 = 2 * std::numbers::pi;
    const auto s = nn::crte_frequencies({.d = 16, .T_max = 60, .theta = 5});
    EXPECT_NEAR(pi2 / s.front(), 60.0, 1e-12);  // fastest period T_max
    EXPECT_NEAR(pi2 / s.back(), 60.0 * std::pow(5.0, 7.0 / 8.0), 1e-9);
    const auto l = nn::crte_frequencies({.d = 16, .T_max = 60, .schedule = nn::CrteSchedule::longest});
    EXPECT_NEAR(pi2 / l.front(), 1.0, 1e-12);  // fastest period 1 s, slowest exactly T_max
    EXPECT_NEAR(pi2 / l.back(), 60.0, 1e-9);
}

TEST(Crte, GradcheckBothModesAndSchedulesAsAModule) {
    const V x = param({2, 3, 10});
    const D t = D::rand({2, 3}, gen, dtype::f64, 0, 90);
    for (auto mode : {nn::CrteMode::paper, nn::CrteMode::reference})
        for (auto sched : {nn::CrteSchedule::shortest, nn::CrteSchedule::longest}) {
            const nn::Crte<omni::autodiff<omni::cpu>> m({.d = 8, .T_max = 45, .schedule = sched, .mode = mode});
            check_grad([&](const In& v) { return m(v[0], V(t)); }, {x});
        }
    // float32 timestamps drive a float64 x just the same
    const D y64 = nn::crte(x.value(), t, {.d = 8}), y32 = nn::crte(x.value(), t.to(dtype::f32), {.d = 8});
    expect_close(y32, nn::crte(x.value(), t.to(dtype::f32).to(dtype::f64), {.d = 8}), 0.0);
    expect_close(y64, y32, 1e-4);
}

TEST(Crte, Errors) {
    const D x = D::randn({2, 3, 8}, gen), t = D::rand({2, 3}, gen, dtype::f32, 0, 10);
    auto run = [&](const nn::CrteConfig& c, const D& xx, const D& tt) { return nn::crte(xx, tt, c); };
    expect_error<omni::value_error>([&] { run({.d = 7}, x, t); }, "crte", "even d");
    expect_error<omni::value_error>([&] { run({.d = 0}, x, t); }, "crte", "even d");
    expect_error<omni::value_error>([&] { run({.d = 6, .mode = nn::CrteMode::reference}, x, t); }, "crte", "divisible by 4");
    expect_error<omni::value_error>([&] { run({.d = 4, .T_max = 0}, x, t); }, "crte", "T_max > 0");
    expect_error<omni::value_error>([&] { run({.d = 4, .T_max = INFINITY}, x, t); }, "crte", "T_max > 0");
    expect_error<omni::value_error>([&] { run({.d = 4, .theta = 1.0}, x, t); }, "crte", "theta > 1");
    EXPECT_NO_THROW(run({.d = 4, .theta = 1.0, .schedule = nn::CrteSchedule::longest}, x, t));  // theta unused there
    expect_error<omni::value_error>([&] { run({.d = 2, .schedule = nn::CrteSchedule::longest}, x, t); }, "crte", "d >= 4");
    expect_error<omni::shape_error>([&] { run({.d = 10}, x, t); }, "crte", "at least 10 channels");
    expect_error<omni::shape_error>([&] { run({.d = 20, .mode = nn::CrteMode::reference}, x, t); }, "crte", "at least 10 channels");
    EXPECT_NO_THROW(run({.d = 16, .mode = nn::CrteMode::reference}, x, t));  // d/2 = 8 = C
    expect_error<omni::shape_error>([&] { run({.d = 4}, x, D::zeros({2, 4})); }, "crte", "t [2, 3]");
    expect_error<omni::shape_error>([&] { run({.d = 4}, x, D::zeros({6})); }, "crte", "t [2, 3]");
    expect_error<omni::shape_error>([&] { run({.d = 4}, x.view({6, 8}), t); }, "crte", "x [B, N, C]");
    expect_error<omni::dtype_error>([&] { run({.d = 4}, x, t.to(dtype::i64)); }, "crte", "int64");
    D bad = t.clone();
    bad.select(0, 1).select(0, 2).fill_(NAN);
    expect_error<omni::value_error>([&] { run({.d = 4}, x, bad); }, "crte", "token 5");
    bad.select(0, 1).select(0, 2).fill_(-INFINITY);
    expect_error<omni::value_error>([&] { run({.d = 4}, x, bad); }, "crte", "finite timestamps");
    expect_error<omni::value_error>([] { nn::Crte<omni::cpu>({.d = 3}); }, "crte", "even d");
}

// ---- RoPE --------------------------------------------------------------------------------

TEST(Rope, TurnsHalfSplitPairsByPositionTimesInverseFrequency) {
    const nn::RopeConfig cfg{.head_dim = 8, .theta = 100};
    const D x = D::randn({1, 2, 4, 8}, gen, dtype::f64);
    const auto xv = x.to_vector<double>(), yv = nn::apply_rope(x, cfg, 3).to_vector<double>();
    for (int hN = 0; hN < 8; ++hN) {  // (head, position) rows
        const int p = 3 + hN % 4;
        for (int k = 0; k < 4; ++k) {
            const double a = p * std::pow(100.0, -2.0 * k / 8.0);
            const double x0 = xv[hN * 8 + k], x1 = xv[hN * 8 + k + 4];
            EXPECT_NEAR(yv[hN * 8 + k], x0 * std::cos(a) - x1 * std::sin(a), 1e-13);
            EXPECT_NEAR(yv[hN * 8 + k + 4], x1 * std::cos(a) + x0 * std::sin(a), 1e-13);
        }
    }
    expect_close(nn::apply_rope(x.slice(2, 0, 1), cfg, 0), x.slice(2, 0, 1).contiguous(), 0.0, "position 0 is the identity");
}

TEST(Rope, OffsetEqualsSlicingALongerRunAndStridesDoNotMatter) {
    const nn::RopeConfig cfg{.head_dim = 16};
    const D full = D::randn({2, 3, 20, 16}, gen);
    const D whole = nn::apply_rope(full, cfg);
    expect_close(nn::apply_rope(full.slice(2, 13, 20), cfg, 13), whole.slice(2, 13, 20).contiguous(), 0.0, "decode offset");
    expect_close(nn::apply_rope(full.slice(2, 19, 20), cfg, 19), whole.slice(2, 19, 20).contiguous(), 0.0, "one token");
    const D bnhd = full.transpose(1, 2).contiguous();  // [B, N, H, hd] as the projection makes it
    expect_close(nn::apply_rope(bnhd.transpose(1, 2), cfg), whole, 0.0, "strided view");
    const auto table = nn::rope_table<omni::cpu>(cfg, 7, 13);
    expect_close(nn::apply_rope(full.slice(2, 13, 20), table), whole.slice(2, 13, 20).contiguous(), 0.0, "precomputed table");
}

TEST(Rope, GradcheckWithAnOffset) {
    const V x = param({2, 2, 5, 8});
    check_grad([](const In& v) { return nn::apply_rope(v[0], {.head_dim = 8, .theta = 1e4}, 11); }, {x});
    check_grad([](const In& v) { return nn::apply_rope(v[0].transpose(1, 2).contiguous().transpose(1, 2), {.head_dim = 8}, 0); }, {x});
}

TEST(Rope, Errors) {
    const D x = D::randn({1, 2, 3, 8}, gen);
    expect_error<omni::value_error>([&] { nn::apply_rope(x, {.head_dim = 7}); }, "rope", "even head_dim");
    expect_error<omni::shape_error>([&] { nn::apply_rope(x, {.head_dim = 16}); }, "rope", "[B, H, N, 16]");
    expect_error<omni::shape_error>([&] { nn::apply_rope(x.view({2, 3, 8}), {.head_dim = 8}); }, "rope", "got [2, 3, 8]");
    expect_error<omni::value_error>([&] { nn::apply_rope(x, {.head_dim = 8}, -1); }, "rope", "offset >= 0");
    expect_error<omni::value_error>([&] { nn::apply_rope(x, {.head_dim = 8, .theta = 0}); }, "rope", "theta > 0");
    expect_error<omni::dtype_error>([&] { nn::apply_rope(x.to(dtype::i32), {.head_dim = 8}); }, "rope", "int32");
    const auto t4 = nn::rope_table<omni::cpu>({.head_dim = 8}, 4);
    expect_error<omni::shape_error>([&] { nn::apply_rope(x, t4); }, "rope", "3 positions");
    expect_error<omni::dtype_error>([&] { nn::apply_rope(x.to(dtype::f64), nn::rope_table<omni::cpu>({.head_dim = 8}, 3)); }, "rope",
                                    "float32");
}

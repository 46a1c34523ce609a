// Anomaly mode (omni::detect_anomaly, autodiff/anomaly.hpp): the first op whose forward output or
// backward gradient holds a NaN or an infinity is named; off by default; a clean model trains
// under it bit for bit as without it.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "omni/backend/cpu.hpp"
#include "omni/loss/cross_entropy.hpp"
#include "omni/ops/linear.hpp"

using omni::Shape;
using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;

namespace {
// The anomaly_error f throws, as text ("" when it throws none).
template <class F> std::string anomaly_of(F&& f) {
    try {
        f();
    } catch (const omni::anomaly_error& e) {
        return e.what();
    }
    return "";
}
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST(Anomaly, OffByDefaultAndScopedToTheGuardAndThread) {
    EXPECT_FALSE(omni::anomaly_enabled());
    const V x(D::from_data<double>({-1, 2}, {2}), true);
    EXPECT_EQ(anomaly_of([&] { omni::log(x); }), "");  // NaN, but nobody asked
    {
        omni::detect_anomaly guard;
        EXPECT_TRUE(omni::anomaly_enabled());
        bool other_thread = true;
        std::thread([&] { other_thread = omni::anomaly_enabled(); }).join();
        EXPECT_FALSE(other_thread);
        {
            omni::detect_anomaly off(false);
            EXPECT_FALSE(omni::anomaly_enabled());
        }
        EXPECT_TRUE(omni::anomaly_enabled());
    }
    EXPECT_FALSE(omni::anomaly_enabled());
}

TEST(Anomaly, ANanInTheForwardNamesTheOpThatMadeIt) {
    const V x(D::from_data<double>({4, -1, 2, 9}, {2, 2}), true);
    omni::detect_anomaly guard;
    const V y = omni::add(omni::exp(x), -2.0);  // finite: passes
    const std::string what = anomaly_of([&] { omni::log(y); });  // log(e^-1 - 2) is NaN, the rest finite
    EXPECT_TRUE(has(what, "anomaly_error: log: forward produced 1 NaN (of 4 values) in its output of shape [2, 2]; its inputs were finite")) << what;
    EXPECT_TRUE(has(anomaly_of([&] { omni::exp(omni::mul(x, 100.0)); }), "exp: forward produced 1 +inf (of 4 values)"));
    // Under no_grad too, and an op fed a non-finite value says so.
    omni::no_grad ng;
    const V bad(D::from_data<double>({1, INFINITY}, {2}));
    const std::string fed = anomaly_of([&] { omni::mul(bad, 2.0); });
    EXPECT_TRUE(has(fed, "mul: forward produced 1 +inf") && has(fed, "its inputs already held 1 non-finite values")) << fed;
    EXPECT_TRUE(has(anomaly_of([&] { omni::concat(std::vector<V>{bad, x.flatten()}, 0); }), "concat: forward produced 1 +inf"));
}

TEST(Anomaly, AnInfiniteGradientNamesTheOpItsInputAndShape) {
    omni::detect_anomaly guard;
    {
        const V x(D::from_data<double>({0, 4, 1}, {3}), true);
        const V y = omni::sum(omni::sqrt(x));  // sqrt(0) = 0 is finite, d/dx = 1 / (2 sqrt(0)) is not
        const std::string what = anomaly_of([&] { y.backward(); });
        EXPECT_TRUE(has(what, "anomaly_error: sqrt: backward produced 1 +inf (of 3 values) in the gradient of input 0, shape [3]; "
                              "the incoming gradient was finite")) << what;
    }
    {
        const V a(D::from_data<double>({1e-200, 1}, {2}), true), b(D::from_data<double>({1e-200, 2}, {2}), true);
        const V y = omni::sum(omni::div(a, b));  // a / b = 1, but d/db = -a / b^2 and b^2 underflows to 0
        const std::string what = anomaly_of([&] { y.backward(); });
        EXPECT_TRUE(has(what, "anomaly_error: div: backward produced 1 -inf (of 2 values) in the gradient of input 1, shape [2]")) << what;
    }
}

TEST(Anomaly, ACleanModelTrainsUnderTheGuardBitForBit) {
    const auto run = [](bool anomaly) {
        omni::detect_anomaly guard(anomaly);
        omni::Generator g(5);
        const V x(D::randn({16, 8}, g)), w1(D::randn({32, 8}, g, omni::dtype::f32, 0, 0.3), true), b1(D::zeros({32}), true);
        const V w2(D::randn({4, 32}, g, omni::dtype::f32, 0, 0.3), true);
        const D targets = D::from_data(std::vector<std::int64_t>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}, {16});
        const V h = omni::gelu(omni::layer_norm(omni::linear(x, w1, b1)));
        const V loss = omni::loss::cross_entropy(omni::linear(h, w2), V(targets), 0.1);
        loss.backward();
        std::vector<float> out{loss.item<float>()};
        for (const V* p : {&w1, &b1, &w2})
            for (float v : p->grad().to_vector<float>()) out.push_back(v);
        return out;
    };
    EXPECT_EQ(run(true), run(false));
}

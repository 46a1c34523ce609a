#pragma once
// The fixture of every policy suite (ggml's test-backend-ops): the policies under test, a copy of
// a CPU tensor onto any policy, and the elementwise comparison against the CPU reference. A suite
// includes this after the backend headers it tests; with OMNI_TEST_CUDA defined (its .cu twin or
// the prebuilt build) omni::cuda joins the list and skips cleanly without a device.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "omni/backend/cpu.hpp"
#if defined(OMNI_TEST_CUDA)
#include "omni/backend/cuda.hpp"
#endif

using omni::dtype;
using omni::Shape;
using Cpu = omni::Tensor<omni::cpu>;

namespace {

// A copy of `t` on policy Q with the same dtype, bit for bit.
template <class Q, class P> omni::Tensor<Q> move_to(const omni::Tensor<P>& t) {
    if (t.type() == dtype::b8) return move_to<Q>(t.to(dtype::i32)).to(dtype::b8);  // std::vector<bool> has no data()
    return omni::dispatch_any(t.type(), "move_to", [&]<class T>() {
        if constexpr (std::is_same_v<T, bool>) return omni::Tensor<Q>();
        else return omni::Tensor<Q>::from_data(t.template to_vector<T>(), t.shape());
    });
}

double default_tol(dtype t) { return t == dtype::f64 ? 1e-11 : t == dtype::f32 ? 2e-5 : 0.0; }

// |got - want| <= tol * (1 + |want|) elementwise; NaNs and infinities must sit in the same places.
template <class P> void expect_close(const omni::Tensor<P>& got_p, const Cpu& want, const std::string& what, double tol = -1) {
    const Cpu got = move_to<omni::cpu>(got_p);
    ASSERT_EQ(got.shape(), want.shape()) << what;
    ASSERT_EQ(got.type(), want.type()) << what;
    if (tol < 0) tol = default_tol(want.type());
    const auto g = got.to(dtype::f64).to_vector<double>(), w = want.to(dtype::f64).to_vector<double>();
    for (std::size_t i = 0; i < g.size(); ++i) {
        if (std::isnan(w[i]) || std::isinf(w[i])) {
            EXPECT_TRUE(std::isnan(w[i]) ? std::isnan(g[i]) : g[i] == w[i]) << what << " at " << i << ": " << g[i] << " vs " << w[i];
            continue;
        }
        ASSERT_LE(std::abs(g[i] - w[i]), tol * (1 + std::abs(w[i]))) << what << " at " << i << ": " << g[i] << " vs " << w[i];
    }
}

// The message of the omni::error `f` throws, or "" when it throws none.
template <class F> std::string error_of(F&& f) {
    try {
        f();
    } catch (const omni::error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

template <class P> class PolicyTest : public ::testing::Test {
protected:
    void SetUp() override {
#if defined(OMNI_TEST_CUDA)
        if constexpr (std::is_same_v<P, omni::cuda>)
            if (!omni::cuda::available()) GTEST_SKIP() << "no CUDA device on this machine";
#endif
    }
    omni::Tensor<P> dev(const Cpu& t) { return move_to<P>(t); }
    Cpu randn(const Shape& s, dtype t = dtype::f32) { return Cpu::randn(s, gen, t); }
    Cpu rand(const Shape& s, double lo, double hi, dtype t = dtype::f32) { return Cpu::rand(s, gen, t, lo, hi); }
    omni::Generator gen{20240611};
};

#if defined(OMNI_TEST_CUDA)
using Policies = ::testing::Types<omni::cpu, omni::cuda>;
#else
using Policies = ::testing::Types<omni::cpu>;
#endif

// float32 matmul under matmul_precision::bf16, once per kernel this CPU has (AMX tiles,
// AVX512-BF16 dot products): the products must equal a double-precision reference computed from
// the bf16-rounded operands (up to fp32 accumulation), for every operand layout, edge sizes that
// leave partial tiles and odd inner dimensions, batches, alpha/beta and views. Without either
// kernel the setting must change nothing. The rounding itself is checked everywhere.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "omni/backend/cpu.hpp"

using T = omni::Tensor<omni::cpu>;
namespace amx = omni::backend::cpu::amx;
namespace bf16_gemm = omni::backend::cpu::bf16_gemm;
using omni::backend::cpu::cpu_isa;

namespace {

float round_to_bf16(float x) { return static_cast<float>(omni::bf16(x)); }

// y = op(a) op(b) in double from bf16-rounded float operands; a, b dense row-major as stored.
std::vector<double> reference(const T& a, const T& b, bool ta, bool tb, std::int64_t M, std::int64_t K, std::int64_t N) {
    const auto av = a.contiguous().to_vector<float>(), bv = b.contiguous().to_vector<float>();
    std::vector<double> y(static_cast<std::size_t>(M * N), 0.0);
    for (std::int64_t i = 0; i < M; ++i)
        for (std::int64_t j = 0; j < N; ++j) {
            double s = 0;
            for (std::int64_t k = 0; k < K; ++k) {
                const float x = ta ? av[k * M + i] : av[i * K + k], w = tb ? bv[j * K + k] : bv[k * N + j];
                s += static_cast<double>(round_to_bf16(x)) * round_to_bf16(w);
            }
            y[i * N + j] = s;
        }
    return y;
}

// fp32 accumulation of K products of magnitude ~1: a few ulps of the sum per term.
void expect_close(const std::vector<double>& ref, const std::vector<float>& got, std::int64_t K) {
    ASSERT_EQ(ref.size(), got.size());
    const double tol = 4e-7 * std::sqrt(static_cast<double>(K)) * 8 + 1e-5;
    for (std::size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(got[i], ref[i], tol * std::max(1.0, std::abs(ref[i]))) << "at " << i;
}

}  // namespace

TEST(Bf16Rounding, NearestEvenAndSpecials) {
    EXPECT_EQ(omni::bf16(1.0f).bits, 0x3f80);
    EXPECT_EQ(round_to_bf16(1.0f + 1.0f / 256), 1.0f);                        // a tie rounds to even (down)
    EXPECT_EQ(round_to_bf16(1.0f + 3.0f / 256), 1.0f + 4.0f / 256);           // a tie rounds to even (up)
    EXPECT_EQ(round_to_bf16(1.0f + 1.0f / 256 + 1e-6f), 1.0f + 2.0f / 256);   // above the tie rounds up
    EXPECT_TRUE(std::isnan(round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
    EXPECT_EQ(round_to_bf16(std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
    EXPECT_EQ(round_to_bf16(-0.0f), -0.0f);
}

TEST(MatmulPrecision, GuardRestores) {
    EXPECT_EQ(omni::float32_matmul_precision(), omni::matmul_precision::highest);
    {
        omni::matmul_precision_guard g(omni::matmul_precision::bf16);
        EXPECT_EQ(omni::float32_matmul_precision(), omni::matmul_precision::bf16);
    }
    EXPECT_EQ(omni::float32_matmul_precision(), omni::matmul_precision::highest);
}


// Runs a test with one bf16 kernel forced: AMX, or AVX512-BF16 (the ISA capped below AMX and the
// kernel taken whatever the probe measured). Skips where the CPU lacks it.
class Bf16Kernel : public ::testing::TestWithParam<cpu_isa> {
protected:
    void SetUp() override {
        omni::backend::cpu::cpu_isa_limit(GetParam());
        bf16_gemm::use(bf16_gemm::when::always);
        if (GetParam() == cpu_isa::amx && !amx::available()) GTEST_SKIP() << "no AMX-BF16 on this CPU";
        if (GetParam() == cpu_isa::avx512_bf16 && !bf16_gemm::available()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
    }
    void TearDown() override {
        omni::backend::cpu::cpu_isa_limit(cpu_isa::amx);
        bf16_gemm::use(bf16_gemm::when::measured);
    }
};
INSTANTIATE_TEST_SUITE_P(Isa, Bf16Kernel, ::testing::Values(cpu_isa::amx, cpu_isa::avx512_bf16),
                         [](const auto& info) { return std::string(omni::backend::cpu::cpu_isa_name(info.param)); });

struct Case {
    std::int64_t m, k, n;
    bool ta, tb;
};

TEST_P(Bf16Kernel, MatchesBf16ReferenceForEveryLayout) {
    omni::Generator gen(11);
    // Whole tiles, partial tiles in every dimension, one row tile, odd n-block counts, odd k and k
    // past one 512-deep block (AVX512-BF16 pairs k); all at least 2^18 multiply-adds and 32 in
    // every dimension, where matmul hands them to either kernel.
    for (const Case c : {Case{64, 64, 64, false, false}, Case{400, 768, 2304, false, true}, Case{77, 100, 53, false, false},
                         Case{33, 145, 70, true, false}, Case{96, 80, 40, false, true}, Case{40, 231, 33, true, true},
                         Case{768, 400, 96, true, false}, Case{50, 1037, 70, false, false}, Case{45, 1037, 130, false, true},
                         Case{70, 601, 50, true, true}}) {
        const T a = c.ta ? T::randn({c.k, c.m}, gen) : T::randn({c.m, c.k}, gen);
        const T b = c.tb ? T::randn({c.n, c.k}, gen) : T::randn({c.k, c.n}, gen);
        omni::matmul_precision_guard g(omni::matmul_precision::bf16);
        const T y = omni::matmul(a, b, c.ta, c.tb);
        SCOPED_TRACE(std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n) + " ta " + std::to_string(c.ta) +
                     " tb " + std::to_string(c.tb));
        expect_close(reference(a, b, c.ta, c.tb, c.m, c.k, c.n), y.to_vector<float>(), c.k);
    }
}

TEST_P(Bf16Kernel, BatchesSharedWeightsAndStridedViews) {
    omni::Generator gen(12);
    omni::matmul_precision_guard g(omni::matmul_precision::bf16);
    // Batched operands with their own B per batch item.
    const T a = T::randn({3, 64, 96}, gen), b = T::randn({3, 96, 48}, gen);
    const auto y = omni::matmul(a, b).to_vector<float>();
    for (std::int64_t i = 0; i < 3; ++i) {
        const auto ref = reference(a.slice(0, i, i + 1).squeeze(0), b.slice(0, i, i + 1).squeeze(0), false, false, 64, 96, 48);
        expect_close(ref, std::vector<float>(y.begin() + i * 64 * 48, y.begin() + (i + 1) * 64 * 48), 96);
    }
    // A sliced operand (row stride wider than its rows) and a column-sliced weight.
    const T wide = T::randn({64, 200}, gen), w = T::randn({100, 50}, gen);
    const T av = wide.slice(1, 10, 110), wv = w.slice(1, 0, 48);  // [64, 100], [100, 48]
    expect_close(reference(av, wv, false, false, 64, 100, 48), omni::matmul(av, wv).to_vector<float>(), 100);
}

TEST_P(Bf16Kernel, NanAndInfinityPropagate) {
    omni::Generator gen(13);
    // k = 65: the last k pairs with the zero padding, where a NaN or infinity must stay in its row
    // or column and the padding must not make 0 * inf.
    auto av = T::randn({64, 65}, gen).to_vector<float>();
    auto bv = T::randn({65, 70}, gen).to_vector<float>();
    av[5 * 65 + 7] = std::numeric_limits<float>::quiet_NaN();
    av[9 * 65 + 64] = std::numeric_limits<float>::infinity();
    bv[64 * 70 + 3] = -std::numeric_limits<float>::infinity();
    const T a = T::from_data(av, {64, 65}), b = T::from_data(bv, {65, 70});
    omni::matmul_precision_guard g(omni::matmul_precision::bf16);
    const auto y = omni::matmul(a, b).to_vector<float>();
    for (std::int64_t i = 0; i < 64; ++i)
        for (std::int64_t j = 0; j < 70; ++j) {
            const float x = y[i * 70 + j];
            if (i == 5) EXPECT_TRUE(std::isnan(x)) << j;
            else if (i == 9) EXPECT_EQ(std::isinf(x) && x * bv[64 * 70 + j] > 0, true) << j;  // inf times b[64][j] (-inf at j 3)
            else if (j == 3) EXPECT_EQ(std::isinf(x) && x * av[i * 65 + 64] < 0, true) << i;  // -inf times a[i][64]
            else EXPECT_TRUE(std::isfinite(x)) << i << " " << j;
        }
}

TEST(AmxGemm, HighestPrecisionAndFloat64AreUntouched) {
    omni::Generator gen(14);
    const T a = T::randn({64, 96}, gen), b = T::randn({96, 64}, gen);
    const auto fp32 = omni::matmul(a, b).to_vector<float>();
    const T a64 = a.to(omni::dtype::f64), b64 = b.to(omni::dtype::f64);
    const auto f64 = omni::matmul(a64, b64).to_vector<double>();
    omni::matmul_precision_guard g(omni::matmul_precision::bf16);
    EXPECT_EQ(omni::matmul(a64, b64).to_vector<double>(), f64);  // float64 never goes to bf16
    const auto y = omni::matmul(a, b).to_vector<float>();
    if (!amx::available() && !bf16_gemm::chosen()) {
        EXPECT_EQ(y, fp32);  // no bf16 kernel (or not the faster here): the permission changes nothing
    } else {
        double worst = 0;  // bf16 operands: about 2^-8 relative per product, far from fp32's
        for (std::size_t i = 0; i < y.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(y[i]) - fp32[i]));
        EXPECT_GT(worst, 1e-4);
        EXPECT_LT(worst, 0.5);
    }
}

// Inside frozen_weights a packed weight is reused; a different weight, or the same storage after
// the scope closed and the values changed, is packed afresh.
TEST(AmxGemm, FrozenWeightsReusesPackedOperandsSafely) {
    if (!amx::available()) GTEST_SKIP() << "no AMX-BF16 on this CPU";
    omni::Generator gen(15);
    const T x = T::randn({64, 96}, gen);
    T w1 = T::randn({80, 96}, gen);
    const T w2 = T::randn({80, 96}, gen);
    omni::matmul_precision_guard g(omni::matmul_precision::bf16);
    const auto fresh1 = omni::matmul(x, w1, false, true).to_vector<float>();
    const auto fresh2 = omni::matmul(x, w2, false, true).to_vector<float>();
    {
        omni::frozen_weights frozen;
        for (int rep = 0; rep < 3; ++rep) {
            EXPECT_EQ(omni::matmul(x, w1, false, true).to_vector<float>(), fresh1);
            EXPECT_EQ(omni::matmul(x, w2, false, true).to_vector<float>(), fresh2);
        }
        EXPECT_EQ(amx::detail::pack_cache().entries.size(), 2u);  // one packed copy per weight
    }
    w1.copy_from(w2);  // in place, outside any scope: nothing packed earlier may be used
    {
        omni::frozen_weights frozen;
        EXPECT_EQ(omni::matmul(x, w1, false, true).to_vector<float>(), fresh2);
        EXPECT_EQ(amx::detail::pack_cache().entries.size(), 1u);  // the old epoch's copies are gone
    }
    (void)omni::matmul(x, w1, false, true);
    EXPECT_TRUE(amx::detail::pack_cache().entries.empty());  // no scope: nothing is kept
}

// The probe that decides whether matmul takes the AVX512-BF16 kernel: a rate ratio, 2 where
// VDPBF16PS retires as often as an FMA, and the choice follows it (and use()).
TEST(Bf16GemmProbe, MeasuresARatioAndTheChoiceFollowsIt) {
    const double r = bf16_gemm::measured_speedup();
    if (!bf16_gemm::available()) {
        EXPECT_EQ(r, 0.0);
        EXPECT_FALSE(bf16_gemm::chosen());
        return;
    }
    RecordProperty("vdpbf16ps_over_fma", std::to_string(r));
    EXPECT_GT(r, 0.1);
    EXPECT_LT(r, 8.0);
    EXPECT_EQ(bf16_gemm::chosen(), r >= 1.25);
    bf16_gemm::use(bf16_gemm::when::always);
    EXPECT_TRUE(bf16_gemm::chosen());
    bf16_gemm::use(bf16_gemm::when::never);
    EXPECT_FALSE(bf16_gemm::chosen());
    bf16_gemm::use(bf16_gemm::when::measured);
    omni::backend::cpu::cpu_isa_limit(cpu_isa::avx512);  // capped below the ISA: never, whatever use() says
    bf16_gemm::use(bf16_gemm::when::always);
    EXPECT_FALSE(bf16_gemm::chosen());
    bf16_gemm::use(bf16_gemm::when::measured);
    omni::backend::cpu::cpu_isa_limit(cpu_isa::amx);
}

// omni's float32 GEMM (backend/cpu/sgemm.hpp), reached through matmul_kernels<cpu> as every
// matmul reaches it, once per ISA this CPU has (capped with cpu_isa_limit; baseline is Eigen):
// every operand layout, strided views, sizes that leave partial register tiles and cross the
// kc / nc / mc blocks, batches, alpha and beta (beta 0 never reads C), NaN and infinity, and the
// same bits at 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "omni/backend/cpu.hpp"
#include "omni/backend/cpu/sgemm.hpp"

namespace cpu = omni::backend::cpu;
using cpu::cpu_isa;

namespace {

struct Operands {
    std::int64_t m = 0, n = 0, k = 0;
    bool ta = false, tb = false;  // A stored as [k, m] (transposed), B stored as [n, k]
    std::int64_t pad = 3;   // extra elements per stored row: views with an outer stride
    std::vector<float> a, b;
    std::int64_t a_ld() const { return (ta ? m : k) + pad; }
    std::int64_t b_ld() const { return (tb ? k : n) + pad; }
    float A(std::int64_t i, std::int64_t p) const { return ta ? a[p * a_ld() + i] : a[i * a_ld() + p]; }
    float B(std::int64_t p, std::int64_t j) const { return tb ? b[j * b_ld() + p] : b[p * b_ld() + j]; }
};

Operands make(std::int64_t m, std::int64_t n, std::int64_t k, bool ta, bool tb, unsigned seed) {
    Operands o;
    o.m = m, o.n = n, o.k = k, o.ta = ta, o.tb = tb;
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd;
    o.a.resize(static_cast<std::size_t>((ta ? k : m) * o.a_ld()));
    o.b.resize(static_cast<std::size_t>((tb ? n : k) * o.b_ld()));
    for (auto& x : o.a) x = nd(rng);
    for (auto& x : o.b) x = nd(rng);
    return o;
}

omni::GemmArgs args(const Operands& o, float* c, double alpha, double beta) {
    omni::GemmArgs g;
    g.type = omni::dtype::f32;
    g.m = o.m, g.n = o.n, g.k = o.k;
    g.a = o.a.data(), g.b = o.b.data(), g.c = c, g.c_rs = o.n;
    if (o.ta) g.a_rs = 1, g.a_cs = o.a_ld();
    else g.a_rs = o.a_ld(), g.a_cs = 1;
    if (o.tb) g.b_rs = 1, g.b_cs = o.b_ld();
    else g.b_rs = o.b_ld(), g.b_cs = 1;
    g.alpha = alpha, g.beta = beta;
    return g;
}

class SgemmIsa : public testing::TestWithParam<cpu_isa> {
  protected:
    void SetUp() override {
        if (static_cast<int>(cpu::detected_cpu_isa()) < static_cast<int>(GetParam())) GTEST_SKIP() << "this CPU lacks " << cpu::cpu_isa_name(GetParam());
        saved_ = cpu::cpu_isa_limit();
        cpu::cpu_isa_limit(GetParam());
    }
    void TearDown() override {
        cpu::cpu_isa_limit(saved_);
        omni::set_num_threads(threads_);
    }
    cpu_isa saved_ = cpu_isa::amx;
    int threads_ = omni::num_threads();
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Isa, SgemmIsa, testing::Values(cpu_isa::baseline, cpu_isa::avx2, cpu_isa::avx512),
                         [](const testing::TestParamInfo<cpu_isa>& i) { return std::string(cpu::cpu_isa_name(i.param)); });

TEST_P(SgemmIsa, KernelFollowsTheLimit) {
    const auto* k = cpu::sgemm::kernel();
    if (GetParam() == cpu_isa::baseline) EXPECT_EQ(k, nullptr);
    else {
        ASSERT_NE(k, nullptr);
        EXPECT_EQ(k->isa, GetParam());
    }
}

// Every layout, alpha and beta, against a double-precision sum. 301 x 1037 x 517 crosses the
// kc (256) and nc (1024) blocks and leaves partial tiles in both directions; 1543 rows (split
// over rows, n < m) cross the mc block (768).
TEST_P(SgemmIsa, EveryLayoutMatchesADoubleSum) {
    struct Size {
        std::int64_t m, n, k;
    };
    for (const Size s : {Size{301, 1037, 517}, Size{1543, 70, 64}})
        for (int layout = 0; layout < 4; ++layout) {
            const Operands o = make(s.m, s.n, s.k, layout & 1, layout & 2, 7u + static_cast<unsigned>(layout));
            std::vector<float> c0(static_cast<std::size_t>(s.m * s.n));
            std::mt19937 rng(3);
            std::normal_distribution<float> nd;
            for (auto& x : c0) x = nd(rng);
            std::vector<double> dot(c0.size()), mag(c0.size());
            for (std::int64_t i = 0; i < s.m; ++i)
                for (std::int64_t j = 0; j < s.n; ++j)
                    for (std::int64_t p = 0; p < s.k; ++p) {
                        const double t = double(o.A(i, p)) * o.B(p, j);
                        dot[static_cast<std::size_t>(i * s.n + j)] += t, mag[static_cast<std::size_t>(i * s.n + j)] += std::abs(t);
                    }
            for (const double beta : {0.0, 1.0, -0.5}) {
                std::vector<float> c = c0;
                omni::matmul_kernels<omni::cpu>::gemm(args(o, c.data(), 0.75, beta));
                double worst = 0;
                for (std::size_t e = 0; e < c.size(); ++e) worst = std::max(worst, std::abs(c[e] - (0.75 * dot[e] + beta * c0[e])) / (mag[e] + 1));
                EXPECT_LT(worst, 2e-6) << s.m << "x" << s.n << "x" << s.k << " layout " << layout << " beta " << beta;
            }
        }
}

// beta 0 overwrites C without reading it (NaN there is dropped, as BLAS does); NaN and infinity
// in an operand reach exactly the outputs whose sums contain them.
TEST_P(SgemmIsa, NanAndInfinityReachExactlyTheirOutputs) {
    Operands o = make(130, 150, 300, false, true, 5);
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    o.a[static_cast<std::size_t>(17 * o.a_ld() + 260)] = nan;  // row 17, in the second kc block
    o.b[static_cast<std::size_t>(141 * o.b_ld() + 3)] = inf;   // column 141 (B stored transposed)
    std::vector<float> c(static_cast<std::size_t>(130 * 150), nan);
    omni::matmul_kernels<omni::cpu>::gemm(args(o, c.data(), 1.0, 0.0));
    for (std::int64_t i = 0; i < 130; ++i)
        for (std::int64_t j = 0; j < 150; ++j) {
            const float x = c[static_cast<std::size_t>(i * 150 + j)];
            if (i == 17) ASSERT_TRUE(std::isnan(x)) << i << "," << j;
            else if (j == 141) ASSERT_TRUE(std::isinf(x)) << i << "," << j;
            else ASSERT_TRUE(std::isfinite(x)) << i << "," << j;
        }
}

// A batch of large products (each through the kernel), one of them through a strided batch.
TEST_P(SgemmIsa, BatchesRunEveryProduct) {
    const std::int64_t m = 96, n = 200, k = 130;
    const Operands o = make(m, n, 3 * k, false, false, 11);  // three [m, k] blocks side by side
    omni::GemmArgs g;
    g.type = omni::dtype::f32, g.batch = 3, g.m = m, g.n = n, g.k = k;
    g.a = o.a.data(), g.a_batch = k, g.a_rs = o.a_ld(), g.a_cs = 1;
    std::vector<float> b(static_cast<std::size_t>(3 * k * n));
    std::mt19937 rng(2);
    std::normal_distribution<float> nd;
    for (auto& x : b) x = nd(rng);
    g.b = b.data(), g.b_batch = k * n, g.b_rs = n, g.b_cs = 1;
    std::vector<float> c(static_cast<std::size_t>(3 * m * n));
    g.c = c.data(), g.c_batch = m * n, g.c_rs = n;
    omni::matmul_kernels<omni::cpu>::gemm(g);
    for (std::int64_t bi = 0; bi < 3; ++bi)
        for (std::int64_t i = 0; i < m; i += 7)
            for (std::int64_t j = 0; j < n; j += 3) {
                double ref = 0;
                for (std::int64_t p = 0; p < k; ++p) ref += double(o.A(i, bi * k + p)) * b[static_cast<std::size_t>(bi * k * n + p * n + j)];
                ASSERT_NEAR(c[static_cast<std::size_t>(bi * m * n + i * n + j)], ref, 1e-4 * (1 + std::abs(ref))) << bi << " " << i << " " << j;
            }
}

// Each element is summed by one thread in one order: 1 and 2 threads give the same bits (Eigen,
// the baseline, does not promise this for inner dimensions past its cache block).
TEST_P(SgemmIsa, SameBitsAtAnyThreadCount) {
    if (GetParam() == cpu_isa::baseline) GTEST_SKIP() << "Eigen's blocking depends on the thread count";
    for (const bool tall : {false, true}) {
        const Operands o = tall ? make(900, 300, 700, true, false, 9) : make(200, 900, 700, false, true, 9);
        std::vector<float> c1(static_cast<std::size_t>(o.m * o.n)), c2 = c1;
        omni::set_num_threads(1);
        omni::matmul_kernels<omni::cpu>::gemm(args(o, c1.data(), 1.0, 0.0));
        omni::set_num_threads(2);
        omni::matmul_kernels<omni::cpu>::gemm(args(o, c2.data(), 1.0, 0.0));
        EXPECT_EQ(c1, c2) << (tall ? "rows split" : "columns split");
    }
}

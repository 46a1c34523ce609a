// Matmuls through the system BLAS (omni::blas, backend/cpu/blas_gemm.hpp) against a float64 loop:
// every operand layout the hand-off maps without copies (plain, transposed, row and column views
// with a leading dimension, batches), the layouts it must leave to Eigen, NaN propagation and
// float64. Built only when a BLAS is found; ctest sets OPENBLAS_CORETYPE=Haswell so that OpenBLAS
// uses its optimised kernels on virtual CPUs it does not recognise (else omni keeps Eigen and
// the test says so).
#include <gtest/gtest.h>

#include <cmath>
#include <omni/backend/cpu.hpp>
#include <omni/ops.hpp>

namespace {

using T = omni::Tensor<omni::cpu>;

// C = op(A) op(B) in float64, from element access.
std::vector<double> reference(const T& a, const T& b, bool ta, bool tb) {
    const T a2 = a.contiguous().to(omni::dtype::f64), b2 = b.contiguous().to(omni::dtype::f64);
    const auto av = a2.to_vector<double>(), bv = b2.to_vector<double>();
    const std::int64_t m = ta ? a.shape()[1] : a.shape()[0], k = ta ? a.shape()[0] : a.shape()[1], n = tb ? b.shape()[0] : b.shape()[1];
    std::vector<double> c(static_cast<std::size_t>(m * n));
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            double s = 0;
            for (std::int64_t p = 0; p < k; ++p)
                s += av[static_cast<std::size_t>(ta ? p * m + i : i * k + p)] * bv[static_cast<std::size_t>(tb ? j * k + p : p * n + j)];
            c[static_cast<std::size_t>(i * n + j)] = s;
        }
    return c;
}

double max_rel(const T& c, const std::vector<double>& ref) {
    const auto v = c.contiguous().to(omni::dtype::f64).to_vector<double>();
    double num = 0, den = 0;
    for (std::size_t i = 0; i < v.size(); ++i) num = std::max(num, std::abs(v[i] - ref[i])), den = std::max(den, std::abs(ref[i]));
    return num / den;
}

TEST(MatmulBlas, EveryMappedLayoutMatchesFloat64) {
    std::cout << "large products go to: " << omni::backend::cpu::blas::describe() << "\n";
    omni::Generator g(3);
    for (const auto type : {omni::dtype::f32, omni::dtype::f64}) {
        const double tol = type == omni::dtype::f32 ? 2e-5 : 1e-12;
        for (const bool ta : {false, true})
            for (const bool tb : {false, true}) {
                const std::int64_t m = 96, k = 80, n = 112;
                const T a = T::randn(ta ? omni::Shape{k, m} : omni::Shape{m, k}, g).to(type);
                const T b = T::randn(tb ? omni::Shape{n, k} : omni::Shape{k, n}, g).to(type);
                EXPECT_LT(max_rel(omni::matmul(a, b, ta, tb), reference(a, b, ta, tb)), tol) << "ta " << ta << " tb " << tb;
                // Views with a leading dimension larger than their width (a column block of a wider matrix).
                const T wa = T::randn(ta ? omni::Shape{k, m + 17} : omni::Shape{m, k + 17}, g).to(type).slice(1, 5, ta ? m + 5 : k + 5);
                const T wb = T::randn(tb ? omni::Shape{n, k + 9} : omni::Shape{k, n + 9}, g).to(type).slice(1, 3, tb ? k + 3 : n + 3);
                EXPECT_LT(max_rel(omni::matmul(wa, wb, ta, tb), reference(wa, wb, ta, tb)), tol) << "views, ta " << ta << " tb " << tb;
            }
    }
}

TEST(MatmulBlas, BatchesAndUnmappableStridesStillMatch) {
    omni::Generator g(4);
    const T a = T::randn({3, 64, 72}, g), b = T::randn({3, 72, 80}, g);
    const T c = omni::matmul(a, b);
    for (std::int64_t i = 0; i < 3; ++i) EXPECT_LT(max_rel(c.select(0, i), reference(a.select(0, i), b.select(0, i), false, false)), 2e-5);
    // Every second row and column: no unit stride, so Eigen (or a copy) does it.
    const T s = T::randn({128, 144}, g).slice(0, 0, 128, 2).slice(1, 0, 144, 2), t = T::randn({72, 96}, g);
    EXPECT_LT(max_rel(omni::matmul(s, t), reference(s, t, false, false)), 2e-5);
}

TEST(MatmulBlas, NanPropagates) {
    omni::Generator g(5);
    std::vector<float> av(64 * 64, 1.0f);
    av[5 * 64 + 7] = NAN;
    const T a = T::from_data(std::span<const float>(av), omni::Shape{64, 64}), b = T::randn({64, 64}, g);
    const auto c = omni::matmul(a, b).to_vector<float>();
    for (std::int64_t j = 0; j < 64; ++j) EXPECT_TRUE(std::isnan(c[static_cast<std::size_t>(5 * 64 + j)]));
    EXPECT_FALSE(std::isnan(c[0]));
}

}  // namespace

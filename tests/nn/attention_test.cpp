// Fused attention against the plain composition softmax(q k^T * scale + mask) v, forward and
// gradients, with padding and causal masks, cross-attention shapes, strided inputs and tiles.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/backend/cpu/attention_tile_kernels.hpp"

using omni::Shape;
using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;
using In = std::vector<V>;

namespace {
omni::Generator gen(99);
V param(const Shape& s) { return V(D::randn(s, gen, omni::dtype::f64), true); }

// The unfused reference: materialises the full score matrix.
V reference(const V& q, const V& k, const V& v, const D& mask, bool causal) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.shape()[3]));
    V s = omni::matmul(q, k, false, true) * scale;
    const std::int64_t nq = q.shape()[2], nk = k.shape()[2];
    if (mask.defined()) s = omni::masked_fill(s, V(mask.view({mask.shape()[0], 1, 1, nk})), -INFINITY);
    if (causal) {
        std::vector<double> c(nq * nk);
        for (std::int64_t i = 0; i < nq; ++i)
            for (std::int64_t j = 0; j < nk; ++j) c[i * nk + j] = j > i;
        const D cm = D::from_data(c, {nq, nk}).to(omni::dtype::b8);
        s = omni::masked_fill(s, V(cm), -INFINITY);
    }
    return omni::matmul(omni::softmax(s), v);
}

void expect_close(const D& a, const D& b, double tol) {
    ASSERT_EQ(a.shape(), b.shape());
    const auto x = a.to_vector<double>(), y = b.to_vector<double>();
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], y[i], tol) << "at " << i;
}

void compare(const Shape& qs, const Shape& ks, const Shape& vs, const D& mask, bool causal) {
    const V q = param(qs), k = param(ks), v = param(vs);
    const V fused = omni::attention(q, k, v, V(mask), causal);
    const V ref = reference(q, k, v, mask, causal);
    expect_close(fused.value(), ref.value(), 1e-12);
    const D g = D::randn(fused.shape(), gen, omni::dtype::f64);
    fused.backward(g);
    const D gq = q.grad(), gk = k.grad(), gv = v.grad();
    q.zero_grad(), k.zero_grad(), v.zero_grad();
    ref.backward(g);
    expect_close(gq, q.grad(), 1e-10);
    expect_close(gk, k.grad(), 1e-10);
    expect_close(gv, v.grad(), 1e-10);
}
}  // namespace

TEST(Attention, SelfAttentionMatchesReference) { compare({2, 3, 5, 4}, {2, 3, 5, 4}, {2, 3, 5, 4}, {}, false); }
TEST(Attention, CrossAttentionShapes) { compare({2, 2, 3, 4}, {2, 2, 7, 4}, {2, 2, 7, 6}, {}, false); }
TEST(Attention, LongSequencesCrossTiles) { compare({1, 2, 150, 8}, {1, 2, 300, 8}, {1, 2, 300, 8}, {}, false); }
TEST(Attention, CausalAcrossTiles) { compare({1, 2, 200, 8}, {1, 2, 200, 8}, {1, 2, 200, 8}, {}, true); }
TEST(Attention, KeyPaddingMask) {
    const D mask = D::from_data<bool>({false, false, true, false, true, false, false, false, false, true, true, true, true, true}, {2, 7});
    compare({2, 3, 4, 5}, {2, 3, 7, 5}, {2, 3, 7, 5}, mask, false);
}

TEST(Attention, FullyMaskedRowsGiveZeros) {
    const V q = param({1, 1, 2, 4}), k = param({1, 1, 3, 4}), v = param({1, 1, 3, 4});
    const D mask = D::ones({1, 3}, omni::dtype::b8);
    const V o = omni::attention(q, k, v, V(mask));
    for (double x : o.to_vector<double>()) EXPECT_EQ(x, 0.0);
    omni::sum(o).backward();
    for (double x : q.grad().to_vector<double>()) EXPECT_EQ(x, 0.0);
}

TEST(Attention, StridedViewsOfAFusedProjection) {
    // q, k, v as views into one [B, N, 3, H, d] tensor, the layout of a fused qkv Linear.
    const V qkv = param({2, 6, 3, 2, 4});
    auto f = [](const In& in) {
        const V t = in[0].permute({2, 0, 3, 1, 4});
        return omni::attention(t.select(0, 0), t.select(0, 1), t.select(0, 2));
    };
    const auto r = omni::gradcheck<omni::cpu>(f, {qkv});
    EXPECT_TRUE(r.ok) << r.message;
}

TEST(Attention, Gradcheck) {
    const D mask = D::from_data<bool>({false, true, false, false, false}, {1, 5});
    const auto r = omni::gradcheck<omni::cpu>([mask](const In& in) { return omni::attention(in[0], in[1], in[2], V(mask), true); },
                                              {param({1, 2, 5, 3}), param({1, 2, 5, 3}), param({1, 2, 5, 2})});
    EXPECT_TRUE(r.ok) << r.message;
}

TEST(Attention, Float32MatchesFloat64) {
    const D q = D::randn({2, 4, 70, 16}, gen, omni::dtype::f64), k = D::randn({2, 4, 130, 16}, gen, omni::dtype::f64),
            v = D::randn({2, 4, 130, 16}, gen, omni::dtype::f64);
    const D ref = omni::attention(q, k, v);
    const D f = omni::attention(q.to(omni::dtype::f32), k.to(omni::dtype::f32), v.to(omni::dtype::f32));
    expect_close(f.to(omni::dtype::f64), ref, 1e-5);
}

TEST(Attention, ShapeErrors) {
    EXPECT_THROW(omni::attention(D::zeros({2, 3, 4}), D::zeros({2, 3, 4}), D::zeros({2, 3, 4})), omni::shape_error);
    EXPECT_THROW(omni::attention(D::zeros({1, 2, 4, 8}), D::zeros({1, 2, 4, 7}), D::zeros({1, 2, 4, 8})), omni::shape_error);
    try {
        omni::attention(D::zeros({2, 1, 4, 8}), D::zeros({2, 1, 5, 8}), D::zeros({2, 1, 5, 8}), D::zeros({2, 4}, omni::dtype::b8));
        FAIL();
    } catch (const omni::shape_error& e) {
        EXPECT_STREQ(e.what(), "shape_error: attention: expected a key padding mask [2, 5], got [2, 4]");
    }
}

TEST(Attention, QkvAttentionMatchesSplitHeads) {
    const V qkv = param({2, 5, 3 * 2 * 4});
    const D mask = D::from_data<bool>({false, false, false, true, true, false, false, false, false, false}, {2, 5});
    auto packed = [mask](const In& in) { return omni::qkv_attention(in[0], 2, V(mask)); };
    auto unpacked = [mask](const In& in) {
        const V t = in[0].view({2, 5, 3, 2, 4}).permute({2, 0, 3, 1, 4});
        return omni::attention(t.select(0, 0), t.select(0, 1), t.select(0, 2), V(mask)).transpose(1, 2).reshape({2, 5, 8});
    };
    expect_close(packed({qkv}).value(), unpacked({qkv}).value(), 1e-12);
    expect_close(omni::qkv_attention(qkv.value(), 2, mask), unpacked({qkv}).value(), 1e-12);
    const auto r = omni::gradcheck<omni::cpu>(packed, {qkv});
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_THROW(omni::qkv_attention(qkv, 5), omni::shape_error);
}

TEST(Attention, MemoryGrowsLinearlyInSequenceLength) {
    // Extra storage while computing attention forward and backward, beyond inputs and outputs.
    auto extra = [](std::int64_t n) {
        omni::Generator g(1);
        const V q(D::randn({1, 2, n, 32}, g), true), k(D::randn({1, 2, n, 32}, g), true), v(D::randn({1, 2, n, 32}, g), true);
        const D up = D::randn({1, 2, n, 32}, g);
        auto& mem = omni::cpu::memory();
        const std::int64_t before = mem.current.load();
        mem.reset_peak();
        omni::attention(q, k, v).backward(up);
        return mem.peak.load() - before;
    };
    const std::int64_t m1 = extra(1024), m2 = extra(2048);
    // A materialised score matrix alone would be 2 heads x n^2 floats: 8 MiB at 1024, 32 MiB at 2048.
    EXPECT_LT(m2, 2 * 1024 * 1024 * 4);
    EXPECT_LT(static_cast<double>(m2) / static_cast<double>(m1), 2.2) << m1 << " -> " << m2 << " bytes";
}

// A NaN key poisons the rows that attend to it (as PyTorch's softmax does); masked keys still
// contribute nothing, and rows that never see the NaN stay finite.
TEST(Attention, NaNScoresPropagateInsteadOfBeingMaskedOut) {
    omni::Generator g(9);
    const D q = D::randn({1, 1, 3, 4}, g), v = D::randn({1, 1, 3, 4}, g);
    D k = D::randn({1, 1, 3, 4}, g);
    k.select(2, 2).fill_(NAN);
    const auto causal = omni::attention(q, k, v, D(), true).to_vector<float>();
    for (int j = 0; j < 4; ++j) EXPECT_TRUE(std::isfinite(causal[j])) << "row 0 never sees key 2";
    for (int j = 0; j < 4; ++j) EXPECT_TRUE(std::isnan(causal[2 * 4 + j])) << "row 2 attends to the NaN key";
}

// float32 runs the tile kernels of the widest ISA the CPU has (AVX2 or AVX-512, chosen at run
// time), or Eigen; float64 runs Eigen's products and is checked against the unfused reference
// above. Each suite below runs once per ISA this CPU has, capped with cpu_isa_limit.
using omni::backend::cpu::cpu_isa;
class AttentionIsa : public testing::TestWithParam<cpu_isa> {
  protected:
    void SetUp() override {
        if (static_cast<int>(omni::backend::cpu::detected_cpu_isa()) < static_cast<int>(GetParam()))
            GTEST_SKIP() << "this CPU lacks " << omni::backend::cpu::cpu_isa_name(GetParam());
        saved_ = omni::backend::cpu::cpu_isa_limit();
        omni::backend::cpu::cpu_isa_limit(GetParam());
    }
    void TearDown() override { omni::backend::cpu::cpu_isa_limit(saved_); }
    cpu_isa saved_ = cpu_isa::amx;
};
INSTANTIATE_TEST_SUITE_P(Isa, AttentionIsa, testing::Values(cpu_isa::baseline, cpu_isa::avx2, cpu_isa::avx512),
                         [](const testing::TestParamInfo<cpu_isa>& i) { return std::string(omni::backend::cpu::cpu_isa_name(i.param)); });

TEST_P(AttentionIsa, LimitPicksTheKernels) {
    const auto* k = omni::backend::cpu::attention_tiles::float_tile_kernels();
    if (GetParam() == cpu_isa::baseline) EXPECT_EQ(k, nullptr);
    else {
        ASSERT_NE(k, nullptr);
        EXPECT_EQ(k->isa, GetParam());
    }
}

TEST(Attention, UnknownIsaNamesAreValueErrors) {
    EXPECT_EQ(omni::backend::cpu::parse_cpu_isa("avx2", "OMNI_CPU_ISA"), cpu_isa::avx2);
    try {
        omni::backend::cpu::parse_cpu_isa("avx3", "OMNI_CPU_ISA");
        FAIL() << "no error";
    } catch (const omni::value_error& e) {
        EXPECT_EQ(e.op(), "OMNI_CPU_ISA");
        EXPECT_NE(std::string(e.what()).find("got 'avx3'"), std::string::npos) << e.what();
    }
}

// Forward and every gradient in float32 against float64, over sizes that leave partial tiles and
// partial vectors (d 24, dv 40, 150 queries, 300 keys), a padding mask, causal masks with and
// without an offset, and strided views of a fused projection.
TEST_P(AttentionIsa, Float32MatchesFloat64WithMasksAndGradients) {
    omni::Generator g(21);
    const std::int64_t B = 2, H = 3, Nq = 150, Nk = 300, d = 24, e = 40;
    std::vector<char> pad(static_cast<std::size_t>(B * Nk), 0);
    for (std::int64_t j = 0; j < Nk; j += 7) pad[static_cast<std::size_t>(j)] = 1;              // scattered pads, batch 0
    for (std::int64_t j = Nk - 40; j < Nk; ++j) pad[static_cast<std::size_t>(Nk + j)] = 1;     // trailing pads, batch 1
    const D mask = D::from_data(std::vector<double>(pad.begin(), pad.end()), {B, Nk}).to(omni::dtype::b8);
    // Strided: q, k, v are column blocks of one [B, H, N, 2d + e + 5] tensor.
    const D qsrc = D::randn({B, H, Nq, d + 3}, g, omni::dtype::f64), kv = D::randn({B, H, Nk, d + e + 5}, g, omni::dtype::f64);
    const D q64 = qsrc.slice(3, 1, d + 1), k64 = kv.slice(3, 0, d), v64 = kv.slice(3, d + 2, d + 2 + e);
    const D up = D::randn({B, H, Nq, e}, g, omni::dtype::f64);
    struct Case {
        bool use_mask, causal;
        std::int64_t offset;
    };
    for (const Case c : {Case{false, false, 0}, Case{true, false, 0}, Case{false, true, 0}, Case{true, true, Nk - Nq}}) {
        auto run = [&](omni::dtype t) {
            const V q(q64.to(t), true), k(k64.to(t), true), v(v64.to(t), true);
            const V o = omni::attention(q, k, v, c.use_mask ? V(mask) : V(), c.causal, 0, c.offset);
            o.backward(up.to(t));
            return std::vector<D>{o.value().to(omni::dtype::f64), q.grad().to(omni::dtype::f64), k.grad().to(omni::dtype::f64),
                                  v.grad().to(omni::dtype::f64)};
        };
        const auto f = run(omni::dtype::f32), r = run(omni::dtype::f64);
        const char* what[] = {"out", "dq", "dk", "dv"};
        for (std::size_t i = 0; i < 4; ++i) {
            const auto x = f[i].to_vector<double>(), y = r[i].to_vector<double>();
            double num = 0, den = 0;
            for (std::size_t j = 0; j < x.size(); ++j) num = std::max(num, std::abs(x[j] - y[j])), den = std::max(den, std::abs(y[j]));
            EXPECT_LT(num / den, 2e-5) << what[i] << " mask " << c.use_mask << " causal " << c.causal << " offset " << c.offset;
        }
    }
}

// NaN in a float32 score tile, past the first vector: the forward poisons exactly the rows that
// see it, and the float32 kernels leave NaN in the same places as float64's Eigen products in
// every gradient (masked entries are 0, and 0 x NaN is NaN there as in any matmul).
TEST_P(AttentionIsa, Float32NaNKeyPoisonsLikeFloat64) {
    omni::Generator g(10);
    const D q = D::randn({1, 2, 40, 20}, g, omni::dtype::f64), v = D::randn({1, 2, 40, 20}, g, omni::dtype::f64);
    D k = D::randn({1, 2, 40, 20}, g, omni::dtype::f64);
    k.select(2, 33).fill_(NAN);
    auto run = [&](omni::dtype t) {
        const V Q(q.to(t), true), K(k.to(t), true), Vv(v.to(t), true);
        const V o = omni::attention(Q, K, Vv, V(), true);
        o.backward(D::ones({1, 2, 40, 20}).to(t));
        return std::vector<std::vector<double>>{o.value().to_vector<double>(), Q.grad().to_vector<double>(), K.grad().to_vector<double>(),
                                                Vv.grad().to_vector<double>()};
    };
    const auto f = run(omni::dtype::f32), r = run(omni::dtype::f64);
    for (std::int64_t h = 0; h < 2; ++h)
        for (std::int64_t i = 0; i < 40; ++i)
            EXPECT_EQ(std::isnan(f[0][static_cast<std::size_t>((h * 40 + i) * 20)]), i >= 33) << "head " << h << " row " << i;
    for (std::size_t t = 0; t < 4; ++t)
        for (std::size_t j = 0; j < f[t].size(); ++j) ASSERT_EQ(std::isnan(f[t][j]), std::isnan(r[t][j])) << "tensor " << t << " at " << j;
}

// Every differentiable op against central finite differences in float64, including broadcast,
// strided and batched cases, through omni::gradcheck.
#include <gtest/gtest.h>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/ops/linear.hpp"

using omni::Shape;
using V = omni::Var<omni::cpu>;
using D = omni::Tensor<omni::cpu>;
using In = std::vector<V>;

namespace {
omni::Generator gen(7);
V param(const Shape& s, double lo = -2, double hi = 2) { return V(D::rand(s, gen, omni::dtype::f64, lo, hi), true); }
template <class F> void check(F f, const In& in) {
    const auto r = omni::gradcheck<omni::cpu>(f, in);
    EXPECT_TRUE(r.ok) << r.message;
}
}  // namespace

TEST(Gradcheck, UnaryOps) {
    const V x = param({3, 4});
    for (auto op : {omni::unary_op::neg, omni::unary_op::exp, omni::unary_op::tanh, omni::unary_op::sigmoid, omni::unary_op::relu,
                    omni::unary_op::gelu_erf, omni::unary_op::gelu_tanh, omni::unary_op::silu, omni::unary_op::abs, omni::unary_op::square, omni::unary_op::softplus}) {
        SCOPED_TRACE(omni::name_of(op));
        check([op](const In& v) { return omni::unary(op, v[0]); }, {x});
    }
    const V pos = param({3, 4}, 0.5, 2);
    for (auto op : {omni::unary_op::log, omni::unary_op::sqrt, omni::unary_op::rsqrt}) {
        SCOPED_TRACE(omni::name_of(op));
        check([op](const In& v) { return omni::unary(op, v[0]); }, {pos});
    }
    check([](const In& v) { return omni::pow(v[0], 2.5); }, {pos});
    check([](const In& v) { return omni::exp(v[0].transpose(0, 1)); }, {x});
}

TEST(Gradcheck, BinaryOpsWithBroadcasting) {
    const V a = param({2, 3, 4}), b = param({3, 1}), c = param({4}, 0.5, 2);
    check([](const In& v) { return v[0] + v[1]; }, {a, b});
    check([](const In& v) { return v[0] - v[1]; }, {a, b});
    check([](const In& v) { return v[0] * v[1]; }, {a, b});
    check([](const In& v) { return v[0] / v[1]; }, {a, c});
    check([](const In& v) { return omni::maximum(v[0], v[1]); }, {a, b});
    check([](const In& v) { return omni::minimum(v[0], v[1]); }, {a, c});
    check([](const In& v) { return 3.0 - v[0] * 2.0 + 1.0 / (v[1] + 5.0); }, {a, b});
    check([](const In& v) { return v[0] * v[0]; }, {a});  // one input used twice
}

TEST(Gradcheck, WhereAndMaskedFill) {
    const V a = param({3, 4}), b = param({4});
    const V mask(D::from_data<bool>({true, false, false, true}, {4}));
    check([mask](const In& v) { return omni::where(mask, v[0], v[1]); }, {a, b});
    check([mask](const In& v) { return omni::masked_fill(v[0], mask, -3.0); }, {a});
}

TEST(Gradcheck, Reductions) {
    const V x = param({2, 3, 4});
    check([](const In& v) { return omni::sum(v[0]); }, {x});
    check([](const In& v) { return omni::sum(v[0], {0, 2}, true); }, {x});
    check([](const In& v) { return omni::mean(v[0], {1}); }, {x});
    check([](const In& v) { return omni::max(v[0], {2}); }, {x});
    check([](const In& v) { return omni::max(v[0]); }, {x});
    check([](const In& v) { return omni::logsumexp(v[0], {-1}); }, {x});
    check([](const In& v) { return omni::logsumexp(v[0], {0, 1}, true); }, {x});
}

TEST(Gradcheck, MatmulAllLayouts) {
    const V a = param({4, 3}), b = param({3, 5}), at = param({3, 4}), bt = param({5, 3});
    check([](const In& v) { return omni::matmul(v[0], v[1]); }, {a, b});
    check([](const In& v) { return omni::matmul(v[0], v[1], true, false); }, {at, b});
    check([](const In& v) { return omni::matmul(v[0], v[1], false, true); }, {a, bt});
    check([](const In& v) { return omni::matmul(v[0], v[1], true, true); }, {at, bt});
    const V a3 = param({2, 4, 3}), b3 = param({2, 3, 5}), b1 = param({1, 3, 5});
    check([](const In& v) { return omni::matmul(v[0], v[1]); }, {a3, b});   // shared weight, folded
    check([](const In& v) { return omni::matmul(v[0], v[1]); }, {a3, b3});  // batched
    check([](const In& v) { return omni::matmul(v[0], v[1]); }, {a3, b1});  // batch broadcast
    check([](const In& v) { return omni::matmul(v[0], v[1], true, false); }, {param({2, 3, 4}), b});
    check([](const In& v) { return omni::linear(v[0], v[1], v[2]); }, {a3, bt, param({5})});
    // addmm: the bias fused into the GEMM, every layout and a batch that does not fold.
    check([](const In& v) { return omni::linear(v[0], v[1], v[2]); }, {a, bt, param({5})});
    check([](const In& v) { return omni::addmm(v[0], v[1], v[2], true, true); }, {param({5}), at, bt});
    check([](const In& v) { return omni::addmm(v[0], v[1], v[2], true, false); }, {param({5}), param({2, 3, 4}), b3});
    // addmm_residual: a skip connection and the bias in the same GEMM, with and without the bias.
    check([](const In& v) { return omni::addmm_residual(v[0], v[1], v[2], v[3], false, true); }, {param({2, 4, 5}), param({5}), a3, bt});
    check([](const In& v) { return omni::addmm_residual(v[0], V{}, v[1], v[2], true, false); }, {param({2, 4, 5}), param({2, 3, 4}), b3});
    check([](const In& v) { return omni::linear(v[0], v[1], v[2], v[3]); }, {a, bt, param({5}), param({4, 5})});
    check([](const In& v) { return omni::linear(v[0], v[1], V{}, v[2]); }, {param({3}), bt, param({5})});
}

TEST(Gradcheck, SoftmaxFamily) {
    const V x = param({3, 4, 5});
    check([](const In& v) { return omni::softmax(v[0]); }, {x});
    check([](const In& v) { return omni::softmax(v[0], 1); }, {x});
    check([](const In& v) { return omni::log_softmax(v[0]); }, {x});
    check([](const In& v) { return omni::log_softmax(v[0], 0); }, {x});
}

TEST(Gradcheck, LayerNormAndL2Normalize) {
    const V x = param({4, 6}), w = param({6}), b = param({6});
    check([](const In& v) { return omni::layer_norm(v[0], v[1], v[2], 1e-6); }, {x, w, b});
    check([](const In& v) { return omni::layer_norm(v[0], V(), V(), 1e-5); }, {x});
    check([](const In& v) { return omni::layer_norm(v[0].transpose(0, 1), v[1].slice(0, 0, 4), V(), 1e-5); }, {x, w});
    check([](const In& v) { return omni::l2_normalize(v[0]); }, {x});
    check([](const In& v) { return omni::l2_normalize(v[0], 0); }, {x});
}

TEST(Gradcheck, IndexingAndJoins) {
    const V x = param({4, 3});
    const V idx(D::from_data<std::int64_t>({3, 0, 3, 1}, {4}));
    check([idx](const In& v) { return omni::index_select(v[0], 0, idx); }, {x});
    check([](const In& v) { return omni::index_select(v[0], 1, V(D::from_data<std::int32_t>({2, 2}, {2}))); }, {x});
    const V ids(D::from_data<std::int64_t>({1, 3, 3, 0, 2, 1}, {2, 3}));
    check([ids](const In& v) { return omni::embedding(v[0], ids); }, {x});
    const V gi(D::from_data<std::int64_t>({0, 2, 2, 1, 1, 1, 0, 0}, {4, 2}));
    check([gi](const In& v) { return omni::gather(v[0], 1, gi); }, {x});
    const V y = param({4, 2});
    check([](const In& v) { return omni::concat<omni::cpu>({v[0], v[1]}, 1); }, {x, y});
    check([](const In& v) { return omni::stack<V>({v[0], v[0] * 2.0}, 0); }, {x});
    check([](const In& v) {
        auto parts = omni::split(v[0], {1, 2}, 1);
        return parts[0] * parts[1];
    }, {x});
    check([](const In& v) { return omni::chunk(v[0], 2, 0)[1]; }, {x});
}

TEST(Gradcheck, Views) {
    const V x = param({2, 3, 4});
    check([](const In& v) { return v[0].reshape({6, 4}).transpose(0, 1); }, {x});
    check([](const In& v) { return v[0].permute({2, 0, 1}).contiguous(); }, {x});
    check([](const In& v) { return v[0].slice(2, 1, 4, 2); }, {x});
    check([](const In& v) { return v[0].select(1, -1); }, {x});
    check([](const In& v) { return v[0].unsqueeze(1).squeeze(1).view({24}); }, {x});
    check([](const In& v) { return v[0].slice(0, 0, 1).expand({3, 3, 4}); }, {x});
    check([](const In& v) { return v[0].to(omni::dtype::f64).clone().flatten(); }, {x});
}

TEST(Gradcheck, ReportsAWrongGradient) {
    // A deliberately wrong backward must be caught: gradcheck is only useful if it can fail.
    const V x = param({3});
    auto wrong = [](const In& v) {
        return omni::ad::record<omni::cpu>("wrong", omni::square(v[0].value()), {&v[0]}, [](const D& g) {
            return std::vector<D>{g};  // should be 2 x g
        });
    };
    const auto r = omni::gradcheck<omni::cpu>(wrong, {x});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.message.find("input 0 [3]"), std::string::npos) << r.message;
    EXPECT_THROW(omni::gradcheck<omni::cpu>(wrong, {V(D::ones({3}), true)}), omni::dtype_error);
}

// Every op on every device policy against the CPU (ggml's test-backend-ops): the same random
// inputs go to the policy under test and to omni::cpu, and the results must agree. On the CPU
// policy the reference takes contiguous copies of the inputs where the test passes views, so the
// run still checks the strided and broadcast paths. policy_test_cuda.cu adds omni::cuda; without
// a device its tests skip.
#include "policy_fixture.hpp"

TYPED_TEST_SUITE(PolicyTest, Policies);

TYPED_TEST(PolicyTest, RandnIsIdenticalOnEveryPolicy) {
    using T = omni::Tensor<TypeParam>;
    omni::Generator g1(7), g2(7);
    for (dtype t : {dtype::f32, dtype::f64, dtype::bf16}) {
        expect_close(T::randn({3, 50}, g1, t), Cpu::randn({3, 50}, g2, t), "randn", 0.0);
        expect_close(T::rand({7}, g1, t, -2, 3), Cpu::rand({7}, g2, t, -2, 3), "rand", 0.0);
    }
}

TYPED_TEST(PolicyTest, FillEveryDtypeDenseAndStrided) {
    using T = omni::Tensor<TypeParam>;
    for (dtype t : {dtype::f32, dtype::f64, dtype::i32, dtype::i64, dtype::b8, dtype::bf16}) {
        const std::string name = omni::name_of(t);
        expect_close(T::full({3, 4}, 2.5, t), Cpu::full({3, 4}, 2.5, t), "full " + name, 0.0);
        expect_close(T::zeros({5}, t), Cpu::zeros({5}, t), "zeros " + name, 0.0);
        T a = T::full({4, 6}, -1.0, t);
        Cpu b = Cpu::full({4, 6}, -1.0, t);
        a.slice(1, 1, 6, 2).fill_(3.0);
        b.slice(1, 1, 6, 2).fill_(3.0);
        a.slice(0, 2, 4).fill_(0.0);
        b.slice(0, 2, 4).fill_(0.0);
        expect_close(a, b, "fill_ on strided views " + name, 0.0);
    }
}

TYPED_TEST(PolicyTest, CastsBetweenEveryDtypeOnStridedViews) {
    const Cpu base = this->randn({5, 6}).transpose(0, 1).slice(1, 0, 5, 2);  // [6, 3], no unit stride
    const std::vector<dtype> all{dtype::f32, dtype::f64, dtype::i32, dtype::i64, dtype::b8, dtype::bf16};
    for (dtype from : all) {
        const Cpu src = omni::mul(base, 5.0).to(from);
        const auto src_p = this->dev(src.contiguous()).transpose(0, 1).contiguous().transpose(0, 1);  // same values, strided
        for (dtype to : all)
            expect_close(src_p.to(to), src.contiguous().to(to),
                         std::string("cast ") + omni::name_of(from) + " -> " + omni::name_of(to), 0.0);
    }
    // Round to nearest even at bf16 halfway points; NaN stays NaN; overflow rounds to inf.
    const std::vector<float> edge{1.00390625f, 1.01171875f, -2.00781250f, std::numeric_limits<float>::quiet_NaN(),
                                  std::numeric_limits<float>::infinity(), 3.4e38f, 1e-40f, -0.0f};
    const Cpu e = Cpu::from_data(edge, {8});
    expect_close(this->dev(e).to(dtype::bf16), e.to(dtype::bf16), "bf16 rounding", 0.0);
    EXPECT_EQ(e.to(dtype::bf16).to(dtype::f32).to_vector<float>()[0], 1.0f);
}

TYPED_TEST(PolicyTest, ContiguousCopyFromAndJoins) {
    const Cpu x = this->randn({2, 3, 4, 5});
    const auto xp = this->dev(x);
    expect_close(xp.permute({3, 1, 0, 2}).contiguous(), x.permute({3, 1, 0, 2}).contiguous(), "permuted contiguous", 0.0);
    expect_close(xp.slice(3, 1, 5, 3).contiguous(), x.slice(3, 1, 5, 3).contiguous(), "stepped slice", 0.0);
    expect_close(xp.select(1, 2).unsqueeze(0).expand({3, 2, 4, 5}).contiguous(),
                 x.select(1, 2).unsqueeze(0).expand({3, 2, 4, 5}).contiguous(), "expanded", 0.0);

    auto dst = omni::Tensor<TypeParam>::zeros({4, 6});
    Cpu ref = Cpu::zeros({4, 6});
    const Cpu row = this->randn({3});
    dst.slice(1, 0, 6, 2).copy_from(this->dev(row));
    ref.slice(1, 0, 6, 2).copy_from(row);
    expect_close(dst, ref, "copy_from broadcast into a strided slice", 0.0);

    const Cpu a = this->randn({2, 3}), b = this->randn({4, 2}), c = this->randn({2, 1});
    expect_close(omni::concat<TypeParam>({this->dev(a), this->dev(b).transpose(0, 1), this->dev(c)}, 1),
                 omni::concat<omni::cpu>({a, b.transpose(0, 1).contiguous(), c}, 1), "concat", 0.0);
    expect_close(omni::stack<omni::Tensor<TypeParam>>({this->dev(a), this->dev(a)}, 1), omni::stack<omni::Tensor<omni::cpu>>({a, a}, 1), "stack", 0.0);
    const auto parts = omni::split(xp, {1, 3}, 2);
    const auto ref_parts = omni::split(x, {1, 3}, 2);
    for (std::size_t i = 0; i < parts.size(); ++i)
        expect_close(parts[i].contiguous(), ref_parts[i].contiguous(), "split part " + std::to_string(i), 0.0);
}

TYPED_TEST(PolicyTest, UnaryOpsAndBackwardOnStridedInput) {
    using omni::unary_op;
    const std::vector<unary_op> ops{unary_op::neg,  unary_op::exp,      unary_op::log,       unary_op::sqrt, unary_op::rsqrt,
                                    unary_op::tanh, unary_op::sigmoid, unary_op::relu,      unary_op::gelu_erf,
                                    unary_op::gelu_tanh, unary_op::silu, unary_op::abs,     unary_op::square, unary_op::softplus};
    for (dtype t : {dtype::f32, dtype::f64})
        for (unary_op op : ops) {
            const bool positive = op == unary_op::log || op == unary_op::sqrt || op == unary_op::rsqrt;
            const Cpu x0 = positive ? this->rand({4, 5, 6}, 0.2, 3.0, t) : this->randn({4, 5, 6}, t);
            const Cpu x = x0.permute({2, 0, 1}).contiguous();
            const std::string name = std::string(omni::name_of(op)) + " " + omni::name_of(t);
            const Cpu y = omni::unary(op, x);
            expect_close(omni::unary(op, this->dev(x)), y, name);
            expect_close(omni::unary(op, this->dev(x0).permute({2, 0, 1})), y, name + " (permuted)");
            const Cpu g = this->randn(x.shape(), t);
            expect_close(omni::unary_backward(op, this->dev(x), this->dev(y), this->dev(g)), omni::unary_backward(op, x, y, g),
                         name + " backward");
        }
    EXPECT_THROW(omni::exp(this->dev(Cpu::ones({2}, dtype::i32))), omni::dtype_error);
}

TYPED_TEST(PolicyTest, BinaryOpsBroadcastAndStrided) {
    using omni::binary_op;
    for (dtype t : {dtype::f32, dtype::f64, dtype::i32, dtype::i64}) {
        const bool ints = !omni::is_floating(t);
        const Cpu a0 = ints ? this->rand({5, 1, 4}, -20, 20, t) : this->randn({5, 1, 4}, t);
        const Cpu a = a0.permute({2, 1, 0}).contiguous();  // [4, 1, 5]
        const Cpu b = ints ? this->rand({3, 1}, 1, 6, t) : this->rand({3, 1}, 0.5, 2.0, t);
        const auto ap = this->dev(a0).permute({2, 1, 0}), bp = this->dev(b);
        for (binary_op op : {binary_op::add, binary_op::sub, binary_op::mul, binary_op::div, binary_op::maximum, binary_op::minimum}) {
            const std::string name = std::string(omni::name_of(op)) + " " + omni::name_of(t);
            expect_close(omni::binary(op, ap, bp), omni::binary(op, a.expand({4, 3, 5}).contiguous(), b.expand({4, 3, 5}).contiguous()),
                         name);
            if (!(ints && op == binary_op::div))  // a holds integer zeros
                expect_close(omni::binary(op, bp, ap), omni::binary(op, b, a), name + " (swapped)");
        }
    }
    const Cpu x = this->randn({6, 7});
    expect_close(omni::add(this->dev(x).transpose(0, 1), this->dev(x.transpose(0, 1).contiguous())),
                 omni::mul(x.transpose(0, 1).contiguous(), 2.0), "transposed + dense");
}

TYPED_TEST(PolicyTest, ScalarOps) {
    for (dtype t : {dtype::f32, dtype::f64}) {
        const Cpu x0 = this->rand({3, 8}, 0.1, 4.0, t);
        const auto xp = this->dev(x0).transpose(0, 1);
        const Cpu xc = x0.transpose(0, 1).contiguous();
        expect_close(omni::add(xp, 1.5), omni::add(xc, 1.5), "add scalar");
        expect_close(omni::mul(xp, -3.0), omni::mul(xc, -3.0), "mul scalar");
        expect_close(omni::pow(xp, 1.7), omni::pow(xc, 1.7), "pow scalar");
        expect_close(omni::pow(omni::neg(xp), 2.0), omni::pow(omni::neg(xc), 2.0), "pow of negatives");
    }
}

TYPED_TEST(PolicyTest, CompareWhereMaskedFill) {
    using omni::compare_op;
    for (dtype t : {dtype::f32, dtype::f64, dtype::i32, dtype::i64}) {
        const Cpu a0 = this->rand({4, 5}, 0, 3, dtype::i32).to(t), b = this->rand({1, 4}, 0, 3, dtype::i32).to(t);
        const Cpu a = a0.transpose(0, 1).contiguous();  // values 0, 1, 2: many ties
        for (compare_op op : {compare_op::eq, compare_op::ne, compare_op::lt, compare_op::le, compare_op::gt, compare_op::ge})
            expect_close(omni::compare(op, this->dev(a0).transpose(0, 1), this->dev(b)),
                         omni::compare(op, a, b.expand({5, 4}).contiguous()), std::string("compare ") + omni::name_of(t), 0.0);
    }
    const Cpu cond = omni::gt(this->randn({4, 1}), Cpu::zeros({1}));
    const Cpu a0 = this->randn({5, 4}), b = this->randn({5});
    const Cpu a = a0.transpose(0, 1).contiguous();
    const auto ap = this->dev(a0).transpose(0, 1);
    expect_close(omni::where(this->dev(cond), ap, this->dev(b)),
                 omni::where(cond.expand({4, 5}).contiguous(), a, b.expand({4, 5}).contiguous()), "where", 0.0);
    const Cpu mask = omni::lt(this->randn({1, 5}), Cpu::zeros({1}));
    expect_close(omni::masked_fill(ap, this->dev(mask), -1e9), omni::masked_fill(a, mask, -1e9), "masked_fill", 0.0);
    const Cpu ia = this->rand({3, 4}, -9, 9, dtype::i64);
    expect_close(omni::where(this->dev(cond.view({4})), this->dev(ia), this->dev(ia).slice(1, 0, 1)),
                 omni::where(cond.view({4}), ia, ia.slice(1, 0, 1)), "where int64", 0.0);
}

TYPED_TEST(PolicyTest, ReductionsOverAxes) {
    for (dtype t : {dtype::f32, dtype::f64}) {
        const Cpu x0 = this->randn({6, 5, 4}, t);
        const Cpu xc = x0.permute({2, 0, 1}).contiguous();  // [4, 6, 5]
        const auto xp = this->dev(x0).permute({2, 0, 1});
        using Axes = std::vector<std::int64_t>;
        for (const Axes& axes : {Axes{}, Axes{0}, Axes{1, 2}, Axes{-1}, Axes{0, 2}})
            for (bool keep : {false, true}) {
                const std::string name = " over " + std::to_string(axes.size()) + " axes, keepdim " + std::to_string(keep);
                expect_close(omni::sum(xp, axes, keep), omni::sum(xc, axes, keep), "sum" + name);
                expect_close(omni::mean(xp, axes, keep), omni::mean(xc, axes, keep), "mean" + name);
                expect_close(omni::max(xp, axes, keep), omni::max(xc, axes, keep), "max" + name);
                expect_close(omni::logsumexp(xp, axes, keep), omni::logsumexp(xc, axes, keep), "logsumexp" + name);
            }
        // Rows longer than a thread block, and many short rows.
        const Cpu longer = this->randn({3, 5000}, t), many = this->randn({3000, 7}, t);
        expect_close(omni::sum(this->dev(longer), {1}), omni::sum(longer, {1}), "long sum", 1e-5);
        expect_close(omni::max(this->dev(longer), {1}), omni::max(longer, {1}), "long max");
        expect_close(omni::logsumexp(this->dev(longer), {1}), omni::logsumexp(longer, {1}), "long logsumexp");
        expect_close(omni::sum(this->dev(many), {0}), omni::sum(many, {0}), "sum over 3000 rows", 1e-5);
        expect_close(omni::logsumexp(this->dev(many), {1}), omni::logsumexp(many, {1}), "many logsumexp");
    }
    const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
    const Cpu special = Cpu::from_data<double>({-inf, -inf, -inf, 1, -inf, 2, nan, 5, 1, 7, nan, 3}, {4, 3});
    expect_close(omni::logsumexp(this->dev(special), {1}), omni::logsumexp(special, {1}), "logsumexp with -inf and NaN");
    expect_close(omni::max(this->dev(special), {1}), omni::max(special, {1}), "max with NaN first and later");
    const Cpu g = this->randn({4, 3, 5});
    expect_close(omni::sum_to(this->dev(g), {3, 1}), omni::sum_to(g, {3, 1}), "sum_to");
    expect_close(omni::sum(this->dev(Cpu::zeros({2, 0})), {1}), omni::sum(Cpu::zeros({2, 0}), {1}), "empty sum", 0.0);
}

TYPED_TEST(PolicyTest, MatmulLayoutsTransposesAndBatches) {
    struct Case {
        const char* name;
        Shape a, b;
        bool ta, tb;
    };
    const std::vector<Case> cases{
        {"plain", {5, 7}, {7, 3}, false, false},           {"trans_a", {7, 5}, {7, 3}, true, false},
        {"trans_b", {5, 7}, {3, 7}, false, true},          {"both", {7, 5}, {3, 7}, true, true},
        {"batch broadcast", {2, 1, 5, 7}, {3, 7, 4}, false, false}, {"folded batch", {2, 3, 5, 7}, {7, 4}, false, false},
        {"batched trans_b", {4, 5, 7}, {4, 6, 7}, false, true}, {"vector rows", {1, 7}, {7, 1}, false, false},
        {"outer product", {5, 1}, {1, 3}, false, false},     {"empty K", {3, 0}, {0, 2}, false, false}};
    for (dtype t : {dtype::f32, dtype::f64})
        for (const Case& c : cases) {
            const Cpu a = this->randn(c.a, t), b = this->randn(c.b, t);
            expect_close(omni::matmul(this->dev(a), this->dev(b), c.ta, c.tb), omni::matmul(a, b, c.ta, c.tb),
                         std::string("matmul ") + c.name + " " + omni::name_of(t), 1e-5);
        }
    // Views the GEMM reads in place, or packs: a sliced row stride, a column-major batch, a
    // broadcast row (zero stride) and a view with no unit stride at all.
    const Cpu big = this->randn({6, 10}), b = this->randn({7, 4}), bt = this->randn({2, 4, 7});
    const Cpu sliced = big.slice(1, 1, 8);
    expect_close(omni::matmul(this->dev(big).slice(1, 1, 8), this->dev(b)), omni::matmul(sliced.contiguous(), b), "sliced a", 1e-5);
    expect_close(omni::matmul(this->dev(bt).transpose(-1, -2), this->dev(b).transpose(0, 1)),
                 omni::matmul(bt.transpose(-1, -2).contiguous(), b.transpose(0, 1).contiguous()), "column-major operands", 1e-5);
    const Cpu row = this->randn({1, 7});
    expect_close(omni::matmul(this->dev(row).expand({5, 7}), this->dev(b)), omni::matmul(row.expand({5, 7}).contiguous(), b),
                 "broadcast rows", 1e-5);
    const Cpu wide = this->randn({5, 14});
    expect_close(omni::matmul(this->dev(wide).slice(1, 0, 14, 2), this->dev(b)),
                 omni::matmul(wide.slice(1, 0, 14, 2).contiguous(), b), "no unit stride", 1e-5);
}

TYPED_TEST(PolicyTest, SoftmaxOnAnyAxisAndBackward) {
    for (dtype t : {dtype::f32, dtype::f64}) {
        const Cpu x0 = this->randn({5, 3, 4}, t);
        const Cpu x = x0.permute({1, 2, 0}).contiguous();  // [3, 4, 5]
        const auto xp = this->dev(x0).permute({1, 2, 0});
        for (std::int64_t axis : {0, 1, -1}) {
            const std::string name = " axis " + std::to_string(axis) + " " + omni::name_of(t);
            const Cpu y = omni::softmax(x, axis), ly = omni::log_softmax(x, axis);
            expect_close(omni::softmax(xp, axis), y, "softmax" + name);
            expect_close(omni::log_softmax(xp, axis), ly, "log_softmax" + name);
            const Cpu g = this->randn(x.shape(), t);
            expect_close(omni::softmax_backward(this->dev(y), this->dev(g), axis, false), omni::softmax_backward(y, g, axis, false),
                         "softmax_backward" + name);
            expect_close(omni::softmax_backward(this->dev(ly), this->dev(g), axis, true), omni::softmax_backward(ly, g, axis, true),
                         "log_softmax_backward" + name);
        }
        const Cpu longer = this->randn({2, 3000}, t);
        expect_close(omni::softmax(this->dev(longer)), omni::softmax(longer), "softmax long rows");
    }
    const double inf = std::numeric_limits<double>::infinity();
    const Cpu masked = Cpu::from_data<double>({-inf, -inf, -inf, 0.5, -inf, 2}, {2, 3}).to(dtype::f32);
    expect_close(omni::softmax(this->dev(masked)), omni::softmax(masked), "fully and partly masked rows");
    expect_close(omni::log_softmax(this->dev(masked)), omni::log_softmax(masked), "log_softmax masked rows");
}

TYPED_TEST(PolicyTest, LayerNormForwardAndBackward) {
    for (dtype t : {dtype::f32, dtype::f64})
        for (const Shape& s : {Shape{6, 32}, Shape{2, 3, 700}, Shape{600, 16}}) {
            const std::int64_t D = s[s.size() - 1];
            const Cpu x = this->randn(s, t), w = this->randn({D}, t), b = this->randn({D}, t), gy = this->randn(s, t);
            for (int affine = 0; affine < 3; ++affine) {  // weight and bias, weight only, neither
                const Cpu wc = affine < 2 ? w : Cpu(), bc = affine < 1 ? b : Cpu();
                const auto wp = wc.defined() ? this->dev(wc) : omni::Tensor<TypeParam>();
                const auto bp = bc.defined() ? this->dev(bc) : omni::Tensor<TypeParam>();
                const std::string name = s.str() + " affine " + std::to_string(affine) + " " + omni::name_of(t);
                const auto rp = omni::layer_norm_forward(this->dev(x), wp, bp, 1e-5);
                const auto rc = omni::layer_norm_forward(x, wc, bc, 1e-5);
                expect_close(rp.y, rc.y, "layer_norm y " + name);
                expect_close(rp.mean, rc.mean, "layer_norm mean " + name);
                expect_close(rp.rstd, rc.rstd, "layer_norm rstd " + name);
                const auto [gx, gw, gb] = omni::layer_norm_backward(this->dev(x), wp, bp.defined(), this->dev(rc.mean),
                                                                    this->dev(rc.rstd), this->dev(gy));
                const auto [gx_c, gw_c, gb_c] = omni::layer_norm_backward(x, wc, bc.defined(), rc.mean, rc.rstd, gy);
                expect_close(gx, gx_c, "layer_norm dx " + name, 1e-4);
                ASSERT_EQ(gw.defined(), gw_c.defined());
                ASSERT_EQ(gb.defined(), gb_c.defined());
                if (gw.defined()) expect_close(gw, gw_c, "layer_norm dweight " + name, 1e-5);
                if (gb.defined()) expect_close(gb, gb_c, "layer_norm dbias " + name, 1e-5);
            }
        }
}

TYPED_TEST(PolicyTest, L2NormalizeForwardAndBackward) {
    for (dtype t : {dtype::f32, dtype::f64}) {
        Cpu x = this->randn({5, 6}, t);
        x.select(0, 2).fill_(0.0);  // a zero row takes the norm < eps branch
        for (std::int64_t axis : {-1, 0}) {
            const std::string name = " axis " + std::to_string(axis) + " " + omni::name_of(t);
            const auto [yp, np] = omni::l2_normalize_forward(this->dev(x), axis, 1e-12);
            const auto [yc, nc] = omni::l2_normalize_forward(x, axis, 1e-12);
            expect_close(yp, yc, "l2_normalize y" + name);
            expect_close(np, nc, "l2_normalize norm" + name);
            const Cpu g = this->randn(x.shape(), t);
            expect_close(omni::l2_normalize_backward(this->dev(yc), this->dev(nc), this->dev(g), axis, 1e-12),
                         omni::l2_normalize_backward(yc, nc, g, axis, 1e-12), "l2_normalize backward" + name, 1e-4);
        }
    }
}

TYPED_TEST(PolicyTest, IndexSelectAddEmbeddingGatherScatter) {
    for (dtype it : {dtype::i32, dtype::i64}) {
        const std::string in = omni::name_of(it);
        const Cpu idx = Cpu::from_data<std::int64_t>({4, 0, 0, 2}, {4}).to(it);
        for (dtype t : {dtype::f32, dtype::f64, dtype::i64, dtype::b8, dtype::bf16}) {
            const Cpu x = omni::mul(this->randn({3, 5, 4}), 3.0).to(t);
            expect_close(omni::index_select(this->dev(x), 1, this->dev(idx)), omni::index_select(x, 1, idx),
                         "index_select " + in + " " + omni::name_of(t), 0.0);
        }
        const Cpu src = this->randn({3, 3, 4});
        const Cpu dup = Cpu::from_data<std::int64_t>({1, 1, 3}, {3}).to(it);
        expect_close(omni::index_add(Shape{3, 5, 4}, 1, this->dev(dup), this->dev(src)), omni::index_add(Shape{3, 5, 4}, 1, dup, src),
                     "index_add with repeated indices " + in);
        const Cpu table = this->randn({10, 4}), ids = Cpu::from_data<std::int64_t>({9, 0, 3, 3, 7, 1}, {2, 3}).to(it);
        expect_close(omni::embedding(this->dev(table), this->dev(ids)), omni::embedding(table, ids), "embedding " + in, 0.0);

        const Cpu x = this->randn({3, 5}), gi = this->rand({3, 4}, 0, 5, it);
        expect_close(omni::gather(this->dev(x), 1, this->dev(gi)), omni::gather(x, 1, gi), "gather " + in, 0.0);
        const Cpu x0 = this->randn({5, 3, 2}), gi0 = this->rand({4, 3, 2}, 0, 5, it);
        expect_close(omni::gather(this->dev(x0), 0, this->dev(gi0)), omni::gather(x0, 0, gi0), "gather axis 0 " + in, 0.0);
        const Cpu s = this->randn({3, 4});
        expect_close(omni::scatter_add(Shape{3, 5}, 1, this->dev(gi), this->dev(s)), omni::scatter_add(Shape{3, 5}, 1, gi, s),
                     "scatter_add " + in);

        // Out of range: the same index_error, naming the first bad index in index order.
        const Cpu bad = Cpu::from_data<std::int64_t>({1, 7, -1, 9}, {4}).to(it);
        const Cpu x3 = this->randn({3, 5, 4});
        const std::string want = error_of([&] { omni::index_select(x3, 1, bad); });
        EXPECT_NE(want.find("got 7"), std::string::npos) << want;
        EXPECT_EQ(error_of([&] { omni::index_select(this->dev(x3), 1, this->dev(bad)); }), want);
        EXPECT_THROW(omni::embedding(this->dev(table), this->dev(bad)), omni::index_error);
        const Cpu gbad = Cpu::from_data<std::int64_t>({0, 1, 2, 3, 4, 0, -2, 5, 1, 1, 1, 1}, {3, 4}).to(it);
        const std::string gwant = error_of([&] { omni::gather(x, 1, gbad); });
        EXPECT_NE(gwant.find("got -2"), std::string::npos) << gwant;
        EXPECT_EQ(error_of([&] { omni::gather(this->dev(x), 1, this->dev(gbad)); }), gwant);
    }
}

TYPED_TEST(PolicyTest, OptimiserStepsAndGradientNorms) {
    for (dtype t : {dtype::f32, dtype::f64}) {
        const std::string tn = omni::name_of(t);
        const Cpu p = this->randn({7, 9}, t), g = this->randn({7, 9}, t), m = this->randn({7, 9}, t), v = this->rand({7, 9}, 0, 1, t);
        auto pp = this->dev(p), mp = this->dev(m), vp = this->dev(v);
        const Cpu pc = p.clone(), mc = m.clone(), vc = v.clone();
        for (std::int64_t step = 1; step <= 3; ++step) {
            const omni::AdamWStep s{.lr = 1e-2, .weight_decay = 0.1, .step = step};
            omni::adamw_step(pp, this->dev(g), mp, vp, s);
            omni::adamw_step(pc, g, mc, vc, s);
        }
        expect_close(pp, pc, "adamw param " + tn);
        expect_close(mp, mc, "adamw exp_avg " + tn);
        expect_close(vp, vc, "adamw exp_avg_sq " + tn);
        for (double momentum : {0.0, 0.9})
            for (bool nesterov : {false, true}) {
                auto sp = this->dev(p), bp = this->dev(m);
                const Cpu sc = p.clone(), bc = m.clone();
                for (int k = 0; k < 3; ++k) {
                    const omni::SgdStep s{.lr = 0.1, .momentum = momentum, .dampening = 0.1, .weight_decay = 0.01,
                                          .nesterov = nesterov, .first_step = k == 0};
                    omni::sgd_step(sp, this->dev(g), bp, s);
                    omni::sgd_step(sc, g, bc, s);
                }
                const std::string name = " momentum " + std::to_string(momentum) + " nesterov " + std::to_string(nesterov) + " " + tn;
                expect_close(sp, sc, "sgd param" + name);
                expect_close(bp, bc, "sgd buffer" + name);
            }
        // More elements than the device reduction has blocks, so blocks loop.
        const Cpu big = this->randn({300001}, t);
        const double want = omni::sum_of_squares(big);
        EXPECT_NEAR(omni::sum_of_squares(this->dev(big)), want, 1e-12 * want) << "sum_of_squares " << tn;
        const auto sp = this->dev(g);
        const Cpu sc = g.clone();
        omni::scale_(sp, 0.25);
        omni::scale_(sc, 0.25);
        expect_close(sp, sc, "scale_ " + tn, 0.0);
    }
}

TYPED_TEST(PolicyTest, AttentionForwardAndBackward) {
    using T = omni::Tensor<TypeParam>;
    struct Case {
        std::int64_t B, H, Nq, Nk, d, dv;
        bool mask, causal;
    };
    // Rows longer than a warp and than a CPU tile, cross-attention shapes, a batch whose keys
    // are all padding (zeros out, no gradient), and causal with and without a mask.
    const std::vector<Case> cases{{2, 3, 5, 7, 8, 8, false, false}, {2, 2, 70, 70, 16, 16, true, true},
                                  {2, 2, 9, 40, 4, 6, true, false},  {1, 1, 33, 33, 40, 8, false, true}};
    for (dtype t : {dtype::f32, dtype::f64})
        for (const Case& c : cases) {
            const double tol = t == dtype::f64 ? 1e-9 : 1e-4;
            const std::string name = "attention [" + std::to_string(c.Nq) + " x " + std::to_string(c.Nk) + "] mask " +
                                     std::to_string(c.mask) + " causal " + std::to_string(c.causal) + " " + omni::name_of(t);
            const Cpu q = this->randn({c.B, c.H, c.Nq, c.d}, t), k = this->randn({c.B, c.H, c.Nk, c.d}, t);
            const Cpu v = this->randn({c.B, c.H, c.Nk, c.dv}, t), g = this->randn({c.B, c.H, c.Nq, c.dv}, t);
            Cpu mask;
            if (c.mask) {
                mask = omni::lt(this->rand({c.B, c.Nk}, 0, 1), Cpu::full({1}, 0.3));
                mask.select(0, c.B - 1).fill_(1.0);
            }
            const T mask_p = c.mask ? this->dev(mask) : T();
            const auto fp = omni::attention_forward(this->dev(q), this->dev(k), this->dev(v), mask_p, c.causal, 0.0);
            const auto fc = omni::attention_forward(q, k, v, mask, c.causal, 0.0);
            expect_close(fp.out, fc.out.contiguous(), name + " out", tol);
            expect_close(fp.lse, fc.lse, name + " lse", tol);
            const auto [dq, dk, dv] = omni::attention_backward(this->dev(q), this->dev(k), this->dev(v), mask_p, c.causal, 0.0,
                                                               this->dev(fc.out.contiguous()), this->dev(fc.lse), this->dev(g));
            const auto [dq_c, dk_c, dv_c] = omni::attention_backward(q, k, v, mask, c.causal, 0.0, fc.out, fc.lse, g);
            expect_close(dq, dq_c.contiguous(), name + " dq", tol);
            expect_close(dk, dk_c.contiguous(), name + " dk", tol);
            expect_close(dv, dv_c.contiguous(), name + " dv", tol);
        }
    // Heads as strided views of one fused projection, written back without a copy.
    const Cpu qkv = this->randn({2, 6, 3 * 2 * 4});
    expect_close(omni::qkv_attention(this->dev(qkv), 2), omni::qkv_attention(qkv, 2), "qkv_attention", 1e-4);
}

// Tensor::to<Q>: host -> policy -> host keeps shape, dtype and every bit, from strided and
// broadcast sources; across policies the copies are contiguous; the same policy is the same storage.
TYPED_TEST(PolicyTest, ToPolicyRoundTripsEveryDtype) {
    using T = omni::Tensor<TypeParam>;
    for (dtype t : {dtype::f32, dtype::f64, dtype::i32, dtype::i64, dtype::b8, dtype::bf16}) {
        const std::string name = std::string("to<") + TypeParam::name + "> " + omni::name_of(t);
        const Cpu src = omni::mul(this->randn({4, 6}), 5.0).to(t);
        const Cpu strided = src.transpose(0, 1).slice(0, 1, 6, 2);  // [3, 4], no unit stride
        const T dev = strided.to<TypeParam>();
        const Cpu back = dev.permute({1, 0}).template to<omni::cpu>();
        EXPECT_EQ(dev.type(), t) << name;
        if constexpr (std::is_same_v<TypeParam, omni::cpu>) {  // no move: the view itself
            EXPECT_EQ(dev.storage(), src.storage()) << name;
        } else {
            EXPECT_TRUE(dev.is_contiguous()) << name;
            EXPECT_TRUE(back.is_contiguous()) << name;
        }
        expect_close(dev, strided.contiguous(), name + " from a strided view", 0.0);
        expect_close(back, strided.permute({1, 0}).contiguous(), name + " back from a permuted view", 0.0);
        expect_close(src.select(0, 1).unsqueeze(0).expand({3, 6}).to<TypeParam>(), src.select(0, 1).unsqueeze(0).expand({3, 6}).contiguous(),
                     name + " from a broadcast view", 0.0);
        EXPECT_EQ(dev.template to<TypeParam>().storage(), dev.storage()) << name;
    }
}

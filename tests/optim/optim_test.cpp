// Optimisers, schedule, clipping and accumulation: single steps checked against hand-derived
// values in float64, timm's weight-decay grouping on a real ViT block, a short training run,
// and the errors. The multi-step comparison with torch.optim is tests/parity/optim_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/nn/transformer.hpp"
#include "omni/optim/adamw.hpp"
#include "omni/optim/clip.hpp"
#include "omni/optim/grad_accumulation.hpp"
#include "omni/optim/schedule.hpp"
#include "omni/optim/sgd.hpp"

using omni::cpu;
using D = omni::Tensor<cpu>;
using A = omni::autodiff<cpu>;
using V = omni::Var<cpu>;
using Group = omni::optim::ParamGroup<cpu>;
namespace nn = omni::nn;
namespace optim = omni::optim;

namespace {
V param(const std::vector<double>& v) { return V(D::from_data(v, {static_cast<std::int64_t>(v.size())}), true); }
// A leaf's gradient through the public path: backward() from the leaf itself with a seed.
void set_grad(const V& p, const std::vector<double>& g) {
    p.zero_grad();
    p.backward(D::from_data(g, p.shape()));
}
std::vector<double> values(const V& p) { return p.value().to_vector<double>(); }
std::vector<std::string> names_of(const Group& g) { return g.names; }
}  // namespace

// ---- AdamW -------------------------------------------------------------------------------

TEST(AdamW, TwoStepsMatchHandDerivation) {
    V p = param({1.0, -2.0});
    optim::AdamW<cpu> opt({Group{.params = {p}}}, {.lr = 0.1, .weight_decay = 0.01});
    set_grad(p, {0.5, 0.25});
    opt.step();
    // Step 1: m = 0.1 g, v = 0.001 g^2; both bias corrections undo the betas exactly, so
    // p = p (1 - lr wd) - lr g / (|g| + eps).
    const double a1 = 1.0 * 0.999 - 0.1 * 0.5 / (0.5 + 1e-8), b1 = -2.0 * 0.999 - 0.1 * 0.25 / (0.25 + 1e-8);
    EXPECT_NEAR(values(p)[0], a1, 1e-15);
    EXPECT_NEAR(values(p)[1], b1, 1e-15);
    set_grad(p, {-0.5, 0.0});
    opt.step();
    // Step 2, element 0: m = 0.9*0.05 - 0.05 = -0.005, v = 0.999*0.00025 + 0.001*0.25 = 0.00049975,
    // bc1 = 0.19, bc2 = 0.001999, sqrt(v / bc2) = 0.5. Element 1 (g = 0): m = 0.0225,
    // v = 0.999 * 0.0000625 = 0.0000624375.
    const double a2 = a1 * 0.999 + 0.1 / 0.19 * 0.005 / (0.5 + 1e-8);
    const double b2 = b1 * 0.999 - 0.1 / 0.19 * 0.0225 / (std::sqrt(0.0000624375) / std::sqrt(0.001999) + 1e-8);
    EXPECT_NEAR(values(p)[0], a2, 1e-14);
    EXPECT_NEAR(values(p)[1], b2, 1e-14);
    EXPECT_EQ(opt.state[0][0].step, 2);
    EXPECT_NEAR(opt.state[0][0].exp_avg.to_vector<double>()[0], -0.005, 1e-17);
    EXPECT_NEAR(opt.state[0][0].exp_avg_sq.to_vector<double>()[1], 0.0000624375, 1e-18);
}

TEST(AdamW, GroupsScaleLrAndOverrideDecay) {
    V a = param({1.0}), b = param({1.0});
    optim::AdamW<cpu> opt({Group{.params = {a}}, Group{.params = {b}, .lr_scale = 0.5, .weight_decay = 0.0}}, {.lr = 0.1, .weight_decay = 0.5});
    set_grad(a, {2.0});
    set_grad(b, {2.0});
    opt.step(0.2);  // the argument replaces options.lr
    EXPECT_NEAR(values(a)[0], 1.0 * (1 - 0.2 * 0.5) - 0.2 * 2.0 / (2.0 + 1e-8), 1e-15);
    EXPECT_NEAR(values(b)[0], 1.0 - 0.1 * 2.0 / (2.0 + 1e-8), 1e-15);
}

TEST(AdamW, SkipsParametersWithoutGradientAndCountsStepsPerParameter) {
    V a = param({1.0}), b = param({3.0});
    optim::AdamW<cpu> opt({Group{.params = {a, b}}}, {.lr = 0.1, .weight_decay = 0});
    set_grad(a, {1.0});
    opt.step();
    EXPECT_EQ(values(b)[0], 3.0);
    EXPECT_FALSE(opt.state[0][1].exp_avg.defined());  // lazily created
    EXPECT_EQ(opt.state[0][1].step, 0);
    opt.zero_grad();
    EXPECT_FALSE(a.grad().defined());
    set_grad(b, {-1.0});
    opt.step();
    EXPECT_EQ(opt.state[0][0].step, 1);  // a had no gradient this time
    EXPECT_EQ(opt.state[0][1].step, 1);
    EXPECT_NEAR(values(b)[0], 3.0 + 0.1 / (1.0 + 1e-8), 1e-15);  // b's own first step: full bias correction
}

TEST(AdamW, UpdatesFloat32InPlace) {
    V p(D::from_data<float>({1.f, 2.f, 3.f}, {3}), true);
    const void* storage = p.value().raw_data();
    optim::AdamW<cpu> opt({Group{.params = {p}}}, {.lr = 0.01, .weight_decay = 0});
    p.backward(D::ones({3}));
    opt.step();
    EXPECT_EQ(p.value().raw_data(), storage);
    for (float v : p.to_vector<float>()) EXPECT_NE(v, std::round(v));
    EXPECT_NEAR(p.to_vector<float>()[2], 3.f - 0.01f, 1e-6);
}

// Large tensors take the threaded path; the result must not depend on the thread count.
TEST(OptimKernels, ThreadCountDoesNotChangeResults) {
    omni::Generator g(5);
    const D p0 = D::randn({300001}, g), grad = D::randn({300001}, g);
    auto run = [&](int threads) {
        omni::set_num_threads(threads);
        const D p = p0.clone(), m = D::zeros(p.shape()), v = D::zeros(p.shape());
        omni::adamw_step(p, grad, m, v, {.lr = 0.1, .weight_decay = 0.1});
        return std::pair{p.to_vector<float>(), omni::sum_of_squares(grad)};
    };
    const int before = omni::num_threads();
    const auto one = run(1), many = run(4);
    omni::set_num_threads(before);
    EXPECT_EQ(one.first, many.first);
    EXPECT_EQ(one.second, many.second);  // fixed blocks: bitwise equal, not just close
    EXPECT_NEAR(one.second, 300001.0, 3 * std::sqrt(2.0 * 300001));
}

// ---- SGD ---------------------------------------------------------------------------------

TEST(SGD, PlainStepWithCoupledDecay) {
    V p = param({1.0});
    optim::SGD<cpu> opt({Group{.params = {p}}}, {.lr = 0.1, .weight_decay = 0.1});
    set_grad(p, {0.5});
    opt.step();
    EXPECT_NEAR(values(p)[0], 1.0 - 0.1 * (0.5 + 0.1), 1e-15);  // 0.94
    EXPECT_FALSE(opt.state[0][0].momentum_buffer.defined());    // no momentum, no buffer
}

TEST(SGD, MomentumWithDampening) {
    V p = param({1.0});
    optim::SGD<cpu> opt({Group{.params = {p}}}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.5, .weight_decay = 0.1});
    set_grad(p, {0.5});
    opt.step();  // d = 0.6; the first buffer is d undamped; p = 1 - 0.06
    EXPECT_NEAR(values(p)[0], 0.94, 1e-15);
    set_grad(p, {0.5});
    opt.step();  // d = 0.5 + 0.094 = 0.594; buf = 0.54 + 0.5 * 0.594 = 0.837; p = 0.94 - 0.0837
    EXPECT_NEAR(values(p)[0], 0.8563, 1e-15);
    EXPECT_NEAR(opt.state[0][0].momentum_buffer.item<double>(), 0.837, 1e-15);
}

TEST(SGD, Nesterov) {
    V p = param({1.0});
    optim::SGD<cpu> opt({Group{.params = {p}}}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1, .nesterov = true});
    set_grad(p, {0.5});
    opt.step();  // d = 0.6, buf = 0.6, step 0.6 + 0.54 = 1.14; p = 0.886
    EXPECT_NEAR(values(p)[0], 0.886, 1e-15);
    set_grad(p, {0.5});
    opt.step();  // d = 0.5886, buf = 0.54 + 0.5886 = 1.1286, step 0.5886 + 1.01574 = 1.60434
    EXPECT_NEAR(values(p)[0], 0.886 - 0.160434, 1e-15);
}

// ---- parameter groups --------------------------------------------------------------------

TEST(ParamGroups, TimmRuleOnTransformerBlock) {
    omni::Generator g(3);
    nn::TransformerBlock<A> block({.dim = 16, .heads = 2}, g);
    block.norm1.weight.set_requires_grad(false);  // frozen: left out of both groups
    auto groups = optim::nn_param_groups(block, 0.05);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(names_of(groups[0]), (std::vector<std::string>{"attn.qkv.weight", "attn.proj.weight", "mlp.fc1.weight", "mlp.fc2.weight"}));
    EXPECT_EQ(names_of(groups[1]), (std::vector<std::string>{"norm1.bias", "attn.qkv.bias", "attn.proj.bias", "norm2.weight", "norm2.bias",
                                                             "mlp.fc1.bias", "mlp.fc2.bias"}));
    EXPECT_EQ(*groups[0].weight_decay, 0.05);
    EXPECT_EQ(*groups[1].weight_decay, 0.0);

    // The handles reach the module's storage: a step moves the block's own weights.
    const D before = block.mlp.fc1.weight.value().clone();
    optim::AdamW<cpu> opt(groups, {.lr = 1e-2});
    const V x(D::randn({2, 5, 16}, g));
    omni::sum(block(x)).backward();
    EXPECT_EQ(groups[0].params[2].grad().raw_data(), block.mlp.fc1.weight.grad().raw_data());
    opt.step();
    EXPECT_GT(omni::max(omni::abs(omni::sub(block.mlp.fc1.weight.value(), before))).item<float>(), 1e-3f);
    EXPECT_FALSE(block.norm1.weight.grad().defined());
}

template <class P> struct Tokens : nn::Module {  // a CLS token, an embedding table, a 2-D ".bias"
    omni::Tensor<P> cls, table;
    nn::Linear<P> head;
    struct Rel : nn::Module {
        omni::Tensor<P> bias;
        template <class Vis> void visit(Vis& v) { v.param("bias", bias); }
    } rel;
    template <class Vis> void visit(Vis& v) {
        v.param("cls", cls);
        v.param("table", table);
        v.module("head", head);
        v.module("rel", rel);
    }
};

TEST(ParamGroups, TokensAndTablesDecayNamedBiasesDoNot) {
    omni::Generator g(1);
    Tokens<A> m;
    m.cls = nn::make_param<A>(D::zeros({1, 1, 4}));
    m.table = nn::make_param<A>(D::zeros({10, 4}));
    m.head = nn::Linear<A>({.in = 4, .out = 2}, g);
    m.rel.bias = nn::make_param<A>(D::zeros({3, 4}));
    const auto groups = optim::nn_param_groups<cpu>(m, 0.1);
    EXPECT_EQ(names_of(groups[0]), (std::vector<std::string>{"cls", "table", "head.weight"}));
    EXPECT_EQ(names_of(groups[1]), (std::vector<std::string>{"head.bias", "rel.bias"}));
    // timm's skip_list: exact names join the undecayed group; a name that is no parameter throws.
    const auto spared = optim::nn_param_groups<cpu>(m, 0.1, {"table"});
    EXPECT_EQ(names_of(spared[0]), (std::vector<std::string>{"cls", "head.weight"}));
    EXPECT_EQ(names_of(spared[1]), (std::vector<std::string>{"table", "head.bias", "rel.bias"}));
    EXPECT_EQ(spared[1].weight_decay, 0.0);
    try {
        optim::nn_param_groups<cpu>(m, 0.1, {"tabel"});
        ADD_FAILURE() << "expected a value_error";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("'tabel'"), std::string::npos) << e.what();
    }
    // scale_lr: a named parameter leaves its group for one of its own with a scaled lr and the
    // decay it had; the others stay put, and an unknown name or a bad factor throws.
    const auto scaled = optim::scale_lr(optim::nn_param_groups<cpu>(m, 0.1, {"rel.bias"}), {{"table", 3.0}, {"head.bias", 0.5}});
    ASSERT_EQ(scaled.size(), 4u);
    EXPECT_EQ(names_of(scaled[0]), (std::vector<std::string>{"cls", "head.weight"}));
    EXPECT_EQ(names_of(scaled[1]), (std::vector<std::string>{"rel.bias"}));
    EXPECT_EQ(names_of(scaled[2]), (std::vector<std::string>{"head.bias"}));  // the map's order
    EXPECT_EQ(scaled[2].lr_scale, 0.5);
    EXPECT_EQ(scaled[2].weight_decay, 0.0);
    EXPECT_EQ(names_of(scaled[3]), (std::vector<std::string>{"table"}));
    EXPECT_EQ(scaled[3].lr_scale, 3.0);
    EXPECT_EQ(scaled[3].weight_decay, 0.1);
    EXPECT_EQ(scaled[3].params[0].node(), m.table.node());  // the module's own handle, so steps reach it
    try {
        optim::scale_lr(optim::nn_param_groups<cpu>(m, 0.1), {{"tabel", 3.0}});
        ADD_FAILURE() << "expected a value_error";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("'tabel'"), std::string::npos) << e.what();
    }
    EXPECT_THROW(optim::scale_lr(optim::nn_param_groups<cpu>(m, 0.1), {{"table", -1.0}}), omni::value_error);
    EXPECT_THROW(optim::scale_lr(optim::nn_param_groups<cpu>(m, 0.1), {{"table", std::nan("")}}), omni::value_error);
    const auto one = optim::nn_param_group(m.head);  // a linear probe: one group, the optimiser's decay
    EXPECT_EQ(one.names, (std::vector<std::string>{"weight", "bias"}));
    EXPECT_FALSE(one.weight_decay.has_value());
}

// ---- schedule ----------------------------------------------------------------------------

TEST(CosineSchedule, WarmupCosineAndFloor) {
    const optim::CosineSchedule s{.base_lr = 1.0, .warmup_steps = 5, .total_steps = 105, .min_lr = 0.01};
    EXPECT_EQ(s.lr(0), 0.0);  // exactly zero at the start, as Omni-C
    EXPECT_DOUBLE_EQ(s.lr(2.5), 0.5);
    EXPECT_NEAR(s.lr(4.999), 0.9998, 1e-12);
    EXPECT_DOUBLE_EQ(s.lr(5), 1.0);  // the cosine starts at its top: continuous at the end of warmup
    EXPECT_DOUBLE_EQ(s.lr(55), 0.01 + 0.99 * 0.5);
    EXPECT_NEAR(s.lr(5 + 100.0 / 3), 0.01 + 0.99 * 0.75, 1e-15);  // fractional epoch: cos(pi / 3) = 0.5
    EXPECT_NEAR(s.lr(104.999999), 0.01, 1e-12);
    EXPECT_EQ(s.lr(105), 0.01);
    EXPECT_EQ(s.lr(1e6), 0.01);
    double last = s.lr(5);
    for (double e = 5.25; e <= 105; e += 0.25) {
        EXPECT_LE(s.lr(e), last);
        last = s.lr(e);
    }
    const optim::CosineSchedule no_warmup{.base_lr = 2.0, .total_steps = 10};
    EXPECT_EQ(no_warmup.lr(0), 2.0);
    EXPECT_NEAR(no_warmup(5), 1.0, 1e-15);
}

// ---- clipping ----------------------------------------------------------------------------

TEST(ClipGradNorm, ScalesEveryGradientByTheGlobalNorm) {
    V a = param({3.0, 4.0}), b = param({12.0}), c = param({1.0});  // c has no gradient
    set_grad(a, {3.0, 4.0});
    set_grad(b, {12.0});
    const double total = optim::clip_grad_norm(std::vector<V>{a, b, c}, 6.5);
    EXPECT_DOUBLE_EQ(total, 13.0);
    const double scale = 6.5 / (13.0 + 1e-6);
    EXPECT_NEAR(a.grad().to_vector<double>()[1], 4.0 * scale, 1e-15);
    EXPECT_NEAR(b.grad().item<double>(), 12.0 * scale, 1e-15);
    EXPECT_NEAR(optim::clip_grad_norm(std::vector<V>{a, b}, 100.0), 6.5, 1e-6);  // under the limit: untouched
    EXPECT_NEAR(b.grad().item<double>(), 12.0 * scale, 1e-15);
    const std::vector<Group> groups{Group{.params = {a}}, Group{.params = {b}}};
    EXPECT_NEAR(optim::clip_grad_norm(groups, 1.0), 6.5, 1e-6);  // global across groups
    EXPECT_NEAR(std::hypot(a.grad().to_vector<double>()[0], a.grad().to_vector<double>()[1], b.grad().item<double>()), 1.0, 1e-6);
    EXPECT_EQ(optim::clip_grad_norm(std::vector<V>{c}, 1.0), 0.0);
}

// ---- accumulation ------------------------------------------------------------------------

// k micro-batches of b rows with loss / k step exactly like one batch of k b rows.
TEST(GradAccumulation, MicroBatchesMatchOneLargeBatch) {
    omni::Generator g(7);
    const D x = D::randn({12, 3}, g, omni::dtype::f64), y = D::randn({12, 2}, g, omni::dtype::f64);
    const D w0 = D::randn({2, 3}, g, omni::dtype::f64), b0 = D::randn({2}, g, omni::dtype::f64);
    auto loss = [](const V& w, const V& b, const D& xs, const D& ys) { return omni::mean(omni::square(omni::linear(V(xs), w, b) - V(ys))); };

    V w1(w0.clone(), true), b1(b0.clone(), true);
    optim::SGD<cpu> big({Group{.params = {w1, b1}}}, {.lr = 0.1, .momentum = 0.9});
    loss(w1, b1, x, y).backward();
    big.step();

    V w2(w0.clone(), true), b2(b0.clone(), true);
    optim::SGD<cpu> small({Group{.params = {w2, b2}}}, {.lr = 0.1, .momentum = 0.9});
    optim::GradAccumulation acc(4);
    int steps = 0;
    for (int i = 0; i < 4; ++i) {
        omni::mul(loss(w2, b2, x.slice(0, 3 * i, 3 * i + 3), y.slice(0, 3 * i, 3 * i + 3)), acc.loss_scale()).backward();
        if (acc.advance()) {
            small.step();
            ++steps;
        } else {
            EXPECT_EQ(acc.pending(), i + 1);
        }
    }
    EXPECT_EQ(steps, 1);
    EXPECT_EQ(acc.pending(), 0);
    const auto wa = values(w1), wb = values(w2);
    for (std::size_t i = 0; i < wa.size(); ++i) EXPECT_NEAR(wa[i], wb[i], 1e-14);
    EXPECT_NEAR(values(b1)[1], values(b2)[1], 1e-14);
    EXPECT_GT(std::abs(wa[0] - w0.to_vector<double>()[0]), 1e-4);  // the step did move the weights
}

// ---- training ----------------------------------------------------------------------------

TEST(AdamW, FitsARegressionWithScheduleAndClipping) {
    omni::Generator g(42);
    nn::MLP<A> model({.in = 4, .hidden = 32, .out = 1, .act = nn::activation::gelu}, g);
    const D x = D::randn({64, 4}, g);
    const D y = omni::add(omni::matmul(x, D::from_data<float>({0.5f, -1.f, 2.f, 0.25f}, {4, 1})), omni::mul(omni::square(x.slice(1, 0, 1)), 0.5));
    optim::AdamW<cpu> opt(optim::nn_param_groups(model, 1e-4));
    const optim::CosineSchedule sched{.base_lr = 2e-2, .warmup_steps = 20, .total_steps = 400, .min_lr = 1e-4};
    float first = 0, last = 0;
    for (int step = 0; step < 400; ++step) {
        V loss = omni::mean(omni::square(model(V(x)) - V(y)));
        loss.backward();
        optim::clip_grad_norm(opt.groups, 5.0);
        opt.step(sched.lr(step + 1));
        opt.zero_grad();
        last = loss.item<float>();
        if (step == 0) first = last;
    }
    EXPECT_LT(last, 0.1f * first) << "mse " << first << " -> " << last;
}

// ---- errors ------------------------------------------------------------------------------

TEST(OptimErrors, OptionsGroupsSchedulesAndKernels) {
    V p = param({1.0});
    EXPECT_THROW(optim::AdamW<cpu>({Group{.params = {p}}}, {.lr = -1}), omni::value_error);
    EXPECT_THROW(optim::AdamW<cpu>({Group{.params = {p}}}, {.beta1 = 1.0}), omni::value_error);
    EXPECT_THROW(optim::AdamW<cpu>({Group{.params = {p}}}, {.eps = -1e-8}), omni::value_error);
    EXPECT_THROW(optim::AdamW<cpu>({Group{.params = {p}, .lr_scale = -1}}), omni::value_error);
    EXPECT_THROW(optim::AdamW<cpu>({Group{.params = {p}}, Group{.params = {p}}}), omni::value_error);  // twice
    EXPECT_THROW(optim::AdamW<cpu>({Group{.names = {"a", "b"}, .params = {p}}}), omni::value_error);
    EXPECT_THROW(optim::AdamW<cpu>({Group{.params = {omni::mul(p, 2.0)}}}), omni::value_error);  // not a leaf
    EXPECT_THROW(optim::SGD<cpu>({Group{.params = {p}}}, {.nesterov = true}), omni::value_error);
    EXPECT_THROW(optim::SGD<cpu>({Group{.params = {p}}}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}), omni::value_error);
    optim::AdamW<cpu> opt({Group{.params = {p}}});
    EXPECT_THROW(opt.step(std::nan("")), omni::value_error);

    try {
        (void)optim::CosineSchedule{.base_lr = 1, .warmup_steps = 10, .total_steps = 10}.lr(0);
        ADD_FAILURE() << "total <= warmup accepted";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("CosineSchedule"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)(optim::CosineSchedule{.base_lr = -1, .total_steps = 10}.lr(0)), omni::value_error);
    EXPECT_THROW((void)(optim::CosineSchedule{.total_steps = 10, .min_lr = -1e-6}.lr(0)), omni::value_error);
    EXPECT_THROW((void)(optim::CosineSchedule{.total_steps = 10}.lr(-0.5)), omni::value_error);
    EXPECT_THROW(optim::clip_grad_norm(std::vector<V>{p}, 0.0), omni::value_error);
    EXPECT_THROW(optim::GradAccumulation(0), omni::value_error);
    Tokens<A> empty;
    EXPECT_THROW(optim::nn_param_groups(empty, -0.1), omni::value_error);

    const D a = D::zeros({2, 3}, omni::dtype::f64), b = D::zeros({3}, omni::dtype::f64), f = D::zeros({2, 3});
    EXPECT_THROW(omni::adamw_step(a, b, a.clone(), a.clone(), {}), omni::shape_error);
    EXPECT_THROW(omni::adamw_step(a, f, a.clone(), a.clone(), {}), omni::dtype_error);
    EXPECT_THROW(omni::adamw_step(a, a, a.clone(), a.clone(), {.step = 0}), omni::value_error);
    EXPECT_THROW(omni::sgd_step(a.transpose(0, 1), a.transpose(0, 1), D(), {}), omni::value_error);  // strided param
    EXPECT_THROW(omni::sgd_step(a, a, D(), {.momentum = 0.9}), omni::value_error);                 // no buffer
    EXPECT_THROW(omni::sum_of_squares(D::zeros({2}, omni::dtype::i64)), omni::dtype_error);
}

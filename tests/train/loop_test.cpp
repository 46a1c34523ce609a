// train::run_loop on a small regression (one Linear): steps vs epochs, accumulation against one
// big batch, clipping, a bit-exact resume inside an epoch, the NaN stop and the run's identity.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "omni/backend/cpu.hpp"
#include "omni/nn/linear.hpp"
#include "omni/train/loop.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace fs = std::filesystem;
namespace train = omni::train;

namespace {

fs::path temp_dir(const std::string& name) {
    const fs::path d = fs::temp_directory_path() / ("omni_loop_test_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

// 32 rows of y = x W^T + noise; a step's loss is the mean squared error of its rows.
struct Regression {
    D x, y;
    Regression() {
        omni::Generator g(7);
        x = D::randn({32, 4}, g);
        // One draw per statement: two draws as arguments of one call come in whichever order the
        // compiler evaluates them (g++ right to left, clang left to right), and with the other data
        // the loss of CountsStepsOrEpochsAndCallsEpochHooks does not fall under clang. g++'s order.
        const D noise = D::randn({32, 2}, g, omni::dtype::f32, 0, 0.1);
        const D w = D::randn({2, 4}, g);
        y = omni::add(omni::matmul(x, w, false, true), noise);
    }
    V loss(omni::nn::Linear<A>& m, const std::vector<std::int64_t>& rows) const {
        const D ids = D::from_data(rows, {static_cast<std::int64_t>(rows.size())});
        const V d = omni::sub(m(V(omni::index_select(x, 0, ids))), V(omni::index_select(y, 0, ids)));
        return omni::mean(omni::square(d));
    }
};

struct Trainee {
    omni::Generator gen{3};
    omni::nn::Linear<A> model{{.in = 4, .out = 2}, gen};
    omni::optim::AdamW<omni::cpu> opt{omni::optim::nn_param_groups(model, 0.1), {.lr = 1e-2, .eps = 1e-3}};
    std::vector<std::int64_t> perm;
    std::int64_t batch = 8;  // rows per micro-batch

    train::LoopHooks<omni::cpu> hooks(const Regression& data) {
        train::LoopHooks<omni::cpu> h;
        h.epoch_begin = [this](std::int64_t, omni::Generator& g) { perm = train::shuffled(32, g); };
        h.step = [this, &data](const train::StepContext& c) {
            const std::vector<std::int64_t> rows(perm.begin() + c.batch * batch, perm.begin() + (c.batch + 1) * batch);
            return train::StepLoss<omni::cpu>{data.loss(model, rows), batch};
        };
        return h;
    }
    std::vector<float> weights() const {
        auto w = model.weight.value().to_vector<float>(), b = model.bias.value().to_vector<float>();
        w.insert(w.end(), b.begin(), b.end());
        return w;
    }
};

const train::LoopOptions base{.epochs = 3, .batches_per_epoch = 4, .lr = 1e-2, .min_lr = 1e-4, .warmup = 2, .progress = nullptr};

}  // namespace

TEST(Loop, CountsStepsOrEpochsAndCallsEpochHooks) {
    const Regression data;
    Trainee r;
    auto h = r.hooks(data);
    std::vector<std::int64_t> begun, ended, batches;
    const auto step = h.step;
    h.epoch_begin = [&, inner = h.epoch_begin](std::int64_t e, omni::Generator& g) { begun.push_back(e), inner(e, g); };
    h.epoch_end = [&](std::int64_t e, omni::io::TrainState&) { ended.push_back(e); };
    h.step = [&](const train::StepContext& c) { return batches.push_back(c.batch), step(c); };
    const auto res = train::run_loop(r.model, r.opt, r.gen, base, h);
    EXPECT_EQ(res.steps, 12);
    EXPECT_EQ(res.losses.size(), 12u);
    EXPECT_EQ(begun, (std::vector<std::int64_t>{0, 1, 2}));
    EXPECT_EQ(ended, (std::vector<std::int64_t>{0, 1, 2}));
    EXPECT_EQ(batches, (std::vector<std::int64_t>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}));
    EXPECT_LT(res.losses.back(), res.losses.front());
    Trainee s;
    auto o = base;
    o.steps = 6;  // wins over epochs: one and a half epochs
    const auto six = train::run_loop(s.model, s.opt, s.gen, o, s.hooks(data));
    EXPECT_EQ(six.total_steps, 6);
    EXPECT_EQ(six.losses.size(), 6u);
    o.steps = 0, o.epochs = 0;
    EXPECT_THROW(train::run_loop(s.model, s.opt, s.gen, o, s.hooks(data)), omni::value_error);
    o.epochs = 1, o.accumulate = 5;  // more micro-batches per step than the epoch has
    EXPECT_THROW(train::run_loop(s.model, s.opt, s.gen, o, s.hooks(data)), omni::value_error);
}

TEST(Loop, AccumulatingMicroBatchesEqualsOneBigBatch) {
    const Regression data;
    Trainee big, small;
    big.batch = 16;
    small.batch = 8;
    auto ob = base, os = base;
    ob.batches_per_epoch = 2;
    os.batches_per_epoch = 4, os.accumulate = 2;  // 2 steps per epoch of 2 x 8 rows
    const auto rb = train::run_loop(big.model, big.opt, big.gen, ob, big.hooks(data));
    const auto rs = train::run_loop(small.model, small.opt, small.gen, os, small.hooks(data));
    ASSERT_EQ(rs.losses.size(), 6u);
    ASSERT_EQ(rb.losses.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR(rs.losses[i], rb.losses[i], 1e-5) << i;
    const auto wb = big.weights(), ws = small.weights();
    for (std::size_t i = 0; i < wb.size(); ++i) EXPECT_NEAR(ws[i], wb[i], 1e-5) << i;
    EXPECT_NE(ws, Trainee{}.weights());  // it trained
}

TEST(Loop, ClipsTheGlobalGradientNormBeforeTheStep) {
    const Regression data;
    // The same steps written out by hand with optim::clip_grad_norm give the same bits.
    Trainee looped, by_hand, unclipped;
    auto o = base;
    o.epochs = 1, o.clip_grad_norm = 0.05;
    train::run_loop(looped.model, looped.opt, looped.gen, o, looped.hooks(data));
    const omni::optim::CosineSchedule s{.base_lr = o.lr, .warmup_steps = o.warmup, .total_steps = 4, .min_lr = o.min_lr};
    by_hand.perm = train::shuffled(32, by_hand.gen);
    for (std::int64_t k = 0; k < 4; ++k) {
        const std::vector<std::int64_t> rows(by_hand.perm.begin() + k * 8, by_hand.perm.begin() + (k + 1) * 8);
        data.loss(by_hand.model, rows).backward();
        EXPECT_GT(omni::optim::clip_grad_norm(by_hand.opt.groups, 0.05), 0.05);  // the clip bites
        by_hand.opt.step(s.lr(static_cast<double>(k)));
        by_hand.opt.zero_grad();
    }
    EXPECT_EQ(looped.weights(), by_hand.weights());
    o.clip_grad_norm = 0;
    train::run_loop(unclipped.model, unclipped.opt, unclipped.gen, o, unclipped.hooks(data));
    EXPECT_NE(unclipped.weights(), looped.weights());
}

TEST(Loop, AnInterruptedRunResumesInsideAnEpochBitExactly) {
    const fs::path dir = temp_dir("resume");
    const Regression data;
    Trainee straight;
    const auto r1 = train::run_loop(straight.model, straight.opt, straight.gen, base, straight.hooks(data));
    auto o = base;
    o.checkpoint = (dir / "run.ckpt").string();
    o.checkpoint_every = 3;
    o.stop_after = 5;  // stops in the middle of epoch 1, whose order was drawn at step 4
    Trainee first;
    EXPECT_EQ(train::run_loop(first.model, first.opt, first.gen, o, first.hooks(data)).steps, 5);
    o.stop_after = 0;
    Trainee resumed;
    omni::nn::value_of(resumed.model.weight).copy_from(D::zeros({2, 4}));  // other weights: the file must restore them
    const auto r3 = train::run_loop(resumed.model, resumed.opt, resumed.gen, o, resumed.hooks(data));
    EXPECT_EQ(r3.resumed_from, 5);
    EXPECT_EQ(r3.losses, r1.losses);
    EXPECT_EQ(resumed.weights(), straight.weights());
    fs::remove_all(dir);
}

TEST(Loop, ANonFiniteLossOrGradientStopsTheRunAndKeepsTheLastCheckpoint) {
    const fs::path dir = temp_dir("nan");
    const Regression data;
    auto o = base;
    o.checkpoint = (dir / "run.ckpt").string();
    o.checkpoint_every = 2;
    const auto read = [&] {
        std::ifstream in(o.checkpoint, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), {});
    };
    for (const bool in_gradient : {false, true}) {
        fs::remove(o.checkpoint);
        Trainee r;
        auto h = r.hooks(data);
        const auto step = h.step;
        std::string saved;
        h.step = [&](const train::StepContext& c) {
            if (c.step < 5) return step(c);
            saved = read();
            // sqrt(0) is finite, its gradient is not.
            const V w = omni::mul(r.model.weight, 0.0);
            return train::StepLoss<omni::cpu>{in_gradient ? omni::sqrt(omni::sum(omni::square(w))) : omni::mul(step(c).loss, NAN), 8, -1, "batch"};
        };
        try {
            train::run_loop(r.model, r.opt, r.gen, o, h);
            ADD_FAILURE() << "a non-finite " << (in_gradient ? "gradient" : "loss") << " must stop the run";
        } catch (const omni::value_error& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find(in_gradient ? "gradient norm became NaN at step 5" : "loss became NaN at step 5 (batch)"), std::string::npos) << what;
            EXPECT_NE(what.find("keeps the last good state"), std::string::npos) << what;
        }
        EXPECT_EQ(read(), saved);  // the file written at step 4 is untouched
        omni::io::TrainState st;
        Trainee probe;
        omni::io::load_checkpoint(o.checkpoint, probe.model, probe.opt, st);
        EXPECT_EQ(st.step, 4);
    }
    fs::remove_all(dir);
}

TEST(Loop, AnomalyModeNamesTheOpThatMadeTheFirstNonFiniteGradient) {
    const Regression data;
    auto o = base;
    o.detect_anomaly = true;
    Trainee r;
    auto h = r.hooks(data);
    const auto step = h.step;
    h.step = [&](const train::StepContext& c) {
        if (c.step < 2) return step(c);
        return train::StepLoss<omni::cpu>{omni::sqrt(omni::sum(omni::square(omni::mul(r.model.weight, 0.0)))), 8};  // d sqrt(0) = inf
    };
    try {
        train::run_loop(r.model, r.opt, r.gen, o, h);
        ADD_FAILURE() << "anomaly mode must stop at the op";
    } catch (const omni::anomaly_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("anomaly_error: sqrt: backward produced 1 +inf"), std::string::npos) << what;
        EXPECT_NE(what.find("(train::train, step 2)"), std::string::npos) << what;
    }
    EXPECT_FALSE(omni::anomaly_enabled());  // the loop's guard ends with it
}

TEST(Loop, EveryIdentityOptionAndTheModelShapeRefuseAnOldCheckpoint) {
    const fs::path dir = temp_dir("identity");
    const Regression data;
    auto o = base;
    o.checkpoint = (dir / "run.ckpt").string();
    o.stop_after = 2;
    Trainee first;
    train::run_loop(first.model, first.opt, first.gen, o, first.hooks(data));
    using Change = std::function<void(train::LoopOptions&)>;
    const std::vector<std::pair<const char*, Change>> changes = {
        {"steps", [](auto& x) { x.steps = 10; }},          {"epochs", [](auto& x) { x.epochs = 4; }},
        {"batches_per_epoch", [](auto& x) { x.batches_per_epoch = 2; }}, {"accumulate", [](auto& x) { x.accumulate = 2; }},
        {"lr", [](auto& x) { x.lr = 2e-2; }},              {"min_lr", [](auto& x) { x.min_lr = 0; }},
        {"warmup", [](auto& x) { x.warmup = 1; }},          {"unit", [](auto& x) { x.unit = train::schedule_unit::epoch, x.warmup = 0.5; }},
        {"clip_grad_norm", [](auto& x) { x.clip_grad_norm = 1; }},
    };
    omni::train::FieldCounter fields;
    base.visit(fields);
    EXPECT_EQ(fields.identity, changes.size());  // a new identity field needs a case here
    for (const auto& [what, change] : changes) {
        auto other = o;
        change(other);
        Trainee fresh;
        const auto before = fresh.weights();
        try {
            train::run_loop(fresh.model, fresh.opt, fresh.gen, other, fresh.hooks(data));
            ADD_FAILURE() << "a checkpoint written before changing " << what << " was resumed";
        } catch (const omni::value_error& e) {
            EXPECT_NE(std::string(e.what()).find("was written with recipe"), std::string::npos) << what << ": " << e.what();
        }
        EXPECT_EQ(fresh.weights(), before) << what;
    }
    // The caller's identity and the model's shapes count too.
    Trainee caller;
    auto h = caller.hooks(data);
    h.identity = "dataset v2";
    EXPECT_THROW(train::run_loop(caller.model, caller.opt, caller.gen, o, h), omni::value_error);
    omni::Generator g(3);
    omni::nn::Linear<A> wider({.in = 4, .out = 2, .bias = false}, g);
    omni::optim::AdamW<omni::cpu> opt(omni::optim::nn_param_groups(wider, 0.1));
    train::LoopHooks<omni::cpu> hw;
    hw.step = [&](const train::StepContext&) { return train::StepLoss<omni::cpu>{omni::mean(wider(V(data.x))), 32}; };
    EXPECT_THROW(train::run_loop(wider, opt, g, o, hw), omni::value_error);
    // Local options (progress, label, when to stop or save) resume the same run.
    auto local = o;
    local.stop_after = 0, local.checkpoint_every = 5, local.label = "renamed", local.detect_anomaly = true;
    Trainee same;
    EXPECT_EQ(train::run_loop(same.model, same.opt, same.gen, local, same.hooks(data)).resumed_from, 2);
    fs::remove_all(dir);
}

struct Forgetful {
    int a = 0;
    double b = 0;
    template <class V> void visit(V& v) const { v("a", a); }
};

TEST(RunIdentity, AVisitThatMissesAFieldIsRefusedAndValuesPrintExactly) {
    EXPECT_EQ(omni::train::detail::field_count<Forgetful>(), 2u);
    EXPECT_EQ(omni::train::detail::field_count<train::LoopOptions>(), 17u);
    EXPECT_THROW(omni::train::RunIdentity().options("forgetful", Forgetful{}), omni::value_error);
    EXPECT_NO_THROW(omni::train::check_visits_every_field(base, "loop"));
    EXPECT_NE(train::canonical(1e-4), train::canonical(1.0000000001e-4));
    EXPECT_EQ(train::canonical(std::map<std::string, double>{{"a", 0.5}}), "{a: 0.5}");
    EXPECT_EQ(train::canonical(std::vector<std::string>{"x", "y"}), "[x, y]");
    const std::string text = train::describe(base);
    EXPECT_NE(text.find("lr 0.01"), std::string::npos) << text;
    EXPECT_NE(text.find("progress none"), std::string::npos) << text;
}

#pragma once
// Frozen-feature evaluation (Omni-C sec. IV-A; the release's linear_probe.py): encode a dataset with a frozen encoder (no tape),
// then train one Linear(F, C) on the features with cross-entropy and AdamW under a per-step
// warmup + cosine schedule (train::run_loop, counting in fractional epochs), and report top-1 on
// held-out features after every epoch.
//
//   Tensor<cpu> f = train::encode(model, "image", n, batch_of);   // [n, D], no grad
//   auto r = train::linear_probe(f_train, y_train, f_test, y_test, 10, {});
//
// Defaults are the reference protocol (40 epochs, 10 warmup, lr 1e-4 -> 1e-5, wd 0.1 on weight
// and bias, batch 128, weight ~ trunc-normal std 0.01). The reference re-encodes weakly
// augmented inputs every epoch; this probe trains on one encoding of the clean inputs, which
// costs one forward pass per sample instead of forty.
#include <algorithm>
#include <functional>
#include <numeric>
#include <optional>
#include <span>

#include "omni/backend/cpu.hpp"  // the probe runs on host features
#include "omni/core/linkage.hpp"
#include "omni/loss/cross_entropy.hpp"
#include "omni/nn/init.hpp"
#include "omni/nn/linear.hpp"
#include "omni/optim/adamw.hpp"
#include "omni/train/loop.hpp"
#include "omni/train/pretrain.hpp"

namespace omni::train {

using BatchMaker = std::function<Tensor<cpu>(std::span<const std::int64_t> indices)>;

// Rows 0..n-1 of the model's modality called `modality` through `model.encode` (or forward,
// when `project`), batch by batch, without a tape: [n, D] float32 on the host.
template <class Model>
Tensor<cpu> encode(const Model& model, std::string_view modality, std::int64_t n, const BatchMaker& batch, std::int64_t batch_size = 256,
                   bool project = false) {
    using D = nn::device_of_t<typename Model::policy_type>;
    if (n < 1 || batch_size < 1)
        throw value_error("train::encode", "expected n >= 1 and batch_size >= 1, got " + std::to_string(n) + " and " + std::to_string(batch_size));
    const std::size_t m = model.modality_index(modality);
    no_grad ng;
    std::vector<float> out;
    std::int64_t width = 0;
    std::vector<std::int64_t> idx;
    for (std::int64_t lo = 0; lo < n; lo += batch_size) {
        idx.resize(static_cast<std::size_t>(std::min(batch_size, n - lo)));
        std::iota(idx.begin(), idx.end(), lo);
        const Var<D> x(detail::to_device<D>(batch(idx)));
        const Var<D> h = project ? model.forward(m, x) : model.encode(m, x);
        width = h.shape()[1];
        const std::vector<float> v = nn::value_of(h).template to_vector<float>();
        out.insert(out.end(), v.begin(), v.end());
    }
    return Tensor<cpu>::from_data(out, {n, width});
}

// Row-wise argmax of a [N, C] host tensor.
OMNI_LIB_INLINE std::vector<std::int64_t> argmax_rows(const Tensor<cpu>& scores)
#if OMNI_LIB_DEFINE
{
    const std::vector<float> v = scores.to_vector<float>();
    const std::int64_t n = scores.size(0), c = scores.size(1);
    std::vector<std::int64_t> out(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = std::max_element(v.begin() + i * c, v.begin() + (i + 1) * c) - (v.begin() + i * c);
    return out;
}
#else
;
#endif

OMNI_LIB_INLINE double top1(const std::vector<std::int64_t>& pred, const Tensor<cpu>& labels)
#if OMNI_LIB_DEFINE
{
    const std::vector<std::int64_t> y = labels.to(dtype::i64).to_vector<std::int64_t>();
    if (y.size() != pred.size())
        throw shape_error("train::top1", "expected " + std::to_string(pred.size()) + " labels, got " + std::to_string(y.size()));
    std::int64_t hit = 0;
    for (std::size_t i = 0; i < y.size(); ++i) hit += pred[i] == y[i];
    return y.empty() ? 0.0 : static_cast<double>(hit) / static_cast<double>(y.size());
}
#else
;
#endif

/// Per-column mean and std of `x` (training statistics), applied to itself and to `others`.
struct Standardization {
    std::vector<double> mean, std;
};

OMNI_LIB_INLINE Standardization standardize(Tensor<cpu>& x, std::vector<Tensor<cpu>*> others)
#if OMNI_LIB_DEFINE
{
    const std::int64_t n = x.size(0), f = x.size(1);
    Standardization st{std::vector<double>(static_cast<std::size_t>(f), 0), std::vector<double>(static_cast<std::size_t>(f), 0)};
    const std::vector<float> v = x.contiguous().to_vector<float>();
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < f; ++j) st.mean[j] += v[i * f + j];
    for (double& m : st.mean) m /= static_cast<double>(n);
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < f; ++j) st.std[j] += (v[i * f + j] - st.mean[j]) * (v[i * f + j] - st.mean[j]);
    for (double& s : st.std) s = std::sqrt(s / static_cast<double>(n) + 1e-6);
    const auto apply = [&](Tensor<cpu>& t) {
        std::vector<float> w = t.contiguous().to_vector<float>();
        const std::int64_t rows = t.size(0);
        for (std::int64_t i = 0; i < rows; ++i)
            for (std::int64_t j = 0; j < f; ++j) w[i * f + j] = static_cast<float>((w[i * f + j] - st.mean[j]) / st.std[j]);
        t = Tensor<cpu>::from_data(w, t.shape());
    };
    for (Tensor<cpu>* o : others) apply(*o);
    apply(x);
    return st;
}
#else
;
#endif

/// Options of linear_probe: epochs and schedule, batch size, optimiser settings, standardisation and seed.
struct ProbeOptions {
    std::int64_t epochs = 40, warmup_epochs = 10, batch_size = 128;
    double lr = 1e-4, min_lr = 1e-5, weight_decay = 0.1;
    bool standardize = false;  // z-score features with training statistics first
    std::uint64_t seed = 0;

    template <class V> void visit(V& v) const {
        v("epochs", epochs), v("warmup_epochs", warmup_epochs), v("batch_size", batch_size), v("lr", lr), v("min_lr", min_lr);
        v("weight_decay", weight_decay), v("standardize", standardize), v("seed", seed);
    }
};

/// What linear_probe returns: test top-1 per epoch, best and final, and the trained classifier.
struct ProbeResult {
    double best_top1 = 0, final_top1 = 0;  // on the test features; the reference reports best
    std::vector<double> test_top1;         // after each epoch
    // The final classifier on the features as given (standardisation folded in): logits =
    // x weight^T + bias, weight [C, F], bias [C]. It can start a fine-tune (LP-FT).
    Tensor<cpu> weight, bias;
};

// train_x [N, F] float, train_y [N] int in [0, classes); the same for test.
OMNI_LIB_INLINE ProbeResult linear_probe(Tensor<cpu> train_x, const Tensor<cpu>& train_y, Tensor<cpu> test_x, const Tensor<cpu>& test_y,
                                std::int64_t classes, const ProbeOptions& o = {})
#if OMNI_LIB_DEFINE
{
    using A = autodiff<cpu>;
    const char* op = "train::linear_probe";
    if (train_x.dim() != 2 || test_x.dim() != 2 || train_x.size(1) != test_x.size(1))
        throw shape_error(op, "expected features [N, F] and [M, F], got " + train_x.shape().str() + " and " + test_x.shape().str());
    if (train_y.dim() != 1 || train_y.size(0) != train_x.size(0) || test_y.dim() != 1 || test_y.size(0) != test_x.size(0))
        throw shape_error(op, "expected one label per row, got labels " + train_y.shape().str() + " and " + test_y.shape().str() +
                                  " for features " + train_x.shape().str() + " and " + test_x.shape().str());
    if (classes < 2) throw value_error(op, "expected at least 2 classes, got " + std::to_string(classes));
    if (o.epochs < 1 || o.batch_size < 1 || o.warmup_epochs < 0 || o.warmup_epochs >= o.epochs)
        throw value_error(op, "expected epochs >= 1, 0 <= warmup_epochs < epochs and batch_size >= 1, got " + std::to_string(o.epochs) +
                                  ", " + std::to_string(o.warmup_epochs) + ", " + std::to_string(o.batch_size));
    for (const Tensor<cpu>* y : {&train_y, &test_y}) {
        const auto v = y->to(dtype::i64).to_vector<std::int64_t>();
        for (const std::int64_t c : v)
            if (c < 0 || c >= classes) throw value_error(op, "expected labels in [0, " + std::to_string(classes) + "), got " + std::to_string(c));
    }
    train_x = train_x.to(dtype::f32).contiguous();
    test_x = test_x.to(dtype::f32).contiguous();
    std::optional<Standardization> st;
    if (o.standardize) st = standardize(train_x, {&test_x});
    const std::int64_t n = train_x.size(0), f = train_x.size(1);
    Generator gen(o.seed);
    nn::Linear<A> clf({.in = f, .out = classes}, gen);
    nn::value_of(clf.weight).copy_from(nn::init::trunc_normal<cpu>({classes, f}, gen, 0.01));
    optim::AdamW<cpu> opt({optim::ParamGroup<cpu>{.names = {"weight", "bias"}, .params = {clf.weight, clf.bias}}},
                          {.lr = o.lr, .weight_decay = o.weight_decay});
    const std::int64_t per_epoch = (n + o.batch_size - 1) / o.batch_size;
    const Tensor<cpu> y64 = train_y.to(dtype::i64);
    ProbeResult r;
    std::vector<std::int64_t> perm;
    LoopHooks<cpu> hooks;
    hooks.epoch_begin = [&](std::int64_t, Generator& g) { perm = shuffled(n, g); };
    hooks.step = [&](const StepContext& c) {
        const std::int64_t lo = c.batch * o.batch_size, hi = std::min(n, lo + o.batch_size);
        const Tensor<cpu> ids = Tensor<cpu>::from_data(std::vector<std::int64_t>(perm.begin() + lo, perm.begin() + hi), {hi - lo});
        return StepLoss<cpu>{loss::cross_entropy(clf(Var<cpu>(index_select(train_x, 0, ids))), Var<cpu>(index_select(y64, 0, ids))), hi - lo};
    };
    hooks.epoch_end = [&](std::int64_t, io::TrainState&) {
        no_grad ng;
        const double acc = top1(argmax_rows(nn::value_of(clf(Var<cpu>(test_x)))), test_y);
        r.test_top1.push_back(acc);
        r.best_top1 = std::max(r.best_top1, acc);
        r.final_top1 = acc;
    };
    run_loop(clf, opt, gen, {.epochs = o.epochs, .batches_per_epoch = per_epoch, .lr = o.lr, .min_lr = o.min_lr,
                             .warmup = static_cast<double>(o.warmup_epochs), .unit = schedule_unit::epoch, .progress = nullptr, .label = "linear_probe"},
             hooks);
    // Fold the standardisation into the classifier so it applies to the raw features.
    std::vector<float> w = nn::value_of(clf.weight).contiguous().to_vector<float>(), b = nn::value_of(clf.bias).to_vector<float>();
    if (st)
        for (std::int64_t c = 0; c < classes; ++c) {
            double shift = 0;
            for (std::int64_t j = 0; j < f; ++j) {
                const double wj = w[c * f + j] / st->std[j];
                shift += wj * st->mean[j];
                w[c * f + j] = static_cast<float>(wj);
            }
            b[c] = static_cast<float>(b[c] - shift);
        }
    r.weight = Tensor<cpu>::from_data(w, {classes, f});
    r.bias = Tensor<cpu>::from_data(b, {classes});
    return r;
}
#else
;
#endif

}  // namespace omni::train

#pragma once
// Parameter-efficient fine-tuning for classification (Omni-C sec. IV-A, SBoRA fine-tuning):
// low-rank adapters (SBoRA-FA by default: frozen standard-basis A, zero-initialised trained B;
// or LoRA) on every Linear of the encoder's blocks, a new Linear(D, C) classifier on the CLS
// feature h, everything else frozen (the released script also freezes the patch and text
// embeddings), cross-entropy, AdamW with per-step warmup + cosine (train::run_loop, which also
// checkpoints and resumes the adapters, the head and the per-epoch accuracies).
//
//   auto r = train::finetune(model, "image", {n, train_batch, train_labels}, {m, test_batch, test_labels}, 10, {});
//   nn::merge_adapters(model);   // afterwards: a plain model with the fine-tuned backbone
#include <numeric>

#include "omni/nn/adapters/sbora.hpp"
#include "omni/train/linear_probe.hpp"
#include "omni/train/loop.hpp"

namespace omni::train {

/// A labelled split: `batch(indices, gen)` gives model inputs (gen: augmentation, may be null).
struct LabelledSplit {
    std::int64_t size = 0;
    std::function<Tensor<cpu>(std::span<const std::int64_t>, Generator*)> batch;
    Tensor<cpu> labels;  // int64 [size]
};

/// The fields of nn::AdapterConfig for a run's identity (the config is an nn aggregate without a visit).
struct AdapterFields {
    const nn::AdapterConfig& c;
    template <class V> void visit(V& v) const {
        static_assert(detail::field_count<nn::AdapterConfig>() == 3, "train::AdapterFields: list AdapterConfig's new field");
        v("kind", c.kind), v("rank", c.rank), v("alpha", c.alpha);
    }
};

/// Options of finetune: adapter, epochs and schedule, batch size, optimiser settings and augmentation.
struct FinetuneOptions {
    nn::AdapterConfig adapter{};  // SBoRA-FA, r = alpha = 128 (the paper); rank is capped at the width
    std::int64_t epochs = 40, warmup_epochs = 10, batch_size = 128;
    double lr = 1e-4, min_lr = 1e-5, weight_decay = 0.1;
    bool augment = true;  // draw training batches with a generator (weak augmentation)
    std::uint64_t seed = 0;
    // LP-FT (Kumar et al. 2022): start the classifier from a linear probe's ([C, D] weight and
    // [C] bias, e.g. ProbeResult::weight/bias) instead of a random one, so that fine-tuning
    // starts at the probe's accuracy and the adapters do not chase a random head. Empty: random.
    Tensor<cpu> init_weight{}, init_bias{};
    std::string checkpoint{};           // empty: no checkpoints (train::LoopOptions)
    std::int64_t checkpoint_every = 0;  // steps; 0: only at the end
    bool resume = true;                 // continue from `checkpoint` when it exists
    std::int64_t stop_after = 0;        // > 0: return after this many steps of this call
    std::FILE* progress = stderr;
    std::string label = "finetune";

    template <class V> void visit(V& v) const {
        v("adapter", AdapterFields{adapter}), v("epochs", epochs), v("warmup_epochs", warmup_epochs), v("batch_size", batch_size), v("lr", lr), v("min_lr", min_lr);
        v("weight_decay", weight_decay), v("augment", augment), v("seed", seed), v("init_weight", init_weight), v("init_bias", init_bias);
        v.local("checkpoint", checkpoint), v.local("checkpoint_every", checkpoint_every), v.local("resume", resume);
        v.local("stop_after", stop_after), v.local("progress", progress), v.local("label", label);
    }
};

/// The fine-tuned whole as one module (checkpoints): the backbone with its adapters, and the head.
template <class Backbone, class Head> struct Finetuned : nn::Module {
    Backbone* backbone = nullptr;
    Head* head = nullptr;
    template <class V> void visit(V& v) {
        v.module("backbone", *backbone);
        v.module("head", *head);
    }
};

/// What finetune returns: test top-1 per epoch, final and best, and what was trained.
struct FinetuneResult {
    std::vector<double> test_top1;  // after each epoch
    double final_top1 = 0, best_top1 = 0;
    std::int64_t trainable = 0, adapted_linears = 0;
};

template <class Model>
FinetuneResult finetune(Model& model, std::string_view modality, const LabelledSplit& train_set, const LabelledSplit& test_set, std::int64_t classes,
                        const FinetuneOptions& o = {}) {
    using P = typename Model::policy_type;
    using D = nn::device_of_t<P>;
    const char* op = "train::finetune";
    const std::size_t m = model.modality_index(modality);
    if (train_set.size < 1 || test_set.size < 1 || !train_set.batch || !test_set.batch)
        throw value_error(op, "expected non-empty train and test splits with batch makers, got " + std::to_string(train_set.size) + " and " +
                                  std::to_string(test_set.size) + " items");
    if (train_set.labels.numel() != train_set.size || test_set.labels.numel() != test_set.size)
        throw shape_error(op, "expected one label per item, got " + train_set.labels.shape().str() + " for " + std::to_string(train_set.size) +
                                  " and " + test_set.labels.shape().str() + " for " + std::to_string(test_set.size));
    if (o.epochs < 1 || o.warmup_epochs < 0 || o.warmup_epochs >= o.epochs || o.batch_size < 1)
        throw value_error(op, "expected epochs >= 1, 0 <= warmup_epochs < epochs, batch_size >= 1");
    const std::int64_t dim = model.cfg.dim;
    if (o.init_weight.defined() != o.init_bias.defined())
        throw value_error(op, "expected both init_weight and init_bias or neither, got only " + std::string(o.init_weight.defined() ? "init_weight" : "init_bias"));
    if (o.init_weight.defined() && (o.init_weight.shape() != Shape{classes, dim} || o.init_bias.shape() != Shape{classes}))
        throw shape_error(op, "expected an initial classifier of weight [" + std::to_string(classes) + ", " + std::to_string(dim) + "] and bias [" +
                                  std::to_string(classes) + "], got " + o.init_weight.shape().str() + " and " + o.init_bias.shape().str());
    Generator gen(o.seed);
    nn::set_requires_grad(model, false);
    nn::AdapterConfig ac = o.adapter;
    ac.rank = std::min<std::int64_t>(ac.rank, model.cfg.dim);
    FinetuneResult r;
    r.adapted_linears = nn::attach_adapters(model.blocks, ac, gen);
    nn::Linear<P> clf({.in = model.cfg.dim, .out = classes}, gen);
    // Drawn even when replaced, so shuffles and adapters see the same stream with or without LP-FT.
    nn::value_of(clf.weight).copy_from(nn::init::trunc_normal<D>({classes, dim}, gen, 0.01));
    if (o.init_weight.defined()) {
        nn::value_of(clf.weight).copy_from(detail::to_device<D>(o.init_weight.to(dtype::f32).contiguous()));
        nn::value_of(clf.bias).copy_from(detail::to_device<D>(o.init_bias.to(dtype::f32).contiguous()));
    }
    Finetuned<Model, nn::Linear<P>> whole;
    whole.backbone = &model;
    whole.head = &clf;
    const auto groups = optim::nn_param_groups<D>(whole, o.weight_decay);
    for (const auto& g : groups)
        for (const auto& p : g.params) r.trainable += p.numel();
    optim::AdamW<D> opt(groups, {.lr = o.lr, .weight_decay = o.weight_decay});
    const std::int64_t n = train_set.size, per_epoch = (n + o.batch_size - 1) / o.batch_size;
    const Tensor<cpu> y = train_set.labels.to(dtype::i64);
    std::vector<std::int64_t> perm;
    LoopHooks<D> hooks;
    RunIdentity id;
    hooks.identity = id.options("finetune", o).value("modality", std::string(modality)).value("classes", classes).value("train", train_set.size).value("test", test_set.size).str();
    hooks.epoch_begin = [&](std::int64_t, Generator& g) { perm = shuffled(n, g); };
    hooks.step = [&](const StepContext& c) {
        const std::int64_t lo = c.batch * o.batch_size, hi = std::min(n, lo + o.batch_size);
        const std::vector<std::int64_t> idx(perm.begin() + lo, perm.begin() + hi);
        const Var<D> x(detail::to_device<D>(train_set.batch(idx, o.augment ? &c.gen : nullptr)));
        const Tensor<cpu> target = index_select(y, 0, Tensor<cpu>::from_data(idx, {hi - lo}));
        return StepLoss<D>{loss::cross_entropy(clf(model.encode(m, x)), Var<D>(detail::to_device<D>(target))), hi - lo};
    };
    // Accuracies go into the checkpoint's metadata, so a resumed run reports every epoch.
    hooks.epoch_end = [&](std::int64_t, io::TrainState& state) {
        no_grad ng;
        const Tensor<cpu> h = encode(model, modality, test_set.size, [&](std::span<const std::int64_t> idx) { return test_set.batch(idx, nullptr); });
        const double acc = top1(argmax_rows(io::detail::to_host(clf(Var<D>(detail::to_device<D>(h))))), test_set.labels);
        std::string& text = state.metadata["test_top1"];
        text += (text.empty() ? "" : " ") + canonical(acc);
    };
    const LoopResult done = run_loop(whole, opt, gen,
                                     {.epochs = o.epochs, .batches_per_epoch = per_epoch, .lr = o.lr, .min_lr = o.min_lr,
                                      .warmup = static_cast<double>(o.warmup_epochs), .unit = schedule_unit::epoch, .checkpoint = o.checkpoint,
                                      .checkpoint_every = o.checkpoint_every, .resume = o.resume, .stop_after = o.stop_after,
                                      .progress = o.progress, .label = o.label},
                                     hooks);
    if (const auto it = done.state.metadata.find("test_top1"); it != done.state.metadata.end()) {
        std::size_t at = 0;
        while (at < it->second.size()) {
            std::size_t used = 0;
            r.test_top1.push_back(std::stod(it->second.substr(at), &used));
            at += used;
        }
    }
    for (const double acc : r.test_top1) r.best_top1 = std::max(r.best_top1, acc);
    r.final_top1 = r.test_top1.empty() ? 0 : r.test_top1.back();
    return r;
}

}  // namespace omni::train

#pragma once
// Omni-C's unimodal contrastive pretraining loop (Omni-C sec. III-B; the release's pretraining.py and utils/simclr_loss.py):
// modality-separated minibatches in round robin, two augmented views per sample through the
// shared encoder and that modality's head, NT-Xent, one AdamW over everything (weight decay 0.1
// on matrices, none on biases and norms) with a per-step linear warmup and cosine decay, run by
// train::run_loop (loop.hpp: schedule, clipping, accumulation, checkpoints, resume, NaN stop).
// Seeded and reproducible: a run resumes from its checkpoint to the same weights it would have
// reached unbroken, and refuses a checkpoint of another run (every option, the data sizes and the
// model's parameter shapes are its identity).
//
//   std::vector<train::ModalityViews> data{{"image", n_images, image_views}, ...};
//   auto result = train::pretrain(model, data, {.steps = 600, .checkpoint = "run.ckpt"});
//
// The model is any module whose modalities are named and indexed: static modality_index(name)
// and forward(i, Var) -> [B, E] for its i-th modality (models::OmniC on autodiff<P>, with any
// list of built-in or user-defined modality tags). A view maker turns a batch of dataset
// indices into two augmented host batches.
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <span>
#include <utility>

#include "omni/data/modality_sampler.hpp"
#include "omni/io/checkpoint.hpp"
#include "omni/loss/nt_xent.hpp"
#include "omni/nn/module.hpp"
#include "omni/train/loop.hpp"

namespace omni::train {

using ViewMaker = std::function<std::pair<Tensor<cpu>, Tensor<cpu>>(std::span<const std::int64_t> indices, Generator& gen)>;

/// One modality's data for pretrain: its name, its size and a function that draws two views of a batch.
struct ModalityViews {
    std::string modality;   // the model's modality by name ("image", or a user tag's name)
    std::int64_t size = 0;  // items in the dataset the indices point into
    ViewMaker views;
};

/// Options of pretrain: batch, length, optimiser and schedule, NT-Xent temperatures, modality weights, checkpoints, progress.
struct PretrainOptions {
    std::int64_t batch_size = 32;  // per modality batch (the reference: 32 per GPU)
    std::int64_t steps = 0;        // optimiser steps; 0: `epochs` sampler epochs
    std::int64_t epochs = 1;
    double lr = 1e-4, min_lr = 1e-6, weight_decay = 0.1;
    std::vector<std::string> no_weight_decay{};  // parameter names kept out of weight decay (timm's skip_list)
    // Parameter name -> lr multiplier (optim::scale_lr), e.g. {"text_embed.weight", 3}: the token
    // table only text trains, which learns faster at a rate that would upset the shared encoder.
    std::map<std::string, double> lr_scale{};
    double warmup = 0.05;          // fraction of the steps (the reference: 5 of 100 epochs)
    double clip_grad_norm = 0;     // > 0: clip the global gradient norm (train::LoopOptions)
    std::int64_t accumulate = 1;   // sampler batches per optimiser step
    double temperature = 0.05;     // NT-Xent; the paper's 0.05 (the released code: 0.5)
    // Per-modality NT-Xent temperatures overriding `temperature` (one encoder may want a soft
    // loss for images and a sharp one for spoken words that differ in a few mel bands).
    std::map<std::string, double> modality_temperature{};
    // Round robin: steps a modality takes per turn (default 1 each), e.g. {image: 2} trains images
    // twice as often as audio or text within one schedule; `steps` counts all modalities' steps.
    // Both maps are keyed by modality name; entries for modalities without data are ignored.
    std::map<std::string, std::int64_t> modality_weight{};
    std::uint64_t seed = 42;
    data::ModalitySchedule schedule = data::ModalitySchedule::round_robin;
    std::string checkpoint{};            // empty: no checkpoints
    std::int64_t checkpoint_every = 0;   // steps; 0: only at the end
    bool resume = true;                  // continue from `checkpoint` when it exists
    // A checkpoint whose weights give other bits here than where it was saved (train::on_other_numerics).
    using on_other_numerics = train::on_other_numerics;
    on_other_numerics numerics = on_other_numerics::warn;
    std::int64_t stop_after = 0;         // > 0: return after this many steps of this call (time slicing)
    std::FILE* progress = stderr;        // nullptr: silent
    std::string label = "pretrain";

    // Every field: the identity ones decide whether a checkpoint continues this run.
    template <class V> void visit(V& v) const {
        v("batch_size", batch_size), v("steps", steps), v("epochs", epochs), v("lr", lr), v("min_lr", min_lr);
        v("weight_decay", weight_decay), v("no_weight_decay", no_weight_decay), v("lr_scale", lr_scale), v("warmup", warmup);
        v("clip_grad_norm", clip_grad_norm), v("accumulate", accumulate), v("temperature", temperature);
        v("modality_temperature", modality_temperature), v("modality_weight", modality_weight), v("seed", seed), v("schedule", schedule);
        v.local("checkpoint", checkpoint), v.local("checkpoint_every", checkpoint_every), v.local("resume", resume);
        v.local("numerics", numerics), v.local("stop_after", stop_after), v.local("progress", progress), v.local("label", label);
    }
};

/// What pretrain returns: per-step losses and modalities, the run's progress and its throughput.
struct PretrainResult {
    std::vector<float> losses;             // per step
    std::vector<std::int32_t> modalities;  // per step, the model's index of the batch's modality
    std::int64_t resumed_from = 0;         // step the run started at
    std::int64_t steps = 0, total_steps = 0;  // steps done so far (all calls) and planned
    double seconds = 0, samples_per_second = 0;  // this process's share of the run (two views each)
};

namespace detail {
// The trainers' name for Tensor::to<D>() (host batches onto the training device).
template <class D> Tensor<D> to_device(const Tensor<cpu>& host) { return host.template to<D>(); }
}  // namespace detail

// A bitwise fingerprint of the numerics: the projected embedding of each modality's first
// sample (views drawn with a fixed generator), FNV-1a hashed. Equal after a save and a load
// under the same code and machine; a difference means a resumed run cannot match an unbroken one.
template <class Model> std::string numerics_fingerprint(const Model& model, const std::vector<ModalityViews>& data) {
    using D = nn::device_of_t<typename Model::policy_type>;
    no_grad ng;
    std::uint64_t h = 14695981039346656037ull;
    const std::int64_t first[1] = {0};
    for (const auto& d : data) {
        Generator g(0);
        const Tensor<cpu> view = d.views(std::span<const std::int64_t>(first, 1), g).first;
        const std::vector<float> z =
            nn::value_of(model.forward(model.modality_index(d.modality), Var<D>(view.template to<D>()))).template to_vector<float>();
        for (const float f : z) {
            std::uint32_t bits = 0;
            std::memcpy(&bits, &f, sizeof bits);
            for (int k = 0; k < 4; ++k) h = (h ^ ((bits >> (8 * k)) & 0xffu)) * 1099511628211ull;
        }
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

template <class Model> PretrainResult pretrain(Model& model, const std::vector<ModalityViews>& data, const PretrainOptions& o) {
    using A = typename Model::policy_type;
    using D = nn::device_of_t<A>;
    const char* op = "train::pretrain";
    if (data.empty()) throw value_error(op, "expected at least one modality's data, got none");
    std::vector<std::size_t> index;  // data[k]'s modality in the model's list
    for (const auto& d : data) {
        index.push_back(model.modality_index(d.modality));
        if (!d.views) throw value_error(op, "expected a view maker for " + d.modality + ", got none");
    }
    if (!(o.warmup >= 0 && o.warmup < 1)) throw value_error(op, "expected warmup in [0, 1), got " + std::to_string(o.warmup));
    const auto temperature_of = [&o](const std::string& m) {
        const auto it = o.modality_temperature.find(m);
        return it == o.modality_temperature.end() ? o.temperature : it->second;
    };
    for (const auto& [m, t] : o.modality_temperature)
        if (!(t > 0)) throw value_error(op, "expected a positive temperature for " + m + ", got " + std::to_string(t));
    if (o.accumulate < 1) throw value_error(op, "expected accumulate >= 1, got " + std::to_string(o.accumulate));
    std::vector<std::int64_t> sizes, weights;
    for (const auto& d : data) {
        sizes.push_back(d.size);
        const auto it = o.modality_weight.find(d.modality);
        weights.push_back(it == o.modality_weight.end() ? 1 : it->second);
    }
    for (const auto& [m, w] : o.modality_weight)
        if (w < 1) throw value_error(op, "expected a turn weight >= 1 for " + m + ", got " + std::to_string(w));
    if (!o.modality_weight.empty() && o.schedule != data::ModalitySchedule::round_robin)
        throw value_error(op, "expected the round_robin schedule with modality_weight, got proportional");
    const data::ModalitySampler sampler(sizes, {.batch_size = o.batch_size, .schedule = o.schedule, .turn_weights = weights, .seed = o.seed});
    const std::int64_t per_epoch = sampler.steps_per_epoch();
    const std::int64_t total = o.steps > 0 ? o.steps : o.epochs * (per_epoch / o.accumulate);
    if (total < 1) throw value_error(op, "expected at least one step, got steps " + std::to_string(o.steps) + ", epochs " + std::to_string(o.epochs));

    optim::AdamW<D> opt(optim::scale_lr(optim::nn_param_groups<D>(model, o.weight_decay, o.no_weight_decay), o.lr_scale),
                        {.lr = o.lr, .weight_decay = o.weight_decay});
    Generator gen(o.seed);
    RunIdentity id;
    id.options("pretrain", o);
    std::vector<std::string> names;
    for (const auto& d : data) names.push_back(d.modality + ":" + std::to_string(d.size));
    id.value("data", names);
    LoopHooks<D> hooks;
    hooks.identity = id.str();
    hooks.fingerprint = [&] { return numerics_fingerprint(model, data); };
    std::int64_t cached_epoch = -1;
    std::vector<data::ModalityBatch> plan;
    hooks.step = [&](const StepContext& c) {
        // Sampler epochs, not loop epochs: with accumulation a loop epoch may end inside one.
        const std::int64_t epoch = (c.step * o.accumulate + c.micro) / per_epoch;
        if (epoch != cached_epoch) plan = sampler.epoch(cached_epoch = epoch);
        const data::ModalityBatch& b = plan[static_cast<std::size_t>((c.step * o.accumulate + c.micro) % per_epoch)];
        const ModalityViews& d = data[b.modality];
        const std::size_t m = index[b.modality];
        auto [v1, v2] = d.views(b.indices, c.gen);
        const Var<D> z1 = model.forward(m, Var<D>(v1.template to<D>()));
        const Var<D> z2 = model.forward(m, Var<D>(v2.template to<D>()));
        return StepLoss<D>{loss::nt_xent(z1, z2, {.temperature = temperature_of(d.modality)}), static_cast<std::int64_t>(b.indices.size()),
                           static_cast<std::int32_t>(m), d.modality};
    };
    const LoopOptions lo{.steps = total, .batches_per_epoch = per_epoch, .accumulate = o.accumulate, .lr = o.lr, .min_lr = o.min_lr,
                         .warmup = o.warmup * static_cast<double>(total), .clip_grad_norm = o.clip_grad_norm, .checkpoint = o.checkpoint,
                         .checkpoint_every = o.checkpoint_every, .resume = o.resume, .numerics = o.numerics, .stop_after = o.stop_after,
                         .progress = o.progress, .label = o.label};
    LoopResult r = run_loop(model, opt, gen, lo, hooks);
    PretrainResult result;
    result.losses = std::move(r.losses);
    result.modalities = std::move(r.tags);
    result.resumed_from = r.resumed_from;
    result.steps = r.steps;
    result.total_steps = r.total_steps;
    result.seconds = r.seconds;
    result.samples_per_second = r.samples_per_second;
    return result;
}

}  // namespace omni::train

#pragma once
// Omni-C's unimodal contrastive pretraining loop (Omni-C sec. III-B; the release's pretraining.py and utils/simclr_loss.py):
// modality-separated minibatches in round robin, two augmented views per sample through the
// shared encoder and that modality's head, NT-Xent, one AdamW over everything (weight decay 0.1
// on matrices, none on biases and norms) with a per-step linear warmup and cosine decay.
// Seeded and reproducible; checkpoints (io/checkpoint.hpp) are written atomically every k steps
// and a run resumes from its checkpoint to the same weights it would have reached unbroken.
//
//   std::vector<train::ModalityViews> data{{modality::image, n_images, image_views}, ...};
//   auto result = train::pretrain(model, data, {.steps = 600, .checkpoint = "run.ckpt"});
//
// The model is any module with forward(modality, Var) -> [B, E] (models::OmniC on autodiff<P>).
// A view maker turns a batch of dataset indices into two augmented host batches.
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <span>
#include <utility>

#include "omni/data/datasets.hpp"
#include "omni/io/checkpoint.hpp"
#include "omni/loss/nt_xent.hpp"
#include "omni/models/omni_c.hpp"
#include "omni/optim/schedule.hpp"
#include "omni/train/progress.hpp"

namespace omni::train {

using ViewMaker = std::function<std::pair<Tensor<cpu>, Tensor<cpu>>(std::span<const std::int64_t> indices, Generator& gen)>;

struct ModalityViews {
    models::modality modality;
    std::int64_t size = 0;  // items in the dataset the indices point into
    ViewMaker views;
};

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
    double temperature = 0.05;     // NT-Xent; the paper's 0.05 (the released code: 0.5)
    // Per-modality NT-Xent temperatures overriding `temperature` (one encoder may want a soft
    // loss for images and a sharp one for spoken words that differ in a few mel bands).
    std::map<models::modality, double> modality_temperature{};
    // Round robin: steps a modality takes per turn (default 1 each), e.g. {image: 2} trains images
    // twice as often as audio or text within one schedule; `steps` counts all modalities' steps.
    // Like modality_temperature, entries for modalities without data are ignored.
    std::map<models::modality, std::int64_t> modality_weight{};
    std::uint64_t seed = 42;
    data::ModalitySchedule schedule = data::ModalitySchedule::round_robin;
    std::string checkpoint{};            // empty: no checkpoints
    std::int64_t checkpoint_every = 0;   // steps; 0: only at the end
    bool resume = true;                  // continue from `checkpoint` when it exists
    // What to do with a checkpoint whose weights give other bits here than where it was saved
    // (other kernels or CPU features: anything that changes rounding), which cannot continue bit
    // for bit: warn on `progress` and continue, refuse (value_error, model left at its own
    // weights), or restart the run from the model's own weights (callers that cache runs).
    enum class on_other_numerics { warn, refuse, restart } numerics = on_other_numerics::warn;
    std::int64_t stop_after = 0;         // > 0: return after this many steps of this call (time slicing)
    std::FILE* progress = stderr;        // nullptr: silent
    std::string label = "pretrain";
};

struct PretrainResult {
    std::vector<float> losses;             // per step
    std::vector<std::int32_t> modalities;  // per step, models::modality as int
    std::int64_t resumed_from = 0;         // step the run started at
    std::int64_t steps = 0, total_steps = 0;  // steps done so far (all calls) and planned
    double seconds = 0, samples_per_second = 0;  // this process's share of the run (two views each)
};

namespace detail {
template <class D> Tensor<D> to_device(const Tensor<cpu>& host) {
    if constexpr (std::is_same_v<D, cpu>) {
        return host;
    } else {
        const Tensor<cpu> c = host.contiguous();
        Tensor<D> t = Tensor<D>::empty(c.shape(), c.type());
        if (c.numel()) D::copy_from_host(t.raw_data(), c.raw_data(), static_cast<std::size_t>(c.numel()) * size_of(c.type()));
        return t;
    }
}
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
        const std::vector<float> z = nn::value_of(model.forward(d.modality, Var<D>(detail::to_device<D>(view)))).template to_vector<float>();
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
    for (const auto& d : data)
        if (!d.views) throw value_error(op, std::string("expected a view maker for ") + models::name_of(d.modality) + ", got none");
    if (!(o.warmup >= 0 && o.warmup < 1)) throw value_error(op, "expected warmup in [0, 1), got " + std::to_string(o.warmup));
    const auto temperature_of = [&o](models::modality m) {
        const auto it = o.modality_temperature.find(m);
        return it == o.modality_temperature.end() ? o.temperature : it->second;
    };
    for (const auto& [m, t] : o.modality_temperature)
        if (!(t > 0)) throw value_error(op, std::string("expected a positive temperature for ") + models::name_of(m) + ", got " + std::to_string(t));
    std::vector<std::int64_t> sizes, weights;
    for (const auto& d : data) {
        sizes.push_back(d.size);
        const auto it = o.modality_weight.find(d.modality);
        weights.push_back(it == o.modality_weight.end() ? 1 : it->second);
    }
    for (const auto& [m, w] : o.modality_weight)
        if (w < 1) throw value_error(op, std::string("expected a turn weight >= 1 for ") + models::name_of(m) + ", got " + std::to_string(w));
    if (!o.modality_weight.empty() && o.schedule != data::ModalitySchedule::round_robin)
        throw value_error(op, "expected the round_robin schedule with modality_weight, got proportional");
    const data::ModalitySampler sampler(sizes, {.batch_size = o.batch_size, .schedule = o.schedule, .turn_weights = weights, .seed = o.seed});
    const std::int64_t per_epoch = sampler.steps_per_epoch();
    const std::int64_t total = o.steps > 0 ? o.steps : o.epochs * per_epoch;
    if (total < 1) throw value_error(op, "expected at least one step, got steps " + std::to_string(o.steps) + ", epochs " + std::to_string(o.epochs));

    optim::AdamW<D> opt(optim::scale_lr(optim::nn_param_groups<D>(model, o.weight_decay, o.no_weight_decay), o.lr_scale),
                        {.lr = o.lr, .weight_decay = o.weight_decay});
    const optim::CosineSchedule schedule{.base_lr = o.lr, .warmup_steps = o.warmup * static_cast<double>(total),
                                         .total_steps = static_cast<double>(total), .min_lr = o.min_lr};
    Generator gen(o.seed);
    io::TrainState state;
    state.rng_seed = o.seed;
    PretrainResult result;
    // What must match for a checkpoint to continue this run rather than another one.
    std::string recipe = "batch " + std::to_string(o.batch_size) + ", steps " + std::to_string(total) + ", lr " + std::to_string(o.lr) +
                         ", min_lr " + std::to_string(o.min_lr) + ", wd " + std::to_string(o.weight_decay) + ", warmup " +
                         std::to_string(o.warmup) + ", temperature " + std::to_string(o.temperature) + ", seed " + std::to_string(o.seed) +
                         ", schedule " + std::to_string(static_cast<int>(o.schedule));
    for (const auto& [m, t] : o.modality_temperature) recipe += std::string(", ") + models::name_of(m) + " temperature " + std::to_string(t);
    for (const auto& [m, w] : o.modality_weight) recipe += std::string(", ") + models::name_of(m) + " weight " + std::to_string(w);
    for (const auto& [name, x] : o.lr_scale) recipe += ", lr_scale " + name + " " + std::to_string(x);
    for (const auto& name : o.no_weight_decay) recipe += ", no_weight_decay " + name;
    recipe += ", data";
    for (const auto& d : data) recipe += std::string(" ") + models::name_of(d.modality) + ":" + std::to_string(d.size);
    if (!o.checkpoint.empty() && o.resume && io::checkpoint_exists(o.checkpoint)) {
        io::Safetensors initial;  // refuse / restart: the model goes back to these if the numerics differ
        if (o.numerics != PretrainOptions::on_other_numerics::warn)
            for (const auto& [name, t] : io::state_dict(model)) initial.tensors.emplace(name, t.clone());
        io::load_checkpoint(o.checkpoint, model, opt, state, {{"recipe", recipe}});  // another run's file is refused untouched
        if (state.step > total)
            throw value_error(op, o.checkpoint + " holds step " + std::to_string(state.step) + ", past this run's " + std::to_string(total) + " steps");
        gen.set_state(state.rng_seed, state.rng_offset);
        result.resumed_from = state.step;
        const auto saved = state.metadata.find("numerics");
        if (const std::string here = saved == state.metadata.end() ? "" : numerics_fingerprint(model, data); !here.empty() && here != saved->second) {
            const std::string why = o.checkpoint + " was saved by code or hardware with other numerics (fingerprint " + saved->second +
                                    ", here " + here + "): continuing it will not match an unbroken run";
            using N = PretrainOptions::on_other_numerics;
            if (o.numerics != N::warn) io::load_weights(model, initial);
            if (o.numerics == N::refuse) throw value_error(op, why);
            if (o.progress) std::fprintf(o.progress, "%s: %s: %s\n", o.label.c_str(), o.numerics == N::restart ? "restarting" : "warning", why.c_str());
            if (o.numerics == N::restart) {
                PretrainOptions fresh = o;
                fresh.resume = false;
                return pretrain(model, data, fresh);
            }
        }
    }
    const auto save = [&] {
        state.rng_seed = gen.seed();
        state.rng_offset = gen.offset();
        state.metadata["label"] = o.label;
        state.metadata["total_steps"] = std::to_string(total);
        state.metadata["recipe"] = recipe;
        state.metadata["numerics"] = numerics_fingerprint(model, data);
        io::save_checkpoint(o.checkpoint, model, opt, state);
    };

    const std::int64_t end = o.stop_after > 0 ? std::min(total, state.step + o.stop_after) : total;
    Progress progress(o.label, end - state.step, o.progress);
    std::int64_t cached_epoch = -1;
    std::vector<data::ModalityBatch> plan;
    for (std::int64_t step = state.step; step < end; ++step) {
        const std::int64_t epoch = step / per_epoch;
        if (epoch != cached_epoch) plan = sampler.epoch(cached_epoch = epoch);
        const data::ModalityBatch& b = plan[static_cast<std::size_t>(step % per_epoch)];
        const ModalityViews& d = data[b.modality];
        auto [v1, v2] = d.views(b.indices, gen);
        const Var<D> z1 = model.forward(d.modality, Var<D>(detail::to_device<D>(v1)));
        const Var<D> z2 = model.forward(d.modality, Var<D>(detail::to_device<D>(v2)));
        const Var<D> loss = loss::nt_xent(z1, z2, {.temperature = temperature_of(d.modality)});
        const double value = loss.template item<double>();
        if (!std::isfinite(value))
            throw value_error(op, std::string("loss became ") + (std::isnan(value) ? "NaN" : value > 0 ? "+inf" : "-inf") + " at step " + std::to_string(step) + " (" +
                                      models::name_of(d.modality) + "); lower lr (" + std::to_string(o.lr) + ") or raise temperature");
        loss.backward();
        opt.step(schedule.lr(static_cast<double>(step)));
        opt.zero_grad();
        state.step = step + 1;
        state.losses.push_back(static_cast<float>(value));
        state.modalities.push_back(static_cast<std::int32_t>(d.modality));
        progress.update(state.step - result.resumed_from, value, static_cast<std::int64_t>(b.indices.size()));
        if (!o.checkpoint.empty() && o.checkpoint_every > 0 && state.step % o.checkpoint_every == 0 && state.step < end) save();
    }
    if (!o.checkpoint.empty()) save();
    result.steps = state.step;
    result.total_steps = total;
    result.losses = state.losses;
    result.modalities = state.modalities;
    result.seconds = progress.seconds();
    result.samples_per_second = progress.samples_per_second();
    return result;
}

}  // namespace omni::train

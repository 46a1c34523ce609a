#pragma once
// The training loop every trainer shares: run_loop(model, optimizer, generator, options, hooks)
// calls the caller's step function for each micro-batch and owns everything around it: epochs or
// steps, the linear-warmup + cosine schedule (optim/schedule.hpp), gradient accumulation
// (optim/grad_accumulation.hpp's rule: each micro-batch loss scaled by 1/k) and global-norm
// clipping (optim/clip.hpp), the progress line, atomic checkpoints and resume (io/checkpoint.hpp,
// refused when the run's identity differs, train/run_identity.hpp), and the NaN stop: a
// non-finite loss or gradient throws value_error naming the step before the optimiser moves, and
// leaves the last checkpoint as it was. `detect_anomaly` runs the steps in anomaly mode
// (autodiff/anomaly.hpp), so the run stops at the first op that makes a NaN or an infinity instead.
//
//   optim::AdamW<cpu> opt(optim::nn_param_groups(model, 0.1), {.lr = 1e-3, .weight_decay = 0.1});
//   Generator gen(seed);
//   auto r = train::run_loop(model, opt, gen, {.epochs = 3, .batches_per_epoch = n / b, .lr = 1e-3},
//                            {.step = [&](const train::StepContext& c) { return train::StepLoss<cpu>{loss_of(c.batch), b}; }});
//
// The caller's data order comes from the generator the loop hands over: `epoch_begin` draws an
// epoch's order once (the loop replays it on a resume inside that epoch), `step` reads it.
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "omni/io/checkpoint.hpp"
#include "omni/optim/adamw.hpp"
#include "omni/optim/clip.hpp"
#include "omni/optim/schedule.hpp"
#include "omni/train/progress.hpp"
#include "omni/train/run_identity.hpp"

namespace omni::train {

// The unit the schedule counts in: optimiser steps, or fractional epochs e + k / n (the
// reference's per-iteration schedule for probes and fine-tuning).
enum class schedule_unit { step, epoch };

// What to do with a checkpoint whose fingerprint (LoopHooks::fingerprint) differs here from where
// it was saved (other kernels or CPU features), which cannot continue bit for bit: warn on
// `progress` and continue, refuse (value_error, model back at its own weights), or restart the run
// from the model's own weights.
enum class on_other_numerics { warn, refuse, restart };

/// Options of run_loop: length, accumulation, schedule, clipping, checkpoints and resume, progress line.
struct LoopOptions {
    std::int64_t steps = 0;               // optimiser steps; 0: `epochs` epochs
    std::int64_t epochs = 1;
    std::int64_t batches_per_epoch = 1;   // micro-batches the data gives per epoch
    std::int64_t accumulate = 1;          // micro-batches per optimiser step; a trailing partial group is skipped
    double lr = 1e-4, min_lr = 1e-6;
    double warmup = 0;                    // linear warmup length in the schedule's unit
    schedule_unit unit = schedule_unit::step;
    double clip_grad_norm = 0;            // > 0: clip the global gradient L2 norm to this
    std::string checkpoint{};             // empty: no checkpoints
    std::int64_t checkpoint_every = 0;    // steps; 0: only at the end
    bool resume = true;                   // continue from `checkpoint` when it exists
    on_other_numerics numerics = on_other_numerics::warn;
    std::int64_t stop_after = 0;          // > 0: return after this many steps of this call (time slicing)
    std::FILE* progress = stderr;         // nullptr: silent
    std::string label = "train";          // starts the progress line; errors name train::<label>
    bool detect_anomaly = false;          // anomaly mode for the steps: anomaly_error names the first op making NaN or inf

    template <class V> void visit(V& v) const {
        v("steps", steps), v("epochs", epochs), v("batches_per_epoch", batches_per_epoch), v("accumulate", accumulate);
        v("lr", lr), v("min_lr", min_lr), v("warmup", warmup), v("unit", unit), v("clip_grad_norm", clip_grad_norm);
        v.local("checkpoint", checkpoint), v.local("checkpoint_every", checkpoint_every), v.local("resume", resume);
        v.local("numerics", numerics), v.local("stop_after", stop_after), v.local("progress", progress), v.local("label", label);
        v.local("detect_anomaly", detect_anomaly);  // local: it changes no number, so a run resumes with it on or off
    }
};

/// Where the loop stands when it asks for a micro-batch's loss.
struct StepContext {
    std::int64_t step = 0;   // optimiser step, from 0
    std::int64_t epoch = 0;
    std::int64_t batch = 0;  // micro-batch within the epoch, from 0
    std::int64_t micro = 0;  // micro-batch within the step, from 0 to accumulate - 1
    Generator& gen;          // the run's generator (augmentations)
};

/// What the step hook returns for one micro-batch: its loss on the tape, sample count, tag and name.
template <class P> struct StepLoss {
    Var<P> loss;               // the micro-batch's scalar mean loss, on the tape
    std::int64_t samples = 0;  // items it consumed (the progress line's rate)
    std::int32_t tag = -1;     // recorded per step in TrainState::modalities (e.g. the modality)
    std::string what{};        // names the batch in a divergence error, e.g. "image"
};

/// The caller's side of run_loop: the step function (required), epoch hooks and a numerics fingerprint.
template <class P> struct LoopHooks {
    std::function<StepLoss<P>(const StepContext&)> step;                   // required
    std::function<void(std::int64_t epoch, Generator& gen)> epoch_begin{};  // draws an epoch's order
    std::function<void(std::int64_t epoch, io::TrainState& state)> epoch_end{};  // evaluation; may write state.metadata
    std::function<std::string()> fingerprint{};  // bitwise summary of the model's numerics (see on_other_numerics)
    std::string identity{};  // the caller's options and data (RunIdentity); the loop adds its own options and the model
};

/// What run_loop returns: per-step losses and tags, and where the run started and stands.
struct LoopResult {
    std::vector<float> losses;           // per step, all calls of the run
    std::vector<std::int32_t> tags;      // per step: StepLoss::tag
    std::int64_t resumed_from = 0;       // step this call started at
    std::int64_t steps = 0, total_steps = 0;
    double seconds = 0, samples_per_second = 0;  // this call's share
    io::TrainState state;                // as saved last (metadata included)
};

namespace detail {
inline const char* non_finite_name(double x) { return std::isnan(x) ? "NaN" : x > 0 ? "+inf" : "-inf"; }

template <class P> double grad_norm(const std::vector<optim::ParamGroup<P>>& groups) {
    double squares = 0;
    for (const auto& g : groups)
        for (const auto& p : g.params)
            if (const Tensor<P> grad = p.grad(); grad.defined()) squares += sum_of_squares(grad);
    return std::sqrt(squares);
}
}  // namespace detail

// 0..n-1 in a random order: Fisher-Yates on the generator's uniforms (one epoch's order).
inline std::vector<std::int64_t> shuffled(std::int64_t n, Generator& gen) {
    std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), 0);
    for (std::int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[static_cast<std::int64_t>(gen.uniform() * static_cast<double>(i + 1))]);
    return perm;
}

// The identity run_loop stores in a checkpoint's "recipe" and requires on resume.
template <nn::module M> std::string loop_identity(M& model, const LoopOptions& o, const std::string& caller) {
    RunIdentity id;
    if (!caller.empty()) id.value("run", caller);
    return id.options("loop", o).model("model", model).str();
}

template <nn::module M, class P>
LoopResult run_loop(M& model, optim::AdamW<P>& opt, Generator& gen, const LoopOptions& o, const LoopHooks<P>& hooks) {
    const std::string op = "train::" + o.label;
    if (!hooks.step) throw value_error(op, "expected a step function, got none");
    if (o.batches_per_epoch < 1 || o.accumulate < 1 || o.batches_per_epoch < o.accumulate)
        throw value_error(op, "expected 1 <= accumulate <= batches_per_epoch, got accumulate " + std::to_string(o.accumulate) +
                                  " and batches_per_epoch " + std::to_string(o.batches_per_epoch));
    const std::int64_t per_epoch = o.batches_per_epoch / o.accumulate;  // optimiser steps
    const std::int64_t total = o.steps > 0 ? o.steps : o.epochs * per_epoch;
    if (total < 1) throw value_error(op, "expected at least one step, got steps " + std::to_string(o.steps) + ", epochs " + std::to_string(o.epochs));
    if (!(o.clip_grad_norm >= 0)) throw value_error(op, "expected clip_grad_norm >= 0, got " + std::to_string(o.clip_grad_norm));
    const bool epochs_unit = o.unit == schedule_unit::epoch;
    const double length = epochs_unit ? (o.steps > 0 ? static_cast<double>(o.steps) / static_cast<double>(per_epoch) : static_cast<double>(o.epochs))
                                      : static_cast<double>(total);
    const optim::CosineSchedule schedule{.base_lr = o.lr, .warmup_steps = o.warmup, .total_steps = length, .min_lr = o.min_lr};
    schedule.validate();
    const auto lr_at = [&](std::int64_t step) {
        if (!epochs_unit) return schedule.lr(static_cast<double>(step));
        return schedule.lr(static_cast<double>(step / per_epoch) + static_cast<double>(step % per_epoch) / static_cast<double>(per_epoch));
    };
    const std::string identity = loop_identity(model, o, hooks.identity);
    const std::uint64_t seed0 = gen.seed(), offset0 = gen.offset();

    io::TrainState state;
    state.rng_seed = seed0;
    state.rng_offset = offset0;
    LoopResult result;
    std::uint64_t epoch_offset = offset0;  // the generator where the current epoch began
    bool replay_epoch = false;
    if (!o.checkpoint.empty() && o.resume && io::checkpoint_exists(o.checkpoint)) {
        io::Safetensors initial;  // refuse / restart: the model goes back to these if the numerics differ
        if (o.numerics != on_other_numerics::warn)
            for (const auto& [name, t] : io::state_dict(model)) initial.tensors.emplace(name, t.clone());
        io::load_checkpoint(o.checkpoint, model, opt, state, {{"recipe", identity}});  // another run's file is refused untouched
        if (state.step > total)
            throw value_error(op, o.checkpoint + " holds step " + std::to_string(state.step) + ", past this run's " + std::to_string(total) + " steps");
        gen.set_state(state.rng_seed, state.rng_offset);
        result.resumed_from = state.step;
        if (const auto e = state.metadata.find("epoch_rng_offset"); e != state.metadata.end()) epoch_offset = std::stoull(e->second);
        replay_epoch = state.step % per_epoch != 0;
        const auto saved = state.metadata.find("numerics");
        if (const std::string here = saved == state.metadata.end() || !hooks.fingerprint ? "" : hooks.fingerprint();
            !here.empty() && here != saved->second) {
            const std::string why = o.checkpoint + " was saved by code or hardware with other numerics (fingerprint " + saved->second +
                                    ", here " + here + "): continuing it will not match an unbroken run";
            if (o.numerics != on_other_numerics::warn) io::load_weights(model, initial);
            if (o.numerics == on_other_numerics::refuse) throw value_error(op, why);
            if (o.progress)
                std::fprintf(o.progress, "%s: %s: %s\n", o.label.c_str(), o.numerics == on_other_numerics::restart ? "restarting" : "warning", why.c_str());
            if (o.numerics == on_other_numerics::restart) {  // as a run that never saw the file
                for (auto& group : opt.state)
                    for (auto& s : group) s = optim::AdamWState<P>{};
                gen.set_state(seed0, offset0);
                state = io::TrainState{.rng_seed = seed0, .rng_offset = offset0};
                result.resumed_from = 0;
                epoch_offset = offset0;
                replay_epoch = false;
            }
        }
    }
    const auto save = [&] {
        state.rng_seed = gen.seed();
        state.rng_offset = gen.offset();
        state.metadata["label"] = o.label;
        state.metadata["total_steps"] = std::to_string(total);
        state.metadata["recipe"] = identity;
        state.metadata["epoch_rng_offset"] = std::to_string(epoch_offset);
        if (hooks.fingerprint) state.metadata["numerics"] = hooks.fingerprint();
        io::save_checkpoint(o.checkpoint, model, opt, state);
    };
    if (replay_epoch && hooks.epoch_begin) {  // the epoch's order as it was drawn, then the generator where the file left it
        const std::uint64_t at = gen.offset();
        gen.set_state(gen.seed(), epoch_offset);
        hooks.epoch_begin(state.step / per_epoch, gen);
        gen.set_state(gen.seed(), at);
    }

    const std::int64_t end = o.stop_after > 0 ? std::min(total, state.step + o.stop_after) : total;
    Progress progress(o.label, end - state.step, o.progress);
    std::optional<omni::detect_anomaly> anomaly;
    if (o.detect_anomaly) anomaly.emplace();
    for (std::int64_t step = state.step; step < end; ++step) {
        const std::int64_t epoch = step / per_epoch, k = step % per_epoch;
        if (k == 0) {
            epoch_offset = gen.offset();
            if (hooks.epoch_begin) hooks.epoch_begin(epoch, gen);
        }
        double value = 0;
        std::int64_t samples = 0;
        std::int32_t tag = -1;
        for (std::int64_t micro = 0; micro < o.accumulate; ++micro) try {
            const StepLoss<P> r = hooks.step(StepContext{step, epoch, k * o.accumulate + micro, micro, gen});
            const double v = r.loss.template item<double>();
            if (!std::isfinite(v))
                throw value_error(op, std::string("loss became ") + detail::non_finite_name(v) + " at step " + std::to_string(step) +
                                          (r.what.empty() ? "" : " (" + r.what + ")") + "; lower lr (" + std::to_string(o.lr) + ")" +
                                          (o.checkpoint.empty() ? "" : "; " + o.checkpoint + " keeps the last good state"));
            if (o.accumulate == 1) {  // no scaling: one micro-batch is the plain loop, bit for bit
                r.loss.backward();
                value = v;
            } else {
                mul(r.loss, 1.0 / static_cast<double>(o.accumulate)).backward();
                value += v / static_cast<double>(o.accumulate);
            }
            samples += r.samples;
            tag = r.tag;
        } catch (const anomaly_error& e) {  // the op said what it made; add where in the run
            const std::string head = std::string("anomaly_error: ") + e.op() + ": ";
            throw anomaly_error(e.op(), std::string(e.what()).substr(head.size()) + " (" + op + ", step " + std::to_string(step) + ")");
        }
        const double norm = o.clip_grad_norm > 0 ? optim::clip_grad_norm(opt.groups, o.clip_grad_norm) : detail::grad_norm(opt.groups);
        if (!std::isfinite(norm))
            throw value_error(op, std::string("gradient norm became ") + detail::non_finite_name(norm) + " at step " + std::to_string(step) +
                                      " (the loss was " + std::to_string(value) + ")" +
                                      (o.checkpoint.empty() ? "" : "; " + o.checkpoint + " keeps the last good state"));
        opt.step(lr_at(step));
        opt.zero_grad();
        state.step = step + 1;
        state.losses.push_back(static_cast<float>(value));
        state.modalities.push_back(tag);
        progress.update(state.step - result.resumed_from, value, samples);
        if (k == per_epoch - 1 && hooks.epoch_end) hooks.epoch_end(epoch, state);
        if (!o.checkpoint.empty() && o.checkpoint_every > 0 && state.step % o.checkpoint_every == 0 && state.step < end) save();
    }
    if (!o.checkpoint.empty()) save();
    result.steps = state.step;
    result.total_steps = total;
    result.losses = state.losses;
    result.tags = state.modalities;
    result.seconds = progress.seconds();
    result.samples_per_second = progress.samples_per_second();
    result.state = std::move(state);
    return result;
}

}  // namespace omni::train

#pragma once
// Staged training and question-answer evaluation of models::OmniVinci on audio-visual clips
// (OmniVinci, arXiv 2510.15870, sec. 2: unimodal training first, then omni-modal joint
// training with L = L_LM + lambda L_align), scaled down to two CPU cores:
//
//   stage 0  unimodal encoders: the ViT classifies the clips' frames, the audio encoder labels
//            each of its tokens with the word spoken at that time (or none); then both freeze
//            and every clip is encoded once (ClipFeatures), as a released model's towers are
//            frozen features to the stages after;
//   stage 1  projectors (+ OmniAlignNet): the LLM is frozen, the joint loss trains the bridge;
//   stage 2  projectors, OmniAlignNet and the LLM jointly.
//
// Each stage is one train::run_loop (schedule, clipping, atomic checkpoints, resume, NaN stop).
// A batch holds distinct clips with one random question each, so OmniAlignNet's in-batch
// negatives are other clips. evaluate_qa scores exact match: greedy decoding reproduces the
// answer and its end token exactly when every teacher-forced argmax on the answer is right,
// so the score is computed in batches from one forward pass (test: omnivinci_train_test).
#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "omni/data/audio/whisper_mel.hpp"
#include "omni/data/av_clips.hpp"
#include "omni/data/text/word_vocab.hpp"
#include "omni/loss/cross_entropy.hpp"
#include "omni/models/omnivinci.hpp"
#include "omni/nn/linear.hpp"
#include "omni/optim/adamw.hpp"
#include "omni/optim/param_group.hpp"
#include "omni/train/loop.hpp"

namespace omni::train {

/// The staged OmniVinci training recipe: batch sizes, each stage's steps and learning rate, regularisation, pixel statistics.
struct OmniVinciRecipe {
    std::int64_t batch = 8;                  // clips per step
    std::int64_t questions_per_clip = 6;     // questions asked in turn about each clip of a step (a conversation)
    std::int64_t vision_steps = 200;         // stage 0: frame classification
    std::int64_t audio_steps = 150;          // stage 0: per-token word labelling
    std::int64_t encoder_batch = 16;         // clips per audio step; frames per vision step x 4
    double encoder_lr = 2e-3;
    std::int64_t align_steps = 100;          // stage 1
    double align_lr = 3e-3;
    std::int64_t joint_steps = 2000;         // stage 2
    double joint_lr = 3e-3;
    double weight_decay = 0.05;
    double warmup = 0.05;                    // fraction of each stage's steps
    double clip_grad_norm = 1.0;
    double pixel_mean = 0.2860, pixel_std = 0.3530;  // Fashion-MNIST's statistics

    template <class V> void visit(V& v) const {
        v("batch", batch), v("questions_per_clip", questions_per_clip), v("vision_steps", vision_steps), v("audio_steps", audio_steps), v("encoder_batch", encoder_batch);
        v("encoder_lr", encoder_lr), v("align_steps", align_steps), v("align_lr", align_lr), v("joint_steps", joint_steps);
        v("joint_lr", joint_lr), v("weight_decay", weight_decay), v("warmup", warmup), v("clip_grad_norm", clip_grad_norm);
        v("pixel_mean", pixel_mean), v("pixel_std", pixel_std);
    }
};

/// Where a run keeps its checkpoints (empty: none) and what it prints.
struct OmniVinciRunOptions {
    std::filesystem::path checkpoint_dir{};
    std::FILE* progress = stderr;
    std::string label = "omnivinci";
};

/// A clip's model inputs on the host: normalised frames [F, C, H, W] and log-mel [n_mels, 2P].
struct ClipInputs {
    std::vector<Tensor<cpu>> frames, mel;
};

/// The frozen encoders' outputs per clip: vision [F, patches, dim], audio [tokens, d_model].
struct ClipFeatures {
    std::vector<Tensor<cpu>> vision, audio;
};

/// One question of one clip.
struct QaSample {
    std::int32_t clip = 0, question = 0;
};

/// Exact-match accuracy per question type (visual, audio, cross, temporal) and overall.
struct QaScores {
    std::map<std::string, double> accuracy;        // type -> fraction correct
    std::map<std::string, std::int64_t> count;     // type -> questions
    double overall = 0;
    std::int64_t total = 0;
    std::vector<bool> correct;                     // per evaluated sample, in order
};

namespace detail {

inline std::string ov_op(const char* what) { return std::string("train::omnivinci: ") + what; }

// Every question of the clips of one split.
inline std::vector<QaSample> qa_samples(const std::vector<data::AvClip>& clips, const std::string& split) {
    std::vector<QaSample> out;
    for (std::size_t c = 0; c < clips.size(); ++c)
        if (split.empty() || clips[c].split == split)
            for (std::size_t q = 0; q < clips[c].questions.size(); ++q)
                out.push_back({static_cast<std::int32_t>(c), static_cast<std::int32_t>(q)});
    return out;
}

inline std::vector<std::int32_t> clips_of(const std::vector<data::AvClip>& clips, const std::string& split) {
    std::vector<std::int32_t> out;
    for (std::size_t c = 0; c < clips.size(); ++c)
        if (clips[c].split == split && !clips[c].questions.empty()) out.push_back(static_cast<std::int32_t>(c));
    return out;
}

// The parameters of `model` whose names start with one of `prefixes`, split by timm's decay rule.
template <class D, class M>
std::vector<optim::ParamGroup<D>> groups_with_prefix(M& model, const std::vector<std::string>& prefixes, double weight_decay) {
    std::vector<optim::ParamGroup<D>> out;
    for (auto& g : optim::nn_param_groups<D>(model, weight_decay)) {
        optim::ParamGroup<D> kept{.lr_scale = g.lr_scale, .weight_decay = g.weight_decay};
        for (std::size_t i = 0; i < g.params.size(); ++i)
            for (const auto& p : prefixes)
                if (g.names[i].rfind(p, 0) == 0) {
                    kept.names.push_back(g.names[i]);
                    kept.params.push_back(g.params[i]);
                    break;
                }
        if (!kept.params.empty()) out.push_back(std::move(kept));
    }
    if (out.empty()) throw value_error(ov_op("stage"), "expected trainable parameters under the stage's prefixes, got none");
    return out;
}

// Stage 0 depends on the encoder options only, so runs that differ in later stages share it.
inline RunIdentity encoder_identity(const OmniVinciRecipe& o) {
    RunIdentity id;
    id.value("vision_steps", o.vision_steps).value("audio_steps", o.audio_steps).value("encoder_batch", o.encoder_batch);
    id.value("encoder_lr", o.encoder_lr).value("weight_decay", o.weight_decay).value("warmup", o.warmup).value("clip_grad_norm", o.clip_grad_norm);
    id.value("pixel_mean", o.pixel_mean).value("pixel_std", o.pixel_std);
    return id;
}

inline std::filesystem::path stage_file(const OmniVinciRunOptions& r, const char* name) {
    return r.checkpoint_dir.empty() ? std::filesystem::path{} : r.checkpoint_dir / (std::string(name) + ".ckpt");
}

inline LoopOptions stage_loop(const OmniVinciRecipe& o, std::int64_t steps, double lr, const OmniVinciRunOptions& r, const char* name) {
    return {.steps = steps, .lr = lr, .min_lr = lr * 0.01, .warmup = o.warmup * static_cast<double>(steps),
            .clip_grad_norm = o.clip_grad_norm, .checkpoint = stage_file(r, name).string(), .checkpoint_every = std::max<std::int64_t>(steps / 4, 1),
            .progress = r.progress, .label = r.label + "/" + name};
}

// A classifier over an encoder: shares the encoder's tensors, so training it trains the model's.
template <class P, class Enc> struct EncoderProbe : nn::Module {
    Enc encoder;
    nn::Linear<P> head;
    template <class V> void visit(V& v) {
        v.module("encoder", encoder);
        v.module("head", head);
    }
};

}  // namespace detail

// Frames normalised with the recipe's statistics and log-mel padded to the audio encoder's
// input length, for every clip.
inline ClipInputs prepare_inputs(const models::OmniVinciConfig& cfg, const std::vector<data::AvClip>& clips, const OmniVinciRecipe& o) {
    const data::WhisperMel mel({.n_mels = static_cast<int>(cfg.audio.n_mels), .pad_or_truncate = true,
                                .chunk_samples = cfg.audio.input_frames() * data::WhisperMelOptions::hop});
    ClipInputs in;
    for (const auto& c : clips) {
        const Shape s = c.frames.shape();
        if (s[1] != cfg.vision.channels || s[2] != cfg.vision.height || s[3] != cfg.vision.width)
            throw shape_error(detail::ov_op("prepare_inputs"), "clip " + c.id + ": expected frames [F, " + std::to_string(cfg.vision.channels) + ", " +
                                                                   std::to_string(cfg.vision.height) + ", " + std::to_string(cfg.vision.width) +
                                                                   "], got " + s.str());
        std::vector<float> px = c.frames.to_vector<float>();
        for (float& x : px) x = static_cast<float>((x - o.pixel_mean) / o.pixel_std);
        in.frames.push_back(Tensor<cpu>::from_data(px, s));
        in.mel.push_back(mel(c.audio));
    }
    return in;
}

// Stage 0, vision: the ViT's mean patch token through a linear head classifies every frame of the
// training clips (cross-entropy, AdamW). The encoder is then frozen.
template <class D, class Model>
LoopResult pretrain_vision(Model& model, const std::vector<data::AvClip>& clips, const ClipInputs& in, const OmniVinciRecipe& o,
                           std::uint64_t seed, const OmniVinciRunOptions& r) {
    using P = autodiff<D>;
    std::vector<std::pair<std::int32_t, std::int32_t>> frames;  // (clip, frame) of the training clips
    for (std::size_t c = 0; c < clips.size(); ++c)
        if (clips[c].split == "train")
            for (std::size_t f = 0; f < clips[c].frame_info.size(); ++f) frames.push_back({static_cast<std::int32_t>(c), static_cast<std::int32_t>(f)});
    if (frames.empty()) throw value_error(detail::ov_op("pretrain_vision"), "expected training clips with frames, got none");
    Generator g(seed);
    detail::EncoderProbe<P, decltype(model.vision)> probe;
    probe.encoder = model.vision;  // shares the model's tensors
    probe.head = nn::Linear<P>({.in = model.cfg.vision.dim, .out = 10}, g);
    nn::name_modules(probe);
    optim::AdamW<D> opt(optim::nn_param_groups<D>(probe, o.weight_decay), {.lr = o.encoder_lr, .weight_decay = o.weight_decay});
    const std::int64_t B = o.encoder_batch * 4;
    std::vector<std::int64_t> order;
    const std::int64_t per_epoch = std::max<std::int64_t>(static_cast<std::int64_t>(frames.size()) / B, 1);
    LoopHooks<D> hooks;
    hooks.epoch_begin = [&](std::int64_t, Generator& gen) { order = shuffled(static_cast<std::int64_t>(frames.size()), gen); };
    hooks.step = [&](const StepContext& c) {
        std::vector<Tensor<cpu>> xs;
        std::vector<std::int64_t> ys;
        for (std::int64_t i = 0; i < B; ++i) {
            const auto [ci, fi] = frames[static_cast<std::size_t>(order[static_cast<std::size_t>((c.batch * B + i) % static_cast<std::int64_t>(order.size()))])];
            xs.push_back(in.frames[static_cast<std::size_t>(ci)].slice(0, fi, fi + 1));
            ys.push_back(clips[static_cast<std::size_t>(ci)].frame_info[static_cast<std::size_t>(fi)].label);
        }
        const Var<D> x(Tensor<D>(concat(xs, 0)));
        const Var<D> h = mean(probe.encoder.forward_features(x), {1});
        const Var<D> logits = probe.head(h);
        return StepLoss<D>{loss::cross_entropy(logits, Var<D>(Tensor<D>::from_data(ys, {B}))), B, -1, "frames"};
    };
    hooks.identity = detail::encoder_identity(o).value("frames", static_cast<std::int64_t>(frames.size())).value("seed", seed).str();
    LoopOptions lo = detail::stage_loop(o, o.vision_steps, o.encoder_lr, r, "vision");
    lo.batches_per_epoch = per_epoch;
    return run_loop(probe, opt, g, lo, hooks);
}

// Audio token k of the encoder output covers [k, k + 1) x token_seconds; its target is the
// digit spoken at its centre, or 10 (no word).
inline std::vector<std::int64_t> audio_token_targets(const data::AvClip& c, std::int64_t tokens, double token_seconds) {
    std::vector<std::int64_t> y(static_cast<std::size_t>(tokens), 10);
    for (std::int64_t k = 0; k < tokens; ++k) {
        const double t = (static_cast<double>(k) + 0.5) * token_seconds;
        for (const auto& w : c.words)
            if (t >= w.start && t < w.end) y[static_cast<std::size_t>(k)] = w.digit;
    }
    return y;
}

// Stage 0, audio: every output token of the audio encoder through a linear head names the word
// spoken at its time, or none (cross-entropy over 11 classes). The encoder is then frozen.
template <class D, class Model>
LoopResult pretrain_audio(Model& model, const std::vector<data::AvClip>& clips, const ClipInputs& in, const OmniVinciRecipe& o,
                          std::uint64_t seed, const OmniVinciRunOptions& r) {
    using P = autodiff<D>;
    const std::vector<std::int32_t> train = detail::clips_of(clips, "train");
    if (train.empty()) throw value_error(detail::ov_op("pretrain_audio"), "expected training clips, got none");
    const std::int64_t N = model.cfg.audio.output_tokens();
    const double token_seconds = static_cast<double>(model.cfg.audio.input_frames()) / 100.0 / static_cast<double>(N);
    Generator g(seed + 1);
    detail::EncoderProbe<P, decltype(model.audio)> probe;
    probe.encoder = model.audio;  // shares the model's tensors
    probe.head = nn::Linear<P>({.in = model.cfg.audio.d_model, .out = 11}, g);
    nn::name_modules(probe);
    optim::AdamW<D> opt(optim::nn_param_groups<D>(probe, o.weight_decay), {.lr = o.encoder_lr, .weight_decay = o.weight_decay});
    const std::int64_t B = o.encoder_batch;
    std::vector<std::int64_t> order;
    LoopHooks<D> hooks;
    hooks.epoch_begin = [&](std::int64_t, Generator& gen) { order = shuffled(static_cast<std::int64_t>(train.size()), gen); };
    hooks.step = [&](const StepContext& c) {
        std::vector<Tensor<cpu>> xs;
        std::vector<std::int64_t> ys;
        for (std::int64_t i = 0; i < B; ++i) {
            const std::int32_t ci = train[static_cast<std::size_t>(order[static_cast<std::size_t>((c.batch * B + i) % static_cast<std::int64_t>(order.size()))])];
            xs.push_back(in.mel[static_cast<std::size_t>(ci)].unsqueeze(0));
            const auto y = audio_token_targets(clips[static_cast<std::size_t>(ci)], N, token_seconds);
            ys.insert(ys.end(), y.begin(), y.end());
        }
        const Var<D> h = probe.encoder(Var<D>(Tensor<D>(concat(xs, 0))));  // [B, N, d]
        const Var<D> logits = probe.head(h.reshape({B * N, model.cfg.audio.d_model}));
        return StepLoss<D>{loss::cross_entropy(logits, Var<D>(Tensor<D>::from_data(ys, {B * N}))), B, -1, "audio"};
    };
    hooks.identity = detail::encoder_identity(o).value("clips", static_cast<std::int64_t>(train.size())).value("seed", seed).str();
    LoopOptions lo = detail::stage_loop(o, o.audio_steps, o.encoder_lr, r, "audio");
    lo.batches_per_epoch = std::max<std::int64_t>(static_cast<std::int64_t>(train.size()) / B, 1);
    return run_loop(probe, opt, g, lo, hooks);
}

// Every clip through the (frozen) encoders, without a tape.
template <class D, class Model> ClipFeatures encode_clips(const Model& model, const ClipInputs& in, std::int64_t batch = 16) {
    no_grad ng;
    ClipFeatures f;
    for (std::size_t c = 0; c < in.frames.size(); ++c) {
        const Var<D> v = model.encode_frames(Var<D>(Tensor<D>(in.frames[c])));
        f.vision.push_back(Tensor<cpu>(nn::value_of(v)).clone());
    }
    for (std::size_t lo = 0; lo < in.mel.size(); lo += static_cast<std::size_t>(batch)) {
        const std::size_t hi = std::min(in.mel.size(), lo + static_cast<std::size_t>(batch));
        std::vector<Tensor<cpu>> xs;
        for (std::size_t c = lo; c < hi; ++c) xs.push_back(in.mel[c].unsqueeze(0));
        const Tensor<cpu> a = Tensor<cpu>(nn::value_of(model.encode_audio(Var<D>(Tensor<D>(concat(xs, 0))))));
        for (std::size_t c = lo; c < hi; ++c) f.audio.push_back(a.select(0, static_cast<std::int64_t>(c - lo)).clone());
    }
    return f;
}

/// One row of a batch: a clip and the questions asked about it, in order.
struct QaRow {
    std::int32_t clip = 0;
    std::vector<std::int32_t> questions;
};

// A batch in the model's layout: the features of each row's clip, and ids
// [<media> q1 a1 <eos> q2 a2 <eos> ...] right-padded with <pad>, every answer and its <eos>
// labelled (a row with several questions is a multi-turn conversation about one clip).
template <class P>
models::OmniBatch<P> make_batch(const ClipFeatures& f, const std::vector<data::AvClip>& clips, const data::WordVocab& vocab,
                                std::span<const QaRow> rows_in) {
    using D = nn::device_of_t<P>;
    const std::int64_t B = static_cast<std::int64_t>(rows_in.size());
    std::vector<std::vector<std::int64_t>> rows, labels;
    std::vector<Tensor<cpu>> vis, aud;
    models::OmniBatch<P> b;
    for (const QaRow& row : rows_in) {
        const data::AvClip& c = clips.at(static_cast<std::size_t>(row.clip));
        std::vector<std::int64_t> ids{data::WordVocab::media}, lab{-100};
        for (const std::int32_t qi : row.questions) {
            const data::AvQuestion& q = c.questions.at(static_cast<std::size_t>(qi));
            for (auto t : vocab.encode(q.text)) ids.push_back(t), lab.push_back(-100);
            for (auto t : vocab.encode(q.answer)) ids.push_back(t), lab.push_back(t);
            ids.push_back(data::WordVocab::eos), lab.push_back(data::WordVocab::eos);
        }
        rows.push_back(std::move(ids));
        labels.push_back(std::move(lab));
        vis.push_back(f.vision.at(static_cast<std::size_t>(row.clip)));
        aud.push_back(f.audio.at(static_cast<std::size_t>(row.clip)).unsqueeze(0));
        b.frame_counts.push_back(vis.back().shape()[0]);
        b.fps.push_back(c.fps);
        b.audio_seconds.push_back(std::min(c.duration, static_cast<double>(c.audio.size()) / data::WhisperMelOptions::sample_rate));
    }
    std::size_t L = 0;
    for (const auto& r : rows) L = std::max(L, r.size());
    std::vector<std::int64_t> ids(static_cast<std::size_t>(B) * L, data::WordVocab::pad), lab(static_cast<std::size_t>(B) * L, -100);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        std::copy(rows[i].begin(), rows[i].end(), ids.begin() + static_cast<std::ptrdiff_t>(i * L));
        std::copy(labels[i].begin(), labels[i].end(), lab.begin() + static_cast<std::ptrdiff_t>(i * L));
    }
    b.vision_features = Tensor<P>(Tensor<D>(concat(vis, 0)));
    b.audio_features = Tensor<P>(Tensor<D>(concat(aud, 0)));
    b.ids = Tensor<P>(Tensor<D>::from_data(ids, {B, static_cast<std::int64_t>(L)}));
    b.labels = Tensor<P>(Tensor<D>::from_data(lab, {B, static_cast<std::int64_t>(L)}));
    return b;
}

// One question per row.
template <class P>
models::OmniBatch<P> make_batch(const ClipFeatures& f, const std::vector<data::AvClip>& clips, const data::WordVocab& vocab,
                                std::span<const QaSample> samples) {
    std::vector<QaRow> rows;
    for (const auto& s : samples) rows.push_back({s.clip, {s.question}});
    return make_batch<P>(f, clips, vocab, std::span<const QaRow>(rows));
}

// Stages 1 and 2 on the training clips: each step takes `batch` distinct clips in an epoch's
// shuffled order, with one question of each drawn by the loop's generator. Stage 1 trains the
// projectors (and OmniAlignNet) with the LLM frozen; stage 2 adds the LLM. The encoders stay
// frozen (their features come precomputed). Returns both stages' results.
template <class D, class Model>
std::pair<LoopResult, LoopResult> train_qa(Model& model, const ClipFeatures& f, const std::vector<data::AvClip>& clips,
                                           const data::WordVocab& vocab, const OmniVinciRecipe& o, std::uint64_t seed,
                                           const OmniVinciRunOptions& r) {
    using P = autodiff<D>;
    const std::vector<std::int32_t> train = detail::clips_of(clips, "train");
    if (static_cast<std::int64_t>(train.size()) < o.batch)
        throw value_error(detail::ov_op("train_qa"), "expected at least batch (" + std::to_string(o.batch) + ") training clips with questions, got " +
                                                         std::to_string(train.size()));
    if (o.batch < 1 || o.questions_per_clip < 1)
        throw value_error(detail::ov_op("train_qa"), "expected batch >= 1 and questions_per_clip >= 1, got " + std::to_string(o.batch) + " and " +
                                                         std::to_string(o.questions_per_clip));
    if (f.vision.size() != clips.size() || f.audio.size() != clips.size())
        throw value_error(detail::ov_op("train_qa"), "expected features for all " + std::to_string(clips.size()) + " clips, got " +
                                                         std::to_string(f.vision.size()) + " and " + std::to_string(f.audio.size()));
    model.set_trainable(models::omni_part::vision, false);
    model.set_trainable(models::omni_part::audio, false);
    std::vector<std::int64_t> order;
    const std::int64_t per_epoch = static_cast<std::int64_t>(train.size()) / o.batch;
    LoopHooks<D> hooks;
    hooks.epoch_begin = [&](std::int64_t, Generator& gen) { order = shuffled(static_cast<std::int64_t>(train.size()), gen); };
    hooks.step = [&](const StepContext& c) {
        std::vector<QaRow> rows;
        for (std::int64_t i = 0; i < o.batch; ++i) {
            const std::int32_t ci = train[static_cast<std::size_t>(order[static_cast<std::size_t>(c.batch * o.batch + i)])];
            const auto n = static_cast<std::int64_t>(clips[static_cast<std::size_t>(ci)].questions.size());
            const std::vector<std::int64_t> qs = shuffled(n, c.gen);  // this step's questions, in a drawn order
            QaRow row{ci, {}};
            for (std::int64_t k = 0; k < std::min(n, o.questions_per_clip); ++k) row.questions.push_back(static_cast<std::int32_t>(qs[static_cast<std::size_t>(k)]));
            rows.push_back(std::move(row));
        }
        const auto out = model.forward(make_batch<P>(f, clips, vocab, std::span<const QaRow>(rows)));
        return StepLoss<D>{out.loss, o.batch, -1, "qa"};
    };
    hooks.identity = RunIdentity().options("recipe", o).options("model", model.cfg).value("clips", static_cast<std::int64_t>(train.size()))
                         .value("vocab", vocab.words()).value("seed", seed).str();
    using part = models::omni_part;
    std::vector<std::string> bridge{std::string(Model::prefix(part::vision_projector)) + ".", std::string(Model::prefix(part::audio_projector)) + "."};
    if (model.cfg.align) bridge.insert(bridge.end(), {std::string(Model::prefix(part::align)) + ".", "align_loss."});
    Generator g(seed + 2);
    model.set_trainable(part::llm, false);
    LoopResult first;
    {
        optim::AdamW<D> opt(detail::groups_with_prefix<D>(model, bridge, o.weight_decay), {.lr = o.align_lr, .weight_decay = o.weight_decay});
        LoopOptions lo = detail::stage_loop(o, o.align_steps, o.align_lr, r, "align");
        lo.batches_per_epoch = per_epoch;
        first = o.align_steps > 0 ? run_loop(model, opt, g, lo, hooks) : LoopResult{};
    }
    model.set_trainable(part::llm, true);
    std::vector<std::string> all = bridge;
    all.push_back(std::string(Model::prefix(part::llm)) + ".");
    optim::AdamW<D> opt(detail::groups_with_prefix<D>(model, all, o.weight_decay), {.lr = o.joint_lr, .weight_decay = o.weight_decay});
    LoopOptions lo = detail::stage_loop(o, o.joint_steps, o.joint_lr, r, "joint");
    lo.batches_per_epoch = per_epoch;
    return {std::move(first), run_loop(model, opt, g, lo, hooks)};
}

// Exact-match accuracy of the model's answers on every question of `split` (of its first
// `max_clips` clips when >= 0), by question type (teacher-forced: the argmax at every answer
// position and at <eos> must be right, which is exactly when greedy decoding returns the answer).
template <class D, class Model>
QaScores evaluate_qa(const Model& model, const ClipFeatures& f, const std::vector<data::AvClip>& clips, const data::WordVocab& vocab,
                     const std::string& split, std::int64_t batch = 32, std::int64_t max_clips = -1) {
    using P = autodiff<D>;
    std::vector<QaSample> samples = detail::qa_samples(clips, split);
    if (max_clips >= 0) {
        std::vector<std::int32_t> seen;
        std::erase_if(samples, [&](const QaSample& s) {
            if (std::find(seen.begin(), seen.end(), s.clip) == seen.end()) {
                if (static_cast<std::int64_t>(seen.size()) >= max_clips) return true;
                seen.push_back(s.clip);
            }
            return false;
        });
    }
    if (samples.empty()) throw value_error(detail::ov_op("evaluate_qa"), "expected questions in split '" + split + "', got none");
    no_grad ng;
    QaScores s;
    std::map<std::string, std::int64_t> right;
    for (std::size_t lo = 0; lo < samples.size(); lo += static_cast<std::size_t>(batch)) {
        const std::span<const QaSample> part(samples.data() + lo, std::min(samples.size() - lo, static_cast<std::size_t>(batch)));
        const auto out = model.forward(make_batch<P>(f, clips, vocab, std::span<const QaSample>(part)));
        const Tensor<cpu> logits = Tensor<cpu>(nn::value_of(out.logits)).contiguous();
        const std::vector<std::int64_t> labels = Tensor<cpu>(nn::value_of(out.labels)).template to_vector<std::int64_t>();
        const std::int64_t L = logits.shape()[1], V = logits.shape()[2];
        const std::vector<float> z = logits.to_vector<float>();
        for (std::size_t i = 0; i < part.size(); ++i) {
            bool ok = true;
            for (std::int64_t t = 0; t + 1 < L && ok; ++t) {
                const std::int64_t want = labels[i * static_cast<std::size_t>(L) + static_cast<std::size_t>(t + 1)];
                if (want == -100) continue;
                const float* row = z.data() + (i * static_cast<std::size_t>(L) + static_cast<std::size_t>(t)) * static_cast<std::size_t>(V);
                ok = std::max_element(row, row + V) - row == want;
            }
            const std::string& type = clips[static_cast<std::size_t>(part[i].clip)].questions[static_cast<std::size_t>(part[i].question)].type;
            ++s.count[type];
            right[type] += ok;
            s.correct.push_back(ok);
        }
    }
    std::int64_t all_right = 0;
    for (const auto& [type, n] : s.count) {
        s.accuracy[type] = static_cast<double>(right[type]) / static_cast<double>(n);
        all_right += right[type];
        s.total += n;
    }
    s.overall = static_cast<double>(all_right) / static_cast<double>(s.total);
    return s;
}

}  // namespace omni::train

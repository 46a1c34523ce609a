#pragma once
// SAIL-style alignment (Zhang et al. 2025, as Omni-C uses it, paper section IV-D): a trainable
// Linear per modality on frozen encoder features maps every modality into one joint space;
// paired samples are pulled together with CLIP's symmetric InfoNCE (learnable logit scale) or
// SigLIP's sigmoid loss. With Omni-C one encoder feeds every Linear. Afterwards:
//   zero_shot   CLIP-style classification by cosine to (template-averaged) class-prompt embeddings,
//   retrieve    ranking one modality's items against another's in the joint space.
//
//   SailAligner al({.in = 128, .out = 128}, gen);   // modalities image, audio, text by default
//   train_sail(al, {{"image", fi, "text", ft}, {"audio", fa, "text", fa_t}}, {});
#include <algorithm>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "omni/core/linkage.hpp"
#include "omni/loss/info_nce.hpp"
#include "omni/loss/sigmoid.hpp"
#include "omni/nn/linear.hpp"
#include "omni/optim/adamw.hpp"
#include "omni/train/linear_probe.hpp"
#include "omni/train/loop.hpp"

namespace omni::train {

enum class sail_loss { info_nce, sigmoid };

/// Options of SailAligner: feature and joint widths, and the modalities it projects.
struct SailConfig {
    std::int64_t in = 768, out = 768;  // frozen feature width -> joint width
    std::vector<std::string> modalities{"image", "audio", "text"};  // one Linear each (proj_<name>), in this order
};

/// One Linear per modality (a single projector, as the Omni-C release's SAIL heads) plus the
/// loss's learnable temperature (and bias, for sigmoid). Features [N, in] -> joint [N, out].
struct SailAligner : nn::Module {
    using A = autodiff<cpu>;
    SailConfig cfg;
    std::vector<nn::Linear<A>> proj;  // by cfg.modalities
    loss::InfoNCE<A> info_nce;
    loss::SigmoidLoss<A> sigmoid;

    SailAligner() = default;
    SailAligner(const SailConfig& c, Generator& g);
    template <class V> void visit(V& v) {
        for (std::size_t i = 0; i < proj.size(); ++i) v.module(("proj_" + cfg.modalities[i]).c_str(), proj[i]);
        v.module("info_nce", info_nce);
        v.module("sigmoid", sigmoid);
    }
    // The position of modality m's Linear; value_error when the aligner has none.
    std::size_t index_of(std::string_view m) const;
    Var<cpu> forward(std::string_view m, const Var<cpu>& features) const { return proj[index_of(m)](features); }

    // Unit-norm joint embeddings of frozen features [N, in] -> [N, out], no tape.
    Tensor<cpu> embed(std::string_view m, const Tensor<cpu>& features) const;
};

#if OMNI_LIB_DEFINE
OMNI_LIB_INLINE SailAligner::SailAligner(const SailConfig& c, Generator& g) : cfg(c) {
    if (c.modalities.empty()) throw value_error("SailAligner", "expected at least one modality, got none");
    for (std::size_t i = 0; i < c.modalities.size(); ++i) {
        if (std::find(c.modalities.begin(), c.modalities.begin() + static_cast<std::ptrdiff_t>(i), c.modalities[i]) != c.modalities.begin() + static_cast<std::ptrdiff_t>(i))
            throw value_error("SailAligner", "expected each modality once, got '" + c.modalities[i] + "' twice");
        proj.push_back(nn::Linear<A>({.in = c.in, .out = c.out}, g));
    }
    nn::name_modules(*this);
}
OMNI_LIB_INLINE std::size_t SailAligner::index_of(std::string_view m) const {
    for (std::size_t i = 0; i < cfg.modalities.size(); ++i)
        if (cfg.modalities[i] == m) return i;
    std::string list;
    for (const auto& n : cfg.modalities) list += (list.empty() ? "" : ", ") + n;
    throw value_error(where("SailAligner"), "expected one of its modalities (" + list + "), got '" + std::string(m) + "'");
}
OMNI_LIB_INLINE Tensor<cpu> SailAligner::embed(std::string_view m, const Tensor<cpu>& features) const {
    if (features.dim() != 2 || features.size(1) != cfg.in)
        throw shape_error("SailAligner.embed", "expected features [N, " + std::to_string(cfg.in) + "], got " + features.shape().str());
    no_grad ng;
    return nn::value_of(l2_normalize(forward(m, Var<cpu>(features.to(dtype::f32))), -1));
}
#endif

/// Paired frozen features: row i of `a` belongs with row i of `b`.
struct PairedFeatures {
    std::string ma;  // a's modality (one of the aligner's)
    Tensor<cpu> a;
    std::string mb;
    Tensor<cpu> b;
};

/// Options of train_sail: epochs, batch size, optimiser and schedule, objective and seed.
struct SailOptions {
    std::int64_t epochs = 20, batch_size = 256;
    double lr = 1e-3, min_lr = 1e-5, weight_decay = 1e-4, warmup = 0.1;  // warmup: fraction of steps
    sail_loss objective = sail_loss::info_nce;  // Omni-C's choice; SAIL's own is sigmoid
    std::uint64_t seed = 0;

    template <class V> void visit(V& v) const {
        v("epochs", epochs), v("batch_size", batch_size), v("lr", lr), v("min_lr", min_lr), v("weight_decay", weight_decay);
        v("warmup", warmup), v("objective", objective), v("seed", seed);
    }
};

// Trains the aligner on every pair set, alternating their batches (train::run_loop); returns the loss per step.
OMNI_LIB_INLINE std::vector<float> train_sail(SailAligner& al, const std::vector<PairedFeatures>& sets, const SailOptions& o = {})
#if OMNI_LIB_DEFINE
{
    const char* op = "train::train_sail";
    if (sets.empty()) throw value_error(op, "expected at least one set of pairs, got none");
    std::int64_t steps_per_epoch = 0;
    for (const auto& s : sets) {
        if (s.a.dim() != 2 || s.b.dim() != 2 || s.a.size(0) != s.b.size(0) || s.a.size(1) != al.cfg.in || s.b.size(1) != al.cfg.in)
            throw shape_error(op, "expected paired features [N, " + std::to_string(al.cfg.in) + "] x 2, got " + s.a.shape().str() + " and " + s.b.shape().str());
        if (s.a.size(0) < 2) throw value_error(op, "expected at least 2 pairs per set, got " + std::to_string(s.a.size(0)));
        (void)al.index_of(s.ma), (void)al.index_of(s.mb);  // an unknown name fails before any step
        // A trailing batch of one pair has no negative and is skipped; the count does not depend on the order.
        steps_per_epoch += s.a.size(0) / o.batch_size + (s.a.size(0) % o.batch_size >= 2 ? 1 : 0);
    }
    const std::int64_t total = o.epochs * steps_per_epoch;
    if (total < 1) throw value_error(op, "expected epochs >= 1, got " + std::to_string(o.epochs));
    optim::AdamW<cpu> opt(optim::nn_param_groups<cpu>(al, o.weight_decay), {.lr = o.lr, .weight_decay = o.weight_decay});
    Generator gen(o.seed);
    std::vector<std::pair<double, std::pair<std::size_t, std::vector<std::int64_t>>>> plan;
    LoopHooks<cpu> hooks;
    hooks.epoch_begin = [&](std::int64_t, Generator& g) {
        // Each set's batches for this epoch, then interleaved so no set dominates a stretch.
        plan.clear();
        for (std::size_t si = 0; si < sets.size(); ++si) {
            const std::int64_t n = sets[si].a.size(0), nb = (n + o.batch_size - 1) / o.batch_size;
            const std::vector<std::int64_t> perm = shuffled(n, g);
            for (std::int64_t k = 0; k < nb; ++k) {
                const std::int64_t lo = k * o.batch_size, hi = std::min(n, lo + o.batch_size);
                if (hi - lo < 2) continue;  // a contrastive batch needs a negative
                plan.push_back({(static_cast<double>(k) + 0.5) / static_cast<double>(nb), {si, {perm.begin() + lo, perm.begin() + hi}}});
            }
        }
        std::stable_sort(plan.begin(), plan.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    };
    hooks.step = [&](const StepContext& c) {
        const auto& job = plan[static_cast<std::size_t>(c.batch)].second;
        const PairedFeatures& s = sets[job.first];
        const Tensor<cpu> ids = Tensor<cpu>::from_data(job.second, {static_cast<std::int64_t>(job.second.size())});
        const Var<cpu> x = al.forward(s.ma, Var<cpu>(index_select(s.a, 0, ids).to(dtype::f32)));
        const Var<cpu> y = al.forward(s.mb, Var<cpu>(index_select(s.b, 0, ids).to(dtype::f32)));
        return StepLoss<cpu>{o.objective == sail_loss::info_nce ? al.info_nce(x, y) : al.sigmoid(x, y), static_cast<std::int64_t>(job.second.size())};
    };
    return run_loop(al, opt, gen, {.epochs = o.epochs, .batches_per_epoch = steps_per_epoch, .lr = o.lr, .min_lr = o.min_lr,
                                   .warmup = o.warmup * static_cast<double>(total), .progress = nullptr, .label = "train_sail"},
                    hooks)
        .losses;
}
#else
;
#endif

// CLIP zero-shot: `prompts` [C * T, in] holds T template features per class (class-major);
// each class embedding is the normalised mean of its T joint embeddings. Returns predictions.
OMNI_LIB_INLINE std::vector<std::int64_t> zero_shot(const SailAligner& al, std::string_view m, const Tensor<cpu>& features, std::string_view prompt_modality,
                                           const Tensor<cpu>& prompts, std::int64_t classes)
#if OMNI_LIB_DEFINE
{
    if (classes < 1 || prompts.dim() != 2 || prompts.size(0) % classes != 0)
        throw shape_error("train::zero_shot", "expected prompts [classes * templates, F] with " + std::to_string(classes) + " classes, got " + prompts.shape().str());
    const std::int64_t t = prompts.size(0) / classes;
    const Tensor<cpu> p = al.embed(prompt_modality, prompts).reshape({classes, t, al.cfg.out});
    const Tensor<cpu> cls = l2_normalize(mean(p, {1}), -1);
    return argmax_rows(matmul(al.embed(m, features), cls, false, true));
}
#else
;
#endif

// For each query row, the fraction of its top-k gallery items (by cosine in the joint space)
// whose label equals the query's: precision@k averaged over queries.
OMNI_LIB_INLINE double precision_at_k(const Tensor<cpu>& query_emb, const std::vector<std::int64_t>& query_labels, const Tensor<cpu>& gallery_emb,
                             const std::vector<std::int64_t>& gallery_labels, std::int64_t k)
#if OMNI_LIB_DEFINE
{
    const std::int64_t nq = query_emb.size(0), ng = gallery_emb.size(0);
    if (k < 1 || k > ng || static_cast<std::int64_t>(query_labels.size()) != nq || static_cast<std::int64_t>(gallery_labels.size()) != ng)
        throw value_error("train::precision_at_k", "expected 1 <= k <= " + std::to_string(ng) + " and one label per row, got k " + std::to_string(k));
    const std::vector<float> s = matmul(query_emb, gallery_emb, false, true).to_vector<float>();
    double total = 0;
    std::vector<std::int64_t> order(static_cast<std::size_t>(ng));
    for (std::int64_t q = 0; q < nq; ++q) {
        std::iota(order.begin(), order.end(), 0);
        const float* row = s.data() + q * ng;
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](std::int64_t a, std::int64_t b) { return row[a] > row[b]; });
        std::int64_t hit = 0;
        for (std::int64_t i = 0; i < k; ++i) hit += gallery_labels[order[i]] == query_labels[q];
        total += static_cast<double>(hit) / static_cast<double>(k);
    }
    return nq ? total / static_cast<double>(nq) : 0.0;
}
#else
;
#endif

}  // namespace omni::train

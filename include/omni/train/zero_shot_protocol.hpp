#pragma once
// The zero-shot evaluation protocol around SAIL (Omni-C (arXiv 2603.05528), sec. IV-D; CLIP's
// prompt ensembles): class prompts from templates ("a photo of a {}."), each training item paired
// with a random caption of its class, one aligner trained on every modality's pairs at once,
// then CLIP-style zero-shot top-1 with templates unseen in training, and cross-modal retrieval
// through the joint space (e.g. a spoken class name -> images, never trained on audio-image pairs).
//
//   const TextEncoder text = [&](const std::vector<std::string>& t) { return encode_texts(t); };  // [n, D]
//   auto r = train::sail_zero_shot({{.modality = "image", .train_features = fi, .train_labels = yi, .test_features = ti,
//                                    .test_labels = zi, .class_names = names, .train_templates = tr, .test_templates = te}},
//                                  text, {.joint_dim = 128});
//   double p10 = train::cross_modal_precision_at_k(r.aligner, "audio", qa, ya, "image", ti, zi, 10, 10);
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"
#include "omni/core/rng.hpp"
#include "omni/train/linear_probe.hpp"
#include "omni/train/sail.hpp"

namespace omni::train {

// A prompt template with its "{}" replaced by `word`; value_error when it has no "{}".
OMNI_LIB_INLINE std::string fill_template(std::string_view tmpl, std::string_view word)
#if OMNI_LIB_DEFINE
{
    const auto p = tmpl.find("{}");
    if (p == std::string_view::npos) throw value_error("train::fill_template", "expected a template with '{}', got '" + std::string(tmpl) + "'");
    return std::string(tmpl.substr(0, p)) + std::string(word) + std::string(tmpl.substr(p + 2));
}
#else
;
#endif

// Every template filled with every class name, class-major: [C * T] texts, row c * T + t.
OMNI_LIB_INLINE std::vector<std::string> class_prompts(const std::vector<std::string>& class_names, const std::vector<std::string>& templates)
#if OMNI_LIB_DEFINE
{
    if (class_names.empty() || templates.empty())
        throw value_error("train::class_prompts", "expected class names and templates, got " + std::to_string(class_names.size()) + " names and " +
                                                      std::to_string(templates.size()) + " templates");
    std::vector<std::string> texts;
    texts.reserve(class_names.size() * templates.size());
    for (const auto& w : class_names)
        for (const auto& t : templates) texts.push_back(fill_template(t, w));
    return texts;
}
#else
;
#endif

// Caption features for labelled items: captions [C * T, D] (class-major, as class_prompts
// orders them) and labels [N] int64 in [0, C) -> [N, D], row i one of its class's T captions
// drawn uniformly from `g` (one draw per item, in order).
OMNI_LIB_INLINE Tensor<cpu> pair_with_captions(const Tensor<cpu>& captions, const Tensor<cpu>& labels, std::int64_t templates, Generator& g)
#if OMNI_LIB_DEFINE
{
    const char* op = "train::pair_with_captions";
    if (templates < 1 || captions.dim() != 2 || captions.size(0) % templates != 0)
        throw shape_error(op, "expected captions [classes * " + std::to_string(templates) + ", D], got " + captions.shape().str());
    if (labels.dim() != 1) throw shape_error(op, "expected labels [N], got " + labels.shape().str());
    const std::int64_t classes = captions.size(0) / templates;
    std::vector<std::int64_t> rows;
    rows.reserve(static_cast<std::size_t>(labels.numel()));
    for (const std::int64_t y : labels.to_vector<std::int64_t>()) {
        if (y < 0 || y >= classes)
            throw value_error(op, "expected labels in [0, " + std::to_string(classes) + "), got " + std::to_string(y));
        rows.push_back(y * templates + std::min<std::int64_t>(templates - 1, static_cast<std::int64_t>(g.uniform() * static_cast<double>(templates))));
    }
    return index_select(captions, 0, Tensor<cpu>::from_data(rows, {static_cast<std::int64_t>(rows.size())}));
}
#else
;
#endif

// Texts -> their frozen features [n, D], through the text encoder under evaluation.
using TextEncoder = std::function<Tensor<cpu>(const std::vector<std::string>&)>;

/// One modality evaluated zero-shot: its frozen features and labels, and how prompts name its classes.
struct ZeroShotTask {
    std::string modality;                      // the aligner's name for it, e.g. "image"
    Tensor<cpu> train_features, train_labels;  // [N, D] and int64 [N]: SAIL's training items
    Tensor<cpu> test_features, test_labels;    // [M, D] and int64 [M]: scored zero-shot
    std::vector<std::string> class_names;      // by label, as the prompts spell them
    std::vector<std::string> train_templates, test_templates;  // with "{}"; test ones unseen in training
};

/// Options of sail_zero_shot: joint width, SAIL's training options, the text modality's name and seed.
struct ZeroShotProtocol {
    std::int64_t joint_dim = 128;       // the aligner's output width
    SailOptions sail{};
    std::string text_modality = "text";
    // Captions are drawn from Generator(seed + 7) and the aligner initialised from
    // Generator(seed + 11): streams apart from an encoder that was seeded with `seed` itself.
    std::uint64_t seed = 0;
};

/// What sail_zero_shot returns: the trained aligner, zero-shot top-1 per task and SAIL's losses.
struct ZeroShotResult {
    SailAligner aligner;        // trained: embeds every task's modality and text into one space
    std::vector<double> top1;   // zero-shot top-1 per task, on its test split
    std::vector<float> losses;  // SAIL's loss per step
};

// Trains one SAIL aligner (modalities: the tasks' in order, then the text modality) on every
// task's items paired with captions of their class, then classifies each task's test features
// by their nearest template-averaged class prompt. shape_error when feature widths disagree or
// the encoder returns other than one row per text; value_error for no tasks, labels out of range
// or templates without "{}".
OMNI_LIB_INLINE ZeroShotResult sail_zero_shot(const std::vector<ZeroShotTask>& tasks, const TextEncoder& encode_text, const ZeroShotProtocol& p)
#if OMNI_LIB_DEFINE
{
    const char* op = "train::sail_zero_shot";
    if (tasks.empty()) throw value_error(op, "expected at least one task, got none");
    const std::int64_t width = tasks.front().train_features.dim() == 2 ? tasks.front().train_features.size(1) : -1;
    for (const auto& t : tasks)
        for (const Tensor<cpu>* f : {&t.train_features, &t.test_features})
            if (f->dim() != 2 || f->size(1) != width)
                throw shape_error(op, "task '" + t.modality + "': expected features [N, " + std::to_string(width) + "], got " + f->shape().str());
    const auto prompt_features = [&](const ZeroShotTask& t, const std::vector<std::string>& templates) {
        const std::vector<std::string> texts = class_prompts(t.class_names, templates);
        const Tensor<cpu> f = encode_text(texts);
        if (f.dim() != 2 || f.size(0) != static_cast<std::int64_t>(texts.size()) || f.size(1) != width)
            throw shape_error(op, "task '" + t.modality + "': expected the text encoder to return [" + std::to_string(texts.size()) + ", " +
                                      std::to_string(width) + "], got " + f.shape().str());
        return f;
    };
    Generator pairs(p.seed + 7);
    std::vector<PairedFeatures> sets;
    SailConfig cfg{.in = width, .out = p.joint_dim, .modalities = {}};
    for (const auto& t : tasks) {
        const Tensor<cpu> captions = prompt_features(t, t.train_templates);
        sets.push_back({t.modality, t.train_features, p.text_modality,
                        pair_with_captions(captions, t.train_labels, static_cast<std::int64_t>(t.train_templates.size()), pairs)});
        cfg.modalities.push_back(t.modality);
    }
    cfg.modalities.push_back(p.text_modality);
    Generator init(p.seed + 11);
    ZeroShotResult r{SailAligner(cfg, init), {}, {}};
    r.losses = train_sail(r.aligner, sets, p.sail);
    for (const auto& t : tasks) {
        const auto pred = zero_shot(r.aligner, t.modality, t.test_features, p.text_modality, prompt_features(t, t.test_templates),
                                    static_cast<std::int64_t>(t.class_names.size()));
        r.top1.push_back(top1(pred, t.test_labels));
    }
    return r;
}
#else
;
#endif

// Retrieval across modalities through a trained aligner: each query (of `query_modality`, frozen
// features [Q, D]) ranks the gallery (of `gallery_modality`, [G, D]) by cosine in the joint
// space; returns precision@k (k clipped to G) over the queries whose label is one of the
// gallery's `classes` (labels 0..classes-1; other queries have no relevant item and are left
// out), 0 when no query qualifies. Labels are int64 [Q] and [G].
OMNI_LIB_INLINE double cross_modal_precision_at_k(const SailAligner& al, std::string_view query_modality, const Tensor<cpu>& queries,
                                         const Tensor<cpu>& query_labels, std::string_view gallery_modality, const Tensor<cpu>& gallery,
                                         const Tensor<cpu>& gallery_labels, std::int64_t classes, std::int64_t k)
#if OMNI_LIB_DEFINE
{
    const char* op = "train::cross_modal_precision_at_k";
    if (queries.dim() != 2 || query_labels.dim() != 1 || query_labels.size(0) != queries.size(0))
        throw shape_error(op, "expected queries [Q, D] with labels [Q], got " + queries.shape().str() + " and " + query_labels.shape().str());
    if (gallery.dim() != 2 || gallery_labels.dim() != 1 || gallery_labels.size(0) != gallery.size(0) || gallery.size(0) < 1)
        throw shape_error(op, "expected a gallery [G >= 1, D] with labels [G], got " + gallery.shape().str() + " and " + gallery_labels.shape().str());
    if (classes < 1 || k < 1)
        throw value_error(op, "expected classes >= 1 and k >= 1, got " + std::to_string(classes) + " and " + std::to_string(k));
    const std::vector<std::int64_t> ql_all = query_labels.to_vector<std::int64_t>();
    std::vector<std::int64_t> q, ql;
    for (std::size_t i = 0; i < ql_all.size(); ++i)
        if (ql_all[i] >= 0 && ql_all[i] < classes) {
            q.push_back(static_cast<std::int64_t>(i));
            ql.push_back(ql_all[i]);
        }
    if (q.empty()) return 0.0;
    const Tensor<cpu> qe = al.embed(query_modality, index_select(queries, 0, Tensor<cpu>::from_data(q, {static_cast<std::int64_t>(q.size())})));
    const Tensor<cpu> ge = al.embed(gallery_modality, gallery);
    return precision_at_k(qe, ql, ge, gallery_labels.to_vector<std::int64_t>(), std::min(k, ge.size(0)));
}
#else
;
#endif

}  // namespace omni::train

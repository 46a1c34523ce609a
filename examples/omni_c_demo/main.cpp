// The Omni-C demo (README's first command runs it): pretrain one small dense ViT shared by
// images, audio and text with unimodal NT-Xent on unaligned data, next to single-modality
// experts and the shared-head ablation, then evaluate them as the paper does:
//   linear probes on frozen CLS features (vs a randomly initialised encoder and raw inputs),
//   SAIL alignment with CLIP-style zero-shot classification and audio-to-image retrieval,
//   alignment/uniformity of the projected embeddings, parameter and memory counts.
// Writes results.md, loss and t-SNE plots (gnuplot), checkpoints and the options it ran with
// (options.json) to --out. A rerun resumes finished pretraining from its checkpoints.
//
//   omni_c_demo --vocab vocab.txt [--options FILE] [--out DIR] [--steps S] [--threads T] [--quick] [--set KEY=VALUE ...]
// (settings: options.hpp and options.json; docs/omni_c.md)
#include <omni/io/checkpoint.hpp>
#include <omni/loss/metrics.hpp>
#include <omni/report/gnuplot.hpp>
#include <omni/report/tsne.hpp>
#include <omni/train/finetune.hpp>
#include <omni/train/omni_c_preset.hpp>  // the model and trainers prebuilt in omni::kernels
#include <omni/train/probe_selection.hpp>
#include <omni/train/zero_shot_protocol.hpp>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <tuple>

#include "data.hpp"
#include "options.hpp"

namespace {

using namespace omni;
using demo::Corpus;
using demo::modality;
using demo::name_of;
using A = autodiff<cpu>;
using Omni = models::OmniC<A, models::image, models::audio, models::text>;
constexpr std::array<modality, 3> all_modalities{modality::image, modality::audio, modality::text};

using demo::Options;

// ---- encoders ---------------------------------------------------------------------------------

// Anything that maps (modality, batch) to features: one Omni-C model or a set of experts.
struct System {
    std::string name;
    std::function<Tensor<cpu>(modality, std::int64_t, const train::BatchMaker&, bool)> encode;
};

template <class M> System system_of(std::string name, const M& model) {
    return {std::move(name), [&model](modality m, std::int64_t n, const train::BatchMaker& b, bool project) {
                return train::encode(model, name_of(m), n, b, 256, project);
            }};
}

struct Features {
    std::array<Tensor<cpu>, 3> train, test;  // h on the probe part of train, and on test
};

Features features_of(const System& s, const Corpus& c) {
    Features f;
    for (modality m : all_modalities) {
        const auto& d = c[m];
        f.train[static_cast<int>(m)] = s.encode(m, d.probe, d.train_batch, false);
        f.test[static_cast<int>(m)] = s.encode(m, d.test, d.test_batch, false);
    }
    return f;
}

// ---- pretraining ------------------------------------------------------------------------------

// The options' per-modality maps keyed by the modality's name, as the trainers take them.
template <class T> std::map<std::string, T> by_name(const std::map<modality, T>& m) {
    std::map<std::string, T> out;
    for (const auto& [k, v] : m) out.emplace(name_of(k), v);
    return out;
}

std::vector<train::ModalityViews> views_for(const Corpus& c, std::initializer_list<modality> ms) {
    std::vector<train::ModalityViews> v;
    for (modality m : ms) v.push_back({name_of(m), c[m].train, c[m].views});
    return v;
}

// Checkpoint names carry the options that shape a run, so a rerun with other options starts
// afresh and a rerun with the same ones resumes (pretrain refuses a mismatched file anyway).
std::string recipe_tag(const Options& o) {
    std::ostringstream s;
    s << "_s" << o.steps << "_b" << o.batch << "_lr" << o.lr << "_t" << o.temperature;
    for (const auto& [m, t] : o.modality_temperature) s << "_t" << name_of(m) << t;
    for (const auto& [m, w] : o.modality_weight) s << "_w" << name_of(m) << w;
    s << "_seed" << o.seed << (o.image_aug == "omni_c" ? "" : "_" + o.image_aug) << (o.text_aug.empty() ? "" : "_text" + o.text_aug);
    for (const std::string& n : o.no_decay) s << "_nd" << n;
    for (const auto& [n, x] : o.lr_scale) s << "_lrs" << n << x;
    s << "_img" << o.sizes.image_train << "_txt" << o.sizes.text_train;  // other pretraining data: another run
    const models::OmniCConfig tiny = models::omni_c_tiny;  // another model: another run
    if (o.model.dim != tiny.dim || o.model.depth != tiny.depth || o.model.heads != tiny.heads || o.model.image_patch != tiny.image_patch)
        s << "_vit" << o.model.depth << "x" << o.model.dim << "h" << o.model.heads << "p" << o.model.image_patch;
    s << (o.model.mask_text_padding ? "_tmask" : "") << (o.bf16 ? "_bf16" : "") << (o.quick ? "_quick" : "");
    return s.str();
}

// ", times 3 for image" where a modality takes several steps per round-robin turn.
std::string weights_note(const Options& o) {
    std::string s;
    for (const auto& [m, w] : o.modality_weight) s += ", times " + std::to_string(w) + " for " + name_of(m);
    return s;
}

template <class M>
train::PretrainResult pretrain(M& model, const Corpus& c, std::initializer_list<modality> ms, const Options& o, const std::string& tag) {
    std::int64_t turn = 0;  // steps per round-robin turn over `ms`
    for (const modality m : ms) turn += o.modality_weight.contains(m) ? o.modality_weight.at(m) : 1;
    const train::PretrainOptions po{.batch_size = o.batch, .steps = o.steps * turn, .lr = o.lr,
                              .weight_decay = 0.1, .no_weight_decay = o.no_decay, .lr_scale = o.lr_scale, .warmup = 0.1, .temperature = o.temperature, .modality_temperature = by_name(o.modality_temperature),
                              .modality_weight = by_name(o.modality_weight),
                              .seed = o.seed, .checkpoint = (std::filesystem::path(o.out) / "checkpoints" / (tag + recipe_tag(o) + ".ckpt")).string(),
                              .checkpoint_every = 100,
                              // a cached run from other kernels would mix two code versions in one table
                              .numerics = train::PretrainOptions::on_other_numerics::restart, .label = tag};
    // bf16 products in training only (mixed precision); features for the probes stay fp32.
    const matmul_precision_guard precision(o.bf16 ? matmul_precision::bf16 : matmul_precision::highest);
    return train::pretrain(model, views_for(c, ms), po);
}

// ---- evaluation -------------------------------------------------------------------------------

struct ProbeRow {
    std::string name;
    std::array<double, 3> top1{};
    std::array<train::ProbeResult, 3> fit{};  // the trained classifiers (they start SBoRA: LP-FT)
    std::array<train::ProbeOptions, 3> used{};  // the probe's settings (chosen per modality under probe_select)
};

// One probe under the demo's protocol: `o.probe`, or the validation-selected setting.
std::pair<train::ProbeResult, train::ProbeOptions> probe_once(const Tensor<cpu>& tr, const Tensor<cpu>& ytr, const Tensor<cpu>& te, const Tensor<cpu>& yte,
                                                              std::int64_t classes, const Options& o) {
    if (!o.probe_select) return {train::linear_probe(tr, ytr, te, yte, classes, o.probe), o.probe};
    auto s = train::select_linear_probe(tr, ytr, te, yte, classes, o.probe, {.seed = o.seed});
    return {std::move(s.result), s.chosen};
}

std::string setting(const train::ProbeOptions& p) {
    std::ostringstream s;
    s << p.epochs << " ep, lr " << p.lr << ", wd " << p.weight_decay;
    return s.str();
}

ProbeRow probe_row(const std::string& name, const std::array<Tensor<cpu>, 3>& tr, const std::array<Tensor<cpu>, 3>& te, const Corpus& c,
                   const Options& o) {
    ProbeRow r{name, {}};
    for (modality m : all_modalities) {
        const int k = static_cast<int>(m);
        std::tie(r.fit[k], r.used[k]) = probe_once(tr[k], c[m].train_y, te[k], c[m].test_y, c[m].classes, o);
        r.top1[k] = r.fit[k].final_top1;
    }
    return r;
}

ProbeRow raw_probe_row(const Corpus& c, const Options& o) {
    std::array<Tensor<cpu>, 3> tr, te;
    for (modality m : all_modalities) {
        tr[static_cast<int>(m)] = c[m].raw_train;
        te[static_cast<int>(m)] = c[m].raw_test;
    }
    return probe_row("Raw input", tr, te, c, o);
}

// Prompts: SAIL trains on captions from `train_templates` and is tested with unseen ones.
const std::vector<std::string> image_train_templates{"a photo of a {}.", "a {}.", "an item of clothing: {}.", "a picture of the {}.",
                                                     "a product photo of a {}.", "a black and white photo of a {}."};
const std::vector<std::string> image_test_templates{"an image of a {}.", "a small photo of the {}."};
const std::vector<std::string> audio_train_templates{"the word {}.", "someone says {}.", "{}", "a recording of the word {}."};
const std::vector<std::string> audio_test_templates{"a voice saying {}.", "the spoken word {}."};

std::string spoken_name(std::string w) {
    if (w == "T-shirt/top") return "t-shirt or top";
    for (char& ch : w) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return w;
}

struct SailRow {
    std::string name;
    double image_zero_shot = 0, audio_zero_shot = 0, audio_to_image_p10 = 0;
};

// SAIL on a system's frozen features (train::sail_zero_shot), then spoken Fashion-MNIST class
// names (audio labels 0-9) -> test images, through the joint space only.
SailRow sail_row(const System& s, const Features& f, const Corpus& c, const Options& o) {
    std::vector<std::string> fashion, words;
    for (auto n : data::fashion_mnist_classes) fashion.push_back(spoken_name(std::string(n)));
    for (const auto& w : c.audio_words) words.push_back(spoken_name(w));
    const train::TextEncoder text = [&](const std::vector<std::string>& texts) {
        const Tensor<cpu> ids = c.tokenize(texts);
        return s.encode(modality::text, ids.size(0), [&](std::span<const std::int64_t> idx) { return demo::take(ids, idx); }, false);
    };
    const int I = static_cast<int>(modality::image), Au = static_cast<int>(modality::audio);
    const auto& im = c[modality::image];
    const auto& au = c[modality::audio];
    const auto r = train::sail_zero_shot(
        {{.modality = "image", .train_features = f.train[I], .train_labels = im.train_y, .test_features = f.test[I], .test_labels = im.test_y,
          .class_names = fashion, .train_templates = image_train_templates, .test_templates = image_test_templates},
         {.modality = "audio", .train_features = f.train[Au], .train_labels = au.train_y, .test_features = f.test[Au], .test_labels = au.test_y,
          .class_names = words, .train_templates = audio_train_templates, .test_templates = audio_test_templates}},
        text, {.joint_dim = o.model.head_out, .sail = o.sail, .seed = o.seed});
    return {s.name, r.top1[0], r.top1[1], train::cross_modal_precision_at_k(r.aligner, "audio", f.test[Au], au.test_y, "image", f.test[I], im.test_y, 10, 10)};
}

// Alignment and uniformity of normalised projections of two views of test-sized samples
// (drawn from the training pool, which has the view maker), as SimCSE reports them.
struct GeometryRow {
    std::string name;
    std::array<double, 3> alignment{}, uniformity{};
};
template <class M> void geometry(GeometryRow& row, const M& model, const Corpus& c, modality m, const Options& o) {
    no_grad ng;
    Generator g(o.seed + 3);
    const std::int64_t n = std::min<std::int64_t>(512, c[m].train);
    const auto idx = demo::iota(0, n);
    auto [v1, v2] = c[m].views(idx, g);
    const Tensor<cpu> z1 = nn::value_of(model.forward(model.modality_index(name_of(m)), Var<cpu>(v1))), z2 = nn::value_of(model.forward(model.modality_index(name_of(m)), Var<cpu>(v2)));
    row.alignment[static_cast<int>(m)] = loss::alignment(z1, z2).item<double>();
    row.uniformity[static_cast<int>(m)] = loss::uniformity(z1).item<double>();
}

// SBoRA-FA fine-tuning of one modality on the probe split (adapters on every block Linear, a
// classifier on h started from the model's linear probe, everything else frozen); returns the
// last epoch's test top-1.
template <class M>
double sbora(M& model, const Corpus& c, modality m, const Options& o, const train::ProbeResult& probe, const std::string& label) {
    const auto& d = c[m];
    const train::LabelledSplit tr{d.probe, d.weak, d.train_y};
    const train::LabelledSplit te{d.test, [&d](std::span<const std::int64_t> idx, Generator*) { return d.test_batch(idx); }, d.test_y};
    auto fo = o.finetune;
    fo.label = label;
    fo.seed = o.seed;
    fo.init_weight = probe.weight;
    fo.init_bias = probe.bias;
    return train::finetune(model, name_of(m), tr, te, d.classes, fo).final_top1;
}

// ---- counts -------------------------------------------------------------------------------------

// Parameters of Omni-C and of the three single-modality experts of the same config together.
std::pair<std::int64_t, std::int64_t> count_params(const models::OmniCConfig& cfg) {
    Generator g(0);
    train::OmniCPreset<cpu> m(cfg, g);
    const std::int64_t total = nn::parameter_count(m);
    std::int64_t experts = 0;
    for (std::size_t i = 0; i < m.modality_count; ++i) {
        experts += total;
        for (std::size_t j = 0; j < m.modality_count; ++j)
            if (j != i) experts -= models::own_parameter_count(m, j);
    }
    return {total, experts};
}

// Peak bytes of tensor storage while encoding one sample of each modality in turn (weights
// included), the paper's "sequential modality processing" deployment.
template <class M> std::int64_t inference_peak(const M& model, const Corpus& c, std::initializer_list<modality> ms) {
    auto& mem = cpu::memory();
    mem.reset_peak();
    const std::int64_t before = mem.current.load();
    for (modality m : ms) train::encode(model, name_of(m), 1, c[m].test_batch, 1);
    return mem.peak.load() - before;
}

std::string pct(double v) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << 100.0 * v;
    return s.str();
}
std::string num(double v, int digits = 3) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(digits) << v;
    return s.str();
}
std::string millions(std::int64_t n) { return num(static_cast<double>(n) / 1e6, 2) + "M"; }

}  // namespace

int main(int argc, char** argv) try {
    const Options o = demo::parse(argc, argv);
    if (o.threads > 0) set_num_threads(o.threads);
    const std::filesystem::path out(o.out);
    std::filesystem::create_directories(out / "checkpoints");
    train::write_options(out / "options.json", o);  // rerun with --options OUT/options.json
    const auto t0 = std::chrono::steady_clock::now();
    const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

    std::cerr << "omni_c_demo: loading Fashion-MNIST, spoken words and WordNet glosses\n";
    const Corpus c = demo::load_corpus(o.vocab, o.sizes, demo::augmentations(o));
    for (modality m : all_modalities)
        std::cerr << "  " << name_of(m) << ": " << c[m].train << " train (" << c[m].probe << " probed), " << c[m].test << " test, "
                  << c[m].classes << " classes\n";

    // Same seed, same initial weights: the random-init baseline is Omni-C before pretraining.
    models::OmniCConfig shared_cfg = o.model;
    shared_cfg.shared_head = true;
    Generator g0(o.seed), g1(o.seed), g2(o.seed), gi(o.seed), ga(o.seed), gt(o.seed);
    Omni random_init(o.model, g0), omni_c(o.model, g1), shared(shared_cfg, g2);
    // An expert is the same model trained on one modality only (the other embedders and heads get
    // no gradient and stay as initialised), so all start from Omni-C's exact initial weights and
    // the demo instantiates one model type, not four.
    Omni expert_image(o.model, gi), expert_audio(o.model, ga), expert_text(o.model, gt);

    std::cerr << "omni_c_demo: pretraining (" << o.steps << " steps of " << o.batch << " per modality and model" << weights_note(o) << ")\n";
    if (o.probe_only && !o.expert.empty()) {  // one modality's expert against raw and random init: quick recipe sweeps
        const modality m = o.expert == "image" ? modality::image : o.expert == "audio" ? modality::audio : modality::text;
        pretrain(omni_c, c, {m}, o, "expert_" + o.expert);
        const auto& d = c[m];
        const auto probe = [&](const Tensor<cpu>& tr, const Tensor<cpu>& te) {
            const auto [r, used] = probe_once(tr, d.train_y, te, d.test_y, d.classes, o);
            if (o.probe_select) std::cout << "  (probe: " << setting(used) << ")\n";
            return r.final_top1;
        };
        const auto feats = [&](const Omni& model) {
            return probe(train::encode(model, name_of(m), d.probe, d.train_batch), train::encode(model, name_of(m), d.test, d.test_batch));
        };
        const double raw = probe(d.raw_train, d.raw_test), init = feats(random_init), expert = feats(omni_c);
        std::cout << o.expert << ": raw " << pct(raw) << ", random init " << pct(init) << ", expert " << pct(expert) << ", gain " << pct(expert - init)
                  << " (" << num(elapsed(), 0) << " s)\n";
        return 0;
    }
    const auto r_omni = pretrain(omni_c, c, {modality::image, modality::audio, modality::text}, o, "omni_c");
    if (o.probe_only) {
        const auto fr = features_of(system_of("Random init", random_init), c), fo = features_of(system_of("Omni-C", omni_c), c);
        const ProbeRow raw = raw_probe_row(c, o);
        const ProbeRow pr = probe_row("Random init", fr.train, fr.test, c, o), po = probe_row("Omni-C", fo.train, fo.test, c, o);
        for (const auto* p : {&raw, &pr, &po}) {
            std::cout << p->name << ": image " << pct(p->top1[0]) << ", audio " << pct(p->top1[1]) << ", text " << pct(p->top1[2]) << "\n";
            if (o.probe_select)
                std::cout << "  (probes: " << setting(p->used[0]) << "; " << setting(p->used[1]) << "; " << setting(p->used[2]) << ")\n";
        }
        std::cout << "gain: image " << pct(po.top1[0] - pr.top1[0]) << ", audio " << pct(po.top1[1] - pr.top1[1]) << ", text " << pct(po.top1[2] - pr.top1[2])
                  << " (" << num(elapsed(), 0) << " s)\n";
        return 0;
    }
    const auto r_shared = pretrain(shared, c, {modality::image, modality::audio, modality::text}, o, "omni_c_shared_head");
    const auto r_ei = pretrain(expert_image, c, {modality::image}, o, "expert_image");
    const auto r_ea = pretrain(expert_audio, c, {modality::audio}, o, "expert_audio");
    const auto r_et = pretrain(expert_text, c, {modality::text}, o, "expert_text");
    const double pretrain_seconds = elapsed();

    std::cerr << "omni_c_demo: encoding and probing\n";
    const System s_random = system_of("Random init", random_init), s_omni = system_of("Omni-C (separate heads)", omni_c),
                 s_shared = system_of("Omni-C (shared head)", shared);
    const System s_expert{"Experts (one per modality)", [&](modality m, std::int64_t n, const train::BatchMaker& b, bool project) {
                              if (m == modality::image) return train::encode(expert_image, name_of(m), n, b, 256, project);
                              if (m == modality::audio) return train::encode(expert_audio, name_of(m), n, b, 256, project);
                              return train::encode(expert_text, name_of(m), n, b, 256, project);
                          }};
    std::vector<std::pair<const System*, Features>> feats;
    for (const System* s : {&s_random, &s_expert, &s_omni, &s_shared}) feats.emplace_back(s, features_of(*s, c));

    std::vector<ProbeRow> probes;
    probes.push_back(raw_probe_row(c, o));
    for (const auto& [s, f] : feats) probes.push_back(probe_row(s->name, f.train, f.test, c, o));

    std::cerr << "omni_c_demo: SAIL alignment\n";
    std::vector<SailRow> sails;
    for (const auto& [s, f] : feats) sails.push_back(sail_row(*s, f, c, o));

    std::vector<GeometryRow> geo{{"Experts"}, {"Omni-C (separate heads)"}, {"Omni-C (shared head)"}};
    geometry(geo[0], expert_image, c, modality::image, o);
    geometry(geo[0], expert_audio, c, modality::audio, o);
    geometry(geo[0], expert_text, c, modality::text, o);
    for (modality m : all_modalities) {
        geometry(geo[1], omni_c, c, m, o);
        geometry(geo[2], shared, c, m, o);
    }

    // ---- t-SNE of projected test embeddings, by modality (Fig. 1 / Fig. 6) ----
    std::cerr << "omni_c_demo: t-SNE\n";
    const auto tsne_of = [&](const auto& model, const std::string& title) {
        report::ScatterPanel p{title, {}, {}, {}, {}};  // colour: modality; shape: class
        std::vector<Tensor<cpu>> z;
        for (modality m : all_modalities) {
            const std::int64_t n = std::min<std::int64_t>(o.quick ? 20 : 250, c[m].test);
            z.push_back(l2_normalize(train::encode(model, name_of(m), n, c[m].test_batch, 256, true), -1));
            const auto y = c[m].test_y.template to_vector<std::int64_t>();
            for (std::int64_t i = 0; i < n; ++i) p.group.push_back(static_cast<int>(m)), p.shape.push_back(static_cast<int>(y[i]));
        }
        const std::int64_t n = static_cast<std::int64_t>(p.group.size());
        const auto xy = report::tsne_2d(concat(z, 0), {.perplexity = std::min(30.0, static_cast<double>(n - 1) / 3.0), .iterations = o.quick ? 100 : 600, .seed = o.seed})
                            .to_vector<double>();
        for (std::int64_t i = 0; i < n; ++i) p.x.push_back(xy[2 * i]), p.y.push_back(xy[2 * i + 1]);
        return p;
    };
    const std::vector<report::ScatterPanel> maps{tsne_of(omni_c, "Omni-C, separate heads (Fig. 1)"), tsne_of(shared, "shared head (Fig. 6)")};

    // ---- counts ----
    struct CountRow {
        std::string what;
        std::int64_t omni = 0, experts = 0;
    };
    std::vector<CountRow> counts;
    for (const auto& [label, cfg] : {std::pair{std::string("tiny (this demo)"), o.model}, std::pair{std::string("ViT-B/32 (paper)"), models::omni_c_vit_b32}}) {
        if (o.quick && label != "tiny (this demo)") continue;
        const auto [total, experts] = count_params(cfg);
        counts.push_back({label, total, experts});
    }
    const std::int64_t peak_omni = inference_peak(omni_c, c, {modality::image, modality::audio, modality::text});
    const std::int64_t peak_experts = inference_peak(expert_image, c, {modality::image}) + inference_peak(expert_audio, c, {modality::audio}) +
                                      inference_peak(expert_text, c, {modality::text});

    // ---- SBoRA-FA fine-tuning (last: it adapts the models in place) ----
    std::cerr << "omni_c_demo: SBoRA-FA fine-tuning (rank " << o.finetune.adapter.rank << ", " << o.finetune.epochs << " epochs)\n";
    ProbeRow ft_omni{"Omni-C (separate heads) + SBoRA-FA", {}}, ft_expert{"Experts + SBoRA-FA", {}};
    const ProbeRow &probe_experts = probes[2], &probe_omni = probes[3];
    ft_expert.top1[0] = sbora(expert_image, c, modality::image, o, probe_experts.fit[0], "sbora expert_image");
    ft_expert.top1[1] = sbora(expert_audio, c, modality::audio, o, probe_experts.fit[1], "sbora expert_audio");
    ft_expert.top1[2] = sbora(expert_text, c, modality::text, o, probe_experts.fit[2], "sbora expert_text");
    for (modality m : all_modalities) {
        // Each modality fine-tunes its own copy of the pretrained Omni-C, as separate downstream tasks.
        Generator gc(o.seed);
        Omni copy(o.model, gc);
        io::Safetensors w;
        w.tensors = io::state_dict(omni_c);
        io::load_weights(copy, w);
        ft_omni.top1[static_cast<int>(m)] = sbora(copy, c, m, o, probe_omni.fit[static_cast<int>(m)], std::string("sbora omni_c ") + name_of(m));
    }

    // ---- plots: loss per modality (Omni-C, shared head, expert) and the t-SNE maps ----
    std::vector<report::LinePanel> curves;
    const std::array<const train::PretrainResult*, 3> experts{&r_ei, &r_ea, &r_et};
    for (modality m : all_modalities) {
        const auto turns_of = [m](const train::PretrainResult& r) {  // a round-robin run's steps on m
            std::vector<double> v;
            for (std::size_t i = 0; i < r.losses.size(); ++i)
                if (r.modalities[i] == static_cast<int>(m)) v.push_back(r.losses[i]);
            return v;
        };
        const auto& ex = experts[static_cast<int>(m)]->losses;
        curves.push_back({name_of(m), {{"Omni-C", turns_of(r_omni)}, {"shared head", turns_of(r_shared)}, {"expert", {ex.begin(), ex.end()}}}});
    }
    const bool loss_plotted = report::line_panels(out / "loss.png", "NT-Xent during pretraining (omni, " + std::to_string(o.steps) + " steps per modality)",
                                                  "step of that modality", "loss", curves);
    const bool plotted = report::scatter_panels(out / "embeddings.png", "t-SNE of projected test embeddings (coloured by modality; point shape = class)",
                                                {"image", "audio", "text"}, maps, false) &&
                         loss_plotted;

    // ---- the report ----
    std::ostringstream md;
    md << "# Omni-C demo results\n\n"
       << "Model: ViT " << o.model.depth << " layers x " << o.model.dim << " wide, " << o.model.heads << " heads; images 28x28 (patch "
       << o.model.image_patch << "), audio 64 mel x 128 frames (patch " << o.model.audio_patch << "), text " << o.model.text_len
       << " WordPiece tokens. Pretraining: " << o.steps << " NT-Xent steps of batch " << o.batch << " per modality" << weights_note(o) << " (two views each), AdamW lr "
       << o.lr << " wd 0.1, warmup 10% + cosine, temperature " << o.temperature << ".\n"
       << "Data: Fashion-MNIST (" << c[modality::image].train << " train images, " << c[modality::image].probe << " probed, "
       << c[modality::image].test << " test), espeak-ng spoken words (" << c[modality::audio].train << " / " << c[modality::audio].test
       << " clips, 20 words), WordNet glosses (" << c[modality::text].train << " / " << c[modality::text].test << ", 45 lexicographer classes).\n\n"
       << "## Linear probe top-1 (%) on frozen CLS features\n\n| encoder | image (10) | audio (20) | text (45) |\n|---|---|---|---|\n";
    for (const auto& p : probes) md << "| " << p.name << " | " << pct(p.top1[0]) << " | " << pct(p.top1[1]) << " | " << pct(p.top1[2]) << " |\n";
    if (o.probe_select) {
        md << "\nEach probe's epochs, lr and weight decay were chosen on a fifth of its own training labels (image; audio; text):\n\n";
        for (const auto& p : probes) md << "- " << p.name << ": " << setting(p.used[0]) << "; " << setting(p.used[1]) << "; " << setting(p.used[2]) << "\n";
    } else {
        md << "\nProbe: " << setting(o.probe) << " (AdamW, standardised features, last epoch's top-1), the same for every row.\n";
    }
    const auto& rnd = probes[1];
    const auto& om = probes[3];
    md << "\nSBoRA-FA fine-tuning (rank " << o.finetune.adapter.rank << ", alpha " << o.finetune.adapter.alpha << ", " << o.finetune.epochs
       << " epochs, adapters on every block Linear, classifier on h started from the linear probe (LP-FT), all else frozen), top-1 (%):\n\n| encoder | image | audio | text |\n|---|---|---|---|\n";
    for (const auto* p : {&ft_expert, &ft_omni}) md << "| " << p->name << " | " << pct(p->top1[0]) << " | " << pct(p->top1[1]) << " | " << pct(p->top1[2]) << " |\n";
    md << "\nOmni-C minus random init (linear probe): image " << pct(om.top1[0] - rnd.top1[0]) << ", audio " << pct(om.top1[1] - rnd.top1[1]) << ", text "
       << pct(om.top1[2] - rnd.top1[2]) << " points.\n\n"
       << "## SAIL alignment (one linear layer per modality on frozen features, symmetric InfoNCE)\n\n"
       << "Trained on Fashion-MNIST images paired with captions of their class and on spoken words paired with their text; evaluated "
          "CLIP-style with unseen prompt templates on the test splits. Audio-to-image retrieval never saw an audio-image pair.\n\n"
       << "| encoder | image zero-shot top-1 (%) | audio zero-shot top-1 (%) | spoken class name -> image P@10 (%) |\n|---|---|---|---|\n";
    for (const auto& s : sails)
        md << "| " << s.name << " | " << pct(s.image_zero_shot) << " | " << pct(s.audio_zero_shot) << " | " << pct(s.audio_to_image_p10) << " |\n";
    md << "\nChance: 10% (images), 5% (audio), 10% (retrieval).\n\n"
       << "## Alignment and uniformity of projected embeddings (lower is better)\n\n"
       << "| model | align image | align audio | align text | unif image | unif audio | unif text |\n|---|---|---|---|---|---|---|\n";
    for (const auto& g : geo)
        md << "| " << g.name << " | " << num(g.alignment[0]) << " | " << num(g.alignment[1]) << " | " << num(g.alignment[2]) << " | "
           << num(g.uniformity[0]) << " | " << num(g.uniformity[1]) << " | " << num(g.uniformity[2]) << " |\n";
    md << "\n## Parameters and inference memory\n\n| configuration | Omni-C (one encoder, 3 heads) | three experts | ratio |\n|---|---|---|---|\n";
    for (const auto& r : counts)
        md << "| " << r.what << " parameters | " << millions(r.omni) << " | " << millions(r.experts) << " | "
           << num(static_cast<double>(r.omni) / static_cast<double>(r.experts), 2) << " |\n";
    const double w_omni = 4.0 * static_cast<double>(counts.front().omni), w_experts = 4.0 * static_cast<double>(counts.front().experts);
    md << "| tiny: fp32 weights + peak activations encoding one sample of each modality in turn | " << num((w_omni + peak_omni) / 1048576.0, 1)
       << " MiB | " << num((w_experts + peak_experts) / 1048576.0, 1) << " MiB | "
       << num((w_omni + peak_omni) / (w_experts + peak_experts), 2) << " |\n";
    md << "\n## Throughput\n\nPretraining Omni-C: " << num(r_omni.samples_per_second, 0) << " two-view samples/s (shared head "
       << num(r_shared.samples_per_second, 0) << "; experts: image " << num(r_ei.samples_per_second, 0) << ", audio "
       << num(r_ea.samples_per_second, 0) << ", text " << num(r_et.samples_per_second, 0) << "); all pretraining took "
       << num(pretrain_seconds, 0) << " s of a " << num(elapsed(), 0) << " s run.";
    if (r_omni.resumed_from > 0) md << " (Omni-C resumed from a checkpoint at step " << r_omni.resumed_from << ": the rates cover the rest.)";
    md << "\n\n" << (plotted ? "![loss](loss.png)\n\n![embeddings](embeddings.png)\n" : "(gnuplot not found: loss.gp and embeddings.gp hold the plots and their data; run gnuplot on them)\n");
    {
        const std::filesystem::path tmp = out / "results.md.tmp";
        std::ofstream(tmp) << md.str();
        std::filesystem::rename(tmp, out / "results.md");
    }
    std::cout << md.str() << "\nWritten to " << (out / "results.md").string() << "\n";
    return 0;
} catch (const std::exception& e) {
    std::cerr << "omni_c_demo: " << e.what() << "\n";
    return 1;
}

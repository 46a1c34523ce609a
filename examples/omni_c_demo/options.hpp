#pragma once
// The demo's settings: one struct whose visit lists every field, so the options file
// (options.json beside this header), OUT/options.json and the printed settings come from one list.
// Precedence: the built-in defaults below, then the options file (--options FILE, else
// options.json), then the command line in order (--steps 600, --set lr=3e-4, ...), then --quick.
#include <omni/models/omni_c.hpp>
#include <omni/train/finetune.hpp>
#include <omni/train/linear_probe.hpp>
#include <omni/train/options_file.hpp>
#include <omni/train/run_identity.hpp>
#include <omni/train/sail.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "data.hpp"

// Enum names in options files (omni::option_names): "image" rather than 0.
template <> struct omni::option_names<demo::modality> {
    static constexpr std::array<std::pair<demo::modality, std::string_view>, 3> table{
        {{demo::modality::image, "image"}, {demo::modality::audio, "audio"}, {demo::modality::text, "text"}}};
};
template <> struct omni::option_names<omni::nn::adapter_kind> {
    static constexpr std::array<std::pair<nn::adapter_kind, std::string_view>, 2> table{
        {{nn::adapter_kind::lora, "lora"}, {nn::adapter_kind::sbora_fa, "sbora_fa"}}};
};
template <> struct omni::option_names<omni::train::sail_loss> {
    static constexpr std::array<std::pair<train::sail_loss, std::string_view>, 2> table{
        {{train::sail_loss::info_nce, "info_nce"}, {train::sail_loss::sigmoid, "sigmoid"}}};
};

namespace demo {

namespace train = omni::train;
namespace models = omni::models;

// models::OmniCConfig's fields for the options (the config is a models aggregate without a visit).
struct ModelFields {
    const models::OmniCConfig& c;
    template <class V> void visit(V& v) const {
        static_assert(train::detail::field_count<models::OmniCConfig>() == 18, "demo::ModelFields: list OmniCConfig's new field");
        v("dim", c.dim), v("depth", c.depth), v("heads", c.heads), v("mlp_ratio", c.mlp_ratio), v("eps", c.eps);
        v("image_size", c.image_size), v("image_channels", c.image_channels), v("image_patch", c.image_patch);
        v("audio_mels", c.audio_mels), v("audio_frames", c.audio_frames), v("audio_patch", c.audio_patch);
        v("vocab", c.vocab), v("text_len", c.text_len), v("head_hidden", c.head_hidden), v("head_out", c.head_out);
        v("shared_head", c.shared_head), v("xavier_backbone", c.xavier_backbone), v("mask_text_padding", c.mask_text_padding);
    }
};

struct Options {
    std::string vocab, out = "omni_c_demo_out";
    std::int64_t steps = 300;  // per modality (200 left text within noise of a 5-point gain; docs/experiments/omni_c_tuning.md)
    std::int64_t batch = 64;
    int threads = 0;
    bool quick = false;
    bool probe_only = false;  // pretrain Omni-C only and probe it against random init (for tuning)
    std::string expert;       // with probe_only: pretrain this modality's expert instead of Omni-C (recipe sweeps)
    std::uint64_t seed = 42;
    double lr = 1e-3, temperature = 0.07;  // tuned on this data (docs/experiments/omni_c_tuning.md); the paper: 1e-4, 0.05
    std::map<modality, double> modality_temperature;   // overrides of `temperature`
    std::map<modality, std::int64_t> modality_weight;  // steps per round-robin turn (default 1): steps * weight steps
    std::vector<std::string> no_decay;                  // parameters spared weight decay
    std::map<std::string, double> lr_scale;             // parameters at X times the lr
    std::string image_aug = "omni_c";  // omni_c, small or small:CROP_MIN
    std::string text_aug;              // MASK:DELETE, view 1's rates (view 2 scales them); empty: the reference's 0.15:0.1
    bool bf16 = false;                 // pretrain with bf16 matmuls (AMX) where the CPU has them
    DataSizes sizes;
    models::OmniCConfig model = models::omni_c_tiny;
    train::ProbeOptions probe{.epochs = 40, .warmup_epochs = 4, .batch_size = 128, .lr = 1e-3, .min_lr = 1e-5, .weight_decay = 1e-4, .standardize = true};
    // Every probe picks its epochs, lr and weight decay on a fifth of its training labels
    // (train::ProbeGrid's defaults) instead of using `probe`'s; the test split stays unseen.
    bool probe_select = false;
    train::SailOptions sail{.epochs = 30, .batch_size = 256, .lr = 1e-3};
    train::FinetuneOptions finetune{.adapter = {.kind = omni::nn::adapter_kind::sbora_fa, .rank = 32, .alpha = 32}, .epochs = 2, .warmup_epochs = 0,
                                    .batch_size = 64, .lr = 1e-3, .min_lr = 1e-5, .weight_decay = 0.1,
                                    // The reference's weak crops (down to 20% of a 28-pixel image) cost
                                    // image 12 points in two epochs; clean inputs do not overfit in two.
                                    .augment = false};

    template <class V> void visit(V& v) const {
        v.local("vocab", vocab), v.local("out", out), v("steps", steps), v("batch", batch), v.local("threads", threads), v("quick", quick);
        v("probe_only", probe_only), v("expert", expert), v("seed", seed), v("lr", lr), v("temperature", temperature);
        v("modality_temperature", modality_temperature), v("modality_weight", modality_weight), v("no_decay", no_decay), v("lr_scale", lr_scale);
        v("image_aug", image_aug), v("text_aug", text_aug), v("bf16", bf16), v("sizes", sizes), v("model", ModelFields{model});
        v("probe", probe), v("probe_select", probe_select), v("sail", sail), v("finetune", finetune);
    }
};

// What image_aug and text_aug name.
inline Augmentations augmentations(const Options& o) {
    Augmentations a;
    if (o.image_aug.rfind("small", 0) == 0) a.image = omni::data::simclr_small_augment(28, o.image_aug.size() > 6 ? std::stod(o.image_aug.substr(6)) : 0.08);
    if (const auto colon = o.text_aug.find(':'); colon != std::string::npos) {
        a.text.p_mask = std::stod(o.text_aug.substr(0, colon));
        a.text.p_delete = std::stod(o.text_aug.substr(colon + 1));
    }
    return a;
}

inline void validate(const Options& o) {
    using omni::value_error;
    const char* op = "omni_c_demo";
    train::check_visits_every_field(o, "omni_c_demo options");
    const bool small = o.image_aug == "small" || (o.image_aug.rfind("small:", 0) == 0 && o.image_aug.size() > 6);
    if (o.image_aug != "omni_c" && !small) throw value_error(op, "expected image_aug omni_c, small or small:CROP_MIN, got '" + o.image_aug + "'");
    if (!o.text_aug.empty()) {
        const auto colon = o.text_aug.find(':');
        if (colon == std::string::npos) throw value_error(op, "expected text_aug MASK:DELETE, got '" + o.text_aug + "'");
        try {
            const auto& t = augmentations(o).text;
            const double strong = t.strong_mask_scale * t.p_mask + t.strong_delete_scale * t.p_delete + t.p_swap;
            if (!(t.p_mask >= 0 && t.p_delete >= 0 && strong <= 1)) throw std::invalid_argument("rates");
        } catch (const std::logic_error&) {
            throw value_error(op, "expected text_aug rates >= 0 with 1.5 MASK + 1.2 DELETE + 0.05 <= 1 (view 2's bands), got '" + o.text_aug + "'");
        }
    }
    if (small) try {
            (void)augmentations(o);
        } catch (const std::logic_error&) {
            throw value_error(op, "expected image_aug small:CROP_MIN with a number, got '" + o.image_aug + "'");
        }
    if (!o.expert.empty() && o.expert != "image" && o.expert != "audio" && o.expert != "text")
        throw value_error(op, "expected expert image, audio or text, got '" + o.expert + "'");
    if (o.model.image_size % o.model.image_patch != 0)
        throw value_error(op, "expected model.image_patch to divide the image size " + std::to_string(o.model.image_size) + ", got " +
                                  std::to_string(o.model.image_patch));
    if (o.model.dim % o.model.heads != 0)
        throw value_error(op, "expected model.heads to divide model.dim " + std::to_string(o.model.dim) + ", got " + std::to_string(o.model.heads));
    if (o.vocab.empty()) throw value_error(op, "expected --vocab PATH to a BERT vocab.txt (scripts/text_deps.sh prints one), got none");
}

// A smoke run for CI: tiny data, a few steps, every code path.
inline void make_quick(Options& o) {
    o.steps = std::min<std::int64_t>(o.steps, 6);
    o.batch = std::min<std::int64_t>(o.batch, 8);
    o.sizes = {.image_train = 256, .image_probe = 128, .image_test = 64, .audio_clips = 20, .audio_test = 8,
               .text_train = 200, .text_probe = 200, .text_test = 60, .text_len = 32, .glosses = o.sizes.glosses};
    o.model.depth = 2;
    o.probe.epochs = 5;
    o.probe.warmup_epochs = 1;
    o.sail.epochs = 3;
    o.finetune.epochs = 1;
}

inline void print_help() {
    std::cout << "omni_c_demo --vocab vocab.txt [--options FILE] [--out DIR] [--steps S] [--threads T] [--seed S] [--glosses TSV] [--quick]\n"
                 "            [--set KEY=VALUE ...] [--write-defaults FILE]\n"
                 "Settings come from an options file (default: the demo's options.json; OUT/options.json is what a run used).\n"
                 "--set overrides any field: --set lr=3e-4, --set probe.epochs=60, --set modality_weight.image=2,\n"
                 "--set 'no_decay=[\"pos_embed\"]', --set lr_scale.text_embed=2. --steps S is --set steps=S (also --out,\n"
                 "--threads, --seed, --glosses for sizes.glosses). --write-defaults writes the built-in defaults and exits.\n";
}

// Defaults, then the options file, then the command line in order, then --quick.
inline Options parse(int argc, char** argv) {
    using omni::value_error;
    std::filesystem::path file;
#ifdef OMNI_C_DEMO_OPTIONS
    if (std::filesystem::exists(OMNI_C_DEMO_OPTIONS)) file = OMNI_C_DEMO_OPTIONS;
#endif
    const auto value_after = [&](int& i) -> std::string {
        if (i + 1 >= argc) throw value_error("omni_c_demo", std::string("expected a value after ") + argv[i] + ", got none");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {  // what decides where the settings come from, first
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            print_help();
            std::exit(0);
        } else if (a == "--write-defaults") {
            train::write_options(value_after(i), Options{});
            std::exit(0);
        } else if (a == "--options") file = value_after(i);
    }
    Options o;
    if (!file.empty()) {
        train::read_options(file, o);
        std::cerr << "omni_c_demo: options from " << file.string() << "\n";
    }
    if (const char* v = std::getenv("OMNI_VOCAB"); v && o.vocab.empty()) o.vocab = v;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--options") ++i;
        else if (a == "--set") train::apply_override(o, value_after(i));
        else if (a == "--quick") o.quick = true;
        else if (a == "--vocab" || a == "--out" || a == "--steps" || a == "--threads" || a == "--seed") train::apply_override(o, a.substr(2) + "=" + value_after(i));
        else if (a == "--glosses") train::apply_override(o, "sizes.glosses=" + value_after(i));
        else {
            std::string field = a.rfind("--", 0) == 0 ? a.substr(2) : a;
            for (char& ch : field) ch = ch == '-' ? '_' : ch;
            std::string hint = " (try --help)";
            try {
                Options probe_field;
                train::apply_override(probe_field, field + "=0");
                hint = " (settings are in the options file now: --set " + field + "=VALUE)";
            } catch (const omni::error& e) {
                if (std::string(e.what()).find("unknown key") == std::string::npos) hint = " (settings are in the options file now: --set " + field + "=VALUE)";
            }
            throw value_error("omni_c_demo", "expected a known option, got '" + a + "'" + hint);
        }
    }
    if (o.quick) make_quick(o);
    validate(o);
    return o;
}

}  // namespace demo

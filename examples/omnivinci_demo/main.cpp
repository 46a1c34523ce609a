// OmniVinci in miniature (scripts/demo.sh omnivinci): the paper's ablation, token concatenation
// -> + TEG -> + CRTE -> + OmniAlignNet (OmniVinci, arXiv 2510.15870, sec. 2 and its ablation
// table), each trained with the same budget on audio-visual clips (Fashion-MNIST frames, espeak-ng
// words; scripts/data/av_clips.py) for several seeds, scored by exact match on held-out questions.
//
//   omnivinci_demo [--data DIR] [--out DIR] [--options FILE] [--set key=value]... [--seeds N]
//                  [--threads T] [--quick]
//
// Settings come from an options file (examples/omnivinci_demo/options.json holds the defaults;
// OUT/options.json records what ran). Writes OUT/results.md, accuracy.png, timeline.png and
// per-stage checkpoints (a rerun resumes).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <atomic>
#include <exception>
#include <fstream>
#include <memory>
#include <thread>
#include <iostream>
#include <sstream>

#include "omni/backend/cpu.hpp"
#include "omni/report/gnuplot.hpp"
#include "omni/train/omnivinci.hpp"
#include "omni/train/options_file.hpp"

using namespace omni;
namespace fs = std::filesystem;

struct DemoOptions {
    std::int64_t seeds = 2;
    std::int64_t threads = 2;           // in all; the encoders use them all, each row of the ablation threads / parallel_rows
    std::int64_t parallel_rows = 2;     // ablation rows trained at the same time
    std::int64_t max_train_clips = -1;  // -1: all
    double segment_seconds = 2;         // TEG's T_G
    std::int64_t audio_pool = 4;        // audio tokens averaged in fours: 6.25 per second
    std::int64_t llm_layers = 2;        // decoder layers of the tiny Qwen2
    std::int64_t crte_dims = 16;        // CRTE's rotated dimensions d
    double crte_max_seconds = 16;       // CRTE's T_max
    double align_weight = 1.0;          // lambda
    std::vector<std::int64_t> rows = {0, 1, 2, 3};  // which ablation rows to train (all by default)
    train::OmniVinciRecipe recipe{};

    template <class V> void visit(V& v) const {
        v("seeds", seeds), v.local("threads", threads), v.local("parallel_rows", parallel_rows), v("max_train_clips", max_train_clips), v("segment_seconds", segment_seconds);
        v("audio_pool", audio_pool), v("llm_layers", llm_layers);
        v("crte_dims", crte_dims), v("crte_max_seconds", crte_max_seconds), v("align_weight", align_weight), v.local("rows", rows), v("recipe", recipe);
    }
};

// The four rows of the ablation: each adds one component to the previous one.
struct Ablation {
    const char* name;
    bool teg, crte, align;
};
constexpr Ablation ablation_rows[] = {{"token concatenation", false, false, false},
                             {"+ TEG", true, false, false},
                             {"+ CRTE", true, true, false},
                             {"+ OmniAlignNet", true, true, true}};
const std::vector<std::string> types = {"visual", "audio", "cross", "temporal"};

models::OmniVinciConfig config_of(const DemoOptions& o, const Ablation& a, const data::WordVocab& vocab) {
    models::OmniVinciConfig c = models::omnivinci_presets::tiny;
    c.llm.vocab = vocab.size();
    c.media_token = data::WordVocab::media;
    c.separator_token = data::WordVocab::sep;
    c.teg = a.teg;
    c.segment_seconds = o.segment_seconds;
    c.audio_pool = o.audio_pool;
    c.llm.layers = o.llm_layers;
    c.crte = a.crte;
    c.time.d = o.crte_dims;
    c.time.T_max = o.crte_max_seconds;
    c.align = a.align;
    c.align_weight = o.align_weight;
    return c;
}

std::string pct(double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", 100 * x);
    return b;
}

int main(int argc, char** argv) try {
    fs::path data_dir, out = "omnivinci_demo";  // data_dir: --data, else the default (asked only then: it throws when absent)
    DemoOptions o;
    std::vector<std::string> sets;
    fs::path options_file = OMNIVINCI_DEMO_OPTIONS;  // the defaults, baked in at build time
    bool quick = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw value_error("omnivinci_demo", "expected a value after " + a);
            return argv[++i];
        };
        if (a == "--data") data_dir = next();
        else if (a == "--out") out = next();
        else if (a == "--options") options_file = next();
        else if (a == "--set") sets.push_back(next());
        else if (a == "--seeds") sets.push_back("seeds=" + next());
        else if (a == "--threads") sets.push_back("threads=" + next());
        else if (a == "--quick") quick = true;
        else throw value_error("omnivinci_demo", "unknown argument " + a + " (see the comment at the top of main.cpp)");
    }
    if (data_dir.empty()) data_dir = data::av_clips_dir();
    if (fs::exists(options_file)) train::read_options(options_file, o);
    if (quick) {  // every code path in seconds (the test suite's smoke run)
        o.seeds = 1;
        o.max_train_clips = 24;
        o.recipe.batch = 4, o.recipe.encoder_batch = 4;
        o.recipe.vision_steps = o.recipe.audio_steps = 3, o.recipe.align_steps = 2, o.recipe.joint_steps = 3;
    }
    for (const auto& s : sets) train::apply_override(o, s);
    set_num_threads(static_cast<int>(o.threads));
    fs::create_directories(out);
    train::write_options(out / "options.json", o);

    // ---- data ----
    std::vector<data::AvClip> clips = data::load_av_clips(data_dir);
    if (o.max_train_clips >= 0) {
        std::int64_t kept = 0;
        std::erase_if(clips, [&](const data::AvClip& c) { return c.split == "train" && kept++ >= o.max_train_clips; });
    }
    std::vector<std::string> texts;
    for (const auto& c : clips)
        for (const auto& q : c.questions) texts.push_back(q.text), texts.push_back(q.answer);
    const data::WordVocab vocab = data::WordVocab::build(texts);
    std::map<std::string, std::int64_t> n_clips;
    for (const auto& c : clips) ++n_clips[c.split];
    std::fprintf(stderr, "omnivinci_demo: %lld train / %lld val / %lld test clips, vocabulary of %lld words\n", (long long)n_clips["train"],
                 (long long)n_clips["val"], (long long)n_clips["test"], (long long)vocab.size());
    const train::ClipInputs inputs = train::prepare_inputs(config_of(o, ablation_rows[0], vocab), clips, o.recipe);

    // ---- per seed: unimodal encoders once, then the four configurations on the same features ----
    const std::size_t R = std::size(ablation_rows);
    std::vector<std::vector<train::QaScores>> test(R), val(R), seen(R);  // [row][seed]; seen: training questions
    std::vector<double> seconds(R, 0);
    std::string answer_note;
    for (std::int64_t s = 0; s < o.seeds; ++s) {
        const std::uint64_t seed = 1000 + static_cast<std::uint64_t>(s);
        const fs::path dir = out / ("seed" + std::to_string(s));
        fs::create_directories(dir);
        set_num_threads(static_cast<int>(o.threads));
        Generator g0(seed);
        models::OmniVinci<autodiff<cpu>> base(config_of(o, ablation_rows[0], vocab), g0);
        train::pretrain_vision<cpu>(base, clips, inputs, o.recipe, seed, {.checkpoint_dir = dir, .label = "seed" + std::to_string(s)});
        train::pretrain_audio<cpu>(base, clips, inputs, o.recipe, seed, {.checkpoint_dir = dir, .label = "seed" + std::to_string(s)});
        const train::ClipFeatures features = train::encode_clips<cpu>(base, inputs);
        // The rows train side by side, `parallel_rows` at a time on threads / parallel_rows threads each: at
        // this size one thread per row uses two cores better than two threads on one row.
        std::vector<std::size_t> todo;
        for (std::size_t r = 0; r < R; ++r)
            if (std::find(o.rows.begin(), o.rows.end(), static_cast<std::int64_t>(r)) != o.rows.end()) todo.push_back(r);
        std::vector<std::unique_ptr<models::OmniVinci<autodiff<cpu>>>> trained(R);
        std::vector<train::QaScores> v_r(R), t_r(R), s_r(R);
        std::vector<double> sec_r(R, 0);
        std::atomic<std::size_t> next{0};
        const std::int64_t workers = std::clamp<std::int64_t>(o.parallel_rows, 1, std::max<std::int64_t>(static_cast<std::int64_t>(todo.size()), 1));
        set_num_threads(static_cast<int>(std::max<std::int64_t>(o.threads / workers, 1)));
        std::vector<std::exception_ptr> failed(R);
        const auto worker = [&] {
            for (std::size_t k; (k = next++) < todo.size();) {
                const std::size_t r = todo[k];
                try {
                    Generator g(seed);
                    auto m = std::make_unique<models::OmniVinci<autodiff<cpu>>>(config_of(o, ablation_rows[r], vocab), g);
                    const fs::path run = dir / ("row" + std::to_string(r));
                    fs::create_directories(run);
                    const auto [a, j] = train::train_qa<cpu>(*m, features, clips, vocab, o.recipe, seed, {.checkpoint_dir = run, .label = ablation_rows[r].name});
                    sec_r[r] = a.seconds + j.seconds;
                    v_r[r] = train::evaluate_qa<cpu>(*m, features, clips, vocab, "val");
                    t_r[r] = train::evaluate_qa<cpu>(*m, features, clips, vocab, "test");
                    s_r[r] = train::evaluate_qa<cpu>(*m, features, clips, vocab, "train", 32, 300);  // fit: the first 300 training clips
                    std::fprintf(stderr, "omnivinci_demo: seed %lld, %s: train %s%%, val %s%%, test %s%%\n", (long long)s, ablation_rows[r].name,
                                 pct(s_r[r].overall).c_str(), pct(v_r[r].overall).c_str(), pct(t_r[r].overall).c_str());
                    trained[r] = std::move(m);
                } catch (...) {
                    failed[r] = std::current_exception();
                }
            }
        };
        {
            std::vector<std::jthread> pool;
            for (std::int64_t w = 0; w < workers; ++w) pool.emplace_back(worker);
        }
        for (const auto& e : failed)
            if (e) std::rethrow_exception(e);
        for (const std::size_t r : todo) {
            val[r].push_back(v_r[r]), test[r].push_back(t_r[r]), seen[r].push_back(s_r[r]);
            seconds[r] += sec_r[r];
        }
        if (s == 0 && trained[R - 1]) {  // one test clip's timeline with the full model's generated answer
            const std::size_t r = R - 1;
            const auto& m = *trained[r];
            {
                const auto it = std::find_if(clips.begin(), clips.end(), [](const data::AvClip& c) {
                    return c.split == "test" && std::any_of(c.questions.begin(), c.questions.end(), [](const auto& q) { return q.type == "temporal"; });
                });
                if (it != clips.end()) {
                    const auto ci = static_cast<std::int32_t>(it - clips.begin());
                    std::int32_t qi = 0;
                    while (it->questions[static_cast<std::size_t>(qi)].type != "temporal") ++qi;
                    const train::QaSample sample{ci, qi};
                    auto batch = train::make_batch<autodiff<cpu>>(features, clips, vocab, std::span(&sample, 1));
                    const auto& q = it->questions[static_cast<std::size_t>(qi)];
                    // The prompt alone: drop the answer and <eos> the batch appended.
                    const std::int64_t prompt = 1 + static_cast<std::int64_t>(vocab.encode(q.text).size());
                    batch.ids = batch.ids.slice(1, 0, prompt);
                    batch.labels = Tensor<autodiff<cpu>>();
                    Generator gg(seed);
                    const auto ids = models::generate(m, batch, {.max_new_tokens = 4, .stop_tokens = {data::WordVocab::eos}}, gg);
                    const std::string said = vocab.decode(ids);
                    std::vector<report::Interval> items;
                    for (const auto& f : it->frame_info) {  // one box per run of frames of one class
                        const std::string name(data::av_class_words[static_cast<std::size_t>(f.label)]);
                        if (!items.empty() && items.back().text == name) items.back().end = f.time + 1.0 / it->fps;
                        else items.push_back({"frames", f.time, f.time + 1.0 / it->fps, name});
                    }
                    for (const auto& w : it->words) items.push_back({"speech", w.start, w.end, w.word});
                    answer_note = "Q: " + q.text + "   model: " + said + "   truth: " + q.answer;
                    report::timeline(out / "timeline.png", "test clip " + it->id + " (" + ablation_rows[r].name + ", seed 0)", {"frames", "speech"}, items,
                                     it->duration, answer_note);
                }
            }
        }
    }

    // ---- report ----
    const auto mean_spread = [](const std::vector<train::QaScores>& runs, const std::string& type) {
        double sum = 0, lo = 1, hi = 0;
        for (const auto& s : runs) {
            const double x = type.empty() ? s.overall : s.accuracy.count(type) ? s.accuracy.at(type) : 0.0;
            sum += x, lo = std::min(lo, x), hi = std::max(hi, x);
        }
        return std::pair{sum / static_cast<double>(runs.size()), (hi - lo) / 2};
    };
    std::ostringstream md;
    md << "# OmniVinci ablation in miniature\n\nExact-match accuracy (%) on held-out test questions (combinations never trained on), mean +- half "
          "the range over "
       << o.seeds << " seed(s); validation overall in the last column. Tiny preset; recipe: " << train::describe(o.recipe) << ".\n\n| model |";
    const auto first = std::find_if(test.begin(), test.end(), [](const auto& runs) { return !runs.empty(); });
    for (const auto& t : types) md << ' ' << t << " (" << (first == test.end() ? 0 : first->front().count.at(t)) << ") |";
    md << " overall | val overall | train questions (300 clips) | train s/seed |\n|---|";
    for (std::size_t i = 0; i < types.size() + 4; ++i) md << "---|";
    md << '\n';
    std::vector<report::BarSeries> bars;
    for (std::size_t r = 0; r < R; ++r) {
        if (test[r].empty()) continue;
        report::BarSeries b{ablation_rows[r].name, {}, {}};
        md << "| " << ablation_rows[r].name << " |";
        for (const auto& t : types) {
            const auto [m, e] = mean_spread(test[r], t);
            md << ' ' << pct(m) << " +- " << pct(e) << " |";
            b.value.push_back(100 * m), b.error.push_back(100 * e);
        }
        const auto [m, e] = mean_spread(test[r], "");
        const auto [vm, ve] = mean_spread(val[r], "");
        const auto [sm, se] = mean_spread(seen[r], "");
        b.value.push_back(100 * m), b.error.push_back(100 * e);
        md << ' ' << pct(m) << " +- " << pct(e) << " | " << pct(vm) << " +- " << pct(ve) << " | " << pct(sm) << " +- " << pct(se) << " | " << std::lround(seconds[r] / static_cast<double>(o.seeds)) << " |\n";
        bars.push_back(std::move(b));
    }
    std::vector<std::string> categories = types;
    categories.push_back("overall");
    const bool plotted = report::bar_chart(out / "accuracy.png", "OmniVinci ablation in miniature: held-out exact match", "accuracy (%)", categories, bars, 100);
    md << "\n" << (plotted ? "![accuracy](accuracy.png)\n\n![timeline](timeline.png)\n" : "(gnuplot not found: accuracy.gp and timeline.gp are written)\n");
    if (!answer_note.empty()) md << "\nTimeline clip: " << answer_note << "\n";
    {
        std::ofstream f(out / "results.md.tmp");
        f << md.str();
    }
    fs::rename(out / "results.md.tmp", out / "results.md");
    std::cout << md.str();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "omnivinci_demo: %s\n", e.what());
    return 1;
}

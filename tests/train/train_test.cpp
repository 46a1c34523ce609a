// The train layer: cereal checkpoints (round trip, atomic writes, corrupt files), the Omni-C
// pretraining loop (loss falls, resume is bit-exact), linear probe, SAIL alignment, progress.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "omni/backend/cpu.hpp"
#include "omni/backend/cpu/sgemm.hpp"
#include "omni/data/text/augment.hpp"
#include "omni/io/checkpoint.hpp"
#include "omni/models/omni_c.hpp"
#include "omni/train/finetune.hpp"
#include "omni/train/probe_selection.hpp"
#include "omni/train/sail.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
    const fs::path d = fs::temp_directory_path() / ("omni_train_test_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

omni::models::OmniCConfig micro() {
    auto c = omni::models::omni_c_tiny;
    c.dim = 32, c.depth = 1, c.heads = 2, c.head_hidden = 32, c.head_out = 16, c.vocab = 64, c.text_len = 8;
    c.image_size = 8, c.image_patch = 4;
    return c;
}

using Micro = omni::models::OmniC<A, omni::models::image, omni::models::text>;

// 64 synthetic 8x8 "images" and token rows, with noisy views: enough for the loss to fall.
std::vector<omni::train::ModalityViews> micro_data() {
    omni::Generator g(5);
    const D images = D::randn({64, 3, 8, 8}, g);
    std::vector<std::int64_t> ids(64 * 8);
    for (auto& t : ids) t = 1 + static_cast<std::int64_t>(g.uniform() * 63);
    const D tokens = D::from_data(ids, {64, 8});
    const auto take = [](const D& t, std::span<const std::int64_t> idx) {
        return omni::index_select(t, 0, D::from_data(std::vector<std::int64_t>(idx.begin(), idx.end()), {static_cast<std::int64_t>(idx.size())}));
    };
    omni::train::ViewMaker image_views = [=](std::span<const std::int64_t> idx, omni::Generator& gen) {
        const D x = take(images, idx);
        return std::pair{omni::add(x, D::randn(x.shape(), gen, omni::dtype::f32, 0, 0.1)), omni::add(x, D::randn(x.shape(), gen, omni::dtype::f32, 0, 0.1))};
    };
    omni::train::ViewMaker text_views = [=](std::span<const std::int64_t> idx, omni::Generator& gen) {
        const D x = take(tokens, idx);
        omni::data::TextAugmentOptions o;
        o.seq_len = 8;
        o.mask_id = 3;  // inside the micro vocabulary
        return std::pair{omni::data::augment_text(x, gen, o), omni::data::augment_text_strong(x, gen, o)};
    };
    return {{"image", 64, image_views}, {"text", 64, text_views}};
}

std::vector<float> flat_weights(Micro& m) {
    std::vector<float> out;
    omni::nn::for_each_parameter(m, [&](const std::string&, const V& t) {
        const auto v = t.value().to_vector<float>();
        out.insert(out.end(), v.begin(), v.end());
    });
    return out;
}

}  // namespace

TEST(Checkpoint, RoundTripRestoresWeightsMomentsAndState) {
    const fs::path dir = temp_dir("roundtrip");
    omni::Generator g(1);
    omni::nn::Linear<A> lin({.in = 4, .out = 3}, g);
    omni::optim::AdamW<omni::cpu> opt(omni::optim::nn_param_groups(lin, 0.1), {.lr = 1e-2});
    for (int i = 0; i < 3; ++i) {
        omni::sum(omni::square(lin(V(D::randn({5, 4}, g))))).backward();
        opt.step();
        opt.zero_grad();
    }
    omni::io::TrainState st{.step = 3, .rng_seed = 9, .rng_offset = 77, .losses = {1.f, 0.5f, 0.25f}, .modalities = {0, 1, 0}, .metadata = {{"k", "v"}}};
    omni::io::save_checkpoint(dir / "a.ckpt", lin, opt, st);

    omni::Generator g2(2);
    omni::nn::Linear<A> other({.in = 4, .out = 3}, g2);
    omni::optim::AdamW<omni::cpu> opt2(omni::optim::nn_param_groups(other, 0.1), {.lr = 1e-2});
    omni::io::TrainState back;
    omni::io::load_checkpoint(dir / "a.ckpt", other, opt2, back);
    EXPECT_EQ(other.weight.value().to_vector<float>(), lin.weight.value().to_vector<float>());
    EXPECT_EQ(other.bias.value().to_vector<float>(), lin.bias.value().to_vector<float>());
    for (std::size_t gi = 0; gi < opt.state.size(); ++gi)
        for (std::size_t i = 0; i < opt.state[gi].size(); ++i) {
            EXPECT_EQ(opt2.state[gi][i].step, 3);
            EXPECT_EQ(opt2.state[gi][i].exp_avg.to_vector<float>(), opt.state[gi][i].exp_avg.to_vector<float>());
            EXPECT_EQ(opt2.state[gi][i].exp_avg_sq.to_vector<float>(), opt.state[gi][i].exp_avg_sq.to_vector<float>());
        }
    EXPECT_EQ(back.step, 3);
    EXPECT_EQ(back.rng_offset, 77u);
    EXPECT_EQ(back.losses, st.losses);
    EXPECT_EQ(back.modalities, st.modalities);
    EXPECT_EQ(back.metadata.at("k"), "v");
    fs::remove_all(dir);
}

TEST(Checkpoint, FailedSaveLeavesTheLastGoodFileAndNoTemporary) {
    const fs::path dir = temp_dir("atomic");
    omni::Generator g(1);
    omni::nn::Linear<A> lin({.in = 2, .out = 2}, g);
    omni::optim::AdamW<omni::cpu> opt(omni::optim::nn_param_groups(lin, 0.1));
    const fs::path path = dir / "run.ckpt";
    omni::io::save_checkpoint(path, lin, opt, {.step = 1});
    const auto size = fs::file_size(path);
    // The temporary name is taken by a directory, so the write cannot even start.
    fs::create_directories(path.string() + ".tmp." + std::to_string(::getpid()));
    EXPECT_THROW(omni::io::save_checkpoint(path, lin, opt, {.step = 2}), omni::io_error);
    EXPECT_EQ(fs::file_size(path), size);
    omni::io::TrainState st;
    omni::io::load_checkpoint(path, lin, opt, st);
    EXPECT_EQ(st.step, 1);
    fs::remove_all(dir);
}

TEST(Checkpoint, MissingTruncatedForeignAndMismatchedFilesThrowClearErrors) {
    const fs::path dir = temp_dir("bad");
    omni::Generator g(1);
    omni::nn::Linear<A> lin({.in = 2, .out = 2}, g);
    omni::optim::AdamW<omni::cpu> opt(omni::optim::nn_param_groups(lin, 0.1));
    omni::io::TrainState st;
    try {
        omni::io::load_checkpoint(dir / "none.ckpt", lin, opt, st);
        FAIL();
    } catch (const omni::io_error& e) {
        EXPECT_NE(std::string(e.what()).find("load_checkpoint"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("none.ckpt"), std::string::npos);
    }
    omni::io::save_checkpoint(dir / "good.ckpt", lin, opt, {.step = 4, .losses = std::vector<float>(100, 1.f)});
    {  // truncated: half the bytes
        std::ifstream in(dir / "good.ckpt", std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), {});
        std::ofstream(dir / "cut.ckpt", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    }
    try {
        omni::io::load_checkpoint(dir / "cut.ckpt", lin, opt, st);
        FAIL();
    } catch (const omni::io_error& e) {
        EXPECT_NE(std::string(e.what()).find("truncated or corrupt"), std::string::npos) << e.what();
    }
    std::ofstream(dir / "foreign.ckpt", std::ios::binary) << std::string(64, 'x');
    EXPECT_THROW(omni::io::load_checkpoint(dir / "foreign.ckpt", lin, opt, st), omni::io_error);
    omni::nn::Linear<A> wider({.in = 3, .out = 2}, g);
    omni::optim::AdamW<omni::cpu> opt_w(omni::optim::nn_param_groups(wider, 0.1));
    try {
        omni::io::load_checkpoint(dir / "good.ckpt", wider, opt_w, st);
        FAIL();
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("weight: expected [2, 3], got [2, 2]"), std::string::npos) << e.what();
    }
    fs::remove_all(dir);
}

TEST(Pretrain, LossFallsAndAnInterruptedRunResumesBitExactly) {
    const fs::path dir = temp_dir("resume");
    const auto data = micro_data();
    const omni::train::PretrainOptions base{.batch_size = 16, .steps = 24, .lr = 3e-3, .temperature = 0.2, .seed = 3, .progress = nullptr};

    omni::Generator g1(11);
    Micro straight(micro(), g1);
    const auto r1 = omni::train::pretrain(straight, data, base);
    ASSERT_EQ(r1.losses.size(), 24u);
    EXPECT_EQ(r1.modalities[0], 0);  // round robin: image, text, image, ... (Micro's indices)
    EXPECT_EQ(r1.modalities[1], 1);
    const auto avg = [](const std::vector<float>& v, std::size_t lo, std::size_t hi) {
        double s = 0;
        for (std::size_t i = lo; i < hi; ++i) s += v[i];
        return s / static_cast<double>(hi - lo);
    };
    EXPECT_LT(avg(r1.losses, 16, 24), avg(r1.losses, 0, 8));

    auto stopped = base;
    stopped.checkpoint = (dir / "run.ckpt").string();
    stopped.checkpoint_every = 5;
    stopped.stop_after = 10;
    omni::Generator g2(11);
    Micro first(micro(), g2);
    const auto r2 = omni::train::pretrain(first, data, stopped);
    EXPECT_EQ(r2.steps, 10);
    // A fresh process: new model object (other initial weights), same options, no stop.
    stopped.stop_after = 0;
    omni::Generator g3(99);
    Micro resumed(micro(), g3);
    const auto r3 = omni::train::pretrain(resumed, data, stopped);
    EXPECT_EQ(r3.resumed_from, 10);
    EXPECT_EQ(r3.steps, 24);
    EXPECT_EQ(r3.losses, r1.losses);
    EXPECT_EQ(flat_weights(resumed), flat_weights(straight));
    // A checkpoint of another recipe is refused, not silently continued, and the model is untouched:
    // every option that changes the run's numbers is part of its identity.
    using Options = omni::train::PretrainOptions;
    const std::vector<std::pair<const char*, std::function<void(Options&)>>> changes = {
        {"lr", [](Options& o) { o.lr = 1e-2; }},
        {"min_lr", [](Options& o) { o.min_lr = 1e-5; }},
        {"weight_decay", [](Options& o) { o.weight_decay = 0.05; }},
        {"warmup", [](Options& o) { o.warmup = 0.1; }},
        {"temperature", [](Options& o) { o.temperature = 0.3; }},
        {"batch_size", [](Options& o) { o.batch_size = 8; }},
        {"steps", [](Options& o) { o.steps = 30; }},
        {"seed", [](Options& o) { o.seed = 4; }},
        {"modality_temperature", [](Options& o) { o.modality_temperature = {{"text", 0.5}}; }},
        {"modality_weight", [](Options& o) { o.modality_weight = {{"image", 2}}; }},
        {"lr_scale", [](Options& o) { o.lr_scale = {{"text_embed.weight", 3.0}}; }},
        {"no_weight_decay", [](Options& o) { o.no_weight_decay = {"text_embed.weight"}; }},
    };
    for (const auto& [what, change] : changes) {
        auto other = stopped;
        change(other);
        omni::Generator g4(5);
        Micro fresh(micro(), g4);
        const auto fresh_weights = flat_weights(fresh);
        try {
            omni::train::pretrain(fresh, data, other);
            ADD_FAILURE() << "a checkpoint written before changing " << what << " was resumed";
        } catch (const omni::value_error& e) {
            EXPECT_NE(std::string(e.what()).find("was written with recipe"), std::string::npos) << what << ": " << e.what();
        }
        EXPECT_EQ(flat_weights(fresh), fresh_weights) << what;
    }
    fs::remove_all(dir);
}

// Everything written to a tmpfile, which is then closed.
static std::string read_and_close(std::FILE* f) {
    std::rewind(f);
    std::string text(8192, '\0');
    text.resize(std::fread(text.data(), 1, text.size(), f));
    std::fclose(f);
    return text;
}

TEST(Pretrain, ACheckpointFromOtherNumericsIsFlaggedRefusedOrRestarted) {
    using N = omni::train::PretrainOptions::on_other_numerics;
    const fs::path dir = temp_dir("numerics");
    const auto data = micro_data();
    omni::train::PretrainOptions o{.batch_size = 16, .steps = 6, .lr = 3e-3, .temperature = 0.2, .seed = 3,
                                   .checkpoint = (dir / "run.ckpt").string(), .stop_after = 3, .progress = nullptr};
    omni::Generator g1(11);
    Micro first(micro(), g1);
    omni::train::pretrain(first, data, o);
    // Rewrites the checkpoint as if other kernels had written it; first checks the real fingerprint.
    const auto tamper = [&] {
        omni::Generator gs(0);
        Micro scratch(micro(), gs);
        omni::optim::AdamW<omni::cpu> opt(omni::optim::nn_param_groups<omni::cpu>(scratch, 0.1));
        omni::io::TrainState st;
        omni::io::load_checkpoint(o.checkpoint, scratch, opt, st);
        EXPECT_EQ(st.metadata.at("numerics"), omni::train::numerics_fingerprint(scratch, data));  // same code: it matches
        st.metadata["numerics"] = "0123456789abcdef";
        omni::io::save_checkpoint(o.checkpoint, scratch, opt, st);
    };
    tamper();
    o.stop_after = 0;
    o.numerics = N::refuse;
    omni::Generator g2(5);
    Micro model(micro(), g2);
    const auto before = flat_weights(model);
    try {
        omni::train::pretrain(model, data, o);
        FAIL() << "on_other_numerics::refuse must refuse the checkpoint";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("other numerics"), std::string::npos) << e.what();
    }
    EXPECT_EQ(flat_weights(model), before);  // back to its own initial weights
    // warn: the run continues from step 3 and says so on the progress stream.
    o.numerics = N::warn;
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    o.progress = f;
    const auto r = omni::train::pretrain(model, data, o);
    EXPECT_EQ(r.resumed_from, 3);
    EXPECT_EQ(r.steps, 6);
    const std::string text = read_and_close(f);
    EXPECT_NE(text.find("warning"), std::string::npos) << text;
    EXPECT_NE(text.find("0123456789abcdef"), std::string::npos) << text;
    // restart: the run starts over from the model's own weights, as an unbroken run from them.
    tamper();
    o.numerics = N::restart;
    o.progress = nullptr;
    omni::Generator g3(5), g4(5);
    Micro restarted(micro(), g3), straight(micro(), g4);
    const auto rr = omni::train::pretrain(restarted, data, o);
    auto plain = o;
    plain.checkpoint.clear();
    const auto rs = omni::train::pretrain(straight, data, plain);
    EXPECT_EQ(rr.resumed_from, 0);
    EXPECT_EQ(rr.losses, rs.losses);
    EXPECT_EQ(flat_weights(restarted), flat_weights(straight));
    fs::remove_all(dir);
}

TEST(Pretrain, PerModalityTemperatureOverridesOnlyItsModality) {
    const auto data = micro_data();
    const omni::train::PretrainOptions base{.batch_size = 16, .steps = 4, .lr = 3e-3, .temperature = 0.2, .seed = 3, .progress = nullptr};
    const auto run = [&](const omni::train::PretrainOptions& o) {
        omni::Generator g(11);
        Micro m(micro(), g);
        return omni::train::pretrain(m, data, o).losses;
    };
    const auto plain = run(base);
    auto same = base;
    same.modality_temperature = {{"image", 0.2}};
    EXPECT_EQ(run(same), plain);
    auto sharp_text = base;
    sharp_text.modality_temperature = {{"text", 0.05}};
    const auto l = run(sharp_text);
    EXPECT_EQ(l[0], plain[0]);  // step 0: image, untouched
    EXPECT_NE(l[1], plain[1]);  // step 1: text, at 0.05
    auto bad = base;
    bad.modality_temperature = {{"text", 0.0}};
    EXPECT_THROW(run(bad), omni::value_error);
}

TEST(Pretrain, ModalityWeightGivesAModalitySeveralStepsPerTurn) {
    const auto data = micro_data();  // image, text: 64 items each
    omni::train::PretrainOptions o{.batch_size = 16, .steps = 6, .lr = 3e-3, .temperature = 0.2, .seed = 3, .progress = nullptr};
    o.modality_weight = {{"image", 2}, {"audio", 5}};  // audio has no data here: ignored
    omni::Generator g(11);
    Micro m(micro(), g);
    const auto r = omni::train::pretrain(m, data, o);
    const std::int32_t I = 0, T = 1;  // the model's indices: Micro lists image, text
    EXPECT_EQ(r.modalities, (std::vector<std::int32_t>{I, I, T, I, I, T}));
    auto unit = o;  // weight 1 is the plain round robin
    unit.modality_weight = {{"image", 1}};
    omni::Generator g2(11);
    Micro m2(micro(), g2);
    EXPECT_EQ(omni::train::pretrain(m2, data, unit).modalities, (std::vector<std::int32_t>{I, T, I, T, I, T}));
    auto bad = o;
    bad.modality_weight = {{"text", 0}};
    try {
        omni::train::pretrain(m2, data, bad);
        FAIL() << "a zero weight must throw";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("expected a turn weight >= 1 for text, got 0"), std::string::npos) << e.what();
    }
    bad.modality_weight = {{"image", 2}};
    bad.schedule = omni::data::ModalitySchedule::proportional;
    EXPECT_THROW(omni::train::pretrain(m2, data, bad), omni::value_error);
}

TEST(Pretrain, RejectsBadOptionsAndReportsDivergence) {
    omni::Generator g(1);
    Micro m(micro(), g);
    EXPECT_THROW(omni::train::pretrain(m, {}, {}), omni::value_error);
    auto data = micro_data();
    EXPECT_THROW(omni::train::pretrain(m, data, {.batch_size = 128, .progress = nullptr}), omni::value_error);  // 64 items
    EXPECT_THROW(omni::train::pretrain(m, data, {.warmup = 1.5, .progress = nullptr}), omni::value_error);
    // A corrupt input (NaN pixels) must stop the run with the step and modality, not train on.
    data[0].views = [](std::span<const std::int64_t> idx, omni::Generator&) {
        const D x = D::full({static_cast<std::int64_t>(idx.size()), 3, 8, 8}, NAN);
        return std::pair{x, x};
    };
    try {
        omni::train::pretrain(m, data, {.batch_size = 16, .steps = 4, .progress = nullptr});
        FAIL() << "a NaN loss must stop the run";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("loss became NaN at step 0 (image)"), std::string::npos) << e.what();
    }
}

TEST(Pretrain, NamesModalitiesByTheModelsList) {
    // The data name the model's modalities; a name the model lacks fails before any step.
    auto data = micro_data();
    data[1].modality = "audio";
    omni::Generator g(1);
    Micro m(micro(), g);
    try {
        omni::train::pretrain(m, data, {.batch_size = 16, .steps = 2, .progress = nullptr});
        FAIL() << "audio is not one of Micro's modalities";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("expected one of the model's modalities (image, text), got 'audio'"), std::string::npos) << e.what();
    }
    // Another list order records the other model's indices, with the same losses (the data order rules the schedule).
    using Reversed = omni::models::OmniC<A, omni::models::text, omni::models::image>;
    omni::Generator g1(11);
    Reversed r(micro(), g1);
    const auto rr = omni::train::pretrain(r, micro_data(), {.batch_size = 16, .steps = 4, .lr = 3e-3, .temperature = 0.2, .seed = 3, .progress = nullptr});
    EXPECT_EQ(rr.modalities, (std::vector<std::int32_t>{1, 0, 1, 0}));  // image is Reversed's modality 1
    EXPECT_EQ(Reversed::modality_name(static_cast<std::size_t>(rr.modalities[1])), "text");
    EXPECT_LT(rr.losses[2], rr.losses[0] + 1.0f);
    // train::encode and finetune resolve names the same way.
    const D images = D::randn({4, 3, 8, 8}, g);
    const auto batch = [&](std::span<const std::int64_t> idx) { return omni::index_select(images, 0, D::from_data(std::vector<std::int64_t>(idx.begin(), idx.end()), {static_cast<std::int64_t>(idx.size())})); };
    EXPECT_EQ(omni::train::encode(r, "image", 4, batch).to_vector<float>(), r.encode<omni::models::image>(V(images)).value().to_vector<float>());
    EXPECT_THROW(omni::train::encode(r, "audio", 4, batch), omni::value_error);
}

// n points in c Gaussian clusters (centres ~ N(0, spread^2), unit noise); labels i % c.
static std::pair<D, D> clusters(omni::Generator& g, std::int64_t n, std::int64_t f, std::int64_t c, double spread) {
    const D centres = D::randn({c, f}, g, omni::dtype::f32, 0, spread);
    std::vector<std::int64_t> y(n);
    for (std::int64_t i = 0; i < n; ++i) y[i] = i % c;
    const D labels = D::from_data(y, {n});
    return {omni::add(omni::index_select(centres, 0, labels), D::randn({n, f}, g)), labels};
}

TEST(LinearProbe, SeparatesLinearlySeparableFeaturesAndChecksInputs) {
    omni::Generator g(2);
    const std::int64_t c = 4;
    const auto [x, labels] = clusters(g, 400, 8, c, 3.0);
    const D xtr = x.slice(0, 0, 300), xte = x.slice(0, 300, 400), ytr = labels.slice(0, 0, 300), yte = labels.slice(0, 300, 400);
    const auto r = omni::train::linear_probe(xtr, ytr, xte, yte, c, {.epochs = 20, .warmup_epochs = 2, .lr = 1e-2, .standardize = true});
    EXPECT_GT(r.final_top1, 0.9);
    EXPECT_EQ(r.test_top1.size(), 20u);
    EXPECT_GE(r.best_top1, r.final_top1);
    EXPECT_THROW(omni::train::linear_probe(xtr, yte, xte, yte, c), omni::shape_error);
    EXPECT_THROW(omni::train::linear_probe(xtr, ytr, xte, yte, 3), omni::value_error);  // label 3 out of range
    EXPECT_THROW(omni::train::linear_probe(xtr, ytr, xte.slice(1, 0, 4), yte, c), omni::shape_error);
}

TEST(LinearProbe, ReturnedClassifierAppliesToTheUnstandardisedFeatures) {
    omni::Generator g(3);
    const std::int64_t f = 6, c = 3;
    const auto [points, labels] = clusters(g, 300, f, c, 2.0);
    // Far from zero mean and unit scale, so a classifier left in standardised coordinates fails.
    const D x = omni::add(omni::mul(points, D::full({1, f}, 7.0f)), D::full({1, f}, 40.0f));
    const D xtr = x.slice(0, 0, 200), xte = x.slice(0, 200, 300).contiguous(), ytr = labels.slice(0, 0, 200), yte = labels.slice(0, 200, 300);
    const auto r = omni::train::linear_probe(xtr, ytr, xte, yte, c, {.epochs = 10, .warmup_epochs = 1, .lr = 1e-2, .standardize = true});
    ASSERT_EQ(r.weight.shape(), (omni::Shape{c, f}));
    ASSERT_EQ(r.bias.shape(), (omni::Shape{c}));
    const D logits = omni::add(omni::matmul(xte, r.weight, false, true), r.bias);
    EXPECT_GT(r.final_top1, 0.6);
    EXPECT_DOUBLE_EQ(omni::train::top1(omni::train::argmax_rows(logits), yte), r.final_top1);
}

TEST(SelectLinearProbe, StratifiedSplitHoldsOutEachClassProportionallyAndKeepsATrainingRow) {
    // Class counts 10, 5 and 1: a fifth of each held out, the single row kept for training.
    std::vector<std::int64_t> y;
    for (int k = 0; k < 10; ++k) y.push_back(0);
    for (int k = 0; k < 5; ++k) y.push_back(1);
    y.push_back(2);
    std::shuffle(y.begin(), y.end(), std::mt19937(5));
    omni::Generator g(1);
    const auto [fit, val] = omni::train::stratified_split(D::from_data(y, {16}), 3, 0.2, g);
    std::array<int, 3> held{};
    for (const std::int64_t i : val) ++held[y[i]];
    EXPECT_EQ(held, (std::array<int, 3>{2, 1, 0}));
    std::vector<std::int64_t> all(fit);
    all.insert(all.end(), val.begin(), val.end());
    std::sort(all.begin(), all.end());
    std::vector<std::int64_t> expect(16);
    std::iota(expect.begin(), expect.end(), 0);
    EXPECT_EQ(all, expect);  // disjoint and complete
}

TEST(SelectLinearProbe, PicksTheBestValidationSettingAndRetrainsOnEveryTrainingRow) {
    omni::Generator g(6);
    const std::int64_t c = 4;
    const auto [x, labels] = clusters(g, 400, 8, c, 3.0);
    const D xtr = x.slice(0, 0, 300), xte = x.slice(0, 300, 400), ytr = labels.slice(0, 0, 300), yte = labels.slice(0, 300, 400);
    const omni::train::ProbeOptions base{.epochs = 40, .warmup_epochs = 1, .lr = 1e-3, .standardize = true};
    // lr 1e-6 for 3 epochs leaves the classifier at its initialisation: it must lose.
    const auto s = omni::train::select_linear_probe(xtr, ytr, xte, yte, c, base, {.epochs = {3, 20}, .lr = {1e-6, 1e-2}, .weight_decay = {1e-4, 1e-1}});
    ASSERT_EQ(s.trials.size(), 8u);
    EXPECT_EQ(s.trials[0].epochs, 3);
    EXPECT_EQ(s.trials[1].weight_decay, 1e-1);
    EXPECT_EQ(s.trials[2].lr, 1e-2);
    const auto best = std::max_element(s.trials.begin(), s.trials.end(), [](auto a, auto b) { return a.validation_top1 < b.validation_top1; });
    EXPECT_EQ(s.chosen.epochs, best->epochs);
    EXPECT_EQ(s.chosen.lr, best->lr);
    EXPECT_EQ(s.chosen.weight_decay, best->weight_decay);
    EXPECT_EQ(s.chosen.lr, 1e-2);
    EXPECT_LT(s.trials[0].validation_top1, 0.6);
    EXPECT_EQ(s.chosen.warmup_epochs, 1);  // the rest of `base` is kept
    EXPECT_GT(s.result.final_top1, 0.9);
    EXPECT_EQ(s.result.test_top1.size(), static_cast<std::size_t>(s.chosen.epochs));
    // The reported result is the chosen setting trained on all 300 rows, not on the 240 fitted rows.
    EXPECT_DOUBLE_EQ(s.result.final_top1, omni::train::linear_probe(xtr, ytr, xte, yte, c, s.chosen).final_top1);
}

TEST(SelectLinearProbe, RefusesAnEmptyGridABadFractionAndAnEmptyValidationSplit) {
    omni::Generator g(7);
    const auto xy = clusters(g, 40, 4, 4, 3.0);
    const D &x = xy.first, &y = xy.second;
    const omni::train::ProbeOptions base{.epochs = 10, .warmup_epochs = 2};
    const auto select = [&](const omni::train::ProbeGrid& grid, const D& xs, const D& ys) {
        return omni::train::select_linear_probe(xs, ys, x, y, 4, base, grid);
    };
    EXPECT_THROW(select({.epochs = {}}, x, y), omni::value_error);
    EXPECT_THROW(select({.validation_fraction = 0.0}, x, y), omni::value_error);
    EXPECT_THROW(select({.validation_fraction = 1.0}, x, y), omni::value_error);
    EXPECT_THROW(select({.epochs = {2}}, x, y), omni::value_error);  // no more than the warmup
    EXPECT_THROW(select({.epochs = {5}}, x, y.slice(0, 0, 30)), omni::shape_error);
    try {  // 2 rows per class: a tenth of them rounds to none
        select({.epochs = {5}, .validation_fraction = 0.1}, x.slice(0, 0, 8), y.slice(0, 0, 8));
        FAIL() << "an empty validation split must be refused";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("holds out none"), std::string::npos) << e.what();
    }
}

TEST(Encode, MatchesTheModelBatchByBatchWithoutATape) {
    omni::Generator g(4);
    Micro m(micro(), g);
    const D images = D::randn({5, 3, 8, 8}, g);
    const auto batch = [&](std::span<const std::int64_t> idx) { return images.slice(0, idx.front(), idx.back() + 1); };
    const D f = omni::train::encode(m, "image", 5, batch, 2);
    omni::no_grad ng;
    const D ref = m.encode<omni::models::image>(V(images)).value();
    const auto a = f.to_vector<float>(), b = ref.to_vector<float>();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
}

TEST(Sail, AlignsPairedFeaturesZeroShotAndRetrieval) {
    omni::Generator g(3);
    const std::int64_t n = 600, k = 5, d = 16;
    // Each modality sees the class through its own random linear map plus noise.
    const D protos = D::randn({k, d}, g);
    std::vector<std::int64_t> y(n);
    for (std::int64_t i = 0; i < n; ++i) y[i] = i % k;
    const D labels = D::from_data(y, {n});
    const D wa = D::randn({d, d}, g), wb = D::randn({d, d}, g);
    const D za = omni::index_select(protos, 0, labels);
    const D fa = omni::add(omni::matmul(za, wa), D::randn({n, d}, g, omni::dtype::f32, 0, 0.3));
    const D fb = omni::add(omni::matmul(za, wb), D::randn({n, d}, g, omni::dtype::f32, 0, 0.3));
    omni::train::SailAligner al({.in = d, .out = 8}, g);
    const auto losses = omni::train::train_sail(al, {{"image", fa, "text", fb}}, {.epochs = 30, .batch_size = 64, .lr = 1e-2});
    EXPECT_LT(losses.back(), losses.front());
    const D prompts = omni::matmul(protos, wb);  // one template per class
    EXPECT_GT(omni::train::top1(omni::train::zero_shot(al, "image", fa, "text", prompts, k), labels), 0.9);
    EXPECT_GT(omni::train::precision_at_k(al.embed("image", fa), y, al.embed("text", fb), y, 10), 0.9);
    EXPECT_THROW(omni::train::zero_shot(al, "image", fa, "text", prompts.slice(0, 0, 4), k), omni::shape_error);
    EXPECT_THROW(al.embed("image", D::zeros({2, 3})), omni::shape_error);
    try {
        al.embed("imu", fa);
        FAIL() << "an aligner without an imu Linear must refuse imu features";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("expected one of its modalities (image, audio, text), got 'imu'"), std::string::npos) << e.what();
    }
    EXPECT_THROW(omni::train::train_sail(al, {{"image", fa, "imu", fb}}, {.epochs = 1}), omni::value_error);
    // Any list of modalities, named by the caller: one Linear each, proj_<name>, drawn in list order.
    omni::Generator g1(4), g2(4);
    omni::train::SailAligner own({.in = d, .out = 8, .modalities = {"imu", "text"}}, g1);
    std::vector<std::string> names;
    omni::nn::for_each_parameter(own, [&](const std::string& n, const V&) { names.push_back(n); });
    EXPECT_EQ(names[0], "proj_imu.weight");
    EXPECT_EQ(names[2], "proj_text.weight");
    omni::train::SailAligner builtin({.in = d, .out = 8}, g2);
    EXPECT_EQ(own.proj[1].weight.value().to_vector<float>(), builtin.proj[1].weight.value().to_vector<float>());
    EXPECT_EQ(omni::train::zero_shot(own, "imu", fa, "text", prompts, k).size(), static_cast<std::size_t>(n));
    omni::Generator g3(4);
    EXPECT_THROW(omni::train::SailAligner({.in = d, .out = 8, .modalities = {"text", "text"}}, g3), omni::value_error);
}

TEST(Sail, PrecisionAtKCountsSameLabelNeighbours) {
    const D q = D::from_data<float>({1, 0, 0, 1}, {2, 2});
    const D gal = D::from_data<float>({1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f}, {4, 2});
    // Query 0's two nearest are gallery 0 and 1 (labels 0, 1); query 1's are 2 and 3 (labels 1, 1).
    EXPECT_DOUBLE_EQ(omni::train::precision_at_k(q, {0, 1}, gal, {0, 1, 1, 1}, 2), (0.5 + 1.0) / 2);
    EXPECT_THROW(omni::train::precision_at_k(q, {0, 1}, gal, {0, 1, 1, 1}, 5), omni::value_error);
}

TEST(Progress, PrintsStepLossRateAndEtaOffATerminal) {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    {
        omni::train::Progress p("demo", 4, f, 2);
        for (int s = 1; s <= 4; ++s) p.update(s, 1.0 / s, 8);
    }
    const std::string text = read_and_close(f);
    EXPECT_NE(text.find("demo step 2/4"), std::string::npos) << text;
    EXPECT_NE(text.find("demo step 4/4"), std::string::npos) << text;
    EXPECT_EQ(text.find("step 1/4"), std::string::npos) << text;
    EXPECT_NE(text.find("samples/s"), std::string::npos);
    EXPECT_NE(text.find("ETA"), std::string::npos);
    EXPECT_EQ(omni::train::Progress::clock_text(3725), "1:02:05");
}

// c classes of 8x8 images: a class-specific mean pattern plus noise; labels i % c.
static std::pair<D, D> class_images(omni::Generator& g, std::int64_t n, std::int64_t c, double noise) {
    const D means = D::randn({c, 3, 8, 8}, g);
    std::vector<std::int64_t> y(n);
    for (std::int64_t i = 0; i < n; ++i) y[i] = i % c;
    const D labels = D::from_data(y, {n});
    return {omni::add(omni::index_select(means, 0, labels), D::randn({n, 3, 8, 8}, g, omni::dtype::f32, 0, noise)), labels};
}

// Rows [lo, hi) of images and labels as a labelled split (no augmentation).
static omni::train::LabelledSplit split_of(const D& images, const D& labels, std::int64_t lo, std::int64_t hi) {
    const D x = images.slice(0, lo, hi).contiguous();
    return {hi - lo, [x](std::span<const std::int64_t> idx, omni::Generator*) {
                return omni::index_select(x, 0, D::from_data(std::vector<std::int64_t>(idx.begin(), idx.end()), {static_cast<std::int64_t>(idx.size())}));
            },
            labels.slice(0, lo, hi).contiguous()};
}

TEST(Finetune, SBoRATrainsOnlyAdaptersAndClassifierAndLearnsTheTask) {
    omni::Generator g(8);
    Micro m(micro(), g);
    const std::int64_t c = 4;
    const auto [images, labels] = class_images(g, 256, c, 0.5);
    const auto tr = split_of(images, labels, 0, 192), te = split_of(images, labels, 192, 256);
    const auto qkv_before = m.blocks[0].attn.qkv.weight.value().to_vector<float>();
    const auto r = omni::train::finetune(m, "image", tr, te, c,
                                         {.adapter = {.rank = 8, .alpha = 8}, .epochs = 6, .warmup_epochs = 1, .batch_size = 32, .lr = 3e-3,
                                          .progress = nullptr});
    EXPECT_EQ(r.adapted_linears, 4);  // qkv, proj, fc1, fc2 of the one block
    // lora_b of qkv [96, 8], proj [32, 8], fc1 [128, 8], fc2 [32, 8], plus the classifier [4, 32] + [4].
    EXPECT_EQ(r.trainable, 96 * 8 + 32 * 8 + 128 * 8 + 32 * 8 + 4 * 32 + 4);
    EXPECT_EQ(m.blocks[0].attn.qkv.weight.value().to_vector<float>(), qkv_before);  // frozen
    EXPECT_GT(r.final_top1, 0.8);
    EXPECT_THROW(omni::train::finetune(m, "image", tr, te, c, {.epochs = 2, .warmup_epochs = 2, .progress = nullptr}), omni::value_error);
}

TEST(Finetune, StartsFromALinearProbeClassifier) {
    omni::Generator g(9);
    Micro m(micro(), g);
    const std::int64_t c = 4;
    const auto [images, labels] = class_images(g, 128, c, 2.0);
    const auto tr = split_of(images, labels, 0, 96), te = split_of(images, labels, 96, 128);
    const auto tr_batch = [&](std::span<const std::int64_t> idx) { return tr.batch(idx, nullptr); };
    const auto te_batch = [&](std::span<const std::int64_t> idx) { return te.batch(idx, nullptr); };
    const auto probe = omni::train::linear_probe(omni::train::encode(m, "image", 96, tr_batch), tr.labels,
                                                 omni::train::encode(m, "image", 32, te_batch), te.labels, c,
                                                 {.epochs = 10, .warmup_epochs = 1, .lr = 1e-2, .standardize = true});
    // A vanishing learning rate leaves the adapters and the classifier where they start: the
    // fine-tune then scores exactly what the probe scored.
    omni::train::FinetuneOptions o{.adapter = {.rank = 4, .alpha = 4}, .epochs = 1, .warmup_epochs = 0, .lr = 1e-30, .min_lr = 1e-30,
                                   .progress = nullptr};
    o.init_weight = probe.weight;
    o.init_bias = probe.bias;
    Micro copy(micro(), g);
    omni::io::Safetensors w;
    w.tensors = omni::io::state_dict(m);
    omni::io::load_weights(copy, w);
    EXPECT_DOUBLE_EQ(omni::train::finetune(copy, "image", tr, te, c, o).final_top1, probe.final_top1);
    o.init_bias = D{};
    EXPECT_THROW(omni::train::finetune(m, "image", tr, te, c, o), omni::value_error);
    o.init_bias = probe.bias;
    o.init_weight = probe.weight.slice(1, 0, 8);
    EXPECT_THROW(omni::train::finetune(m, "image", tr, te, c, o), omni::shape_error);
}

// ---- the shared loop keeps every trainer's numbers -----------------------------------------------
// FNV-1a of each line "<name> <%a values...>" (or "<name> <weights hash>") that the trainers gave
// before they shared train::run_loop (recorded on the Xeon CI machine, 1 and 2 threads alike;
// re-recorded when CPU softmax and attention moved to packet exp and AVX-512 tile kernels, and
// when large float32 GEMMs moved to omni's sgemm). The AVX2 and AVX-512 kernels give the same bits
// (the same sums in the same order); a CPU without AVX2 runs Eigen instead and other bits.
static std::uint64_t fnv_bytes(const void* p, std::size_t n, std::uint64_t h = 14695981039346656037ull) {
    for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<const unsigned char*>(p)[i]) * 1099511628211ull;
    return h;
}
template <class M> static std::string weights_line(const char* name, M& m) {
    std::uint64_t h = 14695981039346656037ull;
    for (const auto& [n, t] : omni::io::state_dict(m)) {
        const auto v = t.to(omni::dtype::f32).contiguous().template to_vector<float>();
        h = fnv_bytes(v.data(), v.size() * sizeof(float), h);
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %016llx", name, static_cast<unsigned long long>(h));
    return buf;
}
template <class T> static std::string values_line(const char* name, const std::vector<T>& v) {
    std::string s = name;
    char buf[48];
    for (const T x : v) std::snprintf(buf, sizeof buf, " %a", static_cast<double>(x)), s += buf;
    return s;
}
static std::uint64_t line_hash(const std::string& s) { return fnv_bytes(s.data(), s.size()); }

TEST(Golden, EveryTrainerGivesTheBitsItGaveBeforeTheSharedLoop) {
    if (!omni::backend::cpu::sgemm::kernel()) GTEST_SKIP() << "recorded with the AVX2 / AVX-512 kernels; this CPU (or OMNI_CPU_ISA) runs Eigen's";
    {
        const auto data = micro_data();
        omni::train::PretrainOptions o{.batch_size = 16, .steps = 0, .epochs = 2, .lr = 3e-3, .temperature = 0.2, .seed = 3, .progress = nullptr};
        o.modality_weight = {{"image", 2}}, o.lr_scale = {{"text_embed.weight", 3.0}}, o.no_weight_decay = {"text_embed.weight"};
        omni::Generator g(11);
        Micro m(micro(), g);
        const auto r = omni::train::pretrain(m, data, o);
        EXPECT_EQ(line_hash(values_line("pretrain2.losses", r.losses)), 0x235fa7e60545acc8ull);
        EXPECT_EQ(line_hash(weights_line("pretrain2.weights", m)), 0x0861097e9e1ba21eull);
    }
    {
        omni::Generator g(8);
        Micro m(micro(), g);
        const auto [images, labels] = class_images(g, 256, 4, 0.5);
        const auto tr = split_of(images, labels, 0, 190), te = split_of(images, labels, 192, 256);  // a partial last batch
        const auto r = omni::train::finetune(m, "image", tr, te, 4,
                                             {.adapter = {.rank = 8, .alpha = 8}, .epochs = 6, .warmup_epochs = 1, .batch_size = 32, .lr = 3e-3, .progress = nullptr});
        EXPECT_EQ(line_hash(values_line("finetune.top1", r.test_top1)), 0xce67b7f4e132c1d8ull);
        EXPECT_EQ(line_hash(weights_line("finetune.weights", m)), 0x78b3d0b4808ab6a1ull);
    }
    {
        omni::Generator g(2);
        const auto [x, labels] = clusters(g, 400, 8, 4, 3.0);
        const auto r = omni::train::linear_probe(x.slice(0, 0, 300), labels.slice(0, 0, 300), x.slice(0, 300, 400), labels.slice(0, 300, 400), 4,
                                                 {.epochs = 7, .warmup_epochs = 3, .batch_size = 64, .lr = 1e-2, .standardize = true});
        EXPECT_EQ(line_hash(values_line("probe.top1", r.test_top1)), 0xb13fbd2fd1dc743cull);
        EXPECT_EQ(line_hash(values_line("probe.weight", r.weight.to_vector<float>())), 0x2a8cc490176d76e5ull);
    }
    {
        omni::Generator g(3);
        const std::int64_t n = 600, k = 5, d = 16;
        const D protos = D::randn({k, d}, g);
        std::vector<std::int64_t> y(n);
        for (std::int64_t i = 0; i < n; ++i) y[i] = i % k;
        const D za = omni::index_select(protos, 0, D::from_data(y, {n}));
        const D wa = D::randn({d, d}, g), wb = D::randn({d, d}, g);
        const D fa = omni::add(omni::matmul(za, wa), D::randn({n, d}, g, omni::dtype::f32, 0, 0.3));
        const D fb = omni::add(omni::matmul(za, wb), D::randn({n, d}, g, omni::dtype::f32, 0, 0.3));
        omni::Generator ga(3);
        omni::train::SailAligner al({.in = d, .out = 8}, ga);
        const auto losses = omni::train::train_sail(
            al, {{"image", fa, "text", fb}, {"audio", fb.slice(0, 0, 300), "text", fa.slice(0, 0, 300)}},
            {.epochs = 4, .batch_size = 64, .lr = 1e-2});
        EXPECT_EQ(line_hash(values_line("sail.losses", losses)), 0x22ed8eab542f279eull);
        EXPECT_EQ(line_hash(weights_line("sail.weights", al)), 0x8aedc3b213f2e22bull);
    }
}

TEST(Finetune, ResumesBitExactlyAndEveryOptionChangeRefusesTheOldCheckpoint) {
    const fs::path dir = temp_dir("finetune");
    omni::Generator g(8);
    const auto [images, labels] = class_images(g, 96, 4, 0.5);
    const auto tr = split_of(images, labels, 0, 64), te = split_of(images, labels, 64, 96);
    const omni::train::FinetuneOptions base{.adapter = {.rank = 4, .alpha = 4}, .epochs = 3, .warmup_epochs = 1, .batch_size = 16, .lr = 3e-3, .progress = nullptr};
    const auto fresh_model = [] {
        omni::Generator gm(8);
        return Micro(micro(), gm);
    };
    Micro straight = fresh_model();
    const auto r1 = omni::train::finetune(straight, "image", tr, te, 4, base);
    auto o = base;
    o.checkpoint = (dir / "ft.ckpt").string();
    o.stop_after = 6;  // inside epoch 1 (4 steps per epoch)
    Micro first = fresh_model();
    omni::train::finetune(first, "image", tr, te, 4, o);
    o.stop_after = 0;
    Micro resumed = fresh_model();
    const auto r3 = omni::train::finetune(resumed, "image", tr, te, 4, o);
    EXPECT_EQ(r3.test_top1, r1.test_top1);  // epoch 0's accuracy came back from the checkpoint
    EXPECT_EQ(flat_weights(resumed), flat_weights(straight));
    using Options = omni::train::FinetuneOptions;
    o.stop_after = 2;
    fs::remove(o.checkpoint);
    Micro writer = fresh_model();
    omni::train::finetune(writer, "image", tr, te, 4, o);
    const std::vector<std::pair<const char*, std::function<void(Options&)>>> changes = {
        {"adapter.kind", [](Options& x) { x.adapter.kind = omni::nn::adapter_kind::lora; }},
        {"adapter.rank", [](Options& x) { x.adapter.rank = 2; }},
        {"adapter.alpha", [](Options& x) { x.adapter.alpha = 8; }},
        {"epochs", [](Options& x) { x.epochs = 4; }},
        {"warmup_epochs", [](Options& x) { x.warmup_epochs = 0; }},
        {"batch_size", [](Options& x) { x.batch_size = 8; }},
        {"lr", [](Options& x) { x.lr = 1e-3; }},
        {"min_lr", [](Options& x) { x.min_lr = 1e-6; }},
        {"weight_decay", [](Options& x) { x.weight_decay = 0.05; }},
        {"augment", [](Options& x) { x.augment = false; }},
        {"seed", [](Options& x) { x.seed = 1; }},
        {"init_weight", [](Options& x) { x.init_weight = D::zeros({4, 32}), x.init_bias = D::zeros({4}); }},
    };
    omni::train::FieldCounter fields;
    base.visit(fields);
    EXPECT_EQ(fields.identity + 1, changes.size());  // adapter: one field, three cases; init_bias changes with init_weight
    for (const auto& [what, change] : changes) {
        auto other = o;
        change(other);
        Micro m = fresh_model();
        try {
            omni::train::finetune(m, "image", tr, te, 4, other);
            ADD_FAILURE() << "a finetune checkpoint written before changing " << what << " was resumed";
        } catch (const omni::value_error& e) {
            EXPECT_NE(std::string(e.what()).find("was written with recipe"), std::string::npos) << what << ": " << e.what();
        }
    }
    fs::remove_all(dir);
}

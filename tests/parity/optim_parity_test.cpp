// omni's AdamW and SGD against torch.optim over five steps in float64. This test runs the
// optimisers on seeded parameters and gradients (with a scheduled lr, two groups, and one
// parameter that gets no gradient for its first steps), writes every tensor as raw
// little-endian float64 plus manifest.json, then runs tests/parity/optim_parity.py, which
// replays the same steps with torch and fails on any difference above 1e-10.
//
// Build with -DOMNI_SOURCE_DIR="<repo root>" (else the root is found from __FILE__), and
// optionally -DOMNI_TORCH_PYTHON="<python with torch>" (default /usr/bin/python3, Debian's).
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "omni/backend/cpu.hpp"
#include "omni/optim/adamw.hpp"
#include "omni/optim/schedule.hpp"
#include "omni/optim/sgd.hpp"

#ifndef OMNI_TORCH_PYTHON
#define OMNI_TORCH_PYTHON "/usr/bin/python3"
#endif

using omni::cpu;
using D = omni::Tensor<cpu>;
using V = omni::Var<cpu>;
using Group = omni::optim::ParamGroup<cpu>;
namespace fs = std::filesystem;
namespace optim = omni::optim;

namespace {
static_assert(std::endian::native == std::endian::little, "the reference reads little-endian float64");

constexpr int steps = 5;

fs::path source_dir() {
#ifdef OMNI_SOURCE_DIR
    return OMNI_SOURCE_DIR;
#else
    return fs::path(__FILE__).parent_path().parent_path().parent_path();  // tests/parity/ -> root
#endif
}

void write_f64(const fs::path& file, const D& t) {
    const auto v = t.to_vector<double>();
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(double)));
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// Gradients are missing for parameter "late" until step 2: PyTorch then skips it, so its state
// starts late and its bias corrections count only its own steps.
bool has_grad(const std::string& name, int t) { return name != "late" || t >= 2; }

std::vector<Group> make_groups(omni::Generator& g, std::optional<double> wd0, double scale1, std::optional<double> wd1) {
    auto p = [&](std::initializer_list<std::int64_t> s) { return V(D::randn(omni::Shape(s), g, omni::dtype::f64), true); };
    return {Group{.names = {"w", "v"}, .params = {p({3, 4}), p({5})}, .weight_decay = wd0},
            Group{.names = {"b", "late"}, .params = {p({4}), p({2, 3})}, .lr_scale = scale1, .weight_decay = wd1}};
}

// Runs `steps` updates, writing the initial value, every gradient and every result, and
// appends this case to the manifest.
template <class Opt>
void record(const fs::path& dir, const std::string& name, Opt& opt, const std::vector<double>& lrs, omni::Generator& g,
            const std::string& options_json, std::ostream& manifest) {
    for (const auto& grp : opt.groups)
        for (std::size_t i = 0; i < grp.params.size(); ++i) write_f64(dir / (name + "." + grp.names[i] + ".init.f64"), grp.params[i].value());
    for (int t = 0; t < steps; ++t) {
        for (const auto& grp : opt.groups)
            for (std::size_t i = 0; i < grp.params.size(); ++i) {
                const V& p = grp.params[i];
                p.zero_grad();
                if (!has_grad(grp.names[i], t)) continue;
                const D grad = D::randn(p.shape(), g, omni::dtype::f64);
                p.backward(grad);
                write_f64(dir / (name + "." + grp.names[i] + ".grad" + std::to_string(t) + ".f64"), grad);
            }
        opt.step(lrs[t]);
        for (const auto& grp : opt.groups)
            for (std::size_t i = 0; i < grp.params.size(); ++i)
                write_f64(dir / (name + "." + grp.names[i] + ".step" + std::to_string(t) + ".f64"), grp.params[i].value());
    }
    manifest << "{\"name\": \"" << name << "\", \"options\": " << options_json << ", \"lrs\": [";
    for (int t = 0; t < steps; ++t) manifest << (t ? ", " : "") << lrs[t];
    manifest << "], \"groups\": [";
    for (std::size_t gi = 0; gi < opt.groups.size(); ++gi) {
        const auto& grp = opt.groups[gi];
        manifest << (gi ? ", " : "") << "{\"lr_scale\": " << grp.lr_scale << ", \"weight_decay\": ";
        if (grp.weight_decay) manifest << *grp.weight_decay;
        else manifest << "null";  // the optimiser's default, in both libraries
        manifest << ", \"params\": [";
        for (std::size_t i = 0; i < grp.params.size(); ++i) {
            manifest << (i ? ", " : "") << "{\"name\": \"" << grp.names[i] << "\", \"shape\": [";
            for (int d = 0; d < grp.params[i].dim(); ++d) manifest << (d ? ", " : "") << grp.params[i].shape()[d];
            manifest << "], \"grad_steps\": [";
            bool first = true;
            for (int t = 0; t < steps; ++t)
                if (has_grad(grp.names[i], t)) {
                    manifest << (first ? "" : ", ") << t;
                    first = false;
                }
            manifest << "]}";
        }
        manifest << "]}";
    }
    manifest << "]}";
}
}  // namespace

TEST(OptimParity, AdamWAndSGDMatchTorchOverFiveSteps) {
    const std::string python = OMNI_TORCH_PYTHON;
    if (std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0)
        GTEST_SKIP() << python << " cannot import torch (Debian's python3-torch)";
    const fs::path script = source_dir() / "tests" / "parity" / "optim_parity.py";
    ASSERT_TRUE(fs::exists(script)) << script << " not found: define OMNI_SOURCE_DIR as the repository root";
    const fs::path dir = fs::temp_directory_path() / ("omni_optim_parity_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);

    // lr from the schedule Omni-C uses, sampled where it changes fastest.
    const optim::CosineSchedule sched{.base_lr = 0.05, .warmup_steps = 1.5, .total_steps = 6, .min_lr = 1e-3};
    std::vector<double> lrs;
    for (int t = 0; t < steps; ++t) lrs.push_back(sched.lr(t + 1));

    std::ostringstream manifest;
    manifest << std::setprecision(17) << "{\"steps\": " << steps << ", \"cases\": [";
    omni::Generator g(2024);
    {
        // timm-style groups: decayed, and undecayed at half the lr.
        optim::AdamW<cpu> opt(make_groups(g, 0.1, 0.5, 0.0), {.beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6});
        record(dir, "adamw", opt, lrs, g, R"({"optimizer": "adamw", "betas": [0.8, 0.95], "eps": 1e-06, "weight_decay": 0.01})", manifest);
    }
    manifest << ", ";
    {
        optim::SGD<cpu> opt(make_groups(g, std::nullopt, 2.0, 0.0), {.momentum = 0.9, .weight_decay = 1e-2, .nesterov = true});
        record(dir, "sgd_nesterov", opt, lrs, g,
               R"({"optimizer": "sgd", "momentum": 0.9, "dampening": 0.0, "nesterov": true, "weight_decay": 0.01})", manifest);
    }
    manifest << ", ";
    {
        optim::SGD<cpu> opt(make_groups(g, 0.05, 1.0, std::nullopt), {.momentum = 0.8, .dampening = 0.3});
        record(dir, "sgd_dampening", opt, lrs, g,
               R"({"optimizer": "sgd", "momentum": 0.8, "dampening": 0.3, "nesterov": false, "weight_decay": 0.0})", manifest);
    }
    manifest << "]}\n";
    std::ofstream(dir / "manifest.json") << manifest.str();

    const int status = std::system((python + " " + quoted(script) + " " + quoted(dir)).c_str());
    EXPECT_EQ(status, 0) << "torch.optim disagrees (see the script's output above); files kept in " << dir;
    if (status == 0) fs::remove_all(dir);
}

// TEG and OmniAlignNet against tests/parity/align_reference.py (ctest runs it first).
// TEG: on every case the plan (segments and index map) must equal the transcription of the
// released OmniVinci code exactly, the applied sequence must be bit-identical (a gather) and
// the gradients of the visual, audio and separator embeddings must match. OmniAlignNet: omni
// in float32 against PyTorch in float64 on identical weights: V, A, the loss and every gradient
// within 1e-4 of the reference's largest magnitude.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "omni/backend/cpu.hpp"
#include "omni/io/weights.hpp"
#include "omni/loss/omni_align.hpp"
#include "omni/nn/omni_align_net.hpp"
#include "omni/nn/time/teg.hpp"

#include "parity_case.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;

namespace {
std::string dir() { return omni::parity::case_dir("OMNI_ALIGN_PARITY_DIR", "parity_align"); }
omni::io::Safetensors load(const std::string& name) {
    return omni::parity::load_case("OMNI_ALIGN_PARITY_DIR", "parity_align", "align_reference.py", name);
}
double rel_error(const D& a, const D& b) { return omni::parity::rel_error(a, b, 1e-2); }
std::vector<std::int64_t> ints(const D& t) { return t.to_vector<std::int64_t>(); }
}  // namespace

TEST(AlignParity, TegPlanAndApplyMatchTheReleasedCode) {
    const auto f = load("teg");
    std::ifstream names(dir() + "/teg_cases.txt");
    std::string name;
    int cases = 0;
    double worst_grad = 0;
    while (std::getline(names, name)) {
        if (name.empty()) continue;
        SCOPED_TRACE(name);
        ++cases;
        const auto o = f.at(name + ".options").to_vector<double>();
        const nn::TegOptions opt{.segment_seconds = o[0], .fps = o[1], .frame_count = static_cast<std::int64_t>(o[2]),
                                 .frame_indices = ints(f.at(name + ".frame_indices")), .has_audio = o[3] != 0, .audio_start = o[4],
                                 .audio_end = o[5], .sample_rate = static_cast<std::int64_t>(o[6]), .hop_length = static_cast<std::int64_t>(o[7]),
                                 .stft_frames = static_cast<std::int64_t>(o[8]), .visual_tokens = static_cast<std::int64_t>(o[9]),
                                 .audio_tokens = static_cast<std::int64_t>(o[10])};
        const nn::TegPlan p = nn::teg_plan(opt);
        ASSERT_EQ(p.index, ints(f.at(name + ".index")));
        const auto segs = ints(f.at(name + ".segments"));
        ASSERT_EQ(segs.size(), 4 * p.segments.size());
        for (std::size_t i = 0; i < p.segments.size(); ++i) {
            EXPECT_EQ(p.segments[i].frame_begin, segs[4 * i]);
            EXPECT_EQ(p.segments[i].frame_end, segs[4 * i + 1]);
            EXPECT_EQ(p.segments[i].stft_begin, segs[4 * i + 2]);
            EXPECT_EQ(p.segments[i].stft_end, segs[4 * i + 3]);
        }
        if (name == "round_half_even") {
            EXPECT_EQ(p.segments[0].stft_end, 7780);  // round(7780.5), as Python
        }

        V vis(f.at(name + ".in.visual"), true), aud(f.at(name + ".in.audio"), true), sep(f.at(name + ".in.sep"), true);
        const V out = nn::teg_apply(p, vis, opt.has_audio ? aud : V(), sep);
        EXPECT_EQ(out.value().to_vector<float>(), f.at(name + ".out").to_vector<float>());
        out.backward(f.at(name + ".upstream"));
        worst_grad = std::max(worst_grad, rel_error(vis.grad(), f.at(name + ".grad.visual")));
        if (opt.has_audio) {
            worst_grad = std::max(worst_grad, rel_error(aud.grad(), f.at(name + ".grad.audio")));
            worst_grad = std::max(worst_grad, rel_error(sep.grad(), f.at(name + ".grad.sep")));
        }
    }
    EXPECT_GE(cases, 38);
    EXPECT_LE(worst_grad, 1e-6);
    std::cout << "teg: " << cases << " cases, plans equal, outputs bit-identical, worst gradient error " << worst_grad << "\n";
    for (int k = 0; k < 6; ++k) {
        const std::string n = "by_time_" + std::to_string(k);
        const auto t_g = f.at(n + ".options").to_vector<double>()[0];
        EXPECT_EQ(nn::teg_plan_by_time(f.at(n + ".tv").to_vector<double>(), f.at(n + ".ta").to_vector<double>(), t_g).index, ints(f.at(n + ".index")))
            << n;
    }
}

namespace {
void check_align(const std::string& name, const nn::OmniAlignNetConfig& cfg, const omni::loss::OmniAlignLossConfig& lcfg, bool masks) {
    const auto f = load(name);
    omni::Generator g(1);
    nn::OmniAlignNet<A> net(cfg, g);
    omni::loss::OmniAlignLoss<A> loss(lcfg);
    omni::io::load_weights(net, f);
    omni::io::load_weights(loss, f);
    V ev(f.at("in.ev"), true), ea(f.at("in.ea"), true);
    const auto out = net(ev, ea, masks ? V(f.at("in.mv")) : V(), masks ? V(f.at("in.ma")) : V());
    const V l = loss(out.visual, out.audio);
    double worst = std::max({rel_error(out.visual.value(), f.at("out.v")), rel_error(out.audio.value(), f.at("out.a")),
                             rel_error(l.value().reshape({1}), f.at("out.loss").reshape({1}))});
    EXPECT_LE(worst, 1e-4) << "forward";
    const V total = omni::add(omni::add(l, omni::sum(omni::mul(out.visual, V(f.at("up.v"))))), omni::sum(omni::mul(out.audio, V(f.at("up.a")))));
    total.backward();
    int checked = 0;
    auto grads = [&](auto& m) {
        nn::for_each_parameter(m, [&](const std::string& p, V& t) {
            const double e = rel_error(t.grad(), f.at("grad." + p));
            EXPECT_LE(e, 1e-4) << "grad of " << p;
            worst = std::max(worst, e);
            ++checked;
        });
    };
    grads(net);
    grads(loss);
    for (const auto& [t, key] : {std::pair{&ev, "grad.in.ev"}, {&ea, "grad.in.ea"}}) {
        const double e = rel_error(t->grad(), f.at(key));
        EXPECT_LE(e, 1e-4) << key;
        worst = std::max(worst, e);
    }
    std::cout << name << ": V, A, loss and " << checked << " parameter gradients + 2 input gradients, worst relative error " << worst << "\n";
}
}  // namespace

TEST(AlignParity, OmniAlignNetDefault) {
    check_align("align_default", {.dim = 32, .heads = 4}, {}, true);
}

TEST(AlignParity, OmniAlignNetSharedQueriesSharedLayersLearnableScale) {
    check_align("align_shared_learnable", {.dim = 32, .heads = 4, .n_queries = 3, .shared_query = true, .shared_layers = true},
                {.scale = omni::loss::align_scale::learnable}, false);
}

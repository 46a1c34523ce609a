// CRTE and RoPE against PyTorch (tests/parity/time_reference.py writes the reference; ctest runs
// it first): CRTE paper mode against the paper's formula, reference mode against a transcription
// of the released MaxTimeContinuousTimeRotaryEmbedding + apply_rotary_emb ("shortest" and
// "longest"), RoPE against transformers' Qwen2RotaryEmbedding + apply_rotary_pos_emb. The
// reference runs in float64; omni runs in float64 and float32, forward and input gradients.
// Errors are max |omni - ref| / max |ref| per tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/io/safetensors.hpp"
#include "omni/nn/time/crte.hpp"
#include "omni/nn/time/rope.hpp"

#include "parity_case.hpp"

using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;
using omni::dtype;
namespace nn = omni::nn;

namespace {

omni::io::Safetensors load_case(const std::string& name) {
    return omni::parity::load_case("OMNI_TIME_PARITY_DIR", "parity_time", "time_reference.py", name);
}
double rel_error(const D& got, const D& want) { return omni::parity::rel_error(got, want, 0.0); }

void report(const std::string& what, double e, double tol) {
    std::printf("  %-40s max rel error %.3e (tol %.0e)\n", what.c_str(), e, tol);
    EXPECT_LE(e, tol) << what;
}

void crte_case(const std::string& name, const nn::CrteConfig& cfg) {
    const auto f = load_case(name);
    for (dtype t : {dtype::f64, dtype::f32}) {
        const double tol = t == dtype::f64 ? 1e-12 : 1e-5;
        const V x(f.at("x").to(t), true);
        // float64 timestamps in both runs: a float32 t is itself rounded by up to 6e-8 relative,
        // which at 150 s on the 1 s channel of "longest" is 6e-5 rad, beyond this tolerance.
        const V y = nn::crte(x, V(f.at("t")), cfg);
        y.backward(f.at("up").to(t));
        const std::string tag = name + " " + omni::name_of(t);
        report(tag + " y", rel_error(y.value(), f.at("y")), tol);
        report(tag + " dx", rel_error(x.grad(), f.at("gx")), tol);
    }
}

void rope_case(const std::string& name, double tol64, double tol32) {
    const auto f = load_case(name);
    const std::int64_t offset = f.at("offset").to_vector<std::int64_t>()[0];
    const nn::RopeConfig cfg{.head_dim = f.at("q").shape()[3], .theta = f.at("theta").to_vector<double>()[0]};
    for (dtype t : {dtype::f64, dtype::f32}) {
        const double tol = t == dtype::f64 ? tol64 : tol32;
        const V q(f.at("q").to(t), true), k(f.at("k").to(t), true);
        const V qe = nn::apply_rope(q, cfg, offset), ke = nn::apply_rope(k, cfg, offset);
        omni::add(omni::sum(qe * V(f.at("uq").to(t))), omni::sum(ke * V(f.at("uk").to(t)))).backward();
        const std::string tag = name + " " + omni::name_of(t);
        report(tag + " q_embed", rel_error(qe.value(), f.at("q_embed")), tol);
        report(tag + " k_embed", rel_error(ke.value(), f.at("k_embed")), tol);
        report(tag + " dq", rel_error(q.grad(), f.at("gq")), tol);
        report(tag + " dk", rel_error(k.grad(), f.at("gk")), tol);
    }
}

}  // namespace

TEST(TimeParity, CrtePaperModeAgainstThePaperFormula) { crte_case("crte_paper", {.d = 16, .T_max = 60, .theta = 5}); }

TEST(TimeParity, CrteReferenceModeAgainstTheReleaseShortest) {
    crte_case("crte_reference_shortest", {.d = 16, .T_max = 60, .theta = 5, .mode = nn::CrteMode::reference});
}

TEST(TimeParity, CrteReferenceModeAgainstTheReleaseLongest) {
    crte_case("crte_reference_longest", {.d = 16, .T_max = 60, .schedule = nn::CrteSchedule::longest, .mode = nn::CrteMode::reference});
}

// transformers computes RoPE angles in float32 (about 6e-8 relative), so float64 agreement is
// bounded by position * 6e-8 rather than by omni.
TEST(TimeParity, RopeAgainstTransformersQwen2) { rope_case("rope", 2e-6, 1e-5); }
TEST(TimeParity, RopeWithAnOffsetAgainstTransformersQwen2) { rope_case("rope_offset", 2e-6, 1e-5); }
TEST(TimeParity, RopeAtPosition4000AgainstTransformersQwen2) { rope_case("rope_long", 1e-3, 1e-3); }

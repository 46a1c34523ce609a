#pragma once
// Constrained Rotary Time Embedding (OmniVinci, arXiv 2510.15870, sec. 2): rotates media token
// embeddings x [B, N, C] by angles proportional to their timestamps t [B, N] (seconds) -> the same
// shape, applied to the projected embeddings before they enter the LLM:
//   omega_k = 2 pi / (T_max theta^(k / (d/2))),  k = 0 .. d/2 - 1,   phi_k(t) = omega_k t,
//   CRTE(x, t) = x cos(phi) + RotateHalf(x) sin(phi),  RotateHalf on interleaved pairs (2m, 2m+1)
// (the released MaxTimeContinuousTimeRotaryEmbedding with apply_rotary_emb, rotary-embedding-torch
// style). Angles are computed in float64 and cast to x's dtype.
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "omni/autodiff/rotary.hpp"
#include "omni/nn/module.hpp"

namespace omni::nn {

// How the frequencies span time (the release's period_mode).
enum class CrteSchedule {
    shortest,  // the formula above: fastest channel period T_max, slowest theta times longer
    longest,   // theta := T_max^((d/2)/(d/2 - 1)), omega_k = 2 pi / theta^(k/(d/2)): fastest period 1 s, slowest T_max
};

// Which channels rotate by which angle.
enum class CrteMode {
    paper,      // each pair (2m, 2m+1) turns by phi_m: angles [p0, p0, p1, p1, ...] over the first d channels
    reference,  // bit-compatible with the release: its d/2 angles are not duplicated per pair and only the
                // first d/2 channels rotate, channel c by phi_c (so a pair's two channels use different
                // angles and the map is no longer a rotation); channels >= d/2 pass through
};

/// Options of CRTE: rotated dims, T_max, theta and the frequency schedule.
struct CrteConfig {
    std::int64_t d = 128;                          // rotated dims (the release's trope_dim; 1792 = hidden/2 when unset there)
    double T_max = 60;                             // seconds; the release does not publish max_time, 60 is our choice
    double theta = 5;                              // the release's hard-coded base for "shortest"; unused by "longest"
    CrteSchedule schedule = CrteSchedule::shortest;
    CrteMode mode = CrteMode::paper;
};

// The d/2 frequencies omega_k in rad/s, in float64; validates the config.
inline std::vector<double> crte_frequencies(const CrteConfig& c) {
    if (c.d < 2 || c.d % 2) throw value_error("crte", "expected an even d >= 2, got " + std::to_string(c.d));
    if (c.mode == CrteMode::reference && c.d % 4)
        throw value_error("crte", "expected d divisible by 4 in reference mode (it rotates d/2 channels in pairs), got " + std::to_string(c.d));
    if (!(c.T_max > 0) || !std::isfinite(c.T_max)) throw value_error("crte", "expected a finite T_max > 0 seconds, got " + std::to_string(c.T_max));
    const std::int64_t h = c.d / 2;
    double base = c.theta, scale = c.T_max;
    if (c.schedule == CrteSchedule::shortest) {
        if (!(c.theta > 1) || !std::isfinite(c.theta))
            throw value_error("crte", "expected a finite theta > 1 for the shortest schedule, got " + std::to_string(c.theta));
    } else {
        if (h < 2) throw value_error("crte", "expected d >= 4 for the longest schedule (it divides by d/2 - 1), got " + std::to_string(c.d));
        base = std::pow(c.T_max, static_cast<double>(h) / static_cast<double>(h - 1));
        scale = 1.0;
    }
    std::vector<double> w(static_cast<std::size_t>(h));
    for (std::int64_t k = 0; k < h; ++k) w[k] = 2 * std::numbers::pi / (scale * std::pow(base, static_cast<double>(k) / static_cast<double>(h)));
    return w;
}

// CRTE as a function: x [B, N, C] (tensor or taped Var), t [B, N] float32 or float64 seconds.
template <class P> Tensor<P> crte(const Tensor<P>& x, const Tensor<P>& t, const CrteConfig& c = {}) {
    using D = device_of_t<P>;
    const std::vector<double> w = crte_frequencies(c);
    if (x.dim() != 3) throw shape_error("crte", "expected x [B, N, C], got " + x.shape().str());
    const std::int64_t B = x.shape()[0], N = x.shape()[1], C = x.shape()[2];
    const bool paper = c.mode == CrteMode::paper;
    const std::int64_t rot = paper ? c.d : c.d / 2;
    if (rot > C)
        throw shape_error("crte", "expected at least " + std::to_string(rot) + " channels (" + (paper ? "d" : "d/2 in reference mode") +
                                      "), got x " + x.shape().str());
    if (!(t.shape() == Shape{B, N})) throw shape_error("crte", "expected timestamps t [" + std::to_string(B) + ", " + std::to_string(N) + "], got " + t.shape().str());
    if (!is_floating(t.type())) throw dtype_error("crte", std::string("expected float32 or float64 timestamps, got ") + name_of(t.type()));
    if (!is_floating(x.type())) throw dtype_error("crte", std::string("expected a float32 or float64 x, got ") + name_of(x.type()));
    const std::vector<double> tv = value_of(t).template to_vector<double>();
    for (std::size_t i = 0; i < tv.size(); ++i)
        if (!std::isfinite(tv[i]))
            throw value_error("crte", "expected finite timestamps, got " + std::to_string(tv[i]) + " at token " + std::to_string(i));
    if (B * N == 0) return x.clone();
    const std::int64_t h = c.d / 2;
    auto [cs, sn] = rotary_tables<D>(B * N, rot, x.type(), [&]<class T>(std::int64_t r, T* cr, T* sr) {
        if (paper) {
            for (std::int64_t k = 0; k < h; ++k) {
                const double a = w[k] * tv[r];
                cr[2 * k] = cr[2 * k + 1] = static_cast<T>(std::cos(a));
                sr[2 * k] = sr[2 * k + 1] = static_cast<T>(std::sin(a));
            }
        } else {
            for (std::int64_t k = 0; k < rot; ++k) {
                const double a = w[k] * tv[r];
                cr[k] = static_cast<T>(std::cos(a));
                sr[k] = static_cast<T>(std::sin(a));
            }
        }
    });
    return rotary(x, cs, sn, rotary_pairing::interleaved);
}

/// CRTE as a module (no parameters): forward(x [B, N, C], t [B, N]) -> [B, N, C].
template <class P> struct Crte : Module {
    CrteConfig cfg;

    Crte() = default;
    explicit Crte(const CrteConfig& c) : cfg(c) { crte_frequencies(c); }

    template <class V> void visit(V&) {}

    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& t) const { return crte(x, t, cfg); }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& t) const { return forward(x, t); }
};

}  // namespace omni::nn

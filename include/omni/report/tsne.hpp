#pragma once
// Exact t-SNE (van der Maaten & Hinton 2008, "Visualizing Data using t-SNE") for embedding
// figures such as Omni-C's Fig. 1 and Fig. 6: Gaussian affinities at a fixed perplexity found by
// bisection, symmetrised; Student-t similarities in 2-D; gradient descent with momentum, early
// exaggeration (12 for the first 250 iterations) and per-coordinate gains. O(N^2) memory and
// time per iteration: meant for a few thousand points at most (Barnes-Hut is not implemented).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"
#include "omni/core/rng.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::report {

/// Options of tsne_2d: perplexity, iterations and seed.
struct TsneOptions {
    double perplexity = 30;  // effective neighbours per point; must be below N - 1
    std::int64_t iterations = 600;
    std::uint64_t seed = 0;  // the initial map's Philox stream: same seed, same map
};

namespace detail {
// x: n rows of d values (row-major) -> n rows of 2. Squared distances are accumulated in double
// from differences taken in T, so float features give the same map as the plain float loop.
template <class T> std::vector<double> tsne_2d(const std::vector<T>& x, int n, int d, const TsneOptions& o) {
    std::vector<double> dist(static_cast<std::size_t>(n) * n), P(dist.size(), 0.0);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int k = 0; k < d; ++k) {
                const double t = x[i * d + k] - x[j * d + k];
                s += t * t;
            }
            dist[i * n + j] = s;
        }
    const double target = std::log(o.perplexity);
    for (int i = 0; i < n; ++i) {  // bisect the precision beta so the row's entropy is log(perplexity)
        double lo = 0, hi = 1e30, beta = 1;
        for (int it = 0; it < 100; ++it) {
            double z = 0, h = 0;
            for (int j = 0; j < n; ++j)
                if (j != i) z += std::exp(-beta * dist[i * n + j]);
            z = std::max(z, 1e-300);
            for (int j = 0; j < n; ++j)
                if (j != i) {
                    const double p = std::exp(-beta * dist[i * n + j]) / z;
                    P[i * n + j] = p;
                    if (p > 1e-300) h -= p * std::log(p);
                }
            if (std::abs(h - target) < 1e-5) break;
            if (h > target) {
                lo = beta;
                beta = hi >= 1e30 ? beta * 2 : (beta + hi) / 2;
            } else {
                hi = beta;
                beta = (beta + lo) / 2;
            }
        }
    }
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) {
            const double s = std::max((P[i * n + j] + P[j * n + i]) / (2.0 * n), 1e-12);
            P[i * n + j] = P[j * n + i] = s;
        }
    Generator g(o.seed);
    std::vector<double> y(static_cast<std::size_t>(n) * 2), step(y.size(), 0.0), gains(y.size(), 1.0), grad(y.size()), q(dist.size());
    for (double& v : y) v = 1e-4 * g.normal();
    const double lr = std::max(n / 12.0, 50.0);
    for (std::int64_t it = 0; it < o.iterations; ++it) {
        const double exaggeration = it < 250 ? 12.0 : 1.0, momentum = it < 250 ? 0.5 : 0.8;
        double z = 0;
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                if (i == j) {
                    q[i * n + j] = 0;
                    continue;
                }
                const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                q[i * n + j] = 1.0 / (1.0 + dx * dx + dy * dy);
                z += q[i * n + j];
            }
        std::fill(grad.begin(), grad.end(), 0.0);
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                if (i == j) continue;
                const double w = (exaggeration * P[i * n + j] - q[i * n + j] / z) * q[i * n + j];
                grad[2 * i] += 4 * w * (y[2 * i] - y[2 * j]);
                grad[2 * i + 1] += 4 * w * (y[2 * i + 1] - y[2 * j + 1]);
            }
        for (std::size_t k = 0; k < y.size(); ++k) {
            gains[k] = (grad[k] > 0) != (step[k] > 0) ? gains[k] + 0.2 : std::max(gains[k] * 0.8, 0.01);
            step[k] = momentum * step[k] - lr * gains[k] * grad[k];
            y[k] += step[k];
        }
    }
    return y;
}
}  // namespace detail

// A 2-D t-SNE map of N points: features [N, D] (float32, or float64 computed in double) ->
// [N, 2] float64 coordinates. value_error for fewer than 3 points, a perplexity outside
// (0, N - 1) or no iterations; shape_error for anything but a matrix.
OMNI_LIB_INLINE Tensor<cpu> tsne_2d(const Tensor<cpu>& features, const TsneOptions& o = {})
#if OMNI_LIB_DEFINE
{
    const char* op = "report::tsne_2d";
    if (features.dim() != 2) throw shape_error(op, "expected features [N, D], got " + features.shape().str());
    const std::int64_t n = features.size(0), d = features.size(1);
    if (n < 3) throw value_error(op, "expected at least 3 points, got " + std::to_string(n));
    if (!(o.perplexity > 0) || !(o.perplexity < static_cast<double>(n - 1)))
        throw value_error(op, "expected a perplexity in (0, " + std::to_string(n - 1) + ") for " + std::to_string(n) + " points, got " + std::to_string(o.perplexity));
    if (o.iterations < 1) throw value_error(op, "expected iterations >= 1, got " + std::to_string(o.iterations));
    const std::vector<double> y = features.type() == dtype::f64
                                      ? detail::tsne_2d(features.to_vector<double>(), static_cast<int>(n), static_cast<int>(d), o)
                                      : detail::tsne_2d(features.to_vector<float>(), static_cast<int>(n), static_cast<int>(d), o);
    return Tensor<cpu>::from_data(y, {n, 2});
}
#else
;
#endif

}  // namespace omni::report

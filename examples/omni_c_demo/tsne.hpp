#pragma once
// Exact t-SNE (van der Maaten & Hinton 2008) for the demo's embedding figure (the paper's Fig. 1
// and Fig. 6 are t-SNE plots): Gaussian affinities at a fixed perplexity found by bisection,
// symmetrised; Student-t similarities in 2-D; gradient descent with momentum, early
// exaggeration and per-coordinate gains. O(N^2) per iteration, fine for a thousand points.
#include <algorithm>
#include <cmath>
#include <vector>

#include "omni/core/rng.hpp"

namespace demo {

// x: n rows of d floats (row-major) -> n rows of 2.
inline std::vector<double> tsne_2d(const std::vector<float>& x, int n, int d, double perplexity = 30, int iters = 600, std::uint64_t seed = 0) {
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
    const double target = std::log(perplexity);
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
            if (h > target) { lo = beta; beta = hi >= 1e30 ? beta * 2 : (beta + hi) / 2; }
            else { hi = beta; beta = (beta + lo) / 2; }
        }
    }
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) {
            const double s = std::max((P[i * n + j] + P[j * n + i]) / (2.0 * n), 1e-12);
            P[i * n + j] = P[j * n + i] = s;
        }
    omni::Generator g(seed);
    std::vector<double> y(static_cast<std::size_t>(n) * 2), step(y.size(), 0.0), gains(y.size(), 1.0), grad(y.size()), q(dist.size());
    for (double& v : y) v = 1e-4 * g.normal();
    const double lr = std::max(n / 12.0, 50.0);
    for (int it = 0; it < iters; ++it) {
        const double exaggeration = it < 250 ? 12.0 : 1.0, momentum = it < 250 ? 0.5 : 0.8;
        double z = 0;
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                if (i == j) { q[i * n + j] = 0; continue; }
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

}  // namespace demo

#pragma once
// Autoregressive generation for any causal LM with the Qwen2 interface (policy alias,
// forward(ids, cache*) -> logits [B, L, V], make_cache(B, max_len)): prefill the prompt once,
// then one token at a time through the KV cache. Greedy, or sampling with temperature, top-k and
// top-p applied in that order (transformers' TemperatureLogitsWarper, TopKLogitsWarper,
// TopPLogitsWarper), drawn from a seeded omni::Generator; stops per row at a stop token.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "omni/autodiff/grad_mode.hpp"
#include "omni/core/rng.hpp"
#include "omni/nn/kv_cache.hpp"

namespace omni::models {

/// Options of generate: token budget, greedy or sampled decoding (temperature, top-k, top-p), stop tokens, cache dtype.
struct GenerateOptions {
    std::int64_t max_new_tokens = 32;
    bool do_sample = false;     // false: greedy (argmax, the first index on ties)
    double temperature = 1.0;   // sampling only; > 0
    std::int64_t top_k = 0;     // sampling only; 0: off
    double top_p = 1.0;         // sampling only; in (0, 1], 1: off
    std::vector<std::int64_t> stop_tokens = {};  // a row ends after emitting one (it is included)
    dtype cache_type = dtype::f32;
};

namespace detail {
// The next token from one row of logits.
inline std::int64_t pick_token(std::vector<double> z, const GenerateOptions& o, Generator& g) {
    const std::int64_t V = static_cast<std::int64_t>(z.size());
    if (!o.do_sample) return std::max_element(z.begin(), z.end()) - z.begin();
    for (double& x : z) x /= o.temperature;
    std::vector<std::int64_t> order(V);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return z[a] > z[b]; });
    std::int64_t keep = V;
    if (o.top_k > 0) keep = std::min(keep, o.top_k);
    const double zmax = z[order[0]];
    std::vector<double> p(keep);
    double total = 0;
    for (std::int64_t i = 0; i < keep; ++i) total += p[i] = std::exp(z[order[i]] - zmax);
    if (o.top_p < 1.0) {  // the smallest prefix whose mass reaches top_p (at least one token)
        double cum = 0;
        std::int64_t n = 0;
        while (n < keep && (n == 0 || cum < o.top_p)) cum += p[n++] / total;
        keep = n;
        total = std::accumulate(p.begin(), p.begin() + keep, 0.0);
    }
    double u = g.uniform() * total;
    for (std::int64_t i = 0; i < keep; ++i) {
        if (u < p[i]) return order[i];
        u -= p[i];
    }
    return order[keep - 1];
}
}  // namespace detail

namespace detail {
inline void check_generate_options(const GenerateOptions& o) {
    if (o.max_new_tokens < 0) throw value_error("generate", "expected max_new_tokens >= 0, got " + std::to_string(o.max_new_tokens));
    if (o.do_sample && !(o.temperature > 0)) throw value_error("generate", "expected temperature > 0, got " + std::to_string(o.temperature));
    if (o.do_sample && !(o.top_p > 0 && o.top_p <= 1)) throw value_error("generate", "expected top_p in (0, 1], got " + std::to_string(o.top_p));
    if (o.top_k < 0) throw value_error("generate", "expected top_k >= 0, got " + std::to_string(o.top_k));
}
}  // namespace detail

// The decode loop after a prefill: `logits` [B, L, V] are the prefill's output (the next token
// comes from its last position) and `cache` holds the prefilled keys and values with room for
// max_new_tokens - 1 more positions. Each step feeds the picked tokens through m.forward(ids,
// &cache). Returns per row the generated ids, ending at the first stop token. Models whose
// prompt is not plain ids (OmniVinci splices media embeddings) prefill themselves and call this.
template <class Model, class Cache>
std::vector<std::vector<std::int64_t>> generate_from(const Model& m, Tensor<typename Model::policy> logits, Cache& cache,
                                                     const GenerateOptions& o, Generator& gen) {
    using P = typename Model::policy;
    using D = nn::device_of_t<P>;
    detail::check_generate_options(o);
    if (logits.dim() != 3 || logits.shape()[1] < 1)
        throw shape_error("generate", "expected prefill logits [B, L >= 1, V], got " + logits.shape().str());
    const std::int64_t B = logits.shape()[0];
    std::vector<std::vector<std::int64_t>> out(B);
    no_grad guard;
    std::vector<bool> done(B, false);
    for (std::int64_t t = 0; t < o.max_new_tokens; ++t) {
        const std::int64_t V = logits.shape()[2];
        const std::vector<double> last = nn::value_of(logits).select(1, logits.shape()[1] - 1).template to_vector<double>();
        std::vector<std::int64_t> next(B);
        for (std::int64_t b = 0; b < B; ++b) {
            next[b] = detail::pick_token(std::vector<double>(last.begin() + b * V, last.begin() + (b + 1) * V), o, gen);
            if (done[b]) continue;  // finished rows keep decoding in lockstep; their tokens are dropped
            out[b].push_back(next[b]);
            if (std::find(o.stop_tokens.begin(), o.stop_tokens.end(), next[b]) != o.stop_tokens.end()) done[b] = true;
        }
        if (std::all_of(done.begin(), done.end(), [](bool d) { return d; }) || t + 1 == o.max_new_tokens) break;
        logits = m.forward(Tensor<P>(Tensor<D>::from_data(next, {B, 1})), &cache);
    }
    return out;
}

// ids [B, L] integer prompts (equal lengths, no padding) -> per row the generated ids (without
// the prompt), at most max_new_tokens each, ending at the first stop token.
template <class Model>
std::vector<std::vector<std::int64_t>> generate(const Model& m, const Tensor<typename Model::policy>& ids, const GenerateOptions& o,
                                                Generator& gen) {
    using P = typename Model::policy;
    using D = nn::device_of_t<P>;
    if (ids.dim() != 2 || ids.shape()[1] < 1 || is_floating(ids.type()))
        throw shape_error("generate", "expected integer prompt ids [B, L] with L >= 1, got " + ids.shape().str() + " " + name_of(ids.type()));
    detail::check_generate_options(o);
    const std::int64_t B = ids.shape()[0], L = ids.shape()[1];
    if (o.max_new_tokens == 0) return std::vector<std::vector<std::int64_t>>(B);
    no_grad guard;
    auto cache = m.make_cache(B, L + o.max_new_tokens, o.cache_type);
    const Tensor<P> logits = m.forward(Tensor<P>(Tensor<D>(nn::value_of(ids).to(dtype::i64))), &cache);
    return generate_from(m, logits, cache, o, gen);
}

}  // namespace omni::models

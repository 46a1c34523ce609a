// omni's Qwen2 decoder against transformers' Qwen2ForCausalLM and Qwen2DecoderLayer
// (tests/parity/qwen2_reference.py writes the reference; ctest runs it first in the hf venv).
// Both sides run in float64: logits, the loss with -100 labels, every parameter gradient (tied
// and untied embeddings), one decoder layer alone, greedy generation token for token, and
// cached decode logits against past_key_values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "omni/backend/cpu.hpp"
#include "omni/io/weights.hpp"
#include "omni/loss/causal_lm.hpp"
#include "omni/models/generate.hpp"
#include "omni/models/qwen2.hpp"

#include "parity_case.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;
namespace models = omni::models;

namespace {
constexpr double tolerance = 1e-12;  // relative to the reference's largest magnitude, float64 on both sides

omni::io::Safetensors load_case(const std::string& name) {
    return omni::parity::load_case("OMNI_QWEN2_PARITY_DIR", "parity_qwen2", "qwen2_reference.py", name);
}
double rel_error(const D& a, const D& b) { return omni::parity::rel_error(a, b); }

// The weights of a file ("w." + HF name) as a state dict.
omni::io::Safetensors weights_of(const omni::io::Safetensors& f) {
    omni::io::Safetensors w;
    for (const auto& [k, t] : f.tensors)
        if (k.rfind("w.", 0) == 0) w.tensors[k.substr(2)] = t;
    return w;
}

models::Qwen2Config tiny_config(bool tied) {
    return {.vocab = 61, .hidden = 32, .layers = 2, .heads = 4, .kv_heads = 2, .intermediate = 40, .rope_theta = 1e4, .rms_eps = 1e-6,
            .tie_embeddings = tied};
}

void causal_lm_case(const std::string& name, bool tied) {
    const auto f = load_case(name);
    omni::Generator g(0);
    models::Qwen2<A> m(tiny_config(tied), g);
    nn::cast(m, omni::dtype::f64);
    omni::io::load_weights(m, weights_of(f));
    const V ids(f.at("in.ids")), labels(f.at("in.labels"));
    const V logits = m(ids);
    const double e_logits = rel_error(logits.value(), f.at("logits"));
    EXPECT_LE(e_logits, tolerance) << name << " logits";
    const V loss = omni::loss::causal_lm_loss(logits, labels);
    const double e_loss = rel_error(loss.value().view({1}), f.at("loss"));
    EXPECT_LE(e_loss, tolerance) << name << " loss";
    // transformers' own (float32-logit) loss agrees to float32 precision.
    EXPECT_LE(rel_error(loss.value().view({1}), f.at("loss_hf_float32")), 1e-6) << name << " loss";
    loss.backward();
    double e_grad = 0;
    int n = 0;
    nn::for_each_parameter(m, [&](const std::string& p, V& t) {
        const double e = rel_error(t.grad(), f.at("grad." + p));
        EXPECT_LE(e, tolerance) << name << " grad of " << p;
        e_grad = std::max(e_grad, e);
        ++n;
    });
    EXPECT_EQ(n, tied ? 26 : 27);  // 2 layers x 12, the table, the final norm (+ lm_head)
    std::cout << name << ": logits " << e_logits << ", loss " << e_loss << ", worst of " << n << " parameter gradients " << e_grad
              << " (max relative error)\n";
}

void generation_case(const std::string& name, bool tied) {
    const auto f = load_case(name);
    omni::Generator g(0);
    models::Qwen2<omni::cpu> m(tiny_config(tied), g);
    nn::cast(m, omni::dtype::f64);
    omni::io::load_weights(m, weights_of(f));
    // Greedy generation, token for token.
    const auto got = models::generate(m, f.at("gen.prompt"), {.max_new_tokens = 12, .cache_type = omni::dtype::f64}, g);
    EXPECT_EQ(got.at(0), f.at("gen.tokens").to_vector<std::int64_t>()) << name << " greedy tokens";
    // Prefill 6 tokens, then 4 single tokens through the cache.
    const D ids = f.at("in.ids");
    auto cache = m.make_cache(2, 10, omni::dtype::f64);
    std::vector<D> steps{m(ids.slice(1, 0, 6), &cache)};
    for (std::int64_t t = 6; t < 10; ++t) steps.push_back(m(ids.slice(1, t, t + 1), &cache));
    const double e = rel_error(omni::concat(steps, 1), f.at("cached.logits"));
    EXPECT_LE(e, tolerance) << name << " cached logits";
    std::cout << name << ": 12 greedy tokens equal; cached decode logits " << e << " (max relative error)\n";
}
}  // namespace

TEST(Qwen2Parity, UntiedLogitsLossAndEveryGradient) { causal_lm_case("qwen2_untied", false); }
TEST(Qwen2Parity, TiedLogitsLossAndEveryGradient) { causal_lm_case("qwen2_tied", true); }
TEST(Qwen2Parity, UntiedGreedyGenerationAndCachedDecode) { generation_case("qwen2_untied", false); }
TEST(Qwen2Parity, TiedGreedyGenerationAndCachedDecode) { generation_case("qwen2_tied", true); }

TEST(Qwen2Parity, DecoderLayer) {
    const auto f = load_case("qwen2_layer");
    omni::Generator g(0);
    nn::DecoderLayer<A> m({.hidden = 32, .intermediate = 40, .heads = 4, .kv_heads = 2, .rope_theta = 1e4, .rms_eps = 1e-6}, g);
    nn::cast(m, omni::dtype::f64);
    omni::io::load_weights(m, weights_of(f));
    const V x(f.at("in.x"), true);
    const V y = m(x);
    double worst = rel_error(y.value(), f.at("out"));
    EXPECT_LE(worst, tolerance) << "layer output";
    y.backward(f.at("upstream"));
    worst = std::max(worst, rel_error(x.grad(), f.at("grad.in.x")));
    EXPECT_LE(rel_error(x.grad(), f.at("grad.in.x")), tolerance) << "layer input gradient";
    nn::for_each_parameter(m, [&](const std::string& p, V& t) {
        const double e = rel_error(t.grad(), f.at("grad." + p));
        EXPECT_LE(e, tolerance) << "layer grad of " << p;
        worst = std::max(worst, e);
    });
    std::cout << "qwen2_layer: output, input and 12 parameter gradients, worst relative error " << worst << "\n";
}

// Generation on the Qwen2 interface: greedy equals the argmax of full recomputes, top-k = 1 and a
// tiny top-p reduce to greedy, seeded sampling is reproducible and follows the seed, stop tokens
// end a row, the option errors; and the tiny preset learns a sequence in a few AdamW steps on
// the causal LM loss, after which greedy generation reproduces it.
#include <gtest/gtest.h>

#include "omni/backend/cpu.hpp"
#include "omni/loss/causal_lm.hpp"
#include "omni/models/generate.hpp"
#include "omni/models/qwen2.hpp"
#include "omni/optim/adamw.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace models = omni::models;

namespace {
D ids_of(const std::vector<std::int64_t>& v) { return D::from_data(v, {1, static_cast<std::int64_t>(v.size())}); }
models::Qwen2<omni::cpu> small_model(std::uint64_t seed) {
    omni::Generator g(seed);
    auto c = models::qwen2_presets::tiny;
    c.init_std = 0.5;  // peaked logits: no near-ties between the top tokens
    return models::Qwen2<omni::cpu>(c, g);
}
}  // namespace

TEST(Generate, GreedyEqualsArgmaxOfFullRecompute) {
    const auto m = small_model(1);
    omni::Generator g(0);
    std::vector<std::int64_t> seq{3, 17, 200, 9};
    const auto got = models::generate(m, ids_of(seq), {.max_new_tokens = 8}, g).at(0);
    ASSERT_EQ(got.size(), 8u);
    for (std::int64_t t : got) {
        const auto last = m(ids_of(seq)).select(1, static_cast<std::int64_t>(seq.size()) - 1).to_vector<double>();
        const std::int64_t want = std::max_element(last.begin(), last.end()) - last.begin();
        ASSERT_EQ(t, want);
        seq.push_back(t);
    }
}

TEST(Generate, SamplingLimitsAndSeeds) {
    const auto m = small_model(2);
    const D prompt = ids_of({5, 6, 7});
    omni::Generator g0(0);
    const auto greedy = models::generate(m, prompt, {.max_new_tokens = 6}, g0).at(0);
    for (const models::GenerateOptions& o : {models::GenerateOptions{.max_new_tokens = 6, .do_sample = true, .top_k = 1},
                                            models::GenerateOptions{.max_new_tokens = 6, .do_sample = true, .top_p = 1e-9}}) {
        omni::Generator g(5);
        EXPECT_EQ(models::generate(m, prompt, o, g).at(0), greedy);
    }
    const models::GenerateOptions hot{.max_new_tokens = 12, .do_sample = true, .temperature = 5.0, .top_k = 50, .top_p = 0.95};
    omni::Generator a(42), b(42), c(43);
    const auto sa = models::generate(m, prompt, hot, a).at(0), sb = models::generate(m, prompt, hot, b).at(0);
    const auto sc = models::generate(m, prompt, hot, c).at(0);
    EXPECT_EQ(sa, sb);  // the same seed, the same tokens
    EXPECT_NE(sa, sc);  // a hot distribution over 50 tokens: 12 equal draws under another seed are unlikely
    EXPECT_NE(sa, greedy);
}

TEST(Generate, StopTokensBatchesAndErrors) {
    const auto m = small_model(3);
    omni::Generator g(0);
    const D prompt = D::from_data(std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}, {2, 3});
    const auto free = models::generate(m, prompt, {.max_new_tokens = 6}, g);
    ASSERT_EQ(free.size(), 2u);
    // Each row alone gives the same tokens as in the batch.
    EXPECT_EQ(models::generate(m, prompt.slice(0, 1, 2), {.max_new_tokens = 6}, g).at(0), free[1]);
    // Stopping at row 0's third token ends that row there (stop token included).
    const auto stopped = models::generate(m, prompt, {.max_new_tokens = 6, .stop_tokens = {free[0][2]}}, g);
    const auto first = std::find(free[0].begin(), free[0].end(), free[0][2]);
    EXPECT_EQ(stopped[0], std::vector<std::int64_t>(free[0].begin(), first + 1));
    EXPECT_TRUE(models::generate(m, prompt, {.max_new_tokens = 0}, g).at(0).empty());
    EXPECT_THROW(models::generate(m, D::zeros({1, 3}), {}, g), omni::shape_error);
    EXPECT_THROW(models::generate(m, prompt, {.do_sample = true, .temperature = 0}, g), omni::value_error);
    EXPECT_THROW(models::generate(m, prompt, {.do_sample = true, .top_p = 0}, g), omni::value_error);
    EXPECT_THROW(models::generate(m, prompt, {.top_k = -1}, g), omni::value_error);
}

TEST(TinyQwen2, LearnsASequenceAndGeneratesIt) {
    omni::Generator g(7);
    models::Qwen2<A> m(models::qwen2_presets::tiny, g);
    const std::vector<std::int64_t> seq{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120};
    const D ids = ids_of(seq);
    omni::optim::AdamW opt(omni::optim::nn_param_groups(m, 0.0), {.lr = 1e-2});
    double first = 0, last = 0;
    for (int step = 0; step < 60; ++step) {
        const V loss = omni::loss::causal_lm_loss(m(V(ids)), V(ids));
        if (step == 0) first = loss.value().to_vector<double>()[0];
        last = loss.value().to_vector<double>()[0];
        loss.backward();
        opt.step();
        opt.zero_grad();
    }
    EXPECT_GT(first, 4.0);  // about log(256) at initialisation
    EXPECT_LT(last, 0.05);
    const auto out = models::generate(m, ids_of({10, 20, 30}), {.max_new_tokens = 9}, g).at(0);
    EXPECT_EQ(out, std::vector<std::int64_t>(seq.begin() + 3, seq.end()));
}

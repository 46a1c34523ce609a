// The Qwen2 decoder blocks: the bottom-right causal offset of fused attention, SwiGLU,
// grouped-query attention with RoPE, the decoder layer, the Qwen2 model (names, parameter
// counts, KV cache against full recompute) and the causal LM loss; gradcheck in float64 and the
// typed errors.
#include <gtest/gtest.h>

#include <cmath>

#include "omni/backend/cpu.hpp"
#include "omni/loss/causal_lm.hpp"
#include "omni/models/qwen2.hpp"

using omni::Shape;
using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
using In = std::vector<V>;
namespace nn = omni::nn;
namespace models = omni::models;

namespace {
constexpr auto f64 = omni::dtype::f64;

void expect_close(const D& a, const D& b, double tol, const std::string& what = "") {
    ASSERT_EQ(a.shape(), b.shape()) << what;
    const auto x = a.to_vector<double>(), y = b.to_vector<double>();
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], y[i], tol) << what << " at " << i;
}

// softmax(q k^T / sqrt(d) with keys j > i + offset masked) v, materialised.
V reference_attention(const V& q, const V& k, const V& v, std::int64_t offset) {
    const std::int64_t nq = q.shape()[2], nk = k.shape()[2];
    V s = omni::matmul(q, k, false, true) * (1.0 / std::sqrt(static_cast<double>(q.shape()[3])));
    std::vector<double> c(nq * nk);
    for (std::int64_t i = 0; i < nq; ++i)
        for (std::int64_t j = 0; j < nk; ++j) c[i * nk + j] = j > i + offset;
    s = omni::masked_fill(s, V(D::from_data(c, {nq, nk}).to(omni::dtype::b8)), -INFINITY);
    return omni::matmul(omni::softmax(s), v);
}

// Every parameter of m and then the extra inputs, for gradcheck.
template <class M> In params_of(M& m) {
    In p;
    nn::for_each_parameter(m, [&](const std::string&, V& t) { p.push_back(t); });
    return p;
}
template <class M, class F> void gradcheck_module(const M& m, const In& extra, F body) {
    M probe = m;
    In in = params_of(probe);
    const std::size_t np = in.size();
    in.insert(in.end(), extra.begin(), extra.end());
    auto f = [&](const In& xs) {
        M c = m;
        std::size_t i = 0;
        nn::for_each_parameter(c, [&](const std::string&, V& t) { t = xs[i++]; });
        return body(c, In(xs.begin() + np, xs.end()));
    };
    const auto r = omni::gradcheck<omni::cpu>(f, in);
    EXPECT_TRUE(r.ok) << r.message;
}

std::vector<std::string> names_of(auto& m) {
    std::vector<std::string> n;
    nn::for_each_parameter(m, [&](const std::string& s, auto&) { n.push_back(s); });
    return n;
}
}  // namespace

// ---- fused attention: causal offset ------------------------------------------------------------

TEST(CausalOffset, MatchesBottomRightMaskForwardAndGradients) {
    omni::Generator g(11);
    // Fewer queries than keys (decode and chunked prefill), tiles of 64 / 128 crossed, a
    // negative offset (early queries see nothing), and the default offset 0 unchanged.
    struct Case { std::int64_t nq, nk, off; };
    for (const Case c : {Case{1, 9, 8}, Case{5, 12, 7}, Case{70, 200, 130}, Case{6, 6, 0}, Case{6, 4, -2}}) {
        const V q(D::randn({2, 2, c.nq, 8}, g, f64), true), k(D::randn({2, 2, c.nk, 8}, g, f64), true),
            v(D::randn({2, 2, c.nk, 4}, g, f64), true);
        const D gy = D::randn({2, 2, c.nq, 4}, g, f64);
        const V fused = omni::attention(q, k, v, V(), true, 0.0, c.off);
        const V ref = reference_attention(q, k, v, c.off);
        // Rows that see no key: the fused op defines them as zeros; the reference gives NaN.
        D want = ref.value().clone();
        if (c.off < 0) want.slice(2, 0, -c.off).fill_(0.0);
        expect_close(fused.value(), want, 1e-10, "out");
        const auto grads = [&](const V& out) {
            for (const V* t : {&q, &k, &v}) const_cast<V*>(t)->zero_grad();
            omni::sum(omni::mul(out, V(gy))).backward();
            return std::vector<D>{q.grad().clone(), k.grad().clone(), v.grad().clone()};
        };
        const auto gf = grads(fused);
        if (c.off >= 0) {
            const auto gr = grads(ref);
            for (int i = 0; i < 3; ++i) expect_close(gf[i], gr[i], 1e-10, "grad " + std::to_string(i));
        }
    }
}

TEST(CausalOffset, ChunkedPrefillEqualsFullCausalRun) {
    omni::Generator g(12);
    const std::int64_t N = 150;
    const D q = D::randn({1, 3, N, 16}, g, f64), k = D::randn({1, 3, N, 16}, g, f64), v = D::randn({1, 3, N, 16}, g, f64);
    const D full = omni::attention(q, k, v, D(), true);
    std::int64_t start = 0;
    for (std::int64_t len : {40, 1, 70, 39}) {
        const D part = omni::attention(q.slice(2, start, start + len), k.slice(2, 0, start + len), v.slice(2, 0, start + len), D(), true,
                                       0.0, start);
        expect_close(part, full.slice(2, start, start + len).contiguous(), 1e-12, "chunk at " + std::to_string(start));
        start += len;
    }
    ASSERT_EQ(start, N);
}

TEST(CausalOffset, Gradcheck) {
    omni::Generator g(13);
    const V q(D::randn({1, 2, 3, 4}, g, f64), true), k(D::randn({1, 2, 7, 4}, g, f64), true), v(D::randn({1, 2, 7, 3}, g, f64), true);
    const auto r = omni::gradcheck<omni::cpu>([](const In& in) { return omni::attention(in[0], in[1], in[2], V(), true, 0.0, 4); }, {q, k, v});
    EXPECT_TRUE(r.ok) << r.message;
}

// ---- SwiGLU --------------------------------------------------------------------------------------

TEST(SwiGLU, DefinitionNamesAndGradcheck) {
    omni::Generator g(21);
    nn::SwiGLU<A> m({.dim = 6, .hidden = 10}, g);
    EXPECT_EQ(names_of(m), (std::vector<std::string>{"gate_proj.weight", "up_proj.weight", "down_proj.weight"}));
    nn::cast(m, f64);
    const D x = D::randn({2, 3, 6}, g, f64);
    const D want = omni::linear(omni::mul(omni::silu(omni::linear(x, m.gate_proj.weight.value())), omni::linear(x, m.up_proj.weight.value())),
                                m.down_proj.weight.value());
    expect_close(m(V(x)).value(), want, 1e-12);
    gradcheck_module(m, {V(x, true)}, [](const nn::SwiGLU<A>& c, const In& in) { return c(in[0]); });
    EXPECT_THROW(m(V(D::zeros({2, 5}, f64))), omni::shape_error);
}

// ---- grouped-query attention ---------------------------------------------------------------------

TEST(GQAttention, NamesShapesAndHeadErrors) {
    omni::Generator g(31);
    nn::GQAttention<A> m({.hidden = 16, .heads = 4, .kv_heads = 2}, g);
    EXPECT_EQ(names_of(m), (std::vector<std::string>{"q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias", "v_proj.weight",
                                                      "v_proj.bias", "o_proj.weight"}));
    EXPECT_EQ(m.k_proj.weight.shape(), (Shape{8, 16}));
    EXPECT_EQ(m(V(D::randn({2, 5, 16}, g))).shape(), (Shape{2, 5, 16}));
    try {
        nn::GQAttention<A>({.hidden = 24, .heads = 6, .kv_heads = 4}, g);
        FAIL() << "expected a value_error";
    } catch (const omni::value_error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("GQAttention"), std::string::npos) << msg;
        EXPECT_NE(msg.find("kv_heads 4"), std::string::npos) << msg;
    }
    EXPECT_THROW(nn::GQAttention<A>({.hidden = 10, .heads = 4, .kv_heads = 2}, g), omni::value_error);
    EXPECT_THROW(m(V(D::zeros({2, 5, 12}))), omni::shape_error);
}

TEST(GQAttention, EqualsMultiHeadAttentionWithRepeatedKvWeights) {
    // GQA with KVH < H is MHA whose k/v projections repeat each KV head's rows.
    omni::Generator g(32);
    nn::GQAttention<A> gqa({.hidden = 16, .heads = 4, .kv_heads = 2, .rope_theta = 100}, g);
    nn::GQAttention<A> mha({.hidden = 16, .heads = 4, .kv_heads = 4, .rope_theta = 100}, g);
    nn::cast(gqa, f64);
    nn::cast(mha, f64);
    mha.q_proj = gqa.q_proj;
    mha.o_proj = gqa.o_proj;
    const auto rep = [](const V& t) {  // [2 * hd, ...] -> [4 * hd, ...]: head h of 4 uses KV head h / 2
        const D w = t.value();
        const std::int64_t hd = 4;
        std::vector<D> parts;
        for (std::int64_t h = 0; h < 4; ++h) parts.push_back(w.slice(0, (h / 2) * hd, (h / 2 + 1) * hd));
        return V(omni::concat(parts, 0), true);
    };
    mha.k_proj.weight = rep(gqa.k_proj.weight), mha.k_proj.bias = rep(gqa.k_proj.bias);
    mha.v_proj.weight = rep(gqa.v_proj.weight), mha.v_proj.bias = rep(gqa.v_proj.bias);
    const V x(D::randn({2, 7, 16}, g, f64));
    expect_close(gqa(x).value(), mha(x).value(), 1e-12);
}

TEST(GQAttention, GradcheckWithRope) {
    omni::Generator g(33);
    nn::GQAttention<A> m({.hidden = 8, .heads = 4, .kv_heads = 2, .rope_theta = 50}, g);
    nn::cast(m, f64);
    gradcheck_module(m, {V(D::randn({2, 4, 8}, g, f64), true)}, [](const nn::GQAttention<A>& c, const In& in) { return c(in[0]); });
}

// ---- decoder layer -------------------------------------------------------------------------------

TEST(DecoderLayer, NamesAndGradcheck) {
    omni::Generator g(41);
    nn::DecoderLayer<A> m({.hidden = 8, .intermediate = 12, .heads = 4, .kv_heads = 1, .rope_theta = 1e4}, g);
    const auto n = names_of(m);
    EXPECT_EQ(n.size(), 12u);
    EXPECT_EQ(n.front(), "self_attn.q_proj.weight");
    EXPECT_EQ(n.back(), "post_attention_layernorm.weight");
    nn::cast(m, f64);
    // Non-unit norm weights so their gradients are exercised away from the identity.
    m.input_layernorm.weight = V(D::randn({8}, g, f64), true);
    m.post_attention_layernorm.weight = V(D::randn({8}, g, f64), true);
    gradcheck_module(m, {V(D::randn({1, 5, 8}, g, f64), true)}, [](const nn::DecoderLayer<A>& c, const In& in) { return c(in[0]); });
}

// ---- Qwen2 model ---------------------------------------------------------------------------------

TEST(Qwen2, ParameterCountOfPresetsIsExact) {
    static_assert(models::parameter_count(models::qwen2_presets::qwen25_05b) == 494'032'768);
    static_assert(models::parameter_count(models::qwen2_presets::qwen25_7b) == 7'615'616'512);
    EXPECT_EQ(models::parameter_count(models::qwen2_presets::qwen25_05b), 494032768);
    EXPECT_EQ(models::parameter_count(models::qwen2_presets::qwen25_7b), 7615616512);
}

TEST(Qwen2, ParameterCountEqualsInstantiatedModel) {
    omni::Generator g(51);
    std::vector<models::Qwen2Config> cs{models::qwen2_presets::tiny};
    for (int i = 0; i < 4; ++i) {
        const std::int64_t kvh = 1 + static_cast<std::int64_t>(g.uniform() * 3), rep = 1 + static_cast<std::int64_t>(g.uniform() * 3);
        const std::int64_t hd = 2 * (1 + static_cast<std::int64_t>(g.uniform() * 4));
        cs.push_back({.vocab = 10 + static_cast<std::int64_t>(g.uniform() * 50), .hidden = kvh * rep * hd,
                      .layers = static_cast<std::int64_t>(g.uniform() * 3), .heads = kvh * rep, .kv_heads = kvh,
                      .intermediate = 1 + static_cast<std::int64_t>(g.uniform() * 40), .tie_embeddings = i % 2 == 0});
    }
    for (const auto& c : cs) {
        models::Qwen2<omni::cpu> m(c, g);
        EXPECT_EQ(nn::parameter_count(m), models::parameter_count(c)) << "vocab " << c.vocab << " hidden " << c.hidden;
    }
}

TEST(Qwen2, HuggingFaceNamesTiedAndUntied) {
    omni::Generator g(52);
    auto c = models::qwen2_presets::tiny;
    models::Qwen2<omni::cpu> tied(c, g);
    const auto n = names_of(tied);
    EXPECT_EQ(n.front(), "model.embed_tokens.weight");
    EXPECT_NE(std::find(n.begin(), n.end(), "model.layers.1.self_attn.q_proj.bias"), n.end());
    EXPECT_NE(std::find(n.begin(), n.end(), "model.layers.0.mlp.down_proj.weight"), n.end());
    EXPECT_EQ(n.back(), "model.norm.weight");
    EXPECT_EQ(tied.lm_head_weight().raw_data(), tied.model.embed_tokens.weight.raw_data());
    c.tie_embeddings = false;
    models::Qwen2<omni::cpu> untied(c, g);
    EXPECT_EQ(names_of(untied).back(), "lm_head.weight");
    EXPECT_EQ(untied.model.layers[1].self_attn.path, "model.layers.1.self_attn");
}

TEST(Qwen2, InputErrors) {
    omni::Generator g(53);
    models::Qwen2<omni::cpu> m(models::qwen2_presets::tiny, g);
    EXPECT_THROW(m(D::zeros({2, 3})), omni::shape_error);                        // float ids
    EXPECT_THROW(m(D::zeros({3}, omni::dtype::i64)), omni::shape_error);         // not [B, L]
    EXPECT_THROW(m(D::full({1, 2}, 256.0).to(omni::dtype::i64)), omni::index_error);  // id outside the vocab
    EXPECT_THROW(models::Qwen2<omni::cpu>({.vocab = 8, .hidden = 8, .layers = 1, .heads = 4, .kv_heads = 3, .intermediate = 4}, g),
                 omni::value_error);
}

namespace {
D random_ids(omni::Generator& g, std::int64_t B, std::int64_t L, std::int64_t vocab) {
    std::vector<std::int64_t> v(B * L);
    for (auto& x : v) x = static_cast<std::int64_t>(g.uniform() * vocab);
    return D::from_data(v, {B, L});
}
}  // namespace

TEST(KVCache, PrefillThenDecodeEqualsFullRecompute) {
    omni::Generator g(61);
    auto c = models::qwen2_presets::tiny;
    c.tie_embeddings = false;
    models::Qwen2<omni::cpu> m(c, g);
    nn::cast(m, f64);
    const D ids = random_ids(g, 2, 12, c.vocab);
    const D full = m(ids);
    for (const std::vector<std::int64_t>& chunks : {std::vector<std::int64_t>{5, 1, 1, 1, 1, 1, 1, 1}, {3, 4, 5}, {12}}) {
        auto cache = m.make_cache(2, 12, f64);
        std::int64_t start = 0;
        for (std::int64_t len : chunks) {
            const D part = m(ids.slice(1, start, start + len), &cache);
            EXPECT_EQ(cache.length(), start + len);
            expect_close(part, full.slice(1, start, start + len).contiguous(), 1e-10, "positions from " + std::to_string(start));
            start += len;
        }
    }
}

TEST(KVCache, Float32CacheAndErrors) {
    omni::Generator g(62);
    models::Qwen2<omni::cpu> m(models::qwen2_presets::tiny, g);
    const D ids = random_ids(g, 1, 6, 256);
    auto cache = m.make_cache(1, 6);
    m(ids.slice(1, 0, 4), &cache);
    expect_close(m(ids.slice(1, 4, 6), &cache), m(ids).slice(1, 4, 6).contiguous(), 2e-5);
    try {
        m(ids.slice(1, 0, 1), &cache);  // 6 + 1 > max_len 6
        FAIL() << "expected a value_error";
    } catch (const omni::value_error& e) {
        EXPECT_NE(std::string(e.what()).find("at most 6"), std::string::npos) << e.what();
    }
    EXPECT_EQ(cache.length(), 6);  // a refused forward changes nothing
    cache.reset();
    EXPECT_THROW(m(random_ids(g, 2, 1, 256), &cache), omni::shape_error);  // batch 2 for a batch-1 cache
    EXPECT_THROW(nn::KVCache<omni::cpu>({.layers = 1, .batch = 1, .kv_heads = 1, .head_dim = 2, .max_len = 0}), omni::value_error);
}

// ---- causal LM loss ------------------------------------------------------------------------------

TEST(CausalLMLoss, ShiftedMeanOverNonIgnoredLabels) {
    omni::Generator g(71);
    const D logits = D::randn({2, 4, 5}, g, f64);
    const D labels = D::from_data(std::vector<std::int64_t>{9, 1, -100, 4, 0, 2, 3, -100}, {2, 4});  // labels[:, 0] never used
    const double got = omni::loss::causal_lm_loss(logits, labels).to_vector<double>()[0];
    // By hand: (b, i) predicts labels[b, i + 1].
    const auto z = logits.to_vector<double>();
    double total = 0;
    int n = 0;
    for (auto [b, i, y] : std::vector<std::array<int, 3>>{{0, 0, 1}, {0, 2, 4}, {1, 0, 2}, {1, 1, 3}}) {
        double m = -1e300, s = 0;
        for (int v = 0; v < 5; ++v) m = std::max(m, z[(b * 4 + i) * 5 + v]);
        for (int v = 0; v < 5; ++v) s += std::exp(z[(b * 4 + i) * 5 + v] - m);
        total += -(z[(b * 4 + i) * 5 + y] - m - std::log(s));
        ++n;
    }
    EXPECT_NEAR(got, total / n, 1e-12);
    // A custom ignore index.
    const D l2 = D::from_data(std::vector<std::int64_t>{0, 1, 7, 4, 0, 2, 3, 7}, {2, 4});
    EXPECT_NEAR(omni::loss::causal_lm_loss(logits, l2, {.ignore_index = 7}).to_vector<double>()[0], total / n, 1e-12);
}

TEST(CausalLMLoss, GradcheckAndAllIgnored) {
    omni::Generator g(72);
    const D labels = D::from_data(std::vector<std::int64_t>{0, 1, -100, 4, 0, 2, 3, 1}, {2, 4});
    const auto r = omni::gradcheck<omni::cpu>([&](const In& in) { return omni::loss::causal_lm_loss(in[0], V(labels)); },
                                              {V(D::randn({2, 4, 5}, g, f64), true)});
    EXPECT_TRUE(r.ok) << r.message;
    // Every label ignored: 0 and a zero gradient (PyTorch gives NaN).
    const V x(D::randn({1, 3, 5}, g, f64), true);
    const V l = omni::loss::causal_lm_loss(x, V(D::full({1, 3}, -100.0).to(omni::dtype::i64)));
    EXPECT_EQ(l.value().to_vector<double>()[0], 0.0);
    l.backward();
    for (double v : x.grad().to_vector<double>()) EXPECT_EQ(v, 0.0);
}

TEST(CausalLMLoss, Errors) {
    const D logits = D::zeros({2, 4, 5});
    EXPECT_THROW(omni::loss::causal_lm_loss(logits, D::zeros({2, 3}, omni::dtype::i64)), omni::shape_error);
    EXPECT_THROW(omni::loss::causal_lm_loss(D::zeros({8, 5}), D::zeros({2, 4}, omni::dtype::i64)), omni::shape_error);
    EXPECT_THROW(omni::loss::causal_lm_loss(logits, D::zeros({2, 4})), omni::dtype_error);
    EXPECT_THROW(omni::loss::causal_lm_loss(logits, D::full({2, 4}, 5.0).to(omni::dtype::i64)), omni::index_error);
}

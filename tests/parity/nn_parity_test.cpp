// omni's nn modules against PyTorch on identical weights and inputs (tests/parity/nn_reference.py
// writes the reference; ctest runs it first). omni runs in float32; the reference is PyTorch in
// float64. Output and every gradient must match within 1e-4 of the reference's largest
// magnitude (plus 1e-6 absolute, for gradients that are zero in exact arithmetic, such as the
// key bias of attention, which shifts every score of a row equally).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/io/weights.hpp"
#include "omni/loss/gram.hpp"
#include "omni/loss/info_nce.hpp"
#include "omni/loss/nt_xent.hpp"
#include "omni/loss/sigmoid.hpp"
#include "omni/models/omni_c.hpp"
#include "omni/nn/embedding.hpp"
#include "omni/nn/transformer.hpp"

#include "parity_case.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;

namespace {
constexpr double tolerance = 1e-4, absolute = 1e-6;

omni::io::Safetensors load_case(const std::string& name) {
    return omni::parity::load_case("OMNI_PARITY_DIR", "parity", "nn_reference.py", name);
}

double worst = 0;  // largest error seen in the current case, for the log

double rel_error(const D& a, const D& b) {
    const double e = omni::parity::rel_error(a, b, absolute / tolerance);
    worst = std::max(worst, e);
    return e;
}

V input(const omni::io::Safetensors& f, const std::string& name) {
    const D& t = f.at("in." + name);
    const bool fl = omni::is_floating(t.type());
    return V(fl ? t.to(omni::dtype::f32) : t.clone(), fl);
}

// Loads weights, runs forward and backward with the reference's upstream gradient, and checks
// the output, every parameter gradient and every input gradient.
template <class M, class Call> void check(const std::string& name, M& m, const std::vector<std::string>& inputs, Call call) {
    const auto f = load_case(name);
    worst = 0;
    omni::io::load_weights(m, f);
    std::map<std::string, V> in;
    for (const auto& n : inputs) in[n] = input(f, n);
    const V out = call(m, in);
    EXPECT_LE(rel_error(out.value(), f.at("out")), tolerance) << name << " output";
    out.backward(f.at("upstream").to(omni::dtype::f32));
    int checked = 0;
    nn::for_each_parameter(m, [&](const std::string& p, V& t) {
        EXPECT_LE(rel_error(t.grad(), f.at("grad." + p)), tolerance) << name << " grad of " << p;
        ++checked;
    });
    for (const auto& [n, t] : in) {
        if (t.requires_grad()) {
            EXPECT_LE(rel_error(t.grad(), f.at("grad.in." + n)), tolerance) << name << " grad of input " << n;
        }
    }
    std::cout << name << ": output and " << checked << " parameter gradients checked, worst relative error " << worst << "\n";
}

using Inputs = std::map<std::string, V>;
}  // namespace

TEST(Parity, Linear) {
    omni::Generator g(1);
    nn::Linear<A> m({.in = 24, .out = 16}, g);
    check("linear", m, {"x"}, [](auto& m, Inputs& i) { return m(i["x"]); });
}

TEST(Parity, LayerNorm) {
    nn::LayerNorm<A> m({.dim = 24, .eps = 1e-6});
    check("layer_norm", m, {"x"}, [](auto& m, Inputs& i) { return m(i["x"]); });
}

TEST(Parity, MLP) {
    omni::Generator g(1);
    nn::MLP<A> m({.in = 24, .hidden = 96}, g);
    check("mlp", m, {"x"}, [](auto& m, Inputs& i) { return m(i["x"]); });
}

TEST(Parity, Activations) {
    nn::Sequential<nn::ReLU<A>> none;  // no parameters: only the input gradient is checked
    check("activations", none, {"x"}, [](auto&, Inputs& i) {
        const V& x = i["x"];
        return omni::stack<V>({omni::relu(x), omni::gelu(x), omni::gelu_tanh(x), omni::silu(x), omni::tanh(x), omni::sigmoid(x)}, 0);
    });
}

TEST(Parity, Embedding) {
    omni::Generator g(1);
    nn::Embedding<A> m({.num = 50, .dim = 16}, g);
    check("embedding", m, {"ids"}, [](auto& m, Inputs& i) { return m(i["ids"]); });
}

TEST(Parity, SelfAttention) {
    omni::Generator g(1);
    nn::MultiheadAttention<A> m({.dim = 32, .heads = 4}, g);
    check("attention", m, {"x"}, [](auto& m, Inputs& i) { return m(i["x"]); });
}

TEST(Parity, SelfAttentionPaddingAndCausalMasks) {
    omni::Generator g(1);
    nn::MultiheadAttention<A> m({.dim = 32, .heads = 4}, g);
    check("attention_masked", m, {"x", "mask"}, [](auto& m, Inputs& i) { return m(i["x"], i["mask"], true); });
}

TEST(Parity, CrossAttention) {
    omni::Generator g(1);
    nn::MultiheadAttention<A> m({.dim = 32, .heads = 4, .kv_dim = 24}, g);
    check("attention_cross", m, {"x", "context", "mask"}, [](auto& m, Inputs& i) { return m.cross(i["x"], i["context"], i["mask"]); });
}

TEST(Parity, TransformerBlock) {
    omni::Generator g(1);
    nn::TransformerBlock<A> m({.dim = 64, .heads = 4}, g);
    check("block", m, {"x", "mask"}, [](auto& m, Inputs& i) { return m(i["x"], i["mask"]); });
}

TEST(Parity, SmallEncoder) {
    omni::Generator g(1);
    nn::Transformer<A> m({.depth = 3, .block = {.dim = 64, .heads = 4}}, g);
    check("encoder_small", m, {"x"}, [](auto& m, Inputs& i) { return m(i["x"]); });
}

TEST(Parity, ViTB32Encoder) {
    omni::Generator g(1);
    nn::Transformer<A> m(nn::vit_b32, g);
    check("vit_b32", m, {"x"}, [](auto& m, Inputs& i) { return m(i["x"]); });
}

namespace {
// A parameter holder for losses whose learnable scalars live outside a loss module.
struct Tau : nn::Module {
    V tau = nn::make_param<A>(D::full({1}, 0.07));
    template <class Vis> void visit(Vis& v) { v.param("tau", tau); }
};
struct NoParams : nn::Module {
    template <class Vis> void visit(Vis&) {}
};
}  // namespace

TEST(Parity, NTXentLoss) {
    NoParams m;
    check("loss_nt_xent", m, {"z1", "z2"}, [](auto&, Inputs& i) { return omni::loss::nt_xent(i["z1"], i["z2"], {.temperature = 0.05}); });
}

TEST(Parity, InfoNCELoss) {
    omni::loss::InfoNCE<A> m;
    check("loss_info_nce", m, {"x", "y"}, [](auto& m, Inputs& i) { return m(i["x"], i["y"]); });
}

TEST(Parity, SigmoidLoss) {
    omni::loss::SigmoidLoss<A> m;
    check("loss_sigmoid", m, {"x", "y"}, [](auto& m, Inputs& i) { return m(i["x"], i["y"]); });
}

TEST(Parity, GramLoss) {
    Tau m;
    check("loss_gram", m, {"t", "v", "a"}, [](auto& m, Inputs& i) { return omni::loss::gram_loss(i["t"], {i["v"], i["a"]}, m.tau); });
}

// A small Omni-C with all three embedders, the shared backbone and three heads; two views per
// modality, NT-Xent (tau 0.05) per modality, summed. Positions must match before loading.
void check_omni_c(const char* name, bool mask_text_padding) {
    omni::Generator g(1);
    const omni::models::OmniCConfig cfg{.dim = 32, .depth = 2, .heads = 4, .image_size = 14, .image_patch = 7, .audio_mels = 16,
                                        .audio_frames = 32, .audio_patch = 8, .vocab = 50, .text_len = 6, .head_hidden = 32, .head_out = 32,
                                        .mask_text_padding = mask_text_padding};
    omni::models::OmniC<A, omni::models::image, omni::models::audio, omni::models::text> m(cfg, g);
    const auto f = load_case(name);
    for (const char* b : {"pos_embed_image", "pos_embed_audio", "pos_embed_text"}) {
        const V& mine = std::string(b) == "pos_embed_image"   ? m.embedder<omni::models::image>().pos_embed
                        : std::string(b) == "pos_embed_audio" ? m.embedder<omni::models::audio>().pos_embed
                                                              : m.embedder<omni::models::text>().pos_embed;
        EXPECT_LE(rel_error(mine.value(), f.at(b)), 1e-7) << b;
    }
    check(name, m, {"image1", "image2", "audio1", "audio2", "text1", "text2"}, [&](auto& m, Inputs& i) {
        V total;
        for (std::size_t mod = 0; mod < m.modality_count; ++mod) {
            const std::string n(m.modality_name(mod));
            const V z1 = m.forward(mod, i[n + "1"]), z2 = m.forward(mod, i[n + "2"]);
            EXPECT_LE(rel_error(z1.value(), f.at("emb." + n + "1")), tolerance) << n;
            EXPECT_LE(rel_error(z2.value(), f.at("emb." + n + "2")), tolerance) << n;
            const V l = omni::loss::nt_xent(z1, z2, {.temperature = 0.05});
            total = total.defined() ? total + l : l;
        }
        return total;
    });
}

TEST(Parity, OmniCEmbeddingsLossAndEveryGradient) { check_omni_c("omni_c", false); }

// The same with [PAD] keys masked out of text attention; the glosses have 2, 4 and 6 real tokens.
TEST(Parity, OmniCWithTextPaddingMask) { check_omni_c("omni_c_text_mask", true); }

// Checkpoints written by open_clip, timm and transformers (tests/io/name_map_reference.py; ctest
// runs it first in the hf_deps.sh environment), loaded through their name maps into omni modules,
// whose outputs must match the reference modules' in float64: open_clip's image tower (F64 and
// F16 files) and the packed in_proj attention of its text tower, a timm ViT saved in BF16, and a
// Qwen2 saved by save_pretrained in BF16. The half-precision references ran on the same rounded
// weights in float64, so conversion on load must be exact.
#include <gtest/gtest.h>

#include <set>

#include "omni/backend/cpu.hpp"
#include "omni/io.hpp"
#include "omni/models/qwen2.hpp"
#include "omni/nn/attention.hpp"
#include "omni/nn/vision_transformer.hpp"

#include "../parity/parity_case.hpp"

using D = omni::Tensor<omni::cpu>;
namespace io = omni::io;
namespace nn = omni::nn;
using omni::parity::rel_error;

namespace {
std::string dir() { return omni::parity::case_dir("OMNI_NAME_MAP_DIR", "name_map_parity"); }
io::Safetensors file(const std::string& name) {
    const std::string path = dir() + "/" + name;
    if (!std::filesystem::exists(path)) throw std::runtime_error("missing " + path + ": run tests/io/name_map_reference.py first");
    return io::read_safetensors(path);
}
const io::Safetensors& reference() {
    static const io::Safetensors r = file("reference.safetensors");
    return r;
}
// open_clip's VisionTransformer as name_map_reference.py builds it.
constexpr nn::VisionTransformerConfig clip_vit{.height = 32, .width = 32, .patch = 8, .dim = 64, .depth = 2, .heads = 4, .pre_norm = true,
                                               .num_classes = 24, .eps = 1e-5};
constexpr double tol = 1e-10;

// Every tensor of `file` under `prefix` is read by some module tensor of m under `map`.
template <class M> void expect_all_read(M& m, const io::Safetensors& f, const io::NameMap& map, const std::string& prefix) {
    std::set<std::string> read;
    for (const auto& [name, t] : io::state_dict(m)) read.insert(io::map_name(map, name).key);
    for (const auto& [key, t] : f.tensors)
        if (key.rfind(prefix, 0) == 0) {
            EXPECT_TRUE(read.count(key)) << key << " is read by no module tensor";
        }
}
}  // namespace

TEST(NameMapParity, OpenClipImageTower) {
    for (const auto& [name, out] : {std::pair<std::string, std::string>{"openclip.safetensors", "clip.out"}, {"openclip_f16.safetensors", "clip_f16.out"}}) {
        const io::Safetensors f = file(name);
        EXPECT_GT(f.mapped, 0u) << name;
        omni::Generator g(1);
        nn::VisionTransformer<omni::cpu> m(clip_vit, g);
        nn::cast(m, omni::dtype::f64);
        io::load_weights(m, f, io::name_maps::open_clip_vit());
        expect_all_read(m, f, io::name_maps::open_clip_vit(), "visual.");
        const double e = rel_error(m(reference().at("x")), reference().at(out));
        EXPECT_LE(e, tol) << name;
        std::cout << name << ": relative error " << e << "\n";
    }
}

TEST(NameMapParity, OpenClipPackedAttentionSplitsIntoQKV) {
    const io::Safetensors f = file("openclip.safetensors");
    omni::Generator g(1);
    nn::MultiheadAttention<omni::cpu> a({.dim = 32, .heads = 4, .fused_qkv = false}, g);
    nn::cast(a, omni::dtype::f64);
    io::load_weights(a, f, io::name_maps::torch_multihead_attention("transformer.resblocks.0.attn."));
    const double e = rel_error(a(reference().at("attn.x")), reference().at("attn.out"));
    EXPECT_LE(e, tol);
}

TEST(NameMapParity, TimmVitFromBf16) {
    const io::Safetensors f = file("timm_bf16.safetensors");
    EXPECT_EQ(f.at("pos_embed").type(), omni::dtype::bf16);
    omni::Generator g(1);
    nn::VisionTransformer<omni::cpu> m({.height = 32, .width = 32, .patch = 8, .dim = 48, .depth = 2, .heads = 3, .num_classes = 5}, g);
    nn::cast(m, omni::dtype::f64);
    io::load_weights(m, f, io::name_maps::timm_vit());
    expect_all_read(m, f, io::name_maps::timm_vit(), "");
    EXPECT_LE(rel_error(m(reference().at("x")), reference().at("timm.out")), tol);
}

TEST(NameMapParity, Qwen2SavedByTransformersInBf16) {
    const io::Safetensors f = file("qwen2/model.safetensors");
    EXPECT_EQ(f.at("model.embed_tokens.weight").type(), omni::dtype::bf16);
    EXPECT_EQ(f.mapped, f.tensors.size());  // save_pretrained aligns every tensor
    omni::Generator g(1);
    omni::models::Qwen2<omni::cpu> m({.vocab = 64, .hidden = 32, .layers = 2, .heads = 4, .kv_heads = 2, .intermediate = 64, .rope_theta = 1e6,
                                      .rms_eps = 1e-6, .tie_embeddings = true},
                                     g);
    nn::cast(m, omni::dtype::f64);
    io::load_weights(m, f, io::name_maps::hf_qwen2());
    expect_all_read(m, f, io::name_maps::hf_qwen2(), "");
    // transformers computes RoPE's frequencies and attention softmax in float32 even in a float64
    // model (1e-6 here; tests/parity/qwen2_parity_test.cpp patches them and pins 1e-10). A wrong
    // mapping or a lossy BF16 conversion would be off by far more.
    const double e = rel_error(m(reference().at("qwen2.ids")), reference().at("qwen2.logits"));
    EXPECT_LE(e, 1e-5);
    std::cout << "qwen2: relative error " << e << "\n";
}

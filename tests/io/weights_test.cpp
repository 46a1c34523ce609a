// io::load_weights with prefix rules: a tower inside a larger file ("visual."), a wrapper's prefix
// ("model."), one renamed submodule, rule order, the errors (which name both the file key and the
// module tensor) and the original (strict, prefix) signature.
#include <gtest/gtest.h>

#include <filesystem>

#include "omni/backend/cpu.hpp"
#include "omni/io/weights.hpp"
#include "omni/nn/layer_norm.hpp"
#include "omni/nn/linear.hpp"

using D = omni::Tensor<omni::cpu>;
namespace nn = omni::nn;
namespace io = omni::io;

namespace {
// fc.weight [3, 4], fc.bias [3], norm.weight [3], norm.bias [3].
struct Tower : nn::Module {
    nn::Linear<omni::cpu> fc;
    nn::LayerNorm<omni::cpu> norm;
    Tower() = default;
    explicit Tower(omni::Generator& g) : fc({.in = 4, .out = 3}, g), norm({.dim = 3}) {}
    template <class V> void visit(V& v) {
        v.module("fc", fc);
        v.module("norm", norm);
    }
};

// A file holding `t`'s tensors under `prefix` plus an unrelated tensor of the same names.
io::Safetensors file_of(Tower& t, const std::string& prefix) {
    io::Safetensors f;
    for (const auto& [k, v] : io::state_dict(t)) {
        f.tensors.emplace(prefix + k, v);
        f.tensors.emplace("text." + k, D::full(v.shape(), 9.0));
    }
    return f;
}

void expect_equal(Tower& a, Tower& b) {
    const auto x = io::state_dict(a), y = io::state_dict(b);
    ASSERT_EQ(x.size(), y.size());
    for (const auto& [k, v] : x) EXPECT_EQ(v.to_vector<float>(), y.at(k).to_vector<float>()) << k;
}
}  // namespace

TEST(LoadWeights, FileKeyFollowsTheFirstMatchingRule) {
    const std::vector<io::PrefixRule> rules{{"visual.head.", "head."}, {"visual.", ""}};
    EXPECT_EQ(io::file_key("head.weight", rules), "visual.head.weight");
    EXPECT_EQ(io::file_key("blocks.0.norm1.bias", rules), "visual.blocks.0.norm1.bias");
    EXPECT_EQ(io::file_key("norm.weight", {{"model.", ""}}), "model.norm.weight");
    EXPECT_EQ(io::file_key("fc.weight", {{"proj.", "fc."}}), "proj.weight");
    EXPECT_EQ(io::file_key("norm.weight", {{"proj.", "fc."}}), "norm.weight");  // no rule: the name itself
    EXPECT_EQ(io::file_key("norm.weight", {}), "norm.weight");
}

TEST(LoadWeights, StripsATowerPrefix) {
    omni::Generator g(1);
    Tower src(g), dst(g);
    const auto f = file_of(src, "visual.");
    EXPECT_THROW(io::load_weights(dst, f), omni::io_error);  // no rule: "fc.weight" is not in the file
    io::load_weights(dst, f, io::LoadOptions{.rules = {{"visual.", ""}}});
    expect_equal(dst, src);
    Tower wrapped(g);
    io::load_weights(wrapped, file_of(src, "model."), io::LoadOptions{.rules = {{"model.", ""}}});
    expect_equal(wrapped, src);
}

TEST(LoadWeights, RenamesOneSubmoduleAndRuleOrderMatters) {
    omni::Generator g(2);
    Tower src(g), dst(g);
    io::Safetensors f;
    for (const auto& [k, v] : io::state_dict(src)) f.tensors.emplace(k.rfind("fc.", 0) == 0 ? "proj." + k.substr(3) : k, v);
    io::load_weights(dst, f, io::LoadOptions{.rules = {{"proj.", "fc."}}});
    expect_equal(dst, src);

    // The catch-all rule first shadows the specific one, so fc.* is looked up as "visual.fc.*".
    io::Safetensors v;
    for (const auto& [k, t] : f.tensors) v.tensors.emplace("visual." + k, t);
    Tower again(g);
    EXPECT_THROW(io::load_weights(again, v, io::LoadOptions{.rules = {{"visual.", ""}, {"visual.proj.", "fc."}}}), omni::io_error);
    io::load_weights(again, v, io::LoadOptions{.rules = {{"visual.proj.", "fc."}, {"visual.", ""}}});
    expect_equal(again, src);
}

TEST(LoadWeights, ErrorsNameTheFileKeyAndTheModuleTensor) {
    omni::Generator g(3);
    Tower src(g), dst(g);
    io::Safetensors f = file_of(src, "visual.");
    f.tensors.erase("visual.norm.bias");
    try {
        io::load_weights(dst, f, io::LoadOptions{.rules = {{"visual.", ""}}});
        FAIL() << "expected an io_error";
    } catch (const omni::io_error& e) {
        EXPECT_NE(std::string(e.what()).find("expected tensor 'visual.norm.bias' (for norm.bias) of shape [3], got none"), std::string::npos)
            << e.what();
    }
    // Not strict: the missing tensor keeps its value, the rest load.
    const auto before = dst.norm.bias.to_vector<float>();
    io::load_weights(dst, f, io::LoadOptions{.strict = false, .rules = {{"visual.", ""}}});
    EXPECT_EQ(dst.norm.bias.to_vector<float>(), before);
    EXPECT_EQ(dst.fc.weight.to_vector<float>(), src.fc.weight.to_vector<float>());

    f.tensors.insert_or_assign("visual.norm.bias", D::zeros({4}));
    try {
        io::load_weights(dst, f, io::LoadOptions{.rules = {{"visual.", ""}}});
        FAIL() << "expected a shape_error";
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("'visual.norm.bias' (for norm.bias): expected [3], got [4]"), std::string::npos) << e.what();
    }
}

TEST(LoadWeights, OriginalSignatureStillPrefixesEveryName) {
    omni::Generator g(4);
    Tower src(g), dst(g), from_path(g);
    const auto f = file_of(src, "visual.");
    io::load_weights(dst, f, true, "visual.");
    expect_equal(dst, src);
    const auto path = (std::filesystem::temp_directory_path() / "omni_weights_test.safetensors").string();
    io::write_safetensors(path, f.tensors);
    io::load_weights(from_path, path, true, "visual.");
    expect_equal(from_path, src);
    Tower with_options(g);
    io::load_weights(with_options, path, io::LoadOptions{.rules = {{"visual.", ""}}});
    expect_equal(with_options, src);
    std::filesystem::remove(path);
    // Without the prefix the file's "text." tensors are not picked up by accident.
    Tower none(g);
    EXPECT_THROW(io::load_weights(none, f, true, ""), omni::io_error);
}

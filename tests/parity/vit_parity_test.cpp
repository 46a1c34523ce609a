// nn::VisionTransformer against timm's VisionTransformer on identical weights and inputs
// (tests/parity/vit_reference.py writes them; ctest runs it first in the Hugging Face environment):
// the weights load by timm's names, then forward_features, the output and every gradient must
// match. The references are float64; omni runs each case twice:
//   float64: within 1e-10 of the reference's largest magnitude (plus 1e-13 absolute);
//   float32: within 1e-4 (plus 1e-6 absolute), the bound of tests/parity/nn_parity_test.cpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/io/weights.hpp"
#include "omni/nn/vision_transformer.hpp"

#include "parity_case.hpp"

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;
namespace nn = omni::nn;

namespace {
using omni::parity::Tolerance;

omni::io::Safetensors load_case(const std::string& name) {
    return omni::parity::load_case("OMNI_VIT_PARITY_DIR", "vit_parity", "vit_reference.py", name);
}
using omni::parity::rel_error;

void check(const std::string& name, const nn::VisionTransformerConfig& c, omni::dtype t, Tolerance tol) {
    const auto f = load_case(name);
    omni::Generator g(1);
    nn::VisionTransformer<A> m(c, g);
    nn::cast(m, t);
    omni::io::load_weights(m, f);  // strict: every timm parameter must be found by name
    // The file holds exactly the state_dict, inputs, outputs and gradients: nothing of timm's is left unloaded.
    std::size_t weights_in_file = 0;
    for (const auto& [k, v] : f.tensors)
        if (k.rfind("grad.", 0) != 0 && k.rfind("in.", 0) != 0 && k != "features" && k != "out" && k != "upstream") ++weights_in_file;
    EXPECT_EQ(weights_in_file, omni::io::state_dict(m).size()) << name;

    const V x(f.at("in.x").to(t), true);
    const V features = m.forward_features(x);
    double worst = rel_error(features.value(), f.at("features"), tol);
    EXPECT_LE(worst, tol.rel) << name << " forward_features";
    const V out = m.forward_head(features);
    const double eo = rel_error(out.value(), f.at("out"), tol);
    EXPECT_LE(eo, tol.rel) << name << " output";
    worst = std::max(worst, eo);
    out.backward(f.at("upstream").to(t));
    int checked = 0;
    nn::for_each_parameter(m, [&](const std::string& p, V& w) {
        ASSERT_TRUE(f.tensors.count("grad." + p)) << name << ": no reference gradient for " << p;
        const double e = rel_error(w.grad(), f.at("grad." + p), tol);
        EXPECT_LE(e, tol.rel) << name << " grad of " << p;
        worst = std::max(worst, e);
        ++checked;
    });
    const double e = rel_error(x.grad(), f.at("grad.in.x"), tol);
    EXPECT_LE(e, tol.rel) << name << " grad of the input";
    worst = std::max(worst, e);
    std::cout << name << " (" << omni::name_of(t) << "): features, output, input and " << checked
              << " parameter gradients, worst relative error " << worst << "\n";
}

void check_both(const std::string& name, const nn::VisionTransformerConfig& c) {
    check(name, c, omni::dtype::f64, {1e-10, 1e-13});
    check(name, c, omni::dtype::f32, {1e-4, 1e-6});
}
}  // namespace

// vit_reference.py: CASES.
TEST(VitParity, TimmVitTinyPatch16At224) { check_both("vit_tiny", nn::vit_tiny_patch16_224); }

TEST(VitParity, NonSquareAvgPoolWithoutClassToken) {
    check_both("avg_nocls", {.height = 32, .width = 48, .patch = 8, .dim = 48, .depth = 2, .heads = 3, .class_token = false,
                             .global_pool = nn::vit_pool::avg, .num_classes = 5});
}

TEST(VitParity, NonSquarePreNormWithoutHeadOrQkvBias) {
    check_both("prenorm_nohead", {.height = 40, .width = 24, .patch = 8, .dim = 32, .depth = 3, .heads = 4, .mlp_ratio = 2.0,
                                  .qkv_bias = false, .pre_norm = true});
}

// omni/nn.hpp compiles on its own (it comes first, before anything else), and with the CPU
// kernels a module from it runs.
#include "omni/nn.hpp"
// (the umbrella above must stand alone)
#include <gtest/gtest.h>

#include "omni/backend/cpu.hpp"

TEST(UmbrellaHeaders, NnHoldsTheModules) {
    omni::Generator g(1);
    omni::nn::VisionTransformer<omni::cpu> vit({.height = 8, .width = 8, .channels = 1, .patch = 4, .dim = 4, .depth = 1, .heads = 2}, g);
    EXPECT_EQ(vit(omni::Tensor<omni::cpu>::randn({2, 1, 8, 8}, g)).shape(), omni::Shape({2, 4}));
    omni::nn::WhisperEncoder<omni::cpu> audio({.n_mels = 4, .d_model = 8, .layers = 1, .heads = 2, .ffn_dim = 8, .max_source_positions = 4}, g);
    EXPECT_EQ(omni::nn::parameter_count(vit), vit.cfg.parameter_count());
    EXPECT_GT(omni::nn::parameter_count(audio), 0);
}

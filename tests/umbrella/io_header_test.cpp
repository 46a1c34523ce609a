// omni/io.hpp compiles on its own, without cereal or xtensor (opt-in by include), and carries
// safetensors and module weights.
#include "omni/io.hpp"
// (the umbrella above must stand alone)
#include <gtest/gtest.h>

#include <filesystem>

#ifdef CEREAL_CEREAL_HPP_
#error "omni/io.hpp must not pull in cereal"
#endif

TEST(UmbrellaHeaders, IoHoldsSafetensorsAndWeights) {
    const auto path = (std::filesystem::temp_directory_path() / "omni_io_header_test.safetensors").string();
    omni::io::write_safetensors(path, {{"visual.w", omni::Tensor<omni::cpu>::full({2, 3}, 1.5)}});
    const auto f = omni::io::read_safetensors(path);
    std::filesystem::remove(path);
    EXPECT_EQ(f.at("visual.w").to_vector<float>(), std::vector<float>(6, 1.5f));
    EXPECT_EQ(omni::io::file_key("w", {{"visual.", ""}}), "visual.w");
}

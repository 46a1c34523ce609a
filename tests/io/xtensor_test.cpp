// xtensor interop and .npy files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "omni/io/xtensor.hpp"

using D = omni::Tensor<omni::cpu>;

TEST(Xtensor, CopiesBothWays) {
    const xt::xarray<double> a = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
    const D t = omni::io::from_xtensor(a);
    EXPECT_EQ(t.shape(), (omni::Shape{2, 3}));
    EXPECT_EQ(t.type(), omni::dtype::f64);
    const auto b = omni::io::to_xtensor<float>(t.transpose(0, 1));
    EXPECT_EQ(b.shape()[0], 3u);
    EXPECT_EQ(b(2, 1), 6.0f);
    EXPECT_EQ(omni::io::from_xtensor(xt::xarray<std::int64_t>{7, 8}).to_vector<std::int64_t>(), (std::vector<std::int64_t>{7, 8}));
}

TEST(Xtensor, ViewSharesMemory) {
    const D t = D::zeros({2, 2});
    auto v = omni::io::view_xtensor<float>(t);
    v(1, 0) = 5.0f;
    EXPECT_EQ(t.to_vector<float>()[2], 5.0f);
    EXPECT_THROW(omni::io::view_xtensor<float>(t.transpose(0, 1)), omni::shape_error);
    EXPECT_THROW(omni::io::view_xtensor<double>(t), omni::dtype_error);
}

TEST(Npy, RoundTripAndErrors) {
    const std::string path = (std::filesystem::temp_directory_path() / "omni_test.npy").string();
    const D t = D::arange(6, omni::dtype::f32).view({2, 3});
    omni::io::save_npy<float>(path, t);
    const D back = omni::io::load_npy<float>(path);
    EXPECT_EQ(back.shape(), t.shape());
    EXPECT_EQ(back.to_vector<float>(), t.to_vector<float>());
    std::ofstream(path, std::ios::binary) << "not an npy file";
    EXPECT_THROW(omni::io::load_npy<float>(path), omni::io_error);
    EXPECT_THROW(omni::io::load_npy<float>(path + ".missing"), omni::io_error);
}

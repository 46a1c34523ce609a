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

namespace {
// A .npy file with the given header dict and data bytes (format 1.0, header padded as numpy pads).
std::string npy(std::string dict, const std::string& data) {
    while ((10 + dict.size() + 1) % 64) dict += ' ';
    dict += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(dict.size() & 0xff);
    out += static_cast<char>(dict.size() >> 8);
    return out + dict + data;
}
std::string npy_error(const std::string& bytes, bool as_bool = false) {
    const std::string path = (std::filesystem::temp_directory_path() / "omni_bad.npy").string();
    std::ofstream(path, std::ios::binary) << bytes;
    try {
        if (as_bool) omni::io::load_npy<bool>(path);
        else omni::io::load_npy<float>(path);
    } catch (const omni::io_error& e) {
        const std::string m = e.what();
        return m.substr(m.find(".npy: ") + 6);
    }
    return "no error";
}
}  // namespace

// Issue 28: xtensor's reader allocated what the header declared before reading, and left the
// missing values of a short file uninitialised; omni's reader checks the shape against the file.
TEST(Npy, HostileHeadersAreIoErrorsBeforeAllocation) {
    const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
    EXPECT_EQ(npy_error(npy(f4 + "(3,), }", std::string(8, '\0'))), "expected [3] x 4 bytes of data, got 8 (truncated file?)");
    EXPECT_EQ(npy_error(npy(f4 + "(1000000000, 1000), }", "")), "expected [1000000000, 1000] x 4 bytes of data, got 0 (truncated file?)");
    EXPECT_EQ(npy_error(npy(f4 + "(0, 4294967296, 4294967296, 4294967296), }", "")),
              "expected [0, 4294967296, 4294967296, 4294967296] x 4 bytes of data, got 0 (truncated file?)");
    EXPECT_EQ(npy_error(npy(f4 + "(-1,), }", "")), "header at byte 51: expected a non-negative extent that fits in int64");
    EXPECT_EQ(npy_error(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0'))),
              "expected dtype '<f4', got '<f8'");
    EXPECT_EQ(npy_error(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x01\x00\x07", 3)), true),
              "expected bool bytes 0 or 1, got 7 at element 2");
    EXPECT_EQ(npy_error(npy("{'descr': '<f4', 'shape': (1,), }", std::string(4, '\0'))),
              "header at byte 32: expected the keys 'descr', 'fortran_order' and 'shape', got fewer");
    std::string long_header("\x93NUMPY\x02\x00\x11\x27\x00\x00", 12);  // 10001 bytes
    EXPECT_EQ(npy_error(long_header + std::string(10001, ' ')), "expected a header of at most 10000 bytes inside the 10013-byte file, got 10001");
}

TEST(Npy, FortranOrderIsReadAsRowMajor) {
    const std::string path = (std::filesystem::temp_directory_path() / "omni_fortran.npy").string();
    const float v[6] = {0, 3, 1, 4, 2, 5};  // column-major [[0, 1, 2], [3, 4, 5]]
    std::ofstream(path, std::ios::binary) << npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                                 std::string(reinterpret_cast<const char*>(v), sizeof v));
    const D t = omni::io::load_npy<float>(path);
    EXPECT_EQ(t.shape(), (omni::Shape{2, 3}));
    EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

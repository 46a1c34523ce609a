// safetensors round trips, module weights by name, and every malformed file as an io_error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "omni/backend/cpu.hpp"
#include "omni/io/weights.hpp"
#include "omni/nn/mlp.hpp"

using D = omni::Tensor<omni::cpu>;
namespace fs = std::filesystem;

namespace {
std::string tmp(const std::string& name) { return (fs::temp_directory_path() / ("omni_io_" + name)).string(); }
void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }
std::string header_file(const std::string& json, const std::string& data) {
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
    return len + json + data;
}
}  // namespace

TEST(Safetensors, RoundTripAllDtypesAndViews) {
    omni::Generator g(1);
    const D x = D::randn({3, 4}, g);
    const std::map<std::string, D> in{{"a.f32", x.transpose(0, 1)},
                                      {"b.f64", D::randn({2}, g, omni::dtype::f64)},
                                      {"c.i64", D::arange(5, omni::dtype::i64)},
                                      {"d.bool", D::from_data<bool>({true, false}, {2})},
                                      {"e.empty", D::zeros({0, 3})},
                                      {"f.scalar", D::scalar(7.0)}};
    const std::string path = tmp("roundtrip.safetensors");
    omni::io::write_safetensors(path, in, {{"format", "pt"}});
    const auto f = omni::io::read_safetensors(path);
    EXPECT_EQ(f.metadata.at("format"), "pt");
    for (const auto& [k, v] : in) {
        ASSERT_TRUE(f.contains(k)) << k;
        EXPECT_EQ(f.at(k).shape(), v.shape()) << k;
        EXPECT_EQ(f.at(k).type(), v.type()) << k;
        EXPECT_EQ(f.at(k).to_vector<double>(), v.to_vector<double>()) << k;
    }
    EXPECT_FALSE(fs::exists(path + ".tmp"));
    EXPECT_THROW(f.at("missing"), omni::io_error);
}

TEST(Safetensors, ModuleWeightsByName) {
    omni::Generator g1(1), g2(2);
    omni::nn::MLP<omni::autodiff<omni::cpu>> a({.in = 4, .hidden = 8}, g1), b({.in = 4, .hidden = 8}, g2);
    const std::string path = tmp("mlp.safetensors");
    omni::io::save_weights(a, path);
    const auto node = b.fc1.weight.node();
    omni::io::load_weights(b, path);
    EXPECT_EQ(b.fc2.bias.to_vector<float>(), a.fc2.bias.to_vector<float>());
    EXPECT_EQ(b.fc1.weight.node(), node);  // loaded in place: the parameter keeps its identity
    omni::nn::MLP<omni::cpu> wide({.in = 4, .hidden = 9}, g1);
    try {
        omni::io::load_weights(wide, path);
        FAIL();
    } catch (const omni::shape_error& e) {
        EXPECT_STREQ(e.what(), "shape_error: load_weights: fc1.weight: expected [9, 4], got [8, 4]");
    }
    omni::io::write_safetensors(path, {{"fc1.weight", D::zeros({8, 4})}});
    EXPECT_THROW(omni::io::load_weights(b, path), omni::io_error);
    EXPECT_NO_THROW(omni::io::load_weights(b, path, /*strict=*/false));
}

TEST(Safetensors, MalformedFilesAreIoErrors) {
    const std::string path = tmp("bad.safetensors");
    auto expect_io = [&](const std::string& bytes, const std::string& fragment) {
        write_bytes(path, bytes);
        try {
            omni::io::read_safetensors(path);
            ADD_FAILURE() << "no error for " << fragment;
        } catch (const omni::io_error& e) {
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        }
    };
    expect_io("abc", "expected at least 8 bytes, got 3");
    expect_io(header_file("{", ""), "malformed header at byte 1: unexpected end");
    expect_io(std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}", "exceeds the file");
    expect_io(header_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", "12345678"), "malformed header");
    expect_io(header_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "12345678"), "needs 12 bytes, got 8");
    expect_io(header_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "12345678"), "outside the 8-byte data section");
    expect_io(header_file("{\"a\":{\"dtype\":\"U7\",\"shape\":[1],\"data_offsets\":[0,1]}}", "1"), "unsupported dtype U7");
    expect_io(header_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", ""), "negative extent");
    expect_io(header_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[x],\"data_offsets\":[0,0]}}", ""), "expected an integer");
    // Issue 28: extents whose product wraps int64 (to 0 here), one zero extent hiding huge ones,
    // bool bytes other than 0/1, and a header length over the limit.
    expect_io(header_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", ""),
              "tensor 'a' of shape [4294967296, 4294967296] holds more elements than the 0-byte data section");
    expect_io(header_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,4294967296,4294967296],\"data_offsets\":[0,0]}}", ""),
              "tensor 'a' of shape [0, 4294967296, 4294967296] holds more elements");
    expect_io(header_file("{\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", std::string("\x01\x00\x02", 3)),
              "tensor 'm' (BOOL): expected bytes 0 or 1, got 2 at element 2");
    expect_io(std::string("\x01\xe1\xf5\x05\0\0\0\0", 8) + std::string(100000001, ' '), "expected a header of at most 100000000 bytes, got 100000001");
    EXPECT_THROW(omni::io::read_safetensors(tmp("does_not_exist")), omni::io_error);
    EXPECT_THROW(omni::io::write_safetensors("/nonexistent_dir/x.safetensors", {}), omni::io_error);
}

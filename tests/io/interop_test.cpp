// safetensors read zero-copy from a mapping (with the copy fallback), float16 and bfloat16 files,
// name maps (patterns, packed q/k/v chunks, errors), and DLPack round trips in C++.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "omni/io.hpp"
#include "omni/nn/attention.hpp"
#include "omni/nn/linear.hpp"

using D = omni::Tensor<omni::cpu>;
namespace fs = std::filesystem;
namespace io = omni::io;

namespace {
std::string tmp(const std::string& name) { return (fs::temp_directory_path() / ("omni_interop_" + name)).string(); }
// A hand-made file: `json` as the header (unpadded, so the data section may start misaligned).
void write_raw(const std::string& path, const std::string& json, const std::string& data) {
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
    std::ofstream(path, std::ios::binary) << len << json << data;
}
}  // namespace

TEST(SafetensorsMap, AlignedTensorsBorrowTheMappingAndCopiesMatch) {
    omni::Generator g(3);
    const std::map<std::string, D> in{{"a", D::randn({3, 5}, g)}, {"b", D::arange(7, omni::dtype::i64)}, {"c", D::randn({2, 2}, g, omni::dtype::f64)},
                                      {"d", D::from_data<bool>({true, false, true}, {3})}};
    const std::string path = tmp("map.safetensors");
    io::write_safetensors(path, in);
    const io::Safetensors mapped = io::read_safetensors(path);
    const io::Safetensors copied = io::read_safetensors(path, {.map = false});
    EXPECT_EQ(mapped.mapped, in.size());
    EXPECT_EQ(copied.mapped, 0u);
    const void* base = mapped.at("a").storage()->data();
    for (const auto& [k, v] : in) {
        EXPECT_FALSE(mapped.at(k).storage()->owned()) << k;
        EXPECT_TRUE(copied.at(k).storage()->owned()) << k;
        EXPECT_EQ(mapped.at(k).to_vector<double>(), v.to_vector<double>()) << k;
        EXPECT_EQ(copied.at(k).to_vector<double>(), v.to_vector<double>()) << k;
        // One mapping: every tensor lies within a few bytes of the others.
        EXPECT_LT(std::abs(static_cast<const char*>(mapped.at(k).raw_data()) - static_cast<const char*>(base)), 4096) << k;
    }
}

TEST(SafetensorsMap, WritesStayPrivateAndTensorsOutliveTheFileAndTheReader) {
    const std::string path = tmp("private.safetensors");
    io::write_safetensors(path, {{"w", D::full({4}, 2.0)}});
    D w;
    {
        const io::Safetensors f = io::read_safetensors(path);
        w = f.at("w");
    }
    w.fill_(5.0);  // copy-on-write: this process only
    EXPECT_EQ(io::read_safetensors(path).at("w").to_vector<float>(), std::vector<float>(4, 2.0f));
    io::write_safetensors(path, {{"w", D::full({4}, 3.0)}});  // replaced by rename: the old mapping stays valid
    fs::remove(path);
    EXPECT_EQ(w.to_vector<float>(), std::vector<float>(4, 5.0f));
}

TEST(SafetensorsMap, MisalignedTensorsAreCopied) {
    // An unpadded header: the data section starts off a multiple of 4, so float32 "x" (offset 0)
    // is misaligned and copied, while the 1-byte bools of "y" are borrowed.
    std::string json = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"BOOL","shape":[1],"data_offsets":[8,9]}})";
    while ((8 + json.size()) % 4 == 0) json += ' ';
    const float x[2] = {1.5f, -2.0f};
    const std::string path = tmp("misaligned.safetensors");
    write_raw(path, json, std::string(reinterpret_cast<const char*>(x), 8) + std::string(1, '\1'));
    ASSERT_NE((8 + json.size()) % 4, 0u);
    const io::Safetensors f = io::read_safetensors(path);
    EXPECT_EQ(f.mapped, 1u);
    EXPECT_TRUE(f.at("x").storage()->owned());
    EXPECT_FALSE(f.at("y").storage()->owned());
    EXPECT_EQ(f.at("x").to_vector<float>(), (std::vector<float>{1.5f, -2.0f}));
    EXPECT_TRUE(f.at("y").item<bool>());
    // The same checks refuse a bad file in both modes.
    write_raw(path, R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0'));
    EXPECT_THROW(io::read_safetensors(path), omni::io_error);
    EXPECT_THROW(io::read_safetensors(path, {.map = false}), omni::io_error);
    write_raw(path, R"({"y":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}})", "\2");
    EXPECT_THROW(io::read_safetensors(path), omni::io_error);
}

TEST(Half, KnownValuesAndEveryBitPatternRoundTrips) {
    EXPECT_EQ(io::float_to_f16(1.0f), 0x3c00);
    EXPECT_EQ(io::float_to_f16(-2.0f), 0xc000);
    EXPECT_EQ(io::float_to_f16(0.1f), 0x2e66);
    EXPECT_EQ(io::float_to_f16(65504.0f), 0x7bff);
    EXPECT_EQ(io::float_to_f16(65519.0f), 0x7bff);
    EXPECT_EQ(io::float_to_f16(65520.0f), 0x7c00);  // the tie rounds to even: infinity
    EXPECT_EQ(io::float_to_f16(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(io::float_to_f16(std::ldexp(1.0f, -25)), 0x0000);      // tie to even zero
    EXPECT_EQ(io::float_to_f16(std::ldexp(3.0f, -25)), 0x0002);      // 1.5 units: tie to even 2
    EXPECT_EQ(io::float_to_f16(std::ldexp(1023.5f, -24)), 0x0400);   // rounds up into the normals
    EXPECT_EQ(io::float_to_f16(-std::numeric_limits<float>::infinity()), 0xfc00);
    EXPECT_TRUE(std::isnan(io::f16_to_float(io::float_to_f16(std::numeric_limits<float>::quiet_NaN()))));
    EXPECT_EQ(io::f16_to_float(0x0001), std::ldexp(1.0f, -24));
    for (std::uint32_t h = 0; h < 65536; ++h) {
        const float f = io::f16_to_float(static_cast<std::uint16_t>(h));
        if (!std::isnan(f)) {
            ASSERT_EQ(io::float_to_f16(f), h) << h;
        }
    }
}

TEST(Half, F16AndBf16FilesKeepTheirDtypeOrBecomeFloat32) {
    const D v = D::from_data<float>({0.5f, -1.25f, 3.0f, 1024.0f, 0.1f, -7.0f}, {2, 3});
    const std::string path = tmp("half.safetensors");
    io::write_safetensors(path, {{"h", io::to_dtype(v, omni::dtype::f16).transpose(0, 1)},  // strided float16 written dense
                                 {"b", v.to(omni::dtype::bf16)}});
    const io::Safetensors f = io::read_safetensors(path);
    EXPECT_EQ(f.mapped, 2u);
    EXPECT_EQ(f.at("h").type(), omni::dtype::f16);
    EXPECT_EQ(f.at("b").type(), omni::dtype::bf16);
    const std::vector<float> h = io::to_dtype(f.at("h"), omni::dtype::f32).to_vector<float>();
    EXPECT_EQ(h, (std::vector<float>{0.5f, 1024.0f, -1.25f, io::f16_to_float(io::float_to_f16(0.1f)), 3.0f, -7.0f}));
    const io::Safetensors up = io::read_safetensors(path, {.half_to_f32 = true});
    EXPECT_EQ(up.at("h").type(), omni::dtype::f32);
    EXPECT_EQ(up.at("h").to_vector<float>(), h);
    EXPECT_EQ(up.at("b").to_vector<float>(), v.to(omni::dtype::bf16).to_vector<float>());
    // float32 weights load from float16 and bfloat16 file tensors.
    omni::Generator g(1);
    omni::nn::Linear<omni::cpu> lin({.in = 2, .out = 3}, g);
    io::write_safetensors(path, {{"weight", io::to_dtype(v.transpose(0, 1), omni::dtype::f16)}, {"bias", D::full({3}, 0.25).to(omni::dtype::bf16)}});
    io::load_weights(lin, path);
    EXPECT_EQ(lin.weight.to_vector<float>(), h);
    EXPECT_EQ(lin.bias.to_vector<float>(), std::vector<float>(3, 0.25f));
}

TEST(NameMap, PatternsPrefixesAndFirstMatch) {
    using namespace io::map_entry;
    const io::NameMap m{"test", {renamed("blocks.*.norm1.", "resblocks.*.ln_1."), renamed("x.*.y.*", "a.*.b.*"), renamed("", "visual.")}};
    EXPECT_EQ(io::map_name(m, "blocks.11.norm1.weight").key, "resblocks.11.ln_1.weight");
    EXPECT_EQ(io::map_name(m, "x.3.y.7").key, "a.3.b.7");
    EXPECT_EQ(io::map_name(m, "x.3.y.7.z").key, "visual.x.3.y.7.z");  // a full pattern must match the whole name
    EXPECT_EQ(io::map_name(m, "blocks..norm1.w").key, "visual.blocks..norm1.w");  // '*' needs one character
    EXPECT_EQ(io::map_name(io::name_maps::timm_vit(), "blocks.0.attn.qkv.weight").key, "blocks.0.attn.qkv.weight");
    EXPECT_EQ(io::map_name(io::name_maps::open_clip_vit(), "blocks.4.mlp.fc2.bias").key, "visual.transformer.resblocks.4.mlp.c_proj.bias");
    EXPECT_EQ(io::map_name(io::name_maps::hf_bert("bert."), "encoder.layer.0.output.dense.weight").key, "bert.encoder.layer.0.output.dense.weight");
}

TEST(NameMap, PackedInProjectionSplitsIntoQKV) {
    omni::Generator g(2);
    omni::nn::MultiheadAttention<omni::cpu> attn({.dim = 4, .heads = 2, .fused_qkv = false}, g);
    const D packed = D::arange(48).view({12, 4}), bias = D::arange(12);
    const std::map<std::string, D> file{{"attn.in_proj_weight", packed}, {"attn.in_proj_bias", bias},
                                        {"attn.out_proj.weight", D::ones({4, 4})}, {"attn.out_proj.bias", D::zeros({4})}};
    io::Safetensors f;
    f.tensors = file;
    io::load_weights(attn, f, io::name_maps::torch_multihead_attention("attn."));
    EXPECT_EQ(attn.q.weight.to_vector<float>(), packed.slice(0, 0, 4).to_vector<float>());
    EXPECT_EQ(attn.k.weight.to_vector<float>(), packed.slice(0, 4, 8).to_vector<float>());
    EXPECT_EQ(attn.v.weight.to_vector<float>(), packed.slice(0, 8, 12).to_vector<float>());
    EXPECT_EQ(attn.v.bias.to_vector<float>(), (std::vector<float>{8, 9, 10, 11}));
    EXPECT_EQ(attn.proj.weight.to_vector<float>(), std::vector<float>(16, 1.0f));
    // A packed tensor that does not split in three, and a missing tensor, name both names.
    f.tensors["attn.in_proj_bias"] = D::arange(13);
    try {
        io::load_weights(attn, f, io::name_maps::torch_multihead_attention("attn."));
        ADD_FAILURE() << "expected a shape_error";
    } catch (const omni::shape_error& e) {
        EXPECT_NE(std::string(e.what()).find("'attn.in_proj_bias' (for q.bias, torch MultiheadAttention map)"), std::string::npos) << e.what();
    }
    f.tensors.erase("attn.in_proj_bias");
    EXPECT_THROW(io::load_weights(attn, f, io::name_maps::torch_multihead_attention("attn.")), omni::io_error);
    EXPECT_NO_THROW(io::load_weights(attn, f, io::name_maps::torch_multihead_attention("attn."), /*strict=*/false));
}

TEST(NameMap, ReshapeTransposeAndZeros) {
    using namespace io::map_entry;
    omni::Generator g(2);
    omni::nn::Linear<omni::cpu> lin({.in = 3, .out = 2}, g);
    io::Safetensors f;
    f.tensors["proj"] = D::arange(6).view({3, 2});  // x @ proj, [in, out]
    io::load_weights(lin, f, io::NameMap{"t", {transposed("weight", "proj"), zeros("bias")}});
    EXPECT_EQ(lin.weight.to_vector<float>(), (std::vector<float>{0, 2, 4, 1, 3, 5}));
    EXPECT_EQ(lin.bias.to_vector<float>(), std::vector<float>(2, 0.0f));
    f.tensors["flat"] = D::arange(6);
    io::load_weights(lin, f, io::NameMap{"t", {reshaped("weight", "flat"), zeros("bias")}});
    EXPECT_EQ(lin.weight.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
    f.tensors["flat"] = D::arange(5);
    EXPECT_THROW(io::load_weights(lin, f, io::NameMap{"t", {reshaped("weight", "flat"), zeros("bias")}}), omni::shape_error);
    f.tensors["proj"] = D::arange(6).view({2, 3});  // transposed is [3, 2]: the module wants [2, 3]
    EXPECT_THROW(io::load_weights(lin, f, io::NameMap{"t", {transposed("weight", "proj"), zeros("bias")}}), omni::shape_error);
}

namespace {
int deletes = 0;
void count_delete(DLManagedTensor*) { ++deletes; }
}  // namespace

TEST(DLPack, RoundTripSharesMemoryAndKeepsStorageAlive) {
    D t = D::arange(6).view({2, 3});
    const D view = t.transpose(0, 1);
    const void* data = t.raw_data();
    DLManagedTensor* m = io::to_dlpack(view);
    EXPECT_EQ(m->dl_tensor.device.device_type, kDLCPU);
    EXPECT_EQ(m->dl_tensor.strides[0], 1);
    EXPECT_EQ(m->dl_tensor.strides[1], 3);
    t = D();  // the export keeps the storage
    const D back = io::from_dlpack(m);
    EXPECT_EQ(back.raw_data(), data);
    EXPECT_EQ(back.shape(), (omni::Shape{3, 2}));
    EXPECT_EQ(back.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    back.select(0, 2).fill_(-1.0);
    EXPECT_EQ(view.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, -1, -1}));
}

TEST(DLPack, ImportCallsTheDeleterOnceAfterTheLastView) {
    float buf[6] = {1, 2, 3, 4, 5, 6};
    std::int64_t shape[2] = {2, 3};
    DLManagedTensor m{};
    m.dl_tensor = {buf, {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, shape, nullptr, 4};  // byte_offset: from element 1 on
    m.deleter = count_delete;
    shape[1] = 2;  // 2 x 2 of the 5 elements after the first, compact
    deletes = 0;
    {
        D t = io::from_dlpack(&m);
        D row = t.select(0, 1);
        t = D();
        EXPECT_EQ(deletes, 0);
        EXPECT_EQ(row.to_vector<float>(), (std::vector<float>{4, 5}));
        row.fill_(0.0);
    }
    EXPECT_EQ(deletes, 1);
    EXPECT_EQ(buf[3], 0.0f);
}

TEST(DLPack, RefusedImportsAreTypedErrorsAndStillDeleteOnce) {
    float buf[4] = {};
    std::int64_t shape[1] = {4}, stride[1] = {-1};
    auto refuse = [&](DLTensor d, const std::string& kind) {
        DLManagedTensor m{d, nullptr, count_delete};
        deletes = 0;
        try {
            io::from_dlpack(&m);
            ADD_FAILURE() << "expected " << kind;
        } catch (const omni::error& e) {
            EXPECT_EQ(std::string(e.what()).rfind(kind + ": from_dlpack: expected", 0), 0u) << e.what();
        }
        EXPECT_EQ(deletes, 1) << kind;
    };
    refuse({buf, {kDLCUDA, 0}, 1, {kDLFloat, 32, 1}, shape, nullptr, 0}, "device_error");
    refuse({buf, {kDLCPU, 0}, 1, {kDLUInt, 8, 1}, shape, nullptr, 0}, "dtype_error");
    refuse({buf, {kDLCPU, 0}, 1, {kDLFloat, 32, 4}, shape, nullptr, 0}, "dtype_error");
    refuse({buf, {kDLCPU, 0}, 1, {kDLFloat, 32, 1}, shape, stride, 0}, "shape_error");
    refuse({buf, {kDLCPU, 0}, 9, {kDLFloat, 32, 1}, shape, nullptr, 0}, "shape_error");
    refuse({buf, {kDLCPU, 0}, 1, {kDLFloat, 32, 1}, shape, nullptr, 2}, "value_error");  // misaligned float
    EXPECT_THROW(io::from_dlpack(nullptr), omni::value_error);
}

// Tensor<cpu>: construction, views without copies, contiguous copies, casts, edge cases.
#include <gtest/gtest.h>

#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

using T = omni::Tensor<omni::cpu>;
using omni::Shape;

namespace {
T iota(const Shape& s) { return T::arange(s.numel()).view(s); }
std::vector<float> vals(const T& t) { return t.to_vector<float>(); }
}  // namespace

TEST(Tensor, FactoriesAndMetadata) {
    const T z = T::zeros({2, 3});
    EXPECT_EQ(z.shape(), (Shape{2, 3}));
    EXPECT_EQ(z.numel(), 6);
    EXPECT_EQ(z.type(), omni::dtype::f32);
    EXPECT_TRUE(z.is_contiguous());
    EXPECT_EQ(vals(T::full({2}, 2.5)), (std::vector<float>{2.5f, 2.5f}));
    EXPECT_EQ(T::ones({3}, omni::dtype::i64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 1, 1}));
    EXPECT_EQ(T::scalar(4.0).item<float>(), 4.0f);
    EXPECT_EQ(T::zeros({0, 5}).numel(), 0);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(T::zeros({7}).raw_data()) % 64, 0u);
    EXPECT_EQ(z.size(-1), 3);
}

TEST(Tensor, FromDataChecksCount) {
    const T t = T::from_data<double>({1, 2, 3, 4}, {2, 2});
    EXPECT_EQ(t.type(), omni::dtype::f64);
    EXPECT_EQ(t.to_vector<double>()[3], 4.0);
    try {
        T::from_data<float>({1, 2, 3}, {2, 2});
        FAIL();
    } catch (const omni::shape_error& e) {
        EXPECT_STREQ(e.what(), "shape_error: from_data: expected 4 values for shape [2, 2], got 3");
    }
    EXPECT_THROW(T::empty({2, -1}), omni::shape_error);
    // Extents whose product wraps int64 (2^32 x 2^32 = 2^64 = 0 mod 2^64), one hidden behind a
    // zero extent's neighbour, and a count whose bytes overflow: refused before allocating.
    const std::int64_t big = std::int64_t{1} << 32;
    EXPECT_THROW(T::empty({big, big}), omni::shape_error);
    EXPECT_THROW(T::empty({0, big, big}), omni::shape_error);
    EXPECT_THROW(T::empty({std::int64_t{1} << 62}, omni::dtype::f64), omni::shape_error);
    EXPECT_EQ(T::empty({0, 5}).numel(), 0);
}

TEST(Tensor, BorrowSharesCallerMemory) {
    std::vector<float> buf{1, 2, 3, 4, 5, 6};
    const T t = T::borrow(buf.data(), {2, 3});
    buf[4] = 50;
    EXPECT_EQ(t.to_vector<float>()[4], 50.0f);
    t.select(0, 0).fill_(9);
    EXPECT_EQ(buf[0], 9.0f);
    EXPECT_EQ(buf[3], 4.0f);
}

TEST(Tensor, ViewsShareStorage) {
    const T x = iota({2, 3, 4});
    const T v = x.view({6, 4});
    EXPECT_EQ(v.storage(), x.storage());
    EXPECT_EQ(x.view({-1, 4}).shape(), (Shape{6, 4}));
    const T p = x.permute({2, 0, 1});
    EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
    EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
    EXPECT_FALSE(p.is_contiguous());
    EXPECT_EQ(p.storage(), x.storage());
    EXPECT_THROW(p.view({24}), omni::shape_error);
    const T r = p.reshape({24});  // a copy, in permuted order
    EXPECT_NE(r.storage(), x.storage());
    EXPECT_EQ(vals(r)[1], 4.0f);
    EXPECT_EQ(vals(r)[2], 8.0f);
}

TEST(Tensor, SliceSelectAndSteps) {
    const T x = iota({4, 5});
    EXPECT_EQ(vals(x.slice(1, 1, 3)), (std::vector<float>{1, 2, 6, 7, 11, 12, 16, 17}));
    EXPECT_EQ(vals(x.slice(0, 0, 4, 2).slice(1, -2, 5)), (std::vector<float>{3, 4, 13, 14}));
    EXPECT_EQ(vals(x.select(1, -1)), (std::vector<float>{4, 9, 14, 19}));
    EXPECT_EQ(x.slice(0, 3, 1).numel(), 0);  // empty, not an error, as in NumPy
    EXPECT_EQ(x.slice(1, 2, 100).shape(), (Shape{4, 3}));
    EXPECT_THROW(x.slice(0, 0, 4, 0), omni::value_error);
    EXPECT_THROW(x.select(0, 4), omni::index_error);
    EXPECT_THROW(x.slice(2, 0, 1), omni::value_error);
}

TEST(Tensor, TransposeUnsqueezeSqueezeExpand) {
    const T x = iota({2, 3});
    EXPECT_EQ(vals(x.transpose(0, 1)), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    EXPECT_EQ(x.unsqueeze(0).shape(), (Shape{1, 2, 3}));
    EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 3, 1}));
    EXPECT_EQ(x.unsqueeze(1).squeeze(1).shape(), (Shape{2, 3}));
    EXPECT_THROW(x.squeeze(0), omni::shape_error);
    const T e = x.slice(0, 0, 1).expand({4, 3});
    EXPECT_EQ(e.strides()[0], 0);
    EXPECT_EQ(vals(e.contiguous()), (std::vector<float>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
    EXPECT_EQ(T::arange(3).expand({2, -1}).shape(), (Shape{2, 3}));
    EXPECT_THROW(x.expand({4, 3}), omni::shape_error);
    EXPECT_THROW(x.permute({0, 0}), omni::value_error);
    EXPECT_THROW(x.permute({0}), omni::shape_error);
}

TEST(Tensor, CopiesAndCasts) {
    const T x = iota({2, 3});
    const T c = x.clone();
    c.fill_(1);
    EXPECT_EQ(vals(x)[0], 0.0f);
    const T d = T::from_data<float>({1.5f, -2.7f, 0.0f}, {3});
    EXPECT_EQ(d.to(omni::dtype::i32).to_vector<std::int32_t>(), (std::vector<std::int32_t>{1, -2, 0}));
    EXPECT_EQ(d.to(omni::dtype::b8).to_vector<bool>().size(), 3u);
    EXPECT_EQ(d.to(omni::dtype::bf16).to(omni::dtype::f32).to_vector<float>(), (std::vector<float>{1.5f, -2.703125f, 0.0f}));
    // copy_from broadcasts into a strided view.
    const T dst = T::zeros({3, 4});
    dst.slice(1, 1, 3).copy_from(T::from_data<float>({7, 8}, {2}));
    EXPECT_EQ(vals(dst)[1], 7.0f);
    EXPECT_EQ(vals(dst)[10], 8.0f);
    EXPECT_EQ(vals(dst)[3], 0.0f);
    EXPECT_THROW(dst.copy_from(T::zeros({5})), omni::shape_error);
}

TEST(Tensor, ItemAndDtypeChecks) {
    EXPECT_THROW(T::zeros({2}).item<float>(), omni::shape_error);
    EXPECT_THROW(T::zeros({2}).data<double>(), omni::dtype_error);
    EXPECT_THROW(T().to_vector<float>(), omni::value_error);
}

TEST(Tensor, RandomIsSeededAndShaped) {
    omni::Generator g1(3), g2(3);
    const T a = T::randn({100}, g1), b = T::randn({100}, g2), c = T::randn({100}, g1);
    EXPECT_EQ(vals(a), vals(b));
    EXPECT_NE(vals(a), vals(c));
    const auto u = T::rand({1000}, g1, omni::dtype::f64, -2, 3).to_vector<double>();
    for (double v : u) {
        ASSERT_GE(v, -2);
        ASSERT_LT(v, 3);
    }
}

// Core: shapes, broadcasting rules, error messages, the Philox stream and thread control.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "omni/core/dtype.hpp"
#include "omni/core/rng.hpp"
#include "omni/core/shape.hpp"
#include "omni/core/threads.hpp"

using omni::Shape;

TEST(Shape, NumelStridesAndPrinting) {
    const Shape s{2, 3, 4};
    EXPECT_EQ(s.numel(), 24);
    EXPECT_EQ(omni::contiguous_strides(s), (Shape{12, 4, 1}));
    EXPECT_EQ(s.str(), "[2, 3, 4]");
    EXPECT_EQ(Shape{}.numel(), 1);
    EXPECT_EQ(Shape{}.str(), "[]");
    EXPECT_EQ((Shape{3, 0}).numel(), 0);
}

TEST(Shape, InsertEraseAndLimit) {
    Shape s{2, 3};
    s.insert(1, 7);
    EXPECT_EQ(s, (Shape{2, 7, 3}));
    s.erase(0);
    EXPECT_EQ(s, (Shape{7, 3}));
    Shape big{1, 1, 1, 1, 1, 1, 1, 1};
    EXPECT_THROW(big.push_back(1), omni::shape_error);
}

TEST(Shape, BroadcastRules) {
    EXPECT_EQ(omni::broadcast_shapes("t", {8, 1, 6}, {7, 1}), (Shape{8, 7, 6}));
    EXPECT_EQ(omni::broadcast_shapes("t", {}, {3}), (Shape{3}));
    EXPECT_EQ(omni::broadcast_shapes("t", {0, 1}, {1, 5}), (Shape{0, 5}));
    try {
        omni::broadcast_shapes("add", {2, 3}, {4, 3});
        FAIL() << "no throw";
    } catch (const omni::shape_error& e) {
        EXPECT_STREQ(e.what(), "shape_error: add: expected broadcastable shapes, got [2, 3] and [4, 3]");
        EXPECT_EQ(e.op(), "add");
    }
    EXPECT_EQ(omni::broadcast_strides({3, 1}, {1, 1}, {2, 3, 4}), (Shape{0, 1, 0}));
}

TEST(Shape, NormalizeAxis) {
    EXPECT_EQ(omni::normalize_axis("t", -1, 3), 2);
    EXPECT_EQ(omni::normalize_axis("t", 0, 3), 0);
    try {
        omni::normalize_axis("softmax", 3, 3);
        FAIL() << "no throw";
    } catch (const omni::value_error& e) {
        EXPECT_STREQ(e.what(), "value_error: softmax: expected axis in [-3, 3), got 3");
    }
    EXPECT_THROW(omni::normalize_axis("t", -4, 3), omni::value_error);
}

TEST(Errors, FamilyAndKinds) {
    const omni::index_error e("gather", "expected indices in [0, 3), got 5");
    const omni::error& base = e;
    EXPECT_STREQ(base.what(), "index_error: gather: expected indices in [0, 3), got 5");
    EXPECT_TRUE(dynamic_cast<const std::runtime_error*>(&base) != nullptr);
}

TEST(Dtype, SizesNamesAndDispatch) {
    EXPECT_EQ(omni::size_of(omni::dtype::bf16), 2u);
    EXPECT_STREQ(omni::name_of(omni::dtype::i64), "int64");
    const int bytes = omni::dispatch_float(omni::dtype::f64, "t", []<class T>() { return static_cast<int>(sizeof(T)); });
    EXPECT_EQ(bytes, 8);
    EXPECT_THROW(omni::dispatch_float(omni::dtype::i32, "t", []<class T>() { return 0; }), omni::dtype_error);
}

TEST(Dtype, Bf16RoundsToNearestEven) {
    EXPECT_EQ(static_cast<float>(omni::bf16(1.0f)), 1.0f);
    EXPECT_EQ(static_cast<float>(omni::bf16(-2.5f)), -2.5f);
    // 1 + 2^-8 is halfway between two bf16 values; ties go to the even mantissa (1.0).
    EXPECT_EQ(static_cast<float>(omni::bf16(1.0f + 1.0f / 256)), 1.0f);
    EXPECT_NEAR(static_cast<float>(omni::bf16(3.14159f)), 3.14159f, 0.01f);
    EXPECT_TRUE(std::isnan(static_cast<float>(omni::bf16(NAN))));
}

TEST(Philox, MatchesPublishedKnownAnswer) {
    // Random123's known-answer vector for philox4x32_10 with zero counter and key.
    const auto r = omni::philox4x32_10(0, 0, 0, 0, 0, 0);
    EXPECT_EQ(r.v[0], 0x6627e8d5u);
    EXPECT_EQ(r.v[1], 0xe169c58du);
    EXPECT_EQ(r.v[2], 0xbc57ac4cu);
    EXPECT_EQ(r.v[3], 0x9b00dbd8u);
}

TEST(Philox, StreamsAreReproducibleAndDistinct) {
    EXPECT_EQ(omni::philox_uniform(7, 0, 123), omni::philox_uniform(7, 0, 123));
    EXPECT_NE(omni::philox_uniform(7, 0, 123), omni::philox_uniform(8, 0, 123));
    EXPECT_NE(omni::philox_uniform(7, 0, 123), omni::philox_uniform(7, 1, 123));
    omni::Generator a(5), b(5);
    EXPECT_EQ(a.normal(), b.normal());
    EXPECT_EQ(a.offset(), 1u);
}

TEST(Philox, NormalMomentsAreStandard) {
    const int n = 200000;
    double s = 0, ss = 0;
    for (int i = 0; i < n; ++i) {
        const double v = omni::philox_normal(42, 3, i);
        s += v;
        ss += v * v;
    }
    EXPECT_NEAR(s / n, 0.0, 0.01);
    EXPECT_NEAR(ss / n, 1.0, 0.01);
    std::set<double> u;
    for (int i = 0; i < 1000; ++i) u.insert(omni::philox_uniform(1, 0, i));
    EXPECT_GT(u.size(), 990u);
    EXPECT_GE(*u.begin(), 0.0);
    EXPECT_LT(*u.rbegin(), 1.0);
}

TEST(Threads, SetAndReject) {
    const int before = omni::num_threads();
    EXPECT_GE(before, 1);
    omni::set_num_threads(1);
    EXPECT_EQ(omni::num_threads(), 1);
    EXPECT_THROW(omni::set_num_threads(0), omni::value_error);
    omni::set_num_threads(before);
}

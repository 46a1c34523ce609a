// xtensor views without copies, both ways: an adaptor over a strided tensor's memory, and a
// tensor over an xtensor container's memory; writes on either side are seen by the other.
#include <gtest/gtest.h>

#include "omni/io/xtensor.hpp"

using D = omni::Tensor<omni::cpu>;

TEST(XtensorView, StridedViewsWriteThrough) {
    const D t = D::arange(12).view({3, 4});
    auto tr = omni::io::view_xtensor_strided<float>(t.transpose(0, 1));  // [4, 3], strides (1, 4)
    EXPECT_EQ(tr.shape()[0], 4u);
    EXPECT_EQ(tr(1, 2), 9.0f);
    tr(3, 0) = -1.0f;
    EXPECT_EQ(t.to_vector<float>()[3], -1.0f);
    auto stepped = omni::io::view_xtensor_strided<float>(t.slice(1, 0, 4, 2));  // columns 0 and 2
    EXPECT_EQ(stepped(2, 1), 10.0f);
    stepped(2, 1) = 42.0f;
    EXPECT_EQ(t.to_vector<float>()[10], 42.0f);
    xt::xarray<float> sum = tr + 1.0f;  // an ordinary xtensor expression over the view
    EXPECT_EQ(sum(1, 2), 10.0f);
    EXPECT_EQ(omni::io::view_xtensor_strided<float>(D::zeros({0, 3})).size(), 0u);
    EXPECT_THROW(omni::io::view_xtensor_strided<double>(t), omni::dtype_error);
}

TEST(XtensorView, TensorsBorrowXtensorContainers) {
    xt::xarray<double> a = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
    const D t = omni::io::borrow_xtensor(a);
    EXPECT_EQ(t.raw_data(), static_cast<void*>(a.data()));
    EXPECT_EQ(t.shape(), (omni::Shape{2, 3}));
    EXPECT_EQ(t.type(), omni::dtype::f64);
    t.select(0, 1).fill_(0.5);
    EXPECT_EQ(a(1, 2), 0.5);
    a(0, 0) = -3.0;
    EXPECT_EQ(t.to_vector<double>()[0], -3.0);
    xt::xtensor<std::int64_t, 2, xt::layout_type::column_major> c = {{1, 2}, {3, 4}};
    const D tc = omni::io::borrow_xtensor(c);  // column-major: strides (1, 2)
    EXPECT_EQ(tc.to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 2, 3, 4}));
    EXPECT_FALSE(tc.is_contiguous());
}

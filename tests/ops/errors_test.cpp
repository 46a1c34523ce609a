// Every error path: the right omni::error type, and a message naming the op and the shapes or
// values involved.
#include <gtest/gtest.h>

#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/ops/linear.hpp"

using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;

#define EXPECT_OMNI_ERROR(stmt, type, text)                                                    \
    do {                                                                                       \
        try {                                                                                  \
            stmt;                                                                              \
            ADD_FAILURE() << "no exception from " #stmt;                                       \
        } catch (const type& e) {                                                              \
            EXPECT_EQ(std::string(e.what()), std::string(text));                              \
        } catch (const std::exception& e) {                                                    \
            ADD_FAILURE() << "wrong exception type from " #stmt ": " << e.what();            \
        }                                                                                      \
    } while (0)

TEST(Errors, Elementwise) {
    EXPECT_OMNI_ERROR(omni::add(D::zeros({2, 3}), D::zeros({4})), omni::shape_error,
                      "shape_error: add: expected broadcastable shapes, got [2, 3] and [4]");
    EXPECT_OMNI_ERROR(omni::mul(D::zeros({2}), D::zeros({2}, omni::dtype::f64)), omni::dtype_error,
                      "dtype_error: mul: expected operands of one dtype, got float32 and float64");
    EXPECT_OMNI_ERROR(omni::exp(D::zeros({2}, omni::dtype::i64)), omni::dtype_error,
                      "dtype_error: exp: expected float32 or float64, got int64");
    EXPECT_OMNI_ERROR(omni::where(D::zeros({2}), D::zeros({2}), D::zeros({2})), omni::dtype_error,
                      "dtype_error: where: expected bool, got float32");
    EXPECT_OMNI_ERROR(omni::masked_fill(D::zeros({3}), D::zeros({2, 3}, omni::dtype::b8), 0.0), omni::shape_error,
                      "shape_error: masked_fill: expected a mask broadcastable to [3], got [2, 3]");
}

TEST(Errors, Reductions) {
    EXPECT_OMNI_ERROR(omni::sum(D::zeros({2, 3}), {2}), omni::value_error, "value_error: sum: expected axis in [-2, 2), got 2");
    EXPECT_OMNI_ERROR(omni::sum(D::zeros({2, 3}), {1, -1}), omni::value_error, "value_error: sum: expected each axis once, got axis 1 twice");
    EXPECT_OMNI_ERROR(omni::max(D::zeros({0, 3}), {0}), omni::shape_error,
                      "shape_error: max: expected a non-empty reduction, got shape [0, 3]");
    EXPECT_OMNI_ERROR(omni::mean(D::zeros({0})), omni::shape_error, "shape_error: mean: expected a non-empty reduction, got shape [0]");
}

TEST(Errors, Matmul) {
    EXPECT_OMNI_ERROR(omni::matmul(D::zeros({2, 3}), D::zeros({4, 5})), omni::shape_error,
                      "shape_error: matmul: expected [..., M, K] x [..., K, N], got [2, 3] x [4, 5]");
    EXPECT_OMNI_ERROR(omni::matmul(D::zeros({3}), D::zeros({3, 5})), omni::shape_error,
                      "shape_error: matmul: expected operands with at least 2 dims, got [3] and [3, 5]");
    EXPECT_OMNI_ERROR(omni::matmul(D::zeros({2, 2, 3}), D::zeros({3, 3, 5})), omni::shape_error,
                      "shape_error: matmul: expected broadcastable shapes, got [2] and [3]");
    EXPECT_OMNI_ERROR(omni::matmul(D::zeros({2, 3}), D::zeros({2, 3}), true, true), omni::shape_error,
                      "shape_error: matmul: expected [..., M, K] x [..., K, N], got [3, 2] x [3, 2] (after transposes)");
    EXPECT_OMNI_ERROR(omni::addmm(D::zeros({4}), D::zeros({2, 3}), D::zeros({3, 5})), omni::shape_error,
                      "shape_error: addmm: expected a bias of shape [5], got [4]");
    EXPECT_OMNI_ERROR(omni::addmm(D::zeros({5}, omni::dtype::f64), D::zeros({2, 3}), D::zeros({3, 5})), omni::dtype_error,
                      "dtype_error: addmm: expected a bias of dtype float32, got float64");
    EXPECT_OMNI_ERROR(omni::addmm_residual(D::zeros({2, 4}), D::zeros({5}), D::zeros({2, 3}), D::zeros({3, 5})), omni::shape_error,
                      "shape_error: addmm_residual: expected a residual of the product's shape [2, 5], got [2, 4]");
    EXPECT_OMNI_ERROR(omni::linear(D::zeros({2, 3}), D::zeros({5, 3}), D::zeros({5}), D::zeros({5})), omni::shape_error,
                      "shape_error: linear: expected a residual of shape [2, 5], got [5]");
    EXPECT_OMNI_ERROR(omni::linear(D::zeros({4, 3}), D::zeros({5, 2})), omni::shape_error,
                      "shape_error: linear: expected x [..., 2] and weight [out, in], got x [4, 3] and weight [5, 2]");
}

TEST(Errors, NormalisationAndSoftmax) {
    EXPECT_OMNI_ERROR(omni::softmax(D::zeros({2, 3}), 5), omni::value_error, "value_error: softmax: expected axis in [-2, 2), got 5");
    EXPECT_OMNI_ERROR(omni::softmax(D::scalar(1.0)), omni::shape_error, "shape_error: softmax: expected at least 1 dim, got a scalar");
    EXPECT_OMNI_ERROR(omni::layer_norm(D::zeros({2, 8}), D::zeros({4})), omni::shape_error,
                      "shape_error: layer_norm: expected weight and bias of shape [8], got [4] for input [2, 8]");
    EXPECT_OMNI_ERROR(omni::layer_norm(D::zeros({2, 8}), D(), D(), 0.0), omni::value_error,
                      "value_error: layer_norm: expected eps > 0, got 0.000000");
    EXPECT_OMNI_ERROR(omni::l2_normalize(D::zeros({2, 8}), -1, -1.0), omni::value_error,
                      "value_error: l2_normalize: expected eps > 0, got -1.000000");
}

TEST(Errors, Indexing) {
    const D x = D::zeros({3, 4});
    EXPECT_OMNI_ERROR(omni::index_select(x, 0, D::from_data<std::int64_t>({0, 3}, {2})), omni::index_error,
                      "index_error: index_select: expected indices in [0, 3) on axis 0, got 3");
    EXPECT_OMNI_ERROR(omni::index_select(x, 1, D::from_data<std::int64_t>({-1}, {1})), omni::index_error,
                      "index_error: index_select: expected indices in [0, 4) on axis 1, got -1");
    EXPECT_OMNI_ERROR(omni::index_select(x, 0, D::zeros({2})), omni::dtype_error,
                      "dtype_error: index_select: expected int32 or int64 indices, got float32");
    EXPECT_OMNI_ERROR(omni::embedding(x, D::from_data<std::int64_t>({7}, {1})), omni::index_error,
                      "index_error: embedding: expected token ids in [0, 3) for a table [3, 4], got an id outside it");
    EXPECT_OMNI_ERROR(omni::embedding(D::zeros({3}), D::from_data<std::int64_t>({0}, {1})), omni::shape_error,
                      "shape_error: embedding: expected a [V, D] table, got [3]");
    EXPECT_OMNI_ERROR(omni::gather(x, 1, D::from_data<std::int64_t>({0, 4, 0}, {3, 1})), omni::index_error,
                      "index_error: gather: expected indices in [0, 4) on axis 1, got 4");
    EXPECT_OMNI_ERROR(omni::gather(x, 1, D::from_data<std::int64_t>({0, 1}, {2, 1})), omni::shape_error,
                      "shape_error: gather: expected indices matching [3, 4] except on axis 1, got [2, 1]");
}

TEST(Errors, AdjointsCheckIndicesToo) {
    EXPECT_OMNI_ERROR(omni::index_add({3, 2}, 0, D::from_data<std::int64_t>({3}, {1}), D::ones({1, 2})), omni::index_error,
                      "index_error: index_add: expected indices in [0, 3), got 3");
    EXPECT_OMNI_ERROR(omni::scatter_add({2, 3}, 1, D::from_data<std::int64_t>({0, -1}, {2, 1}), D::ones({2, 1})), omni::index_error,
                      "index_error: scatter_add: expected indices in [0, 3), got -1");
}

TEST(Errors, Joins) {
    EXPECT_OMNI_ERROR(omni::concat<omni::cpu>({D::zeros({2, 3}), D::zeros({3, 3})}, 1), omni::shape_error,
                      "shape_error: concat: expected part 1 to match [2, 3] (float32) except on axis 1, got [3, 3] (float32)");
    EXPECT_OMNI_ERROR(omni::concat<omni::cpu>({}, 0), omni::value_error, "value_error: concat: expected at least one tensor, got none");
    EXPECT_OMNI_ERROR(omni::stack<D>({D::zeros({2}), D::zeros({3})}, 0), omni::shape_error,
                      "shape_error: stack: expected every part of shape [2], got [3] at part 1");
    EXPECT_OMNI_ERROR(omni::split(D::zeros({5}), {2, 2}, 0), omni::shape_error,
                      "shape_error: split: expected sizes adding up to 5 (axis 0 of [5]), got 4");
    EXPECT_OMNI_ERROR(omni::chunk(D::zeros({5}), 2, 0), omni::shape_error,
                      "shape_error: chunk: expected a chunk count dividing 5 (axis 0 of [5]), got 2");
}

TEST(Errors, ViewsNameTheirShapes) {
    const D x = D::zeros({2, 3});
    EXPECT_OMNI_ERROR(x.view({4, 2}), omni::shape_error, "shape_error: view: expected a shape with 6 elements (from [2, 3]), got [4, 2]");
    EXPECT_OMNI_ERROR(x.view({-1, -1}), omni::shape_error, "shape_error: view: expected at most one -1 extent, got [-1, -1]");
    EXPECT_OMNI_ERROR(x.transpose(0, 1).view({6}), omni::shape_error,
                      "shape_error: view: expected a contiguous tensor to view as [6], got strides [1, 3] for shape [3, 2] (use reshape)");
    EXPECT_OMNI_ERROR(x.expand({3, 3}), omni::shape_error, "shape_error: expand: expected a shape broadcastable from [2, 3], got [3, 3]");
    EXPECT_OMNI_ERROR(x.select(1, 3), omni::index_error, "index_error: select: expected index in [-3, 3) on axis 1 of [2, 3], got 3");
}

TEST(Errors, TapedOpsThrowTheSameErrors) {
    const V a(D::zeros({2, 3}), true);
    EXPECT_OMNI_ERROR(omni::matmul(a, a), omni::shape_error, "shape_error: matmul: expected [..., M, K] x [..., K, N], got [2, 3] x [2, 3]");
    EXPECT_OMNI_ERROR(a.view({5}), omni::shape_error, "shape_error: view: expected a shape with 6 elements (from [2, 3]), got [5]");
}

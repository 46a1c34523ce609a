#pragma once
// The CUDA specialisation of every kernel family, with member declarations only and no CUDA
// header, so g++ translation units can call them. The member definitions are in the .cuh files
// beside this one; they reach a program either through a user's nvcc translation unit
// (omni/backend/cuda.hpp) or through the prebuilt omni::cuda library. The contracts of each
// member are the comments on the primary templates in backend/<family>.hpp.
#include <optional>

#include "omni/backend/attention.hpp"
#include "omni/backend/elementwise.hpp"
#include "omni/backend/index.hpp"
#include "omni/backend/layer_norm.hpp"
#include "omni/backend/matmul.hpp"
#include "omni/backend/normalize.hpp"
#include "omni/backend/optim_step.hpp"
#include "omni/backend/reduce.hpp"
#include "omni/backend/rotary.hpp"
#include "omni/backend/rms_norm.hpp"
#include "omni/backend/softmax.hpp"
#include "omni/policy/cuda.hpp"

namespace omni {

/// CUDA kernels of the elementwise family (defined in backend/cuda/elementwise.cuh); contracts on the primary template in backend/elementwise.hpp.
template <> struct elementwise_kernels<cuda> {
    static void unary(unary_op op, const KernelView& x, const KernelView& out);
    static void unary_backward(unary_op op, const KernelView& x, const KernelView& y, const KernelView& g, const KernelView& gx);
    static void binary(binary_op op, const KernelView& a, const KernelView& b, const KernelView& out);
    static void scalar(scalar_op op, const KernelView& x, double s, const KernelView& out);
    static void compare(compare_op op, const KernelView& a, const KernelView& b, const KernelView& out);
    static void where(const KernelView& c, const KernelView& a, const KernelView& b, const KernelView& out);
};

/// CUDA kernels of the reduce family (defined in backend/cuda/reduce.cuh); contracts on the primary template in backend/reduce.hpp.
template <> struct reduce_kernels<cuda> {
    static void reduce_rows(reduce_op op, const KernelView& x, const KernelView& out);
};

/// CUDA kernels of the matmul family (defined in backend/cuda/matmul.cuh); contracts on the primary template in backend/matmul.hpp.
template <> struct matmul_kernels<cuda> {
    static void gemm(const GemmArgs& g);
};

/// CUDA kernels of the softmax family (defined in backend/cuda/softmax.cuh); contracts on the primary template in backend/softmax.hpp.
template <> struct softmax_kernels<cuda> {
    static void forward(const KernelView& x, const KernelView& y, bool log);
    static void backward(const KernelView& y, const KernelView& g, const KernelView& gx, bool log);
};

/// CUDA kernels of the layer_norm family (defined in backend/cuda/layer_norm.cuh); contracts on the primary template in backend/layer_norm.hpp.
template <> struct layer_norm_kernels<cuda> {
    static void forward(const KernelView& x, const KernelView& w, const KernelView& b, double eps, const KernelView& y,
                        const KernelView& mean, const KernelView& rstd);
    static void backward(const KernelView& x, const KernelView& w, const KernelView& mean, const KernelView& rstd,
                         const KernelView& gy, const KernelView& gx, const KernelView& gw, const KernelView& gb);
};

/// CUDA kernels of the rms_norm family (defined in backend/cuda/rms_norm.cuh); contracts on the primary template in backend/rms_norm.hpp.
template <> struct rms_norm_kernels<cuda> {
    static void forward(const KernelView& x, const KernelView& w, double eps, const KernelView& y, const KernelView& rstd);
    static void backward(const KernelView& x, const KernelView& w, const KernelView& rstd, const KernelView& gy, const KernelView& gx,
                         const KernelView& gw);
};

/// CUDA kernels of the normalize family (defined in backend/cuda/normalize.cuh); contracts on the primary template in backend/normalize.hpp.
template <> struct normalize_kernels<cuda> {
    static void forward(const KernelView& x, double eps, const KernelView& y, const KernelView& norm);
    static void backward(const KernelView& y, const KernelView& norm, const KernelView& g, double eps, const KernelView& gx);
};

/// CUDA kernels of the optim family (defined in backend/cuda/optim_step.cuh); contracts on the primary template in backend/optim_step.hpp.
template <> struct optim_kernels<cuda> {
    static void adamw_step(const KernelView& param, const KernelView& grad, const KernelView& exp_avg, const KernelView& exp_avg_sq,
                           const AdamWStep& s);
    static void sgd_step(const KernelView& param, const KernelView& grad, const KernelView& momentum_buf, const SgdStep& s);
    static double sum_of_squares(const KernelView& x);
};

/// CUDA kernels of the attention family (defined in backend/cuda/attention.cuh); contracts on the primary template in backend/attention.hpp.
template <> struct attention_kernels<cuda> {
    static void forward(const AttentionArgs& a);
    static void backward(const AttentionArgs& a, const KernelView& dout, const KernelView& dq, const KernelView& dk, const KernelView& dv);
};

/// CUDA kernels of the index family (defined in backend/cuda/index.cuh); contracts on the primary template in backend/index.hpp.
template <> struct index_kernels<cuda> {
    static std::optional<std::int64_t> select(const KernelView& x, const KernelView& idx, const KernelView& out);
    static void select_add(const KernelView& out, const KernelView& idx, const KernelView& src);
    static std::optional<std::int64_t> gather(const KernelView& x, const KernelView& idx, const KernelView& out);
    static void scatter_add(const KernelView& out, const KernelView& idx, const KernelView& src);
};

/// CUDA kernels of the rotary family (defined in backend/cuda/rotary.cuh); contracts on the primary template in backend/rotary.hpp.
template <> struct rotary_kernels<cuda> {
    static void forward(const KernelView& x, const KernelView& cos, const KernelView& sin, std::int64_t inner, rotary_pairing pairing,
                        const KernelView& y);
    static void backward(const KernelView& g, const KernelView& cos, const KernelView& sin, std::int64_t inner, rotary_pairing pairing,
                         const KernelView& gx);
};

}  // namespace omni

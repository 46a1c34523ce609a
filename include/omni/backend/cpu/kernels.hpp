#pragma once
// The CPU specialisation of every kernel family, with member declarations only and no Eigen
// header, so a translation unit that calls the kernels does not compile them. The member
// definitions are in the family headers beside this one; they reach a program either inline
// through omni/backend/cpu.hpp (header-only, the default) or once, through the prebuilt
// omni::kernels library (OMNI_KERNELS_PREBUILT), as omni::cuda does for the CUDA kernels. The
// contracts of each member are the comments on the primary templates in backend/<family>.hpp.
#include <cstdint>
#include <optional>

#include "omni/backend/attention.hpp"
#include "omni/backend/elementwise.hpp"
#include "omni/backend/index.hpp"
#include "omni/backend/layer_norm.hpp"
#include "omni/backend/matmul.hpp"
#include "omni/backend/normalize.hpp"
#include "omni/backend/optim_step.hpp"
#include "omni/backend/reduce.hpp"
#include "omni/backend/rms_norm.hpp"
#include "omni/backend/rotary.hpp"
#include "omni/backend/softmax.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/policy/cpu_linkage.hpp"  // OMNI_KERNELS_INLINE marks every member definition

namespace omni {

/// CPU kernels of the elementwise family (defined in backend/cpu/); contracts on the primary template in backend/elementwise.hpp.
template <> struct elementwise_kernels<cpu> {
    static void unary(unary_op op, const KernelView& x, const KernelView& out);
    static void unary_backward(unary_op op, const KernelView& x, const KernelView& y, const KernelView& g, const KernelView& gx);
    static void binary(binary_op op, const KernelView& a, const KernelView& b, const KernelView& out);
    static void scalar(scalar_op op, const KernelView& x, double s, const KernelView& out);
    static void compare(compare_op op, const KernelView& a, const KernelView& b, const KernelView& out);
    static void where(const KernelView& c, const KernelView& a, const KernelView& b, const KernelView& out);
};

/// CPU kernels of the reduce family (defined in backend/cpu/); contracts on the primary template in backend/reduce.hpp.
template <> struct reduce_kernels<cpu> {
    static void reduce_rows(reduce_op op, const KernelView& x, const KernelView& out);
    // CPU only (backend/reduce.hpp calls it where a policy has it): out[j] = sum_i x[i, j].
    static void sum_cols(const KernelView& x, const KernelView& out);
};

/// CPU kernels of the matmul family (defined in backend/cpu/); contracts on the primary template in backend/matmul.hpp.
template <> struct matmul_kernels<cpu> {
    static void gemm(const GemmArgs& g);
};

/// CPU kernels of the softmax family (defined in backend/cpu/); contracts on the primary template in backend/softmax.hpp.
template <> struct softmax_kernels<cpu> {
    static void forward(const KernelView& x, const KernelView& y, bool log);
    static void backward(const KernelView& y, const KernelView& g, const KernelView& gx, bool log);
};

/// CPU kernels of the layer_norm family (defined in backend/cpu/); contracts on the primary template in backend/layer_norm.hpp.
template <> struct layer_norm_kernels<cpu> {
    static void forward(const KernelView& x, const KernelView& w, const KernelView& b, double eps, const KernelView& y,
                        const KernelView& mean, const KernelView& rstd);
    static void backward(const KernelView& x, const KernelView& w, const KernelView& mean, const KernelView& rstd,
                         const KernelView& gy, const KernelView& gx, const KernelView& gw, const KernelView& gb);
};

/// CPU kernels of the rms_norm family (defined in backend/cpu/); contracts on the primary template in backend/rms_norm.hpp.
template <> struct rms_norm_kernels<cpu> {
    static void forward(const KernelView& x, const KernelView& w, double eps, const KernelView& y, const KernelView& rstd);
    static void backward(const KernelView& x, const KernelView& w, const KernelView& rstd, const KernelView& gy, const KernelView& gx,
                         const KernelView& gw);
};

/// CPU kernels of the normalize family (defined in backend/cpu/); contracts on the primary template in backend/normalize.hpp.
template <> struct normalize_kernels<cpu> {
    static void forward(const KernelView& x, double eps, const KernelView& y, const KernelView& norm);
    static void backward(const KernelView& y, const KernelView& norm, const KernelView& g, double eps, const KernelView& gx);
};

/// CPU kernels of the optim family (defined in backend/cpu/); contracts on the primary template in backend/optim_step.hpp.
template <> struct optim_kernels<cpu> {
    static void adamw_step(const KernelView& param, const KernelView& grad, const KernelView& exp_avg, const KernelView& exp_avg_sq,
                           const AdamWStep& s);
    static void sgd_step(const KernelView& param, const KernelView& grad, const KernelView& momentum_buf, const SgdStep& s);
    static double sum_of_squares(const KernelView& x);
};

/// CPU kernels of the attention family (defined in backend/cpu/); contracts on the primary template in backend/attention.hpp.
template <> struct attention_kernels<cpu> {
    static void forward(const AttentionArgs& a);
    static void backward(const AttentionArgs& a, const KernelView& dout, const KernelView& dq, const KernelView& dk, const KernelView& dv);
};

/// CPU kernels of the index family (defined in backend/cpu/); contracts on the primary template in backend/index.hpp.
template <> struct index_kernels<cpu> {
    static std::optional<std::int64_t> select(const KernelView& x, const KernelView& idx, const KernelView& out);
    static void select_add(const KernelView& out, const KernelView& idx, const KernelView& src);
    static std::optional<std::int64_t> gather(const KernelView& x, const KernelView& idx, const KernelView& out);
    static void scatter_add(const KernelView& out, const KernelView& idx, const KernelView& src);
};

/// CPU kernels of the rotary family (defined in backend/cpu/); contracts on the primary template in backend/rotary.hpp.
template <> struct rotary_kernels<cpu> {
    static void forward(const KernelView& x, const KernelView& cos, const KernelView& sin, std::int64_t inner, rotary_pairing pairing,
                        const KernelView& y);
    static void backward(const KernelView& g, const KernelView& cos, const KernelView& sin, std::int64_t inner, rotary_pairing pairing,
                         const KernelView& gx);
};

}  // namespace omni

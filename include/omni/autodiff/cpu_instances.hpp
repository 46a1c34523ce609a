#pragma once
// The op instantiations every Omni-C-style model uses on the CPU, taped (P = cpu under
// autodiff) and untaped, compiled once in omni::kernels (src/kernels/omni_library.cpp). A
// translation unit that links omni::kernels (OMNI_KERNELS_PREBUILT) declares them `extern
// template` here, so it does not compile their bodies again; any op or policy not listed is
// instantiated where it is used, as any template. The list is the ops the Omni-C preset's
// forward and backward reach (train/omni_c_preset.hpp); a signature change of a listed op shows
// up as a compile error in this list.
// Included at the end of autodiff/all.hpp, after every op it names.
#include "omni/autodiff/device.hpp"
#include "omni/backend/join.hpp"
#include "omni/policy/cpu.hpp"

// One list, read twice: `extern template` by users, explicit instantiation definitions by the library.
#define OMNI_CPU_OP_INSTANCES(prefix) \
    prefix omni::Tensor<omni::cpu> omni::addmm<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, bool, bool); \
    prefix omni::Var<omni::cpu> omni::addmm<omni::cpu>(const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, bool, bool); \
    prefix omni::Tensor<omni::cpu> omni::addmm_residual<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, bool, bool); \
    prefix omni::Var<omni::cpu> omni::addmm_residual<omni::cpu>(const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, bool, bool); \
    prefix omni::Var<omni::cpu> omni::attention<omni::cpu>(const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, bool, double, std::int64_t); \
    prefix std::tuple<omni::Tensor<omni::cpu>, omni::Tensor<omni::cpu>, omni::Tensor<omni::cpu>> omni::attention_backward<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, bool, double, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, omni::Tensor<omni::cpu>, omni::Tensor<omni::cpu>, omni::Tensor<omni::cpu>, std::int64_t); \
    prefix omni::AttentionResult<omni::cpu> omni::attention_forward<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, bool, double, std::int64_t); \
    prefix omni::Tensor<omni::cpu> omni::binary<omni::cpu>(omni::binary_op, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&); \
    prefix omni::Var<omni::cpu> omni::binary<omni::cpu>(omni::binary_op, const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&); \
    prefix omni::Tensor<omni::cpu> omni::compare<omni::cpu>(omni::compare_op, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&); \
    prefix omni::Tensor<omni::cpu> omni::concat<omni::cpu>(const std::vector<omni::Tensor<omni::cpu>>&, std::int64_t); \
    prefix omni::Var<omni::cpu> omni::concat<omni::cpu>(const std::vector<omni::Var<omni::cpu>>&, std::int64_t); \
    prefix omni::Tensor<omni::cpu> omni::embedding<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&); \
    prefix omni::Tensor<omni::cpu> omni::index_add<omni::cpu>(const omni::Shape&, std::int64_t, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&); \
    prefix omni::Tensor<omni::cpu> omni::index_select<omni::cpu>(const omni::Tensor<omni::cpu>&, std::int64_t, const omni::Tensor<omni::cpu>&); \
    prefix omni::Var<omni::cpu> omni::index_select<omni::cpu>(const omni::Var<omni::cpu>&, std::int64_t, const omni::Var<omni::cpu>&); \
    prefix omni::Tensor<omni::cpu> omni::l2_normalize<omni::cpu>(const omni::Tensor<omni::cpu>&, std::int64_t, double); \
    prefix omni::Var<omni::cpu> omni::layer_norm<omni::cpu>(const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, double); \
    prefix std::tuple<omni::Tensor<omni::cpu>, omni::Tensor<omni::cpu>, omni::Tensor<omni::cpu>> omni::layer_norm_backward<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, bool, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&); \
    prefix omni::LayerNormResult<omni::cpu> omni::layer_norm_forward<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, double); \
    prefix omni::Var<omni::cpu> omni::make_buffer<omni::autodiff<omni::cpu>>(omni::Tensor<omni::cpu>); \
    prefix omni::Tensor<omni::cpu> omni::matmul<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, bool, bool); \
    prefix omni::Var<omni::cpu> omni::matmul<omni::cpu>(const omni::Var<omni::cpu>&, const omni::Var<omni::cpu>&, bool, bool); \
    prefix omni::Tensor<omni::cpu> omni::mean<omni::cpu>(const omni::Tensor<omni::cpu>&, std::vector<std::int64_t>, bool); \
    prefix omni::Var<omni::cpu> omni::qkv_attention<omni::cpu>(const omni::Var<omni::cpu>&, std::int64_t, const omni::Var<omni::cpu>&, bool); \
    prefix omni::Tensor<omni::cpu> omni::reduce<omni::cpu>(omni::reduce_op, const char*, const omni::Tensor<omni::cpu>&, std::vector<std::int64_t>, bool); \
    prefix omni::Tensor<omni::cpu> omni::scalar<omni::cpu>(omni::scalar_op, const omni::Tensor<omni::cpu>&, double); \
    prefix std::vector<omni::Tensor<omni::cpu>> omni::split<omni::cpu>(const omni::Tensor<omni::cpu>&, const std::vector<std::int64_t>&, std::int64_t); \
    prefix std::tuple<omni::Tensor<omni::cpu>, omni::Tensor<omni::cpu>, omni::Tensor<omni::cpu>> omni::split_qkv<omni::Tensor<omni::cpu>>(const omni::Tensor<omni::cpu>&, std::int64_t); \
    prefix omni::Tensor<omni::cpu> omni::stack<omni::Tensor<omni::cpu>>(const std::vector<omni::Tensor<omni::cpu>>&, std::int64_t); \
    prefix omni::Tensor<omni::cpu> omni::sum_to<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Shape&); \
    prefix omni::Tensor<omni::cpu> omni::unary<omni::cpu>(omni::unary_op, const omni::Tensor<omni::cpu>&); \
    prefix omni::Var<omni::cpu> omni::unary<omni::cpu>(omni::unary_op, const omni::Var<omni::cpu>&); \
    prefix omni::Tensor<omni::cpu> omni::unary_backward<omni::cpu>(omni::unary_op, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&); \
    prefix omni::Tensor<omni::cpu> omni::where<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&);

#if defined(OMNI_KERNELS_PREBUILT) && !defined(OMNI_LIBRARY_BUILDING)
OMNI_CPU_OP_INSTANCES(extern template)
#endif

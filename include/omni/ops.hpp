#pragma once
// The functional API (torch.nn.functional's place): every op a user calls on tensors, over any
// policy, untaped on Tensor<P> and taped on Tensor<autodiff<P>> (Var<P>), plus the CPU kernels
// they run on. Each op is a free function in namespace omni; its untaped form (shape checks,
// then a kernel family) is declared in backend/<family>.hpp, its taped overload beside its
// backward in autodiff/<family>.hpp, and the composites built from them in ops/. The families
// are listed one by one rather than through autodiff/all.hpp, so this list is the API's table
// of contents (the functional-API table in the docs follows it).
//
// CUDA: a .cu translation unit adds omni/backend/cuda.hpp; a g++ one links omni::cuda. Losses
// (cross_entropy, nt_xent, ...) sit above nn in omni::loss (omni/loss/<name>.hpp), modules in
// omni/nn.hpp.

// The CPU policy and kernels (declarations only when linking omni::kernels), first: the
// compiled mode's extern template list (autodiff/cpu_instances.hpp) names omni::cpu.
#include "omni/backend/cpu.hpp"

// Untaped ops on Tensor<P>, one header per kernel family.
#include "omni/backend/attention.hpp"    // attention, qkv_attention, split_qkv
#include "omni/backend/elementwise.hpp"  // unary (exp .. gelu), binary, scalar, compare, where, masked_fill, operators
#include "omni/backend/index.hpp"        // index_select, embedding, gather, index_add, scatter_add
#include "omni/backend/join.hpp"         // concat, stack, split, chunk
#include "omni/backend/layer_norm.hpp"   // layer_norm
#include "omni/backend/matmul.hpp"       // matmul, addmm, addmm_residual
#include "omni/backend/normalize.hpp"    // l2_normalize
#include "omni/backend/reduce.hpp"       // sum, mean, max, logsumexp, sum_to
#include "omni/backend/rms_norm.hpp"     // rms_norm
#include "omni/backend/rotary.hpp"       // rotary
#include "omni/backend/softmax.hpp"      // softmax, log_softmax

// Their taped overloads on Var<P>, the tape itself (no_grad, detach, backward) and gradcheck.
#include "omni/autodiff/attention.hpp"
#include "omni/autodiff/device.hpp"  // device_of_t, value_of, make_param: code generic over taped and untaped
#include "omni/autodiff/elementwise.hpp"
#include "omni/autodiff/gradcheck.hpp"
#include "omni/autodiff/index.hpp"
#include "omni/autodiff/matmul.hpp"
#include "omni/autodiff/normalization.hpp"
#include "omni/autodiff/reduce.hpp"
#include "omni/autodiff/rms_norm.hpp"
#include "omni/autodiff/rotary.hpp"

// Composites, differentiable on every policy through the ops they are built from.
#include "omni/ops/conv1d.hpp"
#include "omni/ops/linear.hpp"

#pragma once
// Every CPU kernel family: include this to run omni::Tensor<omni::cpu> math.
//
// Two ways to use it:
//  * header-only (the default): the kernel bodies are compiled, inline, into every translation
//    unit that includes this header;
//  * compiled: link the omni::kernels target, which defines OMNI_KERNELS_PREBUILT, and this
//    header gives only the declarations (backend/cpu/kernels.hpp); the bodies are compiled once,
//    into the library (src/kernels/omni_kernels.cpp). Code that uses the AMX GEMM directly
//    (amx::available) includes omni/backend/cpu/amx_gemm.hpp itself.
// In both modes this header also gives the CPU's matmul precision knob and parallel_for.
#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/join.hpp"
#include "omni/core/matmul_precision.hpp"
#include "omni/policy/cpu_linkage.hpp"
#include "omni/policy/kernel_families.hpp"

#if OMNI_KERNELS_DEFINE
#include "omni/backend/cpu/attention.hpp"
#include "omni/backend/cpu/elementwise.hpp"
#include "omni/backend/cpu/index.hpp"
#include "omni/backend/cpu/layer_norm.hpp"
#include "omni/backend/cpu/matmul.hpp"
#include "omni/backend/cpu/normalize.hpp"
#include "omni/backend/cpu/optim_step.hpp"
#include "omni/backend/cpu/reduce.hpp"
#include "omni/backend/cpu/rotary.hpp"
#include "omni/backend/cpu/rms_norm.hpp"
#include "omni/backend/cpu/softmax.hpp"
#endif

static_assert(omni::kernel_policy<omni::cpu>, "omni::cpu must specialise every kernel family of policy/kernel_families.hpp");

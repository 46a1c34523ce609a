#pragma once
// Every CUDA kernel family: include this to run omni::Tensor<omni::cuda> math.
//
// Two ways to use it:
//  * header-only, from a .cu file compiled by nvcc: the kernels are compiled into that
//    translation unit (flags: -std=c++20 --expt-relaxed-constexpr; link CUDA::cudart, CUDA::cublas);
//  * prebuilt, from g++: link the omni::cuda target, which defines OMNI_CUDA_PREBUILT, and this
//    header gives only the declarations (policy/cuda.hpp, backend/cuda/kernels.hpp).
#include "omni/backend/cuda/kernels.hpp"
#include "omni/backend/join.hpp"

#if defined(OMNI_CUDA_PREBUILT) && !defined(OMNI_CUDA_BUILDING_LIBRARY)
// Definitions come from the omni::cuda library.
#elif defined(__CUDACC__)
#include "omni/backend/cuda/attention.cuh"
#include "omni/backend/cuda/elementwise.cuh"
#include "omni/backend/cuda/index.cuh"
#include "omni/backend/cuda/layer_norm.cuh"
#include "omni/backend/cuda/matmul.cuh"
#include "omni/backend/cuda/memory.cuh"
#include "omni/backend/cuda/normalize.cuh"
#include "omni/backend/cuda/optim_step.cuh"
#include "omni/backend/cuda/reduce.cuh"
#include "omni/backend/cuda/rotary.cuh"
#include "omni/backend/cuda/rms_norm.cuh"
#include "omni/backend/cuda/softmax.cuh"
#else
#error "omni/backend/cuda.hpp: the CUDA kernels need nvcc. Include this header from a .cu file, or link the prebuilt omni::cuda target (it defines OMNI_CUDA_PREBUILT) to call them from g++."
#endif

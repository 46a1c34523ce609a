// The prebuilt omni::cuda library: every CUDA kernel family and the cuda policy's memory
// primitives, emitted once as ordinary (non-inline) symbols so that g++ translation units that
// include omni/backend/cuda.hpp with OMNI_CUDA_PREBUILT can link against them.
#define OMNI_CUDA_BUILDING_LIBRARY

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

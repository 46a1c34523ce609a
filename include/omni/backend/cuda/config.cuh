#pragma once
// Linkage of the CUDA backend's non-template definitions. Included into a user's .cu file they are
// inline, so any number of nvcc translation units may hold them (header-only use). The prebuilt
// library (src/cuda/omni_cuda.cu) defines OMNI_CUDA_BUILDING_LIBRARY and emits each one exactly
// once as an ordinary symbol, which g++ translation units link against.
#if !defined(__CUDACC__)
#error "omni/backend/cuda/*.cuh must be compiled by nvcc; from g++, link omni::cuda and include omni/backend/cuda.hpp"
#endif

#if defined(OMNI_CUDA_BUILDING_LIBRARY)
#define OMNI_CUDA_INLINE
#else
#define OMNI_CUDA_INLINE inline
#endif

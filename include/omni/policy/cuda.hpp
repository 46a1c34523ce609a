#pragma once
// The CUDA device policy: device memory on the current device and strided copies between device
// buffers. Only declarations live here, so a g++ translation unit can name Tensor<omni::cuda>;
// the definitions are in backend/cuda/memory.cuh, compiled either into the user's nvcc
// translation unit (include omni/backend/cuda.hpp from a .cu file) or into the prebuilt
// omni::cuda library.
//
// Every call is ordered on the legacy default stream, so work issued from any host thread runs
// in issue order and host copies see the results of earlier kernels without extra syncs.
#include <cstddef>

#include "omni/core/dtype.hpp"
#include "omni/core/shape.hpp"
#include "omni/policy/concept.hpp"

namespace omni {

/// The CUDA device policy: device memory and strided copies, declared here and defined in backend/cuda/memory.cuh.
struct cuda {
    static constexpr const char* name = "cuda";

    // Stream-ordered device memory; throws device_error when the device is missing or full.
    static void* allocate(std::size_t bytes);
    // Never throws: tensors are freed from destructors, also after the driver has shut down.
    static void deallocate(void* p, std::size_t bytes) noexcept;
    static void copy_from_host(void* dst, const void* src, std::size_t bytes);
    static void copy_to_host(void* dst, const void* src, std::size_t bytes);
    static void copy_strided(const Shape& shape, void* dst, dtype dt, const Strides& dst_st, const void* src, dtype st,
                             const Strides& src_st);
    static void fill(dtype dt, void* dst, const Shape& shape, const Strides& st, double value);

    // True when a CUDA device can be used; false (never an exception) without a driver or device.
    static bool available() noexcept;
    // Waits for all issued device work; a kernel failure surfaces here as a device_error.
    static void synchronize();
};

static_assert(device_policy<cuda>, "omni::cuda must provide the memory primitives of policy/concept.hpp");

}  // namespace omni

#pragma once
// DLPack: zero-copy exchange of CPU tensors with PyTorch, NumPy, JAX and any other framework that
// speaks it. to_dlpack hands omni memory out; from_dlpack wraps foreign memory as a Tensor<cpu>.
// Neither copies: both sides see each other's writes.
//
// ref: the DLPack specification, dlpack.h version 0.6 (DLPACK_VERSION 60; what torch 1.13's
// torch.utils.dlpack and NumPy 1.22+ exchange), github.com/dmlc/dlpack and
// dmlc.github.io/dlpack/latest. The ABI structs below are written from it; their layout is the C
// layout of that header, so a pointer from a "dltensor" PyCapsule can be passed straight in.
// Bool is kDLBool (code 6) from DLPack 0.8 on; 0.6 producers (torch 1.13) export bool as
// kDLUInt with 8 bits, which omni cannot tell from uint8 and refuses (omni has no uint8 dtype).
//
// What is supported: CPU memory only (kDLCPU; any other device is a device_error), lanes 1,
// dtypes float32/64, float16, bfloat16, int32/64 and bool (kDLBool); any non-negative strides
// (strided views import as strided tensors, no copy) and NULL strides (compact row-major).
#include <cstdint>
#include <memory>
#include <string>

#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

extern "C" {

// The DLPack 0.6 ABI. The names are the specification's, so C code sharing these structs reads
// the same. dlpack.h's own include guard: whichever of it and this header comes first defines
// the structs, so a translation unit may include both (torch's ATen/dlpack.h included).
#ifndef DLPACK_DLPACK_H_
#define DLPACK_DLPACK_H_
typedef enum {
    kDLCPU = 1,
    kDLCUDA = 2,
    kDLCUDAHost = 3,
    kDLOpenCL = 4,
    kDLVulkan = 7,
    kDLMetal = 8,
    kDLVPI = 9,
    kDLROCM = 10,
    kDLROCMHost = 11,
    kDLExtDev = 12,
    kDLCUDAManaged = 13,
    kDLOneAPI = 14,
} DLDeviceType;

/// DLPack: where a tensor lives (device type and ordinal).
typedef struct {
    DLDeviceType device_type;
    std::int32_t device_id;
} DLDevice;

typedef enum {
    kDLInt = 0U,
    kDLUInt = 1U,
    kDLFloat = 2U,
    kDLOpaqueHandle = 3U,
    kDLBfloat = 4U,
    kDLComplex = 5U,
} DLDataTypeCode;

/// DLPack: an element type (type code, bits, lanes).
typedef struct {
    std::uint8_t code;   // a DLDataTypeCode
    std::uint8_t bits;   // bits per lane
    std::uint16_t lanes;  // 1 for scalars
} DLDataType;

/// DLPack: a strided view (pointer, device, shape and strides in elements, byte offset) that owns nothing.
typedef struct {
    void* data;                // the allocation's pointer (for CPU: may point at the first element)
    DLDevice device;
    std::int32_t ndim;
    DLDataType dtype;
    std::int64_t* shape;       // ndim extents
    std::int64_t* strides;     // ndim strides in elements, or NULL for compact row-major
    std::uint64_t byte_offset;  // from data to the first element
} DLTensor;

/// DLPack: a DLTensor with its producer's context and the deleter the consumer calls exactly once.
typedef struct DLManagedTensor {
    DLTensor dl_tensor;
    void* manager_ctx;                          // the producer's; opaque to the consumer
    void (*deleter)(struct DLManagedTensor* self);  // the consumer calls it once, when done
} DLManagedTensor;
#endif

}  // extern "C"

namespace omni::io {

namespace detail {
inline constexpr std::uint8_t dl_bool_code = 6;  // kDLBool, DLPack 0.8 (absent from 0.6's enum)

inline DLDataType dl_dtype(dtype t) {
    switch (t) {
        case dtype::f32: return {kDLFloat, 32, 1};
        case dtype::f64: return {kDLFloat, 64, 1};
        case dtype::f16: return {kDLFloat, 16, 1};
        case dtype::bf16: return {kDLBfloat, 16, 1};
        case dtype::i32: return {kDLInt, 32, 1};
        case dtype::i64: return {kDLInt, 64, 1};
        case dtype::b8: return {dl_bool_code, 8, 1};
    }
    return {kDLOpaqueHandle, 0, 0};
}

inline dtype omni_dtype(const DLDataType& d) {
    const std::string got = "code " + std::to_string(d.code) + ", bits " + std::to_string(d.bits) + ", lanes " + std::to_string(d.lanes);
    if (d.lanes == 1) {
        if (d.code == kDLFloat && d.bits == 32) return dtype::f32;
        if (d.code == kDLFloat && d.bits == 64) return dtype::f64;
        if (d.code == kDLFloat && d.bits == 16) return dtype::f16;
        if (d.code == kDLBfloat && d.bits == 16) return dtype::bf16;
        if (d.code == kDLInt && d.bits == 32) return dtype::i32;
        if (d.code == kDLInt && d.bits == 64) return dtype::i64;
        if (d.code == dl_bool_code && d.bits == 8) return dtype::b8;
    }
    throw dtype_error("from_dlpack", "expected float32/64, float16, bfloat16, int32/64 or bool (kDLBool, 8 bits) with 1 lane, got " + got +
                                         (d.code == kDLUInt && d.bits == 8 ? " (uint8, or a DLPack 0.6 bool: omni has no uint8 dtype)" : ""));
}

// What an exported DLManagedTensor owns: the tensor (so its storage outlives every foreign view)
// and the shape and strides arrays DLTensor points at.
struct DLExport {
    Tensor<cpu> tensor;
    std::int64_t shape[max_dims], strides[max_dims];
    DLManagedTensor managed;
};

// Owns an imported DLManagedTensor: its destructor calls the producer's deleter, once, when the
// last omni view of the memory goes.
struct DLImport {
    DLManagedTensor* managed;
    explicit DLImport(DLManagedTensor* m) : managed(m) {}
    DLImport(const DLImport&) = delete;
    DLImport& operator=(const DLImport&) = delete;
    ~DLImport() {
        if (managed && managed->deleter) managed->deleter(managed);
    }
};
}  // namespace detail

// A DLManagedTensor viewing t's memory, for a framework to consume (wrapped in a PyCapsule named
// "dltensor" for Python). It holds a reference to t's storage until its deleter is called, so t
// itself may go first. t may be strided; its offset is folded into `data` (byte_offset 0).
inline DLManagedTensor* to_dlpack(const Tensor<cpu>& t) {
    if (!t.defined()) throw value_error("to_dlpack", "expected a defined tensor, got an empty handle");
    auto ctx = std::make_unique<detail::DLExport>();
    ctx->tensor = t;
    for (int i = 0; i < t.dim(); ++i) ctx->shape[i] = t.shape()[i], ctx->strides[i] = t.strides()[i];
    DLTensor& d = ctx->managed.dl_tensor;
    d.data = t.raw_data();
    d.device = {kDLCPU, 0};
    d.ndim = t.dim();
    d.dtype = detail::dl_dtype(t.type());
    d.shape = ctx->shape;
    d.strides = ctx->strides;
    d.byte_offset = 0;
    ctx->managed.manager_ctx = ctx.get();
    ctx->managed.deleter = [](DLManagedTensor* self) { delete static_cast<detail::DLExport*>(self->manager_ctx); };
    return &ctx.release()->managed;
}

// A Tensor<cpu> viewing a producer's DLManagedTensor (no copy). The tensor owns `m` from here on:
// m's deleter runs exactly once, when the last view of the returned tensor (and of every view
// made from it) goes; on error it runs before the throw, as the caller has handed m over.
inline Tensor<cpu> from_dlpack(DLManagedTensor* m) {
    if (!m) throw value_error("from_dlpack", "expected a DLManagedTensor, got a null pointer");
    auto owner = std::make_shared<detail::DLImport>(m);  // from here, every exit releases m once
    const DLTensor& d = m->dl_tensor;
    if (d.device.device_type != kDLCPU)
        throw device_error("from_dlpack", "expected a CPU tensor (kDLCPU = 1), got device type " + std::to_string(static_cast<int>(d.device.device_type)) +
                                              ", id " + std::to_string(d.device.device_id));
    const dtype t = detail::omni_dtype(d.dtype);
    if (d.ndim < 0 || d.ndim > max_dims)
        throw shape_error("from_dlpack", "expected 0 to " + std::to_string(max_dims) + " dimensions, got " + std::to_string(d.ndim));
    if (d.ndim > 0 && !d.shape) throw value_error("from_dlpack", "expected a shape array for " + std::to_string(d.ndim) + " dimensions, got NULL");
    Shape shape;
    for (int i = 0; i < d.ndim; ++i) shape.push_back(d.shape[i]);
    std::int64_t numel = 0;
    if (!extents_fit(shape, numel)) throw shape_error("from_dlpack", "expected extents >= 0 whose product fits in int64, got " + shape.str());
    const Strides strides = d.strides ? [&] {
        Strides s;
        for (int i = 0; i < d.ndim; ++i) s.push_back(d.strides[i]);
        return s;
    }() : contiguous_strides(shape);
    char* first = static_cast<char*>(d.data) + d.byte_offset;
    if (numel > 0 && !d.data) throw value_error("from_dlpack", "expected a data pointer for " + shape.str() + ", got NULL");
    if (reinterpret_cast<std::uintptr_t>(first) % size_of(t) != 0)
        throw value_error("from_dlpack", "expected the first element aligned to its " + std::to_string(size_of(t)) + " bytes, got address " +
                                             std::to_string(reinterpret_cast<std::uintptr_t>(first)));
    // The extent the strides reach, in bytes: borrow checks the view against it (negative strides refused).
    std::int64_t last = 0;
    for (int i = 0; i < d.ndim; ++i) {
        if (strides[i] < 0) throw shape_error("from_dlpack", "expected non-negative strides, got " + strides.str() + " for shape " + shape.str());
        std::int64_t reach = 0;
        if (shape[i] > 0 && (__builtin_mul_overflow(shape[i] - 1, strides[i], &reach) || __builtin_add_overflow(last, reach, &last)))
            throw shape_error("from_dlpack", "expected strides whose reach fits in int64, got " + strides.str() + " for shape " + shape.str());
    }
    if (last >= INT64_MAX / static_cast<std::int64_t>(size_of(t)))
        throw shape_error("from_dlpack", "expected strides whose reach in bytes fits in int64, got " + strides.str() + " for shape " + shape.str());
    const std::size_t bytes = numel ? static_cast<std::size_t>(last + 1) * size_of(t) : 0;
    return Tensor<cpu>::borrow(first, bytes, shape, strides, t, owner);
}

}  // namespace omni::io

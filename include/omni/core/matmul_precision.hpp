#pragma once
// How much precision float32 matrix products must keep (PyTorch's
// torch.set_float32_matmul_precision). A process-wide permission, read by the backends:
//   highest  every float32 GEMM multiplies in fp32 (the default)
//   bf16     a backend may round both operands of a float32 GEMM to bfloat16 (8 significant
//            bits) and accumulate in fp32 where the hardware multiplies bf16 much faster: on CPU,
//            Intel AMX tiles. Where there is no such unit the products stay fp32. Inputs, outputs
//            and every other op stay float32. For inference and mixed-precision training; keep
//            `highest` for gradient checks and parity tests.
//
//   omni::matmul_precision_guard bf16(omni::matmul_precision::bf16);  // this scope only
#include <atomic>

namespace omni {

enum class matmul_precision { highest, bf16 };

namespace detail {
inline std::atomic<matmul_precision>& matmul_precision_setting() {
    static std::atomic<matmul_precision> p{matmul_precision::highest};
    return p;
}
}  // namespace detail

inline matmul_precision float32_matmul_precision() { return detail::matmul_precision_setting().load(std::memory_order_relaxed); }
inline void set_float32_matmul_precision(matmul_precision p) { detail::matmul_precision_setting().store(p, std::memory_order_relaxed); }

/// Sets the precision for a scope and restores the previous one on exit.
class matmul_precision_guard {
public:
    explicit matmul_precision_guard(matmul_precision p) : prev_(float32_matmul_precision()) { set_float32_matmul_precision(p); }
    ~matmul_precision_guard() { set_float32_matmul_precision(prev_); }
    matmul_precision_guard(const matmul_precision_guard&) = delete;
    matmul_precision_guard& operator=(const matmul_precision_guard&) = delete;

private:
    matmul_precision prev_;
};

}  // namespace omni

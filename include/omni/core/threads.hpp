#pragma once
// Thread control for CPU kernels. The count is a process-wide setting read by every kernel; the
// CPU backend forwards it to OpenMP and to Eigen's GEMM.
#include <atomic>
#include <string>
#include <thread>

#include "omni/core/error.hpp"

namespace omni {

namespace detail {
inline std::atomic<int>& thread_setting() {
    static std::atomic<int> n{static_cast<int>(std::thread::hardware_concurrency() ? std::thread::hardware_concurrency() : 1)};
    return n;
}
}  // namespace detail

inline int num_threads() { return detail::thread_setting().load(std::memory_order_relaxed); }

inline void set_num_threads(int n) {
    if (n < 1) throw value_error("set_num_threads", "expected at least 1 thread, got " + std::to_string(n));
    detail::thread_setting().store(n, std::memory_order_relaxed);
}

}  // namespace omni

#pragma once
// The CPU device policy: 64-byte aligned host memory and strided copies. Kernels are the
// backend/cpu/ specialisations; this header only moves bytes. The strided copy and fill are
// compiled here (header-only) or in omni::kernels (compiled mode, policy/cpu_linkage.hpp).
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "omni/core/dtype.hpp"
#include "omni/core/strided_loop.hpp"
#include "omni/core/threads.hpp"
#include "omni/policy/concept.hpp"
#include "omni/policy/cpu_linkage.hpp"

namespace omni {

/// Bytes of tensor storage alive now and at most since the last reset: what benchmarks and
/// tests use to show a kernel's memory footprint (a relaxed atomic add per allocation).
struct MemoryStats {
    std::atomic<std::int64_t> current{0}, peak{0};
    void reset_peak() { peak.store(current.load()); }
};

/// The CPU device policy: 64-byte aligned host memory and strided copies; its kernels are the `*_kernels<cpu>` specialisations.
struct cpu {
    static constexpr const char* name = "cpu";
    static constexpr std::size_t alignment = 64;  // one cache line; AVX-512 loads stay aligned

    static MemoryStats& memory() {
        static MemoryStats stats;
        return stats;
    }
    static void* allocate(std::size_t bytes) {
        void* p = std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
        if (!p) throw std::bad_alloc();
        MemoryStats& m = memory();
        const std::int64_t now = m.current.fetch_add(static_cast<std::int64_t>(bytes), std::memory_order_relaxed) + static_cast<std::int64_t>(bytes);
        std::int64_t peak = m.peak.load(std::memory_order_relaxed);
        while (now > peak && !m.peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
        }
        return p;
    }
    static void deallocate(void* p, std::size_t bytes) noexcept {
        memory().current.fetch_sub(static_cast<std::int64_t>(bytes), std::memory_order_relaxed);
        std::free(p);
    }
    static void copy_from_host(void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }
    static void copy_to_host(void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }

    // Defined below, or in omni::kernels in the compiled mode (policy/cpu_linkage.hpp): every
    // pair of dtypes is a loop of its own, too many to compile into every translation unit.
    static void copy_strided(const Shape& shape, void* dst, dtype dt, const Strides& dst_st, const void* src, dtype st,
                             const Strides& src_st);
    static void fill(dtype dt, void* dst, const Shape& shape, const Strides& st, double value);
};

static_assert(device_policy<cpu>);

#if OMNI_KERNELS_DEFINE
OMNI_KERNELS_INLINE void cpu::copy_strided(const Shape& shape, void* dst, dtype dt, const Strides& dst_st, const void* src, dtype st,
                                           const Strides& src_st) {
    StridedLoop<2> loop(shape, {dst_st, src_st});
    dispatch_any(dt, "copy", [&]<class D>() {
        dispatch_any(st, "copy", [&]<class S>() {
            D* d = static_cast<D*>(dst);
            const S* s = static_cast<const S*>(src);
            const std::int64_t rows = loop.rows;
#pragma omp parallel for num_threads(num_threads()) if (rows * loop.row_len > (1 << 16) && rows > 1)
            for (std::int64_t r = 0; r < rows; ++r)
                loop.run(r, r + 1, [&](auto off, std::int64_t n, auto inc) {
                    D* dp = d + off[0];
                    const S* sp = s + off[1];
                    if (inc[0] == 1 && inc[1] == 1) {
                        if constexpr (std::is_same_v<D, S>) std::memcpy(dp, sp, n * sizeof(D));
                        else for (std::int64_t i = 0; i < n; ++i) dp[i] = cast_value<D>(sp[i]);
                    } else {
                        for (std::int64_t i = 0; i < n; ++i) dp[i * inc[0]] = cast_value<D>(sp[i * inc[1]]);
                    }
                });
        });
    });
}

OMNI_KERNELS_INLINE void cpu::fill(dtype dt, void* dst, const Shape& shape, const Strides& st, double value) {
    StridedLoop<1> loop(shape, {st});
    dispatch_any(dt, "fill", [&]<class D>() {
        const D v = cast_value<D>(value);
        D* d = static_cast<D*>(dst);
        loop.run(0, loop.rows, [&](auto off, std::int64_t n, auto inc) {
            for (std::int64_t i = 0; i < n; ++i) d[off[0] + i * inc[0]] = v;
        });
    });
}
#endif  // OMNI_KERNELS_DEFINE

}  // namespace omni

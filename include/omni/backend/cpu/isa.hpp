#pragma once
// Which x86 vector extensions omni's hand-written CPU kernels may use at run time: what the CPU
// and the OS offer (CPUID, and XGETBV for the register state the OS saves), capped by a limit the
// user sets with the environment variable OMNI_CPU_ISA (baseline, avx2, avx512, avx512_bf16,
// amx) or cpu_isa_limit(). The kernels that dispatch on it (fused attention, the AMX GEMM) are
// compiled for their ISA through target attributes, so a package built for the baseline ISA
// still runs them on a CPU that has it. Eigen's own code is vectorised at compile time, for the
// -march the including project uses; the limit does not change it.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "omni/core/error.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define OMNI_HAVE_X86_DISPATCH 1
#include <cpuid.h>
#endif

namespace omni::backend::cpu {

/// Ordered: each level implies the ones below it (every AMX CPU has AVX512-BF16, and so on).
enum class cpu_isa : int { baseline = 0, avx2 = 1, avx512 = 2, avx512_bf16 = 3, amx = 4 };

inline const char* cpu_isa_name(cpu_isa x) {
    switch (x) {
        case cpu_isa::baseline: return "baseline";
        case cpu_isa::avx2: return "avx2";
        case cpu_isa::avx512: return "avx512";
        case cpu_isa::avx512_bf16: return "avx512_bf16";
        case cpu_isa::amx: return "amx";
    }
    return "?";
}

inline cpu_isa parse_cpu_isa(std::string_view s, const char* op) {
    for (int i = 0; i <= static_cast<int>(cpu_isa::amx); ++i)
        if (s == cpu_isa_name(static_cast<cpu_isa>(i))) return static_cast<cpu_isa>(i);
    throw value_error(op, "expected one of baseline, avx2, avx512, avx512_bf16, amx, got '" + std::string(s) + "'");
}

/// The highest level this CPU and OS support. AVX2 means AVX2 + FMA; AVX-512 means F, BW, DQ
/// and VL; AMX means AMX-TILE + AMX-BF16 (whether Linux grants the tile state is amx::available's
/// question). Tile registers aside, the OS must save the wider registers (XCR0), as it does
/// not in some VMs that pass the CPUID bits through.
inline cpu_isa detected_cpu_isa() {
#ifdef OMNI_HAVE_X86_DISPATCH
    static const cpu_isa level = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid(1, &a, &b, &c, &d)) return cpu_isa::baseline;
        const bool fma = (c >> 12) & 1u, osxsave = (c >> 27) & 1u, avx = (c >> 28) & 1u;
        if (!osxsave || !avx || !fma) return cpu_isa::baseline;
        unsigned xlo = 0, xhi = 0;
        __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
        if ((xlo & 0x6u) != 0x6u) return cpu_isa::baseline;  // SSE and AVX state
        unsigned b7 = 0, c7 = 0, d7 = 0;
        if (!__get_cpuid_count(7, 0, &a, &b7, &c7, &d7)) return cpu_isa::baseline;
        if (!((b7 >> 5) & 1u)) return cpu_isa::baseline;  // AVX2
        const bool avx512 = ((b7 >> 16) & 1u) && ((b7 >> 17) & 1u) && ((b7 >> 30) & 1u) && ((b7 >> 31) & 1u);  // F DQ BW VL
        if (!avx512 || (xlo & 0xE0u) != 0xE0u) return cpu_isa::avx2;  // opmask, ZMM0-15 upper, ZMM16-31
        unsigned a71 = 0, b71 = 0, c71 = 0, d71 = 0;
        if (!__get_cpuid_count(7, 1, &a71, &b71, &c71, &d71) || !((a71 >> 5) & 1u)) return cpu_isa::avx512;  // AVX512_BF16
        const bool amx = ((d7 >> 24) & 1u) && ((d7 >> 22) & 1u);                                               // AMX-TILE, AMX-BF16
        return amx ? cpu_isa::amx : cpu_isa::avx512_bf16;
    }();
    return level;
#else
    return cpu_isa::baseline;
#endif
}

namespace detail {
inline std::atomic<int>& cpu_isa_limit_slot() {
    static std::atomic<int> slot = [] {
        const char* env = std::getenv("OMNI_CPU_ISA");
        return static_cast<int>(env && *env ? parse_cpu_isa(env, "OMNI_CPU_ISA") : cpu_isa::amx);
    }();
    return slot;
}
}  // namespace detail

/// The cap on the kernels' ISA: OMNI_CPU_ISA when set, else no cap (an unknown value is a
/// value_error naming OMNI_CPU_ISA, raised by the first kernel that asks).
inline cpu_isa cpu_isa_limit() { return static_cast<cpu_isa>(detail::cpu_isa_limit_slot().load(std::memory_order_relaxed)); }
/// Caps the kernels' ISA from now on, for every thread (for tests and to measure a slower CPU).
inline void cpu_isa_limit(cpu_isa limit) { detail::cpu_isa_limit_slot().store(static_cast<int>(limit), std::memory_order_relaxed); }

/// The level the kernels use: the lower of the detected one and the limit.
inline cpu_isa active_cpu_isa() {
    const cpu_isa d = detected_cpu_isa(), l = cpu_isa_limit();
    return static_cast<int>(d) < static_cast<int>(l) ? d : l;
}
inline bool cpu_isa_allows(cpu_isa x) { return static_cast<int>(active_cpu_isa()) >= static_cast<int>(x); }

}  // namespace omni::backend::cpu

// Regions of code compiled for one ISA whatever the -march (functions, lambdas and templates
// defined between BEGIN and END). Call them only where cpu_isa_allows says so.
#ifdef OMNI_HAVE_X86_DISPATCH
#if defined(__clang__)
#define OMNI_BEGIN_TARGET_AVX2 _Pragma("clang attribute push (__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#define OMNI_BEGIN_TARGET_AVX512 \
    _Pragma("clang attribute push (__attribute__((target(\"avx2,fma,avx512f,avx512bw,avx512dq,avx512vl\"))), apply_to = function)")
#define OMNI_BEGIN_TARGET_AVX512_BF16                                                                                           \
    _Pragma("clang attribute push (__attribute__((target(\"avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512bf16\"))), apply_to = function)")
#define OMNI_END_TARGET _Pragma("clang attribute pop")
#else
#define OMNI_BEGIN_TARGET_AVX2 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")")
#define OMNI_BEGIN_TARGET_AVX512 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,avx512f,avx512bw,avx512dq,avx512vl\")")
#define OMNI_BEGIN_TARGET_AVX512_BF16 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512bf16\")")
#define OMNI_END_TARGET _Pragma("GCC pop_options")
#endif
#endif

#pragma once
// CPU indexing loops. The adjoints run serially over the index list (two indices may hit one
// row) but parallel over the outer axis.
#include <cstring>

#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/index.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

OMNI_KERNELS_INLINE std::optional<std::int64_t> index_kernels<cpu>::select(const KernelView& x, const KernelView& idx, const KernelView& out) {
    const std::int64_t outer = x.shape[0], n = x.shape[1], inner = x.shape[2], m = idx.numel();
    std::optional<std::int64_t> bad;
    dispatch_index(idx.type, "index_select", [&]<class I>() {
        const I* ip = idx.as<I>();
        for (std::int64_t j = 0; j < m; ++j)
            if (ip[j] < 0 || ip[j] >= n) { bad = ip[j]; return; }
        const std::size_t bytes = inner * size_of(x.type);
        const char* xp = static_cast<const char*>(x.data);
        char* op = static_cast<char*>(out.data);
        backend::cpu::parallel_for(outer * m, inner, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t r = b; r < e; ++r) {
                const std::int64_t o = r / m, j = r % m;
                std::memcpy(op + r * bytes, xp + (o * n + ip[j]) * bytes, bytes);
            }
        });
    });
    return bad;
}

OMNI_KERNELS_INLINE void index_kernels<cpu>::select_add(const KernelView& out, const KernelView& idx, const KernelView& src) {
    const std::int64_t outer = out.shape[0], n = out.shape[1], inner = out.shape[2], m = idx.numel();
    dispatch_float(out.type, "index_add", [&]<class T>() {
        dispatch_index(idx.type, "index_add", [&]<class I>() {
            const I* ip = idx.as<I>();
            for (std::int64_t j = 0; j < m; ++j)  // public op: a bad index must not write outside `out`
                if (ip[j] < 0 || ip[j] >= n) throw index_error("index_add", "expected indices in [0, " + std::to_string(n) + "), got " + std::to_string(ip[j]));
            backend::cpu::parallel_for(outer, m * inner, [&](std::int64_t b, std::int64_t e) {
                for (std::int64_t o = b; o < e; ++o)
                    for (std::int64_t j = 0; j < m; ++j) {
                        T* dst = out.as<T>() + (o * n + ip[j]) * inner;
                        const T* s = src.as<T>() + (o * m + j) * inner;
                        for (std::int64_t i = 0; i < inner; ++i) dst[i] += s[i];
                    }
            });
        });
    });
}

OMNI_KERNELS_INLINE std::optional<std::int64_t> index_kernels<cpu>::gather(const KernelView& x, const KernelView& idx, const KernelView& out) {
    const std::int64_t outer = idx.shape[0], m = idx.shape[1], inner = idx.shape[2], n = x.shape[1];
    std::optional<std::int64_t> bad;
    dispatch_index(idx.type, "gather", [&]<class I>() {
        const I* ip = idx.as<I>();
        for (std::int64_t k = 0; k < idx.numel(); ++k)
            if (ip[k] < 0 || ip[k] >= n) { bad = ip[k]; return; }
        dispatch_any(x.type, "gather", [&]<class T>() {
            for (std::int64_t o = 0; o < outer; ++o)
                for (std::int64_t j = 0; j < m; ++j)
                    for (std::int64_t i = 0; i < inner; ++i) {
                        const std::int64_t k = (o * m + j) * inner + i;
                        out.as<T>()[k] = x.as<T>()[(o * n + ip[k]) * inner + i];
                    }
        });
    });
    return bad;
}

OMNI_KERNELS_INLINE void index_kernels<cpu>::scatter_add(const KernelView& out, const KernelView& idx, const KernelView& src) {
    const std::int64_t outer = idx.shape[0], m = idx.shape[1], inner = idx.shape[2], n = out.shape[1];
    dispatch_float(out.type, "scatter_add", [&]<class T>() {
        dispatch_index(idx.type, "scatter_add", [&]<class I>() {
            const I* ip = idx.as<I>();
            for (std::int64_t k = 0; k < idx.numel(); ++k)
                if (ip[k] < 0 || ip[k] >= n) throw index_error("scatter_add", "expected indices in [0, " + std::to_string(n) + "), got " + std::to_string(ip[k]));
            for (std::int64_t o = 0; o < outer; ++o)
                for (std::int64_t j = 0; j < m; ++j)
                    for (std::int64_t i = 0; i < inner; ++i) {
                        const std::int64_t k = (o * m + j) * inner + i;
                        out.as<T>()[(o * n + ip[k]) * inner + i] += src.as<T>()[k];
                    }
        });
    });
}

}  // namespace omni

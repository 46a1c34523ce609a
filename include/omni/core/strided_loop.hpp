#pragma once
// Walks K operands that share a shape but not strides, one innermost row at a time. Adjacent
// axes that are contiguous in every operand are merged first, so a dense tensor is one long row
// and a transposed one a plain 2-level loop. Callers split the row range across threads.
#include <array>
#include <cstdint>

#include "omni/core/shape.hpp"

namespace omni {

/// The row loop over K operands of one shape with their own strides; axes dense in every operand are merged first.
template <int K> struct StridedLoop {
    Shape shape;                      // merged shape; last axis is the row
    std::array<Strides, K> strides;   // merged strides per operand
    std::int64_t rows = 0, row_len = 0;

    StridedLoop(const Shape& s, const std::array<Strides, K>& st) {
        // Drop unit axes, then merge axis i into i+1 when every operand is dense across them.
        for (int i = 0; i < s.size(); ++i) {
            if (s[i] == 1) continue;
            const int n = shape.size();
            bool merge = n > 0;
            for (int k = 0; k < K && merge; ++k) merge = strides[k][n - 1] == st[k][i] * s[i];
            if (merge) {
                shape[n - 1] *= s[i];
                for (int k = 0; k < K; ++k) strides[k][n - 1] = st[k][i];
            } else {
                shape.push_back(s[i]);
                for (int k = 0; k < K; ++k) strides[k].push_back(st[k][i]);
            }
        }
        if (shape.size() == 0) {  // a scalar or all-unit shape: one row of one element
            shape.push_back(s.numel() == 0 ? 0 : 1);
            for (int k = 0; k < K; ++k) strides[k].push_back(0);
        }
        row_len = shape.back();
        rows = row_len ? shape.numel() / row_len : 0;
    }

    // f(offsets, n, inner_strides) for each row in [r0, r1).
    template <class F> void run(std::int64_t r0, std::int64_t r1, F&& f) const {
        const int nd = shape.size();
        std::array<std::int64_t, K> inner;
        for (int k = 0; k < K; ++k) inner[k] = strides[k][nd - 1];
        for (std::int64_t r = r0; r < r1; ++r) {
            std::array<std::int64_t, K> off{};
            std::int64_t rem = r;
            for (int d = nd - 2; d >= 0; --d) {
                const std::int64_t i = rem % shape[d];
                rem /= shape[d];
                for (int k = 0; k < K; ++k) off[k] += i * strides[k][d];
            }
            f(off, row_len, inner);
        }
    }
};

}  // namespace omni

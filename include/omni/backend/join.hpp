#pragma once
// concat, stack, split and chunk. Splits are views; joins copy each part once into its slice of
// the output through the policy's strided copy, so no backend needs a kernel for them.
#include <vector>

#include "omni/backend/kernel_view.hpp"

namespace omni {

template <device_policy P> Tensor<P> concat(const std::vector<Tensor<P>>& parts, std::int64_t axis) {
    if (parts.empty()) throw value_error("concat", "expected at least one tensor, got none");
    const Tensor<P>& f = parts[0];
    if (f.dim() == 0) throw shape_error("concat", "expected tensors with at least 1 dim, got a scalar");
    const int a = normalize_axis("concat", axis, f.dim());
    Shape os = f.shape();
    os[a] = 0;
    for (std::size_t p = 0; p < parts.size(); ++p) {
        const Tensor<P>& t = parts[p];
        bool ok = t.dim() == f.dim() && t.type() == f.type();
        for (int i = 0; ok && i < f.dim(); ++i) ok = i == a || t.shape()[i] == f.shape()[i];
        if (!ok)
            throw shape_error("concat", "expected part " + std::to_string(p) + " to match " + f.shape().str() + " (" +
                                            name_of(f.type()) + ") except on axis " + std::to_string(a) + ", got " +
                                            t.shape().str() + " (" + name_of(t.type()) + ")");
        os[a] += t.shape()[a];
    }
    Tensor<P> out = Tensor<P>::empty(os, f.type());
    std::int64_t at = 0;
    for (const auto& t : parts) {
        out.slice(a, at, at + t.shape()[a]).copy_from(t);
        at += t.shape()[a];
    }
    return out;
}

// Joins equal-shaped parts along a new axis; works for every tensor type (taped ones too) because
// it is unsqueeze + concat.
template <class TensorT> TensorT stack(const std::vector<TensorT>& parts, std::int64_t axis) {
    if (parts.empty()) throw value_error("stack", "expected at least one tensor, got none");
    const int a = normalize_axis("stack", axis, parts[0].dim() + 1);
    std::vector<TensorT> u;
    for (std::size_t p = 0; p < parts.size(); ++p) {
        if (!(parts[p].shape() == parts[0].shape()))
            throw shape_error("stack", "expected every part of shape " + parts[0].shape().str() + ", got " +
                                           parts[p].shape().str() + " at part " + std::to_string(p));
        u.push_back(parts[p].unsqueeze(a));
    }
    return concat(u, a);
}

// Views of consecutive pieces along axis with the given sizes (they must add up to the extent).
template <device_policy P> std::vector<Tensor<P>> split(const Tensor<P>& x, const std::vector<std::int64_t>& sizes, std::int64_t axis) {
    const int a = normalize_axis("split", axis, x.dim());
    std::int64_t total = 0;
    for (auto s : sizes) {
        if (s < 0) throw value_error("split", "expected non-negative sizes, got " + std::to_string(s));
        total += s;
    }
    if (total != x.shape()[a])
        throw shape_error("split", "expected sizes adding up to " + std::to_string(x.shape()[a]) + " (axis " + std::to_string(a) +
                                       " of " + x.shape().str() + "), got " + std::to_string(total));
    std::vector<Tensor<P>> out;
    std::int64_t at = 0;
    for (auto s : sizes) {
        out.push_back(x.slice(a, at, at + s));
        at += s;
    }
    return out;
}

// n equal views along axis (the extent must divide by n).
template <class TensorT> std::vector<TensorT> chunk(const TensorT& x, std::int64_t n, std::int64_t axis) {
    const int a = normalize_axis("chunk", axis, x.dim());
    if (n < 1 || x.shape()[a] % n != 0)
        throw shape_error("chunk", "expected a chunk count dividing " + std::to_string(x.shape()[a]) + " (axis " + std::to_string(a) +
                                       " of " + x.shape().str() + "), got " + std::to_string(n));
    return split(x, std::vector<std::int64_t>(n, x.shape()[a] / n), a);
}

}  // namespace omni

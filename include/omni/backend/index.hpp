#pragma once
// Indexing: index_select (and embedding lookup), gather, and their adjoints index_add and
// scatter_add. Indices are int32 or int64; an index outside its axis is an index_error naming
// the op, the index and the extent, found by the kernel that reads it.
#include <optional>

#include "omni/backend/kernel_view.hpp"

namespace omni {

// Specialised by each backend. x / out dense as [outer, n, inner] and [outer, m, inner]:
//   select(x, idx[m], out) -> first bad index, if any
//   select_add(out, idx[m], src)                     out[:, idx[j], :] += src[:, j, :]
//                                                    (CPU throws index_error on a bad index; CUDA skips it)
//   gather(x, idx[outer, m, inner], out) -> first bad index, if any
//   scatter_add(out, idx[outer, m, inner], src)      out[o, idx[o,j,i], i] += src[o, j, i]
template <class P> struct index_kernels;

namespace detail {
inline Shape outer_n_inner(const Shape& s, int axis) {
    std::int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; ++i) outer *= s[i];
    for (int i = axis + 1; i < s.size(); ++i) inner *= s[i];
    return Shape{outer, s[axis], inner};
}
inline void throw_bad_index(const char* op, std::int64_t bad, std::int64_t n, int axis) {
    throw index_error(op, "expected indices in [0, " + std::to_string(n) + ") on axis " + std::to_string(axis) + ", got " +
                              std::to_string(bad));
}
inline void check_index_dtype(const char* op, dtype t) {
    if (!is_integral(t)) throw dtype_error(op, std::string("expected int32 or int64 indices, got ") + name_of(t));
}
}  // namespace detail

// Rows of x along `axis` picked by the 1-D index tensor idx.
template <device_policy P> Tensor<P> index_select(const Tensor<P>& x, std::int64_t axis, const Tensor<P>& idx) {
    detail::check_index_dtype("index_select", idx.type());
    if (idx.dim() != 1) throw shape_error("index_select", "expected 1-D indices, got " + idx.shape().str());
    if (x.dim() == 0) throw shape_error("index_select", "expected at least 1 dim, got a scalar");
    const int a = normalize_axis("index_select", axis, x.dim());
    Shape os = x.shape();
    os[a] = idx.numel();
    Tensor<P> out = Tensor<P>::empty(os, x.type());
    if (out.numel() == 0) return out;
    const Shape xs = detail::outer_n_inner(x.shape(), a);
    if (xs[1] == 0) detail::throw_bad_index("index_select", idx.contiguous().template to_vector<std::int64_t>()[0], 0, a);
    const auto bad = index_kernels<P>::select(kview(x.contiguous().view(xs)), kview(idx.contiguous()),
                                              kview(out.view(Shape{xs[0], idx.numel(), xs[2]})));
    if (bad) detail::throw_bad_index("index_select", *bad, xs[1], a);
    return out;
}

// Adjoint of index_select: zeros of `shape` with src rows added at idx along axis.
template <device_policy P>
Tensor<P> index_add(const Shape& shape, std::int64_t axis, const Tensor<P>& idx, const Tensor<P>& src) {
    const int a = normalize_axis("index_add", axis, shape.size());
    Tensor<P> out = Tensor<P>::zeros(shape, src.type());
    if (src.numel() == 0) return out;
    const Shape xs = detail::outer_n_inner(shape, a);
    index_kernels<P>::select_add(kview(out.view(xs)), kview(idx.contiguous()),
                                 kview(src.contiguous().view(Shape{xs[0], idx.numel(), xs[2]})));
    return out;
}

// Table lookup: weight [V, D], ids of any shape -> [*ids.shape, D].
template <device_policy P> Tensor<P> embedding(const Tensor<P>& weight, const Tensor<P>& ids) {
    if (weight.dim() != 2) throw shape_error("embedding", "expected a [V, D] table, got " + weight.shape().str());
    Shape os = ids.shape();
    os.push_back(weight.shape()[1]);
    try {
        return index_select(weight, 0, ids.reshape(Shape{ids.numel()})).view(os);
    } catch (const index_error&) {
        throw index_error("embedding", "expected token ids in [0, " + std::to_string(weight.shape()[0]) + ") for a table " +
                                           weight.shape().str() + ", got an id outside it");
    }
}

// out[..., j, ...] = x[..., idx[..., j, ...], ...] along axis (torch.gather); idx matches x on
// every other axis.
template <device_policy P> Tensor<P> gather(const Tensor<P>& x, std::int64_t axis, const Tensor<P>& idx) {
    detail::check_index_dtype("gather", idx.type());
    if (x.dim() == 0 || idx.dim() != x.dim())
        throw shape_error("gather", "expected indices with the rank of " + x.shape().str() + ", got " + idx.shape().str());
    const int a = normalize_axis("gather", axis, x.dim());
    for (int i = 0; i < x.dim(); ++i)
        if (i != a && idx.shape()[i] != x.shape()[i])
            throw shape_error("gather", "expected indices matching " + x.shape().str() + " except on axis " + std::to_string(a) +
                                            ", got " + idx.shape().str());
    Tensor<P> out = Tensor<P>::empty(idx.shape(), x.type());
    if (out.numel() == 0) return out;
    const Shape xs = detail::outer_n_inner(x.shape(), a), is = detail::outer_n_inner(idx.shape(), a);
    const auto bad = index_kernels<P>::gather(kview(x.contiguous().view(xs)), kview(idx.contiguous().view(is)), kview(out.view(is)));
    if (bad) detail::throw_bad_index("gather", *bad, xs[1], a);
    return out;
}

// Adjoint of gather: zeros of `shape` with src added at idx along axis.
template <device_policy P>
Tensor<P> scatter_add(const Shape& shape, std::int64_t axis, const Tensor<P>& idx, const Tensor<P>& src) {
    const int a = normalize_axis("scatter_add", axis, shape.size());
    Tensor<P> out = Tensor<P>::zeros(shape, src.type());
    if (src.numel() == 0) return out;
    const Shape is = detail::outer_n_inner(idx.shape(), a);
    index_kernels<P>::scatter_add(kview(out.view(detail::outer_n_inner(shape, a))), kview(idx.contiguous().view(is)),
                                  kview(src.contiguous().view(is)));
    return out;
}

}  // namespace omni

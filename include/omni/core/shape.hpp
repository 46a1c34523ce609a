#pragma once
// Shape and strides: up to eight extents stored inline, so a shape is cheap to copy and can be
// passed by value to a CUDA kernel. Strides count elements, not bytes.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "omni/core/error.hpp"

#if defined(__CUDACC__)
#define OMNI_HD __host__ __device__
#else
#define OMNI_HD
#endif

namespace omni {

inline constexpr int max_dims = 8;

// GCC 12 at -O2/-O3 reports "may be used uninitialized" for the inline array of a Shape built
// from a braced list (all eight slots are value-initialised); silence that false positive here
// only, so users' builds stay clean.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
/// Tensor extents, at most eight, stored inline: cheap to copy and passed by value to CUDA kernels.
class Shape {
public:
    Shape() = default;
    Shape(std::initializer_list<std::int64_t> dims) { assign(dims.begin(), dims.end()); }
    explicit Shape(std::span<const std::int64_t> dims) { assign(dims.begin(), dims.end()); }
    explicit Shape(const std::vector<std::int64_t>& dims) { assign(dims.begin(), dims.end()); }

    OMNI_HD int size() const { return n_; }
    OMNI_HD std::int64_t operator[](int i) const { return d_[i]; }
    OMNI_HD std::int64_t& operator[](int i) { return d_[i]; }
    const std::int64_t* begin() const { return d_.data(); }
    const std::int64_t* end() const { return d_.data() + n_; }
    std::int64_t back() const { return d_[n_ - 1]; }

    void push_back(std::int64_t v) {
        if (n_ == max_dims) throw shape_error("shape", "at most 8 dimensions, got 9");
        d_[n_++] = v;
    }
    void insert(int at, std::int64_t v) {
        push_back(0);
        for (int i = n_ - 1; i > at; --i) d_[i] = d_[i - 1];
        d_[at] = v;
    }
    void erase(int at) {
        for (int i = at; i + 1 < n_; ++i) d_[i] = d_[i + 1];
        --n_;
    }
    std::int64_t numel() const {
        std::int64_t n = 1;
        for (int i = 0; i < n_; ++i) n *= d_[i];
        return n;
    }
    bool operator==(const Shape& o) const {
        if (n_ != o.n_) return false;
        for (int i = 0; i < n_; ++i)
            if (d_[i] != o.d_[i]) return false;
        return true;
    }
    std::vector<std::int64_t> vec() const { return {begin(), end()}; }
    std::string str() const {
        std::string s = "[";
        for (int i = 0; i < n_; ++i) s += (i ? ", " : "") + std::to_string(d_[i]);
        return s + "]";
    }

private:
    template <class It> void assign(It b, It e) {
        for (; b != e; ++b) push_back(static_cast<std::int64_t>(*b));
    }
    std::array<std::int64_t, max_dims> d_{};
    int n_ = 0;
};

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

using Strides = Shape;

// Row-major strides of a dense tensor.
inline Strides contiguous_strides(const Shape& s) {
    Strides st = s;
    std::int64_t acc = 1;
    for (int i = s.size() - 1; i >= 0; --i) {
        st[i] = acc;
        acc *= s[i];
    }
    return st;
}

// Whether a shape read from untrusted bytes is safe to allocate and index: no negative extent, and
// the product of its nonzero extents fits in int64 (strides multiply every extent, so one zero
// extent must not hide huge ones after it). On success `numel` is the element count.
inline bool extents_fit(const Shape& s, std::int64_t& numel) {
    std::int64_t product = 1;
    bool zero = false;
    for (const std::int64_t d : s) {
        if (d < 0) return false;
        if (d == 0) zero = true;
        else if (__builtin_mul_overflow(product, d, &product)) return false;
    }
    numel = zero ? 0 : product;
    return true;
}

// The element count of `s`, or a shape_error naming `op` when extents_fit refuses it.
inline std::int64_t checked_numel(const Shape& s, const std::string& op) {
    std::int64_t n = 0;
    if (!extents_fit(s, n))
        throw shape_error(op, "expected extents >= 0 whose product fits in int64, got " + s.str());
    return n;
}

// Maps a possibly negative axis into [0, ndim), or names the op in a value_error.
inline int normalize_axis(const char* op, std::int64_t axis, int ndim) {
    if (axis < -ndim || axis >= ndim)
        throw value_error(op, "expected axis in [" + std::to_string(-ndim) + ", " + std::to_string(ndim) +
                                  "), got " + std::to_string(axis));
    return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

// NumPy broadcasting: align on the right, extents must match or be 1.
inline Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
    const int n = a.size() > b.size() ? a.size() : b.size();
    Shape out;
    for (int i = 0; i < n; ++i) {
        const int ia = a.size() - n + i, ib = b.size() - n + i;
        const std::int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da != db && da != 1 && db != 1)
            throw shape_error(op, "expected broadcastable shapes, got " + a.str() + " and " + b.str());
        out.push_back(da == 1 ? db : da);
    }
    return out;
}

// Strides that read a tensor of shape `s` (strides `st`) as if it had the broadcast shape `out`.
inline Strides broadcast_strides(const Shape& s, const Strides& st, const Shape& out) {
    Strides r = out;
    const int off = out.size() - s.size();
    for (int i = 0; i < out.size(); ++i) {
        const int j = i - off;
        r[i] = (j < 0 || s[j] == 1) ? 0 : st[j];
    }
    return r;
}

}  // namespace omni

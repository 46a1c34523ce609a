#pragma once
// Tensor<P>: an N-d array whose memory and data movement come from the device policy P (cpu,
// cuda). A tensor is a view: (shared storage, shape, strides, offset, dtype); reshape, permute,
// slice and expand make new views without copying. Math lives in free functions (omni::matmul,
// omni::exp, ...) so the same call works on Tensor<autodiff<P>>.
//
// P must provide the memory primitives listed in policy/concept.hpp; nothing here includes a
// policy, so tensor/ stays below policy/ and backend/.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "omni/core/dtype.hpp"
#include "omni/core/error.hpp"
#include "omni/core/rng.hpp"
#include "omni/core/shape.hpp"
#include "omni/tensor/storage.hpp"

namespace omni {

struct cpu;  // policy/cpu.hpp; only named, so tensor/ still includes no policy

// Whether the host addresses P's memory directly (cpu, or a policy declaring
// `static constexpr bool host_memory = true`): Tensor::to<Q> then copies once instead of
// staging through a host buffer.
template <class P> inline constexpr bool host_memory_v = std::is_same_v<P, cpu> || requires { requires P::host_memory; };

/// An N-d strided view over shared `Storage<P>`: memory and copies come from the policy P, math from free functions.
template <class P> class Tensor {
public:
    using policy = P;

    Tensor() = default;

    // ---- construction --------------------------------------------------------------------
    static Tensor empty(const Shape& shape, dtype dt = dtype::f32) {
        check_extents("empty", shape, size_of(dt));
        Tensor t;
        t.storage_ = std::make_shared<Storage<P>>(static_cast<std::size_t>(shape.numel()) * size_of(dt));
        t.shape_ = shape;
        t.strides_ = contiguous_strides(shape);
        t.dtype_ = dt;
        return t;
    }
    static Tensor full(const Shape& shape, double value, dtype dt = dtype::f32) {
        Tensor t = empty(shape, dt);
        if (t.numel()) P::fill(dt, t.raw_data(), t.shape_, t.strides_, value);
        return t;
    }
    static Tensor zeros(const Shape& shape, dtype dt = dtype::f32) { return full(shape, 0.0, dt); }
    static Tensor ones(const Shape& shape, dtype dt = dtype::f32) { return full(shape, 1.0, dt); }
    static Tensor scalar(double value, dtype dt = dtype::f32) { return full(Shape{}, value, dt); }

    // Copies host data into a new tensor of `shape`.
    template <class T> static Tensor from_data(std::span<const T> data, const Shape& shape) {
        if (static_cast<std::int64_t>(data.size()) != shape.numel())
            throw shape_error("from_data", "expected " + std::to_string(shape.numel()) + " values for shape " +
                                               shape.str() + ", got " + std::to_string(data.size()));
        Tensor t = empty(shape, dtype_of<T>());
        if (!data.empty()) P::copy_from_host(t.raw_data(), data.data(), data.size() * sizeof(T));
        return t;
    }
    template <class T> static Tensor from_data(const std::vector<T>& data, const Shape& shape) {
        return from_data(std::span<const T>(data.data(), data.size()), shape);
    }
    template <class T> static Tensor from_data(std::initializer_list<T> data, const Shape& shape) {
        return from_data(std::span<const T>(data.begin(), data.size()), shape);
    }

    // A view of memory the caller owns and keeps alive (no copy). The pointer must belong to P.
    template <class T> static Tensor borrow(T* data, const Shape& shape) {
        check_extents("borrow", shape);
        Tensor t;
        t.storage_ = std::make_shared<Storage<P>>(static_cast<void*>(data), shape.numel() * sizeof(T));
        t.shape_ = shape;
        t.strides_ = contiguous_strides(shape);
        t.dtype_ = dtype_of<T>();
        return t;
    }

    // A strided view of `bytes` bytes at `data` that `keeper` keeps alive (a mapped file, a DLPack
    // producer; none: the caller does). Strides count elements; the view must lie inside the bytes.
    static Tensor borrow(void* data, std::size_t bytes, const Shape& shape, const Strides& strides, dtype dt,
                         std::shared_ptr<const void> keeper = {}) {
        check_extents("borrow", shape, size_of(dt));
        if (strides.size() != shape.size())
            throw shape_error("borrow", "expected " + std::to_string(shape.size()) + " strides for shape " + shape.str() + ", got " + strides.str());
        std::int64_t last = 0;  // the farthest element the view reaches
        bool fits = true;
        for (int i = 0; i < shape.size(); ++i) {
            if (strides[i] < 0) throw shape_error("borrow", "expected non-negative strides, got " + strides.str());
            std::int64_t reach = 0;
            if (shape[i] > 0 && fits) fits = !__builtin_mul_overflow(shape[i] - 1, strides[i], &reach) && !__builtin_add_overflow(last, reach, &last);
        }
        if (shape.numel() != 0 && (!fits || static_cast<std::uint64_t>(last) + 1 > bytes / size_of(dt)))
            throw shape_error("borrow", "expected a view of " + shape.str() + " with strides " + strides.str() + " inside " +
                                            std::to_string(bytes) + " bytes of " + name_of(dt) + ", got one past them");
        Tensor t;
        t.storage_ = std::make_shared<Storage<P>>(data, bytes, std::move(keeper));
        t.shape_ = shape;
        t.strides_ = strides;
        t.dtype_ = dt;
        return t;
    }

    static Tensor arange(std::int64_t n, dtype dt = dtype::f32) {
        std::vector<double> v(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
        std::iota(v.begin(), v.end(), 0.0);
        return from_doubles(v, Shape{static_cast<std::int64_t>(v.size())}, dt);
    }
    // Standard normal values from a Philox stream; identical on every policy.
    static Tensor randn(const Shape& shape, Generator& gen, dtype dt = dtype::f32, double mean = 0, double std = 1) {
        const std::uint64_t off = gen.next_offset(), seed = gen.seed();
        return generated(shape, dt, [&](std::uint64_t i) { return mean + std * philox_normal(seed, off, i); });
    }
    // Uniform values in [lo, hi).
    static Tensor rand(const Shape& shape, Generator& gen, dtype dt = dtype::f32, double lo = 0, double hi = 1) {
        const std::uint64_t off = gen.next_offset(), seed = gen.seed();
        return generated(shape, dt, [&](std::uint64_t i) { return lo + (hi - lo) * philox_uniform(seed, off, i); });
    }

    // Element i = f(i), made in chunks so that only the result is ever whole in memory (a double
    // staging copy of a large weight would double the peak of building a model).
    template <class F> static Tensor generated(const Shape& shape, dtype dt, F&& f) {
        Tensor out = empty(shape, dt);
        const std::int64_t n = shape.numel();
        constexpr std::int64_t chunk = 1 << 16;
        std::vector<double> v(static_cast<std::size_t>(std::min(n, chunk)));
        const Tensor flat = out.reshape(Shape{n});
        for (std::int64_t b = 0; b < n; b += chunk) {
            const std::int64_t len = std::min(chunk, n - b);
            for (std::int64_t i = 0; i < len; ++i) v[static_cast<std::size_t>(i)] = f(static_cast<std::uint64_t>(b + i));
            flat.slice(0, b, b + len).copy_from(from_data(std::span<const double>(v.data(), static_cast<std::size_t>(len)), Shape{len}));
        }
        return out;
    }

    // ---- metadata ------------------------------------------------------------------------
    bool defined() const { return storage_ != nullptr; }
    const Shape& shape() const { return shape_; }
    const Strides& strides() const { return strides_; }
    std::int64_t offset() const { return offset_; }
    int dim() const { return shape_.size(); }
    std::int64_t size(std::int64_t axis) const { return shape_[normalize_axis("size", axis, dim())]; }
    std::int64_t numel() const { return shape_.numel(); }
    dtype type() const { return dtype_; }
    const std::shared_ptr<Storage<P>>& storage() const { return storage_; }
    bool is_contiguous() const {
        std::int64_t acc = 1;
        for (int i = dim() - 1; i >= 0; --i) {
            if (shape_[i] != 1 && strides_[i] != acc) return false;
            acc *= shape_[i];
        }
        return true;
    }
    // Address of the first element (offset applied). Device memory for device policies.
    void* raw_data() const {
        return static_cast<char*>(storage_->data()) + offset_ * static_cast<std::int64_t>(size_of(dtype_));
    }
    template <class T> T* data() const {
        check_dtype("data", dtype_of<T>(), dtype_);
        return static_cast<T*>(raw_data());
    }

    // ---- views (no copy) -----------------------------------------------------------------
    // Same data, new shape; one extent may be -1. Throws unless the tensor is contiguous.
    Tensor view(const Shape& shape) const {
        Shape s = infer_shape("view", shape);
        if (!is_contiguous())
            throw shape_error("view", "expected a contiguous tensor to view as " + s.str() + ", got strides " +
                                          strides_.str() + " for shape " + shape_.str() + " (use reshape)");
        Tensor t = *this;
        t.shape_ = s;
        t.strides_ = contiguous_strides(s);
        return t;
    }
    // A view when possible, otherwise a contiguous copy.
    Tensor reshape(const Shape& shape) const { return is_contiguous() ? view(shape) : contiguous().view(shape); }
    Tensor flatten() const { return reshape(Shape{numel()}); }

    Tensor permute(const std::vector<int>& order) const {
        if (static_cast<int>(order.size()) != dim())
            throw shape_error("permute", "expected " + std::to_string(dim()) + " axes for shape " + shape_.str() +
                                             ", got " + std::to_string(order.size()));
        std::vector<bool> seen(dim(), false);
        Tensor t = *this;
        for (int i = 0; i < dim(); ++i) {
            const int a = normalize_axis("permute", order[i], dim());
            if (seen[a]) throw value_error("permute", "expected each axis once, got axis " + std::to_string(a) + " twice");
            seen[a] = true;
            t.shape_[i] = shape_[a];
            t.strides_[i] = strides_[a];
        }
        return t;
    }
    Tensor transpose(std::int64_t a, std::int64_t b) const {
        const int i = normalize_axis("transpose", a, dim()), j = normalize_axis("transpose", b, dim());
        Tensor t = *this;
        std::swap(t.shape_[i], t.shape_[j]);
        std::swap(t.strides_[i], t.strides_[j]);
        return t;
    }
    // Elements start, start+step, ... < stop along `axis` (negative start/stop count from the end).
    Tensor slice(std::int64_t axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1) const {
        const int a = normalize_axis("slice", axis, dim());
        const std::int64_t n = shape_[a];
        if (step < 1) throw value_error("slice", "expected step >= 1, got " + std::to_string(step));
        if (start < 0) start += n;
        if (stop < 0) stop += n;
        start = std::clamp<std::int64_t>(start, 0, n);
        stop = std::clamp<std::int64_t>(stop, start, n);
        Tensor t = *this;
        t.offset_ += start * strides_[a];
        t.shape_[a] = (stop - start + step - 1) / step;
        t.strides_[a] *= step;
        return t;
    }
    // Index `i` along `axis`, dropping that axis.
    Tensor select(std::int64_t axis, std::int64_t i) const {
        const int a = normalize_axis("select", axis, dim());
        if (i < -shape_[a] || i >= shape_[a])
            throw index_error("select", "expected index in [" + std::to_string(-shape_[a]) + ", " +
                                            std::to_string(shape_[a]) + ") on axis " + std::to_string(a) + " of " +
                                            shape_.str() + ", got " + std::to_string(i));
        Tensor t = slice(a, i < 0 ? i + shape_[a] : i, (i < 0 ? i + shape_[a] : i) + 1);
        t.shape_.erase(a);
        t.strides_.erase(a);
        return t;
    }
    Tensor unsqueeze(std::int64_t axis) const {
        const int a = normalize_axis("unsqueeze", axis, dim() + 1);
        Tensor t = *this;
        t.shape_.insert(a, 1);
        t.strides_.insert(a, a < dim() ? strides_[a] * shape_[a] : 1);
        return t;
    }
    Tensor squeeze(std::int64_t axis) const {
        const int a = normalize_axis("squeeze", axis, dim());
        if (shape_[a] != 1)
            throw shape_error("squeeze", "expected extent 1 on axis " + std::to_string(a) + ", got shape " + shape_.str());
        Tensor t = *this;
        t.shape_.erase(a);
        t.strides_.erase(a);
        return t;
    }
    // Broadcast to `shape` with zero strides (NumPy rules; -1 keeps an extent).
    Tensor expand(const Shape& shape) const {
        if (shape.size() < dim())
            throw shape_error("expand", "expected at least " + std::to_string(dim()) + " dims, got " + shape.str());
        Shape target = shape;
        const int off = shape.size() - dim();
        for (int i = 0; i < shape.size(); ++i) {
            const int j = i - off;
            if (target[i] == -1 && j >= 0) target[i] = shape_[j];
            if (j >= 0 && shape_[j] != target[i] && shape_[j] != 1)
                throw shape_error("expand", "expected a shape broadcastable from " + shape_.str() + ", got " + shape.str());
        }
        Tensor t = *this;
        t.strides_ = broadcast_strides(shape_, strides_, target);
        t.shape_ = target;
        return t;
    }

    // ---- copies --------------------------------------------------------------------------
    Tensor contiguous() const { return is_contiguous() ? *this : clone(); }
    Tensor clone() const { return to(dtype_); }
    // A contiguous copy converted to `dt`.
    Tensor to(dtype dt) const {
        require_defined("to");
        Tensor out = empty(shape_, dt);
        if (numel()) P::copy_strided(shape_, out.raw_data(), dt, out.strides_, raw_data(), dtype_, strides_);
        return out;
    }
    // This tensor in policy Q's memory, same shape and dtype: `host.to<cuda>()`, `dev.to<cpu>()`
    // (PyTorch's .to(device)). Q == P returns *this, sharing storage, as PyTorch returns self when
    // nothing changes (clone() for a copy). Otherwise the result is a new contiguous tensor
    // (non-contiguous sources are made contiguous first) filled through the policies' host
    // copies: one copy when either side is host memory (cpu), else staged through a host buffer.
    // Q = autodiff<D> gives a constant (no gradient) Tensor<autodiff<D>> holding to<D>().
    template <class Q> Tensor<Q> to() const {
        if constexpr (std::is_same_v<Q, P>) {
            return *this;
        } else if constexpr (requires { typename Q::inner; }) {  // autodiff<D>: wrap the moved value
            return Tensor<Q>(to<typename Q::inner>());
        } else {
            static_assert(requires(void* d, const void* s, std::size_t n) {
                Q::copy_from_host(d, s, n);
                Q::copy_to_host(d, s, n);
            }, "Tensor::to<Q>: Q must be a device policy (cpu, cuda) or autodiff<device policy>");
            require_defined("to");
            const Tensor c = contiguous();
            Tensor<Q> out = Tensor<Q>::empty(shape_, dtype_);
            const std::size_t bytes = static_cast<std::size_t>(numel()) * size_of(dtype_);
            if (bytes == 0) return out;
            if constexpr (host_memory_v<P>) {
                Q::copy_from_host(out.raw_data(), c.raw_data(), bytes);
            } else if constexpr (host_memory_v<Q>) {
                P::copy_to_host(out.raw_data(), c.raw_data(), bytes);
            } else {
                const auto staging = std::make_unique_for_overwrite<std::byte[]>(bytes);
                P::copy_to_host(staging.get(), c.raw_data(), bytes);
                Q::copy_from_host(out.raw_data(), staging.get(), bytes);
            }
            return out;
        }
    }
    // Writes `src` (broadcast to this shape, converted to this dtype) into this view.
    void copy_from(const Tensor& src) const {
        require_defined("copy_from");
        const Tensor s = src.expand(shape_);
        if (numel()) P::copy_strided(shape_, raw_data(), dtype_, strides_, s.raw_data(), s.dtype_, s.strides_);
    }
    void fill_(double value) const {
        if (numel()) P::fill(dtype_, raw_data(), shape_, strides_, value);
    }

    // Values in row-major order, converted to T, on the host.
    template <class T> std::vector<T> to_vector() const {
        require_defined("to_vector");
        const Tensor c = (dtype_ == dtype_of<T>()) ? contiguous() : to(dtype_of<T>());
        if constexpr (std::is_same_v<T, bool>) {  // std::vector<bool> has no data()
            std::vector<std::uint8_t> bytes(static_cast<std::size_t>(numel()));
            if (!bytes.empty()) P::copy_to_host(bytes.data(), c.raw_data(), bytes.size());
            return std::vector<bool>(bytes.begin(), bytes.end());
        } else {
            std::vector<T> v(static_cast<std::size_t>(numel()));
            if (!v.empty()) P::copy_to_host(v.data(), c.raw_data(), v.size() * sizeof(T));
            return v;
        }
    }
    template <class T> T item() const {
        if (numel() != 1) throw shape_error("item", "expected one element, got shape " + shape_.str());
        return to_vector<T>()[0];
    }

private:
    // Negative extents, and extents whose product (or its bytes) overflows int64, are refused
    // before anything is allocated: two extents of 2^32 would otherwise wrap to an empty buffer.
    static void check_extents(const char* op, const Shape& s, std::size_t element_size = 1) {
        std::int64_t n = 0, bytes = 0;
        if (!extents_fit(s, n)) throw shape_error(op, "expected non-negative extents whose product fits in int64, got " + s.str());
        if (__builtin_mul_overflow(n, static_cast<std::int64_t>(element_size), &bytes))
            throw shape_error(op, "expected a size in bytes that fits in int64, got " + s.str() + " of " + std::to_string(element_size) + "-byte elements");
    }
    void require_defined(const char* op) const {
        if (!defined()) throw value_error(op, "expected a defined tensor, got an empty handle");
    }
    static Tensor from_doubles(const std::vector<double>& v, const Shape& shape, dtype dt) {
        return from_data(std::span<const double>(v.data(), v.size()), shape).to(dt);
    }
    Shape infer_shape(const char* op, Shape s) const {
        int infer = -1;
        std::int64_t known = 1;
        for (int i = 0; i < s.size(); ++i) {
            if (s[i] == -1) {
                if (infer >= 0) throw shape_error(op, "expected at most one -1 extent, got " + s.str());
                infer = i;
            } else if (s[i] < 0) {
                throw shape_error(op, "expected non-negative extents, got " + s.str());
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0 && known > 0 && numel() % known == 0) s[infer] = numel() / known;
        if (s.numel() != numel())
            throw shape_error(op, "expected a shape with " + std::to_string(numel()) + " elements (from " +
                                      shape_.str() + "), got " + s.str());
        return s;
    }

    std::shared_ptr<Storage<P>> storage_;
    Shape shape_;
    Strides strides_;
    std::int64_t offset_ = 0;
    dtype dtype_ = dtype::f32;
};

}  // namespace omni

#pragma once
// xtensor interop: the N-d arrays users pass in and out. Copies in both directions (an omni
// tensor may be strided or shared; an xarray owns dense row-major data), zero-copy views both
// ways (an xtensor adaptor over a tensor's memory, dense or strided; a tensor over an xtensor
// container's memory), and .npy files through xtensor's reader and writer.
// Opt-in: only this header pulls in xtensor. Reading .npy is omni's own (xtensor's reader trusts
// the declared shape: it allocates before reading and leaves a short file's tail uninitialised).
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::io {

// A dense copy of any xtensor expression's values as a Tensor<cpu> of the element's dtype.
template <class E> Tensor<cpu> from_xtensor(const xt::xexpression<E>& expr) {
    using T = typename E::value_type;
    const xt::xarray<T, xt::layout_type::row_major> a = expr.derived_cast();
    Shape s;
    for (auto d : a.shape()) s.push_back(static_cast<std::int64_t>(d));
    return Tensor<cpu>::from_data(std::span<const T>(a.data(), a.size()), s);
}

// A dense row-major xarray<T> holding t's values converted to T.
template <class T> xt::xarray<T> to_xtensor(const Tensor<cpu>& t) {
    std::vector<T> v = t.to_vector<T>();
    std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
    return xt::adapt(std::move(v), shape);
}

// A view (no copy) of a contiguous tensor as an xtensor expression; valid while t lives.
template <class T> auto view_xtensor(const Tensor<cpu>& t) {
    if (!t.is_contiguous())
        throw shape_error("view_xtensor", "expected a contiguous tensor, got strides " + t.strides().str() + " for shape " + t.shape().str());
    std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
    return xt::adapt(t.data<T>(), static_cast<std::size_t>(t.numel()), xt::no_ownership(), shape);
}

// A view (no copy) of any tensor of T's dtype, strided or broadcast (a transpose, a stepped
// slice, an expand), as an xtensor adaptor over t's memory with t's shape and element strides:
// writes through it land in t. Valid while t's storage lives.
template <class T> auto view_xtensor_strided(const Tensor<cpu>& t) {
    std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
    std::vector<std::ptrdiff_t> strides(t.strides().begin(), t.strides().end());
    // The buffer size xtensor expects is the element count whatever the strides (it would try to
    // resize a buffer of any other size); elements are reached through the strides, not the size.
    return xt::adapt(t.data<T>(), static_cast<std::size_t>(t.numel()), xt::no_ownership(), std::move(shape), std::move(strides));
}

// A Tensor<cpu> viewing an xtensor container's memory (no copy; xarray, xtensor or an adaptor
// with data() and strides()), with its shape and strides: writes either way are seen by the
// other. The caller keeps the container alive, and unresized, while the tensor is in use.
template <class C> Tensor<cpu> borrow_xtensor(C& c) {
    using T = typename C::value_type;
    Shape shape;
    Strides strides;
    for (std::size_t i = 0; i < c.dimension(); ++i) {
        shape.push_back(static_cast<std::int64_t>(c.shape()[i]));
        // xtensor stores stride 0 for an extent of 1; any stride is valid there.
        strides.push_back(static_cast<std::int64_t>(c.strides()[i]));
    }
    return Tensor<cpu>::borrow(static_cast<void*>(c.data()), c.storage().size() * sizeof(T), shape, strides, dtype_of<T>());
}

namespace detail {

// The header dict of a .npy file ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }),
// parsed strictly: exactly these three keys, Python literals as numpy writes them.
struct NpyHeader {
    std::string descr;
    bool fortran_order = false;
    Shape shape;
};

class NpyHeaderParser {
public:
    NpyHeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}
    NpyHeader parse() {
        NpyHeader h;
        bool seen[3] = {false, false, false};
        expect('{');
        while (peek() != '}') {
            const std::string key = quoted();
            expect(':');
            if (key == "descr" && !seen[0]) h.descr = quoted(), seen[0] = true;
            else if (key == "fortran_order" && !seen[1]) h.fortran_order = boolean(), seen[1] = true;
            else if (key == "shape" && !seen[2]) h.shape = shape(), seen[2] = true;
            else fail("expected the keys 'descr', 'fortran_order' and 'shape' once each, got '" + key + "'");
            if (peek() == ',') ++i_;
        }
        if (!(seen[0] && seen[1] && seen[2])) fail("expected the keys 'descr', 'fortran_order' and 'shape', got fewer");
        return h;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw io_error("load_npy", path_ + ": header at byte " + std::to_string(i_) + ": " + what);
    }
    char peek() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
        if (i_ >= s_.size()) fail("expected more of the header dict, got its end");
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "', got '" + s_[i_] + "'");
        ++i_;
    }
    std::string quoted() {
        const char q = peek();
        if (q != '\'' && q != '"') fail("expected a quoted string");
        const std::size_t end = s_.find(q, ++i_);
        if (end == std::string_view::npos) fail("expected a closing quote, got none");
        std::string r(s_.substr(i_, end - i_));
        i_ = end + 1;
        return r;
    }
    bool boolean() {
        peek();
        for (const auto& [word, v] : {std::pair<std::string_view, bool>{"True", true}, {"False", false}})
            if (s_.substr(i_, word.size()) == word) return i_ += word.size(), v;
        fail("expected True or False");
    }
    Shape shape() {
        Shape out;
        expect('(');
        while (peek() != ')') {
            std::int64_t v = 0;
            const char* b = s_.data() + i_;
            const auto [end, ec] = std::from_chars(b, s_.data() + s_.size(), v);
            if (ec != std::errc() || v < 0) fail("expected a non-negative extent that fits in int64");
            if (out.size() == max_dims) fail("expected at most " + std::to_string(max_dims) + " extents");
            out.push_back(v);
            i_ += static_cast<std::size_t>(end - b);
            if (peek() == 'L') ++i_;  // Python 2's long suffix, as numpy still accepts
            if (peek() == ',') ++i_;
            else if (peek() != ')') fail("expected ',' or ')' in the shape");
        }
        ++i_;
        return out;
    }
    std::string_view s_;
    const std::string& path_;
    std::size_t i_ = 0;
};

}  // namespace detail

// The largest .npy header accepted, numpy's own default (np.load's max_header_size).
inline constexpr std::size_t max_npy_header = 10000;

// A .npy file (format 1.0, 2.0 or 3.0) whose dtype is exactly T's (np.float32 for float, np.bool_
// for bool, ...), as a tensor of T's dtype. The declared shape is checked against the file's size
// before anything is allocated; a short file, a bool byte other than 0 or 1, or any malformed
// header is an io_error naming the file.
template <class T> Tensor<cpu> load_npy(const std::string& path) {
    const char* op = "load_npy";
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw io_error(op, "expected a readable .npy file, got none at '" + path + "'");
    const std::uint64_t size = static_cast<std::uint64_t>(in.tellg());
    in.seekg(0);
    unsigned char pre[12] = {};
    const std::size_t pre_len = size >= 12 ? 12 : static_cast<std::size_t>(size);
    in.read(reinterpret_cast<char*>(pre), static_cast<std::streamsize>(pre_len));
    if (pre_len < 10 || std::memcmp(pre, "\x93NUMPY", 6) != 0)
        throw io_error(op, path + ": expected the .npy magic \\x93NUMPY, got another file");
    const unsigned major = pre[6];
    if (major < 1 || major > 3) throw io_error(op, path + ": expected .npy format version 1, 2 or 3, got " + std::to_string(major));
    const std::size_t prefix = major == 1 ? 10 : 12;
    if (pre_len < prefix) throw io_error(op, path + ": expected a " + std::to_string(prefix) + "-byte preamble, got " + std::to_string(pre_len));
    const std::uint64_t header_len = major == 1 ? (pre[8] | (pre[9] << 8))
                                                : (std::uint64_t{pre[8]} | (std::uint64_t{pre[9]} << 8) |
                                                   (std::uint64_t{pre[10]} << 16) | (std::uint64_t{pre[11]} << 24));
    if (header_len > max_npy_header || prefix + header_len > size)
        throw io_error(op, path + ": expected a header of at most " + std::to_string(max_npy_header) + " bytes inside the " +
                               std::to_string(size) + "-byte file, got " + std::to_string(header_len));
    std::string text(static_cast<std::size_t>(header_len), '\0');
    in.seekg(static_cast<std::streamoff>(prefix));
    if (!in.read(text.data(), static_cast<std::streamsize>(header_len))) throw io_error(op, path + ": expected the header, got a read error");
    const detail::NpyHeader h = detail::NpyHeaderParser(text, path).parse();
    const std::string want = xt::detail::build_typestring<T>();
    if (h.descr != want) throw io_error(op, path + ": expected dtype '" + want + "', got '" + h.descr + "'");
    std::int64_t numel = 0;
    const std::uint64_t data = size - prefix - header_len;
    if (!extents_fit(h.shape, numel) || static_cast<std::uint64_t>(numel) > data / sizeof(T))
        throw io_error(op, path + ": expected " + h.shape.str() + " x " + std::to_string(sizeof(T)) + " bytes of data, got " +
                               std::to_string(data) + " (truncated file?)");
    // Column-major data is read as the reversed shape in row-major order, then the axes reversed.
    Shape stored;
    std::vector<int> order;
    for (int i = h.shape.size() - 1; i >= 0; --i) stored.push_back(h.shape[i]), order.push_back(i);
    Tensor<cpu> t = Tensor<cpu>::empty(h.fortran_order ? stored : h.shape, dtype_of<T>());
    if (numel && !in.read(static_cast<char*>(t.raw_data()), static_cast<std::streamsize>(numel * sizeof(T))))
        throw io_error(op, path + ": expected " + std::to_string(numel * sizeof(T)) + " bytes of data, got a read error");
    if constexpr (std::is_same_v<T, bool>) {
        const auto* b = static_cast<const unsigned char*>(t.raw_data());
        for (std::int64_t i = 0; i < numel; ++i)
            if (b[i] > 1) throw io_error(op, path + ": expected bool bytes 0 or 1, got " + std::to_string(b[i]) + " at element " + std::to_string(i));
    }
    return h.fortran_order ? t.permute(order).contiguous() : t;
}

template <class T> void save_npy(const std::string& path, const Tensor<cpu>& t) {
    const std::string tmp = path + ".tmp";
    try {
        xt::dump_npy(tmp, to_xtensor<T>(t));
    } catch (const std::exception& e) {
        std::remove(tmp.c_str());
        throw io_error("save_npy", path + ": " + e.what());
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw io_error("save_npy", "cannot rename " + tmp + " to " + path);
    }
}

}  // namespace omni::io

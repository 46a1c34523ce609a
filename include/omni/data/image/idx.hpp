#pragma once
// IDX arrays, the file format of MNIST and Fashion-MNIST (LeCun et al.): a magic of four bytes
// 00 00 <type code> <ndim>, then ndim big-endian uint32 extents, then the values in row-major
// order, multi-byte values big-endian. The reader accepts plain and gzip-compressed files alike
// (Debian's dataset-fashion-mnist ships *.gz): zlib's gzread passes a plain file through
// unchanged, so callers never say which they have. Users link zlib (CMake: find_package(ZLIB),
// ZLIB::ZLIB); that is the one dependency this header adds.
//
// omni has no uint8 dtype, so bytes widen on load:
//   read_idx / parse_idx   any type code; 8/16/32-bit integers -> int32, float -> float32,
//                          double -> float64; shape as stored.
//   load_idx_images        unsigned bytes, 3-D -> float32 [N, H, W] in [0, 1] (value / 255, the
//                          scaling of torchvision's ToTensor), ready for image/transforms.hpp.
//   load_idx_labels        unsigned bytes, 1-D -> int64 [N], the dtype of class targets.
// `max_items` (>= 0) keeps only the first items along axis 0 and stops reading there, so a test
// or a quick run loads a subset of a 60,000-image file in a fraction of the time.
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::data {

// The element types an IDX file may declare, by their code in the magic.
enum class idx_type : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E };

/// An IDX array as stored: its element type, its extents, and its values still big-endian.
struct IdxArray {
    idx_type type = idx_type::u8;
    Shape shape;
    std::vector<std::uint8_t> bytes;
};

namespace detail {

inline std::string hex_byte(unsigned v) {
    static constexpr char digits[] = "0123456789abcdef";
    return std::string("0x") + digits[(v >> 4) & 15] + digits[v & 15];
}

inline int idx_element_size(std::uint8_t code) {
    switch (code) {
        case 0x08: case 0x09: return 1;
        case 0x0B: return 2;
        case 0x0C: case 0x0D: return 4;
        case 0x0E: return 8;
        default: return 0;
    }
}

// Bytes from memory; read() returns fewer than asked only at the end.
class IdxMemorySource {
public:
    explicit IdxMemorySource(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
    std::size_t read(void* dst, std::size_t n) {
        n = std::min(n, bytes_.size() - pos_);
        if (n) std::memcpy(dst, bytes_.data() + pos_, n);
        pos_ += n;
        return n;
    }
    std::string truncation_reason() const { return ""; }

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t pos_ = 0;
};

// Bytes from a plain or gzip file through zlib. A stream error (bad CRC, corrupt deflate data)
// throws with zlib's own words; a cut-off gzip stream reads short and is reported by the caller.
class IdxGzSource {
public:
    IdxGzSource(const std::filesystem::path& path, const char* op) : name_(path.string()), op_(op) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec))
            throw io_error(op, "expected a readable IDX file, got no regular file at '" + name_ + "'");
        file_ = gzopen(name_.c_str(), "rb");
        if (!file_) throw io_error(op, "expected a readable IDX file, got one that cannot be opened: '" + name_ + "'");
        gzbuffer(file_, 1u << 18);  // fewer, larger reads: decompression is the cost of loading
    }
    IdxGzSource(const IdxGzSource&) = delete;
    IdxGzSource& operator=(const IdxGzSource&) = delete;
    ~IdxGzSource() { gzclose(file_); }

    std::size_t read(void* dst, std::size_t n) {
        std::size_t done = 0;
        while (done < n) {
            const unsigned want = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
            const int got = gzread(file_, static_cast<char*>(dst) + done, want);
            if (got < 0) {
                throw io_error(op_, "expected a valid gzip stream in '" + name_ + "', got zlib error: " + zlib_message());
            }
            if (got == 0) break;
            done += static_cast<std::size_t>(got);
        }
        return done;
    }
    // zlib's note when a read came up short because the compressed stream itself ended early.
    std::string truncation_reason() {
        int code = 0;
        gzerror(file_, &code);
        return code == Z_OK ? std::string() : " (zlib: " + zlib_message() + ")";
    }

private:
    // zlib prefixes "<path>: "; the path is already in our message.
    std::string zlib_message() {
        int code = 0;
        std::string msg = gzerror(file_, &code);
        if (msg.starts_with(name_ + ": ")) msg.erase(0, name_.size() + 2);
        return msg;
    }

    gzFile file_ = nullptr;
    std::string name_;
    const char* op_;
};

// Magic and extents from `src`, every malformation named; `name` appears in messages. The
// returned array has its type and full shape and no bytes yet.
template <class Source> IdxArray read_idx_header(Source& src, const std::string& name, const char* op) {
    std::uint8_t magic[4];
    if (const std::size_t got = src.read(magic, 4); got < 4)
        throw io_error(op, "expected a 4-byte IDX magic in '" + name + "', got " + std::to_string(got) + " bytes" +
                               src.truncation_reason());
    if (magic[0] != 0 || magic[1] != 0)
        throw io_error(op, "expected an IDX magic starting 00 00 in '" + name + "', got " + hex_byte(magic[0]) + " " +
                               hex_byte(magic[1]) + " (not an IDX file)");
    const int esize = idx_element_size(magic[2]);
    if (esize == 0)
        throw io_error(op, "expected an IDX type code 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e in '" + name + "', got " +
                               hex_byte(magic[2]));
    const int ndim = magic[3];
    if (ndim < 1 || ndim > max_dims)
        throw io_error(op, "expected 1 to " + std::to_string(max_dims) + " IDX dimensions in '" + name + "', got " +
                               std::to_string(ndim));

    std::uint8_t raw_dims[4 * max_dims];
    if (const std::size_t got = src.read(raw_dims, 4 * static_cast<std::size_t>(ndim)); got < 4u * ndim)
        throw io_error(op, "expected " + std::to_string(4 * ndim) + " bytes of IDX dimensions in '" + name + "', got " +
                               std::to_string(got) + src.truncation_reason());
    IdxArray out;
    out.type = static_cast<idx_type>(magic[2]);
    // The byte count must fit a signed 64-bit size; a corrupt header could claim exabytes.
    unsigned __int128 total = static_cast<unsigned>(esize);
    for (int i = 0; i < ndim; ++i) {
        const std::uint8_t* d = raw_dims + 4 * i;
        const std::int64_t extent = (std::int64_t{d[0]} << 24) | (d[1] << 16) | (d[2] << 8) | d[3];
        out.shape.push_back(extent);
        total *= static_cast<std::uint64_t>(extent);
        if (total > static_cast<unsigned __int128>(PTRDIFF_MAX))
            throw io_error(op, "expected IDX dimensions whose byte size fits in memory in '" + name + "', got " +
                                   out.shape.str() + " at " + std::to_string(esize) + " bytes each");
    }
    // A zero extent makes the byte size 0 but strides still multiply the others.
    if (std::int64_t n = 0; !extents_fit(out.shape, n))
        throw io_error(op, "expected IDX dimensions whose product (zero extents aside) fits in int64 in '" + name + "', got " +
                               out.shape.str());
    return out;
}

// The values after the header; `max_items` >= 0 stops after that many items along axis 0.
template <class Source>
void read_idx_values(Source& src, IdxArray& out, const std::string& name, std::int64_t max_items, const char* op) {
    const int esize = idx_element_size(static_cast<std::uint8_t>(out.type));
    const bool subset = max_items >= 0 && max_items < out.shape[0];
    if (subset) out.shape[0] = max_items;
    const std::size_t want = static_cast<std::size_t>(out.shape.numel()) * static_cast<std::size_t>(esize);

    // Grow in chunks instead of trusting the header with one huge allocation: a truncated file
    // fails after reading what it has.
    constexpr std::size_t chunk = std::size_t{16} << 20;
    std::size_t have = 0;
    while (have < want) {
        const std::size_t step = std::min(chunk, want - have);
        out.bytes.resize(have + step);
        const std::size_t got = src.read(out.bytes.data() + have, step);
        have += got;
        if (got < step)
            throw io_error(op, "expected " + std::to_string(want) + " bytes of IDX data for shape " + out.shape.str() +
                                   " in '" + name + "', got " + std::to_string(have) + " (truncated file)" +
                                   src.truncation_reason());
    }
    if (!subset) {
        std::uint8_t extra;
        if (src.read(&extra, 1) != 0)
            throw io_error(op, "expected the IDX data for shape " + out.shape.str() + " to end the file '" + name +
                                   "', got trailing bytes (wrong dimensions?)");
    }
}

template <class Source>
IdxArray read_idx_array(Source& src, const std::string& name, std::int64_t max_items, const char* op) {
    IdxArray a = read_idx_header(src, name, op);
    read_idx_values(src, a, name, max_items, op);
    return a;
}

template <class T> T load_big_endian(const std::uint8_t* p) {
    using U = std::conditional_t<sizeof(T) == 1, std::uint8_t,
              std::conditional_t<sizeof(T) == 2, std::uint16_t,
              std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
    U u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>((u << 8) | p[i]);
    return std::bit_cast<T>(u);
}

template <class From, class To> Tensor<cpu> widen_idx(const IdxArray& a, dtype dt) {
    Tensor<cpu> t = Tensor<cpu>::empty(a.shape, dt);
    To* dst = t.data<To>();
    const std::int64_t n = a.shape.numel();
    for (std::int64_t i = 0; i < n; ++i)
        dst[i] = static_cast<To>(load_big_endian<From>(a.bytes.data() + i * static_cast<std::int64_t>(sizeof(From))));
    return t;
}

OMNI_ZLIB_INLINE void require_idx_layout(const IdxArray& a, int ndim, const std::string& name, const char* op, const char* what)
#if OMNI_ZLIB_DEFINE
{
    if (a.type != idx_type::u8)
        throw io_error(op, std::string("expected ") + what + " as unsigned bytes (type 0x08) in '" + name + "', got type " +
                               hex_byte(static_cast<unsigned>(a.type)));
    if (a.shape.size() != ndim)
        throw io_error(op, std::string("expected ") + what + " with " + std::to_string(ndim) + " dimensions in '" + name +
                               "', got shape " + a.shape.str());
}
#else
;
#endif

}  // namespace detail

// The array as stored (values still big-endian), from a plain or gzip file.
OMNI_ZLIB_INLINE IdxArray read_idx_array(const std::filesystem::path& path, std::int64_t max_items = -1)
#if OMNI_ZLIB_DEFINE
{
    detail::IdxGzSource src(path, "read_idx");
    return detail::read_idx_array(src, path.string(), max_items, "read_idx");
}
#else
;
#endif

// IDX values as a tensor of their natural omni dtype (see the header comment).
OMNI_ZLIB_INLINE Tensor<cpu> to_tensor(const IdxArray& a)
#if OMNI_ZLIB_DEFINE
{
    switch (a.type) {
        case idx_type::u8: return detail::widen_idx<std::uint8_t, std::int32_t>(a, dtype::i32);
        case idx_type::i8: return detail::widen_idx<std::int8_t, std::int32_t>(a, dtype::i32);
        case idx_type::i16: return detail::widen_idx<std::int16_t, std::int32_t>(a, dtype::i32);
        case idx_type::i32: return detail::widen_idx<std::int32_t, std::int32_t>(a, dtype::i32);
        case idx_type::f32: return detail::widen_idx<float, float>(a, dtype::f32);
        case idx_type::f64: return detail::widen_idx<double, double>(a, dtype::f64);
    }
    throw io_error("read_idx", "expected a known IDX type, got " + detail::hex_byte(static_cast<unsigned>(a.type)));
}
#else
;
#endif

OMNI_ZLIB_INLINE Tensor<cpu> read_idx(const std::filesystem::path& path, std::int64_t max_items = -1)
#if OMNI_ZLIB_DEFINE
{
    return to_tensor(read_idx_array(path, max_items));
}
#else
;
#endif

// The same from bytes already in memory (uncompressed); `name` labels errors.
OMNI_ZLIB_INLINE Tensor<cpu> parse_idx(std::span<const std::uint8_t> bytes, const std::string& name = "<memory>",
                             std::int64_t max_items = -1)
#if OMNI_ZLIB_DEFINE
{
    detail::IdxMemorySource src(bytes);
    return to_tensor(detail::read_idx_array(src, name, max_items, "parse_idx"));
}
#else
;
#endif

// An images file (unsigned bytes, [N, H, W]) as float32 in [0, 1].
OMNI_ZLIB_INLINE Tensor<cpu> load_idx_images(const std::filesystem::path& path, std::int64_t max_items = -1)
#if OMNI_ZLIB_DEFINE
{
    detail::IdxGzSource src(path, "load_idx_images");
    IdxArray a = detail::read_idx_header(src, path.string(), "load_idx_images");
    detail::require_idx_layout(a, 3, path.string(), "load_idx_images", "images");
    detail::read_idx_values(src, a, path.string(), max_items, "load_idx_images");
    Tensor<cpu> t = Tensor<cpu>::empty(a.shape, dtype::f32);
    float* dst = t.data<float>();
    const std::size_t n = a.bytes.size();
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(a.bytes[i]) / 255.0f;  // as ToTensor divides
    return t;
}
#else
;
#endif

// A labels file (unsigned bytes, [N]) as int64.
OMNI_ZLIB_INLINE Tensor<cpu> load_idx_labels(const std::filesystem::path& path, std::int64_t max_items = -1)
#if OMNI_ZLIB_DEFINE
{
    detail::IdxGzSource src(path, "load_idx_labels");
    IdxArray a = detail::read_idx_header(src, path.string(), "load_idx_labels");
    detail::require_idx_layout(a, 1, path.string(), "load_idx_labels", "labels");
    detail::read_idx_values(src, a, path.string(), max_items, "load_idx_labels");
    return detail::widen_idx<std::uint8_t, std::int64_t>(a, dtype::i64);
}
#else
;
#endif

}  // namespace omni::data

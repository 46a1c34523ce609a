#pragma once
// safetensors files (the Hugging Face format: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}}, then raw little-endian tensor bytes). omni uses
// it for weights exchanged with PyTorch and for checkpoints. Reads map the file and let aligned
// tensors borrow the mapping (docs/interop.md); F16 and BF16 are read and written as stored.
// Writes go to a temporary file that is renamed into place, so a crash never leaves a
// half-written file under the real name (and a reader's mapping of the old file stays valid).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "omni/io/half.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::io {

namespace detail {
inline const char* st_name(dtype t) {
    switch (t) {
        case dtype::f32: return "F32";
        case dtype::f64: return "F64";
        case dtype::i32: return "I32";
        case dtype::i64: return "I64";
        case dtype::b8: return "BOOL";
        case dtype::bf16: return "BF16";
        case dtype::f16: return "F16";
    }
    return "?";
}
inline bool st_dtype(const std::string& s, dtype& t) {
    static const std::map<std::string, dtype> m{{"F32", dtype::f32}, {"F64", dtype::f64}, {"I32", dtype::i32}, {"I64", dtype::i64},
                                                {"BOOL", dtype::b8}, {"BF16", dtype::bf16}, {"F16", dtype::f16}};
    auto it = m.find(s);
    if (it == m.end()) return false;
    t = it->second;
    return true;
}

// Just enough JSON for a safetensors header: objects, strings, integer arrays.
class HeaderParser {
public:
    HeaderParser(const std::string& text, const std::string& file) : s_(text), file_(file) {}

    struct Entry {
        std::string dtype_name;
        std::vector<std::int64_t> shape, offsets;
    };
    std::map<std::string, Entry> parse(std::map<std::string, std::string>& metadata) {
        std::map<std::string, Entry> out;
        expect('{');
        if (peek() == '}') return ++i_, out;
        while (true) {
            const std::string key = string();
            expect(':');
            if (key == "__metadata__") {
                expect('{');
                while (peek() != '}') {
                    const std::string k = string();
                    expect(':');
                    metadata[k] = string();
                    if (peek() == ',') ++i_;
                }
                ++i_;
            } else {
                Entry e;
                expect('{');
                while (true) {
                    const std::string f = string();
                    expect(':');
                    if (f == "dtype") e.dtype_name = string();
                    else if (f == "shape") e.shape = ints();
                    else if (f == "data_offsets") e.offsets = ints();
                    else fail("unknown field '" + f + "'");
                    if (peek() == ',') { ++i_; continue; }
                    expect('}');
                    break;
                }
                if (!out.emplace(key, e).second) fail("duplicate tensor '" + key + "'");
            }
            if (peek() == ',') { ++i_; continue; }
            expect('}');
            return out;
        }
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw io_error("read_safetensors", file_ + ": malformed header at byte " + std::to_string(i_) + ": " + what);
    }
    char peek() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
        if (i_ >= s_.size()) fail("unexpected end");
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++i_;
    }
    std::string string() {
        expect('"');
        std::string r;
        while (i_ < s_.size() && s_[i_] != '"') {
            if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
            r += s_[i_++];
        }
        if (i_ >= s_.size()) fail("unterminated string");
        ++i_;
        return r;
    }
    std::vector<std::int64_t> ints() {
        std::vector<std::int64_t> v;
        expect('[');
        if (peek() == ']') return ++i_, v;
        while (true) {
            peek();
            std::size_t used = 0;
            try {
                v.push_back(std::stoll(s_.substr(i_, 24), &used));
            } catch (const std::exception&) {
                fail("expected an integer");
            }
            i_ += used;
            if (peek() == ',') { ++i_; continue; }
            expect(']');
            return v;
        }
    }
    const std::string& s_;
    std::string file_;
    std::size_t i_ = 0;
};
}  // namespace detail

/// A whole safetensors file, tensors by name. Read with the default options, tensors whose bytes
/// are aligned borrow a private mapping of the file instead of a copy (see read_safetensors).
class Safetensors {
public:
    std::map<std::string, Tensor<cpu>> tensors;
    std::map<std::string, std::string> metadata;
    std::size_t mapped = 0;  // how many of the tensors borrow the file's mapping (the rest are copies)

    bool contains(const std::string& name) const { return tensors.count(name) != 0; }
    const Tensor<cpu>& at(const std::string& name) const {
        auto it = tensors.find(name);
        if (it == tensors.end()) throw io_error("safetensors", "no tensor named '" + name + "'");
        return it->second;
    }
};

/// How read_safetensors reads: mapped or copied, and whether F16/BF16 become f32.
struct SafetensorsReadOptions {
    // Map the file and let aligned tensors borrow the mapping (zero copy); false reads a copy of
    // every tensor through a stream. A tensor whose data offset is not a multiple of its element
    // size is copied either way. The mapping is private (MAP_PRIVATE): writes to a mapped tensor
    // stay in this process and never reach the file.
    bool map = true;
    // F16 and BF16 tensors become float32 copies; otherwise they keep dtype::f16 / dtype::bf16
    // (io::to_dtype and load_weights convert them on demand).
    bool half_to_f32 = false;
};

// The largest JSON header read_safetensors accepts, as the safetensors crate's MAX_HEADER_SIZE:
// the header is read whole before anything in it is checked.
inline constexpr std::uint64_t max_safetensors_header = 100'000'000;

namespace detail {
// A read-only file mapped copy-on-write, unmapped when the last tensor borrowing it goes.
struct FileMapping {
    void* base = nullptr;
    std::size_t size = 0;
    FileMapping(const FileMapping&) = delete;
    FileMapping& operator=(const FileMapping&) = delete;
    FileMapping() = default;
    ~FileMapping() {
        if (base) ::munmap(base, size);
    }
    const unsigned char* bytes() const { return static_cast<const unsigned char*>(base); }
};

// The whole file mapped, or null where it cannot be (an empty file, a pipe, a file system
// without mmap): the caller then reads through a stream.
inline std::shared_ptr<FileMapping> map_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat st {};
    std::shared_ptr<FileMapping> m;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            m = std::make_shared<FileMapping>();
            m->base = p;
            m->size = static_cast<std::size_t>(st.st_size);
        }
    }
    ::close(fd);  // the mapping outlives the descriptor
    return m;
}

// The bytes of a file, from its mapping or a stream: what the reader checks is the same either way.
class FileBytes {
public:
    FileBytes(const std::string& path, bool map) : path_(path) {
        if (map) map_ = map_file(path);
        if (map_) { size_ = map_->size; return; }
        in_.open(path, std::ios::binary);
        if (!in_) throw io_error("read_safetensors", "cannot open " + path);
        in_.seekg(0, std::ios::end);
        size_ = static_cast<std::uint64_t>(in_.tellg());
        in_.seekg(0);
    }
    std::uint64_t size() const { return size_; }
    const std::shared_ptr<FileMapping>& mapping() const { return map_; }
    // Copies n bytes at `offset` (already checked to lie inside the file) into dst.
    bool read(std::uint64_t offset, void* dst, std::uint64_t n) {
        if (n == 0) return true;
        if (map_) return std::memcpy(dst, map_->bytes() + offset, n), true;
        in_.seekg(static_cast<std::streamoff>(offset));
        return static_cast<bool>(in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n)));
    }

private:
    std::string path_;
    std::shared_ptr<FileMapping> map_;
    std::ifstream in_;
    std::uint64_t size_ = 0;
};
}  // namespace detail

// Reads every tensor of a safetensors file. Every header field is checked against the file
// before anything is allocated or mapped memory is read (sizes, offsets inside the data section,
// extents, dtype names, bool bytes 0 or 1); any failure is an io_error naming the file.
// ref: the safetensors format (github.com/huggingface/safetensors, "Format"): 8 bytes N
// (little-endian u64), N bytes of JSON header, then the data section; data_offsets are relative
// to the data section's start and tensors are dense, row-major, little-endian.
inline Safetensors read_safetensors(const std::string& path, const SafetensorsReadOptions& opts = {}) {
    detail::FileBytes f(path, opts.map);
    const std::uint64_t size = f.size();
    unsigned char len_bytes[8];
    if (size < 8 || !f.read(0, len_bytes, 8))
        throw io_error("read_safetensors", path + ": expected at least 8 bytes, got " + std::to_string(size));
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
    if (n > size - 8) throw io_error("read_safetensors", path + ": header of " + std::to_string(n) + " bytes exceeds the file (" + std::to_string(size) + " bytes)");
    if (n > max_safetensors_header)
        throw io_error("read_safetensors", path + ": expected a header of at most " + std::to_string(max_safetensors_header) + " bytes, got " + std::to_string(n));
    std::string header(n, '\0');
    if (!f.read(8, header.data(), n)) throw io_error("read_safetensors", path + ": expected " + std::to_string(n) + " header bytes, got a read error");
    Safetensors out;
    const auto entries = detail::HeaderParser(header, path).parse(out.metadata);
    const std::uint64_t data_start = 8 + n, data_size = size - data_start;
    for (const auto& [name, e] : entries) {
        dtype t;
        if (!detail::st_dtype(e.dtype_name, t)) throw io_error("read_safetensors", path + ": tensor '" + name + "' has unsupported dtype " + e.dtype_name);
        if (e.offsets.size() != 2 || e.offsets[0] < 0 || e.offsets[1] < e.offsets[0] || static_cast<std::uint64_t>(e.offsets[1]) > data_size)
            throw io_error("read_safetensors", path + ": tensor '" + name + "' has data offsets outside the " + std::to_string(data_size) + "-byte data section");
        for (auto d : e.shape)
            if (d < 0) throw io_error("read_safetensors", path + ": tensor '" + name + "' has a negative extent");
        if (e.shape.size() > static_cast<std::size_t>(max_dims)) throw io_error("read_safetensors", path + ": tensor '" + name + "' has more than 8 dims");
        const Shape s(e.shape);
        std::int64_t numel = 0;
        if (!extents_fit(s, numel) || static_cast<std::uint64_t>(numel) > data_size / size_of(t) + 1)
            throw io_error("read_safetensors", path + ": tensor '" + name + "' of shape " + s.str() + " holds more elements than the " +
                                                   std::to_string(data_size) + "-byte data section");
        const std::uint64_t bytes = static_cast<std::uint64_t>(numel) * size_of(t);
        if (bytes != static_cast<std::uint64_t>(e.offsets[1] - e.offsets[0]))
            throw io_error("read_safetensors", path + ": tensor '" + name + "' of shape " + s.str() + " needs " + std::to_string(bytes) + " bytes, got " +
                                                   std::to_string(e.offsets[1] - e.offsets[0]));
        const std::uint64_t at = data_start + static_cast<std::uint64_t>(e.offsets[0]);
        Tensor<cpu> x;
        const bool half = t == dtype::f16 || t == dtype::bf16;
        // Zero copy needs the element's natural alignment (the mapping itself is page-aligned).
        if (f.mapping() && bytes && at % size_of(t) == 0 && !(half && opts.half_to_f32)) {
            x = Tensor<cpu>::borrow(const_cast<unsigned char*>(f.mapping()->bytes()) + at, bytes, s, contiguous_strides(s), t, f.mapping());
            ++out.mapped;
        } else {
            x = Tensor<cpu>::empty(s, t);
            if (!f.read(at, x.raw_data(), bytes)) throw io_error("read_safetensors", path + ": truncated data for tensor '" + name + "'");
        }
        if (t == dtype::b8) {  // any other byte in a bool is undefined behaviour on use
            const auto* p = static_cast<const std::uint8_t*>(x.raw_data());
            for (std::uint64_t i = 0; i < bytes; ++i)
                if (p[i] > 1)
                    throw io_error("read_safetensors", path + ": tensor '" + name + "' (BOOL): expected bytes 0 or 1, got " + std::to_string(p[i]) +
                                                           " at element " + std::to_string(i));
        }
        if (half && opts.half_to_f32) x = to_dtype(x, dtype::f32);
        out.tensors.emplace(name, std::move(x));
    }
    return out;
}

// Writes tensors (any strides and dtype, F16 and BF16 included; stored dense, each aligned to
// its element size) atomically: temp file, then rename.
inline void write_safetensors(const std::string& path, const std::map<std::string, Tensor<cpu>>& tensors,
                              const std::map<std::string, std::string>& metadata = {}) {
    auto quote = [](const std::string& s) {
        std::string r = "\"";
        for (char c : s) r += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
        return r + "\"";
    };
    std::string h = "{";
    if (!metadata.empty()) {
        h += "\"__metadata__\":{";
        bool first = true;
        for (const auto& [k, v] : metadata) h += (first ? "" : ",") + quote(k) + ":" + quote(v), first = false;
        h += "}";
    }
    // Data in order of element size, largest first (then by name), as the safetensors library
    // lays it out: with the 8-aligned data section every tensor starts aligned to its element
    // size, so a reader can map each one without a copy.
    std::vector<std::pair<std::string, const Tensor<cpu>*>> order;
    for (const auto& [name, t] : tensors) order.emplace_back(name, &t);
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return size_of(a.second->type()) > size_of(b.second->type()); });
    std::uint64_t off = 0;
    std::vector<Tensor<cpu>> dense;
    for (const auto& [name, tp] : order) {
        const Tensor<cpu>& t = *tp;
        dense.push_back(t.is_contiguous() ? t : to_dtype(t, t.type()));  // to_dtype: float16 has no Tensor::to
        const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * size_of(t.type());
        std::string shape;
        for (int i = 0; i < t.dim(); ++i) {  // appended piece by piece: GCC 12's -Wrestrict misfires on "," + std::string
            if (i) shape += ',';
            shape += std::to_string(t.shape()[i]);
        }
        if (h.size() > 1) h += ',';
        h += quote(name);
        h += ":{\"dtype\":\"";
        h += detail::st_name(t.type());
        h += "\",\"shape\":[" + shape + "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + bytes) + "]}";
        off += bytes;
    }
    h += "}";
    while (h.size() % 8) h += ' ';  // keeps the data section 8-byte aligned, as the format recommends
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) throw io_error("write_safetensors", "cannot create " + tmp);
        unsigned char len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(h.size()) >> (8 * i));
        f.write(reinterpret_cast<const char*>(len), 8);
        f.write(h.data(), static_cast<std::streamsize>(h.size()));
        for (const auto& t : dense)
            if (t.numel()) f.write(static_cast<const char*>(t.raw_data()), static_cast<std::streamsize>(t.numel() * size_of(t.type())));
        f.flush();
        if (!f) {
            std::remove(tmp.c_str());
            throw io_error("write_safetensors", "write failed for " + tmp);
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        throw io_error("write_safetensors", "cannot rename " + tmp + " to " + path + ": " + ec.message());
    }
}

}  // namespace omni::io

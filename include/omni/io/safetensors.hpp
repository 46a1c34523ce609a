#pragma once
// safetensors files (the Hugging Face format: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}}, then raw little-endian tensor bytes). omni uses
// it for weights exchanged with PyTorch and for checkpoints. Writes go to a temporary file that
// is renamed into place, so a crash never leaves a half-written file under the real name.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

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

// A whole safetensors file in memory, tensors by name.
class Safetensors {
public:
    std::map<std::string, Tensor<cpu>> tensors;
    std::map<std::string, std::string> metadata;

    bool contains(const std::string& name) const { return tensors.count(name) != 0; }
    const Tensor<cpu>& at(const std::string& name) const {
        auto it = tensors.find(name);
        if (it == tensors.end()) throw io_error("safetensors", "no tensor named '" + name + "'");
        return it->second;
    }
};

// The largest JSON header read_safetensors accepts, as the safetensors crate's MAX_HEADER_SIZE:
// the header is read whole before anything in it is checked.
inline constexpr std::uint64_t max_safetensors_header = 100'000'000;

inline Safetensors read_safetensors(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error("read_safetensors", "cannot open " + path);
    f.seekg(0, std::ios::end);
    const std::uint64_t size = static_cast<std::uint64_t>(f.tellg());
    f.seekg(0);
    unsigned char len_bytes[8];
    if (size < 8 || !f.read(reinterpret_cast<char*>(len_bytes), 8))
        throw io_error("read_safetensors", path + ": expected at least 8 bytes, got " + std::to_string(size));
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
    if (n > size - 8) throw io_error("read_safetensors", path + ": header of " + std::to_string(n) + " bytes exceeds the file (" + std::to_string(size) + " bytes)");
    if (n > max_safetensors_header)
        throw io_error("read_safetensors", path + ": expected a header of at most " + std::to_string(max_safetensors_header) + " bytes, got " + std::to_string(n));
    std::string header(n, '\0');
    if (!f.read(header.data(), static_cast<std::streamsize>(n))) throw io_error("read_safetensors", path + ": expected " + std::to_string(n) + " header bytes, got a read error");
    Safetensors out;
    const auto entries = detail::HeaderParser(header, path).parse(out.metadata);
    const std::uint64_t data_size = size - 8 - n;
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
        Tensor<cpu> x = Tensor<cpu>::empty(s, t);
        f.seekg(static_cast<std::streamoff>(8 + n + e.offsets[0]));
        if (bytes && !f.read(static_cast<char*>(x.raw_data()), static_cast<std::streamsize>(bytes)))
            throw io_error("read_safetensors", path + ": truncated data for tensor '" + name + "'");
        if (t == dtype::b8) {  // any other byte in a bool is undefined behaviour on use
            const auto* p = static_cast<const std::uint8_t*>(x.raw_data());
            for (std::uint64_t i = 0; i < bytes; ++i)
                if (p[i] > 1)
                    throw io_error("read_safetensors", path + ": tensor '" + name + "' (BOOL): expected bytes 0 or 1, got " + std::to_string(p[i]) +
                                                           " at element " + std::to_string(i));
        }
        out.tensors.emplace(name, std::move(x));
    }
    return out;
}

// Writes tensors (any strides; stored dense, in name order) atomically: temp file, then rename.
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
    std::uint64_t off = 0;
    std::vector<Tensor<cpu>> dense;
    for (const auto& [name, t] : tensors) {
        dense.push_back(t.contiguous());
        const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * size_of(t.type());
        std::string shape;
        for (int i = 0; i < t.dim(); ++i) shape += (i ? "," : "") + std::to_string(t.shape()[i]);
        h += std::string(h.size() > 1 ? "," : "") + quote(name) + ":{\"dtype\":\"" + detail::st_name(t.type()) + "\",\"shape\":[" + shape +
             "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + bytes) + "]}";
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

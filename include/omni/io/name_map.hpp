#pragma once
// Name maps: a declarative table from a foreign checkpoint's keys to omni's module names, one per
// checkpoint family (io/name_maps/). Each entry says how one module tensor is made from one file
// tensor: as is, reshaped, transposed, or one equal chunk of a packed tensor (open_clip's
// attn.in_proj_weight holds q, k and v stacked); or zeros, for a tensor the family lacks.
// Patterns: '*' stands for one dotted segment (a layer index) and the k-th '*' of `from` takes
// what the k-th '*' of `to` matched; an entry whose `to` ends in '.' (or is empty) covers every
// name under that prefix, the rest of the name carried over. The first matching entry wins; a
// name no entry matches is read under its own name.
#include <string>
#include <vector>

#include "omni/io/weights.hpp"

namespace omni::io {

enum class map_op { rename, reshape, transpose, chunk, zeros };

/// One rule of a checkpoint family's name map: the module names it fills, the file key it reads and the op (rename, reshape, transpose, chunk, zeros) applied on the way.
struct NameMapEntry {
    std::string to;    // module name pattern
    std::string from;  // file key pattern (unused by zeros)
    map_op op = map_op::rename;
    std::int64_t axis = 0, part = 0, parts = 1;  // chunk: part `part` of `parts` along `axis`
};

/// A checkpoint family's declarative table from foreign names to omni's module names, used by load_weights.
struct NameMap {
    std::string family;  // named in errors ("open_clip ViT")
    std::vector<NameMapEntry> entries;
};

// The entry kinds, for writing tables: {renamed("norm.", "ln_post."), chunk("q.weight", "in_proj_weight", 0, 3)}.
namespace map_entry {
inline NameMapEntry renamed(std::string to, std::string from) { return {std::move(to), std::move(from), map_op::rename}; }
// The file tensor's values in the module tensor's shape (same element count): [D] -> [1, 1, D].
inline NameMapEntry reshaped(std::string to, std::string from) { return {std::move(to), std::move(from), map_op::reshape}; }
// A 2-D file tensor transposed: x @ W [in, out] as a Linear's weight [out, in].
inline NameMapEntry transposed(std::string to, std::string from) { return {std::move(to), std::move(from), map_op::transpose}; }
inline NameMapEntry chunk(std::string to, std::string from, std::int64_t part, std::int64_t parts, std::int64_t axis = 0) {
    return {std::move(to), std::move(from), map_op::chunk, axis, part, parts};
}
inline NameMapEntry zeros(std::string to) { return {std::move(to), "", map_op::zeros}; }
}  // namespace map_entry

namespace detail {
// Whether `name` matches `pattern`; the text each '*' matched, and for a prefix pattern the rest
// of the name, go to `caps` in order.
inline bool match_name(const std::string& pattern, const std::string& name, std::vector<std::string>& caps) {
    caps.clear();
    std::size_t p = 0, n = 0;
    while (p < pattern.size()) {
        if (pattern[p] == '*') {
            const std::size_t end = name.find('.', n);
            const std::size_t stop = end == std::string::npos ? name.size() : end;
            if (stop == n) return false;
            caps.push_back(name.substr(n, stop - n));
            n = stop, ++p;
        } else {
            if (n >= name.size() || name[n] != pattern[p]) return false;
            ++n, ++p;
        }
    }
    if (pattern.empty() || pattern.back() == '.') return caps.push_back(name.substr(n)), true;
    return n == name.size();
}
inline std::string fill_name(const std::string& pattern, const std::vector<std::string>& caps, bool prefix) {
    std::string out;
    std::size_t k = 0;
    for (char c : pattern) out += (c == '*' && k < caps.size()) ? caps[k++] : std::string(1, c);
    if (prefix && !caps.empty()) out += caps.back();
    return out;
}
}  // namespace detail

/// Where a module tensor comes from under a map: the entry (null: none matched, the name itself)
/// and the file key.
struct MappedName {
    const NameMapEntry* entry = nullptr;
    std::string key;
};
inline MappedName map_name(const NameMap& map, const std::string& name) {
    std::vector<std::string> caps;
    for (const auto& e : map.entries)
        if (detail::match_name(e.to, name, caps)) return {&e, detail::fill_name(e.from, caps, e.to.empty() || e.to.back() == '.')};
    return {nullptr, name};
}

// The tensor that module tensor `name` of shape `want` takes from `file` under `map`: a view of
// the file's tensor where the entry allows (no copy), or an undefined tensor when the file lacks
// it. A tensor of the wrong shape for the entry or the module is a shape_error naming both names.
inline Tensor<cpu> mapped_tensor(const NameMap& map, const Safetensors& file, const std::string& name, const Shape& want) {
    const MappedName m = map_name(map, name);
    const map_op op = m.entry ? m.entry->op : map_op::rename;
    if (op == map_op::zeros) return Tensor<cpu>::zeros(want);
    auto it = file.tensors.find(m.key);
    if (it == file.tensors.end()) return {};
    const std::string what = "'" + m.key + "' (for " + name + ", " + map.family + " map)";
    Tensor<cpu> t = it->second;
    if (op == map_op::reshape) {
        if (t.numel() != want.numel())
            throw shape_error("load_weights", what + ": expected " + std::to_string(want.numel()) + " elements to reshape to " + want.str() + ", got " + t.shape().str());
        t = t.reshape(want);
    } else if (op == map_op::transpose) {
        if (t.dim() != 2) throw shape_error("load_weights", what + ": expected a 2-D tensor to transpose, got " + t.shape().str());
        t = t.transpose(0, 1);
    } else if (op == map_op::chunk) {
        const NameMapEntry& e = *m.entry;
        if (e.axis < 0 || e.axis >= t.dim() || e.parts < 1 || e.part < 0 || e.part >= e.parts || t.shape()[static_cast<int>(e.axis)] % e.parts != 0)
            throw shape_error("load_weights", what + ": expected axis " + std::to_string(e.axis) + " divisible into " + std::to_string(e.parts) +
                                                  " chunks (taking chunk " + std::to_string(e.part) + "), got " + t.shape().str());
        const std::int64_t n = t.shape()[static_cast<int>(e.axis)] / e.parts;
        t = t.slice(e.axis, e.part * n, (e.part + 1) * n);
    }
    if (!(t.shape() == want)) throw shape_error("load_weights", what + ": expected " + want.str() + ", got " + t.shape().str());
    return t;
}

// Copies every tensor of m from `file` through `map`. strict: every module tensor must be found
// (zeros entries count as found); tensors of the file that no module tensor reads are ignored.
template <nn::module M> void load_weights(M& m, const Safetensors& file, const NameMap& map, bool strict = true) {
    nn::for_each_tensor(m, [&](const std::string& name, auto& t, bool) {
        if (!t.defined()) return;
        const Tensor<cpu> src = mapped_tensor(map, file, name, t.shape());
        if (!src.defined()) {
            if (strict)
                throw io_error("load_weights", "expected tensor '" + map_name(map, name).key + "' (for " + name + ", " + map.family + " map) of shape " +
                                                   t.shape().str() + ", got none in the file");
            return;
        }
        detail::assign(t, src);
    });
}

template <nn::module M> void load_weights(M& m, const std::string& path, const NameMap& map, bool strict = true) {
    load_weights(m, read_safetensors(path), map, strict);
}

}  // namespace omni::io

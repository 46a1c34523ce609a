#pragma once
// Module weights by PyTorch name: save every tensor of a module (parameters and buffers) to a
// safetensors file, or load one into a module. A module's visit names the tensors, so a model
// whose names follow its PyTorch counterpart loads a PyTorch state_dict exported to
// safetensors directly.
#include <map>
#include <string>
#include <vector>

#include "omni/io/safetensors.hpp"
#include "omni/nn/module.hpp"

namespace omni::io {

namespace detail {
template <class P> Tensor<cpu> to_host(const Tensor<P>& t) {
    const auto& v = nn::value_of(t);
    if constexpr (std::is_same_v<nn::device_of_t<P>, cpu>) return v;
    else return Tensor<cpu>::from_data(v.template to_vector<double>(), v.shape()).to(v.type());
}
// Overwrites the storage of dst (keeping its dtype, its tape identity and every view of it).
template <class P> void assign(const Tensor<P>& dst, const Tensor<cpu>& src) {
    using D = nn::device_of_t<P>;
    const Tensor<D>& d = nn::value_of(dst);
    // copy_from converts every dtype with CPU kernels; float16 goes through to_dtype first.
    if constexpr (std::is_same_v<D, cpu>) d.copy_from(src.type() == dtype::f16 ? to_dtype(src, d.type()) : src);
    else d.copy_from(Tensor<D>::from_data(to_dtype(src, dtype::f64).template to_vector<double>(), src.shape()).to(d.type()));
}
}  // namespace detail

template <nn::module M> std::map<std::string, Tensor<cpu>> state_dict(M& m) {
    std::map<std::string, Tensor<cpu>> out;
    nn::for_each_tensor(m, [&](const std::string& name, auto& t, bool) {
        if (t.defined()) out.emplace(name, detail::to_host(t));
    });
    return out;
}

template <nn::module M> void save_weights(M& m, const std::string& path, const std::map<std::string, std::string>& metadata = {}) {
    write_safetensors(path, state_dict(m), metadata);
}

/// A renaming between file keys and module names: the module tensor `to + rest` is read from the
/// file key `from + rest`. {"visual.", ""} loads the "visual." tower of a CLIP file into a ViT,
/// {"model.", ""} strips a wrapper's prefix, {"fc.", "head."} renames one submodule.
struct PrefixRule {
    std::string from, to;
};

/// How load_weights matches file keys to module names: strict or not, and prefix rules.
struct LoadOptions {
    bool strict = true;  // every module tensor must be in the file (extra file tensors are always allowed)
    std::vector<PrefixRule> rules;  // the first rule whose `to` starts the name applies; none: the name itself
};

// The file key that module tensor `name` is read from under `rules`.
inline std::string file_key(const std::string& name, const std::vector<PrefixRule>& rules) {
    for (const auto& r : rules)
        if (name.compare(0, r.to.size(), r.to) == 0) return r.from + name.substr(r.to.size());
    return name;
}

// Copies every tensor of m from `file` by (renamed) name and shape.
template <nn::module M> void load_weights(M& m, const Safetensors& file, const LoadOptions& o) {
    nn::for_each_tensor(m, [&](const std::string& name, auto& t, bool) {
        if (!t.defined()) return;
        const std::string key = file_key(name, o.rules);
        const std::string what = key == name ? "'" + key + "'" : "'" + key + "' (for " + name + ")";
        auto it = file.tensors.find(key);
        if (it == file.tensors.end()) {
            if (o.strict) throw io_error("load_weights", "expected tensor " + what + " of shape " + t.shape().str() + ", got none in the file");
            return;
        }
        if (!(it->second.shape() == t.shape()))
            throw shape_error("load_weights", (key == name ? key : what) + ": expected " + t.shape().str() + ", got " + it->second.shape().str());
        detail::assign(t, it->second);
    });
}

template <nn::module M> void load_weights(M& m, const std::string& path, const LoadOptions& o) { load_weights(m, read_safetensors(path), o); }

// The original form: module tensor `name` is read from `prefix + name`.
template <nn::module M> void load_weights(M& m, const Safetensors& file, bool strict = true, const std::string& prefix = "") {
    load_weights(m, file, LoadOptions{.strict = strict, .rules = {PrefixRule{prefix, ""}}});
}

template <nn::module M> void load_weights(M& m, const std::string& path, bool strict = true, const std::string& prefix = "") {
    load_weights(m, read_safetensors(path), strict, prefix);
}

}  // namespace omni::io

#pragma once
// A run's identity: the canonical text of every option that changes its numbers plus the model's
// parameter names and shapes. A checkpoint stores it and a run refuses a checkpoint whose identity
// differs, so resuming never mixes two recipes.
//
// Every options struct lists its fields once, in one `visit`:
//
//   template <class V> void visit(V& v) const {
//       v("lr", lr);                 // part of the identity
//       v.local("progress", progress);  // printed, but a run may change it and resume
//   }
//
// and the same visit prints the options (describe) and builds the identity (RunIdentity). Forgetting
// a field cannot pass silently: for an aggregate, `check_visits_every_field` compares the fields
// visited with the aggregate's member count and throws value_error naming the struct.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/nn/module.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::train {

namespace detail {

// Converts to any member type, so T{any_field...} counts an aggregate's direct members.
struct any_field {
    template <class T> operator T() const;  // never defined: used in unevaluated braces only (not constexpr, so not
                                            // implicitly inline: clang and g++ warn of an undefined inline function
                                            // once std::optional<bool> members instantiate their converting constructor)
};
template <class T, std::size_t... I> constexpr bool brace_constructible(std::index_sequence<I...>) {
    return requires { T{(void(I), any_field{})...}; };
}
template <class T, std::size_t N = 0> constexpr std::size_t field_count() {
    if constexpr (N > 64 || !brace_constructible<T>(std::make_index_sequence<N + 1>{})) return N;
    else return field_count<T, N + 1>();
}

inline void fnv1a(std::uint64_t& h, const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
}
inline std::string hex64(std::uint64_t h) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

template <class T> struct is_map : std::false_type {};
template <class K, class V, class C, class A> struct is_map<std::map<K, V, C, A>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type {};

}  // namespace detail

// The canonical text of one option value: integers and enums as integers, reals with 17
// significant digits (so 1e-4 and 1.0000001e-4 differ), containers element by element, a host
// tensor by shape and a hash of its bytes, a nested options struct by its own visit.
template <class T> std::string canonical(const T& x);

namespace detail {
struct FieldText {
    std::string text;
    template <class T> void operator()(const char* name, const T& x) { add(name, x); }
    template <class T> void local(const char* name, const T& x) { add(name, x); }
    template <class T> void add(const char* name, const T& x) {
        text += text.empty() ? "" : ", ";
        text += name;
        text += " ";
        text += canonical(x);
    }
};
}  // namespace detail

template <class T> std::string canonical(const T& x) {
    if constexpr (std::is_same_v<T, bool>) {
        return x ? "true" : "false";
    } else if constexpr (std::is_enum_v<T>) {
        return std::to_string(static_cast<long long>(x));
    } else if constexpr (std::is_integral_v<T>) {
        return std::to_string(x);
    } else if constexpr (std::is_floating_point_v<T>) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(x));
        return buf;
    } else if constexpr (std::is_convertible_v<const T&, std::string>) {
        return std::string(x);
    } else if constexpr (std::is_same_v<T, std::FILE*>) {
        return x == nullptr ? "none" : x == stderr ? "stderr" : x == stdout ? "stdout" : "file";
    } else if constexpr (detail::is_map<T>::value) {
        std::string s = "{";
        for (const auto& [k, v] : x) s += (s.size() > 1 ? ", " : "") + canonical(k) + ": " + canonical(v);
        return s + "}";
    } else if constexpr (detail::is_vector<T>::value) {
        std::string s = "[";
        for (const auto& v : x) s += (s.size() > 1 ? ", " : "") + canonical(v);
        return s + "]";
    } else if constexpr (std::is_same_v<T, Tensor<cpu>>) {
        if (!x.defined()) return "none";
        const Tensor<cpu> c = x.contiguous();
        std::uint64_t h = 14695981039346656037ull;
        if (c.numel()) detail::fnv1a(h, c.raw_data(), static_cast<std::size_t>(c.numel()) * size_of(c.type()));
        return std::string(name_of(c.type())) + c.shape().str() + "#" + detail::hex64(h);
    } else {
        static_assert(requires(detail::FieldText& v) { x.visit(v); },
                      "omni::train::canonical: an option type needs a visit(V&) const listing its fields, or a case here");
        detail::FieldText f;
        x.visit(f);
        return "{" + f.text + "}";
    }
}

/// Counts what a visit lists: fields of the identity and local ones.
struct FieldCounter {
    std::size_t identity = 0, local_fields = 0;
    template <class T> void operator()(const char*, const T&) { ++identity; }
    template <class T> void local(const char*, const T&) { ++local_fields; }
};

// Throws value_error when `o`'s visit lists fewer or more fields than the aggregate holds: a
// new option added to the struct but not to its visit would otherwise leave the identity.
template <class Options> void check_visits_every_field(const Options& o, const char* name) {
    if constexpr (std::is_aggregate_v<Options>) {
        FieldCounter c;
        o.visit(c);
        constexpr std::size_t members = detail::field_count<Options>();
        if (c.identity + c.local_fields != members)
            throw value_error("train::check_visits_every_field", std::string(name) + ": expected visit to list all " + std::to_string(members) +
                                                                     " fields, got " + std::to_string(c.identity + c.local_fields));
    }
}

// Every field of `o`, identity and local, as "name value, name value, ..." (for logs and reports).
template <class Options> std::string describe(const Options& o) {
    detail::FieldText f;
    o.visit(f);
    return f.text;
}

/// Builds a run's identity: option structs (their identity fields only), named extra values (the
/// data sizes a trainer depends on) and the model's parameter names and shapes.
class RunIdentity {
public:
    template <class Options> RunIdentity& options(const char* name, const Options& o) {
        check_visits_every_field(o, name);
        Only f;
        o.visit(f);
        text_ += (text_.empty() ? "" : "; ") + std::string(name) + " {" + f.text + "}";
        return *this;
    }
    template <class T> RunIdentity& value(const char* name, const T& x) {
        text_ += (text_.empty() ? "" : "; ") + std::string(name) + " " + canonical(x);
        return *this;
    }
    // Parameter names, dtypes and shapes (a hash, with the count, keeps the text short).
    template <nn::module M> RunIdentity& model(const char* name, M& m) {
        std::uint64_t h = 14695981039346656037ull;
        std::int64_t count = 0, numbers = 0;
        nn::for_each_tensor(m, [&](const std::string& n, const auto& t, bool) {
            const std::string entry = t.defined() ? n + ":" + name_of(t.type()) + t.shape().str() + ";" : n + ":none;";
            detail::fnv1a(h, entry.data(), entry.size());
            ++count;
            numbers += t.defined() ? t.numel() : 0;
        });
        text_ += (text_.empty() ? "" : "; ") + std::string(name) + " " + std::to_string(count) + " tensors, " + std::to_string(numbers) +
                 " numbers #" + detail::hex64(h);
        return *this;
    }
    const std::string& str() const { return text_; }

private:
    struct Only : detail::FieldText {
        template <class T> void operator()(const char* name, const T& x) { add(name, x); }
        template <class T> void local(const char*, const T&) {}
    };
    std::string text_;
};

}  // namespace omni::train

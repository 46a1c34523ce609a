#pragma once
// Options files: any options struct with the house `template <class V> void visit(V& v) const`
// (train/run_identity.hpp) read from and written to JSON, and overridden from a command line.
//
//   train::LoopOptions o;                        // the defaults
//   train::read_options("run.json", o);          // {"lr": 3e-4, "warmup": 100}: the rest keep theirs
//   train::apply_override(o, "lr=1e-3");          // --set lr=1e-3
//   train::write_options(out / "options.json", o);  // what the run used, every settable field
//
// The file is a JSON object whose keys are the visit's field names (identity and local fields
// alike). A field whose type has a visit is a nested object; numbers, bools, strings, enums,
// std::vector, std::array and std::map (keys: strings, enums or integers) of those are values.
// An enum is written and read by name when it has a table (omni::option_names in
// core/option_names.hpp), else as its integer. Fields a file cannot hold (std::FILE*, tensors) are
// left out when writing and refused when present. Unknown keys, wrong types, integers out of
// their type's range and non-finite numbers throw value_error naming the source, the key path
// ("loop.lr"), the expected and the actual. Reals are written in their shortest exact form (std::to_chars), so a written file reads
// back to the same bits.
//
// Reading writes through the const visit: visit is const so that one list of fields serves
// printing, identities and files, but the object read into is not const (read_options takes O&).
// A visit hands out references to members of that object (or, through a proxy such as
// train::AdapterFields, to members of a non-const object it refers to), and modifying a non-const
// object through a const_cast reference is well-defined ([dcl.type.cv]: only objects defined const
// may not be modified). So a visit must pass members, never computed values: a temporary bound to
// `const T&` is a const object. A const member would break that too; the static_assert on
// copy assignment below rules it out for the top-level struct.
#include <algorithm>
#include <array>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"
#if OMNI_LIB_DEFINE  // rapidjson is needed only where parse_json is compiled
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#endif
#include "omni/core/option_names.hpp"

namespace omni::train {

namespace detail::options {

template <class E> concept named_enum = std::is_enum_v<E> && requires { option_names<E>::table; };

template <class T> struct vector_of : std::false_type {};
template <class T, class A> struct vector_of<std::vector<T, A>> : std::true_type {};
template <class T> struct array_of : std::false_type {};
template <class T, std::size_t N> struct array_of<std::array<T, N>> : std::true_type {};
template <class T> struct map_of : std::false_type {};
template <class K, class V, class C, class A> struct map_of<std::map<K, V, C, A>> : std::true_type {};

struct NullVisitor {
    template <class T> void operator()(const char*, const T&) {}
    template <class T> void local(const char*, const T&) {}
};
template <class T> concept visitable = requires(const T& x, NullVisitor& v) { x.visit(v); };

template <class T> constexpr bool scalar = std::is_arithmetic_v<T> || std::is_enum_v<T> || std::is_same_v<T, std::string>;
template <class K> constexpr bool map_key = std::is_same_v<K, std::string> || std::is_enum_v<K> || (std::is_integral_v<K> && !std::is_same_v<K, bool>);

// Whether an options file can hold a field of type T (else it is skipped and refused).
template <class T> constexpr bool settable() {
    if constexpr (scalar<T>) return true;
    else if constexpr (vector_of<T>::value || array_of<T>::value) return settable<typename T::value_type>();
    else if constexpr (map_of<T>::value) return map_key<typename T::key_type> && settable<typename T::mapped_type>();
    else return visitable<T>;
}

// A parsed JSON value. Numbers keep their text, so each field converts it to its own type exactly
// (a uint64 seed above 2^53, a float without double rounding).
struct Node {
    enum class kind { null, boolean, number, string, array, object } k = kind::null;
    bool b = false;
    std::string text;                // number text or string
    std::vector<std::string> keys;   // object: keys[i] names items[i]
    std::vector<Node> items;         // array elements or object values
    static Node of(kind k, std::string text = {}, bool b = false) {
        Node n;
        n.k = k, n.text = std::move(text), n.b = b;
        return n;
    }
    const Node* find(std::string_view key) const {
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i] == key) return &items[i];
        return nullptr;
    }
};

inline std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') out += '\\', out += ch;
        else if (ch == '\n') out += "\\n";
        else if (ch == '\t') out += "\\t";
        else if (ch == '\r') out += "\\r";
        else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else out += ch;
    }
    return out + "\"";
}

inline std::string what_is(const Node& n) {
    switch (n.k) {
        case Node::kind::null: return "null";
        case Node::kind::boolean: return n.b ? "true" : "false";
        case Node::kind::number: return "number " + n.text;
        case Node::kind::string: return "string " + json_string(n.text.size() > 60 ? n.text.substr(0, 57) + "..." : n.text);
        case Node::kind::array: return "an array of " + std::to_string(n.items.size());
        case Node::kind::object: return "an object";
    }
    return "?";
}

#if OMNI_LIB_DEFINE
// Builds a Node tree from rapidjson's SAX events; numbers arrive as raw text.
class TreeBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TreeBuilder> {
public:
    Node root;
    std::string duplicate;  // set when an object repeats a key (parsing stops)

    bool Null() { return add(Node{}); }
    bool Bool(bool b) { return add(Node::of(Node::kind::boolean, {}, b)); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return add(Node::of(Node::kind::number, std::string(s, n))); }
    bool String(const char* s, rapidjson::SizeType n, bool) { return add(Node::of(Node::kind::string, std::string(s, n))); }
    bool StartObject() { return open(Node::kind::object); }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        Frame& f = stack_.back();
        f.key.assign(s, n);
        if (f.node.find(f.key)) {
            duplicate = path();
            return false;
        }
        return true;
    }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool StartArray() { return open(Node::kind::array); }
    bool EndArray(rapidjson::SizeType) { return close(); }

    // Where the parser stands, as a key path ("loop.lr", "sizes[2]"): names a parse error.
    std::string path() const {
        std::string p;
        for (const Frame& f : stack_) {
            if (f.node.k == Node::kind::object && !f.key.empty()) p += (p.empty() ? "" : ".") + f.key;
            else if (f.node.k == Node::kind::array) p += "[" + std::to_string(f.node.items.size()) + "]";
        }
        return p;
    }

private:
    struct Frame {
        Node node;
        std::string key;  // the key whose value comes next (objects)
    };
    std::vector<Frame> stack_;

    bool add(Node n) {
        if (stack_.empty()) root = std::move(n);
        else {
            Frame& f = stack_.back();
            if (f.node.k == Node::kind::object) f.node.keys.push_back(std::move(f.key)), f.key.clear();
            f.node.items.push_back(std::move(n));
        }
        return true;
    }
    bool open(Node::kind k) {
        stack_.push_back({Node::of(k), {}});
        return true;
    }
    bool close() {
        Node n = std::move(stack_.back().node);
        stack_.pop_back();
        return add(std::move(n));
    }
};

inline std::string line_column(std::string_view text, std::size_t offset) {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) text[i] == '\n' ? (++line, col = 1) : ++col;
    return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

#endif  // OMNI_LIB_DEFINE

// Parses strict JSON (no comments, no NaN or infinity); errors name `source` and the key path.
// Compiled once in omni::kernels (rapidjson's reader is most of an options user's code).
OMNI_LIB_INLINE Node parse_json(std::string_view text, const std::string& op, const std::string& source)
#if OMNI_LIB_DEFINE
{
    // rapidjson reads a NUL-terminated stream, and its UTF-8 validation (1.1, Debian 12) takes up
    // to three continuation bytes after a lead byte without stopping at the NUL: found by
    // tests/fuzz/options_fuzz.cpp as a heap overflow on a truncated sequence at the end. Padding
    // keeps those reads inside the buffer; the NULs then fail validation as they should.
    std::string owned(text);
    owned.append(4, '\0');
    rapidjson::StringStream in(owned.c_str());
    TreeBuilder b;
    rapidjson::Reader reader;
    const rapidjson::ParseResult r = reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(in, b);
    if (!b.duplicate.empty()) throw value_error(op, source + ": " + b.duplicate + ": expected each key once, got it twice");
    if (r.IsError()) {
        const std::string where = b.path().empty() ? "" : " (at " + b.path() + ")";
        throw value_error(op, source + ": expected JSON, got a syntax error at " + line_column(text, r.Offset()) + where + ": " +
                                  rapidjson::GetParseError_En(r.Code()));
    }
    return std::move(b.root);
}
#else
;
#endif

// ---- reading ------------------------------------------------------------------------------

struct Context {
    std::string op, source;
    [[noreturn]] void fail(const std::string& path, const std::string& expected, const std::string& got) const {
        throw value_error(op, source + ": " + (path.empty() ? "(top level)" : path) + ": expected " + expected + ", got " + got);
    }
};

inline std::string join(const std::string& path, std::string_view name) { return path.empty() ? std::string(name) : path + "." + std::string(name); }

template <class E> std::string enum_names_list() {
    std::string s;
    for (const auto& [value, name] : option_names<E>::table) s += (s.empty() ? "" : ", ") + std::string(name);
    return s;
}

template <class I> I parse_integer(const Node& n, const Context& cx, const std::string& path) {
    const std::string range = "an integer in [" + std::to_string(std::numeric_limits<I>::min()) + ", " + std::to_string(std::numeric_limits<I>::max()) + "]";
    if (n.k != Node::kind::number) cx.fail(path, range, what_is(n));
    I x{};
    const char* end = n.text.data() + n.text.size();
    const auto [p, ec] = std::from_chars(n.text.data(), end, x);
    if (ec == std::errc() && p == end) return x;
    cx.fail(path, range, what_is(n));
}

template <class F> F parse_real(const Node& n, const Context& cx, const std::string& path) {
    const std::string expected = std::is_same_v<F, float> ? "a finite number within float range" : "a finite number within double range";
    if (n.k != Node::kind::number) cx.fail(path, expected, what_is(n));
    F x{};
    const char* end = n.text.data() + n.text.size();
    const auto [p, ec] = std::from_chars(n.text.data(), end, x);
    if (ec != std::errc() || p != end || !std::isfinite(x)) cx.fail(path, expected, what_is(n));
    return x;
}

template <class E> E parse_enum(const Node& n, const Context& cx, const std::string& path) {
    using U = std::underlying_type_t<E>;
    if constexpr (named_enum<E>) {
        const std::string expected = "one of " + enum_names_list<E>();
        if (n.k == Node::kind::string) {
            for (const auto& [value, name] : option_names<E>::table)
                if (name == n.text) return value;
        } else if (n.k == Node::kind::number) {
            const E e = static_cast<E>(parse_integer<U>(n, cx, path));
            for (const auto& [value, name] : option_names<E>::table)
                if (value == e) return e;
        }
        cx.fail(path, expected, what_is(n));
    } else {
        if (n.k == Node::kind::string) cx.fail(path, "an integer (this enum has no option_names)", what_is(n));
        return static_cast<E>(parse_integer<U>(n, cx, path));
    }
}

template <class T> void set(T& x, const Node& n, const Context& cx, const std::string& path);
template <class S> void read_struct(const S& s, const Node& n, const Context& cx, const std::string& path);

// Reads an object's keys into the fields a visit lists; a key no field claims is an error.
struct FieldReader {
    const Node& obj;
    const Context& cx;
    std::string path;
    std::vector<bool> used = std::vector<bool>(obj.keys.size(), false);
    std::vector<std::string> known{};

    template <class T> void operator()(const char* name, const T& x) { field(name, x); }
    template <class T> void local(const char* name, const T& x) { field(name, x); }
    template <class T> void field(const char* name, const T& x) {
        known.emplace_back(name);
        for (std::size_t i = 0; i < obj.keys.size(); ++i) {
            if (obj.keys[i] != name) continue;
            used[i] = true;
            const std::string p = join(path, name);
            if constexpr (!settable<T>()) cx.fail(p, "no value (this field cannot be set from an options file)", what_is(obj.items[i]));
            else if constexpr (visitable<T>) read_struct(x, obj.items[i], cx, p);  // visit is const: no cast needed
            else set(const_cast<T&>(x), obj.items[i], cx, p);  // well-defined: see the note at the top
        }
    }
    void finish() const {
        for (std::size_t i = 0; i < used.size(); ++i) {
            if (used[i]) continue;
            std::string list;
            for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
            cx.fail(join(path, obj.keys[i]), "a known key (one of " + list + ")", "an unknown key");
        }
    }
};

template <class T> void set(T& x, const Node& n, const Context& cx, const std::string& path) {
    if constexpr (std::is_same_v<T, bool>) {
        if (n.k != Node::kind::boolean) cx.fail(path, "true or false", what_is(n));
        x = n.b;
    } else if constexpr (std::is_enum_v<T>) {
        x = parse_enum<T>(n, cx, path);
    } else if constexpr (std::is_integral_v<T>) {
        x = parse_integer<T>(n, cx, path);
    } else if constexpr (std::is_floating_point_v<T>) {
        x = parse_real<T>(n, cx, path);
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (n.k != Node::kind::string) cx.fail(path, "a string", what_is(n));
        x = n.text;
    } else if constexpr (vector_of<T>::value) {
        if (n.k != Node::kind::array) cx.fail(path, "an array", what_is(n));
        T v(n.items.size());  // the file's list replaces the default one
        for (std::size_t i = 0; i < n.items.size(); ++i) set(v[i], n.items[i], cx, path + "[" + std::to_string(i) + "]");
        x = std::move(v);
    } else if constexpr (array_of<T>::value) {
        if (n.k != Node::kind::array || n.items.size() != x.size()) cx.fail(path, "an array of " + std::to_string(x.size()), what_is(n));
        for (std::size_t i = 0; i < n.items.size(); ++i) set(x[i], n.items[i], cx, path + "[" + std::to_string(i) + "]");
    } else if constexpr (map_of<T>::value) {
        using K = typename T::key_type;
        if (n.k != Node::kind::object) cx.fail(path, "an object", what_is(n));
        T m;
        for (std::size_t i = 0; i < n.keys.size(); ++i) {
            const std::string p = join(path, n.keys[i]);
            K key{};
            if constexpr (std::is_same_v<K, std::string>) key = n.keys[i];
            else {
                // A key is text; read it as the key type would read a value.
                const bool as_number = std::is_integral_v<K> || (!n.keys[i].empty() && (std::isdigit(static_cast<unsigned char>(n.keys[i][0])) || n.keys[i][0] == '-'));
                const Node k = Node::of(as_number ? Node::kind::number : Node::kind::string, n.keys[i]);
                set(key, k, cx, p);
            }
            set(m[key], n.items[i], cx, p);
        }
        x = std::move(m);
    } else {
        static_assert(visitable<T>, "omni::train options files: a field needs a visit(V&) const, or to be a number, bool, string, enum, vector, array or map");
        read_struct(std::as_const(x), n, cx, path);
    }
}

template <class S> void read_struct(const S& s, const Node& n, const Context& cx, const std::string& path) {
    if (n.k != Node::kind::object) cx.fail(path, "an object", what_is(n));
    FieldReader r{n, cx, path};
    s.visit(r);
    r.finish();
}

// ---- writing ------------------------------------------------------------------------------

inline void indent(std::string& out, int depth) { out.append(static_cast<std::size_t>(2 * depth), ' '); }

template <class T> void write_value(std::string& out, const T& x, int depth, const std::string& path);

template <class T> std::string key_text(const T& k, const std::string& path) {
    if constexpr (std::is_same_v<T, std::string>) return k;
    else {
        std::string s;
        write_value(s, k, 0, path);
        return s.front() == '"' ? s.substr(1, s.size() - 2) : s;  // a named enum is written quoted
    }
}

struct FieldWriter {
    std::string& out;
    int depth;
    std::string path;
    std::size_t written = 0;
    template <class T> void operator()(const char* name, const T& x) { field(name, x); }
    template <class T> void local(const char* name, const T& x) { field(name, x); }
    template <class T> void field(const char* name, const T& x) {
        if constexpr (settable<T>()) {
            out += written++ ? ",\n" : "\n";
            indent(out, depth + 1);
            out += json_string(name) + ": ";
            write_value(out, x, depth + 1, join(path, name));
        }
    }
};

template <class T> void write_value(std::string& out, const T& x, int depth, const std::string& path) {
    if constexpr (std::is_same_v<T, bool>) {
        out += x ? "true" : "false";
    } else if constexpr (std::is_enum_v<T>) {
        if constexpr (named_enum<T>)
            for (const auto& [value, name] : option_names<T>::table)
                if (value == x) return void(out += json_string(name));
        out += std::to_string(static_cast<std::underlying_type_t<T>>(x));
    } else if constexpr (std::is_arithmetic_v<T>) {
        if constexpr (std::is_floating_point_v<T>)
            if (!std::isfinite(x)) throw value_error("train::write_options", path + ": expected a finite number, got " + std::to_string(x));
        char buf[64];
        const auto r = std::to_chars(buf, buf + sizeof buf, x);  // reals: the shortest text that reads back exactly
        out.append(buf, r.ptr);
    } else if constexpr (std::is_same_v<T, std::string>) {
        out += json_string(x);
    } else if constexpr (vector_of<T>::value || array_of<T>::value) {
        if (x.empty()) return void(out += "[]");
        out += "[";
        std::size_t i = 0;
        for (const auto& v : x) {
            out += i ? ", " : "";
            write_value(out, v, depth, path + "[" + std::to_string(i++) + "]");
        }
        out += "]";
    } else if constexpr (map_of<T>::value) {
        if (x.empty()) return void(out += "{}");
        out += "{";
        std::size_t i = 0;
        for (const auto& [k, v] : x) {
            const std::string key = key_text(k, path);
            out += i++ ? ",\n" : "\n";
            indent(out, depth + 1);
            out += json_string(key) + ": ";
            write_value(out, v, depth + 1, join(path, key));
        }
        out += "\n";
        indent(out, depth);
        out += "}";
    } else {
        FieldWriter w{out, depth, path};
        out += "{";
        x.visit(w);
        if (w.written) {
            out += "\n";
            indent(out, depth);
        }
        out += "}";
    }
}

// ---- overrides ----------------------------------------------------------------------------

// The value of `key=value` as a Node for a field of type T: text for strings and enum names,
// a number or bool for scalars, JSON for lists, maps and structs.
template <class T> Node node_from_text(std::string_view text, const Context& cx, const std::string& path) {
    if constexpr (std::is_same_v<T, std::string>) return Node::of(Node::kind::string, std::string(text));
    else if constexpr (std::is_same_v<T, bool>) {
        if (text != "true" && text != "false") cx.fail(path, "true or false", json_string(text));
        return Node::of(Node::kind::boolean, {}, text == "true");
    } else if constexpr (std::is_enum_v<T>) {
        const bool number = !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-');
        return Node::of(number ? Node::kind::number : Node::kind::string, std::string(text));
    } else if constexpr (std::is_arithmetic_v<T>) {
        const bool number = !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-');
        return Node::of(number ? Node::kind::number : Node::kind::string, std::string(text));  // "-inf" is caught as non-finite
    }
    else return parse_json(text, cx.op, cx.source + ": " + path);
}

struct OverrideFinder {
    std::string_view name, rest, text;
    const Context& cx;
    std::string path;
    bool found = false;
    template <class T> void operator()(const char* n, const T& x) { field(n, x); }
    template <class T> void local(const char* n, const T& x) { field(n, x); }
    template <class T> void field(const char* n, const T& x) {
        if (found || name != n) return;
        found = true;
        const std::string p = join(path, n);
        if constexpr (!settable<T>()) cx.fail(p, "a field an options file can set", "one it cannot (a file, tensor or pointer)");
        else if (rest.empty()) {
            if constexpr (visitable<T>) read_struct(x, node_from_text<T>(text, cx, p), cx, p);
            else set(const_cast<T&>(x), node_from_text<T>(text, cx, p), cx, p);  // well-defined: see the note at the top
        } else if constexpr (visitable<T>) {
            descend(x, rest, text, cx, p);
        } else if constexpr (map_of<T>::value) {
            // The rest of the path is one key (parameter names hold dots: lr_scale.blocks.0.attn=2).
            using K = typename T::key_type;
            T& m = const_cast<T&>(x);
            K key{};
            if constexpr (std::is_same_v<K, std::string>) key = std::string(rest);
            else set(key, node_from_text<K>(rest, cx, p), cx, join(p, rest));
            typename T::mapped_type v = m.contains(key) ? m.at(key) : typename T::mapped_type{};
            set(v, node_from_text<typename T::mapped_type>(text, cx, join(p, rest)), cx, join(p, rest));
            m[key] = std::move(v);
        } else {
            cx.fail(join(p, rest), "a key inside an options struct or map", "'" + p + "', which is neither");
        }
    }
    template <class S> static void descend(const S& s, std::string_view path_rest, std::string_view text, const Context& cx, const std::string& p) {
        const std::size_t dot = path_rest.find('.');
        OverrideFinder f{path_rest.substr(0, dot), dot == std::string_view::npos ? std::string_view{} : path_rest.substr(dot + 1), text, cx, p};
        NamesOf names;
        s.visit(f);
        if (!f.found) {
            s.visit(names);
            cx.fail(join(p, f.name), "a known key (one of " + names.list + ")", "an unknown key");
        }
    }
    struct NamesOf {
        std::string list;
        template <class T> void operator()(const char* n, const T&) { list += (list.empty() ? "" : ", ") + std::string(n); }
        template <class T> void local(const char* n, const T&) { list += (list.empty() ? "" : ", ") + std::string(n); }
    };
};

}  // namespace detail::options

// Sets the fields named in `text`, a JSON object (see the top of this file); `source` names it in
// errors (a file name). Fields the text does not name keep their values.
template <class O> void read_options_json(std::string_view text, O& o, std::string_view source = "options") {
    static_assert(std::is_copy_assignable_v<O>, "omni::train::read_options: an options struct with a const or reference member cannot be read into");
    static_assert(detail::options::visitable<O>, "omni::train::read_options: an options struct needs template <class V> void visit(V&) const");
    namespace d = detail::options;
    const d::Context cx{"train::read_options", std::string(source)};
    const d::Node root = d::parse_json(text, cx.op, cx.source);
    O next = o;  // all or nothing: a bad file leaves `o` as it was
    d::set(next, root, cx, "");
    o = std::move(next);
}

template <class O> void read_options(const std::filesystem::path& path, O& o) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("train::read_options", "expected a readable options file, got none at " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    read_options_json(s.str(), o, path.string());
}

// Every settable field of `o` as pretty JSON (two-space indents, keys in visit order).
template <class O> std::string options_json(const O& o) {
    static_assert(detail::options::visitable<O>, "omni::train::options_json: an options struct needs template <class V> void visit(V&) const");
    std::string out;
    detail::options::write_value(out, o, 0, "");
    return out + "\n";
}

// Writes options_json(o) to `path` atomically (a temporary file renamed over it).
template <class O> void write_options(const std::filesystem::path& path, const O& o) {
    const std::string text = options_json(o);
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!(f << text) || !f.flush()) throw io_error("train::write_options", "expected to write " + tmp.string() + ", got a stream error");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw io_error("train::write_options", "expected to rename " + tmp.string() + " to " + path.string() + ", got " + ec.message());
}

// Applies one command-line override "key.path=value" (e.g. --set loop.lr=3e-4). The value is
// text for strings and enum names, a number or true/false for scalars, and JSON for lists, maps
// and structs (`no_decay=["bias"]`); for a map field the rest of the path after the map is one key
// (`lr_scale.blocks.0.attn=2` sets key "blocks.0.attn").
template <class O> void apply_override(O& o, std::string_view assignment) {
    static_assert(std::is_copy_assignable_v<O>, "omni::train::apply_override: an options struct with a const or reference member cannot be set");
    namespace d = detail::options;
    const d::Context cx{"train::apply_override", "'" + std::string(assignment) + "'"};
    const std::size_t eq = assignment.find('=');
    if (eq == std::string_view::npos || eq == 0) cx.fail("", "KEY.PATH=VALUE", "no key");
    O next = o;
    d::OverrideFinder::descend(next, assignment.substr(0, eq), assignment.substr(eq + 1), cx, "");
    o = std::move(next);
}

}  // namespace omni::train

#pragma once
// A small JSON reader for the configuration files that come with pretrained models (config.json,
// tokenizer_config.json, sentence-transformers' module files): whole documents of a few KiB, read
// once. It lives in core, dependency-free, so the tokeniser (data/) and the model loaders
// (models/) read them without pulling in rapidjson, which stays opt-in for the options files.
// RFC 8259 values; numbers are kept as doubles, strings as UTF-8 (\uXXXX escapes and surrogate
// pairs decoded). Malformed input is an io_error naming the file and the byte offset.
#include <cmath>
#include <cstdint>
#include <fstream>
#include <locale>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "omni/core/error.hpp"

namespace omni::json {

enum class kind { null, boolean, number, string, array, object };

/// One JSON value: the field of its kind holds the content.
struct Value {
    kind type = kind::null;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<Value> items;              // array
    std::map<std::string, Value> members;  // object (a later duplicate key wins, as Python's json)

    bool is_null() const { return type == kind::null; }
    // The member `key` of an object, or nullptr (also when this is no object).
    const Value* find(const std::string& key) const {
        if (type != kind::object) return nullptr;
        const auto it = members.find(key);
        return it == members.end() ? nullptr : &it->second;
    }
};

namespace detail {
/// The recursive-descent reader behind parse(); one document per instance.
class Parser {
public:
    Parser(std::string_view text, const std::string& what) : s_(text), what_(what) {}
    Value document() {
        Value v = value(0);
        space();
        if (i_ != s_.size()) fail("the end of the document", "more text");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& expected, const std::string& got) const {
        throw io_error("json", what_ + ": expected " + expected + " at byte " + std::to_string(i_) + ", got " + got);
    }
    std::string here() const { return i_ < s_.size() ? "'" + std::string(1, s_[i_]) + "'" : "the end"; }
    void space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    bool literal(std::string_view word) {
        if (s_.substr(i_, word.size()) != word) return false;
        i_ += word.size();
        return true;
    }
    Value value(int depth) {
        if (depth > 64) fail("nesting depth <= 64", "deeper nesting");
        space();
        Value v;
        if (i_ >= s_.size()) fail("a value", "the end");
        const char c = s_[i_];
        if (c == '{') {
            v.type = kind::object;
            ++i_;
            space();
            if (i_ < s_.size() && s_[i_] == '}') return ++i_, v;
            for (;;) {
                space();
                if (i_ >= s_.size() || s_[i_] != '"') fail("a member name", here());
                std::string key = string();
                space();
                if (i_ >= s_.size() || s_[i_] != ':') fail("':'", here());
                ++i_;
                v.members[std::move(key)] = value(depth + 1);
                space();
                if (i_ < s_.size() && s_[i_] == ',') ++i_;
                else if (i_ < s_.size() && s_[i_] == '}') return ++i_, v;
                else fail("',' or '}'", here());
            }
        }
        if (c == '[') {
            v.type = kind::array;
            ++i_;
            space();
            if (i_ < s_.size() && s_[i_] == ']') return ++i_, v;
            for (;;) {
                v.items.push_back(value(depth + 1));
                space();
                if (i_ < s_.size() && s_[i_] == ',') ++i_;
                else if (i_ < s_.size() && s_[i_] == ']') return ++i_, v;
                else fail("',' or ']'", here());
            }
        }
        if (c == '"') {
            v.type = kind::string;
            v.string = string();
            return v;
        }
        if (literal("true")) return v.type = kind::boolean, v.boolean = true, v;
        if (literal("false")) return v.type = kind::boolean, v;
        if (literal("null")) return v;
        return number();
    }
    Value number() {
        const std::size_t b = i_;
        if (i_ < s_.size() && s_[i_] == '-') ++i_;
        auto digits = [&] {
            const std::size_t d = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
            return i_ > d;
        };
        if (!digits()) fail("a value", here());
        if (i_ < s_.size() && s_[i_] == '.' && (++i_, !digits())) fail("digits after '.'", here());
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            if (!digits()) fail("an exponent", here());
        }
        Value v;
        v.type = kind::number;
        std::istringstream in{std::string(s_.substr(b, i_ - b))};
        in.imbue(std::locale::classic());
        in >> v.number;
        return v;
    }
    unsigned hex4() {
        if (i_ + 4 > s_.size()) fail("4 hex digits", "the end");
        unsigned u = 0;
        for (int k = 0; k < 4; ++k, ++i_) {
            const char h = s_[i_];
            u = u * 16 + (h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 99);
            if (u >= 0x10000) fail("a hex digit", here());
        }
        return u;
    }
    std::string string() {
        ++i_;  // the opening quote
        std::string out;
        for (;;) {
            if (i_ >= s_.size()) fail("'\"'", "the end");
            const char c = s_[i_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("no control character in a string", "byte " + std::to_string(int(c)));
            if (c != '\\') {
                out.push_back(c);
                continue;
            }
            if (i_ >= s_.size()) fail("an escape", "the end");
            switch (const char e = s_[i_++]) {
                case '"': case '\\': case '/': out.push_back(e); break;
                case 'b': out.push_back('\b'); break;
                case 'f': out.push_back('\f'); break;
                case 'n': out.push_back('\n'); break;
                case 'r': out.push_back('\r'); break;
                case 't': out.push_back('\t'); break;
                case 'u': {
                    std::uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
                        i_ += 2;
                        const std::uint32_t lo = hex4();
                        if (lo < 0xDC00 || lo >= 0xE000) fail("a low surrogate", "\\u" + std::to_string(lo));
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else if (cp >= 0xD800 && cp < 0xE000) {
                        cp = 0xFFFD;  // a lone surrogate, as Python's json keeps it unpaired
                    }
                    utf8(out, cp);
                    break;
                }
                default: --i_, fail("an escape (\\\" \\\\ / b f n r t u)", here());
            }
        }
    }
    static void utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) out.push_back(static_cast<char>(cp));
        else if (cp < 0x800) out += {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
        else if (cp < 0x10000)
            out += {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
        else
            out += {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
                    static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    }

    std::string_view s_;
    const std::string& what_;
    std::size_t i_ = 0;
};
}  // namespace detail

// `what` names the source in errors (a path, say).
inline Value parse(std::string_view text, const std::string& what = "json") { return detail::Parser(text, what).document(); }

inline Value read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("json", "expected a readable file, got " + path + " (cannot open)");
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    if (text.size() > (std::size_t{64} << 20)) throw io_error("json", path + ": expected a configuration file under 64 MiB, got " + std::to_string(text.size()) + " bytes");
    return parse(text, path);
}

// Typed lookups of an object's members, for configuration files: a missing member (or null)
// gives the fallback; a member of another type is an io_error naming the file and the key.
inline std::optional<bool> get_bool(const Value& obj, const std::string& key, const std::string& what) {
    const Value* v = obj.find(key);
    if (!v || v->is_null()) return std::nullopt;
    if (v->type != kind::boolean) throw io_error("json", what + ": expected \"" + key + "\" true, false or null, got another type");
    return v->boolean;
}
inline std::optional<double> get_number(const Value& obj, const std::string& key, const std::string& what) {
    const Value* v = obj.find(key);
    if (!v || v->is_null()) return std::nullopt;
    if (v->type != kind::number) throw io_error("json", what + ": expected \"" + key + "\" a number, got another type");
    return v->number;
}
inline std::optional<std::int64_t> get_int(const Value& obj, const std::string& key, const std::string& what) {
    const auto n = get_number(obj, key, what);
    if (!n) return std::nullopt;
    if (*n != std::floor(*n) || std::abs(*n) > 9.0e15)
        throw io_error("json", what + ": expected \"" + key + "\" an integer, got " + std::to_string(*n));
    return static_cast<std::int64_t>(*n);
}
inline std::optional<std::string> get_string(const Value& obj, const std::string& key, const std::string& what) {
    const Value* v = obj.find(key);
    if (!v || v->is_null()) return std::nullopt;
    if (v->type != kind::string) throw io_error("json", what + ": expected \"" + key + "\" a string, got another type");
    return v->string;
}

}  // namespace omni::json

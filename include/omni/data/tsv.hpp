#pragma once
// Tab-separated files with a header row, as scripts/data/ writes the text and audio sets.
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"

namespace omni::data {

/// A reader of tab-separated rows under a header that starts with `columns`: opens `path`, checks
/// the header, then next() yields each row's fields. Every error is an io_error naming `op` and
/// file:line.
class TsvReader {
public:
    TsvReader(const std::filesystem::path& path, std::vector<std::string_view> columns, const char* op);
    // The next row's fields (views into an internal line, valid until the next call), or an
    // empty vector at the end. Blank lines are skipped; a CR before the newline is dropped.
    std::vector<std::string_view> next() {
        while (std::getline(in_, line_)) {
            ++line_no_;
            if (!line_.empty() && line_.back() == '\r') line_.pop_back();
            if (line_.empty()) continue;
            std::vector<std::string_view> f = split(line_);
            if (f.size() < want_) fail("expected " + std::to_string(want_) + " tab-separated fields, got " + std::to_string(f.size()));
            return f;
        }
        return {};
    }
    // A field of the current row as a non-negative integer (a label).
    std::int64_t integer(std::string_view s) {
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || end != s.data() + s.size() || v < 0)
            fail("expected a non-negative integer label, got '" + std::string(s) + "'");
        return v;
    }
    // Throws io_error "op: what at file:line" for the current row.
    [[noreturn]] void fail(const std::string& what) const {
        throw io_error(op_, what + " at " + path_ + ":" + std::to_string(line_no_ + 1));
    }

private:
    static std::vector<std::string_view> split(std::string_view s) {
        std::vector<std::string_view> out;
        for (std::size_t start = 0;;) {
            const std::size_t tab = s.find('\t', start);
            out.push_back(s.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
            if (tab == std::string_view::npos) return out;
            start = tab + 1;
        }
    }
    std::ifstream in_;
    std::string path_, line_;
    const char* op_;
    std::size_t want_;
    std::int64_t line_no_ = 0;  // data rows read; the header is line 1
};

#if OMNI_LIB_DEFINE
OMNI_LIB_INLINE TsvReader::TsvReader(const std::filesystem::path& path, std::vector<std::string_view> columns, const char* op) : path_(path.string()), op_(op), want_(columns.size()) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) in_.open(path);
    if (!in_.is_open()) throw io_error(op, "expected a readable TSV file, got none at '" + path_ + "'");
    std::string header;
    std::getline(in_, header);
    const std::vector<std::string_view> got = split(header);
    bool ok = got.size() >= want_;
    for (std::size_t i = 0; ok && i < want_; ++i) ok = got[i] == columns[i];
    if (!ok) {
        std::string expect;
        for (std::string_view c : columns) expect += (expect.empty() ? "" : "\\t") + std::string(c);
        throw io_error(op, "expected a header starting '" + expect + "' in '" + path_ + "', got '" + header + "'");
    }
}
#endif

}  // namespace omni::data

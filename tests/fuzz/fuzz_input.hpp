#pragma once
// What every harness shares: the rule that a reader may refuse bytes only with an omni::error
// (any other exception escaping is a finding, so it aborts and libFuzzer keeps the input), and a
// per-process scratch directory for readers that take a path.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>

#include "omni/core/error.hpp"

namespace omni_fuzz {

// Calls f(); an omni::error is the reader doing its job, anything else aborts with its message.
template <class F> void expect_omni_errors(F&& f) {
    try {
        f();
    } catch (const omni::error&) {
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz: a non-omni exception escaped the reader: %s\n", e.what());
        std::abort();
    }
}

// A directory of its own under /tmp for this process (libFuzzer's -jobs run several at once),
// removed when the process exits.
inline const std::filesystem::path& scratch_dir() {
    static const struct Dir {
        std::filesystem::path path;
        Dir() : path(std::filesystem::temp_directory_path() / ("omni_fuzz." + std::to_string(::getpid()))) {
            std::filesystem::create_directories(path);
        }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    } dir;
    return dir.path;
}

// Writes bytes to `name` in the scratch directory and returns its path.
inline std::filesystem::path write_file(const std::string& name, std::span<const std::uint8_t> bytes) {
    const std::filesystem::path p = scratch_dir() / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace omni_fuzz

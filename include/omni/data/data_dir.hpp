#pragma once
// Where omni's data sets live on this machine: $OMNI_DATA, else ~/.cache/omni, else build/data,
// the same rule as the scripts under scripts/data/ that make them.
#include <cstdlib>
#include <filesystem>

namespace omni::data {

// The data root: no inputs, the directory the loaders look under by default (it may not exist).
inline std::filesystem::path data_dir() {
    if (const char* d = std::getenv("OMNI_DATA"); d && *d) return d;
    if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "omni";
    return "build/data";
}

}  // namespace omni::data

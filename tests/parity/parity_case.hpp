#pragma once
// What the PyTorch parity tests share: reading a reference case that a tests/parity/*.py script
// wrote (ctest runs the script first, as a fixture) and the error measure they report.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "omni/io/safetensors.hpp"

namespace omni::parity {

// The folder a reference script wrote: $env_var, else fallback.
inline std::string case_dir(const char* env_var, const char* fallback) {
    const char* d = std::getenv(env_var);
    return d ? d : fallback;
}

// <case_dir>/<name>.safetensors, as written by tests/parity/<script>.
inline io::Safetensors load_case(const char* env_var, const char* fallback, const char* script, const std::string& name) {
    const std::string path = case_dir(env_var, fallback) + "/" + name + ".safetensors";
    if (!std::filesystem::exists(path)) throw std::runtime_error("missing " + path + ": run tests/parity/" + script + " first");
    return io::read_safetensors(path);
}

// max |a - b| / (max |b| + floor): relative to the reference's scale, so near-zero entries do not
// blow up; floor keeps an all-zero reference from dividing by zero.
inline double rel_error(const Tensor<cpu>& a, const Tensor<cpu>& b, double floor = 1e-300) {
    EXPECT_EQ(a.shape(), b.shape());
    const auto x = a.to_vector<double>(), y = b.to_vector<double>();
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
        diff = std::max(diff, std::abs(x[i] - y[i]));
        scale = std::max(scale, std::abs(y[i]));
    }
    return diff / (scale + floor);
}

// A per-case bound: the relative error allowed, and abs as a floor on the reference's scale.
struct Tolerance {
    double rel, abs;
};
inline double rel_error(const Tensor<cpu>& a, const Tensor<cpu>& b, Tolerance tol) { return rel_error(a, b, tol.abs / tol.rel); }

}  // namespace omni::parity

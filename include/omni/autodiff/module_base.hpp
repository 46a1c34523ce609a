#pragma once
// nn::Module, the data every module carries. It has no dependencies and sits below nn so that
// losses with learnable parameters (loss/) are modules without including nn/; the module model
// itself (visit, the walkers, the concept) is nn/module.hpp.
#include <string>

namespace omni::nn {

/// Where a module sits in the model (for error messages) and its mode.
struct Module {
    std::string path;  // dotted PyTorch-style path, e.g. "blocks.3.attn"; set by name_modules()
    bool training = true;

    // The name errors use: the path when the module sits in a model, else its kind.
    std::string where(const char* kind) const { return path.empty() ? std::string(kind) : path; }
};

}  // namespace omni::nn

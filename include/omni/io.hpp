#pragma once
// Weights in and out: safetensors files and module weights by PyTorch name (with prefix rules).
// The formats with their own dependencies stay opt-in by include, so this header never pulls
// them in:
//   cereal:  omni/io/checkpoint.hpp (training checkpoints: model, AdamW state, run identity)
//   xtensor: omni/io/xtensor.hpp (xtensor views and .npy files)
#include "omni/io/safetensors.hpp"
#include "omni/io/weights.hpp"

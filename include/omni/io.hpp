#pragma once
// Weights in and out: safetensors files (mapped, zero copy; F16 and BF16 too), module weights by
// PyTorch name (with prefix rules, or a checkpoint family's name map), DLPack exchange with other
// frameworks (docs/interop.md). The formats with their own dependencies stay opt-in by include,
// so this header never pulls them in:
//   cereal:  omni/io/checkpoint.hpp (training checkpoints: model, AdamW state, run identity)
//   xtensor: omni/io/xtensor.hpp (xtensor views and .npy files)
#include "omni/io/dlpack.hpp"
#include "omni/io/half.hpp"
#include "omni/io/name_map.hpp"
#include "omni/io/name_maps/hugging_face.hpp"
#include "omni/io/name_maps/open_clip.hpp"
#include "omni/io/name_maps/timm.hpp"
#include "omni/io/safetensors.hpp"
#include "omni/io/weights.hpp"

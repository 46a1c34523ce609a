#pragma once
// A promise for inference loops: while a frozen_weights scope is open, no tensor that a matmul
// reads is written in place. Backends may then keep prepared copies of persistent GEMM operands
// (the AMX path keeps each weight packed into bf16 tiles) and reuse them across calls instead of
// preparing them again for every batch. Closing the last scope drops them. Optimiser steps,
// load_weights or any in-place write to such a tensor belong outside the scope.
//
//   omni::matmul_precision_guard bf16(omni::matmul_precision::bf16);
//   omni::frozen_weights frozen;
//   for (auto& batch : batches) features.push_back(model.encode(modality::image, batch));
#include <atomic>
#include <cstdint>

namespace omni {

namespace detail {
struct FrozenWeightsState {
    std::atomic<int> depth{0};
    std::atomic<std::uint64_t> epoch{0};  // advanced whenever the outermost scope opens or closes
};
inline FrozenWeightsState& frozen_weights_state() {
    static FrozenWeightsState s;
    return s;
}
}  // namespace detail

/// RAII scope promising that matmul operands are not written while it is open, so backends may cache prepared weights.
class frozen_weights {
public:
    frozen_weights() {
        auto& s = detail::frozen_weights_state();
        if (s.depth.fetch_add(1) == 0) s.epoch.fetch_add(1);
    }
    ~frozen_weights() {
        auto& s = detail::frozen_weights_state();
        if (s.depth.fetch_sub(1) == 1) s.epoch.fetch_add(1);
    }
    frozen_weights(const frozen_weights&) = delete;
    frozen_weights& operator=(const frozen_weights&) = delete;

    static bool active() { return detail::frozen_weights_state().depth.load(std::memory_order_relaxed) > 0; }
    // Prepared copies made in another epoch are stale.
    static std::uint64_t epoch() { return detail::frozen_weights_state().epoch.load(std::memory_order_relaxed); }
};

}  // namespace omni

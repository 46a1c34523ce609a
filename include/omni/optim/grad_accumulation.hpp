#pragma once
// Gradient accumulation: k micro-batches per optimiser step. Leaves already sum gradients over
// backward() calls, so accumulation is only bookkeeping: scale each micro-batch's mean loss by
// 1/k, call backward on it, and step (then zero_grad) after every k-th. With equal micro-batches
// of size b this gives exactly the gradient of the mean loss over one batch of k*b.
//
//   GradAccumulation acc(4);
//   for (auto& batch : loader) {
//       mul(loss_fn(model, batch), acc.loss_scale()).backward();
//       if (acc.advance()) { clip_grad_norm(opt.groups, 1.0); opt.step(lr); opt.zero_grad(); }
//   }
#include <cstdint>
#include <string>

#include "omni/core/error.hpp"

namespace omni::optim {

/// Bookkeeping for k micro-batches per optimiser step: the loss scale 1/k and when to step.
class GradAccumulation {
public:
    explicit GradAccumulation(std::int64_t micro_batches) : k_(micro_batches) {
        if (k_ < 1) throw value_error("GradAccumulation", "expected micro_batches >= 1, got " + std::to_string(k_));
    }

    // Multiply each micro-batch loss by this before backward.
    double loss_scale() const { return 1.0 / static_cast<double>(k_); }

    // Counts one micro-batch whose backward has run; true when it completes a group of k, i.e.
    // the caller should step the optimiser and zero the gradients now.
    bool advance() {
        if (++pending_ < k_) return false;
        pending_ = 0;
        return true;
    }

    std::int64_t micro_batches() const { return k_; }
    // Micro-batches accumulated since the last step (0 right after one).
    std::int64_t pending() const { return pending_; }
    // Forgets a partial group, e.g. at the end of an epoch whose length is not a multiple of k
    // (the caller zeroes the gradients too, or steps on the partial sum, which is then scaled
    // by pending() / k rather than 1).
    void reset() { pending_ = 0; }

private:
    std::int64_t k_;
    std::int64_t pending_ = 0;
};

}  // namespace omni::optim

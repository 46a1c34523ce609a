#pragma once
// CosineSchedule: linear warmup from exactly 0, then half a cosine from base_lr down to min_lr,
// then min_lr (ref: Omni-C / MAE adjust_learning_rate, set every iteration). Steps are doubles
// because Omni-C counts fractional epochs, e = epoch + k / n, and any unit works: epochs,
// iterations or tokens, as long as warmup and total use the same one.
//
//   CosineSchedule s{.base_lr = 1e-4, .warmup_steps = 5, .total_steps = 100, .min_lr = 1e-6};
//   opt.step(s.lr(epoch + double(k) / n));
#include <cmath>
#include <numbers>
#include <string>

#include "omni/core/error.hpp"

namespace omni::optim {

/// Linear warmup from 0, then half a cosine from base_lr to min_lr (the Omni-C / MAE schedule).
struct CosineSchedule {
    double base_lr = 1e-3;
    double warmup_steps = 0;
    double total_steps = 1;
    double min_lr = 0;

    // Throws value_error naming "CosineSchedule" for a negative value or total <= warmup (the
    // cosine would divide by zero or run backwards). Called by lr(), so an aggregate built with
    // designated initialisers is checked on first use.
    void validate() const {
        auto non_negative = [](const char* what, double v) {
            if (!(v >= 0) || !std::isfinite(v))
                throw value_error("CosineSchedule", std::string("expected a finite ") + what + " >= 0, got " + std::to_string(v));
        };
        non_negative("base_lr", base_lr);
        non_negative("warmup_steps", warmup_steps);
        non_negative("total_steps", total_steps);
        non_negative("min_lr", min_lr);
        if (!(total_steps > warmup_steps))
            throw value_error("CosineSchedule", "expected total_steps > warmup_steps, got total_steps " + std::to_string(total_steps) +
                                                    " and warmup_steps " + std::to_string(warmup_steps));
    }

    double lr(double step) const {
        validate();
        if (!(step >= 0)) throw value_error("CosineSchedule", "expected step >= 0, got " + std::to_string(step));
        // Warmup ends at base_lr, not at min_lr: the cosine then starts from its top.
        if (step < warmup_steps) return base_lr * step / warmup_steps;
        if (step >= total_steps) return min_lr;
        const double progress = (step - warmup_steps) / (total_steps - warmup_steps);
        return min_lr + (base_lr - min_lr) * 0.5 * (1 + std::cos(std::numbers::pi * progress));
    }
    double operator()(double step) const { return lr(step); }
};

}  // namespace omni::optim

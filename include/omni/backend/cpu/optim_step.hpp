#pragma once
// CPU loops for the optimiser family: one pass over dense storage per parameter. Each update
// follows PyTorch's single-tensor AdamW/SGD op for op in the parameter's dtype, with the scalar
// factors (bias corrections, step size) formed in double first, as Python does.
#include <cmath>
#include <vector>

#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/cpu/vector_math.hpp"
#include "omni/backend/optim_step.hpp"
#include "omni/policy/cpu.hpp"

namespace omni {

OMNI_KERNELS_INLINE void optim_kernels<cpu>::adamw_step(const KernelView& param, const KernelView& grad, const KernelView& exp_avg, const KernelView& exp_avg_sq,
                                                        const AdamWStep& s) {
    const double bc1 = 1 - std::pow(s.beta1, static_cast<double>(s.step));
    const double bc2 = 1 - std::pow(s.beta2, static_cast<double>(s.step));
    dispatch_float(param.type, "adamw_step", [&]<class T>() {
        const T decay = static_cast<T>(1 - s.lr * s.weight_decay);  // decoupled: shrinks p before the Adam move
        const T b1 = static_cast<T>(s.beta1), c1 = static_cast<T>(1 - s.beta1);
        const T b2 = static_cast<T>(s.beta2), c2 = static_cast<T>(1 - s.beta2);
        const T step_size = static_cast<T>(s.lr / bc1), bc2_sqrt = static_cast<T>(std::sqrt(bc2)), eps = static_cast<T>(s.eps);
        T* p = param.as<T>();
        T* m = exp_avg.as<T>();
        T* v = exp_avg_sq.as<T>();
        const T* g = grad.as<T>();
        // Eigen arrays over L1-sized blocks: a plain loop's std::sqrt and divisions stay
        // scalar (errno semantics), which made the update compute-bound at ~10 cycles per
        // element; as packets it runs at memory speed. Same operations in the same order.
        // Blocks sit on a fixed grid, so which elements take Eigen's scalar tail (rounded
        // without FMA contraction) does not depend on the thread count.
        constexpr std::int64_t block = 1024;
        const std::int64_t total = param.numel(), blocks = (total + block - 1) / block;
        backend::cpu::parallel_for(blocks, 8 * block, [&](std::int64_t kb, std::int64_t ke) {
            for (std::int64_t k = kb; k < ke; ++k) {
                const std::int64_t i = k * block, n = std::min(block, total - i);
                backend::cpu::ArrayMap<T> P(p + i, n), M(m + i, n), V(v + i, n);
                const backend::cpu::ConstArrayMap<T> G(g + i, n);
                M = M * b1 + c1 * G;
                V = V * b2 + c2 * G * G;
                P = P * decay - step_size * (M / (V.sqrt() / bc2_sqrt + eps));
            }
        });
    });
}

OMNI_KERNELS_INLINE void optim_kernels<cpu>::sgd_step(const KernelView& param, const KernelView& grad, const KernelView& momentum_buf, const SgdStep& s) {
    dispatch_float(param.type, "sgd_step", [&]<class T>() {
        const T lr = static_cast<T>(s.lr), wd = static_cast<T>(s.weight_decay), mu = static_cast<T>(s.momentum);
        const T keep = static_cast<T>(1 - s.dampening);
        const bool use_buf = s.momentum != 0;
        T* p = param.as<T>();
        T* buf = momentum_buf.as<T>();
        const T* g = grad.as<T>();
        backend::cpu::parallel_for(param.numel(), 4, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t i = b; i < e; ++i) {
                T d = s.weight_decay != 0 ? g[i] + wd * p[i] : g[i];  // coupled decay: part of the gradient
                if (use_buf) {
                    // The first buffer is the gradient undamped, as in torch.optim.SGD.
                    const T bi = s.first_step ? d : buf[i] * mu + keep * d;
                    buf[i] = bi;
                    d = s.nesterov ? d + mu * bi : bi;
                }
                p[i] = p[i] - lr * d;
            }
        });
    });
}

// Fixed blocks, summed in block order: the result is the same bit for bit whatever the
// thread count, so a clipped run reproduces on another machine.
OMNI_KERNELS_INLINE double optim_kernels<cpu>::sum_of_squares(const KernelView& x) {
    constexpr std::int64_t block = 1 << 14;
    const std::int64_t n = x.numel(), blocks = (n + block - 1) / block;
    std::vector<double> partial(static_cast<std::size_t>(blocks), 0.0);
    dispatch_float(x.type, "sum_of_squares", [&]<class T>() {
        const T* xp = x.as<T>();
        backend::cpu::parallel_for(blocks, block, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t k = b; k < e; ++k) {
                double acc = 0;
                const std::int64_t end = std::min(n, (k + 1) * block);
                for (std::int64_t i = k * block; i < end; ++i) acc += static_cast<double>(xp[i]) * static_cast<double>(xp[i]);
                partial[static_cast<std::size_t>(k)] = acc;
            }
        });
    });
    double total = 0;
    for (double v : partial) total += v;
    return total;
}

}  // namespace omni

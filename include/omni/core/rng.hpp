#pragma once
// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11). A value depends only on
// (seed, offset, index), so CPU and CUDA kernels produce the same numbers in any thread order.
#include <cmath>
#include <cstdint>

#include "omni/core/shape.hpp"  // OMNI_HD

namespace omni {

/// The four 32-bit words of one Philox4x32-10 block (philox4x32_10).
struct philox4x32 {
    std::uint32_t v[4];
};

OMNI_HD inline philox4x32 philox4x32_10(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                                        std::uint32_t k0, std::uint32_t k1) {
    constexpr std::uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u, w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
    for (int r = 0; r < 10; ++r) {
        const std::uint64_t p0 = static_cast<std::uint64_t>(m0) * c0;
        const std::uint64_t p1 = static_cast<std::uint64_t>(m1) * c2;
        const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
        const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
        c1 = static_cast<std::uint32_t>(p1);
        c3 = static_cast<std::uint32_t>(p0);
        c0 = n0;
        c2 = n2;
        k0 += w0;
        k1 += w1;
    }
    return {{c0, c1, c2, c3}};
}

// Four uniforms in [0, 1) from block `block` of stream (seed, offset).
OMNI_HD inline void philox_uniform4(std::uint64_t seed, std::uint64_t offset, std::uint64_t block, double out[4]) {
    const philox4x32 r = philox4x32_10(static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                                       static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(offset >> 32),
                                       static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
    for (int i = 0; i < 4; ++i) out[i] = (r.v[i] >> 8) * (1.0 / 16777216.0);  // 24 bits: exact in float
}

// Element i of a uniform [0,1) stream.
OMNI_HD inline double philox_uniform(std::uint64_t seed, std::uint64_t offset, std::uint64_t i) {
    double u[4];
    philox_uniform4(seed, offset, i / 4, u);
    return u[i % 4];
}

// Element i of a standard normal stream (Box-Muller on lane pairs).
OMNI_HD inline double philox_normal(std::uint64_t seed, std::uint64_t offset, std::uint64_t i) {
    double u[4];
    philox_uniform4(seed, offset, i / 4, u);
    const int pair = static_cast<int>(i % 4) / 2;
    const double u1 = 1.0 - u[2 * pair];  // in (0, 1]: log is finite
    const double u2 = u[2 * pair + 1];
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double th = 6.283185307179586 * u2;
    return (i % 2 == 0) ? r * std::cos(th) : r * std::sin(th);
}

/// A seeded Philox stream, the source of every random draw in omni. Each draw of n values consumes its own offset, so consecutive draws never
/// overlap and a generator restored from (seed, offset) continues exactly.
class Generator {
public:
    explicit Generator(std::uint64_t seed = 0) : seed_(seed) {}
    std::uint64_t seed() const { return seed_; }
    std::uint64_t offset() const { return offset_; }
    void set_state(std::uint64_t seed, std::uint64_t offset) { seed_ = seed; offset_ = offset; }
    // Reserves a fresh stream id for one tensor-sized draw.
    std::uint64_t next_offset() { return offset_++; }

    double uniform() { return philox_uniform(seed_, next_offset(), 0); }
    double normal() { return philox_normal(seed_, next_offset(), 0); }

private:
    std::uint64_t seed_;
    std::uint64_t offset_ = 0;
};

}  // namespace omni

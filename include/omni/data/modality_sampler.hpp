#pragma once
// The modality-separated minibatch sampler of Omni-C's pretraining loop: every batch holds one
// modality's items, in a round-robin or proportional schedule. A batch becomes a tensor batch
// with omni::index_select(items, 0, ids) (backend/index.hpp) and then, for images,
// image/augment.hpp's augment_views.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/rng.hpp"

namespace omni::data {

enum class ModalitySchedule {
    round_robin,   // Omni-C: modality 0, 1, 2, 0, ...; each takes min(batches) per epoch
    proportional,  // every batch of every modality once per epoch, evenly interleaved
};

/// Options of ModalitySampler: batch size, schedule, partial batches, steps per turn, turn weights and seed.
struct SamplerOptions {
    std::int64_t batch_size = 32;
    ModalitySchedule schedule = ModalitySchedule::round_robin;
    bool drop_last = true;             // Omni-C drops the last partial batch of each modality
    std::int64_t steps_per_turn = 1;   // round robin: consecutive steps per modality (Omni-C's accumulate_steps)
    // Round robin: modality m takes steps_per_turn * turn_weights[m] steps per turn (empty: all 1),
    // for a modality that needs more steps than the others without a second schedule.
    std::vector<std::int64_t> turn_weights{};
    std::uint64_t seed = 0;
};

/// One batch of ModalitySampler: which modality, and the dataset indices of its items.
struct ModalityBatch {
    std::size_t modality = 0;           // index into the sizes given to the sampler
    std::vector<std::int64_t> indices;  // dataset indices of that modality
};

/// Minibatches that each hold one modality's items. ref: Omni-C sec. III-B and the release's utils/dataloader.py
/// (MultimodalDataLoader): each epoch reshuffles every modality, then round robin runs
/// M x min_m(batches_m) steps, so larger sets contribute a fresh random subset each epoch.
/// Turn weights (omni's, not the reference's) let one modality take several steps per turn.
/// Shuffles are Philox streams (seed, epoch * M + m), so any epoch can be produced directly.
class ModalitySampler {
public:
    ModalitySampler(std::vector<std::int64_t> sizes, SamplerOptions opt) : sizes_(std::move(sizes)), opt_(opt) {
        const char* op = "ModalitySampler";
        if (sizes_.empty()) throw value_error(op, "expected at least one modality, got none");
        if (opt_.batch_size < 1) throw value_error(op, "expected batch_size >= 1, got " + std::to_string(opt_.batch_size));
        if (opt_.steps_per_turn < 1)
            throw value_error(op, "expected steps_per_turn >= 1, got " + std::to_string(opt_.steps_per_turn));
        if (!opt_.turn_weights.empty() && opt_.turn_weights.size() != sizes_.size())
            throw value_error(op, "expected one turn weight per modality (" + std::to_string(sizes_.size()) + "), got " +
                                      std::to_string(opt_.turn_weights.size()));
        for (std::size_t m = 0; m < opt_.turn_weights.size(); ++m)
            if (opt_.turn_weights[m] < 1)
                throw value_error(op, "expected turn weights >= 1, got " + std::to_string(opt_.turn_weights[m]) + " for modality " + std::to_string(m));
        for (std::size_t m = 0; m < sizes_.size(); ++m)
            if (batches_of(m) < 1)
                throw value_error(op, "expected every modality to fill a batch of " + std::to_string(opt_.batch_size) +
                                          ", got " + std::to_string(sizes_[m]) + " items in modality " + std::to_string(m));
        if (opt_.schedule == ModalitySchedule::round_robin)
            for (std::size_t m = 0; m < sizes_.size(); ++m)
                if (batches_of(m) < turn_of(m))
                    throw value_error(op, "expected every modality to fill a turn of " + std::to_string(turn_of(m)) + " batches of " +
                                              std::to_string(opt_.batch_size) + ", got " + std::to_string(sizes_[m]) + " items in modality " +
                                              std::to_string(m));
    }

    std::size_t modalities() const { return sizes_.size(); }
    // Batches one pass over modality m yields.
    std::int64_t batches_of(std::size_t m) const {
        const std::int64_t n = sizes_.at(m), b = opt_.batch_size;
        return opt_.drop_last ? n / b : (n + b - 1) / b;
    }
    // Round robin: consecutive steps modality m takes per turn.
    std::int64_t turn_of(std::size_t m) const { return opt_.steps_per_turn * (opt_.turn_weights.empty() ? 1 : opt_.turn_weights.at(m)); }
    // Round robin: whole turns per epoch, as many as the modality with the fewest batches per
    // turn fills (a partial last turn would hand some modality an empty batch).
    std::int64_t turns_per_epoch() const {
        std::int64_t turns = batches_of(0) / turn_of(0);
        for (std::size_t m = 1; m < sizes_.size(); ++m) turns = std::min(turns, batches_of(m) / turn_of(m));
        return turns;
    }
    std::int64_t steps_per_epoch() const {
        std::int64_t per_turn = 0, total = 0;
        for (std::size_t m = 0; m < sizes_.size(); ++m) {
            per_turn += turn_of(m);
            total += batches_of(m);
        }
        return opt_.schedule == ModalitySchedule::round_robin ? turns_per_epoch() * per_turn : total;
    }

    // Modality m's order of items in epoch e: Fisher-Yates on Philox draws.
    std::vector<std::int64_t> permutation(std::int64_t epoch, std::size_t m) const {
        Generator gen(opt_.seed);
        gen.set_state(opt_.seed, static_cast<std::uint64_t>(epoch) * sizes_.size() + m);
        const std::uint64_t stream = gen.next_offset();
        std::vector<std::int64_t> p(static_cast<std::size_t>(sizes_[m]));
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::int64_t>(i);
        for (std::size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[below(gen.seed(), stream, i, i)]);
        return p;
    }

    // The whole schedule of epoch e, in step order.
    std::vector<ModalityBatch> epoch(std::int64_t e) const {
        const std::size_t M = sizes_.size();
        std::vector<std::vector<std::int64_t>> perm(M);
        for (std::size_t m = 0; m < M; ++m) perm[m] = permutation(e, m);
        std::vector<ModalityBatch> out;
        out.reserve(static_cast<std::size_t>(steps_per_epoch()));
        std::vector<std::int64_t> taken(M, 0);
        const auto emit = [&](std::size_t m) {
            const std::int64_t b = taken[m]++, lo = b * opt_.batch_size, hi = std::min(lo + opt_.batch_size, sizes_[m]);
            out.push_back({m, std::vector<std::int64_t>(perm[m].begin() + lo, perm[m].begin() + hi)});
        };
        if (opt_.schedule == ModalitySchedule::round_robin) {
            const std::int64_t turns = turns_per_epoch();
            for (std::int64_t t = 0; t < turns; ++t)
                for (std::size_t m = 0; m < M; ++m)
                    for (std::int64_t k = 0; k < turn_of(m); ++k) emit(m);
        } else {
            // Batch k of modality m sits at (k + 1/2) / batches_m of the epoch: a smooth interleave.
            std::vector<std::pair<double, std::size_t>> slots;
            for (std::size_t m = 0; m < M; ++m)
                for (std::int64_t k = 0; k < batches_of(m); ++k)
                    slots.emplace_back((static_cast<double>(k) + 0.5) / static_cast<double>(batches_of(m)), m);
            std::stable_sort(slots.begin(), slots.end());
            for (const auto& s : slots) emit(s.second);
        }
        return out;
    }

private:
    // An integer in [0, n) from 64 Philox bits (block i of the stream), by multiply-shift: the
    // 24-bit uniforms of philox_uniform would bias a shuffle of a million items.
    static std::size_t below(std::uint64_t seed, std::uint64_t stream, std::uint64_t i, std::size_t n) {
        const philox4x32 r = philox4x32_10(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i >> 32),
                                           static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32),
                                           static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
        const std::uint64_t bits = (static_cast<std::uint64_t>(r.v[0]) << 32) | r.v[1];
        return static_cast<std::size_t>((static_cast<unsigned __int128>(bits) * n) >> 64);
    }

    std::vector<std::int64_t> sizes_;
    SamplerOptions opt_;
};

}  // namespace omni::data

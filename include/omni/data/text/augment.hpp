#pragma once
// The two text views of Omni-C's contrastive pretraining, on token ids: ids [L] (or [B, L] int64)
// -> a view [seq_len] (or [B, seq_len] int64), re-padded with pad_id or truncated.
// ref: Omni-C utils/wiki.py (the Wikipedia loader; utils/text_dataset.py behaves the same),
// augment_text (view 1) and apply_stronger_augmentations (view 2, used because augment=True);
// the Omni-C release's utils/text_dataset.py.
//  - view 1: every non-pad token draws u ~ U(0,1): u < p_mask -> mask_id; u < p_mask + p_delete ->
//    deleted; else kept. Pad tokens stay where they are.
//  - view 2: pads are removed first. With m = 1.5 p_mask and d = 1.2 p_delete: u < m -> mask_id;
//    u < m + d -> deleted; u < m + d + p_swap -> when a next token exists and a second draw is
//    below swap_accept, emit the next token and then this one, marking the next slot consumed;
//    otherwise keep. A consumed slot emits nothing when its own draw says keep, delete or swap
//    without partner, but still emits mask_id when its draw says mask (the reference code's quirk,
//    kept so the views have the reference's distribution), and swaps its own next token forward.
// [CLS] and [SEP] are ordinary tokens here: only pad_id is protected.
// Randomness: each sequence takes one Philox stream (Generator::next_offset) and reads it in
// order, one value per token plus one per swap attempt, so a seed fixes every view.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"
#include "omni/core/rng.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::data {

/// The rates of the two text views (see the top of this header): masking, deletion, and view 2's stronger rates and swaps.
struct TextAugmentOptions {
    double p_mask = 0.15;              // view 1 mask rate (code default; paper: "random token masking")
    double p_delete = 0.10;            // view 1 delete rate, so deletes fall in [0.15, 0.25)
    double strong_mask_scale = 1.5;    // view 2 masks below 0.225
    double strong_delete_scale = 1.2;  // view 2 deletes in [0.225, 0.345)
    double p_swap = 0.05;              // view 2 swap band [0.345, 0.395)
    double swap_accept = 0.5;          // chance a swap-band token really swaps
    std::int64_t mask_id = 103, pad_id = 0;
    std::int64_t seq_len = 256;
};

namespace detail {
inline void check_augment(const TextAugmentOptions& o, const char* op) {
    if (o.seq_len < 0) throw value_error(op, "expected seq_len >= 0, got " + std::to_string(o.seq_len));
    for (const double p : {o.p_mask, o.p_delete, o.p_swap, o.swap_accept, o.strong_mask_scale, o.strong_delete_scale})
        if (!(p >= 0.0)) throw value_error(op, "expected non-negative rates, got " + std::to_string(p));
}

inline void pad_to(std::vector<std::int64_t>& v, const TextAugmentOptions& o) {
    v.resize(static_cast<std::size_t>(o.seq_len), o.pad_id);  // truncates or pads with pad_id
}

// Uniforms from one Philox stream, read in order.
struct StreamDraw {
    std::uint64_t seed, offset, i = 0;
    double operator()() { return philox_uniform(seed, offset, i++); }
};
}  // namespace detail

// View 1 with uniforms from `draw` (any callable returning U(0,1); tests script it).
template <class Draw>
std::vector<std::int64_t> augment_text(std::span<const std::int64_t> ids, Draw&& draw, const TextAugmentOptions& o = {}) {
    detail::check_augment(o, "augment_text");
    std::vector<std::int64_t> out;
    out.reserve(ids.size());
    for (const std::int64_t t : ids) {
        if (t == o.pad_id) {
            out.push_back(t);
            continue;
        }
        const double u = draw();
        if (u < o.p_mask) out.push_back(o.mask_id);
        else if (u >= o.p_mask + o.p_delete) out.push_back(t);
    }
    detail::pad_to(out, o);
    return out;
}

// View 2 with uniforms from `draw`.
template <class Draw>
std::vector<std::int64_t> augment_text_strong(std::span<const std::int64_t> ids, Draw&& draw,
                                              const TextAugmentOptions& o = {}) {
    detail::check_augment(o, "augment_text_strong");
    std::vector<std::int64_t> tokens;
    for (const std::int64_t t : ids)
        if (t != o.pad_id) tokens.push_back(t);
    const double mask_below = o.p_mask * o.strong_mask_scale;
    const double delete_below = mask_below + o.p_delete * o.strong_delete_scale;
    const double swap_below = delete_below + o.p_swap;
    std::vector<char> consumed(tokens.size(), 0);  // the reference sets these slots to None
    std::vector<std::int64_t> out;
    out.reserve(tokens.size());
    const std::size_t n = tokens.size();
    for (std::size_t i = 0; i < n; ++i) {
        const double u = draw();
        if (u < mask_below) {
            out.push_back(o.mask_id);  // even for a consumed slot: the quirk
        } else if (u < delete_below) {
            continue;
        } else if (u < swap_below) {
            // The second draw happens only when a next token exists (Python's `and` short-circuits).
            if (i + 1 < n && draw() < o.swap_accept) {
                out.push_back(tokens[i + 1]);
                if (!consumed[i]) out.push_back(tokens[i]);
                consumed[i + 1] = 1;
            } else if (!consumed[i]) {
                out.push_back(tokens[i]);
            }
        } else if (!consumed[i]) {
            out.push_back(tokens[i]);
        }
    }
    detail::pad_to(out, o);
    return out;
}

// Seeded forms: one generator stream per call.
OMNI_LIB_INLINE std::vector<std::int64_t> augment_text(std::span<const std::int64_t> ids, Generator& gen,
                                              const TextAugmentOptions& o = {})
#if OMNI_LIB_DEFINE
{
    return augment_text(ids, detail::StreamDraw{gen.seed(), gen.next_offset()}, o);
}
#else
;
#endif
OMNI_LIB_INLINE std::vector<std::int64_t> augment_text_strong(std::span<const std::int64_t> ids, Generator& gen,
                                                     const TextAugmentOptions& o = {})
#if OMNI_LIB_DEFINE
{
    return augment_text_strong(ids, detail::StreamDraw{gen.seed(), gen.next_offset()}, o);
}
#else
;
#endif

namespace detail {
template <class View>
Tensor<cpu> augment_rows(const Tensor<cpu>& ids, Generator& gen, const TextAugmentOptions& o, const char* op, View view) {
    if (ids.dim() != 2)
        throw shape_error(op, "expected token ids [B, L], got " + ids.shape().str());
    if (ids.type() != dtype::i64)
        throw dtype_error(op, std::string("expected int64 token ids, got ") + name_of(ids.type()));
    check_augment(o, op);
    const Tensor<cpu> src = ids.contiguous();
    const std::int64_t b = src.size(0), l = src.size(1);
    const std::int64_t* in = src.data<std::int64_t>();
    std::vector<std::int64_t> flat;
    flat.reserve(static_cast<std::size_t>(b * o.seq_len));
    for (std::int64_t r = 0; r < b; ++r) {  // rows in order, so row r always reads stream offset + r
        const auto row = view(std::span<const std::int64_t>(in + r * l, static_cast<std::size_t>(l)), gen, o);
        flat.insert(flat.end(), row.begin(), row.end());
    }
    return Tensor<cpu>::from_data(flat, Shape{b, o.seq_len});
}
}  // namespace detail

// Batched views: ids int64 [B, L] -> int64 [B, seq_len].
OMNI_LIB_INLINE Tensor<cpu> augment_text(const Tensor<cpu>& ids, Generator& gen, const TextAugmentOptions& o = {})
#if OMNI_LIB_DEFINE
{
    return detail::augment_rows(ids, gen, o, "augment_text", [](std::span<const std::int64_t> r, Generator& g,
                                                                 const TextAugmentOptions& op) { return augment_text(r, g, op); });
}
#else
;
#endif
OMNI_LIB_INLINE Tensor<cpu> augment_text_strong(const Tensor<cpu>& ids, Generator& gen, const TextAugmentOptions& o = {})
#if OMNI_LIB_DEFINE
{
    return detail::augment_rows(ids, gen, o, "augment_text_strong",
                                [](std::span<const std::int64_t> r, Generator& g, const TextAugmentOptions& op) {
                                    return augment_text_strong(r, g, op);
                                });
}
#else
;
#endif

}  // namespace omni::data

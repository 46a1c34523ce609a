#pragma once
// Temporal Embedding Grouping (TEG), OmniVinci (arXiv 2510.15870), sec. 2: the visual and audio
// tokens of one video are cut into segments of T_G seconds and laid out as
// [G_v^1, SEP, G_a^1, SEP, G_v^2, SEP, G_a^2, SEP, ...].
//
// Two steps. teg_plan() is pure bookkeeping (no tensors): it transcribes the released
// OmniVinci code (the processor's segment loop and the model's token slicing in
// OmniVinci's embed-and-interleave step) and returns, for every output position, the row of
// concat(visual, audio, separator) it copies. teg_apply() then runs ONE taped index_select over
// that concatenation, so the backward scatters gradients to the source tokens and to the
// separator row on every policy without a kernel of its own. teg_plan_by_time() groups tokens by
// their own timestamps instead (segment = floor(t / T_G)).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "omni/autodiff/index.hpp"
#include "omni/nn/module.hpp"

namespace omni::nn {

/// Input of teg_plan: what one video brings to the released grouping. Defaults are those of OmniVinci's config
/// class (interleaved_video_segment_duration 30 s; 16 kHz audio; Whisper's hop of 160 samples,
/// 100 STFT frames per second).
struct TegOptions {
    double segment_seconds = 30;               // T_G
    double fps = 0;                            // frame rate of the source video
    std::int64_t frame_count = 0;              // frames of the source video: duration = frame_count / fps
    std::vector<std::int64_t> frame_indices;   // sampled frames, non-decreasing, in [0, frame_count)
    bool has_audio = true;                     // false: the release keeps the video tokens as they are
    double audio_start = 0, audio_end = 0;     // loaded audio span [a0, a1] in seconds (a1: end of the padded audio)
    std::int64_t sample_rate = 16000, hop_length = 160;  // STFT frames per second = sample_rate / hop_length (integer)
    std::int64_t stft_frames = 0;              // STFT frames the audio encoder saw (3000 per 30 s chunk)
    std::int64_t visual_tokens = 0;            // Nv: tokens of all sampled frames after the projector
    std::int64_t audio_tokens = 0;             // Na: tokens of the audio encoder (750 per 30 s chunk)
};

enum class teg_source : std::uint8_t { visual, audio, separator };

/// One segment of the output: [n_visual visual tokens][SEP][n_audio audio tokens][SEP] from
/// position `begin` (without separators when the plan has none).
struct TegSegment {
    std::int64_t begin = 0, n_visual = 0, n_audio = 0;
    std::int64_t frame_begin = 0, frame_end = 0;  // sampled-frame positions [begin, end) (released mode)
    std::int64_t stft_begin = -1, stft_end = -1;  // STFT frames; -1: the window misses the audio span
};

/// The index map: output position p copies row index[p] of concat(visual [Nv], audio [Na], SEP).
struct TegPlan {
    std::int64_t visual_tokens = 0, audio_tokens = 0;
    bool separators = true;
    std::vector<TegSegment> segments;
    std::vector<std::int64_t> index;

    std::int64_t length() const { return static_cast<std::int64_t>(index.size()); }
    std::int64_t separator_row() const { return visual_tokens + audio_tokens; }
    teg_source source(std::int64_t p) const {
        const std::int64_t r = index.at(p);
        return r < visual_tokens ? teg_source::visual : r < separator_row() ? teg_source::audio : teg_source::separator;
    }
    // The token's index within its own modality (0 for a separator).
    std::int64_t source_index(std::int64_t p) const {
        const std::int64_t r = index.at(p);
        return r < visual_tokens ? r : r < separator_row() ? r - visual_tokens : 0;
    }
};

namespace detail {
inline std::string teg_num(double x) { return std::to_string(x); }
inline void teg_check_segment(double t_g) {
    if (!(t_g > 0) || !std::isfinite(t_g)) throw value_error("teg", "expected segment_seconds > 0, got " + teg_num(t_g));
}
// Appends one segment's rows: visual [vb, ve), SEP, audio [ab, ae), SEP.
inline void teg_emit(TegPlan& plan, TegSegment seg, const std::vector<std::int64_t>& vis, const std::vector<std::int64_t>& aud) {
    seg.begin = plan.length();
    seg.n_visual = static_cast<std::int64_t>(vis.size());
    seg.n_audio = static_cast<std::int64_t>(aud.size());
    for (auto v : vis) plan.index.push_back(v);
    plan.index.push_back(plan.separator_row());
    for (auto a : aud) plan.index.push_back(plan.visual_tokens + a);
    plan.index.push_back(plan.separator_row());
    plan.segments.push_back(seg);
}
inline std::vector<std::int64_t> teg_range(std::int64_t b, std::int64_t e) {
    std::vector<std::int64_t> r;
    for (std::int64_t i = b; i < e; ++i) r.push_back(i);
    return r;
}
}  // namespace detail

// The released grouping for one video with audio. Floating-point steps follow the Python code
// operation by operation (Python's round() is round-half-to-even, as std::nearbyint), so the
// plan equals the release's bit for bit; tests/parity/align_reference.py holds the transcription.
inline TegPlan teg_plan(const TegOptions& o) {
    detail::teg_check_segment(o.segment_seconds);
    if (!(o.fps > 0) || !std::isfinite(o.fps)) throw value_error("teg", "expected fps > 0, got " + detail::teg_num(o.fps));
    if (o.frame_count < 1) throw value_error("teg", "expected frame_count >= 1, got " + std::to_string(o.frame_count));
    const auto n_frames = static_cast<std::int64_t>(o.frame_indices.size());
    if (n_frames < 1) throw value_error("teg", "expected at least one sampled frame index, got none");
    for (std::int64_t i = 0; i < n_frames; ++i) {
        const std::int64_t f = o.frame_indices[i];
        if (f < 0 || f >= o.frame_count)
            throw value_error("teg", "expected sampled frame indices in [0, " + std::to_string(o.frame_count) + "), got " +
                                         std::to_string(f) + " at position " + std::to_string(i));
        if (i > 0 && f < o.frame_indices[i - 1])
            throw value_error("teg", "expected non-decreasing frame indices, got " + std::to_string(o.frame_indices[i - 1]) + " then " +
                                         std::to_string(f) + " at position " + std::to_string(i));
    }
    if (o.visual_tokens < 1) throw value_error("teg", "expected visual_tokens >= 1, got " + std::to_string(o.visual_tokens));

    TegPlan plan;
    plan.visual_tokens = o.visual_tokens;
    if (!o.has_audio) {  // the release interleaves only videos with audio; the rest stay as they are
        plan.separators = false;
        plan.index = detail::teg_range(0, o.visual_tokens);
        plan.segments.push_back({.begin = 0, .n_visual = o.visual_tokens, .frame_begin = 0, .frame_end = n_frames});
        return plan;
    }
    if (!std::isfinite(o.audio_start) || !std::isfinite(o.audio_end) || o.audio_end < o.audio_start)
        throw value_error("teg", "expected a finite audio span with audio_start <= audio_end, got [" + detail::teg_num(o.audio_start) + ", " +
                                     detail::teg_num(o.audio_end) + "]");
    if (o.sample_rate < 1 || o.hop_length < 1 || o.sample_rate / o.hop_length < 1)
        throw value_error("teg", "expected sample_rate >= hop_length >= 1, got sample_rate " + std::to_string(o.sample_rate) +
                                     ", hop_length " + std::to_string(o.hop_length));
    if (o.stft_frames < 1 || o.audio_tokens < 1)
        throw value_error("teg", "expected stft_frames >= 1 and audio_tokens >= 1 for a video with audio, got stft_frames " +
                                     std::to_string(o.stft_frames) + ", audio_tokens " + std::to_string(o.audio_tokens));
    plan.audio_tokens = o.audio_tokens;

    const double t_g = o.segment_seconds, fps = o.fps;
    const double duration = static_cast<double>(o.frame_count) / fps;
    const auto n_seg = static_cast<std::int64_t>(std::ceil(duration / t_g));
    const auto stft_fps = static_cast<double>(o.sample_rate / o.hop_length);
    const double per_frame = static_cast<double>(o.visual_tokens) / static_cast<double>(n_frames);
    const double per_stft = static_cast<double>(o.audio_tokens) / static_cast<double>(o.stft_frames);

    std::int64_t idx = 0, stft_start = 0, vis_end = 0, aud_end = 0;
    for (std::int64_t i = 0; i < n_seg; ++i) {
        TegSegment seg;
        // Visual: every not-yet-assigned sampled frame whose index is below the segment's end frame.
        const double end_frame = std::min(static_cast<double>(i + 1) * t_g * fps, static_cast<double>(o.frame_count));
        seg.frame_begin = idx;
        while (idx < n_frames && static_cast<double>(o.frame_indices[idx]) < end_frame) ++idx;
        seg.frame_end = idx;
        // Audio: the segment's window intersected with the loaded span, in STFT frames.
        const double clip_start = static_cast<double>(i) * t_g;
        const double clip_end = std::min(clip_start + t_g, duration);
        const double overlap_start = std::max(clip_start, o.audio_start), overlap_end = std::min(clip_end, o.audio_end);
        if (overlap_start < overlap_end) {
            seg.stft_begin = stft_start;
            seg.stft_end = static_cast<std::int64_t>(std::nearbyint((overlap_end - o.audio_start) * stft_fps));
            stft_start = seg.stft_end;
        }
        // Tokens: a segment's slice runs from the previous end to ceil of its last frame (or STFT
        // end) times tokens per frame; the last segment takes the remaining visual tokens.
        std::vector<std::int64_t> vis, aud;
        if (seg.frame_end > seg.frame_begin) {
            auto e = static_cast<std::int64_t>(std::ceil(static_cast<double>(seg.frame_end) * per_frame));
            e = std::min(e, o.visual_tokens);
            if (i == n_seg - 1) e = o.visual_tokens;
            vis = detail::teg_range(vis_end, e);
            vis_end = std::max(vis_end, e);
        }
        if (seg.stft_begin >= 0) {
            auto e = static_cast<std::int64_t>(std::ceil(static_cast<double>(seg.stft_end) * per_stft));
            e = std::min(e, o.audio_tokens);
            aud = detail::teg_range(aud_end, e);
            aud_end = std::max(aud_end, e);
        }
        detail::teg_emit(plan, seg, vis, aud);
    }
    return plan;
}

// Groups tokens by their own timestamps (seconds): token t joins segment floor(t / T_G), keeping
// its input order inside the segment; segments run from 0 to the latest one, each emitted (with
// its separators) even when empty, as in the released layout.
inline TegPlan teg_plan_by_time(const std::vector<double>& visual_times, const std::vector<double>& audio_times, double segment_seconds) {
    detail::teg_check_segment(segment_seconds);
    std::int64_t n_seg = 0;
    auto segment_of = [&](const std::vector<double>& ts, const char* what) {
        std::vector<std::int64_t> s(ts.size());
        for (std::size_t k = 0; k < ts.size(); ++k) {
            if (!std::isfinite(ts[k]) || ts[k] < 0)
                throw value_error("teg", std::string("expected finite ") + what + " times >= 0, got " + detail::teg_num(ts[k]) +
                                             " at token " + std::to_string(k));
            s[k] = static_cast<std::int64_t>(std::floor(ts[k] / segment_seconds));
            n_seg = std::max(n_seg, s[k] + 1);
        }
        return s;
    };
    const auto sv = segment_of(visual_times, "visual"), sa = segment_of(audio_times, "audio");
    TegPlan plan;
    plan.visual_tokens = static_cast<std::int64_t>(visual_times.size());
    plan.audio_tokens = static_cast<std::int64_t>(audio_times.size());
    std::vector<std::vector<std::int64_t>> vis(n_seg), aud(n_seg);
    for (std::size_t k = 0; k < sv.size(); ++k) vis[sv[k]].push_back(static_cast<std::int64_t>(k));
    for (std::size_t k = 0; k < sa.size(); ++k) aud[sa[k]].push_back(static_cast<std::int64_t>(k));
    for (std::int64_t i = 0; i < n_seg; ++i) detail::teg_emit(plan, TegSegment{}, vis[i], aud[i]);
    return plan;
}

// visual [Nv, C], audio [Na, C] (may be undefined when Na = 0), separator [C] or [1, C] ->
// [plan.length(), C], one gather over concat(visual, audio, separator). On a taped policy the
// gradient reaches all three, the separator summing over its every use.
template <class P>
Tensor<P> teg_apply(const TegPlan& plan, const Tensor<P>& visual, const Tensor<P>& audio, const Tensor<P>& separator) {
    if (visual.dim() != 2 || visual.shape()[0] != plan.visual_tokens)
        throw shape_error("teg", "expected visual [" + std::to_string(plan.visual_tokens) + ", C], got " + visual.shape().str());
    const std::int64_t c = visual.shape()[1];
    const bool has_audio = audio.defined() && audio.numel() > 0;
    if ((plan.audio_tokens > 0 || has_audio) &&
        (!audio.defined() || audio.dim() != 2 || audio.shape()[0] != plan.audio_tokens || audio.shape()[1] != c))
        throw shape_error("teg", "expected audio [" + std::to_string(plan.audio_tokens) + ", " + std::to_string(c) + "], got " +
                                     (audio.defined() ? audio.shape().str() : std::string("none")));
    std::vector<Tensor<P>> parts{visual};
    if (plan.audio_tokens > 0) parts.push_back(audio);
    if (plan.separators) {
        if (!separator.defined() || separator.numel() != c || separator.dim() > 2 || (separator.dim() == 2 && separator.shape()[0] != 1))
            throw shape_error("teg", "expected a separator [" + std::to_string(c) + "] or [1, " + std::to_string(c) + "], got " +
                                         (separator.defined() ? separator.shape().str() : std::string("none")));
        parts.push_back(separator.reshape(Shape{1, c}));
    }
    for (const auto& p : parts)
        if (p.type() != visual.type())
            throw dtype_error("teg", std::string("expected visual, audio and separator of one dtype (") + name_of(visual.type()) + "), got " +
                                         name_of(p.type()));
    const Tensor<P> table = parts.size() == 1 ? visual : concat(parts, 0);
    const Tensor<P> idx = make_buffer<P>(Tensor<device_of_t<P>>::from_data(plan.index, Shape{plan.length()}));
    return index_select(table, 0, idx);
}

}  // namespace omni::nn

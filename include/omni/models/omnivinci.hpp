#pragma once
// OmniVinci, the assembled omni-modal LLM (OmniVinci, arXiv 2510.15870, sec. 2): a batch of B clips
// (video frames [sum F_b, C, H, W], Whisper log-mel [B, n_mels, 2P], prompt ids [B, L] with one
// media placeholder per row) -> logits [B, L', vocab] over the prompt with each clip's media
// tokens spliced in at its placeholder (L' = the longest spliced row), and with labels the loss
// L = L_LM + align_weight L_align:
//
//   frames -ViT-> patch tokens -mlp_downsample-> CRTE(frame time) --.
//                                                                    +- TEG or concat -> splice -> Qwen2 -> logits -> L_LM
//   mel -Whisper encoder-> sound mlp -> CRTE(audio token time) -----'
//   projected (pre-CRTE) visual and audio tokens -> OmniAlignNet -> L_align
//
// Parameter names follow the released model's top level: vision_tower.*, sound_tower.*,
// mm_projector.*, sound_mm_projector.*, llm.* (transformers' Qwen2ForCausalLM names), plus
// align_net.* and align_loss.* (training only; the release ships no OmniAlignNet).
// Decisions where the paper and release are silent are listed at OmniVinci::media below.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "omni/loss/causal_lm.hpp"
#include "omni/models/generate.hpp"
#include "omni/models/omnivinci_config.hpp"
#include "omni/nn/projectors/mlp_downsample.hpp"
#include "omni/nn/projectors/sound_mlp.hpp"
#include "omni/nn/time/teg.hpp"

namespace omni::models {

/// One batch of B clips; clips differ in frame count and audio length.
template <class P> struct OmniBatch {
    Tensor<P> frames;                        // [sum_b F_b, C, H, W]; or empty when vision_features is set
    Tensor<P> vision_features;               // optional [sum_b F_b, patches, vision.dim]: precomputed (frozen) encoder output
    std::vector<std::int64_t> frame_counts;  // F_b >= 1
    std::vector<double> fps;                 // per clip; frame f of clip b is at f / fps[b] seconds
    Tensor<P> mel;                           // [B, n_mels, 2 max_source_positions]; or empty when audio_features is set
    Tensor<P> audio_features;                // optional [B, max_source_positions / 2, audio.d_model]
    std::vector<double> audio_seconds;       // valid audio per clip, in (0, chunk_seconds]; later audio tokens are dropped
    Tensor<P> ids;                           // [B, L] int64, right-padded, exactly one media_token per row
    Tensor<P> labels;                        // [B, L] int64, -100 = ignored (optional at inference)
};

/// What OmniVinci::forward returns: logits over the spliced rows, the losses (with labels) and where each row's media sits.
template <class P> struct OmniOutput {
    Tensor<P> logits;      // [B, L', vocab]
    Tensor<P> loss;        // lm_loss + align_weight align_loss; with labels only
    Tensor<P> lm_loss;     // with labels only
    Tensor<P> align_loss;  // with labels, cfg.align and B >= 2 only
    Tensor<P> labels;      // [B, L'] int64: the labels after splicing (-100 over media and padding)
    std::vector<std::int64_t> lengths;       // real (unpadded) length of each spliced row
    std::vector<std::int64_t> media_begin;   // position of each row's first media token
    std::vector<std::int64_t> media_length;  // media tokens of each row
};

/// The media of a batch, per clip: projected visual tokens [F_b tokens_per_frame, C] and kept
/// audio tokens [Na_b, C] before CRTE (OmniAlignNet's input), and the final media sequence
/// [L_media_b, C] (after CRTE and TEG) that replaces the placeholder.
template <class P> struct OmniMedia {
    std::vector<Tensor<P>> visual, audio, sequence;
};

// Which part of the model, for staged training (freeze, optimiser groups, learning rates).
enum class omni_part { vision, audio, vision_projector, audio_projector, llm, align };

/// The assembled OmniVinci model: vision and audio towers, their projectors, CRTE, TEG, a Qwen2 LLM and OmniAlignNet;
/// OmniBatch -> OmniOutput.
template <class P> struct OmniVinci : nn::Module {
    using policy = P;
    using D = nn::device_of_t<P>;
    OmniVinciConfig cfg;
    nn::VisionTransformer<P> vision;           // vision_tower
    nn::WhisperEncoder<P> audio;               // sound_tower
    nn::MLPDownsample<P> vision_projector;     // mm_projector
    nn::SoundMLP<P> audio_projector;           // sound_mm_projector
    Qwen2<P> llm;                              // llm
    nn::OmniAlignNet<P> align_net;             // align_net (cfg.align only)
    loss::OmniAlignLoss<P> align_loss;         // align_loss (cfg.align only; a parameter with the learnable scale)

    OmniVinci() = default;
    OmniVinci(const OmniVinciConfig& c, Generator& g) : cfg(c) {
        const auto fail = [](const std::string& what) { throw value_error("OmniVinci", what); };
        if (c.vision.patch < 1 || c.vision.height % c.vision.patch || c.vision.width % c.vision.patch)
            fail("expected frame height and width divisible by the patch, got " + std::to_string(c.vision.height) + " x " +
                 std::to_string(c.vision.width) + ", patch " + std::to_string(c.vision.patch));
        if (c.align && c.align_net.dim != c.llm.hidden)
            fail("expected align_net.dim equal to llm.hidden (" + std::to_string(c.llm.hidden) + "), got " + std::to_string(c.align_net.dim));
        if (c.media_token < 0 || c.media_token >= c.llm.vocab)
            fail("expected media_token in [0, " + std::to_string(c.llm.vocab) + "), got " + std::to_string(c.media_token));
        if (c.teg && (c.separator_token < 0 || c.separator_token >= c.llm.vocab))
            fail("expected separator_token in [0, " + std::to_string(c.llm.vocab) + ") with TEG, got " + std::to_string(c.separator_token));
        if (c.teg && (!(c.segment_seconds > 0) || !std::isfinite(c.segment_seconds)))
            fail("expected segment_seconds > 0, got " + std::to_string(c.segment_seconds));
        if (!(c.align_weight >= 0) || !std::isfinite(c.align_weight)) fail("expected align_weight >= 0, got " + std::to_string(c.align_weight));
        if (c.audio_pool < 1 || c.audio_pool > c.audio.output_tokens())
            fail("expected audio_pool in [1, " + std::to_string(c.audio.output_tokens()) + "], got " + std::to_string(c.audio_pool));
        if (c.crte) nn::crte_frequencies(c.time);
        vision = nn::VisionTransformer<P>(c.vision, g);
        audio = nn::WhisperEncoder<P>(c.audio, g);
        vision_projector = nn::MLPDownsample<P>({.in = c.vision.dim, .out = c.llm.hidden, .eps = c.projector_eps}, g);
        audio_projector = nn::SoundMLP<P>({.in = c.audio.d_model, .out = c.llm.hidden}, g);
        llm = Qwen2<P>(c.llm, g);
        if (c.align) {
            align_net = nn::OmniAlignNet<P>(c.align_net, g);
            align_loss = loss::OmniAlignLoss<P>(c.align_loss);
        }
        nn::name_modules(*this);
    }

    template <class V> void visit(V& v) {
        v.module("vision_tower", vision);
        v.module("sound_tower", audio);
        v.module("mm_projector", vision_projector);
        v.module("sound_mm_projector", audio_projector);
        v.module("llm", llm);
        if (cfg.align) {
            v.module("align_net", align_net);
            v.module("align_loss", align_loss);
        }
    }

    // The dotted name prefix of a part's parameters ("vision_tower", ...; align: "align_net").
    static const char* prefix(omni_part p) {
        switch (p) {
            case omni_part::vision: return "vision_tower";
            case omni_part::audio: return "sound_tower";
            case omni_part::vision_projector: return "mm_projector";
            case omni_part::audio_projector: return "sound_mm_projector";
            case omni_part::llm: return "llm";
            case omni_part::align: return "align_net";
        }
        return "";
    }
    // Freezes (false) or unfreezes a part: its parameters stop or restart requiring gradients, so
    // optim::nn_param_groups built afterwards leaves frozen parts out. align covers align_loss too.
    void set_trainable(omni_part p, bool on) {
        switch (p) {
            case omni_part::vision: nn::set_requires_grad(vision, on); break;
            case omni_part::audio: nn::set_requires_grad(audio, on); break;
            case omni_part::vision_projector: nn::set_requires_grad(vision_projector, on); break;
            case omni_part::audio_projector: nn::set_requires_grad(audio_projector, on); break;
            case omni_part::llm: nn::set_requires_grad(llm, on); break;
            case omni_part::align:
                if (cfg.align) nn::set_requires_grad(align_net, on), nn::set_requires_grad(align_loss, on);
                break;
        }
    }

    // frames [F, C, H, W] -> patch tokens [F, patches, vision.dim] (a class token is dropped).
    Tensor<P> encode_frames(const Tensor<P>& frames) const {
        const Tensor<P> t = vision.forward_features(frames);
        return cfg.vision.class_token ? t.slice(1, 1, t.shape()[1]) : t;
    }
    // mel [B, n_mels, 2 max_source_positions] -> audio tokens [B, max_source_positions / 2, d_model].
    Tensor<P> encode_audio(const Tensor<P>& mel) const { return audio(mel); }

    // Audio tokens of a clip with `seconds` of valid audio: those whose 2 P x 10 ms / Na window
    // starts before `seconds` (the release drops the padding's tokens the same way in TEG).
    std::int64_t audio_tokens_kept(double seconds) const {
        const std::int64_t na = cfg.audio_tokens();
        const double per = cfg.audio_token_seconds();
        std::int64_t k = 0;
        while (k < na && static_cast<double>(k) * per < seconds) ++k;
        return k;
    }

    // Encoder audio tokens [B, Na, d] averaged in groups of cfg.audio_pool -> [B, Na / pool, d]
    // (a trailing partial group is dropped, as AvgPool1d does).
    Tensor<P> pool_audio(const Tensor<P>& a) const {
        const std::int64_t k = cfg.audio_pool;
        if (k == 1) return a;
        const std::int64_t B = a.shape()[0], n = a.shape()[1] / k, d = a.shape()[2];
        return mean(a.slice(1, 0, n * k).reshape({B, n, k, d}), {2});
    }

    // The media of every clip. Decisions (the paper and the release leave them open or differ):
    // - frame f of clip b is at f / fps[b] seconds, shared by all its tokens (the release's rule);
    // - audio token k (Na per chunk of 2 P x 10 ms) is at (k + 0.5) chunk / Na, its window centre
    //   (the release's rule with audio start 0); tokens whose window starts at or after
    //   audio_seconds[b] are dropped;
    // - CRTE rotates the projected tokens with float64 timestamps before grouping;
    // - TEG is the released plan (nn::teg_plan) with frame indices 0..F_b-1 at fps[b], the audio
    //   span [0, audio_seconds[b]], round(100 audio_seconds) STFT frames and the kept audio tokens;
    //   its separator is the LLM's embedding of separator_token (trainable, shared with the text).
    //   Without TEG the sequence is [all visual; all kept audio], no separators.
    OmniMedia<P> media(const OmniBatch<P>& batch) const {
        const std::int64_t B = check(batch);
        const Tensor<P> vfeat = batch.vision_features.defined() ? batch.vision_features : encode_frames(batch.frames);
        const Tensor<P> afeat = batch.audio_features.defined() ? batch.audio_features : encode_audio(batch.mel);
        const std::int64_t tpf = cfg.tokens_per_frame(), C = cfg.llm.hidden;
        // One projector call for all frames of the batch, then per-clip slices.
        const Tensor<P> vis = vision_projector(vfeat, cfg.grid_h(), cfg.grid_w()).reshape({-1, C});
        const Tensor<P> aud = audio_projector(pool_audio(afeat));
        Tensor<P> sep;
        if (cfg.teg) sep = llm.model.embed_tokens(Tensor<P>(Tensor<D>::from_data(std::vector<std::int64_t>{cfg.separator_token}, {1})));
        OmniMedia<P> m;
        std::int64_t first = 0;
        for (std::int64_t b = 0; b < B; ++b) {
            const std::int64_t F = batch.frame_counts[b], nv = F * tpf, na = audio_tokens_kept(batch.audio_seconds[b]);
            const double fps = batch.fps[b];
            Tensor<P> v = vis.slice(0, first * tpf, first * tpf + nv), a = aud.select(0, b).slice(0, 0, na);
            first += F;
            m.visual.push_back(v), m.audio.push_back(a);
            if (cfg.crte) {
                std::vector<double> tv(static_cast<std::size_t>(nv)), ta(static_cast<std::size_t>(na));
                for (std::int64_t i = 0; i < nv; ++i) tv[i] = static_cast<double>(i / tpf) / fps;
                const double per = cfg.audio_token_seconds();
                for (std::int64_t k = 0; k < na; ++k) ta[k] = (static_cast<double>(k) + 0.5) * per;
                v = nn::crte(v.unsqueeze(0), Tensor<P>(Tensor<D>::from_data(tv, {1, nv})), cfg.time).squeeze(0);
                a = nn::crte(a.unsqueeze(0), Tensor<P>(Tensor<D>::from_data(ta, {1, na})), cfg.time).squeeze(0);
            }
            if (cfg.teg) {
                std::vector<std::int64_t> frames(static_cast<std::size_t>(F));
                for (std::int64_t f = 0; f < F; ++f) frames[f] = f;
                const double secs = batch.audio_seconds[b];
                const nn::TegPlan plan = nn::teg_plan({.segment_seconds = cfg.segment_seconds, .fps = fps, .frame_count = F,
                                                       .frame_indices = frames, .audio_start = 0, .audio_end = secs,
                                                       .stft_frames = static_cast<std::int64_t>(std::nearbyint(secs * 100)),
                                                       .visual_tokens = nv, .audio_tokens = na});
                m.sequence.push_back(nn::teg_apply(plan, v, a, sep));
            } else {
                m.sequence.push_back(concat(std::vector<Tensor<P>>{v, a}, 0));
            }
        }
        return m;
    }

    // Prompt embeddings with row b's placeholder replaced by media[b], right-padded with zeros
    // to the longest row: one gather over [text embeddings; media; a zero row]. Fills `out`'s
    // labels (if the batch has labels), lengths and media positions; returns [B, L', hidden].
    Tensor<P> splice(const OmniBatch<P>& batch, const std::vector<Tensor<P>>& media, OmniOutput<P>& out) const {
        const std::int64_t B = batch.ids.shape()[0], L = batch.ids.shape()[1], C = cfg.llm.hidden;
        const std::vector<std::int64_t> ids = nn::value_of(batch.ids).template to_vector<std::int64_t>();
        std::vector<std::int64_t> labels;
        if (batch.labels.defined()) labels = nn::value_of(batch.labels).template to_vector<std::int64_t>();
        const Tensor<P> text = llm.model.embed_tokens(batch.ids).reshape({B * L, C});
        std::vector<Tensor<P>> parts{text};
        std::vector<std::int64_t> media_row(B);
        std::int64_t row = B * L;
        for (std::int64_t b = 0; b < B; ++b) parts.push_back(media[b]), media_row[b] = row, row += media[b].shape()[0];
        const std::int64_t zero_row = row;
        parts.push_back(Tensor<P>::zeros(Shape{1, C}, text.type()));
        out.lengths.assign(B, 0), out.media_begin.assign(B, 0), out.media_length.assign(B, 0);
        std::int64_t Lmax = 0;
        for (std::int64_t b = 0; b < B; ++b) {
            out.media_length[b] = media[b].shape()[0];
            out.media_begin[b] = std::find(ids.begin() + b * L, ids.begin() + (b + 1) * L, cfg.media_token) - (ids.begin() + b * L);
            out.lengths[b] = L - 1 + out.media_length[b];
            Lmax = std::max(Lmax, out.lengths[b]);
        }
        std::vector<std::int64_t> index(static_cast<std::size_t>(B * Lmax), zero_row), spliced(static_cast<std::size_t>(B * Lmax), -100);
        for (std::int64_t b = 0; b < B; ++b) {
            std::int64_t p = b * Lmax;
            for (std::int64_t i = 0; i < L; ++i) {
                if (i == out.media_begin[b]) {
                    for (std::int64_t k = 0; k < out.media_length[b]; ++k) index[p++] = media_row[b] + k;
                    continue;
                }
                if (!labels.empty()) spliced[p] = labels[b * L + i];
                index[p++] = b * L + i;
            }
        }
        if (!labels.empty()) out.labels = Tensor<P>(Tensor<D>::from_data(spliced, {B, Lmax}));
        const Tensor<P> idx = nn::make_buffer<P>(Tensor<D>::from_data(index, Shape{B * Lmax}));
        return index_select(concat(parts, 0), 0, idx).reshape({B, Lmax, C});
    }

    // Logits, and with labels the losses. OmniAlignNet sees each clip's projected visual and kept
    // audio tokens before CRTE (padded per batch, with key padding masks); it needs B >= 2 (each
    // clip is contrasted with the others), so a batch of one gets no align_loss.
    OmniOutput<P> forward(const OmniBatch<P>& batch) const {
        const OmniMedia<P> m = media(batch);
        OmniOutput<P> out;
        const Tensor<P> h = splice(batch, m.sequence, out);
        out.logits = llm.forward_embeddings(h);
        if (!batch.labels.defined()) return out;
        out.lm_loss = loss::causal_lm_loss(out.logits, out.labels);
        out.loss = out.lm_loss;
        if (cfg.align && batch.ids.shape()[0] >= 2) {
            const auto [ev, mv] = pad(m.visual);
            const auto [ea, ma] = pad(m.audio);
            const auto o = align_net(ev, ea, mv, ma);
            out.align_loss = align_loss(o.visual, o.audio);
            out.loss = add(out.lm_loss, mul(out.align_loss, cfg.align_weight));
        }
        return out;
    }
    OmniOutput<P> operator()(const OmniBatch<P>& batch) const { return forward(batch); }

private:
    // seqs[b] [N_b, C] -> [B, max N_b, C] zero-padded (one gather) and the key padding mask [B, max N_b] (true = pad).
    std::pair<Tensor<P>, Tensor<P>> pad(const std::vector<Tensor<P>>& seqs) const {
        const std::int64_t B = static_cast<std::int64_t>(seqs.size()), C = cfg.llm.hidden;
        std::int64_t n = 0, total = 0;
        for (const auto& s : seqs) n = std::max(n, s.shape()[0]), total += s.shape()[0];
        std::vector<Tensor<P>> parts(seqs.begin(), seqs.end());
        parts.push_back(Tensor<P>::zeros(Shape{1, C}, seqs[0].type()));
        std::vector<std::int64_t> index(static_cast<std::size_t>(B * n), total);
        std::vector<float> mask(static_cast<std::size_t>(B * n), 1);
        std::int64_t row = 0;
        for (std::int64_t b = 0; b < B; ++b) {
            for (std::int64_t i = 0; i < seqs[b].shape()[0]; ++i) index[b * n + i] = row + i, mask[b * n + i] = 0;
            row += seqs[b].shape()[0];
        }
        const Tensor<P> idx = nn::make_buffer<P>(Tensor<D>::from_data(index, Shape{B * n}));
        const Tensor<P> m = nn::make_buffer<P>(Tensor<D>::from_data(mask, Shape{B, n}).to(dtype::b8));
        return {index_select(concat(parts, 0), 0, idx).reshape({B, n, C}), m};
    }

    // Validates a batch against the config; returns B.
    std::int64_t check(const OmniBatch<P>& batch) const {
        const std::string op = where("OmniVinci");
        const auto& ids = batch.ids;
        if (!ids.defined() || ids.dim() != 2 || is_floating(ids.type()) || ids.type() == dtype::b8 || ids.shape()[1] < 1)
            throw shape_error(op, "expected integer ids [B, L >= 1], got " + (ids.defined() ? ids.shape().str() + " " + name_of(ids.type()) : std::string("none")));
        const std::int64_t B = ids.shape()[0], L = ids.shape()[1];
        if (B < 1) throw shape_error(op, "expected at least one clip, got ids " + ids.shape().str());
        if (batch.labels.defined() && !(batch.labels.shape() == ids.shape()))
            throw shape_error(op, "expected labels " + ids.shape().str() + " like the ids, got " + batch.labels.shape().str());
        const auto count = [&](std::size_t n, const char* what) {
            if (static_cast<std::int64_t>(n) != B)
                throw shape_error(op, "expected " + std::to_string(B) + " " + what + " (one per clip of ids " + ids.shape().str() + "), got " + std::to_string(n));
        };
        count(batch.frame_counts.size(), "frame_counts"), count(batch.fps.size(), "fps values"), count(batch.audio_seconds.size(), "audio_seconds");
        const std::vector<std::int64_t> v = nn::value_of(ids).template to_vector<std::int64_t>();
        for (std::int64_t b = 0; b < B; ++b) {
            const auto n = std::count(v.begin() + b * L, v.begin() + (b + 1) * L, cfg.media_token);
            if (n != 1)
                throw value_error(op, "expected exactly one media token (" + std::to_string(cfg.media_token) + ") in row " + std::to_string(b) +
                                          " of ids, got " + std::to_string(n));
        }
        std::int64_t frames = 0;
        for (std::int64_t b = 0; b < B; ++b) {
            if (batch.frame_counts[b] < 1)
                throw value_error(op, "expected frame_counts >= 1, got " + std::to_string(batch.frame_counts[b]) + " for clip " + std::to_string(b));
            if (!(batch.fps[b] > 0) || !std::isfinite(batch.fps[b]))
                throw value_error(op, "expected fps > 0, got " + std::to_string(batch.fps[b]) + " for clip " + std::to_string(b));
            const double s = batch.audio_seconds[b];
            if (!(s > 0 && s <= cfg.chunk_seconds()) || std::nearbyint(s * 100) < 1)
                throw value_error(op, "expected audio_seconds in (0, " + std::to_string(cfg.chunk_seconds()) + "] with at least one 10 ms frame, got " +
                                          std::to_string(s) + " for clip " + std::to_string(b));
            frames += batch.frame_counts[b];
        }
        const std::int64_t gh = cfg.grid_h(), gw = cfg.grid_w();
        if (batch.vision_features.defined()) {
            if (!(batch.vision_features.shape() == Shape{frames, gh * gw, cfg.vision.dim}))
                throw shape_error(op, "expected vision_features [" + std::to_string(frames) + " (sum of frame_counts), " + std::to_string(gh * gw) +
                                          ", " + std::to_string(cfg.vision.dim) + "], got " + batch.vision_features.shape().str());
        } else if (!batch.frames.defined() || batch.frames.dim() != 4 || batch.frames.shape()[0] != frames) {
            throw shape_error(op, "expected frames [" + std::to_string(frames) + " (sum of frame_counts), " + std::to_string(cfg.vision.channels) +
                                      ", " + std::to_string(cfg.vision.height) + ", " + std::to_string(cfg.vision.width) + "], got " +
                                      (batch.frames.defined() ? batch.frames.shape().str() : std::string("none")));
        }
        if (batch.audio_features.defined()) {
            if (!(batch.audio_features.shape() == Shape{B, cfg.audio.output_tokens(), cfg.audio.d_model}))
                throw shape_error(op, "expected audio_features [" + std::to_string(B) + ", " + std::to_string(cfg.audio.output_tokens()) + ", " +
                                          std::to_string(cfg.audio.d_model) + "], got " + batch.audio_features.shape().str());
        } else if (!batch.mel.defined() || batch.mel.dim() != 3 || batch.mel.shape()[0] != B) {
            throw shape_error(op, "expected mel [" + std::to_string(B) + ", " + std::to_string(cfg.audio.n_mels) + ", " +
                                      std::to_string(cfg.audio.input_frames()) + "], got " + (batch.mel.defined() ? batch.mel.shape().str() : std::string("none")));
        }
        return B;
    }
};

// Greedy or sampled answer for ONE clip (a batch of 1 whose ids end with the prompt, no labels):
// the spliced embeddings are prefilled once, then tokens decode through the KV cache
// (models::generate_from). Returns the generated ids.
template <class P>
std::vector<std::int64_t> generate(const OmniVinci<P>& m, const OmniBatch<P>& clip, const GenerateOptions& o, Generator& gen) {
    if (!clip.ids.defined() || clip.ids.dim() != 2 || clip.ids.shape()[0] != 1)
        throw shape_error(m.where("OmniVinci") + ".generate", "expected the ids of one clip [1, L], got " +
                                                                   (clip.ids.defined() ? clip.ids.shape().str() : std::string("none")));
    detail::check_generate_options(o);
    if (o.max_new_tokens == 0) return {};
    no_grad guard;
    OmniBatch<P> b = clip;
    b.labels = Tensor<P>();
    const OmniMedia<P> media = m.media(b);
    OmniOutput<P> out;
    const Tensor<P> h = m.splice(b, media.sequence, out);
    auto cache = m.llm.make_cache(1, h.shape()[1] + o.max_new_tokens, o.cache_type);
    const Tensor<P> logits = m.llm.forward_embeddings(h, &cache);
    return generate_from(m.llm, logits, cache, o, gen).at(0);
}

}  // namespace omni::models

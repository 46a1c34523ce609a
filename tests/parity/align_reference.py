"""PyTorch references for TEG and OmniAlignNet (OmniVinci, arXiv 2510.15870, sec. 2).

TEG: the released OmniVinci algorithm restated in plain loops (the processor's segment loop
over sampled frames and the audio span, then the model's slicing of visual/audio embeddings
with a "\\n" separator after each part), run on edge cases and random cases. For each case it
writes the options, the segments, the index map (the transcribed model code run on embeddings
whose value is their own row in concat(visual, audio, sep)), and the applied sequence and
gradients on random float64 embeddings.

OmniAlignNet: a plain-torch transcription of omni's module (learnable queries cross-attend to
each modality's tokens, pre-LN self-attention blocks, mean over queries, L2 normalisation, the
symmetric InfoNCE), with forward V, A, the loss and every gradient.

Usage: /usr/bin/python3 align_reference.py OUT_DIR   (Debian's python3-torch)
"""
import math
import os
import random
import sys

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


# --- TEG, released code ------------------------------------------------------------------------

def teg_segments(t_g, fps, frame_count, frame_indices, a0, a1, sample_rate, hop):
    """Segmentation as the released processor does it, restated step by step.

    Returns per segment the positions (0, 1, ... in sampling order) of the frames it holds, and
    its STFT-frame range [begin, end) or None when the segment misses the audio span.
    """
    duration = frame_count / fps
    n_segments = int(np.ceil(duration / t_g))
    stft_rate = sample_rate // hop  # integer division, as released
    frames, stft = [], []
    walked = 0          # sampled frames assigned so far
    stft_done = 0       # STFT frames assigned so far (ranges are contiguous)
    for s in range(n_segments):
        limit = min((s + 1) * t_g * fps, frame_count)  # compares frame indices, not times
        first = walked
        while walked < len(frame_indices) and frame_indices[walked] < limit:
            walked += 1
        frames.append(list(range(first, walked)))
        lo = max(s * t_g, a0)
        hi = min(min(s * t_g + t_g, duration), a1)
        if lo < hi:
            end = round((hi - a0) * stft_rate)  # Python's round: half to even
            stft.append((stft_done, end))
            stft_done = end
        else:
            stft.append(None)
    return frames, stft


def teg_interleave(visual, audio, sep, frames, stft, n_frames, n_stft):
    """The model side restated: per segment [its visual slice, sep, its audio slice, sep].

    Slice ends map frame positions and STFT frames to token counts with ceil; the visual slice of
    the final segment always runs to the last visual token.
    """
    per_frame = visual.shape[0] / n_frames
    per_stft = audio.shape[0] / n_stft
    v_at = a_at = 0
    pieces = []
    last = len(frames) - 1
    for s, (held, rng) in enumerate(zip(frames, stft)):
        if held:
            v_end = min(int(np.ceil((held[-1] + 1) * per_frame)), visual.shape[0])
            if s == last:  # the release forces this for the last segment of the (single) video
                v_end = visual.shape[0]
            pieces.append(visual[v_at:v_end])
            v_at = v_end
        pieces.append(sep)
        if rng is not None:
            a_end = min(int(np.ceil(rng[1] * per_stft)), audio.shape[0])
            pieces.append(audio[a_at:a_end])
            a_at = a_end
        pieces.append(sep)
    return torch.cat(pieces, dim=0)


def teg_by_time(tv, ta, segment_duration):
    n = 0
    seg_v = [math.floor(t / segment_duration) for t in tv]
    seg_a = [math.floor(t / segment_duration) for t in ta]
    n = max(seg_v + seg_a + [-1]) + 1
    index = []
    for s in range(n):
        index += [k for k in range(len(tv)) if seg_v[k] == s] + [len(tv) + len(ta)]
        index += [len(tv) + k for k in range(len(ta)) if seg_a[k] == s] + [len(tv) + len(ta)]
    return index


def teg_cases():
    """(name, options): the edge cases of the spec, then random ones."""
    def opts(fps, frame_count, n_frames=None, indices=None, t_g=30.0, audio=True, a0=0.0, a1=None, sr=16000, hop=160,
             per_frame=4, stft=None, na=None, nv=None):
        if indices is None:
            indices = np.round(np.linspace(0, frame_count - 1, n_frames)).astype(int).tolist()
        dur = frame_count / fps
        if a1 is None:
            a1 = a0 + 30.0 * max(1, math.ceil(dur / 30.0))  # padded to a multiple of 30 s, as the release
        sfps = sr // hop
        if stft is None:
            stft = int(round((a1 - a0) * sfps))
        if na is None:
            na = max(1, stft // 4)
        if nv is None:
            nv = per_frame * len(indices)
        return dict(t_g=t_g, fps=fps, frame_count=frame_count, indices=indices, has_audio=audio, a0=a0, a1=a1, sr=sr,
                    hop=hop, stft=stft, nv=nv, na=na)

    cases = [
        ("no_audio", opts(30.0, 900, 8, audio=False)),
        ("audio_shorter", opts(30.0, 3000, 16, a1=45.0, stft=4500, na=1125)),
        ("audio_longer", opts(25.0, 1500, 12, a1=90.0)),
        ("one_frame", opts(30.0, 1, 1, per_frame=5)),
        ("empty_segments", opts(30.0, 3000, 4, t_g=5.0)),
        ("segment_longer_than_video", opts(24.0, 480, 8, t_g=1000.0)),
        ("audio_starts_late", opts(30.0, 1800, 10, a0=20.0, a1=50.0)),
        ("audio_after_video", opts(30.0, 1800, 10, a0=100.0, a1=130.0)),
        ("ntsc_fractional_boundaries", opts(29.97, 5000, 32, t_g=7.5)),
        ("round_half_even", opts(30.0, 1800, 6, a0=0.75, a1=60.0, hop=60)),  # (30 - 0.75) * 266 = 7780.5 -> 7780
        ("exact_multiple", opts(30.0, 1800, 8)),
        ("duplicate_indices", opts(10.0, 10, 16, t_g=0.5)),
        ("uneven_tokens", opts(30.0, 2400, 7, nv=100, na=333)),
        ("two_minutes_64_frames", opts(30.0, 3600, 64, per_frame=256, na=3000)),
    ]
    rng = random.Random(2510)
    for k in range(24):
        fps = rng.choice([1.5, 10.0, 23.976, 24.0, 25.0, 29.97, 30.0, 60.0])
        frame_count = rng.randint(1, 6000)
        n = rng.randint(1, 48)
        if rng.random() < 0.3:  # an arbitrary non-decreasing sample instead of linspace
            indices = sorted(rng.randint(0, frame_count - 1) for _ in range(n))
        else:
            indices = None
        t_g = rng.choice([0.7, 2.0, 5.0, 7.5, 10.0, 30.0, 30.0, 45.5, 200.0])
        dur = frame_count / fps
        a0 = rng.choice([0.0, 0.0, rng.uniform(0, dur)])
        a1 = a0 + rng.choice([rng.uniform(0.1, 2 * dur + 1), 30.0 * max(1, math.ceil(dur / 30.0))])
        hop = rng.choice([160, 160, 60, 320])
        c = opts(fps, frame_count, n, indices=indices, t_g=t_g, audio=rng.random() > 0.1, a0=a0, a1=a1, hop=hop,
                 per_frame=rng.randint(1, 6))
        c["na"] = rng.randint(1, 400)
        if rng.random() < 0.3:
            c["nv"] = rng.randint(1, 300)
        cases.append((f"random_{k}", c))
    return cases


def teg_main(out_dir):
    arrays = {}
    names = []
    g = torch.Generator().manual_seed(25)
    width = 4
    for name, c in teg_cases():
        names.append(name)
        n_frames = len(c["indices"])
        vis = torch.randn(c["nv"], width, generator=g, dtype=torch.float64).float().double().requires_grad_(True)
        aud = torch.randn(c["na"], width, generator=g, dtype=torch.float64).float().double().requires_grad_(True)
        sep = torch.randn(width, generator=g, dtype=torch.float64).float().double().requires_grad_(True)
        rows = torch.arange(c["nv"] + c["na"] + 1, dtype=torch.float64)[:, None]
        if c["has_audio"]:
            sv, sa = teg_segments(c["t_g"], c["fps"], c["frame_count"], c["indices"], c["a0"], c["a1"], c["sr"], c["hop"])
            out = teg_interleave(vis, aud, sep[None], sv, sa, n_frames, c["stft"])
            index = teg_interleave(rows[: c["nv"]], rows[c["nv"]:-1], rows[-1:], sv, sa, n_frames, c["stft"])[:, 0]
            segs = []
            at = 0
            for v, a in zip(sv, sa):
                segs.append([at, at + len(v), a[0] if a else -1, a[1] if a else -1])
                at += len(v)
        else:  # the release leaves a video without audio as it is
            out, index = vis, rows[: c["nv"], 0]
            segs = [[0, n_frames, -1, -1]]
        upstream = torch.randn(out.shape, generator=g, dtype=torch.float64).float().double()
        (out * upstream).sum().backward()
        p = name + "."
        arrays[p + "options"] = np.array([c["t_g"], c["fps"], c["frame_count"], float(c["has_audio"]), c["a0"], c["a1"], c["sr"],
                                          c["hop"], c["stft"], c["nv"], c["na"]], dtype=np.float64)
        arrays[p + "frame_indices"] = np.array(c["indices"], dtype=np.int64)
        arrays[p + "segments"] = np.array(segs, dtype=np.int64).reshape(-1, 4)
        arrays[p + "index"] = index.numpy().astype(np.int64)
        for k, t in {"visual": vis, "audio": aud, "sep": sep}.items():
            arrays[p + "in." + k] = t.detach().float().numpy()
            arrays[p + "grad." + k] = (t.grad if t.grad is not None else torch.zeros_like(t)).float().numpy()
        arrays[p + "out"] = out.detach().float().numpy()
        arrays[p + "upstream"] = upstream.float().numpy()
        print(f"teg {name}: {len(segs)} segments, {out.shape[0]} tokens")
    # Grouping by token timestamps.
    rng = random.Random(7)
    for k in range(6):
        t_g = rng.choice([0.5, 2.0, 30.0])
        tv = [rng.uniform(0, 20) for _ in range(rng.randint(1, 30))]
        ta = [rng.uniform(0, 25) for _ in range(rng.randint(1, 30))]
        if k == 0:
            tv, ta = sorted(tv), sorted(ta)
        name = f"by_time_{k}"
        arrays[name + ".options"] = np.array([t_g], dtype=np.float64)
        arrays[name + ".tv"] = np.array(tv, dtype=np.float64)
        arrays[name + ".ta"] = np.array(ta, dtype=np.float64)
        arrays[name + ".index"] = np.array(teg_by_time(tv, ta, t_g), dtype=np.int64)
    arrays["cases"] = np.array([len(names)], dtype=np.int64)
    safetensors_io.save(os.path.join(out_dir, "teg.safetensors"), arrays)
    with open(os.path.join(out_dir, "teg_cases.txt"), "w") as f:
        f.write("\n".join(names) + "\n")


# --- OmniAlignNet ------------------------------------------------------------------------------

from nn_reference import Attention, Block  # noqa: E402  (timm names, exact GELU, LayerNorm eps 1e-6)


class OmniAlignNet(tnn.Module):
    def __init__(self, dim, heads, n_layers, n_queries, shared_query, shared_layers, learnable_scale):
        super().__init__()
        self.shared_query, self.shared_layers, self.learnable_scale = shared_query, shared_layers, learnable_scale
        q = lambda: tnn.Parameter(torch.randn(n_queries, dim) * 0.02)  # noqa: E731
        if shared_query:
            self.query = q()
        else:
            self.query_v, self.query_a = q(), q()
        self.cross_v, self.cross_a = Attention(dim, heads, kv_dim=dim), Attention(dim, heads, kv_dim=dim)
        stack = lambda: tnn.ModuleList([Block(dim, heads) for _ in range(n_layers)])  # noqa: E731
        if shared_layers:
            self.layers = stack()
        else:
            self.layers_v, self.layers_a = stack(), stack()
        if learnable_scale:
            self.logit_scale = tnn.Parameter(torch.tensor([math.log(1 / 0.07)]))

    def branch(self, q, cross, layers, e, mask):
        h = cross(q[None].expand(e.shape[0], -1, -1), ctx=e, mask=mask)
        for b in layers:
            h = b(h)
        return F.normalize(h.mean(1), dim=-1)

    def forward(self, ev, ea, mv=None, ma=None):
        v = self.branch(self.query if self.shared_query else self.query_v, self.cross_v,
                        self.layers if self.shared_layers else self.layers_v, ev, mv)
        a = self.branch(self.query if self.shared_query else self.query_a, self.cross_a,
                        self.layers if self.shared_layers else self.layers_a, ea, ma)
        scale = self.logit_scale.clamp(0, math.log(100)).exp() if self.learnable_scale else 1.0
        s = scale * v @ a.T
        t = torch.arange(v.shape[0])
        return v, a, (F.cross_entropy(s, t) + F.cross_entropy(s.T, t)) / 2


def align_case(out_dir, name, cfg, b, nv, na, masks):
    g = torch.Generator().manual_seed(len(name))
    torch.manual_seed(len(name))
    m = OmniAlignNet(**cfg).double()
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n != "logit_scale":  # non-default values so a wrong mapping cannot pass
                p.add_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.1)
            p.copy_(p.float().double())
    f32 = lambda t: t.detach().float().double()  # noqa: E731
    ev = f32(torch.randn(b, nv, cfg["dim"], generator=g, dtype=torch.float64)).requires_grad_(True)
    ea = f32(torch.randn(b, na, cfg["dim"], generator=g, dtype=torch.float64)).requires_grad_(True)
    mv = ma = None
    if masks:
        mv = torch.arange(nv)[None] >= torch.randint(1, nv + 1, (b, 1), generator=g)
        ma = torch.arange(na)[None] >= torch.randint(1, na + 1, (b, 1), generator=g)
    v, a, loss = m(ev, ea, mv, ma)
    uv = f32(torch.randn(v.shape, generator=g, dtype=torch.float64))
    ua = f32(torch.randn(a.shape, generator=g, dtype=torch.float64))
    (loss + (v * uv).sum() + (a * ua).sum()).backward()
    arrays = {k: t.detach().float().numpy() for k, t in m.state_dict().items()}
    arrays.update({"grad." + k: p.grad.float().numpy() for k, p in m.named_parameters()})
    arrays.update({"in.ev": ev.detach().float().numpy(), "in.ea": ea.detach().float().numpy(),
                   "grad.in.ev": ev.grad.float().numpy(), "grad.in.ea": ea.grad.float().numpy(),
                   "out.v": v.detach().float().numpy(), "out.a": a.detach().float().numpy(),
                   "out.loss": loss.detach().float().numpy(), "up.v": uv.float().numpy(), "up.a": ua.float().numpy()})
    if masks:
        arrays["in.mv"], arrays["in.ma"] = mv.numpy(), ma.numpy()
    safetensors_io.save(os.path.join(out_dir, name + ".safetensors"), arrays)
    print(f"{name}: loss {loss.item():.6f}, {len(list(m.parameters()))} parameters")


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    teg_main(out_dir)
    base = dict(dim=32, heads=4, n_layers=3, n_queries=1, shared_query=False, shared_layers=False, learnable_scale=False)
    align_case(out_dir, "align_default", base, b=4, nv=9, na=6, masks=True)
    align_case(out_dir, "align_shared_learnable", dict(base, n_queries=3, shared_query=True, shared_layers=True, learnable_scale=True),
               b=3, nv=7, na=5, masks=False)


if __name__ == "__main__":
    main()

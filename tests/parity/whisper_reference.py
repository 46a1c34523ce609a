#!/usr/bin/env python3
"""References for tests/parity/whisper_parity_test.cpp: OmniVinci's audio path and projectors.

Everything runs in the Hugging Face environment of scripts/hf_deps.sh (transformers 4.45.2 over
Debian's torch 1.13), against the real implementations where they exist offline:
  conv1d_<i>         torch.nn.functional.conv1d (float64): weight, bias, x, out, every gradient
  encoder_<i>        transformers' Qwen2AudioEncoder, random tiny configs, .double(); the positional
                     table is Whisper's `sinusoids`, as Whisper checkpoints store it
  sinusoids          transformers' Whisper `sinusoids(1500, 1280)` (float32, the large-v3 table)
  downsample_<i>     OmniVinci's `mlp_downsample` projector: VILA's DownSampleBlock.flat_square
                     (transcribed below; VILA is not installable here) + the nn.Sequential, float64
  sound_mlp          the `mlp` sound projector (nn.Sequential of Linear, GELU, Linear), float64
  mel_<clip>_<bins>[_natural]   WhisperFeatureExtractor(feature_size=bins)(16 kHz espeak-ng speech):
                     padded/truncated to 30 s (the default), or kept at its length (padding="longest")
  mel_filters_<bins> the extractor's mel_filters [201, bins]
Each case is <out_dir>/<case>.safetensors: parameters by their PyTorch names, "in.<name>" inputs,
"out", "upstream" (the output gradient: loss = sum(out * upstream)), "grad.<param>" and
"grad.in.<name>". Mel cases hold "in.wave" (float32 samples) and "out" (float32 [bins, frames]).

Usage: build/pyvenv-hf/bin/python whisper_reference.py OUT_DIR   (needs espeak-ng)
"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import torch
import torch.nn as tnn
import torchaudio
import torchaudio.functional as AF
from transformers import Qwen2AudioEncoderConfig, WhisperFeatureExtractor
from transformers.models.qwen2_audio.modeling_qwen2_audio import Qwen2AudioEncoder
from transformers.models.whisper.modeling_whisper import sinusoids

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

OUT = pathlib.Path(sys.argv[1])


def save(name, module, inputs, out, upstream):
    arrays = {k: v.detach().numpy() for k, v in module.state_dict().items()} if module is not None else {}
    for k, v in inputs.items():
        arrays["in." + k] = v.detach().numpy()
        if v.grad is not None:
            arrays["grad.in." + k] = v.grad.numpy()
    arrays["out"] = out.detach().numpy()
    arrays["upstream"] = upstream.numpy()
    if module is not None:
        for k, p in module.named_parameters():
            if p.grad is not None:
                arrays["grad." + k] = p.grad.numpy()
    safetensors_io.save(str(OUT / f"{name}.safetensors"), arrays)


def run(name, module, inputs, fn):
    out = fn(**inputs)
    upstream = torch.randn(out.shape, dtype=out.dtype)
    (out * upstream).sum().backward()
    save(name, module, inputs, out, upstream)


# (batch, in, out, T, kernel, stride, padding, bias)
CONV = [(2, 5, 4, 11, 3, 1, 1, True), (2, 5, 4, 11, 3, 2, 1, True), (1, 3, 6, 13, 5, 3, 0, False),
        (3, 4, 2, 7, 1, 1, 0, True), (1, 2, 3, 4, 6, 2, 2, True)]

# Qwen2AudioEncoderConfig fields; max_source_positions 7 has an odd frame count for the pooling.
ENCODERS = [dict(num_mel_bins=8, d_model=16, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=32,
                 max_source_positions=6, batch=2),
            dict(num_mel_bins=10, d_model=24, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=40,
                 max_source_positions=7, batch=1)]

# (batch, h, w, in, out)
DOWNSAMPLE = [(2, 4, 4, 6, 10), (1, 3, 5, 6, 10), (2, 5, 2, 4, 8), (1, 1, 1, 4, 8), (1, 7, 7, 3, 5)]

# (name, espeak voice, words per minute, pitch, text)
CLIPS = [
    ("fox", "en-us", 150, 50, "The quick brown fox jumps over the lazy dog."),
    ("deich", "de", 175, 45, "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich."),
]


class DownSampleBlock(tnn.Module):
    """VILA's DownSampleBlock (llava/model/multimodal_projector/base_projector.py), with the grid
    (h, w) passed in instead of sqrt(N) so odd and non-square grids can be tested."""

    def __init__(self, h, w):
        super().__init__()
        self.h, self.w = h, w

    def forward(self, x):
        x = x.reshape(x.shape[0], self.h, self.w, -1)
        x = self.flat_square(x)
        return x.reshape(x.shape[0], -1, x.shape[-1])

    def flat_square(self, x):
        n, w, h, c = x.size()
        if w % 2 == 1:
            x = torch.concat([x, torch.zeros((n, 1, h, c), dtype=x.dtype)], dim=1).contiguous()
            n, w, h, c = x.size()
        if h % 2 == 1:
            x = torch.concat([x, torch.zeros((n, w, 1, c), dtype=x.dtype)], dim=2).contiguous()
            n, w, h, c = x.size()
        x = x.contiguous()
        x = x.view(n, w, int(h / 2), int(c * 2))
        x = x.permute(0, 2, 1, 3).contiguous()
        x = x.view(n, int(h / 2), int(w / 2), int(c * 4))
        x = x.permute(0, 2, 1, 3).contiguous()
        return x


class Projector(tnn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = layers

    def forward(self, x):
        return self.layers(x)


def speech_16k():
    clips = {}
    for name, voice, wpm, pitch, text in CLIPS:
        path = OUT / f"{name}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(path), text],
                       check=True, capture_output=True)
        x, rate = torchaudio.load(str(path))
        clips[name] = AF.resample(x, rate, 16000)[0].to(torch.float32).numpy()
    # Longer than 30 s: the extractor truncates it.
    clips["long"] = np.tile(np.concatenate([clips["fox"], clips["deich"]]), 8)[: 16000 * 33]
    return clips


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)

    for i, (b, cin, cout, t, k, s, p, bias) in enumerate(CONV):
        m = tnn.Conv1d(cin, cout, k, stride=s, padding=p, bias=bias).double()
        x = torch.randn(b, cin, t, dtype=torch.float64, requires_grad=True)
        run(f"conv1d_{i}", m, {"x": x}, lambda x: m(x))

    for i, c in enumerate(ENCODERS):
        c = dict(c)
        batch = c.pop("batch")
        cfg = Qwen2AudioEncoderConfig(**c, attn_implementation="eager")
        m = Qwen2AudioEncoder(cfg).double().train(False)
        with torch.no_grad():
            m.embed_positions.weight.copy_(sinusoids(c["max_source_positions"], c["d_model"]))
            for name, prm in m.named_parameters():  # post_init leaves LayerNorms at 1 / 0: perturb them
                if "layer_norm" in name:
                    prm.add_(0.1 * torch.randn_like(prm))
        x = torch.randn(batch, c["num_mel_bins"], 2 * c["max_source_positions"], dtype=torch.float64, requires_grad=True)
        run(f"encoder_{i}", m, {"x": x}, lambda x: m(x).last_hidden_state)

    safetensors_io.save(str(OUT / "sinusoids.safetensors"), {"out": sinusoids(1500, 1280).numpy()})

    for i, (b, h, w, cin, d) in enumerate(DOWNSAMPLE):
        m = Projector(tnn.Sequential(DownSampleBlock(h, w), tnn.LayerNorm(4 * cin), tnn.Linear(4 * cin, d), tnn.GELU(),
                                     tnn.Linear(d, d))).double()
        with torch.no_grad():
            m.layers[1].weight.add_(0.1 * torch.randn(4 * cin, dtype=torch.float64))
            m.layers[1].bias.add_(0.1 * torch.randn(4 * cin, dtype=torch.float64))
        x = torch.randn(b, h * w, cin, dtype=torch.float64, requires_grad=True)
        run(f"downsample_{i}", m, {"x": x}, lambda x: m(x))

    m = Projector(tnn.Sequential(tnn.Linear(12, 20), tnn.GELU(), tnn.Linear(20, 20))).double()
    x = torch.randn(2, 5, 12, dtype=torch.float64, requires_grad=True)
    run("sound_mlp", m, {"x": x}, lambda x: m(x))

    names = []
    for clip, wave in speech_16k().items():
        for bins in (128, 80):
            fe = WhisperFeatureExtractor(feature_size=bins)
            full = fe(wave, sampling_rate=16000, return_tensors="np")["input_features"][0]
            safetensors_io.save(str(OUT / f"mel_{clip}_{bins}.safetensors"), {"in.wave": wave, "out": full.astype(np.float32)})
            names.append(f"mel_{clip}_{bins}")
            if clip != "long":
                nat = fe(wave, sampling_rate=16000, padding="longest", return_tensors="np")["input_features"][0]
                safetensors_io.save(str(OUT / f"mel_{clip}_{bins}_natural.safetensors"),
                                    {"in.wave": wave, "out": nat.astype(np.float32)})
                names.append(f"mel_{clip}_{bins}_natural")
    for bins in (128, 80):  # the filter bank itself, float64 [201, bins]
        safetensors_io.save(str(OUT / f"mel_filters_{bins}.safetensors"),
                            {"out": WhisperFeatureExtractor(feature_size=bins).mel_filters.astype(np.float64)})
    (OUT / "mel_cases.txt").write_text("\n".join(names) + "\n")


if __name__ == "__main__":
    main()

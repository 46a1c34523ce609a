#!/usr/bin/env python3
"""Reference audio features for tests/data/audio_parity_test.cpp, computed by torchaudio.

Speech comes from espeak-ng (22.05 kHz, 16-bit) in a few voices and speeds, so the comparison runs
on real formants, pauses and silences rather than synthetic tones. For every clip this writes:
  read_mix / read_ch0   the clip saved by torchaudio (sox) in 6 encodings, 3 channels, and what
                        torchaudio.load returns for it (mean of the channels / channel 0)
  resample_16000/32000  torchaudio.functional.resample of the espeak samples (defaults)
  omni_c_fbank          Kaldi fbank with the Omni-C settings (the Omni-C release's utils/audio_dataset.py) of the
                        32 kHz clip after the 800-sample minimum and mean removal
  ast_fbank             the same with the AST settings on the 16 kHz clip
  kaldi_<i>             other Kaldi options (windows, energy, edges, ranges), one clip
  omni_c_view           the whole Omni-C evaluation pipeline from the 22.05 kHz file: resample,
                        pad, mean, fbank, mirror-pad to 256 frames, normalise, [128, 256]
Each reference is computed twice: by torchaudio in float64 (the exact result of its algorithm; the
mel weights stay the float32 ones torchaudio builds) and in float32 (what the seed systems' data
loaders produced, with float32 rounding of its own: up to ~1e-3 in log-mel cells 70 dB below
their frame's peak, and the resampler's float32 phase offsets). Arrays are raw little-endian
float32; manifest.txt has one line per case:
  <kind> <wav file> <float64 reference> <float32 reference> <rows> <cols>

Usage: /usr/bin/python3 fbank_reference.py OUTDIR
Needs Debian's python3-torchaudio and espeak-ng.
"""
import pathlib
import struct
import subprocess
import sys

import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi
import torchaudio.functional as AF

# (name, espeak voice, words per minute, pitch 0-99, text)
CLIPS = [
    ("fox", "en-us", 150, 50, "The quick brown fox jumps over the lazy dog."),
    ("shells", "en-gb+f3", 220, 70,
     "She sells sea shells by the sea shore, and the shells she sells are surely seashells."),
    ("encoder", "en-us+m3", 110, 30,
     "Representation learning across images, audio and text with one shared encoder."),
    ("deich", "de", 175, 45, "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich."),
    # Longer than 10 s at 90 words per minute: Omni-C truncates it to 256 frames.
    ("long", "en-gb-x-rp", 90, 55,
     "A contrastive objective pulls two augmented views of the same clip together and pushes the "
     "other clips in the batch apart. The encoder never sees a label, yet the features it learns "
     "separate speech from music and birds from engines."),
]

OMNI_C = dict(htk_compat=True, sample_frequency=32000, use_energy=False, window_type="hanning",
              num_mel_bins=128, dither=0.0, frame_shift=39.12, frame_length=25.0)
AST = dict(htk_compat=True, sample_frequency=16000, use_energy=False, window_type="hanning",
           num_mel_bins=128, dither=0.0, frame_shift=10.0, frame_length=25.0)
# Other Kaldi options on the 16 kHz "fox" clip (kind kaldi_<i>); audio_parity_test.cpp mirrors
# this table. Linear (non-log) outputs are compared after a log, like the others.
VARIANTS = [
    dict(window_type="hamming", snip_edges=False),
    dict(window_type="povey", use_energy=True, htk_compat=False),
    dict(window_type="rectangular", use_energy=True, raw_energy=False, energy_floor=0.0, use_power=False),
    dict(window_type="blackman", round_to_power_of_two=False, low_freq=100.0, high_freq=-400.0, num_mel_bins=40,
         preemphasis_coefficient=0.0, remove_dc_offset=False),
    dict(use_log_fbank=False, frame_shift=12.5, frame_length=20.0, num_mel_bins=64, low_freq=64.0, high_freq=7800.0),
    dict(),  # Kaldi's defaults: povey window, 23 bins
]
ENCODINGS = [("PCM_U", 8), ("PCM_S", 16), ("PCM_S", 24), ("PCM_S", 32), ("PCM_F", 32), ("PCM_F", 64)]


def write_float_wav(path: pathlib.Path, samples: torch.Tensor, rate: int) -> None:
    """Mono IEEE-float WAV written by hand, so the fbank input is bit-exact and independent of sox."""
    data = samples.to(torch.float32).numpy().astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def write_f32(path: pathlib.Path, t: torch.Tensor) -> tuple:
    t = t.detach().to(torch.float32).contiguous()
    t = t.reshape(1, -1) if t.dim() == 1 else t
    path.write_bytes(t.numpy().astype("<f4").tobytes())
    return t.shape


def mirror_pad(fb: torch.Tensor, target: int) -> torch.Tensor:
    """The release's padding step from its wording: the missing frames are the clip's frames in reverse order,
    that reversed block repeated as often as needed."""
    n = fb.shape[0]
    if n >= target:
        return fb[:target]
    missing = target - n
    block = torch.flip(fb, dims=[0])
    reps = -(-missing // n)
    return torch.cat([fb, block.repeat(reps, 1)[:missing]], dim=0)


def omni_c_prepare(wave32: torch.Tensor) -> torch.Tensor:
    if wave32.shape[1] < 800:
        wave32 = torch.nn.functional.pad(wave32, (0, 800 - wave32.shape[1]))
    return wave32 - wave32.mean()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    lines = []

    def case(kind, wav, name, compute):
        """compute(dtype) -> tensor; run in float64 and float32."""
        rows, cols = write_f32(out / f"{name}.f64ref", compute(torch.float64))
        write_f32(out / f"{name}.f32ref", compute(torch.float32))
        lines.append(f"{kind} {wav} {name}.f64ref {name}.f32ref {rows} {cols}")

    for name, voice, wpm, pitch, text in CLIPS:
        src = f"{name}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(out / src), text],
                       check=True, capture_output=True)
        x, rate = torchaudio.load(str(out / src))  # [1, n] in [-1, 1)
        assert rate == 22050 and x.shape[0] == 1, (rate, x.shape)

        def at(new_rate, dt):
            return AF.resample(x.to(dt), rate, new_rate)

        case("resample_16000", src, f"{name}.resample_16000", lambda dt: at(16000, dt)[0])
        case("resample_32000", src, f"{name}.resample_32000", lambda dt: at(32000, dt)[0])

        # The fbank inputs: torchaudio's float32 resampling, stored exactly, as the data loaders had it.
        x16, x32 = at(16000, torch.float32), at(32000, torch.float32)
        write_float_wav(out / f"{name}.32k.wav", x32[0], 32000)
        write_float_wav(out / f"{name}.16k.wav", x16[0], 16000)
        case("omni_c_fbank", f"{name}.32k.wav", f"{name}.omni_c_fbank",
             lambda dt: kaldi.fbank(omni_c_prepare(x32.to(dt)), **OMNI_C))
        case("ast_fbank", f"{name}.16k.wav", f"{name}.ast_fbank",
             lambda dt: kaldi.fbank(x16.to(dt) - x16.to(dt).mean(), **AST))

        def view(dt):
            fb = mirror_pad(kaldi.fbank(omni_c_prepare(at(32000, dt)), **OMNI_C), 256)
            return ((fb - (-4.2677393)) / (4.5689974 * 2)).transpose(0, 1)

        case("omni_c_view", src, f"{name}.omni_c_view", view)

        if name == "fox":
            for i, variant in enumerate(VARIANTS):
                case(f"kaldi_{i}", f"{name}.16k.wav", f"{name}.kaldi_{i}",
                     lambda dt, v=variant: kaldi.fbank(x16.to(dt), sample_frequency=16000, dither=0.0, **v))
            # Three different channels so a wrong down-mix or channel stride shows.
            multi = torch.cat([x, -0.5 * x, 0.25 * torch.roll(x, 7, dims=1)])
            for enc, bits in ENCODINGS:
                wav = f"{name}.{enc}{bits}.wav"
                torchaudio.save(str(out / wav), multi, rate, encoding=enc, bits_per_sample=bits)
                y, _ = torchaudio.load(str(out / wav))
                case("read_mix", wav, f"{name}.{enc}{bits}.mix", lambda dt: y.to(dt).mean(dim=0))
                case("read_ch0", wav, f"{name}.{enc}{bits}.ch0", lambda dt: y[0])

    (out / "manifest.txt").write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} reference cases to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A small spoken-word audio set synthesised with espeak-ng (Debian's espeak-ng).

Two vocabularies of ten words each, labelled so they line up with the image sets: "fashion", the
Fashion-MNIST class names (label k = Fashion-MNIST class k), and "digit", zero..nine (label =
the digit, as MNIST). Clip i speaks word i mod 20 with a voice, speed (-s, words per minute) and
pitch (-p, 0..99) drawn from random.Random("<seed>:<i>"), then gets white Gaussian noise at an
SNR drawn in [--snr-min, --snr-max] dB. Output: 16-bit mono WAV files at espeak-ng's own rate
(22050 Hz) under OUT/wav/, and OUT/labels.tsv with a header row and one line per clip:

    path <TAB> label <TAB> vocab <TAB> word <TAB> voice <TAB> speed <TAB> pitch <TAB> snr_db

path is relative to OUT. The same --seed and --count give byte-identical files. Standard library
only (wave, array, random); espeak-ng runs in parallel threads.

Usage: spoken_words.py [--out DIR] [--count N] [--seed S] [--snr-min DB] [--snr-max DB]
Default DIR: $OMNI_DATA/spoken_words (OMNI_DATA defaults to ~/.cache/omni).
"""
import argparse
import array
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# What espeak-ng is asked to say where the class name reads badly aloud ("slash").
SPOKEN = {"T-shirt/top": "T-shirt or top"}
# English voices and espeak-ng's variants (+f female, +m male timbres) for speaker variety.
VOICES = ["en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-029", "en+f3", "en+m3", "en+f4", "en-us+f2", "en+m5"]


def data_root():
    if os.environ.get("OMNI_DATA"):
        return Path(os.environ["OMNI_DATA"])
    if os.environ.get("HOME"):
        return Path(os.environ["HOME"]) / ".cache" / "omni"
    return Path(__file__).resolve().parents[2] / "build" / "data"


def plan(count, seed, snr):
    """(index, vocab, label, word, voice, speed, pitch, snr_db) for each clip."""
    words = [("fashion", k, w) for k, w in enumerate(FASHION)] + [("digit", d, w) for d, w in enumerate(DIGITS)]
    for i in range(count):
        vocab, label, word = words[i % len(words)]
        rng = random.Random(f"{seed}:{i}")
        yield (i, vocab, label, word, rng.choice(VOICES), rng.randint(120, 220), rng.randint(20, 80),
               round(rng.uniform(*snr), 2))


def add_noise(samples, snr_db, rng):
    """White Gaussian noise at `snr_db` below the clip's RMS, clipped to int16."""
    power = sum(s * s for s in samples) / max(len(samples), 1)
    sigma = math.sqrt(power / (10 ** (snr_db / 10))) if power > 0 else 1.0
    return array.array("h", (max(-32768, min(32767, round(s + rng.gauss(0.0, sigma)))) for s in samples))


def render(clip, out, seed):
    i, vocab, label, word, voice, speed, pitch, snr_db = clip
    rel = Path("wav") / f"{i:05d}_{vocab}_{label}.wav"
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", tmp.name, SPOKEN.get(word, word)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with wave.open(tmp.name, "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise RuntimeError(f"espeak-ng wrote {w.getnchannels()} channels of {8 * w.getsampwidth()} bits")
            rate = w.getframerate()
            samples = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV data is little-endian
    noisy = add_noise(samples, snr_db, random.Random(f"noise:{seed}:{i}"))
    if sys.byteorder == "big":
        noisy.byteswap()
    with wave.open(str(out / rel), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(noisy.tobytes())
    return f"{rel}\t{label}\t{vocab}\t{word}\t{voice}\t{speed}\t{pitch}\t{snr_db}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--count", type=int, default=100, help="clips to make (word i mod 20 for clip i)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--snr-min", type=float, default=10.0)
    ap.add_argument("--snr-max", type=float, default=30.0)
    args = ap.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("spoken_words.py: needs espeak-ng (Debian: apt-get install -y espeak-ng)")
    if args.count < 1 or args.snr_min > args.snr_max:
        sys.exit("spoken_words.py: expected --count >= 1 and --snr-min <= --snr-max")

    out = args.out or data_root() / "spoken_words"
    if (out / "wav").is_dir():
        shutil.rmtree(out / "wav")  # a smaller --count must not leave stale clips behind
    (out / "wav").mkdir(parents=True)
    clips = list(plan(args.count, args.seed, (args.snr_min, args.snr_max)))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        rows = list(pool.map(lambda c: render(c, out, args.seed), clips))  # map keeps clip order
    tmp = out / "labels.tsv.tmp"
    tmp.write_text("path\tlabel\tvocab\tword\tvoice\tspeed\tpitch\tsnr_db\n" + "\n".join(rows) + "\n", encoding="utf-8")
    tmp.replace(out / "labels.tsv")
    print(out)


if __name__ == "__main__":
    main()

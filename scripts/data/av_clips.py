#!/usr/bin/env python3
"""Audio-visual-temporal clips with questions: Fashion-MNIST frames, espeak-ng digit words.

A clip lasts D in {4..8} s at fps in {1, 2} (F = D * fps frames). It shows S = 2..4 items one
after another, each a run of >= 1 frames (neighbouring runs differ in class; a class may come
back); every frame is a different Fashion-MNIST image of its run's class. Its audio speaks W = 1..3
distinct digit words (zero..nine), placed without overlap in [0.2, D - 0.2] s with >= 0.3 s
between words, over white Gaussian noise. Questions about what was shown, what was said and when
(visual, audio, cross, temporal templates; one-word answers) come with each clip, and val/test
questions use only (template, class, digit) combinations never asked in train (README.txt).

Output under OUT: clips/<id>/frame_NN.png (28x28 8-bit grey), clips/<id>/audio.wav (mono 16-bit,
espeak-ng's 22050 Hz), clips.jsonl (one JSON object per clip, paths relative to OUT), README.txt.
Frame f is shown over [f / fps, (f + 1) / fps) and its "time" is f / fps. Words are rendered
once into a bank (10 digits x 8 voices x 3 speeds, espeak-ng in parallel threads), trimmed to
their voiced part and scaled to RMS 3000 (peak at most 24000); the noise of a clip has standard
deviation 3000 / 10^(snr / 20) for an SNR drawn from the integers 10..30 dB. Train and val clips
take images from Fashion-MNIST's train split (train: images 0..49999, val: 50000..59999), test
clips from t10k. Clip i of a split is drawn from random.Random("<seed>:<split>:<i>"), so the
same --seed gives byte-identical files and a larger count keeps the smaller set as its prefix.
Standard library only.

Usage: av_clips.py [--out DIR] [--train N] [--val N] [--test N] [--seed S]
Default DIR: $OMNI_DATA/av_clips (OMNI_DATA defaults to ~/.cache/omni).
"""
import argparse
import array
import gzip
import json
import math
import operator
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from spoken_words import data_root  # the data directory every generator here shares

CLASSES = ["top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
COUNTS = {1: "one", 2: "two", 3: "three", 4: "four"}
VOICES = ["en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-029", "en+f3", "en+m3", "en+f4"]
SPEEDS = [130, 165, 200]  # espeak-ng -s, words per minute
RATE = 22050              # espeak-ng's output rate
WORD_RMS, WORD_PEAK = 3000.0, 24000.0
MARGIN = 0.1  # s: a time a temporal answer depends on stays this far from any run boundary

# Index = template_index of the held-out rule; the order is part of the data set's definition.
TEMPLATES = [
    ("shown_first", "visual", "what was shown first ?"),
    ("shown_last", "visual", "what was shown last ?"),
    ("shown_count", "visual", "how many times was a {c} shown ?"),
    ("said_first", "audio", "what was said first ?"),
    ("said_count", "audio", "how many words were said ?"),
    ("said_last", "audio", "what was said last ?"),
    ("said_and_shown", "cross", "was {d} said and a {c} shown ?"),
    ("said_while", "temporal", "what was said while the {c} was shown ?"),
    ("shown_when", "temporal", "what was shown when {d} was said ?"),
    ("shown_after", "temporal", "what was shown right after {d} was said ?"),
    ("which_first", "temporal", "which came first , the {c} or {d} ?"),
]
TEMPLATE_INDEX = {name: k for k, (name, _, _) in enumerate(TEMPLATES)}
TYPES = ["visual", "audio", "cross", "temporal"]
MAX_QUESTIONS, PER_TYPE = 6, 2

HOLDOUT_RULE = """Held-out combinations. A question's key is (template, class, digit): template is its index in
the list above, class the Fashion-MNIST label of the class word the question names, digit the
value of the digit word the question names, -1 where it names none (answers do not count). A key
that names an item is held out iff
    (class + 3 * digit + template) % 5 == 0, with 0 in place of an absent (-1) slot;
a key that names none (what was shown / said first or last, how many words) is never held out.
Train clips carry only questions whose key is not held out; val and test clips carry questions
whose key is held out and questions that name no item. So every evaluated question is about an
unseen clip, and every one that names an item pairs it with its template for the first time."""


def held_out(templ, cls, digit):
    return (cls >= 0 or digit >= 0) and (templ + max(cls, 0) + 3 * max(digit, 0)) % 5 == 0


def allowed(split, templ, cls, digit):
    """Train: keys not held out; val/test: held-out keys and keys that name no item."""
    if split == "train":
        return not held_out(templ, cls, digit)
    return held_out(templ, cls, digit) or (cls < 0 and digit < 0)


# ---- Fashion-MNIST ----------------------------------------------------------------------------

def fashion_dir():
    for d in (data_root() / "fashion-mnist", Path("/usr/share/datasets/fashion-mnist")):
        if (d / "train-images-idx3-ubyte.gz").is_file():
            return d
    sys.exit("av_clips.py: needs Fashion-MNIST (run scripts/data/fashion_mnist.sh, or apt-get install dataset-fashion-mnist)")


def read_idx(path, ndim):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    if magic != 0x800 + ndim:
        raise RuntimeError(f"{path}: expected IDX magic {0x800 + ndim:#x}, got {magic:#x}")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return dims, raw[4 + 4 * ndim:]


def load_fashion(stem):
    d = fashion_dir()
    (n, h, w), pixels = read_idx(d / f"{stem}-images-idx3-ubyte.gz", 3)
    (m,), labels = read_idx(d / f"{stem}-labels-idx1-ubyte.gz", 1)
    if (h, w) != (28, 28) or n != m:
        raise RuntimeError(f"{d}: expected {m} images of 28x28, got {n} of {h}x{w}")
    return pixels, labels


def by_class(labels, lo, hi):
    pools = [[] for _ in CLASSES]
    for i in range(lo, hi):
        pools[labels[i]].append(i)
    return pools


def png_grey(pixels, w, h):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + pixels[y * w:(y + 1) * w] for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


# ---- audio ------------------------------------------------------------------------------------

def render_word(digit, voice, speed):
    """The word's voiced part as int16 samples at RATE, scaled to WORD_RMS."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", tmp.name, DIGITS[digit]],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with wave.open(tmp.name, "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1 or w.getframerate() != RATE:
                raise RuntimeError(f"espeak-ng wrote {w.getnchannels()} x {8 * w.getsampwidth()} bits at {w.getframerate()} Hz")
            s = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        s.byteswap()
    peak = max(abs(x) for x in s)
    loud = [i for i, x in enumerate(s) if abs(x) > 0.02 * peak]  # espeak-ng pads words with silence
    s = s[loud[0]:loud[-1] + 1]
    rms = math.sqrt(sum(x * x for x in s) / len(s))
    gain = min(WORD_RMS / rms, WORD_PEAK / max(abs(x) for x in s))
    return array.array("h", (round(x * gain) for x in s))


def word_bank():
    keys = [(d, v, sp) for d in range(10) for v in VOICES for sp in SPEEDS]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(keys, pool.map(lambda k: render_word(*k), keys)))


class NoiseBank:
    """20 s of unit Gaussian noise, scaled per SNR on first use; clips take seeded slices."""

    def __init__(self, seed):
        rng = random.Random(f"noise:{seed}")
        self.unit = [rng.gauss(0.0, 1.0) for _ in range(20 * RATE)]
        self.levels = {}

    def level(self, snr_db):
        if snr_db not in self.levels:
            sigma = WORD_RMS / 10 ** (snr_db / 20)
            self.levels[snr_db] = array.array("h", (max(-32768, min(32767, round(g * sigma))) for g in self.unit))
        return self.levels[snr_db]


def mix(audio, start, word):
    seg = map(operator.add, audio[start:start + len(word)], word)
    try:
        audio[start:start + len(word)] = array.array("h", seg)
    except OverflowError:  # rare: noise on a loud peak; clip like a 16-bit converter
        audio[start:start + len(word)] = array.array(
            "h", (max(-32768, min(32767, a + b)) for a, b in zip(audio[start:start + len(word)], word)))


# ---- one clip ---------------------------------------------------------------------------------

def draw_runs(rng, frames):
    s = rng.randint(2, min(4, frames))
    cuts = sorted(rng.sample(range(1, frames), s - 1))
    bounds = [0] + cuts + [frames]
    classes = [rng.randrange(10)]
    for _ in range(s - 1):
        classes.append(rng.choice([c for c in range(10) if c != classes[-1]]))
    return [(classes[k], bounds[k], bounds[k + 1]) for k in range(s)]  # (class, first frame, end frame)


def draw_words(rng, bank, duration):
    lo, hi, gap = round(0.2 * RATE), duration * RATE - round(0.2 * RATE), round(0.3 * RATE)
    while True:
        w = rng.randint(1, 3)
        digits = rng.sample(range(10), w)
        picks = [(d, rng.choice(VOICES), rng.choice(SPEEDS)) for d in digits]
        lens = [len(bank[p]) for p in picks]
        slack = hi - lo - sum(lens) - gap * (w - 1)
        if slack >= 0:
            break
    offsets = sorted(rng.randint(0, slack) for _ in range(w))
    words = []
    for k, (p, n) in enumerate(zip(picks, lens)):
        words.append({"pick": p, "start_sample": lo + offsets[k] + sum(lens[:k]) + gap * k, "len": n})
    return words


def candidates(runs, words, fps, duration):
    """Every answerable question of the clip: (template, class, digit, text, answer)."""
    span = [(c, a / fps, b / fps) for c, a, b in runs]          # run times [start, end)
    edges = sorted({t for _, a, b in span for t in (a, b)} - {0.0, float(duration)})
    clear = lambda t: all(abs(t - e) >= MARGIN for e in edges)
    run_at = lambda t: next(c for c, a, b in span if a <= t < b)
    shown = {c for c, _, _ in runs}
    once = [c for c in shown if sum(1 for r in runs if r[0] == c) == 1]
    said = {w["digit"]: w for w in words}
    out = []

    def add(name, cls, digit, answer, **slots):
        text = TEMPLATES[TEMPLATE_INDEX[name]][2].format(**slots)
        out.append((TEMPLATE_INDEX[name], cls, digit, text, answer))

    add("shown_first", -1, -1, CLASSES[runs[0][0]])
    add("shown_last", -1, -1, CLASSES[runs[-1][0]])
    for c in sorted(shown):
        add("shown_count", c, -1, COUNTS[sum(1 for r in runs if r[0] == c)], c=CLASSES[c])
    add("said_first", -1, -1, words[0]["word"])
    add("said_count", -1, -1, COUNTS[len(words)])
    add("said_last", -1, -1, words[-1]["word"])
    for d in range(10):
        for c in range(10):
            add("said_and_shown", c, d, "yes" if d in said and c in shown else "no", c=CLASSES[c], d=DIGITS[d])
    for c in sorted(once):
        _, a, b = next(s for s in span if s[0] == c)
        if not all(clear(w["mid"]) for w in words):
            continue
        inside = [w for w in words if a <= w["mid"] < b]
        if len(inside) == 1:
            add("said_while", c, -1, inside[0]["word"], c=CLASSES[c])
    for d, w in sorted(said.items()):
        if clear(w["mid"]):
            add("shown_when", -1, d, CLASSES[run_at(w["mid"])], d=DIGITS[d])
        after = [s for s in span if s[1] > w["end"]]
        if after and clear(w["end"]):
            add("shown_after", -1, d, CLASSES[after[0][0]], d=DIGITS[d])
        for c in sorted(once):
            a = next(s[1] for s in span if s[0] == c)
            if abs(a - w["start"]) >= 0.5:
                add("which_first", c, d, CLASSES[c] if a < w["start"] else DIGITS[d], c=CLASSES[c], d=DIGITS[d])
    return out


def pick_questions(rng, cands, split, yes_no):
    """Up to MAX_QUESTIONS, round-robin over the types (at most PER_TYPE each) in a drawn order."""
    keep = [q for q in cands if allowed(split, q[0], q[1], q[2])]
    pools = {t: [q for q in keep if TEMPLATES[q[0]][1] == t] for t in TYPES}
    if pools["cross"] and yes_no["yes"] != yes_no["no"]:
        # keep yes and no balanced over the split: ask only the rarer answer, or no cross question
        want = "yes" if yes_no["yes"] < yes_no["no"] else "no"
        pools["cross"] = [q for q in pools["cross"] if q[4] == want]
    order = rng.sample(TYPES, len(TYPES))
    chosen = []
    for _ in range(PER_TYPE):
        for t in order:
            if pools[t] and len(chosen) < MAX_QUESTIONS:
                q = rng.choice(pools[t])
                pools[t] = [p for p in pools[t] if p is not q and (t != "cross" or p[4] != q[4])]  # a yes, then a no
                if t == "cross":
                    yes_no[q[4]] += 1
                chosen.append(q)
    return chosen


def make_clip(split, i, seed, pixels, pools, bank, noise, out, yes_no):
    rng = random.Random(f"{seed}:{split}:{i}")
    cid = f"{split}_{i:05d}"
    while True:  # a val/test clip with no held-out question is drawn again
        duration, fps = rng.choice([4, 5, 6, 7, 8]), rng.choice([1, 2])
        frames = duration * fps
        runs = draw_runs(rng, frames)
        words = draw_words(rng, bank, duration)
        for w in words:
            d, voice, speed = w["pick"]
            s, n = w["start_sample"], w["len"]
            w.update(word=DIGITS[d], digit=d, voice=voice, speed=speed, start=round(s / RATE, 6),
                     end=round((s + n) / RATE, 6), mid=(s + n / 2) / RATE)
        cands = candidates(runs, words, fps, duration)
        questions = pick_questions(rng, cands, split, yes_no)
        if questions:
            break
    texts = [q[3] for q in questions]
    assert len(set(texts)) == len(texts), f"{cid}: a question asked twice"
    for q in questions:
        same = {c[4] for c in cands if c[3] == q[3]}
        assert same == {q[4]}, f"{cid}: '{q[3]}' has answers {same}"
        assert allowed(split, q[0], q[1], q[2]), f"{cid}: '{q[3]}' breaks the held-out rule"

    labels = [c for c, a, b in runs for _ in range(a, b)]
    picked = {c: iter(rng.sample(pools[c], labels.count(c))) for c in set(labels)}  # distinct images
    rel = Path("clips") / cid
    (out / rel).mkdir(parents=True)
    frame_rows = []
    for f, c in enumerate(labels):
        k = next(picked[c])
        (out / rel / f"frame_{f:02d}.png").write_bytes(png_grey(pixels[k * 784:(k + 1) * 784], 28, 28))
        frame_rows.append({"png": f"{rel.as_posix()}/frame_{f:02d}.png", "label": c, "time": f / fps})

    snr = rng.randint(10, 30)
    level = noise.level(snr)
    n = duration * RATE
    offset = rng.randint(0, len(level) - n)
    audio = level[offset:offset + n]
    for w in words:
        mix(audio, w["start_sample"], bank[w["pick"]])
    if sys.byteorder == "big":
        audio.byteswap()
    with wave.open(str(out / rel / "audio.wav"), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(RATE)
        wf.writeframes(audio.tobytes())

    record = {
        "id": cid, "split": split, "duration": duration, "fps": fps, "frames": frame_rows,
        "wav": f"{rel.as_posix()}/audio.wav",
        "words": [{k: w[k] for k in ("word", "digit", "start", "end", "voice", "speed")} for w in words],
        "questions": [{"q": q[3], "a": q[4], "type": TEMPLATES[q[0]][1], "template": TEMPLATES[q[0]][0]} for q in questions],
        "snr_db": snr,
    }
    return json.dumps(record)


def readme(counts, seed):
    lines = [
        "Audio-visual-temporal clips with questions (omni scripts/data/av_clips.py, seed %d)." % seed,
        "Splits: train %d, val %d, test %d clips." % counts,
        "",
        "clips.jsonl: one JSON object per clip, paths relative to this directory:",
        '  {"id", "split": "train"|"val"|"test", "duration": s, "fps", "frames": [{"png", "label", "time"}],',
        '   "wav", "words": [{"word", "digit", "start", "end", "voice", "speed"}],',
        '   "questions": [{"q", "a", "type", "template"}], "snr_db"}',
        "clips/<id>/frame_NN.png: 28x28 8-bit grey Fashion-MNIST images; frame f is shown over",
        "  [f / fps, (f + 1) / fps) and its time is f / fps. label: Fashion-MNIST class 0..9.",
        "clips/<id>/audio.wav: mono 16-bit PCM at 22050 Hz, duration * 22050 samples: the words",
        "  (espeak-ng, trimmed, RMS 3000) over white Gaussian noise at snr_db (10..30) below that.",
        "Times are in seconds from the clip's start; a word is heard over [start, end).",
        "Images: train clips from Fashion-MNIST train images 0..49999, val from 50000..59999, test from t10k.",
        "Temporal answers use a word's midpoint (start + end) / 2 or its end; each such time is >= 0.1 s",
        "from every change of shown class, and which_first needs starts >= 0.5 s apart.",
        "",
        "Class words: " + " ".join(CLASSES) + " (Fashion-MNIST labels 0..9).",
        "Digit words: " + " ".join(DIGITS) + ". Count answers: one two three four.",
        "",
        "Templates (index: name, type, text; answers are one word):",
    ]
    lines += ["  %2d: %-15s %-9s %s" % (k, n, t, p) for k, (n, t, p) in enumerate(TEMPLATES)]
    lines += ["", HOLDOUT_RULE, ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--train", type=int, default=1200)
    ap.add_argument("--val", type=int, default=150)
    ap.add_argument("--test", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("av_clips.py: needs espeak-ng (Debian: apt-get install -y espeak-ng)")
    if min(args.train, args.val, args.test) < 0:
        sys.exit("av_clips.py: expected non-negative --train, --val and --test")

    out = args.out or data_root() / "av_clips"
    if (out / "clips").is_dir():
        shutil.rmtree(out / "clips")  # a smaller set must not leave stale clips behind
    (out / "clips").mkdir(parents=True)
    train_px, train_lb = load_fashion("train")
    test_px, test_lb = load_fashion("t10k")
    sources = {"train": (train_px, by_class(train_lb, 0, 50000)),
               "val": (train_px, by_class(train_lb, 50000, 60000)),
               "test": (test_px, by_class(test_lb, 0, len(test_lb)))}
    bank = word_bank()
    noise = NoiseBank(args.seed)
    rows = []
    for split, count in (("train", args.train), ("val", args.val), ("test", args.test)):
        yes_no = {"yes": 0, "no": 0}
        pixels, pools = sources[split]
        rows += [make_clip(split, i, args.seed, pixels, pools, bank, noise, out, yes_no) for i in range(count)]
    tmp = out / "clips.jsonl.tmp"
    tmp.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    tmp.replace(out / "clips.jsonl")
    (out / "README.txt").write_text(readme((args.train, args.val, args.test), args.seed), encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()

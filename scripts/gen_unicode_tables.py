#!/usr/bin/env python3
"""Writes include/omni/data/text/unicode_tables.hpp: what BERT's basic tokeniser does to each code
point, measured on Hugging Face `tokenizers` (the reference omni's WordPiece must equal).

Why measure instead of deriving from `unicodedata`: `tokenizers` mixes Unicode versions. Its
category tests (control, non-spacing mark, punctuation) come from an old table, so marks and
format characters added since Unicode ~10 are kept rather than dropped, and unassigned code
points survive; its lower-casing comes from the Rust standard library (newer than Python 3.11's
Unicode 14); its NFD from a third table. Asking the library about every code point captures all
three exactly, and a random-string check then shows that the per-code-point model composes.

The normaliser is BertNormalizer(clean_text, handle_chinese_chars, lowercase, strip_accents by
lowercase) and the pre-tokeniser BertPreTokenizer. Per code point the table stores:
  kind  0 keep, 1 drop (control, NUL, U+FFFD, stripped mark), 2 whitespace, 3 CJK (own word)
  bit 2 mapped: the normalised text differs from the code point (NFD, marks removed, lower-cased)
  bit 3 punct: the pre-tokeniser isolates it; bit 4 space: the pre-tokeniser splits on it
  bit 5 ccc: for keep, a non-zero canonical combining class (NFD reorders such marks); for drop,
        the character is transparent to that reordering (it sits inside a run of marks)

Usage: <python with tokenizers> scripts/gen_unicode_tables.py [out.hpp] [--check N]
"""
import random
import sys
import unicodedata
from pathlib import Path

from tokenizers import normalizers, pre_tokenizers

NORM = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
PRE = pre_tokenizers.BertPreTokenizer()
KEEP, DROP, SPACE, CJK = 0, 1, 2, 3
MAPPED, PUNCT, PSPACE, CCC = 4, 8, 16, 32
HIGH, LOW = "\U0001E944", "\U0001E94A"  # Adlam marks of class 230 and 7 that tokenizers reorders


def is_cjk(cp):  # the ranges of BERT's _is_chinese_char, which tokenizers copies
    return any(a <= cp <= b for a, b in ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
                                         (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF),
                                         (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))


def code_points():
    return (cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)


def pretok_class(c):
    pieces = [p for p, _ in PRE.pre_tokenize_str("a" + c + "a")]
    if pieces == ["a", c, "a"]:
        return PUNCT
    if pieces == ["a", "a"]:
        return PSPACE
    assert pieces == ["a" + c + "a"], (hex(ord(c)), pieces)
    return 0


def measure():
    props, mapping, ccc = {}, {}, {}
    for cp in code_points():
        c = chr(cp)
        out = NORM.normalize_str(c)
        if out == "":
            v = DROP
            # Transparent when a reorderable pair around it still gets swapped.
            if NORM.normalize_str("a" + HIGH + c + LOW) == "a" + LOW + HIGH:
                v |= CCC
        elif out == " ":
            v = SPACE
        elif is_cjk(cp):
            assert out[0] == " " and out[-1] == " " and " " not in out[1:-1], hex(cp)
            v = CJK
            if out[1:-1] != c:
                v |= MAPPED
                mapping[cp] = out[1:-1]
        else:
            assert " " not in out, hex(cp)
            v = KEEP | pretok_class(c)
            if out != c:
                v |= MAPPED
                mapping[cp] = out
            cls = unicodedata.combining(c)
            if cls:  # keep the class only where tokenizers' NFD knows it (it reorders)
                probe = "a" + c + LOW if cls > 7 else "a" + HIGH + c
                if NORM.normalize_str(probe) != probe:
                    v |= CCC
                    ccc[cp] = cls
        props[cp] = v
    # Pre-tokeniser classes also matter for every character a mapping can emit.
    for out in mapping.values():
        for ch in out:
            props[ord(ch)] = (props[ord(ch)] & ~(PUNCT | PSPACE)) | pretok_class(ch)
    return props, mapping, ccc


def model_words(text, props, mapping, ccc):
    """The C++ algorithm in Python: normalised words of `text` (no special tokens)."""
    words, word, run = [], [], []  # run: (char, class) of the marks awaiting reordering

    def flush_run():
        word.extend(ch for ch, _ in sorted(run, key=lambda x: x[1]))  # stable sort, like NFD
        run.clear()

    def end_word():
        flush_run()
        if word:
            words.append("".join(word))
            word.clear()

    def emit(ch):
        p = props.get(ord(ch), 0)
        cls = ccc.get(ord(ch), 0) if p & CCC else 0
        if cls:
            run.append((ch, cls))
            return
        flush_run()
        if p & PSPACE:
            end_word()
        elif p & PUNCT:
            end_word()
            words.append(ch)
        else:
            word.append(ch)

    for c in text:
        p = props.get(ord(c), 0)
        kind = p & 3
        if kind == DROP:
            if not p & CCC:
                flush_run()
        elif kind == SPACE:
            end_word()
        elif kind == CJK:
            end_word()
            words.append(mapping.get(ord(c), c))
        else:
            for ch in mapping.get(ord(c), c) if p & MAPPED else c:
                emit(ch)
    end_word()
    return words


def hf_words(text):
    return [w for w, _ in PRE.pre_tokenize_str(NORM.normalize_str(text))]


def check(props, mapping, ccc, n):
    """Random strings over the interesting characters: the model must equal tokenizers."""
    rng = random.Random(0)
    pool = [chr(cp) for cp, p in props.items() if p & (MAPPED | CCC | PUNCT) or p & 3] + list("aZ .,é")
    marks = [chr(cp) for cp, p in props.items() if p & CCC or (p & 3 == DROP and cp < 0x3000)]
    bad = 0
    for _ in range(n):
        text = "".join(rng.choice(marks if rng.random() < 0.4 else pool) for _ in range(rng.randint(1, 8)))
        if model_words(text, props, mapping, ccc) != hf_words(text):
            bad += 1
            if bad <= 10:
                print("mismatch:", [hex(ord(c)) for c in text], model_words(text, props, mapping, ccc),
                      hf_words(text), file=sys.stderr)
    print(f"check: {n - bad}/{n} random strings agree with tokenizers", file=sys.stderr)
    return bad == 0


def hangul(cp):
    """NFD of a precomposed Hangul syllable (Unicode ch. 3.12): computed, so it stays out of the table."""
    s = cp - 0xAC00
    if not 0 <= s < 11172:
        return None
    l, v, t = 0x1100 + s // 588, 0x1161 + (s % 588) // 28, 0x11A7 + s % 28
    return chr(l) + chr(v) + (chr(t) if t != 0x11A7 else "")


def ranges(props):
    out, prev = [], None
    for cp in range(0x110000):
        v = props.get(cp, DROP)  # surrogates cannot be decoded; drop them like U+FFFD
        if v != prev:
            out.append((cp, v))
            prev = v
    return out


def write(path, props, mapping, ccc):
    import tokenizers
    rs = ranges(props)
    for cp in range(0xAC00, 0xAC00 + 11172):
        assert mapping.pop(cp) == hangul(cp), hex(cp)
    width = max(len(v) for v in mapping.values())
    lines = [
        "#pragma once",
        "// Generated by scripts/gen_unicode_tables.py from Hugging Face tokenizers "
        f"{tokenizers.__version__}; do not edit.",
        "// What BERT's basic tokeniser does to each code point; the script's docstring explains the bits.",
        "// Hangul syllables (U+AC00..U+D7A3) are mapped but their NFD is computed, not listed.",
        "#include <cstdint>",
        "",
        "namespace omni::data::unicode {",
        "",
        "enum : std::uint8_t { keep = 0, drop = 1, space = 2, cjk = 3, kind_mask = 3,",
        "                      mapped = 4, punct = 8, pre_space = 16, has_ccc = 32 };",
        "",
        f"// (first code point << 8) | properties, for the run of code points up to the next entry.",
        f"inline constexpr std::uint32_t property_runs[{len(rs)}] = {{",
    ]
    lines += wrap([f"0x{(cp << 8) | v:x}" for cp, v in rs])
    lines += ["};", "", f"inline constexpr int max_mapping = {width};",
              "struct Mapping {", "    char32_t from;", f"    char32_t to[{width}];  // zero-terminated when shorter",
              "};", f"inline constexpr Mapping mappings[{len(mapping)}] = {{"]
    lines += wrap([f"{{0x{cp:x},{{{','.join(f'0x{ord(ch):x}' for ch in out)}}}}}" for cp, out in sorted(mapping.items())])
    lines += ["};", "", "// (code point << 8) | canonical combining class, for the keep characters with has_ccc.",
              f"inline constexpr std::uint32_t combining_classes[{len(ccc)}] = {{"]
    lines += wrap([f"0x{(cp << 8) | cls:x}" for cp, cls in sorted(ccc.items())])
    lines += ["};", "", "}  // namespace omni::data::unicode", ""]
    Path(path).write_text("\n".join(lines))
    print(f"{path}: {len(rs)} runs, {len(mapping)} mappings, {len(ccc)} classes", file=sys.stderr)


def wrap(items, width=110):
    lines, cur = [], "    "
    for it in items:
        if len(cur) + len(it) + 1 > width:
            lines.append(cur.rstrip())
            cur = "    "
        cur += it + ","
    lines.append(cur)
    return lines


def main():
    args = sys.argv[1:]
    n = 200000
    if "--check" in args:
        i = args.index("--check")
        n = int(args[i + 1])
        del args[i:i + 2]
    out = args[0] if args else str(Path(__file__).resolve().parent.parent / "include/omni/data/text/unicode_tables.hpp")
    props, mapping, ccc = measure()
    ok = check(props, mapping, ccc, n)
    write(out, props, mapping, ccc)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
r"""Reference token ids from Hugging Face `tokenizers` for tests/data/wordpiece_parity_test.cpp.

Usage: <venv python> wordpiece_reference.py VOCAB_TXT OUT_DIR [N_GLOSSES]
Writes OUT_DIR/vocab.txt (a copy) and OUT_DIR/wordpiece_cases.tsv, one case per line:
  kind <TAB> text <TAB> ids <TAB> ids16 <TAB> mask16 <TAB> words
ids: the full encoding with [CLS]/[SEP], untruncated; ids16/mask16: truncated and padded to 16;
words: the normalised, pre-tokenised words. Text and words escape backslash, tab, newline, CR and
other C0 controls (\\, \t, \n, \r, \xHH); ids are space-separated.
Cases: WordNet glosses (Debian's wordnet-base), hand-picked hard cases, long texts past 256
tokens, and a sweep over every code point up to U+2FFFF plus the tag and selector planes, in
chunks of 32, both space-separated and run together.
"""
import shutil
import sys
from pathlib import Path

from tokenizers.implementations import BertWordPieceTokenizer

WORDNET = Path("/usr/share/wordnet")

HARD = [
    "", " ", "   \t\n  ", "\u3000\u00a0\u2003", "Hello, World!", "Café naïve Ångström", "CAFÉ NAÏVE ÅNGSTRÖM",
    "résumé façade jalapeño über straße", "Ærøskøbing Øresund œuvre", "!!!???...", "--- ... ,,, ;;; :::",
    "a.b,c;d:e!f?g", "\"quoted\" 'single' `back` (paren) [bracket] {brace} <angle>", "$100 #hash @user %50 ^caret &amp *star",
    "中文字符测试", "日本語のテキスト、カタカナ。", "한국어 텍스트입니다", "混合 mixed 文字 text", "Привет, мир! Ёлка",
    "Γειά σου Κόσμε ΣΟΦΊΑ", "שלום עולם", "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Tiếng Việt có dấu",
    "emoji 😀🎉👍🏽 family 👨‍👩‍👧 flag 🇺🇸", "heart ❤️ star ★ check ✓", "control\x01chars\x07here\x1b[0m",
    "nul\x00inside", "tab\there\nnewline\rcr", "replacement \ufffd char", "zero\u200bwidth\u200djoiner\ufeffbom",
    "soft\u00adhyphen", "a" * 100, "a" * 101, "supercalifragilisticexpialidocious" * 3, "x" * 250 + " tail",
    "qwzxv blorptastic zzyzx", "[MASK]", "[MASK] is a mask", "a[MASK]b", "[mask] [Mask] [ MASK ]", "[CLS][SEP][PAD][UNK]",
    "[MASK[MASK]]", "[[MASK]", "[UNK", "##ing ##s", "1,000,000 and 3.14159 and 2,5", "1st 2nd 3rd 4th 10,000th",
    "+1 (555) 123-4567", "e-mail: someone@example.com, url: https://example.com/a?b=c&d=e", "C++ C# F# .NET",
    "İstanbul ǅemal ﬁne ﬀ ẞ Ω K Å", "ﬁnancial ﬂow ǈ ǋ", "①②③ ½ ¼ x² H₂O", "Ⅻ ⅻ ⓐ ⒜", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "e\u0301 e\u0300\u0301 a\u0323\u0302", "o\u0308\u0304 combining sequence", "\U0001e900\U0001e944\U0001e94a",
    "\U0001d15f\U0001d160 music", "don't can't won't it's", "U.S.A. e.g. i.e. etc.", "— – … « » ¿ ¡ · • ‰ ′ ″",
    "😀" * 120, "The quick brown fox jumps over the lazy dog.", "THE QUICK BROWN FOX",
    "naïve café " * 40, "ΟΔΟΣ ΣΑΣ ὀδός",
]


def glosses(n):
    out = []
    for part in ("noun", "verb", "adj", "adv"):
        for line in (WORDNET / f"data.{part}").read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or " | " not in line:  # the licence header is indented
                continue
            out.append(line.split(" | ", 1)[1].strip())
    step = max(len(out) // n, 1)
    return out[::step][:n]


def sweep():
    cps = [cp for cp in range(0x30000) if not 0xD800 <= cp <= 0xDFFF] + list(range(0xE0000, 0xE01F0))
    for i in range(0, len(cps), 32):
        chunk = [chr(cp) for cp in cps[i:i + 32]]
        yield " ".join(chunk)
        yield "".join(chunk)


def escape(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def main():
    vocab, out_dir = sys.argv[1], Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(vocab, out_dir / "vocab.txt")
    full = BertWordPieceTokenizer(vocab, lowercase=True)
    short = BertWordPieceTokenizer(vocab, lowercase=True)
    short.enable_truncation(16)
    short.enable_padding(length=16)

    gl = glosses(n)
    cases = [("gloss", t) for t in gl] + [("hard", t) for t in HARD]
    cases += [("long", " ".join(gl[i:i + 40])) for i in range(0, 400, 40)]
    cases += [("sweep", t) for t in sweep()]
    texts = [t for _, t in cases]
    enc_full = full.encode_batch(texts)
    enc_short = short.encode_batch(texts)
    with open(out_dir / "wordpiece_cases.tsv", "w", encoding="utf-8", newline="\n") as f:
        for (kind, text), a, b in zip(cases, enc_full, enc_short):
            words = [w for w, _ in full.pre_tokenizer.pre_tokenize_str(full.normalizer.normalize_str(text))]
            f.write("\t".join([kind, escape(text), " ".join(map(str, a.ids)), " ".join(map(str, b.ids)),
                               " ".join(map(str, b.attention_mask)), escape(" ".join(words))]) + "\n")
    kinds = {k: sum(1 for c, _ in cases if c == k) for k in dict.fromkeys(k for k, _ in cases)}
    print(f"wordpiece_reference: {len(cases)} cases {kinds} -> {out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()

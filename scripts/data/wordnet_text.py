#!/usr/bin/env python3
"""English glosses from WordNet 3.0 (Debian's wordnet-base) as a labelled text set.

Each synset line of /usr/share/wordnet/data.{noun,verb,adj,adv} carries its lexicographer file
number (the second field: 45 coarse classes such as noun.animal or verb.motion) and a gloss after
" | ". This writes a TSV with a header row and one line per synset kept:

    label <TAB> lexname <TAB> gloss

label is the lexicographer file number (0..44), so labels mean the same thing in every subset.
The subset is deterministic: all synsets in file order, shuffled with random.Random(seed), then
the first --count (at most --per-class of each label when given). Standard library only.

Usage: wordnet_text.py [--out FILE] [--count N] [--per-class N] [--seed S] [--pos noun,verb,adj,adv]
Default FILE: $OMNI_DATA/wordnet/glosses.tsv (OMNI_DATA defaults to ~/.cache/omni).
"""
import argparse
import os
import random
import sys
from pathlib import Path

# WordNet 3.0's lexnames file, used when the installed tree lacks one (Debian's wordnet-base does).
LEXNAMES = [
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
]
POS = ("noun", "verb", "adj", "adv")


def data_root():
    if os.environ.get("OMNI_DATA"):
        return Path(os.environ["OMNI_DATA"])
    if os.environ.get("HOME"):
        return Path(os.environ["HOME"]) / ".cache" / "omni"
    return Path(__file__).resolve().parents[2] / "build" / "data"


def lexnames(wordnet):
    """Names by file number, from the installed lexnames file when there is one."""
    path = wordnet / "lexnames"
    if not path.is_file():
        return LEXNAMES
    names = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].isdigit():
            names[int(fields[0])] = fields[1]
    return [names.get(i, f"lex.{i}") for i in range(max(names) + 1)] if names else LEXNAMES


def synsets(wordnet, pos_list):
    """(lex file number, gloss) for every synset with a gloss, in file order."""
    for pos in pos_list:
        path = wordnet / f"data.{pos}"
        if not path.is_file():
            sys.exit(f"wordnet_text.py: no {path}; install Debian's wordnet-base (apt-get install -y wordnet-base)")
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  ") or " | " not in line:
                    continue  # the licence header, or a synset without a gloss
                head, gloss = line.split(" | ", 1)
                fields = head.split()
                if len(fields) < 2 or not fields[1].isdigit():
                    continue
                gloss = " ".join(gloss.split())  # one line, no tabs: the TSV stays parseable
                if gloss:
                    yield int(fields[1]), gloss


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--count", type=int, default=5000, help="synsets to keep; 0 keeps all")
    ap.add_argument("--per-class", type=int, default=0, help="at most this many per label; 0 = no cap")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pos", default="noun,verb,adj,adv")
    ap.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    args = ap.parse_args()
    pos_list = [p for p in args.pos.split(",") if p]
    bad = [p for p in pos_list if p not in POS]
    if bad:
        sys.exit(f"wordnet_text.py: unknown part of speech {bad}; expected some of {','.join(POS)}")

    names = lexnames(args.wordnet)
    rows = list(synsets(args.wordnet, pos_list))
    random.Random(args.seed).shuffle(rows)
    kept, per_label = [], {}
    for label, gloss in rows:
        if args.per_class and per_label.get(label, 0) >= args.per_class:
            continue
        per_label[label] = per_label.get(label, 0) + 1
        kept.append((label, gloss))
        if args.count and len(kept) == args.count:
            break

    out = args.out or data_root() / "wordnet" / "glosses.tsv"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as f:
        f.write("label\tlexname\tgloss\n")
        for label, gloss in kept:
            name = names[label] if label < len(names) else f"lex.{label}"
            f.write(f"{label}\t{name}\t{gloss}\n")
    tmp.replace(out)  # a reader never sees half a file
    print(out)


if __name__ == "__main__":
    main()

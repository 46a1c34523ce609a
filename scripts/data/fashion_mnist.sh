#!/usr/bin/env bash
# Fashion-MNIST (Zalando, 28x28 greyscale, 10 classes) from Debian's dataset-fashion-mnist:
# installs the package when root and it is missing, links the four IDX files into
# $OMNI_DATA/fashion-mnist (default ~/.cache/omni, or build/data without a HOME) and prints that
# directory. The files stay gzip-compressed; omni's IDX reader reads them as they are.
set -euo pipefail
src=/usr/share/datasets/fashion-mnist
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

complete() {
  local f
  for f in "${files[@]}"; do [[ -f "$src/$f" ]] || return 1; done
}

if ! complete; then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >&2
  else
    echo "fashion_mnist.sh: needs Debian's dataset-fashion-mnist: sudo apt-get install -y dataset-fashion-mnist" >&2
    exit 1
  fi
  complete || { echo "fashion_mnist.sh: dataset-fashion-mnist installed but $src lacks the IDX files" >&2; exit 1; }
fi

if [[ -n "${OMNI_DATA:-}" ]]; then
  data=$OMNI_DATA
elif [[ -n "${HOME:-}" ]]; then
  data=$HOME/.cache/omni
else
  data=$(cd "$(dirname "$0")/../.." && pwd)/build/data
fi
dest=$data/fashion-mnist
mkdir -p "$dest"
for f in "${files[@]}"; do ln -sfn "$src/$f" "$dest/$f"; done
echo "$dest"

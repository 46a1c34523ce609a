#!/usr/bin/env bash
# omni vs libtorch on the same ViT-B/32 (batch 8, 224x224, fp32), one command: installs Debian's
# libtorch-dev when root, builds benchmarks/vs_libtorch and writes the table to
# build-bench/results/vs_libtorch.md (docs/performance.md keeps the latest one).
# Usage: scripts/vs_libtorch.sh [--batch N] [--reps N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
if ! dpkg-query -W -f='${Status}' libtorch-dev 2>/dev/null | grep -q "install ok installed"; then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libtorch-dev
  else
    echo "vs_libtorch.sh: needs Debian's libtorch-dev: sudo apt-get install -y libtorch-dev" >&2
    exit 1
  fi
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOMNI_BUILD_TESTS=OFF -DOMNI_BUILD_EXAMPLES=OFF \
  -DOMNI_ENABLE_CUDA=OFF -DOMNI_BUILD_BENCHMARKS=ON -DOMNI_NATIVE=ON > /dev/null
cmake --build "$build" -j "${JOBS:-2}" --target vs_libtorch
mkdir -p "$build/results"
OMP_WAIT_POLICY=passive "$build/benchmarks/vs_libtorch" --out "$build/results/vs_libtorch.md" "$@"

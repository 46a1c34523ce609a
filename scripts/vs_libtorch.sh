#!/usr/bin/env bash
# omni vs libtorch on the same ViT-B/32 (batch 8, 224x224, fp32), one command: installs Debian's
# libtorch-dev when root, builds benchmarks/vs_libtorch and writes the table to
# build-bench/results/vs_libtorch.md (docs/performance.md keeps the latest one).
# Usage: scripts/vs_libtorch.sh [--batch N] [--reps N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
# libtorch's matrix products go through libblas.so.3, which on a bare Debian is the reference
# (netlib) BLAS, some 40x slower than an optimised one: OpenBLAS (OpenMP build, the same runtime
# as libtorch's own threads) takes over through Debian's alternatives, so the comparison is fair.
"$root/scripts/deps.sh" cmake g++ make libeigen3-dev libbenchmark-dev zlib1g-dev libtorch-dev libopenblas0-openmp
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOMNI_BUILD_TESTS=OFF -DOMNI_BUILD_EXAMPLES=OFF \
  -DOMNI_ENABLE_CUDA=OFF -DOMNI_BUILD_BENCHMARKS=ON -DOMNI_NATIVE=ON > /dev/null
cmake --build "$build" -j "${JOBS:-2}" --target vs_libtorch
mkdir -p "$build/results"
OMP_WAIT_POLICY=passive "$build/benchmarks/vs_libtorch" --out "$build/results/vs_libtorch.md" "$@"

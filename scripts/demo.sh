#!/usr/bin/env bash
# The main job. For now: build and run the examples that exist (a quick start and an MLP that
# must fit a curve). The Omni-C issue turns this into the real Omni-C demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build=${BUILD_DIR:-build-demo}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DOMNI_BUILD_TESTS=OFF -DOMNI_BUILD_BENCHMARKS=OFF -DOMNI_ENABLE_CUDA=OFF
cmake --build "$build" -j "${JOBS:-$(nproc)}"
"$build/examples/quickstart"
"$build/examples/train_mlp"

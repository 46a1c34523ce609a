#!/usr/bin/env bash
# Builds the benchmark suites in Release with -march=native and runs each one, keeping the JSON
# (for tooling) and the console table (for people) in build-bench/results/.
# Usage: scripts/bench.sh [extra benchmark flags, e.g. --benchmark_filter=vit]
# Env: JOBS (build parallelism, default 2), OMNI_NUM_THREADS (kernel threads, default all cores).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
results="$build/results"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DOMNI_BUILD_TESTS=OFF -DOMNI_BUILD_EXAMPLES=OFF -DOMNI_ENABLE_CUDA=OFF \
  -DOMNI_BUILD_BENCHMARKS=ON -DOMNI_NATIVE=ON
cmake --build "$build" -j "${JOBS:-2}"

mkdir -p "$results"
shopt -s nullglob
suites=("$build"/benchmarks/*_bench)
(( ${#suites[@]} )) || { echo "bench.sh: no benchmark executables in $build/benchmarks" >&2; exit 1; }
for exe in "${suites[@]}"; do
  name=$(basename "$exe")
  echo "== $name"
  # Medians of 5 repetitions, run in shuffled order so a burst of load from elsewhere on the host
  # lands on single repetitions of several benchmarks, not on every repetition of one.
  "$exe" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$results/$name.json" --benchmark_out_format=json "$@" \
    | tee "$results/$name.txt"
done
echo "results in $results"

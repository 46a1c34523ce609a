#!/usr/bin/env bash
# Creates the omni Conan package offline and runs its test_package (a tiny Omni-C forward): a
# pinned Conan 2 in a venv, a private CONAN_HOME with no remote, the Debian profile that maps
# every requirement to a system package (conan/profiles/debian; docs/packaging.md).
#   scripts/conan_package.sh                  header-only package + test_package (what CI runs)
#   KERNELS=1 scripts/conan_package.sh        with the prebuilt omni::kernels (+2-3 min on one core)
#   scripts/conan_package.sh --bench NAME     then builds benchmarks/ against the package
#                                             (conan install + standalone CMake) and runs NAME_bench
# Env: CONAN_WORK (venv, CONAN_HOME, build trees; default $BUILD_DIR/conan, build/conan), JOBS (default 2),
#      BENCH_FILTER (a --benchmark_filter for --bench).
set -euo pipefail
trap 'echo "conan_package: FAILED" >&2' ERR

root=$(cd "$(dirname "$0")/.." && pwd)
conan_version=2.34.0
build=${BUILD_DIR:-build}
[[ "$build" == /* ]] || build="$root/$build"
work=${CONAN_WORK:-$build/conan}
mkdir -p "$work" && work=$(cd "$work" && pwd)
jobs=${JOBS:-2}
bench=""
if [[ "${1:-}" == --bench ]]; then bench=${2:?--bench needs a suite name, e.g. matmul}; fi

# ---- Conan itself: pinned, in its own venv (PyPI is the only download) ----------------------
if [[ "$("$work/venv/bin/conan" --version 2>/dev/null)" != "Conan version $conan_version" ]]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q --disable-pip-version-check "conan==$conan_version"
fi
conan=("$work/venv/bin/conan")

# ---- a private home: detected settings, no remote at all -------------------------------------
export CONAN_HOME="$work/home"
mkdir -p "$CONAN_HOME"
# An empty remote list: nothing can reach a remote, every requirement must be in the cache or
# the profile's [platform_requires].
echo '{"remotes": []}' > "$CONAN_HOME/remotes.json"
"${conan[@]}" profile detect --exist-ok >/dev/null
profile="$root/conan/profiles/debian"

# Build trees outside the source tree; no CMakeUserPresets.json written into it.
conf=(-c "tools.build:jobs=$jobs" -c "tools.cmake.cmaketoolchain:user_presets="
      -c "tools.cmake.cmake_layout:test_folder=$work/test_package")
opts=() bench_lib=OFF variant=headers
if [[ "${KERNELS:-0}" == 1 ]]; then opts=(-o "omni/*:kernels=True") bench_lib=ON variant=kernels; fi

"${conan[@]}" create "$root" -pr:a "$profile" --build=missing --no-remote "${opts[@]}" "${conf[@]}"

# ---- the kernel benchmarkers' path: benchmarks/ as its own project against the package -------
if [[ -n "$bench" ]]; then
  # One tree per variant: a build tree caches omni_DIR, the package folder it found first.
  out="$work/bench-$variant"
  "${conan[@]}" install "$root/benchmarks" -pr:a "$profile" --no-remote "${opts[@]}" "${conf[@]}" \
    --output-folder "$out"
  cmake -S "$root/benchmarks" -B "$out/build" -DCMAKE_TOOLCHAIN_FILE="$out/conan_toolchain.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DOMNI_BENCH_KERNELS=$bench_lib
  cmake --build "$out/build" --target "${bench}_bench" -j "$jobs"
  OMP_WAIT_POLICY=passive "$out/build/${bench}_bench" --benchmark_min_time=0.05 \
    ${BENCH_FILTER:+--benchmark_filter="$BENCH_FILTER"}
fi
echo "conan_package: ok"

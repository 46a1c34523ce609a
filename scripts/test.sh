#!/usr/bin/env bash
# The whole test suite from a fresh Debian machine: dependencies, a Release build (with the CUDA
# policy when nvcc is present; its tests skip without a GPU), ctest, the include-layer rule, the
# installed-package consumer, the compile cost (the Omni-C example within 20 s compiled), a short
# libFuzzer run of every reader of bytes, the core suites built with clang under ASan + UBSan and
# TSan (scripts/sanitize.sh) and the API reference (doxygen, scripts/api_docs.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
if [[ -z "${CUDACXX:-}" && -x /usr/local/cuda/bin/nvcc ]] && ! command -v nvcc >/dev/null; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
jobs=${JOBS:-$(nproc)}
build=${BUILD_DIR:-build}

python3 scripts/check_layers.py
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DOMNI_BUILD_BENCHMARKS=ON -DOMNI_BUILD_EXAMPLES=ON
cmake --build "$build" -j "$jobs"
# Tests run side by side: idle OpenMP workers must sleep, not spin against the other test's threads.
(cd "$build" && OMP_WAIT_POLICY=passive ctest --output-on-failure -j "$jobs")
scripts/check_install.sh
scripts/conan_package.sh  # the Conan package offline (pinned Conan 2, Debian profile): conan create + test_package
# Compile cost: ops_test in both modes and the Omni-C example compiled (budget 20 s, 2 GB).
scripts/compile_cost.sh --quick
scripts/fuzz.sh --ci  # every reader of bytes under libFuzzer + ASan/UBSan, 10 s each (tests/fuzz)
# clang 14 beside g++: the core suites under ASan + UBSan (about 3 min on 2 idle cores), then TSan
# over the thread pool, FFTW plan cache and frozen-weights cache (under a minute). The timeouts only
# stop a hang; they are well above the measured times under load.
timeout 1200 scripts/sanitize.sh --subset ci
timeout 300 scripts/sanitize.sh --tsan
OMNI_API_OUT="$build/api" scripts/api_docs.sh  # the API reference: every public class documented, no doc errors

#!/usr/bin/env bash
# The C++ test suites built with clang 14 beside the g++ build, under sanitizers (issue 28):
#
#   scripts/sanitize.sh --subset ci     # ASan + UBSan over the CI subset (scripts/test.sh)
#   scripts/sanitize.sh                 # ASan + UBSan over every C++ suite (the long job)
#   scripts/sanitize.sh --tsan          # ThreadSanitizer over the thread-safety suite (tests/threads)
#   scripts/sanitize.sh ops_test        # named test executables only
#
# ASan + UBSan: -fsanitize=address,undefined -fno-sanitize-recover=undefined -O1 -g, so any
# report (UB included) fails the test. Left out everywhere: the suites that need the Python
# parity or data fixtures (tests/parity, wordpiece/audio/name-map parity, datasets, av_clips,
# OmniVinci training); they are plain add_executable targets, not omni_add_test ones.
# TSan: OpenMP through libomp with Archer (LLVM's OpenMP annotations for TSan) loaded, and
# tests/threads/tsan.supp (libomp's own uninstrumented internals only).
# Environment: SANITIZE_BUILD (default build-sanitize; TSan uses ${SANITIZE_BUILD}-tsan), JOBS.
set -euo pipefail
cd "$(dirname "$0")/.."

# The CI subset: the core layers, the readers of bytes and the audio frontend, chosen by build
# time under ASan (docs/reliability.md has the numbers); errors_test and gradcheck_test, the two
# slowest to build, run in the full job only.
ci_targets=(core_test tensor_test ops_test autodiff_test safetensors_test checkpoint_test audio_test thread_safety_test)

subset=all tsan=0 names=()
while (($#)); do
  case "$1" in
    --subset) subset=$2; shift ;;
    --tsan) tsan=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "sanitize.sh: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1") ;;
  esac
  shift
done
[[ $subset == ci || $subset == all ]] || { echo "sanitize.sh: --subset ci|all, got $subset" >&2; exit 2; }

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.a >/dev/null 2>&1 ||
   ! ls /usr/lib/llvm-*/lib/libomp.so >/dev/null 2>&1; then
  scripts/deps.sh clang libclang-rt-14-dev libomp-14-dev
fi
scripts/deps.sh cmake ninja-build libeigen3-dev libgtest-dev libcereal-dev rapidjson-dev libfftw3-dev zlib1g-dev libstb-dev libjpeg-dev xtensor-dev

jobs=${JOBS:-$(nproc)}
build=${SANITIZE_BUILD:-build-sanitize}
if ((tsan)); then
  build=$build-tsan
  sanitize=-fsanitize=thread link=-fsanitize=thread
  ((${#names[@]})) || names=(thread_safety_test)
else
  sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  link=-fsanitize=address,undefined
fi

# The main project, configured for clang (Debug at -O1): no examples, benchmarks, prebuilt kernels or CUDA.
# Ninja, because the Makefile generator builds the named targets one after another.
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_EXE_LINKER_FLAGS="$link" \
  -DOMNI_BUILD_EXAMPLES=OFF -DOMNI_BUILD_BENCHMARKS=OFF -DOMNI_BUILD_KERNELS=OFF -DOMNI_ENABLE_CUDA=OFF -DOMNI_NATIVE=OFF >/dev/null

# Every omni_add_test suite this configuration has (fixture-free), or the subset.
available=$(cmake --build "$build" --target help | sed -n 's/^\([a-z0-9_]*_test\): phony$/\1/p')
if ((${#names[@]} == 0)); then
  if [[ $subset == ci ]]; then
    names=("${ci_targets[@]}")
  else
    read -r -a names <<<"$(grep -rhE '^\s*omni_add_test\(' tests | sed 's/^\s*omni_add_test(\([a-z0-9_]*\).*/\1/' | sort -u | tr '\n' ' ') umbrella_header_test"
  fi
fi
targets=()
for t in "${names[@]}"; do
  if grep -qx "$t" <<<"$available"; then targets+=("$t"); else echo "sanitize.sh: no target $t in this configuration, skipped" >&2; fi
done

start=$(date +%s)
cmake --build "$build" -j "$jobs" --target "${targets[@]}"
built=$(($(date +%s) - start))

# ctest runs exactly the tests those executables hold (gtest_discover_tests named them at build).
tests=$(cd "$build" && ctest --show-only=json-v1 | python3 -c '
import json, os, sys
want = set(sys.argv[1:])
doc = json.load(sys.stdin)
idx = [str(i + 1) for i, t in enumerate(doc["tests"])
       if t.get("command") and os.path.basename(t["command"][0]) in want and not t["name"].endswith("_NOT_BUILT")]
print(",".join(idx))' "${targets[@]}")
[[ -n $tests ]] || { echo "sanitize.sh: no tests found in ${targets[*]}" >&2; exit 1; }

export OMP_WAIT_POLICY=passive  # ctest runs suites side by side: idle OpenMP workers sleep
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1
if ((tsan)); then
  archer=$(ls /usr/lib/llvm-*/lib/libarcher.so | head -n1)
  export OMP_TOOL_LIBRARIES=$archer
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/threads/tsan.supp"
fi
(cd "$build" && ctest --output-on-failure -j "$jobs" -I "0,0,0,$tests")
echo "sanitize.sh: $([[ $tsan == 1 ]] && echo TSan || echo ASan+UBSan) over ${targets[*]}: build ${built} s, total $(($(date +%s) - start)) s"

#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz (clang, ASan + UBSan), writes their seed corpora
# from omni's own writers, and runs each one. A crash, a sanitizer report, a non-omni exception
# escaping a reader, a leak or an input slower than 10 s fails the run; libFuzzer leaves the input
# as crash-*/timeout-*/leak-* in the harness's work directory (its message names the file).
#
#   scripts/fuzz.sh --ci                     # every harness for 10 s (CI; the build is most of it)
#   scripts/fuzz.sh --seconds 3600           # the long run: an hour per harness
#   scripts/fuzz.sh --runs 1000000 image     # one million executions of the image harness
#   scripts/fuzz.sh --libjpeg-source image   # JPEG through an instrumented libjpeg-turbo (long runs)
#
# Options: --seconds N, --runs N (the first limit reached ends a harness), --jobs N (parallel
# fuzzing processes per harness, default 1), --libjpeg-source (download Debian's libjpeg-turbo
# 2.1.5 source, checked against its .dsc's SHA-256, and build it with the harness's sanitizers and
# coverage for image_fuzz; without it image_fuzz links the system's uninstrumented library),
# harness names to run only those (default: all).
# Environment: FUZZ_BUILD (build directory, default build-fuzz-clang), FUZZ_WORK (corpora and
# findings, default $FUZZ_BUILD/work). The corpus a run grows is kept and reused by the next.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60 runs=-1 jobs=1 libjpeg_source=0 names=()
while (($#)); do
  case "$1" in
    --ci) seconds=10 ;;
    --seconds) seconds=$2; shift ;;
    --runs) runs=$2; seconds=0; shift ;;
    --jobs) jobs=$2; shift ;;
    --libjpeg-source) libjpeg_source=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1") ;;
  esac
  shift
done

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  scripts/deps.sh clang libclang-rt-14-dev
fi
scripts/deps.sh cmake libeigen3-dev libcereal-dev rapidjson-dev libfftw3-dev zlib1g-dev libstb-dev libjpeg-dev xtensor-dev

build=${FUZZ_BUILD:-build-fuzz-clang}
work=${FUZZ_WORK:-$build/work}
lj_dir=""
if ((libjpeg_source)); then
  lj_tar=libjpeg-turbo_2.1.5.orig.tar.gz lj_sha=254f3642b04e309fee775123133c6464181addc150499561020312ec61c1bf7c
  lj_dir=$PWD/$build/libjpeg-turbo-2.1.5
  if [[ ! -f $lj_dir/CMakeLists.txt ]]; then
    mkdir -p "$build"
    command -v curl >/dev/null || scripts/deps.sh curl
    curl -fsSL -o "$build/$lj_tar" "http://deb.debian.org/debian/pool/main/libj/libjpeg-turbo/$lj_tar"
    echo "$lj_sha  $build/$lj_tar" | sha256sum -c --quiet
    tar -xzf "$build/$lj_tar" -C "$build"
  fi
fi
CXX=clang++ cmake -S tests/fuzz -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOMNI_FUZZ_LIBJPEG_SOURCE="$lj_dir" >/dev/null
all=$(sed -n 's/^set(OMNI_FUZZ_HARNESSES \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt)
((${#names[@]})) || read -r -a names <<<"$all"
targets=(make_seeds)
for h in "${names[@]}"; do targets+=("${h}_fuzz"); done
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "${targets[@]}"

seeds="$work/seeds"
rm -rf "$seeds"
"$build/make_seeds" "$seeds"

printf '%-16s %10s %8s %12s %s\n' harness executions seconds corpus result
failed=0
for h in "${names[@]}"; do
  dir="$work/$h"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  limits=(-max_total_time="$seconds")
  ((seconds == 0)) && limits=(-runs="$runs")
  ((runs >= 0 && seconds > 0)) && limits+=(-runs="$runs")
  log="$dir/last.log"
  start=$(date +%s)
  set +e
  if ((jobs > 1)); then
    (cd "$dir" && "$OLDPWD/$build/${h}_fuzz" corpus "$OLDPWD/$seeds/$h" "${limits[@]}" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=artifacts/ -print_final_stats=1 -jobs="$jobs" -workers="$jobs" >"$log" 2>&1)
    cat "$dir"/fuzz-*.log >>"$log" 2>/dev/null
  else
    "$build/${h}_fuzz" "$dir/corpus" "$seeds/$h" "${limits[@]}" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$dir/artifacts/" -print_final_stats=1 >"$log" 2>&1
  fi
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
  corpus=$(find "$dir/corpus" -type f | wc -l)
  result=ok
  if ((rc != 0)); then
    result="FAILED (rc $rc): $(grep -m1 -E 'ERROR|runtime error|fuzz: |Test unit written' "$log" || echo "see $log")"
    failed=1
  fi
  printf '%-16s %10s %8s %12s %s\n' "$h" "$execs" "$(($(date +%s) - start))" "$corpus" "$result"
done
if ((failed)); then
  echo "fuzz.sh: findings above; inputs in $work/*/artifacts, logs in $work/*/last.log" >&2
  exit 1
fi

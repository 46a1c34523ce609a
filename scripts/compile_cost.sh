#!/usr/bin/env bash
# Compile time and peak memory of each test and example translation unit, built alone with the
# flags CMake's Release build gives it, in both modes: header-only (every kernel compiled into the
# TU) and compiled (-DOMNI_KERNELS_PREBUILT: the TU sees the kernels' declarations and links
# omni::kernels). One compile at a time: parallel compiles would skew both numbers.
#
# Usage: scripts/compile_cost.sh [--quick] [--mode both|header-only|compiled] [file.cpp ...]
#   default files: tests/**/*.cpp (minus install/, parity/) and examples/**/*.cpp;
#   --quick: the CI subset (ops_test in both modes, the Omni-C example compiled; about 75 s).
# Budgets, on CPU seconds (user + sys: what one core spends, whatever else the machine runs):
#   the Omni-C example in the compiled mode: DEMO_BUDGET_S (20) and DEMO_BUDGET_MB (2048), failing
#   only past the budget plus NOISE_PCT (10) percent of CPU time, a warning in between (the same
#   compile varies by about that much between runs on a shared 2-core machine: 16.0 to 18.6 s);
#   every other row: COMPILE_BUDGET_S (120) and COMPILE_BUDGET_MB (3000).
# Env:   CXX (g++), EXTRA_FLAGS (appended to the compile line).
# Output: a table sorted by header-only CPU time on stdout and in build/compile_cost.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
budget_s=${COMPILE_BUDGET_S:-120}
budget_mb=${COMPILE_BUDGET_MB:-3000}
demo_budget_s=${DEMO_BUDGET_S:-20}
noise_pct=${NOISE_PCT:-10}
demo_budget_mb=${DEMO_BUDGET_MB:-2048}
demo=examples/omni_c_demo/main.cpp
cxx=${CXX:-g++}

mode=both
quick=0
files=()
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --mode) mode=${2:?--mode needs both, header-only or compiled}; shift ;;
    --mode=*) mode=${1#--mode=} ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "compile_cost: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1") ;;
  esac
  shift
done
case $mode in both|header-only|compiled) ;; *) echo "compile_cost: --mode is both, header-only or compiled, got $mode" >&2; exit 2 ;; esac

# GNU time is the tool that reports peak RSS; Debian ships it as package `time`.
if [[ ! -x /usr/bin/time ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
  else
    echo "compile_cost: /usr/bin/time missing; install the Debian package 'time'" >&2
    exit 1
  fi
fi

# jobs: "file mode" pairs, measured in this order.
jobs=()
if ((quick)); then
  jobs+=("tests/ops/ops_test.cpp header-only" "tests/ops/ops_test.cpp compiled")
  jobs+=("$demo compiled")
else
  if ((${#files[@]} == 0)); then
    mapfile -t files < <({ find tests -name '*.cpp' -not -path 'tests/install/*' -not -path 'tests/parity/*'; find examples -name '*.cpp'; } | sort)
  fi
  for f in "${files[@]}"; do
    [[ $mode != compiled ]] && jobs+=("$f header-only")
    [[ $mode != header-only ]] && jobs+=("$f compiled")
  done
fi
(( ${#jobs[@]} )) || { echo "compile_cost: no files to measure" >&2; exit 1; }

# The flags CMake's Release build uses: examples also get -march=native (OMNI_NATIVE).
flags_for() {
  local f=$1 m=$2
  echo -n "-std=gnu++20 -O3 -DNDEBUG -fopenmp -Iinclude -isystem /usr/include/eigen3"
  [[ $f == examples/* ]] && echo -n " -march=native"
  # Compiled: what linking omni::kernels defines (its FFTW and zlib parts where those are installed).
  if [[ $m == compiled ]]; then
    echo -n " -DOMNI_KERNELS_PREBUILT"
    [[ -f /usr/include/fftw3.h ]] && echo -n " -DOMNI_KERNELS_FFTW"
    [[ -f /usr/include/zlib.h ]] && echo -n " -DOMNI_KERNELS_ZLIB"
  fi
  echo -n " ${EXTRA_FLAGS:-}"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
failed=0
: >"$tmp/rows"  # file mode wall cpu mb
for j in "${jobs[@]}"; do
  f=${j% *} m=${j##* }
  [[ -f "$f" ]] || { echo "compile_cost: no such file $f" >&2; failed=1; continue; }
  # shellcheck disable=SC2046  # flags_for prints a list of flags
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$cxx" $(flags_for "$f" "$m") -c "$f" -o /dev/null 2>"$tmp/err"; then
    echo "compile_cost: $f ($m) does not compile:" >&2
    head -20 "$tmp/err" >&2
    failed=1
    continue
  fi
  read -r wall user sys kb <"$tmp/time"
  row=$(awk -v f="$f" -v m="$m" -v w="$wall" -v u="$user" -v s="$sys" -v k="$kb" 'BEGIN {printf "%s %s %.1f %.1f %d", f, m, w, u + s, k / 1024}')
  echo "$row" >>"$tmp/rows"
  read -r _ _ w c mb <<<"$row"
  printf '%8s s wall %8s s cpu %6s MB  %-12s %s\n' "$w" "$c" "$mb" "$m" "$f" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p build
{
  echo "# Compile cost per translation unit"
  echo
  echo "\`$cxx -std=gnu++20 -O3 -DNDEBUG -fopenmp\` (examples also \`-march=native\`; compiled mode \`-DOMNI_KERNELS_PREBUILT\`)" \
       "${EXTRA_FLAGS:+plus \`$EXTRA_FLAGS\` }\`-c FILE\`, one at a time, on $(lscpu | awk -F': *' '/Model name/ {print $2; exit}')" \
       "($(nproc) cores), $(date -u +%F); load average $load_before before, $load_after after." \
       "CPU s is user + sys, what the compile costs on one core; wall s grows with the machine's load."
  echo
  echo "| translation unit | header-only CPU s | wall s | peak MB | compiled CPU s | wall s | peak MB |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  awk '{ key = $1; seen[key] = 1; if ($2 == "header-only") { h[key] = $4 " | " $3 " | " $5; hc[key] = $4 } else c[key] = $4 " | " $3 " | " $5 }
       END { for (k in seen) printf "%s\t| %s | %s | %s |\n", (k in hc ? hc[k] : -1), k, (k in h ? h[k] : "- | - | -"), (k in c ? c[k] : "- | - | -") }' \
    "$tmp/rows" | sort -t$'\t' -k1,1gr | cut -f2
} | tee build/compile_cost.md

over=$(awk -v s="$budget_s" -v m="$budget_mb" -v ds="$demo_budget_s" -v dm="$demo_budget_mb" -v demo="$demo" -v np="$noise_pct" '
  { bs = s; bm = m; if ($1 == demo && $2 == "compiled") { bs = ds; bm = dm }
    if ($4 > bs * (1 + np / 100) || $5 > bm) printf "  %s (%s): %s CPU s, %s MB; budget %s s (+%s%% for noise), %s MB\n", $1, $2, $4, $5, bs, np, bm }' "$tmp/rows")
near=$(awk -v ds="$demo_budget_s" -v demo="$demo" '$1 == demo && $2 == "compiled" && $4 > ds { printf "%s CPU s", $4 }' "$tmp/rows")
[[ -n "$near" ]] && echo "compile_cost: warning: $demo compiled took $near, over its ${demo_budget_s} s budget but within the ${noise_pct} % noise allowance" >&2
if [[ -n "$over" ]]; then
  echo "compile_cost: over budget:" >&2
  echo "$over" >&2
  exit 1
fi
((failed == 0)) || exit 1
echo "compile_cost: all within budget ($demo compiled: ${demo_budget_s} s, ${demo_budget_mb} MB; others: ${budget_s} s, ${budget_mb} MB)" >&2

#!/usr/bin/env bash
# Compile time and peak memory of each test translation unit built alone with Release flags.
# Header-only code is paid for in every TU that includes it, so this is where a heavy header
# shows up first. Runs one compile at a time: parallel compiles would skew both numbers.
#
# Usage: scripts/compile_cost.sh [file.cpp ...]   (default: tests/**/*.cpp minus install/, parity/)
# Env:   COMPILE_BUDGET_S (120), COMPILE_BUDGET_MB (3000): fail if any TU exceeds either;
#        CXX (g++), EXTRA_FLAGS (appended to the compile line).
# Output: a table sorted by wall time on stdout and in build/compile_cost.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
budget_s=${COMPILE_BUDGET_S:-120}
budget_mb=${COMPILE_BUDGET_MB:-3000}
cxx=${CXX:-g++}

# GNU time is the tool that reports peak RSS; Debian ships it as package `time`.
if [[ ! -x /usr/bin/time ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
  else
    echo "compile_cost: /usr/bin/time missing; install the Debian package 'time'" >&2
    exit 1
  fi
fi

if (($#)); then
  files=("$@")
else
  mapfile -t files < <(find tests -name '*.cpp' -not -path 'tests/install/*' -not -path 'tests/parity/*' | sort)
fi
(( ${#files[@]} )) || { echo "compile_cost: no files to measure" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rows=()
failed=0
for f in "${files[@]}"; do
  [[ -f "$f" ]] || { echo "compile_cost: no such file $f" >&2; failed=1; continue; }
  start=$(date +%s%N)
  # shellcheck disable=SC2086  # EXTRA_FLAGS is a list of flags
  if ! /usr/bin/time -v -o "$tmp/time" "$cxx" -std=c++20 -O2 -fopenmp -Iinclude -I/usr/include/eigen3 \
       ${EXTRA_FLAGS:-} -c "$f" -o /dev/null 2>"$tmp/err"; then
    echo "compile_cost: $f does not compile:" >&2
    head -20 "$tmp/err" >&2
    failed=1
    continue
  fi
  end=$(date +%s%N)
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
  secs=$(awk -v ns=$((end - start)) 'BEGIN {printf "%.1f", ns / 1e9}')
  mb=$((kb / 1024))
  rows+=("$secs $mb $f")
  printf '%8s s %6s MB  %s\n' "$secs" "$mb" "$f" >&2
done

mkdir -p build
{
  echo "# Compile cost per test TU"
  echo
  echo "\`$cxx -std=c++20 -O2 -fopenmp -Iinclude -I/usr/include/eigen3 ${EXTRA_FLAGS:+$EXTRA_FLAGS }-c FILE\`, one at a time," \
       "on $(lscpu | awk -F': *' '/Model name/ {print $2; exit}') ($(nproc) cores), $(date -u +%F)."
  echo
  echo "| translation unit | wall s | peak RSS MB |"
  echo "| --- | ---: | ---: |"
  for r in "${rows[@]}"; do echo "$r"; done | sort -k1,1nr | awk '{printf "| %s | %s | %s |\n", $3, $1, $2}'
} | tee build/compile_cost.md

over=$(for r in "${rows[@]}"; do echo "$r"; done |
  awk -v s="$budget_s" -v m="$budget_mb" '$1 > s || $2 > m {print "  " $3 ": " $1 " s, " $2 " MB"}')
if [[ -n "$over" ]]; then
  echo "compile_cost: over budget (${budget_s} s, ${budget_mb} MB):" >&2
  echo "$over" >&2
  exit 1
fi
((failed == 0)) || exit 1
echo "compile_cost: all within ${budget_s} s and ${budget_mb} MB" >&2

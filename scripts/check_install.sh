#!/usr/bin/env bash
# Installs omni into a throwaway prefix and builds tests/install against it with find_package, so
# the exported package works for a user who never sees this source tree, header-only and
# against the prebuilt omni::kernels.
# Env: KEEP=1 keeps the temp directory for inspection.
set -euo pipefail
trap 'echo "check_install: FAILED" >&2' ERR

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/omni-install.XXXXXX")
if [[ "${KEEP:-0}" == 1 ]]; then echo "keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

cmake -S "$root" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$tmp/prefix" \
  -DOMNI_BUILD_TESTS=OFF -DOMNI_BUILD_BENCHMARKS=OFF -DOMNI_BUILD_EXAMPLES=OFF -DOMNI_ENABLE_CUDA=OFF
cmake --build "$tmp/build" --target omni_kernels -j "${JOBS:-2}"
cmake --install "$tmp/build"

cmake -S "$root/tests/install" -B "$tmp/consumer" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tmp/prefix"
cmake --build "$tmp/consumer" -j "${JOBS:-2}"
"$tmp/consumer/omni_install_check"
"$tmp/consumer/omni_install_check_kernels"
echo "check_install: ok"

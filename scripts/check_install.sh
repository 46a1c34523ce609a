#!/usr/bin/env bash
# Installs omni into a throwaway prefix and builds tests/install against it with find_package, so
# the exported package works for a user who never sees this source tree, header-only and
# against the prebuilt omni::kernels; then the same check with the flags of the installed omni.pc.
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
# pkg-config: the installed omni.pc alone gives the flags for the header-only check (-O0: only
# the flags are under test, not the code).
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$(find "$tmp/prefix" -name omni.pc)")
pc_flags=$(pkg-config --cflags --libs omni)
# shellcheck disable=SC2086  # the flags are words
"${CXX:-c++}" -O0 "$root/tests/install/main.cpp" -o "$tmp/omni_install_check_pc" $pc_flags
"$tmp/omni_install_check_pc"
echo "check_install: ok"

#!/usr/bin/env bash
# omni vs PyTorch 2.x from PyPI, side by side in one session (benchmarks/vs_pytorch.py): ViT-B/32
# forward, forward + backward and AdamW step, long-sequence attention and the Omni-C tiny
# pretraining step; PyTorch eager fp32 (SDPA), bf16 autocast and torch.compile; omni in each
# precision this CPU has. Checks agreement first, then writes build-bench/results/vs_pytorch.md
# (docs/performance.md keeps the latest table).
#   scripts/vs_pytorch.sh [--avx2] [--reps N] [--batch N] [--no-compile] [--only ROW]
#   --avx2                   both sides as on an AVX2-only CPU: omni built with -march=haswell
#                            (build-bench-avx2) and OMNI_CPU_ISA=avx2; PyTorch with
#                            ATEN_CPU_CAPABILITY=avx2 and MKL_ENABLE_INSTRUCTIONS=AVX2
#   PYTHON=/path/to/python   an interpreter with torch >= 2 (default: a venv made here from PyPI)
#   TORCH_SPEC="torch==2.15.0"  what pip installs into that venv (PyPI's Linux wheel is the CUDA
#                                build: it downloads ~3 GB of NVIDIA libraries and runs on the CPU)
#   THREADS=2                threads for both sides
#   OPENBLAS_CORETYPE        for the omni::blas column (built when a BLAS is installed): OpenBLAS
#                            picks generic kernels on CPUs it does not recognise (virtual machines),
#                            so this script sets SkylakeX / Haswell from the CPU flags unless given
# Run it on a quiet machine: nothing else building or timing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench" flags=(-DOMNI_NATIVE=ON) out=vs_pytorch.md
if [ "${1:-}" = --avx2 ]; then
  shift
  build="$root/build-bench-avx2" flags=(-DOMNI_NATIVE=OFF "-DCMAKE_CXX_FLAGS=-march=haswell") out=vs_pytorch_avx2.md
  export OMNI_CPU_ISA=avx2 ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 OPENBLAS_CORETYPE=Haswell
fi
"$root/scripts/deps.sh" cmake g++ make libeigen3-dev libbenchmark-dev zlib1g-dev python3-venv
python=${PYTHON:-}
if [ -z "$python" ]; then
  venv="$root/build/pyvenv-torch2"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch, sys; sys.exit(int(torch.__version__.split(".")[0]) < 2)' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${TORCH_SPEC:-torch>=2}" numpy
  fi
  python="$venv/bin/python"
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOMNI_BUILD_TESTS=OFF -DOMNI_BUILD_EXAMPLES=OFF \
  -DOMNI_ENABLE_CUDA=OFF -DOMNI_BUILD_BENCHMARKS=ON "${flags[@]}" > /dev/null
cmake --build "$build" -j "${JOBS:-2}" --target vs_pytorch
blas=()
targets=$(cmake --build "$build" --target help)
if grep -q vs_pytorch_blas <<<"$targets"; then
  cmake --build "$build" -j "${JOBS:-2}" --target vs_pytorch_blas
  blas=(--omni-blas "$build/benchmarks/vs_pytorch_blas")
  if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
    elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
  fi
fi
mkdir -p "$build/results"
OMP_WAIT_POLICY=passive "$python" "$root/benchmarks/vs_pytorch.py" --omni "$build/benchmarks/vs_pytorch" "${blas[@]}" \
  --threads "${THREADS:-2}" --out "$build/results/$out" "$@"

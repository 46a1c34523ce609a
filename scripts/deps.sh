#!/usr/bin/env bash
# System packages omni's build, tests and demo need, from Debian. Root installs them (apt-get
# update once); anyone else gets the command to run. With arguments: only those packages.
set -euo pipefail
pkgs=(cmake g++ make libeigen3-dev xtensor-dev libcereal-dev rapidjson-dev libfftw3-dev libgtest-dev libgmock-dev
      libbenchmark-dev python3 python3-venv python3-torch python3-numpy time
      zlib1g-dev libstb-dev libjpeg-dev dataset-fashion-mnist wordnet-base espeak-ng python3-torchvision python3-torchaudio
      gnuplot-nox libtorch-dev libopenblas0-openmp pkgconf doxygen)
(($#)) && pkgs=("$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "omni needs: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

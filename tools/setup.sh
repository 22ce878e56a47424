#!/usr/bin/env bash
# Installs what terracl needs from Debian 12's packages (only what is
# missing), then configures and builds it in build/. Safe to run again: a
# machine that is already set up only rebuilds what changed.
#
#   tools/setup.sh            release build in build/
#   BUILD_DIR=x tools/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config git
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd mesa-opencl-icd clinfo
  libclblast-dev libhdf5-dev libcmocka-dev libyaml-dev libpng-dev libgdal-dev gdal-bin
  clang libclang-rt-14-dev
  libopenmpi-dev openmpi-bin
  python3 python3-h5py python3-numpy python3-yaml python3-torch
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "terracl setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR="${BUILD_DIR:-build}"
JOBS="$(nproc 2>/dev/null || echo 2)"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

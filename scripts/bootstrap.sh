#!/usr/bin/env bash
# Installs the Debian packages sigode needs (only those missing) and builds
# it into build/. Idempotent: a second run installs nothing and rebuilds
# only what changed.
#   scripts/bootstrap.sh [extra-package ...]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libsundials-dev libconfig-dev libcmocka-dev libgsl-dev libsbml5-dev cmake pkg-config gcc make
          gnuplot-nox libopenmpi-dev openmpi-bin
          liblapack-dev
          dpkg-dev xz-utils
          "$@")
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi

# An optimised SUNDIALS (Debian's own source, -O2), built once into .deps/
# (scripts/build-sundials.sh says why); SIGODE_SYSTEM_SUNDIALS=1 skips it.
if [ "${SIGODE_SYSTEM_SUNDIALS:-0}" != 1 ]; then
  if ! scripts/build-sundials.sh >/dev/null; then
    echo "bootstrap: using Debian's libsundials (built without optimisation: dense solves are about 3x slower)" >&2
  fi
fi

build=${SIGODE_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

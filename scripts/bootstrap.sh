#!/usr/bin/env bash
# Installs the Debian packages sigode needs (only those missing) and builds
# it into build/. Idempotent: a second run installs nothing and rebuilds
# only what changed. Works on a bare Debian 12 root (debootstrap
# --variant=minbase) as root, or with sudo. Says what it does on standard
# error; stops with a message and a non-zero status when apt fails.
#   scripts/bootstrap.sh [extra-package ...]
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "bootstrap: $*" >&2; }

# One package per line (easy to merge); why, when it is not obvious.
packages=(
  gcc
  make
  cmake
  pkg-config
  libsundials-dev
  libconfig-dev
  libgsl-dev
  libsbml5-dev
  libxml2-dev      # libsbml.pc says Requires.private: libxml-2.0; libsbml5-dev does not pull it in
  libcmocka-dev
  liblapack-dev
  libopenblas0-serial  # dense LU of 32+ states (src/util/lapack.c): 1.7-5x faster than SUNDIALS'; one thread, none spinning
  libyaml-dev      # PEtab problem files
  libnlopt-dev     # sigode fit, profile: L-BFGS, SLSQP
  python3          # the error corpus and output-safety tests
  gnuplot-nox      # --plot
  graphviz         # graph --format svg|png, and its tests
  dpkg-dev         # scripts/build-sundials.sh: dpkg-source
  xz-utils         # scripts/build-sundials.sh: the source tarball
  scdoc            # the man page sigode(1)
  man-db           # the install test renders the man page with man -l
  groff-base
  bash-completion  # the completion is installed where its pkg-config file says
  libopenmpi-dev   # sigode ensemble/gsa across MPI ranks (SIGODE_MPI)
  openmpi-bin      # mpirun for the MPI tests
  "$@"
)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
apt_install() {
  $sudo apt-get install -y --no-install-recommends "$@"
}
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  # a bare root has no package lists yet; a stale list may name versions
  # the mirror no longer has
  log "apt-get update"
  if ! $sudo apt-get update >&2; then
    log "ERROR: apt-get update failed (network? /etc/apt/sources.list?)"
    exit 1
  fi
  if ! apt_install "${missing[@]}" >&2; then
    # Known on a bare Debian 12: the first install of libsundials-dev stops
    # in a post-install script ("update-alternatives: error: no
    # alternatives for petsc"); configuring the unpacked packages again
    # gets past it.
    log "apt-get install failed; configuring the unpacked packages and retrying once" \
        "(known: libsundials-dev's petsc update-alternatives on a fresh system)"
    $sudo dpkg --configure -a >&2 || true
    if ! apt_install "${missing[@]}" >&2; then
      log "ERROR: apt-get install failed twice: ${missing[*]}"
      exit 1
    fi
  fi
  log "installed ${missing[*]}"
else
  log "all ${#packages[@]} packages are installed"
fi

# An optimised SUNDIALS (Debian's own source, -O2), built once into .deps/
# (scripts/build-sundials.sh says why); SIGODE_SYSTEM_SUNDIALS=1 skips it.
if [ "${SIGODE_SYSTEM_SUNDIALS:-0}" != 1 ]; then
  if ! scripts/build-sundials.sh >/dev/null; then
    log "using Debian's libsundials (built without optimisation: dense solves are about 3x slower)"
  fi
fi

build=${SIGODE_BUILD_DIR:-build}
log "configuring $build/ (cmake)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
log "building $build/ with $(nproc) jobs"
cmake --build "$build" -j"$(nproc)" >/dev/null
log "built $build/sigode"

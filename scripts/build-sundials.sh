#!/usr/bin/env bash
# Builds an optimised copy of the SUNDIALS that Debian ships, from Debian's
# own source package, for sigode to link statically.
#
# Why: Debian 12's libsundials 6.4.1 is compiled without optimisation (its
# N_VWrmsNorm_Serial is -O0 code: frame pointer, every value spilled), which
# makes every dense LU factorisation about 3x slower than an -O2 build of the
# same source. This builds the same version (the bookworm source package
# that libsundials-dev was built from, Debian's patches applied) with -O2,
# only the modules sigode uses: CVODE, CVODES, IDA, KINSOL, serial vectors,
# dense and sparse matrices, dense and KLU linear solvers (KLU from Debian's
# SuiteSparse). No system file is changed: the deb-src list and apt's state
# for it live in the build folder.
#
#   scripts/build-sundials.sh [PREFIX]      default: .deps/sundials
#
# Prints PREFIX on stdout when it holds a usable build (built now or
# before: a stamp file names the source version and the options), and exits
# non-zero with a message on stderr when it cannot build (no network, no
# deb-src, a compile error); scripts/bootstrap.sh then keeps Debian's
# library and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${1:-.deps/sundials}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
work="$prefix.build"
log() { echo "build-sundials: $*" >&2; }

# The version of the installed libsundials-dev: the source must be the same
# one, so headers and behaviour match what the rest of Debian links against.
version=$(dpkg-query -W -f='${Version}' libsundials-dev 2>/dev/null || true)
if [ -z "$version" ]; then
  log "libsundials-dev is not installed; nothing to match"
  exit 1
fi
options="O2 static PIC cvode cvodes ida kinsol klu index64"
stamp="$prefix/.sigode-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version $options" ] &&
   [ -f "$prefix/lib/libsundials_cvodes.a" ]; then
  echo "$prefix"
  exit 0
fi

rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/archives/partial"
echo "deb-src http://deb.debian.org/debian bookworm main" > "$work/sources.list"
apt_opts=(-q -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
          -o APT::Sandbox::User=root)
log "fetching Debian's source of sundials $version"
if ! apt-get "${apt_opts[@]}" update >"$work/apt.log" 2>&1; then
  log "apt-get update of the deb-src list failed (see $work/apt.log)"
  exit 1
fi
if ! (cd "$work" && apt-get "${apt_opts[@]}" source --download-only "sundials=$version") >>"$work/apt.log" 2>&1; then
  log "apt-get source sundials=$version failed (see $work/apt.log)"
  exit 1
fi
dsc=$(ls "$work"/sundials_*.dsc | head -n1)
if ! dpkg-source -x "$dsc" "$work/src" >>"$work/apt.log" 2>&1; then
  log "dpkg-source -x failed (see $work/apt.log)"
  exit 1
fi

log "building SUNDIALS $version with -O2 (CVODE, CVODES, IDA, KINSOL, KLU) into $prefix"
jobs=$(nproc 2>/dev/null || echo 2)
if ! cmake -S "$work/src" -B "$work/build" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
      -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
      -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
      -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON \
      -DBUILD_ARKODE=OFF -DBUILD_CVODE=ON -DBUILD_CVODES=ON -DBUILD_IDA=ON -DBUILD_IDAS=OFF \
      -DBUILD_KINSOL=ON -DBUILD_FORTRAN_MODULE_INTERFACE=OFF \
      -DENABLE_KLU=ON -DKLU_INCLUDE_DIR=/usr/include/suitesparse \
      -DKLU_LIBRARY_DIR="/usr/lib/$(gcc -print-multiarch)" \
      -DEXAMPLES_ENABLE_C=OFF -DEXAMPLES_ENABLE_CXX=OFF -DEXAMPLES_INSTALL=OFF \
      -DSUNDIALS_INDEX_SIZE=64 >"$work/build.log" 2>&1 ||
   ! cmake --build "$work/build" -j"$jobs" >>"$work/build.log" 2>&1 ||
   ! cmake --install "$work/build" >>"$work/build.log" 2>&1; then
  log "the SUNDIALS build failed (see $work/build.log)"
  exit 1
fi
echo "$version $options" > "$stamp"
rm -rf "$work/src" "$work/build" "$work/archives"
log "done"
echo "$prefix"

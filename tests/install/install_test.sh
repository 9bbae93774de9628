#!/usr/bin/env bash
# cmake --install into a temporary prefix, then use what it installed as an
# outsider would: a C program built with `pkg-config --cflags --libs sigode`
# alone, a CMake project with find_package(sigode), the man page rendered by
# man -l, the bash completion loaded by bash-completion, bin/sigode run.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sigode-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install test: FAIL: $*" >&2; exit 1; }
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
libdir=$(dirname "$(find "$prefix" -name libsigode.a -print -quit)")
[ -n "$libdir" ] || fail "no libsigode.a under $prefix"
for f in bin/sigode include/sigode.h share/man/man1/sigode.1 \
         share/bash-completion/completions/sigode; do
  [ -f "$prefix/$f" ] || fail "$f not installed"
done
for f in libsigode.so libsigode.a pkgconfig/sigode.pc cmake/sigode/sigodeConfig.cmake \
         sigode/sigode-sbml.so; do
  [ -e "$libdir/$f" ] || fail "$libdir/$f not installed"
done
# every module the build made (SBML; MPI in a build with it), in <libdir>/sigode
for m in "$build"/modules/*.so; do
  [ -f "$libdir/sigode/$(basename "$m")" ] || fail "module $(basename "$m") not installed in $libdir/sigode"
done
soname=$(objdump -p "$libdir/libsigode.so" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libsigode.so.0 ] || fail "SONAME is '$soname', expected libsigode.so.0"
[ -e "$libdir/$soname" ] || fail "$soname not installed"
echo "installed: bin/sigode, $(basename "$(readlink -f "$libdir/libsigode.so")") (SONAME $soname), libsigode.a, sigode.pc, sigodeConfig.cmake, sigode.1, completion"

# a model of A -> B, rate k*A, written here
cat >"$tmp/decay.cfg" <<'MODEL'
name = "decay";
parameters = ( { id = "k"; value = 1.0; } );
species = ( { id = "A"; initial = 1.0; }, { id = "B"; initial = 0.0; } );
reactions = ( { id = "r"; equation = "A -> B"; rate = "k * A"; } );
MODEL

# 1. pkg-config alone
flags=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs sigode) ||
  fail "pkg-config --cflags --libs sigode"
echo "pkg-config --cflags --libs sigode: $flags"
# shellcheck disable=SC2086 # the flags are words
cc -o "$tmp/decay" "$src/tests/install/decay.c" $flags || fail "cc decay.c $flags"
# (with the SBML round trip: libsigode.so opens <libdir>/sigode/sigode-sbml.so)
LD_LIBRARY_PATH=$libdir "$tmp/decay" "$tmp/decay.cfg" "$tmp/decay.xml" || fail "the pkg-config program"
# ldd's whole output first: `ldd | grep -q` under pipefail fails at random
# when grep exits early and ldd dies of SIGPIPE
linked=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/decay")
grep -q "libsigode.so.0 => $libdir" <<<"$linked" || fail "the program is not linked to the installed libsigode.so.0"

# 1b. the static library, with pkg-config --static (its Libs.private: the
# optimised static SUNDIALS, with the renamed CVODES copy beside CVODE)
sflags=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --static --cflags --libs sigode) ||
  fail "pkg-config --static --cflags --libs sigode"
sflags=${sflags//-lsigode /$libdir/libsigode.a }
# shellcheck disable=SC2086 # the flags are words
cc -o "$tmp/decay_static" "$src/tests/install/decay.c" $sflags ||
  fail "cc decay.c $sflags (static libsigode.a)"
# (no SBML: a static program finds no module beside a library of its own)
"$tmp/decay_static" "$tmp/decay.cfg" || fail "the statically linked program"

# 2. find_package(sigode)
mkdir -p "$tmp/cmake"
cat >"$tmp/cmake/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(decay C)
find_package(sigode 0.1 REQUIRED)
add_executable(decay $src/tests/install/decay.c)
target_link_libraries(decay PRIVATE sigode::sigode m)
CMAKE
cmake -S "$tmp/cmake" -B "$tmp/cmake/build" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cmake.log" 2>&1 &&
  cmake --build "$tmp/cmake/build" >>"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "find_package(sigode)"; }
"$tmp/cmake/build/decay" "$tmp/decay.cfg" "$tmp/decay2.xml" || fail "the find_package program"

# 3. the man page renders, with its sections and every command
page=$(MANWIDTH=80 man -l "$prefix/share/man/man1/sigode.1" 2>"$tmp/man.err" | col -b) || fail "man -l"
[ ! -s "$tmp/man.err" ] || { cat "$tmp/man.err"; fail "man -l warned"; }
for want in SYNOPSIS COMMANDS OPTIONS "EXIT STATUS" EXAMPLES "sigode scan MODEL --target NAME"; do
  grep -q "$want" <<<"$page" || fail "the rendered man page lacks '$want'"
done
for cmd in $("$prefix/bin/sigode" help --options | cut -f1 | uniq); do
  # its synopsis: "sigode run MODEL ...", "sigode petab evaluate PROBLEM.yaml ..."
  grep -qE "sigode $cmd (MODEL|PROBLEM|evaluate)" <<<"$page" ||
    fail "the rendered man page lacks the synopsis 'sigode $cmd ...'"
done

# 4. the installed binary and completion
"$prefix/bin/sigode" run "$tmp/decay.cfg" --t-end 1 --points 2 --select A >"$tmp/run.csv" || fail "bin/sigode run"
grep -q '^1,0.36787' "$tmp/run.csv" || fail "bin/sigode run: $(cat "$tmp/run.csv")"
# its SBML module, found from bin/ in <libdir>/sigode
"$prefix/bin/sigode" convert "$tmp/decay.cfg" --to sbml --output "$tmp/bin.xml" || fail "bin/sigode convert --to sbml"
"$prefix/bin/sigode" run "$tmp/bin.xml" --t-end 1 --points 2 --select A >"$tmp/run-sbml.csv" || fail "bin/sigode run of SBML"
cmp -s "$tmp/run.csv" "$tmp/run-sbml.csv" || fail "bin/sigode: the SBML round trip changed the run"
words=$(PATH=$prefix/bin:$PATH bash -c '
  source /usr/share/bash-completion/bash_completion
  source "$1/share/bash-completion/completions/sigode"
  complete_line() { COMP_LINE=$1; COMP_POINT=${#1}; read -ra COMP_WORDS <<<"$1"
    [[ $1 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _sigode; echo "${COMPREPLY[*]}"; }
  complete_line "sigode run $2 --sel"
  complete_line "sigode run $2 --select A,"
  complete_line "sigode run $2 --format "' _ "$prefix" "$tmp/decay.cfg")
[ "$words" = $'--select\nA,default A,A A,B A,k\ncsv tsv json' ] || fail "completion from the installed files gave: $words"
echo "install test: ok"

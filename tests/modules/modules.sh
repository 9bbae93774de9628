#!/bin/bash
# Modules (src/util/module.c): libsbml is loaded only by what reads or
# writes SBML, from the SBML module beside the program, and Open MPI only
# in a process started as one of several ranks (the MPI module); a program
# without its modules, or with a module of another build, says so and
# exits 2, and still runs model files. The dynamic loader's own log
# (LD_DEBUG=files) tells which libraries a process loaded.
#   modules.sh SIGODE SOURCE_DIR MODULES_FROM_BIN FOREIGN_MODULE UNRESOLVED_MODULE MPI(0|1)
set -euo pipefail
sigode=$1; src=$2; from_bin=$3; foreign=$4; unresolved=$5; with_mpi=$6
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export SIGODE_CACHE_DIR=$work/cache
fail() { echo "FAIL: $*"; exit 1; }
m=$src/models/examples/michaelis_menten.cfg
# refused WHAT PATTERN COMMAND...: the command exits 2 and its message
# matches PATTERN (grep -E)
refused() {
  local what=$1 pattern=$2 rc; shift 2
  set +e; "$@" 2>"$work/err.txt" >/dev/null; rc=$?; set -e
  [ "$rc" = 2 ] || fail "$what: exit $rc, expected 2"
  grep -qE "$pattern" "$work/err.txt" || fail "$what: $(cat "$work/err.txt")"
}
loaded() { # the libraries the command "$@" loaded, one per line
  LD_DEBUG=files "$@" 2>&1 >/dev/null | sed -n 's/.*file=\([^ ]*\) .*/\1/p' | sort -u
}

# 1. a model file: no libsbml (nor libxml2 and ICU, which it pulls in; not
# libstdc++, which the sanitizer runtime needs too), no Open MPI
libs=$(loaded "$sigode" run "$m" --t-end 10 --points 11 --output "$work/run.csv")
[ -n "$libs" ] || fail "LD_DEBUG=files printed nothing"
! grep -E 'libsbml|libxml2|libicu|sigode-sbml|libmpi|libopen-|sigode-mpi' <<<"$libs" ||
  fail "a run of a model file loaded the libraries above"

# 2. SBML out and in: the module and libsbml are loaded, the round trip holds
libs=$(loaded "$sigode" convert "$m" --to sbml --output "$work/mm.xml")
grep -q 'sigode-sbml\.so' <<<"$libs" || fail "convert --to sbml did not load the SBML module"
grep -q 'libsbml' <<<"$libs" || fail "convert --to sbml did not load libsbml"
grep -q '<sbml ' "$work/mm.xml" || fail "convert --to sbml wrote no SBML"
"$sigode" run "$work/mm.xml" --t-end 10 --points 11 --output "$work/back.csv" ||
  fail "run of the SBML written"
cmp -s "$work/run.csv" "$work/back.csv" || fail "the SBML round trip changed the run"

# 3. a warm translation cache does not load libsbml (small files are cached
# only with SIGODE_SBML_CACHE=1)
export SIGODE_SBML_CACHE=1
"$sigode" check "$work/mm.xml" >/dev/null
ls "$work/cache" | grep -q '^sbml-' || fail "no translation cached"
libs=$(loaded "$sigode" check "$work/mm.xml")
! grep -E 'libsbml|sigode-sbml' <<<"$libs" || fail "a cache hit loaded the libraries above"
unset SIGODE_SBML_CACHE

# 4. the program alone, without its modules: SBML is an error naming where
# the module was looked for, exit 2; model files still run
mkdir -p "$work/bin"
cp "$sigode" "$work/bin/sigode"
want="$work/bin/$from_bin/sigode-sbml.so"
refused "without its module" "module sigode-sbml\.so, which is not at $want" \
  "$work/bin/sigode" check "$work/mm.xml"
"$work/bin/sigode" run "$m" --t-end 10 --points 11 --output "$work/alone.csv" ||
  fail "without its modules, a model file does not run"
cmp -s "$work/run.csv" "$work/alone.csv" || fail "without its modules, the run differs"
if [ "$with_mpi" = 1 ]; then
  # started as one of 3 ranks: the MPI module is needed, and missing
  refused "without its MPI module, under a launcher" \
    "module sigode-mpi\.so, which is not at $work/bin/$from_bin/sigode-mpi\.so" \
    env OMPI_COMM_WORLD_SIZE=3 "$work/bin/sigode" scan "$m" --target S --values 1,2
fi

# 5. a module of another build where the program looks: refused, exit 2
mkdir -p "$work/bin/$from_bin"
cp "$foreign" "$want"
refused "with a foreign module" "was built by another build of sigode; it is not used" \
  "$work/bin/sigode" convert "$m" --to sbml

# 6. a module needing a symbol the program lacks: refused when opened
# (RTLD_NOW), with the loader's message, exit 2, no crash
cp "$unresolved" "$want"
refused "with a module lacking a symbol" \
  "cannot load sigode's module $want: .*sg_no_such_function_in_sigode" \
  "$work/bin/sigode" convert "$m" --to sbml
echo "modules: ok"

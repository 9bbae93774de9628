#!/usr/bin/env bash
# Every BioModel of ../shared/biomodels/ imports (`sigode info`), integrates
# over the span listed in tests/sbml/biomodels.tsv without a NaN, and exports
# as SBML Level 3 Version 2 that libsbml validates and sigode reads back.
#   tests/sbml/biomodels.sh SIGODE BIOMODELS_DIR
set -euo pipefail
sigode=$1
dir=$2
table="$(dirname "$0")/biomodels.tsv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
while IFS=$'\t' read -r id t_end unit what; do
  case "$id" in ''|'#'*) continue ;; esac
  model="$dir/$id.xml"
  why=""
  if ! "$sigode" info "$model" >"$tmp/info" 2>"$tmp/err"; then
    why="info: $(head -1 "$tmp/err")"
  elif ! "$sigode" run "$model" --t-end "$t_end" --points 101 --output "$tmp/run.csv" 2>"$tmp/err"; then
    why="run: $(head -1 "$tmp/err")"
  elif grep -qi 'nan' "$tmp/run.csv"; then
    why="run: NaN in the output"
  elif ! "$sigode" convert "$model" --to sbml --output "$tmp/out.xml" 2>"$tmp/err"; then
    why="export: $(head -1 "$tmp/err")"
  elif ! "$sigode" check "$tmp/out.xml" 2>"$tmp/err"; then
    why="re-import: $(head -1 "$tmp/err")"
  fi
  if [ -z "$why" ]; then
    passed=$((passed + 1))
    echo "PASS  $id  0..$t_end $unit: $(sed -n 's/^\([0-9]* compartments, .*\)/\1/p' "$tmp/info" | head -1)"
  else
    failed=$((failed + 1))
    echo "FAIL  $id  $why"
  fi
done <"$table"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Valgrind memcheck of the command line on every shipped model
# (models/*.cfg, models/examples/*.cfg): check, info, the default run, a run
# of each scenario, verify, sensitivities (sens, steady --sens), and a run
# on the native backend (compiled C
# loaded with dlopen; the compiler itself runs outside valgrind). Passes only with 0 errors and 0 bytes
# definitely lost in every run.
#   scripts/memcheck.sh [SIGODE_BINARY]      (default: build/sigode)
# Jobs in parallel: SIGODE_MEMCHECK_JOBS (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
sigode=${1:-${SIGODE_BUILD_DIR:-build}/sigode}
[ -x "$sigode" ] || { echo "memcheck.sh: no binary $sigode (build first)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "memcheck.sh: valgrind is not installed" >&2; exit 2; }
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export SIGODE_CACHE_DIR="$logs/native-cache"

# one command line per run: MODEL ARGS...
list="$logs/runs"
: >"$list"
for model in models/*.cfg models/examples/*.cfg; do
  [ -f "$model" ] || continue
  printf '%s\n' "check $model" "info $model" "run $model" "verify $model" \
    "run $model --backend native" "sens $model" "steady $model --sens" >>"$list"
  scenarios=$("$sigode" info "$model" | sed -n 's/^scenarios: *//p')
  for s in $scenarios; do
    printf '%s\n' "run $model --scenario $s" >>"$list"
  done
done

# Runs one command under memcheck; prints a line, fails on any error.
one() {
  local n=$1; shift
  local log="$logs/$n.log"
  valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
    --suppressions=tests/robustness/valgrind.supp \
    --error-exitcode=99 --log-file="$log" "$sigode" "$@" >/dev/null 2>&1
  local rc=$?
  local errors lost
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tr -d ,)
  lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d ,)
  lost=${lost:-0}
  if [ "$rc" -eq 99 ] || [ "${errors:-1}" != 0 ] || [ "$lost" != 0 ]; then
    echo "FAIL sigode $* ($errors errors, $lost bytes definitely lost)"
    sed -n '/^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|definitely lost\|Mismatched\|overlap\)/,/^==[0-9]*== $/p' "$log" | head -40
    return 1
  fi
  echo "ok   sigode $*"
}
export -f one
export sigode logs

jobs=${SIGODE_MEMCHECK_JOBS:-$(nproc)}
total=$(wc -l <"$list")
set +e
nl -ba "$list" | xargs -P "$jobs" -L 1 bash -c 'one "$@"' _ >"$logs/summary"
set -e
sort -k2 "$logs/summary" | sed 's/^/memcheck: /'
failed=$(grep -c '^FAIL' "$logs/summary" || true)
echo "memcheck: $((total - failed)) of $total runs with 0 errors and 0 bytes definitely lost"
[ "$failed" -eq 0 ]

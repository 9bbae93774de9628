#!/usr/bin/env bash
# Runs a libFuzzer target for a given time.
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer options...]
# TARGET: fuzz_expr (expression parser, binder, derivative, compiler),
#         fuzz_load (model loader from a buffer), fuzz_cli (argument vectors),
#         fuzz_sbml (SBML importer), fuzz_events (event tables on a small
#         model), fuzz_plot (plot labels through gnuplot).
# Builds the target with clang, ASan and UBSan into build-fuzz/ (override
# with SIGODE_FUZZ_DIR), seeds it from tests/fuzz/seeds, the fuzz
# regressions, the shipped models and the error corpus (for fuzz_expr: the
# expressions found in those files), and keeps the growing corpus in
# build-fuzz/corpus/TARGET. Inputs that fail are saved in
# build-fuzz/artifacts/TARGET/; copy each into tests/fuzz/regressions/TARGET/
# once fixed, so the test suite replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: scripts/fuzz.sh fuzz_expr|fuzz_load|fuzz_cli|fuzz_sbml|fuzz_events|fuzz_plot SECONDS [libFuzzer options...]" >&2
  exit 2
fi
target=$1 seconds=$2
shift 2
case "$target" in
  fuzz_expr|fuzz_load|fuzz_cli|fuzz_sbml|fuzz_events|fuzz_plot) ;;
  *) echo "fuzz.sh: unknown target '$target' (fuzz_expr, fuzz_load, fuzz_cli, fuzz_sbml, fuzz_events or fuzz_plot)" >&2; exit 2 ;;
esac
case "$seconds" in
  ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;;
esac
command -v clang >/dev/null || scripts/bootstrap.sh clang

dir=${SIGODE_FUZZ_DIR:-build-fuzz}
if [ ! -f "$dir/CMakeCache.txt" ]; then
  CC=clang cmake -S tests/fuzz -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGODE_SANITIZE=ON \
    -DSIGODE_FUZZ=ON -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
fi
cmake --build "$dir" -j"$(nproc)" --target "$target" >"$dir/build.log" 2>&1 ||
  { tail -n 30 "$dir/build.log" >&2; exit 1; }
binary=$(find "$dir" -type f -name "$target" -perm -u+x | head -n1)

corpus="$dir/corpus/$target"
artifacts="$dir/artifacts/$target"
seeds="$dir/seeds/$target"
mkdir -p "$corpus" "$artifacts"
rm -rf "$seeds"
mkdir -p "$seeds"
cp tests/fuzz/seeds/"$target"/* "$seeds"/ 2>/dev/null || true
cp tests/fuzz/regressions/"$target"/* "$seeds"/ 2>/dev/null || true
models=$(ls models/*.cfg models/examples/*.cfg tests/robustness/corpus/*.cfg 2>/dev/null || true)
if [ "$target" != fuzz_load ] && [ "$target" != fuzz_expr ]; then
  : # seeds of their own only (tests/fuzz/seeds/TARGET)
elif [ "$target" = fuzz_load ]; then
  for f in $models; do cp "$f" "$seeds/$(echo "$f" | tr / _)"; done
else
  # every quoted rate law, assignment, initial value and check expression
  # (one file each, at most 200 per model)
  for f in $models; do
    grep -ohE '(rate|value|initial|body|expect)[[:space:]]*=[[:space:]]*"[^"]*"' "$f" 2>/dev/null |
      head -n 200 | sed -E 's/^[a-z]+[[:space:]]*=[[:space:]]*"(.*)"$/\1/' |
      awk -v out="$seeds/$(basename "$f" .cfg)" '{ f = out "_" NR ".txt"; printf "%s", $0 > f; close(f) }' ||
      true # (a file without expressions)
  done
fi

max_len=8192
[ "$target" = fuzz_load ] && max_len=32768
log="$dir/$target.log"
echo "fuzz.sh: running $target for ${seconds}s (log: $log)" >&2
set +e
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS=suppressions=$PWD/tests/robustness/lsan.supp:print_suppressions=0 \
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
  -print_final_stats=1 $( [ -f tests/fuzz/"$target".dict ] && echo -dict=tests/fuzz/"$target".dict) -artifact_prefix="$artifacts/" \
  "$@" "$corpus" "$seeds" >"$log" 2>&1
rc=$?
set -e
execs=$(grep -h 'stat::number_of_executed_units' "$log" 2>/dev/null | awk '{s += $2} END {print s + 0}')
found=$(ls "$artifacts" 2>/dev/null | wc -l)
echo "fuzz.sh: $target: $execs executions in ${seconds}s, corpus $(ls "$corpus" | wc -l) inputs," \
  "$found failing inputs in $artifacts (exit $rc)" >&2
[ "$rc" -eq 0 ] && [ "$found" -eq 0 ]

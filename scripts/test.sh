#!/usr/bin/env bash
# Runs every test: builds if needed, then the whole CTest suite (unit
# tests, model checks, CLI end-to-end, error corpus); then the same suite
# built with AddressSanitizer and UndefinedBehaviorSanitizer, and a
# valgrind memcheck of the command line on every shipped model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
build=${SIGODE_BUILD_DIR:-build}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"

# Sanitizers: the whole suite again, built with ASan + UBSan
# (SIGODE_SANITIZE=ON) in its own directory. LeakSanitizer ignores
# libconfig's own leak after a syntax error (tests/robustness/lsan.supp).
scripts/bootstrap.sh valgrind
asan=${SIGODE_ASAN_DIR:-build-asan}
if [ ! -f "$asan/CMakeCache.txt" ]; then
  cmake -S . -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGODE_SANITIZE=ON >/dev/null
fi
cmake --build "$asan" -j"$(nproc)" >/dev/null
ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1 \
LSAN_OPTIONS=suppressions=$PWD/tests/robustness/lsan.supp:print_suppressions=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$asan" --output-on-failure -j"$(nproc)"

# Valgrind memcheck of the (unsanitized) command line on every shipped model
scripts/memcheck.sh "$build/sigode"

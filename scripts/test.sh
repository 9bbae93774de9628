#!/usr/bin/env bash
# Runs every test: builds if needed, then the whole CTest suite (unit
# tests, model checks, CLI end-to-end, error corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
build=${SIGODE_BUILD_DIR:-build}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"

#!/usr/bin/env bash
# sigode's benchmark suite in one command, from a clean clone:
#   scripts/bench/run.sh [--quick] [bench.py options]
# Installs what it needs from Debian (through scripts/bootstrap.sh), builds
# sigode and the benchmark drivers into build-bench/, runs every part and
# prints the table (also in build-bench/results/report.txt, with the raw
# figures in results.json). The full run takes about half an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap.sh python3-scipy python3-sympy python3-numpy r-cran-desolve
exec /usr/bin/python3 scripts/bench/bench.py "$@"

#!/usr/bin/env bash
# The main job: build if needed, then ask the calcineurin/ER-alpha model
# what FK506 does at each dose after 24 h (41 doses, 0.01..1000 nM), fit a
# Hill curve to every readout and draw the dose-response to fk506_scan.png.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
build=${SIGODE_BUILD_DIR:-build}
out=${1:-fk506_scan}
"$build/sigode" scan models/calcineurin_er.cfg --target FK506 \
  --from 0.01 --to 1000 --points 41 --log \
  --readout CaN_active,ER_total,pS294_fraction,TG --at 24 \
  --fit hill --fit-output "${out}_fit.csv" --plot "$out.png" --output "$out.csv"
column -s, -t < "$out.csv" 2>/dev/null || cat "$out.csv"
echo "table: $out.csv   fits: ${out}_fit.csv   plot: $out.png" >&2

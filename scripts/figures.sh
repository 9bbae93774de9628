#!/usr/bin/env bash
# Regenerates the pictures shown in README.md (docs/figures/*.png) from the
# two shipped models. Needs gnuplot and Graphviz (scripts/bootstrap.sh).
#   scripts/figures.sh [path/to/sigode]
set -euo pipefail
cd "$(dirname "$0")/.."
sigode=${1:-build/sigode}
out=docs/figures
mkdir -p "$out"
cer=models/calcineurin_er.cfg
mir=models/mir181c_bbb.cfg

# calcineurin_er: a run with FK506 added at 24 h, panels by unit and magnitude
"$sigode" run $cer --scenario baseline --event 24:FK506=10 --output /dev/null \
  --plot $out/calcineurin_run.png
# the FK506 dose response with bounded Hill fits and IC50s
"$sigode" run $cer --scenario fk506_dose_response --select ER_total,CaN_active,pS294_fraction,TG \
  --fit hill --output /dev/null --plot $out/calcineurin_scan.png 2>/dev/null
# FK506 x rapamycin (they compete for FKBP12): readout, Bliss, Loewe, HSA
"$sigode" scan $cer --target FK506 --values 0,0.03,0.1,0.3,1,3,10,30 \
  --target2 rapamycin --values2 0,0.03,0.1,0.3,1,3,10,30 --readout CaN_active --t-end 24 \
  --synergy bliss,loewe,hsa --output /dev/null --plot $out/calcineurin_combination.png 2>/dev/null
"$sigode" graph $cer --format png --output $out/calcineurin_graph.png
# uncertainty: the FK506 dose response as median and 90% band over 256 samples
# of every [A] parameter, and the Sobol indices at 24 h under FK506 10 nM
"$sigode" ensemble $cer --scenario fk506_dose_response --samples 256 --readout ER_rel,TG,CaN_rel \
  --fit hill --jobs 2 --output /dev/null --plot $out/calcineurin_ensemble.png 2>/dev/null
"$sigode" gsa $cer --method sobol --sampler lhs --scenario fk506_10nM --readout ER_rel@24,TG@24 \
  --samples 512 --jobs 2 --output /dev/null --plot $out/calcineurin_sobol.png 2>/dev/null
# calibration: the fit to Dauvois 1992 / Saceda 1988 and the profile likelihoods
scripts/calibrate-models.sh --sigode "$sigode" --out build/calibration calcineurin_er >/dev/null
cp build/calibration/calcineurin_er_fit_fit.png $out/calcineurin_fit.png
cp build/calibration/calcineurin_er_profile.png $out/calcineurin_profile.png

# mir181c_bbb: exosome uptake then antagomir, log-y
"$sigode" run $mir --scenario ev_then_antimir --log-y --output /dev/null \
  --plot $out/mir181c_run.png
"$sigode" run $mir --scenario ev_dose_response --fit hill --output /dev/null \
  --plot $out/mir181c_scan.png 2>/dev/null
"$sigode" graph $mir --format png --output $out/mir181c_graph.png
echo "figures: $(ls $out/*.png | wc -l) pictures in $out"

#!/bin/sh
# Throughput of `sigode ensemble` on the calcineurin model's FK506
# dose-response (41 doses per sample, each sample pre-equilibrated), in
# simulations per second, measured side by side: 1 process x 1 thread,
# 1 process x 2 threads, 2 MPI ranks x 1 thread; then an estimate for 10^7
# simulations on 1000 cores from the measured cost per simulation and the
# size of the messages (one record per sample to rank 0).
# usage: scripts/bench/ensemble.sh [SIGODE] [SAMPLES]
set -eu
sigode=${1:-build/sigode}
samples=${2:-400}
model=models/calcineurin_er.cfg
args="ensemble $model --scenario fk506_dose_response --samples $samples --readout ER_total --fit hill --preequilibrate"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
now() { date +%s.%N; }
run() { # label, command...
    label=$1; shift
    t0=$(now)
    "$@" > "$out/$label.csv" 2> "$out/$label.err"
    t1=$(now)
    python3 -c "
s=$samples*41; t=$t1-$t0
print('%-22s %7.2f s  %8.0f simulations/s' % ('$label', t, s/t))"
    echo "$t1 - $t0" | bc > "$out/$label.time"
}
echo "calcineurin FK506 dose-response ensemble: $samples samples x 41 doses"
run "1 process x 1 thread" "$sigode" $args --jobs 1
run "1 process x 2 threads" "$sigode" $args --jobs 2
run "2 ranks x 1 thread" mpirun --allow-run-as-root --oversubscribe -np 2 "$sigode" $args --jobs 1
cmp -s "$out/1 process x 1 thread.csv" "$out/2 ranks x 1 thread.csv" && echo "outputs identical"
t1=$(cat "$out/1 process x 1 thread.time"); t2=$(cat "$out/1 process x 2 threads.time")
tm=$(cat "$out/2 ranks x 1 thread.time")
python3 - "$t1" "$t2" "$tm" "$samples" <<'PY'
import sys
t1, t2, tm, n = map(float, sys.argv[1:])
sims = n * 41
print("efficiency: 2 threads %.0f%%, 2 ranks %.0f%% (of twice 1 x 1)" % (100 * t1 / (2 * t2), 100 * t1 / (2 * tm)))
cost = t1 / sims                      # s per simulation on one core
record = (1 + 18 + 41 + 1) * 8 + 8    # bytes sent per sample (41 doses, 18 parameters, EC50)
msgs = 1e7 / 41
print("per simulation %.3g ms; one message of %d bytes per sample (41 simulations)" % (cost * 1e3, record))
compute = 1e7 * cost / 1000
gather = msgs * record / 1e9          # into rank 0 at ~1 GB/s
print("10^7 simulations on 1000 cores: %.0f s of computing; rank 0 receives %.0f MB (%.2f s at 1 GB/s), writes it to the checkpoint: bound by computing" % (compute, msgs * record / 1e6, gather))
PY

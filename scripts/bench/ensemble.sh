#!/bin/sh
# Throughput of `sigode ensemble` on the calcineurin model's FK506
# dose-response (41 doses per sample, each sample pre-equilibrated), in
# simulations per second, measured side by side: 1 process x 1 thread,
# 1 process x 2 threads, 2 MPI ranks x 1 thread; then an estimate for 10^7
# simulations on 1000 cores from the measured cost per simulation and the
# size of the messages (one record per sample to rank 0).
#
# The three are run ROUNDS times interleaved (default 3) and each keeps its
# shortest wall time: on a shared machine a round can lose a core to
# another job. Beside the wall time each run's CPU time (user + system of
# the process and its children, mpirun and its ranks included) and the load
# average before it: equal CPU and a longer wall means the cores were busy
# elsewhere or a process waited, more CPU means extra work or contention.
# A fourth line is the control: two independent sigode processes side by
# side, each computing the first half of the samples (so nothing is shared
# but the machine). If they too fall short of twice one process, the
# machine, not sigode, is the limit.
# usage: scripts/bench/ensemble.sh [SIGODE] [SAMPLES] [ROUNDS]
set -eu
sigode=${1:-build/sigode}
samples=${2:-400}
rounds=${3:-3}
model=models/calcineurin_er.cfg
args="ensemble $model --scenario fk506_dose_response --samples $samples --readout ER_total --fit hill --preequilibrate"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() { # tag, label, command...
    tag=$1 label=$2; shift 2
    load=$(cut -d' ' -f1 /proc/loadavg)
    python3 - "$out/$tag.csv" "$out/$tag.err" "$@" > "$out/$tag.now" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
with open(sys.argv[1], "w") as o, open(sys.argv[2], "w") as e:
    rc = subprocess.call(sys.argv[3:], stdout=o, stderr=e)
wall = time.monotonic() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, r.ru_utime + r.ru_stime)
sys.exit(rc)
PY
    read -r wall cpu < "$out/$tag.now"
    python3 -c "
print('%-22s %7.2f s  %8.0f simulations/s  CPU %6.2f s  load %s' % ('$label', $wall, $samples * 41 / $wall, $cpu, '$load'))"
    # keep the shortest wall time of the rounds
    if [ ! -s "$out/$tag.best" ] || python3 -c "import sys; sys.exit(not $wall < float(open('$out/$tag.best').read().split()[0]))"; then
        echo "$wall $cpu" > "$out/$tag.best"
    fi
}
echo "calcineurin FK506 dose-response ensemble: $samples samples x 41 doses, $rounds rounds"
for round in $(seq "$rounds"); do
    run t1 "1 process x 1 thread" "$sigode" $args --jobs 1
    run t2 "1 process x 2 threads" "$sigode" $args --jobs 2
    run tm "2 ranks x 1 thread" mpirun --allow-run-as-root --oversubscribe -np 2 "$sigode" $args --jobs 1
    half=$(echo "$args" | sed "s/--samples $samples/--samples $((samples / 2))/")
    run tc "2 x 1 alone (control)" sh -c "'$sigode' $half --jobs 1 & '$sigode' $half --jobs 1; wait"
    cmp -s "$out/t1.csv" "$out/t2.csv" && cmp -s "$out/t1.csv" "$out/tm.csv" ||
        { echo "outputs differ"; exit 1; }
done
echo "outputs identical"
python3 - "$out/t1.best" "$out/t2.best" "$out/tm.best" "$out/tc.best" "$samples" <<'PY'
import sys
(t1, c1), (t2, c2), (tm, cm), (tc, cc) = (map(float, open(f).read().split()) for f in sys.argv[1:5])
n = float(sys.argv[5])
sims = n * 41
print("shortest of the rounds: 1 x 1 %.2f s, 1 x 2 threads %.2f s, 2 ranks %.2f s" % (t1, t2, tm))
print("efficiency: 2 threads %.0f%%, 2 ranks %.0f%% (of twice 1 x 1)" % (100 * t1 / (2 * t2), 100 * t1 / (2 * tm)))
print("CPU time of those runs: %.2f s, %.2f s, %.2f s" % (c1, c2, cm))
print("control, 2 independent processes of half the samples: %.2f s, CPU %.2f s: the machine's own efficiency %.0f%%" % (tc, cc, 100 * t1 / (2 * tc)))
cost = t1 / sims                      # s per simulation on one core
record = (1 + 18 + 41 + 1) * 8 + 8    # bytes sent per sample (41 doses, 18 parameters, EC50)
msgs = 1e7 / 41
print("per simulation %.3g ms; one message of %d bytes per sample (41 simulations)" % (cost * 1e3, record))
compute = 1e7 * cost / 1000
gather = msgs * record / 1e9          # into rank 0 at ~1 GB/s
print("10^7 simulations on 1000 cores: %.0f s of computing; rank 0 receives %.0f MB (%.2f s at 1 GB/s), writes it to the checkpoint: bound by computing" % (compute, msgs * record / 1e6, gather))
PY

#!/bin/sh
# MPI: `mpirun -np 3 sigode ensemble|gsa ...` writes byte for byte what one
# process writes (any number of ranks and threads); a rank killed mid-run
# is reported by mpirun and the run fails; --resume from the checkpoint
# then computes only the missing samples and gives the same output.
# usage: mpi_equal.sh SIGODE SOURCE_DIR
set -u
sigode=$1
src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpirun="mpirun --allow-run-as-root --oversubscribe -np 3"
fail() { echo "FAIL: $*"; exit 1; }

same() { # name, then the sigode arguments
    name=$1; shift
    "$sigode" "$@" --jobs 1 > "$dir/$name.serial" 2>"$dir/$name.serial.err" ||
        fail "$name: serial run failed: $(cat "$dir/$name.serial.err")"
    $mpirun "$sigode" "$@" --jobs 2 > "$dir/$name.mpi" 2>"$dir/$name.mpi.err" ||
        fail "$name: mpirun failed: $(cat "$dir/$name.mpi.err")"
    cmp "$dir/$name.serial" "$dir/$name.mpi" || fail "$name: MPI output differs from serial"
    [ -s "$dir/$name.serial" ] || fail "$name: empty output"
    echo "ok: $name identical under mpirun -np 3"
}

same ensemble_time ensemble "$src/tests/mpi/decay.cfg" --scenario s --samples 301 --sampler lhs
same ensemble_scan ensemble "$src/tests/mpi/decay.cfg" --scenario dose --samples 200
same ensemble_target ensemble "$src/tests/mpi/decay.cfg" --scenario s --target A --from 0.5 --to 2 --points 4 --readout A --samples 50
same gsa_sobol gsa "$src/tests/unit/gsa/ishigami.cfg" --method sobol --samples 256 --readout f@0 --t-end 1
same gsa_morris gsa "$src/tests/unit/gsa/ishigami.cfg" --method morris --samples 20 --readout f@0 --t-end 1

# scan: each rank its doses (more doses than ranks, and fewer: a rank idle)
same scan_values scan "$src/tests/mpi/decay.cfg" --scenario s --target k --from 0.1 --to 10 --points 11 --log
same scan_fewer scan "$src/tests/mpi/decay.cfg" --scenario s --target k --values 0.5,2
same scan_fit scan "$src/tests/mpi/decay.cfg" --scenario s --target k --from 0.1 --to 10 --points 9 --log --fit hill
grep "^hill fit" "$dir/scan_fit.serial.err" > "$dir/scan_fit.serial.hill"
grep "^hill fit" "$dir/scan_fit.mpi.err" > "$dir/scan_fit.mpi.hill"
[ -s "$dir/scan_fit.serial.hill" ] && cmp "$dir/scan_fit.serial.hill" "$dir/scan_fit.mpi.hill" ||
    fail "scan_fit: the Hill fits differ"
# a failed point: the same table with its status column, the same message, exit 1
"$sigode" scan "$src/tests/mpi/decay.cfg" --scenario s --target k --values 1,-1e9,2,3 --jobs 1 \
    > "$dir/scan_failed.serial" 2> "$dir/scan_failed.serial.err"
serial_rc=$?
$mpirun "$sigode" scan "$src/tests/mpi/decay.cfg" --scenario s --target k --values 1,-1e9,2,3 \
    --jobs 1 > "$dir/scan_failed.mpi" 2> "$dir/scan_failed.mpi.err"
mpi_rc=$?
[ "$serial_rc" = 1 ] || fail "scan_failed: the serial scan should fail (exit $serial_rc)"
[ "$mpi_rc" = "$serial_rc" ] || fail "scan_failed: exit $mpi_rc under mpirun, $serial_rc serial"
cmp "$dir/scan_failed.serial" "$dir/scan_failed.mpi" || fail "scan_failed: MPI table differs"
grep "scan points failed" "$dir/scan_failed.serial.err" > "$dir/scan_failed.serial.msg"
grep "scan points failed" "$dir/scan_failed.mpi.err" > "$dir/scan_failed.mpi.msg"
[ -s "$dir/scan_failed.serial.msg" ] && cmp "$dir/scan_failed.serial.msg" "$dir/scan_failed.mpi.msg" ||
    fail "scan_failed: the failure messages differ"
echo "ok: scan_failed: same table, message and exit status under mpirun -np 3"

# fit multi-starts: each rank its starts; rank 0 writes every file
fit() { # dir, then launcher...
    out=$1; shift
    mkdir -p "$out"
    "$@" "$sigode" fit "$src/tests/petab/conversion/problem.yaml" --starts 7 --seed 11 --jobs 2 \
        --output "$out/est.tsv" --no-plots > "$out/stdout" 2> "$out/stderr" ||
        fail "fit failed: $(cat "$out/stderr")"
}
fit "$dir/fit_serial" env
fit "$dir/fit_mpi" $mpirun
for f in stdout est.tsv est_starts.tsv; do
    [ -s "$dir/fit_serial/$f" ] || fail "fit: empty $f"
    cmp "$dir/fit_serial/$f" "$dir/fit_mpi/$f" || fail "fit: $f differs under mpirun"
done
echo "ok: fit multi-starts identical under mpirun -np 3"

# a rank killed (SIGKILL) after 20 samples: the job fails and says so
ckpt="$dir/run.ckpt"
args="ensemble $src/tests/mpi/decay.cfg --scenario s --samples 400 --checkpoint $ckpt"
"$sigode" ensemble "$src/tests/mpi/decay.cfg" --scenario s --samples 400 > "$dir/full" || fail "serial"
if $mpirun -x SIGODE_TEST_DIE_AFTER=20 -x SIGODE_TEST_DIE_RANK=1 "$sigode" $args --jobs 1 \
        > "$dir/killed" 2> "$dir/killed.err"; then
    fail "a killed rank went unnoticed"
fi
grep -q "rank 1 killing itself" "$dir/killed.err" || fail "no trace of the killed rank"
grep -qi "signal 9\|killed" "$dir/killed.err" || fail "mpirun did not report the killed rank"
[ -s "$dir/killed" ] && fail "a failed run wrote an output"
echo "ok: killed rank reported"
# --resume under mpirun completes only the missing samples
$mpirun "$sigode" $args --resume --jobs 1 > "$dir/resumed" 2> "$dir/resumed.err" ||
    fail "resume failed: $(cat "$dir/resumed.err")"
grep -q "resuming from .*: [0-9]* of 400 samples done" "$dir/resumed.err" || fail "no resume report"
cmp "$dir/full" "$dir/resumed" || fail "resumed output differs from an uninterrupted run"
echo "ok: --resume finished the job"

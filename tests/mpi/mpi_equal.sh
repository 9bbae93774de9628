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

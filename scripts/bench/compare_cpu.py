#!/usr/bin/env python3
"""CPU time (user + system of the child) of whole sigode commands on a
model, for several sigode binaries run interleaved (old and new side by
side, so a busy machine weighs on both alike).

  scripts/bench/compare_cpu.py MODEL.cfg SCENARIO REPS SIGODE [SIGODE...] [-- RUN-ARGS]

Commands: `run MODEL --scenario SCENARIO --rtol 1e-8 --atol 1e-8 --output
F` (also with --t-end 1e-6: everything but the integration), `check
MODEL`, `--help` (process start). Prints minimum and median per command
and binary, the load average before and after, and whether the binaries'
run outputs are byte-identical.
"""
import filecmp
import os
import resource
import statistics
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    model, scenario, reps, bins = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    extra = []
    if "--" in bins:
        extra = bins[bins.index("--") + 1:]
        bins = bins[:bins.index("--")]
    tmp = tempfile.mkdtemp(prefix="compare_cpu.")
    run = ["run", model, "--scenario", scenario, "--rtol", "1e-8", "--atol", "1e-8"] + extra + [
        "--output"]
    cmds = {
        "run": lambda out: run + [out],
        "run --t-end 1e-6": lambda out: run + [out, "--t-end", "1e-6"],
        "check": lambda out: ["check", model],
        "--help": lambda out: ["--help"],
    }
    print("load average before", " ".join(open("/proc/loadavg").read().split()[:3]))
    cpu = {(b, c): [] for b in bins for c in cmds}
    outs = [os.path.join(tmp, "out%d.csv" % k) for k in range(len(bins))]
    for _ in range(reps):
        for c, args in cmds.items():
            for b, out in zip(bins, outs):
                r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run([b] + args(out), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=True)
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[(b, c)].append(1e3 * (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime))
    # the last outputs are those of the plain run's companion (--t-end): run once more
    for b, out in zip(bins, outs):
        subprocess.run([b] + cmds["run"](out), stdout=subprocess.DEVNULL, check=True)
    for c in cmds:
        for b in bins:
            v = cpu[(b, c)]
            print("%-18s %-28s CPU min %7.1f ms  median %7.1f ms" % (c, b, min(v),
                                                                       statistics.median(v)))
    print("load average after", " ".join(open("/proc/loadavg").read().split()[:3]))
    same = all(filecmp.cmp(outs[0], o, shallow=False) for o in outs[1:])
    print("run outputs", "identical" if same else "DIFFER")
    for o in outs:
        os.remove(o)
    os.rmdir(tmp)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

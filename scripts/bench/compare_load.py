#!/usr/bin/env python3
"""Load + compile of a generated network (`sigode check`), for several
sigode binaries run interleaved (old and new side by side, so a busy
machine weighs on both alike), with the compiled-model cache off.

  scripts/bench/compare_load.py N REPS SIGODE [SIGODE...] [--seed S] [--model FILE]

N: species of the network gen_network.py writes (kept as
build-bench/gen/synthetic_N.cfg, where bench.py keeps it; --model FILE
times that file instead). Prints per binary the minimum and median CPU
time (user + system of that one child, from wait4), the minimum and median
wall time,
and the peak resident set size (ru_maxrss of the child: the largest and
smallest over the reps), and the load average before and after.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "build-bench", "gen")  # where bench.py keeps them


def network(n, seed):
    os.makedirs(GEN, exist_ok=True)
    path = os.path.join(GEN, "synthetic_%d.cfg" % n)
    if seed != 1:
        path = os.path.join(GEN, "synthetic_%d_seed%d.cfg" % (n, seed))
    if not os.path.exists(path):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_network.py"), str(n),
                        "--seed", str(seed), "--output", path], check=True)
    return path


def check_once(binary, model, env):
    """CPU seconds, wall seconds and peak RSS (MB) of one `check`."""
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "check", model], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("%s check %s failed" % (binary, model))
    return ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("reps", type=int)
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model")
    a = ap.parse_args()
    model = a.model or network(a.n, a.seed)
    env = dict(os.environ, SIGODE_MODEL_CACHE="0")
    print("model", model)
    print("load average before", " ".join(open("/proc/loadavg").read().split()[:3]))
    got = {b: [] for b in a.binaries}
    for _ in range(a.reps):
        for b in a.binaries:
            got[b].append(check_once(b, model, env))
    for b in a.binaries:
        cpu = [g[0] for g in got[b]]
        wall = [g[1] for g in got[b]]
        rss = [g[2] for g in got[b]]
        print("%-40s CPU min %6.3f s  median %6.3f s  wall min %6.3f s  median %6.3f s"
              "  peak RSS %5.0f MB (smallest %5.0f)"
              % (b, min(cpu), statistics.median(cpu), min(wall), statistics.median(wall),
                 max(rss), min(rss)))
    print("load average after", " ".join(open("/proc/loadavg").read().split()[:3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

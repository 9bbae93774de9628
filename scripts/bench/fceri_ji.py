#!/usr/bin/env python3
"""BioNetGen's fceri_ji network (354 species, 3680 reactions; Faeder et al.
2003, J. Immunol. 170:3769) as a whole `sigode run`, 0..600 s at
rtol = atol = 1e-8, the setting of issue 17's comparison with AMICI (whose
simulation alone took 122 ms with KLU there). The network is not shipped
(BioNetGen, which generates it, is not in Debian): give the .net that
`BNG2.pl` writes for fceri_ji.bngl (generate_network).

  scripts/bench/fceri_ji.py NETWORK.net [--sigode build/sigode] [--reps 10]

Times (minimum and median of interleaved whole processes): `sigode check`
(load + compile), `sigode run` on the instruction program and on compiled C
(the object compiled once beforehand, then taken from the cache); the two
outputs must be byte-identical. Prints the load average before and after.
"""
import argparse
import resource
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def timed(cmd, env, cpu=None):
    """Wall seconds; CPU seconds (user + system) appended to `cpu`."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr.decode(errors="replace")))
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    return wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("net")
    ap.add_argument("--sigode", default=os.path.join(ROOT, "build", "sigode"))
    ap.add_argument("--reps", type=int, default=10)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="sigode-fceri-")
    cfg = os.path.join(tmp, "fceri_ji.cfg")
    with open(cfg, "w") as f:
        subprocess.run([sys.executable, os.path.join(HERE, "net2cfg.py"), a.net,
                        "--t-end", "600", "--points", "61"], stdout=f, check=True)
    env = dict(os.environ, SIGODE_CACHE_DIR=os.path.join(tmp, "cache"))
    common = ["--scenario", "bench", "--rtol", "1e-8", "--atol", "1e-8"]
    out = {b: os.path.join(tmp, "%s.csv" % b) for b in ("vm", "native")}
    cases = [("check (load + compile)", [a.sigode, "check", cfg])]
    for b in ("vm", "native"):
        cases.append(("run --backend %s" % b,
                      [a.sigode, "run", cfg] + common + ["--backend", b, "--output", out[b]]))
    t0 = time.perf_counter()
    timed(cases[2][1], env)  # compiles the C once
    compile_s = time.perf_counter() - t0
    print("network %s; load average before: %s" % (a.net, loadavg()))
    times = {name: [] for name, _ in cases}
    cpus = {name: [] for name, _ in cases}
    for _ in range(a.reps):
        for name, cmd in cases:
            times[name].append(timed(cmd, env, cpus[name]))
    with open(out["vm"], "rb") as f1, open(out["native"], "rb") as f2:
        same = f1.read() == f2.read()
    print("load average after: %s; vm and native outputs identical: %s"
          % (loadavg(), "yes" if same else "NO"))
    print("first native run (C compiled into an empty cache): %.2f s" % compile_s)
    for name, _ in cases:
        t, c = times[name], cpus[name]
        print("%-24s wall min %8.1f ms median %8.1f ms   CPU min %8.1f ms median %8.1f ms"
              % (name, 1e3 * min(t), 1e3 * statistics.median(t), 1e3 * min(c),
                 1e3 * statistics.median(c)))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

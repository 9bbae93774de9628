#!/usr/bin/env python3
"""The SBML import cache, cold against warm: whole `sigode check`, `sigode run`
and `sigode sens` commands on a large SBML file with the cache off
(SIGODE_SBML_CACHE=0: libsbml reads the XML every time), on a miss (empty
cache folder: translate and store the entry) and warm (the entry is read
instead of the XML). Interleaved rounds; minimum and median of each; the
ratios cold / warm come from the same run. Prints the load average before
and after, since on a shared machine the figures mean little without it.

  scripts/bench/sbml_cache.py [--sigode build/sigode]
      [--model ../shared/biomodels/BIOMD0000000255.xml] [--reps 5]
      [--run-t-end 3600] [--sens-t-end 10] [--sens-params all]
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, env, cpu=None):
    """Wall seconds and stdout; the CPU seconds (user + system) are
    appended to `cpu` (on a loaded machine they say more than the wall)."""
    c0 = cpu_children()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - t0
    if cpu is not None:
        cpu.append(cpu_children() - c0)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr.decode(errors="replace")))
    return wall, p.stdout


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sigode", default=os.path.join(ROOT, "build", "sigode"))
    ap.add_argument("--model", default=os.path.join(ROOT, "..", "shared", "biomodels",
                                                    "BIOMD0000000255.xml"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--run-t-end", default="3600")
    ap.add_argument("--sens-t-end", default="10")
    ap.add_argument("--sens-params", default="all")
    a = ap.parse_args()
    if not os.path.exists(a.model):
        sys.exit("no model %s" % a.model)
    tmp = tempfile.mkdtemp(prefix="sigode-sbml-cache-bench-")
    out = os.path.join(tmp, "out.csv")
    commands = [
        ("check", [a.sigode, "check", a.model]),
        ("run --t-end %s" % a.run_t_end,
         [a.sigode, "run", a.model, "--t-end", a.run_t_end, "--output", out]),
        ("sens --params %s (t %s)" % (a.sens_params, a.sens_t_end),
         [a.sigode, "sens", a.model, "--t-end", a.sens_t_end, "--at", a.sens_t_end,
          "--params", a.sens_params, "--output", out]),
    ]
    base = dict(os.environ)
    base.pop("SIGODE_SBML_CACHE", None)
    warm_dir = os.path.join(tmp, "warm")
    modes = {
        "cold": dict(base, SIGODE_SBML_CACHE="0", SIGODE_CACHE_DIR=os.path.join(tmp, "off")),
        "miss": dict(base, SIGODE_CACHE_DIR=os.path.join(tmp, "miss")),
        "warm": dict(base, SIGODE_CACHE_DIR=warm_dir),
    }
    print("model %s (%d bytes); load average before: %s"
          % (a.model, os.path.getsize(a.model), loadavg()))
    timed(commands[0][1], modes["warm"])  # fill the warm cache
    if not any(n.startswith("sbml-") for n in os.listdir(warm_dir)):
        sys.exit("no cache entry was written (is the file under 64 KiB?)")
    times = {(c, m): [] for c, _ in commands for m in modes}
    cpus = {(c, m): [] for c, _ in commands for m in modes}
    outputs = {}
    for _ in range(a.reps):
        for name, cmd in commands:
            for mode, env in modes.items():
                if mode == "miss":
                    shutil.rmtree(env["SIGODE_CACHE_DIR"], ignore_errors=True)
                wall, stdout = timed(cmd, env, cpus[(name, mode)])
                times[(name, mode)].append(wall)
                if cmd[1] != "check":
                    with open(out, "rb") as f:
                        stdout = f.read()
                outputs.setdefault(name, {})[mode] = stdout
    same = all(len(set(o.values())) == 1 for o in outputs.values())
    print("load average after: %s; outputs cold/miss/warm identical: %s"
          % (loadavg(), "yes" if same else "NO"))
    print("%-28s %17s %17s %17s %11s" % ("command (min, median)", "cold (no cache)",
                                          "miss (store)", "warm (hit)", "cold/warm"))
    for what, table in (("wall", times), ("CPU", cpus)):
        for name, _ in commands:
            cells = []
            for mode in modes:
                t = table[(name, mode)]
                cells.append("%7.3f s %7.3f" % (min(t), statistics.median(t)))
            ratio = min(table[(name, "cold")]) / min(table[(name, "warm")])
            print("%-28s %17s %17s %17s %10.2fx" % ("%s %s" % (what, name), cells[0], cells[1],
                                                    cells[2], ratio))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

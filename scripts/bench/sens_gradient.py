#!/usr/bin/env python3
"""Time to first gradient: whole `sigode sens` commands (load + compile +
forward sensitivities) on a large SBML model, side by side with plain
`sigode run` of the same experiment, and with what one-sided finite
differences would cost: the load (`sigode check`) once plus n_params + 1
simulations, each taken as run minus check. Minimum of --reps runs each,
interleaved; peak resident memory from /usr/bin/time when present.

  scripts/bench/sens_gradient.py [--sigode build/sigode]
      [--model ../shared/biomodels/BIOMD0000000255.xml] [--t-end 10] [--reps 3]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def timed(cmd):
    """Wall seconds and peak RSS (KB, or None) of one command."""
    gnu_time = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    full = [gnu_time, "-f", "%M"] + cmd if gnu_time else cmd
    t0 = time.perf_counter()
    p = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    rss = None
    if gnu_time:
        m = re.search(r"(\d+)\s*$", p.stderr)
        rss = int(m.group(1)) if m else None
    return wall, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sigode", default=os.path.join(ROOT, "build", "sigode"))
    ap.add_argument("--model", default=os.path.join(ROOT, "..", "shared", "biomodels",
                                                    "BIOMD0000000255.xml"))
    ap.add_argument("--t-end", default="10")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--params", default="3,20,all",
                    help="parameter counts to time (the first N of the model, or all)")
    a = ap.parse_args()
    if not os.path.exists(a.model):
        sys.exit("no model %s" % a.model)
    tmp = tempfile.mkdtemp(prefix="sigode-sens-bench-")
    cfg = os.path.join(tmp, "model.cfg")
    subprocess.run([a.sigode, "convert", a.model, "--to", "cfg", "--output", cfg], check=True)
    info = subprocess.run([a.sigode, "info", cfg], capture_output=True, text=True, check=True)
    ids = re.findall(r"^\s+(\S+)\s+[-+0-9.eE]+\s*$", info.stdout.split("\nparameters:")[1]
                     .split("\n\n")[0], re.M) if "parameters:" in info.stdout else []
    header = re.search(r"(\d+) species.*?(\d+) parameters", info.stdout)
    nparams = int(header.group(2)) if header else len(ids)
    print("model %s: %s" % (os.path.basename(a.model), info.stdout.splitlines()[3]))
    rows = []
    for source, path in (("sbml", a.model), ("cfg", cfg)):
        run_cmd = [a.sigode, "run", path, "--t-end", a.t_end, "--points", "2"]
        cases = [("check (load, compile)", [a.sigode, "check", path], -1),
                 ("run (no sensitivities)", run_cmd, 0)]
        for n in a.params.split(","):
            if n == "all":
                plist, count = "all", nparams
            else:
                count = min(int(n), len(ids)) if ids else int(n)
                plist = ",".join(ids[:count])
            cases.append(("sens, %d parameters" % count,
                          [a.sigode, "sens", path, "--t-end", a.t_end, "--at", a.t_end,
                           "--params", plist], count))
        best = {name: (float("inf"), None) for name, _, _ in cases}
        for _ in range(a.reps):
            for name, cmd, _ in cases:
                wall, rss = timed(cmd)
                if wall < best[name][0]:
                    best[name] = (wall, rss)
        load_wall = best[cases[0][0]][0]
        sim_wall = max(best[cases[1][0]][0] - load_wall, 1e-6)
        for name, cmd, count in cases:
            wall, rss = best[name]
            fd = "" if count <= 0 else "FD estimate %.3f s: sens is %.2fx that" % (
                load_wall + (count + 1) * sim_wall, wall / (load_wall + (count + 1) * sim_wall))
            rows.append((source, name, wall, rss, fd))
    print("%-5s %-26s %9s %9s  %s" % ("from", "command", "min s", "peak MB", "vs finite differences"))
    for source, name, wall, rss, fd in rows:
        print("%-5s %-26s %9.3f %9s  %s" % (source, name, wall,
                                          "%.0f" % (rss / 1024) if rss else "-", fd))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

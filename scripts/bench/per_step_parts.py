#!/usr/bin/env python3
"""Where a step's time goes, by size of the generated networks: perf
samples of one `bench_sigode` simulation per size, split into KLU (libklu,
libamd, libbtf, libcolamd), sigode's right-hand side and Jacobian values
(the VM, its machine code), CVODE with its vectors and sparse matrix, and
the rest (loading, kernel), each share times the simulation's time per
step, and the exponent each part grows with.

  scripts/bench/per_step_parts.py [SIZES...]     (default: 1000 10000 100000)

Needs `perf` and build-bench/ (bench_sigode, gen/synthetic_N.cfg, made by
scripts/bench/run.sh). 10^5 species take about 70 s.
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "..", "..", "build-bench")
PARTS = ["KLU", "sigode RHS and Jacobian values", "CVODE, vectors, matrix", "loading, kernel, rest"]


def part_of(dso, sym):
    if dso.startswith(("libklu", "libamd", "libbtf", "libcolamd")):
        return PARTS[0]
    if sym in ("vm_run", "sum_rows") or dso.startswith("[JIT]"):
        return PARTS[1]
    if re.match(r"(N_V|V[a-z]|SUNMat|SUNLinSol|SUNNonlin|cv|CV)", sym):
        return PARTS[2]
    return PARTS[3]


def measure(n, tmp):
    model = os.path.join(BUILD, "gen", f"synthetic_{n}.cfg")
    data = os.path.join(tmp, f"perf_{n}.data")
    reps = "1" if n >= 100000 else "3"
    out = subprocess.run(["perf", "record", "-q", "-F", "2000", "-o", data,
                          os.path.join(BUILD, "bench_sigode"), model, "--scenario", "bench",
                          "--min-reps", reps, "--max-reps", reps],
                         capture_output=True, text=True, check=True).stdout
    run = json.loads(out.splitlines()[0])
    report = subprocess.run(["perf", "report", "-i", data, "--no-children", "-g", "none",
                             "--sort", "dso,symbol", "--percent-limit", "0"],
                            capture_output=True, text=True, check=True).stdout
    shares = dict.fromkeys(PARTS, 0.0)
    for line in report.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(.+?)\s+\[.\]\s+(\S+)", line)
        if m:
            shares[part_of(m.group(2).strip(), m.group(3))] += float(m.group(1))
    total = sum(shares.values())
    per_step = run["sim_min_s"] / run["steps"] * 1e6
    return run, per_step, {k: per_step * v / total for k, v in shares.items()}


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000, 100000]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            rows[n] = measure(n, tmp)
            run, per_step, _ = rows[n]
            print(f"{n:>7} species: {per_step:10.1f} us/step ({run['steps']} steps, "
                  f"{run['rhs'] / run['steps']:.2f} rhs and {run['setups'] / run['steps']:.3f} "
                  f"setups a step, simulation {run['sim_min_s']:.4f} s)", flush=True)
    lo, hi = sizes[0], sizes[-1]
    print(f"\nus per step{'':24s}" + "".join(f"{n:>11}" for n in sizes) + f"   exponent {lo}..{hi}")
    for k in PARTS + ["total"]:
        v = {n: (rows[n][1] if k == "total" else rows[n][2][k]) for n in sizes}
        e = math.log(v[hi] / v[lo]) / math.log(hi / lo) if v[lo] > 0 and v[hi] > 0 else float("nan")
        print(f"{k:35s}" + "".join(f"{v[n]:11.1f}" for n in sizes) + f"   n^{e:.2f}")
    allowed = rows[lo][1] * (hi / lo) ** 1.05
    print(f"\nper step n^1.05 from {lo} species allows {allowed:.1f} us at {hi}; "
          f"KLU alone takes {rows[hi][2][PARTS[0]]:.1f} us there")


if __name__ == "__main__":
    main()

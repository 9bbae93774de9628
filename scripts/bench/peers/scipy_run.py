#!/usr/bin/python3
"""Integrates a model written by modelgen.py with SciPy's solve_ivp.

    scipy_run.py MODULE.py --method LSODA|BDF [--set NAME=VALUE]... [--t-end T]
                 [--points N] [--rtol X] [--atol X] [--min-reps N]
                 [--min-seconds S] [--max-seconds S] [--out FILE.csv]

The analytic Jacobian is passed (dense for LSODA, sparse CSC for BDF above
100 states): the most favourable setting for SciPy. Times solve_ivp alone
(the minimum and median over repetitions) and prints one JSON line.
"""
import argparse
import importlib.util
import json
import sys
import time

import numpy as np
import scipy
from scipy.integrate import solve_ivp
from scipy.sparse import csc_matrix


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("module")
    ap.add_argument("--method", default="LSODA")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--t-end", type=float, default=10.0)
    ap.add_argument("--points", type=int, default=101)
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--atol", type=float, default=1e-9)
    ap.add_argument("--min-reps", type=int, default=1)
    ap.add_argument("--min-seconds", type=float, default=1.0)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--out")
    a = ap.parse_args()

    spec = importlib.util.spec_from_file_location("model", a.module)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    p = list(mod.P0)
    y0 = np.array(mod.Y0, dtype=float)
    for s in a.set:
        name, value = s.split("=", 1)
        if name in mod.PARAM_NAMES:
            p[mod.PARAM_NAMES.index(name)] = float(value)
        else:
            y0[mod.STATE_NAMES.index(name)] = float(value)
    n = len(y0)
    # output times exactly as sigode computes them
    times = np.array([a.t_end * i / (a.points - 1) for i in range(a.points)])
    times[-1] = a.t_end
    colptr = np.array(mod.COLPTR)
    rowidx = np.array(mod.ROWIDX)
    cols = np.repeat(np.arange(n), np.diff(colptr))
    rhs = mod.rhs
    jac_values = mod.jac_values

    def fun(t, y):
        return rhs(t, y.tolist(), p)

    sparse = a.method != "LSODA" and n > 100

    def jac(t, y):
        v = jac_values(t, y.tolist(), p)
        if sparse:
            return csc_matrix((v, rowidx, colptr), shape=(n, n))
        J = np.zeros((n, n))
        J[rowidx, cols] = v
        return J

    runs = []
    sol = None
    deadline = time.perf_counter() + a.max_seconds
    while len(runs) < a.min_reps or sum(runs) < a.min_seconds:
        t0 = time.perf_counter()
        sol = solve_ivp(fun, (0.0, a.t_end), y0, method=a.method, t_eval=times,
                        rtol=a.rtol, atol=a.atol, jac=jac)
        runs.append(time.perf_counter() - t0)
        if not sol.success or time.perf_counter() > deadline:
            break
    if a.out:
        with open(a.out, "w") as f:
            f.write("time," + ",".join(mod.STATE_NAMES) + "\n")
            for k, t in enumerate(sol.t):
                f.write("%.17g," % t + ",".join("%.17g" % v for v in sol.y[:, k]) + "\n")
    print(json.dumps({"tool": "scipy_" + a.method, "scipy": scipy.__version__,
                      "success": bool(sol.success), "message": sol.message,
                      "sim_min_s": min(runs), "sim_median_s": float(np.median(runs)),
                      "reps": len(runs), "rhs": int(sol.nfev), "jac": int(sol.njev),
                      "lu": int(sol.nlu), "rtol": a.rtol, "atol": a.atol}))
    return 0 if sol.success else 1


if __name__ == "__main__":
    sys.exit(main())

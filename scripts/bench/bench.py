#!/usr/bin/python3
"""sigode's benchmark suite: every figure of issue 6, measured in one run on
one machine, printed as one table (scripts/bench/run.sh calls this).

    bench.py [--quick] [--only PART,...] [--sizes N,N,...] [--scan-points N]
             [--max-size-seconds S] [--out DIR]

PARTs: limit (sigode vs hand-written C), peers (SciPy, deSolve), scaling,
throughput (scan), cli (whole `sigode run`), profile (perf). Timings are the
minimum over interleaved repetitions (the machine is shared: the minimum is
the least disturbed run); medians are printed beside them.
"""
import argparse
import hashlib
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD = os.path.join(ROOT, "build-bench")
GEN = os.path.join(BUILD, "gen")
NATIVE = os.path.join(BUILD, "native")
PY = "/usr/bin/python3"
REAL_MODEL = os.path.join(ROOT, "models", "calcineurin_er.cfg")
STANDIN = os.path.join(HERE, "models", "calcineurin_standin.cfg")
RESULTS = os.path.join(BUILD, "results")  # --results
SIGODE_BUILD = BUILD  # where bench_sigode and the CLI come from (--sigode-build)
REF_RTOL, REF_ATOL = 1e-12, 1e-15
LADDER = [1e-6, 1e-7, 1e-8, 1e-9, 1e-10]

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(cmd, timeout=None, check=True):
    """Runs cmd; returns stdout. Raises on failure when check."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd[:3]), r.returncode,
                                                   r.stderr.strip()[-800:]))
    return r.stdout


def run_json(cmd, timeout=None):
    out = run(cmd, timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])


def sha(*paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]

# ----------------------------------------------------------------- setup


def machine():
    info = {"cores": os.cpu_count()}
    try:
        out = run(["lscpu"])
        m = re.search(r"Model name:\s*(.+)", out)
        info["cpu"] = m.group(1).strip() if m else "?"
    except Exception:
        info["cpu"] = "?"
    try:
        info["commit"] = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip()
        dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "include"]).strip()
        info["src_modified"] = bool(dirty)
    except Exception:
        info["commit"] = "?"
    info["date"] = time.strftime("%Y-%m-%d %H:%M %Z")
    info["load_at_start"] = os.getloadavg()[0]
    return info


def network(n, seed=1):
    path = os.path.join(GEN, "synthetic_%d.cfg" % n)
    if not os.path.exists(path):
        run([PY, os.path.join(HERE, "gen_network.py"), str(n), "--seed", str(seed),
             "--output", path])
    return path


def calcineurin_case():
    """The calcineurin/ER model if it exists, else the stand-in, run as its
    scenario fk506_10nM (FK506 10 nM from t = 0 to 48 h); the scan is its
    fk506_dose_response (FK506 0.01..1000 nM, read at 24 h)."""
    from modelgen import parse_libconfig
    path = REAL_MODEL if os.path.exists(REAL_MODEL) else STANDIN
    with open(path) as f:
        cfg = parse_libconfig(f.read())
    scen = {s["id"]: s for s in cfg.get("scenarios") or []}
    run_s = scen.get("fk506_10nM", {"id": None, "t_end": 48.0, "points": 97,
                                    "set": {"FK506": 10.0}})
    scan_s = scen.get("fk506_dose_response", {})
    assigns = [a["id"] for a in cfg.get("assignments") or []]
    readouts = scan_s.get("readouts") or (["ER_total"] if "ER_total" in assigns else assigns[:1])
    return {"name": "calcineurin", "model": path, "standin": path == STANDIN,
            "scenario": run_s["id"], "sets": dict(run_s.get("set", {})),
            "t_end": float(run_s["t_end"]), "points": int(run_s.get("points", 101)),
            "scan_target": scan_s.get("scan", {}).get("target", "FK506"),
            "scan_t_end": float(scan_s.get("t_end", 24.0)), "readouts": readouts}


def build(natives):
    """Writes native code for each case (cached by content) and builds."""
    os.makedirs(NATIVE, exist_ok=True)
    want = set()
    for name, cfg in natives:
        key = sha(cfg, os.path.join(HERE, "modelgen.py"))
        stamp = os.path.join(NATIVE, name + ".stamp")
        want.add(name)
        if not (os.path.exists(stamp) and open(stamp).read() == key):
            log("writing native code for %s (%s)" % (name, os.path.relpath(cfg, ROOT)))
            run([PY, os.path.join(HERE, "modelgen.py"), cfg, "--outdir", NATIVE, "--name", name])
            with open(stamp, "w") as f:
                f.write(key)
    for f in os.listdir(NATIVE):  # drop models no longer benchmarked
        m = re.match(r"(.+?)(_native\.c|_model\.py|_model\.R|\.stamp)$", f)
        if m and m.group(1) not in want:
            os.remove(os.path.join(NATIVE, f))
    log("building build-bench (sigode library, drivers, native models)")
    run(["cmake", "-S", HERE, "-B", BUILD, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
         "-DBENCH_NATIVE_DIR=" + NATIVE])
    run(["cmake", "--build", BUILD, "-j", str(os.cpu_count() or 1)])

# ------------------------------------------------------------------ tools


def sigode_args(case):
    a = ["--scenario", case["scenario"]] if case.get("scenario") else []
    for k, v in case["sets"].items():
        a += ["--set", "%s=%r" % (k, v)]
    return a + ["--t-end", repr(case["t_end"]), "--points", str(case["points"])]


def bench_sigode(case, rtol=None, atol=None, out=None, min_seconds=1.0, min_reps=3,
                 timeout=900, extra=()):
    cmd = [os.path.join(SIGODE_BUILD, "bench_sigode"), case["model"]] + sigode_args(case)
    if rtol:
        cmd += ["--rtol", repr(rtol), "--atol", repr(atol)]
    if out:
        cmd += ["--out", out]
    cmd += ["--min-seconds", repr(min_seconds), "--min-reps", str(min_reps)] + list(extra)
    return run_json(cmd, timeout=timeout)


def handc(case, rtol=None, atol=None, out=None, min_seconds=1.0, min_reps=3, timeout=900):
    cmd = [os.path.join(BUILD, "handc_" + case["name"])] + sigode_args(case)[
        2 if case.get("scenario") else 0:]
    if rtol:
        cmd += ["--rtol", repr(rtol), "--atol", repr(atol)]
    if out:
        cmd += ["--out", out]
    cmd += ["--min-seconds", repr(min_seconds), "--min-reps", str(min_reps)]
    return run_json(cmd, timeout=timeout)


def peer(tool, case, rtol, atol, out=None, min_seconds=1.0, min_reps=1, timeout=900):
    base = os.path.join(NATIVE, case["name"])
    common = []
    for k, v in case["sets"].items():
        common += ["--set", "%s=%r" % (k, v)]
    common += ["--t-end", repr(case["t_end"]), "--points", str(case["points"]),
               "--rtol", repr(rtol), "--atol", repr(atol), "--min-seconds", repr(min_seconds),
               "--min-reps", str(min_reps), "--max-seconds", repr(max(min_seconds * 3, 60))]
    if out:
        common += ["--out", out]
    if tool.startswith("scipy_"):
        cmd = [PY, os.path.join(HERE, "peers", "scipy_run.py"), base + "_model.py",
               "--method", tool[len("scipy_"):]] + common
    else:
        cmd = ["Rscript", os.path.join(HERE, "peers", "desolve_run.R"), base + "_model.R"] + common
    return run_json(cmd, timeout=timeout)


def load_csv(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return header, data


def error(path, ref_path):
    """Largest error over output times and states, relative to the
    reference value, with a floor of 1e-6 of the state's peak (so states
    passing through zero are judged absolutely)."""
    h, y = load_csv(path)
    hr, r = load_csv(ref_path)
    if h[1:] != hr[1:] or y.shape != r.shape:
        raise RuntimeError("%s and %s do not have the same columns/rows" % (path, ref_path))
    y, r = y[:, 1:], r[:, 1:]
    floor = np.maximum(1e-6 * np.max(np.abs(r), axis=0), 1e-300)
    return float(np.max(np.abs(y - r) / np.maximum(np.abs(r), floor)))

# ------------------------------------------------------------------ parts


def part_limit(cases, res, rounds):
    for case in cases:
        name = case["name"]
        d = os.path.join(RESULTS)
        ref = os.path.join(d, name + "_ref.csv")
        log("%s: reference (hand-written C, rtol %g)" % (name, REF_RTOL))
        r = handc(case, REF_RTOL, REF_ATOL, out=ref, min_seconds=0, min_reps=1)
        sg_ref = os.path.join(d, name + "_sigode_ref.csv")
        bench_sigode(case, REF_RTOL, REF_ATOL, out=sg_ref, min_seconds=0, min_reps=1)
        entry = {"case": case, "reference": {"tool": "handc", "rtol": REF_RTOL, "atol": REF_ATOL,
                                             "steps": r["steps"],
                                             "sigode_at_ref_tol_error": error(sg_ref, ref)}}
        sg_out = os.path.join(d, name + "_sigode.csv")
        nat_out = os.path.join(d, name + "_sigode_native.csv")
        hc_out = os.path.join(d, name + "_handc.csv")
        # the native backend's first use compiles the model's C (cache emptied
        # in main(), so this is the cold compile a user sees once per model)
        log("%s: sigode --backend native: generating and compiling C" % name)
        first = bench_sigode(case, min_seconds=0, min_reps=1, extra=("--backend", "native"))
        entry["native_compile_s"] = first["backend_s"]
        sg_runs, nat_runs, hc_runs = [], [], []
        for k in range(rounds):  # interleaved, so all see the same machine load
            log("%s: sigode (vm, native) vs hand-written C, round %d/%d" % (name, k + 1, rounds))
            sg_runs.append(bench_sigode(case, out=sg_out if k == 0 else None, min_seconds=1.0,
                                        extra=("--backend", "vm")))
            nat_runs.append(bench_sigode(case, out=nat_out if k == 0 else None, min_seconds=1.0,
                                         extra=("--backend", "native")))
            hc_runs.append(handc(case, out=hc_out if k == 0 else None, min_seconds=1.0))
        for key, runs, out in (("sigode", sg_runs, sg_out), ("sigode_native", nat_runs, nat_out),
                               ("handc", hc_runs, hc_out)):
            best = dict(min(runs, key=lambda x: x["sim_min_s"]))
            best["sim_median_s"] = statistics.median(x["sim_median_s"] for x in runs)
            best["error"] = error(out, ref)
            entry[key] = best
        with open(sg_out) as a, open(nat_out) as b:
            entry["native_identical"] = a.read() == b.read()
        h = entry["handc"]
        for key, suffix in (("sigode", ""), ("sigode_native", "_native")):
            s = entry[key]
            entry["ratio" + suffix] = s["sim_min_s"] / h["sim_min_s"]
            entry["ratio_median" + suffix] = s["sim_median_s"] / h["sim_median_s"]
            entry["ratio_per_step" + suffix] = (s["sim_min_s"] / s["steps"]) / (
                h["sim_min_s"] / h["steps"])
        # the faster backend is what a user comparing with peers gets
        entry["best"] = min(("sigode", "sigode_native"), key=lambda k: entry[k]["sim_min_s"])
        res["limit"][name] = entry


def part_peers(cases, res, tools, budget):
    for case in cases:
        name = case["name"]
        lim = res["limit"].get(name)
        if not lim:
            continue
        target = lim["sigode"]["error"]
        ref = os.path.join(RESULTS, name + "_ref.csv")
        out = {}
        for tool in tools:
            tried = []
            chosen = None
            for rtol in LADDER:
                atol = rtol * 1e-3
                path = os.path.join(RESULTS, "%s_%s.csv" % (name, tool))
                log("%s: %s at rtol %g" % (name, tool, rtol))
                try:
                    r = peer(tool, case, rtol, atol, out=path, min_seconds=0, timeout=budget)
                except subprocess.TimeoutExpired:
                    tried.append({"rtol": rtol, "timeout_s": budget})
                    break
                except RuntimeError as e:
                    tried.append({"rtol": rtol, "failed": str(e)[-300:]})
                    break
                r["error"] = error(path, ref)
                tried.append(r)
                if r["error"] <= target:
                    chosen = r
                    break
            if chosen and chosen["sim_min_s"] < 10:  # slower: its one run is the figure
                log("%s: timing %s at rtol %g" % (name, tool, chosen["rtol"]))
                try:
                    t = peer(tool, case, chosen["rtol"], chosen["atol"],
                             min_seconds=2.0, min_reps=3, timeout=budget * 4)
                    for k in ("sim_min_s", "sim_median_s", "reps"):
                        chosen[k] = t[k]
                except (subprocess.TimeoutExpired, RuntimeError):
                    pass
            best = lim[lim.get("best", "sigode")]
            if chosen:
                chosen["ratio"] = chosen["sim_min_s"] / best["sim_min_s"]
            out[tool] = {"matched": chosen, "tried": tried,
                         "same_tol": tried[0] if tried else None}
            if tried and "sim_min_s" in tried[0]:
                out[tool]["same_tol_ratio"] = tried[0]["sim_min_s"] / best["sim_min_s"]
        res["peers"][name] = out


def fit(xs, ys):
    """Least-squares slope of log y against log x."""
    lx, ly = np.log(xs), np.log(ys)
    return float(np.polyfit(lx, ly, 1)[0])


def part_scaling(res, sizes, max_seconds):
    # load+compile is measured without the compiled-model cache: with it,
    # the first run stores an image and the next two would only read it
    saved_cache = os.environ.get("SIGODE_MODEL_CACHE")
    os.environ["SIGODE_MODEL_CACHE"] = "0"
    try:
        part_scaling_uncached(res, sizes, max_seconds)
    finally:
        if saved_cache is None:
            del os.environ["SIGODE_MODEL_CACHE"]
        else:
            os.environ["SIGODE_MODEL_CACHE"] = saved_cache


def part_scaling_uncached(res, sizes, max_seconds):
    rows = []
    for n in sizes:
        path = network(n)
        reps = 3 if n <= 10000 else 1
        log("scaling: %d species" % n)
        case = {"model": path, "sets": {}, "t_end": 100.0, "points": 101, "scenario": "bench"}
        try:
            r = bench_sigode(case, min_seconds=0.5 if n <= 10000 else 0, min_reps=reps,
                             timeout=max_seconds)
        except subprocess.TimeoutExpired:
            rows.append({"n": n, "timeout_s": max_seconds})
            log("scaling: %d species did not finish in %g s; larger sizes skipped"
                % (n, max_seconds))
            break
        r["n"] = n
        r["file_mb"] = os.path.getsize(path) / 1e6
        # load+compile: the minimum over 3 fresh processes (a process loads once)
        loads = [r["load_s"]] + [run_json(
            [os.path.join(SIGODE_BUILD, "bench_sigode"), path, "--load-only", "yes"],
            timeout=max_seconds)["load_s"] for _ in range(2)]
        r["load_s"], r["load_median_s"] = min(loads), statistics.median(loads)
        rows.append(r)
    res["scaling"]["rows"] = rows
    ok = [r for r in rows if "sim_min_s" in r and r["n"] >= 1000]
    if len(ok) >= 2:
        ns = [r["n"] for r in ok]
        res["scaling"]["exp_sim"] = fit(ns, [r["sim_min_s"] for r in ok])
        res["scaling"]["exp_step"] = fit(ns, [r["sim_min_s"] / r["steps"] for r in ok])
        res["scaling"]["exp_load"] = fit(ns, [r["load_s"] for r in ok])
        res["scaling"]["exp_mem"] = fit(ns, [r["peak_rss_kib"] for r in ok])
        res["scaling"]["range"] = [ns[0], ns[-1]]


def sigode_cli():
    return os.path.join(SIGODE_BUILD, "sigode", "sigode")


def part_throughput(case, res, points, reps):
    if not case["scan_target"]:
        res["throughput"] = {"skipped": "model has no FK506"}
        return
    base = [sigode_cli(), "scan", case["model"], "--target", case["scan_target"], "--from",
            "0.01", "--to", "1000", "--points", str(points), "--log", "--readout",
            ",".join(case["readouts"]), "--t-end", repr(case["scan_t_end"]),
            "--output", os.path.join(RESULTS, "scan.csv")]
    times = {1: [], 2: [], 0: []}
    cpu = {1: [], 2: [], 0: []}  # CPU seconds used / wall seconds, for each run
    for k in range(reps):  # interleaved
        for jobs in (1, 2, 0):
            log("throughput: %d-point scan, --jobs %d, round %d/%d" % (points, jobs, k + 1, reps))
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            run(base + ["--jobs", str(jobs)], timeout=1800)
            wall = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            times[jobs].append(wall)
            cpu[jobs].append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / wall)
    t1, t2, ta = min(times[1]), min(times[2]), min(times[0])
    best2 = times[2].index(t2)
    res["throughput"] = {"points": points, "serial_s": t1, "jobs2_s": t2, "all_cores_s": ta,
                         "cores": os.cpu_count(), "speedup2": t1 / t2,
                         "efficiency2": t1 / (2 * t2), "speedup_all": t1 / ta,
                         "per_point_us": 1e6 * t1 / points,
                         "runs": {str(k): v for k, v in times.items()},
                         "cpu_busy_jobs2": cpu[2][best2],
                         "cpu_busy_jobs1": cpu[1][times[1].index(t1)],
                         "load_avg": os.getloadavg()[0]}


def part_cli(case, res, reps):
    """Wall time of whole `sigode run` commands: on the instruction program,
    and on the native backend with the model's object already in the cache
    (what every run after the first gets; the cold compile is in part 1)."""
    out = os.path.join(RESULTS, "cli_run.csv")
    base = [sigode_cli(), "run", case["model"]] + sigode_args(case) + ["--output", out]
    cmds = {b: base + ["--backend", b] for b in ("vm", "native")}
    run(cmds["native"])  # compiles if part 1 did not
    walls = {b: [] for b in cmds}
    for _ in range(reps):
        for b, cmd in cmds.items():  # interleaved
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True)
            walls[b].append(time.perf_counter() - t0)
    true_walls = []  # the cost of starting any process from here
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(["/bin/true"], check=True)
        true_walls.append(time.perf_counter() - t0)
    rel = " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in base)
    res["cli"] = {"cmd": rel + " --backend vm|native",
                  "min_s": min(walls["vm"]), "median_s": statistics.median(walls["vm"]),
                  "native_min_s": min(walls["native"]),
                  "native_median_s": statistics.median(walls["native"]),
                  "reps": reps, "true_min_s": min(true_walls)}


def part_sundials(cal, res, reps):
    """The same sigode source built twice, against Debian's libsundials
    (compiled without optimisation) and against the -O2 build of the same
    source package (scripts/build-sundials.sh), timed side by side on the
    dense and sparse paths: whole `sigode run` commands, interleaved, the
    minimum of reps."""
    deb_build = os.path.join(BUILD, "debian-sundials")
    log("building sigode against Debian's libsundials into %s" % os.path.relpath(deb_build, ROOT))
    run(["cmake", "-S", ROOT, "-B", deb_build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
         "-DSIGODE_TESTS=OFF", "-DSIGODE_SUNDIALS_DIR="])
    run(["cmake", "--build", deb_build, "-j", str(os.cpu_count() or 1), "--target", "sigode_cli"])
    bins = {"debian": os.path.join(deb_build, "sigode"), "optimised": sigode_cli()}
    chen = os.path.join(ROOT, "..", "shared", "biomodels", "BIOMD0000000255.xml")
    out = os.path.join(RESULTS, "sundials_run.csv")
    cases = [("calcineurin fk506_10nM (dense)",
              ["run", cal["model"]] + sigode_args(cal) + ["--output", out])]
    if os.path.exists(chen):
        for ls in ("dense", "klu"):
            cases.append(("BIOMD0000000255 Chen 2009 0..3600 (%s, 504 species)" % ls,
                          ["run", chen, "--t-end", "3600", "--linear-solver", ls,
                           "--rtol", "1e-8", "--atol", "1e-8", "--output", out]))
    rows = []
    for label, args in cases:
        n = reps if "calcineurin" in label else max(2, reps // 10)
        walls = {k: [] for k in bins}
        for _ in range(n):
            for k, b in bins.items():  # interleaved
                t0 = time.perf_counter()
                subprocess.run([b] + args, check=True, stdout=subprocess.DEVNULL)
                walls[k].append(time.perf_counter() - t0)
        rows.append({"case": label, "debian_s": min(walls["debian"]),
                     "optimised_s": min(walls["optimised"]), "reps": n,
                     "ratio": min(walls["debian"]) / min(walls["optimised"])})
    kind = "unknown"
    cache = os.path.join(SIGODE_BUILD, "sigode", "CMakeCache.txt")
    if not os.path.exists(cache):
        cache = os.path.join(SIGODE_BUILD, "CMakeCache.txt")
    if os.path.exists(cache):
        for line in open(cache):
            if line.startswith("SIGODE_SUNDIALS_KIND_USED"):
                kind = line.strip().split("=", 1)[1]
    res["sundials"] = {"rows": rows, "optimised_kind": kind}

# --------------------------------------------------------------- profile

CATEGORIES = [
    ("sigode VM (instruction program)", r"^sg_program_(exec|rhs|jacobian|scale)"),
    ("sigode native code (compiled model)", r"^(c\d+|sg_native_\w+)$|^[0-9a-f]{16}\.so$"),
    ("sigode <-> CVODE glue (Jacobian scatter, checks)", r"^(rhs|jacobian|sg_solver_)"),
    ("libm (pow, exp, ...)", r"libm"),
    ("KLU / COLAMD / BTF / AMD", r"lib(klu|colamd|btf|amd|suitesparse)"),
    ("CVODE + N_Vector + dense LU", r"libsundials|^(CV|N_V|SUNDls|SUNMat|SUNLin|SUNNonlin)"),
    ("load: libconfig", r"libconfig"),
    ("load + compile (sigode)", r"^(intern|find_slot|sg_pool|sg_map|sg_expr|value_of|sg_program_compile|load_|bind|parse|lex|sg_model|line_start|find_col|string_start|sg_arena|compute_into|build_deps|emit|new_slot|store|ensure_reg|sg_equation|compile_)"),
    ("output (formatting, writing)", r"(printf|_fp|sg_table|hack_digit|__mpn|write|fwrite|_IO_)"),
    ("malloc / free / memcpy / string", r"(malloc|free|_int_|memcpy|memmove|memset|strchr|strcmp|strlen|strncmp|unlink_chunk|consolidate)"),
    ("process start (dynamic loader, kernel)", r"(ld-linux|\[kernel|\[k\]|_dl_|vdso)"),
]


def perf_ok():
    if not shutil.which("perf"):
        return False
    r = subprocess.run(["perf", "record", "-e", "cpu-clock", "-o", "/dev/null", "true"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def profile(cmd, label):
    data = os.path.join(RESULTS, "perf_%s.data" % label)
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4000", "-o", data, "--"]
                   + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    rep = run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym", "--stdio"])
    cats = {c: 0.0 for c, _ in CATEGORIES}
    cats["other"] = 0.0
    top = []
    for line in rep.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
        if not m:
            continue
        pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
        if len(top) < 12:
            top.append((pct, dso, sym))
        for c, rx in CATEGORIES:
            if re.search(rx, sym) or re.search(rx, dso) or (kind == "k" and "kernel" in c):
                cats[c] += pct
                break
        else:
            cats["other"] += pct
    return {"categories": {k: round(v, 1) for k, v in cats.items() if v >= 0.05},
            "top": top}


def part_profile(cases, res):
    if not perf_ok():
        res["profile"] = {"skipped": "perf cannot record here"}
        return
    for case in cases:
        for backend in ("vm", "native"):
            label = case["name"] + ("" if backend == "vm" else "_native")
            log("profile: %s" % label)
            cmd = [os.path.join(SIGODE_BUILD, "bench_sigode"), case["model"]] + sigode_args(
                case) + ["--min-seconds", "4", "--backend", backend]
            res["profile"][label] = profile(cmd, label)
    cal = cases[0]
    script = ("for i in $(seq 200); do %s run %s %s --output /dev/null || exit 1; done" % (
        sigode_cli(), cal["model"], " ".join(sigode_args(cal))))
    log("profile: 200 x sigode run (the whole command)")
    res["profile"]["cli_run"] = profile(["sh", "-c", script], "cli_run")

# ----------------------------------------------------------------- report


def fmt_t(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return "%.0f us" % (s * 1e6)
    if s < 1:
        return "%.2f ms" % (s * 1e3)
    return "%.2f s" % s


def verdict(ok):
    return "MET" if ok else "MISSED"


def report(res):
    L = []
    w = L.append
    m = res["machine"]
    w("sigode benchmarks: %s, %s cores; commit %s%s; %s; load average at start %.2f"
      % (m["cpu"], m["cores"], m.get("commit", "?"),
         " (+ uncommitted src changes)" if m.get("src_modified") else "", m["date"],
         m["load_at_start"]))
    w("Times are the minimum over interleaved repetitions (median in brackets).")
    targets = []
    if res["limit"]:
        w("")
        w("1. The limit: sigode vs hand-written C (same CVODE settings; reference rtol %g)"
          % REF_RTOL)
        w("%-13s %-8s %6s %6s %5s %5s %21s %9s" % ("case", "tool", "steps", "RHS", "Jac",
                                                "setup", "time/sim", "error"))
        for name, e in res["limit"].items():
            for tool in ("sigode", "sigode_native", "handc"):
                r = e[tool]
                w("%-13s %-8s %6d %6d %5d %5d %9s (%9s) %9.2e" % (
                    name, {"handc": "C", "sigode": "sg vm", "sigode_native": "sg nativ"}[tool],
                    r["steps"], r["rhs"], r["jac"], r["setups"], fmt_t(r["sim_min_s"]),
                    fmt_t(r["sim_median_s"]), r["error"]))
            for label, suffix, key in (("vm", "", "sigode"), ("native", "_native",
                                                               "sigode_native")):
                ratio = e["ratio" + suffix]
                # issue 17: the small model within 1.1 of the C (both on the
                # same -O2 SUNDIALS); the large (KLU) one within 1.3
                limit = 1.1 if name == "calcineurin" else 1.3
                ok = ratio <= limit
                w("%-13s sigode %-6s / C = %.2f (median %.2f; per step %.2f)  target <= %.1f: %s%s"
                  % (name, label, ratio, e["ratio_median" + suffix], e["ratio_per_step" + suffix],
                     limit, verdict(ok), "" if e[key]["steps"] == e["handc"]["steps"] else
                     "  [steps differ: round-off; see per step]"))
                targets.append(("sigode %s / C <= %.1f (%s)" % (label, limit, name), ok,
                                "%.2f" % ratio))
            w("%-13s native: C compiled in %s (once per model, then cached); output %s"
              % ("", fmt_t(e["native_compile_s"]), "byte-identical to vm"
                 if e["native_identical"] else "DIFFERS from vm"))
            if e["case"].get("standin"):
                w("%-13s (model: stand-in %s; models/calcineurin_er.cfg does not exist yet)"
                  % ("", os.path.relpath(e["case"]["model"], ROOT)))
    if res["peers"]:
        w("")
        w("2. Peers at matched accuracy (error <= sigode's; analytic Jacobian given to all)")
        w("%-13s %-14s %8s %21s %9s %8s %12s" % ("case", "tool", "rtol", "time/sim", "error",
                                                "x sigode", "same-tol x"))
        for name, tools in res["peers"].items():
            lim = res["limit"][name]
            best = lim.get("best", "sigode")
            w("%-13s %-14s %8g %9s (%9s) %9.2e %8s %12s" % (
                name, "sigode native" if best == "sigode_native" else "sigode vm",
                lim[best]["rtol"], fmt_t(lim[best]["sim_min_s"]),
                fmt_t(lim[best]["sim_median_s"]), lim[best]["error"], "1", "1"))
            for tool, t in tools.items():
                c = t["matched"]
                same = t.get("same_tol_ratio")
                if c:
                    w("%-13s %-14s %8g %9s (%9s) %9.2e %8.1f %12s" % (
                        name, tool, c["rtol"], fmt_t(c["sim_min_s"]), fmt_t(c["sim_median_s"]),
                        c["error"], c["ratio"], "%.1f" % same if same else "-"))
                else:
                    last = t["tried"][-1] if t["tried"] else {}
                    why = ("timeout %gs" % last["timeout_s"]) if "timeout_s" in last else \
                        ("failed" if "failed" in last else "not reached (best error %.1e)"
                         % last.get("error", float("nan")))
                    w("%-13s %-14s %8s %s" % (name, tool, "-", why))
                if tool in ("scipy_LSODA", "desolve_lsoda"):
                    # issue 17: >= 20 on the small model (CVODE's own work
                    # bounds it), >= 50 on the large one
                    want = 20 if name == "calcineurin" else 50
                    ok = bool(c) and c["ratio"] >= want
                    targets.append(("%s / sigode >= %d (%s)" % (tool, want, name), ok,
                                    "%.1f" % c["ratio"] if c else "n/a"))
    sc = res["scaling"]
    if sc.get("rows"):
        w("")
        w("3. Scaling: synthetic networks (3 reactions per species), t 0..100, 101 points")
        w("%9s %8s %21s %6s %13s %11s %10s" % ("species", "file MB", "load+comp (median)",
                                              "steps", "time/sim", "per step", "peak MB"))
        for r in sc["rows"]:
            if "timeout_s" in r:
                w("%9d  did not finish within %g s (load+compile and one run)"
                  % (r["n"], r["timeout_s"]))
                continue
            w("%9d %8.1f %10s (%8s) %6d %13s %11s %10.1f" % (
                r["n"], r["file_mb"], fmt_t(r["load_s"]),
                fmt_t(r.get("load_median_s", r["load_s"])), r["steps"], fmt_t(r["sim_min_s"]),
                fmt_t(r["sim_min_s"] / r["steps"]), r["peak_rss_kib"] / 1024))
        if "exp_sim" in sc:
            lo, hi = sc["range"]
            w("fitted exponents %d..%d: time/sim n^%.2f (per step n^%.2f), load+compile n^%.2f,"
              " peak memory n^%.2f" % (lo, hi, sc["exp_sim"], sc["exp_step"], sc["exp_load"],
                                       sc["exp_mem"]))
            full = hi >= 100000
            targets.append(("time/sim grows <= n^1.2 (%d..%d)" % (lo, hi),
                            sc["exp_sim"] <= 1.2 and full, "n^%.2f%s" % (
                                sc["exp_sim"], "" if full else " (100000 not reached)")))
            targets.append(("time per step grows <= n^1.05 (%d..%d)" % (lo, hi),
                            sc["exp_step"] <= 1.05 and full, "n^%.2f%s" % (
                                sc["exp_step"], "" if full else " (100000 not reached)")))
            targets.append(("memory linear (%d..%d)" % (lo, hi), sc["exp_mem"] <= 1.1 and full,
                            "n^%.2f%s" % (sc["exp_mem"], "" if full else " (100000 not reached)")))
        big = [r for r in sc["rows"] if r["n"] == 100000]
        if big and "load_s" in big[0]:
            targets.append(("load+compile 100000 species < 1.5 s", big[0]["load_s"] < 1.5,
                            fmt_t(big[0]["load_s"])))
        else:
            targets.append(("load+compile 100000 species < 1.5 s", False, "not reached"))
    if res.get("cli"):
        c = res["cli"]
        w("")
        w("4. Whole command: %s" % c["cmd"])
        w("   vm:     wall %s min, %s median over %d runs (starting /bin/true costs %s here)"
          % (fmt_t(c["min_s"]), fmt_t(c["median_s"]), c["reps"], fmt_t(c["true_min_s"])))
        targets.append(("whole sigode run < 20 ms (vm)", c["min_s"] < 0.020, fmt_t(c["min_s"])))
        if "native_min_s" in c:
            w("   native: wall %s min, %s median (object from the cache: dlopen, no compile)"
              % (fmt_t(c["native_min_s"]), fmt_t(c["native_median_s"])))
            targets.append(("whole sigode run < 20 ms (native, cached)",
                            c["native_min_s"] < 0.020, fmt_t(c["native_min_s"])))
    t = res.get("throughput")
    if t and "serial_s" in t:
        w("")
        w("5. Throughput: %d-point FK506 scan (sigode scan ... --jobs N)" % t["points"])
        w("   --jobs 1: %s   --jobs 2: %s   all %d cores (--jobs 0): %s" % (
            fmt_t(t["serial_s"]), fmt_t(t["jobs2_s"]), t["cores"], fmt_t(t["all_cores_s"])))
        w("   speed-up on 2 cores %.2fx (parallel efficiency %.0f%%), %.0f us per point serial;"
          " load average %.2f" % (t["speedup2"], 100 * t["efficiency2"], t["per_point_us"],
                                  t["load_avg"]))
        if "cpu_busy_jobs2" in t:
            w("   CPU the scan got: --jobs 1 %.2f cores, --jobs 2 %.2f cores%s" % (
                t["cpu_busy_jobs1"], t["cpu_busy_jobs2"],
                "  (others were using the machine: the speed-up is bounded by the cores it got)"
                if t["cpu_busy_jobs2"] < 1.8 else ""))
        targets.append(("scan >= 1.8x faster on 2 cores", t["speedup2"] >= 1.8,
                        "%.2fx" % t["speedup2"]))
    su = res.get("sundials")
    if su:
        w("")
        w("5b. SUNDIALS build: the same sigode linked to Debian's libsundials (no optimisation)"
          " and to the -O2 build of the same source (scripts/build-sundials.sh; this build: %s)"
          % su["optimised_kind"])
        for r in su["rows"]:
            w("   %-52s Debian %s  -O2 %s  ratio %.2fx (min of %d)" % (
                r["case"], fmt_t(r["debian_s"]), fmt_t(r["optimised_s"]), r["ratio"], r["reps"]))
    pr = res.get("profile")
    if pr:
        w("")
        w("6. Where the time goes (perf, cpu-clock samples; %)")
        if "skipped" in pr:
            w("   skipped: " + pr["skipped"])
        for label, p in pr.items():
            if label == "skipped":
                continue
            cats = sorted(p["categories"].items(), key=lambda kv: -kv[1])
            w("   %s: %s" % (label, "; ".join("%s %.1f" % kv for kv in cats)))
    w("")
    w("Targets")
    for name, ok, value in targets:
        w("  %-46s %-7s %s" % (name, verdict(ok), value))
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer rounds, sizes to 10000, a 1000-point scan")
    ap.add_argument("--only", default="limit,peers,scaling,cli,throughput,sundials,profile")
    ap.add_argument("--sizes", default="100,300,1000,3000,10000,30000,100000")
    ap.add_argument("--scan-points", type=int, default=10000)
    ap.add_argument("--max-size-seconds", type=float, default=600)
    ap.add_argument("--peer-seconds", type=float, default=300,
                    help="time limit of one peer run")
    ap.add_argument("--peers", default="scipy_LSODA,scipy_BDF,desolve_lsoda")
    ap.add_argument("--report-only", metavar="RESULTS_JSON")
    ap.add_argument("--results", metavar="DIR", help="where results go (build-bench/results)")
    ap.add_argument("--sigode-build", metavar="DIR",
                    help="take bench_sigode and sigode from DIR (a build of another source "
                         "tree: cmake -S scripts/bench -B DIR -DSIGODE_SOURCE_DIR=TREE)")
    a = ap.parse_args()
    global SIGODE_BUILD, RESULTS
    if a.results:
        RESULTS = os.path.abspath(a.results)
    if a.sigode_build:
        SIGODE_BUILD = os.path.abspath(a.sigode_build)
    if a.report_only:
        with open(a.report_only) as f:
            print(report(json.load(f)))
        return 0
    parts = set(a.only.split(","))
    sizes = [int(x) for x in a.sizes.split(",")]
    rounds, scan_reps, cli_reps = 5, 3, 50
    if a.quick:
        sizes = [n for n in sizes if n <= 10000]
        rounds, scan_reps, cli_reps = 2, 1, 20
        a.scan_points = min(a.scan_points, 1000)
    os.makedirs(GEN, exist_ok=True)
    os.makedirs(os.path.join(RESULTS), exist_ok=True)
    # compiled models (the native backend) go to a cache of this run's own,
    # empty at the start: the first native use of each model is a cold compile
    cache = os.path.join(RESULTS, "native-cache")
    shutil.rmtree(cache, ignore_errors=True)
    os.environ["SIGODE_CACHE_DIR"] = cache
    res = {"machine": machine(), "limit": {}, "peers": {}, "scaling": {}, "profile": {}}
    cal = calcineurin_case()
    net = {"name": "net1000", "model": network(1000), "standin": False, "sets": {},
           "scenario": "bench",
           "t_end": 100.0, "points": 101, "scan_target": None}
    cases = [cal, net]
    build([(c["name"], c["model"]) for c in cases])
    if "limit" in parts or "peers" in parts:
        part_limit(cases, res, rounds)
    if "peers" in parts:
        part_peers(cases, res, a.peers.split(","), a.peer_seconds)
    if "cli" in parts:
        part_cli(cal, res, cli_reps)
    if "throughput" in parts:
        part_throughput(cal, res, a.scan_points, scan_reps)
    if "sundials" in parts:
        part_sundials(cal, res, cli_reps)
    if "scaling" in parts:
        part_scaling(res, sizes, a.max_size_seconds)
    if "profile" in parts:
        part_profile(cases, res)
    path = os.path.join(RESULTS, "results.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1, default=str)
    text = report(res)
    with open(os.path.join(RESULTS, "report.txt"), "w") as f:
        f.write(text + "\n")
    print(text)
    log("results in %s" % os.path.relpath(os.path.dirname(path), ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""End-to-end checks of sigode's estimation commands (run by CTest).

    check.py SIGODE fit-recovers       conversion problem: noise-free data made
                                       from k1 = 0.3, k2 = 0.15, scale = 2 by
                                       the closed form; the fit must recover
                                       them to 1e-4 relative
    check.py SIGODE fit-plots          waterfall, fit and profile plots, odd paths
    check.py SIGODE fit-deterministic  --jobs 1 and --jobs 2 write the same bytes
    check.py SIGODE objective-features laplace noise, log observable, time inf,
                                       priors: llh, chi2, nllh against closed forms
    check.py SIGODE gradient           nllh gradient: sensitivities = finite differences
    check.py SIGODE fit-model          sigode fit MODEL.cfg --data: recovery to 1e-4
    check.py SIGODE model-keys         bad estimate/bounds/scale in a model file
    check.py SIGODE bad-input          malformed problems: exit 2 and a message
                                       naming file, row and column
    check.py SIGODE profile-analytic   a parameter entering linearly: the 95%
                                       interval of its parabolic profile
    check.py SIGODE profile-nonidentifiable  two parameters seen only as a
                                       product: both non-identifiable
    check.py SIGODE gradient-events    gradients through model events = finite differences
    check.py SIGODE gradient-steady    gradients with measurements at time inf = finite differences
    check.py SIGODE gradient-preeq     gradients through pre-equilibration = finite differences
    check.py SIGODE gradient-compartments  estimated compartment sizes (also through
                                       pre-equilibration): gradients from
                                       sensitivities = closed form = finite differences,
                                       and a fit that uses them
    check.py SIGODE multi-file         tables split over several files read as one
    check.py SIGODE benchmark          Boehm_JProteomeRes2014 at its nominal
                                       parameters: llh = -138.22199693517703
                                       (the published value) to 1e-3
"""
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERSION = os.path.join(HERE, "conversion")


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def read_params(path):
    with open(path) as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    head = rows[0]
    return {r[head.index("parameterId")]: float(r[head.index("nominalValue")]) for r in rows[1:]}


def fit_recovers(sigode):
    """Every optimiser and both samplings recover the parameters."""
    for optimizer, sampling in (("lbfgs", "lhs"), ("slsqp", "sobol"), ("lm", "lhs")):
        fit_recovers_with(sigode, optimizer, sampling)


def fit_recovers_with(sigode, optimizer, sampling):
    truth = {"k1": 0.3, "k2": 0.15, "scale": 2.0}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "est.tsv")
        p = run([sigode, "fit", os.path.join(CONVERSION, "problem.yaml"), "--starts", "4",
                 "--seed", "3", "--jobs", "2", "--output", out, "--no-plots",
                 "--optimizer", optimizer, "--sampling", sampling])
        if p.returncode != 0:
            fail(f"fit exit {p.returncode}: {p.stderr}")
        if not re.search(r"^best nllh = -?[0-9.e+-]+$", p.stdout, re.M):
            fail(f"no 'best nllh = ' line: {p.stdout}")
        est = read_params(out)
        for k, v in truth.items():
            if abs(est[k] - v) > 1e-4 * abs(v):
                fail(f"{k} = {est[k]}, expected {v} (1e-4 relative)")
        for suffix in ("_starts.tsv",):
            if not os.path.exists(os.path.join(tmp, "est" + suffix)):
                fail(f"no est{suffix}")
    print(f"ok: {optimizer}, {sampling}: estimates within 1e-4 of", truth)


def fit_plots(sigode):
    """The waterfall and fit plots are drawn (PNG files), also when the
    output path holds a quote and a space (strings passed to gnuplot are
    inert)."""
    with tempfile.TemporaryDirectory() as tmp:
        odd = os.path.join(tmp, "it's a dir")
        os.mkdir(odd)
        out = os.path.join(odd, "est.tsv")
        p = run([sigode, "fit", os.path.join(CONVERSION, "problem.yaml"), "--starts", "2",
                 "--output", out])
        if p.returncode != 0:
            fail(f"fit exit {p.returncode}: {p.stderr}")
        for name in ("est_waterfall.png", "est_fit.png"):
            path = os.path.join(odd, name)
            if not os.path.exists(path):
                fail(f"no {name}: {os.listdir(odd)}")
            with open(path, "rb") as f:
                if f.read(8) != b"\x89PNG\r\n\x1a\n":
                    fail(f"{name} is not a PNG")
        left = [f for f in os.listdir(odd) if ".tmp." in f or ".dat." in f or ".gp." in f]
        if left:
            fail(f"temporary files left: {left}")
        p = run([sigode, "profile", os.path.join(CONVERSION, "problem.yaml"), "--parameters", out,
                 "--params", "scale", "--output", os.path.join(odd, "prof.tsv")])
        if p.returncode != 0 or not os.path.exists(os.path.join(odd, "prof.png")):
            fail(f"profile plot: exit {p.returncode}: {p.stderr}")
    print("ok: waterfall, fit and profile plots drawn")


def fit_deterministic(sigode):
    outputs = []
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in ("1", "2"):
            out = os.path.join(tmp, f"j{jobs}.tsv")
            p = run([sigode, "fit", os.path.join(CONVERSION, "problem.yaml"), "--starts", "6",
                     "--seed", "11", "--jobs", jobs, "--output", out, "--no-plots"])
            if p.returncode != 0:
                fail(f"fit --jobs {jobs} exit {p.returncode}: {p.stderr}")
            with open(out, "rb") as f:
                params = f.read()
            with open(os.path.join(tmp, f"j{jobs}_starts.tsv"), "rb") as f:
                starts = f.read()
            outputs.append((p.stdout, params, starts))
    if outputs[0] != outputs[1]:
        fail("--jobs 1 and --jobs 2 differ")
    print("ok: --jobs 1 and --jobs 2 give the same bytes")


# (what, file to change, function of its text, expected message pattern)
BAD = [
    ("malformed YAML", "problem.yaml", lambda t: t.replace("problems:", "problems: [\n"),
     r"problem\.yaml:\d+:\d+: error: malformed YAML"),
    ("YAML naming a missing table", "problem.yaml",
     lambda t: t.replace("conditions.tsv", "nowhere.tsv"), r"nowhere\.tsv: error: cannot read"),
    ("row with a missing field", "measurements.tsv",
     lambda t: t.replace("obs_a\tc0\t1\t", "obs_a\tc0\t", 1), r"measurements\.tsv:4:3: error: row has 3 fields"),
    ("missing column", "observables.tsv", lambda t: t.replace("noiseFormula", "noise"),
     r"observables\.tsv:1: error: missing column 'noiseFormula'"),
    ("unknown id in a formula", "observables.tsv", lambda t: t.replace("scale * B", "scale * C"),
     r"observables\.tsv:3:2: error: .*unknown id 'C'.*column 'observableFormula'"),
    ("syntax error in a formula", "observables.tsv", lambda t: t.replace("scale * B", "scale * (B"),
     r"observables\.tsv:3:2: error: .*observableFormula"),
    ("measurement for a nonexistent condition", "measurements.tsv",
     lambda t: t.replace("obs_b\tc0\t2\t", "obs_b\tc9\t2\t"),
     r"measurements\.tsv:7:2: error: unknown condition 'c9'"),
    ("unknown observable", "measurements.tsv", lambda t: t.replace("obs_b\tc0\t4\t", "obs_x\tc0\t4\t"),
     r"measurements\.tsv:9:1: error: unknown observable 'obs_x'"),
    ("non-numeric measurement", "measurements.tsv",
     lambda t: re.sub(r"(obs_a\tc0\t8\t)[^\n]*", r"\1high", t),
     r"measurements\.tsv:10:4: error: measurement 'high'"),
    ("non-positive measurement on a log scale", "observables.tsv",
     lambda t: t.replace("obs_a\tA\t0.1", "obs_a\tA\t0.1\tlog").replace("noiseFormula", "noiseFormula\tobservableTransformation").replace("obs_b\tscale * B\t0.1", "obs_b\tscale * B\t0.1\tlin"),
     None),  # made below together with a zero measurement
    ("non-positive lower bound on a log scale", "parameters.tsv",
     lambda t: t.replace("k1\tlog10\t0.001", "k1\tlog10\t0"),
     r"parameters\.tsv:2:3: error: parameter 'k1' is on a log10 scale"),
    ("bounds excluding the nominal value", "parameters.tsv",
     lambda t: t.replace("scale\tlin\t0.1\t10\t1", "scale\tlin\t0.1\t10\t20"),
     r"parameters\.tsv:4:5: error: the bounds \[0.1, 10\] exclude the nominal value 20"),
    ("bad scale", "parameters.tsv", lambda t: t.replace("scale\tlin", "scale\tlog2"),
     r"parameters\.tsv:4:2: error: scale 'log2'"),
    ("condition column not in the model", "conditions.tsv", lambda t: t.replace("\tA", "\tZ"),
     r"conditions\.tsv:1:2: error: 'Z' is not a parameter, species or compartment"),
    ("control character", "conditions.tsv", lambda t: t.replace("c0", "c\x010"),
     r"conditions\.tsv:2:1: error: control character"),
    ("duplicate column", "conditions.tsv", lambda t: t.replace("conditionId\tA", "conditionId\tA\tA").replace("c0\t1", "c0\t1\t1"),
     r"conditions\.tsv:1:3: error: column 'A' appears twice"),
]


def bad_input(sigode):
    failures = 0
    for what, name, change, pattern in BAD:
        with tempfile.TemporaryDirectory() as tmp:
            for f in os.listdir(CONVERSION):
                shutil.copy(os.path.join(CONVERSION, f), tmp)
            path = os.path.join(tmp, name)
            with open(path) as f:
                text = f.read()
            with open(path, "w") as f:
                f.write(change(text))
            if pattern is None:  # log-transformed observable with a zero measurement
                mpath = os.path.join(tmp, "measurements.tsv")
                with open(mpath) as f:
                    m = f.read()
                m = re.sub(r"(obs_a\tc0\t2\t)[^\n]*", r"\g<1>0", m)
                with open(mpath, "w") as f:
                    f.write(m)
                pattern = r"measurements\.tsv:6:4: error: measurement 0 of observable 'obs_a' must be positive"
            p = run([sigode, "petab", "evaluate", os.path.join(tmp, "problem.yaml")])
            if p.returncode != 2 or not re.search(pattern, p.stderr):
                print(f"FAIL: {what}: exit {p.returncode}, stderr {p.stderr.strip()!r}, "
                      f"expected exit 2 and /{pattern}/")
                failures += 1
            else:
                print(f"ok: {what}: {p.stderr.strip()}")
    # --parameters naming an unknown parameter
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "given.tsv")
        with open(bad, "w") as f:
            f.write("parameterId\tnominalValue\nk1\t0.3\nk9\t1\n")
        p = run([sigode, "petab", "evaluate", os.path.join(CONVERSION, "problem.yaml"),
                 "--parameters", bad])
        if p.returncode != 2 or not re.search(r"given\.tsv:3:1: error: 'k9'", p.stderr):
            print(f"FAIL: --parameters with an unknown id: exit {p.returncode}, {p.stderr!r}")
            failures += 1
    if failures:
        sys.exit(1)


def closed_form_b(t, k1=0.3, k2=0.15):
    eq = k2 / (k1 + k2)
    return 1 - (eq + (1 - eq) * math.exp(-(k1 + k2) * t))


def profile_problem(tmp, params, formula_b):
    for f in os.listdir(CONVERSION):
        shutil.copy(os.path.join(CONVERSION, f), tmp)
    with open(os.path.join(tmp, "parameters.tsv"), "w") as f:
        f.write("parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n")
        f.write("k1\tlog10\t0.001\t10\t0.3\t0\nk2\tlog10\t0.001\t10\t0.15\t0\n")
        f.write(params)
    with open(os.path.join(tmp, "observables.tsv"), "w") as f:
        f.write(f"observableId\tobservableFormula\tnoiseFormula\nobs_a\tA\t0.1\nobs_b\t{formula_b}\t0.1\n")
    return os.path.join(tmp, "problem.yaml")


def profile_analytic(sigode):
    """Only `scale` estimated: y = scale * B(t) is linear in it, so the profile
    is the parabola nllh* + (scale - 2)^2 S / 2, S = sum (B_i / sigma)^2, and
    the 95% interval is 2 -+ sqrt(2 * 1.92073) / sqrt(S)."""
    with tempfile.TemporaryDirectory() as tmp:
        yaml = profile_problem(tmp, "scale\tlin\t0.1\t10\t2\t1\n", "scale * B")
        p = run([sigode, "profile", yaml, "--parameters", os.path.join(tmp, "parameters.tsv"),
                 "--output", os.path.join(tmp, "prof.tsv"), "--no-plots"])
        if p.returncode != 0:
            fail(f"profile exit {p.returncode}: {p.stderr}")
        m = re.search(r"^scale: 95% CI \[(\S+), (\S+)\]", p.stdout, re.M)
        if not m:
            fail(f"no interval for scale: {p.stdout}")
        S = sum((2 * 0 + closed_form_b(t) / 0.1) ** 2 for t in (0.5, 1, 2, 4, 8, 16))
        half = math.sqrt(2 * 3.8414588206941245 / 2) / math.sqrt(S)
        lo, hi = float(m.group(1)), float(m.group(2))
        for got, want in ((lo, 2 - half), (hi, 2 + half)):
            if abs(got - want) > 1e-3 * half:
                fail(f"interval end {got}, closed form {want} (half-width {half})")
        print(f"ok: scale 95% CI [{lo}, {hi}], closed form [{2 - half}, {2 + half}]")


def profile_nonidentifiable(sigode):
    """`scale` and `s2` appear only as their product: each alone is not
    identifiable (its profile is flat up to a bound)."""
    with tempfile.TemporaryDirectory() as tmp:
        yaml = profile_problem(tmp, "scale\tlin\t0.1\t10\t1\t1\ns2\tlin\t0.1\t10\t2\t1\n",
                               "scale * s2 * B")
        p = run([sigode, "profile", yaml, "--parameters", os.path.join(tmp, "parameters.tsv"),
                 "--output", os.path.join(tmp, "prof.tsv"), "--no-plots"])
        if p.returncode != 0:
            fail(f"profile exit {p.returncode}: {p.stderr}")
        for pid in ("scale", "s2"):
            if not re.search(rf"^{pid}: (practically )?non-identifiable", p.stdout, re.M):
                fail(f"{pid} not reported non-identifiable: {p.stdout}")
        print("ok:", p.stdout.strip().replace("\n", "; "))


def gradient(sigode):
    """Gradients from forward sensitivities against central finite
    differences (conversion problem away from its optimum; Boehm at its
    nominal parameters, where the gradient is small: absolute 1e-3)."""
    cases = [(os.path.join(CONVERSION, "problem.yaml"), 1e-6, 0),
             (os.path.join(HERE, "benchmark", "Boehm_JProteomeRes2014",
                           "Boehm_JProteomeRes2014.yaml"), 0, 1e-3)]
    for yaml, rel, absolute in cases:
        got = {}
        for source in ("sens", "fd"):
            p = run([sigode, "petab", "evaluate", yaml, "--gradient", source])
            if p.returncode != 0:
                fail(f"--gradient {source}: exit {p.returncode}: {p.stderr}")
            got[source] = {m.group(1): float(m.group(2))
                           for m in re.finditer(r"^dnllh/d(\S+) = (\S+)$", p.stdout, re.M)}
            if not got[source]:
                fail(f"no gradient printed: {p.stdout}")
        for k, v in got["sens"].items():
            w = got["fd"][k]
            if abs(v - w) > rel * abs(w) + absolute:
                fail(f"{os.path.basename(yaml)}: d/d{k}: sensitivities {v}, finite differences {w}")
        print(f"ok: {os.path.basename(yaml)}: {len(got['sens'])} derivatives agree")


def sens_and_fd_agree(sigode, yaml, names):
    """`petab evaluate --gradient sens` (which must come from sensitivities)
    and `--gradient fd` print the derivatives `names`, equal to 1e-5
    relative (plus 1e-6 absolute); returns the sensitivities' values."""
    got = {}
    for source in ("sens", "fd"):
        p = run([sigode, "petab", "evaluate", yaml, "--gradient", source])
        if p.returncode != 0:
            fail(f"--gradient {source}: exit {p.returncode}: {p.stderr}")
        if source == "sens" and "forward sensitivities" not in p.stdout:
            fail(f"not from sensitivities: {p.stdout}")
        got[source] = {m.group(1): float(m.group(2))
                       for m in re.finditer(r"^dnllh/d(\S+) = (\S+)$", p.stdout, re.M)}
    if set(got["sens"]) != names:
        fail(f"derivatives printed: {got['sens']}")
    for k, v in got["sens"].items():
        w = got["fd"][k]
        if abs(v - w) > 1e-5 * abs(w) + 1e-6:
            fail(f"d/d{k}: sensitivities {v}, finite differences {w}")
    return got["sens"]


def model_from_cfg(sigode, tmp, name, text):
    """Writes the model text as tmp/name and its SBML as tmp/model.xml
    (the problems' model file); returns the .cfg path."""
    cfg = os.path.join(tmp, name)
    with open(cfg, "w") as f:
        f.write(text)
    p = run([sigode, "convert", cfg, "--to", "sbml", "--output", os.path.join(tmp, "model.xml")])
    if p.returncode != 0:
        fail(f"convert: {p.stderr}")
    return cfg


EVENT_MODEL = """name = "bolus";
parameters = ( { id = "k1"; value = 0.3; }, { id = "k2"; value = 0.15; },
               { id = "dose"; value = 0.5; } );
species = ( { id = "A"; initial = 1.0; }, { id = "B"; initial = 0.0; } );
reactions = ( { id = "fwd"; equation = "A -> B"; rate = "k1 * A"; },
              { id = "rev"; equation = "B -> A"; rate = "k2 * B"; } );
events = ( { id = "bolus"; trigger = "time >= 3"; assign = { A = "A + dose * B"; }; },
           { id = "drop"; trigger = "B > 0.6"; assign = { B = "0.5 * B"; }; } );
"""


def gradient_events(sigode):
    """Gradients through model events (a timed bolus that depends on a
    state and a parameter, and a state-triggered halving whose time moves
    with the parameters) from sensitivities equal central finite
    differences to 1e-5 relative; the events must fire in the data's span."""
    with tempfile.TemporaryDirectory() as tmp:
        for f in os.listdir(CONVERSION):
            shutil.copy(os.path.join(CONVERSION, f), tmp)
        cfg = model_from_cfg(sigode, tmp, "bolus.cfg", EVENT_MODEL)
        with open(os.path.join(tmp, "parameters.tsv"), "a") as f:
            f.write("dose\tlin\t0.01\t10\t0.5\t1\n")
        p = run([sigode, "run", cfg, "--t-end", "16", "--points", "161"])
        rows = [l.split(",") for l in p.stdout.split("\n")[1:] if l]
        b = [float(r[2]) for r in rows]
        if sum(b[i + 1] < 0.7 * b[i] for i in range(len(b) - 1)) < 2:
            fail(f"the state-triggered event does not fire twice in 0..16: B = {b[::10]}")
        got = sens_and_fd_agree(sigode, os.path.join(tmp, "problem.yaml"),
                                {"k1", "k2", "scale", "dose"})
        print(f"ok: {len(got)} derivatives through events agree: {got}")


def gradient_steady(sigode):
    """Measurements at time inf: gradients from steady-state sensitivities
    (implicit function theorem, the conservation law A + B = A0 kept)
    equal central finite differences to 1e-5 relative, in a condition with
    finite times too and in one with only time inf (where A0 = 2 and the
    steady state A = A0 k2 / (k1 + k2) depends on it through the law)."""
    with tempfile.TemporaryDirectory() as tmp:
        for f in os.listdir(CONVERSION):
            shutil.copy(os.path.join(CONVERSION, f), tmp)
        with open(os.path.join(tmp, "conditions.tsv"), "w") as f:
            f.write("conditionId\tA\nc0\t1\nc1\t2\n")
        with open(os.path.join(tmp, "measurements.tsv"), "w") as f:
            f.write("observableId\tsimulationConditionId\ttime\tmeasurement\n"
                    "obs_a\tc0\t1\t0.7\nobs_b\tc0\t2\t0.6\nobs_a\tc0\tinf\t0.4\n"
                    "obs_b\tc0\tinf\t1.1\nobs_a\tc1\tinf\t0.8\nobs_b\tc1\tinf\t2.5\n")
        got = sens_and_fd_agree(sigode, os.path.join(tmp, "problem.yaml"),
                                {"k1", "k2", "scale"})
        print(f"ok: derivatives with measurements at time inf agree: {got}")


def gradient_preeq(sigode):
    """Pre-equilibration: A <-> B (total conserved) pre-equilibrated at
    k1 = k1_pre, then simulated at k1 = k1_main (c0), or at k1_main with B
    reset to 0.5 (c1, also at time inf). Gradients from sensitivities equal
    central finite differences to 1e-5 relative; d/d k1_pre, which reaches
    the data only through the pre-equilibrated start, must not be zero
    (it is if the start sensitivities are left zero). Then the PEtab test
    suite's pre-equilibration cases 0010 and 0017 (states reset by the
    simulation condition, k1 differing between the two conditions)."""
    with tempfile.TemporaryDirectory() as tmp:
        for f in os.listdir(CONVERSION):
            shutil.copy(os.path.join(CONVERSION, f), tmp)
        with open(os.path.join(tmp, "parameters.tsv"), "w") as f:
            f.write("parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n"
                    "k1_pre\tlog10\t0.001\t10\t0.4\t1\nk1_main\tlog10\t0.001\t10\t0.1\t1\n"
                    "k2\tlog10\t0.001\t10\t0.2\t1\nscale\tlin\t0.1\t10\t1\t1\n")
        with open(os.path.join(tmp, "conditions.tsv"), "w") as f:
            f.write("conditionId\tk1\tB\npre\tk1_pre\tNaN\nc0\tk1_main\tNaN\n"
                    "c1\tk1_main\t0.5\n")
        with open(os.path.join(tmp, "measurements.tsv"), "w") as f:
            f.write("observableId\tpreequilibrationConditionId\tsimulationConditionId\ttime\tmeasurement\n"
                    "obs_a\tpre\tc0\t0.5\t0.7\nobs_b\tpre\tc0\t2\t0.6\n"
                    "obs_a\tpre\tc1\t1\t0.8\nobs_b\tpre\tc1\t1\t0.9\n"
                    "obs_a\tpre\tc1\tinf\t1.1\n")
        got = sens_and_fd_agree(sigode, os.path.join(tmp, "problem.yaml"),
                                {"k1_pre", "k1_main", "k2", "scale"})
        if abs(got["k1_pre"]) < 1e-3:
            fail(f"d/d k1_pre is {got['k1_pre']}: the pre-equilibration's sensitivities are lost")
        print(f"ok: derivatives through pre-equilibration agree: {got}")
    suite = "/work/shared/petab-test-suite/cases"
    for case in ("0010", "0017"):
        yaml = os.path.join(suite, case, f"_{case}.yaml")
        if not os.path.exists(yaml):
            print(f"skipped: {yaml} not found")
            continue
        got = sens_and_fd_agree(sigode, yaml, {"k2"})
        print(f"ok: PEtab suite case {case}: {got}")


VOLUME_MODEL = """name = "volumes";
compartments = ( { id = "cyt"; size = 2.0; }, { id = "nuc"; size = 0.5; } );
parameters = ( { id = "k1"; value = 0.3; } );
species = ( { id = "A"; initial = "1 / cyt"; compartment = "cyt"; },
            { id = "B"; initial = 0.0; compartment = "nuc"; } );
reactions = ( { id = "imp"; equation = "A -> B"; rate = "k1 * A"; } );
"""

VOLUME_TIMES = (0.5, 1, 2, 4, 8, math.inf)


def volume_observables(k1, vc, vn, t):
    """The closed form of the volume problem's observables and their
    derivatives by (k1, cyt, nuc): the amount 1 starts in cyt (A(0) =
    1 / cyt) and moves into nuc at the amount flux k1 A, so
    A = e / cyt, B = (1 - e) / nuc with e = exp(-k1 t / cyt)."""
    e = 0.0 if math.isinf(t) else math.exp(-k1 * t / vc)
    te = 0.0 if math.isinf(t) else t * e
    a = e / vc
    b = (1 - e) / vn
    return {"obs_a": (a, (-te / vc ** 2, -e / vc ** 2 + k1 * te / vc ** 3, 0.0)),
            "obs_b": (1 - e, (te / vc, -k1 * te / vc ** 2, 0.0)),
            "obs_c": (b, (te / (vc * vn), -k1 * te / (vc ** 2 * vn), -b / vn))}


def gradient_compartments(sigode):
    """Estimated compartment sizes (issue 19): cyt (lin) and nuc (log10)
    with k1 (log10). cyt enters the start value (an amount over it), the
    rate of change of A (the flux divided by it) and, at time inf, the
    size-weighted conservation law; the observable B * nuc reads nuc. The
    gradient from sensitivities must be the analytic gradient of the
    closed form and central finite differences to 1e-5 relative; a fit
    must use the sensitivities (no fallback note) and recover the sizes.
    The closed form is the strict reference: the finite differences (step
    1e-5 on objective runs at rtol 1e-10) are themselves only good to
    ~1e-5 here (1.3e-5 off the closed form at k1 = 0.3, cyt = 2, where the
    sensitivities agree with it to 1e-8)."""
    noise = {"obs_a": 0.05, "obs_b": 0.05, "obs_c": 0.1}
    truth = {"k1": 0.4, "cyt": 1.5, "nuc": 0.6}
    nominal = {"k1": 0.35, "cyt": 1.7, "nuc": 0.55}
    scales = {"k1": "log10", "cyt": "lin", "nuc": "log10"}
    with tempfile.TemporaryDirectory() as tmp:
        model_from_cfg(sigode, tmp, "volumes.cfg", VOLUME_MODEL)
        shutil.copy(os.path.join(CONVERSION, "problem.yaml"), tmp)
        with open(os.path.join(tmp, "parameters.tsv"), "w") as f:
            f.write("parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n"
                    "k1\tlog10\t0.001\t10\t0.35\t1\ncyt\tlin\t0.1\t10\t1.7\t1\n"
                    "nuc\tlog10\t0.01\t10\t0.55\t1\n")
        with open(os.path.join(tmp, "conditions.tsv"), "w") as f:
            f.write("conditionId\nc0\n")
        with open(os.path.join(tmp, "observables.tsv"), "w") as f:
            f.write("observableId\tobservableFormula\tnoiseFormula\n"
                    "obs_a\tA\t0.05\nobs_b\tB * nuc\t0.05\nobs_c\tB\t0.1\n")
        data = []
        for t in VOLUME_TIMES:
            for oid, (y, _) in volume_observables(truth["k1"], truth["cyt"], truth["nuc"], t).items():
                data.append((oid, t, y))
        with open(os.path.join(tmp, "measurements.tsv"), "w") as f:
            f.write("observableId\tsimulationConditionId\ttime\tmeasurement\n")
            for oid, t, y in data:
                f.write(f"{oid}\tc0\t{'inf' if math.isinf(t) else t}\t{y!r}\n")
        yaml = os.path.join(tmp, "problem.yaml")
        got = sens_and_fd_agree(sigode, yaml, {"k1", "cyt", "nuc"})
        # d nllh / d theta = -sum (y - h) / sigma^2 dh/dtheta, on the scales
        want = {"k1": 0.0, "cyt": 0.0, "nuc": 0.0}
        names = ("k1", "cyt", "nuc")
        for oid, t, y in data:
            h, dh = volume_observables(nominal["k1"], nominal["cyt"], nominal["nuc"], t)[oid]
            for name, d in zip(names, dh):
                chain = nominal[name] * math.log(10) if scales[name] == "log10" else 1.0
                want[name] += -(y - h) / noise[oid] ** 2 * d * chain
        for name in names:
            if abs(got[name] - want[name]) > 1e-5 * abs(want[name]) + 1e-6:
                fail(f"d/d{name}: sensitivities {got[name]}, closed form {want[name]}")
        print(f"ok: derivatives by compartment sizes = closed form = finite differences: {got}")
        out = os.path.join(tmp, "est.tsv")
        p = run([sigode, "fit", yaml, "--starts", "3", "--seed", "2", "--jobs", "1",
                 "--output", out, "--no-plots"])
        if p.returncode != 0:
            fail(f"fit exit {p.returncode}: {p.stderr}")
        if "no sensitivities" in p.stderr or "gradient: forward sensitivities" not in p.stderr:
            fail(f"the fit did not use sensitivities: {p.stderr}")
        est = read_params(out)
        for k, v in truth.items():
            if abs(est[k] - v) > 1e-4 * v:
                fail(f"fit: {k} = {est[k]}, expected {v} (1e-4 relative)")
        print(f"ok: the fit used sensitivities and recovered {truth}: {est}")
    gradient_compartments_preeq(sigode)


TRANSPORT_MODEL = """name = "transport";
compartments = ( { id = "cyt"; size = 2.0; }, { id = "nuc"; size = 0.5; } );
parameters = ( { id = "k1"; value = 0.3; }, { id = "k2"; value = 0.2; } );
species = ( { id = "A"; initial = "1 / cyt"; compartment = "cyt"; },
            { id = "B"; initial = 0.0; compartment = "nuc"; } );
reactions = ( { id = "imp"; equation = "A <-> B"; rate = "k1 * A - k2 * B"; } );
"""


def gradient_compartments_preeq(sigode):
    """Reversible transport cyt <-> nuc pre-equilibrated at k1 = k1_pre,
    then run at k1_main (c0; c1 also resets B): the steady state's
    conservation law weighs A and B by the sizes (amounts are conserved),
    so d/d cyt and d/d nuc go through the law's total as well. Gradients
    from sensitivities = central finite differences to 1e-5 relative."""
    with tempfile.TemporaryDirectory() as tmp:
        model_from_cfg(sigode, tmp, "transport.cfg", TRANSPORT_MODEL)
        shutil.copy(os.path.join(CONVERSION, "problem.yaml"), tmp)
        with open(os.path.join(tmp, "parameters.tsv"), "w") as f:
            f.write("parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n"
                    "k1_pre\tlog10\t0.001\t10\t0.4\t1\nk1_main\tlog10\t0.001\t10\t0.1\t1\n"
                    "k2\tlog10\t0.001\t10\t0.2\t1\ncyt\tlin\t0.1\t10\t1.7\t1\n"
                    "nuc\tlog10\t0.01\t10\t0.55\t1\n")
        with open(os.path.join(tmp, "conditions.tsv"), "w") as f:
            f.write("conditionId\tk1\tB\npre\tk1_pre\tNaN\nc0\tk1_main\tNaN\n"
                    "c1\tk1_main\t0.5\n")
        with open(os.path.join(tmp, "observables.tsv"), "w") as f:
            f.write("observableId\tobservableFormula\tnoiseFormula\n"
                    "obs_a\tA\t0.1\nobs_b\tB * nuc\t0.1\n")
        with open(os.path.join(tmp, "measurements.tsv"), "w") as f:
            f.write("observableId\tpreequilibrationConditionId\tsimulationConditionId\ttime\tmeasurement\n"
                    "obs_a\tpre\tc0\t0.5\t0.7\nobs_b\tpre\tc0\t2\t0.6\n"
                    "obs_a\tpre\tc1\t1\t0.8\nobs_b\tpre\tc1\t1\t0.9\n"
                    "obs_a\tpre\tc1\tinf\t1.1\nobs_b\t\tc0\tinf\t0.3\n"
                    "obs_a\t\tc0\t3\t0.2\n")
        got = sens_and_fd_agree(sigode, os.path.join(tmp, "problem.yaml"),
                                {"k1_pre", "k1_main", "k2", "cyt", "nuc"})
        print(f"ok: derivatives by compartment sizes through pre-equilibration agree: {got}")


def fit_model(sigode):
    """sigode fit MODEL.cfg --data: k1, k2 marked in the model file, data
    from the closed form with k1 = 0.3, k2 = 0.15: recovered to 1e-4."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "est.tsv")
        p = run([sigode, "fit", os.path.join(CONVERSION, "model.cfg"), "--data",
                 os.path.join(CONVERSION, "data.tsv"), "--starts", "3", "--output", out,
                 "--no-plots"])
        if p.returncode != 0:
            fail(f"exit {p.returncode}: {p.stderr}")
        est = read_params(out)
        for k, v in {"k1": 0.3, "k2": 0.15}.items():
            if abs(est[k] - v) > 1e-4 * v:
                fail(f"{k} = {est[k]}, expected {v}")
    print("ok: k1, k2 recovered from the model file's marks")


def model_data_evaluate_profile(sigode):
    """petab evaluate and profile take MODEL.cfg --data as fit does: chi2 is
    0 at the values the data were made with (k1 = 0.3, k2 = 0.15) and large
    at the model's nominal ones; the profile's intervals hold the truth."""
    cfg, data = os.path.join(CONVERSION, "model.cfg"), os.path.join(CONVERSION, "data.tsv")
    with tempfile.TemporaryDirectory() as tmp:
        truth = os.path.join(tmp, "truth.tsv")
        with open(truth, "w") as f:
            f.write("parameterId\tnominalValue\nk1\t0.3\nk2\t0.15\n")
        chi2 = {}
        for label, extra in (("truth", ["--parameters", truth]), ("nominal", [])):
            p = run([sigode, "petab", "evaluate", cfg, "--data", data] + extra)
            m = re.search(r"^chi2 = (\S+)$", p.stdout, re.M)
            if p.returncode != 0 or not m:
                fail(f"petab evaluate --data ({label}): exit {p.returncode}: {p.stdout}{p.stderr}")
            chi2[label] = float(m.group(1))
        if not (chi2["truth"] < 1e-8 and chi2["nominal"] > 1):
            fail(f"chi2 at the truth {chi2['truth']}, at the nominal values {chi2['nominal']}")
        print(f"ok: petab evaluate --data: chi2 {chi2['truth']:.3g} at the truth, "
              f"{chi2['nominal']:.3g} at the nominal values")
        p = run([sigode, "profile", cfg, "--data", data, "--parameters", truth,
                 "--output", os.path.join(tmp, "prof.tsv"), "--no-plots"])
        if p.returncode != 0:
            fail(f"profile --data: exit {p.returncode}: {p.stderr}")
        for k, v in (("k1", 0.3), ("k2", 0.15)):
            m = re.search(r"^%s: 95%% CI \[(\S+), (\S+)\]" % k, p.stdout, re.M)
            if not m or not float(m.group(1)) < v < float(m.group(2)):
                fail(f"profile --data: no interval around {k} = {v}: {p.stdout}")
        print("ok: profile --data: both intervals hold the truth")


MODEL_BAD = [
    ("bounds excluding the value", 'bounds = [0.001, 10.0]; scale = "log10"; },\n  { id = "k2"',
     'bounds = [0.2, 10.0]; scale = "log10"; },\n  { id = "k2"',
     r"model\.cfg:5:\d+: error: the bounds \[0.2, 10\] of 'k1' exclude its value 0.1"),
    ("log scale with a non-positive bound", "bounds = [0.001, 10.0]; scale = \"log10\"; },\n  { id = \"k2\"",
     "bounds = [0.0, 10.0]; scale = \"log10\"; },\n  { id = \"k2\"",
     r"model\.cfg:5:\d+: error: 'k1' is estimated on a log10 scale"),
    ("unknown scale", 'scale = "log10"; },\n  { id = "k2"', 'scale = "ln"; },\n  { id = "k2"',
     r"model\.cfg:5:\d+: error: 'scale' must be"),
    ("estimate not a boolean", "estimate = true; bounds = [0.001, 10.0]; scale = \"log10\"; },\n  { id = \"k2\"",
     "estimate = 1; bounds = [0.001, 10.0]; scale = \"log10\"; },\n  { id = \"k2\"",
     r"model\.cfg:5:\d+: error: 'estimate' must be true or false"),
    ("estimated without bounds", "estimate = true; bounds = [0.001, 10.0]; scale = \"log10\"; },\n  { id = \"k2\"",
     "estimate = true; },\n  { id = \"k2\"",
     r"model\.cfg:5:\d+: error: parameter 'k1' is estimated: it needs 'bounds"),
]


def model_keys(sigode):
    """Bad estimation marks in a model file: exit 2, file:line:col."""
    with open(os.path.join(CONVERSION, "model.cfg")) as f:
        text = f.read()
    failures = 0
    for what, old, new, pattern in MODEL_BAD:
        if old not in text:
            fail(f"{what}: test text not found in model.cfg")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.cfg")
            with open(path, "w") as f:
                f.write(text.replace(old, new, 1))
            p = run([sigode, "check", path])
            if p.returncode != 2 or not re.search(pattern, p.stderr):
                print(f"FAIL: {what}: exit {p.returncode}, {p.stderr.strip()!r}, expected /{pattern}/")
                failures += 1
            else:
                print(f"ok: {what}: {p.stderr.strip()}")
    if failures:
        sys.exit(1)


def objective_features(sigode):
    """Laplace noise, a log-transformed observable, a measurement at time inf
    (steady state) and objective priors, against the closed form:
    llh = sum of the measurements' log densities; nllh adds the priors."""
    k1, k2, scale = 0.3, 0.15, 2.0
    rows = [("obs_a", 1.0, 0.70), ("obs_a", 4.0, 0.47), ("obs_b", 2.0, 0.75),
            ("obs_b", 8.0, 1.40), ("obs_a", math.inf, 0.30)]
    with tempfile.TemporaryDirectory() as tmp:
        for f in os.listdir(CONVERSION):
            shutil.copy(os.path.join(CONVERSION, f), tmp)
        with open(os.path.join(tmp, "observables.tsv"), "w") as f:
            f.write("observableId\tobservableFormula\tnoiseFormula\tobservableTransformation\t"
                    "noiseDistribution\nobs_a\tA\t0.1\tlin\tlaplace\n"
                    "obs_b\tscale * B\t0.2\tlog\tnormal\n")
        with open(os.path.join(tmp, "parameters.tsv"), "w") as f:
            f.write("parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\t"
                    "estimate\tobjectivePriorType\tobjectivePriorParameters\n"
                    "k1\tlog10\t0.001\t10\t0.3\t1\tnormal\t0.2;0.1\n"
                    "k2\tlog10\t0.001\t10\t0.15\t1\tparameterScaleNormal\t-1;0.5\n"
                    "scale\tlin\t0.1\t10\t2\t1\t\t\n")
        with open(os.path.join(tmp, "measurements.tsv"), "w") as f:
            f.write("observableId\tsimulationConditionId\ttime\tmeasurement\n")
            for obs, t, y in rows:
                f.write(f"{obs}\tc0\t{t}\t{y}\n")
        p = run([sigode, "petab", "evaluate", os.path.join(tmp, "problem.yaml")])
        if p.returncode != 0:
            fail(f"exit {p.returncode}: {p.stderr}")
        got = {m.group(1): float(m.group(2))
               for m in re.finditer(r"^(llh|chi2|log prior|nllh) = (\S+)$", p.stdout, re.M)}
    llh = chi2 = 0.0
    for obs, t, y in rows:
        eq = k2 / (k1 + k2)
        A = eq if math.isinf(t) else eq + (1 - eq) * math.exp(-(k1 + k2) * t)
        if obs == "obs_a":
            r = (y - A) / 0.1
            llh += -math.log(2 * 0.1) - abs(r)
        else:
            h = scale * (1 - A)
            r = (math.log(y) - math.log(h)) / 0.2
            llh += -0.5 * math.log(2 * math.pi * 0.2 ** 2) - math.log(y) - 0.5 * r * r
        chi2 += r * r
    prior = (-0.5 * math.log(2 * math.pi * 0.1 ** 2) - 0.5 * ((k1 - 0.2) / 0.1) ** 2 +
             -0.5 * math.log(2 * math.pi * 0.5 ** 2) - 0.5 * ((math.log10(k2) + 1) / 0.5) ** 2)
    want = {"llh": llh, "chi2": chi2, "log prior": prior, "nllh": -(llh + prior)}
    for k, v in want.items():
        if k not in got or abs(got[k] - v) > 1e-5 * (1 + abs(v)):
            fail(f"{k} = {got.get(k)}, closed form {v}")
    print(f"ok: {got}")


def benchmark(sigode):
    yaml = os.path.join(HERE, "benchmark", "Boehm_JProteomeRes2014", "Boehm_JProteomeRes2014.yaml")
    p = run([sigode, "petab", "evaluate", yaml])
    if p.returncode != 0:
        fail(f"exit {p.returncode}: {p.stderr}")
    llh = float(re.search(r"^llh = (\S+)$", p.stdout, re.M).group(1))
    published = -138.22199693517703
    if abs(llh - published) > 1e-3:
        fail(f"llh {llh}, published {published}")
    print(f"ok: llh {llh}, published {published}, difference {abs(llh - published):.2g}")


def multi_file(sigode):
    """PEtab v1 allows each table to be split over several files: the
    conversion problem with its measurements in two files (columns in
    another order in the second, which also holds a condition only the
    second condition file defines) gives the llh of one file holding all
    rows; an error in the second file names that file and its row; two
    SBML models are refused."""
    with open(os.path.join(CONVERSION, "measurements.tsv")) as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    head, body = rows[0], rows[1:]
    extra = [["obs_a", "c1", "3", "0.7"], ["obs_b", "c1", "3", "0.9"]]
    order = [3, 2, 0, 1]  # measurement, time, observableId, simulationConditionId

    def write(path, header, data):
        with open(path, "w") as f:
            for r in [header] + data:
                f.write("\t".join(r) + "\n")

    def evaluate(yaml):
        p = run([sigode, "petab", "evaluate", yaml])
        return p.returncode, p.stdout, p.stderr

    with tempfile.TemporaryDirectory() as tmp:
        for f in os.listdir(CONVERSION):
            shutil.copy(os.path.join(CONVERSION, f), tmp)
        with open(os.path.join(tmp, "conditions.tsv"), "a") as f:
            f.write("c1\t0.5\n")
        write(os.path.join(tmp, "measurements.tsv"), head, body + extra)
        code, one, err = evaluate(os.path.join(tmp, "problem.yaml"))
        if code != 0:
            fail(f"one file: exit {code}: {err}")
        write(os.path.join(tmp, "conditions.tsv"), ["conditionId", "A"], [["c0", "1"]])
        write(os.path.join(tmp, "conditions2.tsv"), ["conditionId", "A"], [["c1", "0.5"]])
        write(os.path.join(tmp, "m1.tsv"), head, body[:5])
        write(os.path.join(tmp, "m2.tsv"), [head[i] for i in order],
              [[r[i] for i in order] for r in body[5:] + extra])
        yaml = os.path.join(tmp, "split.yaml")
        with open(yaml, "w") as f:
            f.write("format_version: 1\nparameter_file: parameters.tsv\nproblems:\n"
                    "- condition_files: [conditions.tsv, conditions2.tsv]\n"
                    "  measurement_files: [m1.tsv, m2.tsv]\n"
                    "  observable_files: [observables.tsv]\n"
                    "  sbml_files: [model.xml]\n")
        code, split, err = evaluate(yaml)
        if code != 0 or split != one:
            fail(f"split tables: exit {code}, {split!r} vs one file {one!r}; {err}")
        print(f"ok: split tables give the one-file result: {split.strip()!r}")
        # an unknown observable in row 4 of the second file
        bad = [[r[i] for i in order] for r in body[5:] + extra]
        bad[2][2] = "obs_zz"
        write(os.path.join(tmp, "m2.tsv"), [head[i] for i in order], bad)
        code, _, err = evaluate(yaml)
        if code != 2 or not re.search(r"m2\.tsv:4:3: error: unknown observable 'obs_zz'", err):
            fail(f"error in the second file: exit {code}, {err!r}")
        print(f"ok: {err.strip()}")
        with open(yaml) as f:
            text = f.read()
        with open(yaml, "w") as f:
            f.write(text.replace("[model.xml]", "[model.xml, model.xml]"))
        code, _, err = evaluate(yaml)
        if code != 2 or not re.search(r"split\.yaml:\d+:\d+: error: 'sbml_files' lists 2 models",
                                      err):
            fail(f"two models: exit {code}, {err!r}")
        print(f"ok: {err.strip()}")


if __name__ == "__main__":
    sigode, what = sys.argv[1], sys.argv[2]
    {"fit-recovers": fit_recovers, "fit-plots": fit_plots, "fit-deterministic": fit_deterministic,
     "bad-input": bad_input, "gradient": gradient, "fit-model": fit_model, "model-data": model_data_evaluate_profile,
     "model-keys": model_keys, "objective-features": objective_features, "benchmark": benchmark, "profile-analytic": profile_analytic,
     "profile-nonidentifiable": profile_nonidentifiable, "multi-file": multi_file,
     "gradient-events": gradient_events, "gradient-steady": gradient_steady,
     "gradient-preeq": gradient_preeq,
     "gradient-compartments": gradient_compartments}[what](sigode)

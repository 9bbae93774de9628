#!/usr/bin/python3
"""Warnings reach the user from every command that runs the model (issue 12):
scan, steady, verify, sens, ensemble, gsa, fit and petab evaluate tell a
species going negative and an assignment becoming NaN on standard error, once
per kind of warning (with how many of the runs gave it), not once per run.

    tests/robustness/run_warnings.py --sigode BIN

The model: z' = -k (z + 1) from z = 1 crosses 0 at t = ln 2 / k and settles
at -1 (a negative "concentration"), and r = sqrt(z) becomes NaN there, for
every k in the uncertainty range [0.5, 1.5] before t = 5.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

MODEL = """name = "neg";
parameters = ( { id = "k"; value = 1; uncertainty = "uniform(0.5, 1.5)";
                 estimate = true; bounds = [0.1, 10.0]; scale = "log10"; } );
species = ( { id = "z"; initial = 1; } );
rate_rules = ( { id = "z"; rate = "-k * (z + 1)"; } );
assignments = ( { id = "r"; value = "sqrt(z)"; } );
scenarios = ( { id = "s"; t_end = 5; points = 6; },
              { id = "dose"; t_end = 5; scan = { target = "k"; values = [0.5, 1.0, 1.5]; }; } );
checks = ( { id = "c"; scenario = "s"; expect = "final(z) < 10"; },
           { id = "d"; scenario = "dose"; expect = "monotone(z) != 2"; } );
"""

NEGATIVE = r"species 'z' is negative"
NAN = r"'r' is nan"


def tsv(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write("\t".join(row) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sigode", required=True)
    args = ap.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "neg.cfg")
        with open(model, "w") as f:
            f.write(MODEL)
        data = os.path.join(tmp, "data.tsv")
        tsv(data, [["observableId", "time", "measurement", "noiseParameters"],
                   ["z", "1", "0.2", "0.1"], ["z", "3", "-0.8", "0.1"]])
        # a PEtab problem on the same model (exported to SBML)
        petab = os.path.join(tmp, "petab")
        os.mkdir(petab)
        subprocess.run([args.sigode, "convert", model, "--to", "sbml", "--output",
                        os.path.join(petab, "model.xml")], check=True)
        with open(os.path.join(petab, "problem.yaml"), "w") as f:
            f.write("format_version: 1\nparameter_file: parameters.tsv\nproblems:\n"
                    "- condition_files:\n  - conditions.tsv\n  measurement_files:\n"
                    "  - measurements.tsv\n  observable_files:\n  - observables.tsv\n"
                    "  sbml_files:\n  - model.xml\n")
        tsv(os.path.join(petab, "observables.tsv"),
            [["observableId", "observableFormula", "noiseFormula"], ["obs_z", "z", "0.1"]])
        tsv(os.path.join(petab, "measurements.tsv"),
            [["observableId", "simulationConditionId", "time", "measurement"],
             ["obs_z", "c0", "1", "0.2"], ["obs_z", "c0", "3", "-0.8"]])
        tsv(os.path.join(petab, "conditions.tsv"), [["conditionId", "z"], ["c0", "1"]])
        tsv(os.path.join(petab, "parameters.tsv"),
            [["parameterId", "parameterScale", "lowerBound", "upperBound", "nominalValue",
              "estimate"], ["k", "log10", "0.1", "10", "1", "1"]])
        out = os.path.join(tmp, "out")
        # (command, warnings expected, "N of M runs" expected: runs counted)
        cases = [
            (["scan", model, "--target", "k", "--from", "0.5", "--to", "1.5", "--points", "5",
              "--t-end", "5", "--jobs", "2"], [NEGATIVE, NAN], r"5 of 5 scan points"),
            (["run", model, "--scenario", "dose"], [NEGATIVE, NAN], r"3 of 3 scan points"),
            (["steady", model], [NEGATIVE, NAN], None),
            (["verify", model], [NEGATIVE, NAN], r"4 of 4 runs"),
            (["sens", model, "--params", "k", "--t-end", "5"], [NEGATIVE, NAN], None),
            (["ensemble", model, "--samples", "8", "--t-end", "5", "--jobs", "2"],
             [NEGATIVE, NAN], r"9 of 9 runs"),
            (["gsa", model, "--method", "morris", "--readout", "z@5", "--samples", "4"],
             [NEGATIVE, NAN], r"9 of 9 runs"),
            (["fit", model, "--data", data, "--starts", "2", "--jobs", "1", "--no-plots",
              "--output", os.path.join(tmp, "fit.tsv")], [NEGATIVE], r"\d+ of \d+ runs"),
            (["fit", model, "--data", data, "--starts", "2", "--jobs", "1", "--no-plots",
              "--gradient", "fd", "--output", os.path.join(tmp, "fit_fd.tsv")], [NEGATIVE],
             r"\d+ of \d+ runs"),
            (["petab", "evaluate", os.path.join(petab, "problem.yaml")], [NEGATIVE, NAN], None),
        ]
        for cmd, expected, counted in cases:
            if cmd[0] in ("scan", "run", "steady", "sens", "ensemble"):
                cmd = cmd + ["--output", out]
            p = subprocess.run([args.sigode] + cmd, capture_output=True, text=True,
                               errors="replace", cwd=tmp)
            what = " ".join(cmd[:2] if cmd[0] == "petab" else cmd[:1])
            problems = []
            if p.returncode != 0:
                problems.append("exit %d" % p.returncode)
            for pattern in expected:
                lines = [l for l in p.stderr.splitlines()
                         if l.startswith("warning: ") and re.search(pattern, l)]
                if len(lines) != 1:
                    problems.append("%d warning lines matching %r (expected 1)" %
                                    (len(lines), pattern))
                elif counted and not re.search(r"^warning: %s: " % counted, lines[0]):
                    problems.append("%r does not count the runs (%s)" % (lines[0], counted))
            if problems:
                failures += 1
                print("FAIL %s: %s\n  stderr: %s" % (what, "; ".join(problems),
                                                     p.stderr.strip()[:1500]))
            else:
                print("ok: %s" % what)
    print("%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

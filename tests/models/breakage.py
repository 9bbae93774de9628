#!/usr/bin/env python3
"""Applies one breakage a reviewer found to a scratch copy of a shipped model
and expects `sigode verify` to fail on it with a check other than
b1_baseline_steady (which only says the stored initial values moved).

usage: breakage.py SIGODE MODEL.cfg CASE
CASE is one of the names in BREAKAGES below.
"""
import os
import re
import subprocess
import sys
import tempfile


def set_parameter(text, pid, value):
    new, n = re.subn(r'(\{ id = "%s";[^}]*?value = )[^;]+;' % re.escape(pid),
                     r'\g<1>%s;' % value, text, count=1)
    if n != 1:
        sys.exit("breakage.py: parameter %s not found" % pid)
    # the broken value may lie outside the parameter's distribution, which
    # would be a load error (exit 2) rather than a failed check: drop it
    new = re.sub(r'(\{ id = "%s";[^}]*?)\s*uncertainty = "[^"]*";' % re.escape(pid),
                 r'\g<1>', new, count=1)
    return new


def replace(text, old, new):
    if old not in text:
        sys.exit("breakage.py: %r not found" % old)
    return text.replace(old, new, 1)


BREAKAGES = {
    # calcineurin_er: the mTOR arm switched off, FK506 unable to reach calcineurin
    "a_AF1_zero": lambda t: set_parameter(t, "a_AF1", "0.0"),
    "K_CaN_Akt_huge": lambda t: set_parameter(t, "K_CaN_Akt", "1e9"),
    "Kd_CN_huge": lambda t: set_parameter(t, "Kd_CN", "1e12"),
    # mir181c_bbb: LIMK activation no longer depends on PDPK1; junctions that
    # recover instantly and a cofilin switch with no cooperativity
    "limk_decoupled": lambda t: replace(t, 'rate = "ka_LIMK * PDPK1 * LIMK', 'rate = "ka_LIMK * LIMK'),
    "fast_junctions_flat_cofilin": lambda t: set_parameter(set_parameter(t, "k_jrec", "1e3"), "n_cof", "0.001"),
}


def main():
    sigode, model, case = sys.argv[1:4]
    with open(model) as f:
        text = BREAKAGES[case](f.read())
    with tempfile.TemporaryDirectory() as d:
        broken = os.path.join(d, "broken.cfg")
        with open(broken, "w") as f:
            f.write(text)
        run = subprocess.run([sigode, "verify", broken], capture_output=True, text=True)
    failed = [l.split()[1] for l in run.stdout.splitlines() if l.startswith("FAIL")]
    real = [c for c in failed if c != "b1_baseline_steady"]
    print(run.stdout)
    if run.returncode == 1 and real:
        print("caught by: " + ", ".join(real))
        return 0
    print("breakage %s NOT caught (exit %d, failing: %s)" % (case, run.returncode, failed))
    return 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Long comma lists on the command line are taken whole (issue 12: fixed
arrays of 256 and 4096 entries refused them, or, for steady --select,
silently ignored the selection and wrote every column).

    tests/robustness/cli_lists.py --sigode BIN
"""
import argparse
import os
import subprocess
import sys
import tempfile

N = 4200  # beyond the old 4096


def columns(stdout):
    first = stdout.splitlines()[0] if stdout else ""
    return first.split(",")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sigode", required=True)
    args = ap.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "big.cfg")
        with open(big, "w") as f:
            f.write('name = "big";\nspecies = (' +
                    ", ".join('{ id = "s%d"; initial = 1; }' % i for i in range(N)) + ");\n")
            f.write("reactions = (" + ", ".join(
                '{ id = "r%d"; equation = "s%d ->"; rate = "0.1 * s%d"; }' % (i, i, i)
                for i in range(N)) + ");\n")
        decay = os.path.join(tmp, "decay.cfg")
        with open(decay, "w") as f:
            f.write('name = "decay";\nparameters = ( { id = "k"; value = 1; } );\n'
                    'species = ( { id = "A"; initial = 1; } );\n'
                    'reactions = ( { id = "d"; equation = "A ->"; rate = "k * A"; } );\n')
        some = ",".join("s%d" % i for i in range(1, N - 1))  # all but the first and last
        times = ",".join("%g" % (i * 0.001) for i in range(N))
        at300 = ",".join("%g" % (i * 0.01) for i in range(300))
        cases = [
            ("steady --select %d ids" % (N - 2), ["steady", big, "--select", some],
             lambda out: columns(out) == ["time"] + some.split(",")),
            ("scan --readout %d ids" % (N - 2),
             ["scan", big, "--target", "s0", "--values", "0.5,1", "--t-end", "1",
              "--readout", some], lambda out: columns(out) == ["s0"] + some.split(",")),
            ("run --select %d ids" % (N - 2), ["run", big, "--t-end", "1", "--points", "2",
                                               "--select", some],
             lambda out: columns(out) == ["time"] + some.split(",")),
            ("sens --at %d times" % N, ["sens", decay, "--params", "k", "--t-end", "5",
                                        "--at", times],
             lambda out: sum(1 for l in out.splitlines() if ",A,k," in l) == N),
            ("scan --at 300 times", ["scan", decay, "--target", "k", "--values", "0.5,1",
                                     "--at", at300],
             lambda out: len(columns(out)) == 301),
        ]
        for what, cmd, ok in cases:
            p = subprocess.run([args.sigode] + cmd, capture_output=True, text=True,
                               errors="replace", cwd=tmp)
            if p.returncode != 0 or not ok(p.stdout):
                failures += 1
                print("FAIL %s: exit %d, %d columns; stderr: %s" %
                      (what, p.returncode, len(columns(p.stdout)), p.stderr.strip()[:300]))
            else:
                print("ok: %s" % what)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

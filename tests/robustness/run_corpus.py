#!/usr/bin/env python3
"""Runs the error corpus: every case of cases.tsv against the sigode binary.

cases.tsv has one case per line, tab-separated (lines starting with # are
comments):

    id  args  status  stderr  [checks]

- args: the command line after `sigode`, split like a shell would; the
  command runs in the corpus directory, so model files are named as they are
  there. {tmp} is a fresh empty directory for the case.
- status: the exact exit status.
- stderr: the exact first line of standard error ({tmp} substituted).
- checks (optional, space-separated):
    sparse=PATH:BYTES   before the run, create PATH as a sparse file
    absent=PATH         after the run, PATH does not exist
    nofiles=DIR         after the run, DIR holds no file
    stdout_lines=N      standard output has exactly N lines
    stdout_has=TEXT     standard output contains TEXT (%20 for a space)
    lines=PATH:N        after the run, PATH exists and has N lines
    stderr_has=TEXT     standard error contains TEXT (%20 for a space)

Every case also requires that nothing crashed: no signal, no sanitizer
report, and an exit status of 0, 1 or 2.

    run_corpus.py --sigode BIN --cases cases.tsv --corpus DIR [--only ID]
                  [--update]   (rewrite status and stderr from the actual run)
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile


def load(path):
    cases, lines = [], open(path, encoding="utf-8").read().split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        while len(fields) < 5:
            fields.append("")
        cases.append({"line": number, "id": fields[0], "args": fields[1],
                      "status": fields[2], "stderr": fields[3], "checks": fields[4]})
    return cases, lines


def run_case(case, sigode, corpus, timeout):
    tmp = tempfile.mkdtemp(prefix="sigode-corpus-")
    try:
        subst = lambda s: s.replace("{tmp}", tmp)
        checks = subst(case["checks"]).split()
        for check in checks:
            if check.startswith("sparse="):
                path, size = check[len("sparse="):].rsplit(":", 1)
                with open(path, "wb") as f:
                    f.truncate(int(size))
        argv = [sigode] + shlex.split(subst(case["args"]))
        env = dict(os.environ, LC_ALL="C")
        try:
            p = subprocess.run(argv, cwd=corpus, env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return ["timed out after %d s" % timeout], None, None
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        first = err.split("\n", 1)[0]
        problems = []
        if p.returncode < 0 or p.returncode > 2:
            problems.append("crashed or bad exit status %d" % p.returncode)
        for marker in ("Sanitizer", "runtime error:", "Segmentation", "Aborted"):
            if marker in err:
                problems.append("sanitizer or crash report in stderr")
                break
        if case["status"] != "" and str(p.returncode) != case["status"]:
            problems.append("exit status %d, expected %s" % (p.returncode, case["status"]))
        if first != subst(case["stderr"]):
            problems.append("stderr first line:\n      got:      %r\n      expected: %r"
                            % (first, subst(case["stderr"])))
        for check in checks:
            key, _, value = check.partition("=")
            if key == "absent" and os.path.exists(value):
                problems.append("%s exists" % value)
            elif key == "nofiles":
                left = [n for n in os.listdir(value)]
                if left:
                    problems.append("files left in the directory: %s" % ", ".join(sorted(left)))
            elif key == "stdout_lines" and out.count("\n") != int(value):
                problems.append("%d lines on stdout, expected %s" % (out.count("\n"), value))
            elif key == "stdout_has" and value.replace("%20", " ") not in out:
                problems.append("stdout lacks %r" % value)
            elif key == "stderr_has" and value.replace("%20", " ") not in err:
                problems.append("stderr lacks %r" % value)
            elif key == "lines":
                path, count = value.rsplit(":", 1)
                if not os.path.exists(path):
                    problems.append("%s was not written" % path)
                elif open(path).read().count("\n") != int(count):
                    problems.append("%s does not have %s lines" % (path, count))
        unsubst = first.replace(tmp, "{tmp}")
        return problems, p.returncode, unsubst
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigode", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--only")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--timeout", type=int, default=120)
    a = ap.parse_args()
    sigode = os.path.abspath(a.sigode)
    cases, lines = load(a.cases)
    failed = 0
    for case in cases:
        if a.only and case["id"] != a.only:
            continue
        problems, status, first = run_case(case, sigode, a.corpus, a.timeout)
        if a.update and status is not None:
            fields = lines[case["line"] - 1].split("\t")
            while len(fields) < 5:
                fields.append("")
            fields[2], fields[3] = str(status), first
            lines[case["line"] - 1] = "\t".join(fields).rstrip("\t")
            problems = [p for p in problems if not p.startswith(("exit status", "stderr first"))]
        if problems:
            failed += 1
            print("FAIL %s (cases.tsv:%d): sigode %s" % (case["id"], case["line"], case["args"]))
            for problem in problems:
                print("    " + problem)
    if a.update:
        with open(a.cases, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    total = len([c for c in cases if not a.only or c["id"] == a.only])
    print("%d of %d corpus cases passed" % (total - failed, total))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

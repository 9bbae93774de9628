#!/usr/bin/env python3
"""Output safety: a failed or interrupted run never leaves a truncated file
where a complete one is expected, never leaves a temporary file behind and
never overwrites a previous good output.

    output_safety.py --sigode BIN --corpus DIR

Each test starts from a directory holding a previous good output
("out.csv" with known content) and checks what is there afterwards.
"""
import argparse
import glob
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

GOOD = "time,A\n0,1\n"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL " + what)
    return cond


def leftovers(d):
    """Temporary files of sigode's writers (FILE.tmp.XXXXXX, plot temps)."""
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*.tmp.*")) +
                  glob.glob(os.path.join(d, "*.dat.*")) + glob.glob(os.path.join(d, "*.gp.*")))


def fresh():
    d = tempfile.mkdtemp(prefix="sigode-safety-")
    with open(os.path.join(d, "out.csv"), "w") as f:
        f.write(GOOD)
    return d


def corpus_file(corpus, name):
    """The corpus file NNN_name.cfg (numbers change as cases are added)."""
    found = glob.glob(os.path.join(corpus, "[0-9][0-9][0-9]_%s.cfg" % name))
    if len(found) != 1:
        sys.exit("output_safety.py: no single corpus file *_%s.cfg" % name)
    return os.path.basename(found[0])


def content(path):
    with open(path) as f:
        return f.read()


def complete_csv(path, rows):
    """A whole CSV of `rows` data rows: header, rows, final newline."""
    text = content(path)
    return text.endswith("\n") and text.count("\n") == rows + 1


def test_failure_keeps_previous(sigode, corpus):
    for name, args, rows in (
            ("run", ["run", corpus_file(corpus, "solver_blowup"), "--scenario", "baseline"], 11),
            ("scan", ["scan", corpus_file(corpus, "valid"), "--target", "k1", "--values", "1,2",
                      "--max-steps", "3"], 3)):
        d = fresh()
        out = os.path.join(d, "out.csv")
        p = subprocess.run([sigode] + args + ["--output", out], cwd=corpus,
                           capture_output=True, text=True)
        check(p.returncode == 1, "%s failure: exit status %d, expected 1" % (name, p.returncode))
        check(content(out) == GOOD, "%s failure: the previous out.csv was changed" % name)
        check(os.path.exists(out + ".partial") and complete_csv(out + ".partial", rows - 1),
              "%s failure: out.csv.partial missing or not %d rows" % (name, rows - 1))
        check(not leftovers(d), "%s failure: temporary files left: %s" % (name, leftovers(d)))


def test_bad_usage_keeps_previous(sigode, corpus):
    d = fresh()
    out = os.path.join(d, "out.csv")
    p = subprocess.run([sigode, "run", corpus_file(corpus, "valid"), "--select", "nope", "--output", out],
                       cwd=corpus, capture_output=True, text=True)
    check(p.returncode == 2, "bad --select: exit status %d, expected 2" % p.returncode)
    check(content(out) == GOOD, "bad --select: the previous out.csv was changed")
    check(not leftovers(d), "bad --select: temporary files left: %s" % leftovers(d))


def catches(pid, sig):
    """Whether process pid has a handler for sig (SigCgt in /proc)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (int(sig) - 1) & 1)
    except OSError:
        pass
    return False


def interrupt(sigode, corpus, args, out, when, sig=signal.SIGINT, timeout=120):
    """Starts sigode, sends `sig` when when(elapsed) says so, returns
    (exit status, stderr, whether the signal was sent)."""
    p = subprocess.Popen([sigode] + args + ["--output", out], cwd=corpus,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # the clock starts once sigode catches the signal: loading the shared
    # libraries before main() can take longer than the first delay on a busy
    # machine, and a signal then kills the process the default way
    while p.poll() is None and not catches(p.pid, sig):
        time.sleep(0.001)
    start, sent = time.monotonic(), False
    while p.poll() is None and time.monotonic() - start < timeout:
        if when(time.monotonic() - start):
            p.send_signal(sig)
            sent = True
            break
        time.sleep(0.002)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    return p.returncode, err, sent


def test_sigint_during_scan(sigode, corpus):
    """SIGINT while a long scan computes: exit 130, previous file intact."""
    d = fresh()
    out = os.path.join(d, "out.csv")
    args = ["scan", corpus_file(corpus, "valid"), "--target", "k1", "--from", "1", "--to", "2",
            "--points", "1000000", "--jobs", "2"]
    rc, err, sent = interrupt(sigode, corpus, args, out, lambda t: t > 1.0)
    check(sent, "SIGINT during a scan: the scan ended before the signal")
    check(rc == 130, "SIGINT during a scan: exit status %d, expected 130" % rc)
    check("sigode: interrupted" in err, "SIGINT during a scan: no 'interrupted' message")
    check(content(out) == GOOD, "SIGINT during a scan: the previous out.csv was changed")
    check(not leftovers(d), "SIGINT during a scan: temporary files left: %s" % leftovers(d))


def test_signal_during_write(sigode, corpus, sig, status):
    """A signal while the output is being written (a temporary with data
    exists): the file is either the previous one or complete, never cut,
    and no temporary remains."""
    d = fresh()
    out = os.path.join(d, "out.csv")
    rows = 300000
    args = ["run", corpus_file(corpus, "valid"), "--points", str(rows)]

    def writing(_):
        return any(os.path.getsize(p) > 0 for p in glob.glob(out + ".tmp.*")
                   if os.path.exists(p))
    rc, err, sent = interrupt(sigode, corpus, args, out, writing, sig)
    name = signal.Signals(sig).name
    check(sent, "%s during a write: never saw the temporary being written" % name)
    # (exit 0 only if the write ended between the last look and the signal)
    check(rc == status or (rc == 0 and complete_csv(out, rows)),
          "%s during a write: exit status %d, expected %d" % (name, rc, status))
    check(content(out) == GOOD or complete_csv(out, rows),
          "%s during a write: out.csv is neither the previous file nor complete" % name)
    check(not leftovers(d), "%s during a write: temporary files left: %s" % (name, leftovers(d)))


def test_sigint_at_random_times(sigode, corpus):
    """SIGINT at several moments of a run that computes then writes."""
    rows = 200000
    # (counted from the moment the handler is installed, see interrupt())
    for delay in (0.1, 0.3, 0.6, 1.0, 1.5):
        d = fresh()
        out = os.path.join(d, "out.csv")
        rc, err, sent = interrupt(sigode, corpus, ["run", corpus_file(corpus, "valid"), "--points", str(rows)],
                                  out, lambda t: t >= delay)
        check(rc in (0, 130), "SIGINT after %.2f s: exit status %d" % (delay, rc))
        check(content(out) == GOOD or complete_csv(out, rows),
              "SIGINT after %.2f s: out.csv is neither the previous file nor complete" % delay)
        check(not leftovers(d), "SIGINT after %.2f s: temporary files left: %s"
              % (delay, leftovers(d)))


def test_ensemble_samples_output(sigode, corpus):
    """ensemble --samples-output: a signal while the samples' temporary has
    data (raised by sigode itself at that moment: SIGODE_TEST_SIGNAL_WHILE_
    WRITING) waits for the write to end: exit 128 + signal, the file
    complete, no temporary left; a run killed while computing leaves the
    previous file."""
    model = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mpi", "decay.cfg")
    for sig, status in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        d = fresh()
        out = os.path.join(d, "out.csv")
        env = dict(os.environ, SIGODE_TEST_SIGNAL_WHILE_WRITING=str(int(sig)))
        p = subprocess.run([sigode, "ensemble", model, "--scenario", "s", "--samples", "50",
                            "--samples-output", out, "--output", os.path.join(d, "bands.csv")],
                           capture_output=True, text=True, env=env)
        name = "ensemble %s while writing the samples" % signal.Signals(sig).name
        check(p.returncode == status, "%s: exit status %d, expected %d (%s)"
              % (name, p.returncode, status, p.stderr.strip()))
        check(complete_csv(out, 50), "%s: out.csv is not the complete samples" % name)
        check(not leftovers(d), "%s: temporary files left: %s" % (name, leftovers(d)))
    d = fresh()
    out = os.path.join(d, "out.csv")
    env = dict(os.environ, SIGODE_TEST_DIE_AFTER="20")
    p = subprocess.run([sigode, "ensemble", model, "--scenario", "s", "--samples", "50",
                        "--jobs", "1", "--samples-output", out], capture_output=True, text=True,
                       env=env)
    check(p.returncode != 0, "ensemble killed while computing: exit status 0")
    check(content(out) == GOOD, "ensemble killed while computing: the previous file changed")
    check(not leftovers(d), "ensemble killed: temporary files left: %s" % leftovers(d))


def test_output_mode(sigode, corpus):
    """An output gets the mode a plain fopen would give (not mkstemp's
    0600), and a replaced file keeps its mode."""
    d = tempfile.mkdtemp(prefix="sigode-safety-")
    out = os.path.join(d, "new.csv")
    old = os.umask(0o022)
    try:
        subprocess.run([sigode, "run", corpus_file(corpus, "valid"), "--output", out], cwd=corpus,
                       capture_output=True)
        check(os.path.exists(out) and os.stat(out).st_mode & 0o777 == 0o644,
              "a new output does not have mode 0644 under umask 022")
        os.chmod(out, 0o640)
        subprocess.run([sigode, "run", corpus_file(corpus, "valid"), "--output", out], cwd=corpus,
                       capture_output=True)
        check(os.stat(out).st_mode & 0o777 == 0o640, "a replaced output lost its mode 0640")
    finally:
        os.umask(old)


def test_companions_of_special_output(sigode, corpus):
    """fit and profile write files beside --output (PARAMS_starts.tsv, the
    plots): beside a FIFO or a device (e.g. --output /dev/null, which as
    root would make /dev/null_starts.tsv) they are not made; the output
    itself is written through."""
    problem = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "petab",
                           "conversion", "problem.yaml")
    d = tempfile.mkdtemp(prefix="sigode-safety-")
    fifo = os.path.join(d, "fit.tsv")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    p = subprocess.run([sigode, "fit", problem, "--starts", "2", "--output", fifo],
                       capture_output=True, text=True, timeout=120)
    reader.join(60)
    check(p.returncode == 0, "fit --output FIFO: exit status %d (%s)"
          % (p.returncode, p.stderr.strip()))
    check(got and got[0].startswith("parameterId"), "fit --output FIFO: the table did not "
          "come through the FIFO")
    check(sorted(os.listdir(d)) == ["fit.tsv"], "fit --output FIFO: files made beside it: %s"
          % sorted(os.listdir(d)))
    check(stat.S_ISFIFO(os.lstat(fifo).st_mode), "fit --output FIFO: the FIFO was replaced")
    fit = os.path.join(d, "params.tsv")
    subprocess.run([sigode, "fit", problem, "--starts", "2", "--output", fit, "--no-plots"],
                   capture_output=True, text=True, timeout=120)
    os.unlink(fifo)
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    p = subprocess.run([sigode, "profile", problem, "--parameters", fit, "--params", "k1",
                        "--output", fifo], capture_output=True, text=True, timeout=300)
    reader.join(60)
    check(p.returncode == 0, "profile --output FIFO: exit status %d (%s)"
          % (p.returncode, p.stderr.strip()))
    check(not os.path.exists(os.path.join(d, "fit.png")),
          "profile --output FIFO: a plot was made beside it")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigode", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    sigode = os.path.abspath(a.sigode)
    test_failure_keeps_previous(sigode, a.corpus)
    test_bad_usage_keeps_previous(sigode, a.corpus)
    test_output_mode(sigode, a.corpus)
    test_companions_of_special_output(sigode, a.corpus)
    test_ensemble_samples_output(sigode, a.corpus)
    test_sigint_during_scan(sigode, a.corpus)
    test_signal_during_write(sigode, a.corpus, signal.SIGINT, 130)
    test_signal_during_write(sigode, a.corpus, signal.SIGTERM, 143)
    test_sigint_at_random_times(sigode, a.corpus)
    print("output safety: %s" % ("%d failures" % len(failures) if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

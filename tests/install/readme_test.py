#!/usr/bin/env python3
"""Runs the README's shell blocks, literally, in a temporary folder.

Every ```sh block of README.md runs, in order, in one bash (set -e: a
failing command fails the test), in a fresh folder that looks like a
checkout from the outside: `build` and `models` are symbolic links to the
real ones, and HOME is the folder itself (so `cmake --install build --prefix
~/.local` installs there). A block is not run when the line before its
fence is

    <!-- readme-test: skip (why) -->

(the convention for blocks that install packages or take minutes). Other
fences (``` alone, ```text) are output or formats, never run. Afterwards no
file of the checkout may have been created or changed.

    readme_test.py --readme README.md --source DIR --build DIR
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time


def blocks(text):
    """(line number, code, skipped) of every ```sh block."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            prev = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
            skip = re.match(r"\s*<!-- readme-test: skip\b", prev) is not None
            start = i + 1
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                i += 1
            out.append((start, "\n".join(lines[start:i]), skip))
        i += 1
    return out


def changed_files(source, since):
    """Files of the checkout (build folders and .git aside) newer than since."""
    found = []
    for root, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if d not in (".git", ".deps") and not d.startswith("build")]
        for f in files:
            p = os.path.join(root, f)
            try:
                if os.lstat(p).st_mtime >= since:
                    found.append(os.path.relpath(p, source))
            except OSError:
                pass
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    found = blocks(open(a.readme).read())
    run = [b for b in found if not b[2]]
    if not run:
        print("FAIL: no runnable ```sh block in", a.readme)
        return 1
    script = ["set -euo pipefail"]
    for line, code, _ in run:
        script.append("echo '--- README.md line %d' >&2" % line)
        script.append(code)
    with tempfile.TemporaryDirectory(prefix="sigode-readme-") as tmp:
        os.symlink(os.path.abspath(a.build), os.path.join(tmp, "build"))
        os.symlink(os.path.join(os.path.abspath(a.source), "models"), os.path.join(tmp, "models"))
        env = dict(os.environ, HOME=tmp)
        # sigode is found only where the README puts it
        env["PATH"] = ":".join(p for p in env.get("PATH", "").split(":")
                               if not os.path.exists(os.path.join(p, "sigode")))
        since = time.time() - 1
        p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
        left = changed_files(os.path.abspath(a.source), since)
    sys.stdout.write(p.stderr[-4000:])
    failures = 0
    if p.returncode != 0:
        print("FAIL: the README's commands exited with status %d (the last block above)"
              % p.returncode)
        failures += 1
    if left:
        print("FAIL: files of the checkout created or changed: %s" % left[:10])
        failures += 1
    print("README: %d shell blocks (%d skipped by mark): %d passed, %d failed"
          % (len(found), len(found) - len(run), 1 - failures if failures < 2 else 0, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

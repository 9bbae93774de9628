#!/usr/bin/env python3
"""The help, the man page and the completion cannot disagree.

`sigode help --options` lists every option of every command from the same
tables that make `sigode CMD --help`. This checks, both ways:
- the man page (doc/sigode.1.scd): each command's section under COMMANDS
  has an "Options:" list naming exactly the command's options, and each
  option has a definition under OPTIONS;
- `sigode CMD --help` shows every option of the table;
- the bash completion offers exactly the command's options after `--`.

    check_docs.py --sigode BIN --man doc/sigode.1.scd --completion doc/sigode.bash-completion
"""
import argparse
import re
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigode", required=True)
    ap.add_argument("--man", required=True)
    ap.add_argument("--completion", required=True)
    a = ap.parse_args()
    failures = []

    table = {}
    out = subprocess.run([a.sigode, "help", "--options"], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        cmd, opt, _ = line.split("\t")
        table.setdefault(cmd, []).append(opt)
    if len(table) < 8:
        failures.append("help --options lists %d commands" % len(table))

    man = open(a.man).read()
    commands = man.split("\n# COMMANDS\n")[1].split("\n# OPTIONS\n")[0]
    options_part = man.split("\n# OPTIONS\n")[1].split("\n# EXIT STATUS\n")[0]
    sections = dict(re.findall(r"^## (\S+)\n(.*?)(?=^## |\Z)", commands, re.S | re.M))
    defined = set()
    for line in options_part.splitlines():
        if line.startswith("*-"):  # a definition: "*--from* _A_, *--to* _B_"
            defined.update(re.findall(r"\*(--?[a-z0-9-]+)\*", line))
    for cmd, opts in table.items():
        if cmd not in sections:
            failures.append("man page: no section '## %s' under COMMANDS" % cmd)
            continue
        m = re.search(r"^Options: (.*?)\.\n", sections[cmd], re.S | re.M)
        listed = re.findall(r"\*(--[a-z0-9-]+)\*", m.group(1)) if m else []
        if sorted(listed) != sorted(opts):
            failures.append("man page, %s: Options lists %s; the table has %s"
                            % (cmd, sorted(set(listed) ^ set(opts)) or listed, "the same"
                               if set(listed) == set(opts) else "them the other way"))
        for o in opts:
            if o not in defined:
                failures.append("man page: %s (of %s) has no definition under OPTIONS" % (o, cmd))
        helptext = subprocess.run([a.sigode, cmd, "--help"], capture_output=True, text=True)
        if helptext.returncode != 0:
            failures.append("sigode %s --help: exit %d" % (cmd, helptext.returncode))
        for o in opts:
            if not re.search(r"^  %s\b" % re.escape(o), helptext.stdout, re.M):
                failures.append("sigode %s --help does not show %s" % (cmd, o))
        script = ('source /usr/share/bash-completion/bash_completion; source "$1"; '
                  'COMP_WORDS=("$2" "$3" --); COMP_CWORD=2; COMP_LINE="$2 $3 --"; '
                  'COMP_POINT=${#COMP_LINE}; _sigode; '
                  'printf "%s\\n" "${COMPREPLY[@]}"')
        comp = subprocess.run(["bash", "-c", script, "_", a.completion, a.sigode, cmd],
                              capture_output=True, text=True).stdout.split()
        if sorted(comp) != sorted(opts):
            failures.append("completion of 'sigode %s --': %s, the table: %s" % (cmd, comp, opts))
    extra = set(sections) - set(table)
    if extra:
        failures.append("man page: sections for unknown commands %s" % sorted(extra))
    for f in failures:
        print("FAIL", f)
    print("docs: %d commands, %d options checked, %d problems"
          % (len(table), sum(len(v) for v in table.values()), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

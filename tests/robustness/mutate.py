#!/usr/bin/python3
"""Mutation run (issue 12, "Done when"): random edits of every shipped and
example model (models/*.cfg, models/examples/*.cfg), each run through one of
check/run/scan/steady/verify/convert, counting

  crashes  a signal, or an AddressSanitizer/UndefinedBehaviorSanitizer report
  hangs    more than --timeout seconds of CPU time (RLIMIT_CPU), or no exit
           within --wall-factor times that in real time (a run blocked
           without computing); CPU time, not real time, so that a loaded
           machine does not turn a slow run into a "hang"
  silent   exit 0 with nan/null in the output and no warning on stderr

    tests/robustness/mutate.py --sigode BIN [--seed N] [--budget SECONDS]
                               [--long] [--count N] [--keep DIR]

Short mode (default): as many mutations as fit in --budget seconds (90).
--long: --count mutations (default 3000) whatever the time. Build BIN with
-DSIGODE_SANITIZE=ON to catch memory errors. Exit status 1 if any crash,
hang or silent nan was seen (the offending model is kept under --keep).
"""
import argparse
import glob
import os
import random
import resource
import signal
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXTREMES = ['0', '-1', '1e300', '-1e300', '1e-300', '1e-320', '1.7976931348623157e308',
            '3', '0.5', '1e9', '-0.0', '2147483647', '1e20', '1e-12']
OPERATORS = [('*', '/'), ('+', '-'), ('-', '+'), ('/', '*'), ('^', '*'), ('>', '<'),
             ('<', '>'), ('->', '<->'), ('<->', '->')]
NUMBER = re.compile(r'(?<![\w.])-?\d+(\.\d*)?([eE][-+]?\d+)?')


def mutate(text, rng):
    """One to three random edits of a model text."""
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(7)
        lines = text.split('\n')
        if kind == 0:  # a number becomes an extreme one
            nums = list(NUMBER.finditer(text))
            if nums:
                m = rng.choice(nums)
                text = text[:m.start()] + rng.choice(EXTREMES) + text[m.end():]
        elif kind == 1:  # an operator in a rate or equation changes
            a, b = rng.choice(OPERATORS)
            spots = [i for i in range(len(text)) if text.startswith(a, i)]
            if spots:
                i = rng.choice(spots)
                text = text[:i] + b + text[i + len(a):]
        elif kind == 2 and len(lines) > 1:  # a line goes
            del lines[rng.randrange(len(lines))]
            text = '\n'.join(lines)
        elif kind == 3 and lines:  # a line is doubled
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            text = '\n'.join(lines)
        elif kind == 4 and text:  # a byte changes
            i = rng.randrange(len(text))
            text = text[:i] + rng.choice('(){};,"=.0x-+*/ \n') + text[i + 1:]
        elif kind == 5:  # an initial value or a parameter goes negative or to zero
            nums = list(NUMBER.finditer(text))
            if nums:
                m = rng.choice(nums)
                text = text[:m.start()] + rng.choice(['-9', '0', '-1e-3']) + text[m.end():]
        else:  # a rate law divides by something that reaches zero
            text = re.sub(r'rate = "', 'rate = "1 / (time - 1) + ', text, count=1)
    return text


def command(path, text, rng, out_dir):
    ids = re.findall(r'id\s*=\s*"(\w+)"', text) or ['x']
    scenarios = re.findall(r'\{\s*id\s*=\s*"(\w+)";\s*(?:t_end|points|set|events|scan|'
                           r'preequilibrate|readouts|t_start)', text)
    which = rng.choice(['check', 'run', 'run', 'scan', 'steady', 'verify', 'convert'])
    cmd = [which, path]
    if which == 'run':
        cmd += ['--points', str(rng.choice([2, 5, 11])), '--format', rng.choice(['csv', 'json'])]
        if rng.random() < 0.3:
            cmd += ['--t-end', rng.choice(['1', '100', '1e6', '1e60'])]
        if scenarios and rng.random() < 0.4:
            cmd += ['--scenario', rng.choice(scenarios)]
    elif which == 'scan':
        cmd += ['--target', rng.choice(ids), '--from', '0.1', '--to', '10', '--points', '4',
                '--jobs', '1', '--format', rng.choice(['csv', 'json'])]
    elif which == 'steady':
        cmd += ['--format', rng.choice(['csv', 'json'])]
    elif which == 'convert':
        cmd += ['--to', 'sbml', '--output', os.path.join(out_dir, 'out.xml')]
    return cmd


def classify(proc_rc, out, err):
    if proc_rc in (-signal.SIGXCPU, -signal.SIGKILL):
        return 'hang'  # the CPU-time limit (soft, then hard)
    if proc_rc < 0 or proc_rc >= 128 or 'AddressSanitizer' in err or 'runtime error:' in err \
            or 'LeakSanitizer' in err:
        return 'crash'
    if proc_rc == 0 and re.search(r'(?<![\w])(-?nan|null)(?![\w])', out, re.I) \
            and 'warning' not in err:
        return 'silent'
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sigode', default=os.path.join(ROOT, 'build', 'sigode'))
    ap.add_argument('--seed', type=int, default=12)
    ap.add_argument('--budget', type=float, default=90.0, help='seconds (short mode)')
    ap.add_argument('--long', action='store_true')
    ap.add_argument('--count', type=int, default=3000, help='mutations (long mode)')
    ap.add_argument('--timeout', type=float, default=60.0,
                    help='CPU seconds a run may take (default 60)')
    ap.add_argument('--wall-factor', type=float, default=40.0,
                    help='real-time limit as a multiple of --timeout (default 40)')
    ap.add_argument('--keep', default=None, help='folder for the models that failed')
    args = ap.parse_args()
    models = sorted(glob.glob(os.path.join(ROOT, 'models', '*.cfg')) +
                    glob.glob(os.path.join(ROOT, 'models', 'examples', '*.cfg')))
    texts = {m: open(m).read() for m in models}
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix='sigode-mutate-')
    # libconfig's own leak on a syntax error is suppressed (lsan.supp)
    env = dict(os.environ, ASAN_OPTIONS='detect_leaks=1:abort_on_error=0',
               LSAN_OPTIONS='suppressions=' + os.path.join(ROOT, 'tests', 'robustness',
                                                           'lsan.supp'),
               UBSAN_OPTIONS='print_stacktrace=1', SIGODE_CACHE_DIR=os.path.join(work, 'cache'))
    counts = {'runs': 0, 'crash': 0, 'hang': 0, 'silent': 0}
    exits = {}
    start = time.monotonic()
    try:
        while True:
            if args.long and counts['runs'] >= args.count:
                break
            if not args.long and time.monotonic() - start > args.budget:
                break
            model = models[counts['runs'] % len(models)]
            text = mutate(texts[model], rng)
            path = os.path.join(work, 'm%d.cfg' % counts['runs'])
            with open(path, 'w') as f:
                f.write(text)
            cmd = [args.sigode] + command(path, text, rng, work)
            counts['runs'] += 1
            cpu = max(1, int(args.timeout))

            def limit_cpu():
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))

            try:
                p = subprocess.run(cmd, capture_output=True, text=True, errors='replace',
                                   timeout=args.timeout * args.wall_factor, env=env,
                                   preexec_fn=limit_cpu)
                verdict = classify(p.returncode, p.stdout, p.stderr)
                exits[p.returncode] = exits.get(p.returncode, 0) + 1
            except subprocess.TimeoutExpired:
                verdict = 'hang'
                p = None
            if verdict:
                counts[verdict] += 1
                print('%s: %s' % (verdict.upper(), ' '.join(cmd[1:])))
                if p is not None:
                    print('  ' + (p.stderr.strip().splitlines() or ['(no stderr)'])[0][:300])
                if args.keep:
                    os.makedirs(args.keep, exist_ok=True)
                    shutil.copy(path, os.path.join(args.keep, '%s_%d.cfg' % (verdict,
                                                                               counts['runs'])))
            os.unlink(path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('exit statuses: %s' % ', '.join('%d: %d' % kv for kv in sorted(exits.items())))
    print('%d mutations, %d crashes, %d hangs, %d silent nan/null' %
          (counts['runs'], counts['crash'], counts['hang'], counts['silent']))
    return 1 if counts['crash'] or counts['hang'] or counts['silent'] else 0


if __name__ == '__main__':
    sys.exit(main())

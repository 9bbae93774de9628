#!/usr/bin/python3
"""Writes a synthetic signalling-like reaction network as a sigode model.

    gen_network.py N [--seed S] [--output FILE]

N species S0..S{N-1} in pathway modules of 10, three reactions per species:

  1. turnover      S_i ->                 kd * S_i                  (mass action)
  2. production    -> S_i                 v * hill(S_j, K, n)       (Hill, n = 1..4)
                                          or  v0 + mm(S_j, v, K)    (Michaelis-Menten)
  3. coupling, one of
       binding     S_i + S_j <-> S_k      kon*S_i*S_j - koff*S_k    (mass action)
       conversion  S_i -> S_k             mm(S_i, kcat * S_j, Km)   (enzyme S_j)
       conversion  S_i -> S_k             k * S_i                   (mass action)

The partners j, k are drawn within the species' own module and its two
neighbours (sparse, local coupling: a Jacobian of about 6 entries per
column whose LU factors stay sparse, as in real pathway maps; coupling
drawn uniformly over the whole network would make any sparse LU fill in
super-linearly, whatever the tool). Rate constants are log-uniform over
about four decades, so the system is stiff; every rate law is bounded by
linear turnover, so the run is well behaved at any size. Parameters are
named (one per constant, as in an SBML export). Same N and seed: same file.
"""
import argparse
import math
import random
import sys

MODULE = 10


def logu(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def partner(rng, i, n, avoid=()):
    """A species in i's module or the two next to it, not in `avoid`."""
    m = i // MODULE
    lo = max(0, (m - 1) * MODULE)
    hi = min(n, (m + 2) * MODULE)
    for _ in range(100):
        j = rng.randrange(lo, hi)
        if j != i and j not in avoid:
            return j
    raise RuntimeError("network too small for its modules")


def generate(n, seed):
    rng = random.Random(seed * 1000003 + n)
    params = []   # (id, value)
    species = []  # (id, initial)
    reactions = []  # (id, equation, rate)

    def par(prefix, value):
        pid = "%s%d" % (prefix, len(params))
        params.append((pid, float("%.6g" % value)))
        return pid

    for i in range(n):
        species.append(("S%d" % i, float("%.6g" % logu(rng, 0.1, 10.0))))
    for i in range(n):
        s = "S%d" % i
        # 1. turnover
        reactions.append(("deg%d" % i, "%s ->" % s, "%s * %s" % (par("kd", logu(rng, 0.01, 1.0)), s)))
        # 2. production regulated by an upstream species
        j = partner(rng, i, n)
        if rng.random() < 0.5:
            hill_n = rng.choice([1, 2, 3, 4])
            rate = "%s * hill(S%d, %s, %d)" % (par("v", logu(rng, 0.05, 5.0)), j,
                                              par("K", logu(rng, 0.3, 3.0)), hill_n)
        else:
            rate = "%s + mm(S%d, %s, %s)" % (par("b", logu(rng, 0.001, 0.1)), j,
                                            par("v", logu(rng, 0.05, 5.0)),
                                            par("K", logu(rng, 0.3, 3.0)))
        reactions.append(("syn%d" % i, "-> %s" % s, rate))
        # 3. coupling
        kind = rng.random()
        j = partner(rng, i, n)
        k = partner(rng, i, n, avoid=(j,))
        if kind < 1 / 3:
            rate = "%s * %s * S%d - %s * S%d" % (par("kon", logu(rng, 0.01, 10.0)), s, j,
                                                 par("koff", logu(rng, 0.01, 10.0)), k)
            reactions.append(("bind%d" % i, "%s + S%d <-> S%d" % (s, j, k), rate))
        elif kind < 2 / 3:
            rate = "mm(%s, %s * S%d, %s)" % (s, par("kcat", logu(rng, 0.1, 100.0)), j,
                                             par("Km", logu(rng, 0.3, 3.0)))
            reactions.append(("cat%d" % i, "%s -> S%d" % (s, k), rate))
        else:
            rate = "%s * %s" % (par("k", logu(rng, 0.01, 100.0)), s)
            reactions.append(("conv%d" % i, "%s -> S%d" % (s, k), rate))
    return params, species, reactions


def write(out, n, seed, params, species, reactions):
    w = out.write
    w("# Synthetic signalling-like network written by scripts/bench/gen_network.py\n")
    w("# (%d species, %d reactions, seed %d). Benchmark input, not biology.\n"
      % (n, len(reactions), seed))
    w('name = "synthetic_%d";\n' % n)
    w('description = "Synthetic network: mass action, Michaelis-Menten and Hill terms";\n')
    w("parameters = (\n")
    w(",\n".join('  { id = "%s"; value = %r; }' % p for p in params))
    w("\n);\nspecies = (\n")
    w(",\n".join('  { id = "%s"; initial = %r; }' % s for s in species))
    w("\n);\nreactions = (\n")
    w(",\n".join('  { id = "%s"; equation = "%s"; rate = "%s"; }' % r for r in reactions))
    w("\n);\nscenarios = (\n")
    w('  { id = "bench"; t_end = 100.0; points = 101; }\n);\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--output", default="-")
    a = ap.parse_args()
    if a.n < 3 * MODULE:
        sys.exit("gen_network.py: need at least %d species" % (3 * MODULE))
    params, species, reactions = generate(a.n, a.seed)
    if a.output == "-":
        write(sys.stdout, a.n, a.seed, params, species, reactions)
    else:
        tmp = a.output + ".tmp"
        with open(tmp, "w") as f:
            write(f, a.n, a.seed, params, species, reactions)
        import os
        os.replace(tmp, a.output)


if __name__ == "__main__":
    main()

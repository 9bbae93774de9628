#!/usr/bin/env python3
"""Translates a BioNetGen reaction network (.net, as BNG2.pl's
generate_network writes it) into a sigode model file, for the benchmark.

  scripts/bench/net2cfg.py NETWORK.net [--t-end 600] [--points 61] > MODEL.cfg

Parameters whose value is an expression of other parameters are evaluated
here (BioNetGen's ConstantExpression); species become S1..Sn with their
pattern as a comment; each reaction is mass action, the rate constant
expression (with BioNetGen's statistical factor, e.g. 2*kp1) times the
reactants' concentrations, as run_network integrates it; groups
(observables) become assignments. Only what fceri_ji-like networks use is
supported: anything else (functions, energy patterns, rate laws other than
elementary) is refused with the line number.
"""
import argparse
import ast
import operator
import re
import sys

OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
       ast.Div: operator.truediv, ast.Pow: operator.pow, ast.USub: operator.neg,
       ast.UAdd: operator.pos}


def evaluate(expr, values, where):
    """An arithmetic expression of numbers and known names (no calls)."""
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in values:
            return values[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in OPS:
            return OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in OPS:
            return OPS[type(node.op)](ev(node.operand))
        raise ValueError("%s: unsupported expression %r" % (where, expr))
    return ev(ast.parse(expr.replace("^", "**"), mode="eval"))


def blocks(lines):
    current, out = None, {}
    for no, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^(begin|end)\s+(\w+)", line)
        if m:
            current = m.group(2) if m.group(1) == "begin" else None
            out.setdefault(current, []) if current else None
            continue
        if current:
            out[current].append((no, line, raw))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("net")
    ap.add_argument("--t-end", type=float, default=600.0)
    ap.add_argument("--points", type=int, default=61)
    a = ap.parse_args()
    with open(a.net) as f:
        lines = f.read().splitlines()
    b = blocks(lines)
    for unsupported in ("functions", "energy"):
        if unsupported in b:
            sys.exit("%s: a '%s' block is not supported" % (a.net, unsupported))
    name = re.sub(r"\W", "_", a.net.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    out = ["# Translated from %s by scripts/bench/net2cfg.py: BioNetGen's network"
           % a.net.rsplit("/", 1)[-1],
           "# (mass action, statistical factors in the rate constants).",
           'name = "%s";' % name, ""]
    values, params = {}, []
    for no, line, raw in b.get("parameters", []):
        fields = line.split(None, 2)
        if len(fields) != 3:
            sys.exit("%s:%d: expected 'index name value'" % (a.net, no))
        pname, expr = fields[1], fields[2]
        values[pname] = evaluate(expr, values, "%s:%d" % (a.net, no))
        params.append('  { id = "%s"; value = %r; }' % (pname, values[pname]))
    out.append("parameters = (\n" + ",\n".join(params) + "\n);\n")
    species = []
    for no, line, raw in b.get("species", []):
        fields = line.split()
        if len(fields) != 3:
            sys.exit("%s:%d: expected 'index pattern amount'" % (a.net, no))
        idx, pattern, init = fields
        species.append('  { id = "S%s"; initial = %r; },  # %s'
                       % (idx, evaluate(init, values, "%s:%d" % (a.net, no)), pattern))
    species[-1] = species[-1].replace("},  #", "}   #", 1)
    out.append("species = (\n" + "\n".join(species) + "\n);\n")
    groups = []
    for no, line, raw in b.get("groups", []):
        fields = line.split()
        if len(fields) != 3:
            sys.exit("%s:%d: expected 'index name members'" % (a.net, no))
        terms = []
        for member in fields[2].split(","):
            w, _, s = member.rpartition("*")
            terms.append(("%s * S%s" % (w, s)) if w else "S%s" % s)
        groups.append('  { id = "%s"; value = "%s"; }' % (fields[1], " + ".join(terms)))
    if groups:
        out.append("assignments = (\n" + ",\n".join(groups) + "\n);\n")
    reactions = []
    for no, line, raw in b.get("reactions", []):
        fields = line.split()
        if len(fields) != 4:
            sys.exit("%s:%d: expected 'index reactants products rate'" % (a.net, no))
        idx, lhs, rhs, rate = fields
        if not re.fullmatch(r"(\d+(\.\d+)?\*)?[A-Za-z_]\w*|[-+0-9.eE*]+", rate):
            sys.exit("%s:%d: rate law '%s' is not elementary" % (a.net, no, rate))

        def side(text):
            ids = [s for s in text.split(",") if s != "0"]
            counts = {}
            for s in ids:
                counts[s] = counts.get(s, 0) + 1
            return ids, " + ".join(("%d S%s" % (n, s)) if n > 1 else "S%s" % s
                                   for s, n in counts.items())
        reactants, left = side(lhs)
        _, right = side(rhs)
        law = " * ".join([rate] + ["S%s" % s for s in reactants])
        reactions.append('  { id = "R%s"; equation = "%s -> %s"; rate = "%s"; }'
                         % (idx, left, right, law))
    out.append("reactions = (\n" + ",\n".join(reactions) + "\n);\n")
    out.append('scenarios = ( { id = "bench"; t_end = %r; points = %d; } );'
               % (a.t_end, a.points))
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

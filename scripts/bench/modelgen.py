#!/usr/bin/python3
"""Writes a sigode model out as native code for the benchmark's baselines.

    modelgen.py MODEL.cfg --outdir DIR [--name NAME]

Reads the model file (its own small libconfig reader and rate-law parser,
independent of sigode's), derives the right-hand side and the analytic
Jacobian with SymPy, and writes

  DIR/NAME_native.c  straight-line C: rhs, Jacobian values in CSC order and
                     as a dense column-major matrix (handc.c drives CVODE
                     with it; this is the hand-written-C limit)
  DIR/NAME_model.py  Python functions rhs(t, y, p), jac_values(t, y, p) and
                     the pattern, for SciPy's solve_ivp
  DIR/NAME_model.R   the same as R functions, for deSolve

The code is what a careful person writes by hand: states and parameters in
arrays, each rate law once, assignments inlined, common subexpressions
computed once (SymPy's cse), small integer powers as products. States are
the non-constant species in file order (sigode's order); parameters are
the model's parameters, compartment sizes and constant species.
"""
import argparse
import json
import os
import re
import sys
import time

import sympy as sp
from sympy.printing.c import C99CodePrinter
from sympy.printing.pycode import PythonCodePrinter
from sympy.printing.rcode import RCodePrinter

# ----------------------------------------------------------------- libconfig


class ConfigError(Exception):
    pass


_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+L{0,2}|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?L{0,2}))
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
  | (?P<punct>[=:;,(){}\[\]])
""", re.X | re.S)


def _tokens(text):
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ConfigError("libconfig syntax error near %r" % text[pos:pos + 20])
        pos = m.end()
        if m.lastgroup != "ws":
            yield m.lastgroup, m.group()


def parse_libconfig(text):
    """A libconfig document as nested dicts (groups) and lists."""
    toks = list(_tokens(text))
    i = 0

    def peek():
        return toks[i] if i < len(toks) else (None, None)

    def take(value=None):
        nonlocal i
        t = peek()
        if value is not None and t[1] != value:
            raise ConfigError("expected %r, got %r" % (value, t[1]))
        i += 1
        return t

    def scalar():
        kind, v = take()
        if kind == "str":
            s = bytes(v[1:-1], "utf-8").decode("unicode_escape")
            while peek()[0] == "str":  # adjacent strings concatenate
                s += bytes(take()[1][1:-1], "utf-8").decode("unicode_escape")
            return s
        if kind == "num":
            v = v.rstrip("L")
            if v.lower().startswith(("0x", "+0x", "-0x")):
                return int(v, 16)
            if re.fullmatch(r"[-+]?\d+", v):
                return int(v)
            return float(v)
        if kind == "name" and v.lower() in ("true", "false"):
            return v.lower() == "true"
        raise ConfigError("unexpected %r" % v)

    def value():
        v = peek()[1]
        if v == "{":
            take("{")
            g = settings("}")
            take("}")
            return g
        if v in ("(", "["):
            close = ")" if v == "(" else "]"
            take(v)
            out = []
            while peek()[1] != close:
                out.append(value())
                if peek()[1] == ",":
                    take(",")
            take(close)
            return out
        return scalar()

    def settings(end):
        g = {}
        while peek()[1] != end:
            kind, name = take()
            if kind != "name":
                raise ConfigError("expected a setting name, got %r" % name)
            if peek()[1] not in ("=", ":"):
                raise ConfigError("expected '=' after %s" % name)
            take()
            g[name] = value()
            if peek()[1] in (";", ","):
                take()
        return g

    return settings(None)

# ----------------------------------------------------------------- rate laws


class _Bool:
    """A condition (comparison or logic) before it is used as a number."""

    def __init__(self, cond):
        self.cond = cond


def _num(x):
    return sp.Piecewise((1, x.cond), (0, True)) if isinstance(x, _Bool) else x


def _cond(x):
    return x.cond if isinstance(x, _Bool) else sp.Ne(x, 0)


_EXPR_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
                         r"|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|&&|\|\||[-+*/^(),<>!]))")


def parse_rate(text, names):
    """Parses a rate law into SymPy; `names` maps identifiers to expressions.
    Precedence as in sigode: || < && < comparisons < + - < * / < unary < ^
    (right-associative, binding tighter than unary minus)."""
    toks = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _EXPR_TOKEN.match(text, pos)
        if not m:
            raise ConfigError("cannot read %r in %r" % (text[pos:], text))
        pos = m.end()
        if m.group(1):
            toks.append(("num", m.group(1)))
        elif m.group(2):
            toks.append(("name", m.group(2)))
        else:
            toks.append(("op", m.group(3)))
    toks.append(("end", None))
    i = 0

    def peek():
        return toks[i][1]

    def take(v=None):
        nonlocal i
        t = toks[i]
        if v is not None and t[1] != v:
            raise ConfigError("expected %r in %r" % (v, text))
        i += 1
        return t

    def p_or():
        a = p_and()
        while peek() == "||":
            take()
            a = _Bool(sp.Or(_cond(a), _cond(p_and())))
        return a

    def p_and():
        a = p_cmp()
        while peek() == "&&":
            take()
            a = _Bool(sp.And(_cond(a), _cond(p_cmp())))
        return a

    rel = {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge, "==": sp.Eq, "!=": sp.Ne}

    def p_cmp():
        a = p_add()
        while peek() in rel:
            op = take()[1]
            a = _Bool(rel[op](_num(a), _num(p_add())))
        return a

    def p_add():
        a = p_mul()
        while peek() in ("+", "-"):
            op = take()[1]
            b = _num(p_mul())
            a = _num(a) + b if op == "+" else _num(a) - b
        return a

    def p_mul():
        a = p_unary()
        while peek() in ("*", "/"):
            op = take()[1]
            b = _num(p_unary())
            a = _num(a) * b if op == "*" else _num(a) / b
        return a

    def p_unary():
        if peek() == "-":
            take()
            return -_num(p_unary())
        if peek() == "+":
            take()
            return p_unary()
        if peek() == "!":
            take()
            return _Bool(sp.Not(_cond(p_unary())))
        return p_pow()

    def p_pow():
        a = p_primary()
        if peek() == "^":
            take()
            return _num(a) ** _num(p_unary())
        return a

    funcs1 = {"exp": sp.exp, "log": sp.log, "ln": sp.log, "log10": lambda x: sp.log(x, 10),
              "sqrt": sp.sqrt, "abs": sp.Abs, "floor": sp.floor, "ceil": sp.ceiling,
              "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "tanh": sp.tanh}

    def p_primary():
        kind, v = take()
        if kind == "num":
            return sp.Integer(int(v)) if re.fullmatch(r"\d+", v) else sp.Float(float(v), 17)
        if v == "(":
            e = p_or()
            take(")")
            return e
        if kind != "name":
            raise ConfigError("unexpected %r in %r" % (v, text))
        if peek() != "(":
            if v not in names:
                raise ConfigError("unknown name %r in %r" % (v, text))
            return names[v]
        take("(")
        args = []
        if peek() != ")":
            args.append(p_or())
            while peek() == ",":
                take()
                args.append(p_or())
        take(")")
        if v in funcs1 and len(args) == 1:
            return funcs1[v](_num(args[0]))
        a = [_num(x) for x in args] if v != "if" else args
        if v == "pow" and len(a) == 2:
            return a[0] ** a[1]
        if v == "min" and len(a) == 2:
            return sp.Piecewise((a[0], a[0] <= a[1]), (a[1], True))
        if v == "max" and len(a) == 2:
            return sp.Piecewise((a[0], a[0] >= a[1]), (a[1], True))
        if v == "hill" and len(a) == 3:
            x, k, n = a
            return x ** n / (k ** n + x ** n)
        if v == "mm" and len(a) == 3:
            x, vmax, km = a
            return vmax * x / (km + x)
        if v == "if" and len(a) == 3:
            return sp.Piecewise((_num(a[1]), _cond(a[0])), (_num(a[2]), True))
        raise ConfigError("unknown function %s/%d in %r" % (v, len(args), text))

    e = _num(p_or())
    if toks[i][0] != "end":
        raise ConfigError("trailing %r in %r" % (peek(), text))
    return e


def parse_equation(text):
    """'2 A + B <-> C' -> [(species, net coefficient)], products positive."""
    if "<->" in text:
        lhs, rhs = text.split("<->")
    elif "->" in text:
        lhs, rhs = text.split("->")
    else:
        raise ConfigError("no arrow in equation %r" % text)
    net = {}
    for side, sign in ((lhs, -1), (rhs, 1)):
        for term in side.split("+"):
            term = term.strip()
            if not term:
                continue
            m = re.fullmatch(r"(\d+\.?\d*|\.\d+)?\s*([A-Za-z_][A-Za-z0-9_]*)", term)
            if not m:
                raise ConfigError("cannot read term %r of %r" % (term, text))
            c = float(m.group(1)) if m.group(1) else 1.0
            net[m.group(2)] = net.get(m.group(2), 0.0) + sign * c
    return [(s, c) for s, c in net.items() if c != 0]

# ------------------------------------------------------------------- model


class Model:
    def __init__(self, path):
        with open(path) as f:
            cfg = parse_libconfig(f.read())
        self.name = cfg["name"]
        comps = cfg.get("compartments") or []
        self.implicit = len(comps) == 0
        params = cfg.get("parameters") or []
        species = cfg.get("species") or []
        self.t = sp.Symbol("t")
        names = {"time": self.t}
        self.state_ids, self.y0, self.ysym = [], [], []
        self.param_ids, self.p0, self.psym = [], [], []
        comp_of = {}

        def number(value):
            """A value may be an expression of parameters defined so far
            (the shipped models derive some from others); the C gets the
            number."""
            if not isinstance(value, str):
                return float(value)
            e = sp.sympify(parse_rate(value, names)).xreplace(
                {s: sp.Float(v, 17) for s, v in zip(self.psym, self.p0)})
            if e.free_symbols:
                raise ConfigError("value %r needs %s, not defined before it"
                                  % (value, ", ".join(sorted(str(x) for x in e.free_symbols))))
            return float(e)

        def add_param(pid, value):
            s = sp.Symbol("p_%d" % len(self.param_ids), real=True)
            v = number(value)
            self.param_ids.append(pid)
            self.p0.append(v)
            self.psym.append(s)
            names[pid] = s

        for c in comps:
            add_param(c["id"], c.get("size", 1.0))
        # in dependency order: a parameter may name one defined after it
        waiting = list(params)
        while waiting:
            later = []
            for p in waiting:
                try:
                    add_param(p["id"], p["value"])
                except ConfigError:
                    later.append(p)
            if len(later) == len(waiting):
                add_param(later[0]["id"], later[0]["value"])  # raises: says which
            waiting = later
        self.constant = set()
        for s in species:
            comp_of[s["id"]] = s.get("compartment", comps[0]["id"] if comps else None)
            if s.get("constant", False):
                self.constant.add(s["id"])
                add_param(s["id"], s.get("initial", 0.0))
            else:
                y = sp.Symbol("y_%d" % len(self.state_ids), real=True)
                self.state_ids.append(s["id"])
                self.y0.append(number(s.get("initial", 0.0)))
                self.ysym.append(y)
                names[s["id"]] = y
        self.n = len(self.state_ids)
        # assignments, inlined in dependency order
        pending = {a["id"]: a["value"] for a in (cfg.get("assignments") or [])}
        for aid in pending:
            names[aid] = sp.Symbol("_pending_" + aid)
        done = {}

        def resolve(aid, stack=()):
            if aid in done:
                return done[aid]
            if aid in stack:
                raise ConfigError("assignment cycle through %s" % aid)
            e = parse_rate(pending[aid], names)
            subs = {}
            for s in e.free_symbols:
                if s.name.startswith("_pending_"):
                    subs[s] = resolve(s.name[len("_pending_"):], stack + (aid,))
            e = e.xreplace(subs)
            done[aid] = e
            return e

        for aid in pending:
            resolve(aid)
        for aid in pending:
            names[aid] = done[aid]
        # reactions
        index = {sid: k for k, sid in enumerate(self.state_ids)}
        self.rates = []     # SymPy expression per reaction
        self.stoich = []    # [(state index, coefficient / compartment size)]
        for r in cfg.get("reactions") or []:
            rate = parse_rate(r["rate"], names)
            terms = []
            for sid, c in parse_equation(r["equation"]):
                if sid in self.constant:
                    continue
                if sid not in index:
                    raise ConfigError("unknown species %r in %r" % (sid, r["equation"]))
                coef = sp.Integer(int(c)) if float(c).is_integer() else sp.Float(c)
                if not self.implicit:
                    coef = coef / names[comp_of[sid]]
                terms.append((index[sid], coef))
            self.rates.append(rate)
            self.stoich.append(terms)

# ------------------------------------------------------------------ printing


MAX_PRODUCT_POWER = 4


def _pow_text(printer, expr, fallback):
    """x^n for small integer n as products, as one writes by hand."""
    b, e = expr.as_base_exp()
    if e.is_Integer and 2 <= abs(int(e)) <= MAX_PRODUCT_POWER:
        base = printer._print(b)
        if not (b.is_Symbol or b.is_Number):
            base = "(%s)" % base
        prod = "*".join([base] * abs(int(e)))
        return "(%s)" % prod if e > 0 else "(1.0/(%s))" % prod
    return fallback(expr)


class CPrinter(C99CodePrinter):
    def __init__(self, names):
        super().__init__()
        self.names = names

    def _print_Symbol(self, expr):
        return self.names.get(expr.name) or super()._print_Symbol(expr)

    def _print_Pow(self, expr):
        return _pow_text(self, expr, super()._print_Pow)


class PyPrinter(PythonCodePrinter):
    def __init__(self, names):
        super().__init__({"fully_qualified_modules": False})
        self.names = names

    def _print_Symbol(self, expr):
        return self.names.get(expr.name) or super()._print_Symbol(expr)


class RPrinter(RCodePrinter):
    def __init__(self, names):
        super().__init__()
        self.names = names

    def _print_Symbol(self, expr):
        return self.names.get(expr.name) or super()._print_Symbol(expr)


def _cse(exprs, prefix, big):
    """Common subexpressions: one pass over all when the model is small,
    else per group (the groups are lists of expressions)."""
    gen = sp.numbered_symbols(prefix)
    if not big:
        flat = [e for g in exprs for e in g]
        temps, red = sp.cse(flat, symbols=gen, order="none")
        out, k = [], 0
        for g in exprs:
            out.append(red[k:k + len(g)])
            k += len(g)
        return [temps] + [[] for _ in exprs[1:]], out
    temps_all, out = [], []
    for g in exprs:
        temps, red = sp.cse(g, symbols=gen, order="none")
        temps_all.append(temps)
        out.append(red)
    return temps_all, out


class Generated:
    """RHS and Jacobian as (temporaries, expressions) ready to print."""

    def __init__(self, m):
        self.m = m
        self.big = big = len(m.rates) > 300
        # right-hand side: rates, then dy_i = sum coef * rate
        self.rate_temps, rates = _cse([[r] for r in m.rates], "w", big)
        self.rate_exprs = [g[0] for g in rates]
        self.dy = [[] for _ in range(m.n)]
        for k, terms in enumerate(m.stoich):
            for i, c in terms:
                self.dy[i].append((c, k))
        # Jacobian: d rate_k / d y_j for the states rate_k depends on
        derivs = []
        self.deriv_cols = []
        for r in m.rates:
            cols = sorted(int(s.name[2:]) for s in r.free_symbols if s.name.startswith("y_"))
            ds, keep = [], []
            for j in cols:
                d = sp.powsimp(sp.diff(r, m.ysym[j]))
                if d != 0:
                    ds.append(d)
                    keep.append(j)
            derivs.append(ds)
            self.deriv_cols.append(keep)
        self.jac_temps, self.derivs = _cse(derivs, "u", big)
        entries = {}
        for k, terms in enumerate(m.stoich):
            for j_pos, j in enumerate(self.deriv_cols[k]):
                for i, c in terms:
                    entries.setdefault((i, j), []).append((c, k, j_pos))
        for i in range(m.n):
            entries.setdefault((i, i), [])  # the diagonal is always in the pattern
        order = sorted(entries, key=lambda e: (e[1], e[0]))
        self.entries = [(i, j, entries[(i, j)]) for i, j in order]
        self.colptr = [0] * (m.n + 1)
        for i, j, _ in self.entries:
            self.colptr[j + 1] += 1
        for j in range(m.n):
            self.colptr[j + 1] += self.colptr[j]
        self.rowidx = [i for i, _, _ in self.entries]


def _sum_text(terms, name_of, printer):
    if not terms:
        return "0.0"
    parts = []
    for c, *ref in terms:
        t = name_of(*ref)
        if c == 1:
            parts.append("+ " + t)
        elif c == -1:
            parts.append("- " + t)
        else:
            parts.append("+ (%s)*%s" % (printer.doprint(c), t))
    s = " ".join(parts)
    return s[2:] if s.startswith("+ ") else "-" + s[2:]


CHUNK = 200  # statements per function in a large model's C code


def write_c(g, path):
    """Small models: one straight-line function each. Large ones: rates
    and derivatives go to arrays, in functions of CHUNK statements (GCC's
    time grows faster than linearly on one huge function)."""
    m = g.m
    names = {s.name: "y[%d]" % i for i, s in enumerate(m.ysym)}
    names.update({s.name: "p[%d]" % i for i, s in enumerate(m.psym)})
    names["t"] = "t"
    pr = CPrinter(names)
    L = []
    w = L.append
    w("/* Written by scripts/bench/modelgen.py from model '%s': do not edit. */" % m.name)
    w('#include <math.h>\n#include "native.h"\n')
    big = g.big
    rname = (lambda k: "r[%d]" % k) if big else (lambda k: "r%d" % k)
    dindex = {}
    for k, ds in enumerate(g.derivs):
        for jp in range(len(ds)):
            dindex[(k, jp)] = len(dindex)
    dname = (lambda k, jp: "d[%d]" % dindex[(k, jp)]) if big else (lambda k, jp: "d%d_%d" % (k, jp))
    decl = "" if big else "const double "
    # statement groups that must stay together (a reaction's temporaries)
    rate_groups, deriv_groups = [], []
    for k, e in enumerate(g.rate_exprs):
        grp = []
        if big:
            grp += ["const double %s = %s;" % (s_, pr.doprint(x)) for s_, x in g.rate_temps[k]]
        grp.append("%s%s = %s;" % (decl, rname(k), pr.doprint(e)))
        rate_groups.append(grp)
    if not big:
        rate_groups.insert(0, ["const double %s = %s;" % (s_, pr.doprint(x))
                               for s_, x in g.rate_temps[0]])
    for k, ds in enumerate(g.derivs):
        grp = []
        if big:
            grp += ["const double %s = %s;" % (s_, pr.doprint(x)) for s_, x in g.jac_temps[k]]
        grp += ["%s%s = %s;" % (decl, dname(k, jp), pr.doprint(d)) for jp, d in enumerate(ds)]
        deriv_groups.append(grp)
    if not big and g.jac_temps:
        deriv_groups.insert(0, ["const double %s = %s;" % (s_, pr.doprint(x))
                                for s_, x in g.jac_temps[0]])
    dy_lines = ["dy[%d] = %s;" % (i, _sum_text(t_, rname, pr)) for i, t_ in enumerate(g.dy)]
    csc_lines = ["Jx[%d] = %s;" % (e, _sum_text(t_, dname, pr))
                 for e, (i, j, t_) in enumerate(g.entries)]
    dense_lines = ["J[%d] = %s;" % (i + j * m.n, _sum_text(t_, dname, pr))
                   for i, j, t_ in g.entries if t_]

    def chunked(fname, args, groups):
        """Writes groups into functions fname_0.. of about CHUNK lines; returns
        the calls."""
        calls, body, part = [], [], 0
        for grp in groups + [None]:
            if grp is None or (body and len(body) + len(grp) > CHUNK):
                if body:
                    w("static void %s_%d(%s)\n{" % (fname, part, args))
                    w("    (void)t; (void)y; (void)p;" if "double t" in args else "")
                    L.extend("    " + x for x in body)
                    w("}\n")
                    calls.append("    %s_%d(%s);" % (fname, part, ", ".join(
                        a.split()[-1].lstrip("*") for a in args.split(", "))))
                    part += 1
                    body = []
                if grp is None:
                    break
            body.extend(grp)
        return calls

    if big:
        nd = max(1, len(dindex))
        targs = "double t, const double *y, const double *p"
        rate_calls = chunked("rates", targs + ", double *r", rate_groups)
        dy_calls = chunked("sums", "const double *r, double *dy", [[x] for x in dy_lines])
        der_calls = chunked("derivs", targs + ", double *d", deriv_groups)
        csc_calls = chunked("csc", "const double *d, double *Jx", [[x] for x in csc_lines])
        dense_calls = chunked("dense", "const double *d, double *J", [[x] for x in dense_lines])
        w("static void rhs(double t, const double *y, const double *p, double *dy)\n{")
        w("    double r[%d];" % max(1, len(g.rate_exprs)))
        L.extend(rate_calls + dy_calls)
        w("}\n")
        w("static void jac_csc(double t, const double *y, const double *p, double *Jx)\n{")
        w("    double d[%d];" % nd)
        L.extend(der_calls + csc_calls)
        w("}\n")
        w("static void jac_dense(double t, const double *y, const double *p, double *J)\n{")
        w("    double d[%d];" % nd)
        L.extend(der_calls + dense_calls)
        w("}\n")
    else:
        w("static void rhs(double t, const double *y, const double *p, double *dy)\n{")
        w("    (void)t;")
        L.extend("    " + x for grp in rate_groups for x in grp)
        L.extend("    " + x for x in dy_lines)
        w("}\n")
        deriv = ["    " + x for grp in deriv_groups for x in grp]
        w("static void jac_csc(double t, const double *y, const double *p, double *Jx)\n{")
        w("    (void)t; (void)y; (void)p;")
        L.extend(deriv)
        L.extend("    " + x for x in csc_lines)
        w("}\n")
        w("/* J is column-major n x n and zeroed by CVODE: only nonzeros are written. */")
        w("static void jac_dense(double t, const double *y, const double *p, double *J)\n{")
        w("    (void)t; (void)y; (void)p;")
        L.extend(deriv)
        L.extend("    " + x for x in dense_lines)
        w("}\n")

    def arr(ctype, name, vals, fmt):
        w("static const %s %s[] = {%s};" % (ctype, name,
                                              ", ".join(fmt % v for v in vals) or "0"))

    arr("char *const", "state_names", m.state_ids, '"%s"')
    arr("double", "initial_states", m.y0, "%.17g")
    arr("char *const", "param_names", m.param_ids, '"%s"')
    arr("double", "initial_params", m.p0, "%.17g")
    arr("int", "colptr", g.colptr, "%d")
    arr("int", "rowidx", g.rowidx, "%d")
    w("const native_model NATIVE_MODEL = {\"%s\", %d, %d, state_names, initial_states, param_names, initial_params,"
      % (m.name, m.n, len(m.param_ids)))
    w("    %d, colptr, rowidx, rhs, jac_csc, jac_dense};" % len(g.entries))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def write_py(g, path):
    m = g.m
    names = {s.name: "y[%d]" % i for i, s in enumerate(m.ysym)}
    names.update({s.name: "p[%d]" % i for i, s in enumerate(m.psym)})
    pr = PyPrinter(names)
    L = []
    w = L.append
    w('"""Model %s for SciPy; written by scripts/bench/modelgen.py."""' % m.name)
    w("from math import *\n")
    w("NAME = %r" % m.name)
    w("STATE_NAMES = %r" % m.state_ids)
    w("Y0 = %r" % m.y0)
    w("PARAM_NAMES = %r" % m.param_ids)
    w("P0 = %r" % m.p0)
    w("COLPTR = %r" % g.colptr)
    w("ROWIDX = %r\n" % g.rowidx)
    w("def rhs(t, y, p):")
    for temps in g.rate_temps:
        for s, e in temps:
            w("    %s = %s" % (s, pr.doprint(e)))
    for k, e in enumerate(g.rate_exprs):
        w("    r%d = %s" % (k, pr.doprint(e)))
    w("    return [")
    for terms in g.dy:
        w("        %s," % _sum_text(terms, lambda k: "r%d" % k, pr))
    w("    ]\n")
    w("def jac_values(t, y, p):")
    w('    """The Jacobian entries in CSC order (COLPTR, ROWIDX)."""')
    for temps in g.jac_temps:
        for s, e in temps:
            w("    %s = %s" % (s, pr.doprint(e)))
    for k, ds in enumerate(g.derivs):
        for jp, d in enumerate(ds):
            w("    d%d_%d = %s" % (k, jp, pr.doprint(d)))
    w("    return [")
    for i, j, terms in g.entries:
        w("        %s," % _sum_text(terms, lambda k, jp: "d%d_%d" % (k, jp), pr))
    w("    ]")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def write_r(g, path):
    m = g.m
    names = {s.name: "y[%d]" % (i + 1) for i, s in enumerate(m.ysym)}
    names.update({s.name: "p[%d]" % (i + 1) for i, s in enumerate(m.psym)})
    pr = RPrinter(names)
    L = []
    w = L.append
    w("# Model %s for deSolve; written by scripts/bench/modelgen.py." % m.name)
    rvec = lambda v, q=False: "c(%s)" % ", ".join(('"%s"' % x) if q else repr(float(x))
                                                  for x in v)
    w("model_name <- %s" % '"%s"' % m.name)
    w("state_names <- %s" % rvec(m.state_ids, True))
    w("y0 <- %s" % rvec(m.y0))
    w("param_names <- %s" % rvec(m.param_ids, True))
    w("p0 <- %s" % rvec(m.p0))
    w("jac_rows <- c(%s)" % ", ".join(str(i + 1) for i, _, _ in g.entries))
    w("jac_cols <- c(%s)" % ", ".join(str(j + 1) for _, j, _ in g.entries))
    w("model_rhs <- function(t, y, p) {")
    for temps in g.rate_temps:
        for s, e in temps:
            w("  %s <- %s" % (s, pr.doprint(e)))
    for k, e in enumerate(g.rate_exprs):
        w("  r%d <- %s" % (k, pr.doprint(e)))
    w("  c(")
    w(",\n".join("    %s" % _sum_text(t, lambda k: "r%d" % k, pr) for t in g.dy))
    w("  )\n}")
    w("model_jac_values <- function(t, y, p) {")
    for temps in g.jac_temps:
        for s, e in temps:
            w("  %s <- %s" % (s, pr.doprint(e)))
    for k, ds in enumerate(g.derivs):
        for jp, d in enumerate(ds):
            w("  d%d_%d <- %s" % (k, jp, pr.doprint(d)))
    w("  c(")
    w(",\n".join("    %s" % _sum_text(t, lambda k, jp: "d%d_%d" % (k, jp), pr)
                 for _, _, t in g.entries))
    w("  )\n}")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--name")
    a = ap.parse_args()
    t0 = time.time()
    m = Model(a.model)
    g = Generated(m)
    name = a.name or re.sub(r"\W", "_", os.path.splitext(os.path.basename(a.model))[0])
    os.makedirs(a.outdir, exist_ok=True)
    write_c(g, os.path.join(a.outdir, name + "_native.c"))
    write_py(g, os.path.join(a.outdir, name + "_model.py"))
    write_r(g, os.path.join(a.outdir, name + "_model.R"))
    print("modelgen: %s: %d states, %d reactions, %d Jacobian entries (%.1f s)"
          % (name, m.n, len(m.rates), len(g.entries), time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()

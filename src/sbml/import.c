/*
 * SBML import: an SBML Level 2 or 3 file -> sigode model text (libconfig),
 * which sg_model_load_buffer then loads like any model file.
 *
 * Translation (models/README.md and README.md "SBML" say it for users):
 *   - a sigode species always holds a concentration. A species with
 *     hasOnlySubstanceUnits is referred to in SBML math by its amount, so
 *     every reference becomes (S * C); rules and event assignments that give
 *     its amount are divided by C.
 *   - boundaryCondition species never appear in reaction equations (reactions
 *     do not change them); they are sigode constants unless a rule or an
 *     event changes them.
 *   - local parameters become globals named reaction_param.
 *   - function definitions are inlined (arguments substituted in the tree).
 *   - a reaction id in math stands for its kinetic law, inlined.
 *   - initial values: initialAmount becomes the expression amount / size (a
 *     new size changes the concentration, not the amount); an initial
 *     assignment is computed here when its math is made of
 *     constants only, otherwise written as an expression that sigode
 *     evaluates at the start (so a --set of what it uses carries over).
 *   - assignment rules become `assignments`, rate rules `rate_rules`, events
 *     `events` (with delays and priorities).
 *   - algebraic rules are solved by elimination into assignments, a fast
 *     reaction is taken at its quasi-equilibrium (solve_algebraic,
 *     plan_fast).
 * Anything else that changes the simulation is refused with a message naming
 * the element and its line in the SBML file.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sbml/SBMLTypes.h>
#include <sbml/conversion/ConversionProperties.h>
#include <sbml/conversion/ConversionOption.h>

#include "../expr/expr.h"
#include "sbml.h"

/* ------------------------------------------------------------ symbols */

typedef enum sym_kind { K_COMPARTMENT, K_SPECIES, K_PARAMETER, K_REACTION, K_SPECIESREF,
                        K_FUNCTION } sym_kind;

typedef struct sym {
    const char *id;      /* the sigode id: the SBML id, or `renamed` */
    const char *sbml;    /* the SBML id */
    char *renamed;       /* a fresh id for an SBML id sigode reserves ('time') */
    sym_kind kind;
    const SBase_t *obj;
    const ASTNode_t *assign_rule, *rate_rule, *initial_assignment;
    const SBase_t *rule_obj, *ia_obj;
    int event_assigned;
    /* species */
    int hosu, boundary, constant;
    int comp;            /* index of the compartment symbol (species) */
    int holds_species;   /* compartment: some species lives in it */
    int as_parameter;    /* compartment written as a parameter (variable size) */
    int varies;          /* compartment: its size changes (rule or event) */
    /* species whose change by reactions is written as a rate rule (see
     * plan_species) */
    int by_rate_rule;
    char *amount;        /* held as this amount variable (a changing compartment) */
    int as_species_parameter; /* a species of a changing compartment whose
                                 concentration is given by a rate rule:
                                 written as a parameter */
    const char *conversion; /* conversion factor id, or NULL */
    sg_sbuf flux;        /* amount per time from reactions (by_rate_rule) */
    int variable_stoich; /* species reference: its stoichiometry changes */
    double stoich;       /* species reference: its stoichiometry */
    /* initial value: known number, or (pending) an expression */
    int known;
    double value;
    int evaluating;      /* recursion guard of the start-value evaluator */
    /* species held at the quasi-equilibrium of the fast reaction (plan_fast):
     * the pivot gets `solved` (its concentration), every other one a `pool`
     * (a parameter: its amount minus pool_ratio x the pivot's amount, which
     * the fast reaction leaves unchanged) */
    int fast;
    char *solved, *pool, *pool_ratio, *pool_start;
    /* its net stoichiometry in the fast reaction as text (times the
     * conversion factor), and the species reference whose stoichiometry
     * events change (fast_event_pools), with its sign (+1 product) */
    char *fast_scaled;
    const struct sym *fast_ref;
    int fast_sign;
} sym;

typedef struct local_param {
    const char *reaction, *id;
    char *name;          /* the global name it becomes */
    double value;
} local_param;

/* Function arguments bound while inlining a user function: names and the
 * text (or number) each stands for. */
typedef struct scope {
    const struct scope *up;
    const char *reaction;   /* for local parameters (NULL outside kinetic laws) */
    int nargs;
    const char **names;
    char **texts;
    const double *values;   /* evaluator: argument values */
} scope;

typedef struct importer {
    const char *path;
    sg_error *err;
    int failed;
    Model_t *model;
    unsigned level, version;
    sym *syms;
    size_t nsyms, cap;
    sg_map index;           /* id -> index into syms */
    local_param *locals;
    size_t nlocals, lcap;
    int depth;              /* inlining depth */
    int in_delay;           /* emitting the value argument of a delay() */
    int wrote_start_guard;  /* a `time < 0` guard was written: runs_from_zero */
    int inlined_functions, evaluated;
    const char *plain;      /* emit this species' id as a bare name (algebraic rules) */
    const Rule_t **algebraic; /* algebraic rules, solved in collect_rules */
    size_t nalgebraic, algcap;
    ASTNode_t **owned;      /* math made here (solved algebraic rules) */
    size_t nowned, owncap;
    /* while set: global names emitted as these texts (plan_fast) */
    const char **subst_ids, **subst_texts;
    size_t nsubst;
    const Reaction_t *fast_reaction; /* solved as a quasi-equilibrium, not written */
    /* a fast reaction switched on and off by events (fast_switch): its
     * switch, the parameter holding the pivot's amount while it is off
     * (its start, as text), the flag saying it runs (1) or not (0), and
     * the events that set the flag when the switch turns non-zero (on) or
     * 0 (off; it also sets the pivot's amount to the equilibrium's) */
    const struct sym *fast_switch;
    double fast_half; /* half the switch's smallest non-zero value's size */
    char *fast_free, *fast_free_start, *fast_flag, *fast_on, *fast_off;
} importer;

static int fail(importer *im, const void *obj, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(importer *im, const void *obj, const char *fmt, ...)
{
    if (im->failed)
        return -1;
    im->failed = 1;
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = obj ? (int)SBase_getLine((const SBase_t *)obj) : 0;
    sg_error_set(im->err, SG_ERR_MODEL, im->path, line, 0, "%s", msg);
    return -1;
}

static int nomem(importer *im)
{
    if (!im->failed) {
        im->failed = 1;
        sg_error_nomem(im->err);
    }
    return -1;
}

static sym *find(const importer *im, const char *id)
{
    int i = id ? sg_map_get(&im->index, id) : -1;
    return i < 0 ? NULL : &im->syms[i];
}

static int valid_id(const char *s)
{
    if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    size_t n = 1;
    for (; s[n]; n++)
        if (!(isalnum((unsigned char)s[n]) || s[n] == '_'))
            return 0;
    return n <= 255;
}

/* An id for `base` that no SBML element has and no symbol so far uses:
 * base_, base_2, base_3... */
static char *fresh_id(const importer *im, const char *base)
{
    char name[300];
    snprintf(name, sizeof name, "%s_", base);
    for (int k = 2; find(im, name) ||
                    SBase_getElementBySId((SBase_t *)im->model, name) != NULL;
         k++)
        snprintf(name, sizeof name, "%s_%d", base, k);
    return sg_strdup(name);
}

static sym *add_sym(importer *im, const char *id, sym_kind kind, const void *obj)
{
    if (!id || !*id)
        return NULL;
    /* 'time' is the model time in sigode's expressions: a compartment,
     * parameter or species of that id gets a fresh sigode id and keeps its
     * SBML id in `sbml_id` (output columns, export) */
    int reserved = strcmp(id, "time") == 0;
    if (!valid_id(id) || (reserved && kind != K_COMPARTMENT && kind != K_PARAMETER &&
                          kind != K_SPECIES)) {
        fail(im, obj, "the id '%s' cannot be a sigode identifier ('time' is reserved; at "
                      "most 255 characters)", id);
        return NULL;
    }
    char *renamed = NULL;
    if (reserved && !(renamed = fresh_id(im, id))) {
        nomem(im);
        return NULL;
    }
    if (sg_grow(&im->syms, &im->cap, im->nsyms + 1, sizeof *im->syms) != 0) {
        nomem(im);
        return NULL;
    }
    sym *s = &im->syms[im->nsyms];
    memset(s, 0, sizeof *s);
    s->id = renamed ? renamed : id;
    s->sbml = id;
    s->renamed = renamed;
    s->kind = kind;
    s->obj = obj;
    s->comp = -1;
    int r = sg_map_put(&im->index, id, (int)im->nsyms);
    /* the fresh id too, so that names made later (name_taken) avoid it */
    if (r == 0 && renamed)
        r = sg_map_put(&im->index, renamed, (int)im->nsyms);
    if (r < 0) {
        sg_free(renamed);
        s->renamed = NULL;
        nomem(im);
        return NULL;
    }
    if (r == 1) {
        sg_free(renamed);
        s->renamed = NULL;
        fail(im, obj, "duplicate id '%s'", id);
        return NULL;
    }
    im->nsyms++;
    return s;
}

static const char *local_name(const importer *im, const char *reaction, const char *id)
{
    for (size_t i = 0; i < im->nlocals; i++)
        if (strcmp(im->locals[i].reaction, reaction) == 0 && strcmp(im->locals[i].id, id) == 0)
            return im->locals[i].name;
    return NULL;
}

/* --------------------------------------------------------- math -> text */

static void emit(importer *im, sg_sbuf *b, const ASTNode_t *n, const scope *sc);
static void emit_rate_of(importer *im, sg_sbuf *b, const ASTNode_t *n, const scope *sc);

static int is_leaf(const ASTNode_t *n)
{
    ASTNodeType_t t = ASTNode_getType(n);
    if (t == AST_INTEGER)
        return ASTNode_getInteger(n) >= 0;
    if (t == AST_REAL || t == AST_REAL_E)
        return ASTNode_getReal(n) >= 0 && isfinite(ASTNode_getReal(n));
    return t == AST_NAME_TIME || t == AST_CONSTANT_TRUE || t == AST_CONSTANT_FALSE ||
           t == AST_CONSTANT_PI;
}

/* An operand: wrapped in parentheses unless it is a plain number or name. */
static void operand(importer *im, sg_sbuf *b, const ASTNode_t *n, const scope *sc)
{
    ASTNodeType_t t = ASTNode_getType(n);
    if (is_leaf(n) || t == AST_NAME || t == AST_INTEGER || t == AST_REAL || t == AST_REAL_E) {
        emit(im, b, n, sc); /* names and numbers emit self-contained text */
        return;
    }
    sg_sbuf_add(b, "(");
    emit(im, b, n, sc);
    sg_sbuf_add(b, ")");
}

static void child(importer *im, sg_sbuf *b, const ASTNode_t *n, unsigned i, const scope *sc)
{
    operand(im, b, ASTNode_getChild(n, i), sc);
}

/* children joined by `op`; `empty` when there are none */
static void nary(importer *im, sg_sbuf *b, const ASTNode_t *n, const char *op,
                 const char *empty, const scope *sc)
{
    unsigned k = ASTNode_getNumChildren(n);
    if (k == 0) {
        sg_sbuf_add(b, empty);
        return;
    }
    for (unsigned i = 0; i < k; i++) {
        if (i)
            sg_sbuf_add(b, op);
        child(im, b, n, i, sc);
    }
}

/* The terms of a sum (or factors of a product) written as one flat list:
 * a plus whose operands are pluses (exporters such as BioNetGen's nest an
 * observable of 1000 species as plus(a, plus(b, ...))) becomes
 * "a + b + ...", so a long sum is a long chain, which the parser accepts at
 * any length, not 1000 nested parentheses, which it refuses past 200. Sums
 * are associative in the model's mathematics; the order of the terms is
 * kept. An explicit stack, not recursion: the nesting is the attacker's. */
static void flat_nary(importer *im, sg_sbuf *b, const ASTNode_t *n, const char *op,
                      const char *empty, const scope *sc)
{
    ASTNodeType_t t = ASTNode_getType(n);
    size_t cap = 16, top = 0;
    int first = 1;
    const ASTNode_t **stack = malloc(cap * sizeof *stack);
    if (!stack) {
        nary(im, b, n, op, empty, sc);
        return;
    }
    stack[top++] = n;
    while (top) {
        const ASTNode_t *m = stack[--top];
        unsigned k = ASTNode_getNumChildren(m);
        if (m != n && (ASTNode_getType(m) != t || k == 0)) {
            if (!first)
                sg_sbuf_add(b, op);
            operand(im, b, m, sc);
            first = 0;
            continue;
        }
        if (top + k > cap) {
            size_t ncap = (top + k) * 2;
            const ASTNode_t **grown = realloc(stack, ncap * sizeof *stack);
            if (!grown) {
                fail(im, NULL, "out of memory flattening a sum");
                break;
            }
            stack = grown;
            cap = ncap;
        }
        for (unsigned i = k; i-- > 0;) /* pushed last to first: popped in order */
            stack[top++] = ASTNode_getChild(m, i);
    }
    free(stack);
    if (first)
        sg_sbuf_add(b, empty);
}

/* f(x) where x is child i, with a template: "%" stands for (x). */
static void templ(importer *im, sg_sbuf *b, const ASTNode_t *n, const char *t, const scope *sc)
{
    sg_sbuf arg = {0};
    operand(im, &arg, ASTNode_getChild(n, ASTNode_getNumChildren(n) - 1), sc);
    for (const char *p = t; *p; p++) {
        if (*p == '%')
            sg_sbuf_add(b, arg.s ? arg.s : "");
        else
            sg_sbuf_addn(b, p, 1);
    }
    if (arg.oom)
        b->oom = 1;
    sg_sbuf_free(&arg);
}

/* INF and NaN have no literal in sigode expressions: divisions by zero
 * give them (constant folding leaves those to run time) */
static const char *nonfinite_text(double v)
{
    return isnan(v) ? "(0 / 0)" : v > 0 ? "(1 / 0)" : "(-1 / 0)";
}

static void emit_number(importer *im, sg_sbuf *b, double v, const ASTNode_t *n)
{
    (void)im;
    if (!isfinite(v)) {
        sg_sbuf_add(b, nonfinite_text(v));
        return;
    }
    if (signbit(v)) {
        sg_sbuf_add(b, "(");
        sg_sbuf_number(b, v);
        sg_sbuf_add(b, ")");
    } else {
        sg_sbuf_number(b, v);
    }
}

static void emit_name(importer *im, sg_sbuf *b, const char *name, const scope *sc)
{
    for (const scope *s = sc; s; s = s->up) {
        for (int i = 0; i < s->nargs; i++)
            if (strcmp(s->names[i], name) == 0) {
                sg_sbuf_add(b, s->texts[i]);
                return;
            }
        if (s->nargs > 0)
            break; /* a function body sees only its own arguments */
    }
    for (const scope *s = sc; s; s = s->up)
        if (s->reaction) {
            const char *l = local_name(im, s->reaction, name);
            if (l) {
                sg_sbuf_add(b, l);
                return;
            }
            break;
        }
    for (size_t i = 0; i < im->nsubst; i++)
        if (strcmp(im->subst_ids[i], name) == 0) {
            sg_sbuf_add(b, im->subst_texts[i]);
            return;
        }
    sym *y = find(im, name);
    if (!y) {
        fail(im, NULL, "unknown identifier '%s' in the math", name);
        return;
    }
    switch (y->kind) {
    case K_SPECIES:
        if (im->plain && strcmp(im->plain, y->id) == 0)
            sg_sbuf_add(b, y->id);
        else if (y->hosu && y->amount)
            sg_sbuf_add(b, y->amount);
        else if (y->hosu)
            sg_sbuf_printf(b, "(%s * %s)", y->id, im->syms[y->comp].id);
        else
            sg_sbuf_add(b, y->id);
        return;
    case K_COMPARTMENT:
    case K_PARAMETER:
        sg_sbuf_add(b, y->id);
        return;
    case K_REACTION: {
        const KineticLaw_t *kl = Reaction_getKineticLaw((Reaction_t *)y->obj);
        if (!kl || !KineticLaw_getMath(kl) || im->depth > 50) {
            fail(im, y->obj, "reaction '%s' is used in math but has no kinetic law "
                             "(or refers to itself)", y->id);
            return;
        }
        scope rs = {NULL, y->id, 0, NULL, NULL, NULL};
        im->depth++;
        sg_sbuf_add(b, "(");
        emit(im, b, KineticLaw_getMath(kl), &rs);
        sg_sbuf_add(b, ")");
        im->depth--;
        return;
    }
    case K_SPECIESREF:
        if (y->assign_rule || y->rate_rule || y->initial_assignment || y->event_assigned)
            sg_sbuf_add(b, y->id); /* a parameter or an assignment */
        else
            emit_number(im, b, y->stoich, NULL);
        return;
    case K_FUNCTION:
        fail(im, y->obj, "function '%s' used as a value", y->id);
        return;
    }
}

static void emit_call(importer *im, sg_sbuf *b, const ASTNode_t *n, const scope *sc)
{
    const char *name = ASTNode_getName(n);
    sym *f = find(im, name);
    if (!f || f->kind != K_FUNCTION) {
        fail(im, NULL, "call of '%s', which is not a function definition", name ? name : "?");
        return;
    }
    const FunctionDefinition_t *fd = (const FunctionDefinition_t *)f->obj;
    unsigned nargs = FunctionDefinition_getNumArguments(fd);
    const ASTNode_t *body = FunctionDefinition_getBody(fd);
    if (!body || nargs != ASTNode_getNumChildren(n)) {
        fail(im, fd, "function '%s' takes %u arguments, called with %u (or has no body)",
             name, nargs, ASTNode_getNumChildren(n));
        return;
    }
    if (im->depth > 50) {
        fail(im, fd, "function '%s': definitions nested more than 50 deep (recursion?)", name);
        return;
    }
    const char **names = sg_calloc(nargs + 1, sizeof *names);
    char **texts = sg_calloc(nargs + 1, sizeof *texts);
    if (!names || !texts) {
        sg_free(names);
        sg_free(texts);
        nomem(im);
        return;
    }
    for (unsigned i = 0; i < nargs; i++) {
        names[i] = ASTNode_getName(FunctionDefinition_getArgument(fd, i));
        sg_sbuf a = {0};
        operand(im, &a, ASTNode_getChild(n, i), sc);
        if (a.oom)
            nomem(im);
        texts[i] = a.s ? a.s : sg_strdup("0");
        if (!names[i])
            names[i] = "";
    }
    scope fs = {sc, NULL, (int)nargs, names, texts, NULL};
    im->depth++;
    im->inlined_functions++;
    sg_sbuf_add(b, "(");
    emit(im, b, body, &fs);
    sg_sbuf_add(b, ")");
    im->depth--;
    for (unsigned i = 0; i < nargs; i++)
        sg_free(texts[i]);
    sg_free(names);
    sg_free(texts);
}

/* relational chains: a < b < c is (a < b) && (b < c) */
static void relation(importer *im, sg_sbuf *b, const ASTNode_t *n, const char *op,
                     const scope *sc)
{
    unsigned k = ASTNode_getNumChildren(n);
    if (k < 2) {
        sg_sbuf_add(b, "1");
        return;
    }
    for (unsigned i = 0; i + 1 < k; i++) {
        if (i)
            sg_sbuf_add(b, " && ");
        sg_sbuf_add(b, k > 2 ? "(" : "");
        child(im, b, n, i, sc);
        sg_sbuf_add(b, op);
        child(im, b, n, i + 1, sc);
        sg_sbuf_add(b, k > 2 ? ")" : "");
    }
}

static void unsupported(importer *im, const ASTNode_t *n, const char *why)
{
    const char *name = ASTNode_getName(n);
    fail(im, NULL, "the MathML element '%s' is not supported%s%s",
         name ? name : "(unnamed)", why ? ": " : "", why ? why : "");
}

/* Writes MathML node n as a sigode expression. */
static void emit(importer *im, sg_sbuf *b, const ASTNode_t *n, const scope *sc)
{
    if (im->failed || !n)
        return;
    unsigned k = ASTNode_getNumChildren(n);
    ASTNodeType_t t = ASTNode_getType(n);
    switch ((int)t) {
    case AST_INTEGER:
        emit_number(im, b, (double)ASTNode_getInteger(n), n);
        return;
    case AST_REAL:
    case AST_REAL_E:
        emit_number(im, b, ASTNode_getReal(n), n);
        return;
    case AST_RATIONAL:
        sg_sbuf_printf(b, "(%ld / %ld)", ASTNode_getNumerator(n), ASTNode_getDenominator(n));
        return;
    case AST_NAME:
        emit_name(im, b, ASTNode_getName(n), sc);
        return;
    case AST_NAME_TIME:
        sg_sbuf_add(b, "time");
        return;
    case AST_NAME_AVOGADRO:
        sg_sbuf_add(b, "6.02214179e23");
        return;
    case AST_CONSTANT_E:
        sg_sbuf_add(b, "exp(1)");
        return;
    case AST_CONSTANT_PI:
        sg_sbuf_add(b, "3.141592653589793");
        return;
    case AST_CONSTANT_TRUE:
        sg_sbuf_add(b, "1");
        return;
    case AST_CONSTANT_FALSE:
        sg_sbuf_add(b, "0");
        return;
    case AST_PLUS:
        flat_nary(im, b, n, " + ", "0", sc);
        return;
    case AST_TIMES:
        flat_nary(im, b, n, " * ", "1", sc);
        return;
    case AST_MINUS:
        if (k == 1) {
            sg_sbuf_add(b, "-");
            child(im, b, n, 0, sc);
        } else {
            nary(im, b, n, " - ", "0", sc);
        }
        return;
    case AST_DIVIDE:
        nary(im, b, n, " / ", "1", sc);
        return;
    case AST_POWER:
    case AST_FUNCTION_POWER:
        if (k != 2)
            return unsupported(im, n, "power needs two arguments");
        child(im, b, n, 0, sc);
        sg_sbuf_add(b, "^");
        child(im, b, n, 1, sc);
        return;
    case AST_FUNCTION_ROOT:
        if (k == 1) {
            templ(im, b, n, "sqrt(%)", sc);
        } else if (k == 2) {
            child(im, b, n, 1, sc);
            sg_sbuf_add(b, "^(1 / ");
            child(im, b, n, 0, sc);
            sg_sbuf_add(b, ")");
        } else {
            unsupported(im, n, NULL);
        }
        return;
    case AST_FUNCTION_LOG:
        if (k == 1) {
            templ(im, b, n, "log10(%)", sc);
        } else if (k == 2) {
            const ASTNode_t *base = ASTNode_getChild(n, 0);
            if ((ASTNode_getType(base) == AST_INTEGER && ASTNode_getInteger(base) == 10) ||
                ((ASTNode_getType(base) == AST_REAL || ASTNode_getType(base) == AST_REAL_E) &&
                 ASTNode_getReal(base) == 10.0)) {
                templ(im, b, n, "log10(%)", sc);
            } else {
                templ(im, b, n, "log(%)", sc);
                sg_sbuf_add(b, " / log(");
                emit(im, b, base, sc);
                sg_sbuf_add(b, ")");
            }
        } else {
            unsupported(im, n, NULL);
        }
        return;
    case AST_FUNCTION_LN: templ(im, b, n, "log(%)", sc); return;
    case AST_FUNCTION_EXP: templ(im, b, n, "exp(%)", sc); return;
    case AST_FUNCTION_ABS: templ(im, b, n, "abs(%)", sc); return;
    case AST_FUNCTION_FLOOR: templ(im, b, n, "floor(%)", sc); return;
    case AST_FUNCTION_CEILING: templ(im, b, n, "ceil(%)", sc); return;
    case AST_FUNCTION_SIN: templ(im, b, n, "sin(%)", sc); return;
    case AST_FUNCTION_COS: templ(im, b, n, "cos(%)", sc); return;
    case AST_FUNCTION_TAN: templ(im, b, n, "tan(%)", sc); return;
    case AST_FUNCTION_TANH: templ(im, b, n, "tanh(%)", sc); return;
    case AST_FUNCTION_SEC: templ(im, b, n, "1 / cos(%)", sc); return;
    case AST_FUNCTION_CSC: templ(im, b, n, "1 / sin(%)", sc); return;
    case AST_FUNCTION_COT: templ(im, b, n, "1 / tan(%)", sc); return;
    case AST_FUNCTION_SINH: templ(im, b, n, "(exp(%) - exp(-%)) / 2", sc); return;
    case AST_FUNCTION_COSH: templ(im, b, n, "(exp(%) + exp(-%)) / 2", sc); return;
    case AST_FUNCTION_SECH: templ(im, b, n, "2 / (exp(%) + exp(-%))", sc); return;
    case AST_FUNCTION_CSCH: templ(im, b, n, "2 / (exp(%) - exp(-%))", sc); return;
    case AST_FUNCTION_COTH: templ(im, b, n, "1 / tanh(%)", sc); return;
    case AST_FUNCTION_ARCSINH: templ(im, b, n, "log(% + sqrt(%^2 + 1))", sc); return;
    case AST_FUNCTION_ARCCOSH: templ(im, b, n, "log(% + sqrt(%^2 - 1))", sc); return;
    case AST_FUNCTION_ARCTANH: templ(im, b, n, "0.5 * log((1 + %) / (1 - %))", sc); return;
    case AST_FUNCTION_ARCCOTH: templ(im, b, n, "0.5 * log((% + 1) / (% - 1))", sc); return;
    case AST_FUNCTION_ARCSECH: templ(im, b, n, "log((1 + sqrt(1 - %^2)) / %)", sc); return;
    case AST_FUNCTION_ARCCSCH: templ(im, b, n, "log(1 / % + sqrt(1 / %^2 + 1))", sc); return;
    case AST_FUNCTION_ARCSIN: templ(im, b, n, "asin(%)", sc); return;
    case AST_FUNCTION_ARCCOS: templ(im, b, n, "acos(%)", sc); return;
    case AST_FUNCTION_ARCTAN: templ(im, b, n, "atan(%)", sc); return;
    case AST_FUNCTION_ARCSEC: templ(im, b, n, "acos(1 / %)", sc); return;
    case AST_FUNCTION_ARCCSC: templ(im, b, n, "asin(1 / %)", sc); return;
    case AST_FUNCTION_ARCCOT: templ(im, b, n, "atan(1 / %)", sc); return;
    case AST_FUNCTION_FACTORIAL: templ(im, b, n, "factorial(%)", sc); return;
    case AST_FUNCTION_DELAY:
        if (k != 2) {
            /* named by its type: a csymbol's name is its free text (01319 has
             * <csymbol definitionURL=".../delay"> plus </csymbol>) */
            fail(im, NULL, "the MathML element 'delay' needs 2 arguments, not %u", k);
            return;
        }
        sg_sbuf_add(b, "delay(");
        im->in_delay++; /* rateOf in there is 0 before the start (emit_rate_of) */
        child(im, b, n, 0, sc);
        im->in_delay--;
        sg_sbuf_add(b, ", ");
        child(im, b, n, 1, sc);
        sg_sbuf_add(b, ")");
        return;
    case AST_FUNCTION_RATE_OF:
        emit_rate_of(im, b, n, sc);
        return;
    case AST_FUNCTION_MAX:
    case AST_FUNCTION_MIN:
        if (k == 1) {
            emit(im, b, ASTNode_getChild(n, 0), sc);
        } else if (k == 0) {
            unsupported(im, n, "min/max of nothing");
        } else {
            sg_sbuf_add(b, t == AST_FUNCTION_MAX ? "max(" : "min(");
            nary(im, b, n, ", ", "", sc);
            sg_sbuf_add(b, ")");
        }
        return;
    case AST_FUNCTION_QUOTIENT:
    case AST_FUNCTION_REM: {
        if (k != 2)
            return unsupported(im, n, NULL);
        sg_sbuf q = {0};
        sg_sbuf_add(&q, "(");
        child(im, &q, n, 0, sc);
        sg_sbuf_add(&q, " / ");
        child(im, &q, n, 1, sc);
        sg_sbuf_add(&q, ")");
        const char *qs = q.s ? q.s : "0";
        /* truncation toward zero */
        if (t == AST_FUNCTION_QUOTIENT) {
            sg_sbuf_printf(b, "if(%s < 0, ceil(%s), floor(%s))", qs, qs, qs);
        } else {
            child(im, b, n, 0, sc);
            sg_sbuf_add(b, " - ");
            child(im, b, n, 1, sc);
            sg_sbuf_printf(b, " * if(%s < 0, ceil(%s), floor(%s))", qs, qs, qs);
        }
        if (q.oom)
            b->oom = 1;
        sg_sbuf_free(&q);
        return;
    }
    case AST_FUNCTION_PIECEWISE: {
        /* piece pairs (value, condition), then an optional otherwise */
        unsigned pairs = k / 2;
        for (unsigned i = 0; i < pairs; i++) {
            sg_sbuf_add(b, "if(");
            emit(im, b, ASTNode_getChild(n, 2 * i + 1), sc);
            sg_sbuf_add(b, ", ");
            emit(im, b, ASTNode_getChild(n, 2 * i), sc);
            sg_sbuf_add(b, ", ");
        }
        if (k % 2)
            emit(im, b, ASTNode_getChild(n, k - 1), sc);
        else
            sg_sbuf_add(b, "0 / 0"); /* no piece applies: undefined */
        for (unsigned i = 0; i < pairs; i++)
            sg_sbuf_add(b, ")");
        return;
    }
    case AST_LOGICAL_AND: nary(im, b, n, " && ", "1", sc); return;
    case AST_LOGICAL_OR: nary(im, b, n, " || ", "0", sc); return;
    case AST_LOGICAL_NOT:
        if (k != 1)
            return unsupported(im, n, NULL);
        sg_sbuf_add(b, "!");
        child(im, b, n, 0, sc);
        return;
    case AST_LOGICAL_XOR:
        if (k == 0) {
            sg_sbuf_add(b, "0");
            return;
        }
        /* odd number of true arguments */
        sg_sbuf_add(b, "(");
        for (unsigned i = 0; i < k; i++) {
            if (i)
                sg_sbuf_add(b, " + ");
            sg_sbuf_add(b, "(");
            child(im, b, n, i, sc);
            sg_sbuf_add(b, " != 0)");
        }
        sg_sbuf_printf(b, ") - 2 * floor((");
        for (unsigned i = 0; i < k; i++) {
            if (i)
                sg_sbuf_add(b, " + ");
            sg_sbuf_add(b, "(");
            child(im, b, n, i, sc);
            sg_sbuf_add(b, " != 0)");
        }
        sg_sbuf_add(b, ") / 2) == 1");
        return;
    case AST_LOGICAL_IMPLIES:
        if (k != 2)
            return unsupported(im, n, NULL);
        sg_sbuf_add(b, "!");
        child(im, b, n, 0, sc);
        sg_sbuf_add(b, " || ");
        child(im, b, n, 1, sc);
        return;
    case AST_RELATIONAL_EQ: relation(im, b, n, " == ", sc); return;
    case AST_RELATIONAL_NEQ: relation(im, b, n, " != ", sc); return;
    case AST_RELATIONAL_LT: relation(im, b, n, " < ", sc); return;
    case AST_RELATIONAL_LEQ: relation(im, b, n, " <= ", sc); return;
    case AST_RELATIONAL_GT: relation(im, b, n, " > ", sc); return;
    case AST_RELATIONAL_GEQ: relation(im, b, n, " >= ", sc); return;
    case AST_FUNCTION:
        emit_call(im, b, n, sc);
        return;
    default:
        return unsupported(im, n, NULL);
    }
}

/* The math of `obj` as text (malloc'd), in the scope of reaction `reaction`
 * (for local parameters) or NULL. `what` names it in messages. */
static char *math_text(importer *im, const ASTNode_t *math, const void *obj,
                       const char *reaction, const char *what)
{
    if (im->failed)
        return NULL;
    if (!math) {
        fail(im, obj, "%s has no math", what);
        return NULL;
    }
    scope sc = {NULL, reaction, 0, NULL, NULL, NULL};
    sg_sbuf b = {0};
    emit(im, &b, math, &sc);
    if (b.oom)
        nomem(im);
    if (im->failed) {
        /* say where: the element the math belongs to */
        if (im->err && im->err->status == SG_ERR_MODEL && !strstr(im->err->message, " in ")) {
            char msg[sizeof im->err->message];
            snprintf(msg, sizeof msg, "%.500s in %.260s", im->err->message, what);
            snprintf(im->err->message, sizeof im->err->message, "%s", msg);
            if (im->err->line == 0 && obj)
                im->err->line = (int)SBase_getLine((const SBase_t *)obj);
        }
        sg_sbuf_free(&b);
        return NULL;
    }
    return b.s ? b.s : sg_strdup("0");
}

/* ------------------------------------------------ values at the start */

static int eval(importer *im, const ASTNode_t *n, const scope *sc, double *out);

static int eval_sym_value(importer *im, sym *y, double *out);

/* The SBML value of name at t = 0 (a species' amount if hasOnlySubstanceUnits). */
static int eval_name(importer *im, const char *name, const scope *sc, double *out)
{
    for (const scope *s = sc; s; s = s->up) {
        for (int i = 0; i < s->nargs; i++)
            if (strcmp(s->names[i], name) == 0) {
                *out = s->values[i];
                return 0;
            }
        if (s->nargs > 0)
            break;
    }
    sym *y = find(im, name);
    if (!y)
        return -1;
    if (y->kind == K_SPECIESREF) {
        if (y->initial_assignment || y->assign_rule)
            return -1;
        *out = y->stoich;
        return 0;
    }
    if (y->kind != K_SPECIES && y->kind != K_COMPARTMENT && y->kind != K_PARAMETER)
        return -1;
    double v;
    if (eval_sym_value(im, y, &v))
        return -1;
    if (y->kind == K_SPECIES && y->hosu && !y->assign_rule) {
        double size;
        if (eval_sym_value(im, &im->syms[y->comp], &size))
            return -1;
        v *= size;
    }
    *out = v;
    return 0;
}

/* The start value of a symbol as sigode holds it (a species: concentration;
 * an assignment-rule target: the rule's SBML value). */
static int eval_sym_value(importer *im, sym *y, double *out)
{
    if (y->fast)
        return -1; /* known only at the start of the simulation */
    if (y->known) {
        *out = y->value;
        return 0;
    }
    const ASTNode_t *m = y->assign_rule ? y->assign_rule : y->initial_assignment;
    if (!m || y->evaluating)
        return -1;
    y->evaluating = 1;
    double v;
    int rc = eval(im, m, NULL, &v);
    y->evaluating = 0;
    if (rc)
        return -1;
    if (!y->assign_rule && y->kind == K_SPECIES && y->hosu) { /* amount -> concentration */
        double size;
        if (eval_sym_value(im, &im->syms[y->comp], &size) || size == 0)
            return -1;
        v /= size;
    }
    if (!y->assign_rule) {
        y->known = 1;
        y->value = v;
    }
    *out = v;
    return 0;
}

static int eval(importer *im, const ASTNode_t *n, const scope *sc, double *out)
{
    unsigned k = ASTNode_getNumChildren(n);
    double a[3] = {0, 0, 0};
    ASTNodeType_t t = ASTNode_getType(n);
    /* evaluate up to two children for the simple cases */
    switch ((int)t) {
    case AST_INTEGER: *out = (double)ASTNode_getInteger(n); return 0;
    case AST_REAL:
    case AST_REAL_E: *out = ASTNode_getReal(n); return isfinite(*out) ? 0 : -1;
    case AST_RATIONAL:
        *out = (double)ASTNode_getNumerator(n) / (double)ASTNode_getDenominator(n);
        return 0;
    case AST_NAME: return eval_name(im, ASTNode_getName(n), sc, out);
    case AST_NAME_TIME: *out = 0; return 0;
    case AST_NAME_AVOGADRO: *out = 6.02214179e23; return 0;
    case AST_CONSTANT_E: *out = exp(1.0); return 0;
    case AST_CONSTANT_PI: *out = M_PI; return 0;
    case AST_CONSTANT_TRUE: *out = 1; return 0;
    case AST_CONSTANT_FALSE: *out = 0; return 0;
    case AST_PLUS:
    case AST_TIMES: {
        double acc = t == AST_PLUS ? 0 : 1;
        for (unsigned i = 0; i < k; i++) {
            if (eval(im, ASTNode_getChild(n, i), sc, &a[0]))
                return -1;
            acc = t == AST_PLUS ? acc + a[0] : acc * a[0];
        }
        *out = acc;
        return 0;
    }
    case AST_FUNCTION_PIECEWISE:
        for (unsigned i = 0; i + 1 < k; i += 2) {
            if (eval(im, ASTNode_getChild(n, i + 1), sc, &a[0]))
                return -1;
            if (a[0] != 0)
                return eval(im, ASTNode_getChild(n, i), sc, out);
        }
        return k % 2 ? eval(im, ASTNode_getChild(n, k - 1), sc, out) : -1;
    case AST_FUNCTION: {
        sym *f = find(im, ASTNode_getName(n));
        if (!f || f->kind != K_FUNCTION || im->depth > 50)
            return -1;
        const FunctionDefinition_t *fd = (const FunctionDefinition_t *)f->obj;
        unsigned na = FunctionDefinition_getNumArguments(fd);
        if (na != k || !FunctionDefinition_getBody(fd))
            return -1;
        const char **names = sg_calloc(na + 1, sizeof *names);
        double *vals = sg_calloc(na + 1, sizeof *vals);
        int rc = names && vals ? 0 : -1;
        for (unsigned i = 0; i < na && rc == 0; i++) {
            names[i] = ASTNode_getName(FunctionDefinition_getArgument(fd, i));
            if (!names[i])
                names[i] = "";
            rc = eval(im, ASTNode_getChild(n, i), sc, &vals[i]);
        }
        if (rc == 0) {
            scope fs = {sc, NULL, (int)na, names, NULL, vals};
            im->depth++;
            rc = eval(im, FunctionDefinition_getBody(fd), &fs, out);
            im->depth--;
        }
        sg_free(names);
        sg_free(vals);
        return rc;
    }
    default:
        break;
    }
    if (k > 2)
        return -1;
    for (unsigned i = 0; i < k; i++)
        if (eval(im, ASTNode_getChild(n, i), sc, &a[i]))
            return -1;
    double x = a[k ? k - 1 : 0];
    double v;
    switch ((int)t) {
    case AST_MINUS: v = k == 1 ? -a[0] : a[0] - a[1]; break;
    case AST_DIVIDE: v = a[0] / a[1]; break;
    case AST_POWER:
    case AST_FUNCTION_POWER: v = pow(a[0], a[1]); break;
    case AST_FUNCTION_ROOT: v = k == 1 ? sqrt(a[0]) : pow(a[1], 1.0 / a[0]); break;
    case AST_FUNCTION_LOG: v = k == 1 ? log10(a[0]) : log(a[1]) / log(a[0]); break;
    case AST_FUNCTION_LN: v = log(x); break;
    case AST_FUNCTION_EXP: v = exp(x); break;
    case AST_FUNCTION_ABS: v = fabs(x); break;
    case AST_FUNCTION_FLOOR: v = floor(x); break;
    case AST_FUNCTION_CEILING: v = ceil(x); break;
    case AST_FUNCTION_SIN: v = sin(x); break;
    case AST_FUNCTION_COS: v = cos(x); break;
    case AST_FUNCTION_TAN: v = tan(x); break;
    case AST_FUNCTION_TANH: v = tanh(x); break;
    case AST_FUNCTION_ARCSIN: v = asin(x); break;
    case AST_FUNCTION_ARCCOS: v = acos(x); break;
    case AST_FUNCTION_ARCTAN: v = atan(x); break;
    case AST_FUNCTION_FACTORIAL: v = tgamma(x + 1.0); break;
    case AST_FUNCTION_MAX: v = k == 1 ? a[0] : fmax(a[0], a[1]); break;
    case AST_FUNCTION_MIN: v = k == 1 ? a[0] : fmin(a[0], a[1]); break;
    case AST_LOGICAL_NOT: v = x == 0; break;
    case AST_LOGICAL_AND: v = k == 0 || (a[0] != 0 && (k < 2 || a[1] != 0)); break;
    case AST_LOGICAL_OR: v = k > 0 && (a[0] != 0 || (k == 2 && a[1] != 0)); break;
    case AST_RELATIONAL_EQ: v = k < 2 || a[0] == a[1]; break;
    case AST_RELATIONAL_NEQ: v = k < 2 || a[0] != a[1]; break;
    case AST_RELATIONAL_LT: v = k < 2 || a[0] < a[1]; break;
    case AST_RELATIONAL_LEQ: v = k < 2 || a[0] <= a[1]; break;
    case AST_RELATIONAL_GT: v = k < 2 || a[0] > a[1]; break;
    case AST_RELATIONAL_GEQ: v = k < 2 || a[0] >= a[1]; break;
    default: return -1;
    }
    if (!isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* ------------------------------------------------------------- reading */

static int collect(importer *im)
{
    Model_t *m = im->model;
    for (unsigned i = 0; i < Model_getNumFunctionDefinitions(m); i++) {
        FunctionDefinition_t *f = Model_getFunctionDefinition(m, i);
        if (!add_sym(im, FunctionDefinition_getId(f), K_FUNCTION, f))
            return -1;
    }
    for (unsigned i = 0; i < Model_getNumCompartments(m); i++) {
        Compartment_t *c = Model_getCompartment(m, i);
        sym *y = add_sym(im, Compartment_getId(c), K_COMPARTMENT, c);
        if (!y)
            return -1;
        if (Compartment_isSetSize(c)) {
            y->known = 1;
            y->value = Compartment_getSize(c);
        }
        y->constant = Compartment_getConstant(c);
    }
    for (unsigned i = 0; i < Model_getNumParameters(m); i++) {
        Parameter_t *p = Model_getParameter(m, i);
        sym *y = add_sym(im, Parameter_getId(p), K_PARAMETER, p);
        if (!y)
            return -1;
        if (Parameter_isSetValue(p)) { /* INF and NaN written as expressions */
            y->known = 1;
            y->value = Parameter_getValue(p);
        }
        y->constant = Parameter_getConstant(p);
    }
    for (unsigned i = 0; i < Model_getNumSpecies(m); i++) {
        Species_t *s = Model_getSpecies(m, i);
        sym *y = add_sym(im, Species_getId(s), K_SPECIES, s);
        if (!y)
            return -1;
        sym *c = find(im, Species_getCompartment(s));
        if (!c || c->kind != K_COMPARTMENT)
            return fail(im, s, "species '%s': its compartment '%s' is not defined", y->id,
                        Species_getCompartment(s) ? Species_getCompartment(s) : "");
        y->comp = (int)(c - im->syms);
        c->holds_species = 1;
        y->hosu = Species_getHasOnlySubstanceUnits(s);
        y->boundary = Species_getBoundaryCondition(s);
        y->constant = Species_getConstant(s);
        if (Species_isSetConversionFactor(s))
            y->conversion = Species_getConversionFactor(s);
        else if (Model_isSetConversionFactor(m))
            y->conversion = Model_getConversionFactor(m);
        if (Compartment_getSpatialDimensionsAsDouble((Compartment_t *)c->obj) == 0 &&
            !Compartment_isSetSize((Compartment_t *)c->obj)) {
            /* a point without a size (L3 treats a 0-D compartment with a
             * size like any other): its species are amounts, and the
             * compartment stands as 1 so that concentration and amount agree */
            c->known = 1;
            c->value = 1;
            y->hosu = 1;
        }
    }
    for (unsigned i = 0; i < Model_getNumReactions(m); i++) {
        Reaction_t *r = Model_getReaction(m, i);
        if (!add_sym(im, Reaction_getId(r), K_REACTION, r))
            return -1;
        for (int side = 0; side < 2; side++) {
            unsigned nref = side ? Reaction_getNumProducts(r) : Reaction_getNumReactants(r);
            for (unsigned j = 0; j < nref; j++) {
                SpeciesReference_t *sr = side ? Reaction_getProduct(r, j)
                                              : Reaction_getReactant(r, j);
                if (SpeciesReference_isSetId(sr) && *SpeciesReference_getId(sr)) {
                    sym *y = add_sym(im, SpeciesReference_getId(sr), K_SPECIESREF, sr);
                    if (!y)
                        return -1;
                    y->stoich = SpeciesReference_getStoichiometry(sr);
                    y->known = 1;
                    y->value = y->stoich;
                }
            }
        }
    }
    return im->failed ? -1 : 0;
}

static int solve_algebraic(importer *im);

static int collect_rules(importer *im)
{
    Model_t *m = im->model;
    for (unsigned i = 0; i < Model_getNumRules(m); i++) {
        Rule_t *r = Model_getRule(m, i);
        if (!Rule_getMath(r))
            continue; /* L3V2: a rule without math is ignored */
        if (Rule_isAlgebraic(r)) {
            if (sg_grow(&im->algebraic, &im->algcap, im->nalgebraic + 1,
                        sizeof *im->algebraic) != 0)
                return nomem(im);
            im->algebraic[im->nalgebraic++] = r;
            continue;
        }
        const char *var = Rule_getVariable(r);
        sym *y = find(im, var);
        if (!y || (y->kind != K_SPECIES && y->kind != K_PARAMETER &&
                   y->kind != K_COMPARTMENT && y->kind != K_SPECIESREF))
            return fail(im, r, "rule for '%s', which is not a species, parameter, "
                               "compartment or stoichiometry", var ? var : "");
        if (!Rule_getMath(r))
            return fail(im, r, "rule for '%s' has no math", var);
        if (Rule_isAssignment(r))
            y->assign_rule = Rule_getMath(r);
        else
            y->rate_rule = Rule_getMath(r);
        y->rule_obj = (const SBase_t *)r;
    }
    for (unsigned i = 0; i < Model_getNumInitialAssignments(m); i++) {
        InitialAssignment_t *a = Model_getInitialAssignment(m, i);
        const char *var = InitialAssignment_getSymbol(a);
        sym *y = find(im, var);
        if (!y || (y->kind != K_SPECIES && y->kind != K_PARAMETER &&
                   y->kind != K_COMPARTMENT && y->kind != K_SPECIESREF))
            return fail(im, a, "initial assignment to '%s', which is not a species, "
                               "parameter, compartment or stoichiometry", var ? var : "");
        if (!InitialAssignment_getMath(a))
            continue; /* L3V2: without math it is ignored */
        y->initial_assignment = InitialAssignment_getMath(a);
        y->ia_obj = (const SBase_t *)a;
        y->known = 0;
        if (y->kind == K_SPECIESREF) {
            double v;
            if (eval(im, InitialAssignment_getMath(a), NULL, &v) == 0) {
                y->initial_assignment = NULL;
                y->stoich = v;
                y->known = 1;
                y->value = v;
            } /* else: computed at the start, a variable stoichiometry */
        }
    }
    for (unsigned i = 0; i < Model_getNumEvents(m); i++) {
        Event_t *e = Model_getEvent(m, i);
        for (unsigned j = 0; j < Event_getNumEventAssignments(e); j++) {
            EventAssignment_t *ea = Event_getEventAssignment(e, j);
            sym *y = find(im, EventAssignment_getVariable(ea));
            if (y && EventAssignment_getMath(ea))
                y->event_assigned = 1;
        }
    }
    if (solve_algebraic(im))
        return -1;
    /* compartments whose size changes */
    for (size_t i = 0; i < im->nsyms; i++) {
        sym *y = &im->syms[i];
        if (y->kind != K_COMPARTMENT)
            continue;
        y->varies = y->assign_rule || y->rate_rule || y->event_assigned;
        if (y->varies && !y->assign_rule)
            y->as_parameter = 1;
        if (!y->known && !y->initial_assignment && !y->assign_rule)
            return fail(im, y->obj, "compartment '%s' has no size", y->id);
    }
    for (size_t i = 0; i < im->nsyms; i++) {
        sym *y = &im->syms[i];
        if (y->kind == K_PARAMETER && !y->known && !y->initial_assignment && !y->assign_rule)
            return fail(im, y->obj, "parameter '%s' has no value", y->id);
        if (y->kind != K_SPECIES)
            continue;
        const Species_t *s = (const Species_t *)y->obj;
        if (y->initial_assignment || y->assign_rule)
            continue;
        double size;
        if (Species_isSetInitialConcentration(s)) {
            y->known = 1;
            y->value = Species_getInitialConcentration(s);
        } else if (Species_isSetInitialAmount(s)) {
            if (eval_sym_value(im, &im->syms[y->comp], &size) == 0 && size > 0) {
                y->known = 1;
                y->value = Species_getInitialAmount(s) / size;
            } /* else: written as the expression amount / size */
        } else {
            return fail(im, s, "species '%s' has no initial amount or concentration", y->id);
        }
        if (y->known && !isfinite(y->value))
            return fail(im, s, "species '%s' has a non-finite initial value", y->id);
    }
    return 0;
}

static int name_taken(const importer *im, const char *name)
{
    if (find(im, name))
        return 1;
    for (size_t i = 0; i < im->nsyms; i++)
        if ((im->syms[i].amount && strcmp(im->syms[i].amount, name) == 0) ||
            (im->syms[i].pool && strcmp(im->syms[i].pool, name) == 0))
            return 1;
    const char *fast_names[] = {im->fast_free, im->fast_flag, im->fast_on, im->fast_off};
    for (size_t i = 0; i < sizeof fast_names / sizeof *fast_names; i++)
        if (fast_names[i] && strcmp(fast_names[i], name) == 0)
            return 1;
    for (unsigned i = 0; i < Model_getNumEvents(im->model); i++)
        if (Event_isSetId(Model_getEvent(im->model, i)) &&
            strcmp(Event_getId(Model_getEvent(im->model, i)), name) == 0)
            return 1;
    for (size_t i = 0; i < im->nlocals; i++)
        if (strcmp(im->locals[i].name, name) == 0)
            return 1;
    return 0;
}

static int collect_locals(importer *im)
{
    Model_t *m = im->model;
    for (unsigned i = 0; i < Model_getNumReactions(m); i++) {
        Reaction_t *r = Model_getReaction(m, i);
        KineticLaw_t *kl = Reaction_getKineticLaw(r);
        if (!kl)
            continue;
        int l3 = im->level >= 3;
        unsigned n = l3 ? KineticLaw_getNumLocalParameters(kl) : KineticLaw_getNumParameters(kl);
        for (unsigned j = 0; j < n; j++) {
            const char *id;
            double value;
            int has;
            const void *obj;
            if (l3) {
                LocalParameter_t *p = KineticLaw_getLocalParameter(kl, j);
                id = LocalParameter_getId(p);
                has = LocalParameter_isSetValue(p);
                value = LocalParameter_getValue(p);
                obj = p;
            } else {
                Parameter_t *p = KineticLaw_getParameter(kl, j);
                id = Parameter_getId(p);
                has = Parameter_isSetValue(p);
                value = Parameter_getValue(p);
                obj = p;
            }
            if (!has || !isfinite(value))
                return fail(im, obj, "local parameter '%s' of reaction '%s' has no value", id,
                            Reaction_getId(r));
            char name[300];
            snprintf(name, sizeof name, "%s_%s", Reaction_getId(r), id);
            for (int k = 2; name_taken(im, name); k++)
                snprintf(name, sizeof name, "%s_%s_%d", Reaction_getId(r), id, k);
            if (strlen(name) > 255)
                return fail(im, obj, "local parameter '%s': the global name is too long", id);
            if (sg_grow(&im->locals, &im->lcap, im->nlocals + 1, sizeof *im->locals) != 0)
                return nomem(im);
            local_param *lp = &im->locals[im->nlocals];
            lp->reaction = Reaction_getId(r);
            lp->id = id;
            lp->value = value;
            lp->name = sg_strdup(name);
            if (!lp->name)
                return nomem(im);
            im->nlocals++;
        }
    }
    return 0;
}

/* ------------------------------------------------------ algebraic rules */

/* SBML algebraic rules (0 = math) are solved here by elimination: each rule
 * determines one variable that nothing else determines (not constant, no
 * assignment or rate rule, no event assignment, not a species that reactions
 * change), and when the rule is linear in that variable x with a constant
 * coefficient c (sigode's symbolic derivative d(math)/dx is a number), then
 * x = -(math with x = 0) / c exactly, an assignment rule like any other: the
 * model stays an ODE for CVODE and every later stage (export, sensitivities,
 * the native backend) sees only assignments. Several rules are solved one
 * after the other, the variables already solved substituted into the rest
 * (Gaussian elimination on the math), the rule with the fewest solvable
 * variables first. A rule that is nonlinear in every variable it could
 * determine, or that has none, is refused naming the rule: that needs a DAE
 * solver, which sigode does not have. */

/* The names of an expression text bound to indices in order of appearance,
 * so that a derivative can be taken with respect to one of them. */
typedef struct name_slots {
    sg_arena *arena;
    sg_map map;
    const char **names; /* by index */
    size_t count, cap;
} name_slots;

static int resolve_any(void *ctx, const char *name, int is_traj_data, char *msg, size_t size)
{
    (void)is_traj_data;
    name_slots *ns = ctx;
    int i = sg_map_get(&ns->map, name);
    if (i >= 0)
        return i;
    char *key = sg_arena_strdup(ns->arena, name);
    if (!key || ns->count >= INT_MAX || sg_grow(&ns->names, &ns->cap, ns->count + 1, sizeof *ns->names) != 0 ||
        sg_map_put(&ns->map, key, (int)ns->count) < 0) {
        snprintf(msg, size, "out of memory");
        return -1;
    }
    ns->names[ns->count] = key;
    return (int)ns->count++;
}

/* libsbml math for e, a derivative made of numbers, constants and
 * arithmetic; NULL when it holds anything else (a variable, a function) or
 * when out of memory. */
static ASTNode_t *coefficient_math(const importer *im, const sg_expr *e, const name_slots *ns)
{
    ASTNodeType_t type;
    switch (e->kind) {
    case EX_NUM: {
        ASTNode_t *n = isfinite(e->num) ? ASTNode_createWithType(AST_REAL) : NULL;
        if (n)
            ASTNode_setReal(n, e->num);
        return n;
    }
    case EX_VAR: {
        const sym *y = find(im, ns->names[e->slot]);
        if (!y || (y->kind != K_PARAMETER && y->kind != K_COMPARTMENT && y->kind != K_SPECIES) ||
            !y->constant)
            return NULL;
        ASTNode_t *n = ASTNode_createWithType(AST_NAME);
        if (n && ASTNode_setName(n, y->id) != LIBSBML_OPERATION_SUCCESS) {
            ASTNode_free(n);
            return NULL;
        }
        return n;
    }
    case EX_NEG: type = AST_MINUS; break;
    case EX_ADD: type = AST_PLUS; break;
    case EX_SUB: type = AST_MINUS; break;
    case EX_MUL: type = AST_TIMES; break;
    case EX_DIV: type = AST_DIVIDE; break;
    case EX_POW: type = AST_POWER; break;
    default: return NULL;
    }
    ASTNode_t *n = ASTNode_createWithType(type);
    for (int i = 0; n && i < (e->kind == EX_NEG ? 1 : 2); i++) {
        ASTNode_t *c = coefficient_math(im, e->arg[i], ns);
        if (!c || ASTNode_addChild(n, c) != LIBSBML_OPERATION_SUCCESS) {
            ASTNode_free(c);
            ASTNode_free(n);
            n = NULL;
        }
    }
    return n;
}

enum { ABSENT, LINEAR, NOT_LINEAR };

/* How `math` (of algebraic rule `rule`) depends on variable y: ABSENT,
 * LINEAR with a coefficient c made of numbers and constants (then, unless
 * neg_coef is NULL, *neg_coef = math for -c, to be freed), or NOT_LINEAR;
 * -1 on an error (reported). */
static int dependence(importer *im, const ASTNode_t *math, const void *rule, const sym *y,
                      const char *reaction, int plain, ASTNode_t **neg_coef)
{
    if (plain)
        im->plain = y->id; /* a species with hasOnlySubstanceUnits as its amount */
    char *text = math_text(im, math, rule, reaction, reaction ? "a fast reaction's rate"
                                                               : "an algebraic rule");
    im->plain = NULL;
    if (!text)
        return -1;
    name_slots ns = {sg_arena_create(), {0}, NULL, 0, 0};
    sg_map_init(&ns.map);
    sg_pool *pool = sg_pool_create();
    int result = -1;
    sg_parse_error perr = {0};
    sg_expr *tree = ns.arena && pool ? sg_expr_parse(ns.arena, text, 0, &perr) : NULL;
    sg_expr *bound = tree ? sg_expr_bind(pool, tree, resolve_any, &ns, &perr) : NULL;
    if (!ns.arena || !pool) {
        nomem(im);
    } else if (!bound) {
        fail(im, rule, "%s: its translation cannot be read: %s",
             reaction ? "fast reaction" : "algebraic rule", perr.message);
    } else {
        int slot = sg_map_get(&ns.map, y->id);
        sg_expr *d = slot < 0 ? NULL : sg_expr_diff(pool, bound, slot);
        sg_expr *neg = d ? sg_pool_op(pool, EX_NEG, 0, d, NULL, NULL) : NULL;
        ASTNode_t *c = neg ? coefficient_math(im, neg, &ns) : NULL;
        double value;
        if (slot < 0) {
            result = ABSENT;
        } else if (!neg) {
            nomem(im);
        } else if (!c || sg_expr_is_num(d, 0) ||
                   (eval(im, c, NULL, &value) == 0 && (value == 0 || !isfinite(value)))) {
            result = NOT_LINEAR; /* or a coefficient that is 0 */
        } else {
            result = LINEAR;
            if (neg_coef) {
                *neg_coef = c;
                c = NULL;
            }
        }
        ASTNode_free(c);
    }
    sg_pool_free(pool);
    sg_map_clear(&ns.map);
    sg_free(ns.names);
    sg_arena_free(ns.arena);
    sg_free(text);
    return result;
}

/* Replaces, in the children of n (and below), every name ids[i] by a copy
 * of by[i]. -1 when out of memory. */
static int replace_names(ASTNode_t *n, const char *const *ids, ASTNode_t *const *by,
                         size_t count)
{
    for (unsigned i = 0; i < ASTNode_getNumChildren(n); i++) {
        ASTNode_t *c = ASTNode_getChild(n, i);
        const char *name = ASTNode_getType(c) == AST_NAME ? ASTNode_getName(c) : NULL;
        size_t k = 0;
        while (name && k < count && strcmp(name, ids[k]) != 0)
            k++;
        if (name && k < count) {
            ASTNode_t *copy = ASTNode_deepCopy(by[k]);
            if (!copy || ASTNode_replaceAndDeleteChild(n, i, copy) != LIBSBML_OPERATION_SUCCESS)
                return -1;
        } else if (replace_names(c, ids, by, count)) {
            return -1;
        }
    }
    return 0;
}

/* A copy of math with the names ids[i] replaced by by[i]; NULL when out of
 * memory. */
static ASTNode_t *substituted(const ASTNode_t *math, const char *const *ids,
                              ASTNode_t *const *by, size_t count)
{
    const char *name = ASTNode_getType(math) == AST_NAME ? ASTNode_getName(math) : NULL;
    for (size_t k = 0; name && k < count; k++)
        if (strcmp(name, ids[k]) == 0)
            return ASTNode_deepCopy(by[k]);
    ASTNode_t *copy = ASTNode_deepCopy(math);
    if (copy && replace_names(copy, ids, by, count)) {
        ASTNode_free(copy);
        return NULL;
    }
    return copy;
}

/* Limits on what a file can make the elimination do: substituting solved
 * variables can double the math at each step (x2 = x1 + x1, x3 = x2 + x2,
 * ...), and each step looks at every rule left. */
#define ALGEBRAIC_MAX_NODES 100000
#define ALGEBRAIC_MAX_RULES 1000

/* The number of nodes of math once the names ids[k] are replaced by math of
 * by_size[k] nodes, stopping above ALGEBRAIC_MAX_NODES. */
static size_t substituted_size(const ASTNode_t *math, const char *const *ids,
                               const size_t *by_size, size_t count)
{
    const char *name = ASTNode_getType(math) == AST_NAME ? ASTNode_getName(math) : NULL;
    for (size_t k = 0; name && k < count; k++)
        if (strcmp(name, ids[k]) == 0)
            return by_size[k];
    size_t total = 1;
    for (unsigned i = 0; i < ASTNode_getNumChildren(math) && total <= ALGEBRAIC_MAX_NODES; i++)
        total += substituted_size(ASTNode_getChild(math, i), ids, by_size, count);
    return total;
}

static int keep(importer *im, ASTNode_t *n)
{
    if (!n || sg_grow(&im->owned, &im->owncap, im->nowned + 1, sizeof *im->owned) != 0) {
        ASTNode_free(n);
        return nomem(im);
    }
    im->owned[im->nowned++] = n;
    return 0;
}

/* Appends the distinct names of math that an algebraic rule may determine. */
static int free_names(importer *im, const ASTNode_t *n, const unsigned char *changed,
                      sym ***out, size_t *count, size_t *cap)
{
    if (ASTNode_getType(n) == AST_NAME) {
        sym *y = find(im, ASTNode_getName(n));
        if (!y || (y->kind != K_SPECIES && y->kind != K_PARAMETER && y->kind != K_COMPARTMENT) ||
            y->constant || y->assign_rule || y->rate_rule || y->event_assigned ||
            changed[y - im->syms])
            return 0;
        for (size_t i = 0; i < *count; i++)
            if ((*out)[i] == y)
                return 0;
        if (sg_grow(out, cap, *count + 1, sizeof **out) != 0)
            return nomem(im);
        (*out)[(*count)++] = y;
        return 0;
    }
    for (unsigned i = 0; i < ASTNode_getNumChildren(n); i++)
        if (free_names(im, ASTNode_getChild(n, i), changed, out, count, cap))
            return -1;
    return 0;
}

static int solve_algebraic(importer *im)
{
    size_t n = im->nalgebraic;
    if (n == 0)
        return 0;
    if (n > ALGEBRAIC_MAX_RULES)
        return fail(im, im->algebraic[ALGEBRAIC_MAX_RULES], "more than %d algebraic rules "
                    "(sigode's limit for solving them by elimination)", ALGEBRAIC_MAX_RULES);
    Model_t *m = im->model;
    unsigned char *changed = sg_calloc(im->nsyms, 1); /* species that reactions change */
    unsigned char *solved = sg_calloc(n, 1);
    const char **ids = sg_calloc(n, sizeof *ids);
    ASTNode_t **by = sg_calloc(n, sizeof *by);
    size_t *by_size = sg_calloc(n, sizeof *by_size);
    sym **names = NULL;
    size_t nnames = 0, namecap = 0, nsolved = 0;
    if (!changed || !solved || !ids || !by || !by_size) {
        nomem(im);
        goto done;
    }
    for (unsigned i = 0; i < Model_getNumReactions(m); i++) {
        Reaction_t *r = Model_getReaction(m, i);
        for (int side = 0; side < 2; side++) {
            unsigned nref = side ? Reaction_getNumProducts(r) : Reaction_getNumReactants(r);
            for (unsigned j = 0; j < nref; j++) {
                SpeciesReference_t *sr = side ? Reaction_getProduct(r, j)
                                              : Reaction_getReactant(r, j);
                sym *s = find(im, SpeciesReference_getSpecies(sr));
                if (s && s->kind == K_SPECIES && !s->boundary)
                    changed[s - im->syms] = 1;
            }
        }
    }
    while (nsolved < n && !im->failed) {
        size_t best = n, best_count = 0;
        sym *best_var = NULL;
        ASTNode_t *best_math = NULL;
        for (size_t k = 0; k < n && !im->failed; k++) {
            if (solved[k])
                continue;
            const Rule_t *rule = im->algebraic[k];
            if (substituted_size(Rule_getMath(rule), ids, by_size, nsolved) >
                ALGEBRAIC_MAX_NODES) {
                fail(im, rule, "algebraic rule %zu: with the variables of the other rules "
                               "substituted its math exceeds %d terms (sigode's limit)", k + 1,
                     ALGEBRAIC_MAX_NODES);
                break;
            }
            ASTNode_t *math = substituted(Rule_getMath(rule), ids, by, nsolved);
            if (!math) {
                nomem(im);
                break;
            }
            nnames = 0;
            size_t count = 0;
            sym *var = NULL;
            /* of several, a species without boundaryCondition before one with
             * (the suite's case 01787: a boundary species is held) */
            if (free_names(im, math, changed, &names, &nnames, &namecap) == 0) {
                for (size_t i = 0; i < nnames && !im->failed; i++)
                    if (dependence(im, math, rule, names[i], NULL, 1, NULL) == LINEAR &&
                        (count++ == 0 || (var->boundary && !names[i]->boundary)))
                        var = names[i];
            }
            if (im->failed) {
                ASTNode_free(math);
                break;
            }
            if (count == 0) {
                ASTNode_free(math);
                if (nnames == 0)
                    fail(im, rule, "algebraic rule %zu determines no variable: every variable "
                                   "in it is constant or set otherwise (by reactions, rules or "
                                   "events), so the model is overdetermined", k + 1);
                else
                    fail(im, rule, "algebraic rule %zu is not linear, with a coefficient "
                                   "made of constants, in any variable it may determine ('%s'%s): "
                                   "sigode solves algebraic rules by elimination and has no "
                                   "DAE solver", k + 1, names[0]->id,
                         nnames > 1 ? " and others" : "");
                break;
            }
            if (best == n || count < best_count) {
                ASTNode_free(best_math);
                best = k;
                best_count = count;
                best_var = var;
                best_math = math;
            } else {
                ASTNode_free(math);
            }
        }
        if (im->failed) {
            ASTNode_free(best_math);
            break;
        }
        /* var = (math with var = 0) / -coefficient */
        ASTNode_t *neg_coef = NULL;
        if (dependence(im, best_math, im->algebraic[best], best_var, NULL, 1, &neg_coef) != LINEAR) {
            ASTNode_free(best_math);
            if (!im->failed)
                nomem(im);
            break;
        }
        ASTNode_t *zero = ASTNode_createWithType(AST_INTEGER);
        if (zero)
            ASTNode_setInteger(zero, 0);
        ASTNode_t *rest = zero ? substituted(best_math, (const char *const *)&best_var->id,
                                             &zero, 1) : NULL;
        ASTNode_free(zero);
        ASTNode_free(best_math);
        ASTNode_t *div = ASTNode_createWithType(AST_DIVIDE);
        if (!rest || !div) {
            ASTNode_free(rest);
            ASTNode_free(div);
            ASTNode_free(neg_coef);
            nomem(im);
            break;
        }
        ASTNode_addChild(div, rest);
        ASTNode_addChild(div, neg_coef);
        if (keep(im, div))
            break;
        if (dependence(im, rest, im->algebraic[best], best_var, NULL, 1, NULL) != ABSENT) {
            if (!im->failed)
                fail(im, im->algebraic[best], "algebraic rule %zu: '%s' could not be "
                     "eliminated from it (it refers to '%s' through a reaction's rate)",
                     best + 1, best_var->id, best_var->id);
            break;
        }
        sym *y = best_var;
        y->assign_rule = div;
        y->rule_obj = (const SBase_t *)im->algebraic[best];
        y->initial_assignment = NULL; /* the rule holds at the start too */
        y->known = 0;
        if (y->kind == K_COMPARTMENT) {
            y->varies = 1;
            y->as_parameter = 0;
        }
        solved[best] = 1;
        ids[nsolved] = y->id;
        by[nsolved] = div;
        by_size[nsolved] = substituted_size(div, NULL, NULL, 0);
        nsolved++;
    }
done:
    sg_free(changed);
    sg_free(solved);
    sg_free(ids);
    sg_free(by);
    sg_free(by_size);
    sg_free(names);
    return im->failed ? -1 : 0;
}

/* ------------------------------------------------------- fast reactions */

/* A fast reaction is at its quasi-equilibrium at every moment: its rate is
 * 0, and the slow reactions move only the combinations of amounts it leaves
 * unchanged. With the species it changes S_i (net stoichiometry nu_i, times
 * the species' conversion factor), one of them the pivot X: every other Y
 * has a pool w_Y = n_Y - (nu_Y / nu_X) n_X (amounts), a parameter whose rate
 * rule is the slow reactions' change of that combination; Y's amount is
 * w_Y + (nu_Y / nu_X) n_X, and X solves rate = 0, which must be linear in X
 * (with a coefficient made of constants) once each Y is written so: then
 * X = -(rate with X = 0) / coefficient, exact. The pivot is the first
 * species for which that holds. One fast reaction per model. */

static char *amount_at_start(importer *im, sym *y)
{
    const Species_t *s = (const Species_t *)y->obj;
    const char *size = im->syms[y->comp].id;
    sg_sbuf b = {0};
    if (y->initial_assignment) {
        char what[300];
        snprintf(what, sizeof what, "the initial value of species '%s'", y->id);
        char *text = math_text(im, y->initial_assignment, y->ia_obj, NULL, what);
        if (!text)
            return NULL;
        if (y->hosu)
            sg_sbuf_printf(&b, "(%s)", text);
        else
            sg_sbuf_printf(&b, "(%s) * %s", text, size);
        sg_free(text);
    } else if (Species_isSetInitialAmount(s)) {
        sg_sbuf_add(&b, "(");
        sg_sbuf_number(&b, Species_getInitialAmount(s));
        sg_sbuf_add(&b, ")");
    } else {
        sg_sbuf_add(&b, "(");
        sg_sbuf_number(&b, Species_getInitialConcentration(s));
        sg_sbuf_printf(&b, " * %s)", size);
    }
    if (b.oom) {
        sg_sbuf_free(&b);
        nomem(im);
        return NULL;
    }
    return b.s;
}

typedef struct fast_species {
    sym *s;
    double nu;      /* net stoichiometry */
    char *scaled;   /* nu, times the conversion factor: text */
    char *sbml;     /* the SBML value of s given the pivot (while trying one) */
    const sym *ref; /* a species reference whose stoichiometry events change */
    int sign;       /* of ref: +1 product, -1 reactant */
    int nrefs;      /* references to s in the reaction */
} fast_species;

/* Texts for pivot x: pool ratios and the SBML value of every other species. */
static int fast_texts(importer *im, fast_species *f, size_t n, size_t x)
{
    const char *xsize = im->syms[f[x].s->comp].id;
    for (size_t i = 0; i < n; i++) {
        sym *y = f[i].s;
        sg_free(y->pool_ratio);
        sg_free(f[i].sbml);
        y->pool_ratio = f[i].sbml = NULL;
        if (i == x)
            continue;
        sg_sbuf r = {0}, v = {0};
        if (y->conversion || f[x].s->conversion || f[i].ref || f[x].ref)
            sg_sbuf_printf(&r, "(%s / %s)", f[i].scaled, f[x].scaled);
        else
            sg_sbuf_number(&r, f[i].nu / f[x].nu);
        sg_sbuf_printf(&v, "(%s + %s * %s * %s)", y->pool, r.s ? r.s : "", f[x].s->id, xsize);
        if (!y->hosu)
            sg_sbuf_printf(&v, " / %s", im->syms[y->comp].id);
        if (r.oom || v.oom) {
            sg_sbuf_free(&r);
            sg_sbuf_free(&v);
            return nomem(im);
        }
        y->pool_ratio = r.s;
        f[i].sbml = v.s;
    }
    return 0;
}

/* The species the fast reaction's rate is solved for. */
static const sym *fast_pivot(const importer *im)
{
    for (size_t k = 0; k < im->nsyms; k++)
        if (im->syms[k].solved)
            return &im->syms[k];
    return NULL;
}

/* 1 when math is made of numbers, arithmetic and names of constants (a
 * local parameter of `rid`, or a constant parameter or compartment no rule
 * or event changes): its value at the start holds for good. */
static int constant_math(importer *im, const ASTNode_t *math, const char *rid)
{
    ASTNodeType_t t = ASTNode_getType(math);
    if (t == AST_NAME) {
        const char *name = ASTNode_getName(math);
        if (!name)
            return 0;
        if (local_name(im, rid, name))
            return 1;
        const sym *y = find(im, name);
        return y && (y->kind == K_PARAMETER || y->kind == K_COMPARTMENT) && y->constant &&
               !y->assign_rule && !y->rate_rule && !y->event_assigned;
    }
    if (!(ASTNode_isNumber(math) || t == AST_PLUS || t == AST_MINUS || t == AST_TIMES ||
          t == AST_DIVIDE || t == AST_POWER || t == AST_FUNCTION_POWER))
        return 0;
    for (unsigned i = 0; i < ASTNode_getNumChildren(math); i++)
        if (!constant_math(im, ASTNode_getChild(math, i), rid))
            return 0;
    return 1;
}

/* The factors of a product (nested products flattened) into out[*n]; 0, or
 * -1 when there are more than max. */
static int product_factors(const ASTNode_t *math, const ASTNode_t **out, size_t *n, size_t max)
{
    if (ASTNode_getType(math) != AST_TIMES) {
        if (*n >= max)
            return -1;
        out[(*n)++] = math;
        return 0;
    }
    for (unsigned i = 0; i < ASTNode_getNumChildren(math); i++)
        if (product_factors(ASTNode_getChild(math, i), out, n, max))
            return -1;
    return 0;
}

/* A fast rate that is a product of constants and species of the reaction,
 * each species once (k * S1 * S2), has no linear solution, but it is zero
 * where one of its species is: the quasi-equilibrium is the first such
 * zero the fast reaction runs into from the start (the consumed factor
 * species with the fewest amounts per unit of stoichiometry), provided the
 * rate pushes back towards it there (the other factors keep their sign, so
 * that zero is stable). Applies only when nothing else changes these
 * species (no other reaction, rule or event: the pools stay constant), so
 * the root found at the start holds for good. The pivot index, or n when
 * this does not apply; -1 on an error (reported). */
static size_t fast_product_root(importer *im, const fast_species *f, size_t n,
                                const Reaction_t *fast, const KineticLaw_t *kl)
{
    const char *rid = Reaction_getId(fast);
    Model_t *m = im->model;
    for (size_t i = 0; i < n; i++) {
        const sym *y = f[i].s;
        if (y->conversion || y->assign_rule || y->rate_rule || y->initial_assignment)
            return n;
    }
    for (unsigned r = 0; r < Model_getNumReactions(m); r++) {
        Reaction_t *o = Model_getReaction(m, r);
        if (o == fast)
            continue;
        for (unsigned j = 0; j < Reaction_getNumReactants(o) + Reaction_getNumProducts(o); j++) {
            const SpeciesReference_t *sr =
                j < Reaction_getNumReactants(o)
                    ? Reaction_getReactant(o, j)
                    : Reaction_getProduct(o, j - Reaction_getNumReactants(o));
            for (size_t i = 0; i < n; i++)
                if (SpeciesReference_getSpecies(sr) &&
                    strcmp(SpeciesReference_getSpecies(sr), f[i].s->sbml) == 0)
                    return n;
        }
    }
    enum { MAX_FACTORS = 64 };
    const ASTNode_t *factor[MAX_FACTORS];
    size_t nf = 0;
    if (product_factors(KineticLaw_getMath(kl), factor, &nf, MAX_FACTORS))
        return n;
    double c = 1, value[MAX_FACTORS], amount[MAX_FACTORS], size[MAX_FACTORS];
    int is_factor[MAX_FACTORS] = {0};
    if (n > MAX_FACTORS)
        return n;
    for (size_t i = 0; i < n; i++) {
        sym *y = f[i].s;
        if (eval_sym_value(im, y, &value[i]) ||
            eval_sym_value(im, &im->syms[y->comp], &size[i]) || !(size[i] > 0))
            return n;
        amount[i] = value[i] * size[i];
        if (y->hosu)
            value[i] = amount[i]; /* the kinetic law reads the amount */
    }
    for (size_t k = 0; k < nf; k++) {
        const char *name = ASTNode_getType(factor[k]) == AST_NAME ? ASTNode_getName(factor[k])
                                                                  : NULL;
        size_t i = 0;
        while (name && i < n && strcmp(name, f[i].s->sbml) != 0)
            i++;
        if (name && i < n) {
            if (is_factor[i]++)
                return n; /* S * S: a double root */
            continue;
        }
        double v;
        const char *local = name ? local_name(im, rid, name) : NULL;
        if (local) {
            size_t l = 0;
            while (l < im->nlocals && strcmp(im->locals[l].name, local) != 0)
                l++;
            if (l == im->nlocals)
                return n;
            v = im->locals[l].value;
        } else if (!constant_math(im, factor[k], rid) || eval(im, factor[k], NULL, &v)) {
            return n;
        }
        c *= v;
    }
    double rate = c;
    for (size_t i = 0; i < n; i++)
        if (is_factor[i])
            rate *= value[i];
    if (!isfinite(rate) || rate == 0)
        return n;
    /* the consumed factor species that reaches 0 first */
    size_t z = n;
    double first = INFINITY;
    int tie = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_factor[i] || !(f[i].nu * rate < 0))
            continue;
        double reach = amount[i] / fabs(f[i].nu);
        if (reach < first) {
            first = reach;
            z = i;
            tie = 0;
        } else if (reach == first) {
            tie = 1;
        }
    }
    if (z == n || tie)
        return n;
    /* there the other factors, moved by the extent that empties z, keep the
     * rate's sign near z = 0: the fast reaction holds z at 0 */
    double extent = -amount[z] / f[z].nu, slope = c;
    for (size_t i = 0; i < n; i++) {
        if (!is_factor[i] || i == z)
            continue;
        double a = amount[i] + f[i].nu * extent;
        slope *= f[i].s->hosu ? a : a / size[i];
    }
    if (!(slope * rate > 0))
        return n;
    return z;
}

/* Writes every fast species but f[i] through its pool (fast_texts) and has
 * the importer substitute those texts for their ids, so that a rate is read
 * as a function of f[i] alone. Nonzero when the texts cannot be made. */
static int substitute_others(importer *im, fast_species *f, size_t n, size_t i,
                             const char **ids, const char **texts)
{
    if (fast_texts(im, f, n, i))
        return -1;
    size_t ns = 0;
    for (size_t j = 0; j < n; j++)
        if (j != i) {
            ids[ns] = f[j].s->id;
            texts[ns++] = f[j].sbml;
        }
    im->subst_ids = ids;
    im->subst_texts = texts;
    im->nsubst = ns;
    return 0;
}

/* The species for which `law` is linear with a coefficient made of
 * constants once the others are written through their pools; n if none.
 * *neg_coef: math for minus that coefficient (to be freed). */
static size_t fast_find_pivot(importer *im, fast_species *f, size_t n, const ASTNode_t *law,
                              const KineticLaw_t *kl, const char *rid, const char **ids,
                              const char **texts, ASTNode_t **neg_coef)
{
    size_t x = n;
    for (size_t i = 0; i < n && x == n && !im->failed; i++) {
        if (substitute_others(im, f, n, i, ids, texts))
            break;
        if (dependence(im, law, kl, f[i].s, rid, 0, neg_coef) == LINEAR)
            x = i;
        im->nsubst = 0;
    }
    return x;
}

/* 1 when no name in math is changed by an event, and math reads no delay
 * or rate of change: its value is the same just before and just after any
 * event. */
static int unchanged_by_events(importer *im, const ASTNode_t *math)
{
    ASTNodeType_t t = ASTNode_getType(math);
    if (t == AST_FUNCTION_DELAY || t == AST_FUNCTION_RATE_OF)
        return 0;
    if (t == AST_NAME) {
        const sym *y = ASTNode_getName(math) ? find(im, ASTNode_getName(math)) : NULL;
        if (y && y->event_assigned)
            return 0;
    }
    for (unsigned i = 0; i < ASTNode_getNumChildren(math); i++)
        if (!unchanged_by_events(im, ASTNode_getChild(math, i)))
            return 0;
    return 1;
}

/* The product of factor[0..nf) without factor[which] (nf >= 2), owned by
 * im; NULL when out of memory (reported). */
static ASTNode_t *product_without(importer *im, const ASTNode_t *const *factor, size_t nf,
                                  size_t which)
{
    ASTNode_t *l = NULL;
    if (nf == 2) {
        l = ASTNode_deepCopy(factor[1 - which]);
    } else {
        l = ASTNode_createWithType(AST_TIMES);
        for (size_t k = 0; l && k < nf; k++)
            if (k != which && ASTNode_addChild(l, ASTNode_deepCopy(factor[k])) != 0) {
                ASTNode_free(l);
                l = NULL;
            }
    }
    return keep(im, l) ? NULL : l;
}

/* A fast rate g x L whose factor g is a parameter that only events change
 * (00987, 00988: k1 = 0 until an event sets it to 1). While g = 0 the
 * reaction does not run: its species move with the slow reactions alone.
 * While g != 0 its quasi-equilibrium is L = 0, the same for every non-zero
 * g, so the pivot is solved from L. The switch's parameter, with *rest = L
 * (owned by im), or NULL when the rate is not of that form. L must be
 * unchanged by events, so the equilibrium just before the event that turns
 * the reaction off is the value computed just after it (fast_free). */
static const sym *fast_switch(importer *im, const ASTNode_t *law, ASTNode_t **rest)
{
    enum { MAX_FACTORS = 64 };
    const ASTNode_t *factor[MAX_FACTORS];
    size_t nf = 0, which = MAX_FACTORS;
    const sym *g = NULL;
    if (product_factors(law, factor, &nf, MAX_FACTORS) || nf < 2)
        return NULL;
    for (size_t k = 0; k < nf; k++) {
        const char *name = ASTNode_getType(factor[k]) == AST_NAME ? ASTNode_getName(factor[k])
                                                                  : NULL;
        const sym *y = name ? find(im, name) : NULL;
        if (!y || y->kind != K_PARAMETER || !y->event_assigned || y->assign_rule ||
            y->rate_rule)
            continue;
        if (g)
            return NULL; /* two switches */
        g = y;
        which = k;
    }
    if (!g)
        return NULL;
    ASTNode_t *l = product_without(im, factor, nf, which);
    if (!l)
        return NULL;
    if (!unchanged_by_events(im, l))
        return NULL;
    *rest = l;
    return g;
}

/* The event assignments (with math) whose variable is `target`, one a
 * call: start with *e = *j = 0; NULL after the last. */
static EventAssignment_t *next_assignment_to(importer *im, const sym *target, unsigned *e,
                                             unsigned *j)
{
    Model_t *m = im->model;
    for (; *e < Model_getNumEvents(m); (*e)++, *j = 0) {
        Event_t *ev = Model_getEvent(m, *e);
        while (*j < Event_getNumEventAssignments(ev)) {
            EventAssignment_t *ea = Event_getEventAssignment(ev, (*j)++);
            if (EventAssignment_getMath(ea) && EventAssignment_getVariable(ea) &&
                find(im, EventAssignment_getVariable(ea)) == target)
                return ea;
        }
    }
    return NULL;
}

/* Value v of switch g is 0 (off) or makes the equilibrium stable:
 * nu_c = the pivot's stoichiometry times minus L's coefficient. Keeps
 * im->fast_half at half the smallest non-zero |v|: the triggers compare
 * |g| with it, not g with 0, whose root function would be identically 0
 * while g = 0 (a CVODE warning). */
static int fast_switch_value(importer *im, double nu_c, double v, const sym *g,
                             const void *where, const char *rid)
{
    if (isfinite(v) && v != 0 && !(fabs(v) / 2 >= im->fast_half))
        im->fast_half = fabs(v) / 2;
    if (isfinite(v) && (v == 0 || nu_c * v > 0))
        return 0;
    return fail(im, where, "fast reaction '%s': with '%s' = %g its quasi-equilibrium is %s "
                           "(not supported: sigode solves a stable equilibrium only)", rid,
                g->id, v, isfinite(v) ? "unstable" : "undefined");
}

/* The values switch g takes (its start and every event's assignment) must
 * be numbers, each non-zero one making the equilibrium L = 0 stable: the
 * pivot's own change nu x g x L falls as the pivot grows. 0, or -1 with
 * the reason reported. */
static int fast_switch_check(importer *im, const fast_species *f, size_t n, size_t x,
                             const sym *g, const ASTNode_t *neg_coef, const char *rid)
{
    for (size_t i = 0; i < n; i++)
        if (f[i].s->conversion)
            return fail(im, f[i].s->obj, "fast reaction '%s', switched by '%s': species '%s' "
                                         "has a conversion factor (not supported)",
                        rid, g->id, f[i].s->id);
    double c, v;
    if (eval(im, neg_coef, NULL, &c) || !isfinite(c))
        return fail(im, im->fast_reaction, "fast reaction '%s': its coefficient cannot be "
                                           "evaluated", rid);
    im->fast_half = INFINITY;
    if (eval_sym_value(im, (sym *)g, &v))
        return fail(im, g->obj, "fast reaction '%s' is switched by '%s', whose start value "
                                "is not a number known at import (not supported)", rid, g->id);
    if (fast_switch_value(im, f[x].nu * c, v, g, g->obj, rid))
        return -1;
    unsigned e = 0, j = 0;
    for (EventAssignment_t *ea; (ea = next_assignment_to(im, g, &e, &j));) {
        const ASTNode_t *value = EventAssignment_getMath(ea);
        if (!constant_math(im, value, NULL) || eval(im, value, NULL, &v))
            return fail(im, ea, "fast reaction '%s' is switched by '%s', which an event "
                                "sets to a value that is not a constant (not supported)",
                        rid, g->id);
        if (fast_switch_value(im, f[x].nu * c, v, g, ea, rid))
            return -1;
    }
    if (isinf(im->fast_half))
        im->fast_half = 1; /* g is 0 for good: any threshold */
    return 0;
}

/* A stoichiometry of the fast reaction that events change: each event
 * sets it to a constant of the sign it starts with (0 would take the
 * species out of the reaction, the other sign would turn the equilibrium
 * round). 0, or -1 with the reason reported. */
static int fast_event_stoich_check(importer *im, const fast_species *f, size_t n,
                                   const char *rid)
{
    for (size_t i = 0; i < n; i++) {
        const sym *ref = f[i].ref;
        double v0, v;
        if (!ref)
            continue;
        if (f[i].s->conversion)
            return fail(im, ref->obj, "fast reaction '%s': species '%s' has a conversion "
                                      "factor and a stoichiometry that events change (not "
                                      "supported)", rid, f[i].s->id);
        if (eval_sym_value(im, (sym *)ref, &v0) || !isfinite(v0) || v0 == 0)
            return fail(im, ref->obj, "fast reaction '%s': the stoichiometry '%s' that events "
                                      "change does not start at a non-zero number known at "
                                      "import (not supported)", rid, ref->id);
        unsigned e = 0, j = 0;
        for (EventAssignment_t *ea; (ea = next_assignment_to(im, ref, &e, &j));) {
            const ASTNode_t *value = EventAssignment_getMath(ea);
            if (!constant_math(im, value, NULL) || eval(im, value, NULL, &v) ||
                !isfinite(v) || v == 0 || (v > 0) != (v0 > 0))
                return fail(im, ea, "fast reaction '%s': an event sets the stoichiometry "
                                    "'%s' to a value that is not a constant of the sign "
                                    "it starts with (not supported)", rid, ref->id);
        }
    }
    return 0;
}

/* 1 when math is a rational function of time with constant coefficients
 * (numbers, constants, time, + - * /): it is 0 at isolated instants only
 * (or for good), never over a stretch of time it then leaves. */
static int time_rational(importer *im, const ASTNode_t *math)
{
    ASTNodeType_t t = ASTNode_getType(math);
    if (t == AST_NAME_TIME || ASTNode_isNumber(math))
        return 1;
    if (t == AST_NAME) {
        const sym *y = ASTNode_getName(math) ? find(im, ASTNode_getName(math)) : NULL;
        return y && (y->kind == K_PARAMETER || y->kind == K_COMPARTMENT) && y->constant &&
               !y->assign_rule && !y->rate_rule && !y->event_assigned;
    }
    if (!(t == AST_PLUS || t == AST_MINUS || t == AST_TIMES || t == AST_DIVIDE))
        return 0;
    for (unsigned i = 0; i < ASTNode_getNumChildren(math); i++)
        if (!time_rational(im, ASTNode_getChild(math, i)))
            return 0;
    return 1;
}

/* The signs of parameter g for which `cond` holds, a comparison of g with
 * 0 (either side): a set of SIGN_NEG, SIGN_ZERO, SIGN_POS; -1 for any other
 * condition. */
enum { SIGN_NEG = 1, SIGN_ZERO = 2, SIGN_POS = 4, SIGN_ANY = 7 };
static int sign_set(const ASTNode_t *cond, const sym *g)
{
    if (ASTNode_getNumChildren(cond) != 2)
        return -1;
    const ASTNode_t *a = ASTNode_getChild(cond, 0), *b = ASTNode_getChild(cond, 1);
    int flipped = ASTNode_getType(b) == AST_NAME; /* 0 < g reads g > 0 */
    const ASTNode_t *name = flipped ? b : a, *zero = flipped ? a : b;
    if (ASTNode_getType(name) != AST_NAME || !ASTNode_getName(name) ||
        strcmp(ASTNode_getName(name), g->sbml) != 0 || !ASTNode_isNumber(zero) ||
        ASTNode_getValue(zero) != 0)
        return -1;
    int gt = flipped ? SIGN_NEG : SIGN_POS, lt = flipped ? SIGN_POS : SIGN_NEG;
    switch (ASTNode_getType(cond)) {
    case AST_RELATIONAL_GT: return gt;
    case AST_RELATIONAL_GEQ: return gt | SIGN_ZERO;
    case AST_RELATIONAL_LT: return lt;
    case AST_RELATIONAL_LEQ: return lt | SIGN_ZERO;
    case AST_RELATIONAL_EQ: return SIGN_ZERO;
    case AST_RELATIONAL_NEQ: return SIGN_NEG | SIGN_POS;
    default: return -1;
    }
}

/* A fast rate piecewise(g x L_1, c_1, g x L_2, c_2, ..., g x L_o) whose
 * conditions compare the parameter g with 0 (01568: piecewise(S1 * k,
 * k > 0, S2 * k), k = 5.5 - time). In each piece the quasi-equilibrium is
 * L_i = 0, solved for one pivot in every piece (each L_i linear in it with
 * a coefficient made of constants); the solution is the piecewise of these
 * under the same conditions. Each piece must keep g of one sign, which
 * must make its equilibrium stable (the pivot's change nu x g x L_i falls
 * as the pivot grows); g = 0 (no rate: any state is at rest) is accepted
 * only at isolated instants, g being a rational function of time given by
 * an assignment rule, where the equilibrium of the piece around it holds.
 * The pivot with *solution = the solution's math (owned by im, pivot and
 * species still by name), or n when the rate is not of that form; n with
 * im->failed when it is but its equilibrium is unstable. */
static size_t fast_piecewise(importer *im, fast_species *f, size_t n, const ASTNode_t *law,
                             const KineticLaw_t *kl, const char *rid, const char **ids,
                             const char **texts, ASTNode_t **solution)
{
    enum { MAX_PIECES = 16, MAX_FACTORS = 64 };
    unsigned k = ASTNode_getNumChildren(law);
    if (ASTNode_getType(law) != AST_FUNCTION_PIECEWISE || k < 2 || (k + 1) / 2 > MAX_PIECES)
        return n;
    size_t pieces = (k + 1) / 2;
    const sym *g = NULL;
    ASTNode_t *l[MAX_PIECES];
    int sign[MAX_PIECES], seen = 0;
    for (size_t p = 0; p < pieces; p++) {
        const ASTNode_t *factor[MAX_FACTORS];
        size_t nf = 0, which = MAX_FACTORS;
        if (product_factors(ASTNode_getChild(law, 2 * p), factor, &nf, MAX_FACTORS) || nf < 2)
            return n;
        for (size_t j = 0; j < nf && which == MAX_FACTORS; j++) {
            const char *name =
                ASTNode_getType(factor[j]) == AST_NAME ? ASTNode_getName(factor[j]) : NULL;
            const sym *y = name ? find(im, name) : NULL;
            if (y && (g ? y == g
                        : y->kind == K_PARAMETER && y->assign_rule && !y->rate_rule &&
                              !y->event_assigned && time_rational(im, y->assign_rule)))
                g = y, which = j;
        }
        if (which == MAX_FACTORS || !(l[p] = product_without(im, factor, nf, which)))
            return n;
        /* the signs of g where this piece applies */
        int holds = 2 * p + 1 < k ? sign_set(ASTNode_getChild(law, 2 * p + 1), g) : SIGN_ANY;
        if (holds < 0)
            return n;
        int where = holds & ~seen;
        seen |= holds;
        if ((where & SIGN_NEG) && (where & SIGN_POS))
            return n; /* g of both signs: one of them unstable */
        if (where == SIGN_ZERO)
            return n; /* a piece for g = 0 alone: an equilibrium of an instant */
        sign[p] = where & SIGN_POS ? 1 : where & SIGN_NEG ? -1 : 0; /* 0: never applies */
    }
    if (seen != SIGN_ANY)
        return n; /* some g in no piece: the rate undefined there */
    size_t x = n;
    ASTNode_t *neg_coef[MAX_PIECES] = {NULL};
    for (size_t i = 0; i < n && x == n && !im->failed; i++) {
        if (substitute_others(im, f, n, i, ids, texts))
            break;
        size_t p = 0;
        while (p < pieces && dependence(im, l[p], kl, f[i].s, rid, 0, &neg_coef[p]) == LINEAR)
            p++;
        im->nsubst = 0;
        if (p == pieces)
            x = i;
        else
            for (size_t q = 0; q < p; q++) {
                ASTNode_free(neg_coef[q]);
                neg_coef[q] = NULL;
            }
    }
    if (x == n)
        return n;
    /* stable where each piece applies; the solution L_i(pivot = 0) / -c_i */
    ASTNode_t *sol = ASTNode_createWithType(AST_FUNCTION_PIECEWISE);
    for (size_t p = 0; p < pieces; p++) {
        double v = NAN;
        if (!im->failed && (eval(im, neg_coef[p], NULL, &v) || !(f[x].nu * v * sign[p] > 0)) &&
            sign[p] != 0)
            fail(im, kl, "fast reaction '%s': where %s is %s its quasi-equilibrium is %s "
                         "(not supported: sigode solves a stable equilibrium only)",
                 rid, g->id, sign[p] > 0 ? "positive" : "negative",
                 isfinite(v) ? "unstable" : "undefined");
        ASTNode_t *div = ASTNode_createWithType(AST_DIVIDE);
        if (!div || ASTNode_addChild(div, ASTNode_deepCopy(l[p])) != 0 ||
            ASTNode_addChild(div, neg_coef[p]) != 0) {
            ASTNode_free(div);
            div = NULL;
            nomem(im);
        }
        neg_coef[p] = NULL;
        if (sol && div && ASTNode_addChild(sol, div) != 0) {
            ASTNode_free(div);
            nomem(im);
        }
        if (sol && 2 * p + 1 < k &&
            ASTNode_addChild(sol, ASTNode_deepCopy(ASTNode_getChild(law, 2 * p + 1))) != 0)
            nomem(im);
    }
    for (size_t p = 0; p < pieces; p++)
        ASTNode_free(neg_coef[p]);
    if (keep(im, sol) || im->failed)
        return n;
    *solution = sol;
    return x;
}

static int plan_fast(importer *im)
{
    Model_t *m = im->model;
    Reaction_t *fast = NULL;
    for (unsigned i = 0; i < Model_getNumReactions(m); i++) {
        Reaction_t *r = Model_getReaction(m, i);
        if (!Reaction_isSetFast(r) || !Reaction_getFast(r))
            continue;
        if (fast)
            return fail(im, r, "reaction '%s' is fast, as is '%s': sigode solves the "
                               "quasi-equilibrium of one fast reaction only",
                        Reaction_getId(r), Reaction_getId(fast));
        fast = r;
    }
    if (!fast)
        return 0;
    const char *rid = Reaction_getId(fast);
    const KineticLaw_t *kl = Reaction_getKineticLaw(fast);
    if (!kl || !KineticLaw_getMath(kl))
        return fail(im, fast, "reaction '%s' has no kinetic law", rid);
    unsigned nref = Reaction_getNumReactants(fast) + Reaction_getNumProducts(fast);
    fast_species *f = sg_calloc(nref + 1, sizeof *f);
    const char **ids = sg_calloc(nref + 1, sizeof *ids);
    const char **texts = sg_calloc(nref + 1, sizeof *texts);
    size_t n = 0;
    if (!f || !ids || !texts) {
        nomem(im);
        goto done;
    }
    for (unsigned j = 0; j < nref && !im->failed; j++) {
        int product = j >= Reaction_getNumReactants(fast);
        const SpeciesReference_t *sr =
            product ? Reaction_getProduct(fast, j - Reaction_getNumReactants(fast))
                    : Reaction_getReactant(fast, j);
        sym *s = find(im, SpeciesReference_getSpecies(sr));
        if (!s || s->kind != K_SPECIES) {
            fail(im, sr, "reaction '%s': unknown species '%s'", rid,
                 SpeciesReference_getSpecies(sr) ? SpeciesReference_getSpecies(sr) : "");
            break;
        }
        if (s->boundary)
            continue;
        sym *ref = SpeciesReference_isSetId(sr) ? find(im, SpeciesReference_getId(sr)) : NULL;
        if (ref && ref->kind != K_SPECIESREF)
            ref = NULL;
        /* a stoichiometry given by math of constants (01571: an assignment
         * rule "2"; 01572: stoichiometryMath) is that number */
        /* a stoichiometry only events change (01398): a parameter, the
         * pools recomputed at each such event (fast_event_pools) */
        const sym *evref = ref && ref->variable_stoich && ref->event_assigned &&
                                   !ref->rate_rule && !ref->assign_rule &&
                                   !SpeciesReference_isSetStoichiometryMath(sr)
                               ? ref
                               : NULL;
        const ASTNode_t *smath =
            evref ? NULL :
            SpeciesReference_isSetStoichiometryMath(sr)
                ? StoichiometryMath_getMath(SpeciesReference_getStoichiometryMath((SpeciesReference_t *)sr))
            : ref && ref->variable_stoich && !ref->rate_rule && !ref->event_assigned
                ? (ref->assign_rule ? ref->assign_rule : ref->initial_assignment)
                : NULL;
        double fixed = NAN;
        if (smath && (!constant_math(im, smath, rid) || eval(im, smath, NULL, &fixed) ||
                      !isfinite(fixed)))
            fixed = NAN;
        if ((SpeciesReference_isSetStoichiometryMath(sr) || (ref && ref->variable_stoich)) &&
            isnan(fixed) && !evref) {
            fail(im, sr, "fast reaction '%s': the stoichiometry of '%s' changes (not "
                         "supported in a fast reaction)", rid, s->id);
            break;
        }
        double c = !isnan(fixed) ? fixed : ref ? ref->stoich : SpeciesReference_getStoichiometry(sr);
        if (!isfinite(c) || (im->level >= 3 && !ref && !SpeciesReference_isSetStoichiometry(sr))) {
            fail(im, sr, "reaction '%s': the stoichiometry of '%s' is not set or not finite",
                 rid, s->id);
            break;
        }
        if (s->constant) {
            fail(im, sr, "reaction '%s' changes '%s', a constant species without "
                         "boundaryCondition", rid, s->id);
            break;
        }
        if (im->syms[s->comp].varies || s->amount) {
            fail(im, sr, "fast reaction '%s': species '%s' is in a compartment of changing "
                         "size (not supported in a fast reaction)", rid, s->id);
            break;
        }
        if (s->conversion) {
            sym *cf = find(im, s->conversion);
            if (!cf || cf->kind != K_PARAMETER || !cf->constant) {
                fail(im, s->obj, "species '%s': the conversion factor '%s' of a species of "
                                 "a fast reaction must be a constant parameter", s->id,
                     s->conversion);
                break;
            }
        }
        size_t k = 0;
        while (k < n && f[k].s != s)
            k++;
        if (k == n)
            f[n++].s = s;
        f[k].nu += product ? c : -c;
        f[k].nrefs++;
        if (evref) {
            f[k].ref = evref;
            f[k].sign = product ? 1 : -1;
        }
    }
    for (size_t k = 0; k < n && !im->failed; k++)
        if (f[k].ref && f[k].nrefs > 1)
            fail(im, f[k].ref->obj, "fast reaction '%s': species '%s' appears more than once, "
                                    "with a stoichiometry that events change (not supported)",
                 rid, f[k].s->id);
    /* species the reaction changes on balance */
    size_t kept = 0;
    for (size_t i = 0; i < n && !im->failed; i++) {
        if (f[i].nu == 0 && !f[i].ref)
            continue;
        f[kept] = f[i];
        sym *s = f[kept].s;
        sg_sbuf t = {0};
        sg_sbuf_add(&t, "(");
        if (f[kept].ref)
            sg_sbuf_printf(&t, "%s%s", f[kept].sign < 0 ? "-" : "", f[kept].ref->id);
        else
            sg_sbuf_number(&t, f[kept].nu);
        if (s->conversion)
            sg_sbuf_printf(&t, " * %s", s->conversion);
        sg_sbuf_add(&t, ")");
        char name[300];
        snprintf(name, sizeof name, "%s_pool", s->id);
        for (int k = 2; name_taken(im, name); k++)
            snprintf(name, sizeof name, "%s_pool_%d", s->id, k);
        f[kept].scaled = t.s;
        s->pool = sg_strdup(name);
        if (t.oom || !s->pool || strlen(name) > 255) {
            kept++;
            if (strlen(name) > 255)
                fail(im, s->obj, "species '%s': the name of its pool is too long", s->id);
            else
                nomem(im);
            break;
        }
        kept++;
    }
    n = kept;
    im->fast_reaction = fast;
    if (im->failed || n == 0)
        goto done;
    /* events change its species or stoichiometries (fast_event_pools) */
    int by_events = 0;
    for (size_t i = 0; i < n; i++)
        by_events |= f[i].s->event_assigned || f[i].ref;
    if (by_events && fast_event_stoich_check(im, f, n, rid))
        goto done;
    /* the pivot */
    const ASTNode_t *law = KineticLaw_getMath(kl);
    ASTNode_t *neg_coef = NULL;
    size_t x = fast_find_pivot(im, f, n, law, kl, rid, ids, texts, &neg_coef);
    const sym *g = NULL; /* the switch (fast_switch) */
    if (x == n && !im->failed && !by_events) {
        ASTNode_t *rest_law = NULL;
        g = fast_switch(im, law, &rest_law);
        if (g) {
            law = rest_law;
            x = fast_find_pivot(im, f, n, law, kl, rid, ids, texts, &neg_coef);
            if (x < n && fast_switch_check(im, f, n, x, g, neg_coef, rid)) {
                ASTNode_free(neg_coef);
                neg_coef = NULL;
                x = n;
            }
            if (x == n)
                g = NULL;
        }
    }
    if (im->failed)
        goto done;
    ASTNode_t *piecewise = NULL; /* the pivot's solution (fast_piecewise) */
    if (x == n && !by_events) {
        x = fast_piecewise(im, f, n, law, kl, rid, ids, texts, &piecewise);
        if (im->failed)
            goto done;
    }
    int at_zero = 0; /* the pivot is held at 0 (fast_product_root) */
    if (x == n && !by_events) {
        x = fast_product_root(im, f, n, fast, kl);
        if (x < n && fast_texts(im, f, n, x) == 0)
            at_zero = 1;
        if (im->failed)
            goto done;
    }
    if (x == n) {
        fail(im, fast, "fast reaction '%s': its rate is not linear, with a coefficient made "
                       "of constants, in any of its species once the amounts it conserves "
                       "are fixed%s: sigode solves the quasi-equilibrium by elimination and "
                       "has no DAE solver", rid,
             by_events ? " (with events that change its species or stoichiometries)" : "");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        sym *y = f[i].s;
        y->fast_scaled = f[i].scaled;
        f[i].scaled = NULL;
        y->fast_ref = f[i].ref;
        y->fast_sign = f[i].sign;
    }
    /* pivot = (rate with pivot = 0) / -coefficient: the others are then their pools */
    size_t ns = 0;
    for (size_t k = 0; k < n && !im->failed; k++) {
        ids[ns] = f[k].s->id;
        if (k == x) {
            texts[ns++] = "0";
            continue;
        }
        sg_sbuf v = {0};
        sg_sbuf_printf(&v, "(%s)", f[k].s->pool);
        if (!f[k].s->hosu)
            sg_sbuf_printf(&v, " / %s", im->syms[f[k].s->comp].id);
        if (v.oom)
            nomem(im);
        sg_free(f[k].sbml);
        texts[ns++] = f[k].sbml = v.s;
    }
    if (im->failed) {
        ASTNode_free(neg_coef);
        goto done;
    }
    im->subst_ids = ids;
    im->subst_texts = texts;
    im->nsubst = ns;
    char what[300];
    snprintf(what, sizeof what, "the kinetic law of reaction '%s'", rid);
    char *rest = at_zero ? NULL : math_text(im, piecewise ? piecewise : law, kl, rid, what);
    im->nsubst = 0;
    char *coef = rest && !piecewise ? math_text(im, neg_coef, kl, NULL, what) : NULL;
    ASTNode_free(neg_coef);
    sg_sbuf solved = {0};
    if (at_zero)
        sg_sbuf_add(&solved, "0");
    else if (piecewise && rest)
        sg_sbuf_add(&solved, rest);
    else if (coef)
        sg_sbuf_printf(&solved, "(%s) / (%s)", rest, coef);
    sg_free(rest);
    sg_free(coef);
    if (solved.oom || (!solved.s && !im->failed))
        nomem(im);
    sym *pivot = f[x].s;
    pivot->solved = solved.s;
    sg_free(pivot->pool);
    pivot->pool = NULL;
    /* the pools' start: their amounts at the start */
    char *x_start = im->failed ? NULL : amount_at_start(im, pivot);
    for (size_t i = 0; i < n && x_start; i++) {
        sym *y = f[i].s;
        y->fast = 1;
        y->by_rate_rule = 1; /* the slow reactions' sums */
        if (i == x)
            continue;
        char *y_start = amount_at_start(im, y);
        if (!y_start)
            break;
        sg_sbuf t = {0};
        sg_sbuf_printf(&t, "%s - %s * %s", y_start, y->pool_ratio, x_start);
        sg_free(y_start);
        if (t.oom) {
            sg_sbuf_free(&t);
            nomem(im);
            break;
        }
        y->pool_start = t.s;
    }
    if (g && x_start && !im->failed) {
        char name[300];
        im->fast_switch = g;
        snprintf(name, sizeof name, "%s_free", pivot->id);
        for (int k = 2; name_taken(im, name); k++)
            snprintf(name, sizeof name, "%s_free_%d", pivot->id, k);
        im->fast_free = sg_strdup(name);
        char **slot[] = {&im->fast_flag, &im->fast_on, &im->fast_off};
        const char *suffix[] = {"running", "turns_on", "turns_off"};
        for (size_t i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "%s_%s", rid, suffix[i]);
            for (int k = 2; name_taken(im, name); k++)
                snprintf(name, sizeof name, "%s_%s_%d", rid, suffix[i], k);
            *slot[i] = sg_strdup(name);
        }
        im->fast_free_start = sg_strdup(x_start);
        if (!im->fast_free || !im->fast_flag || !im->fast_on || !im->fast_off ||
            !im->fast_free_start)
            nomem(im);
        else if (strlen(im->fast_free) > 255 || strlen(im->fast_off) > 255 ||
                 strlen(im->fast_flag) > 255)
            fail(im, fast, "fast reaction '%s': the names it needs are too long", rid);
    }
    sg_free(x_start);
done:
    for (size_t i = 0; f && i < nref; i++) {
        sg_free(f[i].scaled);
        sg_free(f[i].sbml);
    }
    sg_free(f);
    sg_free(ids);
    sg_free(texts);
    return im->failed ? -1 : 0;
}

/* Species changed through a rate rule. sigode's reactions give
 * d[S]/dt = sum(coefficient x rate) / size, with constant coefficients and a
 * constant size. A species whose change needs more -- a conversion factor,
 * a stoichiometry that changes (stoichiometryMath, or a rule, an event or
 * an initial assignment computed at the start on a species reference), or
 * a compartment whose size changes -- is left out of the reaction equations
 * and given a rate rule with the sum written out (the kinetic laws inlined;
 * sigode computes equal subexpressions once). In a compartment of changing
 * size the state is the species' amount n, a parameter named S_amount with
 * that rate rule, and S = n / size is an assignment: so d[S]/dt =
 * (dn/dt) / V - [S] (dV/dt) / V holds without differentiating V, and an
 * event that changes V keeps the amount, as SBML says. */
static int plan_species(importer *im)
{
    Model_t *m = im->model;
    for (size_t i = 0; i < im->nsyms; i++) {
        sym *y = &im->syms[i];
        if (y->kind == K_SPECIESREF)
            y->variable_stoich = y->assign_rule || y->rate_rule || y->event_assigned ||
                                 y->initial_assignment;
    }
    for (size_t i = 0; i < im->nsyms; i++) {
        sym *y = &im->syms[i];
        if (y->kind != K_SPECIES || !im->syms[y->comp].varies || y->assign_rule)
            continue;
        if (!y->hosu && y->rate_rule) {
            y->as_species_parameter = 1; /* its concentration is what is given */
            continue;
        }
        /* otherwise the amount is what stays (a constant species too: the
         * suite's case 01117) or what reactions change */
        char name[300];
        snprintf(name, sizeof name, "%s_amount", y->id);
        for (int k = 2; name_taken(im, name); k++)
            snprintf(name, sizeof name, "%s_amount_%d", y->id, k);
        if (strlen(name) > 255)
            return fail(im, y->obj, "species '%s': the name of its amount is too long", y->id);
        if (!(y->amount = sg_strdup(name)))
            return nomem(im);
    }
    for (unsigned i = 0; i < Model_getNumReactions(m); i++) {
        Reaction_t *r = Model_getReaction(m, i);
        for (int side = 0; side < 2; side++) {
            unsigned nref = side ? Reaction_getNumProducts(r) : Reaction_getNumReactants(r);
            for (unsigned j = 0; j < nref; j++) {
                SpeciesReference_t *sr = side ? Reaction_getProduct(r, j)
                                              : Reaction_getReactant(r, j);
                sym *s = find(im, SpeciesReference_getSpecies(sr));
                if (!s || s->kind != K_SPECIES || s->boundary || s->constant)
                    continue; /* unchanged, or refused in write_reactions */
                sym *ref = SpeciesReference_isSetId(sr) ? find(im, SpeciesReference_getId(sr))
                                                        : NULL;
                int variable = SpeciesReference_isSetStoichiometryMath(sr) ||
                               (ref && ref->kind == K_SPECIESREF && ref->variable_stoich);
                if (s->amount || s->conversion || variable) {
                    if (s->rate_rule || s->assign_rule)
                        return fail(im, sr, "species '%s' is changed by reaction '%s' and by a "
                                            "rule", s->id, Reaction_getId(r));
                    s->by_rate_rule = 1;
                }
            }
        }
    }
    return 0;
}

/* -------------------------------------------------------------- writing */

/* A libconfig string. SBML names and math come from strangers: every
 * control character (C0 -- XML allows tab, line ends and, as &#10;, any of
 * them in attributes --, DEL, and C1 as UTF-8, which XML 1.0 allows) becomes
 * a space, since the model loader refuses them (they would reach plots and
 * the terminal). */
static void add_string(sg_sbuf *b, const char *s)
{
    sg_sbuf_add(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            sg_sbuf_printf(b, "\\%c", *p);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) {
            sg_sbuf_add(b, " ");
            p++;
        } else if (*p < 0x20 || *p == 0x7f)
            sg_sbuf_add(b, " ");
        else
            sg_sbuf_addn(b, (const char *)p, 1);
    }
    sg_sbuf_add(b, "\"");
}

/* Whether math refers to any id. */
static int names_in(const ASTNode_t *n)
{
    /* time too: x = sin(10 * time) holds before the start for delay()
     * (the SBML Test Suite's reading, 00938) and at a start other than 0 */
    if (ASTNode_getType(n) == AST_NAME || ASTNode_getType(n) == AST_NAME_TIME)
        return 1;
    for (unsigned i = 0; i < ASTNode_getNumChildren(n); i++)
        if (names_in(ASTNode_getChild(n, i)))
            return 1;
    return 0;
}

/* A start value: a number when known, else the expression (evaluated by
 * sigode at the start, in dependency order). */
static int add_start_value(importer *im, sg_sbuf *b, sym *y, const char *what)
{
    double v;
    /* an initial assignment that uses other ids (or time) stays an
     * expression, so that a --set of those ids carries over as in SBML */
    int keep_expression = y->initial_assignment && names_in(y->initial_assignment);
    /* an initial amount is an amount: its concentration is amount / size,
     * kept as that expression so that a new size (--set, a PEtab condition,
     * an estimated compartment) gives the concentration SBML means */
    if (y->kind == K_SPECIES && !y->initial_assignment &&
        !Species_isSetInitialConcentration((const Species_t *)y->obj) &&
        Species_isSetInitialAmount((const Species_t *)y->obj))
        keep_expression = 1;
    if (!keep_expression && eval_sym_value(im, y, &v) == 0) {
        if (y->initial_assignment) {
            im->evaluated++;
        }
        if (isfinite(v)) {
            sg_sbuf_number(b, v);
        } else {
            sg_sbuf_add(b, "\"");
            sg_sbuf_add(b, nonfinite_text(v));
            sg_sbuf_add(b, "\"");
        }
        return 0;
    }
    char *text;
    if (y->initial_assignment) {
        text = math_text(im, y->initial_assignment, y->ia_obj, NULL, what);
        if (!text)
            return -1;
        if (y->kind == K_SPECIES && y->hosu) {
            sg_sbuf_printf(b, "\"(%s) / %s\"", text, im->syms[y->comp].id);
        } else {
            add_string(b, text);
        }
    } else if (y->kind == K_SPECIES) { /* an initial amount over a size set later */
        char num[40];
        snprintf(num, sizeof num, "%.17g", Species_getInitialAmount((const Species_t *)y->obj));
        sg_sbuf_printf(b, "\"%s / %s\"", num, im->syms[y->comp].id);
        return 0;
    } else {
        return fail(im, y->obj, "%s has no value", what);
    }
    sg_free(text);
    return 0;
}

/* ---------------------------------------------- names, notes, units */

/* The text of the XHTML paragraph <p class="cls"> in notes (what export
 * writes for a description or a source), NULL if none; the caller frees. */
static char *notes_paragraph(const XMLNode_t *n, const char *cls, int depth)
{
    if (!n || depth > 30)
        return NULL;
    if (XMLNode_isElement(n) && XMLNode_getName(n) && strcmp(XMLNode_getName(n), "p") == 0) {
        char *c = XMLNode_getAttrValueByName(n, "class");
        int match = c && strcmp(c, cls) == 0;
        free(c);
        if (match) {
            sg_sbuf t = {0};
            sg_sbuf_add(&t, "");
            for (unsigned i = 0; i < XMLNode_getNumChildren(n); i++) {
                const XMLNode_t *k = XMLNode_getChild(n, (int)i);
                if (XMLNode_isText(k) && XMLNode_getCharacters(k))
                    sg_sbuf_add(&t, XMLNode_getCharacters(k));
            }
            if (t.oom) {
                sg_sbuf_free(&t);
                return NULL;
            }
            return t.s;
        }
    }
    for (unsigned i = 0; i < XMLNode_getNumChildren(n); i++) {
        char *text = notes_paragraph(XMLNode_getChild(n, (int)i), cls, depth + 1);
        if (text)
            return text;
    }
    return NULL;
}

/* `; name = "..."` and the description (and, for a parameter, the source)
 * kept in the element's notes, as libconfig settings. has_description: the
 * caller wrote a description of its own (kept; the notes' one is dropped). */
static void add_labels(sg_sbuf *b, const void *obj, int has_description, int with_source)
{
    SBase_t *o = (SBase_t *)obj;
    if (SBase_isSetName(o) && *SBase_getName(o)) {
        sg_sbuf_add(b, "; name = ");
        add_string(b, SBase_getName(o));
    }
    XMLNode_t *notes = SBase_isSetNotes(o) ? SBase_getNotes(o) : NULL;
    char *d = notes && !has_description ? notes_paragraph(notes, SG_NOTES_DESCRIPTION, 0) : NULL;
    char *src = notes && with_source ? notes_paragraph(notes, SG_NOTES_SOURCE, 0) : NULL;
    if (d) {
        sg_sbuf_add(b, "; description = ");
        add_string(b, d);
    }
    if (src) {
        sg_sbuf_add(b, "; source = ");
        add_string(b, src);
    }
    free(d);
    free(src);
}

/* The SBML id of a renamed element (add_sym), for output columns and export. */
static void add_sbml_id(sg_sbuf *b, const sym *y)
{
    if (y->renamed) {
        sg_sbuf_add(b, "; sbml_id = ");
        add_string(b, y->sbml);
    }
}

/* The readable text of a unit reference (a unit definition's id or a base
 * unit's name) into buf: the definition's name when it is a sigode unit of
 * the same dimension (what export writes), else its rendering. 0, or -1
 * when there is none or it cannot be said. */
static int unit_text(importer *im, const char *ref, char *buf, size_t size)
{
    if (!ref || !*ref)
        return -1;
    UnitDefinition_t *def = Model_getUnitDefinitionById(im->model, ref);
    int kind = UnitKind_forName(ref);
    if (!def && (kind == UNIT_KIND_INVALID || kind == UNIT_KIND_DIMENSIONLESS)) {
        if (kind != UNIT_KIND_DIMENSIONLESS)
            return -1;
        snprintf(buf, size, "1");
        return 0;
    }
    if (sg_unit_render(def, kind, buf, size) != 0)
        return -1;
    const char *name = def && UnitDefinition_isSetName(def) ? UnitDefinition_getName(def) : NULL;
    if (name && strlen(name) < size && sg_unit_matches(name, def))
        snprintf(buf, size, "%s", name);
    return 0;
}

/* `; unit = "..."` for a unit reference, nothing when it cannot be said. */
static void add_unit(importer *im, sg_sbuf *b, const char *ref)
{
    char text[200];
    if (unit_text(im, ref, text, sizeof text) == 0) {
        sg_sbuf_add(b, "; unit = ");
        add_string(b, text);
    }
}

static void header(importer *im, sg_sbuf *b, SBMLDocument_t *doc)
{
    Model_t *m = im->model;
    const char *base = strrchr(im->path, '/');
    base = base ? base + 1 : im->path;
    sg_sbuf_printf(b, "# Translated from SBML Level %u Version %u (%s) by sigode %s.\n",
                   im->level, im->version, base, SIGODE_VERSION);
    sg_sbuf_add(b, "# Species hold concentrations; a species with hasOnlySubstanceUnits is\n"
                   "# written (S * C) where SBML means its amount. Reactions give amount per\n"
                   "# time. Boundary species are left out of reaction equations.\n");
    char name[256];
    const char *id = Model_isSetId(m) ? Model_getId(m) : "";
    if (valid_id(id)) {
        snprintf(name, sizeof name, "%s", id);
    } else {
        size_t j = 0;
        for (const char *p = base; *p && *p != '.' && j < 60; p++)
            name[j++] = isalnum((unsigned char)*p) ? *p : '_';
        name[j] = '\0';
        if (!valid_id(name))
            snprintf(name, sizeof name, "sbml_model");
    }
    sg_sbuf_add(b, "\nname = ");
    add_string(b, name);
    sg_sbuf_add(b, ";\n");
    char *notes = SBase_isSetNotes((SBase_t *)m)
                      ? notes_paragraph(SBase_getNotes((SBase_t *)m), SG_NOTES_DESCRIPTION, 0)
                      : NULL;
    if (notes || (Model_isSetName(m) && *Model_getName(m))) {
        sg_sbuf_add(b, "description = ");
        add_string(b, notes ? notes : Model_getName(m));
        sg_sbuf_add(b, ";\n");
    }
    free(notes);
    /* units: L3 model attributes, or L2's redefined built-ins */
    char unit[200], volume[200];
    int l3 = im->level >= 3;
    if (unit_text(im, l3 ? Model_getTimeUnits(m) : "time", unit, sizeof unit) == 0 &&
        (l3 || Model_getUnitDefinitionById(m, "time"))) {
        sg_sbuf_add(b, "time_unit = ");
        add_string(b, unit);
        sg_sbuf_add(b, ";\n");
    }
    /* a concentration: substance over volume, or the substance alone when
     * volumes are pure numbers (as export writes sigode's sizes) */
    const char *substance = l3 ? Model_getSubstanceUnits(m)
                               : Model_getUnitDefinitionById(m, "substance") ? "substance" : "";
    const char *vol = l3 ? Model_getVolumeUnits(m)
                         : Model_getUnitDefinitionById(m, "volume") ? "volume" : "";
    if (unit_text(im, substance, unit, sizeof unit) == 0) {
        int pure = unit_text(im, vol, volume, sizeof volume) != 0 || strcmp(volume, "1") == 0;
        sg_sbuf_add(b, "conc_unit = ");
        if (pure) {
            add_string(b, unit);
        } else {
            char both[420];
            snprintf(both, sizeof both, strchr(volume, '/') || strchr(volume, '*') ? "%s/(%s)"
                                                                                  : "%s/%s",
                     unit, volume);
            add_string(b, both);
        }
        sg_sbuf_add(b, ";\n");
    }
    (void)doc;
}

static int write_compartments(importer *im, sg_sbuf *b)
{
    int any = 0;
    for (size_t i = 0; i < im->nsyms && !im->failed; i++) {
        sym *y = &im->syms[i];
        if (y->kind != K_COMPARTMENT || y->as_parameter || y->assign_rule)
            continue;
        sg_sbuf_add(b, any++ ? ",\n" : "\ncompartments = (\n");
        sg_sbuf_printf(b, "  { id = \"%s\"; size = ", y->id);
        char what[300];
        snprintf(what, sizeof what, "the size of compartment '%s'", y->id);
        if (add_start_value(im, b, y, what))
            return -1;
        const Compartment_t *c = (const Compartment_t *)y->obj;
        if (Compartment_isSetUnits(c) && strcmp(Compartment_getUnits(c), "dimensionless") != 0)
            add_unit(im, b, Compartment_getUnits(c)); /* pure numbers are sigode's sizes */
        add_labels(b, y->obj, 0, 0);
        add_sbml_id(b, y);
        sg_sbuf_add(b, "; }");
    }
    if (any)
        sg_sbuf_add(b, "\n);\n");
    return im->failed ? -1 : 0;
}

static int write_parameters(importer *im, sg_sbuf *b)
{
    int any = 0;
    for (size_t i = 0; i < im->nsyms && !im->failed; i++) {
        sym *y = &im->syms[i];
        if (!((y->kind == K_PARAMETER && !y->assign_rule) || y->as_parameter ||
              y->as_species_parameter))
            continue;
        sg_sbuf_add(b, any++ ? ",\n" : "\nparameters = (\n");
        sg_sbuf_printf(b, "  { id = \"%s\"; value = ", y->id);
        char what[300];
        snprintf(what, sizeof what, "the value of '%s'", y->id);
        if (add_start_value(im, b, y, what))
            return -1;
        if (y->kind == K_PARAMETER && Parameter_isSetUnits((const Parameter_t *)y->obj))
            add_unit(im, b, Parameter_getUnits((const Parameter_t *)y->obj));
        add_labels(b, y->obj, y->as_parameter || y->as_species_parameter,
                   y->kind == K_PARAMETER);
        add_sbml_id(b, y);
        sg_sbuf_add(b, y->as_parameter ? "; description = \"a compartment of varying size\"; }"
                       : y->as_species_parameter
                           ? "; description = \"a species (its compartment changes size)\"; }"
                           : "; }");
    }
    for (size_t i = 0; i < im->nsyms && !im->failed; i++) {
        sym *y = &im->syms[i];
        if (y->kind != K_SPECIESREF || !y->variable_stoich || y->assign_rule)
            continue;
        sg_sbuf_add(b, any++ ? ",\n" : "\nparameters = (\n");
        sg_sbuf_printf(b, "  { id = \"%s\"; value = ", y->id);
        char what[300];
        snprintf(what, sizeof what, "the stoichiometry '%s'", y->id);
        if (add_start_value(im, b, y, what))
            return -1;
        sg_sbuf_add(b, "; description = \"a stoichiometry that changes\"; }");
    }
    for (size_t i = 0; i < im->nsyms && !im->failed; i++) {
        sym *y = &im->syms[i];
        if (!y->amount)
            continue;
        const Species_t *s = (const Species_t *)y->obj;
        const char *size = im->syms[y->comp].id;
        sg_sbuf_add(b, any++ ? ",\n" : "\nparameters = (\n");
        sg_sbuf_printf(b, "  { id = \"%s\"; value = ", y->amount);
        if (y->initial_assignment) {
            char what[300];
            snprintf(what, sizeof what, "the initial value of species '%s'", y->id);
            char *text = math_text(im, y->initial_assignment, y->ia_obj, NULL, what);
            if (!text)
                return -1;
            if (y->hosu) {
                add_string(b, text);
            } else {
                sg_sbuf_printf(b, "\"(%s) * %s\"", text, size);
            }
            sg_free(text);
        } else if (Species_isSetInitialAmount(s)) {
            sg_sbuf_number(b, Species_getInitialAmount(s));
        } else {
            sg_sbuf_add(b, "\"");
            sg_sbuf_number(b, Species_getInitialConcentration(s));
            sg_sbuf_printf(b, " * %s\"", size);
        }
        sg_sbuf_printf(b, "; description = \"the amount of species %s (its compartment "
                          "changes size)\"; }", y->id);
    }
    for (size_t i = 0; i < im->nsyms; i++) {
        const sym *y = &im->syms[i];
        if (!y->pool || !y->pool_start)
            continue;
        sg_sbuf_add(b, any++ ? ",\n" : "\nparameters = (\n");
        sg_sbuf_printf(b, "  { id = \"%s\"; value = ", y->pool);
        add_string(b, y->pool_start);
        const sym *x = fast_pivot(im);
        sg_sbuf_printf(b, "; description = \"amount of %s - %s x amount of %s: unchanged by "
                          "fast reaction %s\"; }", y->id, y->pool_ratio, x ? x->id : "?",
                       Reaction_getId(im->fast_reaction));
    }
    if (im->fast_free) {
        sg_sbuf_add(b, any++ ? ",\n" : "\nparameters = (\n");
        sg_sbuf_printf(b, "  { id = \"%s\"; value = ", im->fast_free);
        add_string(b, im->fast_free_start);
        sg_sbuf_printf(b, "; description = \"amount of %s while fast reaction %s is off "
                          "(%s = 0)\"; }", fast_pivot(im)->id, Reaction_getId(im->fast_reaction),
                       im->fast_switch->id);
        sg_sbuf_add(b, ",\n");
        sg_sbuf_printf(b, "  { id = \"%s\"; value = \"abs(%s) > ", im->fast_flag,
                       im->fast_switch->id);
        sg_sbuf_number(b, im->fast_half);
        sg_sbuf_printf(b, "\"; description = \"1 while fast reaction %s runs (%s != 0), "
                          "else 0\"; }", Reaction_getId(im->fast_reaction), im->fast_switch->id);
    }
    for (size_t i = 0; i < im->nlocals; i++) {
        local_param *lp = &im->locals[i];
        sg_sbuf_add(b, any++ ? ",\n" : "\nparameters = (\n");
        sg_sbuf_printf(b, "  { id = \"%s\"; value = ", lp->name);
        sg_sbuf_number(b, lp->value);
        sg_sbuf_printf(b, "; description = \"local parameter %s of reaction %s\"; }", lp->id,
                       lp->reaction);
    }
    if (any)
        sg_sbuf_add(b, "\n);\n");
    return im->failed ? -1 : 0;
}

static int write_species(importer *im, sg_sbuf *b)
{
    int any = 0;
    for (size_t i = 0; i < im->nsyms && !im->failed; i++) {
        sym *y = &im->syms[i];
        if (y->kind != K_SPECIES || y->assign_rule || y->amount || y->as_species_parameter ||
            y->fast)
            continue;
        sg_sbuf_add(b, any++ ? ",\n" : "\nspecies = (\n");
        sg_sbuf_printf(b, "  { id = \"%s\"; compartment = \"%s\"; initial = ", y->id,
                       im->syms[y->comp].id);
        char what[300];
        snprintf(what, sizeof what, "the initial value of species '%s'", y->id);
        if (add_start_value(im, b, y, what))
            return -1;
        int constant = y->constant || (y->boundary && !y->rate_rule && !y->event_assigned);
        if (constant)
            sg_sbuf_add(b, "; constant = true");
        if (y->hosu || y->boundary)
            sg_sbuf_printf(b, "; description = \"SBML %s%s%s\"",
                           y->hosu ? "hasOnlySubstanceUnits" : "",
                           y->hosu && y->boundary ? ", " : "",
                           y->boundary ? "boundaryCondition" : "");
        /* a unit of its own: its substance, when volumes are pure numbers */
        const Species_t *sp = (const Species_t *)y->obj;
        const Compartment_t *cp = (const Compartment_t *)im->syms[y->comp].obj;
        const char *cu = Compartment_isSetUnits(cp) ? Compartment_getUnits(cp)
                         : im->level >= 3 ? Model_getVolumeUnits(im->model) : "";
        if (!cu) /* libsbml: no units (a 0-D compartment has no volume units) */
            cu = "";
        if (Species_isSetSubstanceUnits(sp) && (!*cu || !strcmp(cu, "dimensionless")))
            add_unit(im, b, Species_getSubstanceUnits(sp));
        add_labels(b, y->obj, y->hosu || y->boundary, 0);
        add_sbml_id(b, y);
        sg_sbuf_add(b, "; }");
    }
    if (any)
        sg_sbuf_add(b, "\n);\n");
    return im->failed ? -1 : 0;
}

/* What an expression for the SBML value of `y` becomes for sigode: a
 * species with hasOnlySubstanceUnits gets its amount divided by the size. */
static void add_converted(importer *im, sg_sbuf *b, const sym *y, const char *text)
{
    if (y->kind == K_SPECIES && y->hosu)
        sg_sbuf_printf(b, "\"(%s) / %s\"", text, im->syms[y->comp].id);
    else
        add_string(b, text);
}

static int math_has_delay(const ASTNode_t *n)
{
    if (!n)
        return 0;
    if (ASTNode_getType(n) == AST_FUNCTION_DELAY)
        return 1;
    for (unsigned i = 0; i < ASTNode_getNumChildren(n); i++)
        if (math_has_delay(ASTNode_getChild(n, i)))
            return 1;
    return 0;
}

/* Whether any math of the model uses the delay csymbol. */
static int model_has_delay(Model_t *m)
{
    for (unsigned i = 0; i < Model_getNumFunctionDefinitions(m); i++)
        if (math_has_delay(FunctionDefinition_getMath(Model_getFunctionDefinition(m, i))))
            return 1;
    for (unsigned i = 0; i < Model_getNumRules(m); i++)
        if (math_has_delay(Rule_getMath(Model_getRule(m, i))))
            return 1;
    for (unsigned i = 0; i < Model_getNumInitialAssignments(m); i++)
        if (math_has_delay(InitialAssignment_getMath(Model_getInitialAssignment(m, i))))
            return 1;
    for (unsigned i = 0; i < Model_getNumReactions(m); i++) {
        const KineticLaw_t *kl = Reaction_getKineticLaw(Model_getReaction(m, i));
        if (kl && math_has_delay(KineticLaw_getMath(kl)))
            return 1;
    }
    for (unsigned i = 0; i < Model_getNumEvents(m); i++) {
        Event_t *e = Model_getEvent(m, i);
        if ((Event_isSetTrigger(e) && math_has_delay(Trigger_getMath(Event_getTrigger(e)))) ||
            (Event_isSetDelay(e) && math_has_delay(Delay_getMath(Event_getDelay(e)))) ||
            (Event_isSetPriority(e) &&
             math_has_delay(Priority_getMath(Event_getPriority(e)))))
            return 1;
        for (unsigned j = 0; j < Event_getNumEventAssignments(e); j++)
            if (math_has_delay(EventAssignment_getMath(Event_getEventAssignment(e, j))))
                return 1;
    }
    return 0;
}

static int write_assignments(importer *im, sg_sbuf *b)
{
    int any = 0;
    int delays = -1; /* model_has_delay, walked once when a fast species needs it */
    for (size_t i = 0; i < im->nsyms && !im->failed; i++) {
        sym *y = &im->syms[i];
        if (y->amount) {
            sg_sbuf_add(b, any++ ? ",\n" : "\nassignments = (\n");
            sg_sbuf_printf(b, "  { id = \"%s\"; value = \"%s / %s\"", y->id, y->amount,
                           im->syms[y->comp].id);
            add_sbml_id(b, y);
            sg_sbuf_add(b, "; }");
            continue;
        }
        if (y->fast) { /* plan_fast */
            const sym *x = fast_pivot(im);
            if (!x)
                continue;
            sg_sbuf_add(b, any++ ? ",\n" : "\nassignments = (\n");
            sg_sbuf_printf(b, "  { id = \"%s\"; value = ", y->id);
            sg_sbuf at = {0};
            if (y->solved && im->fast_free) /* fast_switch */
                sg_sbuf_printf(&at, "if(%s == 0, %s / %s, %s)", im->fast_flag,
                               im->fast_free, im->syms[y->comp].id, y->solved);
            else if (y->solved)
                sg_sbuf_add(&at, y->solved);
            else
                sg_sbuf_printf(&at, "(%s + %s * %s * %s) / %s", y->pool, y->pool_ratio, x->id,
                               im->syms[x->comp].id, im->syms[y->comp].id);
            /* The fast reaction reaches its equilibrium at the start, not
             * before: a delay that reaches back before time 0 (SBML's start)
             * reads the species' own starting value there (the SBML Test
             * Suite's 01539: delay(S1, 1.5) is S1's initial 2, not the
             * equilibrium's 0). Only delay models get the guard. */
            if (delays < 0)
                delays = model_has_delay(im->model);
            char *start = at.oom || !delays ? NULL : amount_at_start(im, y);
            if (start) {
                /* start is an amount, with or without hasOnlySubstanceUnits:
                 * sigode holds the concentration, the amount / size */
                sg_sbuf guarded = {0};
                sg_sbuf_printf(&guarded, "if(time < 0, %s / %s, %s)", start,
                               im->syms[y->comp].id, at.s);
                im->wrote_start_guard = 1;
                sg_free(start);
                sg_sbuf_free(&at);
                at = guarded;
            }
            if (at.oom || !at.s) {
                sg_sbuf_free(&at);
                return nomem(im);
            }
            add_string(b, at.s);
            sg_sbuf_free(&at);
            add_sbml_id(b, y);
            sg_sbuf_add(b, "; description = \"at the quasi-equilibrium of a fast reaction\"; }");
            continue;
        }
        if (!y->assign_rule)
            continue;
        char what[300];
        snprintf(what, sizeof what, "the assignment rule for '%s'", y->id);
        char *text = math_text(im, y->assign_rule, y->rule_obj, NULL, what);
        if (!text)
            return -1;
        sg_sbuf_add(b, any++ ? ",\n" : "\nassignments = (\n");
        sg_sbuf_printf(b, "  { id = \"%s\"; value = ", y->id);
        add_converted(im, b, y, text);
        if (y->kind == K_PARAMETER && Parameter_isSetUnits((const Parameter_t *)y->obj))
            add_unit(im, b, Parameter_getUnits((const Parameter_t *)y->obj));
        add_labels(b, y->obj, 0, 0);
        add_sbml_id(b, y);
        sg_sbuf_add(b, "; }");
        sg_free(text);
    }
    if (any)
        sg_sbuf_add(b, "\n);\n");
    return im->failed ? -1 : 0;
}

static int add_term(importer *im, sg_sbuf *b, int *first, double coef, const char *species)
{
    if (!*first)
        sg_sbuf_add(b, " + ");
    *first = 0;
    if (coef != 1.0) {
        char num[40];
        sg_format_double(num, sizeof num, coef);
        sg_sbuf_printf(b, "%s ", num);
    }
    sg_sbuf_add(b, species);
    return 0;
}

/* Adds reaction rid's share of species s's change (amount per time) to
 * s->flux: coefficient x rate x conversion factor, the coefficient negative
 * for a reactant. */
static int add_flux(importer *im, sg_sbuf *f, sym *s, const SpeciesReference_t *sr,
                    int product, const char *rate, const char *rid)
{
    sg_sbuf_add(f, f->len ? " + " : "");
    if (!product)
        sg_sbuf_add(f, "-");
    sym *ref = SpeciesReference_isSetId(sr) ? find(im, SpeciesReference_getId(sr)) : NULL;
    if (SpeciesReference_isSetStoichiometryMath(sr)) {
        const StoichiometryMath_t *sm =
            SpeciesReference_getStoichiometryMath((SpeciesReference_t *)sr);
        char what[300];
        snprintf(what, sizeof what, "the stoichiometryMath of '%s' in reaction '%s'", s->id,
                 rid);
        char *text = math_text(im, StoichiometryMath_getMath(sm), sm, NULL, what);
        if (!text)
            return -1;
        sg_sbuf_printf(f, "(%s)", text);
        sg_free(text);
    } else if (ref && ref->kind == K_SPECIESREF && ref->variable_stoich) {
        sg_sbuf_add(f, ref->id);
    } else {
        double c = ref && ref->kind == K_SPECIESREF ? ref->stoich
                                                    : SpeciesReference_getStoichiometry(sr);
        if (!isfinite(c) || (im->level >= 3 && !SpeciesReference_isSetStoichiometry(sr) &&
                             !(ref && ref->kind == K_SPECIESREF)))
            return fail(im, sr, "reaction '%s': the stoichiometry of '%s' is not set or not "
                                "finite", rid, s->id);
        sg_sbuf_add(f, "(");
        sg_sbuf_number(f, c);
        sg_sbuf_add(f, ")");
    }
    sg_sbuf_printf(f, " * (%s)", rate);
    if (s->conversion) {
        sym *cf = find(im, s->conversion);
        if (!cf || cf->kind != K_PARAMETER)
            return fail(im, s->obj, "species '%s': the conversion factor '%s' is not a "
                                    "parameter", s->id, s->conversion);
        sg_sbuf_printf(f, " * %s", cf->id);
    }
    return f->oom ? nomem(im) : 0;
}

/* rateOf(x): the rate of change of x as the model defines it. A rate rule
 * gives it; a species changed by reactions has the sum of coefficient x
 * rate (x conversion factor), divided by the size for a concentration; what
 * no rule and no reaction changes (events only) has rate 0. Refused: an
 * assignment-rule target (it would need the derivative of the rule) and a
 * species of a compartment that changes size. */
static void emit_rate_of(importer *im, sg_sbuf *b, const ASTNode_t *n, const scope *sc)
{
    const ASTNode_t *arg = ASTNode_getNumChildren(n) == 1 ? ASTNode_getChild(n, 0) : NULL;
    const char *name = arg && ASTNode_getType(arg) == AST_NAME ? ASTNode_getName(arg) : NULL;
    for (const scope *s = sc; s && name; s = s->up) {
        for (int i = 0; i < s->nargs; i++)
            if (strcmp(s->names[i], name) == 0) {
                fail(im, NULL, "rateOf of the function argument '%s' (not supported)", name);
                return;
            }
        if (s->nargs > 0)
            break;
    }
    for (const scope *s = sc; s && name; s = s->up)
        if (s->reaction) {
            if (local_name(im, s->reaction, name)) {
                sg_sbuf_add(b, "0"); /* a local parameter never changes */
                return;
            }
            break;
        }
    sym *y = name ? find(im, name) : NULL;
    if (!y || y->kind == K_REACTION || y->kind == K_FUNCTION) {
        fail(im, NULL, "rateOf needs the id of a species, compartment, parameter or "
                       "stoichiometry");
        return;
    }
    if (y->assign_rule || y->fast) {
        fail(im, NULL, "rateOf('%s'): '%s' is set by an assignment rule, whose rate sigode "
                       "does not derive (not supported)", y->id, y->id);
        return;
    }
    if (im->depth > 50) {
        fail(im, NULL, "rateOf('%s') refers to itself", y->id);
        return;
    }
    im->depth++;
    /* Inside delay(x, tau): before the start every value keeps its initial
     * value, so its rate is 0 (the SBML Test Suite's reading, 01401, 01403,
     * 01406: delay(rateOf(S1), 1) is 0 at t = 0). SBML's run starts at time
     * 0; the delay reads x at times before it through the program run at
     * that earlier time (compile/delay.c), where this guard gives 0. */
    if (im->in_delay) {
        sg_sbuf_add(b, "if(time < 0, 0, ");
        im->wrote_start_guard = 1;
    }
    if (y->rate_rule) {
        sg_sbuf_add(b, "(");
        emit(im, b, y->rate_rule, NULL);
        sg_sbuf_add(b, ")");
    } else if (y->kind == K_SPECIES && !y->boundary && !y->constant) {
        if (im->syms[y->comp].varies) {
            fail(im, NULL, "rateOf('%s'): a species in a compartment that changes size "
                           "(not supported)", y->id);
            im->depth--;
            return;
        }
        sg_sbuf sum = {0};
        Model_t *m = im->model;
        for (unsigned i = 0; i < Model_getNumReactions(m) && !im->failed; i++) {
            Reaction_t *r = Model_getReaction(m, i);
            KineticLaw_t *kl = Reaction_getKineticLaw(r);
            char *rate = NULL;
            for (int side = 0; side < 2 && !im->failed; side++) {
                unsigned nref = side ? Reaction_getNumProducts(r) : Reaction_getNumReactants(r);
                for (unsigned j = 0; j < nref && !im->failed; j++) {
                    SpeciesReference_t *sr = side ? Reaction_getProduct(r, j)
                                                  : Reaction_getReactant(r, j);
                    const char *sid = SpeciesReference_getSpecies(sr);
                    if (!sid || strcmp(sid, y->sbml) != 0)
                        continue;
                    if (!rate) {
                        char what[300];
                        snprintf(what, sizeof what, "the kinetic law of reaction '%s'",
                                 Reaction_getId(r));
                        rate = math_text(im, kl ? KineticLaw_getMath(kl) : NULL, r,
                                         Reaction_getId(r), what);
                        if (!rate)
                            break;
                    }
                    add_flux(im, &sum, y, sr, side, rate, Reaction_getId(r));
                }
            }
            sg_free(rate);
        }
        if (y->hosu)
            sg_sbuf_printf(b, "(%s)", sum.s ? sum.s : "0");
        else
            sg_sbuf_printf(b, "((%s) / %s)", sum.s ? sum.s : "0", im->syms[y->comp].id);
        if (sum.oom)
            b->oom = 1;
        sg_sbuf_free(&sum);
    } else {
        sg_sbuf_add(b, "0"); /* constant, or changed by events only */
    }
    if (im->in_delay)
        sg_sbuf_add(b, ")");
    im->depth--;
}

static int write_reactions(importer *im, sg_sbuf *b)
{
    Model_t *m = im->model;
    int any = 0;
    for (unsigned i = 0; i < Model_getNumReactions(m) && !im->failed; i++) {
        Reaction_t *r = Model_getReaction(m, i);
        const char *rid = Reaction_getId(r);
        if (r == im->fast_reaction)
            continue; /* at its quasi-equilibrium (plan_fast) */
        KineticLaw_t *kl = Reaction_getKineticLaw(r);
        if (!kl || !KineticLaw_getMath(kl))
            return fail(im, r, "reaction '%s' has no kinetic law", rid);
        char what[300];
        snprintf(what, sizeof what, "the kinetic law of reaction '%s'", rid);
        char *rate = math_text(im, KineticLaw_getMath(kl), kl, rid, what);
        if (!rate)
            return -1;
        /* the equation: boundary species left out, negative coefficients moved over */
        sg_sbuf left = {0}, right = {0};
        int lfirst = 1, rfirst = 1;
        for (int side = 0; side < 2; side++) {
            unsigned nref = side ? Reaction_getNumProducts(r) : Reaction_getNumReactants(r);
            for (unsigned j = 0; j < nref; j++) {
                SpeciesReference_t *sr = side ? Reaction_getProduct(r, j)
                                              : Reaction_getReactant(r, j);
                const char *sid = SpeciesReference_getSpecies(sr);
                sym *s = find(im, sid);
                if (!s || s->kind != K_SPECIES) {
                    sg_sbuf_free(&left);
                    sg_sbuf_free(&right);
                    sg_free(rate);
                    return fail(im, sr, "reaction '%s': unknown species '%s'", rid,
                                sid ? sid : "");
                }
                if (s->by_rate_rule) {
                    if (add_flux(im, &s->flux, s, sr, side, rate, rid)) {
                        sg_sbuf_free(&left);
                        sg_sbuf_free(&right);
                        sg_free(rate);
                        return -1;
                    }
                    continue;
                }
                /* species whose stoichiometry changes are by_rate_rule: these
                 * are boundary species, which reactions do not change */
                if (SpeciesReference_isSetStoichiometryMath(sr))
                    continue;
                double c = SpeciesReference_getStoichiometry(sr);
                sym *ref = SpeciesReference_isSetId(sr) ? find(im, SpeciesReference_getId(sr))
                                                        : NULL;
                if (ref && ref->kind == K_SPECIESREF) {
                    if (ref->variable_stoich)
                        continue; /* a boundary species, as above */
                    c = ref->stoich;
                }
                if (im->level >= 3 && !SpeciesReference_isSetStoichiometry(sr) &&
                    !(ref && ref->kind == K_SPECIESREF)) {
                    sg_sbuf_free(&left);
                    sg_sbuf_free(&right);
                    sg_free(rate);
                    return fail(im, sr, "reaction '%s': the stoichiometry of '%s' is not set",
                                rid, sid);
                }
                if (!isfinite(c)) {
                    sg_sbuf_free(&left);
                    sg_sbuf_free(&right);
                    sg_free(rate);
                    return fail(im, sr, "reaction '%s': stoichiometry of '%s' is not finite",
                                rid, sid);
                }
                if (s->boundary || c == 0)
                    continue;
                if (s->constant) {
                    sg_sbuf_free(&left);
                    sg_sbuf_free(&right);
                    sg_free(rate);
                    return fail(im, sr, "reaction '%s' changes '%s', a constant species "
                                        "without boundaryCondition", rid, sid);
                }
                int to_right = side ? c > 0 : c < 0;
                if (to_right)
                    add_term(im, &right, &rfirst, fabs(c), sid);
                else
                    add_term(im, &left, &lfirst, fabs(c), sid);
            }
        }
        if (rate) {
            sg_sbuf_add(b, any++ ? ",\n" : "\nreactions = (\n");
            sg_sbuf_printf(b, "  { id = \"%s\"; equation = \"%s%s%s%s%s\";\n    rate = ", rid,
                           left.s ? left.s : "", left.s ? " " : "",
                           Reaction_getReversible(r) ? "<->" : "->", right.s ? " " : "",
                           right.s ? right.s : "");
            add_string(b, rate);
            add_labels(b, r, 0, 0);
            sg_sbuf_add(b, "; }");
            if (left.oom || right.oom)
                b->oom = 1;
        }
        sg_free(rate);
        sg_sbuf_free(&left);
        sg_sbuf_free(&right);
    }
    if (any)
        sg_sbuf_add(b, "\n);\n");
    return im->failed ? -1 : 0;
}

static int write_rate_rules(importer *im, sg_sbuf *b)
{
    int any = 0;
    for (size_t i = 0; i < im->nsyms && !im->failed; i++) {
        sym *y = &im->syms[i];
        if (y->solved && im->fast_free) { /* the pivot's amount while off */
            sg_sbuf_add(b, any++ ? ",\n" : "\nrate_rules = (\n");
            sg_sbuf_printf(b, "  { id = \"%s\"; rate = \"%s\"; }", im->fast_free,
                           y->flux.s ? y->flux.s : "0");
            continue;
        }
        if (y->fast) { /* a pool's change by the slow reactions (plan_fast) */
            const sym *x = fast_pivot(im);
            if (!y->pool || !x)
                continue;
            sg_sbuf_add(b, any++ ? ",\n" : "\nrate_rules = (\n");
            sg_sbuf_printf(b, "  { id = \"%s\"; rate = \"(%s) - %s * (%s)\"; }", y->pool,
                           y->flux.s ? y->flux.s : "0", y->pool_ratio,
                           x->flux.s ? x->flux.s : "0");
            continue;
        }
        if (y->by_rate_rule) { /* the reactions' sum (plan_species) */
            sg_sbuf_add(b, any++ ? ",\n" : "\nrate_rules = (\n");
            const char *flux = y->flux.s ? y->flux.s : "0";
            if (y->amount)
                sg_sbuf_printf(b, "  { id = \"%s\"; rate = ", y->amount);
            else
                sg_sbuf_printf(b, "  { id = \"%s\"; rate = ", y->id);
            sg_sbuf_add(b, "\"");
            if (y->amount)
                sg_sbuf_add(b, flux);
            else
                sg_sbuf_printf(b, "(%s) / %s", flux, im->syms[y->comp].id);
            sg_sbuf_add(b, "\"; }");
            continue;
        }
        if (!y->rate_rule)
            continue;
        char what[300];
        snprintf(what, sizeof what, "the rate rule for '%s'", y->id);
        char *text = math_text(im, y->rate_rule, y->rule_obj, NULL, what);
        if (!text)
            return -1;
        sg_sbuf_add(b, any++ ? ",\n" : "\nrate_rules = (\n");
        if (y->amount) { /* an amount per time: the amount's rate */
            sg_sbuf_printf(b, "  { id = \"%s\"; rate = ", y->amount);
            add_string(b, text);
        } else {
            sg_sbuf_printf(b, "  { id = \"%s\"; rate = ", y->id);
            add_converted(im, b, y, text);
        }
        sg_sbuf_add(b, "; }");
        sg_free(text);
    }
    if (any)
        sg_sbuf_add(b, "\n);\n");
    return im->failed ? -1 : 0;
}

/* The math event e assigns to id, or NULL. */
static const ASTNode_t *event_assigns(const Event_t *e, const char *id)
{
    for (unsigned j = 0; j < Event_getNumEventAssignments((Event_t *)e); j++) {
        const EventAssignment_t *ea = Event_getEventAssignment((Event_t *)e, j);
        const char *var = EventAssignment_getVariable(ea);
        if (var && strcmp(var, id) == 0 && EventAssignment_getMath(ea))
            return EventAssignment_getMath(ea);
    }
    return NULL;
}

/* An event that resizes the compartment of a species held as a
 * concentration parameter (as_species_parameter) keeps its amount: the new
 * concentration is (the assigned or current one) x old size / new size,
 * every value taken before the event, as SBML assigns them. Adds the
 * assignments of such species that the event does not assign itself. */
static int add_resized_species(importer *im, sg_sbuf *b, const Event_t *e, const char *eid)
{
    for (size_t i = 0; i < im->nsyms; i++) {
        sym *y = &im->syms[i];
        if (!y->as_species_parameter || event_assigns(e, y->sbml))
            continue;
        const sym *c = &im->syms[y->comp];
        const ASTNode_t *size = event_assigns(e, c->sbml);
        if (!size)
            continue;
        char what[400];
        snprintf(what, sizeof what, "the assignment to '%s' of event '%s'", c->id, eid);
        char *text = math_text(im, size, e, NULL, what);
        if (!text)
            return -1;
        sg_sbuf_printf(b, " %s = \"%s * %s / (%s)\";", y->id, y->id, c->id, text);
        sg_free(text);
    }
    return 0;
}

/* An event that sets species of the fast reaction or the stoichiometry of
 * one (01398): its new amounts n' (assigned, or as they were) and its new
 * stoichiometries make new pools, n'_Y - (nu'_Y / nu'_X) n'_X, from which
 * the quasi-equilibrium is solved again at once (the fast reaction runs to
 * it in no time). The values are computed when the event executes: an
 * event with a delay that uses the values from its trigger time would mix
 * the assigned values of then with the amounts of now, refused. */
static int fast_event_pools(importer *im, sg_sbuf *b, const Event_t *e, const char *eid,
                            int delayed_from_trigger)
{
    const sym *x = fast_pivot(im);
    int touches = 0;
    for (size_t i = 0; x && i < im->nsyms; i++) {
        const sym *y = &im->syms[i];
        touches |= y->fast && (event_assigns(e, y->sbml) ||
                               (y->fast_ref && event_assigns(e, y->fast_ref->sbml)));
    }
    if (!touches)
        return 0;
    if (im->fast_free)
        return fail(im, e, "event '%s' changes a species or stoichiometry of fast reaction "
                           "'%s', which events also switch (not supported)", eid,
                    Reaction_getId(im->fast_reaction));
    if (delayed_from_trigger)
        return fail(im, e, "event '%s' changes a species or stoichiometry of fast reaction "
                           "'%s' after a delay, with values from its trigger time (not "
                           "supported)", eid, Reaction_getId(im->fast_reaction));
    char what[400];
    snprintf(what, sizeof what, "an assignment of event '%s'", eid);
    /* per fast species: new amount and new scaled stoichiometry */
    char **amount = sg_calloc(im->nsyms, sizeof *amount);
    char **scaled = sg_calloc(im->nsyms, sizeof *scaled);
    if (!amount || !scaled) {
        sg_free(amount);
        sg_free(scaled);
        return nomem(im);
    }
    for (size_t i = 0; i < im->nsyms && !im->failed; i++) {
        const sym *y = &im->syms[i];
        if (!y->fast)
            continue;
        const char *size = im->syms[y->comp].id;
        sg_sbuf a = {0}, c = {0};
        const ASTNode_t *v = event_assigns(e, y->sbml);
        char *text = v ? math_text(im, v, e, NULL, what) : NULL;
        if (v && !text)
            break;
        if (!v)
            sg_sbuf_printf(&a, "(%s * %s)", y->id, size);
        else if (y->hosu)
            sg_sbuf_printf(&a, "(%s)", text);
        else
            sg_sbuf_printf(&a, "((%s) * %s)", text, size);
        sg_free(text);
        const ASTNode_t *nu = y->fast_ref ? event_assigns(e, y->fast_ref->sbml) : NULL;
        text = nu ? math_text(im, nu, e, NULL, what) : NULL;
        if (nu && !text) {
            sg_sbuf_free(&a);
            break;
        }
        if (nu)
            sg_sbuf_printf(&c, "(%s(%s))", y->fast_sign < 0 ? "-" : "", text);
        else
            sg_sbuf_add(&c, y->fast_scaled);
        sg_free(text);
        if (a.oom || c.oom) {
            sg_sbuf_free(&a);
            sg_sbuf_free(&c);
            nomem(im);
            break;
        }
        amount[i] = a.s;
        scaled[i] = c.s;
    }
    size_t xi = (size_t)(x - im->syms);
    for (size_t i = 0; i < im->nsyms && !im->failed; i++) {
        const sym *y = &im->syms[i];
        if (!y->fast || !y->pool)
            continue;
        sg_sbuf_printf(b, " %s = \"%s - (%s / %s) * %s\";", y->pool, amount[i], scaled[i],
                       scaled[xi], amount[xi]);
    }
    for (size_t i = 0; i < im->nsyms; i++) {
        sg_free(amount[i]);
        sg_free(scaled[i]);
    }
    sg_free(amount);
    sg_free(scaled);
    return im->failed ? -1 : 0;
}

static int write_events(importer *im, sg_sbuf *b)
{
    Model_t *m = im->model;
    int any = 0;
    for (unsigned i = 0; i < Model_getNumEvents(m); i++) {
        Event_t *e = Model_getEvent(m, i);
        if (!Event_getTrigger(e) || !Trigger_getMath(Event_getTrigger(e)))
            sg_sbuf_printf(b, "\n# SBML event %u%s%s has no trigger: it never fires.\n",
                           i + 1, Event_isSetId(e) ? " " : "",
                           Event_isSetId(e) ? Event_getId(e) : "");
    }
    for (unsigned i = 0; i < Model_getNumEvents(m) && !im->failed; i++) {
        Event_t *e = Model_getEvent(m, i);
        char eid[300];
        if (Event_isSetId(e) && *Event_getId(e))
            snprintf(eid, sizeof eid, "%s", Event_getId(e));
        else
            snprintf(eid, sizeof eid, "event_%u", i + 1);
        if (!Event_getTrigger(e) || !Trigger_getMath(Event_getTrigger(e)))
            continue;
        unsigned effective = 0;
        for (unsigned j = 0; j < Event_getNumEventAssignments(e); j++)
            effective += EventAssignment_getMath(Event_getEventAssignment(e, j)) != NULL;
        if (effective == 0) {
            /* nothing to assign (legal SBML; an assignment without math is
             * ignored): the event changes nothing whenever it fires */
            sg_sbuf_printf(b, "\n# SBML event %s assigns nothing: left out.\n", eid);
            continue;
        }
        Trigger_t *tr = Event_getTrigger(e);
        if (!tr || !Trigger_getMath(tr))
            return fail(im, e, "event '%s' has no trigger", eid);
        char what[400];
        snprintf(what, sizeof what, "the trigger of event '%s'", eid);
        char *trigger = math_text(im, Trigger_getMath(tr), tr, NULL, what);
        if (!trigger)
            return -1;
        sg_sbuf_add(b, any++ ? ",\n" : "\nevents = (\n");
        sg_sbuf_printf(b, "  { id = \"%s\"", eid);
        add_labels(b, e, 0, 0);
        sg_sbuf_add(b, "; trigger = ");
        add_string(b, trigger);
        sg_free(trigger);
        int persistent = !Trigger_isSetPersistent(tr) || Trigger_getPersistent(tr);
        int initial = !Trigger_isSetInitialValue(tr) || Trigger_getInitialValue(tr);
        int from_trigger = !Event_isSetUseValuesFromTriggerTime(e) ||
                           Event_getUseValuesFromTriggerTime(e);
        sg_sbuf_printf(b, ";\n    persistent = %s; initial_value = %s; "
                          "use_values_from_trigger_time = %s;",
                       persistent ? "true" : "false", initial ? "true" : "false",
                       from_trigger ? "true" : "false");
        /* a delay (read when the event fires) and a priority (among events
         * due at one time): expressions the simulation evaluates */
        const ASTNode_t *delay = Event_isSetDelay(e) ? Delay_getMath(Event_getDelay(e)) : NULL;
        const ASTNode_t *priority =
            Event_isSetPriority(e) ? Priority_getMath(Event_getPriority(e)) : NULL;
        for (int which = 0; which < 2; which++) {
            const ASTNode_t *math = which ? priority : delay;
            if (!math)
                continue;
            snprintf(what, sizeof what, "the %s of event '%s'", which ? "priority" : "delay",
                     eid);
            char *text = math_text(im, math, which ? (const void *)Event_getPriority(e)
                                                   : (const void *)Event_getDelay(e),
                                   NULL, what);
            if (!text)
                return -1;
            sg_sbuf_printf(b, " %s = ", which ? "priority" : "delay");
            add_string(b, text);
            sg_sbuf_add(b, ";");
            sg_free(text);
        }
        sg_sbuf_add(b, "\n    assign = {");
        for (unsigned j = 0; j < Event_getNumEventAssignments(e); j++) {
            EventAssignment_t *ea = Event_getEventAssignment(e, j);
            const char *var = EventAssignment_getVariable(ea);
            if (!EventAssignment_getMath(ea))
                continue; /* L3V2: ignored */
            sym *y = find(im, var);
            if (!y || (y->kind != K_SPECIES && y->kind != K_PARAMETER &&
                       y->kind != K_COMPARTMENT && y->kind != K_SPECIESREF))
                return fail(im, ea, "event '%s' assigns to '%s', which is not a species, "
                                    "parameter, compartment or stoichiometry", eid,
                            var ? var : "");
            if (var[0] == '_')
                return fail(im, ea, "event '%s' assigns to '%s': an id starting with '_' "
                                    "cannot be a libconfig setting name", eid, var);
            if (y->fast)
                continue; /* through the pools (fast_event_pools) */
            snprintf(what, sizeof what, "the assignment to '%s' of event '%s'", var, eid);
            char *text = math_text(im, EventAssignment_getMath(ea), ea, NULL, what);
            if (!text)
                return -1;
            if (y->amount && y->hosu) {
                sg_sbuf_printf(b, " %s = ", y->amount);
                add_string(b, text);
            } else if (y->amount) { /* a concentration: amount = [S] x size */
                sg_sbuf_printf(b, " %s = \"(%s) * %s\"", y->amount, text,
                               im->syms[y->comp].id);
            } else if (y->as_species_parameter &&
                       event_assigns(e, im->syms[y->comp].sbml)) {
                const sym *c = &im->syms[y->comp];
                char *size = math_text(im, event_assigns(e, c->sbml), ea, NULL, what);
                if (!size) {
                    sg_free(text);
                    return -1;
                }
                sg_sbuf_printf(b, " %s = \"(%s) * %s / (%s)\"", y->id, text, c->id, size);
                sg_free(size);
            } else {
                sg_sbuf_printf(b, " %s = ", y->id);
                add_converted(im, b, y, text);
            }
            sg_sbuf_add(b, ";");
            sg_free(text);
        }
        if (add_resized_species(im, b, e, eid) ||
            fast_event_pools(im, b, e, eid, delay != NULL && from_trigger))
            return -1;
        sg_sbuf_add(b, " }; }");
    }
    if (im->fast_off) {
        /* The switch changed: the flag follows. Turning off, the pivot keeps
         * the equilibrium's amount and moves on with the slow reactions
         * (fast_switch). The flag, not the switch, picks the pivot's value,
         * so between the event that sets the switch to 0 and this one the
         * pivot still reads the equilibrium, never a stale amount. */
        const sym *x = fast_pivot(im);
        sg_sbuf t = {0};
        sg_sbuf_printf(&t, "(%s) * %s", x->solved, im->syms[x->comp].id);
        if (t.oom)
            return nomem(im);
        for (int on = 1; on >= 0; on--) {
            sg_sbuf_add(b, any++ ? ",\n" : "\nevents = (\n");
            sg_sbuf_printf(b, "  { id = \"%s\"; description = \"fast reaction %s turns %s\"; "
                              "trigger = \"abs(%s) %s ", on ? im->fast_on : im->fast_off,
                           Reaction_getId(im->fast_reaction), on ? "on" : "off",
                           im->fast_switch->id, on ? ">" : "<");
            sg_sbuf_number(b, im->fast_half);
            sg_sbuf_printf(b, "\";\n    persistent = true; initial_value = true; "
                              "use_values_from_trigger_time = false;\n    assign = { %s = %d;",
                           im->fast_flag, on);
            if (!on) {
                sg_sbuf_printf(b, " %s = ", im->fast_free);
                add_string(b, t.s);
                sg_sbuf_add(b, ";");
            }
            sg_sbuf_add(b, " }; }");
        }
        sg_sbuf_free(&t);
    }
    if (any)
        sg_sbuf_add(b, "\n);\n");
    return im->failed ? -1 : 0;
}

/* Refuses what would change the simulation and is not translated. */
static int check_unsupported(importer *im, SBMLDocument_t *doc)
{
    Model_t *m = im->model;
    if (SBMLDocument_isSetPackageRequired(doc, "fbc"))
        return fail(im, m, "a flux-balance model (SBML package 'fbc'): its fluxes come from "
                           "a linear program, and sigode has no LP solver (not supported)");
    const XMLNamespaces_t *ns = SBMLDocument_getNamespaces(doc);
    for (int i = 0; ns && i < XMLNamespaces_getLength(ns); i++) {
        char *prefix = XMLNamespaces_getPrefix(ns, i);
        /* layout and render draw the network: they never change a simulation */
        int required = im->level >= 3 && prefix && *prefix && strcmp(prefix, "layout") &&
                       strcmp(prefix, "render") &&
                       SBMLDocument_isSetPackageRequired(doc, prefix) &&
                       SBMLDocument_getPackageRequired(doc, prefix);
        if (required) {
            int rc = fail(im, NULL, "the model requires the SBML package '%s': not supported",
                          prefix);
            free(prefix);
            return rc;
        }
        free(prefix);
    }
    return 0;
}

/* A model made of submodels (the SBML 'comp' package) becomes one flat
 * model through libsbml's CompFlatteningConverter; the rest of the import
 * sees only the flat model. Returns 0, or -1 with err set. */
static int flatten_comp(SBMLDocument_t *doc, const char *path, sg_error *err)
{
    if (!SBMLDocument_isSetPackageRequired(doc, "comp"))
        return 0;
    ConversionProperties_t *props = ConversionProperties_create();
    ConversionOption_t *opt = props ? ConversionOption_createWithKeyAndType("flatten comp",
                                                                         CNV_TYPE_BOOL)
                                    : NULL;
    if (!opt) {
        ConversionProperties_free(props);
        sg_error_nomem(err);
        return -1;
    }
    ConversionOption_setBoolValue(opt, 1);
    ConversionProperties_addOption(props, opt);
    ConversionOption_free(opt);
    /* the flat model need not keep the submodels' ports */
    ConversionProperties_addOptionWithKey(props, "leave_ports");
    ConversionProperties_setBoolValue(props, "leave_ports", 0);
    int rc = SBMLDocument_convert(doc, props);
    ConversionProperties_free(props);
    if (rc == LIBSBML_OPERATION_SUCCESS)
        return 0;
    char msg[400] = "";
    for (unsigned i = 0; i < SBMLDocument_getNumErrors(doc); i++) {
        const XMLError_t *e = (const XMLError_t *)SBMLDocument_getError(doc, i);
        if (XMLError_isError(e) || XMLError_isFatal(e)) {
            snprintf(msg, sizeof msg, ": %s", XMLError_getMessage(e));
            for (char *p = msg; *p; p++)
                if (*p == '\n')
                    *p = ' ';
            break;
        }
    }
    sg_error_set(err, SG_ERR_MODEL, path, 0, 0,
                 "the 'comp' model could not be flattened into one model (libsbml code %d)%s",
                 rc, msg);
    return -1;
}

char *sg_sbml_translate(const char *path, int *cacheable, sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    FILE *f = fopen(path, "rb");
    if (!f) {
        sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot open SBML file: %s", strerror(errno));
        return NULL;
    }
    fclose(f);
    SBMLDocument_t *doc = readSBMLFromFile(path);
    if (!doc) {
        sg_error_nomem(err);
        return NULL;
    }
    for (unsigned i = 0; i < SBMLDocument_getNumErrors(doc); i++) {
        const SBMLError_t *e = SBMLDocument_getError(doc, i);
        if (XMLError_isError((const XMLError_t *)e) || XMLError_isFatal((const XMLError_t *)e)) {
            char msg[600];
            snprintf(msg, sizeof msg, "%s", XMLError_getMessage((const XMLError_t *)e));
            for (char *p = msg; *p; p++)
                if (*p == '\n')
                    *p = ' ';
            size_t n = strlen(msg);
            while (n && msg[n - 1] == ' ')
                msg[--n] = '\0';
            sg_error_set(err, SG_ERR_MODEL, path, (int)XMLError_getLine((const XMLError_t *)e),
                         0, "not valid SBML: %s", msg);
            SBMLDocument_free(doc);
            return NULL;
        }
    }
    /* a 'comp' model may take submodels from other files, which the cache
     * key (this file's content) does not cover */
    if (cacheable)
        *cacheable = !SBMLDocument_isSetPackageRequired(doc, "comp");
    if (flatten_comp(doc, path, err)) {
        SBMLDocument_free(doc);
        return NULL;
    }
    importer im;
    memset(&im, 0, sizeof im);
    im.path = path;
    im.err = err;
    im.model = SBMLDocument_getModel(doc);
    im.level = SBMLDocument_getLevel(doc);
    im.version = SBMLDocument_getVersion(doc);
    sg_map_init(&im.index);
    sg_sbuf b = {0};
    if (!im.model) {
        fail(&im, NULL, "the SBML document has no model");
    } else if (im.level < 2) {
        fail(&im, NULL, "SBML Level %u is not supported (Level 2 and 3 are)", im.level);
    } else if (check_unsupported(&im, doc) == 0 && collect(&im) == 0 &&
               collect_locals(&im) == 0 && collect_rules(&im) == 0 &&
               plan_species(&im) == 0 && plan_fast(&im) == 0) {
        header(&im, &b, doc);
        if (Model_getNumConstraints(im.model) > 0)
            sg_sbuf_printf(&b, "# %u constraint(s) of the SBML model are not checked.\n",
                           Model_getNumConstraints(im.model));
        if (write_compartments(&im, &b) == 0 && write_parameters(&im, &b) == 0 &&
            write_species(&im, &b) == 0 && write_assignments(&im, &b) == 0 &&
            write_reactions(&im, &b) == 0 && write_rate_rules(&im, &b) == 0 &&
            write_events(&im, &b) == 0) {
            if (im.inlined_functions)
                sg_sbuf_printf(&b, "\n# %d call(s) of SBML function definitions were inlined.\n",
                               im.inlined_functions);
            if (im.evaluated)
                sg_sbuf_printf(&b, "# %d initial assignment(s) were evaluated at import.\n",
                               im.evaluated);
            /* SBML's runs start at time 0: the guards read "before the
             * start" as time < 0, which holds for no other start */
            if (im.wrote_start_guard)
                sg_sbuf_add(&b, "\n# delay() reads the values before time 0 as SBML's "
                                "starting values (time < 0):\nruns_from_zero = true;\n");
        }
    }
    if (b.oom)
        nomem(&im);
    for (size_t i = 0; i < im.nsyms; i++) {
        sg_free(im.syms[i].amount);
        sg_free(im.syms[i].renamed);
        sg_free(im.syms[i].solved);
        sg_free(im.syms[i].pool);
        sg_free(im.syms[i].pool_ratio);
        sg_free(im.syms[i].pool_start);
        sg_free(im.syms[i].fast_scaled);
        sg_sbuf_free(&im.syms[i].flux);
    }
    for (size_t i = 0; i < im.nlocals; i++)
        sg_free(im.locals[i].name);
    for (size_t i = 0; i < im.nowned; i++)
        ASTNode_free(im.owned[i]);
    sg_free(im.owned);
    sg_free(im.fast_free);
    sg_free(im.fast_free_start);
    sg_free(im.fast_off);
    sg_free(im.fast_on);
    sg_free(im.fast_flag);
    sg_free(im.algebraic);
    sg_free(im.locals);
    sg_free(im.syms);
    sg_map_clear(&im.index);
    SBMLDocument_free(doc);
    if (im.failed) {
        sg_sbuf_free(&b);
        return NULL;
    }
    return b.s;
}

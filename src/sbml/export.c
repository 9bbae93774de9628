/*
 * SBML export: a loaded model -> SBML Level 3 Version 2.
 *
 *   compartments -> compartments (constant size; the implicit one too)
 *   parameters   -> parameters (constant unless a rate rule or event changes them)
 *   species      -> species in concentration (hasOnlySubstanceUnits false);
 *                   a constant species is a boundary species
 *   assignments  -> parameters with assignment rules
 *   reactions    -> reactions with the net stoichiometry; the rate is the
 *                   kinetic law (amount per time in both); species used only
 *                   in the rate are modifiers
 *   rate_rules, initial-value expressions, events -> rate rules, initial
 *                   assignments, events
 *   scenarios, checks -> dropped (SBML has no place for them)
 * Math comes from the bound expressions (user functions already inlined,
 * constants folded), so the SBML computes exactly what sigode computes.
 * Booleans and numbers are kept apart as SBML wants: a comparison used as a
 * number becomes piecewise(1, c, 0), a number used as a condition x != 0.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sbml/SBMLTypes.h>

#include "../model/model.h"
#include "sbml.h"

typedef struct exporter {
    const sg_model *m;
    const char *default_comp; /* id of the implicit compartment */
    int implicit;
    sg_error *err;
    int failed;
    sg_map used;              /* SBML ids given so far (one namespace in SBML) */
    sg_arena *names;          /* ids made up to avoid a clash */
    double *exact;            /* numbers written as placeholders (exact()) */
    size_t nexact, exact_cap;
    sg_note_fn note;          /* told about units left undeclared, or NULL */
    void *note_ctx;
    const char *volume;       /* unit id of every compartment, or NULL */
} exporter;

/* libsbml writes doubles with 15 significant digits (XMLOutputStream): the
 * last bits are lost (0.33333333333333331 becomes 0.333333333333333) and the
 * largest double overflows to an invalid value. In MathML it also writes a
 * number whose text has an exponent as <cn type="e-notation"> m <sep/> e
 * </cn>, which its reader turns into m * 10^e, two roundings (1e23 comes
 * back one bit off). Such a number goes into the document as placeholder k,
 * a dyadic number whose text is short and unusual, and the written text
 * then gets its shortest exact decimal in place of the placeholder's
 * (exact_numbers()): <cn> 1e+23 </cn>, a real as SBML allows (the content of
 * an XML Schema double), read back with strtod. */
#define PLACEHOLDER_BASE 271828
#define PLACEHOLDER_MAX 90000000 /* the placeholder's text stays 15 digits */
static double placeholder(size_t k) { return PLACEHOLDER_BASE + (double)k + 23.0 / 128.0; }

/* A subnormal number (0 < |v| < DBL_MIN). libsbml's attribute reader calls
 * its text out of range (strtod's ERANGE) and refuses the document, so
 * export never writes one as text: it is y * 2^-1022 (subnormal_math()). */
static int is_subnormal(double v) { return v != 0 && fabs(v) < DBL_MIN; }

static double exact(exporter *ex, double v)
{
    char text[40];
    snprintf(text, sizeof text, "%.15g", v);
    if (!isfinite(v) || (strtod(text, NULL) == v && !strchr(text, 'e')))
        return v;
    if (ex->nexact >= PLACEHOLDER_MAX ||
        sg_grow(&ex->exact, &ex->exact_cap, ex->nexact + 1, sizeof *ex->exact) != 0) {
        if (!ex->failed && ex->nexact >= PLACEHOLDER_MAX)
            sg_error_set(ex->err, SG_ERR_MODEL, NULL, 0, 0,
                         "more than %d numbers to write exactly in SBML", PLACEHOLDER_MAX);
        else if (!ex->failed)
            sg_error_nomem(ex->err);
        ex->failed = 1;
        return v;
    }
    ex->exact[ex->nexact] = v;
    return placeholder(ex->nexact++);
}

static int token_end(char c) { return c == '"' || c == ' ' || c == '<'; }

/* The placeholder that `p` (the start of ".1796875" in text) ends, as its
 * k, or -1; *start is where its text begins. */
static long placeholder_at(const exporter *ex, const char *text, const char *p,
                           const char **start)
{
    const char *b = p;
    while (b > text && b[-1] >= '0' && b[-1] <= '9')
        b--;
    if (b == p || b == text || !(b[-1] == '"' || b[-1] == ' ' || b[-1] == '>') ||
        !token_end(p[8]) || p - b > 9)
        return -1;
    long n = strtol(b, NULL, 10) - PLACEHOLDER_BASE;
    if (n < 0 || (size_t)n >= ex->nexact)
        return -1;
    *start = b;
    return n;
}

/* The text with every placeholder replaced by its number (read back
 * bit-identical), in one pass. Frees `text`; NULL with err filled on
 * failure: each placeholder must be there once (a model that holds the
 * placeholder's text itself makes it ambiguous). */
static char *exact_numbers(exporter *ex, char *text)
{
    if (ex->nexact == 0)
        return text;
    static const char tail[] = ".1796875"; /* 23/128 in %.15g */
    unsigned char *seen = sg_calloc(ex->nexact, 1);
    sg_sbuf out = {0};
    const char *from = text;
    long bad = -1;
    for (const char *p = strstr(text, tail); p && seen && bad < 0; p = strstr(p + 1, tail)) {
        const char *start;
        long k = placeholder_at(ex, text, p, &start);
        if (k < 0)
            continue;
        if (seen[k]++)
            bad = k;
        char number[40];
        sg_format_double(number, sizeof number, ex->exact[k]);
        sg_sbuf_addn(&out, from, (size_t)(start - from));
        sg_sbuf_add(&out, number);
        from = p + strlen(tail);
    }
    sg_sbuf_add(&out, from);
    for (size_t k = 0; seen && k < ex->nexact && bad < 0; k++)
        if (!seen[k])
            bad = (long)k;
    sg_free(text);
    if (!seen || out.oom) {
        sg_free(seen);
        sg_sbuf_free(&out);
        sg_error_nomem(ex->err);
        return NULL;
    }
    sg_free(seen);
    if (bad >= 0) {
        char number[40];
        sg_format_double(number, sizeof number, ex->exact[bad]);
        sg_error_set(ex->err, SG_ERR_MODEL, NULL, 0, 0,
                     "could not write the number %s exactly in SBML (the model holds the "
                     "text %.15g)",
                     number, placeholder((size_t)bad));
        sg_sbuf_free(&out);
        return NULL;
    }
    return out.s;
}

/* An SBML id for `id` of a kind with its own namespace in sigode (the model
 * name, reactions, events): `id`, or `id_suffix`, `id_suffix2`, ... if taken. */
static const char *unique_id(exporter *ex, const char *id, const char *suffix)
{
    const char *name = id;
    char buf[300];
    for (int k = 1; sg_map_get(&ex->used, name) >= 0 || sg_map_get(&ex->m->symbols, name) >= 0;
         k++) {
        if (k == 1)
            snprintf(buf, sizeof buf, "%s_%s", id, suffix);
        else
            snprintf(buf, sizeof buf, "%s_%s%d", id, suffix, k);
        name = buf;
    }
    const char *kept = name == buf ? sg_arena_strdup(ex->names, buf) : id;
    if (!kept || sg_map_put(&ex->used, kept, 0) < 0) {
        ex->failed = 1;
        sg_error_nomem(ex->err);
        return id;
    }
    return kept;
}

static int fail(exporter *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(exporter *ex, const char *fmt, ...)
{
    if (ex->failed)
        return -1;
    ex->failed = 1;
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sg_error_set(ex->err, SG_ERR_MODEL, ex->m->path, 0, 0, "%s", msg);
    return -1;
}

/* ------------------------------------------------------------- math */

static int is_bool(const sg_expr *e)
{
    switch (e->kind) {
    case EX_LT: case EX_LE: case EX_GT: case EX_GE: case EX_EQ: case EX_NE:
    case EX_AND: case EX_OR: case EX_NOT:
        return 1;
    default:
        return 0;
    }
}

static ASTNode_t *node(ASTNodeType_t type) { return ASTNode_createWithType(type); }

/* <cn> v </cn> in `units` (NULL: none); -0 keeps its sign as a real. */
static ASTNode_t *cn(double v, const char *units)
{
    ASTNode_t *n;
    if (v == floor(v) && fabs(v) < 1e9 && !(v == 0 && signbit(v))) {
        n = node(AST_INTEGER);
        ASTNode_setInteger(n, (long)v);
    } else {
        n = node(AST_REAL);
        ASTNode_setReal(n, v);
    }
    if (units)
        ASTNode_setUnits(n, units);
    return n;
}

/* sigode's numbers are pure numbers: said so, libsbml's unit checks can
 * follow the expressions through them (and object where a number stands
 * for a quantity with a unit) */
static ASTNode_t *number(double v) { return cn(v, "dimensionless"); }

/* v as MathML that reads back bit-identical: a placeholder for exact
 * digits (exact()), and a subnormal v as y * 2^-1022 with y = v * 2^1022,
 * both normal numbers: scaling by a power of two is exact both ways, and
 * 2^-1022 (DBL_MIN) is an exact power in every libm. `units` is y's. */
static ASTNode_t *exact_math(exporter *ex, double v, const char *units)
{
    if (!is_subnormal(v))
        return cn(exact(ex, v), units);
    ASTNode_t *n = node(AST_TIMES), *p = node(AST_POWER);
    ASTNode_addChild(n, cn(exact(ex, ldexp(v, 1022)), units));
    ASTNode_addChild(p, number(2));
    ASTNode_addChild(p, number(-1022));
    ASTNode_addChild(n, p);
    return n;
}

/* The SBML id of a slot: its `sbml_id` when import renamed it ('time'). */
static const char *slot_id(const exporter *ex, int slot)
{
    if (ex->m->slot_kind[slot] == SG_SYM_COMPARTMENT && ex->implicit)
        return ex->default_comp;
    if (ex->m->slot_sbml_id[slot])
        return ex->m->slot_sbml_id[slot];
    return ex->m->slot_name[slot];
}

static ASTNode_t *to_ast(exporter *ex, const sg_expr *e, int want_bool);

static ASTNode_t *op2(exporter *ex, ASTNodeType_t type, const sg_expr *a, const sg_expr *b,
                      int bool_args)
{
    ASTNode_t *n = node(type);
    ASTNode_addChild(n, to_ast(ex, a, bool_args));
    ASTNode_addChild(n, to_ast(ex, b, bool_args));
    return n;
}

static ASTNode_t *numeric(exporter *ex, const sg_expr *e)
{
    const sg_model *m = ex->m;
    static const ASTNodeType_t fns[FN_COUNT] = {
        AST_FUNCTION_EXP, AST_FUNCTION_LN, AST_FUNCTION_LOG, AST_FUNCTION_ROOT,
        AST_FUNCTION_ABS, AST_FUNCTION_FLOOR, AST_FUNCTION_CEILING, AST_FUNCTION_SIN,
        AST_FUNCTION_COS, AST_FUNCTION_TAN, AST_FUNCTION_TANH, AST_FUNCTION_ARCSIN,
        AST_FUNCTION_ARCCOS, AST_FUNCTION_ARCTAN, AST_FUNCTION_FACTORIAL};
    ASTNode_t *n;
    switch (e->kind) {
    case EX_NUM:
        if (!isfinite(e->num)) {
            fail(ex, "a constant %g cannot be written in SBML", e->num);
            return number(0);
        }
        return exact_math(ex, e->num, "dimensionless");
    case EX_VAR:
        if (e->slot == m->time_slot) {
            n = node(AST_NAME_TIME);
            ASTNode_setName(n, "time");
            return n;
        }
        n = node(AST_NAME);
        if (e->slot < m->nslots && m->slot_name[e->slot])
            ASTNode_setName(n, slot_id(ex, e->slot));
        else
            fail(ex, "an expression refers to an internal value (slot %d)", e->slot);
        return n;
    case EX_NAME:
        n = node(AST_NAME);
        ASTNode_setName(n, e->name);
        return n;
    case EX_NEG:
        n = node(AST_MINUS);
        ASTNode_addChild(n, to_ast(ex, e->arg[0], 0));
        return n;
    case EX_ADD: return op2(ex, AST_PLUS, e->arg[0], e->arg[1], 0);
    case EX_SUB: return op2(ex, AST_MINUS, e->arg[0], e->arg[1], 0);
    case EX_MUL: return op2(ex, AST_TIMES, e->arg[0], e->arg[1], 0);
    case EX_DIV: return op2(ex, AST_DIVIDE, e->arg[0], e->arg[1], 0);
    case EX_POW: return op2(ex, AST_POWER, e->arg[0], e->arg[1], 0);
    case EX_MIN: return op2(ex, AST_FUNCTION_MIN, e->arg[0], e->arg[1], 0);
    case EX_MAX: return op2(ex, AST_FUNCTION_MAX, e->arg[0], e->arg[1], 0);
    case EX_FN:
        if (e->fn >= FN_COUNT) {
            fail(ex, "unknown function code %d", e->fn);
            return number(0);
        }
        n = node(fns[e->fn]);
        if (e->fn == FN_LOG10)
            ASTNode_addChild(n, number(10)); /* the log base */
        ASTNode_addChild(n, to_ast(ex, e->arg[0], 0));
        return n;
    case EX_DELAY:
        n = op2(ex, AST_FUNCTION_DELAY, e->arg[0], e->arg[1], 0);
        ASTNode_setName(n, "delay");
        return n;
    case EX_IF:
        n = node(AST_FUNCTION_PIECEWISE);
        ASTNode_addChild(n, to_ast(ex, e->arg[1], 0));
        ASTNode_addChild(n, to_ast(ex, e->arg[0], 1));
        ASTNode_addChild(n, to_ast(ex, e->arg[2], 0));
        return n;
    default:
        fail(ex, "an expression node of kind %d cannot be written in SBML", e->kind);
        return number(0);
    }
}

static ASTNode_t *boolean(exporter *ex, const sg_expr *e)
{
    ASTNode_t *n;
    switch (e->kind) {
    case EX_LT: return op2(ex, AST_RELATIONAL_LT, e->arg[0], e->arg[1], 0);
    case EX_LE: return op2(ex, AST_RELATIONAL_LEQ, e->arg[0], e->arg[1], 0);
    case EX_GT: return op2(ex, AST_RELATIONAL_GT, e->arg[0], e->arg[1], 0);
    case EX_GE: return op2(ex, AST_RELATIONAL_GEQ, e->arg[0], e->arg[1], 0);
    case EX_EQ: return op2(ex, AST_RELATIONAL_EQ, e->arg[0], e->arg[1], 0);
    case EX_NE: return op2(ex, AST_RELATIONAL_NEQ, e->arg[0], e->arg[1], 0);
    case EX_AND: return op2(ex, AST_LOGICAL_AND, e->arg[0], e->arg[1], 1);
    case EX_OR: return op2(ex, AST_LOGICAL_OR, e->arg[0], e->arg[1], 1);
    case EX_NOT:
        n = node(AST_LOGICAL_NOT);
        ASTNode_addChild(n, to_ast(ex, e->arg[0], 1));
        return n;
    default:
        return NULL;
    }
}

/* want_bool: the place needs a condition (SBML does not mix the two). */
static ASTNode_t *to_ast(exporter *ex, const sg_expr *e, int want_bool)
{
    if (is_bool(e)) {
        ASTNode_t *b = boolean(ex, e);
        if (want_bool)
            return b;
        ASTNode_t *n = node(AST_FUNCTION_PIECEWISE); /* 1 if b else 0 */
        ASTNode_addChild(n, number(1));
        ASTNode_addChild(n, b);
        ASTNode_addChild(n, number(0));
        return n;
    }
    ASTNode_t *x = numeric(ex, e);
    if (!want_bool)
        return x;
    if (e->kind == EX_NUM) { /* a constant condition */
        ASTNode_free(x);
        return node(e->num != 0 ? AST_CONSTANT_TRUE : AST_CONSTANT_FALSE);
    }
    ASTNode_t *n = node(AST_RELATIONAL_NEQ);
    ASTNode_addChild(n, x);
    ASTNode_addChild(n, number(0));
    return n;
}

/* ------------------------------------------------ names, notes, units */

static void note(exporter *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(exporter *ex, const char *fmt, ...)
{
    if (!ex->note)
        return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ex->note(ex->note_ctx, msg);
}

static void add_xml_text(sg_sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sg_sbuf_add(b, "&amp;"); break;
        case '<': sg_sbuf_add(b, "&lt;"); break;
        case '>': sg_sbuf_add(b, "&gt;"); break;
        case '"': sg_sbuf_add(b, "&quot;"); break;
        default: sg_sbuf_addn(b, s, 1);
        }
    }
}

/* `description` and `source` as XHTML paragraphs of the element's notes,
 * marked with a class so that import gives them back to the same fields. */
static void set_notes(exporter *ex, void *obj, const char *description, const char *source)
{
    int has_d = description && *description, has_s = source && *source;
    if (!has_d && !has_s)
        return;
    sg_sbuf b = {0};
    sg_sbuf_add(&b, "<body xmlns=\"http://www.w3.org/1999/xhtml\">");
    if (has_d) {
        sg_sbuf_add(&b, "<p class=\"" SG_NOTES_DESCRIPTION "\">");
        add_xml_text(&b, description);
        sg_sbuf_add(&b, "</p>");
    }
    if (has_s) {
        sg_sbuf_add(&b, "<p class=\"" SG_NOTES_SOURCE "\">");
        add_xml_text(&b, source);
        sg_sbuf_add(&b, "</p>");
    }
    sg_sbuf_add(&b, "</body>");
    if (b.oom)
        fail(ex, "out of memory");
    else if (SBase_setNotesString((SBase_t *)obj, b.s) != LIBSBML_OPERATION_SUCCESS)
        fail(ex, "the notes '%.60s' could not be written as XHTML", b.s);
    sg_sbuf_free(&b);
}

static void set_name(void *obj, const char *name)
{
    if (name && *name)
        SBase_setName((SBase_t *)obj, name);
}

/* A unit definition with id `id` for u, made on first use. */
static const char *define_unit(exporter *ex, Model_t *mod, const char *id, const sg_unit *u)
{
    if (!Model_getUnitDefinitionById(mod, id)) {
        UnitDefinition_t *d = Model_createUnitDefinition(mod);
        UnitDefinition_setId(d, id);
        if (u->nterms == 0) { /* a pure number, named by its words */
            Unit_t *un = UnitDefinition_createUnit(d);
            Unit_setKind(un, UNIT_KIND_DIMENSIONLESS);
            Unit_setExponent(un, 1);
            Unit_setScale(un, 0);
            Unit_setMultiplier(un, 1);
        }
        for (int k = 0; k < u->nterms; k++) {
            Unit_t *un = UnitDefinition_createUnit(d);
            Unit_setKind(un, (UnitKind_t)u->term[k].kind);
            Unit_setExponent(un, u->term[k].exponent);
            Unit_setScale(un, u->term[k].scale);
            Unit_setMultiplier(un, u->term[k].multiplier);
        }
    }
    const char *kept = sg_arena_strdup(ex->names, id);
    if (!kept && !ex->failed) {
        ex->failed = 1;
        sg_error_nomem(ex->err);
    }
    return kept;
}

/* The unit id for a sigode unit text, NULL (and a note) when sigode cannot
 * read it as units, NULL silently when there is none. times_volume: the
 * unit times the compartments' volume unit (a substance from a
 * concentration). */
static const char *unit_ref(exporter *ex, Model_t *mod, const char *text, const char *what,
                            int times_volume)
{
    if (!text || !*text)
        return NULL;
    sg_unit u, v;
    int molar_as_amount = ex->volume && strcmp(ex->volume, "dimensionless") == 0;
    if (sg_unit_parse(text, molar_as_amount, &u) != 0) {
        note(ex, "%s: unit '%s' is not one sigode can write as SBML units; left undeclared",
             what, text);
        return NULL;
    }
    if (u.nterms == 0 && (!strcmp(text, "1") || !strcmp(text, "dimensionless")))
        return "dimensionless";
    char id[700];
    sg_unit_id(text, &u, id, sizeof id);
    int combined = times_volume && ex->volume && strcmp(ex->volume, "dimensionless") != 0;
    if (combined) {
        const char *vtext = ex->m->compartments[0].unit;
        if (sg_unit_parse(vtext, 0, &v) != 0 || u.nterms + v.nterms > SG_UNIT_MAX_TERMS)
            return NULL;
        for (int k = 0; k < v.nterms; k++)
            u.term[u.nterms++] = v.term[k];
        size_t n = strlen(id);
        char vid[300];
        sg_unit_id(vtext, &v, vid, sizeof vid);
        snprintf(id + n, sizeof id - n, "_times_%s", vid + 5);
    }
    const char *ref = define_unit(ex, mod, id, &u);
    UnitDefinition_t *def = ref ? Model_getUnitDefinitionById(mod, ref) : NULL;
    if (def && !combined && !UnitDefinition_isSetName(def)) { /* the text, for import */
        UnitDefinition_setName(def, text);
    }
    return ref;
}

/* Model units: time, and substance = concentration x volume, where the
 * volume unit is the compartments' common `unit` (none: dimensionless, so
 * that a reaction rate, an amount per time, has the unit of a
 * concentration per time, as in sigode with sizes of 1). */
static void set_model_units(exporter *ex, Model_t *mod)
{
    const sg_model *m = ex->m;
    ex->volume = "dimensionless";
    for (int i = 0; i < m->ncompartments; i++)
        if (strcmp(m->compartments[i].unit, m->compartments[0].unit) != 0) {
            note(ex, "compartments have different units ('%s', '%s'): the model's substance "
                     "units are left undeclared",
                 m->compartments[0].unit, m->compartments[i].unit);
            ex->volume = NULL;
        }
    if (ex->volume && *m->compartments[0].unit) {
        char what[300];
        snprintf(what, sizeof what, "compartment '%s'", m->compartments[0].id);
        ex->volume = unit_ref(ex, mod, m->compartments[0].unit, what, 0);
    }
    const char *t = unit_ref(ex, mod, m->time_unit, "time_unit", 0);
    if (t)
        Model_setTimeUnits(mod, t);
    const char *c = ex->volume ? unit_ref(ex, mod, m->conc_unit, "conc_unit", 1) : NULL;
    if (c && ex->volume) {
        Model_setSubstanceUnits(mod, c);
        Model_setExtentUnits(mod, c);
        Model_setVolumeUnits(mod, ex->volume);
    }
}

/* --------------------------------------------------------------- model */

static int slot_changes(const sg_model *m, int slot)
{
    for (int i = 0; i < m->nrate_rules; i++)
        if (m->rate_rules[i].target_slot == slot)
            return 1;
    for (int i = 0; i < m->ntriggers; i++)
        for (int k = 0; k < m->triggers[i].nassigns; k++)
            if (m->triggers[i].assigns[k].slot == slot)
                return 1;
    return 0;
}

static int has_rate_rule(const sg_model *m, int slot)
{
    for (int i = 0; i < m->nrate_rules; i++)
        if (m->rate_rules[i].target_slot == slot)
            return 1;
    return 0;
}



static void mark_species(const sg_model *m, const sg_expr *e, unsigned char *used, int depth)
{
    if (!e || depth > 10000)
        return;
    if (e->kind == EX_VAR && e->slot < m->nslots && m->slot_kind[e->slot] == SG_SYM_SPECIES &&
        !used[m->slot_index[e->slot]])
        used[m->slot_index[e->slot]] = 1;
    for (int i = 0; i < e->nargs; i++)
        mark_species(m, e->arg[i], used, depth + 1);
}

static int lookup_species(void *ctx, const char *name, char *msg, size_t size)
{
    const sg_model *m = ctx;
    int slot = sg_map_get(&m->symbols, name);
    if (slot < 0 || m->slot_kind[slot] != SG_SYM_SPECIES) {
        snprintf(msg, size, "'%s' is not a species", name);
        return -1;
    }
    return m->slot_index[slot];
}

static int has_init(const sg_model *m, int slot)
{
    for (int i = 0; i < m->ninits; i++)
        if (m->inits[i].slot == slot)
            return 1;
    return 0;
}

/* The value attribute v of element `id` (a symbol of slot `slot`, or -1):
 * 1 and *out, the number to set (exact()); or 0, no attribute, for a
 * subnormal v, which becomes an initial assignment id = y * 2^-1022 with y
 * in `units` (unless the model's own initial-value expression for the slot
 * sets it). */
static int attribute_value(exporter *ex, Model_t *mod, const char *id, int slot, double v,
                           const char *units, double *out)
{
    if (!is_subnormal(v)) {
        *out = exact(ex, v);
        return 1;
    }
    if (slot >= 0 && has_init(ex->m, slot))
        return 0;
    InitialAssignment_t *ia = Model_createInitialAssignment(mod);
    InitialAssignment_setSymbol(ia, id);
    ASTNode_t *math = exact_math(ex, v, units);
    InitialAssignment_setMath(ia, math);
    ASTNode_free(math);
    return 0;
}

/* ------------------------------------- reactions in their own units */

/* SBML gives every kinetic law of a model one unit, extent per time (the
 * model's substance here). A reaction whose species all count in another
 * unit of their own (a species with its own `unit`, e.g. mRNA "relative to
 * baseline" in a model of nM) runs in that unit per time, which no kinetic
 * law may. Such a reaction is written as what it is: its rate, a parameter
 * with an assignment rule in (species unit) per time, and its species
 * change by a rate rule, d[S]/dt = sum of coefficient x rate / size, as
 * sigode computes them. A species also moved by ordinary reactions keeps
 * them all as reactions (and libsbml's unit check then says what it
 * thinks). `sunit[s]`: species s's own substance unit id, or NULL. */
static unsigned char *own_unit_reactions(exporter *ex, Model_t *mod, const char **sunit)
{
    const sg_model *m = ex->m;
    unsigned char *own = sg_calloc((size_t)m->nreactions + 1, 1);
    unsigned char *shared = sg_calloc((size_t)m->nspecies + 1, 1);
    if (!own || !shared) {
        sg_free(own);
        sg_free(shared);
        if (!ex->failed)
            ex->failed = 1, sg_error_nomem(ex->err);
        return NULL;
    }
    if (Model_isSetTimeUnits(mod) && Model_isSetExtentUnits(mod))
        for (int i = 0; i < m->nreactions; i++) {
            const sg_reaction_def *rd = &m->reactions[i];
            own[i] = rd->nterms > 0;
            for (int k = 0; k < rd->nterms && own[i]; k++) {
                int sp = rd->terms[k].species;
                own[i] = sunit[sp] && !strcmp(sunit[sp], sunit[rd->terms[0].species]) &&
                         !slot_changes(m, m->species[sp].slot);
            }
        }
    for (int changed = 1; changed;) { /* a species of an ordinary reaction keeps them all */
        changed = 0;
        for (int i = 0; i < m->nreactions; i++)
            for (int k = 0; k < m->reactions[i].nterms && !own[i]; k++)
                shared[m->reactions[i].terms[k].species] = 1;
        for (int i = 0; i < m->nreactions; i++)
            for (int k = 0; k < m->reactions[i].nterms && own[i]; k++)
                if (shared[m->reactions[i].terms[k].species]) {
                    own[i] = 0;
                    changed = 1;
                }
    }
    sg_free(shared);
    return own;
}

/* Copies the units of unit `id` (a definition or a base kind) into d, to
 * the power `sign`. */
static void add_units_of(Model_t *mod, UnitDefinition_t *d, const char *id, int sign)
{
    UnitDefinition_t *def = Model_getUnitDefinitionById(mod, id);
    unsigned n = def ? UnitDefinition_getNumUnits(def) : 1;
    for (unsigned i = 0; i < n; i++) {
        const Unit_t *from = def ? UnitDefinition_getUnit(def, i) : NULL;
        UnitKind_t kind = from ? Unit_getKind(from) : UnitKind_forName(id);
        if (kind == UNIT_KIND_INVALID || kind == UNIT_KIND_DIMENSIONLESS)
            continue;
        Unit_t *u = UnitDefinition_createUnit(d);
        Unit_setKind(u, kind);
        Unit_setExponentAsDouble(u, sign * (from ? Unit_getExponentAsDouble(from) : 1));
        Unit_setScale(u, from ? Unit_getScale(from) : 0);
        Unit_setMultiplier(u, from ? Unit_getMultiplier(from) : 1);
    }
    if (UnitDefinition_getNumUnits(d) == 0) { /* a pure number */
        Unit_t *u = UnitDefinition_createUnit(d);
        Unit_setKind(u, UNIT_KIND_DIMENSIONLESS);
        Unit_setExponent(u, 1);
        Unit_setScale(u, 0);
        Unit_setMultiplier(u, 1);
    }
}

/* The unit id of `substance` per model time, made on first use. */
static const char *per_time_unit(exporter *ex, Model_t *mod, const char *substance)
{
    char id[700];
    snprintf(id, sizeof id, "%s_per_%s", substance, Model_getTimeUnits(mod));
    if (!Model_getUnitDefinitionById(mod, id)) {
        UnitDefinition_t *d = Model_createUnitDefinition(mod);
        UnitDefinition_setId(d, id);
        add_units_of(mod, d, substance, 1);
        if (UnitDefinition_getNumUnits(d) == 1 &&
            Unit_getKind(UnitDefinition_getUnit(d, 0)) == UNIT_KIND_DIMENSIONLESS)
            Unit_free(UnitDefinition_removeUnit(d, 0)); /* removing hands it to us */
        add_units_of(mod, d, Model_getTimeUnits(mod), -1);
    }
    const char *kept = sg_arena_strdup(ex->names, id);
    if (!kept && !ex->failed)
        ex->failed = 1, sg_error_nomem(ex->err);
    return kept;
}

/* d[S]/dt = sum of coefficient x rate / size for each species moved by
 * reactions in their own units (rid[i]: the parameter holding reaction i's
 * rate). */
static void own_unit_rate_rules(exporter *ex, Model_t *mod, const unsigned char *own,
                                const char *const *rid)
{
    const sg_model *m = ex->m;
    for (int s = 0; s < m->nspecies; s++) {
        ASTNode_t *sum = NULL; /* left to right: r1 + 2 * r2 - r3 */
        for (int i = 0; i < m->nreactions; i++) {
            const sg_reaction_def *rd = &m->reactions[i];
            for (int k = 0; own[i] && k < rd->nterms; k++) {
                if (rd->terms[k].species != s)
                    continue;
                double coef = rd->terms[k].coef;
                ASTNode_t *rate = node(AST_NAME), *term = rate;
                ASTNode_setName(rate, rid[i]);
                double factor = sum ? fabs(coef) : coef; /* later terms: + or - */
                if (factor != 1) {
                    term = node(AST_TIMES);
                    ASTNode_addChild(term, exact_math(ex, factor, "dimensionless"));
                    ASTNode_addChild(term, rate);
                }
                if (!sum) {
                    sum = term;
                } else {
                    ASTNode_t *op = node(coef < 0 ? AST_MINUS : AST_PLUS);
                    ASTNode_addChild(op, sum);
                    ASTNode_addChild(op, term);
                    sum = op;
                }
            }
        }
        if (!sum)
            continue;
        ASTNode_t *math = node(AST_DIVIDE), *size = node(AST_NAME);
        ASTNode_setName(size, slot_id(ex, m->compartments[m->species[s].compartment].slot));
        ASTNode_addChild(math, sum);
        ASTNode_addChild(math, size);
        Rule_t *r = Model_createRateRule(mod);
        Rule_setVariable(r, slot_id(ex, m->species[s].slot));
        Rule_setMath(r, math);
        ASTNode_free(math);
    }
}

static void build(exporter *ex, Model_t *mod)
{
    const sg_model *m = ex->m;
    if (ex->implicit && sg_map_put(&ex->used, ex->default_comp, 0) < 0) {
        ex->failed = 1;
        sg_error_nomem(ex->err);
    }
    if (m->description && *m->description)
        Model_setName(mod, m->description);
    set_notes(ex, mod, m->description, NULL);
    set_model_units(ex, mod);
    char what[300];
    for (int i = 0; i < m->ncompartments; i++) {
        const sg_compartment_def *cd = &m->compartments[i];
        Compartment_t *c = Model_createCompartment(mod);
        const char *cid = slot_id(ex, cd->slot);
        Compartment_setId(c, cid);
        double v = 0;
        if (attribute_value(ex, mod, cid, cd->slot, cd->size, ex->volume, &v))
            Compartment_setSize(c, v);
        Compartment_setSpatialDimensionsAsDouble(c, 3);
        Compartment_setConstant(c, 1);
        if (ex->volume)
            Compartment_setUnits(c, ex->volume);
        set_name(c, cd->name);
        set_notes(ex, c, cd->description, NULL);
    }
    for (int i = 0; i < m->nparameters; i++) {
        const sg_parameter_def *pd = &m->parameters[i];
        Parameter_t *p = Model_createParameter(mod);
        Parameter_setId(p, slot_id(ex, pd->slot));
        Parameter_setConstant(p, !slot_changes(m, pd->slot));
        snprintf(what, sizeof what, "parameter '%s'", pd->id);
        const char *unit = unit_ref(ex, mod, pd->unit, what, 0);
        if (unit)
            Parameter_setUnits(p, unit);
        double v = 0;
        if (attribute_value(ex, mod, slot_id(ex, pd->slot), pd->slot, pd->value, unit, &v))
            Parameter_setValue(p, v);
        set_name(p, pd->name);
        set_notes(ex, p, pd->description, pd->source);
    }
    const char **sunit = sg_calloc((size_t)m->nspecies + 1, sizeof *sunit);
    if (!sunit) {
        ex->failed = 1;
        sg_error_nomem(ex->err);
        return;
    }
    for (int i = 0; i < m->nspecies; i++) {
        const sg_species_def *sd = &m->species[i];
        Species_t *s = Model_createSpecies(mod);
        Species_setId(s, slot_id(ex, sd->slot));
        Species_setCompartment(s, slot_id(ex, m->compartments[sd->compartment].slot));
        double v = 0; /* a concentration: no unit of its own to give a subnormal */
        if (attribute_value(ex, mod, slot_id(ex, sd->slot), sd->slot, sd->initial, NULL, &v))
            Species_setInitialConcentration(s, v);
        Species_setHasOnlySubstanceUnits(s, 0);
        int changes = slot_changes(m, sd->slot);
        Species_setBoundaryCondition(s, sd->constant || has_rate_rule(m, sd->slot));
        Species_setConstant(s, sd->constant && !changes);
        if (*sd->unit && strcmp(sd->unit, m->conc_unit) != 0) {
            snprintf(what, sizeof what, "species '%s'", sd->id);
            const char *unit = ex->volume ? unit_ref(ex, mod, sd->unit, what, 1) : NULL;
            if (unit)
                Species_setSubstanceUnits(s, unit);
            if (unit && Model_isSetSubstanceUnits(mod) &&
                strcmp(unit, Model_getSubstanceUnits(mod)) != 0)
                sunit[i] = unit;
        }
        set_name(s, sd->name);
        set_notes(ex, s, sd->description, NULL);
    }
    for (int i = 0; i < m->nassignments; i++) {
        const sg_assignment_def *a = &m->assignments[i];
        Parameter_t *p = Model_createParameter(mod);
        Parameter_setId(p, slot_id(ex, a->slot));
        Parameter_setConstant(p, 0);
        snprintf(what, sizeof what, "assignment '%s'", a->id);
        const char *unit = unit_ref(ex, mod, a->unit, what, 0);
        if (unit)
            Parameter_setUnits(p, unit);
        set_name(p, a->name);
        set_notes(ex, p, a->description, NULL);
        Rule_t *r = Model_createAssignmentRule(mod);
        Rule_setVariable(r, slot_id(ex, a->slot));
        ASTNode_t *math = to_ast(ex, a->value, 0);
        Rule_setMath(r, math);
        ASTNode_free(math);
    }
    for (int i = 0; i < m->ninits; i++) {
        const sg_init_def *in = &m->inits[i];
        InitialAssignment_t *ia = Model_createInitialAssignment(mod);
        InitialAssignment_setSymbol(ia, slot_id(ex, in->slot));
        ASTNode_t *math = to_ast(ex, in->value, 0);
        InitialAssignment_setMath(ia, math);
        ASTNode_free(math);
    }
    unsigned char *used = sg_calloc((size_t)m->nspecies + 1, 1);
    sg_arena *arena = sg_arena_create();
    unsigned char *own = own_unit_reactions(ex, mod, sunit);
    const char **rid = sg_calloc((size_t)m->nreactions + 1, sizeof *rid);
    if (!used || !arena || !own || !rid) {
        sg_free(used);
        sg_arena_free(arena);
        sg_free(own);
        sg_free(rid);
        sg_free(sunit);
        if (!ex->failed)
            ex->failed = 1, sg_error_nomem(ex->err);
        return;
    }
    for (int i = 0; i < m->nreactions && !ex->failed; i++) {
        const sg_reaction_def *rd = &m->reactions[i];
        if (own[i]) { /* its rate, in its species' unit per time */
            Parameter_t *p = Model_createParameter(mod);
            rid[i] = unique_id(ex, rd->id, "reaction");
            Parameter_setId(p, rid[i]);
            Parameter_setConstant(p, 0);
            const char *unit = per_time_unit(ex, mod, sunit[rd->terms[0].species]);
            if (unit)
                Parameter_setUnits(p, unit);
            set_name(p, rd->name);
            set_notes(ex, p, rd->description, NULL);
            Rule_t *rule = Model_createAssignmentRule(mod);
            Rule_setVariable(rule, rid[i]);
            ASTNode_t *math = to_ast(ex, rd->rate, 0);
            Rule_setMath(rule, math);
            ASTNode_free(math);
            continue;
        }
        Reaction_t *r = Model_createReaction(mod);
        Reaction_setId(r, unique_id(ex, rd->id, "reaction"));
        Reaction_setReversible(r, rd->reversible);
        set_name(r, rd->name);
        set_notes(ex, r, rd->description, NULL);
        sg_term *terms = NULL;
        int nterms = 0, rev = 0, pos = 0;
        char msg[300];
        if (sg_equation_parse(arena, rd->equation, lookup_species, (void *)m, &rev, &terms,
                              &nterms, &pos, msg, sizeof msg) != 0) {
            fail(ex, "reaction '%s': %s", rd->id, msg);
            break;
        }
        memset(used, 0, (size_t)m->nspecies + 1);
        for (int k = 0; k < nterms; k++) {
            if (terms[k].coef == 0)
                continue;
            SpeciesReference_t *sr = terms[k].coef > 0 ? Reaction_createProduct(r)
                                                       : Reaction_createReactant(r);
            SpeciesReference_setSpecies(sr, slot_id(ex, m->species[terms[k].species].slot));
            double v, coef = fabs(terms[k].coef);
            if (is_subnormal(coef)) { /* an initial assignment needs an id to set */
                char sid[600];
                snprintf(sid, sizeof sid, "%s_%s", Reaction_getId(r),
                         m->species[terms[k].species].id);
                const char *kept = sg_arena_strdup(ex->names, sid);
                if (kept)
                    kept = unique_id(ex, kept, "stoichiometry");
                else if (!ex->failed)
                    ex->failed = 1, sg_error_nomem(ex->err);
                if (kept)
                    SpeciesReference_setId(sr, kept);
            }
            if (attribute_value(ex, mod, SpeciesReference_getId(sr), -1, coef, "dimensionless",
                                &v))
                SpeciesReference_setStoichiometry(sr, v);
            SpeciesReference_setConstant(sr, 1);
            used[terms[k].species] = 2;
        }
        unsigned char *in_rate = used;
        mark_species(m, rd->rate, in_rate, 0);
        for (int s = 0; s < m->nspecies; s++)
            if (in_rate[s] == 1) {
                SpeciesReference_t *mr = Reaction_createModifier(r);
                SpeciesReference_setSpecies(mr, slot_id(ex, m->species[s].slot));
            }
        KineticLaw_t *kl = Reaction_createKineticLaw(r);
        ASTNode_t *math = to_ast(ex, rd->rate, 0);
        KineticLaw_setMath(kl, math);
        ASTNode_free(math);
    }
    if (!ex->failed)
        own_unit_rate_rules(ex, mod, own, rid);
    sg_free(used);
    sg_arena_free(arena);
    sg_free(own);
    sg_free(rid);
    sg_free(sunit);
    for (int i = 0; i < m->nrate_rules; i++) {
        const sg_rate_rule_def *rr = &m->rate_rules[i];
        Rule_t *r = Model_createRateRule(mod);
        Rule_setVariable(r, slot_id(ex, rr->target_slot));
        ASTNode_t *math = to_ast(ex, rr->rate, 0);
        Rule_setMath(r, math);
        ASTNode_free(math);
    }
    for (int i = 0; i < m->ntriggers; i++) {
        const sg_trigger_def *t = &m->triggers[i];
        Event_t *e = Model_createEvent(mod);
        Event_setId(e, unique_id(ex, t->id, "event"));
        Event_setUseValuesFromTriggerTime(e, t->use_trigger_time);
        set_name(e, t->name);
        set_notes(ex, e, t->description, NULL);
        Trigger_t *tr = Event_createTrigger(e);
        Trigger_setPersistent(tr, t->persistent);
        Trigger_setInitialValue(tr, t->initial_value);
        ASTNode_t *math = to_ast(ex, t->trigger, 1);
        Trigger_setMath(tr, math);
        ASTNode_free(math);
        if (t->delay) {
            math = to_ast(ex, t->delay, 0);
            Delay_setMath(Event_createDelay(e), math);
            ASTNode_free(math);
        }
        if (t->priority) {
            math = to_ast(ex, t->priority, 0);
            Priority_setMath(Event_createPriority(e), math);
            ASTNode_free(math);
        }
        for (int k = 0; k < t->nassigns; k++) {
            EventAssignment_t *ea = Event_createEventAssignment(e);
            EventAssignment_setVariable(ea, slot_id(ex, t->assigns[k].slot));
            math = to_ast(ex, t->assigns[k].value, 0);
            EventAssignment_setMath(ea, math);
            ASTNode_free(math);
        }
    }
    Model_setId(mod, unique_id(ex, m->name, "model")); /* last: reactions keep their ids */
}

/* The first error of the consistency checks, as a message. */
static int first_error(exporter *ex, SBMLDocument_t *doc, const char *what)
{
    for (unsigned i = 0; i < SBMLDocument_getNumErrors(doc); i++) {
        const XMLError_t *e = (const XMLError_t *)SBMLDocument_getError(doc, i);
        if (XMLError_isError(e) || XMLError_isFatal(e)) {
            char msg[500];
            snprintf(msg, sizeof msg, "%s", XMLError_getMessage(e));
            for (char *p = msg; *p; p++)
                if (*p == '\n')
                    *p = ' ';
            return fail(ex, "the SBML written for this model fails libsbml's %s: %s", what,
                        msg);
        }
    }
    return 0;
}

char *sg_sbml_export(const sg_model *m, sg_note_fn note_fn, void *note_ctx, sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    exporter ex = {m, "default", 0, err, 0, {0}, NULL, NULL, 0, 0, note_fn, note_ctx, NULL};
    sg_map_init(&ex.used);
    ex.names = sg_arena_create();
    if (!ex.names) {
        sg_error_nomem(err);
        return NULL;
    }
    /* the implicit compartment has no id in the model: name it */
    if (m->ncompartments == 1 && strcmp(m->compartments[0].id, "default") == 0 &&
        sg_map_get(&m->symbols, "default") < 0) {
        ex.implicit = 1;
        ex.default_comp = "default_compartment";
        for (int k = 2; sg_map_get(&m->symbols, ex.default_comp) >= 0 && k < 4; k++)
            ex.default_comp = k == 2 ? "default_compartment_2" : "default_compartment_3";
    }
    SBMLDocument_t *doc = SBMLDocument_createWithLevelAndVersion(3, 2);
    if (!doc) {
        sg_map_clear(&ex.used);
        sg_arena_free(ex.names);
        sg_error_nomem(err);
        return NULL;
    }
    Model_t *mod = SBMLDocument_createModel(doc);
    build(&ex, mod);
    char *text = NULL;
    if (!ex.failed) {
        if (SBMLDocument_checkInternalConsistency(doc) > 0)
            first_error(&ex, doc, "internal consistency check");
    }
    if (!ex.failed) {
        SBMLDocument_setConsistencyChecks(doc, LIBSBML_CAT_UNITS_CONSISTENCY, 0);
        SBMLDocument_setConsistencyChecks(doc, LIBSBML_CAT_MODELING_PRACTICE, 0);
        if (SBMLDocument_checkConsistency(doc) > 0)
            first_error(&ex, doc, "consistency check");
    }
    if (!ex.failed) {
        char *s = writeSBMLToString(doc);
        text = s ? sg_strdup(s) : NULL;
        free(s);
        if (!text)
            sg_error_nomem(err);
        else
            text = exact_numbers(&ex, text);
    }
    SBMLDocument_free(doc);
    sg_map_clear(&ex.used);
    sg_arena_free(ex.names);
    sg_free(ex.exact);
    return text;
}

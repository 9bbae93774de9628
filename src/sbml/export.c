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
 * largest double overflows to an invalid value. A number that 15 digits do
 * not give back exactly goes into the document as placeholder k, a dyadic
 * number whose text is short and unusual, and the written text then gets
 * its %.17g form in place of the placeholder's (exact_numbers()). */
static double placeholder(size_t k) { return 271828.0 + (double)k + 23.0 / 128.0; }

static double exact(exporter *ex, double v)
{
    char text[40];
    snprintf(text, sizeof text, "%.15g", v);
    /* subnormals too: libsbml's reader calls them out of range */
    if (!isfinite(v) || (strtod(text, NULL) == v && !(v != 0 && fabs(v) < DBL_MIN)))
        return v;
    if (sg_grow(&ex->exact, &ex->exact_cap, ex->nexact + 1, sizeof *ex->exact) != 0) {
        if (!ex->failed)
            sg_error_nomem(ex->err);
        ex->failed = 1;
        return v;
    }
    ex->exact[ex->nexact] = v;
    return placeholder(ex->nexact++);
}

/* Where `token` stands alone in text (between quotes, or spaces as in
 * <cn> x </cn>), from `from`; NULL if nowhere. */
static const char *find_token(const char *from, const char *token)
{
    size_t len = strlen(token);
    for (const char *p = strstr(from, token); p; p = strstr(p + 1, token)) {
        char before = p[-1], after = p[len];
        if ((before == '"' || before == ' ' || before == '>') &&
            (after == '"' || after == ' ' || after == '<'))
            return p;
    }
    return NULL;
}

/* The text with every placeholder replaced by its number in %.17g (read
 * back bit-identical). Frees `text`; NULL with err filled on failure. */
static char *exact_numbers(exporter *ex, char *text)
{
    for (size_t k = 0; k < ex->nexact && text; k++) {
        char token[40], number[40];
        snprintf(token, sizeof token, "%.15g", placeholder(k));
        snprintf(number, sizeof number, "%.17g", ex->exact[k]);
        const char *at = find_token(text, token);
        if (!at || find_token(at + 1, token)) { /* not once: the model holds that text */
            sg_error_set(ex->err, SG_ERR_MODEL, NULL, 0, 0,
                         "could not write the number %s exactly in SBML", number);
            sg_free(text);
            return NULL;
        }
        size_t head = (size_t)(at - text), tl = strlen(token), nl = strlen(number);
        size_t total = strlen(text) - tl + nl;
        char *out = sg_malloc(total + 1);
        if (!out) {
            sg_error_nomem(ex->err);
            sg_free(text);
            return NULL;
        }
        memcpy(out, text, head);
        memcpy(out + head, number, nl);
        strcpy(out + head + nl, at + tl);
        sg_free(text);
        text = out;
    }
    return text;
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

static ASTNode_t *number(double v)
{
    ASTNode_t *n;
    if (v == floor(v) && fabs(v) < 1e9) {
        n = node(AST_INTEGER);
        ASTNode_setInteger(n, (long)v);
    } else {
        n = node(AST_REAL);
        ASTNode_setReal(n, v);
    }
    /* sigode's numbers are pure numbers: said so, libsbml's unit checks
     * can follow the expressions through them (and object where a number
     * stands for a quantity with a unit) */
    ASTNode_setUnits(n, "dimensionless");
    return n;
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
        return number(exact(ex, e->num));
    case EX_VAR:
        if (e->slot == m->time_slot) {
            n = node(AST_NAME_TIME);
            ASTNode_setName(n, "time");
            return n;
        }
        n = node(AST_NAME);
        if (m->slot_kind[e->slot] == SG_SYM_COMPARTMENT && ex->implicit)
            ASTNode_setName(n, ex->default_comp);
        else if (e->slot < m->nslots && m->slot_name[e->slot])
            ASTNode_setName(n, m->slot_name[e->slot]);
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

static const char *slot_id(const exporter *ex, int slot)
{
    if (ex->m->slot_kind[slot] == SG_SYM_COMPARTMENT && ex->implicit)
        return ex->default_comp;
    return ex->m->slot_name[slot];
}

static void mark_species(const sg_model *m, const sg_expr *e, unsigned char *used, int depth)
{
    if (!e || depth > 10000)
        return;
    if (e->kind == EX_VAR && e->slot < m->nslots && m->slot_kind[e->slot] == SG_SYM_SPECIES &&
        !used[m->slot_index[e->slot]])
        used[m->slot_index[e->slot]] = 1;
    for (int i = 0; i < 3; i++)
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
        Compartment_setId(c, ex->implicit ? ex->default_comp : cd->id);
        Compartment_setSize(c, exact(ex, cd->size));
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
        Parameter_setId(p, pd->id);
        Parameter_setValue(p, exact(ex, pd->value));
        Parameter_setConstant(p, !slot_changes(m, pd->slot));
        snprintf(what, sizeof what, "parameter '%s'", pd->id);
        const char *unit = unit_ref(ex, mod, pd->unit, what, 0);
        if (unit)
            Parameter_setUnits(p, unit);
        set_name(p, pd->name);
        set_notes(ex, p, pd->description, pd->source);
    }
    for (int i = 0; i < m->nspecies; i++) {
        const sg_species_def *sd = &m->species[i];
        Species_t *s = Model_createSpecies(mod);
        Species_setId(s, sd->id);
        Species_setCompartment(s, slot_id(ex, m->compartments[sd->compartment].slot));
        Species_setInitialConcentration(s, exact(ex, sd->initial));
        Species_setHasOnlySubstanceUnits(s, 0);
        int changes = slot_changes(m, sd->slot);
        Species_setBoundaryCondition(s, sd->constant || has_rate_rule(m, sd->slot));
        Species_setConstant(s, sd->constant && !changes);
        if (*sd->unit && strcmp(sd->unit, m->conc_unit) != 0) {
            snprintf(what, sizeof what, "species '%s'", sd->id);
            const char *unit = ex->volume ? unit_ref(ex, mod, sd->unit, what, 1) : NULL;
            if (unit)
                Species_setSubstanceUnits(s, unit);
        }
        set_name(s, sd->name);
        set_notes(ex, s, sd->description, NULL);
    }
    for (int i = 0; i < m->nassignments; i++) {
        const sg_assignment_def *a = &m->assignments[i];
        Parameter_t *p = Model_createParameter(mod);
        Parameter_setId(p, a->id);
        Parameter_setConstant(p, 0);
        snprintf(what, sizeof what, "assignment '%s'", a->id);
        const char *unit = unit_ref(ex, mod, a->unit, what, 0);
        if (unit)
            Parameter_setUnits(p, unit);
        set_name(p, a->name);
        set_notes(ex, p, a->description, NULL);
        Rule_t *r = Model_createAssignmentRule(mod);
        Rule_setVariable(r, a->id);
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
    if (!used || !arena) {
        sg_free(used);
        sg_arena_free(arena);
        ex->failed = 1;
        sg_error_nomem(ex->err);
        return;
    }
    for (int i = 0; i < m->nreactions && !ex->failed; i++) {
        const sg_reaction_def *rd = &m->reactions[i];
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
            SpeciesReference_setSpecies(sr, m->species[terms[k].species].id);
            SpeciesReference_setStoichiometry(sr, fabs(terms[k].coef));
            SpeciesReference_setConstant(sr, 1);
            used[terms[k].species] = 2;
        }
        unsigned char *in_rate = used;
        mark_species(m, rd->rate, in_rate, 0);
        for (int s = 0; s < m->nspecies; s++)
            if (in_rate[s] == 1) {
                SpeciesReference_t *mr = Reaction_createModifier(r);
                SpeciesReference_setSpecies(mr, m->species[s].id);
            }
        KineticLaw_t *kl = Reaction_createKineticLaw(r);
        ASTNode_t *math = to_ast(ex, rd->rate, 0);
        KineticLaw_setMath(kl, math);
        ASTNode_free(math);
    }
    sg_free(used);
    sg_arena_free(arena);
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

char *sg_model_to_sbml(const sg_model *m, sg_error *err)
{
    return sg_model_to_sbml_noting(m, NULL, NULL, err);
}

char *sg_model_to_sbml_noting(const sg_model *m, sg_note_fn note_fn, void *note_ctx,
                              sg_error *err)
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

sg_status sg_write_text_file(const char *path, const char *text, sg_error *err)
{
    return sg_sbml_write_atomic(path, text, err);
}

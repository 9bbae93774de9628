/*
 * Units between sigode's readable `unit` strings ("nM", "1/h", "1/(nM*h)")
 * and SBML unit definitions (kind, exponent, scale, multiplier).
 *
 * A sigode unit is read up to the first space outside parentheses; what
 * follows is a remark for people ("1/h per unit PDPK1" is 1/h). Grammar:
 *     unit   := factor { ('*' | '/') factor }      (a space is '*' inside parentheses)
 *     factor := '1' | symbol [ '^' [-] digits ] | '(' unit ')'
 * Symbols: s min h d (time), mol mmol umol nmol pmol fmol, M mM uM nM pM fM
 * (mol/L), L mL uL nL pL fL, g kg mg ug ng, m cm mm um, item, and the
 * words of a pure number: 1, dimensionless, fraction, normalised,
 * normalized, relative, ratio, count, copies (a count is a number, of
 * dimension one, as SI has it). 'µ' and 'μ' read as 'u'.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sbml/SBMLTypes.h>

#include "sbml.h"

typedef struct symbol {
    const char *text;
    UnitKind_t kind, kind2; /* kind2: a second unit to the power -1 (M = mol/L) */
    int scale;
    double multiplier;
} symbol;

#define NONE UNIT_KIND_INVALID
static const symbol symbols[] = {
    {"s", UNIT_KIND_SECOND, NONE, 0, 1},       {"min", UNIT_KIND_SECOND, NONE, 0, 60},
    {"h", UNIT_KIND_SECOND, NONE, 0, 3600},    {"d", UNIT_KIND_SECOND, NONE, 0, 86400},
    {"day", UNIT_KIND_SECOND, NONE, 0, 86400}, {"ms", UNIT_KIND_SECOND, NONE, -3, 1},
    {"mol", UNIT_KIND_MOLE, NONE, 0, 1},       {"mmol", UNIT_KIND_MOLE, NONE, -3, 1},
    {"umol", UNIT_KIND_MOLE, NONE, -6, 1},     {"nmol", UNIT_KIND_MOLE, NONE, -9, 1},
    {"pmol", UNIT_KIND_MOLE, NONE, -12, 1},    {"fmol", UNIT_KIND_MOLE, NONE, -15, 1},
    {"M", UNIT_KIND_MOLE, UNIT_KIND_LITRE, 0, 1},
    {"mM", UNIT_KIND_MOLE, UNIT_KIND_LITRE, -3, 1},
    {"uM", UNIT_KIND_MOLE, UNIT_KIND_LITRE, -6, 1},
    {"nM", UNIT_KIND_MOLE, UNIT_KIND_LITRE, -9, 1},
    {"pM", UNIT_KIND_MOLE, UNIT_KIND_LITRE, -12, 1},
    {"fM", UNIT_KIND_MOLE, UNIT_KIND_LITRE, -15, 1},
    {"L", UNIT_KIND_LITRE, NONE, 0, 1},        {"mL", UNIT_KIND_LITRE, NONE, -3, 1},
    {"uL", UNIT_KIND_LITRE, NONE, -6, 1},      {"nL", UNIT_KIND_LITRE, NONE, -9, 1},
    {"pL", UNIT_KIND_LITRE, NONE, -12, 1},     {"fL", UNIT_KIND_LITRE, NONE, -15, 1},
    {"g", UNIT_KIND_GRAM, NONE, 0, 1},         {"kg", UNIT_KIND_GRAM, NONE, 3, 1},
    {"mg", UNIT_KIND_GRAM, NONE, -3, 1},       {"ug", UNIT_KIND_GRAM, NONE, -6, 1},
    {"ng", UNIT_KIND_GRAM, NONE, -9, 1},       {"m", UNIT_KIND_METRE, NONE, 0, 1},
    {"cm", UNIT_KIND_METRE, NONE, -2, 1},      {"mm", UNIT_KIND_METRE, NONE, -3, 1},
    {"um", UNIT_KIND_METRE, NONE, -6, 1},      {"item", UNIT_KIND_ITEM, NONE, 0, 1},
    {"1", UNIT_KIND_DIMENSIONLESS, NONE, 0, 1},
    {"dimensionless", UNIT_KIND_DIMENSIONLESS, NONE, 0, 1},
};

/* Leading words that make the whole unit a pure number. */
static const char *const pure_words[] = {"1", "dimensionless", "fraction", "normalised",
                                          "normalized", "relative", "ratio", "count", "copies",
                                          NULL};

typedef struct parser {
    const char *s;
    size_t pos;
    sg_unit *u;
    int depth;
    int molar_as_amount;
} parser;

static int add_term(sg_unit *u, UnitKind_t kind, int exponent, int scale, double multiplier)
{
    if (kind == UNIT_KIND_DIMENSIONLESS)
        return 0;
    if (u->nterms >= SG_UNIT_MAX_TERMS)
        return -1;
    u->term[u->nterms++] = (sg_unit_term){(int)kind, exponent, scale, multiplier};
    return 0;
}

static int parse_unit(parser *p, int sign);

/* A symbol at p->pos ('µ'/'μ' as 'u'), longest match. */
static const symbol *read_symbol(parser *p)
{
    char word[32];
    size_t n = 0, at = p->pos;
    while (n + 1 < sizeof word) {
        unsigned char c = (unsigned char)p->s[at];
        if ((c == 0xc2 && (unsigned char)p->s[at + 1] == 0xb5) ||
            (c == 0xce && (unsigned char)p->s[at + 1] == 0xbc)) {
            word[n++] = 'u';
            at += 2;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c == '1' && n == 0)) {
            word[n++] = (char)c;
            at++;
            if (c == '1')
                break;
        } else {
            break;
        }
    }
    word[n] = '\0';
    for (size_t k = 0; k < sizeof symbols / sizeof symbols[0]; k++)
        if (strcmp(symbols[k].text, word) == 0) {
            p->pos = at;
            return &symbols[k];
        }
    return NULL;
}

static int parse_factor(parser *p, int sign)
{
    if (p->s[p->pos] == '(') {
        if (++p->depth > 8)
            return -1;
        p->pos++;
        if (parse_unit(p, sign) || p->s[p->pos] != ')')
            return -1;
        p->pos++;
        p->depth--;
        return 0;
    }
    const symbol *sym = read_symbol(p);
    if (!sym)
        return -1;
    int exponent = 1;
    if (p->s[p->pos] == '^') {
        p->pos++;
        int neg = p->s[p->pos] == '-';
        p->pos += neg;
        if (p->s[p->pos] < '1' || p->s[p->pos] > '9')
            return -1;
        exponent = p->s[p->pos++] - '0';
        if (neg)
            exponent = -exponent;
    }
    exponent *= sign;
    if (add_term(p->u, sym->kind, exponent, sym->scale, sym->multiplier))
        return -1;
    return sym->kind2 == NONE || p->molar_as_amount ? 0 : add_term(p->u, sym->kind2, -exponent, 0, 1);
}

static int parse_unit(parser *p, int sign)
{
    if (parse_factor(p, sign))
        return -1;
    for (;;) {
        char c = p->s[p->pos];
        if (c == ' ' && p->depth > 0) {
            while (p->s[p->pos] == ' ')
                p->pos++;
            if (p->s[p->pos] == ')')
                return 0;
            if (p->s[p->pos] == '*' || p->s[p->pos] == '/')
                continue;
            if (parse_factor(p, sign))
                return -1;
        } else if (c == '*' || c == '/') {
            p->pos++;
            while (p->s[p->pos] == ' ')
                p->pos++;
            if (parse_factor(p, c == '/' ? -sign : sign))
                return -1;
        } else {
            return 0;
        }
    }
}

int sg_unit_parse(const char *text, int molar_as_amount, sg_unit *u)
{
    memset(u, 0, sizeof *u);
    if (!text || !*text)
        return -1;
    for (int k = 0; pure_words[k]; k++) {
        size_t n = strlen(pure_words[k]);
        if (strncmp(text, pure_words[k], n) == 0 && (text[n] == '\0' || text[n] == ' ')) {
            u->length = n;
            return 0;
        }
    }
    parser p = {text, 0, u, 0, molar_as_amount};
    if (parse_unit(&p, 1) || (text[p.pos] != '\0' && text[p.pos] != ' '))
        return -1;
    u->length = p.pos;
    return 0;
}

void sg_unit_id(const char *text, const sg_unit *u, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "unit_");
    (void)u;
    for (size_t k = 0; text[k] && n + 8 < size; k++) {
        unsigned char c = (unsigned char)text[k];
        if (c == '/')
            n += (size_t)snprintf(buf + n, size - n, "_per_");
        else if (c == '^')
            n += (size_t)snprintf(buf + n, size - n, "_pow_");
        else if (c == '-')
            buf[n++] = 'm';
        else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            buf[n++] = (char)c;
        else if (c == 0xc2 || c == 0xce) { /* µ, μ */
            buf[n++] = 'u';
            k++;
        } else if (n > 0 && buf[n - 1] != '_')
            buf[n++] = '_';
    }
    while (n > 5 && buf[n - 1] == '_')
        n--;
    buf[n] = '\0';
}

/* ------------------------------------------------------ SBML -> text */

/* Base quantities the renderer knows, with the symbols it may use. */
enum { B_TIME, B_MOLE, B_LITRE, B_GRAM, B_METRE, B_ITEM, NBASES };

static int base_of(UnitKind_t kind, double *factor)
{
    *factor = 1;
    switch (kind) {
    case UNIT_KIND_SECOND: return B_TIME;
    case UNIT_KIND_MOLE: return B_MOLE;
    case UNIT_KIND_LITRE:
    case UNIT_KIND_LITER: return B_LITRE;
    case UNIT_KIND_GRAM: return B_GRAM;
    case UNIT_KIND_KILOGRAM: *factor = 1000; return B_GRAM;
    case UNIT_KIND_METRE:
    case UNIT_KIND_METER: return B_METRE;
    case UNIT_KIND_ITEM: return B_ITEM;
    case UNIT_KIND_DIMENSIONLESS: return NBASES;
    default: return -1;
    }
}

static const char *const base_symbols[NBASES][7] = {
    {"s", "min", "h", "d", NULL},
    {"mol", "mmol", "umol", "nmol", "pmol", "fmol", NULL},
    {"L", "mL", "uL", "nL", "pL", "fL", NULL},
    {"g", "mg", "ug", "ng", "kg", NULL},
    {"m", "cm", "mm", "um", NULL},
    {"item", NULL},
};
static const char *const molar[] = {"M", "mM", "uM", "nM", "pM", "fM", NULL};

static double symbol_factor(const char *text)
{
    for (size_t k = 0; k < sizeof symbols / sizeof symbols[0]; k++)
        if (strcmp(symbols[k].text, text) == 0)
            return symbols[k].multiplier * pow(10, symbols[k].scale);
    return NAN;
}

typedef struct render {
    int exp[NBASES];
    double factor;
    int use_molar;           /* mole^e litre^-e written as molar^e */
    const char *pick[NBASES];
} render;

static int close_to(double a, double b) { return fabs(a - b) <= 1e-9 * fabs(b); }

/* Chooses a symbol per base so that the factors multiply to r->factor. */
static int choose(render *r, int base, double have)
{
    if (base == NBASES)
        return close_to(have, r->factor);
    int e = r->exp[base];
    if (e == 0 || (r->use_molar && base == B_LITRE))
        return choose(r, base + 1, have);
    const char *const *list = r->use_molar && base == B_MOLE ? molar : base_symbols[base];
    for (int k = 0; list[k]; k++) {
        r->pick[base] = list[k];
        if (choose(r, base + 1, have * pow(symbol_factor(list[k]), e)))
            return 1;
    }
    return 0;
}

static void append_part(char *buf, size_t size, const char *sym, int e, int *count)
{
    size_t n = strlen(buf);
    snprintf(buf + n, size - n, "%s%s", (*count)++ ? "*" : "", sym);
    if (e > 1) {
        n = strlen(buf);
        snprintf(buf + n, size - n, "^%d", e);
    }
}

/* Base exponents and factor of a definition (or base kind); -1 if unknown. */
static int reduce_def(const UnitDefinition_t *def, int kind, render *r)
{
    memset(r, 0, sizeof *r);
    r->factor = 1;
    unsigned n = def ? UnitDefinition_getNumUnits(def) : 1;
    for (unsigned i = 0; i < n; i++) {
        const Unit_t *u = def ? UnitDefinition_getUnit((UnitDefinition_t *)def, i) : NULL;
        UnitKind_t k = u ? Unit_getKind(u) : (UnitKind_t)kind;
        double f, e = u ? Unit_getExponentAsDouble(u) : 1;
        int b = base_of(k, &f);
        if (b < 0 || e != floor(e) || fabs(e) > 9 || (u && Unit_getOffset(u) != 0))
            return -1;
        if (u)
            f *= Unit_getMultiplier(u) * pow(10, Unit_getScale(u));
        r->factor *= pow(f, e);
        if (b < NBASES)
            r->exp[b] += (int)e;
    }
    return r->factor > 0 && isfinite(r->factor) ? 0 : -1;
}

static int reduce_unit(const sg_unit *u, render *r)
{
    memset(r, 0, sizeof *r);
    r->factor = 1;
    for (int k = 0; k < u->nterms; k++) {
        double f;
        int b = base_of((UnitKind_t)u->term[k].kind, &f);
        if (b < 0)
            return -1;
        f *= u->term[k].multiplier * pow(10, u->term[k].scale);
        r->factor *= pow(f, u->term[k].exponent);
        if (b < NBASES)
            r->exp[b] += u->term[k].exponent;
    }
    return 0;
}

int sg_unit_matches(const char *text, const struct UnitDefinition *def)
{
    render a, b;
    if (!def || reduce_def(def, 0, &a) != 0)
        return 0;
    for (int molar_as_amount = 0; molar_as_amount < 2; molar_as_amount++) {
        sg_unit u;
        if (sg_unit_parse(text, molar_as_amount, &u) != 0 || reduce_unit(&u, &b) != 0)
            return 0;
        if (memcmp(a.exp, b.exp, sizeof a.exp) == 0 && close_to(b.factor, a.factor))
            return 1;
    }
    return 0;
}

int sg_unit_render(const UnitDefinition_t *def, int kind, char *buf, size_t size)
{
    render r;
    if (reduce_def(def, kind, &r) != 0)
        return -1;
    r.use_molar = r.exp[B_MOLE] != 0 && r.exp[B_LITRE] == -r.exp[B_MOLE];
    if (!choose(&r, 0, 1)) {
        r.use_molar = 0;
        if (!choose(&r, 0, 1))
            return -1;
    }
    char num[200] = "", den[200] = "";
    int nnum = 0, nden = 0;
    static const int order[] = {B_MOLE, B_ITEM, B_GRAM, B_LITRE, B_METRE, B_TIME};
    for (int k = 0; k < NBASES; k++) {
        int b = order[k], e = r.exp[b];
        if (e == 0 || (r.use_molar && b == B_LITRE))
            continue;
        if (e > 0)
            append_part(num, sizeof num, r.pick[b], e, &nnum);
        else
            append_part(den, sizeof den, r.pick[b], -e, &nden);
    }
    if (nden == 0)
        snprintf(buf, size, "%s", nnum ? num : "1");
    else
        snprintf(buf, size, nden > 1 ? "%s/(%s)" : "%s/%s", nnum ? num : "1", den);
    return 0;
}

/*
 * Reaction equations:
 *   equation := side ( '->' | '<->' ) side
 *   side     := <empty> | term { '+' term }
 *   term     := [ number ] species
 * Terms are merged into net stoichiometry (products positive).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

typedef struct eq_term {
    int species;
    double coef;
} eq_term;

static int skip_space(const char *s, int i)
{
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    return i;
}

static int set_error(int *err_pos, int pos, char *msg, size_t size, const char *text)
{
    *err_pos = pos;
    snprintf(msg, size, "%s", text);
    return -1;
}

/* Parses one side starting at *pos; stops at an arrow or the end. */
static int parse_side(const char *s, int *pos, double sign, sg_species_lookup lookup,
                      void *ctx, eq_term *terms, int *n, int max, int *err_pos,
                      char *msg, size_t size)
{
    int i = skip_space(s, *pos);
    int after_plus = 0;
    for (;;) {
        if (s[i] == '\0' || (s[i] == '-' && s[i + 1] == '>') ||
            (s[i] == '<' && s[i + 1] == '-' && s[i + 2] == '>')) {
            if (after_plus)
                return set_error(err_pos, i, msg, size, "species expected after '+'");
            break;
        }
        double coef = 1.0;
        if (isdigit((unsigned char)s[i]) || s[i] == '.') {
            char *end;
            coef = strtod(s + i, &end);
            int len = (int)(end - (s + i));
            if (len == 0 || !isfinite(coef) || coef <= 0)
                return set_error(err_pos, i, msg, size,
                                 "stoichiometric coefficient must be a positive number");
            if (isalpha((unsigned char)s[i + len]) || s[i + len] == '_')
                return set_error(err_pos, i + len, msg, size,
                                 "space expected between coefficient and species");
            i = skip_space(s, i + len);
        }
        if (!(isalpha((unsigned char)s[i]) || s[i] == '_'))
            return set_error(err_pos, i, msg, size, "species name expected");
        int start = i;
        while (isalnum((unsigned char)s[i]) || s[i] == '_')
            i++;
        char name[SG_MAX_ID_LENGTH + 1];
        int len = i - start;
        if (len > SG_MAX_ID_LENGTH)
            return set_error(err_pos, start, msg, size, "species name too long");
        memcpy(name, s + start, (size_t)len);
        name[len] = '\0';
        int sp = lookup(ctx, name, msg, size);
        if (sp < 0) {
            *err_pos = start;
            return -1;
        }
        if (*n >= max)
            return set_error(err_pos, start, msg, size, "too many terms");
        terms[*n].species = sp;
        terms[*n].coef = sign * coef;
        (*n)++;
        i = skip_space(s, i);
        if (s[i] == '+') {
            i = skip_space(s, i + 1);
            after_plus = 1;
            continue;
        }
        if (s[i] == '\0' || (s[i] == '-' && s[i + 1] == '>') ||
            (s[i] == '<' && s[i + 1] == '-' && s[i + 2] == '>'))
            break;
        return set_error(err_pos, i, msg, size, "'+', '->' or '<->' expected");
    }
    *pos = i;
    return 0;
}

int sg_equation_parse(sg_arena *arena, const char *text, sg_species_lookup lookup,
                      void *ctx, int *reversible, sg_term **terms_out, int *nterms,
                      int *err_pos, char *msg, size_t msgsize)
{
    int max = (int)strlen(text) / 2 + 2; /* every term takes at least two chars */
    eq_term *terms = sg_malloc((size_t)max * sizeof *terms);
    if (!terms)
        return set_error(err_pos, 0, msg, msgsize, "out of memory"), -2;
    int n = 0, pos = 0, rc = -1;
    if (parse_side(text, &pos, -1.0, lookup, ctx, terms, &n, max, err_pos, msg, msgsize))
        goto done;
    if (text[pos] == '-' && text[pos + 1] == '>') {
        *reversible = 0;
        pos += 2;
    } else if (text[pos] == '<') {
        *reversible = 1;
        pos += 3;
    } else {
        set_error(err_pos, pos, msg, msgsize, "'->' or '<->' expected");
        goto done;
    }
    if (parse_side(text, &pos, 1.0, lookup, ctx, terms, &n, max, err_pos, msg, msgsize))
        goto done;
    if (text[pos] != '\0') {
        set_error(err_pos, pos, msg, msgsize, "only one arrow allowed");
        goto done;
    }
    /* merge into net stoichiometry, keeping first-appearance order */
    int m = 0;
    for (int i = 0; i < n; i++) {
        int j;
        for (j = 0; j < m; j++)
            if (terms[j].species == terms[i].species)
                break;
        if (j == m)
            terms[m++] = terms[i];
        else
            terms[j].coef += terms[i].coef;
    }
    int kept = 0;
    for (int i = 0; i < m; i++)
        if (terms[i].coef != 0.0)
            terms[kept++] = terms[i];
    *terms_out = sg_arena_alloc(arena, (size_t)(kept ? kept : 1) * sizeof **terms_out);
    if (!*terms_out) {
        set_error(err_pos, 0, msg, msgsize, "out of memory");
        rc = -2;
        goto done;
    }
    for (int i = 0; i < kept; i++) {
        (*terms_out)[i].species = terms[i].species;
        (*terms_out)[i].coef = terms[i].coef;
    }
    *nterms = kept;
    rc = 0;
done:
    sg_free(terms);
    return rc;
}

/*
 * The reaction network as a Graphviz graph: species are boxes (inputs,
 * i.e. constant species, are grey), reactions small points; solid arrows
 * run from reactants through the reaction to products, dashed arrows from
 * species that modify a rate without being consumed (an enzyme, a drug).
 */
#include <stdio.h>
#include <string.h>

#include "../model/model.h"

static void quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* Species that appear in the reaction's equation, including catalysts
 * that cancel out of the net stoichiometry. */
static int in_equation(const sg_reaction_def *r, const char *species)
{
    const char *p = r->equation;
    size_t n = strlen(species);
    while ((p = strstr(p, species)) != NULL) {
        int before = p == r->equation || !(p[-1] == '_' || (p[-1] >= '0' && p[-1] <= '9') ||
                                           (p[-1] >= 'A' && p[-1] <= 'Z') ||
                                           (p[-1] >= 'a' && p[-1] <= 'z'));
        char c = p[n];
        int after = !(c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                      (c >= 'a' && c <= 'z'));
        if (before && after)
            return 1;
        p += n;
    }
    return 0;
}

sg_status sg_model_write_dot(const sg_model *m, FILE *out, sg_error *err)
{
    unsigned char *seen = sg_calloc((size_t)m->nslots + 1, 1);
    if (!seen)
        return sg_error_nomem(err);
    fputs("digraph ", out);
    quoted(out, m->name);
    fputs(" {\n  rankdir=LR;\n  node [fontname=\"sans\"];\n", out);
    for (int i = 0; i < m->nspecies; i++) {
        fputs("  ", out);
        quoted(out, m->species[i].id);
        fputs(m->species[i].constant ? " [shape=box, style=filled, fillcolor=grey85];\n"
                                     : " [shape=box, style=rounded];\n",
              out);
    }
    for (int r = 0; r < m->nreactions; r++) {
        const sg_reaction_def *rx = &m->reactions[r];
        fprintf(out, "  \"r:%s\" [shape=point, xlabel=", rx->id);
        quoted(out, rx->id);
        fputs("];\n", out);
        for (int t = 0; t < rx->nterms; t++) {
            const char *sp = m->species[rx->terms[t].species].id;
            double c = rx->terms[t].coef;
            fputs("  ", out);
            if (c < 0) {
                quoted(out, sp);
                fprintf(out, " -> \"r:%s\"", rx->id);
            } else {
                fprintf(out, "\"r:%s\" -> ", rx->id);
                quoted(out, sp);
            }
            if (c != 1 && c != -1)
                fprintf(out, " [label=\"%g\"]", c < 0 ? -c : c);
            fputs(";\n", out);
        }
        /* inputs consumed in the equation but never changed, and modifiers */
        int *slots = NULL;
        size_t n = 0, cap = 0;
        if (sg_expr_slots(rx->rate, seen, &slots, &n, &cap) != 0) {
            sg_free(slots);
            sg_free(seen);
            return sg_error_nomem(err);
        }
        for (size_t k = 0; k < n; k++) {
            seen[slots[k]] = 0;
            if (m->slot_kind[slots[k]] != SG_SYM_SPECIES)
                continue;
            const char *sp = m->slot_name[slots[k]];
            int changed = 0;
            for (int t = 0; t < rx->nterms; t++)
                changed |= m->species[rx->terms[t].species].slot == slots[k];
            if (changed)
                continue;
            fputs("  ", out);
            quoted(out, sp);
            fprintf(out, " -> \"r:%s\" [style=%s];\n", rx->id,
                    in_equation(rx, sp) ? "solid, color=grey50" : "dashed, arrowhead=odot");
        }
        sg_free(slots);
    }
    fputs("}\n", out);
    sg_free(seen);
    return ferror(out) ? sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "write failed") : SG_OK;
}

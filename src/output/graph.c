/*
 * The reaction network as a Graphviz graph: species are boxes filled with
 * the colour of their compartment (inputs, i.e. constant species, have a
 * double border), reactions small points, assignments (derived quantities)
 * ellipses. Solid arrows run from reactants through the reaction to
 * products; dashed arrows carry every other influence: a species or an
 * assignment in a rate law (a modifier: enzyme, drug), and what an
 * assignment is computed from, so a drug acting through an assignment
 * reaches the reactions using it and feedback loops are closed.
 * Labels are placed by Graphviz (xlabel, headlabel) so they do not overlap
 * boxes. sg_model_render_graph hands the text to Graphviz's `dot`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../model/model.h"

/* A Graphviz quoted string: quotes and backslashes escaped, control
 * characters (C0, DEL, C1) written as spaces, so no text can end the string
 * early. */
static void quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) { /* C1 control as UTF-8 */
            fputc(' ', out);
            p++;
            continue;
        }
        if (*p == '"' || *p == '\\')
            fputc('\\', out);
        fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
    }
    fputc('"', out);
}

/* A node name with a prefix (r: reactions, a: assignments). */
static void node(FILE *out, const char *prefix, const char *id)
{
    size_t n = strlen(prefix) + strlen(id) + 1;
    char *name = sg_malloc(n);
    if (!name) {
        quoted(out, id);
        return;
    }
    snprintf(name, n, "%s%s", prefix, id);
    quoted(out, name);
    sg_free(name);
}

/* Light fills, one per compartment (Okabe-Ito tints), readable with black
 * text and told apart by colour-blind readers. */
static const char *const fills[] = {"#cfe5f5", "#f6d3bf", "#c2e6d9", "#f0d6e5",
                                    "#f8e2b3", "#d7edf9", "#e0e0e0"};
#define NFILLS (sizeof fills / sizeof *fills)

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

/* Species and assignments are drawn; parameters and time are not. */
static int is_node(const sg_model *m, int slot)
{
    return m->slot_kind[slot] == SG_SYM_SPECIES || m->slot_kind[slot] == SG_SYM_ASSIGNMENT;
}

/* The node an influence from a drawn slot starts at. */
static void influence_source(FILE *out, const sg_model *m, int slot)
{
    if (m->slot_kind[slot] == SG_SYM_SPECIES)
        quoted(out, m->slot_name[slot]);
    else
        node(out, "a:", m->slot_name[slot]);
}

sg_status sg_model_write_dot(const sg_model *m, FILE *out, sg_error *err)
{
    unsigned char *seen = sg_calloc((size_t)m->nslots + 1, 1);
    if (!seen)
        return sg_error_nomem(err);
    fputs("digraph ", out);
    quoted(out, m->name);
    fputs(" {\n  rankdir=LR;\n  forcelabels=true;\n  nodesep=0.35;\n  ranksep=0.6;\n"
          "  node [fontname=\"sans\", fontsize=11];\n  edge [fontname=\"sans\", fontsize=9];\n",
          out);
    /* species in compartment clusters when there are several */
    for (int c = 0; c < m->ncompartments; c++) {
        const char *fill = fills[(size_t)c % NFILLS];
        if (m->ncompartments > 1) {
            fprintf(out, "  subgraph \"cluster_%d\" {\n    label=", c);
            quoted(out, m->compartments[c].id);
            fputs(";\n    style=rounded;\n    color=grey60;\n", out);
        }
        for (int i = 0; i < m->nspecies; i++) {
            if (m->species[i].compartment != c)
                continue;
            fputs("    ", out);
            quoted(out, m->species[i].id);
            fprintf(out, " [shape=box, style=\"rounded,filled\", fillcolor=\"%s\"%s];\n", fill,
                    m->species[i].constant ? ", peripheries=2" : "");
        }
        if (m->ncompartments > 1)
            fputs("  }\n", out);
    }
    for (int a = 0; a < m->nassignments; a++) {
        fputs("  ", out);
        node(out, "a:", m->assignments[a].id);
        fputs(" [shape=ellipse, style=dashed, fontsize=10, label=", out);
        quoted(out, m->assignments[a].id);
        fputs("];\n", out);
    }
    int *slots = NULL;
    size_t n = 0, cap = 0;
    sg_status st = SG_OK;
    /* what each assignment is computed from */
    for (int a = 0; a < m->nassignments && st == SG_OK; a++) {
        n = 0;
        if (sg_expr_slots(m->assignments[a].value, seen, &slots, &n, &cap) != 0) {
            st = sg_error_nomem(err);
            break;
        }
        for (size_t k = 0; k < n; k++) {
            seen[slots[k]] = 0;
            if (!is_node(m, slots[k]))
                continue;
            fputs("  ", out);
            influence_source(out, m, slots[k]);
            fputs(" -> ", out);
            node(out, "a:", m->assignments[a].id);
            fputs(" [style=dashed, color=grey45, arrowhead=vee, arrowsize=0.6];\n", out);
        }
    }
    for (int r = 0; r < m->nreactions && st == SG_OK; r++) {
        const sg_reaction_def *rx = &m->reactions[r];
        fputs("  ", out);
        node(out, "r:", rx->id);
        fputs(" [shape=point, width=0.08, xlabel=", out);
        quoted(out, rx->id);
        fputs(", fontsize=9, fontcolor=grey30];\n", out);
        for (int t = 0; t < rx->nterms; t++) {
            const char *sp = m->species[rx->terms[t].species].id;
            double c = rx->terms[t].coef;
            fputs("  ", out);
            if (c < 0) {
                quoted(out, sp);
                fputs(" -> ", out);
                node(out, "r:", rx->id);
                fputs(" [arrowhead=none", out);
                if (c != -1)
                    fprintf(out, ", taillabel=\"%g\"", -c);
            } else {
                node(out, "r:", rx->id);
                fputs(" -> ", out);
                quoted(out, sp);
                fputs(" [arrowhead=normal", out);
                if (c != 1)
                    fprintf(out, ", headlabel=\"%g\"", c);
            }
            fputs("];\n", out);
        }
        /* modifiers: species and assignments in the rate law that the
         * reaction does not change */
        n = 0;
        if (sg_expr_slots(rx->rate, seen, &slots, &n, &cap) != 0) {
            st = sg_error_nomem(err);
            break;
        }
        for (size_t k = 0; k < n; k++) {
            seen[slots[k]] = 0;
            int changed = 0;
            for (int t = 0; t < rx->nterms; t++)
                changed |= m->species[rx->terms[t].species].slot == slots[k];
            if (changed)
                continue;
            int species = m->slot_kind[slots[k]] == SG_SYM_SPECIES;
            if (!is_node(m, slots[k]))
                continue;
            fputs("  ", out);
            influence_source(out, m, slots[k]);
            fputs(" -> ", out);
            node(out, "r:", rx->id);
            fprintf(out, " [style=%s];\n",
                    species && in_equation(rx, m->slot_name[slots[k]])
                        ? "solid, color=grey50"
                        : "dashed, arrowhead=odot");
        }
    }
    fputs("}\n", out);
    sg_free(slots);
    sg_free(seen);
    if (st != SG_OK)
        return st;
    return ferror(out) ? sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "write failed") : SG_OK;
}

/* Full path of a program on PATH, or NULL. */
static char *find_program(const char *name)
{
    const char *path = getenv("PATH");
    char *copy = sg_strdup(path ? path : "/usr/bin:/bin");
    if (!copy)
        return NULL;
    char *found = NULL;
    for (char *dir = strtok(copy, ":"); dir && !found; dir = strtok(NULL, ":")) {
        size_t n = strlen(dir) + strlen(name) + 2;
        char *candidate = sg_malloc(n);
        if (!candidate)
            break;
        snprintf(candidate, n, "%s/%s", dir, name);
        if (access(candidate, X_OK) == 0)
            found = candidate;
        else
            sg_free(candidate);
    }
    sg_free(copy);
    return found;
}

static sg_status write_dot_text(void *ctx, FILE *out, sg_error *err)
{
    return sg_model_write_dot(ctx, out, err);
}

/* Copies the picture dot drew (path in ctx) to the output. */
static sg_status copy_picture(void *ctx, FILE *out, sg_error *err)
{
    return sg_copy_file(ctx, out, "the graph", err);
}

sg_status sg_model_render_graph(const sg_model *m, const char *format, const char *path,
                                sg_error *err)
{
    if (strcmp(format, "dot") == 0) /* the text, where a table would go */
        return sg_write_atomic(path, write_dot_text, (void *)m, err);
    if (strcmp(format, "svg") != 0 && strcmp(format, "png") != 0)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "graph format must be dot, svg or png, got '%s'", format);
    char *dot = find_program("dot");
    if (!dot)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "cannot draw the graph: Graphviz's 'dot' is not installed (Debian: "
                            "apt-get install graphviz; scripts/bootstrap.sh installs it); "
                            "'sigode graph MODEL' still writes the Graphviz text");
    /* temporaries in the system's folder: the destination may be a FIFO or
     * a device, whose folder we must not write into */
    char text[] = "/tmp/sigode-graph.gv.XXXXXX", image[] = "/tmp/sigode-graph.img.XXXXXX";
    sg_status st = SG_OK;
    int fd_text = mkstemp(text), fd_image = fd_text >= 0 ? mkstemp(image) : -1;
    FILE *f = fd_image >= 0 ? fdopen(fd_text, "w") : NULL;
    if (!f) {
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot draw the graph: %s",
                          strerror(errno));
        if (fd_text >= 0)
            close(fd_text);
        goto done;
    }
    st = sg_model_write_dot(m, f, err);
    if (fclose(f) != 0 && st == SG_OK)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write the graph");
    if (st != SG_OK)
        goto done;
    char type[8];
    snprintf(type, sizeof type, "-T%s", format);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *null = freopen("/dev/null", "w", stderr);
        (void)null;
        execl(dot, "dot", type, "-o", image, text, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct stat sb;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "Graphviz's dot failed to draw the graph");
    else if (stat(image, &sb) != 0 || sb.st_size == 0)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "Graphviz's dot wrote an empty picture");
    else
        st = sg_write_atomic(path, copy_picture, image, err);
done:
    if (fd_text >= 0)
        unlink(text);
    if (fd_image >= 0) {
        close(fd_image);
        unlink(image);
    }
    sg_free(dot);
    return st;
}

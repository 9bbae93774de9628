/*
 * Derivatives with respect to parameters, for forward sensitivities: the
 * same symbolic differentiation and memoised code generation as the
 * Jacobian (program.c), with respect to non-state slots ("columns"), by
 * the chain rule through assignments:
 *   D(e, X) = de/dX + sum over assignments B that e uses of de/dB * D(B, X)
 * and, for outputs, the derivatives of the assignments with respect to the
 * states and the columns. Initial-value expressions keep their symbolic
 * partial derivatives, evaluated once per run (scenario/sens.c).
 */
#include <string.h>

#include "program.h"

typedef struct refs {
    int *slot;
    size_t n, cap;
} refs;

typedef struct entry {
    int key;   /* row (fu), or assignment (ax/au) */
    int other; /* column / state */
    int slot;
    double coef;
} entry;

typedef struct builder {
    sg_model *m;
    sg_sens_code *sc;
    sg_codegen *gen;
    unsigned char *seen;
    refs *arefs;       /* per assignment (model index) */
    refs *frefs;       /* per flux */
    sg_expr **dA;      /* D(assignment a, X) for the current X, NULL: zero */
    entry *fu;
    size_t nfu, fu_cap;
    entry *ax, *au;
    size_t nax, ax_cap, nau, au_cap;
} builder;

static int collect(builder *b, sg_expr *e, refs *r)
{
    if (sg_expr_slots(e, b->seen, &r->slot, &r->n, &r->cap) != 0)
        return -1;
    for (size_t k = 0; k < r->n; k++)
        b->seen[r->slot[k]] = 0;
    return 0;
}

static int is_assignment(const sg_model *m, int slot)
{
    return slot >= m->nstate && m->slot_kind[slot] == SG_SYM_ASSIGNMENT;
}

/* D(e, X) given dA for X; NULL with *oom = 0 when it is zero. */
static sg_expr *total_diff(builder *b, sg_expr *e, const refs *r, int x, int *oom)
{
    sg_model *m = b->m;
    int needed = 0;
    for (size_t k = 0; k < r->n && !needed; k++)
        needed = r->slot[k] == x ||
                 (is_assignment(m, r->slot[k]) && b->dA[m->slot_index[r->slot[k]]]);
    if (!needed)
        return NULL;
    sg_expr *d = sg_expr_diff(m->pool, e, x);
    for (size_t k = 0; d && k < r->n; k++) {
        int s = r->slot[k];
        if (!is_assignment(m, s) || !b->dA[m->slot_index[s]])
            continue;
        sg_expr *de_ds = sg_expr_diff(m->pool, e, s);
        sg_expr *term = de_ds ? sg_pool_op(m->pool, EX_MUL, 0, de_ds, b->dA[m->slot_index[s]],
                                           NULL)
                              : NULL;
        d = term ? sg_pool_op(m->pool, EX_ADD, 0, d, term, NULL) : NULL;
    }
    if (!d) {
        *oom = 1;
        return NULL;
    }
    return sg_expr_is_num(d, 0) ? NULL : d;
}

/* dA[] for X, in dependency order. */
static int assignment_derivatives(builder *b, int x)
{
    sg_model *m = b->m;
    for (int k = 0; k < m->nassignments; k++) {
        int a = m->assignment_order[k];
        int oom = 0;
        b->dA[a] = total_diff(b, m->assignments[a].value, &b->arefs[a], x, &oom);
        if (oom)
            return -1;
    }
    return 0;
}

static int push(entry **list, size_t *n, size_t *cap, entry e)
{
    if (sg_grow(list, cap, *n + 1, sizeof **list) != 0)
        return -1;
    (*list)[(*n)++] = e;
    return 0;
}

/* Groups entries by key into start[nkeys + 1] and per-entry arrays. */
static int group(const entry *list, size_t n, int nkeys, int **start, int **other, int **slot,
                 double **coef)
{
    *start = sg_calloc((size_t)nkeys + 2, sizeof **start);
    *other = sg_malloc((n + 1) * sizeof **other);
    *slot = sg_malloc((n + 1) * sizeof **slot);
    if (coef)
        *coef = sg_malloc((n + 1) * sizeof **coef);
    if (!*start || !*other || !*slot || (coef && !*coef))
        return -1;
    for (size_t e = 0; e < n; e++)
        (*start)[list[e].key + 1]++;
    for (int k = 0; k < nkeys; k++)
        (*start)[k + 1] += (*start)[k];
    int *fill = sg_malloc(((size_t)nkeys + 1) * sizeof *fill);
    if (!fill)
        return -1;
    memcpy(fill, *start, (size_t)nkeys * sizeof *fill);
    for (size_t e = 0; e < n; e++) {
        int at = fill[list[e].key]++;
        (*other)[at] = list[e].other;
        (*slot)[at] = list[e].slot;
        if (coef)
            (*coef)[at] = list[e].coef;
    }
    sg_free(fill);
    return 0;
}

static int flux_count(const sg_model *m) { return m->nreactions + m->nrate_rules; }
static sg_expr *flux_rate(const sg_model *m, int f)
{
    return f < m->nreactions ? m->reactions[f].rate : m->rate_rules[f - m->nreactions].rate;
}

static int compile_columns(builder *b)
{
    sg_model *m = b->m;
    sg_sens_code *sc = b->sc;
    for (int c = 0; c < sc->ncols; c++) {
        int x = sc->col_slot[c];
        if (assignment_derivatives(b, x) != 0)
            return -1;
        for (int f = 0; f < flux_count(m); f++) {
            int oom = 0;
            sg_expr *d = total_diff(b, flux_rate(m, f), &b->frefs[f], x, &oom);
            if (oom)
                return -1;
            if (!d)
                continue;
            int slot = sg_codegen_value(b->gen, d);
            if (slot < 0)
                return -1;
            if (f < m->nreactions) {
                const sg_reaction_def *r = &m->reactions[f];
                for (int t = 0; t < r->nterms; t++)
                    if (push(&b->fu, &b->nfu, &b->fu_cap,
                             (entry){c, m->species[r->terms[t].species].slot, slot,
                                     r->terms[t].coef}) != 0)
                        return -1;
            } else if (push(&b->fu, &b->nfu, &b->fu_cap,
                            (entry){c, m->rate_rules[f - m->nreactions].target_slot, slot,
                                    1.0}) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* Derivatives of every assignment with respect to states and columns. */
static int compile_outputs(builder *b)
{
    sg_model *m = b->m;
    sg_sens_code *sc = b->sc;
    if (m->nassignments == 0)
        return 0;
    for (int x = 0; x < m->nstate + sc->ncols; x++) {
        int slot_x = x < m->nstate ? x : sc->col_slot[x - m->nstate];
        if (assignment_derivatives(b, slot_x) != 0)
            return -1;
        for (int a = 0; a < m->nassignments; a++) {
            if (!b->dA[a])
                continue;
            int slot = sg_codegen_value(b->gen, b->dA[a]);
            if (slot < 0)
                return -1;
            int rc = x < m->nstate
                         ? push(&b->ax, &b->nax, &b->ax_cap, (entry){a, x, slot, 0})
                         : push(&b->au, &b->nau, &b->au_cap, (entry){a, x - m->nstate, slot, 0});
            if (rc != 0)
                return -1;
        }
    }
    return 0;
}

/* Slots e depends on, directly or through assignments (marks in `dep`,
 * appended to r). */
static int closure(builder *b, sg_expr *e, unsigned char *dep, refs *r)
{
    refs direct = {0};
    if (collect(b, e, &direct) != 0)
        return -1;
    for (size_t k = 0; k < direct.n; k++) {
        int s = direct.slot[k];
        if (dep[s])
            continue;
        dep[s] = 1;
        if (sg_grow(&r->slot, &r->cap, r->n + 1, sizeof *r->slot) != 0) {
            sg_free(direct.slot);
            return -1;
        }
        r->slot[r->n++] = s;
        if (is_assignment(b->m, s) &&
            closure(b, b->m->assignments[b->m->slot_index[s]].value, dep, r) != 0) {
            sg_free(direct.slot);
            return -1;
        }
    }
    sg_free(direct.slot);
    return 0;
}

/* The gradient of e with respect to the states, columns and time it
 * depends on. */
static int build_grad(builder *b, sg_expr *e, sg_grad *g)
{
    sg_model *m = b->m;
    sg_sens_code *sc = b->sc;
    unsigned char *dep = sg_calloc((size_t)m->nslots + 1, 1);
    refs r = {0};
    int rc = -1;
    memset(g, 0, sizeof *g);
    if (!dep || closure(b, e, dep, &r) != 0)
        goto done;
    refs self = {0};
    if (collect(b, e, &self) != 0)
        goto done;
    g->x = sg_malloc((r.n + 1) * sizeof(int));
    g->dx = sg_malloc((r.n + 1) * sizeof(sg_expr *));
    g->u = sg_malloc(((size_t)sc->ncols + 1) * sizeof(int));
    g->du = sg_malloc(((size_t)sc->ncols + 1) * sizeof(sg_expr *));
    if (!g->x || !g->dx || !g->u || !g->du) {
        sg_free(self.slot);
        goto done;
    }
    rc = 0;
    for (int x = -1; x < m->nstate + sc->ncols && rc == 0; x++) {
        int slot = x < 0 ? m->time_slot : x < m->nstate ? x : sc->col_slot[x - m->nstate];
        if (!dep[slot])
            continue;
        int oom = 0;
        sg_expr *d = NULL;
        if (assignment_derivatives(b, slot) != 0 ||
            (d = total_diff(b, e, &self, slot, &oom), oom)) {
            rc = -1;
        } else if (!d) {
            continue;
        } else if (x < 0) {
            g->dt = d;
        } else if (x < m->nstate) {
            g->x[g->nx] = x;
            g->dx[g->nx++] = d;
        } else {
            g->u[g->nu] = x - m->nstate;
            g->du[g->nu++] = d;
        }
    }
    sg_free(self.slot);
done:
    sg_free(dep);
    sg_free(r.slot);
    return rc;
}

static void free_grad(sg_grad *g)
{
    if (!g)
        return;
    sg_free(g->x);
    sg_free(g->dx);
    sg_free(g->u);
    sg_free(g->du);
}

static int compile_events(builder *b)
{
    sg_model *m = b->m;
    sg_sens_code *sc = b->sc;
    sg_expr **roots = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    if (m->ntriggers == 0)
        return 0;
    for (int k = 0; k < m->ntriggers; k++)
        if (sg_program_collect_roots(m->pool, m->triggers[k].trigger, &roots, &n, &cap) != 0)
            goto done;
    sc->root_grad = sg_calloc(n + 1, sizeof *sc->root_grad);
    sc->assign_grad = sg_calloc((size_t)m->ntriggers + 1, sizeof *sc->assign_grad);
    sc->assign_count = sg_calloc((size_t)m->ntriggers + 1, sizeof *sc->assign_count);
    if (!sc->root_grad || !sc->assign_grad || !sc->assign_count)
        goto done;
    sc->nroots = (int)n;
    sc->ntriggers_compiled = m->ntriggers;
    for (size_t r = 0; r < n; r++)
        if (build_grad(b, roots[r], &sc->root_grad[r]) != 0)
            goto done;
    for (int k = 0; k < m->ntriggers; k++) {
        const sg_trigger_def *t = &m->triggers[k];
        sc->assign_grad[k] = sg_calloc((size_t)t->nassigns + 1, sizeof(sg_grad));
        if (!sc->assign_grad[k])
            goto done;
        sc->assign_count[k] = t->nassigns;
        for (int a = 0; a < t->nassigns; a++)
            if (build_grad(b, t->assigns[a].value, &sc->assign_grad[k][a]) != 0)
                goto done;
    }
    rc = 0;
done:
    sg_free(roots);
    return rc;
}

/* Which slots depend on the parameters through initial values, and the
 * partial derivatives of each initial-value step. */
static sg_status initial_values(builder *b, unsigned char *dep, sg_error *err)
{
    sg_model *m = b->m;
    sg_sens_code *sc = b->sc;
    entry *list = NULL;
    size_t n = 0, cap = 0;
    sg_expr **d = NULL;
    size_t nd = 0, dcap = 0;
    sg_status st = SG_ERR_NOMEM;
    for (int k = 0; k < m->ninit_steps; k++) {
        const sg_init_step *step = &m->init_steps[k];
        refs r = {0};
        if (collect(b, step->value, &r) != 0)
            goto done;
        int depends = 0;
        for (size_t j = 0; j < r.n; j++) {
            depends |= dep[r.slot[j]];
            sg_expr *dj = sg_expr_diff(m->pool, step->value, r.slot[j]);
            if (!dj || push(&list, &n, &cap, (entry){k, r.slot[j], 0, 0}) != 0 ||
                sg_grow(&d, &dcap, nd + 1, sizeof *d) != 0) {
                sg_free(r.slot);
                goto done;
            }
            d[nd++] = dj;
        }
        sg_free(r.slot);
        if (depends)
            dep[step->slot] = 1;
    }
    sc->is_start = sg_calloc((size_t)m->ninit_steps + 1, sizeof(int));
    sc->is_slot = sg_malloc((n + 1) * sizeof(int));
    sc->is_d = sg_malloc((n + 1) * sizeof *sc->is_d);
    if (!sc->is_start || !sc->is_slot || !sc->is_d)
        goto done;
    /* entries were made in step order */
    for (size_t e = 0; e < n; e++) {
        sc->is_start[list[e].key + 1]++;
        sc->is_slot[e] = list[e].other;
        sc->is_d[e] = d[e];
    }
    for (int k = 0; k < m->ninit_steps; k++)
        sc->is_start[k + 1] += sc->is_start[k];
    st = SG_OK;
done:
    if (st == SG_ERR_NOMEM)
        sg_error_nomem(err);
    sg_free(list);
    sg_free(d);
    return st;
}

sg_status sg_sens_code_compile(sg_model *m, const int *param_slots, int nparams,
                               sg_sens_code **out, sg_error *err)
{
    *out = NULL;
    const sg_program *p = m->program;
    if (p->ndelays > 0) {
        /* d/dp of delay(x, tau) needs the history of dx/dp (and tau's
         * effect): not derived, so refused rather than taken as 0 */
        const sg_expr *x = p->delay_node[0]->arg[0];
        return sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                            "sensitivities of a model with delay(x, tau) are not supported "
                            "(here delay(%s, ...)%s)",
                            x->kind == EX_VAR ? m->slot_name[x->slot] : "an expression",
                            p->ndelays > 1 ? " and more" : "");
    }
    sg_sens_code *sc = sg_calloc(1, sizeof *sc);
    builder b = {.m = m, .sc = sc};
    unsigned char *dep = sg_calloc((size_t)m->nslots + 1, 1);
    int *is_param = sg_malloc(((size_t)m->nslots + 1) * sizeof *is_param);
    sg_status st = SG_ERR_NOMEM;
    if (!sc || !dep || !is_param)
        goto done;
    for (int s = 0; s < m->nslots; s++)
        is_param[s] = -1;
    sc->nparams = nparams;
    sc->param_slot = sg_malloc(((size_t)nparams + 1) * sizeof(int));
    if (!sc->param_slot)
        goto done;
    for (int k = 0; k < nparams; k++) {
        int s = param_slots[k];
        sg_symbol_kind kind = s >= 0 && s < m->nslots ? m->slot_kind[s] : SG_SYM_NONE;
        if (s < m->nstate)
            kind = SG_SYM_SPECIES; /* states: species, or rate-rule parameters */
        if (kind != SG_SYM_SPECIES && kind != SG_SYM_PARAMETER && kind != SG_SYM_COMPARTMENT) {
            st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                              "'%s' cannot be a sensitivity parameter (only parameters, "
                              "compartment sizes and species' initial values can)",
                              s >= 0 && s < m->nslots ? m->slot_name[s] : "?");
            goto done;
        }
        if (is_param[s] >= 0) {
            st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                              "sensitivity parameter '%s' is listed twice", m->slot_name[s]);
            goto done;
        }
        is_param[s] = k;
        sc->param_slot[k] = s;
        dep[s] = 1;
    }
    b.seen = sg_calloc((size_t)p->nslots + 1, 1);
    if (!b.seen)
        goto done;
    if ((st = initial_values(&b, dep, err)) != SG_OK)
        goto done;
    st = SG_ERR_NOMEM;
    /* columns: the non-state parameters, then derived initial values */
    sc->col_slot = sg_malloc(((size_t)nparams + (size_t)m->ninit_steps + 1) * sizeof(int));
    sc->col_param = sg_malloc(((size_t)nparams + (size_t)m->ninit_steps + 1) * sizeof(int));
    if (!sc->col_slot || !sc->col_param)
        goto done;
    for (int k = 0; k < nparams; k++)
        if (param_slots[k] >= m->nstate) {
            sc->col_slot[sc->ncols] = param_slots[k];
            sc->col_param[sc->ncols++] = k;
        }
    for (int k = 0; k < m->ninit_steps; k++) {
        int s = m->init_steps[k].slot;
        if (m->init_steps[k].is_init && dep[s] && s >= m->nstate && is_param[s] < 0) {
            sc->col_slot[sc->ncols] = s;
            sc->col_param[sc->ncols++] = -1;
        }
    }
    /* references of assignments and rates */
    b.arefs = sg_calloc((size_t)m->nassignments + 1, sizeof *b.arefs);
    b.frefs = sg_calloc((size_t)flux_count(m) + 1, sizeof *b.frefs);
    b.dA = sg_calloc((size_t)m->nassignments + 1, sizeof *b.dA);
    if (!b.arefs || !b.frefs || !b.dA)
        goto done;
    for (int a = 0; a < m->nassignments; a++)
        if (collect(&b, m->assignments[a].value, &b.arefs[a]) != 0)
            goto done;
    for (int f = 0; f < flux_count(m); f++)
        if (collect(&b, flux_rate(m, f), &b.frefs[f]) != 0)
            goto done;
    /* the code, over slots extending the model program's */
    sc->code = sg_calloc(1, sizeof *sc->code);
    if (!sc->code)
        goto done;
    sc->code->nslots = p->nslots;
    sc->code->base = sg_malloc(((size_t)p->nslots + 1) * sizeof(double));
    if (!sc->code->base)
        goto done;
    memcpy(sc->code->base, p->base, (size_t)p->nslots * sizeof(double));
    b.gen = sg_codegen_create(m, sc->code);
    if (!b.gen || compile_columns(&b) != 0)
        goto done;
    sc->n_rhs = sc->code->n_code;
    if (compile_outputs(&b) != 0 || compile_events(&b) != 0)
        goto done;
    if (group(b.fu, b.nfu, sc->ncols, &sc->fu_start, &sc->fu_row, &sc->fu_slot, &sc->fu_coef) !=
            0 ||
        group(b.ax, b.nax, m->nassignments, &sc->ax_start, &sc->ax_state, &sc->ax_slot, NULL) !=
            0 ||
        group(b.au, b.nau, m->nassignments, &sc->au_start, &sc->au_col, &sc->au_slot, NULL) != 0)
        goto done;
    st = SG_OK;
done:
    if (st == SG_ERR_NOMEM)
        sg_error_nomem(err);
    if (b.arefs)
        for (int a = 0; a < m->nassignments; a++)
            sg_free(b.arefs[a].slot);
    if (b.frefs)
        for (int f = 0; f < flux_count(m); f++)
            sg_free(b.frefs[f].slot);
    sg_free(b.arefs);
    sg_free(b.frefs);
    sg_free(b.dA);
    sg_free(b.seen);
    sg_free(b.fu);
    sg_free(b.ax);
    sg_free(b.au);
    sg_codegen_free(b.gen);
    sg_free(dep);
    sg_free(is_param);
    if (st != SG_OK) {
        sg_sens_code_free(sc);
        return st;
    }
    *out = sc;
    return SG_OK;
}

void sg_sens_code_free(sg_sens_code *sc)
{
    if (!sc)
        return;
    sg_free(sc->param_slot);
    sg_free(sc->col_slot);
    sg_free(sc->col_param);
    if (sc->code) {
        sg_free(sc->code->base);
        sg_free(sc->code->code);
        sg_free(sc->code);
    }
    sg_free(sc->fu_start);
    sg_free(sc->fu_row);
    sg_free(sc->fu_slot);
    sg_free(sc->fu_coef);
    sg_free(sc->ax_start);
    sg_free(sc->ax_state);
    sg_free(sc->ax_slot);
    sg_free(sc->au_start);
    sg_free(sc->au_col);
    sg_free(sc->au_slot);
    sg_free(sc->is_start);
    sg_free(sc->is_slot);
    sg_free(sc->is_d);
    if (sc->root_grad)
        for (int r = 0; r < sc->nroots; r++)
            free_grad(&sc->root_grad[r]);
    sg_free(sc->root_grad);
    if (sc->assign_grad)
        for (int k = 0; k < sc->ntriggers_compiled; k++) {
            for (int a = 0; a < sc->assign_count[k]; a++)
                free_grad(&sc->assign_grad[k][a]);
            sg_free(sc->assign_grad[k]);
        }
    sg_free(sc->assign_grad);
    sg_free(sc->assign_count);
    sg_free(sc);
}

/*
 * The compile step: bound expression DAGs -> one instruction program.
 * Each pool node is computed once (a memo from node id to slot), so a
 * subexpression shared by several rate laws, or by a rate law and its
 * derivative, costs one instruction.
 *
 * The Jacobian is derived by the chain rule through assignments:
 *   dA/dy_j = dA/dy_j|direct + sum over assignments B used by A of
 *             dA/dB * dB/dy_j
 * where each term is a pool node, built once per (assignment, species).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "program.h"
#include "vm.h"

typedef struct compiler {
    sg_model *m;
    sg_program *p;
    int *reg;              /* node id -> slot holding its value, -1 if none */
    size_t reg_cap;
    size_t code_cap;
    size_t base_cap;
    size_t delay_cap;
    unsigned char *timed;  /* per slot: 0 not known, 1 constant in time, 2 not */
    sg_error *err;
    /* cube_id[k] (ascending) is a node x^3 or x^4 and square[k] its x^2,
     * made before compiling (make_squares): compiling the rates then
     * writes no node, while the Jacobian is derived beside it */
    int *cube_id;
    sg_expr **square;
    size_t ncubes;
    int rc;                /* compile_rates' */
} compiler;

/* Dependencies of an assignment or a rate on the states, with the partial
 * derivative node for each. */
typedef struct dep_list {
    int *state;            /* state indices */
    sg_expr **d;           /* d expression / d state */
    int n;
} dep_list;

static void compiler_free(compiler *c)
{
    sg_free(c->reg);
    sg_free(c->timed);
    sg_free(c->cube_id);
    sg_free(c->square);
    c->reg = NULL;
    c->timed = NULL;
    c->cube_id = NULL;
    c->square = NULL;
}

static int ensure_reg(compiler *c, int id)
{
    size_t old = c->reg_cap;
    if ((size_t)id < old)
        return 0;
    if (sg_grow(&c->reg, &c->reg_cap, (size_t)id + 1, sizeof *c->reg) != 0)
        return -1;
    for (size_t i = old; i < c->reg_cap; i++)
        c->reg[i] = -1;
    return 0;
}

static int new_slot(compiler *c, double value)
{
    sg_program *p = c->p;
    if (sg_grow(&p->base, &c->base_cap, (size_t)p->nslots + 1, sizeof *p->base) != 0)
        return -1;
    p->base[p->nslots] = value;
    return p->nslots++;
}

static int emit(compiler *c, int op, int fn, int dst, int a, int b, int cc)
{
    sg_program *p = c->p;
    if (sg_grow(&p->code, &c->code_cap, (size_t)p->n_code + 1, sizeof *p->code) != 0)
        return -1;
    sg_instr *i = &p->code[p->n_code++];
    i->op = (uint8_t)op;
    i->fn = (uint8_t)fn;
    i->dst = dst;
    i->a = a;
    i->b = b;
    i->c = cc;
    return 0;
}

static int opcode_of(int kind)
{
    switch (kind) {
    case EX_NEG: return OP_NEG;
    case EX_NOT: return OP_NOT;
    case EX_ADD: return OP_ADD;
    case EX_SUB: return OP_SUB;
    case EX_MUL: return OP_MUL;
    case EX_DIV: return OP_DIV;
    case EX_POW: return OP_POW;
    case EX_LT: return OP_LT;
    case EX_LE: return OP_LE;
    case EX_GT: return OP_GT;
    case EX_GE: return OP_GE;
    case EX_EQ: return OP_EQ;
    case EX_NE: return OP_NE;
    case EX_AND: return OP_AND;
    case EX_OR: return OP_OR;
    case EX_MIN: return OP_MIN;
    case EX_MAX: return OP_MAX;
    case EX_FN: return OP_FN;
    case EX_IF: return OP_IF;
    case EX_DELAY: return OP_DELAY;
    }
    return -1;
}

static int value_of(compiler *c, sg_expr *e);

/* Makes the node x^2 of every x^3 and x^4 in the pool, in the order of
 * their ids. */
static int make_squares(compiler *c)
{
    sg_pool *pool = c->m->pool;
    const int *ids;
    size_t n = sg_pool_cubes(pool, &ids);
    c->cube_id = sg_malloc((n + 1) * sizeof *c->cube_id);
    c->square = sg_malloc((n + 1) * sizeof *c->square);
    if (!c->cube_id || !c->square)
        return -1;
    /* a copy: the thread deriving the Jacobian adds cubes to the pool's
     * list (x^4 gives 4 x^3) while the rates are compiled */
    if (n > 0) /* ids is NULL when there are none */
        memcpy(c->cube_id, ids, n * sizeof *ids);
    c->ncubes = n;
    sg_expr *two = sg_pool_num(pool, 2.0);
    for (size_t k = 0; k < n && two; k++) {
        sg_expr *cube = sg_pool_node(pool, c->cube_id[k]);
        if (!(c->square[k] = sg_pool_op(pool, EX_POW, 0, cube->arg[0], two, NULL)))
            return -1;
    }
    return two ? 0 : -1;
}

/* The node x^2 of the node x^3 or x^4 `cube`: made beforehand, or made now
 * (code compiled later, for nodes made after make_squares) */
static sg_expr *square_of(compiler *c, const sg_expr *cube)
{
    size_t lo = 0, hi = c->ncubes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->cube_id[mid] < cube->id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->ncubes && c->cube_id[lo] == cube->id)
        return c->square[lo];
    sg_pool *pool = c->m->pool;
    return sg_pool_op(pool, EX_POW, 0, cube->arg[0], sg_pool_num(pool, 2.0), NULL);
}

/* Whether e changes with time when the states do not (it reads `time` or
 * a delay, directly or through assignments): such a delay's x is computed
 * again before the start (delay.c). -1 without memory. */
static int reads_time(compiler *c, const sg_expr *e)
{
    const sg_model *m = c->m;
    if (e->kind == EX_DELAY)
        return 1;
    if (e->kind == EX_VAR) {
        int s = e->slot;
        if (s == m->time_slot)
            return 1;
        if (s >= m->nslots)
            return 0;
        if (!c->timed && !(c->timed = sg_calloc((size_t)m->nslots + 1, 1)))
            return -1;
        if (!c->timed[s]) {
            /* an assignment's expression, or an initial-value expression
             * (before the start it is computed at the earlier time) */
            c->timed[s] = 1; /* neither has cycles */
            int r = 0;
            if (m->slot_kind[s] == SG_SYM_ASSIGNMENT)
                r = reads_time(c, m->assignments[m->slot_index[s]].value);
            for (int i = 0; i < m->ninits && r == 0; i++)
                if (m->inits[i].slot == s)
                    r = reads_time(c, m->inits[i].value);
            if (r < 0)
                return -1;
            c->timed[s] = (unsigned char)(1 + r);
        }
        return c->timed[s] == 2;
    }
    for (int i = 0; i < e->nargs; i++) {
        int r = reads_time(c, e->arg[i]);
        if (r != 0)
            return r;
    }
    return 0;
}

/* Emits the instruction computing e into slot dst (arguments first). */
static int compute_into(compiler *c, sg_expr *e, int dst)
{
    int a = -1, b = -1, cc = -1;
    if (e->nargs > 0 && (a = value_of(c, e->arg[0])) < 0)
        return -1;
    if (e->nargs > 1 && (b = value_of(c, e->arg[1])) < 0)
        return -1;
    if (e->nargs > 2 && (cc = value_of(c, e->arg[2])) < 0)
        return -1;
    int op = opcode_of(e->kind);
    if (op == OP_DELAY) {
        /* c: the delay's number, its history's index */
        sg_program *p = c->p;
        size_t cap = c->delay_cap, n = (size_t)p->ndelays + 1;
        if (sg_grow(&p->delay_node, &cap, n, sizeof *p->delay_node) != 0)
            return -1;
        cap = c->delay_cap;
        if (sg_grow(&p->delay_x_slot, &cap, n, sizeof *p->delay_x_slot) != 0)
            return -1;
        cap = c->delay_cap;
        if (sg_grow(&p->delay_tau_slot, &cap, n, sizeof *p->delay_tau_slot) != 0)
            return -1;
        cap = c->delay_cap;
        if (sg_grow(&p->delay_timed, &cap, n, sizeof *p->delay_timed) != 0)
            return -1;
        c->delay_cap = cap;
        int timed = reads_time(c, e->arg[0]);
        if (timed < 0)
            return -1;
        p->delay_timed[p->ndelays] = timed;
        p->delay_node[p->ndelays] = e;
        p->delay_x_slot[p->ndelays] = a;
        p->delay_tau_slot[p->ndelays] = b;
        return emit(c, OP_DELAY, 0, dst, a, b, p->ndelays++);
    }
    if (op == OP_POW && e->arg[1]->kind == EX_NUM && e->arg[1]->num == 2.0)
        op = OP_SQUARE;
    if (sg_expr_is_cube(e)) {
        /* x^3 = x^2 x, x^4 = x^2 x^2: products instead of pow() */
        sg_expr *sq = square_of(c, e);
        int x2 = sq ? value_of(c, sq) : -1;
        if (x2 < 0)
            return -1;
        return emit(c, OP_MUL, 0, dst, x2, e->arg[1]->num == 3.0 ? a : x2, -1);
    }
    if (op == OP_POW && e->arg[1]->kind == EX_NUM && e->arg[1]->num == 0.5)
        return emit(c, OP_FN, FN_SQRT, dst, a, -1, -1);
    return emit(c, op, e->fn, dst, a, b, cc);
}

/* The slot holding e's value, emitting code the first time. */
static int value_of(compiler *c, sg_expr *e)
{
    if (ensure_reg(c, e->id) != 0)
        return -1;
    if (c->reg[e->id] >= 0)
        return c->reg[e->id];
    int slot;
    if (e->kind == EX_VAR) {
        slot = e->slot;
    } else if (e->kind == EX_NUM) {
        slot = new_slot(c, e->num);
    } else {
        slot = new_slot(c, 0.0);
        if (slot < 0 || compute_into(c, e, slot) != 0)
            return -1;
    }
    c->reg[e->id] = slot;
    return slot;
}

/* Computes e into a named slot (an assignment or a reaction rate). */
static int store(compiler *c, sg_expr *e, int dst)
{
    if (ensure_reg(c, e->id) != 0)
        return -1;
    if (c->reg[e->id] >= 0 || e->kind == EX_VAR || e->kind == EX_NUM) {
        int src = value_of(c, e);
        return src < 0 ? -1 : emit(c, OP_COPY, 0, dst, src, -1, -1);
    }
    if (compute_into(c, e, dst) != 0)
        return -1;
    c->reg[e->id] = dst;
    return 0;
}

/* ------------------------------------------------------- extra code */

/* Code generation for derived programs (sensitivities, compile/sens.c): the
 * same memoised emission into another sg_program whose slots extend the
 * model program's (it starts with a copy of its base values). */
struct sg_codegen {
    compiler c;
};

sg_codegen *sg_codegen_create(sg_model *m, sg_program *out)
{
    sg_codegen *g = sg_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->c.m = m;
    g->c.p = out;
    g->c.base_cap = (size_t)out->nslots;
    return g;
}

int sg_codegen_value(sg_codegen *g, sg_expr *e) { return value_of(&g->c, e); }

void sg_codegen_free(sg_codegen *g)
{
    if (!g)
        return;
    sg_free(g->c.reg);
    sg_free(g);
}

/* ---------------------------------------------------------------- fluxes */

/* A column of the stoichiometry (a flux) is a reaction, or a rate rule:
 * coefficient 1 on its target, not divided by a compartment size. */
static int flux_count(const sg_model *m) { return m->nreactions + m->nrate_rules; }

static int flux_nterms(const sg_model *m, int f)
{
    return f < m->nreactions ? m->reactions[f].nterms : 1;
}

static int flux_state(const sg_model *m, int f, int t)
{
    if (f < m->nreactions)
        return m->species[m->reactions[f].terms[t].species].slot;
    return m->rate_rules[f - m->nreactions].target_slot;
}

static double flux_coef(const sg_model *m, int f, int t)
{
    return f < m->nreactions ? m->reactions[f].terms[t].coef : 1.0;
}

static sg_expr *flux_rate(const sg_model *m, int f)
{
    return f < m->nreactions ? m->reactions[f].rate : m->rate_rules[f - m->nreactions].rate;
}

static int flux_slot(const sg_model *m, int f)
{
    return f < m->nreactions ? m->reactions[f].slot : m->rate_rules[f - m->nreactions].slot;
}

/* ----------------------------------------------------------- Jacobian */

typedef struct jac_term {
    int row, col;
    int slot;       /* slot of d rate / d state_col, filled when compiled */
    sg_expr *d;
    double coef;
} jac_term;

/* The Jacobian's terms, each with its derivative node: derived from the
 * model alone, while another thread may compile the rates (two_threads).
 * Deriving writes the pool; compiling the rates then only reads nodes. */
typedef struct derivation {
    sg_model *m;
    size_t max_terms;      /* the limit, see SG_MAX_JACOBIAN_TERMS */
    size_t dep_entries;    /* dependency entries made so far (limited) */
    int over_limit;        /* the limit was passed */
    sg_diff_memo *memo;    /* reused by every derivative */
    jac_term *terms;       /* (row, col, derivative, coefficient), diagonal first */
    size_t nterms;
    int rc;                /* 0, or -1: out of memory or over_limit */
} derivation;

/* Sorts terms by (col, row), keeping the order of equal terms (as the
 * merge sort of qsort did): a stable counting sort by row, then by col.
 * Rows and columns are in [0, n). */
static int sort_terms(jac_term *terms, size_t nterms, int n)
{
    jac_term *tmp = sg_malloc(nterms * sizeof *tmp);
    size_t *count = sg_malloc(((size_t)n + 1) * sizeof *count);
    if (!tmp || !count) {
        sg_free(tmp);
        sg_free(count);
        return -1;
    }
    memset(count, 0, ((size_t)n + 1) * sizeof *count);
    for (size_t k = 0; k < nterms; k++)
        count[terms[k].row + 1]++;
    for (int i = 0; i < n; i++)
        count[i + 1] += count[i];
    for (size_t k = 0; k < nterms; k++)
        tmp[count[terms[k].row]++] = terms[k];
    memset(count, 0, ((size_t)n + 1) * sizeof *count);
    for (size_t k = 0; k < nterms; k++)
        count[tmp[k].col + 1]++;
    for (int i = 0; i < n; i++)
        count[i + 1] += count[i];
    for (size_t k = 0; k < nterms; k++)
        terms[count[tmp[k].col]++] = tmp[k];
    sg_free(tmp);
    sg_free(count);
    return 0;
}

/* Builds the dependency list of expression e: each state it depends on,
 * directly or through assignments, with d e / d state. `adeps` holds the
 * lists of the assignments (complete for those e may use). `mark` is a
 * per-state scratch of -1s, returned to -1. */
static int build_deps(derivation *c, sg_expr *e, const dep_list *adeps, int *mark,
                      unsigned char *seen, dep_list *out)
{
    sg_model *m = c->m;
    int *slots = NULL;
    size_t nslots = 0, cap = 0;
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (sg_expr_slots(e, seen, &slots, &nslots, &cap) != 0)
        goto done;
    for (size_t k = 0; k < nslots; k++)
        seen[slots[k]] = 0;
    /* the set of states: direct ones and those of assignments used */
    size_t total = 0;
    for (size_t k = 0; k < nslots; k++) {
        int s = slots[k];
        if (s < m->nstate)
            total++;
        else if (m->slot_kind[s] == SG_SYM_ASSIGNMENT)
            total += (size_t)adeps[m->slot_index[s]].n;
    }
    c->dep_entries += total;
    if (c->dep_entries > c->max_terms) {
        c->over_limit = 1;
        goto done;
    }
    out->state = sg_malloc((total + 1) * sizeof *out->state);
    out->d = sg_malloc((total + 1) * sizeof *out->d);
    if (!out->state || !out->d)
        goto done;
    for (size_t k = 0; k < nslots; k++) {
        int s = slots[k];
        if (s < m->nstate && mark[s] < 0) {
            mark[s] = out->n;
            out->state[out->n++] = s;
        } else if (s >= m->nstate && m->slot_kind[s] == SG_SYM_ASSIGNMENT) {
            const dep_list *b = &adeps[m->slot_index[s]];
            for (int j = 0; j < b->n; j++)
                if (mark[b->state[j]] < 0) {
                    mark[b->state[j]] = out->n;
                    out->state[out->n++] = b->state[j];
                }
        }
    }
    /* the derivative for each state: the direct part, then the chain rule
     * through each assignment used, in slot order (mark[] maps a state to
     * its entry), so each d e / d assignment is derived once */
    for (int j = 0; j < out->n; j++)
        if (!(out->d[j] = sg_expr_diff_memo(m->pool, c->memo, e, out->state[j])))
            goto done;
    for (size_t k = 0; k < nslots; k++) {
        int s = slots[k];
        if (s < m->nstate || m->slot_kind[s] != SG_SYM_ASSIGNMENT)
            continue;
        const dep_list *b = &adeps[m->slot_index[s]];
        if (b->n == 0)
            continue;
        sg_expr *de_db = sg_expr_diff_memo(m->pool, c->memo, e, s);
        if (!de_db)
            goto done;
        for (int i = 0; i < b->n; i++) {
            int j = mark[b->state[i]];
            out->d[j] = sg_pool_op(m->pool, EX_ADD, 0, out->d[j],
                                   sg_pool_op(m->pool, EX_MUL, 0, de_db, b->d[i], NULL), NULL);
            if (!out->d[j])
                goto done;
        }
    }
    rc = 0;
done:
    for (int j = 0; j < out->n; j++)
        mark[out->state[j]] = -1;
    sg_free(slots);
    return rc;
}

static void free_deps(dep_list *d, int n)
{
    if (!d)
        return;
    for (int i = 0; i < n; i++) {
        sg_free(d[i].state);
        sg_free(d[i].d);
    }
    sg_free(d);
}

static void derive_terms(derivation *j)
{
    sg_model *m = j->m;
    int n = m->nstate;
    dep_list *adeps = sg_calloc((size_t)m->nassignments + 1, sizeof *adeps);
    dep_list rdeps = {0};
    int *mark = sg_malloc(((size_t)n + 1) * sizeof *mark);
    unsigned char *seen = sg_calloc((size_t)m->nslots + 1, 1);
    size_t terms_cap = 0;
    j->rc = -1;
    j->memo = sg_diff_memo_create();
    if (!adeps || !mark || !seen || !j->memo)
        goto done;
    /* room for the diagonal and two terms a rate, at once: doubling from 8
     * copied the array 17 times at 10^5 species (0.8 M terms, 26 MB) */
    size_t expected = (size_t)n + 2 * (size_t)flux_count(m);
    if (sg_grow(&j->terms, &terms_cap, expected, sizeof *j->terms) != 0)
        goto done;
    for (int i = 0; i < n; i++)
        mark[i] = -1;
    for (int k = 0; k < m->nassignments; k++) {
        int a = m->assignment_order[k];
        if (build_deps(j, m->assignments[a].value, adeps, mark, seen, &adeps[a]) != 0)
            goto done;
    }
    /* the diagonal is always in the pattern: CVODE adds the identity */
    for (int i = 0; i < n; i++) {
        if (sg_grow(&j->terms, &terms_cap, j->nterms + 1, sizeof *j->terms) != 0)
            goto done;
        j->terms[j->nterms++] = (jac_term){i, i, -1, NULL, 0.0};
    }
    for (int r = 0; r < flux_count(m); r++) {
        int nt = flux_nterms(m, r);
        if (nt == 0)
            continue;
        if (build_deps(j, flux_rate(m, r), adeps, mark, seen, &rdeps) != 0)
            goto done;
        for (int k = 0; k < rdeps.n; k++) {
            if (sg_expr_is_num(rdeps.d[k], 0))
                continue;
            for (int t = 0; t < nt; t++) {
                if (j->nterms >= j->max_terms) {
                    j->over_limit = 1;
                    goto done;
                }
                if (sg_grow(&j->terms, &terms_cap, j->nterms + 1, sizeof *j->terms) != 0)
                    goto done;
                j->terms[j->nterms++] = (jac_term){flux_state(m, r, t), rdeps.state[k], -1,
                                                   rdeps.d[k], flux_coef(m, r, t)};
            }
        }
        sg_free(rdeps.state);
        sg_free(rdeps.d);
        memset(&rdeps, 0, sizeof rdeps);
    }
    j->rc = 0;
done:
    sg_free(rdeps.state);
    sg_free(rdeps.d);
    free_deps(adeps, m->nassignments);
    sg_free(mark);
    sg_free(seen);
    sg_diff_memo_free(j->memo);
    j->memo = NULL;
}

/* Compiles the derived terms and lays them out as the sparse Jacobian;
 * frees j's terms. */
static int compile_jacobian(compiler *c, derivation *j)
{
    sg_model *m = c->m;
    sg_program *p = c->p;
    int n = m->nstate, rc = -1;
    jac_term *terms = j->terms;
    size_t nterms = j->nterms;
    j->terms = NULL;
    j->nterms = 0;
    /* compile every derivative once (the memo shares common parts) */
    for (size_t k = 0; k < nterms; k++)
        if (terms[k].d && (terms[k].slot = value_of(c, terms[k].d)) < 0)
            goto done;
    if (nterms > 1 && sort_terms(terms, nterms, n) != 0)
        goto done;
    /* compress into CSC entries */
    size_t nnz = 0;
    for (size_t k = 0; k < nterms; k++)
        if (k == 0 || terms[k].row != terms[k - 1].row || terms[k].col != terms[k - 1].col)
            nnz++;
    size_t nsum = 0;
    for (size_t k = 0; k < nterms; k++)
        nsum += terms[k].d != NULL;
    p->nnz = (int)nnz;
    p->jac_colptr = sg_calloc((size_t)n + 1, sizeof(int));
    p->jac_rowidx = sg_malloc((nnz + 1) * sizeof(int));
    p->jt_start = sg_malloc((nnz + 1) * sizeof(int));
    p->jt_slot = sg_malloc((nsum + 1) * sizeof(int));
    p->jt_coef = sg_malloc((nsum + 1) * sizeof(double));
    if (!p->jac_colptr || !p->jac_rowidx || !p->jt_start || !p->jt_slot || !p->jt_coef)
        goto done;
    int e = -1, s = 0;
    for (size_t k = 0; k < nterms; k++) {
        if (k == 0 || terms[k].row != terms[k - 1].row || terms[k].col != terms[k - 1].col) {
            e++;
            p->jac_rowidx[e] = terms[k].row;
            p->jt_start[e] = s;
            p->jac_colptr[terms[k].col + 1]++;
        }
        if (terms[k].d) {
            p->jt_slot[s] = terms[k].slot;
            p->jt_coef[s] = terms[k].coef;
            s++;
        }
    }
    p->jt_start[nnz] = s;
    for (int i = 0; i < n; i++)
        p->jac_colptr[i + 1] += p->jac_colptr[i];
    rc = 0;
done:
    sg_free(terms);
    return rc;
}

/* ------------------------------------------------------------ events */

/* Collects the comparisons of a trigger as root functions a - b (once
 * each, in the order met). */
int sg_program_collect_roots(sg_pool *pool, sg_expr *e, sg_expr ***roots, size_t *n,
                             size_t *cap)
{
    if (e->kind >= EX_LT && e->kind <= EX_NE) {
        sg_expr *g = sg_pool_op(pool, EX_SUB, 0, e->arg[0], e->arg[1], NULL);
        if (!g)
            return -1;
        for (size_t k = 0; k < *n; k++)
            if ((*roots)[k] == g)
                return 0;
        if (sg_grow(roots, cap, *n + 1, sizeof **roots) != 0)
            return -1;
        (*roots)[(*n)++] = g;
        return 0;
    }
    for (int i = 0; i < e->nargs; i++)
        if (sg_program_collect_roots(pool, e->arg[i], roots, n, cap) != 0)
            return -1;
    return 0;
}

/* The equality comparisons of a trigger and the index of their root
 * function among the roots collected. */
static int collect_equalities(sg_program *p, sg_pool *pool, const sg_expr *e, sg_expr **roots,
                              size_t nroots, size_t *cap)
{
    if (e->kind == EX_EQ) {
        sg_expr *g = sg_pool_op(pool, EX_SUB, 0, e->arg[0], e->arg[1], NULL); /* exists */
        for (size_t r = 0; g && r < nroots; r++)
            if (roots[r] == g) {
                if (sg_grow(&p->equalities, cap, (size_t)p->nequalities + 1,
                            sizeof *p->equalities) != 0)
                    return -1;
                int *idx = sg_realloc(p->equality_root, sizeof(int) * ((size_t)p->nequalities + 1));
                if (!idx)
                    return -1;
                p->equality_root = idx;
                p->equalities[p->nequalities] = e;
                p->equality_root[p->nequalities++] = (int)r;
                break;
            }
        return 0;
    }
    for (int i = 0; i < e->nargs; i++)
        if (collect_equalities(p, pool, e->arg[i], roots, nroots, cap) != 0)
            return -1;
    return 0;
}

/* Computes every delay(x, tau) of e (an event's assignment, delay or
 * priority, read by the sim with sg_expr_eval): each must have a history. */
static int compile_delays_in(compiler *c, sg_expr *e)
{
    if (!e)
        return 0;
    if (e->kind == EX_DELAY)
        return value_of(c, e) < 0 ? -1 : 0;
    for (int i = 0; i < e->nargs; i++)
        if (compile_delays_in(c, e->arg[i]) != 0)
            return -1;
    return 0;
}

static int compile_roots(compiler *c)
{
    sg_model *m = c->m;
    sg_program *p = c->p;
    sg_expr **roots = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    p->ntriggers = m->ntriggers;
    p->trigger_slot = sg_malloc(sizeof(int) * ((size_t)m->ntriggers + 1));
    if (!p->trigger_slot)
        goto done;
    for (int k = 0; k < m->ntriggers; k++) {
        if (sg_program_collect_roots(m->pool, m->triggers[k].trigger, &roots, &n, &cap) != 0)
            goto done;
        if ((p->trigger_slot[k] = value_of(c, m->triggers[k].trigger)) < 0)
            goto done;
    }
    p->nroots = (int)n;
    p->root_slot = sg_malloc(sizeof(int) * (n + 1));
    if (!p->root_slot)
        goto done;
    for (size_t k = 0; k < n; k++)
        if ((p->root_slot[k] = value_of(c, roots[k])) < 0)
            goto done;
    size_t eq_cap = 0;
    for (int k = 0; k < m->ntriggers; k++)
        if (collect_equalities(p, m->pool, m->triggers[k].trigger, roots, n, &eq_cap) != 0)
            goto done;
    for (int k = 0; k < m->ntriggers; k++) {
        const sg_trigger_def *t = &m->triggers[k];
        if (compile_delays_in(c, t->delay) != 0 || compile_delays_in(c, t->priority) != 0)
            goto done;
        for (int a = 0; a < t->nassigns; a++)
            if (compile_delays_in(c, t->assigns[a].value) != 0)
                goto done;
    }
    rc = 0;
done:
    sg_free(roots);
    return rc;
}

/* ------------------------------------------------------ stoichiometry */

static int compile_stoichiometry(compiler *c)
{
    sg_model *m = c->m;
    sg_program *p = c->p;
    int n = m->nstate;
    size_t total = 0;
    p->st_start = sg_calloc((size_t)n + 1, sizeof(int));
    p->state_comp_slot = sg_malloc(((size_t)n + 1) * sizeof(int));
    if (!p->st_start || !p->state_comp_slot)
        return -1;
    for (int r = 0; r < flux_count(m); r++)
        for (int t = 0; t < flux_nterms(m, r); t++) {
            p->st_start[flux_state(m, r, t) + 1]++;
            total++;
        }
    for (int i = 0; i < n; i++)
        p->st_start[i + 1] += p->st_start[i];
    p->st_rate = sg_malloc((total + 1) * sizeof(int));
    p->st_coef = sg_malloc((total + 1) * sizeof(double));
    int *fill = sg_malloc(((size_t)n + 1) * sizeof(int));
    if (!p->st_rate || !p->st_coef || !fill) {
        sg_free(fill);
        return -1;
    }
    memcpy(fill, p->st_start, (size_t)n * sizeof(int));
    for (int r = 0; r < flux_count(m); r++)
        for (int t = 0; t < flux_nterms(m, r); t++) {
            int i = flux_state(m, r, t);
            p->st_rate[fill[i]] = flux_slot(m, r);
            p->st_coef[fill[i]++] = flux_coef(m, r, t);
        }
    sg_free(fill);
    /* reactions change concentrations by amount / size; rate rules give
     * the derivative itself (a slot holding 1) */
    int one = new_slot(c, 1.0);
    if (one < 0)
        return -1;
    for (int i = 0; i < n; i++)
        p->state_comp_slot[i] = one;
    for (int s = 0; s < m->nspecies; s++)
        if (!m->species[s].constant && m->species[s].slot < n)
            p->state_comp_slot[m->species[s].slot] =
                m->compartments[m->species[s].compartment].slot;
    for (int k = 0; k < m->nrate_rules; k++)
        p->state_comp_slot[m->rate_rules[k].target_slot] = one;
    return 0;
}

/* ------------------------------------------------------------ rates */

/* Compiles the assignments, the rates, the roots and the stoichiometry:
 * c->rc 0, or -1 when out of memory. */
static void compile_rates(compiler *c)
{
    sg_model *m = c->m;
    sg_program *p = c->p;
    c->rc = -1;
    for (int k = 0; k < m->nassignments; k++) {
        sg_assignment_def *a = &m->assignments[m->assignment_order[k]];
        if (store(c, a->value, a->slot) != 0)
            return;
    }
    p->n_assign = p->n_code;
    for (int r = 0; r < flux_count(m); r++)
        if (store(c, flux_rate(m, r), flux_slot(m, r)) != 0)
            return;
    p->n_rhs = p->n_code;
    if (compile_roots(c) != 0)
        return;
    p->n_roots = p->n_code;
    if (compile_stoichiometry(c) != 0)
        return;
    c->rc = 0;
}

static void *compile_rates_beside(void *arg)
{
    compile_rates(arg);
    return NULL;
}

int sg_compile_two_threads = -1;

/* Whether the rates are compiled by another thread while this one derives
 * the Jacobian: with 2 cores, for models with many rates (a thread costs
 * tens of microseconds; at 10^5 species, deriving takes 230-330 ms,
 * compiling the rates 50-100 ms). Not with events: compiling their roots
 * makes nodes, and node ids order the arguments of + and *. Without events
 * compiling the rates makes none (make_squares made the x^2 it needs):
 * every node is made in the same order with or without the thread, and the
 * program is the same. */
static int two_threads(const sg_model *m)
{
    if (flux_count(m) == 0 || m->ntriggers > 0)
        return 0;
    if (sg_compile_two_threads >= 0)
        return sg_compile_two_threads;
    return flux_count(m) >= SG_COMPILE_TWO_THREADS_MIN_RATES && sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

/* ---------------------------------------------------------- optimising */

static int instr_level(const sg_instr *i, const int *level)
{
    int l = level[i->a]; /* every instruction reads a */
    if (i->b >= 0 && level[i->b] > l)
        l = level[i->b];
    if (i->c >= 0 && i->op != OP_DELAY && level[i->c] > l)
        l = level[i->c];
    return l + 1;
}

/* Sorts the instruction indexes idx[0..n) (in increasing order) by
 * (level, op, index): a stable counting sort by op into tmp, then by level
 * back into idx. level_of[k] is instruction k's level, at most max_level;
 * `count` holds max_level + 2 (at least OP_LAST + 2). Indexes, not
 * (level, op, index) records: 8 bytes an instruction instead of 24. */
static void sort_by_level(int *idx, int *tmp, int n, const sg_instr *code, const int *level_of,
                          int *count, int max_level)
{
    memset(count, 0, sizeof *count * (OP_LAST + 2));
    for (int r = 0; r < n; r++)
        count[code[idx[r]].op + 1]++;
    for (int o = 0; o <= OP_LAST; o++)
        count[o + 1] += count[o];
    for (int r = 0; r < n; r++)
        tmp[count[code[idx[r]].op]++] = idx[r];
    memset(count, 0, sizeof *count * ((size_t)max_level + 2));
    for (int r = 0; r < n; r++)
        count[level_of[tmp[r]] + 1]++;
    for (int l = 0; l <= max_level; l++)
        count[l + 1] += count[l];
    for (int r = 0; r < n; r++)
        idx[count[level_of[tmp[r]]]++] = tmp[r];
}

/* Two rewrites that keep every value the same:
 * - instructions that read no state and no time, directly or not, move to
 *   the setup code, run once per start instead of at every evaluation;
 * - within each section, instructions are ordered by dependency level, then
 *   by opcode, so runs of the same operation help branch prediction. */
static int optimise(compiler *c)
{
    sg_program *p = c->p;
    int rc = -1;
    unsigned char *varying = sg_calloc((size_t)p->nslots + 1, 1);
    int *level = sg_calloc((size_t)p->nslots + 1, sizeof(int));
    sg_instr *code = sg_malloc(sizeof *code * ((size_t)p->n_code + 1));
    int *sorted = sg_malloc(sizeof *sorted * ((size_t)p->n_code + 1));
    int *sort_tmp = sg_malloc(sizeof *sort_tmp * ((size_t)p->n_code + 1));
    /* an instruction's level, then its new position */
    int *new_position = sg_malloc(sizeof *new_position * ((size_t)p->n_code + 1));
    /* count and setup grow to what is used: sized for every instruction,
     * as before, they were allocated (and their pages mapped in) whole,
     * 40 MB of the 100,000-species network where a few dozen levels and
     * no setup instruction are used */
    int *count = NULL;
    size_t count_cap = 0, setup_cap = 0;
    p->emit_order = sg_malloc(sizeof *p->emit_order * ((size_t)p->n_code + 1));
    if (!varying || !level || !code || !sorted || !new_position || !sort_tmp || !p->emit_order)
        goto done;
    for (int i = 0; i < p->nstate; i++)
        varying[i] = 1;
    varying[p->time_slot] = 1;
    int bounds[5] = {0, p->n_assign, p->n_rhs, p->n_roots, p->n_code};
    int kept = 0;
    for (int sec = 0; sec < 4; sec++) {
        int nrank = 0, max_level = 0;
        for (int k = bounds[sec]; k < bounds[sec + 1]; k++) {
            sg_instr *i = &p->code[k];
            /* a delay's value changes with time whatever its x */
            int v = varying[i->a] || (i->b >= 0 && varying[i->b]) ||
                    (i->c >= 0 && i->op != OP_DELAY && varying[i->c]) || i->op == OP_DELAY;
            varying[i->dst] = (unsigned char)v;
            if (!v) {
                if (sg_grow(&p->setup, &setup_cap, (size_t)p->n_setup + 1, sizeof *p->setup) != 0)
                    goto done;
                p->setup[p->n_setup++] = *i;
                continue;
            }
            level[i->dst] = instr_level(i, level);
            if (level[i->dst] > max_level)
                max_level = level[i->dst];
            new_position[k] = level[i->dst];
            sorted[nrank++] = k;
        }
        /* sorted[] is in compile order (depth first: a value is made just
         * before its first use); the native backend keeps that order */
        for (int r = 0; r < nrank; r++)
            p->emit_order[kept + r] = sorted[r];
        /* levels are at most the number of instructions (each one is one
         * more than one of its arguments' levels) */
        if (sg_grow(&count, &count_cap, (size_t)max_level + OP_LAST + 3, sizeof *count) != 0)
            goto done;
        sort_by_level(sorted, sort_tmp, nrank, p->code, new_position, count, max_level);
        for (int r = 0; r < nrank; r++)
            new_position[sorted[r]] = kept + r;
        for (int r = 0; r < nrank; r++)
            p->emit_order[kept + r] = new_position[p->emit_order[kept + r]];
        for (int r = 0; r < nrank; r++)
            code[kept++] = p->code[sorted[r]];
        if (sec == 0)
            p->n_assign = kept;
        else if (sec == 1)
            p->n_rhs = kept;
        else if (sec == 2)
            p->n_roots = kept;
    }
    if (!p->setup && !(p->setup = sg_malloc(sizeof *p->setup))) /* never NULL, as before */
        goto done;
    if (kept > 0) /* p->code is NULL when there is no code */
        memcpy(p->code, code, sizeof *code * (size_t)kept);
    p->n_code = kept;
    rc = 0;
done:
    sg_free(varying);
    sg_free(level);
    sg_free(code);
    sg_free(sorted);
    sg_free(new_position);
    sg_free(sort_tmp);
    sg_free(count);
    return rc;
}

sg_status sg_program_compile(sg_model *m, sg_program **out, sg_error *err)
{
    *out = NULL;
    sg_program *p = sg_calloc(1, sizeof *p);
    compiler c = {.m = m, .p = p, .err = err};
    derivation jac = {.m = m, .max_terms = SG_MAX_JACOBIAN_TERMS};
    if (!p)
        return sg_error_nomem(err);
    if ((size_t)m->nstate * SG_JACOBIAN_TERMS_PER_STATE > jac.max_terms)
        jac.max_terms = (size_t)m->nstate * SG_JACOBIAN_TERMS_PER_STATE;
    p->nstate = m->nstate;
    p->time_slot = m->time_slot;
    p->nslots = m->nslots;
    p->nmodel_slots = m->nslots;
    p->slot_names = m->slot_name;
    c.base_cap = (size_t)m->nslots;
    p->base = sg_malloc(((size_t)m->nslots + 1) * sizeof(double));
    if (!p->base)
        goto nomem;
    memcpy(p->base, m->initial_values, (size_t)m->nslots * sizeof(double));
    if (make_squares(&c) != 0)
        goto nomem;
    pthread_t compiling;
    if (two_threads(m)) {
        /* The arrays the other thread fills are sized here, for up to one
         * instruction and slot per node so far (at 10^5 species 0.87 M
         * instructions from 1.48 M nodes; the sizes the arrays doubled to
         * anyway), and the node-to-slot memo for every node so far. Grown
         * by that thread, they came from a heap of its own, in fresh pages
         * which the kernel zeroed for two thirds of its time (perf), and
         * peak RSS was 683 MB against 648 MB with one thread; 630 MB this
         * way. */
        size_t nodes = (size_t)sg_pool_size(m->pool);
        if (ensure_reg(&c, (int)nodes) != 0 ||
            sg_grow(&p->code, &c.code_cap, nodes, sizeof *p->code) != 0 ||
            sg_grow(&p->base, &c.base_cap, nodes, sizeof *p->base) != 0)
            goto nomem;
        p->two_threads = pthread_create(&compiling, NULL, compile_rates_beside, &c) == 0;
    }
    if (!p->two_threads)
        compile_rates(&c);
    if (p->two_threads || c.rc == 0) /* c.rc is the other thread's until joined */
        derive_terms(&jac);
    if (p->two_threads)
        pthread_join(compiling, NULL);
    if (c.rc != 0 || jac.rc != 0 || compile_jacobian(&c, &jac) != 0 || optimise(&c) != 0)
        goto nomem;
    /* the compiler's memory first: the VM's build reuses it */
    compiler_free(&c);
    if (sg_vm_build(p) != 0)
        goto nomem;
    *out = p;
    return SG_OK;
nomem:
    compiler_free(&c);
    sg_free(jac.terms);
    sg_program_free(p);
    if (jac.over_limit)
        return sg_error_set(err, SG_ERR_LIMIT, NULL, 0, 0,
                            "the Jacobian needs more than %zu entries (the limit): rates "
                            "depend, directly or through assignments, on too many species",
                            jac.max_terms);
    return sg_error_nomem(err);
}

void sg_program_free(sg_program *p)
{
    if (!p)
        return;
    sg_free(p->base);
    sg_free(p->code);
    sg_free(p->setup);
    sg_free(p->emit_order);
    sg_free(p->st_start);
    sg_free(p->st_rate);
    sg_free(p->st_coef);
    sg_free(p->state_comp_slot);
    sg_free(p->jac_colptr);
    sg_free(p->jac_rowidx);
    sg_free(p->jt_start);
    sg_free(p->jt_slot);
    sg_free(p->jt_coef);
    sg_free(p->root_slot);
    sg_free(p->equalities);
    sg_free(p->equality_root);
    sg_free(p->trigger_slot);
    sg_free(p->delay_node);
    sg_free(p->delay_x_slot);
    sg_free(p->delay_tau_slot);
    sg_free(p->delay_timed);
    sg_native_unload(p->native);
    sg_vm_free(p->vm);
    sg_free(p);
}

/* ---------------------------------------------------------- evaluation */

static void run(const sg_instr *i, const sg_instr *stop, double *v);

void sg_program_scale(const sg_program *p, double *v, double *st_scaled, double *jt_scaled)
{
    run(p->setup, p->setup + p->n_setup, v);
    for (int i = 0; i < p->nstate; i++) {
        double inv = 1.0 / v[p->state_comp_slot[i]];
        for (int k = p->st_start[i]; k < p->st_start[i + 1]; k++)
            st_scaled[k] = p->st_coef[k] * inv;
    }
    for (int j = 0; j < p->nstate; j++)
        for (int e = p->jac_colptr[j]; e < p->jac_colptr[j + 1]; e++) {
            double inv = 1.0 / v[p->state_comp_slot[p->jac_rowidx[e]]];
            for (int k = p->jt_start[e]; k < p->jt_start[e + 1]; k++)
                jt_scaled[k] = p->jt_coef[k] * inv;
        }
}

void sg_program_exec(const sg_program *p, int begin, int end, double *v)
{
    if (begin >= end)
        return; /* also when there is no code at all (p->code is NULL) */
    if (p->native && begin == 0 && sg_native_exec(p, end, v) == 0)
        return;
    if (p->vm && begin == 0 && sg_vm_exec(p->vm, end, v) == 0)
        return;
    run(p->code + begin, p->code + end, v);
}

/* The operation of each opcode, in the order of sg_opcode. */
#define SG_OPERATIONS(X)                                                        \
    X(OP_COPY, v[i->dst] = v[i->a])                                            \
    X(OP_NEG, v[i->dst] = -v[i->a])                                            \
    X(OP_NOT, v[i->dst] = v[i->a] == 0.0)                                      \
    X(OP_ADD, v[i->dst] = v[i->a] + v[i->b])                                   \
    X(OP_SUB, v[i->dst] = v[i->a] - v[i->b])                                   \
    X(OP_MUL, v[i->dst] = v[i->a] * v[i->b])                                   \
    X(OP_DIV, v[i->dst] = v[i->a] / v[i->b])                                   \
    X(OP_POW, v[i->dst] = pow(v[i->a], v[i->b]))                               \
    X(OP_SQUARE, v[i->dst] = v[i->a] * v[i->a])                                \
    X(OP_LT, v[i->dst] = v[i->a] < v[i->b])                                    \
    X(OP_LE, v[i->dst] = v[i->a] <= v[i->b])                                   \
    X(OP_GT, v[i->dst] = v[i->a] > v[i->b])                                    \
    X(OP_GE, v[i->dst] = v[i->a] >= v[i->b])                                   \
    X(OP_EQ, v[i->dst] = v[i->a] == v[i->b])                                   \
    X(OP_NE, v[i->dst] = v[i->a] != v[i->b])                                   \
    X(OP_AND, v[i->dst] = v[i->a] != 0.0 && v[i->b] != 0.0)                    \
    X(OP_OR, v[i->dst] = v[i->a] != 0.0 || v[i->b] != 0.0)                     \
    X(OP_MIN, v[i->dst] = sg_op_apply(EX_MIN, v[i->a], v[i->b]))               \
    X(OP_MAX, v[i->dst] = sg_op_apply(EX_MAX, v[i->a], v[i->b]))               \
    X(OP_FN, v[i->dst] = sg_fn_apply(i->fn, v[i->a]))                          \
    X(OP_IF, v[i->dst] = v[i->a] != 0.0 ? v[i->b] : v[i->c])                    \
    X(OP_DELAY, v[i->dst] = sg_delay_lookup(i->c, v[i->a], v[i->b], v))

#if defined(__GNUC__)
/* Threaded dispatch (GCC/Clang labels as values): each operation jumps
 * straight to the next one's code, one indirect branch per instruction
 * that the processor can predict per site, instead of one shared switch. */
static void run(const sg_instr *i, const sg_instr *stop, double *v)
{
#define SG_LABEL(code, body) &&do_##code,
    static const void *const dispatch[] = {SG_OPERATIONS(SG_LABEL)};
#undef SG_LABEL
    _Static_assert(sizeof dispatch / sizeof dispatch[0] == OP_LAST + 1, "one label per opcode");
    if (i >= stop)
        return;
    goto *dispatch[i->op];
#define SG_CASE(code, body)                                                   \
    do_##code : body;                                                          \
    if (++i < stop)                                                            \
        goto *dispatch[i->op];                                                 \
    return;
    SG_OPERATIONS(SG_CASE)
#undef SG_CASE
}
#else
static void run(const sg_instr *i, const sg_instr *stop, double *v)
{
    for (; i < stop; i++) {
        switch ((sg_opcode)i->op) {
#define SG_CASE(code, body)                                                   \
    case code:                                                                 \
        body;                                                                  \
        break;
            SG_OPERATIONS(SG_CASE)
#undef SG_CASE
        }
    }
}
#endif

/* Whether x[0..n) are all finite: x * 0.0 is 0 (or -0) for a finite x, NaN
 * otherwise, so the sum is 0 exactly when all are. Four sums, not one: one
 * chain of dependent additions took 540 ns on 1,000 states, four 150. */
static int all_finite(const double *x, int n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i] * 0.0;
        s1 += x[i + 1] * 0.0;
        s2 += x[i + 2] * 0.0;
        s3 += x[i + 3] * 0.0;
    }
    for (; i < n; i++)
        s0 += x[i] * 0.0;
    return (s0 + s1) + (s2 + s3) == 0.0;
}

int sg_program_rhs(const sg_program *p, double t, const double *y, double *ydot, double *v,
                   const double *st_scaled)
{
    memcpy(v, y, (size_t)p->nstate * sizeof *v);
    v[p->time_slot] = t;
    sg_program_exec(p, 0, p->n_rhs, v);
    if (p->native) {
        sg_native_rhs_sum(p, v, st_scaled, ydot);
    } else if (p->vm) {
        sg_vm_rhs_sum(p, v, st_scaled, ydot);
    } else {
        for (int i = 0; i < p->nstate; i++) {
            double s = 0.0;
            for (int k = p->st_start[i]; k < p->st_start[i + 1]; k++)
                s += st_scaled[k] * v[p->st_rate[k]];
            ydot[i] = s;
        }
    }
    if (all_finite(ydot, p->nstate))
        return -1;
    for (int i = 0; i < p->nstate; i++)
        if (!isfinite(ydot[i]))
            return i;
    return -1;
}

void sg_program_roots(const sg_program *p, double t, const double *y, double *g, double *v)
{
    memcpy(v, y, (size_t)p->nstate * sizeof *v);
    v[p->time_slot] = t;
    sg_program_exec(p, 0, p->n_roots, v);
    for (int k = 0; k < p->nroots; k++)
        g[k] = v[p->root_slot[k]];
}

void sg_program_jacobian(const sg_program *p, double t, const double *y, double *values,
                         double *v, const double *jt_scaled)
{
    memcpy(v, y, (size_t)p->nstate * sizeof *v);
    v[p->time_slot] = t;
    sg_program_exec(p, 0, p->n_code, v);
    if (p->native) {
        sg_native_jac_sum(p, v, jt_scaled, values);
        return;
    }
    if (p->vm) {
        sg_vm_jac_sum(p, v, jt_scaled, values);
        return;
    }
    for (int e = 0; e < p->nnz; e++) {
        double s = 0.0;
        for (int k = p->jt_start[e]; k < p->jt_start[e + 1]; k++)
            s += jt_scaled[k] * v[p->jt_slot[k]];
        values[e] = s;
    }
}

/*
 * Forward sensitivities of an experiment (contract in include/sigode.h).
 *
 * s_k = dx/dp_k obeys ds_k/dt = J s_k + df/dp_k. The solver (CVODES) calls
 * back here for the right-hand side: J from the compiled Jacobian, df/dp
 * from the compiled derivatives (compile/senscode.c) combined through
 * M[c][k] = d u_c / d p_k, the dependence of each column (a parameter, or
 * a value derived from parameters at the start) on the parameters. A
 * column that is a compartment size V also divides the rates: with
 * f_i = sum coef rate / V, df_i/dV gets -f_i / V for each state i in V
 * besides the rates' own dependence on V (f_i is the solver's ydot).
 *
 * Start values: s_k(t0) = d x(t0) / d p_k, forward through the
 * initial-value expressions. Timed changes: setting a state to a constant
 * zeroes its sensitivities, adding a constant keeps them; setting a column
 * zeroes its row of M. The event time does not depend on the parameters,
 * so no other jump is needed. Model events get the jump conditions of
 * their trigger's root (below, "model events").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../solver/newton.h"
#include "scenario.h"
#include "stability.h"

struct sg_sens {
    sg_model *model;
    sg_options opt;
    const sg_sens_code *sc;
    int owns_code;
    int np;
    int *param_of_slot;   /* nslots: sensitivity parameter index, -1 */
    int *col_of_slot;     /* nslots: column index, -1 */
    sg_solver *solver;
    const char **state_names;
    double *w;            /* value slots of the derivative code */
    double *st_scaled, *jt_scaled, *jac_values;
    double *fu_scaled;    /* fu_coef / compartment size */
    double *fu_values;
    int *vol_col;         /* nstate: column of the state's compartment size, -1 */
    double *inv_vol;      /* nstate: 1 / that size */
    double *M;            /* ncols x np */
    double *dinit;        /* ninit_steps x np */
    double **S;           /* np: the solver's sensitivity vectors */
    /* model events */
    unsigned char *trig_prev, *trig_now;
    int *found;           /* nroots */
    double *tw;           /* nslots: values just after an event time */
    double *f_minus, *f_plus; /* nstate */
    double *dtau;         /* np */
    double *jump;         /* nassigns x np: new derivatives of assigned slots */
    double *hvalues;      /* nassigns */
    int *step_of_slot;    /* nslots: last initial-value step computing it, -1 */
    unsigned char *fixed;
};

struct sg_sens_result {
    int ntimes, noutputs, nparams;
    double *times;
    const char **output_ids;  /* borrowed from the model */
    const char **param_ids;
    double *param_values;     /* p_k at the start of the run */
    double *values;           /* ntimes x noutputs */
    double *derivs;           /* ntimes x noutputs x nparams */
};

/* ------------------------------------------------------------- right-hand side */

/* The compartment-size columns' -f_i / V terms (see the top), times
 * sign, added to the ns vectors out[k] (states' rows). */
static void volume_terms(const sg_sens *se, const double *f, double sign, int ns,
                         double *const *out)
{
    int n = se->model->nstate;
    for (int i = 0; i < n; i++) {
        int c = se->vol_col[i];
        if (c < 0)
            continue;
        const double *mc = se->M + (size_t)c * (size_t)se->np;
        double g = sign * f[i] * se->inv_vol[i];
        for (int k = 0; k < ns; k++)
            out[k][i] += g * mc[k];
    }
}

static int sens_rhs(void *ctx, double t, const double *y, const double *ydot, int ns,
                    const double *const *s, double *const *sdot)
{
    sg_sens *se = ctx;
    const sg_program *p = se->model->program;
    const sg_sens_code *sc = se->sc;
    int n = p->nstate;
    sg_program_jacobian(p, t, y, se->jac_values, se->w, se->jt_scaled);
    sg_program_exec(sc->code, 0, sc->n_rhs, se->w);
    for (int k = 0; k < ns; k++) {
        double *out = sdot[k];
        const double *sk = s[k];
        memset(out, 0, sizeof(double) * (size_t)n);
        for (int j = 0; j < n; j++) {
            double sj = sk[j];
            if (sj == 0.0)
                continue;
            for (int e = p->jac_colptr[j]; e < p->jac_colptr[j + 1]; e++)
                out[p->jac_rowidx[e]] += se->jac_values[e] * sj;
        }
    }
    for (int c = 0; c < sc->ncols; c++) {
        const double *mc = se->M + (size_t)c * (size_t)se->np;
        for (int e = sc->fu_start[c]; e < sc->fu_start[c + 1]; e++)
            se->fu_values[e] = se->fu_scaled[e] * se->w[sc->fu_slot[e]];
        for (int k = 0; k < ns; k++) {
            if (mc[k] == 0.0)
                continue;
            for (int e = sc->fu_start[c]; e < sc->fu_start[c + 1]; e++)
                sdot[k][sc->fu_row[e]] += se->fu_values[e] * mc[k];
        }
    }
    volume_terms(se, ydot, -1.0, ns, sdot);
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < n; i++)
            if (!isfinite(sdot[k][i]))
                return 1; /* recoverable: a smaller step may avoid it */
    return 0;
}

/* After values changed outside the integrator: the derivative code's
 * slots take the parameters, and the scaled coefficients are recomputed. */
static void rescale_from(sg_sens *se, const double *v)
{
    const sg_program *p = se->model->program;
    const sg_sens_code *sc = se->sc;
    if (se->w != v)
        memcpy(se->w, v, sizeof(double) * (size_t)p->nmodel_slots);
    sg_program_scale(p, se->w, se->st_scaled, se->jt_scaled);
    for (int c = 0; c < sc->ncols; c++)
        for (int e = sc->fu_start[c]; e < sc->fu_start[c + 1]; e++)
            se->fu_scaled[e] = sc->fu_coef[e] / se->w[p->state_comp_slot[sc->fu_row[e]]];
    for (int i = 0; i < p->nstate; i++)
        se->inv_vol[i] = 1.0 / se->w[p->state_comp_slot[i]];
}

static void rescale(sg_sens *se) { rescale_from(se, sg_solver_values(se->solver)); }

static void rhs_at(sg_sens *se, double t, const double *v, double *ydot);

/* ---------------------------------------------------------------- creation */

static sg_sens *workspace(sg_model *m, const sg_options *opt, const sg_sens_code *sc,
                          sg_error *err)
{
    const sg_program *p = m->program;
    sg_sens *se = sg_calloc(1, sizeof *se);
    if (!se) {
        sg_error_nomem(err);
        return NULL;
    }
    se->model = m;
    se->opt = *opt;
    se->sc = sc;
    se->np = sc->nparams;
    size_t nslots = (size_t)p->nslots + 1;
    size_t nst = (size_t)p->st_start[p->nstate], njt = (size_t)p->jt_start[p->nnz];
    size_t nfu = (size_t)sc->fu_start[sc->ncols];
    se->param_of_slot = sg_malloc(nslots * sizeof(int));
    se->col_of_slot = sg_malloc(nslots * sizeof(int));
    se->step_of_slot = sg_malloc(nslots * sizeof(int));
    se->fixed = sg_calloc(nslots, 1);
    se->state_names = sg_calloc((size_t)m->nstate + 1, sizeof *se->state_names);
    se->w = sg_malloc(((size_t)sc->code->nslots + 1) * sizeof(double));
    se->st_scaled = sg_malloc((nst + 1) * sizeof(double));
    se->jt_scaled = sg_malloc((njt + 1) * sizeof(double));
    se->jac_values = sg_malloc(((size_t)p->nnz + 1) * sizeof(double));
    se->fu_scaled = sg_malloc((nfu + 1) * sizeof(double));
    se->fu_values = sg_malloc((nfu + 1) * sizeof(double));
    se->vol_col = sg_malloc(((size_t)p->nstate + 1) * sizeof(int));
    se->inv_vol = sg_calloc((size_t)p->nstate + 1, sizeof(double));
    se->M = sg_calloc((size_t)sc->ncols * (size_t)se->np + 1, sizeof(double));
    se->dinit = sg_calloc((size_t)m->ninit_steps * (size_t)se->np + 1, sizeof(double));
    int maxassign = 0;
    for (int k = 0; k < m->ntriggers; k++)
        if (m->triggers[k].nassigns > maxassign)
            maxassign = m->triggers[k].nassigns;
    se->trig_prev = sg_calloc((size_t)m->ntriggers + 1, 1);
    se->trig_now = sg_calloc((size_t)m->ntriggers + 1, 1);
    se->found = sg_calloc((size_t)p->nroots + 1, sizeof(int));
    se->tw = sg_malloc(nslots * sizeof(double));
    se->f_minus = sg_calloc((size_t)m->nstate + 1, sizeof(double));
    se->f_plus = sg_calloc((size_t)m->nstate + 1, sizeof(double));
    se->dtau = sg_calloc((size_t)se->np + 1, sizeof(double));
    se->jump = sg_calloc((size_t)maxassign * (size_t)se->np + 1, sizeof(double));
    se->hvalues = sg_calloc((size_t)maxassign + 1, sizeof(double));
    if (!se->param_of_slot || !se->col_of_slot || !se->step_of_slot || !se->fixed ||
        !se->state_names || !se->w || !se->st_scaled || !se->jt_scaled || !se->jac_values ||
        !se->fu_scaled || !se->fu_values || !se->vol_col || !se->inv_vol || !se->M || !se->dinit || !se->trig_prev ||
        !se->trig_now || !se->found || !se->tw || !se->f_minus || !se->f_plus || !se->dtau ||
        !se->jump || !se->hvalues) {
        sg_sens_free(se);
        sg_error_nomem(err);
        return NULL;
    }
    for (int s = 0; s < p->nslots; s++)
        se->param_of_slot[s] = se->col_of_slot[s] = se->step_of_slot[s] = -1;
    for (int k = 0; k < se->np; k++)
        se->param_of_slot[sc->param_slot[k]] = k;
    for (int c = 0; c < sc->ncols; c++)
        se->col_of_slot[sc->col_slot[c]] = c;
    for (int k = 0; k < m->ninit_steps; k++)
        se->step_of_slot[m->init_steps[k].slot] = k;
    for (int i = 0; i < p->nstate; i++)
        se->vol_col[i] = se->col_of_slot[p->state_comp_slot[i]];
    for (int i = 0; i < m->nstate; i++)
        se->state_names[i] = m->slot_name[i];
    memcpy(se->w, sc->code->base, (size_t)sc->code->nslots * sizeof(double));
    se->solver = sg_solver_create(p, se->state_names, opt, err);
    if (!se->solver) {
        sg_sens_free(se);
        return NULL;
    }
    if (se->np > 0 && m->nstate > 0 &&
        sg_solver_sens_enable(se->solver, se->np, sens_rhs, se, err) != SG_OK) {
        sg_sens_free(se);
        return NULL;
    }
    se->S = sg_calloc((size_t)se->np + 1, sizeof *se->S);
    if (!se->S) {
        sg_sens_free(se);
        sg_error_nomem(err);
        return NULL;
    }
    for (int k = 0; k < se->np && m->nstate > 0; k++)
        se->S[k] = sg_solver_sens_vector(se->solver, k);
    return se;
}

sg_sens *sg_sens_create(sg_model *m, const sg_options *opt, const char *const *params,
                        int nparams, sg_error *err)
{
    sg_options defaults;
    if (!opt) {
        sg_options_default(&defaults);
        opt = &defaults;
    }
    if (!(opt->rtol > 0) || !(opt->atol > 0) || opt->max_steps <= 0) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "tolerances must be positive and max steps at least 1");
        return NULL;
    }
    if (nparams <= 0) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "no sensitivity parameters given");
        return NULL;
    }
    int *slots = sg_malloc(sizeof(int) * (size_t)nparams);
    if (!slots) {
        sg_error_nomem(err);
        return NULL;
    }
    for (int k = 0; k < nparams; k++) {
        slots[k] = sg_map_get(&m->symbols, params[k]);
        if (slots[k] < 0) {
            sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                         "unknown sensitivity parameter '%.200s'", params[k]);
            sg_free(slots);
            return NULL;
        }
    }
    sg_sens_code *sc = NULL;
    sg_status st = sg_sens_code_compile(m, slots, nparams, &sc, err);
    sg_free(slots);
    if (st != SG_OK)
        return NULL;
    sg_sens *se = workspace(m, opt, sc, err);
    if (!se) {
        sg_sens_code_free(sc);
        return NULL;
    }
    se->owns_code = 1;
    return se;
}

sg_sens *sg_sens_clone(const sg_sens *se, sg_error *err)
{
    return workspace(se->model, &se->opt, se->sc, err);
}

void sg_sens_free(sg_sens *se)
{
    if (!se)
        return;
    sg_solver_free(se->solver);
    if (se->owns_code)
        sg_sens_code_free((sg_sens_code *)se->sc);
    sg_free(se->param_of_slot);
    sg_free(se->col_of_slot);
    sg_free(se->step_of_slot);
    sg_free(se->fixed);
    sg_free(se->state_names);
    sg_free(se->w);
    sg_free(se->st_scaled);
    sg_free(se->jt_scaled);
    sg_free(se->jac_values);
    sg_free(se->fu_scaled);
    sg_free(se->fu_values);
    sg_free(se->vol_col);
    sg_free(se->inv_vol);
    sg_free(se->M);
    sg_free(se->dinit);
    sg_free(se->S);
    sg_free(se->trig_prev);
    sg_free(se->trig_now);
    sg_free(se->found);
    sg_free(se->tw);
    sg_free(se->f_minus);
    sg_free(se->f_plus);
    sg_free(se->dtau);
    sg_free(se->jump);
    sg_free(se->hvalues);
    sg_free(se);
}

int sg_sens_param_count(const sg_sens *se) { return se->np; }
const char *sg_sens_param_id(const sg_sens *se, int k)
{
    return k >= 0 && k < se->np ? se->model->slot_name[se->sc->param_slot[k]] : NULL;
}

/* ------------------------------------------------------------------ results */

void sg_sens_result_free(sg_sens_result *r)
{
    if (!r)
        return;
    sg_free(r->times);
    sg_free(r->output_ids);
    sg_free(r->param_ids);
    sg_free(r->param_values);
    sg_free(r->values);
    sg_free(r->derivs);
    sg_free(r);
}

static sg_sens_result *result_create(const sg_sens *se, int ntimes, int noutputs)
{
    sg_sens_result *r = sg_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->ntimes = ntimes;
    r->noutputs = noutputs;
    r->nparams = se->np;
    size_t cells = (size_t)ntimes * (size_t)noutputs;
    r->times = sg_calloc((size_t)ntimes + 1, sizeof(double));
    r->output_ids = sg_calloc((size_t)noutputs + 1, sizeof *r->output_ids);
    r->param_ids = sg_calloc((size_t)se->np + 1, sizeof *r->param_ids);
    r->param_values = sg_calloc((size_t)se->np + 1, sizeof(double));
    r->values = sg_calloc(cells + 1, sizeof(double));
    r->derivs = sg_calloc(cells * (size_t)se->np + 1, sizeof(double));
    if (!r->times || !r->output_ids || !r->param_ids || !r->param_values || !r->values ||
        !r->derivs) {
        sg_sens_result_free(r);
        return NULL;
    }
    for (int k = 0; k < se->np; k++)
        r->param_ids[k] = sg_sens_param_id(se, k);
    return r;
}

int sg_sens_result_times(const sg_sens_result *r) { return r->ntimes; }
int sg_sens_result_outputs(const sg_sens_result *r) { return r->noutputs; }
int sg_sens_result_params(const sg_sens_result *r) { return r->nparams; }
double sg_sens_result_time(const sg_sens_result *r, int i) { return r->times[i]; }
const char *sg_sens_result_output_id(const sg_sens_result *r, int j) { return r->output_ids[j]; }
const char *sg_sens_result_param_id(const sg_sens_result *r, int k) { return r->param_ids[k]; }
double sg_sens_result_param_value(const sg_sens_result *r, int k) { return r->param_values[k]; }
double sg_sens_result_value(const sg_sens_result *r, int i, int j)
{
    return r->values[(size_t)i * (size_t)r->noutputs + (size_t)j];
}
const double *sg_sens_result_derivs(const sg_sens_result *r, int i, int j)
{
    return r->derivs + ((size_t)i * (size_t)r->noutputs + (size_t)j) * (size_t)r->nparams;
}
double sg_sens_result_deriv(const sg_sens_result *r, int i, int j, int k)
{
    return sg_sens_result_derivs(r, i, j)[k];
}

/* ---------------------------------------------------------------------- run */

/* d x(t0)/dp for the slot: a parameter's own seed, the forward derivative
 * of its initial-value step, or 0 (a constant). */
static const double *start_derivative(const sg_sens *se, int slot, const double *zero,
                                      double *seed)
{
    int k = se->param_of_slot[slot];
    if (k >= 0) {
        memset(seed, 0, sizeof(double) * (size_t)se->np);
        seed[k] = 1.0;
        return seed;
    }
    int step = se->step_of_slot[slot];
    if (step >= 0)
        return se->dinit + (size_t)step * (size_t)se->np;
    return zero;
}

/* The start values' sensitivities: forward through the initial-value
 * steps (v holds their values), then into the solver and M. */
static sg_status start_sensitivities(sg_sens *se, const double *v, sg_error *err)
{
    const sg_model *m = se->model;
    const sg_sens_code *sc = se->sc;
    int np = se->np;
    double *zero = sg_calloc((size_t)np + 1, sizeof(double));
    double *seed = sg_calloc((size_t)np + 1, sizeof(double));
    if (!zero || !seed) {
        sg_free(zero);
        sg_free(seed);
        return sg_error_nomem(err);
    }
    for (int k = 0; k < m->ninit_steps; k++) {
        const sg_init_step *step = &m->init_steps[k];
        double *row = se->dinit + (size_t)k * (size_t)np;
        memset(row, 0, sizeof(double) * (size_t)np);
        if (step->is_init && se->fixed[step->slot])
            continue; /* a constant set by the experiment */
        for (int e = sc->is_start[k]; e < sc->is_start[k + 1]; e++) {
            double d = sg_expr_eval(sc->is_d[e], v);
            if (d == 0.0)
                continue;
            const double *du = start_derivative(se, sc->is_slot[e], zero, seed);
            for (int q = 0; q < np; q++)
                row[q] += d * du[q];
        }
    }
    for (int i = 0; i < m->nstate; i++) {
        const double *d =
            se->fixed[i] && se->param_of_slot[i] < 0 ? zero : start_derivative(se, i, zero, seed);
        for (int k = 0; k < np; k++)
            sg_solver_sens_vector(se->solver, k)[i] = d[k];
    }
    for (int c = 0; c < sc->ncols; c++) {
        int slot = sc->col_slot[c];
        const double *d = se->fixed[slot] && se->param_of_slot[slot] < 0
                              ? zero
                              : start_derivative(se, slot, zero, seed);
        memcpy(se->M + (size_t)c * (size_t)np, d, sizeof(double) * (size_t)np);
    }
    sg_free(zero);
    sg_free(seed);
    return SG_OK;
}

/* A timed change and its effect on the sensitivities. */
static void apply_change(sg_sens *se, double *v, const sg_change *c)
{
    if (c->add) {
        v[c->slot] += c->value; /* a constant shift: derivatives unchanged */
        return;
    }
    v[c->slot] = c->value;
    if (c->slot < se->model->nstate) {
        for (int k = 0; k < se->np; k++)
            sg_solver_sens_vector(se->solver, k)[c->slot] = 0.0;
    } else if (se->col_of_slot[c->slot] >= 0) {
        memset(se->M + (size_t)se->col_of_slot[c->slot] * (size_t)se->np, 0,
               sizeof(double) * (size_t)se->np);
    }
}

/* ------------------------------------------------------------ model events
 * At an event fired by the root of g (g(x(tau), p, tau) = 0) that sets
 * x+ = h(x-, p, tau), the sensitivities jump (as in AMICI):
 *   dtau/dp = -(g_x s- + g_p) / (g_x f- + g_t)
 *   s+      = h_x s- + h_p + (h_x f- + h_t - f+) dtau/dp
 * with h_i = x_i for states the event does not set. An event fired at a
 * fixed time (the start, a timed change) has dtau/dp = 0. What this does
 * not cover is refused: several events at once, events firing events, a
 * parameter that is not a sensitivity column set to a value depending on
 * the parameters or states, a root touched tangentially. */

static double eval_sum(const sg_expr *const *d, const int *idx, int n, const double *v,
                       const double *vec, size_t stride)
{
    double sum = 0;
    for (int e = 0; e < n; e++)
        sum += sg_expr_eval(d[e], v) * vec[(size_t)idx[e] * stride];
    return sum;
}

/* g_x a + g_u (M column q) for a gradient, a = S[q] or f. */
static double grad_dot(const sg_sens *se, const sg_grad *g, const double *v, const double *xs,
                       int q)
{
    double sum = xs ? eval_sum((const sg_expr *const *)g->dx, g->x, g->nx, v, xs, 1) : 0.0;
    if (q >= 0)
        for (int e = 0; e < g->nu; e++)
            sum += sg_expr_eval(g->du[e], v) * se->M[(size_t)g->u[e] * (size_t)se->np + (size_t)q];
    return sum;
}

/* Parameter-only code and the assignments at time t, in v. */
static void refresh_values(sg_sens *se, double t, double *v)
{
    const sg_program *p = se->model->program;
    sg_program_scale(p, v, se->st_scaled, se->jt_scaled);
    v[p->time_slot] = t;
    sg_program_exec(p, 0, p->n_assign, v);
}

static void rhs_at(sg_sens *se, double t, const double *v, double *ydot)
{
    const sg_program *p = se->model->program;
    if (p->nstate == 0)
        return;
    memcpy(se->tw, v, sizeof(double) * (size_t)p->nslots);
    sg_program_scale(p, se->tw, se->st_scaled, se->jt_scaled);
    sg_program_rhs(p, t, v, ydot, se->tw, se->st_scaled);
}

/* The triggers' values just after t (as sim.c). */
static void triggers_after(sg_sens *se, double t, const double *v, unsigned char *out)
{
    const sg_program *p = se->model->program;
    double dt = 1e-9 * fmax(1.0, fabs(t));
    rhs_at(se, t, v, se->f_plus); /* scratch */
    memcpy(se->tw, v, sizeof(double) * (size_t)p->nslots);
    sg_program_scale(p, se->tw, se->st_scaled, se->jt_scaled);
    for (int i = 0; i < p->nstate; i++)
        se->tw[i] = v[i] + dt * (isfinite(se->f_plus[i]) ? se->f_plus[i] : 0.0);
    se->tw[p->time_slot] = t + dt;
    sg_program_exec(p, 0, p->n_roots, se->tw);
    for (int k = 0; k < p->ntriggers; k++)
        out[k] = se->tw[p->trigger_slot[k]] != 0.0;
}

static sg_status refuse_event(const sg_model *m, int k, const char *why, sg_error *err)
{
    return sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                        "sensitivities across event '%s' are not supported: %s",
                        m->triggers[k].id ? m->triggers[k].id : "?", why);
}

/* Fires the event whose trigger has just become true at t (if any), with
 * the sensitivities' jump; at_root: t is a root the solver found. */
static sg_status fire_events(sg_sens *se, double t, double *v, int at_root, int *fired,
                             sg_error *err)
{
    const sg_model *m = se->model;
    const sg_program *p = m->program;
    const sg_sens_code *sc = se->sc;
    int np = se->np, n = m->nstate, k = -1, count = 0;
    *fired = 0;
    refresh_values(se, t, v);
    triggers_after(se, t, v, se->trig_now);
    if (at_root) /* x == 5 holds where x - 5 changed sign, as in sim.c */
        sg_crossings_force(m, se->solver, se->found, se->tw, se->trig_now);
    for (int e = 0; e < m->ntriggers; e++)
        if (!se->trig_prev[e] && se->trig_now[e]) {
            count++;
            if (k < 0)
                k = e;
        }
    if (count == 0) {
        memcpy(se->trig_prev, se->trig_now, (size_t)m->ntriggers);
        return SG_OK;
    }
    if (count > 1)
        return refuse_event(m, k, "another event fires at the same time", err);
    const sg_trigger_def *ev = &m->triggers[k];
    if (ev->delay) /* its jump would come later, at a time the parameters move */
        return refuse_event(m, k, "it has a delay (delayed events are not covered)", err);
    /* the event time's derivative */
    memset(se->dtau, 0, sizeof(double) * (size_t)np);
    rhs_at(se, t, v, se->f_minus);
    if (at_root) {
        int r = -1, crossed = 0;
        if (sg_solver_roots_found(se->solver, se->found) == 0)
            for (int q = 0; q < p->nroots; q++)
                if (se->found[q]) {
                    crossed++;
                    r = q;
                }
        if (crossed != 1)
            return refuse_event(m, k, "its time is not the root of one comparison", err);
        const sg_grad *g = &sc->root_grad[r];
        double denom = grad_dot(se, g, v, se->f_minus, -1) + (g->dt ? sg_expr_eval(g->dt, v) : 0);
        if (!(fabs(denom) > 1e-300) || !isfinite(denom))
            return refuse_event(m, k, "its trigger touches zero without crossing it", err);
        for (int q = 0; q < np; q++)
            se->dtau[q] = -grad_dot(se, g, v, n ? se->S[q] : NULL, q) / denom;
    }
    /* new values and the derivatives of the assigned slots (before f+) */
    for (int a = 0; a < ev->nassigns; a++) {
        const sg_grad *h = &sc->assign_grad[k][a];
        double hdot = grad_dot(se, h, v, se->f_minus, -1) + (h->dt ? sg_expr_eval(h->dt, v) : 0);
        for (int q = 0; q < np; q++)
            se->jump[(size_t)a * (size_t)np + (size_t)q] =
                grad_dot(se, h, v, n ? se->S[q] : NULL, q) + hdot * se->dtau[q];
        se->hvalues[a] = sg_expr_eval(ev->assigns[a].value, v);
    }
    for (int a = 0; a < ev->nassigns; a++) {
        int slot = ev->assigns[a].slot;
        if (slot >= n && se->col_of_slot[slot] < 0)
            for (int q = 0; q < np; q++)
                if (se->jump[(size_t)a * (size_t)np + (size_t)q] != 0.0)
                    return refuse_event(m, k,
                                        "it sets a parameter to a value that depends on the "
                                        "sensitivity parameters or on the states",
                                        err);
        v[slot] = se->hvalues[a];
    }
    refresh_values(se, t, v);
    rhs_at(se, t, v, se->f_plus);
    /* states the event does not set: s+ = s- + (f- - f+) dtau/dp */
    for (int i = 0; i < n; i++)
        for (int q = 0; q < np; q++)
            se->S[q][i] += (se->f_minus[i] - se->f_plus[i]) * se->dtau[q];
    for (int a = 0; a < ev->nassigns; a++) {
        int slot = ev->assigns[a].slot;
        const double *jq = se->jump + (size_t)a * (size_t)np;
        if (slot < n) {
            for (int q = 0; q < np; q++)
                se->S[q][slot] = jq[q] - se->f_plus[slot] * se->dtau[q];
        } else if (se->col_of_slot[slot] >= 0) {
            memcpy(se->M + (size_t)se->col_of_slot[slot] * (size_t)np, jq,
                   sizeof(double) * (size_t)np);
        }
    }
    memcpy(se->trig_prev, se->trig_now, (size_t)m->ntriggers);
    *fired = 1;
    /* an event its own changes trigger would need its own jump */
    triggers_after(se, t, v, se->trig_now);
    for (int e = 0; e < m->ntriggers; e++)
        if (!se->trig_prev[e] && se->trig_now[e])
            return refuse_event(m, e, "it fires in a cascade from another event", err);
    memcpy(se->trig_prev, se->trig_now, (size_t)m->ntriggers);
    return SG_OK;
}

static sg_status restart(sg_sens *se, double t, sg_error *err)
{
    sg_status st = sg_solver_start(se->solver, t, err);
    if (st == SG_OK)
        rescale(se);
    return st;
}

/* Integrates to `target` (stopping exactly at `stop`), handling every
 * root of the event triggers on the way. */
static sg_status advance(sg_sens *se, double target, double stop, double *v, sg_error *err)
{
    if (se->model->ntriggers == 0)
        return sg_solver_advance(se->solver, target, stop, err);
    for (;;) {
        double reached;
        int root, fired = 0;
        sg_status st = sg_solver_advance_roots(se->solver, target, stop, &reached, &root, err);
        if (st != SG_OK || !root)
            return st;
        if ((st = fire_events(se, reached, v, 1, &fired, err)) != SG_OK)
            return st;
        if (fired && (st = restart(se, reached, err)) != SG_OK)
            return st;
        if (reached >= target)
            return SG_OK;
    }
}

/* Output values (from v) and derivatives (from the state sensitivities
 * S[k] and M) into row `row` of r. */
static void record(sg_sens *se, sg_sens_result *r, int row, const int *out_slots,
                   const double *v, const double *const *S)
{
    const sg_model *m = se->model;
    const sg_sens_code *sc = se->sc;
    int np = se->np, computed = 0;
    for (int j = 0; j < r->noutputs; j++) {
        int slot = out_slots[j];
        size_t cell = (size_t)row * (size_t)r->noutputs + (size_t)j;
        double *d = r->derivs + cell * (size_t)np;
        r->values[cell] = v[slot];
        if (slot < m->nstate) {
            for (int k = 0; k < np; k++)
                d[k] = S[k][slot];
        } else if (m->slot_kind[slot] == SG_SYM_ASSIGNMENT) {
            if (!computed) {
                memcpy(se->w, v, sizeof(double) * (size_t)m->program->nmodel_slots);
                sg_program_exec(sc->code, 0, sc->code->n_code, se->w);
                computed = 1;
            }
            int a = m->slot_index[slot];
            for (int e = sc->ax_start[a]; e < sc->ax_start[a + 1]; e++) {
                double da = se->w[sc->ax_slot[e]];
                for (int k = 0; k < np; k++)
                    d[k] += da * S[k][sc->ax_state[e]];
            }
            for (int e = sc->au_start[a]; e < sc->au_start[a + 1]; e++) {
                double da = se->w[sc->au_slot[e]];
                const double *mc = se->M + (size_t)sc->au_col[e] * (size_t)np;
                for (int k = 0; k < np; k++)
                    d[k] += da * mc[k];
            }
        } else if (se->col_of_slot[slot] >= 0) {
            memcpy(d, se->M + (size_t)se->col_of_slot[slot] * (size_t)np,
                   sizeof(double) * (size_t)np);
        }
    }
}

static sg_status resolve_outputs(const sg_model *m, const sg_sens_request *req, int **slots,
                                 const char ***ids, int *count, sg_error *err)
{
    int n = req->outputs ? req->noutputs : m->nspecies + m->nassignments;
    *slots = sg_malloc(sizeof(int) * ((size_t)n + 1));
    *ids = sg_malloc(sizeof(char *) * ((size_t)n + 1));
    if (!*slots || !*ids)
        return sg_error_nomem(err);
    for (int j = 0; j < n; j++) {
        int slot;
        if (!req->outputs)
            slot = j < m->nspecies ? m->species[j].slot
                                   : m->assignments[j - m->nspecies].slot;
        else
            slot = sg_map_get(&m->symbols, req->outputs[j]);
        if (slot < 0 || (m->slot_kind[slot] != SG_SYM_SPECIES &&
                         m->slot_kind[slot] != SG_SYM_ASSIGNMENT &&
                         m->slot_kind[slot] != SG_SYM_PARAMETER &&
                         m->slot_kind[slot] != SG_SYM_COMPARTMENT))
            return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                "unknown output '%.200s' (a species, assignment, parameter "
                                "or compartment id)",
                                req->outputs[j]);
        (*slots)[j] = slot;
        (*ids)[j] = m->slot_name[slot];
    }
    *count = n;
    return SG_OK;
}

static sg_status request_times(const sg_experiment *exp, const sg_sens_request *req,
                               double **times, int *ntimes, sg_error *err)
{
    if (!req->times)
        return sg_experiment_output_times(exp, times, ntimes, err);
    for (int i = 0; i < req->ntimes; i++) {
        double t = req->times[i];
        if (!(t >= exp->t_start && t <= exp->t_end))
            return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                "output time %g is outside the run's time span %g..%g", t,
                                exp->t_start, exp->t_end);
        if (i > 0 && !(t > req->times[i - 1]))
            return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                "output times must increase (%g after %g)", t,
                                req->times[i - 1]);
    }
    *times = sg_malloc(sizeof(double) * ((size_t)req->ntimes + 1));
    if (!*times)
        return sg_error_nomem(err);
    if (req->ntimes > 0)
        memcpy(*times, req->times, sizeof(double) * (size_t)req->ntimes);
    *ntimes = req->ntimes;
    return SG_OK;
}

/* Start values and their sensitivities, as sg_sim_run_point: the base
 * values, the experiment's sets (if with_sets), the parameter values, the
 * initial-value expressions except where `keep` (nslots, may be NULL)
 * marks a slot whose value is already in v. */
static sg_status start_values(sg_sens *se, const sg_experiment *exp, const double *values,
                              int with_sets, const unsigned char *keep, double *v,
                              sg_error *err)
{
    const sg_model *m = se->model;
    const sg_program *p = m->program;
    memset(se->fixed, 0, (size_t)p->nslots);
    if (keep) {
        for (int s = 0; s < p->nslots; s++)
            if (keep[s])
                se->fixed[s] = 1;
    } else {
        memcpy(v, p->base, sizeof(double) * (size_t)p->nslots);
    }
    for (int i = 0; with_sets && i < exp->nsets; i++) {
        const sg_change *c = &exp->sets[i];
        v[c->slot] = c->add ? v[c->slot] + c->value : c->value;
        se->fixed[c->slot] = 1;
    }
    if (values)
        for (int k = 0; k < se->np; k++) {
            v[se->sc->param_slot[k]] = values[k];
            se->fixed[se->sc->param_slot[k]] = 1;
        }
    v[p->time_slot] = exp->t_start;
    if (m->ninits > 0)
        sg_model_initial_values(m, v, se->fixed);
    return start_sensitivities(se, v, err);
}

/* The steady state reached from the start values now in v (with their
 * sensitivities S and M) and its sensitivities by the implicit function
 * theorem into X (np columns of nstate, column-major): J X = -df/dp, with
 * each conservation law c x = c x0 replacing its pivot row by
 * c X = c S. v gets the steady state (and its assignments). */
static sg_status steady_with_sensitivities(sg_sens *se, double t0, double *v, double *X,
                                           sg_steady_info *info, sg_error *err)
{
    sg_model *m = se->model;
    const sg_program *p = m->program;
    const sg_sens_code *sc = se->sc;
    int n = m->nstate, np = se->np;
    if (n > SG_EIGEN_MAX_STATES)
        return sg_error_set(err, SG_ERR_LIMIT, NULL, 0, 0,
                            "steady-state sensitivities are solved densely, up to %d states "
                            "(the model has %d)",
                            SG_EIGEN_MAX_STATES, n);
    sg_sim *sim = sg_sim_create(m, &se->opt, err);
    if (!sim)
        return err ? err->status : SG_ERR_NOMEM;
    sg_conservation law = {0};
    double *J = NULL;
    double *x0 = sg_malloc(sizeof(double) * ((size_t)n + 1));
    double *vs = sg_solver_values(sim->solver);
    if (!x0) {
        sg_sim_free(sim);
        return sg_error_nomem(err);
    }
    memcpy(x0, v, sizeof(double) * (size_t)n);
    memcpy(vs, v, sizeof(double) * (size_t)p->nslots);
    sg_status st = sg_solver_start(sim->solver, t0, err);
    if (st == SG_OK)
        st = sg_sim_steady_from_current(sim, info, err);
    if (st != SG_OK)
        goto done;
    sg_solver_update_assignments(sim->solver, info->time);
    memcpy(v, vs, sizeof(double) * (size_t)p->nslots);
    if (n == 0)
        goto done;
    if ((st = sg_conservation_find(m, v, &law, err)) != SG_OK)
        goto done;
    J = sg_malloc(sizeof(double) * (size_t)n * (size_t)n);
    if (!J) {
        st = sg_error_nomem(err);
        goto done;
    }
    if ((st = sg_dense_jacobian(p, v, info->time, J, err)) != SG_OK)
        goto done;
    /* -df/dp at the steady state */
    memcpy(se->w, v, sizeof(double) * (size_t)p->nmodel_slots);
    rescale_from(se, se->w);
    sg_program_exec(p, 0, p->n_code, se->w);
    sg_program_exec(sc->code, 0, sc->n_rhs, se->w);
    memset(X, 0, sizeof(double) * (size_t)n * (size_t)np);
    for (int c = 0; c < sc->ncols; c++) {
        const double *mc = se->M + (size_t)c * (size_t)np;
        for (int e = sc->fu_start[c]; e < sc->fu_start[c + 1]; e++) {
            double f = se->fu_scaled[e] * se->w[sc->fu_slot[e]];
            for (int k = 0; k < np; k++)
                X[(size_t)k * (size_t)n + (size_t)sc->fu_row[e]] -= f * mc[k];
        }
    }
    /* f is zero at a steady state only up to the tolerances: its -f_i / V
     * terms are kept */
    {
        double *cols[np > 0 ? np : 1];
        for (int k = 0; k < np; k++)
            cols[k] = X + (size_t)k * (size_t)n;
        rhs_at(se, info->time, v, se->f_minus);
        volume_terms(se, se->f_minus, 1.0, np, cols);
    }
    for (int l = 0; l < law.nlaws; l++) {
        int row = law.pivot[l];
        const double *c = law.c + (size_t)l * (size_t)n;
        for (int j = 0; j < n; j++)
            J[(size_t)j * (size_t)n + (size_t)row] = c[j];
        /* the law is c x = c x0 with c_j = w_j V_j (w conserves amounts,
         * whatever the sizes): a size V moving with p adds
         * sum_j (c_j / V_j) dV_j/dp (x0_j - x_j) */
        for (int k = 0; k < np; k++) {
            double total = 0;
            for (int j = 0; j < n; j++) {
                total += c[j] * se->S[k][j];
                if (se->vol_col[j] >= 0)
                    total += c[j] * se->inv_vol[j] *
                             se->M[(size_t)se->vol_col[j] * (size_t)np + (size_t)k] *
                             (x0[j] - v[j]);
            }
            X[(size_t)k * (size_t)n + (size_t)row] = total;
        }
    }
    int singular = 0;
    if ((st = sg_dense_solve(n, np, J, X, &singular, err)) != SG_OK)
        goto done;
    /* not a failed integration: the sensitivities do not exist there */
    if (singular)
        st = sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                          "the Jacobian at the steady state is singular (after the %d "
                          "conservation law%s): its sensitivities are not defined",
                          law.nlaws, law.nlaws == 1 ? "" : "s");
done:
    sg_free(J);
    sg_free(x0);
    sg_conservation_free(&law);
    sg_sim_free(sim);
    return st;
}

/* An experiment with pre-equilibration: the steady state of the model
 * without the experiment's sets (with the run's parameter values) and its
 * sensitivities become the start; then the sets apply, as in sim.c. */
static sg_status preequilibrated_start(sg_sens *se, const sg_experiment *exp,
                                       const double *values, double *v, sg_error *err)
{
    const sg_model *m = se->model;
    const sg_program *p = m->program;
    int n = m->nstate, np = se->np;
    sg_steady_info info = {0};
    double *X = sg_malloc(sizeof(double) * ((size_t)n * (size_t)np + 1));
    double *steady = sg_malloc(sizeof(double) * ((size_t)n + 1));
    unsigned char *keep = sg_calloc((size_t)p->nslots + 1, 1);
    sg_status st = SG_ERR_NOMEM;
    if (!X || !steady || !keep) {
        sg_error_nomem(err);
        goto done;
    }
    if ((st = start_values(se, exp, values, 0, NULL, v, err)) != SG_OK ||
        (st = steady_with_sensitivities(se, exp->t_start, v, X, &info, err)) != SG_OK) {
        if (err) {
            char msg[sizeof err->message];
            snprintf(msg, sizeof msg, "pre-equilibration failed: %.700s", err->message);
            memcpy(err->message, msg, sizeof msg);
        }
        goto done;
    }
    memcpy(steady, v, sizeof(double) * (size_t)n);
    memcpy(v, p->base, sizeof(double) * (size_t)p->nslots);
    memcpy(v, steady, sizeof(double) * (size_t)n);
    memset(keep, 1, (size_t)n);
    if ((st = start_values(se, exp, values, 1, keep, v, err)) != SG_OK)
        goto done;
    /* the states' sensitivities are the steady state's, except those the
     * experiment sets (constants) */
    for (int i = 0; i < n; i++) {
        int set = 0;
        for (int s = 0; s < exp->nsets; s++)
            set |= exp->sets[s].slot == i && !exp->sets[s].add;
        for (int k = 0; k < np; k++)
            se->S[k][i] = set ? 0.0 : X[(size_t)k * (size_t)n + (size_t)i];
    }
done:
    sg_free(X);
    sg_free(steady);
    sg_free(keep);
    return st;
}

void sg_sens_set_warnings(sg_sens *se, sg_warnings *w) { se->opt.warnings = w; }

/* The warnings of a sensitivity run (CVODE's, an output species below
 * -atol, an output or a derivative that is NaN or infinite: once each,
 * the first time) go to opt.warnings, as a simulation's do. */
static void warn_about_result(sg_sens *se, const sg_sens_result *r, const sg_experiment *exp)
{
    if (!se->opt.warnings)
        return;
    const sg_model *m = se->model;
    int negative_told = 0;
    for (int j = 0; j < r->noutputs; j++) {
        int slot = sg_map_get(&m->symbols, r->output_ids[j]);
        int is_species = slot >= 0 && m->slot_kind[slot] == SG_SYM_SPECIES;
        for (int row = 0; row < r->ntimes; row++) {
            size_t cell = (size_t)row * (size_t)r->noutputs + (size_t)j;
            double x = r->values[cell];
            int bad_deriv = -1;
            for (int k = 0; k < r->nparams && bad_deriv < 0; k++)
                if (!isfinite(r->derivs[cell * (size_t)r->nparams + (size_t)k]))
                    bad_deriv = k;
            if (is_species && !negative_told && x < -se->opt.atol) {
                sg_solver_add_warning(se->solver,
                                      "species '%s' is negative: %.6g at t = %.10g (below "
                                      "-atol = %g); a concentration cannot be negative: try "
                                      "tighter tolerances (--rtol, --atol) or check the rate "
                                      "laws",
                                      r->output_ids[j], x, r->times[row], se->opt.atol);
                negative_told = 1;
            }
            if (!isfinite(x) || bad_deriv >= 0) {
                if (!isfinite(x))
                    sg_solver_add_warning(se->solver,
                                          "'%s' is %s from t = %.10g on (first time)",
                                          r->output_ids[j], isnan(x) ? "nan" : "infinite",
                                          r->times[row]);
                else
                    sg_solver_add_warning(se->solver,
                                          "d %s / d %s is not finite from t = %.10g on "
                                          "(first time)",
                                          r->output_ids[j], r->param_ids[bad_deriv],
                                          r->times[row]);
                break;
            }
        }
    }
    char label[160];
    label[0] = '\0';
    if (exp && exp->scenario)
        snprintf(label, sizeof label, "scenario '%s'", exp->scenario->id);
    sg_warnings_take_solver(se->opt.warnings, se->solver, label[0] ? label : NULL);
}

sg_status sg_sens_run(sg_sens *se, const sg_sens_request *req, sg_sens_result **out,
                      sg_error *err)
{
    sg_model *m = se->model;
    sg_experiment *own = NULL;
    const sg_experiment *exp = req ? req->exp : NULL;
    sg_sens_request none = {0};
    occurrence *occ = NULL;
    double *times = NULL;
    int *out_slots = NULL;
    const char **out_ids = NULL;
    int nocc = 0, ntimes = 0, nout = 0;
    sg_sens_result *r = NULL;
    sg_status st;
    *out = NULL;
    if (!req)
        req = &none;
    if (!exp && !(exp = own = sg_experiment_create(m, NULL, err)))
        return err ? err->status : SG_ERR_NOMEM;
    if (exp->model != m) {
        st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                          "the experiment was made for another model");
        goto done;
    }
    if ((st = sg_experiment_occurrences(exp, &occ, &nocc, err)) != SG_OK ||
        (st = request_times(exp, req, &times, &ntimes, err)) != SG_OK ||
        (st = resolve_outputs(m, req, &out_slots, &out_ids, &nout, err)) != SG_OK)
        goto done;
    if (!(r = result_create(se, ntimes, nout))) {
        st = sg_error_nomem(err);
        goto done;
    }
    memcpy(r->output_ids, out_ids, sizeof(char *) * (size_t)nout);

    sg_solver_clear_warnings(se->solver);
    double *v = sg_solver_values(se->solver);
    if (exp->preequilibrate) {
        if ((st = preequilibrated_start(se, exp, req->values, v, err)) != SG_OK)
            goto done;
    } else if ((st = start_values(se, exp, req->values, 1, NULL, v, err)) != SG_OK) {
        goto done;
    }
    for (int k = 0; k < se->np; k++)
        r->param_values[k] = v[se->sc->param_slot[k]];

    double t = exp->t_start;
    int next = 0, fired;
    while (next < nocc && occ[next].at <= t)
        apply_change(se, v, &occ[next++].change);
    for (int k = 0; k < m->ntriggers; k++)
        se->trig_prev[k] = (unsigned char)m->triggers[k].initial_value;
    if (m->ntriggers > 0 && (st = fire_events(se, t, v, 0, &fired, err)) != SG_OK)
        goto done;
    if ((st = restart(se, t, err)) != SG_OK)
        goto done;
    for (int row = 0; row < ntimes; row++) {
        double tout = times[row];
        while (next < nocc && occ[next].at <= tout) {
            double te = occ[next].at;
            if (te > t) {
                if ((st = advance(se, te, te, v, err)) != SG_OK)
                    goto done;
                t = te;
            }
            while (next < nocc && occ[next].at == te)
                apply_change(se, v, &occ[next++].change);
            /* a timed change may fire events (at a fixed time) */
            if (m->ntriggers > 0 && (st = fire_events(se, t, v, 0, &fired, err)) != SG_OK)
                goto done;
            if ((st = restart(se, t, err)) != SG_OK)
                goto done;
        }
        if (tout > t) {
            double stop = next < nocc ? occ[next].at : exp->t_end;
            if ((st = advance(se, tout, stop, v, err)) != SG_OK)
                goto done;
            t = tout;
        } else {
            sg_solver_update_assignments(se->solver, t);
        }
        r->times[row] = t;
        record(se, r, row, out_slots, v, (const double *const *)se->S);
    }
done:
    if (r)
        warn_about_result(se, r, exp);
    sg_experiment_free(own);
    sg_free(occ);
    sg_free(times);
    sg_free(out_slots);
    sg_free(out_ids);
    if (st != SG_OK) {
        sg_sens_result_free(r);
        return st;
    }
    *out = r;
    return SG_OK;
}

sg_status sg_sens_steady(sg_sens *se, const sg_sens_request *req, sg_sens_result **out,
                         sg_steady_info *info, sg_stability *stability, sg_error *err)
{
    sg_model *m = se->model;
    int n = m->nstate, np = se->np, nout = 0;
    sg_experiment *own = NULL;
    const sg_experiment *exp = req ? req->exp : NULL;
    sg_sens_request none = {0};
    sg_steady_info local = {0};
    int *out_slots = NULL;
    const char **out_ids = NULL;
    double *X = NULL;
    double **cols = NULL;
    sg_sens_result *r = NULL;
    sg_status st;
    *out = NULL;
    if (!req)
        req = &none;
    if (!info)
        info = &local;
    if (!exp && !(exp = own = sg_experiment_create(m, NULL, err)))
        return err ? err->status : SG_ERR_NOMEM;
    if (exp->model != m) {
        st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                          "the experiment was made for another model");
        goto done;
    }
    if ((st = resolve_outputs(m, req, &out_slots, &out_ids, &nout, err)) != SG_OK)
        goto done;
    X = sg_malloc(sizeof(double) * ((size_t)n * (size_t)np + 1));
    cols = sg_malloc(sizeof *cols * ((size_t)np + 1));
    r = result_create(se, 1, nout);
    if (!X || !cols || !r) {
        st = sg_error_nomem(err);
        goto done;
    }
    memcpy(r->output_ids, out_ids, sizeof(char *) * (size_t)nout);
    sg_solver_clear_warnings(se->solver);
    double *v = sg_solver_values(se->solver);
    if ((st = start_values(se, exp, req->values, 1, NULL, v, err)) != SG_OK)
        goto done;
    for (int k = 0; k < np; k++)
        r->param_values[k] = v[se->sc->param_slot[k]];
    if ((st = steady_with_sensitivities(se, exp->t_start, v, X, info, err)) != SG_OK)
        goto done;
    for (int k = 0; k < np; k++)
        cols[k] = X + (size_t)k * (size_t)n;
    r->times[0] = info->time;
    record(se, r, 0, out_slots, v, (const double *const *)cols);
    if (stability)
        *stability = info->stability;
done:
    if (r)
        warn_about_result(se, r, exp);
    sg_experiment_free(own);
    sg_free(out_slots);
    sg_free(out_ids);
    sg_free(X);
    sg_free(cols);
    if (st != SG_OK) {
        sg_sens_result_free(r);
        return st;
    }
    *out = r;
    return SG_OK;
}

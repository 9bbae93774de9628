/*
 * Forward sensitivities of an experiment (contract in include/sigode.h).
 *
 * s_k = dx/dp_k obeys ds_k/dt = J s_k + df/dp_k. The solver (CVODES) calls
 * back here for the right-hand side: J from the compiled Jacobian, df/dp
 * from the compiled derivatives (compile/senscode.c) combined through
 * M[c][k] = d u_c / d p_k, the dependence of each column (a parameter, or
 * a value derived from parameters at the start) on the parameters.
 *
 * Start values: s_k(t0) = d x(t0) / d p_k, forward through the
 * initial-value expressions. Timed changes: setting a state to a constant
 * zeroes its sensitivities, adding a constant keeps them; setting a column
 * zeroes its row of M. The event time does not depend on the parameters,
 * so no other jump is needed. Model events with state-dependent triggers
 * would need the jump conditions of the trigger's root: refused.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

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
    double *M;            /* ncols x np */
    double *dinit;        /* ninit_steps x np */
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

static int sens_rhs(void *ctx, double t, const double *y, const double *ydot, int ns,
                    const double *const *s, double *const *sdot)
{
    (void)ydot;
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
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < n; i++)
            if (!isfinite(sdot[k][i]))
                return 1; /* recoverable: a smaller step may avoid it */
    return 0;
}

/* After values changed outside the integrator: the derivative code's
 * slots take the parameters, and the scaled coefficients are recomputed. */
static void rescale(sg_sens *se)
{
    const sg_program *p = se->model->program;
    const sg_sens_code *sc = se->sc;
    memcpy(se->w, sg_solver_values(se->solver), sizeof(double) * (size_t)p->nmodel_slots);
    sg_program_scale(p, se->w, se->st_scaled, se->jt_scaled);
    for (int c = 0; c < sc->ncols; c++)
        for (int e = sc->fu_start[c]; e < sc->fu_start[c + 1]; e++)
            se->fu_scaled[e] = sc->fu_coef[e] / se->w[p->state_comp_slot[sc->fu_row[e]]];
}

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
    se->M = sg_calloc((size_t)sc->ncols * (size_t)se->np + 1, sizeof(double));
    se->dinit = sg_calloc((size_t)m->ninit_steps * (size_t)se->np + 1, sizeof(double));
    if (!se->param_of_slot || !se->col_of_slot || !se->step_of_slot || !se->fixed ||
        !se->state_names || !se->w || !se->st_scaled || !se->jt_scaled || !se->jac_values ||
        !se->fu_scaled || !se->fu_values || !se->M || !se->dinit) {
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
    sg_free(se->M);
    sg_free(se->dinit);
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

static sg_status restart(sg_sens *se, double t, sg_error *err)
{
    sg_status st = sg_solver_start(se->solver, t, err);
    if (st == SG_OK)
        rescale(se);
    return st;
}

/* Output j's value and derivatives at the time the solver reached. */
static void record(sg_sens *se, sg_sens_result *r, int row, const int *out_slots)
{
    const sg_model *m = se->model;
    const sg_sens_code *sc = se->sc;
    const double *v = sg_solver_values(se->solver);
    int np = se->np, computed = 0;
    for (int j = 0; j < r->noutputs; j++) {
        int slot = out_slots[j];
        size_t cell = (size_t)row * (size_t)r->noutputs + (size_t)j;
        double *d = r->derivs + cell * (size_t)np;
        r->values[cell] = v[slot];
        if (slot < m->nstate) {
            for (int k = 0; k < np; k++)
                d[k] = sg_solver_sens_vector(se->solver, k)[slot];
        } else if (m->slot_kind[slot] == SG_SYM_ASSIGNMENT) {
            if (!computed) {
                memcpy(se->w, v, sizeof(double) * (size_t)m->program->nmodel_slots);
                sg_program_exec(sc->code, 0, sc->code->n_code, se->w);
                computed = 1;
            }
            int a = m->slot_index[slot];
            for (int e = sc->ax_start[a]; e < sc->ax_start[a + 1]; e++) {
                const double *s = NULL;
                double da = se->w[sc->ax_slot[e]];
                for (int k = 0; k < np; k++) {
                    s = sg_solver_sens_vector(se->solver, k);
                    d[k] += da * s[sc->ax_state[e]];
                }
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

sg_status sg_sens_run(sg_sens *se, const sg_sens_request *req, sg_sens_result **out,
                      sg_error *err)
{
    sg_model *m = se->model;
    const sg_program *p = m->program;
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
    if (m->ntriggers > 0) {
        st = sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                          "sensitivities across model events (event '%s' has a "
                          "state-dependent trigger) are not supported",
                          m->triggers[0].id ? m->triggers[0].id : "?");
        goto done;
    }
    if (exp->preequilibrate) {
        st = sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                          "sensitivities of a pre-equilibrated experiment are not supported");
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

    /* start values, as sg_sim_run_point */
    double *v = sg_solver_values(se->solver);
    memcpy(v, p->base, sizeof(double) * (size_t)p->nslots);
    memset(se->fixed, 0, (size_t)p->nslots);
    for (int i = 0; i < exp->nsets; i++) {
        const sg_change *c = &exp->sets[i];
        v[c->slot] = c->add ? v[c->slot] + c->value : c->value;
        se->fixed[c->slot] = 1;
    }
    if (req->values)
        for (int k = 0; k < se->np; k++) {
            v[se->sc->param_slot[k]] = req->values[k];
            se->fixed[se->sc->param_slot[k]] = 1;
        }
    v[p->time_slot] = exp->t_start;
    if (m->ninits > 0)
        sg_model_initial_values(m, v, se->fixed);
    if ((st = start_sensitivities(se, v, err)) != SG_OK)
        goto done;
    for (int k = 0; k < se->np; k++)
        r->param_values[k] = v[se->sc->param_slot[k]];

    double t = exp->t_start;
    int next = 0;
    while (next < nocc && occ[next].at <= t)
        apply_change(se, v, &occ[next++].change);
    if ((st = restart(se, t, err)) != SG_OK)
        goto done;
    for (int row = 0; row < ntimes; row++) {
        double tout = times[row];
        while (next < nocc && occ[next].at <= tout) {
            double te = occ[next].at;
            if (te > t) {
                if ((st = sg_solver_advance(se->solver, te, te, err)) != SG_OK)
                    goto done;
                t = te;
            }
            while (next < nocc && occ[next].at == te)
                apply_change(se, v, &occ[next++].change);
            if ((st = restart(se, t, err)) != SG_OK)
                goto done;
        }
        if (tout > t) {
            double stop = next < nocc ? occ[next].at : exp->t_end;
            if ((st = sg_solver_advance(se->solver, tout, stop, err)) != SG_OK)
                goto done;
            t = tout;
        } else {
            sg_solver_update_assignments(se->solver, t);
        }
        r->times[row] = t;
        record(se, r, row, out_slots);
    }
done:
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
    *out = NULL;
    return sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                        "steady-state sensitivities are not implemented yet");
}

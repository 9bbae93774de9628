/*
 * The PEtab objective: simulate every (pre-equilibration, simulation)
 * condition pair at its measured times, evaluate the observables and noise
 * formulas, and sum the log-likelihood (normal or Laplace noise, on the
 * observable's lin/log/log10 scale) and chi2. Priors of the parameter table
 * add to the objective the optimiser minimises (nllh = -(llh + log prior)).
 *
 * Gradients: the source is pluggable (sg_petab_gradient). Central finite
 * differences of the objective are the fallback, named so in every report.
 */
#include <math.h>
#include <string.h>

#include "../compile/program.h"
#include "../solver/solver.h"
#include "petab.h"


sg_petab_eval *sg_petab_eval_create(const sg_petab *p, const sg_options *opt, sg_error *err)
{
    sg_options defaults;
    if (!opt) {
        sg_options_default(&defaults);
        defaults.rtol = 1e-10;
        defaults.atol = 1e-12;
        opt = &defaults;
    }
    sg_petab_eval *ev = sg_calloc(1, sizeof *ev);
    if (!ev) {
        sg_error_nomem(err);
        return NULL;
    }
    const sg_model *m = p->model;
    ev->p = p;
    ev->fd_step = 1e-5;
    ev->set_cap = m->nslots + p->ncond_columns + p->nparams + 1;
    ev->values = sg_calloc((size_t)p->nparams + 1, sizeof *ev->values);
    ev->slots = sg_calloc((size_t)p->nobs_slots + 1, sizeof *ev->slots);
    ev->set_slot = sg_calloc((size_t)ev->set_cap, sizeof *ev->set_slot);
    ev->set_value = sg_calloc((size_t)ev->set_cap, sizeof *ev->set_value);
    ev->fixed = sg_calloc((size_t)m->program->nslots + 1, 1);
    ev->preeq_state = sg_calloc((size_t)m->nstate + 1, sizeof *ev->preeq_state);
    ev->exps = sg_calloc((size_t)p->nexperiments + 1, sizeof *ev->exps);
    if (!ev->values || !ev->slots || !ev->set_slot || !ev->set_value || !ev->fixed ||
        !ev->preeq_state || !ev->exps) {
        sg_error_nomem(err);
        goto fail;
    }
    if (!(ev->sim = sg_sim_create(m, opt, err)))
        goto fail;
    for (int e = 0; e < p->nexperiments; e++) {
        const sg_petab_experiment *x = &p->experiments[e];
        if (x->ntimes == 0)
            continue; /* steady state only */
        sg_experiment *exp = sg_experiment_create(m, NULL, err);
        if (!exp)
            goto fail;
        ev->exps[e] = exp;
        double t_end = x->times[x->ntimes - 1];
        if (sg_experiment_set_t_end(exp, t_end > 0 ? t_end : 1.0, err) ||
            sg_experiment_set_points(exp, 2, err))
            goto fail;
        for (int i = 0; i < x->ntimes; i++)
            if (sg_experiment_add_output_time(exp, x->times[i], err))
                goto fail;
        for (int i = 0; i < p->noutput_slots; i++)
            if (sg_experiment_add_output(exp, m->slot_name[p->output_slots[i]], err))
                goto fail;
    }
    return ev;
fail:
    sg_petab_eval_free(ev);
    return NULL;
}

void sg_petab_eval_free(sg_petab_eval *ev)
{
    if (!ev)
        return;
    if (ev->exps)
        for (int e = 0; e < ev->p->nexperiments; e++)
            sg_experiment_free(ev->exps[e]);
    sg_sim_free(ev->sim);
    sg_free(ev->values);
    sg_free(ev->slots);
    sg_free(ev->set_slot);
    sg_free(ev->set_value);
    sg_free(ev->fixed);
    sg_free(ev->preeq_state);
    sg_free(ev->exps);
    sg_petab_eval_free_sens(ev);
    sg_free(ev);
}

void sg_petab_eval_set_fd_step(sg_petab_eval *ev, double step) { ev->fd_step = step; }
void sg_petab_eval_set_residuals(sg_petab_eval *ev, double *residuals) { ev->residuals = residuals; }

/* ------------------------------------------------------------ parameters */

void sg_petab_nominal(const sg_petab *p, double *x)
{
    for (int k = 0; k < p->nestimated; k++) {
        const sg_petab_param *q = &p->params[p->estimated[k]];
        x[k] = sg_petab_to_scale(q->scale, q->nominal);
    }
}

void sg_petab_set_values(sg_petab_eval *ev, const double *x)
{
    const sg_petab *p = ev->p;
    for (int i = 0; i < p->nparams; i++) {
        const sg_petab_param *q = &p->params[i];
        ev->values[i] = q->estimate ? sg_petab_from_scale(q->scale, x[q->index]) : q->nominal;
    }
}

double sg_petab_value_of(const sg_petab_eval *ev, const sg_petab_value *v)
{
    return v->param >= 0 ? ev->values[v->param] : v->number;
}

static void add_set(sg_petab_eval *ev, int slot, double value)
{
    if (ev->nset < ev->set_cap) {
        ev->set_slot[ev->nset] = slot;
        ev->set_value[ev->nset] = value;
        ev->nset++;
    }
}

/* The start values of condition c: every parameter of the table that is a
 * model entity, then the condition's own values (NaN: keep). */
static void condition_sets(sg_petab_eval *ev, int c)
{
    const sg_petab *p = ev->p;
    ev->nset = 0;
    for (int i = 0; i < p->nparams; i++)
        if (p->params[i].model_slot >= 0)
            add_set(ev, p->params[i].model_slot, ev->values[i]);
    const sg_petab_condition *cd = &p->conditions[c];
    for (int k = 0; k < p->ncond_columns; k++) {
        double v = sg_petab_value_of(ev, &cd->values[k]);
        if (!isnan(v))
            add_set(ev, p->cond_slot[k], v);
    }
}

/* The solver's values at the start of a simulation with the sets in ev,
 * initial-value expressions evaluated where nothing was set. */
static void start_values(sg_petab_eval *ev)
{
    const sg_model *m = ev->p->model;
    const sg_program *prog = m->program;
    double *v = sg_solver_values(ev->sim->solver);
    memcpy(v, prog->base, sizeof(double) * (size_t)prog->nslots);
    memset(ev->fixed, 0, (size_t)prog->nslots);
    for (int i = 0; i < ev->nset; i++) {
        v[ev->set_slot[i]] = ev->set_value[i];
        ev->fixed[ev->set_slot[i]] = 1;
    }
    v[prog->time_slot] = 0.0;
    if (m->ninits > 0)
        sg_model_initial_values(m, v, ev->fixed);
}

/* Steady state from the start values now in the solver. */
static sg_status steady(sg_petab_eval *ev, const char *what, sg_error *err)
{
    sg_steady_info info = {0};
    sg_status st = sg_solver_start(ev->sim->solver, 0.0, err);
    if (st == SG_OK)
        st = sg_sim_steady_from_current(ev->sim, &info, err);
    if (st == SG_OK)
        sg_solver_update_assignments(ev->sim->solver, info.time);
    else if (err) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%s: %.600s", what, err->message);
        memcpy(err->message, msg, sizeof msg);
    }
    return st;
}

/* The steady state from condition c's start values ("label in condition
 * 'c'" in messages), left in the solver. */
static sg_status condition_steady(sg_petab_eval *ev, int c, const char *label, sg_error *err)
{
    condition_sets(ev, c);
    start_values(ev);
    char what[200];
    snprintf(what, sizeof what, "%s in condition '%.80s'", label, ev->p->conditions[c].id);
    return steady(ev, what, err);
}

sg_status sg_petab_preeq_state(sg_petab_eval *ev, int e, sg_error *err)
{
    sg_status st = condition_steady(ev, ev->p->experiments[e].preeq, "pre-equilibration", err);
    if (st == SG_OK)
        memcpy(ev->preeq_state, sg_solver_values(ev->sim->solver),
               sizeof(double) * (size_t)ev->p->model->nstate);
    return st;
}

/* The steady state of simulation e (no pre-equilibration) into ev->slots,
 * time inf: the values its measurements at time inf are scored at. */
sg_status sg_petab_steady_values(sg_petab_eval *ev, int e, sg_error *err)
{
    const sg_model *m = ev->p->model;
    sg_status st = condition_steady(ev, ev->p->experiments[e].condition,
                                    "steady state (time inf)", err);
    if (st != SG_OK)
        return st;
    memcpy(ev->slots, sg_solver_values(ev->sim->solver), sizeof(double) * (size_t)m->nslots);
    ev->slots[m->time_slot] = INFINITY;
    return SG_OK;
}

/* -------------------------------------------------------------- objective */

/* Observable slots for measurement m, the model's values already in place. */
void sg_petab_fill_measurement_slots(sg_petab_eval *ev, const sg_petab_measurement *m)
{
    const sg_petab *p = ev->p;
    const sg_petab_observable *o = &p->observables[m->observable];
    for (int i = 0; i < p->nparams; i++)
        ev->slots[p->obs_param_base + i] = ev->values[i];
    for (int k = 0; k < m->nobs_pars; k++)
        ev->slots[p->obs_placeholder_base + o->first_obs_placeholder + k] =
            sg_petab_value_of(ev, &m->obs_pars[k]);
    for (int k = 0; k < m->nnoise_pars; k++)
        ev->slots[p->obs_placeholder_base + o->first_noise_placeholder + k] =
            sg_petab_value_of(ev, &m->noise_pars[k]);
}

sg_status sg_petab_score(sg_petab_eval *ev, const sg_petab_measurement *m, double *sim,
                       sg_petab_result *res, sg_error *err)
{
    const sg_petab *p = ev->p;
    const sg_petab_observable *o = &p->observables[m->observable];
    sg_petab_fill_measurement_slots(ev, m);
    double h = sg_expr_eval(o->formula, ev->slots);
    double sigma = sg_expr_eval(o->noise, ev->slots);
    if (sim)
        *sim = h;
    if (!isfinite(h))
        return sg_error_set(err, SG_ERR_SOLVER, m->file, m->row, 0,
                            "observable '%s' is %g at time %g", o->id, h, m->time);
    if (!(sigma > 0) || !isfinite(sigma))
        return sg_error_set(err, SG_ERR_SOLVER, m->file, m->row, 0,
                            "noise of observable '%s' is %g: it must be positive", o->id, sigma);
    double y = m->value, ty = y, th = h, jac = 0;
    if (o->transform != SG_SCALE_LIN) {
        if (!(h > 0))
            return sg_error_set(err, SG_ERR_SOLVER, m->file, m->row, 0,
                                "observable '%s' is %g at time %g: not positive, and its "
                                "transformation is log",
                                o->id, h, m->time);
        ty = sg_petab_to_scale(o->transform, y);
        th = sg_petab_to_scale(o->transform, h);
        /* the density of the measurement itself, not of its logarithm */
        jac = o->transform == SG_SCALE_LOG ? log(y) : log(y * log(10.0));
    }
    double r = (ty - th) / sigma;
    if (ev->residuals)
        ev->residuals[m - p->measurements] = r;
    if (ev->sigmas)
        ev->sigmas[m - p->measurements] = sigma;
    res->chi2 += r * r;
    if (o->distribution == SG_NOISE_LAPLACE)
        res->llh += -log(2 * sigma) - jac - fabs(r);
    else
        res->llh += -0.5 * log(2 * M_PI * sigma * sigma) - jac - 0.5 * r * r;
    return SG_OK;
}

double sg_petab_log_prior(const sg_petab_eval *ev, const double *x)
{
    const sg_petab *p = ev->p;
    double lp = 0;
    for (int k = 0; k < p->nestimated; k++) {
        const sg_petab_param *q = &p->params[p->estimated[k]];
        double v = sg_petab_from_scale(q->scale, x[k]), s = x[k];
        double a = q->prior_par[0], b = q->prior_par[1];
        switch (q->prior) {
        case SG_PRIOR_UNIFORM:
            lp += v >= a && v <= b ? -log(b - a) : -INFINITY;
            break;
        case SG_PRIOR_PS_UNIFORM:
            lp += s >= a && s <= b ? -log(b - a) : -INFINITY;
            break;
        case SG_PRIOR_NORMAL:
        case SG_PRIOR_PS_NORMAL: {
            double z = ((q->prior == SG_PRIOR_NORMAL ? v : s) - a) / b;
            lp += -0.5 * log(2 * M_PI * b * b) - 0.5 * z * z;
            break;
        }
        case SG_PRIOR_LAPLACE:
        case SG_PRIOR_PS_LAPLACE:
            lp += -log(2 * b) - fabs((q->prior == SG_PRIOR_LAPLACE ? v : s) - a) / b;
            break;
        case SG_PRIOR_LOGNORMAL: {
            double z = (log(v) - a) / b;
            lp += v > 0 ? -log(v * b * sqrt(2 * M_PI)) - 0.5 * z * z : -INFINITY;
            break;
        }
        case SG_PRIOR_LOGLAPLACE:
            lp += v > 0 ? -log(2 * b * v) - fabs(log(v) - a) / b : -INFINITY;
            break;
        default:
            break;
        }
    }
    return lp;
}

int sg_petab_has_priors(const sg_petab *p)
{
    for (int k = 0; k < p->nestimated; k++)
        if (p->params[p->estimated[k]].prior != SG_PRIOR_NONE)
            return 1;
    return 0;
}

/* The start values of simulation e into ev's sets: its condition's, and
 * after a pre-equilibration the steady state's values of the states the
 * condition does not set. */
static sg_status simulation_sets(sg_petab_eval *ev, int e, sg_error *err)
{
    const sg_petab *p = ev->p;
    const sg_petab_experiment *x = &p->experiments[e];
    sg_status st;
    if (x->preeq >= 0 && (st = sg_petab_preeq_state(ev, e, err)) != SG_OK)
        return st;
    condition_sets(ev, x->condition);
    if (x->preeq >= 0) {
        int nset = ev->nset;
        for (int i = 0; i < p->model->nstate; i++) {
            int set = 0;
            for (int k = 0; k < nset; k++)
                set |= ev->set_slot[k] == i;
            if (!set)
                add_set(ev, i, ev->preeq_state[i]);
        }
    }
    return SG_OK;
}

/* Simulates simulation e and scores its measurements. */
static sg_status run_experiment(sg_petab_eval *ev, int e, double *sims, sg_petab_result *res,
                                sg_error *err)
{
    const sg_petab *p = ev->p;
    const sg_model *m = p->model;
    const sg_petab_experiment *x = &p->experiments[e];
    sg_status st;
    double *v = sg_solver_values(ev->sim->solver);
    if ((st = simulation_sets(ev, e, err)) != SG_OK)
        return st;
    if (ev->exps[e]) {
        sg_trajectory *traj = NULL;
        st = sg_sim_run_point(ev->sim, ev->exps[e], ev->set_slot, ev->set_value, ev->nset,
                              &traj, err);
        if (st != SG_OK) {
            sg_trajectory_free(traj);
            return st;
        }
        for (int r = 0; r < p->nmeasurements; r++) {
            const sg_petab_measurement *mm = &p->measurements[r];
            if (mm->experiment != e || isinf(mm->time))
                continue;
            /* the last row at that time (after any event there) */
            int row = -1;
            for (int k = traj->nrows - 1; k >= 0 && row < 0; k--)
                if (traj->times[k] == mm->time)
                    row = k;
            if (row < 0) {
                sg_trajectory_free(traj);
                return sg_error_set(err, SG_ERR_SOLVER, mm->file, mm->row, 0,
                                    "no simulated value at time %g", mm->time);
            }
            const double *data = traj->data + (size_t)row * (size_t)traj->ncols;
            for (int c = 0; c < traj->ncols; c++)
                ev->slots[traj->slots[c]] = data[c];
            ev->slots[m->time_slot] = mm->time;
            if ((st = sg_petab_score(ev, mm, sims ? &sims[r] : NULL, res, err)) != SG_OK) {
                sg_trajectory_free(traj);
                return st;
            }
        }
        sg_trajectory_free(traj);
    }
    if (x->steady) {
        start_values(ev);
        char what[200];
        snprintf(what, sizeof what, "steady state (time inf) in condition '%.80s'",
                 p->conditions[x->condition].id);
        if ((st = steady(ev, what, err)) != SG_OK)
            return st;
        memcpy(ev->slots, v, sizeof(double) * (size_t)m->nslots);
        ev->slots[m->time_slot] = INFINITY;
        for (int r = 0; r < p->nmeasurements; r++) {
            const sg_petab_measurement *mm = &p->measurements[r];
            if (mm->experiment == e && isinf(mm->time) &&
                (st = sg_petab_score(ev, mm, sims ? &sims[r] : NULL, res, err)) != SG_OK)
                return st;
        }
    }
    return SG_OK;
}

sg_status sg_petab_evaluate(sg_petab_eval *ev, const double *x, double *simulations,
                            sg_petab_result *res, sg_error *err)
{
    const sg_petab *p = ev->p;
    memset(res, 0, sizeof *res);
    sg_petab_set_values(ev, x);
    if (simulations)
        for (int r = 0; r < p->nmeasurements; r++)
            simulations[r] = NAN;
    for (int e = 0; e < p->nexperiments; e++) {
        sg_status st = run_experiment(ev, e, simulations, res, err);
        if (st != SG_OK) {
            res->llh = -INFINITY;
            res->nllh = INFINITY;
            return st;
        }
    }
    res->log_prior = sg_petab_log_prior(ev, x);
    res->nllh = -(res->llh + res->log_prior);
    return SG_OK;
}

/* ----------------------------------------------------------- gradients */

const char *sg_gradient_source_name(sg_gradient_source source)
{
    return source == SG_GRADIENT_SENSITIVITIES ? "forward sensitivities (CVODES)"
                                               : "finite differences (central; fallback)";
}

/* Central differences on the parameters' scales, each step kept inside
 * the bounds (one-sided at a bound). */
static sg_status gradient_fd(sg_petab_eval *ev, const double *x, double *nllh, double *grad,
                             sg_error *err)
{
    const sg_petab *p = ev->p;
    int n = p->nestimated;
    sg_petab_result res;
    sg_status st = sg_petab_evaluate(ev, x, NULL, &res, err);
    if (st != SG_OK)
        return st;
    *nllh = res.nllh;
    double xs[n > 0 ? n : 1];
    memcpy(xs, x, sizeof(double) * (size_t)n);
    for (int k = 0; k < n; k++) {
        const sg_petab_param *q = &p->params[p->estimated[k]];
        double lo = sg_petab_to_scale(q->scale, q->lower), hi = sg_petab_to_scale(q->scale, q->upper);
        double h = ev->fd_step * fmax(1.0, fabs(x[k]));
        double a = x[k] - h, b = x[k] + h;
        if (a < lo)
            a = x[k];
        if (b > hi)
            b = x[k];
        if (a == b) {
            grad[k] = 0;
            continue;
        }
        double fa = res.nllh, fb = res.nllh;
        sg_petab_result ra, rb;
        if (a != x[k]) {
            xs[k] = a;
            if ((st = sg_petab_evaluate(ev, xs, NULL, &ra, err)) != SG_OK)
                return st;
            fa = ra.nllh;
        }
        if (b != x[k]) {
            xs[k] = b;
            if ((st = sg_petab_evaluate(ev, xs, NULL, &rb, err)) != SG_OK)
                return st;
            fb = rb.nllh;
        }
        xs[k] = x[k];
        grad[k] = (fb - fa) / (b - a);
    }
    return SG_OK;
}

sg_status sg_petab_gradient(sg_petab_eval *ev, sg_gradient_source source, const double *x,
                            double *nllh, double *grad, sg_error *err)
{
    if (source == SG_GRADIENT_SENSITIVITIES)
        return sg_petab_gradient_sens(ev, x, nllh, grad, err);
    return gradient_fd(ev, x, nllh, grad, err);
}

/* ------------------------------------------------------------- curves */

sg_status sg_petab_curves(sg_petab_eval *ev, const double *x, int npoints, sg_petab_curve **out,
                          int *ncurves, sg_error *err)
{
    const sg_petab *p = ev->p;
    const sg_model *m = p->model;
    *out = NULL;
    *ncurves = 0;
    sg_petab_set_values(ev, x);
    sg_petab_curve *curves = sg_calloc((size_t)p->nexperiments * (size_t)p->nobservables + 1,
                                       sizeof *curves);
    if (!curves)
        return sg_error_nomem(err);
    int n = 0;
    sg_status st = SG_OK;
    for (int e = 0; e < p->nexperiments && st == SG_OK; e++) {
        const sg_petab_experiment *xp = &p->experiments[e];
        if (xp->ntimes == 0)
            continue;
        /* the start values, as run_experiment makes them */
        if ((st = simulation_sets(ev, e, err)) != SG_OK)
            break;
        sg_experiment *exp = sg_experiment_create(m, NULL, err);
        double t_end = xp->times[xp->ntimes - 1];
        if (!exp || sg_experiment_set_t_end(exp, t_end > 0 ? t_end : 1.0, err) ||
            sg_experiment_set_points(exp, npoints, err)) {
            sg_experiment_free(exp);
            st = err ? err->status : SG_ERR_USAGE;
            break;
        }
        for (int i = 0; i < p->noutput_slots && st == SG_OK; i++)
            st = sg_experiment_add_output(exp, m->slot_name[p->output_slots[i]], err);
        sg_trajectory *traj = NULL;
        if (st == SG_OK)
            st = sg_sim_run_point(ev->sim, exp, ev->set_slot, ev->set_value, ev->nset, &traj, err);
        sg_experiment_free(exp);
        for (int o = 0; o < p->nobservables && st == SG_OK; o++) {
            const sg_petab_measurement *first = NULL;
            for (int r = 0; r < p->nmeasurements && !first; r++)
                if (p->measurements[r].experiment == e && p->measurements[r].observable == o)
                    first = &p->measurements[r];
            if (!first)
                continue;
            sg_petab_curve *c = &curves[n];
            c->experiment = e;
            c->observable = o;
            c->npoints = traj->nrows;
            c->t = sg_malloc(sizeof(double) * ((size_t)traj->nrows + 1));
            c->y = sg_malloc(sizeof(double) * ((size_t)traj->nrows + 1));
            if (!c->t || !c->y) {
                sg_free(c->t);
                sg_free(c->y);
                st = sg_error_nomem(err);
                break;
            }
            n++;
            for (int row = 0; row < traj->nrows; row++) {
                const double *data = traj->data + (size_t)row * (size_t)traj->ncols;
                for (int col = 0; col < traj->ncols; col++)
                    ev->slots[traj->slots[col]] = data[col];
                ev->slots[m->time_slot] = traj->times[row];
                sg_petab_fill_measurement_slots(ev, first);
                c->t[row] = traj->times[row];
                c->y[row] = sg_expr_eval(p->observables[o].formula, ev->slots);
            }
        }
        sg_trajectory_free(traj);
    }
    if (st != SG_OK) {
        sg_petab_curves_free(curves, n);
        return st;
    }
    *out = curves;
    *ncurves = n;
    return SG_OK;
}

void sg_petab_curves_free(sg_petab_curve *curves, int n)
{
    if (!curves)
        return;
    for (int i = 0; i < n; i++) {
        sg_free(curves[i].t);
        sg_free(curves[i].y);
    }
    sg_free(curves);
}

/* The noise sigma of every measurement at x (for error bars). */
sg_status sg_petab_sigmas(sg_petab_eval *ev, const double *x, double *sigma, sg_error *err)
{
    sg_petab_result res;
    ev->sigmas = sigma;
    sg_status st = sg_petab_evaluate(ev, x, NULL, &res, err);
    ev->sigmas = NULL;
    return st;
}

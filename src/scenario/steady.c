/*
 * Steady states: Newton (KINSOL, conservation laws replacing dependent
 * equations) from the current state; if that fails, integrate in decades
 * of time until the largest relative rate is below the tolerance, then
 * polish with Newton. Also used to pre-equilibrate experiments.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../solver/newton.h"
#include "scenario.h"
#include "stability.h"

/* Largest |dy/dt| / max(|y|, atol) over the states now in the slots. */
static double relative_rate(sg_sim *sim, double t, double atol, double *absolute)
{
    const sg_program *p = sim->model->program;
    double *ydot = sg_malloc(sizeof(double) * ((size_t)p->nstate + 1));
    if (!ydot)
        return INFINITY;
    int bad = sg_solver_derivatives(sim->solver, t, ydot);
    const double *v = sg_solver_values(sim->solver);
    double rel = 0, abs_max = 0;
    for (int i = 0; i < p->nstate; i++) {
        double r = fabs(ydot[i]) / fmax(fabs(v[i]), atol);
        rel = fmax(rel, r);
        abs_max = fmax(abs_max, fabs(ydot[i]));
    }
    sg_free(ydot);
    if (absolute)
        *absolute = abs_max;
    return bad == -1 ? rel : INFINITY;
}

static int all_nonnegative(const double *v, int n, double atol)
{
    for (int i = 0; i < n; i++)
        if (!(v[i] >= -atol))
            return 0;
    return 1;
}

sg_status sg_sim_steady_from_current(sg_sim *sim, sg_steady_info *info, sg_error *err)
{
    const sg_options *opt = &sim->opt;
    const sg_model *m = sim->model;
    const sg_program *p = m->program;
    double *v = sg_solver_values(sim->solver);
    int n = p->nstate;
    double tol = info->tolerance > 0 ? info->tolerance : 1e-9;
    double atol = opt->atol;
    double *start = sg_malloc(sizeof(double) * ((size_t)n + 1));
    if (!start)
        return sg_error_nomem(err);
    memcpy(start, v, sizeof(double) * (size_t)n);
    sg_conservation law = {0};
    sg_status st = SG_OK;
    int newton_ok = n <= SG_NEWTON_MAX_STATES;
    if (newton_ok && (st = sg_conservation_find(m, v, &law, err)) != SG_OK) {
        sg_free(start);
        return st;
    }
    info->conservation_laws = law.nlaws;
    info->found = 0;
    long iters = 0;
    if (newton_ok && sg_newton_steady(p, &law, v, tol * 1e-3, &iters, NULL) == SG_OK &&
        all_nonnegative(v, n, atol) &&
        relative_rate(sim, 0.0, atol, &info->residual) <= tol) {
        info->found = 1;
        info->time = 0;
        snprintf(info->method, sizeof info->method,
                 "Newton (KINSOL, %ld iterations) from the initial state", iters);
        goto done;
    }
    /* integrate towards it, checking at every decade of time */
    memcpy(v, start, sizeof(double) * (size_t)n);
    if ((st = sg_solver_start(sim->solver, 0.0, err)) != SG_OK)
        goto done;
    for (double t = 1.0; t <= 1e12; t *= 10) {
        if ((st = sg_solver_advance(sim->solver, t, t, err)) != SG_OK)
            goto done;
        if (relative_rate(sim, t, atol, NULL) > tol * 1e3)
            continue;
        memcpy(start, v, sizeof(double) * (size_t)n);
        if (newton_ok && sg_newton_steady(p, &law, v, tol * 1e-3, &iters, NULL) == SG_OK &&
            all_nonnegative(v, n, atol) &&
            relative_rate(sim, t, atol, &info->residual) <= tol) {
            snprintf(info->method, sizeof info->method,
                     "integration to t = %g, then Newton (KINSOL, %ld iterations)", t, iters);
            info->found = 1;
            info->time = t;
            goto done;
        }
        memcpy(v, start, sizeof(double) * (size_t)n);
        /* a small relative rate is not enough on its own: a state growing
         * without bound (X = ks t) has relative rate 1/t. Accept only if,
         * over as long again as it has been integrated, the state would
         * move by less than 0.1%. */
        double rel = relative_rate(sim, t, atol, &info->residual);
        if (rel <= tol && rel * t <= 1e-3) {
            snprintf(info->method, sizeof info->method, "integration to t = %g", t);
            info->found = 1;
            info->time = t;
            goto done;
        }
    }
    st = sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                      "no steady state found: Newton failed and the state was still moving "
                      "(relative rate above %g, or growing) after integrating to t = 1e12",
                      tol);
done:
    if (info->found) {
        info->max_relative_rate = relative_rate(sim, info->time, atol, &info->residual);
        if (st == SG_OK)
            st = sg_stability_compute(p, v, info->time, law.nlaws, &info->stability, err);
    }
    sg_conservation_free(&law);
    sg_free(start);
    return st;
}

sg_status sg_sim_steady_state(sg_sim *sim, const sg_experiment *exp, sg_trajectory **out,
                              sg_steady_info *info, sg_error *err)
{
    const sg_program *p = sim->model->program;
    *out = NULL;
    double *v = sg_solver_values(sim->solver);
    memcpy(v, p->base, sizeof(double) * (size_t)p->nslots);
    for (int i = 0; i < exp->nsets; i++)
        v[exp->sets[i].slot] = exp->sets[i].add ? v[exp->sets[i].slot] + exp->sets[i].value
                                                : exp->sets[i].value;
    sg_solver_clear_warnings(sim->solver);
    sg_status st = sg_solver_start(sim->solver, exp->t_start, err);
    if (st == SG_OK)
        st = sg_sim_steady_from_current(sim, info, err);
    if (st != SG_OK) {
        sg_sim_hand_over_warnings(sim, exp, NULL, NULL, 0);
        return st;
    }
    sg_solver_update_assignments(sim->solver, info->time);
    sg_trajectory *traj = sg_trajectory_create_for(sim->model, exp);
    if (!traj || sg_trajectory_add_row(traj, info->time, v) != 0) {
        sg_trajectory_free(traj);
        return sg_error_nomem(err);
    }
    sg_sim_warn_about_rows(sim, traj);
    sg_sim_hand_over_warnings(sim, exp, NULL, NULL, 0);
    *out = traj;
    return SG_OK;
}

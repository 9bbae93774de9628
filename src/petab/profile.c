/*
 * Profile likelihoods: for each chosen parameter, step it away from the
 * optimum on its scale, in both directions, re-optimising all the others
 * at each step (NLopt L-BFGS within the bounds, warm-started from the
 * previous point), until nllh rises by more than the threshold
 * chi2(1, 0.95)/2 = 1.92 above the optimum or the bound is reached. The
 * 95% confidence interval ends where the profile crosses the threshold
 * (found by bisection between the two points around the crossing); a
 * side that reaches its bound below the threshold is open: the parameter
 * is (practically) non-identifiable. Parameters are profiled in worker
 * threads, each with its own evaluator; the result does not depend on the
 * number of threads.
 */
#include <math.h>
#include <nlopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "petab.h"

/* chi2 quantile (1 degree of freedom, 95%) / 2 */
#define SG_PROFILE_THRESHOLD (3.8414588206941245 / 2)
#define SG_PROFILE_MAX_POINTS 200

typedef struct inner_ctx {
    sg_petab_eval *ev;
    sg_gradient_source gradient;
    int n, fixed;
    double *full, *grad;
    double best;
    double *best_full;
    int failures;
} inner_ctx;

/* nllh as a function of every parameter but `fixed` */
static double inner_objective(unsigned m, const double *y, double *g, void *data)
{
    inner_ctx *c = data;
    for (int k = 0, j = 0; k < c->n; k++)
        if (k != c->fixed)
            c->full[k] = y[j++];
    double f;
    sg_error err;
    sg_status st;
    if (g) {
        st = sg_petab_gradient(c->ev, c->gradient, c->full, &f, c->grad, &err);
        for (int k = 0, j = 0; k < c->n; k++)
            if (k != c->fixed)
                g[j++] = st == SG_OK ? c->grad[k] : 0;
    } else {
        sg_petab_result res;
        st = sg_petab_evaluate(c->ev, c->full, NULL, &res, &err);
        f = res.nllh;
    }
    (void)m;
    if (st != SG_OK || !isfinite(f)) {
        c->failures++;
        return HUGE_VAL;
    }
    if (f < c->best) {
        c->best = f;
        memcpy(c->best_full, c->full, sizeof(double) * (size_t)c->n);
    }
    return f;
}

/* Minimises over the others with parameter `fixed` at x[fixed]; x is the
 * warm start and gets the optimum. Returns the nllh (inf if every
 * evaluation failed). */
static double reoptimise(inner_ctx *c, const sg_petab *p, double *x)
{
    int n = c->n, m = n - 1;
    c->best = INFINITY;
    memcpy(c->full, x, sizeof(double) * (size_t)n);
    memcpy(c->best_full, x, sizeof(double) * (size_t)n);
    if (m == 0) {
        double f = inner_objective(0, NULL, NULL, c);
        return f;
    }
    double y[m], lo[m], hi[m];
    for (int k = 0, j = 0; k < n; k++) {
        if (k == c->fixed)
            continue;
        const sg_petab_param *q = &p->params[p->estimated[k]];
        lo[j] = sg_petab_to_scale(q->scale, q->lower);
        hi[j] = sg_petab_to_scale(q->scale, q->upper);
        y[j++] = x[k];
    }
    nlopt_opt o = nlopt_create(NLOPT_LD_LBFGS, (unsigned)m);
    if (!o)
        return INFINITY;
    nlopt_set_lower_bounds(o, lo);
    nlopt_set_upper_bounds(o, hi);
    nlopt_set_min_objective(o, inner_objective, c);
    nlopt_set_ftol_rel(o, 1e-10);
    nlopt_set_xtol_rel(o, 1e-8);
    nlopt_set_maxeval(o, 500);
    double f;
    nlopt_optimize(o, y, &f);
    nlopt_destroy(o);
    if (isfinite(c->best))
        memcpy(x, c->best_full, sizeof(double) * (size_t)n);
    return c->best;
}

typedef struct profile_run {
    const sg_petab *p;
    const double *xopt;
    double fopt;
    const int *which;
    int count;
    sg_gradient_source gradient;
    sg_profile *out;
    int next;
    pthread_mutex_t lock;
    sg_status status;
    sg_error err;
} profile_run;

static int add_point(sg_profile *pr, double value, double nllh)
{
    if (pr->npoints >= 2 * SG_PROFILE_MAX_POINTS + 1)
        return -1;
    pr->value[pr->npoints] = value;
    pr->nllh[pr->npoints] = nllh;
    pr->npoints++;
    return 0;
}

static void profile_one(inner_ctx *c, profile_run *run, int k, sg_profile *pr)
{
    const sg_petab *p = run->p;
    int n = p->nestimated;
    const sg_petab_param *q = &p->params[p->estimated[k]];
    double lo = sg_petab_to_scale(q->scale, q->lower), hi = sg_petab_to_scale(q->scale, q->upper);
    double x[n];
    pr->param = p->estimated[k];
    pr->optimum = run->xopt[k];
    pr->lower = -INFINITY;
    pr->upper = INFINITY;
    pr->lower_open = pr->upper_open = 1;
    add_point(pr, run->xopt[k], run->fopt);
    for (int dir = -1; dir <= 1; dir += 2) {
        memcpy(x, run->xopt, sizeof(double) * (size_t)n);
        double step = 0.01 * (hi - lo), prev_v = run->xopt[k], prev_f = run->fopt;
        for (int i = 0; i < SG_PROFILE_MAX_POINTS; i++) {
            double v = prev_v + dir * step;
            int at_bound = 0;
            if (v <= lo || v >= hi) {
                v = dir < 0 ? lo : hi;
                at_bound = 1;
            }
            if (v == prev_v)
                break;
            x[k] = v;
            c->fixed = k;
            double f = reoptimise(c, p, x);
            if (!isfinite(f)) {
                pr->failed_points++;
                break;
            }
            add_point(pr, v, f);
            if (f < pr->min_nllh)
                pr->min_nllh = f;
            double rise = f - run->fopt;
            if (rise > SG_PROFILE_THRESHOLD) {
                /* the crossing lies between prev and this point: bisect
                 * (each probe re-optimised, warm-started from prev) */
                double a_v = prev_v, b_v = v, cross = v;
                double xa[n];
                memcpy(xa, x, sizeof(double) * (size_t)n);
                for (int it = 0; it < 40 && fabs(b_v - a_v) > 1e-7 * (hi - lo); it++) {
                    double mid = 0.5 * (a_v + b_v);
                    xa[k] = mid;
                    double fm = reoptimise(c, p, xa);
                    if (!isfinite(fm))
                        break;
                    if (fm - run->fopt > SG_PROFILE_THRESHOLD)
                        b_v = mid;
                    else
                        a_v = mid;
                }
                cross = 0.5 * (a_v + b_v);
                if (dir < 0) {
                    pr->lower = cross;
                    pr->lower_open = 0;
                } else {
                    pr->upper = cross;
                    pr->upper_open = 0;
                }
                break;
            }
            if (at_bound)
                break;
            /* aim at steps of about 0.1 to 0.5 in nllh */
            double change = fabs(f - prev_f);
            if (change < 0.05)
                step = fmin(step * 2, 0.1 * (hi - lo));
            else if (change > 0.5)
                step = fmax(step / 2, 1e-6 * (hi - lo));
            prev_v = v;
            prev_f = f;
        }
    }
    /* points in increasing order of the parameter */
    for (int i = 1; i < pr->npoints; i++)
        for (int j = i; j > 0 && pr->value[j - 1] > pr->value[j]; j--) {
            double tv = pr->value[j], tf = pr->nllh[j];
            pr->value[j] = pr->value[j - 1];
            pr->nllh[j] = pr->nllh[j - 1];
            pr->value[j - 1] = tv;
            pr->nllh[j - 1] = tf;
        }
}

static void *profile_worker(void *arg)
{
    profile_run *run = arg;
    const sg_petab *p = run->p;
    int n = p->nestimated;
    sg_error err = {0};
    inner_ctx c = {0};
    c.n = n;
    c.gradient = run->gradient;
    c.ev = sg_petab_eval_create(p, NULL, &err);
    c.full = sg_malloc(sizeof(double) * ((size_t)n + 1));
    c.grad = sg_malloc(sizeof(double) * ((size_t)n + 1));
    c.best_full = sg_malloc(sizeof(double) * ((size_t)n + 1));
    if (!c.ev || !c.full || !c.grad || !c.best_full) {
        pthread_mutex_lock(&run->lock);
        if (run->status == SG_OK) {
            if (c.ev)
                sg_error_nomem(&err);
            run->status = err.status ? err.status : SG_ERR_NOMEM;
            run->err = err;
        }
        pthread_mutex_unlock(&run->lock);
    } else {
        for (;;) {
            pthread_mutex_lock(&run->lock);
            int i = run->status == SG_OK && run->next < run->count ? run->next++ : -1;
            pthread_mutex_unlock(&run->lock);
            if (i < 0)
                break;
            sg_profile *pr = &run->out[i];
            pr->min_nllh = run->fopt;
            profile_one(&c, run, run->which[i], pr);
        }
    }
    sg_petab_eval_free(c.ev);
    sg_free(c.full);
    sg_free(c.grad);
    sg_free(c.best_full);
    return NULL;
}

sg_status sg_petab_profile(const sg_petab *p, const double *xopt, const int *which, int count,
                           int jobs, sg_gradient_source gradient, sg_profile **out,
                           double *fopt, sg_error *err)
{
    *out = NULL;
    sg_petab_eval *ev = sg_petab_eval_create(p, NULL, err);
    if (!ev)
        return err ? err->status : SG_ERR_NOMEM;
    sg_petab_result res;
    sg_status st = sg_petab_evaluate(ev, xopt, NULL, &res, err);
    sg_petab_eval_free(ev);
    if (st != SG_OK)
        return st;
    *fopt = res.nllh;
    sg_profile *pr = sg_calloc((size_t)count + 1, sizeof *pr);
    if (!pr)
        return sg_error_nomem(err);
    for (int i = 0; i < count; i++) {
        pr[i].value = sg_malloc(sizeof(double) * (2 * SG_PROFILE_MAX_POINTS + 2));
        pr[i].nllh = sg_malloc(sizeof(double) * (2 * SG_PROFILE_MAX_POINTS + 2));
        if (!pr[i].value || !pr[i].nllh) {
            sg_profiles_free(pr, count);
            return sg_error_nomem(err);
        }
    }
    profile_run run = {p, xopt, res.nllh, which, count, gradient, pr, 0,
                       PTHREAD_MUTEX_INITIALIZER, SG_OK, {0}};
    if (jobs <= 0)
        jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs > count)
        jobs = count;
    if (jobs > 64)
        jobs = 64;
    if (jobs < 1)
        jobs = 1;
    pthread_t threads[64];
    int started = 0;
    for (int j = 1; j < jobs; j++)
        if (pthread_create(&threads[started], NULL, profile_worker, &run) == 0)
            started++;
    profile_worker(&run);
    for (int j = 0; j < started; j++)
        pthread_join(threads[j], NULL);
    pthread_mutex_destroy(&run.lock);
    if (run.status != SG_OK) {
        if (err)
            *err = run.err;
        sg_profiles_free(pr, count);
        return run.status;
    }
    *out = pr;
    return SG_OK;
}

void sg_profiles_free(sg_profile *profiles, int count)
{
    if (!profiles)
        return;
    for (int i = 0; i < count; i++) {
        sg_free(profiles[i].value);
        sg_free(profiles[i].nllh);
    }
    sg_free(profiles);
}

double sg_profile_threshold(void) { return SG_PROFILE_THRESHOLD; }

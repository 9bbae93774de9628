/*
 * Multi-start local optimisation of a PEtab problem: starts drawn by Latin
 * hypercube (GSL's Mersenne Twister) or Sobol (gsl_qrng) within the
 * bounds, on the parameters' scales; each start optimised by NLopt
 * (L-BFGS or SLSQP, with bounds) or GSL's trust-region Levenberg-Marquardt
 * (gsl_multifit_nlinear) on the weighted residuals. Starts run in worker
 * threads, each with its own evaluator; start k depends only on the seed
 * and k, so the result is the same whatever the number of threads.
 */
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_qrng.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <nlopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "petab.h"

/* ----------------------------------------------------------------- starts */

sg_status sg_petab_draw_starts(const sg_petab *p, int starts, unsigned long seed, int sobol,
                               double *x0, sg_error *err)
{
    int n = p->nestimated;
    if (n == 0 || starts <= 0)
        return SG_OK;
    double *lo = sg_malloc(sizeof *lo * (size_t)n), *hi = sg_malloc(sizeof *hi * (size_t)n);
    if (!lo || !hi) {
        sg_free(lo);
        sg_free(hi);
        return sg_error_nomem(err);
    }
    for (int k = 0; k < n; k++) {
        const sg_petab_param *q = &p->params[p->estimated[k]];
        lo[k] = sg_petab_to_scale(q->scale, q->lower);
        hi[k] = sg_petab_to_scale(q->scale, q->upper);
    }
    sg_status st = SG_OK;
    if (sobol) {
        if (n > 40) {
            st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                              "Sobol starts cover at most 40 parameters (GSL's gsl_qrng_sobol); "
                              "this problem estimates %d: use --sampling lhs",
                              n);
            goto done;
        }
        gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)n);
        if (!q) {
            st = sg_error_nomem(err);
            goto done;
        }
        double u[40];
        /* skip the first `seed` points: different seeds, different starts;
         * skip the origin-corner first point too */
        for (unsigned long s = 0; s < seed % 100000 + 1; s++)
            gsl_qrng_get(q, u);
        for (int s = 0; s < starts; s++) {
            gsl_qrng_get(q, u);
            for (int k = 0; k < n; k++)
                x0[(size_t)s * n + k] = lo[k] + u[k] * (hi[k] - lo[k]);
        }
        gsl_qrng_free(q);
    } else {
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        int *perm = sg_malloc(sizeof *perm * (size_t)starts);
        if (!r || !perm) {
            gsl_rng_free(r);
            sg_free(perm);
            st = sg_error_nomem(err);
            goto done;
        }
        gsl_rng_set(r, seed);
        /* Latin hypercube: each parameter's range cut in `starts` strata,
         * one start per stratum, strata shuffled independently per
         * parameter */
        for (int k = 0; k < n; k++) {
            for (int s = 0; s < starts; s++)
                perm[s] = s;
            for (int s = starts - 1; s > 0; s--) {
                int j = (int)gsl_rng_uniform_int(r, (unsigned long)s + 1);
                int t = perm[s];
                perm[s] = perm[j];
                perm[j] = t;
            }
            for (int s = 0; s < starts; s++) {
                double u = (perm[s] + gsl_rng_uniform(r)) / starts;
                x0[(size_t)s * n + k] = lo[k] + u * (hi[k] - lo[k]);
            }
        }
        gsl_rng_free(r);
        sg_free(perm);
    }
done:
    sg_free(lo);
    sg_free(hi);
    return st;
}

/* -------------------------------------------------------------- one start */

typedef struct start_ctx {
    sg_petab_eval *ev;
    const sg_petab *p;
    sg_gradient_source gradient;
    double *best_x;
    double best;
    long evals;
    int failures;
    sg_error last_error;
    double *scratch;
} start_ctx;

static void remember(start_ctx *c, const double *x, double f)
{
    if (isfinite(f) && f < c->best) {
        c->best = f;
        memcpy(c->best_x, x, sizeof(double) * (size_t)c->p->nestimated);
    }
}

static double nlopt_objective(unsigned n, const double *x, double *grad, void *data)
{
    start_ctx *c = data;
    c->evals++;
    double f;
    sg_error err = {0};
    sg_status st;
    if (grad) {
        st = sg_petab_gradient(c->ev, c->gradient, x, &f, grad, &err);
    } else {
        sg_petab_result res;
        st = sg_petab_evaluate(c->ev, x, NULL, &res, &err);
        f = res.nllh;
    }
    if (st != SG_OK || !isfinite(f)) {
        /* a failed simulation at a trial point: the line search backs off */
        c->failures++;
        if (st != SG_OK)
            c->last_error = err;
        if (grad)
            memset(grad, 0, sizeof(double) * n);
        return HUGE_VAL;
    }
    remember(c, x, f);
    return f;
}

static const char *nlopt_result_text(nlopt_result r)
{
    switch (r) {
    case NLOPT_SUCCESS: return "converged";
    case NLOPT_STOPVAL_REACHED: return "converged (objective target reached)";
    case NLOPT_FTOL_REACHED: return "converged (objective tolerance)";
    case NLOPT_XTOL_REACHED: return "converged (parameter tolerance)";
    case NLOPT_MAXEVAL_REACHED: return "stopped: evaluation limit";
    case NLOPT_MAXTIME_REACHED: return "stopped: time limit";
    case NLOPT_ROUNDOFF_LIMITED: return "stopped: roundoff limited";
    case NLOPT_FORCED_STOP: return "stopped";
    case NLOPT_OUT_OF_MEMORY: return "failed: out of memory";
    case NLOPT_INVALID_ARGS: return "failed: invalid arguments";
    case NLOPT_FAILURE: return "stopped: NLopt made no more progress (often round-off near an optimum)";
    default: return "stopped: NLopt error";
    }
}

/* Levenberg-Marquardt on the weighted residuals (normal noise with a fixed
 * sigma, no priors: then nllh = chi2/2 + constant). */
static int lm_residuals(const gsl_vector *x, void *data, gsl_vector *f)
{
    start_ctx *c = data;
    const sg_petab *p = c->p;
    c->evals++;
    sg_error err = {0};
    sg_petab_result res;
    if (sg_petab_evaluate(c->ev, x->data, c->scratch, &res, &err) != SG_OK) {
        c->failures++;
        c->last_error = err;
        return GSL_EDOM;
    }
    remember(c, x->data, res.nllh);
    /* residual r = (ty - th) / sigma needs sigma: recompute from chi2 terms */
    for (int r = 0; r < p->nmeasurements; r++)
        gsl_vector_set(f, (size_t)r, c->scratch[p->nmeasurements + r]);
    return GSL_SUCCESS;
}

struct sg_fit_run {
    const sg_petab *p;
    const sg_fit_options *opt;
    const double *x0;
    sg_fit_start *out;
    int next;
    pthread_mutex_t lock;
    sg_error err;
    sg_status status;
};

static void run_start(start_ctx *c, const sg_fit_options *opt, const double *x0,
                      sg_fit_start *out)
{
    const sg_petab *p = c->p;
    int n = p->nestimated;
    double lo[n > 0 ? n : 1], hi[n > 0 ? n : 1], x[n > 0 ? n : 1];
    for (int k = 0; k < n; k++) {
        const sg_petab_param *q = &p->params[p->estimated[k]];
        lo[k] = sg_petab_to_scale(q->scale, q->lower);
        hi[k] = sg_petab_to_scale(q->scale, q->upper);
        x[k] = x0[k];
    }
    c->best = INFINITY;
    c->evals = 0;
    c->failures = 0;
    memset(&c->last_error, 0, sizeof c->last_error);
    memcpy(c->best_x, x0, sizeof(double) * (size_t)n);
    snprintf(out->status, sizeof out->status, "failed");
    if (opt->optimizer == SG_OPTIMIZER_LM) {
        gsl_multifit_nlinear_fdf fdf = {0};
        fdf.f = lm_residuals;
        fdf.n = (size_t)p->nmeasurements;
        fdf.p = (size_t)n;
        fdf.params = c;
        gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
        gsl_multifit_nlinear_workspace *w =
            gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, fdf.n, fdf.p);
        if (w) {
            gsl_vector_view xv = gsl_vector_view_array(x, (size_t)n);
            int info = 0;
            int gst = gsl_multifit_nlinear_init(&xv.vector, &fdf, w);
            if (gst == GSL_SUCCESS) {
                /* bounds: the box is kept by clamping each iterate */
                for (int it = 0; it < opt->max_iterations; it++) {
                    gst = gsl_multifit_nlinear_iterate(w);
                    gsl_vector *xi = gsl_multifit_nlinear_position(w);
                    for (int k = 0; k < n; k++) {
                        double v = gsl_vector_get(xi, (size_t)k);
                        if (v < lo[k] || v > hi[k])
                            gsl_vector_set(xi, (size_t)k, fmin(hi[k], fmax(lo[k], v)));
                    }
                    if (gst != GSL_SUCCESS && gst != GSL_ENOPROG)
                        break;
                    if (gsl_multifit_nlinear_test(1e-10, 1e-10, 0.0, &info, w) == GSL_SUCCESS)
                        break;
                    if (gst == GSL_ENOPROG)
                        break;
                }
            }
            snprintf(out->status, sizeof out->status, "%s",
                     info ? "converged" : gst == GSL_SUCCESS ? "stopped: iteration limit"
                                                            : "stopped: no progress");
            gsl_multifit_nlinear_free(w);
        }
    } else {
        nlopt_opt o = nlopt_create(opt->optimizer == SG_OPTIMIZER_SLSQP ? NLOPT_LD_SLSQP
                                                                       : NLOPT_LD_LBFGS,
                                   (unsigned)n);
        if (o) {
            nlopt_set_lower_bounds(o, lo);
            nlopt_set_upper_bounds(o, hi);
            nlopt_set_min_objective(o, nlopt_objective, c);
            nlopt_set_ftol_rel(o, opt->ftol);
            nlopt_set_xtol_rel(o, opt->xtol);
            nlopt_set_maxeval(o, opt->max_iterations);
            double f = 0;
            nlopt_result r = nlopt_optimize(o, x, &f);
            snprintf(out->status, sizeof out->status, "%s", nlopt_result_text(r));
            nlopt_destroy(o);
        }
    }
    out->evaluations = c->evals;
    out->failed_evaluations = c->failures;
    if (!isfinite(c->best)) {
        char msg[sizeof c->last_error.message + 16];
        snprintf(msg, sizeof msg, "failed: %s",
                 c->last_error.message[0] ? c->last_error.message : "no objective value");
        snprintf(out->status, sizeof out->status, "%s", msg);
        out->nllh = INFINITY;
        out->failed = 1;
        memcpy(out->x, x0, sizeof(double) * (size_t)n);
    } else {
        out->nllh = c->best;
        out->failed = 0;
        memcpy(out->x, c->best_x, sizeof(double) * (size_t)n);
    }
}

static void *worker(void *arg)
{
    struct sg_fit_run *run = arg;
    const sg_petab *p = run->p;
    int n = p->nestimated;
    sg_error err = {0};
    start_ctx c = {0};
    c.p = p;
    c.gradient = run->opt->gradient;
    sg_options solver;
    sg_options_default(&solver);
    solver.rtol = 1e-10; /* the tolerances sg_petab_eval_create chooses for NULL */
    solver.atol = 1e-12;
    solver.warnings = run->opt->warnings;
    c.ev = sg_petab_eval_create(p, &solver, &err);
    c.best_x = sg_malloc(sizeof(double) * ((size_t)n + 1));
    c.scratch = sg_malloc(sizeof(double) * (2 * (size_t)p->nmeasurements + 1));
    if (!c.ev || !c.best_x || !c.scratch) {
        pthread_mutex_lock(&run->lock);
        if (run->status == SG_OK) {
            run->status = c.ev ? sg_error_nomem(&run->err) : err.status;
            if (!c.ev)
                run->err = err;
        }
        pthread_mutex_unlock(&run->lock);
        goto done;
    }
    if (run->opt->fd_step > 0)
        sg_petab_eval_set_fd_step(c.ev, run->opt->fd_step);
    sg_petab_eval_set_residuals(c.ev, c.scratch + p->nmeasurements);
    for (;;) {
        pthread_mutex_lock(&run->lock);
        int k = -1, parts = run->opt->parts;
        while (k < 0 && run->status == SG_OK && run->next < run->opt->starts) {
            int candidate = run->next++;
            if (parts <= 1 || candidate % parts == run->opt->part)
                k = candidate;
        }
        pthread_mutex_unlock(&run->lock);
        if (k < 0)
            break;
        sg_fit_start *out = &run->out[k];
        out->index = k;
        run_start(&c, run->opt, run->x0 + (size_t)k * n, out);
        if (run->opt->progress) {
            pthread_mutex_lock(&run->lock);
            run->opt->progress(run->opt->progress_ctx, k, out);
            pthread_mutex_unlock(&run->lock);
        }
    }
done:
    sg_petab_eval_free(c.ev);
    sg_free(c.best_x);
    sg_free(c.scratch);
    return NULL;
}

static int start_order(const void *a, const void *b)
{
    const sg_fit_start *x = a, *y = b;
    if (x->failed != y->failed)
        return x->failed - y->failed;
    if (x->nllh != y->nllh)
        return x->nllh < y->nllh ? -1 : 1;
    return x->index - y->index;
}

void sg_fit_options_default(sg_fit_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->starts = 20;
    opt->seed = 1;
    opt->jobs = 0;
    opt->optimizer = SG_OPTIMIZER_LBFGS;
    opt->gradient = SG_GRADIENT_FINITE_DIFFERENCES;
    opt->max_iterations = 1000;
    opt->ftol = 1e-12;
    opt->xtol = 1e-10;
}

sg_status sg_petab_lm_applicable(const sg_petab *p, sg_error *err)
{
    if (sg_petab_has_priors(p))
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "--optimizer lm minimises a sum of squares: the problem has priors "
                            "(use lbfgs or slsqp)");
    for (int o = 0; o < p->nobservables; o++) {
        const sg_petab_observable *ob = &p->observables[o];
        if (ob->distribution != SG_NOISE_NORMAL)
            return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                "--optimizer lm needs normal noise; observable '%s' has laplace "
                                "(use lbfgs or slsqp)",
                                ob->id);
    }
    /* sigma must not depend on estimated parameters */
    for (int r = 0; r < p->nmeasurements; r++) {
        const sg_petab_measurement *m = &p->measurements[r];
        const sg_petab_observable *ob = &p->observables[m->observable];
        for (int k = 0; k < m->nnoise_pars; k++)
            if (m->noise_pars[k].param >= 0 && p->params[m->noise_pars[k].param].estimate)
                return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                    "--optimizer lm needs fixed noise; '%s' (noise of '%s') is "
                                    "estimated (use lbfgs or slsqp)",
                                    p->params[m->noise_pars[k].param].id, ob->id);
    }
    int nslots = p->nobs_slots;
    unsigned char *seen = sg_calloc((size_t)nslots + 1, 1);
    int *slots = NULL;
    size_t count = 0, cap = 0;
    if (!seen)
        return sg_error_nomem(err);
    sg_status st = SG_OK;
    for (int o = 0; o < p->nobservables && st == SG_OK; o++) {
        memset(seen, 0, (size_t)nslots);
        count = 0;
        if (sg_expr_slots(p->observables[o].noise, seen, &slots, &count, &cap) != 0) {
            st = sg_error_nomem(err);
            break;
        }
        for (size_t i = 0; i < count; i++) {
            int s = slots[i];
            int k = s - p->obs_param_base;
            int model_param = -1;
            if (s < p->model->nslots)
                for (int j = 0; j < p->nparams; j++)
                    if (p->params[j].model_slot == s)
                        model_param = j;
            if ((k >= 0 && k < p->nparams && p->params[k].estimate) ||
                (model_param >= 0 && p->params[model_param].estimate) ||
                (s < p->model->nstate)) {
                st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                  "--optimizer lm needs a noise formula free of estimated "
                                  "parameters and states (observable '%s')",
                                  p->observables[o].id);
                break;
            }
        }
    }
    sg_free(seen);
    sg_free(slots);
    return st;
}

sg_status sg_petab_fit(const sg_petab *p, const sg_fit_options *opt, sg_fit_start **out,
                       sg_error *err)
{
    int n = p->nestimated, starts = opt->starts;
    *out = NULL;
    if (n == 0)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "nothing to fit: no parameter has estimate = 1");
    if (starts < 1 || starts > 1000000)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "--starts must be 1 to 1000000");
    if (opt->optimizer == SG_OPTIMIZER_LM) {
        sg_status st = sg_petab_lm_applicable(p, err);
        if (st)
            return st;
    }
    double *x0 = sg_malloc(sizeof(double) * (size_t)starts * (size_t)n);
    sg_fit_start *res = sg_calloc((size_t)starts, sizeof *res);
    double *xs = sg_malloc(sizeof(double) * (size_t)starts * (size_t)n);
    if (!x0 || !res || !xs) {
        sg_free(x0);
        sg_free(res);
        sg_free(xs);
        return sg_error_nomem(err);
    }
    sg_status st = opt->x0 ? SG_OK
                           : sg_petab_draw_starts(p, starts, opt->seed, opt->sampling == 1, x0, err);
    if (opt->x0)
        memcpy(x0, opt->x0, sizeof(double) * (size_t)starts * (size_t)n);
    if (st) {
        sg_free(x0);
        sg_free(res);
        sg_free(xs);
        return st;
    }
    for (int s = 0; s < starts; s++) {
        res[s].x = xs + (size_t)s * n;
        res[s].x0 = x0 + (size_t)s * n;
        res[s].index = s;
        if (opt->parts > 1 && s % opt->parts != opt->part) { /* another process's */
            res[s].failed = 1;
            res[s].nllh = INFINITY;
            memcpy(res[s].x, res[s].x0, sizeof(double) * (size_t)n);
            snprintf(res[s].status, sizeof res[s].status, "not run in this process");
        }
    }
    struct sg_fit_run run = {p, opt, x0, res, 0, PTHREAD_MUTEX_INITIALIZER, {0}, SG_OK};
    int jobs = opt->jobs > 0 ? opt->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1)
        jobs = 1;
    if (jobs > starts)
        jobs = starts;
    if (jobs > 256)
        jobs = 256;
    pthread_t threads[256];
    int started = 0;
    for (int j = 1; j < jobs; j++) {
        if (pthread_create(&threads[started], NULL, worker, &run) != 0)
            break;
        started++;
    }
    worker(&run);
    for (int j = 0; j < started; j++)
        pthread_join(threads[j], NULL);
    pthread_mutex_destroy(&run.lock);
    if (run.status != SG_OK) {
        if (err)
            *err = run.err;
        sg_free(res);
        sg_free(xs);
        sg_free(x0);
        return run.status;
    }
    if (opt->parts <= 1)
        sg_fit_starts_sort(res, starts);
    *out = res;
    return SG_OK;
}

void sg_fit_starts_sort(sg_fit_start *starts, int count)
{
    qsort(starts, (size_t)count, sizeof *starts, start_order);
}

void sg_fit_starts_free(sg_fit_start *starts)
{
    if (!starts)
        return;
    /* the x and x0 blocks belong to the start with index 0 */
    double *xs = NULL, *x0 = NULL;
    for (int i = 0; xs == NULL; i++)
        if (starts[i].index == 0) {
            xs = starts[i].x;
            x0 = starts[i].x0;
        }
    sg_free(xs);
    sg_free(x0);
    sg_free(starts);
}

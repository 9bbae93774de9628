/*
 * Ensembles: the experiment (a time course or a scan) once per sample of the
 * uncertain quantities, on worker threads, each with its own sg_sim and its
 * own design cursor. A sample's values depend only on its index (design.c),
 * and each result lands in the record of its index, so the records are the
 * same whatever the number of threads or processes.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../scenario/scenario.h"
#include "ensemble.h"

static int is_state_slot(const sg_ensemble *e, int slot) { return slot < e->model->nstate; }

void sg_ensemble_free(sg_ensemble *e)
{
    if (!e)
        return;
    sg_free(e->exp);
    sg_free(e->param);
    sg_free(e->slots);
    sg_free(e->cols);
    sg_free(e->outputs);
    sg_free(e->x);
    sg_free(e);
}

/* The outputs (ids) and their trajectory columns, from a nominal run. */
static sg_status nominal_run(sg_ensemble *e, const sg_ensemble_spec *spec, sg_error *err)
{
    sg_sim *sim = sg_sim_create(e->model, &e->opt, err);
    if (!sim)
        return err ? err->status : SG_ERR_NOMEM;
    sg_trajectory *traj = NULL;
    double x0 = e->is_scan ? e->values[0] : 0;
    sg_status st = sg_sim_run_point(sim, e->exp, &e->target_slot, &x0, e->is_scan, &traj, err);
    if (st != SG_OK) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "the model with its nominal values fails: %.700s",
                 err ? err->message : "");
        if (err)
            memcpy(err->message, msg, sizeof msg);
        goto done;
    }
    const sg_experiment *exp = e->exp;
    const char *const *ids = spec->outputs;
    int n = spec->noutputs;
    if (!ids && e->is_scan)
        n = sg_experiment_readouts(exp, &ids);
    if (!ids || n == 0)
        n = sg_trajectory_columns(traj);
    e->noutputs = n;
    e->outputs = sg_calloc((size_t)n, sizeof *e->outputs);
    e->cols = sg_calloc((size_t)n, sizeof *e->cols);
    e->rows = e->is_scan ? e->count : sg_trajectory_rows(traj);
    e->x = sg_calloc((size_t)e->rows + 1, sizeof *e->x);
    if (!e->outputs || !e->cols || !e->x) {
        st = sg_error_nomem(err);
        goto done;
    }
    for (int k = 0; k < n; k++) {
        e->outputs[k] = ids ? ids[k] : sg_trajectory_column_id(traj, k);
        e->cols[k] = sg_trajectory_find_column(traj, e->outputs[k]);
        if (e->cols[k] < 0) {
            st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                              "cannot output '%s': model '%s' has no species or assignment "
                              "with that id",
                              e->outputs[k], e->model->name);
            goto done;
        }
        /* the model keeps the strings; the trajectory's are the model's */
        if (!ids)
            e->outputs[k] = e->model->slot_name[traj->slots[k]];
    }
    for (int r = 0; r < e->rows; r++)
        e->x[r] = e->is_scan ? e->values[r] : sg_trajectory_time(traj, r);
done:
    sg_trajectory_free(traj);
    sg_sim_free(sim);
    return st;
}

sg_ensemble *sg_ensemble_create(const sg_model *model, const sg_options *opt,
                                const sg_experiment *exp, const sg_ensemble_spec *spec,
                                sg_error *err)
{
    if (spec->samples < 2) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "an ensemble needs at least 2 samples (got %ld)", spec->samples);
        return NULL;
    }
    if (model->nuncertain == 0) {
        sg_error_set(err, SG_ERR_USAGE, model->path, 0, 0,
                     "model '%s' has no quantity with an uncertainty (add uncertainty = "
                     "\"lognormal(median, gsd)\" or another distribution to a parameter, "
                     "see models/README.md)",
                     model->name);
        return NULL;
    }
    sg_ensemble *e = sg_calloc(1, sizeof *e);
    if (!e) {
        sg_error_nomem(err);
        return NULL;
    }
    e->model = model;
    e->opt = *opt;
    e->sampler = spec->sampler;
    e->samples = e->base = spec->samples;
    e->gsa = spec->gsa;
    e->levels = spec->levels > 0 ? spec->levels : 4;
    if (e->gsa != SG_GSA_NONE && spec->target) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "a sensitivity analysis reads outputs at times (--readout ID@T), not a "
                     "scan");
        goto fail;
    }
    e->seed = spec->seed;
    e->is_scan = spec->target != NULL;
    e->values = spec->values;
    e->count = spec->count;
    e->fit = spec->fit_hill && e->is_scan;
    e->target_slot = -1;
    /* our own copy: the pre-equilibration flag; sets and events are shared */
    e->exp = sg_malloc(sizeof *e->exp);
    int np = spec->params ? spec->nparams : model->nuncertain;
    e->param = sg_calloc((size_t)np + 1, sizeof *e->param);
    e->slots = sg_calloc((size_t)np + 2, sizeof *e->slots);
    if (!e->exp || !e->param || !e->slots) {
        sg_error_nomem(err);
        goto fail;
    }
    *e->exp = *exp;
    e->exp->preequilibrate = exp->preequilibrate || spec->preequilibrate;
    e->t_read = exp->t_end;
    /* a scan is read at its end only: the runs skip the rows in between */
    e->exp->readouts_only = e->is_scan;
    if (e->is_scan) {
        int slot = sg_map_get(&model->symbols, spec->target);
        if (slot < 0 || model->slot_kind[slot] == SG_SYM_ASSIGNMENT) {
            sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                         "cannot scan '%s': model '%s' has no species, parameter or "
                         "compartment with that id",
                         spec->target, model->name);
            goto fail;
        }
        if (spec->count < 1) {
            sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "a scan needs values");
            goto fail;
        }
        e->target_slot = slot;
    }
    for (int k = 0; k < np; k++) {
        int u = spec->params ? sg_model_find_uncertain(model, spec->params[k]) : k;
        if (u < 0) {
            sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                         "--params: '%s' has no uncertainty in model '%s' (see 'sigode info')",
                         spec->params[k], model->name);
            goto fail;
        }
        for (int j = 0; j < e->nparams; j++)
            if (e->param[j] == u) {
                sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "--params: '%s' given twice",
                             spec->params[k]);
                goto fail;
            }
        int slot = model->uncertain[u].slot;
        /* what the experiment sets or scans is its own: not sampled */
        int fixed = slot == e->target_slot;
        for (int i = 0; i < exp->nsets; i++)
            fixed |= exp->sets[i].slot == slot;
        if (fixed) {
            if (spec->params) {
                sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                             "--params: '%s' is set or scanned by the experiment, it cannot "
                             "also be sampled",
                             spec->params[k]);
                goto fail;
            }
            continue;
        }
        e->param[e->nparams] = u;
        e->slots[e->nparams++] = slot;
    }
    if (e->nparams == 0) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "nothing to sample: every uncertain quantity is set by the experiment");
        goto fail;
    }
    if (e->gsa == SG_GSA_SOBOL)
        e->samples = e->base * (e->nparams + 2);
    else if (e->gsa == SG_GSA_MORRIS)
        e->samples = e->base * (e->nparams + 1);
    if (sg_nominal_check(e, spec, err) != SG_OK)
        goto fail;
    e->record_size = 1 + e->nparams + e->rows * e->noutputs + (e->fit ? e->noutputs : 0);
    return e;
fail:
    sg_ensemble_free(e);
    return NULL;
}

sg_status sg_nominal_check(sg_ensemble *e, const sg_ensemble_spec *spec, sg_error *err)
{
    /* the design must be possible before any run */
    if (e->gsa != SG_GSA_MORRIS) {
        int dims = e->gsa == SG_GSA_SOBOL ? 2 * e->nparams : e->nparams;
        sg_design *d = sg_design_create(e->sampler, dims, e->base, e->seed, err);
        if (!d)
            return err ? err->status : SG_ERR_USAGE;
        sg_design_free(d);
    }
    return nominal_run(e, spec, err);
}

long sg_ensemble_samples(const sg_ensemble *e) { return e->samples; }
int sg_ensemble_record_size(const sg_ensemble *e) { return e->record_size; }
int sg_ensemble_param_count(const sg_ensemble *e) { return e->nparams; }
const char *sg_ensemble_param_id(const sg_ensemble *e, int k)
{
    return e->model->uncertain[e->param[k]].id;
}
int sg_ensemble_output_count(const sg_ensemble *e) { return e->noutputs; }
const char *sg_ensemble_output_id(const sg_ensemble *e, int k) { return e->outputs[k]; }
int sg_ensemble_rows(const sg_ensemble *e) { return e->rows; }
double sg_ensemble_x(const sg_ensemble *e, int row) { return e->x[row]; }
const char *sg_ensemble_x_name(const sg_ensemble *e)
{
    return e->is_scan ? e->model->slot_name[e->target_slot] : "time";
}
int sg_ensemble_is_scan(const sg_ensemble *e) { return e->is_scan; }
int sg_ensemble_fits(const sg_ensemble *e) { return e->fit; }

/* ------------------------------------------------------------ evaluation */

sg_runner *sg_runner_create(const sg_ensemble *e, sg_error *err)
{
    sg_runner *r = sg_calloc(1, sizeof *r);
    size_t n = 2 * (size_t)e->nparams + 2;
    if (r) {
        r->u = sg_calloc(n, sizeof *r->u);
        r->vals = sg_calloc(n, sizeof *r->vals);
        r->run_vals = sg_calloc(n, sizeof *r->run_vals);
        r->run_slots = sg_calloc(n, sizeof *r->run_slots);
        r->y = sg_calloc((size_t)e->rows + 1, sizeof *r->y);
        r->ints = sg_calloc(3 * (size_t)e->nparams + 1, sizeof *r->ints);
    }
    if (!r || !r->u || !r->vals || !r->run_vals || !r->run_slots || !r->y || !r->ints) {
        sg_runner_free(r);
        sg_error_nomem(err);
        return NULL;
    }
    r->sim = sg_sim_create(e->model, &e->opt, err);
    if (!r->sim) {
        sg_runner_free(r);
        return NULL;
    }
    return r;
}

void sg_runner_free(sg_runner *r)
{
    if (!r)
        return;
    sg_sim_free(r->sim);
    sg_design_free(r->design);
    sg_free(r->u);
    sg_free(r->vals);
    sg_free(r->run_vals);
    sg_free(r->run_slots);
    sg_free(r->y);
    sg_free(r->ints);
    sg_free(r);
}

/* Runs the experiment with the sampled values r->vals into `rec`.
 * Returns SG_OK or the failure (rec then says status 2, outputs NaN). */
sg_status sg_runner_eval(const sg_ensemble *e, sg_runner *r, double *rec, sg_error *err)
{
    int np = e->nparams, no = e->noutputs;
    double *out = rec + 1 + np;
    size_t nout = (size_t)e->rows * (size_t)no + (e->fit ? (size_t)no : 0);
    memcpy(rec + 1, r->vals, sizeof(double) * (size_t)np);
    sg_status st = SG_OK;
    /* with pre-equilibration the states come from the sample's steady
     * state: sampled initial values act through it (conservation laws) */
    int nrun = 0;
    for (int k = 0; k < np; k++)
        if (!e->exp->preequilibrate || !is_state_slot(e, e->slots[k])) {
            r->run_slots[nrun] = e->slots[k];
            r->run_vals[nrun++] = r->vals[k];
        }
    if (e->exp->preequilibrate)
        st = sg_sim_preequilibrate_with(r->sim, e->exp->t_start, e->slots, r->vals, np, err);
    if (e->is_scan)
        r->run_slots[nrun] = e->target_slot;
    int npoints = e->is_scan ? e->count : 1;
    for (int i = 0; i < npoints && st == SG_OK; i++) {
        sg_trajectory *traj = NULL;
        if (e->is_scan)
            r->run_vals[nrun] = e->values[i];
        st = sg_sim_run_point(r->sim, e->exp, r->run_slots, r->run_vals, nrun + e->is_scan,
                              &traj, err);
        if (st == SG_OK && e->is_scan) {
            for (int k = 0; k < no; k++)
                out[(size_t)i * (size_t)no + (size_t)k] =
                    sg_trajectory_value_at(traj, e->t_read, e->cols[k]);
        } else if (st == SG_OK) {
            if (sg_trajectory_rows(traj) != e->rows)
                st = sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                                  "the run gave %d output rows, the nominal run %d",
                                  sg_trajectory_rows(traj), e->rows);
            for (int row = 0; row < e->rows && st == SG_OK; row++)
                for (int k = 0; k < no; k++)
                    out[(size_t)row * (size_t)no + (size_t)k] =
                        sg_trajectory_value(traj, row, e->cols[k]);
        }
        sg_trajectory_free(traj);
    }
    if (st == SG_OK && e->fit) {
        for (int k = 0; k < no; k++) {
            for (int i = 0; i < e->count; i++)
                r->y[i] = out[(size_t)i * (size_t)no + (size_t)k];
            sg_hill_fit fit;
            sg_error ferr;
            double ec50 = NAN;
            if (sg_fit_hill(e->values, r->y, e->count, &fit, &ferr) == SG_OK && fit.ok)
                ec50 = fit.ec50;
            out[(size_t)e->rows * (size_t)no + (size_t)k] = ec50;
        }
    }
    if (st != SG_OK)
        for (size_t j = 0; j < nout; j++)
            out[j] = NAN;
    rec[0] = st == SG_OK ? SG_RECORD_RAN : SG_RECORD_FAILED;
    return st;
}

void sg_ensemble_sample_values(const sg_ensemble *e, sg_runner *r, long i)
{
    int d = e->nparams;
    if (e->gsa == SG_GSA_SOBOL) {
        /* evaluation i = j (d + 2) + b: base point j; b = 0 is A, 1 is B,
         * 2 + c is A with column c from B */
        long j = i / (d + 2);
        int b = (int)(i % (d + 2));
        sg_design_point(r->design, j, r->u);
        for (int k = 0; k < d; k++) {
            int from_b = b == 1 || b == 2 + k;
            r->u[k] = from_b ? r->u[d + k] : r->u[k];
        }
    } else if (e->gsa == SG_GSA_MORRIS) {
        /* evaluation i = t (d + 1) + s: trajectory t after s steps */
        long t = i / (d + 1);
        int s = (int)(i % (d + 1));
        int *level = r->ints, *order = r->ints + d, *direction = r->ints + 2 * d;
        sg_morris_path(e, t, level, order, direction);
        for (int step = 0; step < s; step++)
            level[order[step]] += direction[step] * e->levels / 2;
        for (int k = 0; k < d; k++)
            r->u[k] = (level[k] + 0.5) / e->levels;
    } else {
        sg_design_point(r->design, i, r->u);
    }
    for (int k = 0; k < d; k++)
        r->vals[k] = sg_distribution_quantile(&e->model->uncertain[e->param[k]].dist, r->u[k]);
}

/* ------------------------------------------------------------- threads */

typedef struct compute_job {
    const sg_ensemble *e;
    long first, last, stride;
    const unsigned char *skip;
    atomic_long next;
    sg_record_fn deliver;
    void *ctx;
    pthread_mutex_t lock;
    int stop;
    sg_status setup;
    sg_error setup_err;
    long first_failed;
    char *failure;
    size_t failure_size;
} compute_job;

static void *compute_worker(void *arg)
{
    compute_job *job = arg;
    const sg_ensemble *e = job->e;
    sg_error err = {0};
    sg_runner *r = sg_runner_create(e, &err);
    double *rec = sg_malloc(sizeof(double) * (size_t)e->record_size);
    if (r && e->gsa != SG_GSA_MORRIS &&
        !(r->design = sg_design_create(e->sampler, e->gsa == SG_GSA_SOBOL ? 2 * e->nparams
                                                                            : e->nparams,
                                       e->base, e->seed, &err)))
        sg_runner_free(r), r = NULL;
    if (!r || !rec) {
        if (r && !rec)
            sg_error_nomem(&err);
        pthread_mutex_lock(&job->lock);
        if (job->setup == SG_OK) {
            job->setup = err.status ? err.status : SG_ERR_NOMEM;
            job->setup_err = err;
        }
        job->stop = 1;
        pthread_mutex_unlock(&job->lock);
        sg_runner_free(r);
        sg_free(rec);
        return NULL;
    }
    for (;;) {
        long k = atomic_fetch_add(&job->next, 1);
        long i = job->first + k * job->stride;
        if (i >= job->last || job->stop)
            break;
        if (job->skip && job->skip[i])
            continue;
        sg_ensemble_sample_values(e, r, i);
        sg_status st = sg_runner_eval(e, r, rec, &err);
        pthread_mutex_lock(&job->lock);
        if (st != SG_OK && (job->first_failed < 0 || i < job->first_failed)) {
            job->first_failed = i;
            if (job->failure) {
                char msg[900];
                sg_error_format(&err, msg, sizeof msg);
                snprintf(job->failure, job->failure_size, "sample %ld: %s", i, msg);
            }
        }
        if (!job->stop && job->deliver(job->ctx, i, rec) != 0)
            job->stop = 1;
        pthread_mutex_unlock(&job->lock);
    }
    sg_free(rec);
    sg_runner_free(r);
    return NULL;
}

int sg_default_jobs(int jobs)
{
    if (jobs > 0)
        return jobs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

sg_status sg_ensemble_compute(const sg_ensemble *e, long first, long last, long stride,
                              const unsigned char *skip, int jobs, sg_record_fn deliver,
                              void *ctx, char *failure, size_t failure_size, sg_error *err)
{
    compute_job job;
    memset(&job, 0, sizeof job);
    job.e = e;
    job.first = first;
    job.last = last < e->samples ? last : e->samples;
    job.stride = stride > 0 ? stride : 1;
    job.skip = skip;
    atomic_init(&job.next, 0);
    job.deliver = deliver;
    job.ctx = ctx;
    job.first_failed = -1;
    job.failure = failure;
    job.failure_size = failure_size;
    if (failure && failure_size)
        failure[0] = '\0';
    pthread_mutex_init(&job.lock, NULL);
    jobs = sg_default_jobs(jobs);
    long work = (job.last - first + job.stride - 1) / job.stride;
    if (jobs > work)
        jobs = work > 0 ? (int)work : 1;
    pthread_t *threads = sg_calloc((size_t)jobs, sizeof *threads);
    int started = 0;
    if (threads)
        for (; started < jobs - 1; started++)
            if (pthread_create(&threads[started], NULL, compute_worker, &job) != 0)
                break;
    compute_worker(&job); /* this thread works too */
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    sg_free(threads);
    pthread_mutex_destroy(&job.lock);
    if (job.setup != SG_OK) {
        if (err)
            *err = job.setup_err;
        return job.setup;
    }
    if (job.stop)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "the ensemble was stopped");
    return SG_OK;
}

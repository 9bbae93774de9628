/*
 * Scans: each point is an independent run (a fresh start of the same
 * experiment with the target changed), so points can run on several
 * threads, each with its own sg_sim, and land in their own rows: the
 * output is the same whatever the number of threads.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"

typedef struct scan_job {
    const sg_model *model;
    const sg_options *opt;
    const sg_experiment *exp;
    int slot;
    const double *values;
    const double *at;
    int nat;
    sg_scan_result *out;
    atomic_int next;
    sg_status setup_status; /* first failure to create a solver */
    sg_error setup_err;
    pthread_mutex_t lock;
} scan_job;

static void run_points(scan_job *job)
{
    sg_error err;
    sg_sim *sim = sg_sim_create(job->model, job->opt, &err);
    if (!sim) {
        pthread_mutex_lock(&job->lock);
        if (job->setup_status == SG_OK) {
            job->setup_status = err.status;
            job->setup_err = err;
        }
        pthread_mutex_unlock(&job->lock);
        return;
    }
    sg_scan_result *r = job->out;
    for (;;) {
        int i = atomic_fetch_add(&job->next, 1);
        if (i >= r->count)
            break;
        sg_trajectory *traj = NULL;
        sg_status st = sg_sim_run_point(sim, job->exp, job->slot, job->values[i], &traj, &err);
        double *row = r->values + (size_t)i * (size_t)r->nat * (size_t)r->ncols;
        for (int a = 0; a < r->nat; a++)
            for (int c = 0; c < r->ncols; c++)
                row[(size_t)a * (size_t)r->ncols + (size_t)c] =
                    st == SG_OK && traj ? sg_trajectory_value_at(traj, job->at[a], c) : NAN;
        if (st != SG_OK) {
            char msg[900];
            sg_error_format(&err, msg, sizeof msg);
            r->failure[i] = sg_strdup(msg);
        }
        sg_trajectory_free(traj);
    }
    sg_sim_free(sim);
}

static void *worker(void *arg)
{
    run_points(arg);
    return NULL;
}

void sg_scan_result_free(sg_scan_result *r)
{
    if (!r)
        return;
    if (r->failure)
        for (int i = 0; i < r->count; i++)
            sg_free(r->failure[i]);
    sg_free(r->failure);
    sg_free(r->values);
    memset(r, 0, sizeof *r);
}

sg_status sg_scan_compute(const sg_model *m, const sg_options *opt, const sg_experiment *exp,
                          int slot, const double *values, int count, const double *at, int nat,
                          int jobs, sg_scan_result *out, sg_error *err)
{
    memset(out, 0, sizeof *out);
    double t_end = exp->t_end;
    if (!at || nat == 0) {
        at = &t_end;
        nat = 1;
    }
    sg_experiment *copy = sg_calloc(1, sizeof *copy);
    if (!copy)
        return sg_error_nomem(err);
    /* the readout times become output times of every run */
    *copy = *exp;
    copy->sets = NULL;
    copy->events = NULL;
    copy->extra_times = NULL;
    copy->sets_cap = copy->events_cap = copy->extra_cap = 0;
    copy->nextra = 0;
    sg_status st = SG_OK;
    size_t n = (size_t)(exp->nsets ? exp->nsets : 1);
    copy->sets = sg_malloc(sizeof *copy->sets * n);
    copy->sets_cap = n;
    n = (size_t)(exp->nevents ? exp->nevents : 1);
    copy->events = sg_malloc(sizeof *copy->events * n);
    copy->events_cap = n;
    if (!copy->sets || !copy->events) {
        st = sg_error_nomem(err);
        goto done;
    }
    memcpy(copy->sets, exp->sets, sizeof *copy->sets * (size_t)exp->nsets);
    memcpy(copy->events, exp->events, sizeof *copy->events * (size_t)exp->nevents);
    for (int i = 0; i < exp->nextra && st == SG_OK; i++)
        st = sg_experiment_add_output_time(copy, exp->extra_times[i], err);
    for (int a = 0; a < nat && st == SG_OK; a++) {
        if (!(at[a] >= exp->t_start && at[a] <= exp->t_end))
            st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                              "readout time %g is outside the run's time span %g..%g", at[a],
                              exp->t_start, exp->t_end);
        else
            st = sg_experiment_add_output_time(copy, at[a], err);
    }
    if (st != SG_OK)
        goto done;
    out->count = count;
    out->nat = nat;
    out->ncols = m->nspecies + m->nassignments;
    out->values = sg_malloc(sizeof(double) * (size_t)count * (size_t)nat *
                            (size_t)(out->ncols ? out->ncols : 1));
    out->failure = sg_calloc((size_t)count + 1, sizeof *out->failure);
    if (!out->values || !out->failure) {
        st = sg_error_nomem(err);
        goto done;
    }
    if (jobs <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cores > 0 ? (int)cores : 1;
    }
    if (jobs > count)
        jobs = count > 0 ? count : 1;
    if (jobs > 256)
        jobs = 256;
    scan_job job = {.model = m, .opt = opt, .exp = copy, .slot = slot, .values = values,
                    .at = at, .nat = nat, .out = out};
    atomic_init(&job.next, 0);
    pthread_mutex_init(&job.lock, NULL);
    pthread_t threads[256];
    int started = 0;
    for (int k = 1; k < jobs; k++) {
        if (pthread_create(&threads[started], NULL, worker, &job) != 0)
            break; /* fewer threads: the others take over the points */
        started++;
    }
    run_points(&job);
    for (int k = 0; k < started; k++)
        pthread_join(threads[k], NULL);
    pthread_mutex_destroy(&job.lock);
    if (job.setup_status != SG_OK && atomic_load(&job.next) < count) {
        if (err)
            *err = job.setup_err;
        st = job.setup_status;
        goto done;
    }
    if (job.setup_status != SG_OK && started == 0) {
        if (err)
            *err = job.setup_err;
        st = job.setup_status;
        goto done;
    }
    for (int i = 0; i < count; i++)
        if (out->failure[i])
            out->failed++;
done:
    sg_experiment_free(copy);
    if (st != SG_OK)
        sg_scan_result_free(out);
    return st;
}

sg_status sg_scan_run(const sg_model *m, const sg_options *opt, const sg_experiment *exp,
                      const sg_scan_spec *spec, sg_table **out, sg_error *err)
{
    *out = NULL;
    int slot = sg_map_get(&m->symbols, spec->target);
    if (slot < 0 || m->slot_kind[slot] == SG_SYM_ASSIGNMENT)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            slot < 0 ? "cannot scan '%s': model '%s' has no species, "
                                       "parameter or compartment with that id"
                                     : "cannot scan '%s': it is an assignment (model '%s')",
                            spec->target, m->name);
    if (spec->count <= 0)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "a scan needs at least one value");
    sg_symbol_kind kind = m->slot_kind[slot];
    for (int i = 0; i < spec->count; i++)
        if (!isfinite(spec->values[i]) || (kind == SG_SYM_SPECIES && spec->values[i] < 0) ||
            (kind == SG_SYM_COMPARTMENT && spec->values[i] <= 0))
            return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                "scan value %g is not allowed for '%s'", spec->values[i],
                                spec->target);
    /* readout columns */
    sg_trajectory *cols = sg_trajectory_create(m);
    if (!cols)
        return sg_error_nomem(err);
    int nread = spec->nreadouts > 0 ? spec->nreadouts : cols->ncols;
    int *col = sg_malloc(sizeof *col * ((size_t)nread + 1));
    if (!col) {
        sg_trajectory_free(cols);
        return sg_error_nomem(err);
    }
    sg_status st = SG_OK;
    for (int k = 0; k < nread; k++) {
        col[k] = spec->nreadouts > 0 ? sg_trajectory_find_column(cols, spec->readouts[k]) : k;
        if (col[k] < 0) {
            st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                              "readout '%s' is not a species or assignment of model '%s'",
                              spec->readouts[k], m->name);
            break;
        }
    }
    sg_scan_result res = {0};
    if (st == SG_OK)
        st = sg_scan_compute(m, opt, exp, slot, spec->values, spec->count, spec->at, spec->nat,
                             spec->jobs, &res, err);
    if (st != SG_OK) {
        sg_free(col);
        sg_trajectory_free(cols);
        return st;
    }
    int nat = res.nat;
    int ncols = 1 + nread * nat;
    char **names = sg_calloc((size_t)ncols + 1, sizeof *names);
    double *row = sg_malloc(sizeof *row * ((size_t)ncols + 1));
    sg_table *table = NULL;
    if (!names || !row || !(names[0] = sg_strdup(spec->target))) {
        st = sg_error_nomem(err);
        goto done;
    }
    for (int k = 0; k < nread; k++)
        for (int a = 0; a < nat; a++) {
            char buf[600];
            if (nat > 1)
                snprintf(buf, sizeof buf, "%s@%.15g", cols->names[col[k]], spec->at[a]);
            else
                snprintf(buf, sizeof buf, "%s", cols->names[col[k]]);
            if (!(names[1 + k * nat + a] = sg_strdup(buf))) {
                st = sg_error_nomem(err);
                goto done;
            }
        }
    table = sg_table_create(ncols, (const char *const *)names, err);
    if (!table) {
        st = err ? err->status : SG_ERR_NOMEM;
        goto done;
    }
    for (int i = 0; i < spec->count && st == SG_OK; i++) {
        row[0] = spec->values[i];
        for (int k = 0; k < nread; k++)
            for (int a = 0; a < nat; a++)
                row[1 + k * nat + a] =
                    res.values[((size_t)i * (size_t)nat + (size_t)a) * (size_t)res.ncols +
                               (size_t)col[k]];
        st = sg_table_add_row(table, row, err);
    }
    if (st == SG_OK && res.failed) {
        for (int i = 0; i < spec->count && st == SG_OK; i++)
            st = sg_table_set_note(table, "status", i, res.failure[i] ? res.failure[i] : "ok",
                                   err);
        if (st == SG_OK) {
            int first = 0;
            while (!res.failure[first])
                first++;
            st = sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                              "%d of %d scan points failed; first at %s = %g: %s", res.failed,
                              spec->count, spec->target, spec->values[first],
                              res.failure[first]);
        }
    }
done:
    if (names)
        for (int k = 0; k < ncols; k++)
            sg_free(names[k]);
    sg_free(names);
    sg_free(row);
    sg_free(col);
    sg_trajectory_free(cols);
    sg_scan_result_free(&res);
    if (st != SG_OK && st != SG_ERR_SOLVER) {
        sg_table_free(table);
        table = NULL;
    }
    *out = table;
    return st;
}

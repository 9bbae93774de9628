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
    const sg_scan_points *points;
    const double *at;
    int nat;
    sg_scan_result *out;
    atomic_int next;
    atomic_int done;
    sg_progress_fn progress;
    void *progress_ctx;
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
        const sg_scan_points *pts = job->points;
        sg_status st = sg_sim_run_point(sim, job->exp, pts->slots,
                                        pts->values + (size_t)i * (size_t)pts->nslots,
                                        pts->nslots, &traj, &err);
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
        int done = atomic_fetch_add(&job->done, 1) + 1;
        if (job->progress) {
            pthread_mutex_lock(&job->lock);
            job->progress(job->progress_ctx, done, r->count);
            pthread_mutex_unlock(&job->lock);
        }
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
                          const sg_scan_points *points, const double *at, int nat, int jobs,
                          sg_progress_fn progress, void *progress_ctx, sg_scan_result *out,
                          sg_error *err)
{
    int count = points->count;
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
    copy->readouts_only = 1; /* only the readout times are read */
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
    if (exp->nsets > 0) /* sets and events may be NULL when empty */
        memcpy(copy->sets, exp->sets, sizeof *copy->sets * (size_t)exp->nsets);
    if (exp->nevents > 0)
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
    scan_job job = {.model = m, .opt = opt, .exp = copy, .points = points, .at = at,
                    .nat = nat, .out = out, .progress = progress, .progress_ctx = progress_ctx};
    atomic_init(&job.next, 0);
    atomic_init(&job.done, 0);
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

/* The slot of a scan target, after checking every value suits it. */
static int scan_target(const sg_model *m, const char *target, const double *values, int count,
                       sg_error *err)
{
    int slot = sg_map_get(&m->symbols, target);
    if (slot < 0 || m->slot_kind[slot] == SG_SYM_ASSIGNMENT) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     slot < 0 ? "cannot scan '%s': model '%s' has no species, parameter or "
                                "compartment with that id"
                              : "cannot scan '%s': it is an assignment (model '%s')",
                     target, m->name);
        return -1;
    }
    if (count <= 0) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "a scan of '%s' needs at least one value",
                     target);
        return -1;
    }
    sg_symbol_kind kind = m->slot_kind[slot];
    for (int i = 0; i < count; i++)
        if (!isfinite(values[i]) || (kind == SG_SYM_SPECIES && values[i] < 0) ||
            (kind == SG_SYM_COMPARTMENT && values[i] <= 0)) {
            sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "scan value %g is not allowed for '%s'",
                         values[i], target);
            return -1;
        }
    return slot;
}

/* Column indices (in the default trajectory layout) of the readouts; all
 * columns when none are given. Returns the count, -1 on error. */
static int scan_readouts(const sg_model *m, const sg_scan_spec *spec, int **cols,
                         const char ***names, sg_error *err)
{
    sg_trajectory *layout = sg_trajectory_create(m);
    if (!layout) {
        sg_error_nomem(err);
        return -1;
    }
    int n = spec->nreadouts > 0 ? spec->nreadouts : layout->ncols;
    *cols = sg_malloc(sizeof **cols * ((size_t)n + 1));
    *names = sg_malloc(sizeof **names * ((size_t)n + 1));
    if (!*cols || !*names) {
        sg_free(*cols);
        sg_free(*names);
        sg_trajectory_free(layout);
        sg_error_nomem(err);
        return -1;
    }
    for (int k = 0; k < n; k++) {
        (*cols)[k] = spec->nreadouts > 0 ? sg_trajectory_find_column(layout, spec->readouts[k]) : k;
        if ((*cols)[k] < 0) {
            sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                         "readout '%s' is not a species or assignment of model '%s'",
                         spec->readouts[k], m->name);
            sg_free(*cols);
            sg_free(*names);
            sg_trajectory_free(layout);
            return -1;
        }
        (*names)[k] = layout->names[(*cols)[k]];
    }
    sg_trajectory_free(layout);
    return n;
}

/* Marks failed rows in a status column and turns them into the status. */
static sg_status note_failures(sg_table *table, const sg_scan_result *res, const char *what,
                               sg_error *err)
{
    if (!res->failed)
        return SG_OK;
    int first = -1;
    for (int i = 0; i < res->count; i++) {
        sg_status st = sg_table_set_note(table, "status", i,
                                         res->failure[i] ? res->failure[i] : "ok", err);
        if (st != SG_OK)
            return st;
        if (res->failure[i] && first < 0)
            first = i;
    }
    return sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                        "%d of %d %s failed; first in row %d: %s", res->failed, res->count,
                        what, first + 1, res->failure[first]);
}

static double result_value(const sg_scan_result *res, int point, int at, int col)
{
    return res->values[((size_t)point * (size_t)res->nat + (size_t)at) * (size_t)res->ncols +
                       (size_t)col];
}

/* What a scan's table builder holds until it returns. */
typedef struct scan_build {
    int ncols;
    char **names;          /* ncols column names */
    double *row;           /* one row being filled */
    int *col;              /* trajectory column of each readout */
    const char **rnames;   /* readout names */
    sg_scan_result res;
    sg_table *table;
} scan_build;

/* Frees what the builder holds and hands over its table: a complete one,
 * or one with the rows of a scan whose failed points are nan (status
 * SG_ERR_SOLVER); nothing on any other failure. */
static sg_status finish_build(scan_build *b, sg_status st, sg_table **out)
{
    if (b->names)
        for (int k = 0; k < b->ncols; k++)
            sg_free(b->names[k]);
    sg_free(b->names);
    sg_free(b->row);
    sg_free(b->col);
    sg_free(b->rnames);
    sg_scan_result_free(&b->res);
    if (st != SG_OK && st != SG_ERR_SOLVER) {
        sg_table_free(b->table);
        b->table = NULL;
    }
    *out = b->table;
    return st;
}

sg_status sg_scan_run(const sg_model *m, const sg_options *opt, const sg_experiment *exp,
                      const sg_scan_spec *spec, sg_table **out, sg_error *err)
{
    *out = NULL;
    int slot = scan_target(m, spec->target, spec->values, spec->count, err);
    if (slot < 0)
        return err ? err->status : SG_ERR_USAGE;
    scan_build b = {0};
    int nread = scan_readouts(m, spec, &b.col, &b.rnames, err);
    if (nread < 0)
        return err ? err->status : SG_ERR_USAGE;
    sg_scan_points points = {&slot, 1, spec->values, spec->count};
    sg_status st = sg_scan_compute(m, opt, exp, &points, spec->at, spec->nat, spec->jobs,
                                   spec->progress, spec->progress_ctx, &b.res, err);
    if (st != SG_OK)
        return finish_build(&b, st, out);
    int nat = b.res.nat;
    b.ncols = 1 + nread * nat;
    b.names = sg_calloc((size_t)b.ncols + 1, sizeof *b.names);
    b.row = sg_malloc(sizeof *b.row * ((size_t)b.ncols + 1));
    if (!b.names || !b.row || !(b.names[0] = sg_strdup(spec->target)))
        return finish_build(&b, sg_error_nomem(err), out);
    for (int k = 0; k < nread; k++)
        for (int a = 0; a < nat; a++) {
            char buf[600];
            if (nat > 1)
                snprintf(buf, sizeof buf, "%s@%.15g", b.rnames[k], spec->at[a]);
            else
                snprintf(buf, sizeof buf, "%s", b.rnames[k]);
            if (!(b.names[1 + k * nat + a] = sg_strdup(buf)))
                return finish_build(&b, sg_error_nomem(err), out);
        }
    b.table = sg_table_create(b.ncols, (const char *const *)b.names, err);
    if (!b.table)
        return finish_build(&b, SG_ERR_NOMEM, out);
    for (int i = 0; i < spec->count && st == SG_OK; i++) {
        b.row[0] = spec->values[i];
        for (int k = 0; k < nread; k++)
            for (int a = 0; a < nat; a++)
                b.row[1 + k * nat + a] = result_value(&b.res, i, a, b.col[k]);
        st = sg_table_add_row(b.table, b.row, err);
    }
    if (st == SG_OK)
        st = note_failures(b.table, &b.res, "scan points", err);
    return finish_build(&b, st, out);
}

sg_status sg_scan2_run(const sg_model *m, const sg_options *opt, const sg_experiment *exp,
                       const sg_scan2_spec *spec2, sg_table **out, sg_error *err)
{
    const sg_scan_spec *spec = &spec2->first;
    *out = NULL;
    if (spec->nat > 1)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "a two-dimensional scan takes one readout time (--at)");
    int slots[2];
    slots[0] = scan_target(m, spec->target, spec->values, spec->count, err);
    if (slots[0] < 0)
        return err ? err->status : SG_ERR_USAGE;
    slots[1] = scan_target(m, spec2->target2, spec2->values2, spec2->count2, err);
    if (slots[1] < 0)
        return err ? err->status : SG_ERR_USAGE;
    if (slots[0] == slots[1])
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "the two scan targets must differ (both are '%s')", spec->target);
    scan_build b = {0};
    int nread = scan_readouts(m, spec, &b.col, &b.rnames, err);
    if (nread < 0)
        return err ? err->status : SG_ERR_USAGE;
    int n1 = spec->count, n2 = spec2->count2, count = n1 * n2;
    int mask = spec2->synergy ? spec2->synergy : SG_SYNERGY_BLISS;
    static const char *const method_name[3] = {"bliss", "loewe", "hsa"};
    int methods[3], nmethods = 0;
    for (int k = 0; k < 3; k++)
        if (mask & (1 << k))
            methods[nmethods++] = k;
    if ((mask & SG_SYNERGY_LOEWE) && (spec->values[0] != 0 || spec2->values2[0] != 0))
        return finish_build(&b, sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                             "Loewe additivity needs both scan axes to start "
                                             "at dose 0 (the single agents alone)"),
                            out);
    b.ncols = 2 + nread * (1 + nmethods);
    double *grid = sg_malloc(sizeof(double) * 2 * (size_t)count);
    b.names = sg_calloc((size_t)b.ncols + 1, sizeof *b.names);
    b.row = sg_malloc(sizeof(double) * ((size_t)b.ncols + 1));
    sg_hill_fit *fits = spec2->fits ? spec2->fits
                                    : sg_calloc(2 * (size_t)nread + 1, sizeof *fits);
    double *xs = sg_malloc(sizeof(double) * ((size_t)(n1 > n2 ? n1 : n2) + 1));
    double *ys = sg_malloc(sizeof(double) * ((size_t)(n1 > n2 ? n1 : n2) + 1));
    if (!grid || !b.names || !b.row || !fits || !xs || !ys) {
        sg_free(grid);
        if (fits != spec2->fits)
            sg_free(fits);
        sg_free(xs);
        sg_free(ys);
        return finish_build(&b, sg_error_nomem(err), out);
    }
    for (int i = 0; i < n1; i++)
        for (int j = 0; j < n2; j++) {
            grid[2 * ((size_t)i * n2 + j)] = spec->values[i];
            grid[2 * ((size_t)i * n2 + j) + 1] = spec2->values2[j];
        }
    sg_scan_points points = {slots, 2, grid, count};
    sg_status st = sg_scan_compute(m, opt, exp, &points, spec->at, spec->nat, spec->jobs,
                         spec->progress, spec->progress_ctx, &b.res, err);
    sg_free(grid);
    const sg_scan_result *res = &b.res;
    /* single agents: the first column of the grid (drug 1 alone) and the
     * first row (drug 2 alone), for Loewe */
    for (int k = 0; k < nread && st == SG_OK && (mask & SG_SYNERGY_LOEWE); k++) {
        int c = b.col[k];
        for (int axis = 0; axis < 2 && st == SG_OK; axis++) {
            int n = axis ? n2 : n1, nonneg = 1;
            for (int i = 0; i < n; i++) {
                xs[i] = axis ? spec2->values2[i] : spec->values[i];
                ys[i] = result_value(res, axis ? i : i * n2, 0, c);
                nonneg &= !(ys[i] < 0);
            }
            st = sg_fit_hill_bounded(xs, ys, n, nonneg ? 0.0 : -INFINITY, INFINITY,
                                     &fits[2 * k + axis], err);
        }
    }
    sg_free(xs);
    sg_free(ys);
    if (st != SG_OK) {
        if (fits != spec2->fits)
            sg_free(fits);
        return finish_build(&b, st, out);
    }
    b.names[0] = sg_strdup(spec->target);
    b.names[1] = sg_strdup(spec2->target2);
    for (int k = 0; k < nread; k++) {
        b.names[2 + k] = sg_strdup(b.rnames[k]);
        for (int q = 0; q < nmethods; q++) {
            char buf[600];
            snprintf(buf, sizeof buf, "%s_%s", method_name[methods[q]], b.rnames[k]);
            b.names[2 + nread * (1 + q) + k] = sg_strdup(buf);
        }
    }
    for (int k = 0; k < b.ncols; k++)
        if (!b.names[k]) {
            if (fits != spec2->fits)
                sg_free(fits);
            return finish_build(&b, sg_error_nomem(err), out);
        }
    b.table = sg_table_create(b.ncols, (const char *const *)b.names, err);
    if (!b.table) {
        if (fits != spec2->fits)
            sg_free(fits);
        return finish_build(&b, SG_ERR_NOMEM, out);
    }
    for (int i = 0; i < n1 && st == SG_OK; i++)
        for (int j = 0; j < n2 && st == SG_OK; j++) {
            int p = i * n2 + j;
            b.row[0] = spec->values[i];
            b.row[1] = spec2->values2[j];
            for (int k = 0; k < nread; k++) {
                /* responses relative to the reference pair (first value of
                 * each axis) */
                int c = b.col[k];
                double ref = result_value(res, 0, 0, c);
                double fa = result_value(res, i * n2, 0, c) / ref;
                double fb = result_value(res, j, 0, c) / ref;
                double fab = result_value(res, p, 0, c) / ref;
                b.row[2 + k] = result_value(res, p, 0, c);
                for (int q = 0; q < nmethods; q++) {
                    double expected = NAN;
                    if (methods[q] == 0)
                        expected = fa * fb;
                    else if (methods[q] == 1)
                        expected = sg_loewe_expected(&fits[2 * k], &fits[2 * k + 1],
                                                     spec->values[i], spec2->values2[j]) /
                                   ref;
                    else
                        expected = fmin(fa, fb);
                    b.row[2 + nread * (1 + q) + k] = ref != 0 ? expected - fab : NAN;
                }
            }
            st = sg_table_add_row(b.table, b.row, err);
        }
    if (fits != spec2->fits)
        sg_free(fits);
    if (st == SG_OK)
        st = note_failures(b.table, &b.res, "grid points", err);
    return finish_build(&b, st, out);
}

/*
 * sigode ensemble MODEL [--scenario ID | --target NAME ...] --samples N ...
 * The experiment once per sample of the model's uncertain quantities;
 * quantile bands of the outputs over time (or over the scanned values),
 * optionally every sample's readouts and, for a scan with --fit hill, the
 * distribution of the fitted EC50/IC50.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/study.h"

/* What write_sample_rows reads. */
typedef struct samples_out {
    const study_opts *o;
    const sg_ensemble *e;
    sg_ensemble_store *store;
    double *rec;
} samples_out;

static sg_status write_sample_rows(void *ctx, FILE *f, sg_error *err)
{
    samples_out *w = ctx;
    const study_opts *o = w->o;
    const sg_ensemble *e = w->e;
    int np = sg_ensemble_param_count(e), no = sg_ensemble_output_count(e);
    int rows = sg_ensemble_rows(e), scan = sg_ensemble_is_scan(e);
    char sep = o->format == SG_FORMAT_TSV ? '\t' : ',', num[40];
    fprintf(f, "sample");
    for (int k = 0; k < np; k++)
        fprintf(f, "%c%s", sep, sg_ensemble_param_id(e, k));
    for (int k = 0; k < no; k++) {
        for (int r = scan ? 0 : rows - 1; r < rows; r++) {
            study_number(num, sizeof num, sg_ensemble_x(e, r));
            fprintf(f, "%c%s@%s=%s", sep, sg_ensemble_output_id(e, k), sg_ensemble_x_name(e), num);
        }
        if (sg_ensemble_fits(e))
            fprintf(f, "%c%s_ec50", sep, sg_ensemble_output_id(e, k));
    }
    fprintf(f, "%cstatus\n", sep);
    /* a test's way to interrupt sigode while the temporary has data */
    if (getenv("SIGODE_TEST_SIGNAL_WHILE_WRITING"))
        raise(atoi(getenv("SIGODE_TEST_SIGNAL_WHILE_WRITING")));
    for (long i = 0; i < sg_ensemble_samples(e); i++) {
        sg_status st = sg_ensemble_store_get(w->store, i, w->rec, err);
        if (st != SG_OK)
            return st;
        const double *rec = w->rec;
        fprintf(f, "%ld", i);
        for (int k = 0; k < np; k++) {
            study_number(num, sizeof num, rec[1 + k]);
            fprintf(f, "%c%s", sep, num);
        }
        const double *out = rec + 1 + np;
        for (int k = 0; k < no; k++) {
            for (int r = scan ? 0 : rows - 1; r < rows; r++) {
                study_number(num, sizeof num, out[(size_t)r * (size_t)no + (size_t)k]);
                fprintf(f, "%c%s", sep, num);
            }
            if (sg_ensemble_fits(e)) {
                study_number(num, sizeof num, out[(size_t)rows * (size_t)no + (size_t)k]);
                fprintf(f, "%c%s", sep, num);
            }
        }
        fprintf(f, "%c%s\n", sep, rec[0] == 1 ? "ok" : "failed");
    }
    if (fflush(f) != 0 || ferror(f)) {
        snprintf(err->message, sizeof err->message, "cannot write the samples to %.600s: %s",
                 o->samples_output, strerror(errno));
        return err->status = SG_ERR_IO;
    }
    return SG_OK;
}

/* Every sample's row, streamed from the store (memory does not grow with
 * the samples) through the shared writer: a temporary renamed over the
 * file when complete, so a failed write leaves any previous file; an
 * interrupt meanwhile waits until the temporary is renamed or removed. */
static int write_samples(const study_opts *o, const sg_ensemble *e, sg_ensemble_store *store)
{
    samples_out w = {o, e, store, malloc(sizeof(double) * (size_t)sg_ensemble_record_size(e))};
    if (!w.rec)
        return study_usage(o->command, "out of memory");
    sg_error err = {0};
    cli_begin_writing();
    sg_status st = sg_write_stream_file(o->samples_output, write_sample_rows, &w, &err);
    cli_end_writing();
    free(w.rec);
    return st == SG_OK ? 0 : study_report(&err);
}

/* Ribbons between the outermost quantiles, the one nearest 0.5 as the line. */
static int plot_bands(const study_opts *o, const sg_ensemble *e, const sg_table *t)
{
    int nq = o->nq, no = sg_ensemble_output_count(e), lo = 0, hi = 0, mid = 0;
    for (int j = 0; j < nq; j++) {
        lo = o->q[j] < o->q[lo] ? j : lo;
        hi = o->q[j] > o->q[hi] ? j : hi;
        mid = fabs(o->q[j] - 0.5) < fabs(o->q[mid] - 0.5) ? j : mid;
    }
    sg_band *bands = calloc((size_t)no, sizeof *bands);
    char (*titles)[320] = calloc((size_t)no, sizeof *titles);
    if (!bands || !titles) {
        free(bands);
        free(titles);
        return study_usage(o->command, "out of memory");
    }
    for (int k = 0; k < no; k++) {
        int base = 1 + k * (nq + 1);
        snprintf(titles[k], sizeof titles[k], "%s %g..%g", sg_ensemble_output_id(e, k),
                 o->q[lo], o->q[hi]);
        bands[k] = (sg_band){sg_ensemble_output_id(e, k), titles[k], base + lo, base + mid,
                             base + hi};
    }
    char title[400];
    snprintf(title, sizeof title, "%s: %ld samples (median line, quantile band)",
             o->model_path, o->samples);
    sg_band_plot_spec spec = {o->plot, title, sg_ensemble_x_name(e),
                              sg_ensemble_is_scan(e) && o->log_scale, t, bands, no};
    if (sg_ensemble_is_scan(e) && !o->target)
        spec.logx = sg_ensemble_x(e, 0) > 0; /* a scenario's dose scan */
    sg_error err = {0};
    cli_begin_writing();
    int rc = sg_plot_bands(&spec, &err) == SG_OK ? 0 : study_report(&err);
    cli_end_writing();
    free(bands);
    free(titles);
    return rc;
}

static int report_ec50(const study_opts *o, const sg_ensemble *e, sg_ensemble_store *store)
{
    double q[3] = {o->q[0], 0.5, o->q[o->nq - 1]};
    if (o->nq < 2 || !(q[0] < 0.5 && q[2] > 0.5))
        q[0] = 0.05, q[2] = 0.95;
    for (int k = 0; k < sg_ensemble_output_count(e); k++) {
        double v[3];
        long fitted = 0;
        sg_error err = {0};
        if (sg_ensemble_ec50(e, store, k, q, 3, v, &fitted, &err) != SG_OK)
            return study_report(&err);
        long n = sg_ensemble_samples(e);
        if (fitted == 0) {
            fprintf(stderr, "hill fit %s: no sample's curve admits a fit\n",
                    sg_ensemble_output_id(e, k));
            continue;
        }
        fprintf(stderr,
                "hill fit %s: EC50 median %.4g, %.4g..%.4g (quantiles %g and %g) over %ld of %ld "
                "samples%s\n",
                sg_ensemble_output_id(e, k), v[1], v[0], v[2], q[0], q[2], fitted, n,
                fitted < n ? " (the others ran but admit no fit, or failed)" : "");
    }
    return 0;
}

int cmd_ensemble(int argc, char **argv)
{
    study_opts o;
    int rc = study_parse(&o, argc, argv);
    if (rc) {
        study_free(&o);
        return rc;
    }
    if (!o.has_samples) {
        study_free(&o);
        return study_usage("ensemble", "--samples N is required (N >= 2)");
    }
    sg_model *model = NULL;
    sg_experiment *exp = NULL;
    double *values = NULL;
    const char **params = NULL, **outputs = NULL;
    sg_ensemble *ens = NULL;
    sg_ensemble_store *store = NULL;
    if ((rc = study_setup(&o, &model, &exp)) != 0)
        goto done;
    const char *target = NULL;
    int count = study_scan_values(&o, exp, &target, &values);
    if (count < 0) {
        rc = 2;
        goto done;
    }
    int nparams = o.params ? study_split(o.params, &params) : 0;
    int noutputs = o.outputs ? study_split(o.outputs, &outputs) : 0;
    if (nparams < 0 || noutputs < 0) {
        rc = study_usage("ensemble", "--params and --readout expect ids separated by commas");
        goto done;
    }
    if (o.fit_hill && !target) {
        rc = study_usage("ensemble", "--fit hill needs a scan (--target, or a scenario with "
                                     "a scan)");
        goto done;
    }
    sg_ensemble_spec spec = {params, nparams, o.sampler, o.samples, o.seed, o.preequilibrate,
                             outputs, noutputs, target, values, count, o.fit_hill, SG_GSA_NONE, 0};
    sg_error err = {0};
    if (!(ens = sg_ensemble_create(model, &o.opt, exp, &spec, &err))) {
        rc = study_report(&err);
        goto done;
    }
    char failure[1200] = "";
    long failed = 0;
    rc = study_compute(&o, ens, &store, &failed, failure, sizeof failure);
    if (rc == 3) { /* an MPI rank other than 0: rank 0 writes */
        rc = 0;
        goto done;
    }
    if (rc)
        goto done;
    sg_table *bands = NULL;
    if (sg_ensemble_bands(ens, store, o.q, o.nq, (size_t)64 << 20, &bands, &failed, &err) !=
        SG_OK) {
        rc = study_report(&err);
        goto done;
    }
    rc = study_write_table(&o, bands, o.output);
    if (rc == 0 && o.plot)
        rc = plot_bands(&o, ens, bands);
    sg_table_free(bands);
    if (rc == 0 && o.samples_output)
        rc = write_samples(&o, ens, store);
    if (rc == 0 && sg_ensemble_fits(ens))
        rc = report_ec50(&o, ens, store);
    if (failed > 0) {
        fprintf(stderr,
                "sigode ensemble: %ld of %ld samples failed and are left out of the quantiles "
                "(the _n columns count the samples used)%s%s\n",
                failed, o.samples, failure[0] ? "; first: " : "", failure);
        if (rc == 0)
            rc = 1;
    }
done:
    sg_ensemble_store_close(store);
    sg_ensemble_free(ens);
    free(params);
    free(outputs);
    free(values);
    sg_experiment_free(exp);
    sg_model_free(model);
    study_free(&o);
    return rc;
}

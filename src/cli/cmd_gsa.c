/*
 * sigode gsa MODEL --method sobol|morris [--samples N] [--readout ID@T,...]
 * Global sensitivity of readouts (an output at a time) to the model's
 * uncertain quantities: Sobol first-order and total indices with bootstrap
 * intervals, or Morris mu*, mu and sigma. A table (CSV/TSV) and a bar plot.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/study.h"

typedef struct readout {
    const char *id;
    double t;
    int output, row;
} readout;

/* "ID@T,ID@T,...": ids into `ids` (unique), times; T defaults to t_end. */
static int parse_readouts(const study_opts *o, char *text, double t_end, readout **out,
                          int *nout, const char ***ids, int *nids)
{
    const char **parts = NULL;
    int n = study_split(text, &parts);
    if (n <= 0)
        return study_usage(o->command, "--readout expects ID@T,ID@T,...");
    readout *r = calloc((size_t)n, sizeof *r);
    const char **u = calloc((size_t)n + 1, sizeof *u);
    if (!r || !u) {
        free(parts);
        free(r);
        free(u);
        return study_usage(o->command, "out of memory");
    }
    int nu = 0;
    for (int i = 0; i < n; i++) {
        char *at = strchr(parts[i], '@');
        r[i].t = t_end;
        if (at) {
            *at = '\0';
            char *end;
            r[i].t = strtod(at + 1, &end);
            if (!at[1] || *end || !isfinite(r[i].t)) {
                int rc = study_usage(o->command, "--readout: '%s' is not a time (ID@T)", at + 1);
                free(parts);
                free(r);
                free(u);
                return rc;
            }
        }
        r[i].id = parts[i];
        r[i].output = -1;
        for (int k = 0; k < nu; k++)
            if (!strcmp(u[k], parts[i]))
                r[i].output = k;
        if (r[i].output < 0) {
            r[i].output = nu;
            u[nu++] = parts[i];
        }
    }
    free(parts);
    *out = r;
    *nout = n;
    *ids = u;
    *nids = nu;
    return 0;
}

static void field(char *buf, size_t size, double x) { study_number(buf, size, x); }

int cmd_gsa(int argc, char **argv)
{
    study_opts o;
    int rc = study_parse(&o, argc, argv);
    if (rc) {
        study_free(&o);
        return rc;
    }
    if (!o.has_samples)
        o.samples = o.morris ? 50 : 1024;
    if (o.target || o.values_text || o.fit_hill || o.samples_output) {
        study_free(&o);
        return study_usage("gsa", "--target, --values, --fit and --samples-output apply to "
                                  "'ensemble'; gsa reads outputs at times (--readout ID@T)");
    }
    sg_model *model = NULL;
    sg_experiment *exp = NULL;
    const char **params = NULL, **ids = NULL;
    readout *reads = NULL;
    int nreads = 0, nids = 0;
    sg_ensemble *ens = NULL;
    sg_ensemble_store *store = NULL;
    char *text = NULL;
    size_t len = 0;
    sg_table *bars = NULL;
    if ((rc = study_setup(&o, &model, &exp)) != 0)
        goto done;
    sg_error err = {0};
    /* only the readout times are needed: two rows and those */
    if (!o.has_points && sg_experiment_set_points(exp, 2, &err) != SG_OK) {
        rc = study_report(&err);
        goto done;
    }
    if (!o.outputs) {
        rc = study_usage("gsa", "--readout ID@T,... is required (an output and its time)");
        goto done;
    }
    if ((rc = parse_readouts(&o, o.outputs, sg_experiment_t_end(exp), &reads, &nreads, &ids,
                             &nids)) != 0)
        goto done;
    for (int i = 0; i < nreads; i++) {
        if (!(reads[i].t >= sg_experiment_t_start(exp) && reads[i].t <= sg_experiment_t_end(exp))) {
            rc = study_usage("gsa", "--readout %s@%g: the time is outside the run (%g..%g)",
                             reads[i].id, reads[i].t, sg_experiment_t_start(exp),
                             sg_experiment_t_end(exp));
            goto done;
        }
        if (sg_experiment_add_output_time(exp, reads[i].t, &err) != SG_OK) {
            rc = study_report(&err);
            goto done;
        }
    }
    int nparams = o.params ? study_split(o.params, &params) : 0;
    if (nparams < 0) {
        rc = study_usage("gsa", "--params expects ids separated by commas");
        goto done;
    }
    sg_ensemble_spec spec = {params, nparams, o.sampler, o.samples, o.seed, o.preequilibrate,
                             ids, nids, NULL, NULL, 0, 0,
                             o.morris ? SG_GSA_MORRIS : SG_GSA_SOBOL, o.levels};
    if (!(ens = sg_ensemble_create(model, &o.opt, exp, &spec, &err))) {
        rc = study_report(&err);
        goto done;
    }
    for (int i = 0; i < nreads; i++)
        reads[i].row = sg_ensemble_find_row(ens, reads[i].t);
    char failure[1200] = "";
    long failed = 0; /* counted by the analyses, per readout */
    rc = study_compute(&o, ens, &store, &failed, failure, sizeof failure);
    if (rc == 3) {
        rc = 0;
        goto done;
    }
    if (rc)
        goto done;
    int d = sg_ensemble_param_count(ens);
    char sep = o.format == SG_FORMAT_TSV ? '\t' : ',';
    /* the table, and the numbers of the bar plot (row, value, low, high x2) */
    const char *bar_names[7] = {"row", "a", "a_low", "a_high", "b", "b_low", "b_high"};
    if (!(bars = sg_table_create(7, bar_names, &err))) {
        rc = study_report(&err);
        goto done;
    }
    char **labels = calloc((size_t)nreads * (size_t)d + 1, sizeof *labels);
    sg_sobol_indices *si = calloc((size_t)d, sizeof *si);
    sg_morris_stats *ms = calloc((size_t)d, sizeof *ms);
    FILE *mem = open_memstream(&text, &len);
    if (!labels || !si || !ms || !mem) {
        rc = study_usage("gsa", "out of memory");
        goto free_all;
    }
    static const char *const sobol_head[] = {"readout", "time", "parameter", "S1", "S1_low",
                                             "S1_high", "ST", "ST_low", "ST_high",
                                             "base_samples", NULL};
    static const char *const morris_head[] = {"readout", "time", "parameter", "mu_star", "mu",
                                              "sigma", "trajectories", NULL};
    const char *const *head = o.morris ? morris_head : sobol_head;
    for (int c = 0; head[c]; c++)
        fprintf(mem, "%s%c", head[c], head[c + 1] ? sep : '\n');
    int nlabels = 0;
    long min_used = o.samples;
    for (int r = 0; r < nreads && rc == 0; r++) {
        long used = 0;
        double variance = 0;
        sg_status st =
            o.morris ? sg_gsa_morris(ens, store, reads[r].output, reads[r].row, ms, &used, &err)
                     : sg_gsa_sobol(ens, store, reads[r].output, reads[r].row, o.bootstrap,
                                    o.confidence, o.seed, si, &used, &variance, &err);
        if (st != SG_OK) {
            rc = study_report(&err);
            break;
        }
        min_used = used < min_used ? used : min_used;
        if (!o.morris && !(variance > 0))
            fprintf(stderr, "sigode gsa: %s@%g does not vary over the samples: its indices are "
                            "undefined (NaN)\n", reads[r].id, reads[r].t);
        char t[40], v[6][40];
        field(t, sizeof t, reads[r].t);
        for (int i = 0; i < d; i++) {
            double row[7];
            if (o.morris) {
                field(v[0], 40, ms[i].mu_star);
                field(v[1], 40, ms[i].mu);
                field(v[2], 40, ms[i].sigma);
                fprintf(mem, "%s%c%s%c%s%c%s%c%s%c%s%c%ld\n", reads[r].id, sep, t, sep,
                        sg_ensemble_param_id(ens, i), sep, v[0], sep, v[1], sep, v[2], sep, used);
                double rowm[7] = {nlabels, ms[i].mu_star, ms[i].mu_star, ms[i].mu_star,
                                  ms[i].sigma, ms[i].sigma, ms[i].sigma};
                memcpy(row, rowm, sizeof row);
            } else {
                double x[6] = {si[i].s1, si[i].s1_low, si[i].s1_high,
                               si[i].st, si[i].st_low, si[i].st_high};
                for (int j = 0; j < 6; j++)
                    field(v[j], 40, x[j]);
                fprintf(mem, "%s%c%s%c%s%c%s%c%s%c%s%c%s%c%s%c%s%c%ld\n", reads[r].id, sep, t,
                        sep, sg_ensemble_param_id(ens, i), sep, v[0], sep, v[1], sep, v[2], sep,
                        v[3], sep, v[4], sep, v[5], sep, used);
                row[0] = nlabels;
                memcpy(row + 1, x, sizeof x);
            }
            if (sg_table_add_row(bars, row, &err) != SG_OK) {
                rc = study_report(&err);
                break;
            }
            char label[600];
            snprintf(label, sizeof label, nreads > 1 ? "%s (%s@%s)" : "%s", sg_ensemble_param_id(ens, i),
                     reads[r].id, t);
            labels[nlabels++] = strdup(label);
        }
    }
    if (fclose(mem) != 0 && rc == 0)
        rc = study_usage("gsa", "out of memory");
    mem = NULL;
    if (rc == 0) {
        if (o.output) {
            cli_begin_writing();
            if (sg_write_text_file(o.output, text, &err) != SG_OK)
                rc = study_report(&err);
            cli_end_writing();
        } else if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
            rc = 2;
        }
    }
    if (rc == 0 && o.plot) {
        static const int value[2] = {1, 4}, low[2] = {2, 5}, high[2] = {3, 6};
        static const char *const sobol_series[2] = {"first order S1", "total ST"};
        static const char *const morris_series[2] = {"mu*", "sigma"};
        char title[400];
        snprintf(title, sizeof title, "%s: %s (%ld %s)", o.model_path,
                 o.morris ? "Morris elementary effects" : "Sobol indices", o.samples,
                 o.morris ? "trajectories" : "base samples");
        sg_bar_plot_spec spec_plot = {o.plot, title, o.morris ? "effect" : "index", bars,
                                      (const char *const *)labels, nlabels,
                                      o.morris ? morris_series : sobol_series, value, low, high, 2};
        cli_begin_writing();
        if (sg_plot_bars(&spec_plot, &err) != SG_OK)
            rc = study_report(&err);
        cli_end_writing();
    }
    if (rc == 0 && min_used < o.samples) {
        fprintf(stderr, "sigode gsa: some runs failed; their base points are left out (the "
                        "last column counts those used)%s%s\n",
                failure[0] ? "; first: " : "", failure);
        rc = 1;
    }
free_all:
    if (mem)
        fclose(mem);
    for (int i = 0; labels && i < nreads * d; i++)
        free(labels[i]);
    free(labels);
    free(si);
    free(ms);
done:
    sg_table_free(bars);
    free(text);
    sg_ensemble_store_close(store);
    sg_ensemble_free(ens);
    free(params);
    free(ids);
    free(reads);
    sg_experiment_free(exp);
    sg_model_free(model);
    study_free(&o);
    return rc;
}

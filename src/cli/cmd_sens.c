/*
 * sigode sens MODEL [--params P,P,...|all] [--at T,...] [--normalize]
 *                   [--ranking FILE] [experiment, output and solver options]
 *
 * Forward sensitivities of the outputs with respect to parameters, in long
 * format (time, output, parameter, value), and the parameters ranked by
 * influence: the root mean square over outputs and times of
 * p * (dy/dp) / max|y| (each output scaled by its largest magnitude, so
 * zero crossings do not blow up; a parameter at 0 has influence 0).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static struct {
    const char *params;
    char *at;
    int normalize;
    const char *ranking;
} sens_opt;

static int parse_params(cli *c, const char *opt, const char *value)
{
    (void)c;
    (void)opt;
    sens_opt.params = value;
    return 0;
}

static int parse_at(cli *c, const char *opt, const char *value)
{
    (void)c;
    (void)opt;
    sens_opt.at = (char *)value;
    return 0;
}

static int parse_normalize(cli *c, const char *opt, const char *value)
{
    (void)c;
    (void)opt;
    (void)value;
    sens_opt.normalize = 1;
    return 0;
}

static int parse_ranking(cli *c, const char *opt, const char *value)
{
    (void)c;
    if (!*value)
        return cli_usage_error("sens", "%s expects a file name", opt);
    sens_opt.ranking = value;
    return 0;
}

static const cli_option sens_options[] = {
    {"params", "P[,P...]|all",
     "parameters, compartments (their sizes) or species (their initial values) to "
     "differentiate by (default all model parameters)",
     parse_params},
    {"at", "T[,T...]", "output times (default the experiment's points)", parse_at},
    {"normalize", NULL, "write d log y / d log p = (p / y) dy/dp instead of dy/dp",
     parse_normalize},
    {"ranking", "FILE", "also write the influence ranking as a table (--format)", parse_ranking},
    {NULL, NULL, NULL, NULL}};

static const cli_group *const sens_groups[] = {
    &(const cli_group){"sensitivity options", sens_options}, &cli_experiment_group,
    &cli_output_group, &cli_solver_group, NULL};

static int double_order(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct ranked {
    int k;
    double influence;
} ranked;

static int by_influence(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->influence != y->influence)
        return x->influence < y->influence ? 1 : -1;
    return x->k - y->k;
}

/* Influence of each parameter (see the top of the file), ranked. */
static ranked *rank_parameters(const sg_sens_result *r)
{
    int nt = sg_sens_result_times(r), no = sg_sens_result_outputs(r),
        np = sg_sens_result_params(r);
    ranked *rk = calloc((size_t)np + 1, sizeof *rk);
    double *scale = calloc((size_t)no + 1, sizeof *scale);
    if (!rk || !scale) {
        free(rk);
        free(scale);
        return NULL;
    }
    for (int j = 0; j < no; j++)
        for (int i = 0; i < nt; i++)
            scale[j] = fmax(scale[j], fabs(sg_sens_result_value(r, i, j)));
    for (int k = 0; k < np; k++) {
        double sum = 0;
        long n = 0;
        for (int j = 0; j < no; j++) {
            if (!(scale[j] > 0))
                continue;
            for (int i = 0; i < nt; i++) {
                double x = sg_sens_result_param_value(r, k) * sg_sens_result_deriv(r, i, j, k) /
                           scale[j];
                sum += x * x;
                n++;
            }
        }
        rk[k] = (ranked){k, n > 0 ? sqrt(sum / (double)n) : 0.0};
    }
    qsort(rk, (size_t)np, sizeof *rk, by_influence);
    free(scale);
    return rk;
}

static int write_ranking(const cli *c, const sg_sens_result *r, const ranked *rk,
                         const char *path)
{
    static const char *const names[] = {"rank", "value", "influence"};
    sg_error err = {0};
    sg_table *t = sg_table_create(3, names, &err);
    sg_status st = t ? SG_OK : err.status;
    for (int k = 0; st == SG_OK && k < sg_sens_result_params(r); k++) {
        double row[3] = {k + 1, sg_sens_result_param_value(r, rk[k].k), rk[k].influence};
        st = sg_table_add_row(t, row, &err);
        if (st == SG_OK)
            st = sg_table_set_note(t, "parameter", k, sg_sens_result_param_id(r, rk[k].k), &err);
    }
    int rc = st == SG_OK ? cli_write_table(c, t, path) : cli_report(&err);
    sg_table_free(t);
    return rc;
}

static int run_sens(cli *c)
{
    sg_model *m = c->model;
    sg_error err = {0};
    sg_experiment *exp = NULL;
    sg_sens *sens = NULL;
    sg_sens_result *res = NULL;
    ranked *rk = NULL;
    char *params_copy = NULL, *select_copy = NULL;
    const char **params = NULL, **outputs = NULL;
    double *times = NULL;
    int rc = 2, np = 0, nout = 0, ntimes = 0;
    if (sens_opt.ranking && cli_check_output_path(sens_opt.ranking, "the ranking"))
        return 2;
    if (!(exp = cli_make_experiment(c, m, &err))) {
        rc = cli_report(&err);
        goto done;
    }
    /* parameters: a list, or every model parameter */
    int max = sg_model_parameter_count(m) + sg_model_species_count(m) + 1;
    params = calloc((size_t)max + 1, sizeof *params);
    if (!params) {
        rc = cli_usage_error("sens", "out of memory");
        goto done;
    }
    if (!sens_opt.params || !strcmp(sens_opt.params, "all")) {
        np = sg_model_parameter_count(m);
        for (int k = 0; k < np; k++)
            params[k] = sg_model_parameter_id(m, k);
        if (np == 0) {
            rc = cli_usage_error("sens", "model '%s' has no parameters: name species with "
                                         "--params", sg_model_name(m));
            goto done;
        }
    } else {
        params_copy = strdup(sens_opt.params);
        if (!params_copy || (np = cli_split_list(params_copy, (char **)params, max)) == 0) {
            rc = cli_usage_error("sens", "--params expects ids separated by commas (or all), "
                                         "got '%s'", sens_opt.params);
            goto done;
        }
    }
    if (c->select) {
        select_copy = strdup(c->select);
        int maxo = sg_model_species_count(m) + sg_model_assignment_count(m) +
                   sg_model_parameter_count(m) + sg_model_compartment_count(m) + 1;
        outputs = calloc((size_t)maxo + 1, sizeof *outputs);
        if (!select_copy || !outputs ||
            (nout = cli_split_list(select_copy, (char **)outputs, maxo)) == 0) {
            rc = cli_usage_error("sens", "--select expects ids separated by commas, got '%s'",
                                 c->select);
            goto done;
        }
    }
    if (sens_opt.at) {
        int n = 0;
        char *copy = strdup(sens_opt.at), **parts = copy ? cli_split_alloc(copy, &n) : NULL;
        times = calloc((size_t)n + 1, sizeof *times);
        if (n == 0 || !times) {
            free(parts);
            free(copy);
            rc = cli_usage_error("sens", "--at expects times T,T,..., got '%s'", sens_opt.at);
            goto done;
        }
        for (int i = 0; i < n; i++)
            if (cli_parse_number("sens", "--at", parts[i], &times[i])) {
                free(parts);
                free(copy);
                rc = 2;
                goto done;
            }
        free(parts);
        free(copy);
        qsort(times, (size_t)n, sizeof *times, double_order);
        for (int i = 0; i < n; i++)
            if (ntimes == 0 || times[i] != times[ntimes - 1])
                times[ntimes++] = times[i];
    }
    if (!(sens = sg_sens_create(m, &c->opt, params, np, &err))) {
        rc = cli_report(&err);
        goto done;
    }
    sg_sens_request req = {.exp = exp, .times = times, .ntimes = ntimes,
                           .outputs = outputs, .noutputs = nout};
    if (sg_sens_run(sens, &req, &res, &err) != SG_OK) {
        rc = cli_report(&err);
        goto done;
    }
    cli_begin_writing();
    sg_status st = c->output
                       ? sg_sens_write_file(res, sens_opt.normalize, c->format, c->output, &err)
                       : sg_sens_write(res, sens_opt.normalize, c->format, stdout, &err);
    cli_end_writing();
    if (st != SG_OK) {
        rc = cli_report(&err);
        goto done;
    }
    if (!(rk = rank_parameters(res))) {
        rc = cli_usage_error("sens", "out of memory");
        goto done;
    }
    fprintf(stderr, "parameters by influence (RMS of p dy/dp / max|y| over %d outputs x %d "
                    "times):\n  rank  %-24s %14s %14s\n",
            sg_sens_result_outputs(res), sg_sens_result_times(res), "parameter", "value",
            "influence");
    for (int k = 0; k < np; k++)
        fprintf(stderr, "  %4d  %-24s %14.6g %14.6g\n", k + 1,
                sg_sens_result_param_id(res, rk[k].k),
                sg_sens_result_param_value(res, rk[k].k), rk[k].influence);
    rc = sens_opt.ranking ? write_ranking(c, res, rk, sens_opt.ranking) : 0;
done:
    free(rk);
    sg_sens_result_free(res);
    sg_sens_free(sens);
    sg_experiment_free(exp);
    free(params_copy);
    free(select_copy);
    free(params);
    free(outputs);
    free(times);
    return rc;
}

const cli_command cli_cmd_sens = {
    "sens", "MODEL [options]",
    "Forward sensitivities (CVODES) of the outputs with respect to parameters, in long "
    "format (time, output, parameter, value), and the parameters ranked by influence.",
    sens_groups, CLI_NEEDS_MODEL, run_sens, NULL};

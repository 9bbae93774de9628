/*
 * sigode sens MODEL [--scenario ID] [--params P,P,...|all] [--select ID,...]
 *                   [--at T,...] [--normalize] [--t-end T] [--set NAME=VALUE]...
 *                   [--output FILE] [--format csv|tsv|json] [--ranking FILE]
 *                   [--rtol X] [--atol X] [--max-steps N] [--linear-solver ...]
 *
 * Forward sensitivities of the outputs with respect to parameters, in long
 * format (time, output, parameter, value), and the parameters ranked by
 * influence: the root mean square over outputs and times of
 * p * (dy/dp) / max|y| (each output scaled by its largest magnitude, so
 * zero crossings do not blow up; a parameter at 0 has influence 0).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigode.h"
#include "cmd_sens.h"

static int fail(const sg_error *err)
{
    char msg[1200];
    sg_error_format(err, msg, sizeof msg);
    fprintf(stderr, "%s\n", msg);
    return sg_status_exit_code(err->status);
}

static int usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "sigode sens: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see 'sigode --help')\n");
    return 2;
}

/* Splits a comma-separated list in place; 0 for an empty item. */
static int split(char *text, char **parts, int max)
{
    int n = 0;
    for (char *p = text;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p || n >= max)
            return 0;
        parts[n++] = p;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static int parse_double(const char *text, double *out)
{
    char *end;
    *out = strtod(text, &end);
    return *text && !*end && isfinite(*out);
}

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

static int write_ranking(const sg_sens_result *r, const ranked *rk, const char *path,
                         sg_format format)
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
    if (st == SG_OK)
        st = sg_table_write_file(t, format, path, &err);
    sg_table_free(t);
    return st == SG_OK ? 0 : fail(&err);
}

typedef struct options {
    const char *model, *scenario, *params, *select, *output, *ranking;
    char *at;
    int normalize;
    double t_end;
    int has_t_end;
    const char **set_names;
    double *set_values;
    int nsets;
    sg_format format;
    sg_options opt;
} options;

static int parse(int argc, char **argv, options *o)
{
    enum { O_SCENARIO = 256, O_PARAMS, O_SELECT, O_AT, O_NORMALIZE, O_T_END, O_SET, O_OUTPUT,
           O_FORMAT, O_RANKING, O_RTOL, O_ATOL, O_MAX_STEPS, O_LINSOL };
    static const struct option longopts[] = {
        {"scenario", required_argument, NULL, O_SCENARIO},
        {"params", required_argument, NULL, O_PARAMS},
        {"select", required_argument, NULL, O_SELECT},
        {"at", required_argument, NULL, O_AT},
        {"normalize", no_argument, NULL, O_NORMALIZE},
        {"t-end", required_argument, NULL, O_T_END},
        {"set", required_argument, NULL, O_SET},
        {"output", required_argument, NULL, O_OUTPUT},
        {"format", required_argument, NULL, O_FORMAT},
        {"ranking", required_argument, NULL, O_RANKING},
        {"rtol", required_argument, NULL, O_RTOL},
        {"atol", required_argument, NULL, O_ATOL},
        {"max-steps", required_argument, NULL, O_MAX_STEPS},
        {"linear-solver", required_argument, NULL, O_LINSOL},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    argc--; /* argv[0] becomes "sens" */
    argv++;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        double x;
        switch (c) {
        case O_SCENARIO: o->scenario = optarg; break;
        case O_PARAMS: o->params = optarg; break;
        case O_SELECT: o->select = optarg; break;
        case O_AT: o->at = optarg; break;
        case O_NORMALIZE: o->normalize = 1; break;
        case O_OUTPUT: o->output = optarg; break;
        case O_RANKING: o->ranking = optarg; break;
        case O_T_END:
            if (!parse_double(optarg, &o->t_end))
                return usage("--t-end expects a number, got '%s'", optarg);
            o->has_t_end = 1;
            break;
        case O_SET: {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !parse_double(eq + 1, &x))
                return usage("--set expects NAME=VALUE, got '%s'", optarg);
            const char **names = realloc(o->set_names, sizeof *names * (size_t)(o->nsets + 1));
            if (names)
                o->set_names = names;
            double *values = realloc(o->set_values, sizeof *values * (size_t)(o->nsets + 1));
            if (values)
                o->set_values = values;
            char *name = strndup(optarg, (size_t)(eq - optarg));
            if (!names || !values || !name) {
                free(name);
                return usage("%s", "out of memory");
            }
            o->set_names[o->nsets] = name;
            o->set_values[o->nsets++] = x;
            break;
        }
        case O_FORMAT:
            if (!strcmp(optarg, "csv"))
                o->format = SG_FORMAT_CSV;
            else if (!strcmp(optarg, "tsv"))
                o->format = SG_FORMAT_TSV;
            else if (!strcmp(optarg, "json"))
                o->format = SG_FORMAT_JSON;
            else
                return usage("--format expects csv, tsv or json, got '%s'", optarg);
            break;
        case O_RTOL:
        case O_ATOL:
            if (!parse_double(optarg, &x) || !(x > 0) || x >= 1)
                return usage("tolerances must be between 0 and 1, got '%s'", optarg);
            *(c == O_RTOL ? &o->opt.rtol : &o->opt.atol) = x;
            break;
        case O_MAX_STEPS:
            if (!parse_double(optarg, &x) || x < 1 || x > 1e12 || x != floor(x))
                return usage("--max-steps expects a whole number >= 1, got '%s'", optarg);
            o->opt.max_steps = (long)x;
            break;
        case O_LINSOL:
            if (!strcmp(optarg, "auto"))
                o->opt.linear_solver = SG_LINSOL_AUTO;
            else if (!strcmp(optarg, "dense"))
                o->opt.linear_solver = SG_LINSOL_DENSE;
            else if (!strcmp(optarg, "klu"))
                o->opt.linear_solver = SG_LINSOL_KLU;
            else
                return usage("--linear-solver expects auto, dense or klu, got '%s'", optarg);
            break;
        case ':':
            return usage("%s expects a value", argv[optind - 1]);
        default:
            return usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    for (; optind < argc; optind++) {
        if (o->model)
            return usage("unexpected argument '%s'", argv[optind]);
        o->model = argv[optind];
    }
    if (!o->model)
        return usage("%s", "a MODEL file is expected");
    return 0;
}

static sg_model *load(const char *path, sg_error *err)
{
    const char *dot = strrchr(path, '.');
    int sbml = dot && (!strcmp(dot, ".xml") || !strcmp(dot, ".sbml"));
    return sbml ? sg_model_load_sbml(path, err) : sg_model_load_file(path, err);
}

int sigode_cmd_sens(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    sg_options_default(&o.opt);
    sg_error err = {0};
    sg_model *m = NULL;
    sg_experiment *exp = NULL;
    sg_sens *sens = NULL;
    sg_sens_result *res = NULL;
    ranked *rk = NULL;
    char *params_copy = NULL, *select_copy = NULL;
    const char **params = NULL, **outputs = NULL;
    double *times = NULL;
    int rc = parse(argc, argv, &o), np = 0, nout = 0, ntimes = 0;
    if (rc)
        goto done;
    rc = 2;
    if (!(m = load(o.model, &err)) || !(exp = sg_experiment_create(m, o.scenario, &err)) ||
        (o.has_t_end && sg_experiment_set_t_end(exp, o.t_end, &err) != SG_OK)) {
        rc = fail(&err);
        goto done;
    }
    for (int i = 0; i < o.nsets; i++)
        if (sg_experiment_set_value(exp, o.set_names[i], o.set_values[i], &err) != SG_OK) {
            rc = fail(&err);
            goto done;
        }
    /* parameters: a list, or every model parameter */
    int max = sg_model_parameter_count(m) + sg_model_species_count(m) + 1;
    params = calloc((size_t)max + 1, sizeof *params);
    if (!params) {
        rc = usage("%s", "out of memory");
        goto done;
    }
    if (!o.params || !strcmp(o.params, "all")) {
        np = sg_model_parameter_count(m);
        for (int k = 0; k < np; k++)
            params[k] = sg_model_parameter_id(m, k);
        if (np == 0) {
            rc = usage("model '%s' has no parameters: name species with --params", o.model);
            goto done;
        }
    } else {
        params_copy = strdup(o.params);
        if (!params_copy || (np = split(params_copy, (char **)params, max)) == 0) {
            rc = usage("--params expects ids separated by commas (or all), got '%s'", o.params);
            goto done;
        }
    }
    if (o.select) {
        select_copy = strdup(o.select);
        int maxo = sg_model_species_count(m) + sg_model_assignment_count(m) +
                   sg_model_parameter_count(m) + sg_model_compartment_count(m) + 1;
        outputs = calloc((size_t)maxo + 1, sizeof *outputs);
        if (!select_copy || !outputs || (nout = split(select_copy, (char **)outputs, maxo)) == 0) {
            rc = usage("--select expects ids separated by commas, got '%s'", o.select);
            goto done;
        }
    }
    if (o.at) {
        char *parts[4096];
        int n = split(o.at, parts, 4096);
        times = calloc((size_t)n + 1, sizeof *times);
        if (n == 0 || !times) {
            rc = usage("--at expects times T,T,... (at most 4096), got '%s'", o.at);
            goto done;
        }
        for (int i = 0; i < n; i++)
            if (!parse_double(parts[i], &times[i])) {
                rc = usage("--at: '%s' is not a time", parts[i]);
                goto done;
            }
        qsort(times, (size_t)n, sizeof *times, double_order);
        for (int i = 0; i < n; i++)
            if (ntimes == 0 || times[i] != times[ntimes - 1])
                times[ntimes++] = times[i];
    }
    if (!(sens = sg_sens_create(m, &o.opt, params, np, &err))) {
        rc = fail(&err);
        goto done;
    }
    sg_sens_request req = {.exp = exp, .times = times, .ntimes = ntimes,
                           .outputs = outputs, .noutputs = nout};
    if (sg_sens_run(sens, &req, &res, &err) != SG_OK) {
        rc = fail(&err);
        goto done;
    }
    sg_status st = o.output ? sg_sens_write_file(res, o.normalize, o.format, o.output, &err)
                            : sg_sens_write(res, o.normalize, o.format, stdout, &err);
    if (st != SG_OK) {
        rc = fail(&err);
        goto done;
    }
    if (!(rk = rank_parameters(res))) {
        rc = usage("%s", "out of memory");
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
    rc = o.ranking ? write_ranking(res, rk, o.ranking, o.format) : 0;
done:
    free(rk);
    sg_sens_result_free(res);
    sg_sens_free(sens);
    sg_experiment_free(exp);
    sg_model_free(m);
    free(params_copy);
    free(select_copy);
    free(params);
    free(outputs);
    free(times);
    for (int i = 0; i < o.nsets; i++)
        free((char *)o.set_names[i]);
    free(o.set_names);
    free(o.set_values);
    return rc;
}

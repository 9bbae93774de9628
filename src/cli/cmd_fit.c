/*
 * `sigode fit PROBLEM.yaml [--starts N] [--seed S] [--jobs N]
 *  [--optimizer lbfgs|slsqp|lm] [--sampling lhs|sobol] [--output PARAMS.tsv]
 *  [--no-plots]`: multi-start estimation of a PEtab problem. Writes
 * PARAMS.tsv (the parameter table with the estimates as nominal values),
 * PARAMS_starts.tsv (every start, best first: the waterfall), and the plots
 * PARAMS_waterfall.png and PARAMS_fit.png.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_petab.h"
#include "sigode.h"

static const char fit_usage[] =
    "usage: sigode fit PROBLEM.yaml [--starts N] [--seed S] [--jobs N]\n"
    "                  [--optimizer lbfgs|slsqp|lm] [--sampling lhs|sobol]\n"
    "                  [--max-evaluations N] [--gradient sens|fd] [--output PARAMS.tsv]\n"
    "                  [--no-plots]\n"
    "       sigode fit MODEL.cfg --data MEASUREMENTS.tsv [same options]\n";

/* "x/y.tsv" -> "x/y" + suffix */
static char *derived_path(const char *output, const char *suffix)
{
    size_t n = strlen(output);
    if (n > 4 && !strcmp(output + n - 4, ".tsv"))
        n -= 4;
    char *out = malloc(n + strlen(suffix) + 1);
    if (out) {
        memcpy(out, output, n);
        strcpy(out + n, suffix);
    }
    return out;
}

static void progress(void *ctx, int start, const sg_fit_start *r)
{
    int *quiet = ctx;
    if (!*quiet)
        fprintf(stderr, "fit: start %d: nllh %.10g (%s, %ld evaluations)\n", start + 1, r->nllh,
                r->status, r->evaluations);
}

static int write_starts(const sg_petab *p, const sg_fit_start *s, int starts, const char *path,
                        sg_error *err)
{
    int n = sg_petab_estimated_count(p), np = sg_petab_parameter_count(p);
    int ncols = 4 + n;
    const char **names = calloc((size_t)ncols, sizeof *names);
    if (!names)
        return sg_cli_nomem(err);
    names[0] = "rank";
    names[1] = "start";
    names[2] = "nllh";
    names[3] = "evaluations";
    for (int i = 0; i < np; i++) {
        int k = sg_petab_parameter_estimated_index(p, i);
        if (k >= 0)
            names[4 + k] = sg_petab_parameter_id(p, i);
    }
    sg_table *t = sg_table_create(ncols, names, err);
    free(names);
    if (!t)
        return err->status;
    double *row = calloc((size_t)ncols, sizeof *row);
    sg_status st = row ? SG_OK : sg_cli_nomem(err);
    for (int r = 0; r < starts && st == SG_OK; r++) {
        row[0] = r + 1;
        row[1] = s[r].index + 1;
        row[2] = s[r].nllh;
        row[3] = (double)s[r].evaluations;
        for (int i = 0; i < np; i++) {
            int k = sg_petab_parameter_estimated_index(p, i);
            if (k >= 0)
                row[4 + k] = sg_petab_unscale(sg_petab_parameter_scale(p, i), s[r].x[k]);
        }
        st = sg_table_add_row(t, row, err);
        if (st == SG_OK)
            st = sg_table_set_note(t, "status", r, s[r].status, err);
    }
    if (st == SG_OK)
        st = sg_table_write_file(t, SG_FORMAT_TSV, path, err);
    free(row);
    sg_table_free(t);
    return st;
}

int sg_cli_fit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"starts", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"jobs", required_argument, NULL, 'j'},
        {"optimizer", required_argument, NULL, 'o'},
        {"sampling", required_argument, NULL, 'S'},
        {"max-evaluations", required_argument, NULL, 'm'},
        {"output", required_argument, NULL, 'O'},
        {"data", required_argument, NULL, 'd'},
        {"no-plots", no_argument, NULL, 'P'},
        {"gradient", required_argument, NULL, 'g'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    sg_fit_options fo;
    sg_fit_options_default(&fo);
    const char *output = NULL, *data = NULL;
    int plots = 1, quiet = 0, opt;
    const char *gradient = "sens";
    long v;
    optind = 2;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            if (sg_cli_parse_long(optarg, 1, 1000000, &v))
                return sg_cli_usage("fit", "--starts expects a whole number from 1 to 1000000");
            fo.starts = (int)v;
            break;
        case 's':
            if (sg_cli_parse_long(optarg, 0, 4294967295L, &v))
                return sg_cli_usage("fit", "--seed expects a whole number >= 0");
            fo.seed = (unsigned long)v;
            break;
        case 'j':
            if (sg_cli_parse_long(optarg, 1, 256, &v))
                return sg_cli_usage("fit", "--jobs expects a whole number from 1 to 256");
            fo.jobs = (int)v;
            break;
        case 'm':
            if (sg_cli_parse_long(optarg, 1, 100000000, &v))
                return sg_cli_usage("fit", "--max-evaluations expects a positive whole number");
            fo.max_iterations = (int)v;
            break;
        case 'o':
            if (!strcmp(optarg, "lbfgs") || !strcmp(optarg, "LD_LBFGS"))
                fo.optimizer = SG_OPTIMIZER_LBFGS;
            else if (!strcmp(optarg, "slsqp") || !strcmp(optarg, "LD_SLSQP"))
                fo.optimizer = SG_OPTIMIZER_SLSQP;
            else if (!strcmp(optarg, "lm"))
                fo.optimizer = SG_OPTIMIZER_LM;
            else
                return sg_cli_usage("fit", "--optimizer is lbfgs (NLopt LD_LBFGS), slsqp (NLopt "
                                           "LD_SLSQP) or lm (GSL Levenberg-Marquardt)");
            break;
        case 'S':
            if (!strcmp(optarg, "lhs"))
                fo.sampling = 0;
            else if (!strcmp(optarg, "sobol"))
                fo.sampling = 1;
            else
                return sg_cli_usage("fit", "--sampling is lhs or sobol");
            break;
        case 'g':
            if (strcmp(optarg, "sens") && strcmp(optarg, "fd"))
                return sg_cli_usage("fit", "--gradient is sens (forward sensitivities) or fd "
                                           "(finite differences)");
            gradient = optarg;
            break;
        case 'O': output = optarg; break;
        case 'd': data = optarg; break;
        case 'P': plots = 0; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(fit_usage, stdout); return 0;
        default:
            fprintf(stderr, "sigode fit: unknown option or missing value '%s'\n",
                    argv[optind - 1]);
            fputs(fit_usage, stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fputs(fit_usage, stderr);
        return 2;
    }
    const char *problem_path = argv[optind];
    sg_error err = {0};
    sg_petab *p = data ? sg_petab_from_model(problem_path, data, &err)
                       : sg_petab_load(problem_path, &err);
    if (!p)
        return sg_cli_report(&err);
    char *out_params = NULL, *out_starts = NULL, *out_waterfall = NULL, *out_fit = NULL;
    sg_fit_start *starts = NULL;
    int rc = 0;
    if (!output)
        output = "fit_parameters.tsv";
    out_params = strdup(output);
    out_starts = derived_path(output, "_starts.tsv");
    out_waterfall = derived_path(output, "_waterfall.png");
    out_fit = derived_path(output, "_fit.png");
    if (!out_params || !out_starts || !out_waterfall || !out_fit) {
        fprintf(stderr, "sigode: out of memory\n");
        rc = 2;
        goto done;
    }
    if (!strcmp(gradient, "sens") && fo.optimizer != SG_OPTIMIZER_LM) {
        sg_error gerr = {0};
        if (sg_petab_use_sensitivities(p, &gerr) == SG_OK)
            fo.gradient = SG_GRADIENT_SENSITIVITIES;
        else if (!quiet)
            fprintf(stderr, "fit: no sensitivities (%s): gradients by finite differences\n",
                    gerr.message);
    }
    fo.progress = progress;
    fo.progress_ctx = &quiet;
    if (!quiet)
        fprintf(stderr, "fit: %d starts (%s), %d parameters, optimizer %s, gradient: %s\n",
                fo.starts, fo.sampling ? "Sobol" : "Latin hypercube",
                sg_petab_estimated_count(p),
                fo.optimizer == SG_OPTIMIZER_LM      ? "GSL Levenberg-Marquardt"
                : fo.optimizer == SG_OPTIMIZER_SLSQP ? "NLopt LD_SLSQP"
                                                     : "NLopt LD_LBFGS",
                fo.optimizer == SG_OPTIMIZER_LM ? "finite-difference Jacobian of the residuals "
                                                  "(GSL; fallback)"
                                                : sg_gradient_source_name(fo.gradient));
    if (sg_petab_fit(p, &fo, &starts, &err) != SG_OK) {
        rc = sg_cli_report(&err);
        goto done;
    }
    int failed = 0;
    for (int i = 0; i < fo.starts; i++)
        failed += starts[i].failed;
    if (failed == fo.starts) {
        fprintf(stderr, "sigode fit: every start failed; the first: %s\n", starts[0].status);
        rc = 1;
        goto done;
    }
    printf("best nllh = %.17g\n", starts[0].nllh);
    int np = sg_petab_parameter_count(p);
    for (int i = 0; i < np; i++) {
        int k = sg_petab_parameter_estimated_index(p, i);
        if (k >= 0)
            printf("%s = %.17g\n", sg_petab_parameter_id(p, i),
                   sg_petab_unscale(sg_petab_parameter_scale(p, i), starts[0].x[k]));
    }
    if (failed)
        fprintf(stderr, "fit: %d of %d starts failed (see %s)\n", failed, fo.starts, out_starts);
    if (sg_petab_write_parameters(p, starts[0].x, out_params, &err) != SG_OK ||
        write_starts(p, starts, fo.starts, out_starts, &err) != SG_OK) {
        rc = sg_cli_report(&err);
        goto done;
    }
    if (plots) {
        if (sg_petab_plot_waterfall(starts, fo.starts, out_waterfall, &err) != SG_OK ||
            sg_petab_plot_fit(p, starts[0].x, out_fit, &err) != SG_OK) {
            rc = sg_cli_report(&err);
            goto done;
        }
    }
    if (!quiet)
        fprintf(stderr, "fit: wrote %s, %s%s%s%s%s\n", out_params, out_starts,
                plots ? ", " : "", plots ? out_waterfall : "", plots ? ", " : "",
                plots ? out_fit : "");
done:
    sg_fit_starts_free(starts);
    sg_petab_free(p);
    free(out_params);
    free(out_starts);
    free(out_waterfall);
    free(out_fit);
    return rc;
}

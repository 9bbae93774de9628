/*
 * `sigode fit PROBLEM.yaml [--starts N] [--seed S] [--jobs N]
 *  [--optimizer lbfgs|slsqp|lm] [--sampling lhs|sobol] [--output PARAMS.tsv]
 *  [--no-plots]`: multi-start estimation of a PEtab problem. Writes
 * PARAMS.tsv (the parameter table with the estimates as nominal values),
 * PARAMS_starts.tsv (every start, best first: the waterfall), and the plots
 * PARAMS_waterfall.png and PARAMS_fit.png.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/study.h"


static sg_status fit_nomem(sg_error *err)
{
    memset(err, 0, sizeof *err);
    err->status = SG_ERR_NOMEM;
    snprintf(err->message, sizeof err->message, "out of memory");
    return SG_ERR_NOMEM;
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
        return fit_nomem(err);
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
    sg_status st = row ? SG_OK : fit_nomem(err);
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

static struct {
    int initialised;
    sg_fit_options fo;
    const char *output, *data, *gradient;
    int plots, quiet;
} fit;

static void fit_defaults(void)
{
    if (fit.initialised)
        return;
    fit.initialised = 1;
    sg_fit_options_default(&fit.fo);
    fit.plots = 1;
    fit.gradient = "sens";
}

static int parse_whole(const char *opt, const char *value, long min, long max, long *out)
{
    if (cli_parse_count("fit", opt, value, min, out))
        return 2;
    if (*out > max)
        return cli_usage_error("fit", "%s expects a whole number from %ld to %ld", opt, min, max);
    return 0;
}

static int parse_fit_option(cli *c, const char *opt, const char *value)
{
    fit_defaults();
    long v = 0;
    const char *name = opt + 2;
    if (!strcmp(name, "starts")) {
        if (parse_whole(opt, value, 1, 1000000, &v))
            return 2;
        fit.fo.starts = (int)v;
    } else if (!strcmp(name, "seed")) {
        if (parse_whole(opt, value, 0, 4294967295L, &v))
            return 2;
        fit.fo.seed = (unsigned long)v;
    } else if (!strcmp(name, "jobs")) {
        if (parse_whole(opt, value, 1, 256, &v))
            return 2;
        fit.fo.jobs = (int)v;
    } else if (!strcmp(name, "max-evaluations")) {
        if (parse_whole(opt, value, 1, 100000000, &v))
            return 2;
        fit.fo.max_iterations = (int)v;
    } else if (!strcmp(name, "optimizer")) {
        if (!strcmp(value, "lbfgs") || !strcmp(value, "LD_LBFGS"))
            fit.fo.optimizer = SG_OPTIMIZER_LBFGS;
        else if (!strcmp(value, "slsqp") || !strcmp(value, "LD_SLSQP"))
            fit.fo.optimizer = SG_OPTIMIZER_SLSQP;
        else if (!strcmp(value, "lm"))
            fit.fo.optimizer = SG_OPTIMIZER_LM;
        else
            return cli_usage_error("fit", "--optimizer is lbfgs (NLopt LD_LBFGS), slsqp (NLopt "
                                          "LD_SLSQP) or lm (GSL Levenberg-Marquardt)");
    } else if (!strcmp(name, "sampling")) {
        if (strcmp(value, "lhs") && strcmp(value, "sobol"))
            return cli_usage_error("fit", "--sampling is lhs or sobol");
        fit.fo.sampling = !strcmp(value, "sobol");
    } else if (!strcmp(name, "gradient")) {
        if (strcmp(value, "sens") && strcmp(value, "fd"))
            return cli_usage_error("fit", "--gradient is sens (forward sensitivities) or fd "
                                          "(finite differences)");
        fit.gradient = value;
    } else if (!strcmp(name, "output")) {
        fit.output = value;
    } else if (!strcmp(name, "data")) {
        fit.data = value;
    } else if (!strcmp(name, "no-plots")) {
        fit.plots = 0;
    } else if (!strcmp(name, "quiet")) {
        fit.quiet = 1;
    }
    return 0;
}

static const cli_option fit_options[] = {
    {"starts", "N", "local optimisations (default 20)", parse_fit_option},
    {"seed", "S", "seed of the start points (default 1)", parse_fit_option},
    {"jobs", "N", "threads (default: all cores); the result does not depend on it",
     parse_fit_option},
    {"optimizer", "lbfgs|slsqp|lm", "NLopt LD_LBFGS (default) or LD_SLSQP with bounds, or GSL "
                                    "Levenberg-Marquardt on the residuals", parse_fit_option},
    {"sampling", "lhs|sobol", "start points: Latin hypercube (default) or Sobol",
     parse_fit_option},
    {"gradient", "sens|fd", "forward sensitivities (default, where covered) or finite "
                            "differences", parse_fit_option},
    {"max-evaluations", "N", "objective evaluations per start (default 1000)",
     parse_fit_option},
    {"data", "FILE.tsv", "measurements for a sigode model file (MODEL.cfg) with parameters "
                         "marked estimate = true", parse_fit_option},
    {"output", "PARAMS.tsv", "the estimated parameter table (default fit_parameters.tsv); "
                             "PARAMS_starts.tsv, PARAMS_waterfall.png, PARAMS_fit.png beside it",
     parse_fit_option},
    {"no-plots", NULL, "do not draw the waterfall and fit plots", parse_fit_option},
    {"quiet", NULL, "no progress on standard error", parse_fit_option},
    {NULL, NULL, NULL, NULL}};
static const cli_group fit_group = {"fit options", fit_options};
static const cli_group *const fit_groups[] = {&fit_group, NULL};

static int run_fit(cli *c)
{
    fit_defaults();
    if (c->nargs != 1)
        return cli_usage_error("fit", "usage: sigode fit PROBLEM.yaml [options] or sigode fit "
                                      "MODEL.cfg --data MEASUREMENTS.tsv [options]");
    sg_fit_options fo = fit.fo;
    const char *output = fit.output, *data = fit.data, *gradient = fit.gradient;
    int plots = fit.plots, quiet = fit.quiet;
    const char *problem_path = c->args[0];
    sg_error err = {0};
    sg_petab *p = data ? sg_petab_from_model(problem_path, data, &err)
                       : sg_petab_load(problem_path, &err);
    if (!p)
        return cli_report(&err);
    char *out_params = NULL, *out_starts = NULL, *out_waterfall = NULL, *out_fit = NULL;
    sg_fit_start *starts = NULL;
    int rc = 0;
    if (!output)
        output = "fit_parameters.tsv";
    int special = 0;
    out_params = strdup(output);
    out_starts = cli_companion_path(output, "_starts.tsv", &special);
    out_waterfall = cli_companion_path(output, "_waterfall.png", &special);
    out_fit = cli_companion_path(output, "_fit.png", &special);
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
    fo.warnings = c->opt.warnings;
    fo.progress_ctx = &quiet;
    /* under mpirun: rank r runs the starts i mod K = r, rank 0 gathers and writes */
    if ((rc = study_mpi_init(NULL, NULL)) != 0)
        goto done;
    fo.part = study_mpi_rank();
    fo.parts = study_mpi_size();
    if (!quiet && fo.part == 0)
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
        rc = cli_report(&err);
        goto done;
    }
    if (study_gather_fit(starts, fo.starts, sg_petab_estimated_count(p)) == 3)
        goto done; /* rank 0 writes */
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
        fprintf(stderr, "fit: %d of %d starts failed%s%s%s\n", failed, fo.starts,
                special ? "" : " (see ", special ? "" : out_starts, special ? "" : ")");
    if (sg_petab_write_parameters(p, starts[0].x, out_params, &err) != SG_OK ||
        (!special && write_starts(p, starts, fo.starts, out_starts, &err) != SG_OK)) {
        rc = cli_report(&err);
        goto done;
    }
    if (special) {
        /* "--output /dev/null" must not make files in /dev */
        if (!quiet)
            fprintf(stderr, "fit: %s is not a regular file: the starts table and the plots "
                            "beside it are not written\n",
                    out_params);
        goto done;
    }
    if (plots) {
        if (sg_petab_plot_waterfall(starts, fo.starts, out_waterfall, &err) != SG_OK ||
            sg_petab_plot_fit(p, starts[0].x, out_fit, &err) != SG_OK) {
            rc = cli_report(&err);
            goto done;
        }
    }
    if (!quiet)
        fprintf(stderr, "fit: wrote %s, %s%s%s%s%s\n", out_params, out_starts,
                plots ? ", " : "", plots ? out_waterfall : "", plots ? ", " : "",
                plots ? out_fit : "");
done:
    study_mpi_finalize();
    sg_fit_starts_free(starts);
    sg_petab_free(p);
    free(out_params);
    free(out_starts);
    free(out_waterfall);
    free(out_fit);
    return rc;
}

const cli_command cli_cmd_fit = {
    "fit", "PROBLEM.yaml [options] | MODEL.cfg --data MEASUREMENTS.tsv [options]",
    "multi-start parameter estimation (PEtab problem, or a model file and measurements)",
    fit_groups, CLI_OWN_ARGS, run_fit, NULL};

/*
 * `sigode petab evaluate PROBLEM.yaml [--parameters FILE.tsv]
 *  [--simulations OUT.tsv] [--gradient sens|fd]`: the log-likelihood and
 * chi2 of a PEtab problem at the nominal (or given) parameters; with
 * `--data MEASUREMENTS.tsv` the problem is a sigode model file and a
 * measurement table, as for fit (e.g. held-out data at fitted values).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static struct {
    const char *parameters, *simulations, *gradient, *data;
} petab;

static int parse_data(cli *c, const char *opt, const char *value)
{
    petab.data = value;
    return 0;
}

static int parse_parameters(cli *c, const char *opt, const char *value)
{
    petab.parameters = value;
    return 0;
}

static int parse_simulations(cli *c, const char *opt, const char *value)
{
    petab.simulations = value;
    return 0;
}

static int parse_gradient(cli *c, const char *opt, const char *value)
{
    if (strcmp(value, "sens") && strcmp(value, "fd"))
        return cli_usage_error("petab", "--gradient is sens (forward sensitivities) or fd "
                                        "(finite differences)");
    petab.gradient = value;
    return 0;
}

static const cli_option petab_options[] = {
    {"parameters", "FILE.tsv", "a parameter table whose nominal values replace the problem's",
     parse_parameters},
    {"simulations", "OUT.tsv", "write the simulation table (measurements replaced by "
                               "simulated values)", parse_simulations},
    {"gradient", "sens|fd", "also print d nllh / d x (x: the estimated parameters on their "
                            "scales) from sensitivities or finite differences", parse_gradient},
    {"data", "FILE.tsv", "measurements for a sigode model file (MODEL.cfg) in place of "
                         "PROBLEM.yaml, as for fit", parse_data},
    {NULL, NULL, NULL, NULL}};
static const cli_group petab_group = {"petab evaluate options", petab_options};
static const cli_group *const petab_groups[] = {&petab_group, NULL};

static int run_petab(cli *c)
{
    if (c->nargs != 2 || strcmp(c->args[0], "evaluate"))
        return cli_usage_error("petab", "usage: sigode petab evaluate PROBLEM.yaml "
                                        "[--parameters FILE.tsv] [--simulations OUT.tsv]");
    const char *params = petab.parameters, *sims_path = petab.simulations,
               *gradient = petab.gradient;
    const char *yaml = c->args[1];
    sg_error err = {0};
    sg_petab *p = petab.data ? sg_petab_from_model(yaml, petab.data, &err)
                             : sg_petab_load(yaml, &err);
    if (!p)
        return cli_report(&err);
    int n = sg_petab_estimated_count(p);
    double *x = calloc((size_t)n + 1, sizeof *x);
    double *sims = calloc((size_t)sg_petab_measurement_count(p) + 1, sizeof *sims);
    sg_petab_eval *ev = NULL;
    int rc = 0;
    if (!x || !sims) {
        fprintf(stderr, "sigode: out of memory\n");
        rc = 2;
        goto done;
    }
    sg_petab_nominal(p, x);
    if (params && sg_petab_read_parameters(p, params, x, &err) != SG_OK) {
        rc = cli_report(&err);
        goto done;
    }
    if (!(ev = sg_petab_eval_create(p, NULL, &err))) {
        rc = cli_report(&err);
        goto done;
    }
    sg_petab_result res;
    sg_status st = sg_petab_evaluate(ev, x, sims, &res, &err);
    if (st != SG_OK) {
        rc = cli_report(&err);
        goto done;
    }
    printf("llh = %.17g\nchi2 = %.17g\n", res.llh, res.chi2);
    if (sg_petab_has_priors(p))
        printf("log prior = %.17g\nnllh = %.17g\n", res.log_prior, res.nllh);
    if (sims_path && sg_petab_write_simulations(p, sims, sims_path, &err) != SG_OK) {
        rc = cli_report(&err);
        goto done;
    }
    if (gradient) {
        sg_gradient_source src = SG_GRADIENT_FINITE_DIFFERENCES;
        if (!strcmp(gradient, "sens")) {
            if (sg_petab_use_sensitivities(p, &err) != SG_OK) {
                rc = cli_report(&err);
                goto done;
            }
            src = SG_GRADIENT_SENSITIVITIES;
        }
        double *g = calloc((size_t)n + 1, sizeof *g), f;
        if (!g || sg_petab_gradient(ev, src, x, &f, g, &err) != SG_OK) {
            rc = g ? cli_report(&err) : 2;
            free(g);
            goto done;
        }
        printf("gradient source: %s\n", sg_gradient_source_name(src));
        for (int i = 0; i < sg_petab_parameter_count(p); i++) {
            int k = sg_petab_parameter_estimated_index(p, i);
            if (k >= 0)
                printf("dnllh/d%s = %.17g\n", sg_petab_parameter_id(p, i), g[k]);
        }
        free(g);
    }
done:
    sg_petab_eval_free(ev);
    sg_petab_free(p);
    free(x);
    free(sims);
    return rc;
}

const cli_command cli_cmd_petab = {
    "petab", "evaluate PROBLEM.yaml [options]",
    "log-likelihood, chi2 and simulations of a PEtab problem", petab_groups, CLI_OWN_ARGS,
    run_petab, NULL};

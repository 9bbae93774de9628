/*
 * `sigode petab evaluate PROBLEM.yaml [--parameters FILE.tsv]
 *  [--simulations OUT.tsv]`: the log-likelihood and chi2 of a PEtab
 * problem at the nominal (or given) parameters.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_petab.h"
#include "sigode.h"

int sg_cli_report(const sg_error *err)
{
    char msg[1200];
    sg_error_format(err, msg, sizeof msg);
    /* messages quote file contents: keep control characters off the terminal */
    for (char *s = msg; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
    fprintf(stderr, "%s\n", msg);
    return sg_status_exit_code(err->status);
}

int sg_cli_usage(const char *command, const char *message)
{
    fprintf(stderr, "sigode %s: %s\n(see 'sigode --help')\n", command, message);
    return 2;
}

static const char petab_usage[] =
    "usage: sigode petab evaluate PROBLEM.yaml [--parameters FILE.tsv] [--simulations OUT.tsv]\n"
    "                            [--gradient sens|fd]\n"
    "  --gradient prints d nllh / d x (x: the estimated parameters on their scales)\n";

int sg_cli_petab(int argc, char **argv)
{
    /* argv[1] = "petab", argv[2] = "evaluate" */
    if (argc < 3 || strcmp(argv[2], "evaluate")) {
        fputs(petab_usage, stderr);
        return 2;
    }
    static const struct option longopts[] = {
        {"parameters", required_argument, NULL, 'p'},
        {"simulations", required_argument, NULL, 's'},
        {"gradient", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *params = NULL, *sims_path = NULL, *gradient = NULL;
    int opt;
    optind = 3;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p': params = optarg; break;
        case 's': sims_path = optarg; break;
        case 'g':
            if (strcmp(optarg, "sens") && strcmp(optarg, "fd")) {
                fprintf(stderr, "sigode petab evaluate: --gradient is sens or fd\n");
                return 2;
            }
            gradient = optarg;
            break;
        case 'h': fputs(petab_usage, stdout); return 0;
        default:
            fprintf(stderr, "sigode petab evaluate: unknown option or missing value '%s'\n",
                    argv[optind - 1]);
            fputs(petab_usage, stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fputs(petab_usage, stderr);
        return 2;
    }
    const char *yaml = argv[optind];
    sg_error err = {0};
    sg_petab *p = sg_petab_load(yaml, &err);
    if (!p)
        return sg_cli_report(&err);
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
        rc = sg_cli_report(&err);
        goto done;
    }
    if (!(ev = sg_petab_eval_create(p, NULL, &err))) {
        rc = sg_cli_report(&err);
        goto done;
    }
    sg_petab_result res;
    sg_status st = sg_petab_evaluate(ev, x, sims, &res, &err);
    if (st != SG_OK) {
        rc = sg_cli_report(&err);
        goto done;
    }
    printf("llh = %.17g\nchi2 = %.17g\n", res.llh, res.chi2);
    if (sg_petab_has_priors(p))
        printf("log prior = %.17g\nnllh = %.17g\n", res.log_prior, res.nllh);
    if (sims_path && sg_petab_write_simulations(p, sims, sims_path, &err) != SG_OK) {
        rc = sg_cli_report(&err);
        goto done;
    }
    if (gradient) {
        sg_gradient_source src = SG_GRADIENT_FINITE_DIFFERENCES;
        if (!strcmp(gradient, "sens")) {
            if (sg_petab_use_sensitivities(p, &err) != SG_OK) {
                rc = sg_cli_report(&err);
                goto done;
            }
            src = SG_GRADIENT_SENSITIVITIES;
        }
        double *g = calloc((size_t)n + 1, sizeof *g), f;
        if (!g || sg_petab_gradient(ev, src, x, &f, g, &err) != SG_OK) {
            rc = g ? sg_cli_report(&err) : 2;
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

int sg_cli_parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    if (!text || !*text)
        return -1;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end || errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

sg_status sg_cli_nomem(sg_error *err)
{
    memset(err, 0, sizeof *err);
    err->status = SG_ERR_NOMEM;
    snprintf(err->message, sizeof err->message, "out of memory");
    return SG_ERR_NOMEM;
}

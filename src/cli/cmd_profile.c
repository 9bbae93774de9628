/*
 * `sigode profile PROBLEM.yaml --parameters FILE.tsv [--params ID,...]
 *  [--jobs N] [--output PROFILE.tsv] [--no-plots]` (or MODEL.cfg --data
 *  MEASUREMENTS.tsv in place of the problem, as for fit): profile likelihoods
 * around the optimum in FILE.tsv (e.g. what `sigode fit` wrote); prints
 * each parameter's 95% confidence interval, or that it is not identifiable.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"


/* Appends to a growing text. */
typedef struct text {
    char *s;
    size_t len, cap;
    int failed;
} text;

static void append(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap); /* the whole line, however long (ids) */
    va_end(ap);
    if (n < 0 || t->failed)
        return;
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static struct {
    const char *parameters, *params, *output, *data;
    int jobs, no_plots;
} prof;

static int parse_profile_option(cli *c, const char *opt, const char *value)
{
    const char *name = opt + 2;
    long v;
    if (!strcmp(name, "parameters"))
        prof.parameters = value;
    else if (!strcmp(name, "params"))
        prof.params = value;
    else if (!strcmp(name, "output"))
        prof.output = value;
    else if (!strcmp(name, "data"))
        prof.data = value;
    else if (!strcmp(name, "no-plots"))
        prof.no_plots = 1;
    else if (!strcmp(name, "jobs")) {
        if (cli_parse_count("profile", opt, value, 1, &v))
            return 2;
        if (v > 64)
            return cli_usage_error("profile", "--jobs expects a whole number from 1 to 64");
        prof.jobs = (int)v;
    }
    return 0;
}

static const cli_option profile_options[] = {
    {"parameters", "FILE.tsv", "the optimum (a parameter table, e.g. what sigode fit wrote; "
                               "required)", parse_profile_option},
    {"params", "ID,ID,...", "the parameters to profile (default: every estimated one)",
     parse_profile_option},
    {"jobs", "N", "threads (default: all cores); the result does not depend on it",
     parse_profile_option},
    {"output", "PROFILE.tsv", "the profiles (default profile.tsv); the plot is PROFILE.png",
     parse_profile_option},
    {"data", "FILE.tsv", "measurements for a sigode model file (MODEL.cfg) with parameters "
                         "marked estimate = true, as for fit", parse_profile_option},
    {"no-plots", NULL, "do not draw the profiles", parse_profile_option},
    {NULL, NULL, NULL, NULL}};
static const cli_group profile_group = {"profile options", profile_options};
static const cli_group *const profile_groups[] = {&profile_group, NULL};

static int run_profile(cli *c)
{
    const char *params_path = prof.parameters, *which_text = prof.params,
               *output = prof.output ? prof.output : "profile.tsv";
    int jobs = prof.jobs, plots = !prof.no_plots;
    if (c->nargs != 1 || !params_path)
        return cli_usage_error("profile", "usage: sigode profile PROBLEM.yaml --parameters "
                                          "FILE.tsv [--params ID,...] or sigode profile "
                                          "MODEL.cfg --data MEASUREMENTS.tsv --parameters "
                                          "FILE.tsv");
    sg_error err = {0};
    sg_petab *p = prof.data ? sg_petab_from_model(c->args[0], prof.data, &err)
                            : sg_petab_load(c->args[0], &err);
    if (!p)
        return cli_report(&err);
    int n = sg_petab_estimated_count(p), np = sg_petab_parameter_count(p);
    double *x = calloc((size_t)n + 1, sizeof *x);
    int *which = calloc((size_t)n + 1, sizeof *which);
    int count = 0, rc = 0;
    sg_profile *pr = NULL;
    int special = 0;
    char *plot_path = cli_companion_path(output, ".png", &special);
    text out = {0};
    if (!x || !which || !plot_path) {
        fprintf(stderr, "sigode: out of memory\n");
        rc = 2;
        goto done;
    }
    if (n == 0) {
        rc = cli_usage_error("profile", "no parameter of the problem is estimated");
        goto done;
    }
    if (sg_petab_read_parameters(p, params_path, x, &err) != SG_OK) {
        rc = cli_report(&err);
        goto done;
    }
    if (which_text) {
        char *copy = strdup(which_text), *save = NULL;
        for (char *id = copy ? strtok_r(copy, ",", &save) : NULL; id;
             id = strtok_r(NULL, ",", &save)) {
            int k = -1;
            for (int i = 0; i < np; i++)
                if (!strcmp(sg_petab_parameter_id(p, i), id))
                    k = sg_petab_parameter_estimated_index(p, i);
            if (k < 0) {
                fprintf(stderr, "sigode profile: --params: '%s' is not an estimated parameter "
                                "of the problem\n",
                        id);
                free(copy);
                rc = 2;
                goto done;
            }
            int dup = 0;
            for (int i = 0; i < count; i++)
                dup |= which[i] == k;
            if (!dup)
                which[count++] = k;
        }
        free(copy);
        if (count == 0) {
            rc = cli_usage_error("profile", "--params names no parameter");
            goto done;
        }
    } else {
        for (int k = 0; k < n; k++)
            which[count++] = k;
    }
    double fopt = 0;
    sg_gradient_source source = SG_GRADIENT_FINITE_DIFFERENCES;
    sg_error gerr = {0};
    if (sg_petab_use_sensitivities(p, &gerr) == SG_OK)
        source = SG_GRADIENT_SENSITIVITIES;
    else
        fprintf(stderr, "profile: no sensitivities (%s)\n", gerr.message);
    fprintf(stderr, "profile: %d parameters, gradient: %s\n", count,
            sg_gradient_source_name(source));
    if (sg_petab_profile(p, x, which, count, jobs, source, &pr, &fopt, &err) != SG_OK) {
        rc = cli_report(&err);
        goto done;
    }
    printf("optimum nllh = %.17g (threshold + %.4f)\n", fopt, sg_profile_threshold());
    append(&out, "parameterId\tparameterScale\tvalue\tnllh\tdelta\n");
    static const char *const scale_names[] = {"lin", "log", "log10"};
    for (int i = 0; i < count; i++) {
        const sg_profile *q = &pr[i];
        const char *id = sg_petab_parameter_id(p, q->param);
        int scale = sg_petab_parameter_scale(p, q->param);
        double best = sg_petab_unscale(scale, q->optimum);
        if (!q->lower_open && !q->upper_open)
            printf("%s: 95%% CI [%.6g, %.6g] (estimate %.6g)\n", id,
                   sg_petab_unscale(scale, q->lower), sg_petab_unscale(scale, q->upper), best);
        else if (q->lower_open && q->upper_open)
            printf("%s: non-identifiable: the profile stays below the threshold from the lower "
                   "to the upper bound (estimate %.6g)\n",
                   id, best);
        else if (q->lower_open)
            printf("%s: practically non-identifiable: the profile stays below the threshold "
                   "down to the lower bound %.6g; 95%% CI [lower bound, %.6g] (estimate %.6g)\n",
                   id, sg_petab_parameter_lower(p, q->param), sg_petab_unscale(scale, q->upper),
                   best);
        else
            printf("%s: practically non-identifiable: the profile stays below the threshold "
                   "up to the upper bound %.6g; 95%% CI [%.6g, upper bound] (estimate %.6g)\n",
                   id, sg_petab_parameter_upper(p, q->param), sg_petab_unscale(scale, q->lower),
                   best);
        if (q->failed_points)
            fprintf(stderr, "profile: %s: a re-optimisation failed (simulation); that side "
                            "ends early\n",
                    id);
        if (q->min_nllh < fopt - 1e-3)
            fprintf(stderr, "profile: warning: %s's profile reached nllh %.10g, below the "
                            "given point's %.10g: the parameters given are not the optimum "
                            "(fit again)\n",
                    id, q->min_nllh, fopt);
        for (int k = 0; k < q->npoints; k++)
            append(&out, "%s\t%s\t%.17g\t%.17g\t%.17g\n", id, scale_names[scale],
                   sg_petab_unscale(scale, q->value[k]), q->nllh[k], q->nllh[k] - fopt);
    }
    if (out.failed) {
        fprintf(stderr, "sigode: out of memory\n");
        rc = 2;
        goto done;
    }
    if (sg_write_text_file(output, out.s, &err) != SG_OK ||
        (plots && !special && sg_petab_plot_profiles(p, pr, count, fopt, plot_path, &err) != SG_OK)) {
        rc = cli_report(&err);
        goto done;
    }
    fprintf(stderr, "profile: wrote %s%s%s\n", output, plots && !special ? ", " : "",
            plots && !special ? plot_path : "");
done:
    sg_profiles_free(pr, count);
    sg_petab_free(p);
    free(x);
    free(which);
    free(plot_path);
    free(out.s);
    return rc;
}

const cli_command cli_cmd_profile = {
    "profile", "PROBLEM.yaml|MODEL.cfg [--data MEASUREMENTS.tsv] --parameters FILE.tsv [options]",
    "profile likelihoods and 95% confidence intervals of estimated parameters", profile_groups,
    CLI_OWN_ARGS, run_profile, NULL};

/*
 * sigode verify MODEL: the model's own checks, one line each; with
 * --falsify, whether each check can fail at all (src/verify/falsify.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static struct {
    int falsify;
} verify_opts;

static int parse_falsify(cli *c, const char *opt, const char *value)
{
    (void)c, (void)opt, (void)value;
    verify_opts.falsify = 1;
    return 0;
}

static const cli_option verify_options[] = {
    {"falsify", NULL,
     "knock out each reaction (rate x 0) and scale each mechanistic parameter by 0.01 and 100; "
     "list the checks no perturbation can fail and the mechanisms no check notices "
     "(exit 1 if any, or if a check's knockouts do not make it fail)",
     parse_falsify},
    {NULL}};

static const cli_group *const verify_groups[] = {
    &cli_solver_group, &(const cli_group){"verify options", verify_options}, NULL};

static int run_falsify(cli *c, sg_model *m)
{
    sg_falsify_result *r = NULL;
    sg_error err = {0};
    if (sg_falsify(m, &c->opt, &r, &err) != SG_OK)
        return cli_report(&err);
    if (r->baseline_failed)
        printf("note: %d check(s) fail on the model as it is; they are left out of the "
               "verdict\n", r->baseline_failed);
    printf("perturbation\tmechanism\tchecks that fail\n");
    for (int i = 0; i < r->nrows; i++) {
        const sg_falsify_row *row = &r->rows[i];
        printf("%s\t%s\t", row->perturbation, row->mechanism ? row->mechanism : "-");
        int any = 0;
        for (int k = 0; k < r->nchecks; k++)
            if (row->fails[k] && !r->baseline_fails[k]) {
                printf("%s%s", any ? "," : "", r->check_ids[k]);
                any = 1;
            }
        printf("%s\n", any ? "" : "(none)");
    }
    printf("\nchecks: how many perturbations make each fail\n");
    for (int k = 0; k < r->nchecks; k++) {
        const char *verdict = r->baseline_fails[k] ? "fails already"
                              : r->times_failed[k] ? "falsifiable"
                              : r->conservation[k] ? "conservation (exempt)"
                                                   : "CANNOT FAIL";
        printf("  %-40s %4d  %s\n", r->check_ids[k], r->times_failed[k], verdict);
    }
    printf("\nmechanisms: perturbations noticed by some check\n");
    for (int i = 0; i < r->nmechanisms; i++) {
        const sg_falsify_mechanism *mech = &r->mechanisms[i];
        printf("  %-48s %d of %d%s\n", mech->name, mech->noticed, mech->perturbations,
               mech->noticed ? "" : mech->tagged ? "  NOTICED BY NO CHECK" : "  (not noticed)");
    }
    if (r->ncontrols) {
        printf("\nnegative controls (a check's knockouts must make it fail)\n");
        for (int i = 0; i < r->ncontrols; i++)
            printf("  %-40s %-24s %s\n", r->check_ids[r->controls[i].check],
                   r->controls[i].knockout, r->controls[i].held ? "fails: ok" : "STILL PASSES");
    }
    printf("\n%d check(s) that no perturbation can fail, %d tagged mechanism(s) no check "
           "notices, %d negative control(s) not holding\n",
           r->unfalsifiable, r->unnoticed, r->controls_failed);
    int rc = r->unfalsifiable || r->unnoticed || r->controls_failed ? 1 : 0;
    sg_falsify_free(r);
    return rc;
}


static int run_verify(cli *c)
{
    sg_model *m = c->model;
    if (verify_opts.falsify)
        return run_falsify(c, m);
    sg_check_result *res = NULL;
    int n = 0;
    sg_error err = {0};
    sg_status st = sg_verify(m, &c->opt, &res, &n, &err);
    if (!res)
        return cli_report(&err);
    int passed = 0;
    for (int i = 0; i < n; i++) {
        printf("%s  %-40s %s\n", res[i].passed ? "PASS" : "FAIL", res[i].id, res[i].detail);
        passed += res[i].passed;
    }
    printf("%d passed, %d failed\n", passed, n - passed);
    free(res);
    (void)st;
    return passed == n ? 0 : 1;
}

const cli_command cli_cmd_verify = {
    "verify", "MODEL [options]",
    "Run the model's checks; one line per check (PASS or FAIL), exit 0 only if all pass.",
    verify_groups, CLI_NEEDS_MODEL, run_verify, NULL};

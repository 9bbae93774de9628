/*
 * sigode verify MODEL: the model's own checks, one line each.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static const cli_group *const verify_groups[] = {&cli_solver_group, NULL};

static int run_verify(cli *c)
{
    sg_model *m = c->model;
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
    verify_groups, CLI_NEEDS_MODEL, run_verify};

/*
 * sigode steady MODEL [options]: the steady state, by Newton's method
 * (KINSOL) with the conservation laws, else by integration.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static const cli_group *const steady_groups[] = {&cli_experiment_group, &cli_output_group,
                                                 &cli_solver_group, NULL};

static int run_steady(cli *c)
{
    sg_model *model = c->model;
    sg_error err = {0};
    sg_experiment *exp = cli_make_experiment(c, model, &err);
    sg_sim *sim = exp ? sg_sim_create(model, &c->opt, &err) : NULL;
    if (!sim) {
        sg_experiment_free(exp);
        return cli_report(&err);
    }
    sg_trajectory *state = NULL;
    sg_steady_info info = {0};
    int rc = 0;
    sg_status st = sg_sim_steady_state(sim, exp, &state, &info, &err);
    if (st != SG_OK) {
        rc = cli_report(&err);
    } else {
        char *sel[4096];
        int nsel = c->select ? cli_split_list(c->select, sel, 4096) : 0;
        sg_error werr = {0};
        sg_table *table = sg_trajectory_table(state, (const char *const *)sel, nsel, &werr);
        rc = table ? cli_write_table(c, table, c->output) : cli_report(&werr);
        sg_table_free(table);
        fprintf(stderr,
                "steady state found by %s; %d conservation law%s; max |dy/dt| = %.3g "
                "(relative %.3g)\n",
                info.method, info.conservation_laws, info.conservation_laws == 1 ? "" : "s",
                info.residual, info.max_relative_rate);
    }
    sg_trajectory_free(state);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    return rc;
}

const cli_command cli_cmd_steady = {
    "steady", "MODEL [options]",
    "Find the steady state: Newton's method (KINSOL) with the model's conservation laws, else "
    "integration until the rates vanish; one row as a table.",
    steady_groups, CLI_NEEDS_MODEL, run_steady};

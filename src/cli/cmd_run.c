/*
 * sigode run MODEL [options]: one simulation, the trajectory as a table
 * (or, for a scenario with a scan, that scan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int parse_points(cli *c, const char *opt, const char *value)
{
    if (cli_parse_count(c->command, opt, value, 2, &c->points))
        return 2;
    c->has_points = 1;
    return 0;
}

static int parse_stats(cli *c, const char *opt, const char *value)
{
    c->stats = 1;
    return 0;
}

static int parse_fit(cli *c, const char *opt, const char *value)
{
    if (strcmp(value, "hill") != 0)
        return cli_usage_error(c->command, "--fit expects 'hill' (a four-parameter Hill curve), "
                                           "got '%s'",
                               value);
    c->fit_hill = 1;
    return 0;
}

static int parse_seed(cli *c, const char *opt, const char *value)
{
    long n;
    if (cli_parse_count(c->command, opt, value, 0, &n))
        return 2;
    c->opt.seed = (unsigned long)n;
    return 0;
}

static const cli_option run_options[] = {
    {"points", "N", "output time points, the start and end included (default 101)",
     parse_points},
    {"stats", NULL, "print the solver's statistics on standard error", parse_stats},
    {"fit", "hill", "for a scenario with a scan: fit a Hill curve to each readout", parse_fit},
    {"seed", "S", "seed of the random choice among model events due at once with equal "
                  "priority, as SBML says (default 1: the same seed, the same run)",
     parse_seed},
    {NULL, NULL, NULL, NULL}};

static const cli_group run_group = {"run options", run_options};
static const cli_group *const run_groups[] = {&cli_experiment_group, &run_group,
                                              &cli_plot_group, &cli_output_group,
                                              &cli_solver_group, NULL};

static int run_run(cli *c)
{
    sg_model *model = c->model;
    sg_error err = {0};
    if (cli_check_plot_options(c))
        return 2;
    sg_experiment *exp = cli_make_experiment(c, model, &err);
    if (!exp)
        return cli_report(&err);
    int rc = 0;
    const char *target;
    const double *values;
    int count, log_scale;
    if (sg_experiment_scan(exp, &target, &values, &count, &log_scale)) {
        /* a scenario with a scan: the scan, readouts as the scenario says */
        const char *const *ids;
        int n = sg_experiment_readouts(exp, &ids);
        int nsel = 0;
        char *copy = c->select ? strdup(c->select) : NULL;
        char **sel = copy ? cli_split_alloc(copy, &nsel) : NULL;
        if (c->select && nsel == 0) {
            free(sel);
            free(copy);
            sg_experiment_free(exp);
            return cli_usage_error("run", "--select expects ids separated by commas, got '%s'",
                                   c->select);
        }
        rc = cli_run_scan(c, model, exp, target, values, count, log_scale,
                      nsel ? sel : (char **)ids, nsel ? nsel : n, NULL, 0);
        free(sel);
        free(copy);
        sg_experiment_free(exp);
        return rc;
    }
    if (c->fit_hill) {
        sg_experiment_free(exp);
        return cli_usage_error("run", "--fit applies to a scan (a scenario with a 'scan', or "
                                      "sigode scan)");
    }
    sg_options one_run = c->opt;
    one_run.warnings = NULL; /* printed below, as they come */
    sg_sim *sim = sg_sim_create(model, &one_run, &err);
    if (!sim) {
        sg_experiment_free(exp);
        return cli_report(&err);
    }
    int nsel = 0;
    char **sel = c->select ? cli_split_alloc(c->select, &nsel) : NULL;
    if (c->select && nsel == 0) {
        free(sel);
        sg_sim_free(sim);
        sg_experiment_free(exp);
        return cli_usage_error("run", "--select expects ids separated by commas, got '%s'",
                           c->select);
    }
    sg_trajectory *traj = NULL;
    sg_status st = sg_sim_run(sim, exp, &traj, &err);
    if (st == SG_OK) /* after a failure they follow its message */
        cli_print_warnings(sim);
    if (c->stats)
        cli_print_stats(sim);
    sg_error werr = {0};
    sg_table *table = traj ? sg_trajectory_table(traj, (const char *const *)sel, nsel, &werr)
                           : NULL;
    if (!table && traj) {
        rc = cli_report(&werr);
    } else if (table) {
        if (st == SG_OK) {
            rc = cli_write_table(c, table, c->output);
            if (rc == 0 && c->plot)
                rc = cli_plot_table(c, model, table, "time", 0, 0, NULL, exp);
        } else if (c->output) {
            /* keep a previous good file: the partial rows go beside it */
            size_t n = strlen(c->output) + 16;
            char *partial = malloc(n);
            if (partial) {
                snprintf(partial, n, "%s.partial", c->output);
                if (cli_write_table(c, table, partial) == 0)
                    fprintf(stderr, "sigode: %d rows computed before the failure written to %s\n",
                            sg_table_rows(table), partial);
                free(partial);
            }
        } else {
            cli_write_table(c, table, NULL);
        }
    }
    sg_table_free(table);
    free(sel);
    sg_trajectory_free(traj);
    if (st != SG_OK) {
        rc = cli_report(&err);
        cli_print_warnings(sim);
    }
    sg_sim_free(sim);
    sg_experiment_free(exp);
    return rc;
}

const cli_command cli_cmd_run = {
    "run", "MODEL [options]",
    "Simulate the model (or one of its scenarios) and write the trajectories as a table: a "
    "time column, then one column per species and assignment.",
    run_groups, CLI_NEEDS_MODEL, run_run, NULL};

/*
 * sigode steady MODEL [options]: the steady state, by Newton's method
 * (KINSOL) with the conservation laws, else by integration, and its
 * stability (the Jacobian's eigenvalues). With --sens, its sensitivities
 * by the implicit function theorem, in sens's long format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static struct {
    int sens;
    const char *params;
} steady_opt;

static int parse_sens(cli *c, const char *opt, const char *value)
{
    (void)c;
    (void)opt;
    (void)value;
    steady_opt.sens = 1;
    return 0;
}

static int parse_params(cli *c, const char *opt, const char *value)
{
    (void)c;
    (void)opt;
    steady_opt.params = value;
    return 0;
}

static const cli_option steady_options[] = {
    {"sens", NULL,
     "write the steady state's sensitivities d x / d p (implicit function theorem, long "
     "format time, output, parameter, value) instead of the state",
     parse_sens},
    {"params", "P[,P...]|all",
     "with --sens: the parameters (or species, for their initial values; default all model "
     "parameters)",
     parse_params},
    {NULL, NULL, NULL, NULL}};

static const cli_group *const steady_groups[] = {
    &(const cli_group){"steady-state options", steady_options}, &cli_experiment_group,
    &cli_output_group, &cli_solver_group, NULL};

/* The stability report (stderr): an unstable fixed point is not what the
 * system settles to, so it gets a warning. */
static void print_stability(const sg_stability *s, int nstate)
{
    if (!s->computed && (nstate == 0 || nstate > SG_EIGEN_MAX_STATES)) {
        fprintf(stderr, "stability: not computed (%d states; eigenvalues up to %d states)\n",
                nstate, SG_EIGEN_MAX_STATES);
    } else if (!s->computed) {
        fprintf(stderr, "stability: not computed (the model has delay(x, tau), or the Jacobian "
                        "is not finite there)\n");
    } else if (s->unstable) {
        fprintf(stderr,
                "warning: this steady state is UNSTABLE: %d eigenvalue%s of the Jacobian "
                "with positive real part (largest %.6g%+.6gi); a small perturbation grows "
                "away from it (the system may oscillate or go to another state)\n",
                s->npositive, s->npositive == 1 ? "" : "s", s->max_real, s->max_real_imag);
    } else {
        fprintf(stderr, "stability: stable (largest real part of the Jacobian's eigenvalues "
                        "%.6g, conserved directions excluded)\n",
                s->max_real);
    }
}

static void print_found(const sg_steady_info *info, int nstate)
{
    fprintf(stderr,
            "steady state found by %s; %d conservation law%s; max |dy/dt| = %.3g "
            "(relative %.3g)\n",
            info->method, info->conservation_laws, info->conservation_laws == 1 ? "" : "s",
            info->residual, info->max_relative_rate);
    print_stability(&info->stability, nstate);
}

static int run_steady_sens(cli *c, sg_experiment *exp)
{
    sg_model *m = c->model;
    sg_error err = {0};
    int np = 0, nout = 0, rc;
    int max = sg_model_parameter_count(m) + sg_model_species_count(m) + 1;
    const char **params = calloc((size_t)max + 1, sizeof *params);
    int maxo = sg_model_species_count(m) + sg_model_assignment_count(m) +
               sg_model_parameter_count(m) + sg_model_compartment_count(m) + 1;
    const char **outputs = calloc((size_t)maxo + 1, sizeof *outputs);
    char *params_copy = steady_opt.params ? strdup(steady_opt.params) : NULL;
    char *select_copy = c->select ? strdup(c->select) : NULL;
    sg_sens *sens = NULL;
    sg_sens_result *res = NULL;
    if (!params || !outputs || (steady_opt.params && !params_copy) || (c->select && !select_copy)) {
        rc = cli_usage_error("steady", "out of memory");
        goto done;
    }
    if (!steady_opt.params || !strcmp(steady_opt.params, "all")) {
        np = sg_model_parameter_count(m);
        for (int k = 0; k < np; k++)
            params[k] = sg_model_parameter_id(m, k);
    } else {
        np = cli_split_list(params_copy, (char **)params, max);
    }
    if (np == 0) {
        rc = cli_usage_error("steady", "--params expects ids separated by commas (or all, "
                                       "when the model has parameters)");
        goto done;
    }
    if (c->select && (nout = cli_split_list(select_copy, (char **)outputs, maxo)) == 0) {
        rc = cli_usage_error("steady", "--select expects ids separated by commas, got '%s'",
                             c->select);
        goto done;
    }
    if (!(sens = sg_sens_create(m, &c->opt, params, np, &err))) {
        rc = cli_report(&err);
        goto done;
    }
    sg_sens_request req = {.exp = exp, .outputs = nout ? outputs : NULL, .noutputs = nout};
    sg_steady_info info = {0};
    if (sg_sens_steady(sens, &req, &res, &info, NULL, &err) != SG_OK) {
        rc = cli_report(&err);
        goto done;
    }
    cli_begin_writing();
    sg_status st = c->output ? sg_sens_write_file(res, 0, c->format, c->output, &err)
                             : sg_sens_write(res, 0, c->format, stdout, &err);
    cli_end_writing();
    rc = st == SG_OK ? 0 : cli_report(&err);
    print_found(&info, sg_model_state_count(m));
done:
    sg_sens_result_free(res);
    sg_sens_free(sens);
    free(params);
    free(outputs);
    free(params_copy);
    free(select_copy);
    return rc;
}

static int run_steady(cli *c)
{
    sg_model *model = c->model;
    sg_error err = {0};
    if (steady_opt.params && !steady_opt.sens)
        return cli_usage_error("steady", "--params goes with --sens");
    sg_experiment *exp = cli_make_experiment(c, model, &err);
    if (exp && steady_opt.sens) {
        int rc = run_steady_sens(c, exp);
        sg_experiment_free(exp);
        return rc;
    }
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
        int nsel = 0;
        char **sel = c->select ? cli_split_alloc(c->select, &nsel) : NULL;
        sg_error werr = {0};
        sg_table *table = NULL;
        if (c->select && nsel == 0)
            rc = cli_usage_error("steady", "--select expects ids separated by commas, got '%s'",
                                 c->select);
        else if ((table = sg_trajectory_table(state, (const char *const *)sel, nsel, &werr)))
            rc = cli_write_table(c, table, c->output);
        else
            rc = cli_report(&werr);
        free(sel);
        sg_table_free(table);
        print_found(&info, sg_model_state_count(model));
    }
    sg_trajectory_free(state);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    return rc;
}

const cli_command cli_cmd_steady = {
    "steady", "MODEL [options]",
    "Find the steady state: Newton's method (KINSOL) with the model's conservation laws, else "
    "integration until the rates vanish; one row as a table, and its stability (the "
    "Jacobian's eigenvalues; a warning when it is unstable). With --sens, its "
    "sensitivities instead.",
    steady_groups, CLI_NEEDS_MODEL, run_steady, NULL};

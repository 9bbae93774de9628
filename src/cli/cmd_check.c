/*
 * sigode check MODEL: load and validate only.
 */
#include <stdio.h>

#include "cli/cli.h"

static int run_check(cli *c)
{
    sg_model *model = c->model;
    fprintf(stderr, "%s: ok (%d species, %d reactions, %d scenarios, %d checks)\n",
            c->model_path, sg_model_species_count(model), sg_model_reaction_count(model),
            sg_model_scenario_count(model), sg_model_check_count(model));
    return 0;
}

const cli_command cli_cmd_check = {
    "check", "MODEL",
    "Load and validate the model only; errors as file:line:col, exit 2.",
    NULL, CLI_NEEDS_MODEL, run_check, NULL};

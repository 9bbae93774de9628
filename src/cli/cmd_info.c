/*
 * sigode info MODEL: species, parameters, reactions, a summary.
 */
#include <stdio.h>

#include "cli/cli.h"

static const char *kind_label(int constant) { return constant ? "constant" : "state"; }

static int run_info(cli *c)
{
    sg_model *m = c->model;
    printf("model %s", sg_model_name(m));
    if (*sg_model_description(m))
        printf(": %s", sg_model_description(m));
    printf("\nfile %s\n", sg_model_path(m));
    if (*sg_model_time_unit(m) || *sg_model_conc_unit(m))
        printf("units: time %s, concentration %s\n", sg_model_time_unit(m),
               sg_model_conc_unit(m));
    int ns = sg_model_species_count(m), nstate = sg_model_state_count(m), nconst = 0;
    for (int i = 0; i < ns; i++)
        nconst += sg_model_species_is_constant(m, i);
    printf("\n%d compartments, %d species (%d constant), %d parameters, %d assignments, "
           "%d reactions, %d rate rules, %d events, %d functions, %d scenarios, %d checks\n"
           "%d state variables\n",
           sg_model_compartment_count(m), ns, nconst, sg_model_parameter_count(m),
           sg_model_assignment_count(m), sg_model_reaction_count(m),
           sg_model_rate_rule_count(m), sg_model_event_count(m), sg_model_function_count(m),
           sg_model_scenario_count(m), sg_model_check_count(m), nstate);
    printf("linear solver: %s (dense up to %d states, KLU above)\n",
           nstate > SG_DENSE_MAX_STATES ? "KLU" : "dense", SG_DENSE_MAX_STATES);
    printf("\ncompartments:\n");
    for (int i = 0; i < sg_model_compartment_count(m); i++)
        printf("  %-20s size %.10g\n", sg_model_compartment_id(m, i),
               sg_model_compartment_size(m, i));
    printf("\nspecies:\n");
    for (int i = 0; i < ns; i++)
        printf("  %-20s initial %-12.6g in %-10s %s\n", sg_model_species_id(m, i),
               sg_model_species_initial(m, i), sg_model_species_compartment(m, i),
               kind_label(sg_model_species_is_constant(m, i)));
    printf("\nparameters:\n");
    for (int i = 0; i < sg_model_parameter_count(m); i++)
        printf("  %-20s %-12.6g %-10s %s\n", sg_model_parameter_id(m, i),
               sg_model_parameter_value(m, i), sg_model_parameter_unit(m, i),
               sg_model_parameter_source(m, i));
    if (sg_model_assignment_count(m)) {
        printf("\nassignments:\n");
        for (int i = 0; i < sg_model_assignment_count(m); i++)
            printf("  %-20s = %s\n", sg_model_assignment_id(m, i), sg_model_assignment_text(m, i));
    }
    printf("\nreactions:\n");
    for (int i = 0; i < sg_model_reaction_count(m); i++)
        printf("  %-20s %-36s rate %s\n", sg_model_reaction_id(m, i),
               sg_model_reaction_equation(m, i), sg_model_reaction_rate(m, i));
    if (sg_model_rate_rule_count(m)) {
        printf("\nrate rules:\n");
        for (int i = 0; i < sg_model_rate_rule_count(m); i++)
            printf("  d%s/dt = %s\n", sg_model_rate_rule_target(m, i), sg_model_rate_rule_rate(m, i));
    }
    if (sg_model_event_count(m)) {
        printf("\nevents:\n");
        for (int i = 0; i < sg_model_event_count(m); i++)
            printf("  %-20s when %s\n", sg_model_event_id(m, i), sg_model_event_trigger(m, i));
    }
    if (sg_model_function_count(m)) {
        printf("\nfunctions:");
        for (int i = 0; i < sg_model_function_count(m); i++)
            printf(" %s", sg_model_function_id(m, i));
        printf("\n");
    }
    if (sg_model_scenario_count(m)) {
        printf("\nscenarios:");
        for (int i = 0; i < sg_model_scenario_count(m); i++)
            printf(" %s", sg_model_scenario_id(m, i));
        printf("\n");
    }
    if (sg_model_check_count(m)) {
        printf("checks:");
        for (int i = 0; i < sg_model_check_count(m); i++)
            printf(" %s", sg_model_check_id(m, i));
        printf("\n");
    }
    return 0;
}

const cli_command cli_cmd_info = {
    "info", "MODEL",
    "Describe the model: compartments, species, parameters, assignments, reactions, rate rules, "
    "events, scenarios and checks.",
    NULL, CLI_NEEDS_MODEL, run_info};

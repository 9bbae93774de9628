/*
 * sigode info MODEL: species, parameters, reactions, a summary.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static struct {
    int ids;
} info;

static int parse_ids(cli *c, const char *opt, const char *value)
{
    info.ids = 1;
    return 0;
}

static const cli_option info_options[] = {
    {"ids", NULL, "only the ids, one a line as KIND<TAB>ID (KIND: compartment, species, "
                  "parameter, assignment, reaction, scenario, check), for scripts and the "
                  "shell completion",
     parse_ids},
    {NULL, NULL, NULL, NULL}};

static const cli_group info_group = {"info options", info_options};
static const cli_group *const info_groups[] = {&info_group, NULL};

static int print_ids(const sg_model *m)
{
    for (int i = 0; i < sg_model_compartment_count(m); i++)
        printf("compartment\t%s\n", sg_model_compartment_id(m, i));
    for (int i = 0; i < sg_model_species_count(m); i++)
        printf("species\t%s\n", sg_model_species_id(m, i));
    for (int i = 0; i < sg_model_parameter_count(m); i++)
        printf("parameter\t%s\n", sg_model_parameter_id(m, i));
    for (int i = 0; i < sg_model_assignment_count(m); i++)
        printf("assignment\t%s\n", sg_model_assignment_id(m, i));
    for (int i = 0; i < sg_model_reaction_count(m); i++)
        printf("reaction\t%s\n", sg_model_reaction_id(m, i));
    for (int i = 0; i < sg_model_scenario_count(m); i++)
        printf("scenario\t%s\n", sg_model_scenario_id(m, i));
    for (int i = 0; i < sg_model_check_count(m); i++)
        printf("check\t%s\n", sg_model_check_id(m, i));
    return 0;
}

static const char *kind_label(int constant) { return constant ? "constant" : "state"; }

/* An element's name, when it has one, after its line's text. */
static void end_line(FILE *out, const char *name)
{
    if (*name)
        fprintf(out, "  name \"%s\"", name);
    fputc('\n', out);
}

static int print_info(cli *c, FILE *out)
{
    sg_model *m = c->model;
    if (info.ids)
        return print_ids(m);
    fprintf(out, "model %s", sg_model_name(m));
    if (*sg_model_description(m))
        fprintf(out, ": %s", sg_model_description(m));
    fprintf(out, "\nfile %s\n", sg_model_path(m));
    if (*sg_model_time_unit(m) || *sg_model_conc_unit(m))
        fprintf(out, "units: time %s, concentration %s\n", sg_model_time_unit(m),
               sg_model_conc_unit(m));
    int ns = sg_model_species_count(m), nstate = sg_model_state_count(m), nconst = 0;
    for (int i = 0; i < ns; i++)
        nconst += sg_model_species_is_constant(m, i);
    fprintf(out, "\n%d compartments, %d species (%d constant), %d parameters, %d assignments, "
           "%d reactions, %d rate rules, %d events, %d functions, %d scenarios, %d checks\n"
           "%d state variables\n",
           sg_model_compartment_count(m), ns, nconst, sg_model_parameter_count(m),
           sg_model_assignment_count(m), sg_model_reaction_count(m),
           sg_model_rate_rule_count(m), sg_model_event_count(m), sg_model_function_count(m),
           sg_model_scenario_count(m), sg_model_check_count(m), nstate);
    fprintf(out, "linear solver: %s (dense up to %d states, KLU above)\n",
           nstate > SG_DENSE_MAX_STATES ? "KLU" : "dense", SG_DENSE_MAX_STATES);
    fprintf(out, "instruction program: %s\n",
            sg_model_vm_machine_code(m)
                ? "run as machine code (SIGODE_VM_JIT=0 interprets it)"
                : "interpreted (machine code: x86-64 Linux, up to 16,384 instructions)");
    fprintf(out, "\ncompartments:\n");
    for (int i = 0; i < sg_model_compartment_count(m); i++)
    {
        fprintf(out, "  %-20s size %.10g", sg_model_compartment_id(m, i),
               sg_model_compartment_size(m, i));
        end_line(out, sg_model_name_of(m, sg_model_compartment_id(m, i)));
    }
    fprintf(out, "\nspecies:\n");
    for (int i = 0; i < ns; i++)
    {
        fprintf(out, "  %-20s initial %-12.6g in %-10s %s", sg_model_species_id(m, i),
               sg_model_species_initial(m, i), sg_model_species_compartment(m, i),
               kind_label(sg_model_species_is_constant(m, i)));
        end_line(out, sg_model_name_of(m, sg_model_species_id(m, i)));
    }
    fprintf(out, "\nparameters:\n");
    for (int i = 0; i < sg_model_parameter_count(m); i++)
    {
        fprintf(out, "  %-20s %-12.6g %-10s %s", sg_model_parameter_id(m, i),
               sg_model_parameter_value(m, i), sg_model_parameter_unit(m, i),
               sg_model_parameter_source(m, i));
        end_line(out, sg_model_name_of(m, sg_model_parameter_id(m, i)));
    }
    if (sg_model_uncertain_count(m)) {
        fprintf(out, "\nuncertainties (sampled by 'sigode ensemble' and 'sigode gsa'):\n");
        for (int i = 0; i < sg_model_uncertain_count(m); i++) {
            char dist[120];
            sg_distribution_format(sg_model_uncertain_distribution(m, i), dist, sizeof dist);
            fprintf(out, "  %-20s %-12.6g %-32s %s\n", sg_model_uncertain_id(m, i),
                    sg_model_uncertain_nominal(m, i), dist, sg_model_uncertain_source(m, i));
        }
    }
    if (sg_model_assignment_count(m)) {
        fprintf(out, "\nassignments:\n");
        for (int i = 0; i < sg_model_assignment_count(m); i++)
        {
            fprintf(out, "  %-20s = %s", sg_model_assignment_id(m, i), sg_model_assignment_text(m, i));
            end_line(out, sg_model_name_of(m, sg_model_assignment_id(m, i)));
        }
    }
    fprintf(out, "\nreactions:\n");
    for (int i = 0; i < sg_model_reaction_count(m); i++)
    {
        fprintf(out, "  %-20s %-36s rate %s", sg_model_reaction_id(m, i),
               sg_model_reaction_equation(m, i), sg_model_reaction_rate(m, i));
        end_line(out, sg_model_reaction_name(m, i));
    }
    if (sg_model_rate_rule_count(m)) {
        fprintf(out, "\nrate rules:\n");
        for (int i = 0; i < sg_model_rate_rule_count(m); i++)
            fprintf(out, "  d%s/dt = %s\n", sg_model_rate_rule_target(m, i), sg_model_rate_rule_rate(m, i));
    }
    if (sg_model_event_count(m)) {
        fprintf(out, "\nevents:\n");
        for (int i = 0; i < sg_model_event_count(m); i++)
        {
            fprintf(out, "  %-20s when %s", sg_model_event_id(m, i), sg_model_event_trigger(m, i));
            end_line(out, sg_model_event_name(m, i));
        }
    }
    if (sg_model_function_count(m)) {
        fprintf(out, "\nfunctions:");
        for (int i = 0; i < sg_model_function_count(m); i++)
            fprintf(out, " %s", sg_model_function_id(m, i));
        fputc('\n', out);
    }
    if (sg_model_scenario_count(m)) {
        fprintf(out, "\nscenarios:");
        for (int i = 0; i < sg_model_scenario_count(m); i++)
            fprintf(out, " %s", sg_model_scenario_id(m, i));
        fputc('\n', out);
    }
    if (sg_model_check_count(m)) {
        fprintf(out, "checks:");
        for (int i = 0; i < sg_model_check_count(m); i++)
            fprintf(out, " %s", sg_model_check_id(m, i));
        fputc('\n', out);
    }
    return 0;
}

/* The listing goes through cli_put_terminal_text: model strings, SBML
 * names and the file name are text from strangers. */
static int run_info(cli *c)
{
    char *text = NULL;
    size_t n = 0;
    FILE *buf = open_memstream(&text, &n);
    if (!buf)
        return cli_usage_error("info", "out of memory");
    int rc = print_info(c, buf);
    if (fclose(buf) != 0) {
        free(text);
        return cli_usage_error("info", "out of memory");
    }
    cli_put_terminal_text(stdout, text, n);
    free(text);
    return rc;
}

const cli_command cli_cmd_info = {
    "info", "MODEL [--ids]",
    "Describe the model: compartments, species, parameters, assignments, reactions, rate rules, "
    "events, scenarios and checks.",
    info_groups, CLI_NEEDS_MODEL, run_info, NULL};

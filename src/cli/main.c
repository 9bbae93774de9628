/*
 * The sigode command line: the dispatcher. Finds the subcommand in
 * cli_commands (one file each, src/cli/cmd_NAME.c; see cli.h for how to
 * add one), parses its options from its table, loads the model and runs it.
 * Exit status: 0 success, 1 the solver failed (or a check failed), 2 bad
 * usage or model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/study.h"
#include "util/util.h"

#define CLI_ENTRY(name) &cli_cmd_##name,
const cli_command *const cli_commands[] = {CLI_COMMAND_LIST(CLI_ENTRY) NULL};
#undef CLI_ENTRY

static void print_usage(FILE *out)
{
    fprintf(out, "usage: sigode <command> MODEL [options]\n"
                 "       sigode help <command> | sigode <command> --help | sigode --version\n"
                 "\ncommands:\n");
    for (const cli_command *const *cmd = cli_commands; *cmd; cmd++)
        fprintf(out, "  %-8s %s\n", (*cmd)->name, (*cmd)->synopsis);
    fprintf(out, "\nMODEL is a sigode model file, or an SBML file (.xml, .sbml), imported on the "
                 "fly.\n"
                 "'sigode help <command>' describes a command and lists its options;\n"
                 "'sigode help --options' lists every option of every command, one a line.\n"
                 "\nexit status: 0 success; 1 the solver failed or a check failed; 2 bad usage "
                 "or model\n");
}

/* An unknown command: the closest known one if any, then the list. */
static int unknown_command(const char *name)
{
    const char *names[64];
    int n = 0;
    for (const cli_command *const *cmd = cli_commands; *cmd && n < 64; cmd++)
        names[n++] = (*cmd)->name;
    const char *near = cli_closest(name, names, n);
    fputs("sigode: unknown command '", stderr);
    cli_put_terminal_text(stderr, name, strlen(name));
    if (near)
        fprintf(stderr, "' (did you mean '%s'?)\n", near);
    else
        fputs("'\n", stderr);
    fprintf(stderr, "commands:");
    for (int i = 0; i < n; i++)
        fprintf(stderr, " %s", names[i]);
    fprintf(stderr, "\n(see 'sigode --help')\n");
    return 2;
}

/* Runs a command; the warnings of all its runs (scan points, draws,
 * scenarios, a fit's simulations...) are told once each at the end, with
 * how many runs gave them and the first one (`run` of one trajectory
 * prints its own, as they come). */
static int run_gathering_warnings(const cli_command *cmd, cli *c)
{
    c->opt.warnings = sg_warnings_create();
    int rc = cmd->run(c);
    cli_print_run_warnings(c->opt.warnings,
                           !strcmp(cmd->name, "scan") || !strcmp(cmd->name, "run")
                               ? "scan points"
                               : "runs");
    sg_warnings_free(c->opt.warnings);
    c->opt.warnings = NULL;
    return rc;
}

/* sigode help --options: every option of every command, one a line,
 * "COMMAND<TAB>--OPTION<TAB>METAVAR" (empty for a flag). The bash
 * completion reads it, and a test checks the man page against it. */
static void print_option_list(void)
{
    for (const cli_command *const *cmd = cli_commands; *cmd; cmd++) {
        for (const cli_group *const *g = (*cmd)->groups; g && *g; g++)
            for (const cli_option *o = (*g)->options; o->name; o++)
                printf("%s\t--%s\t%s\n", (*cmd)->name, o->name, o->metavar ? o->metavar : "");
        printf("%s\t--help\t\n", (*cmd)->name);
    }
}

static int help(int argc, char **argv)
{
    if (argc < 3) {
        print_usage(stdout);
        return 0;
    }
    if (!strcmp(argv[2], "--options")) {
        print_option_list();
        return 0;
    }
    const cli_command *cmd = cli_find_command(argv[2]);
    if (!cmd)
        return unknown_command(argv[2]);
    cli_print_command_help(cmd, stdout);
    return 0;
}

static int uses_solver(const cli_command *cmd)
{
    for (const cli_group *const *g = cmd->groups; g && *g; g++)
        if (*g == &cli_solver_group)
            return 1;
    return 0;
}

int cli_argc;
char **cli_argv;

int main(int argc, char **argv)
{
    /* first thing: an interrupt from now on takes the documented path */
    cli_catch_interrupts();
    /* a command is one job and then the end of the process: what a stage
     * frees (the model's text before compiling, say) the next reuses */
    sg_alloc_keep_freed_memory();
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
        return help(argc, argv);
    if (!strcmp(argv[1], "--version")) {
        printf("sigode %s\n", SIGODE_VERSION);
        return 0;
    }
    cli_argc = argc;
    cli_argv = argv;
    const cli_command *cmd = cli_find_command(argv[1]);
    if (!cmd)
        return unknown_command(argv[1]);
    cli c;
    memset(&c, 0, sizeof c);
    c.command = cmd->name;
    sg_options_default(&c.opt);
    int rc = cli_parse_options(cmd, &c, argc, argv, 2);
    if (rc) {
        cli_free(&c);
        return rc < 0 ? 0 : rc;
    }
    if (cmd->kind == CLI_OWN_ARGS) {
        rc = run_gathering_warnings(cmd, &c);
        cli_free(&c);
        return rc;
    }
    if (c.nargs == 0) {
        cli_free(&c);
        return cli_usage_error(cmd->name, "a MODEL file is expected");
    }
    if (c.nargs > 1) {
        rc = cli_usage_error(cmd->name, "unexpected argument '%s' (the model is '%s')",
                             c.args[1], c.args[0]);
        cli_free(&c);
        return rc;
    }
    c.model_path = c.args[0];
    /* every option is checked before the model is loaded and anything runs */
    if ((cmd->validate && (rc = cmd->validate(&c)) != 0) ||
        (c.output && cli_check_output_path(c.output, "output")) ||
        (c.plot && cli_check_output_path(c.plot, "the plot"))) {
        cli_free(&c);
        return rc ? rc : 2;
    }
    sg_error err = {0};
    c.model = cli_load_model(c.model_path, &err);
    if (!c.model) {
        cli_free(&c);
        return cli_report(&err);
    }
    cli_set_model(c.model);
    if ((rc = cli_resolve_names(&c)) != 0) {
        cli_free(&c);
        return rc;
    }
    /* every output checked before any work (a scan may take hours) */
    if (c.plot && sg_plot_check_path(c.plot, &err) != SG_OK) {
        cli_free(&c);
        return cli_report(&err);
    }
    if ((c.output && cli_check_output_path(c.output, "output")) ||
        (c.plot && cli_check_output_path(c.plot, "the plot"))) {
        cli_free(&c);
        return 2;
    }
    if (uses_solver(cmd))
        cli_choose_backend(&c, c.model);
    rc = run_gathering_warnings(cmd, &c);
    cli_free(&c);
    return rc;
}

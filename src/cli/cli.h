/*
 * The sigode command line: internal header shared by the dispatcher
 * (main.c), the option machinery (options.c), the helpers several
 * subcommands use (common.c) and one file per subcommand (cmd_NAME.c), as
 * git's builtin/ or iproute2's ip/.
 *
 * Only src/cli/ prints to the terminal or decides an exit status:
 *   0 success, 1 the solver failed (or a check failed), 2 bad usage or model.
 *
 * ADDING A SUBCOMMAND `sigode NAME` (three lines outside the new file):
 *   1. Write src/cli/cmd_NAME.c. It defines
 *          static const cli_option NAME_options[] = {
 *              {"my-option", "X", "what it does (default ...)", parse_my_option},
 *              {"my-flag", NULL, "a flag", parse_my_flag},
 *              {NULL}};
 *          static const cli_group *const NAME_groups[] = {
 *              &cli_solver_group, &cli_output_group, &cli_experiment_group, // any shared ones
 *              &(const cli_group){"NAME options", NAME_options}, NULL};
 *          static int run_NAME(cli *c) { ... c->model_path, c->opt, ... }
 *          const cli_command cli_cmd_NAME = {
 *              "NAME", "MODEL [options]", "one line summary for sigode --help",
 *              NAME_groups, CLI_NEEDS_MODEL, run_NAME, NULL};   // or validate_NAME
 *      Option parsers have the type cli_parse_fn: they check the value
 *      (cli_parse_number, cli_parse_count, ... below), store it in the cli
 *      struct or in a static struct of the command's own file, and return
 *      0, or 2 after printing the error with cli_usage_error. Options that
 *      only make sense together are checked by an optional validate_NAME
 *      (last field of cli_command), called before the model is loaded.
 *      With CLI_NEEDS_MODEL the dispatcher loads MODEL and hands it over
 *      as c->model; with CLI_OWN_ARGS run_NAME gets c->args/c->nargs (the
 *      positional arguments) and loads what it needs itself.
 *   2. Add the line `X(NAME)` to CLI_COMMAND_LIST below (order = the
 *      order of `sigode --help` and the man page).
 *   3. Add the line `src/cli/cmd_NAME.c` to SIGODE_CLI_SOURCES in
 *      CMakeLists.txt.
 * `sigode NAME --help`, `sigode help NAME`, "did you mean" for misspelled
 * options and the "does not apply to" message come from the table by
 * themselves. Option names are long options (getopt_long); -h is --help.
 * Use the shared groups rather than redefining --rtol, --output, --set...
 */
#ifndef SIGODE_CLI_H
#define SIGODE_CLI_H

#include <stdarg.h>
#include <stdio.h>

#include "sigode.h"

/* The subcommands, one per line, as X(name) for cli_cmd_name. */
#define CLI_COMMAND_LIST(X) \
    X(run) \
    X(scan) \
    X(steady) \
    X(sens) \
    X(graph) \
    X(check) \
    X(info) \
    X(verify) \
    X(convert) \
    X(petab) \
    X(fit) \
    X(profile) \
    X(ensemble) \
    X(gsa)

/* --backend: the instruction program, compiled C, or the choice of
 * cli_choose_backend() */
enum { BACKEND_AUTO = 0, BACKEND_VM, BACKEND_NATIVE };

/* Everything the shared option groups (and today's scan options) set. A
 * new subcommand keeps its own options in a static struct of its file. */
typedef struct cli {
    const char *command;
    const char *model_path;
    sg_model *model;      /* loaded by the dispatcher for CLI_NEEDS_MODEL */
    char **args;          /* positional arguments (CLI_OWN_ARGS) */
    int nargs;
    /* experiment group */
    const char *scenario;
    double t_end;
    int has_t_end;
    long points;
    int has_points;
    const char **set_names;
    double *set_values;
    int nsets;
    char **events;
    int nevents;
    int preequilibrate;
    /* output group */
    char *select;
    const char *output;
    sg_format format;
    /* solver group */
    sg_options opt;
    int backend;
    /* run and scan */
    int stats;
    /* plot group */
    const char *plot;
    int log_y;               /* logarithmic y axes */
    const char *data_path;   /* --data: PEtab measurements drawn on the plot */
    sg_measurements *data;
    /* scan */
    const char *target;
    char *values_text;
    double from, to;
    int has_from, has_to, log_scale;
    char *readout;
    double *at;
    int nat;
    int jobs;
    int fit_hill;
    const char *fit_output;
    const char *target2;
    char *values2_text;
    double from2, to2;
    long points2;
    int has_from2, has_to2, has_points2, log2_scale;
    int synergy;             /* --synergy: a mask of sg_synergy */
} cli;

/* Parses the value of option `opt` ("--name"); value is NULL for a flag.
 * Returns 0, or 2 after printing a usage error. */
typedef int (*cli_parse_fn)(cli *c, const char *opt, const char *value);

typedef struct cli_option {
    const char *name;    /* long name without the dashes; NULL ends a table */
    const char *metavar; /* the value's placeholder in help ("X"), NULL for a flag */
    const char *help;    /* one sentence for --help and the man page */
    cli_parse_fn parse;
} cli_option;

typedef struct cli_group {
    const char *title; /* "solver options" */
    const cli_option *options;
} cli_group;

enum { CLI_NEEDS_MODEL = 0, CLI_OWN_ARGS = 1 };

typedef struct cli_command {
    const char *name;
    const char *synopsis; /* arguments after the name, for usage lines */
    const char *summary;  /* one line */
    const cli_group *const *groups; /* NULL-terminated */
    int kind;                       /* CLI_NEEDS_MODEL or CLI_OWN_ARGS */
    int (*run)(cli *c);
    /* optional: checks that need no model, run before MODEL is loaded so
     * that a bad command line costs no work; 0 or 2 (after the message) */
    int (*validate)(cli *c);
} cli_command;

#define CLI_DECLARE(name) extern const cli_command cli_cmd_##name;
CLI_COMMAND_LIST(CLI_DECLARE)
#undef CLI_DECLARE

/* The table of every subcommand, NULL-terminated (main.c). */
extern const cli_command *const cli_commands[];

/* Option groups shared by several subcommands (options.c). */
extern const cli_group cli_solver_group;     /* --rtol --atol --max-steps --linear-solver --backend */
extern const cli_group cli_output_group;     /* --output --format --select */
extern const cli_group cli_experiment_group; /* --scenario --t-end --set --event --preequilibrate */
extern const cli_group cli_plot_group;       /* --plot --log-y --data (plots.c) */

/* options.c: parses argv[first..] with getopt_long against the command's
 * table; positional arguments go to c->args. Returns 0, 2 after a usage
 * error, or -1 when --help was printed (exit 0). */
int cli_parse_options(const cli_command *cmd, cli *c, int argc, char **argv, int first);
void cli_print_command_help(const cli_command *cmd, FILE *out);
const cli_command *cli_find_command(const char *name);
/* The closest of candidates to word within a small edit distance, or NULL. */
const char *cli_closest(const char *word, const char *const *candidates, int n);
/* The same for model ids (stricter for short ids). */
const char *cli_closest_id(const char *word, const char *const *candidates, int n);

/* The whole command line as main() got it (main.c), for commands whose
 * own parser reads it again (ensemble, gsa: cmd_study.c). */
extern int cli_argc;
extern char **cli_argv;

/* common.c */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cli_usage_verror(const char *command, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Prints a library error; a usage error about an id the model (given to
 * cli_set_model) lacks gets "did you mean" the closest id. */
int cli_report(const sg_error *err);
/* Writes text for a terminal: control characters (C0 but the line end,
 * DEL, C1 as UTF-8 U+0080..U+009F) become '?', so a model or file name
 * cannot send escape sequences (retitle, recolour, rewrite the screen). */
void cli_put_terminal_text(FILE *out, const char *s, size_t n);
void cli_set_model(const sg_model *model);
void cli_usage_fill(sg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_parse_number(const char *command, const char *opt, const char *text, double *out);
int cli_parse_count(const char *command, const char *opt, const char *text, long min,
                    long *out);
int cli_split_list(char *text, char **parts, int max);
/* cli_split_list into an array of the right size (the caller frees it;
 * NULL when out of memory); *count is 0 for an empty item. */
char **cli_split_alloc(char *text, int *count);
/* Prints the sim's warnings of its last run on stderr. */
void cli_print_warnings(sg_sim *sim);
/* The warnings gathered over several runs, one line each: "warning: 3 of
 * 41 scan points: <first message> (first at <label>)"; runs_name names
 * the runs in the plural ("scan points", "draws"). */
void cli_print_run_warnings(const sg_warnings *w, const char *runs_name);
void cli_catch_interrupts(void);
void cli_begin_writing(void);
void cli_end_writing(void);
int cli_check_output_path(const char *path, const char *what);
/* The path of a file written beside an output ("x/fit.tsv" + "_starts.tsv"
 * -> "x/fit_starts.tsv"); NULL when out of memory. *special is set when
 * the output exists and is not a regular file (a device, a FIFO, a symlink
 * to one): files beside /dev/null are not to be made. */
char *cli_companion_path(const char *output, const char *suffix, int *special);
int cli_write_table(const cli *c, const sg_table *table, const char *path);
int cli_is_sbml_path(const char *path);
sg_model *cli_load_model(const char *path, sg_error *err);
/* Rewrites --select and --readout so that element names (a unique `name`)
 * become their ids; 0, or 2 after reporting an ambiguous name. */
int cli_resolve_names(cli *c);
void cli_choose_backend(const cli *c, sg_model *model);
/* The backend for `simulations` runs of the model (BACKEND_AUTO, VM or
 * NATIVE): compiled C when asked, or for auto when it pays. */
void cli_apply_backend(const char *command, int backend, long simulations, sg_model *model);
sg_experiment *cli_make_experiment(const cli *c, const sg_model *model, sg_error *err);
void cli_print_stats(const sg_sim *sim);
/* The syntax of an --event value; 0, or 2 after the message. */
int cli_check_event(const char *spec);
void cli_free(cli *c);

/* cmd_scan.c: a scan (also run by `sigode run` for a scenario with one) */
int cli_run_scan(cli *c, sg_model *model, sg_experiment *exp, const char *target,
                 const double *values, int count, int log_scale, char **readouts,
                 int nreadouts, const double *values2, int count2);

/* plots.c: the plots and fits of run and scan */
int cli_check_plot_options(const cli *c);
void cli_fit_columns(const sg_model *m, const sg_table *t, const char *target,
                     sg_hill_fit *fits);
/* A run (markers 0, exp gives the event markers) or 1-D scan (markers 1). */
int cli_plot_table(const cli *c, const sg_model *m, const sg_table *t, const char *xname,
                   int logx, int markers, const sg_hill_fit *fits, const sg_experiment *exp);
/* Heat maps of a 2-D scan table with nreadouts readouts. */
int cli_plot_grid(const cli *c, const sg_model *m, const sg_table *t, int nreadouts);

#endif

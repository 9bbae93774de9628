/*
 * Option tables: the shared groups (solver, output, experiment), parsing a
 * subcommand's arguments with getopt_long from its table, the --help text
 * generated from the same table, and "did you mean" suggestions.
 */
#include <ctype.h>
#include <float.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

/* ------------------------------------------------------ shared parsers */

static int parse_scenario(cli *c, const char *opt, const char *value)
{
    c->scenario = value;
    return 0;
}

static int parse_t_end(cli *c, const char *opt, const char *value)
{
    if (cli_parse_number(c->command, opt, value, &c->t_end))
        return 2;
    c->has_t_end = 1;
    return 0;
}

static int parse_set(cli *c, const char *opt, const char *value)
{
    const char *sep = strchr(value, '=');
    if (!sep || sep == value)
        return cli_usage_error(c->command, "--set expects NAME=VALUE, got '%s'", value);
    double v;
    if (cli_parse_number(c->command, "--set", sep + 1, &v))
        return 2;
    char *nm = strndup(value, (size_t)(sep - value));
    const char **names = realloc(c->set_names, sizeof *names * (size_t)(c->nsets + 1));
    double *vals = realloc(c->set_values, sizeof *vals * (size_t)(c->nsets + 1));
    if (names)
        c->set_names = names;
    if (vals)
        c->set_values = vals;
    if (!nm || !names || !vals) {
        free(nm);
        return cli_usage_error(c->command, "out of memory");
    }
    c->set_names[c->nsets] = nm;
    c->set_values[c->nsets++] = v;
    return 0;
}

static int parse_event(cli *c, const char *opt, const char *value)
{
    if (cli_check_event(value))
        return 2;
    char **events = realloc(c->events, sizeof *events * (size_t)(c->nevents + 1));
    if (!events)
        return cli_usage_error(c->command, "out of memory");
    c->events = events;
    c->events[c->nevents++] = (char *)value;
    return 0;
}

static int parse_preequilibrate(cli *c, const char *opt, const char *value)
{
    c->preequilibrate = 1;
    return 0;
}

static int parse_select(cli *c, const char *opt, const char *value)
{
    size_t vlen = strlen(value);
    if (!vlen || value[0] == ',' || value[vlen - 1] == ',' || strstr(value, ",,"))
        return cli_usage_error(c->command, "--select expects ids separated by commas, got '%s'",
                               value);
    free(c->select);
    c->select = strdup(value);
    return 0;
}

static int parse_output(cli *c, const char *opt, const char *value)
{
    if (!*value)
        return cli_usage_error(c->command, "--output expects a file name");
    c->output = value;
    return 0;
}

static int parse_format(cli *c, const char *opt, const char *value)
{
    if (!strcmp(value, "csv"))
        c->format = SG_FORMAT_CSV;
    else if (!strcmp(value, "tsv"))
        c->format = SG_FORMAT_TSV;
    else if (!strcmp(value, "json"))
        c->format = SG_FORMAT_JSON;
    else
        return cli_usage_error(c->command, "--format expects csv, tsv or json, got '%s'", value);
    return 0;
}

static int parse_tolerance(cli *c, const char *opt, const char *value)
{
    double v;
    if (cli_parse_number(c->command, opt, value, &v))
        return 2;
    if (!(v > 0) || v >= 1)
        return cli_usage_error(c->command, "%s expects a tolerance between 0 and 1, got '%s'",
                               opt, value);
    if (v < DBL_MIN)
        return cli_usage_error(c->command,
                               "%s must be at least %g, the smallest normal double (the solver "
                               "divides by it), got '%s'",
                               opt, DBL_MIN, value);
    if (!strcmp(opt, "--rtol"))
        c->opt.rtol = v;
    else
        c->opt.atol = v;
    return 0;
}

static int parse_max_steps(cli *c, const char *opt, const char *value)
{
    long count;
    if (cli_parse_count(c->command, opt, value, 1, &count))
        return 2;
    c->opt.max_steps = count;
    return 0;
}

static int parse_linear_solver(cli *c, const char *opt, const char *value)
{
    if (!strcmp(value, "dense"))
        c->opt.linear_solver = SG_LINSOL_DENSE;
    else if (!strcmp(value, "klu"))
        c->opt.linear_solver = SG_LINSOL_KLU;
    else if (!strcmp(value, "auto"))
        c->opt.linear_solver = SG_LINSOL_AUTO;
    else
        return cli_usage_error(c->command,
                               "--linear-solver expects auto, dense or klu, got '%s'", value);
    return 0;
}

static int parse_backend(cli *c, const char *opt, const char *value)
{
    if (!strcmp(value, "vm"))
        c->backend = BACKEND_VM;
    else if (!strcmp(value, "native"))
        c->backend = BACKEND_NATIVE;
    else if (!strcmp(value, "auto"))
        c->backend = BACKEND_AUTO;
    else
        return cli_usage_error(c->command, "--backend expects auto, vm or native, got '%s'",
                               value);
    return 0;
}

static const cli_option solver_options[] = {
    {"rtol", "X", "relative tolerance, between 0 and 1 (default 1e-6)", parse_tolerance},
    {"atol", "X", "absolute tolerance, between 0 and 1 (default 1e-9)", parse_tolerance},
    {"max-steps", "N", "the most solver steps between two output times (default 100000)",
     parse_max_steps},
    {"linear-solver", "auto|dense|klu",
     "dense LU or sparse KLU; auto: dense up to 100 states, KLU above", parse_linear_solver},
    {"backend", "auto|vm|native",
     "the instruction program (vm) or the model compiled to C (native); auto: native for "
     "scans where it pays or when an object is cached",
     parse_backend},
    {NULL, NULL, NULL, NULL}};
const cli_group cli_solver_group = {"solver options", solver_options};

static const cli_option output_options[] = {
    {"output", "FILE", "write the table to FILE (replaced only when complete) instead of "
                       "standard output",
     parse_output},
    {"format", "csv|tsv|json", "the table's format (default csv)", parse_format},
    {"select", "ID,ID,...", "only these columns: species, assignments, parameters or "
                            "compartments",
     parse_select},
    {NULL, NULL, NULL, NULL}};
const cli_group cli_output_group = {"output options", output_options};

static const cli_option experiment_options[] = {
    {"scenario", "ID", "run the model's scenario ID (its doses, time span, points, readouts)",
     parse_scenario},
    {"t-end", "T", "end time of the simulation", parse_t_end},
    {"set", "NAME=VALUE", "set a species' initial amount, a parameter or a compartment size "
                          "(repeatable)",
     parse_set},
    {"event", "T:NAME=V[:every=I][:count=N]",
     "at time T set NAME to V (NAME+=V adds V), optionally every I time units, N times "
     "(repeatable)",
     parse_event},
    {"preequilibrate", NULL, "start from the steady state of the model before the scenario's "
                             "changes",
     parse_preequilibrate},
    {NULL, NULL, NULL, NULL}};
const cli_group cli_experiment_group = {"experiment options", experiment_options};

/* --------------------------------------------------------- suggestions */

/* Edit distance, ignoring case, with transpositions (optimal string alignment: "rnu" is
 * one edit from "run"), capped at 64 characters (longer words are never
 * suggested). */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 1000;
    int before[65] = {0}, prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
                                     tolower((unsigned char)b[j - 1]));
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                before[j - 2] + 1 < cur[j])
                cur[j] = before[j - 2] + 1;
        }
        memcpy(before, prev, sizeof prev);
        memcpy(prev, cur, sizeof cur);
    }
    return prev[lb];
}

static const char *closest(const char *word, const char *const *candidates, int n, int limit)
{
    size_t len = strlen(word);
    const char *best = NULL;
    int best_d = limit + 1;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(word, candidates[i]);
        /* a prefix of a longer name also counts ("--point" for "--points") */
        if (d > 1 && len >= 3 && !strncmp(word, candidates[i], len))
            d = 1;
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}

const char *cli_closest(const char *word, const char *const *candidates, int n)
{
    /* a third of the word's letters may be wrong, at least one, at most 3 */
    int limit = (int)(strlen(word) / 3);
    return closest(word, candidates, n, limit < 1 ? 1 : limit > 3 ? 3 : limit);
}

const char *cli_closest_id(const char *word, const char *const *candidates, int n)
{
    /* ids of one or two letters (A, k1) are all one edit apart: only a
     * difference of case is suggested for them */
    int limit = (int)(strlen(word) / 3);
    for (int i = 0; limit == 0 && i < n; i++)
        if (!strcasecmp(word, candidates[i]))
            return candidates[i];
    return limit ? closest(word, candidates, n, limit > 3 ? 3 : limit) : NULL;
}

/* ------------------------------------------------------------ parsing */

static const cli_option help_option = {"help", NULL, "show this help and exit", NULL};

/* Every option of cmd, help last: *n of them, in table order. */
static const cli_option **command_options(const cli_command *cmd, int *n)
{
    int count = 1;
    for (const cli_group *const *g = cmd->groups; g && *g; g++)
        for (const cli_option *o = (*g)->options; o->name; o++)
            count++;
    const cli_option **all = malloc(sizeof *all * (size_t)count);
    if (!all)
        return NULL;
    int k = 0;
    for (const cli_group *const *g = cmd->groups; g && *g; g++)
        for (const cli_option *o = (*g)->options; o->name; o++)
            all[k++] = o;
    all[k++] = &help_option;
    *n = k;
    return all;
}

/* "--name" of an unknown option text ("--name=value" or "--name"). */
static void option_word(const char *text, char *word, size_t size)
{
    size_t len = strcspn(text, "=");
    if (len >= size)
        len = size - 1;
    memcpy(word, text, len);
    word[len] = '\0';
}

/* An option not in cmd's table: another command's ("does not apply"), or
 * unknown, with the closest of cmd's own options. */
static int unknown_option(const cli_command *cmd, const cli_option **opts, int nopts,
                          const char *text)
{
    char word[128];
    option_word(text, word, sizeof word);
    if (!strncmp(word, "--", 2)) {
        for (const cli_command *const *other = cli_commands; *other; other++)
            for (const cli_group *const *g = (*other)->groups; g && *g; g++)
                for (const cli_option *o = (*g)->options; o->name; o++)
                    if (!strcmp(o->name, word + 2))
                        return cli_usage_error(cmd->name, "option %s does not apply to '%s'",
                                               word, cmd->name);
    }
    char names[256][72];
    const char *candidates[256];
    int n = 0;
    for (int i = 0; i < nopts && n < 256; i++) {
        snprintf(names[n], sizeof names[n], "--%s", opts[i]->name);
        candidates[n] = names[n];
        n++;
    }
    const char *near = cli_closest(word, candidates, n);
    if (near)
        return cli_usage_error(cmd->name, "unknown option '%s' (did you mean '%s'?)", text,
                               near);
    return cli_usage_error(cmd->name, "unknown option '%s'", text);
}

int cli_parse_options(const cli_command *cmd, cli *c, int argc, char **argv, int first)
{
    int nopts = 0;
    const cli_option **opts = command_options(cmd, &nopts);
    struct option *longopts = calloc((size_t)nopts + 1, sizeof *longopts);
    char **args = malloc(sizeof *args * (size_t)(argc + 1));
    if (!opts || !longopts || !args) {
        free(opts);
        free(longopts);
        free(args);
        return cli_usage_error(cmd->name, "out of memory");
    }
    enum { FIRST_LONG = 1000 };
    for (int i = 0; i < nopts; i++) {
        longopts[i].name = opts[i]->name;
        longopts[i].has_arg = opts[i]->metavar ? required_argument : no_argument;
        longopts[i].val = FIRST_LONG + i;
    }
    /* getopt_long sees argv[first - 1 ..]: the command name stands in for
     * argv[0] */
    int sub_argc = argc - (first - 1);
    char **sub_argv = argv + (first - 1);
    int rc = 0;
    c->nargs = 0;
    optind = 0; /* full reinitialisation (glibc) */
    opterr = 0;
    for (;;) {
        int longindex = -1;
        /* "-": positional arguments come back in order as 1 (no permuting,
         * whatever POSIXLY_CORRECT says); ":": a missing value is ':' */
        int ch = getopt_long(sub_argc, sub_argv, "-:h", longopts, &longindex);
        if (ch == -1)
            break;
        if (ch == 1) {
            args[c->nargs++] = optarg;
            continue;
        }
        if (ch == 'h') {
            rc = -1;
            break;
        }
        if (ch == '?' || ch == ':') {
            const char *text = sub_argv[optind - 1];
            int index = optopt - FIRST_LONG;
            if (ch == ':' && index >= 0 && index < nopts) {
                rc = cli_usage_error(cmd->name, "--%s expects a value", opts[index]->name);
            } else if (ch == '?' && index >= 0 && index < nopts) {
                rc = cli_usage_error(cmd->name, "option --%s takes no value", opts[index]->name);
            } else {
                rc = unknown_option(cmd, opts, nopts, text);
            }
            break;
        }
        int index = ch - FIRST_LONG;
        const cli_option *o = opts[index];
        /* getopt_long accepts unambiguous abbreviations; sigode does not, so
         * that a new option never changes what an old command line means */
        const char *text = optarg && optarg == sub_argv[optind - 1] && optind >= 2
                               ? sub_argv[optind - 2]
                               : sub_argv[optind - 1];
        size_t nlen = strlen(o->name);
        if (strncmp(text, "--", 2) || strncmp(text + 2, o->name, nlen) ||
            (text[2 + nlen] != '\0' && text[2 + nlen] != '=')) {
            rc = unknown_option(cmd, opts, nopts, text);
            break;
        }
        if (o == &help_option) {
            rc = -1;
            break;
        }
        char name[80];
        snprintf(name, sizeof name, "--%s", o->name);
        rc = o->parse(c, name, optarg);
        if (rc)
            break;
    }
    if (rc == 0) {
        for (int i = optind; i < sub_argc; i++)
            args[c->nargs++] = sub_argv[i];
        args[c->nargs] = NULL;
        c->args = args;
    } else {
        free(args);
    }
    if (rc == -1)
        cli_print_command_help(cmd, stdout);
    free(opts);
    free(longopts);
    return rc;
}

/* ---------------------------------------------------------------- help */

/* Writes text from column `indent`, wrapped before column 80. */
static void wrap(FILE *out, const char *text, int column, int indent)
{
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " ");
        if (column > indent && column + 1 + (int)word > 79) {
            fprintf(out, "\n%*s", indent, "");
            column = indent;
        } else if (column > indent) {
            fputc(' ', out);
            column++;
        }
        fwrite(p, 1, word, out);
        column += (int)word;
        p += word;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

static void print_option(FILE *out, const cli_option *o)
{
    char head[96];
    snprintf(head, sizeof head, "  --%s%s%s", o->name, o->metavar ? " " : "",
             o->metavar ? o->metavar : "");
    int column = fprintf(out, "%s", head);
    if (column >= 30) {
        fputc('\n', out);
        column = 0;
    }
    fprintf(out, "%*s", 30 - column, "");
    wrap(out, o->help, 30, 30);
}

void cli_print_command_help(const cli_command *cmd, FILE *out)
{
    fprintf(out, "usage: sigode %s %s\n\n", cmd->name, cmd->synopsis);
    wrap(out, cmd->summary, 0, 0);
    for (const cli_group *const *g = cmd->groups; g && *g; g++) {
        fprintf(out, "\n%s:\n", (*g)->title);
        for (const cli_option *o = (*g)->options; o->name; o++)
            print_option(out, o);
    }
    fprintf(out, "\n");
    print_option(out, &help_option);
}

const cli_command *cli_find_command(const char *name)
{
    for (const cli_command *const *cmd = cli_commands; *cmd; cmd++)
        if (!strcmp((*cmd)->name, name))
            return *cmd;
    return NULL;
}

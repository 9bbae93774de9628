/*
 * sigode convert MODEL --to cfg|sbml [--output FILE]: an SBML file as a
 * sigode model, or a sigode model (or SBML) as SBML Level 3 Version 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static struct {
    const char *to, *output;
} convert;

static int parse_to(cli *c, const char *opt, const char *value)
{
    convert.to = value;
    return 0;
}

static int parse_output(cli *c, const char *opt, const char *value)
{
    convert.output = value;
    return 0;
}

static const cli_option convert_options[] = {
    {"to", "cfg|sbml", "the format to write (required): a sigode model, or SBML L3V2",
     parse_to},
    {"output", "FILE", "write to FILE (replaced only when complete) instead of standard output",
     parse_output},
    {NULL, NULL, NULL, NULL}};

static const cli_group convert_group = {"convert options", convert_options};
static const cli_group *const convert_groups[] = {&convert_group, NULL};

/* What the SBML could not carry (a unit that is free text), on standard
 * error as the model's strings reach the terminal: made inert. */
static void warn(void *ctx, const char *message)
{
    (void)ctx;
    fputs("sigode convert: warning: ", stderr);
    cli_put_terminal_text(stderr, message, strlen(message));
    fputc('\n', stderr);
}

static int run_convert(cli *c)
{
    const char *path = c->nargs > 0 ? c->args[0] : NULL, *to = convert.to,
               *out = convert.output;
    if (c->nargs > 1)
        return cli_usage_error("convert", "unexpected argument '%s' (the model is '%s')",
                               c->args[1], path);
    if (!path)
        return cli_usage_error("convert", "which model? sigode convert MODEL --to cfg|sbml");
    if (!to || (strcmp(to, "cfg") && strcmp(to, "sbml")))
        return cli_usage_error("convert", "--to cfg or --to sbml is required");
    sg_error err = {0};
    char *text = NULL;
    if (!strcmp(to, "cfg")) {
        if (!cli_is_sbml_path(path))
            return cli_usage_error("convert", "--to cfg reads an SBML file (.xml or .sbml), got '%s'",
                               path);
        text = sg_sbml_to_config(path, &err);
    } else {
        sg_model *m = cli_load_model(path, &err);
        text = m ? sg_model_to_sbml_noting(m, warn, NULL, &err) : NULL;
        sg_model_free(m);
    }
    if (!text)
        return cli_report(&err);
    sg_status st = SG_OK;
    cli_begin_writing();
    if (out)
        st = sg_write_text_file(out, text, &err);
    else if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
        st = err.status = SG_ERR_IO;
        snprintf(err.message, sizeof err.message, "cannot write to standard output");
    }
    cli_end_writing();
    free(text);
    return st == SG_OK ? 0 : cli_report(&err);
}

const cli_command cli_cmd_convert = {
    "convert", "MODEL --to cfg|sbml [--output FILE]",
    "Convert an SBML file (.xml, .sbml) into a sigode model, or a model into SBML Level 3 "
    "Version 2.",
    convert_groups, CLI_OWN_ARGS, run_convert, NULL};

/*
 * sigode graph MODEL [--format dot|svg|png] [--output FILE]: the reaction
 * network as Graphviz text, or a picture drawn by Graphviz's dot.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char *graph_format = "dot";

static int parse_graph_format(cli *c, const char *opt, const char *value)
{
    if (strcmp(value, "dot") && strcmp(value, "svg") && strcmp(value, "png"))
        return cli_usage_error(c->command, "--format expects dot, svg or png, got '%s'", value);
    graph_format = value;
    return 0;
}

static int parse_graph_output(cli *c, const char *opt, const char *value)
{
    if (!*value)
        return cli_usage_error(c->command, "--output expects a file name");
    c->output = value;
    return 0;
}

static const cli_option graph_options[] = {
    {"format", "dot|svg|png", "Graphviz text (default), or a picture drawn by Graphviz's dot",
     parse_graph_format},
    {"output", "FILE", "write to FILE (replaced only when complete); needed for svg and png",
     parse_graph_output},
    {NULL, NULL, NULL, NULL}};
static const cli_group *const graph_groups[] = {&(const cli_group){"graph options",
                                                                   graph_options},
                                                NULL};

static int run_graph(cli *c)
{
    sg_error err = {0};
    if (!c->output) {
        if (strcmp(graph_format, "dot") != 0)
            return cli_usage_error("graph", "--format %s writes a picture: give --output FILE",
                                   graph_format);
        return sg_model_write_dot(c->model, stdout, &err) == SG_OK ? 0 : cli_report(&err);
    }
    cli_begin_writing();
    sg_status st = sg_model_render_graph(c->model, graph_format, c->output, &err);
    cli_end_writing();
    return st == SG_OK ? 0 : cli_report(&err);
}

const cli_command cli_cmd_graph = {
    "graph", "MODEL [--format dot|svg|png] [--output FILE]",
    "The network: species (filled by compartment), reactions, assignments and an edge for "
    "every influence, as Graphviz text or a picture drawn by dot.",
    graph_groups, CLI_NEEDS_MODEL, run_graph, NULL};

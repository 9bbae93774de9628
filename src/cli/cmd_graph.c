/*
 * sigode graph MODEL: the reaction network as a Graphviz digraph.
 */
#include <stdio.h>

#include "cli/cli.h"

static int run_graph(cli *c)
{
    sg_error err = {0};
    return sg_model_write_dot(c->model, stdout, &err) == SG_OK ? 0 : cli_report(&err);
}

const cli_command cli_cmd_graph = {
    "graph", "MODEL",
    "Write the network as a Graphviz digraph on standard output (pipe into dot -Tsvg).",
    NULL, CLI_NEEDS_MODEL, run_graph, NULL};

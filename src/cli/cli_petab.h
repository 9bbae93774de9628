/* The estimation commands (PEtab evaluate, fit, profile), each in its own
 * file, called from main.c. */
#ifndef SG_CLI_PETAB_H
#define SG_CLI_PETAB_H

#include "sigode.h"

int sg_cli_petab(int argc, char **argv);
int sg_cli_fit(int argc, char **argv);
int sg_cli_profile(int argc, char **argv);
/* Prints err on stderr and returns its exit status. */
int sg_cli_report(const sg_error *err);
int sg_cli_usage(const char *command, const char *message);
/* A whole number in [min, max]: 0, else -1. */
int sg_cli_parse_long(const char *text, long min, long max, long *out);
sg_status sg_cli_nomem(sg_error *err);

#endif

/*
 * Helpers of the explorer tests (tests/explore/): the purpose-built models,
 * running the command line on a pseudo-terminal, a small CSV reader. Files,
 * temporary directories and running commands come from tests/unit/support.h.
 */
#ifndef SG_EXPLORE_SUPPORT_H
#define SG_EXPLORE_SUPPORT_H

#include <stddef.h>

#include "sigode.h"
#include "support.h" /* tests/unit: files, directories, running commands */

/* Absolute path of a model of tests/explore/models/ (a string literal). */
#define EX_MODEL(name) SIGODE_SOURCE_DIR "/tests/explore/models/" name

/* Runs argv with standard error (and input) on a fresh pseudo-terminal and
 * standard output to /dev/null; *tty gets everything written to the
 * terminal. Returns the exit status, -1 if not run. */
int ex_run_pty(const char *const *argv, char **tty);

/* A CSV table as sigode writes it: a header, numbers (nan allowed) and an
 * optional quoted text column. */
typedef struct ex_csv {
    int ncols, nrows;
    char **names;  /* ncols */
    double *v;     /* nrows x ncols; a text cell is NaN here */
    char **text;   /* nrows x ncols, every cell as written (unquoted) */
} ex_csv;

/* Parses CSV text; fails the test when it is not a well-formed table. */
ex_csv *ex_csv_parse(const char *text);
void ex_csv_free(ex_csv *t);
/* Column index by name; fails the test when absent. */
int ex_csv_col(const ex_csv *t, const char *name);
double ex_csv_get(const ex_csv *t, int row, int col);
const char *ex_csv_text(const ex_csv *t, int row, int col);

/* |a - b| / |b| (|a - b| when b is 0). */
double ex_rel(double a, double b);

/* Runs the CLI and requires exit status `rc`; returns standard output
 * (caller frees), standard error in *err if asked. */
char *ex_cli(int rc, const char *const *argv, char **err);

#endif

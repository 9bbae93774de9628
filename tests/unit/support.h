/*
 * Helpers shared by the unit tests: files, model lists, temporary
 * directories and running the command line.
 */
#ifndef SG_TEST_SUPPORT_H
#define SG_TEST_SUPPORT_H

#include <stddef.h>

#include "sigode.h"

/* Reads a whole file (NUL-terminated; *len gets its length). NULL if it
 * cannot be read. Caller frees. */
char *ts_read_file(const char *path, size_t *len);
/* Writes `len` bytes to path; 0 on success. */
int ts_write_file(const char *path, const char *text, size_t len);

/* Every .cfg file in models/ and models/examples/ of the source tree, sorted
 * (absolute paths). Free with ts_free_list. */
char **ts_model_files(int *count);
void ts_free_list(char **list, int count);

/* A fresh temporary directory (mkdtemp), removed with its files by
 * ts_remove_dir. Caller frees the returned path. */
char *ts_temp_dir(void);
void ts_remove_dir(const char *dir);
/* dir + "/" + name, allocated (caller frees). */
char *ts_path(const char *dir, const char *name);

/* Runs argv[0] with arguments (argv NULL-terminated), standard output and
 * error captured into *out and *err (caller frees; may be NULL to ignore).
 * Returns the exit status, or -1 if it did not exit normally. */
int ts_run(const char *const *argv, char **out, char **err);
/* The same with `env` as the whole environment (when not NULL). */
int ts_run_env(const char *const *argv, const char *const *env, char **out, char **err);

/* Loads a model from text, failing the test with the formatted error. */
sg_model *ts_load_text(const char *text);
/* Runs a model's scenario (NULL: defaults) with tolerances; fails the test
 * on error. */
sg_trajectory *ts_run_scenario(const sg_model *m, const char *scenario, double rtol,
                               double atol);
/* The same with every option given, and the solver's statistics of the run
 * in *stats (when stats is not NULL). */
sg_trajectory *ts_run_with(const sg_model *m, const char *scenario, const sg_options *opt,
                           sg_stats *stats);

/* Relative difference |a - b| / max(|b|, floor). */
double ts_rel(double a, double b, double floor);

#endif

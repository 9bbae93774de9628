/*
 * Studies of many runs (sigode ensemble, sigode gsa): their shared options,
 * the model and experiment they start from, and the computation of every
 * sample into a record file, on threads and, when built with MPI, on the
 * ranks of an MPI job (study.c, mpi.c).
 */
#ifndef SG_CLI_STUDY_H
#define SG_CLI_STUDY_H

#include "sigode.h"

#define STUDY_MAX_QUANTILES 64

typedef struct study_opts {
    int argc;
    char **argv;
    const char *command;
    const char *model_path;
    const char *scenario;
    const char **set_names;
    double *set_values;
    int nsets;
    double t_end;
    int has_t_end;
    long points;
    int has_points;
    sg_options opt;
    int backend;           /* BACKEND_AUTO, BACKEND_VM or BACKEND_NATIVE */
    /* a scan */
    const char *target;
    char *values_text;
    double from, to;
    int has_from, has_to, log_scale;
    /* the samples */
    long samples;
    int has_samples;
    unsigned long seed;
    sg_sampler sampler;
    char *params;
    char *outputs;
    double q[STUDY_MAX_QUANTILES];
    int nq;
    int jobs;
    int preequilibrate;
    int fit_hill;
    const char *output, *samples_output, *plot, *checkpoint;
    int resume;
    sg_format format;
    /* gsa */
    int morris;
    int levels;
    long bootstrap;
    double confidence;
} study_opts;

/* Parses the options of `ensemble` or `gsa`; 0, or the exit status (2)
 * after a message. */
/* Where the runs of ensemble and gsa put their warnings (study_parse
 * copies it into the options; the dispatcher tells them at the end). */
extern sg_warnings *study_warnings;
int study_parse(study_opts *o, int argc, char **argv);
void study_free(study_opts *o);
/* Exit status of an error (printed). */
int study_report(const sg_error *err);
int study_usage(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Splits a comma list into a NULL-terminated array (in place); count or -1. */
int study_split(char *text, const char ***out);
/* Loads the model and builds the experiment (scenario, --set, --t-end). */
int study_setup(const study_opts *o, sg_model **model, sg_experiment **exp);
/* The scan's values: --values, --from/--to/--points, or the scenario's. 0
 * when neither (a time course), -1 after an error message. */
int study_scan_values(study_opts *o, const sg_experiment *exp, const char **target,
                      double **values);
/* Computes every sample of ens not yet in the store (all of them, or the
 * missing ones with --resume), sharing them among the MPI ranks and the
 * threads. Returns 0 on every rank that should go on to write (rank 0
 * only), 3 on other ranks (nothing to write), or an exit status. */
int study_compute(const study_opts *o, const sg_ensemble *ens, sg_ensemble_store **store,
                  long *failed, char *failure, size_t failure_size);
/* The request as a checkpoint key (options that change the records). */
char *study_key(int argc, char **argv);
/* Writes a table to path (atomically) or standard output. */
int study_write_table(const study_opts *o, const sg_table *t, const char *path);
/* Shortest %.15g..%.17g that reads back exactly. */
void study_number(char *buf, size_t size, double x);

/* MPI (mpi.c): the rank and size of the job (0 and 1 without MPI). */
int study_mpi_init(int *argc, char ***argv);
int study_mpi_rank(void);
int study_mpi_size(void);
void study_mpi_finalize(void);
/* 2 after a message when started as one of several MPI processes by a
 * command that does not share its work (it would run K times); else 0. */
int study_mpi_refuse_ranks(const char *what);
/* scan and fit on the ranks: rank r computes the indices i with i mod K
 * = r. study_gather_scan takes each rank's table (its rows, in order) and
 * its status and error, and gives rank 0 the whole table, status and
 * error one process gives for `count` points; study_gather_fit gives rank
 * 0 every start (sorted) from each rank's own (unsorted, sg_fit_options
 * parts). Both return 0 on rank 0 (and without MPI), 3 on the others. */
int study_gather_scan(int count, sg_table **table, sg_status *st, sg_error *err);
int study_gather_fit(sg_fit_start *starts, int count, int n);

int cmd_ensemble(int argc, char **argv);
int cmd_gsa(int argc, char **argv);

#endif

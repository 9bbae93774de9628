/* Ensembles (ensemble.c), their record files (store.c) and the sensitivity
 * analyses that reuse their runs (gsa.c). */
#ifndef SG_ENSEMBLE_H
#define SG_ENSEMBLE_H

#include "../model/model.h"
#include "uncertainty.h"

enum { SG_RECORD_MISSING = 0, SG_RECORD_RAN = 1, SG_RECORD_FAILED = 2 };

struct sg_ensemble {
    const sg_model *model;
    sg_options opt;
    sg_experiment *exp;    /* a shallow copy (sets and events shared) */
    int nparams;
    int *param;            /* indices into model->uncertain */
    int *slots;            /* their slots */
    int noutputs;
    const char **outputs;  /* ids, owned by the model or the caller's spec */
    int *cols;             /* trajectory columns */
    int rows;
    double *x;             /* output times or scanned values */
    int is_scan, target_slot, count, fit;
    const double *values;  /* the scan's, owned by the caller */
    double t_read;         /* a scan's readout time */
    sg_sampler sampler;
    long samples;          /* evaluations: base x (d + 2) for SOBOL, x (d + 1) for MORRIS */
    long base;             /* the design's points (Sobol base samples, Morris trajectories) */
    unsigned long seed;
    int record_size;
    sg_gsa_method gsa;
    int levels;
};

/* One thread's workspace: a sim, a design cursor, the sampled values. */
typedef struct sg_runner {
    sg_sim *sim;
    sg_design *design;     /* NULL when the caller sets vals itself (gsa) */
    double *u, *vals;      /* nparams */
    double *run_vals;
    int *run_slots;
    double *y;             /* a scan's curve for the fit */
    int *ints;             /* Morris scratch: 3 x nparams */
} sg_runner;

sg_status sg_nominal_check(sg_ensemble *e, const sg_ensemble_spec *spec, sg_error *err);
sg_runner *sg_runner_create(const sg_ensemble *e, sg_error *err);
void sg_runner_free(sg_runner *r);
/* vals[] of sample i of the ensemble's design */
void sg_ensemble_sample_values(const sg_ensemble *e, sg_runner *r, long i);
/* Runs with r->vals into a record (layout in sigode.h). */
sg_status sg_runner_eval(const sg_ensemble *e, sg_runner *r, double *rec, sg_error *err);
/* Morris trajectory t: start levels (d), the order of the moved
 * parameters (d) and their directions (+1 or -1, d). */
void sg_morris_path(const sg_ensemble *e, long t, int *start, int *order, int *direction);
/* jobs, or one per core when jobs <= 0 */
int sg_default_jobs(int jobs);

#endif

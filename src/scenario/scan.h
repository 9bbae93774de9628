/* Scans: one run per value of a target, on worker threads. */
#ifndef SG_SCAN_H
#define SG_SCAN_H

#include "scenario.h"

typedef struct sg_scan_result {
    int count, nat, ncols;
    double *values;  /* count x nat x ncols: every trajectory column per time */
    char **failure;  /* count entries, NULL when the point ran */
    int failed;
} sg_scan_result;

/* Runs exp once per point; point i sets slots[k] to values[i * nslots + k].
 * `at` lists the readout times (NULL: the end time). jobs <= 0 means one
 * per core. Results do not depend on the number of jobs. */
typedef struct sg_scan_points {
    const int *slots;
    int nslots;
    const double *values;
    int count;
} sg_scan_points;

sg_status sg_scan_compute(const sg_model *model, const sg_options *opt,
                          const sg_experiment *exp, const sg_scan_points *points,
                          const double *at, int nat, int jobs, sg_progress_fn progress,
                          void *progress_ctx, sg_scan_result *out, sg_error *err);
void sg_scan_result_free(sg_scan_result *r);

#endif

/*
 * LAPACK, opened on first use (liblapack.so.3, Fortran calling convention:
 * liblapack-dev ships no C header). Shared by the steady-state linear
 * algebra (dgeev, dgesv) and the dense LU of the integrator (dgetrf,
 * dgetrs).
 */
#ifndef SIGODE_LAPACK_H
#define SIGODE_LAPACK_H

#include "sigode.h"

typedef void sg_dgeev_fn(const char *jobvl, const char *jobvr, const int *n, double *a,
                         const int *lda, double *wr, double *wi, double *vl, const int *ldvl,
                         double *vr, const int *ldvr, double *work, const int *lwork, int *info);
typedef void sg_dgesv_fn(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv,
                         double *b, const int *ldb, int *info);
typedef void sg_dgetrf_fn(const int *m, const int *n, double *a, const int *lda, int *ipiv,
                          int *info);
typedef void sg_dgetrs_fn(const char *trans, const int *n, const int *nrhs, const double *a,
                          const int *lda, const int *ipiv, double *b, const int *ldb, int *info,
                          size_t trans_len);

typedef struct sg_lapack {
    sg_dgeev_fn *dgeev;
    sg_dgesv_fn *dgesv;
    sg_dgetrf_fn *dgetrf;
    sg_dgetrs_fn *dgetrs;
    /* 1 when the library is OpenBLAS (its optimised kernels): only then is
     * its LU faster than SUNDIALS' own (src/solver/lapack_dense.h) */
    int openblas;
} sg_lapack;

/* Sets *lib to the loaded library (opened once per process, never
 * closed); SG_ERR_IO with err set when it cannot be opened. Its functions
 * may be called from any thread: they take turns (OpenBLAS's serial build
 * is not safe to enter from two threads at once). */
sg_status sg_lapack_open(const sg_lapack **lib, sg_error *err);

#endif

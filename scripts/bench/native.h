/*
 * A model as native C, written by modelgen.py: the interface between the
 * generated <model>_native.c and the CVODE driver handc.c.
 */
#ifndef BENCH_NATIVE_H
#define BENCH_NATIVE_H

typedef struct native_model {
    const char *name;
    int n;                      /* states: non-constant species, file order */
    int np;                     /* parameters, compartment sizes, constant species */
    const char *const *state_names;
    const double *y0;
    const char *const *param_names;
    const double *p0;
    int nnz;                    /* Jacobian pattern (CSC, diagonal included) */
    const int *colptr, *rowidx;
    void (*rhs)(double t, const double *y, const double *p, double *dy);
    void (*jac_csc)(double t, const double *y, const double *p, double *Jx);
    void (*jac_dense)(double t, const double *y, const double *p, double *J);
} native_model;

extern const native_model NATIVE_MODEL;

#endif

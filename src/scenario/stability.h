/* Dense linear algebra at a steady state (stability.c, LAPACK). */
#ifndef SG_STABILITY_H
#define SG_STABILITY_H

#include "../compile/program.h"

/* J (nstate x nstate, column-major) at the states and parameters of the
 * model slots v, time t. */
sg_status sg_dense_jacobian(const sg_program *prog, const double *v, double t, double *J,
                            sg_error *err);
/* Eigenvalues of the Jacobian at v without nlaws zeros (see stability.c);
 * out->computed = 0 above SG_EIGEN_MAX_STATES states or when LAPACK fails. */
sg_status sg_stability_compute(const sg_program *prog, const double *v, double t, int nlaws,
                               sg_stability *out, sg_error *err);
/* Solves A X = B in place (A n x n, B n x nrhs, column-major); *singular
 * when A is exactly singular. */
sg_status sg_dense_solve(int n, int nrhs, double *A, double *B, int *singular, sg_error *err);

#endif

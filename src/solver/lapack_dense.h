/*
 * Dense LU by LAPACK (dgetrf, dgetrs) behind SUNDIALS' linear-solver
 * interface, for CVODE(S): what SUNDIALS' own LapackDense module does, which
 * Debian's SUNDIALS does not ship. With OpenBLAS its blocked kernels
 * factorise a 354 x 354 matrix about 5x faster than SUNDIALS' dense LU.
 */
#ifndef SIGODE_LAPACK_DENSE_H
#define SIGODE_LAPACK_DENSE_H

#include <sundials/sundials_linearsolver.h>
#include <sundials/sundials_matrix.h>
#include <sundials/sundials_nvector.h>

#include "../util/lapack.h"

/* A solver for the dense matrix A (A's size, serial vector y), calling
 * lib's routines; NULL when out of memory or A is too large for LAPACK's
 * int sizes. */
SUNLinearSolver sg_lapack_dense_create(const sg_lapack *lib, N_Vector y, SUNMatrix A,
                                       SUNContext ctx);

/* SUNDIALS' dense LU skips a column update whose multiplier is zero, so on
 * a sparse Jacobian it does far less than LAPACK's, which does all of it.
 * This is the share of a full matrix's work that SUNDIALS' LU does on
 * I - gamma J with J's pattern (CSC, n columns), eliminating in the natural
 * order as if the diagonal were the pivots: 1 for a full pattern, 0 for a
 * diagonal one; -1 when out of memory. Costs about 1/64 of one such LU. */
double sg_dense_lu_work_share(int n, const int *colptr, const int *rowidx);

/* LAPACK's LU pays from this many states, when SUNDIALS' would do at
 * least this share of a full matrix's work and the library is OpenBLAS:
 * on a full matrix OpenBLAS is 1.7x faster at 32 states and 5x at 354,
 * Debian's reference LAPACK no faster than SUNDIALS
 * (scripts/bench/README.md) */
#define SG_LAPACK_LU_MIN_STATES 32
#define SG_LAPACK_LU_MIN_WORK_SHARE 0.5

/* The library to factorise an n x n dense Jacobian with J's pattern (CSC)
 * when LAPACK's LU pays by the rules above, else NULL (SUNDIALS' own LU;
 * also when LAPACK cannot be opened). */
const sg_lapack *sg_lapack_dense_choice(int n, const int *colptr, const int *rowidx);

#endif

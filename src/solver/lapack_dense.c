/*
 * SUNLinearSolver of type "direct" whose setup factorises CVODE's
 * I - gamma J in place with dgetrf (partial pivoting) and whose solve
 * back-substitutes with dgetrs. The matrix is a SUNDIALS dense matrix:
 * column-major with leading dimension n, as LAPACK wants it.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <nvector/nvector_serial.h>
#include <sunmatrix/sunmatrix_dense.h>

#include "../util/util.h"
#include "lapack_dense.h"

typedef struct lapack_dense {
    const sg_lapack *lib;
    int n;
    int *pivots;
    sunindextype last_flag;
} lapack_dense;

#define CONTENT(S) ((lapack_dense *)(S)->content)

static SUNLinearSolver_Type get_type(SUNLinearSolver S)
{
    (void)S;
    return SUNLINEARSOLVER_DIRECT;
}

static SUNLinearSolver_ID get_id(SUNLinearSolver S)
{
    (void)S;
    return SUNLINEARSOLVER_LAPACKDENSE;
}

static int initialize(SUNLinearSolver S)
{
    CONTENT(S)->last_flag = SUNLS_SUCCESS;
    return SUNLS_SUCCESS;
}

static int setup(SUNLinearSolver S, SUNMatrix A)
{
    lapack_dense *c = CONTENT(S);
    if (SUNMatGetID(A) != SUNMATRIX_DENSE || SUNDenseMatrix_Rows(A) != c->n ||
        SUNDenseMatrix_Columns(A) != c->n) {
        c->last_flag = SUNLS_ILL_INPUT;
        return SUNLS_ILL_INPUT;
    }
    int info = 0;
    c->lib->dgetrf(&c->n, &c->n, SUNDenseMatrix_Data(A), &c->n, c->pivots, &info);
    c->last_flag = info;
    /* info > 0: a zero pivot, which CVODE recovers from (a smaller step);
     * info < 0: an argument LAPACK refused, which it cannot */
    if (info > 0)
        return SUNLS_LUFACT_FAIL;
    return info < 0 ? SUNLS_PACKAGE_FAIL_UNREC : SUNLS_SUCCESS;
}

static int solve(SUNLinearSolver S, SUNMatrix A, N_Vector x, N_Vector b, realtype tol)
{
    (void)tol;
    lapack_dense *c = CONTENT(S);
    N_VScale(1.0, b, x);
    int info = 0, one = 1;
    c->lib->dgetrs("N", &c->n, &one, SUNDenseMatrix_Data(A), &c->n, c->pivots,
                   N_VGetArrayPointer(x), &c->n, &info, 1);
    c->last_flag = info;
    return info == 0 ? SUNLS_SUCCESS : SUNLS_PACKAGE_FAIL_UNREC;
}

static sunindextype last_flag(SUNLinearSolver S) { return CONTENT(S)->last_flag; }

static int space(SUNLinearSolver S, long int *real_words, long int *int_words)
{
    *real_words = 0;
    *int_words = 2 + CONTENT(S)->n;
    return SUNLS_SUCCESS;
}

static int free_solver(SUNLinearSolver S)
{
    if (!S)
        return SUNLS_SUCCESS;
    if (S->content) {
        sg_free(CONTENT(S)->pivots);
        sg_free(S->content);
        S->content = NULL;
    }
    SUNLinSolFreeEmpty(S);
    return SUNLS_SUCCESS;
}

SUNLinearSolver sg_lapack_dense_create(const sg_lapack *lib, N_Vector y, SUNMatrix A,
                                       SUNContext ctx)
{
    sunindextype n = SUNDenseMatrix_Rows(A);
    if (n < 1 || n > INT_MAX || SUNDenseMatrix_Columns(A) != n ||
        N_VGetLength(y) != n)
        return NULL;
    SUNLinearSolver S = SUNLinSolNewEmpty(ctx);
    if (!S)
        return NULL;
    S->ops->gettype = get_type;
    S->ops->getid = get_id;
    S->ops->initialize = initialize;
    S->ops->setup = setup;
    S->ops->solve = solve;
    S->ops->lastflag = last_flag;
    S->ops->space = space;
    S->ops->free = free_solver;
    lapack_dense *c = sg_calloc(1, sizeof *c);
    S->content = c;
    if (!c || !(c->pivots = sg_malloc(sizeof(int) * (size_t)n))) {
        free_solver(S);
        return NULL;
    }
    c->lib = lib;
    c->n = (int)n;
    return S;
}

double sg_dense_lu_work_share(int n, const int *colptr, const int *rowidx)
{
    if (n < 2)
        return 0.0;
    size_t words = ((size_t)n + 63) / 64;
    uint64_t *pattern = sg_calloc((size_t)n * words, sizeof *pattern); /* column j's rows */
    if (!pattern)
        return -1.0;
    for (int j = 0; j < n; j++) {
        uint64_t *col = pattern + (size_t)j * words;
        col[j / 64] |= UINT64_C(1) << (j % 64);
        for (int e = colptr[j]; e < colptr[j + 1]; e++)
            col[rowidx[e] / 64] |= UINT64_C(1) << (rowidx[e] % 64);
    }
    double work = 0.0, full = 0.0;
    for (int k = 0; k < n - 1; k++) {
        const uint64_t *pivot_col = pattern + (size_t)k * words;
        size_t first = (size_t)(k + 1) / 64;
        uint64_t below = ~UINT64_C(0) << ((k + 1) % 64); /* rows > k in word `first` */
        double column_length = n - 1 - k;
        full += column_length * column_length;
        for (int j = k + 1; j < n; j++) {
            uint64_t *col = pattern + (size_t)j * words;
            if (!(col[k / 64] >> (k % 64) & 1))
                continue; /* a zero multiplier: SUNDIALS skips the column */
            work += column_length;
            col[first] |= pivot_col[first] & below;
            for (size_t w = first + 1; w < words; w++)
                col[w] |= pivot_col[w];
        }
    }
    sg_free(pattern);
    return work / full;
}

const sg_lapack *sg_lapack_dense_choice(int n, const int *colptr, const int *rowidx)
{
    const sg_lapack *lib;
    if (n < SG_LAPACK_LU_MIN_STATES || sg_lapack_open(&lib, NULL) != SG_OK || !lib->openblas)
        return NULL;
    return sg_dense_lu_work_share(n, colptr, rowidx) >= SG_LAPACK_LU_MIN_WORK_SHARE ? lib : NULL;
}

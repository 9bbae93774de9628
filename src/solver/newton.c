/* KINSOL Newton solve for steady states (see newton.h). */
#include <kinsol/kinsol.h>
#include <math.h>
#include <nvector/nvector_serial.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>

#include "newton.h"

#if SUNDIALS_VERSION_MAJOR >= 7
#define SG_SUN_COMM SUN_COMM_NULL
#else
#define SG_SUN_COMM NULL
#endif

void sg_conservation_free(sg_conservation *law)
{
    sg_free(law->pivot);
    sg_free(law->c);
    memset(law, 0, sizeof *law);
}

sg_status sg_conservation_find(const sg_model *m, const double *v, sg_conservation *out,
                               sg_error *err)
{
    const sg_program *p = m->program;
    int n = p->nstate, nr = m->nfluxes;
    memset(out, 0, sizeof *out);
    /* A = M^T (reactions x states); its null space is the left null space
     * of M. Reduced row echelon form with partial pivoting. */
    double *a = sg_calloc((size_t)nr * (size_t)n + 1, sizeof *a);
    int *is_pivot_col = sg_calloc((size_t)n + 1, sizeof *is_pivot_col);
    int *pivot_row_of = sg_malloc(sizeof(int) * ((size_t)n + 1));
    if (!a || !is_pivot_col || !pivot_row_of) {
        sg_free(a);
        sg_free(is_pivot_col);
        sg_free(pivot_row_of);
        return sg_error_nomem(err);
    }
    double biggest = 0;
    for (int i = 0; i < n; i++)
        for (int k = p->st_start[i]; k < p->st_start[i + 1]; k++) {
            int r = p->st_rate[k] - m->first_rate_slot;
            double x = p->st_coef[k] / v[p->state_comp_slot[i]];
            a[(size_t)r * (size_t)n + (size_t)i] += x;
            biggest = fmax(biggest, fabs(x));
        }
    double tol = 1e-10 * (biggest > 0 ? biggest : 1);
    int row = 0;
    for (int col = 0; col < n && row < nr; col++) {
        int best = row;
        for (int r = row + 1; r < nr; r++)
            if (fabs(a[(size_t)r * n + col]) > fabs(a[(size_t)best * n + col]))
                best = r;
        if (fabs(a[(size_t)best * n + col]) <= tol)
            continue;
        if (best != row)
            for (int j = 0; j < n; j++) {
                double t = a[(size_t)row * n + j];
                a[(size_t)row * n + j] = a[(size_t)best * n + j];
                a[(size_t)best * n + j] = t;
            }
        double piv = a[(size_t)row * n + col];
        for (int j = 0; j < n; j++)
            a[(size_t)row * n + j] /= piv;
        for (int r = 0; r < nr; r++) {
            double f = a[(size_t)r * n + col];
            if (r == row || f == 0)
                continue;
            for (int j = 0; j < n; j++)
                a[(size_t)r * n + j] -= f * a[(size_t)row * n + j];
        }
        is_pivot_col[col] = 1;
        pivot_row_of[col] = row;
        row++;
    }
    int laws = n - row;
    out->nlaws = laws;
    out->pivot = sg_malloc(sizeof(int) * ((size_t)laws + 1));
    out->c = sg_calloc((size_t)laws * (size_t)n + 1, sizeof(double));
    if (!out->pivot || !out->c) {
        sg_free(a);
        sg_free(is_pivot_col);
        sg_free(pivot_row_of);
        sg_conservation_free(out);
        return sg_error_nomem(err);
    }
    /* one basis vector per free column f: c_f = 1, c_pivotcol = -a[row][f] */
    int k = 0;
    for (int f = 0; f < n; f++) {
        if (is_pivot_col[f])
            continue;
        double *c = out->c + (size_t)k * n;
        c[f] = 1.0;
        for (int col = 0; col < n; col++)
            if (is_pivot_col[col])
                c[col] = -a[(size_t)pivot_row_of[col] * n + f];
        out->pivot[k++] = f;
    }
    sg_free(a);
    sg_free(is_pivot_col);
    sg_free(pivot_row_of);
    return SG_OK;
}

typedef struct newton_data {
    const sg_program *p;
    const sg_conservation *law;
    double *v;
    double *st_scaled, *jt_scaled, *jac;
    double *totals;
    double *ydot;
} newton_data;

static int residual(N_Vector u, N_Vector f, void *user)
{
    newton_data *d = user;
    const sg_program *p = d->p;
    double *y = N_VGetArrayPointer(u), *out = N_VGetArrayPointer(f);
    /* at a steady state delay(x, tau) is x now: no history */
    sg_delay_history *history = sg_delay_use(NULL);
    int bad = sg_program_rhs(p, 0.0, y, out, d->v, d->st_scaled);
    sg_delay_use(history);
    if (bad >= 0)
        return 1; /* recoverable: KINSOL backtracks */
    for (int k = 0; k < d->law->nlaws; k++) {
        const double *c = d->law->c + (size_t)k * p->nstate;
        double s = -d->totals[k];
        for (int i = 0; i < p->nstate; i++)
            s += c[i] * y[i];
        out[d->law->pivot[k]] = s;
    }
    return 0;
}

static int jacobian(N_Vector u, N_Vector fu, SUNMatrix J, void *user, N_Vector t1, N_Vector t2)
{
    (void)fu;
    (void)t1;
    (void)t2;
    newton_data *d = user;
    const sg_program *p = d->p;
    int n = p->nstate;
    sg_delay_history *history = sg_delay_use(NULL);
    sg_program_jacobian(p, 0.0, N_VGetArrayPointer(u), d->jac, d->v, d->jt_scaled);
    sg_delay_use(history);
    double *a = SUNDenseMatrix_Data(J);
    memset(a, 0, sizeof *a * (size_t)n * (size_t)n);
    for (int j = 0; j < n; j++)
        for (int e = p->jac_colptr[j]; e < p->jac_colptr[j + 1]; e++)
            a[(size_t)j * n + p->jac_rowidx[e]] = d->jac[e];
    for (int k = 0; k < d->law->nlaws; k++) {
        int r = d->law->pivot[k];
        for (int j = 0; j < n; j++)
            a[(size_t)j * n + r] = d->law->c[(size_t)k * n + j];
    }
    return 0;
}

static void quiet(int code, const char *module, const char *function, char *msg, void *user)
{
    (void)code;
    (void)module;
    (void)function;
    snprintf(user, 256, "%s", msg);
}

sg_status sg_newton_steady(const sg_program *p, const sg_conservation *law, double *v,
                           double ftol, long *iterations, sg_error *err)
{
    int n = p->nstate;
    *iterations = 0;
    if (n == 0)
        return SG_OK;
    if (n > SG_NEWTON_MAX_STATES)
        return sg_error_set(err, SG_ERR_LIMIT, NULL, 0, 0,
                            "Newton steady state is limited to %d states", SG_NEWTON_MAX_STATES);
    newton_data d = {.p = p, .law = law, .v = v};
    size_t nst = (size_t)p->st_start[n], njt = (size_t)p->jt_start[p->nnz];
    d.st_scaled = sg_malloc(sizeof(double) * (nst + 1));
    d.jt_scaled = sg_malloc(sizeof(double) * (njt + 1));
    d.jac = sg_malloc(sizeof(double) * ((size_t)p->nnz + 1));
    d.totals = sg_malloc(sizeof(double) * ((size_t)law->nlaws + 1));
    SUNContext ctx = NULL;
    N_Vector u = NULL, scale = NULL, constraints = NULL;
    SUNMatrix J = NULL;
    SUNLinearSolver LS = NULL;
    void *kin = NULL;
    char message[256] = "";
    sg_status st = SG_OK;
    if (!d.st_scaled || !d.jt_scaled || !d.jac || !d.totals) {
        st = sg_error_nomem(err);
        goto done;
    }
    sg_program_scale(p, v, d.st_scaled, d.jt_scaled);
    for (int k = 0; k < law->nlaws; k++) {
        d.totals[k] = 0;
        for (int i = 0; i < n; i++)
            d.totals[k] += law->c[(size_t)k * n + i] * v[i];
    }
    if (SUNContext_Create(SG_SUN_COMM, &ctx) != 0) {
        ctx = NULL;
        st = sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0, "SUNContext_Create failed");
        goto done;
    }
    u = N_VNew_Serial(n, ctx);
    scale = N_VNew_Serial(n, ctx);
    constraints = N_VNew_Serial(n, ctx);
    J = SUNDenseMatrix(n, n, ctx);
    LS = J ? SUNLinSol_Dense(u ? u : scale, J, ctx) : NULL;
    kin = KINCreate(ctx);
    if (!u || !scale || !constraints || !J || !LS || !kin) {
        st = sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0, "could not set up KINSOL");
        goto done;
    }
    memcpy(N_VGetArrayPointer(u), v, sizeof(double) * (size_t)n);
    for (int i = 0; i < n; i++)
        if (N_VGetArrayPointer(u)[i] < 0)
            N_VGetArrayPointer(u)[i] = 0;
    N_VConst(1.0, scale);
    N_VConst(1.0, constraints); /* every state >= 0 */
    int flag = KINInit(kin, residual, u);
    if (flag == KIN_SUCCESS)
        flag = KINSetUserData(kin, &d);
    if (flag == KIN_SUCCESS)
        flag = KINSetErrHandlerFn(kin, quiet, message);
    if (flag == KIN_SUCCESS)
        flag = KINSetLinearSolver(kin, LS, J);
    if (flag == KIN_SUCCESS)
        flag = KINSetJacFn(kin, jacobian);
    if (flag == KIN_SUCCESS)
        flag = KINSetConstraints(kin, constraints);
    if (flag == KIN_SUCCESS)
        flag = KINSetFuncNormTol(kin, ftol);
    if (flag == KIN_SUCCESS)
        flag = KINSetScaledStepTol(kin, 1e-14);
    if (flag == KIN_SUCCESS)
        flag = KINSetMaxSetupCalls(kin, 1); /* exact Newton: fresh Jacobian each step */
    if (flag == KIN_SUCCESS)
        flag = KINSetNumMaxIters(kin, 200);
    if (flag == KIN_SUCCESS)
        flag = KINSol(kin, u, KIN_LINESEARCH, scale, scale);
    KINGetNumNonlinSolvIters(kin, iterations);
    if (flag < 0) {
        char *name = KINGetReturnFlagName(flag); /* malloc'd by SUNDIALS */
        st = sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0, "KINSOL did not converge (%s)%s%s",
                          name ? name : "?", message[0] ? ": " : "", message);
        free(name);
        if (err)
            err->flag = flag;
        goto done;
    }
    memcpy(v, N_VGetArrayPointer(u), sizeof(double) * (size_t)n);
done:
    KINFree(&kin);
    if (LS)
        SUNLinSolFree(LS);
    if (J)
        SUNMatDestroy(J);
    if (u)
        N_VDestroy(u);
    if (scale)
        N_VDestroy(scale);
    if (constraints)
        N_VDestroy(constraints);
    if (ctx)
        SUNContext_Free(&ctx);
    sg_free(d.st_scaled);
    sg_free(d.jt_scaled);
    sg_free(d.jac);
    sg_free(d.totals);
    return st;
}

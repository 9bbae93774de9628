/*
 * The hand-written-C limit: a model's native right-hand side and analytic
 * Jacobian (NATIVE_MODEL, from modelgen.py) driving CVODE with exactly
 * sigode's settings (src/solver/cvode.c, src/scenario/sim.c): BDF, Newton,
 * scalar rtol/atol (default 1e-6/1e-9), max steps 100000, the user
 * Jacobian, dense (SUNDenseMatrix + SUNLinSol_Dense) up to 100 states and
 * KLU (CSC, AMD ordering) above, CVodeInit on the first run and CVodeReInit after, and
 * CVodeSetStopTime(t_end) before each CVode(tout, CV_NORMAL) call at the
 * same output times.
 *
 *   handc_<model> [--set NAME=VALUE]... [--t-start T] [--t-end T] [--points N]
 *                 [--rtol X] [--atol X] [--linear-solver auto|dense|klu]
 *                 [--min-reps N] [--max-reps N] [--min-seconds S] [--out FILE.csv]
 *
 * Prints one JSON line like bench_sigode's.
 */
#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunlinsol/sunlinsol_klu.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunmatrix/sunmatrix_sparse.h>

#include "bench_common.h"
#include "native.h"

#if SUNDIALS_VERSION_MAJOR >= 7
#define BENCH_SUN_COMM SUN_COMM_NULL
#else
#define BENCH_SUN_COMM NULL
#endif

typedef struct run_data {
    const native_model *m;
    double *p;
} run_data;

static int rhs(sunrealtype t, N_Vector y, N_Vector ydot, void *user)
{
    run_data *d = user;
    d->m->rhs(t, N_VGetArrayPointer(y), d->p, N_VGetArrayPointer(ydot));
    return 0;
}

static int jac_dense(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *user,
                     N_Vector t1, N_Vector t2, N_Vector t3)
{
    run_data *d = user;
    d->m->jac_dense(t, N_VGetArrayPointer(y), d->p, SUNDenseMatrix_Data(J));
    return 0;
}

static int jac_sparse(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *user,
                      N_Vector t1, N_Vector t2, N_Vector t3)
{
    run_data *d = user;
    const native_model *m = d->m;
    sunindextype *colptr = SUNSparseMatrix_IndexPointers(J);
    sunindextype *rowidx = SUNSparseMatrix_IndexValues(J);
    for (int j = 0; j <= m->n; j++)
        colptr[j] = m->colptr[j];
    for (int e = 0; e < m->nnz; e++)
        rowidx[e] = m->rowidx[e];
    m->jac_csc(t, N_VGetArrayPointer(y), d->p, SUNSparseMatrix_Data(J));
    return 0;
}

static void check(int flag, const char *what)
{
    if (flag < 0) {
        fprintf(stderr, "handc: %s failed: %s\n", what, CVodeGetReturnFlagName(flag));
        exit(1);
    }
}

static int find(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

int main(int argc, char **argv)
{
    const native_model *m = &NATIVE_MODEL;
    double t_start = 0, t_end = 10, rtol = 1e-6, atol = 1e-9, min_seconds = 1.0;
    long points = 101, max_steps = 100000;
    int min_reps = 3, max_reps = 10000, sparse = m->n > 100;
    const char *out = NULL;
    double *p = malloc(sizeof(double) * (size_t)(m->np + 1));
    double *y0 = malloc(sizeof(double) * (size_t)m->n);
    memcpy(p, m->p0, sizeof(double) * (size_t)m->np);
    memcpy(y0, m->y0, sizeof(double) * (size_t)m->n);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "handc: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--set")) {
            const char *eq = strchr(v, '=');
            char name[256];
            if (!eq || (size_t)(eq - v) >= sizeof name) {
                fprintf(stderr, "handc: --set expects NAME=VALUE\n");
                return 2;
            }
            memcpy(name, v, (size_t)(eq - v));
            name[eq - v] = '\0';
            double x = bench_number("--set", eq + 1);
            int k;
            if ((k = find(m->param_names, m->np, name)) >= 0)
                p[k] = x;
            else if ((k = find(m->state_names, m->n, name)) >= 0)
                y0[k] = x;
            else {
                fprintf(stderr, "handc: unknown name %s\n", name);
                return 2;
            }
        } else if (!strcmp(a, "--t-start"))
            t_start = bench_number(a, v);
        else if (!strcmp(a, "--t-end"))
            t_end = bench_number(a, v);
        else if (!strcmp(a, "--points"))
            points = (long)bench_number(a, v);
        else if (!strcmp(a, "--rtol"))
            rtol = bench_number(a, v);
        else if (!strcmp(a, "--atol"))
            atol = bench_number(a, v);
        else if (!strcmp(a, "--max-steps"))
            max_steps = (long)bench_number(a, v);
        else if (!strcmp(a, "--linear-solver"))
            sparse = !strcmp(v, "klu") ? 1 : !strcmp(v, "dense") ? 0 : m->n > 100;
        else if (!strcmp(a, "--min-reps"))
            min_reps = (int)bench_number(a, v);
        else if (!strcmp(a, "--max-reps"))
            max_reps = (int)bench_number(a, v);
        else if (!strcmp(a, "--min-seconds"))
            min_seconds = bench_number(a, v);
        else if (!strcmp(a, "--out"))
            out = v;
        else {
            fprintf(stderr, "handc: unknown option %s\n", a);
            return 2;
        }
    }
    if (points < 2)
        points = 2;

    run_data data = {m, p};
    SUNContext ctx = NULL;
    check(SUNContext_Create(BENCH_SUN_COMM, &ctx) ? -1 : 0, "SUNContext_Create");
    N_Vector y = N_VNew_Serial(m->n, ctx);
    SUNMatrix A = sparse ? SUNSparseMatrix(m->n, m->n, m->nnz, CSC_MAT, ctx)
                         : SUNDenseMatrix(m->n, m->n, ctx);
    SUNLinearSolver LS = sparse ? SUNLinSol_KLU(y, A, ctx) : SUNLinSol_Dense(y, A, ctx);
    /* AMD ordering, as src/solver/cvode.c sets it */
    if (sparse && LS && SUNLinSol_KLUSetOrdering(LS, 0) != SUNLS_SUCCESS)
        LS = NULL;
    void *cvode = CVodeCreate(CV_BDF, ctx);
    if (!y || !A || !LS || !cvode) {
        fprintf(stderr, "handc: could not create the solver\n");
        return 1;
    }
    double *rows = malloc(sizeof(double) * (size_t)points * (size_t)m->n);
    double *times = malloc(sizeof(double) * (size_t)max_reps);
    int reps = 0, initialised = 0;
    double spent = 0, first_s = 0;
    while (reps < max_reps && (reps < min_reps || spent < min_seconds)) {
        double c0 = bench_now();
        memcpy(N_VGetArrayPointer(y), y0, sizeof(double) * (size_t)m->n);
        if (!initialised) {
            check(CVodeInit(cvode, rhs, t_start, y), "CVodeInit");
            check(CVodeSetUserData(cvode, &data), "CVodeSetUserData");
            check(CVodeSetLinearSolver(cvode, LS, A), "CVodeSetLinearSolver");
            check(CVodeSetJacFn(cvode, sparse ? jac_sparse : jac_dense), "CVodeSetJacFn");
            check(CVodeSetMaxNumSteps(cvode, max_steps), "CVodeSetMaxNumSteps");
            check(CVodeSStolerances(cvode, rtol, atol), "CVodeSStolerances");
            initialised = 1;
        } else {
            check(CVodeReInit(cvode, t_start, y), "CVodeReInit");
        }
        double t = t_start;
        for (long r = 0; r < points; r++) {
            double tout = bench_output_time(t_start, t_end, r, points);
            if (tout > t) {
                sunrealtype tret;
                check(CVodeSetStopTime(cvode, t_end), "CVodeSetStopTime");
                check(CVode(cvode, tout, y, &tret, CV_NORMAL), "CVode");
                t = tout;
            }
            memcpy(rows + (size_t)r * (size_t)m->n, N_VGetArrayPointer(y),
                   sizeof(double) * (size_t)m->n);
        }
        double dt = bench_now() - c0;
        if (reps == 0)
            first_s = dt;
        times[reps++] = dt;
        spent += dt;
    }
    long steps = 0, nfe = 0, nje = 0, nsetups = 0, netf = 0, nncf = 0;
    CVodeGetNumSteps(cvode, &steps);
    CVodeGetNumRhsEvals(cvode, &nfe);
    CVodeGetNumJacEvals(cvode, &nje);
    CVodeGetNumLinSolvSetups(cvode, &nsetups);
    CVodeGetNumErrTestFails(cvode, &netf);
    CVodeGetNumNonlinSolvConvFails(cvode, &nncf);
    if (out) {
        FILE *f = fopen(out, "w");
        if (!f) {
            perror(out);
            return 1;
        }
        fprintf(f, "time");
        for (int i = 0; i < m->n; i++)
            fprintf(f, ",%s", m->state_names[i]);
        fprintf(f, "\n");
        for (long r = 0; r < points; r++) {
            fprintf(f, "%.17g", bench_output_time(t_start, t_end, r, points));
            for (int i = 0; i < m->n; i++)
                fprintf(f, ",%.17g", rows[(size_t)r * (size_t)m->n + (size_t)i]);
            fprintf(f, "\n");
        }
        fclose(f);
    }
    double min = times[0];
    for (int k = 1; k < reps; k++)
        if (times[k] < min)
            min = times[k];
    double median = bench_median(times, reps);
    printf("{\"tool\": \"handc\", \"model\": \"%s\", \"states\": %d, \"first_s\": %.6g, "
           "\"sim_min_s\": %.6g, \"sim_median_s\": %.6g, \"reps\": %d, \"steps\": %ld, "
           "\"rhs\": %ld, \"jac\": %ld, \"setups\": %ld, \"etf\": %ld, \"nlf\": %ld, "
           "\"sparse\": %d, \"peak_rss_kib\": %ld, \"rtol\": %g, \"atol\": %g}\n",
           m->name, m->n, first_s, min, median, reps, steps, nfe, nje, nsetups, netf, nncf,
           sparse, bench_peak_rss_kib(), rtol, atol);
    CVodeFree(&cvode);
    SUNLinSolFree(LS);
    SUNMatDestroy(A);
    N_VDestroy(y);
    SUNContext_Free(&ctx);
    free(rows);
    free(times);
    free(p);
    free(y0);
    return 0;
}

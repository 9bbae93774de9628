/*
 * Driving CVODE: BDF with Newton iteration, the compiled right-hand side
 * and analytic Jacobian, dense or KLU linear algebra. Simulations run on
 * CVODE, forward sensitivities on CVODES (its superset), each called
 * through its table of functions (cvode_api.h): the two export the same
 * names, and the static build links a renamed copy of CVODES.
 *
 * Every handle starts NULL, every setup call is checked, and objects are
 * freed in reverse order with the SUNContext last (cvRoberts_dns.c).
 * SUNDIALS version differences stay in this file.
 */
#include <math.h>
#include <stdarg.h>
#include <nvector/nvector_serial.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunlinsol/sunlinsol_klu.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunmatrix/sunmatrix_sparse.h>

#include "cvode_api.h"
#include "lapack_dense.h"
#include "solver.h"

#if SUNDIALS_VERSION_MAJOR < 6
#error "sigode needs SUNDIALS 6 or later"
#endif
#if SUNDIALS_VERSION_MAJOR >= 7
#define SG_SUN_COMM SUN_COMM_NULL
#else
#define SG_SUN_COMM NULL
#endif

/* KLU's Common.ordering: 0 AMD, 1 COLAMD (SUNDIALS' default) */
enum { KLU_ORDERING_AMD = 0 };

#if defined(SUNDIALS_INT64_T)
#define sg_klu_flops klu_l_flops
#else
#define sg_klu_flops klu_flops
#endif

/* The automatic step rule (sg_options.step_growth_min = 0) with KLU: when
 * one refactorisation costs more than this many solves with its factors,
 * the step size is held until it could grow SG_KLU_HELD_STEP_GROWTH-fold.
 * Each change of step size changes CVODE's gamma, and a change of more
 * than 30% asks for a new factorisation; holding the step trades a few
 * more (cheap) steps for fewer (dear) factorisations. On BioNetGen's
 * fceri_ji (354 species, L+U nearly dense in its coupled blocks) one
 * refactorisation costs about 47 solves: 544 -> 743 steps, 58 -> 31
 * setups, a third less time. The generated networks (6.7 nonzeros per row
 * of L+U) cost about 3 solves and keep CVODE's rule. */
#define SG_KLU_DEAR_FACTOR_SOLVES 20.0
#define SG_KLU_HELD_STEP_GROWTH 3.0

struct sg_solver {
    const sg_program *prog;
    const char *const *names;
    sg_options opt;
    int n;
    int sparse;
    int lapack_lu;       /* dense path: LAPACK's dgetrf/dgetrs (OpenBLAS), not SUNDIALS' LU */
    int initialised;     /* CVodeInit done */
    int step_rule_pending; /* automatic step rule: decide after KLU's first factorisation */
    double *v;           /* value slots */
    double *st_scaled;
    double *jt_scaled;
    double *jac_values;  /* dense path: nnz values before scattering */
    SUNContext ctx;
    N_Vector y;
    SUNMatrix A;
    SUNLinearSolver LS;
    void *cvode;
    const sg_cvode_api *cv; /* the library cvode is from: CVODE, or CVODES with ns > 0 */
    /* forward sensitivities (sg_solver_sens_enable), ns = 0 without */
    int ns;
    N_Vector *yS;
    sg_sens_rhs_fn sens_fn;
    void *sens_ctx;
    int sens_initialised;
    int bad_state;       /* last state with a non-finite derivative, -1 */
    double bad_time;
    char cvode_message[256];
    /* what CVODE said during the current call, and warnings for the user */
    int call_error;      /* an error message (code < 0), whatever CVode returned */
    int no_progress;     /* "t + h = t": the step fell below the time resolution */
    int fresh;           /* (re)started and not yet advanced */
    double t_start;
    /* delay(x, tau) models: the history of each x, filled step by step */
    sg_delay_history *hist;
    N_Vector ytmp;
    char **warnings;
    int nwarnings;
    size_t warnings_cap;
    long warnings_unkept;
};

/* Warnings kept per run; the count of the rest is reported. */
#define SG_SOLVER_MAX_WARNINGS 20

/* The cost of one KLU factorisation in solves with its factors, once the
 * first has been made; 0 before. */
static double klu_factor_solves(sg_solver *s)
{
    sun_klu_symbolic *symbolic = SUNLinSol_KLUGetSymbolic(s->LS);
    sun_klu_numeric *numeric = SUNLinSol_KLUGetNumeric(s->LS);
    sun_klu_common *common = SUNLinSol_KLUGetCommon(s->LS);
    if (!symbolic || !numeric || !common || !sg_klu_flops(symbolic, numeric, common))
        return 0.0;
    /* a solve: one multiply-add per entry of L, U and the off-diagonal blocks */
    double solve = 2.0 * ((double)numeric->lnz + (double)numeric->unz + (double)numeric->nzoff);
    return solve > 0 ? common->flops / solve : 0.0;
}

/* Called from the right-hand side, the first callback after the linear
 * solver's setup: CVODE has no hook of its own after a factorisation. */
static void decide_step_rule(sg_solver *s)
{
    double factor_solves = klu_factor_solves(s);
    if (factor_solves <= 0)
        return; /* not factorised yet */
    s->step_rule_pending = 0;
    if (factor_solves > SG_KLU_DEAR_FACTOR_SOLVES &&
        s->cv->SetEtaFixedStepBounds(s->cvode, 0.0, SG_KLU_HELD_STEP_GROWTH) != CV_SUCCESS)
        sg_solver_add_warning(s, "could not hold the step size (KLU factorisation = %.0f solves)",
                              factor_solves);
}

/* The callbacks read the vectors' arrays with NV_DATA_S: every vector
 * here is s->y's (serial) or a clone, and N_VGetArrayPointer's call
 * through the vector's operations was 1% of a small model's run. */
static int rhs(sunrealtype t, N_Vector y, N_Vector ydot, void *user)
{
    sg_solver *s = user;
    if (s->step_rule_pending)
        decide_step_rule(s);
    int bad = sg_program_rhs(s->prog, t, NV_DATA_S(y), NV_DATA_S(ydot),
                             s->v, s->st_scaled);
    if (s->n == 0)
        NV_DATA_S(ydot)[0] = 0.0; /* the stand-in state of a model without any */
    if (sg_delay_history_error(s->hist))
        return -1; /* a negative delay: no step size helps */
    if (bad >= 0) {
        s->bad_state = bad;
        s->bad_time = t;
        return 1; /* recoverable: CVODE retries with a smaller step */
    }
    return 0;
}

static int roots(sunrealtype t, N_Vector y, sunrealtype *g, void *user)
{
    sg_solver *s = user;
    sg_program_roots(s->prog, t, NV_DATA_S(y), g, s->v);
    return 0;
}

static int jacobian(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *user,
                    N_Vector tmp1, N_Vector tmp2, N_Vector tmp3)
{
    (void)fy;
    (void)tmp1;
    (void)tmp2;
    (void)tmp3;
    sg_solver *s = user;
    const sg_program *p = s->prog;
    if (s->n == 0) { /* the stand-in state: dy/dt = 0 */
        if (s->sparse) {
            SUNSparseMatrix_IndexPointers(J)[0] = SUNSparseMatrix_IndexPointers(J)[1] = 0;
        } else {
            SUNDenseMatrix_Data(J)[0] = 0.0;
        }
        return 0;
    }
    if (s->sparse) {
        sunindextype *colptr = SUNSparseMatrix_IndexPointers(J);
        sunindextype *rowidx = SUNSparseMatrix_IndexValues(J);
        for (int j = 0; j <= s->n; j++)
            colptr[j] = p->jac_colptr[j];
        for (int e = 0; e < p->nnz; e++)
            rowidx[e] = p->jac_rowidx[e];
        sg_program_jacobian(p, t, NV_DATA_S(y), SUNSparseMatrix_Data(J), s->v,
                            s->jt_scaled);
    } else {
        sg_program_jacobian(p, t, NV_DATA_S(y), s->jac_values, s->v, s->jt_scaled);
        sunrealtype *data = SUNDenseMatrix_Data(J);
        memset(data, 0, sizeof *data * (size_t)s->n * (size_t)s->n);
        for (int j = 0; j < s->n; j++)
            for (int e = p->jac_colptr[j]; e < p->jac_colptr[j + 1]; e++)
                data[(size_t)j * (size_t)s->n + (size_t)p->jac_rowidx[e]] = s->jac_values[e];
    }
    for (int e = 0; e < p->nnz; e++) {
        double value = s->sparse ? SUNSparseMatrix_Data(J)[e] : s->jac_values[e];
        if (!isfinite(value))
            return 1; /* recoverable, like a non-finite derivative */
    }
    return 0;
}

static int sens_rhs(int ns, sunrealtype t, N_Vector y, N_Vector ydot, N_Vector *yS,
                    N_Vector *ySdot, void *user, N_Vector tmp1, N_Vector tmp2)
{
    (void)tmp1;
    (void)tmp2;
    sg_solver *s = user;
    double *sv[ns > 0 ? ns : 1], *sdot[ns > 0 ? ns : 1];
    for (int k = 0; k < ns; k++) {
        sv[k] = N_VGetArrayPointer(yS[k]);
        sdot[k] = N_VGetArrayPointer(ySdot[k]);
    }
    return s->sens_fn(s->sens_ctx, t, N_VGetArrayPointer(y), N_VGetArrayPointer(ydot), ns,
                      (const double *const *)sv, sdot);
}

void sg_solver_add_warning(sg_solver *s, const char *fmt, ...)
{
    if (s->nwarnings >= SG_SOLVER_MAX_WARNINGS ||
        sg_grow(&s->warnings, &s->warnings_cap, (size_t)s->nwarnings + 1,
                sizeof *s->warnings) != 0) {
        s->warnings_unkept++;
        return;
    }
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t len = strlen(text);
    char *copy = sg_malloc(len + 1);
    if (!copy) {
        s->warnings_unkept++;
        return;
    }
    memcpy(copy, text, len + 1);
    s->warnings[s->nwarnings++] = copy;
}

void sg_solver_clear_warnings(sg_solver *s)
{
    for (int i = 0; i < s->nwarnings; i++)
        sg_free(s->warnings[i]);
    s->nwarnings = 0;
    s->warnings_unkept = 0;
}

int sg_solver_warning_count(const sg_solver *s) { return s->nwarnings + (s->warnings_unkept > 0); }

const char *sg_solver_warning(sg_solver *s, int i)
{
    if (i < s->nwarnings)
        return s->warnings[i];
    snprintf(s->cvode_message, sizeof s->cvode_message, "%ld more warnings not shown",
             s->warnings_unkept);
    return s->cvode_message;
}

/* CVODE would print its messages to stderr; the library keeps the last
 * one for an error message, and passes warnings on to the caller. An error
 * reported inside a call that still returns success (CVodeGetDky's "Illegal
 * value for t" when CVode could not step) makes that call fail. */
static void keep_message(int code, const char *module, const char *function, char *msg,
                         void *user)
{
    (void)module;
    sg_solver *s = user;
    snprintf(s->cvode_message, sizeof s->cvode_message, "%s", msg);
    if (code < 0)
        s->call_error = 1;
    else
        sg_solver_add_warning(s, "CVODE (%s): %s", function, msg);
    if (strstr(msg, "t + h = t"))
        s->no_progress = 1;
}

/* s->cvode from library `cv` (replacing one from the other, before the
 * first start: creating it and its error handler is all done to it
 * until then). 0, or -1 (s->cvode NULL: the creation failed). */
static int create_cvode(sg_solver *s, const sg_cvode_api *cv)
{
    if (s->cvode)
        s->cv->Free(&s->cvode);
    s->cv = cv;
    s->cvode = cv->Create(CV_BDF, s->ctx);
    if (!s->cvode || cv->SetErrHandlerFn(s->cvode, keep_message, s) != CV_SUCCESS)
        return -1;
    return 0;
}

void sg_solver_free(sg_solver *s)
{
    if (!s)
        return;
    if (s->cvode)
        s->cv->Free(&s->cvode);
    sg_delay_history_free(s->hist);
    if (s->ytmp)
        N_VDestroy(s->ytmp);
    if (s->yS)
        N_VDestroyVectorArray(s->yS, s->ns);
    if (s->LS)
        SUNLinSolFree(s->LS);
    if (s->A)
        SUNMatDestroy(s->A);
    if (s->y)
        N_VDestroy(s->y);
    if (s->ctx)
        SUNContext_Free(&s->ctx);
    sg_free(s->v);
    sg_free(s->st_scaled);
    sg_free(s->jt_scaled);
    sg_free(s->jac_values);
    sg_solver_clear_warnings(s);
    sg_free(s->warnings);
    sg_free(s);
}

static sg_status setup_failed(sg_solver *s, sg_error *err, const char *what)
{
    sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0, "could not set up CVODE (%s)%s%s", what,
                 s->cvode_message[0] ? ": " : "", s->cvode_message);
    sg_solver_free(s);
    return SG_ERR_SOLVER;
}

sg_solver *sg_solver_create(const sg_program *prog, const char *const *state_names,
                            const sg_options *opt, sg_error *err)
{
    sg_solver *s = sg_calloc(1, sizeof *s);
    if (!s) {
        sg_error_nomem(err);
        return NULL;
    }
    s->prog = prog;
    s->names = state_names;
    s->opt = *opt;
    s->n = prog->nstate;
    s->bad_state = -1;
    s->sparse = opt->linear_solver == SG_LINSOL_KLU ||
                (opt->linear_solver == SG_LINSOL_AUTO && s->n > SG_DENSE_MAX_STATES);
    size_t nst = (size_t)prog->st_start[prog->nstate];
    size_t njt = (size_t)prog->jt_start[prog->nnz];
    s->v = sg_malloc(sizeof(double) * (size_t)prog->nslots);
    s->st_scaled = sg_malloc(sizeof(double) * (nst + 1));
    s->jt_scaled = sg_malloc(sizeof(double) * (njt + 1));
    s->jac_values = sg_malloc(sizeof(double) * ((size_t)prog->nnz + 1));
    if (!s->v || !s->st_scaled || !s->jt_scaled || !s->jac_values) {
        sg_solver_free(s);
        sg_error_nomem(err);
        return NULL;
    }
    memcpy(s->v, prog->base, sizeof(double) * (size_t)prog->nslots);
    if (SUNContext_Create(SG_SUN_COMM, &s->ctx) != 0) {
        s->ctx = NULL;
        setup_failed(s, err, "SUNContext_Create");
        return NULL;
    }
    /* a system without states still needs a vector of length >= 1 */
    sunindextype n = s->n > 0 ? s->n : 1;
    s->y = N_VNew_Serial(n, s->ctx);
    if (!s->y) {
        setup_failed(s, err, "N_VNew_Serial");
        return NULL;
    }
    N_VConst(0.0, s->y);
    /* CVODE then updates its history arrays in one call per step, not one
     * per vector (SUNDIALS' fused operations; the same arithmetic in the
     * same order, so the same numbers); CVodeInit clones this vector */
    if (N_VEnableFusedOps_Serial(s->y, SUNTRUE) != 0) {
        setup_failed(s, err, "N_VEnableFusedOps_Serial");
        return NULL;
    }
    if (prog->ndelays > 0 &&
        (!(s->hist = sg_delay_history_create(prog)) || !(s->ytmp = N_VClone(s->y)))) {
        sg_solver_free(s);
        sg_error_nomem(err);
        return NULL;
    }
    if (s->sparse) {
        s->A = SUNSparseMatrix(n, n, prog->nnz > 0 ? prog->nnz : 1, CSC_MAT, s->ctx);
        if (s->A)
            s->LS = SUNLinSol_KLU(s->y, s->A, s->ctx);
        /* AMD, not SUNDIALS' default COLAMD: reaction networks' Jacobians
         * are close to structurally symmetric, and on the generated networks
         * AMD leaves about 20% fewer nonzeros in L+U (0.41M vs 0.51M at 30,000
         * species), 5-10% less time per step */
        if (s->LS && SUNLinSol_KLUSetOrdering(s->LS, KLU_ORDERING_AMD) != SUNLS_SUCCESS) {
            SUNLinSolFree(s->LS);
            s->LS = NULL;
        }
    } else {
        s->A = SUNDenseMatrix(n, n, s->ctx);
        /* OpenBLAS's blocked LU where it pays (lapack_dense.h); SUNDIALS'
         * skips zero multipliers, which wins on a Jacobian that stays
         * sparse (Chen 2009: 504 states, 2x faster than OpenBLAS) */
        const sg_lapack *lapack =
            s->A ? sg_lapack_dense_choice(s->n, prog->jac_colptr, prog->jac_rowidx) : NULL;
        if (lapack) {
            if (!(s->LS = sg_lapack_dense_create(lapack, s->y, s->A, s->ctx))) {
                sg_solver_free(s);
                sg_error_nomem(err);
                return NULL;
            }
            s->lapack_lu = 1;
        } else if (s->A) {
            s->LS = SUNLinSol_Dense(s->y, s->A, s->ctx);
        }
    }
    if (!s->A || !s->LS) {
        setup_failed(s, err, s->sparse ? "KLU sparse solver" : "dense solver");
        return NULL;
    }
    if (create_cvode(s, &sg_cvode_plain) != 0) {
        setup_failed(s, err, s->cvode ? "CVodeSetErrHandlerFn" : "CVodeCreate");
        return NULL;
    }
    return s;
}

const char *sg_solver_library(const sg_solver *s) { return s->cv->library; }

double *sg_solver_values(sg_solver *s) { return s->v; }

/* A model without states still runs CVODE when its events have roots to
 * find (sin(time) > 0.5 changing a parameter), or when it has delays (their
 * history is recorded step by step): on one stand-in state with dy/dt = 0,
 * so the root finding sees time advance. */
static int integrates(const sg_solver *s)
{
    return s->n > 0 || s->prog->nroots > 0 || s->prog->ndelays > 0;
}

sg_status sg_solver_begin_history(sg_solver *s, double t0, sg_error *err)
{
    const sg_program *p = s->prog;
    sg_delay_use(s->hist);
    if (!s->hist)
        return SG_OK;
    sg_delay_history_clear(s->hist);
    sg_program_scale(p, s->v, s->st_scaled, s->jt_scaled);
    s->v[p->time_slot] = t0;
    sg_program_exec(p, 0, p->n_roots, s->v);
    if (sg_delay_history_add(s->hist, t0, s->v) != 0)
        return sg_error_nomem(err);
    return SG_OK;
}

void sg_solver_set_past(sg_solver *s, sg_delay_past_fn fn, void *ctx)
{
    if (s->hist)
        sg_delay_history_set_past(s->hist, fn, ctx);
}

static sg_status delay_failed(sg_solver *s, sg_error *err)
{
    sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0, "%s", sg_delay_history_error(s->hist));
    return SG_ERR_SOLVER;
}

/* A (re)start at t0 with the values in s->v: the history keeps what lies
 * before t0 and gets the point at t0. After a root inside a step, the
 * points beyond it go, and x just before t0 is kept as a point of its own,
 * so that an event's change is a jump, not a slope. The steps are capped at
 * the shortest delay: a lookup then lies in the history already made. */
static int restart_history(sg_solver *s, double t0)
{
    const sg_program *p = s->prog;
    sg_delay_history *h = s->hist;
    if (sg_delay_history_count(h) > 0 && sg_delay_history_last(h) > t0) {
        double *before = sg_malloc(sizeof(double) * (size_t)p->nslots);
        if (!before)
            return -1;
        memcpy(before, s->v, sizeof(double) * (size_t)p->nslots);
        before[p->time_slot] = t0;
        for (int k = 0; k < p->ndelays; k++) /* x at t0 as the history has it */
            before[p->delay_x_slot[k]] = sg_delay_lookup(k, s->v[p->delay_x_slot[k]], 0.0, before);
        sg_delay_history_cut(h, t0);
        int rc = sg_delay_history_add(h, t0, before);
        sg_free(before);
        if (rc != 0)
            return -1;
    }
    sg_program_exec(p, 0, p->n_roots, s->v);
    if (sg_delay_history_add(h, t0, s->v) != 0)
        return -1;
    /* An x of states only is as exact as CVODE's steps. An x that also
     * changes with time alone (sin(10 * time)) is not in CVODE's error
     * test: at least 8 steps (32 points) per delay keep its history close
     * (1e-6 for a sine over a tenth of its period). */
    double shortest = INFINITY;
    for (int k = 0; k < p->ndelays; k++) {
        double cap = s->v[p->delay_tau_slot[k]] / (p->delay_timed[k] ? 8 : 1);
        if (cap > 0 && cap < shortest)
            shortest = cap;
    }
    if (s->cv->SetMaxStep(s->cvode, isfinite(shortest) ? shortest : 0.0) != CV_SUCCESS)
        return -1;
    return 0;
}

sg_status sg_solver_start(sg_solver *s, double t0, sg_error *err)
{
    const sg_program *p = s->prog;
    sg_delay_use(s->hist);
    sg_program_scale(p, s->v, s->st_scaled, s->jt_scaled);
    if (s->n > 0)
        memcpy(N_VGetArrayPointer(s->y), s->v, sizeof(double) * (size_t)s->n);
    s->bad_state = -1;
    s->v[p->time_slot] = t0;
    sg_program_exec(p, 0, p->n_assign, s->v);
    if (!integrates(s))
        return SG_OK; /* nothing to integrate: only inputs and assignments */
    int flag;
    const char *what;
    if (!s->initialised) {
        what = "CVodeInit";
        flag = s->cv->Init(s->cvode, rhs, t0, s->y);
        if (flag == CV_SUCCESS) {
            s->initialised = 1;
            what = "CVodeSetUserData";
            flag = s->cv->SetUserData(s->cvode, s);
        }
        if (flag == CV_SUCCESS) {
            what = "CVodeSetLinearSolver";
            flag = s->cv->SetLinearSolver(s->cvode, s->LS, s->A);
        }
        if (flag == CV_SUCCESS) {
            what = "CVodeSetJacFn";
            flag = s->cv->SetJacFn(s->cvode, jacobian);
        }
        if (flag == CV_SUCCESS) {
            what = "CVodeSetMaxNumSteps";
            flag = s->cv->SetMaxNumSteps(s->cvode, s->opt.max_steps);
        }
        if (flag == CV_SUCCESS) {
            what = "CVodeSStolerances";
            flag = s->cv->SStolerances(s->cvode, s->opt.rtol, s->opt.atol);
        }
        if (flag == CV_SUCCESS) {
            /* fewer KLU refactorisations; a stale matrix only slows Newton's
             * convergence, whose failures still force a setup, and the
             * error test is unchanged */
            long every = s->opt.lsetup_every > 0 ? s->opt.lsetup_every
                         : s->sparse             ? SG_KLU_LSETUP_EVERY
                                                 : 0; /* 0: CVODE's default */
            what = "CVodeSetLSetupFrequency";
            flag = s->cv->SetLSetupFrequency(s->cvode, every);
        }
        if (flag == CV_SUCCESS && s->opt.step_growth_min > 0) {
            what = "CVodeSetEtaFixedStepBounds";
            flag = s->cv->SetEtaFixedStepBounds(s->cvode, 0.0, s->opt.step_growth_min);
        } else if (flag == CV_SUCCESS) {
            s->step_rule_pending = s->sparse;
        }
        if (flag == CV_SUCCESS && p->nroots > 0) {
            what = "CVodeRootInit";
            flag = s->cv->RootInit(s->cvode, p->nroots, roots);
        }
    } else {
        what = "CVodeReInit";
        flag = s->cv->ReInit(s->cvode, t0, s->y);
    }
    if (flag == CV_SUCCESS && s->ns > 0) {
        if (!s->sens_initialised) {
            what = "CVodeSensInit";
            flag = s->cv->SensInit(s->cvode, s->ns, CV_STAGGERED, sens_rhs, s->yS);
            if (flag == CV_SUCCESS) {
                s->sens_initialised = 1;
                what = "CVodeSetSensErrCon";
                flag = s->cv->SetSensErrCon(s->cvode, SUNTRUE);
            }
            if (flag == CV_SUCCESS) {
                sunrealtype atol[s->ns];
                for (int k = 0; k < s->ns; k++)
                    atol[k] = s->opt.atol;
                what = "CVodeSensSStolerances";
                flag = s->cv->SensSStolerances(s->cvode, s->opt.rtol, atol);
            }
        } else {
            what = "CVodeSensReInit";
            flag = s->cv->SensReInit(s->cvode, CV_STAGGERED, s->yS);
        }
    }
    if (flag != CV_SUCCESS) {
        char *name = s->cv->GetReturnFlagName(flag); /* malloc'd by SUNDIALS */
        sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0, "%s failed at t = %.17g: %s%s%s", what,
                     t0, name ? name : "?", s->cvode_message[0] ? ": " : "",
                     s->cvode_message);
        free(name);
        if (err) {
            err->time = t0;
            err->flag = flag;
        }
        return SG_ERR_SOLVER;
    }
    if (s->hist && restart_history(s, t0) != 0)
        return sg_error_nomem(err);
    if (sg_delay_history_error(s->hist))
        return delay_failed(s, err);
    s->fresh = 1;
    s->t_start = t0;
    return SG_OK;
}

void sg_solver_update_assignments(sg_solver *s, double t)
{
    sg_delay_use(s->hist);
    s->v[s->prog->time_slot] = t;
    sg_program_exec(s->prog, 0, s->prog->n_rhs, s->v); /* rates too (outputs) */
}

/* Names the state most to blame for a failure: a non-finite derivative if
 * one was seen, else the largest weighted local error estimate. */
static void blame(sg_solver *s, char *buf, size_t size)
{
    buf[0] = '\0';
    if (s->bad_state >= 0) {
        snprintf(buf, size, "; the derivative of '%s' was not finite at t = %.17g",
                 s->names[s->bad_state], s->bad_time);
        return;
    }
    N_Vector w = N_VClone(s->y), e = N_VClone(s->y);
    if (w && e && s->cv->GetErrWeights(s->cvode, w) == CV_SUCCESS &&
        s->cv->GetEstLocalErrors(s->cvode, e) == CV_SUCCESS) {
        double *wd = N_VGetArrayPointer(w), *ed = N_VGetArrayPointer(e);
        int worst = -1;
        double most = -1;
        for (int i = 0; i < s->n; i++) {
            double x = fabs(wd[i] * ed[i]);
            if (!isfinite(x))
                x = INFINITY;
            if (x > most) {
                most = x;
                worst = i;
            }
        }
        if (worst >= 0)
            snprintf(buf, size, "; largest weighted error in '%s' (value %.6g)",
                     s->names[worst], N_VGetArrayPointer(s->y)[worst]);
    }
    if (w)
        N_VDestroy(w);
    if (e)
        N_VDestroy(e);
}

/* Records the step CVODE just took into the history: its end and three
 * points inside, from CVODE's own interpolant, each with x computed by the
 * program. -1 without memory. */
static int record_step(sg_solver *s)
{
    const sg_program *p = s->prog;
    sunrealtype tn = 0, hu = 0;
    if (s->cv->GetCurrentTime(s->cvode, &tn) != CV_SUCCESS ||
        s->cv->GetLastStep(s->cvode, &hu) != CV_SUCCESS)
        return 0;
    double from = fmax(sg_delay_history_last(s->hist), tn - fabs(hu));
    if (!(tn > from))
        return 0;
    for (int j = 1; j <= 4; j++) {
        double t = j < 4 ? from + (tn - from) * j / 4.0 : tn;
        if (s->cv->GetDky(s->cvode, t, 0, s->ytmp) != CV_SUCCESS)
            continue;
        memcpy(s->v, N_VGetArrayPointer(s->ytmp), sizeof(double) * (size_t)s->n);
        s->v[p->time_slot] = t;
        sg_program_exec(p, 0, p->n_roots, s->v);
        if (sg_delay_history_add(s->hist, t, s->v) != 0)
            return -1;
    }
    return 0;
}

/* CVode(tout, CV_NORMAL) for delay models: one step at a time, each one
 * recorded before the next (whose right-hand side may read it). Once CVODE
 * has stepped to or past tout, a CV_NORMAL call interpolates there and
 * reports the roots before it, without another step. */
static int step_to(sg_solver *s, double tout, sunrealtype *tret)
{
    for (long steps = 0;; steps++) {
        sunrealtype tn = 0;
        if (s->cv->GetCurrentTime(s->cvode, &tn) == CV_SUCCESS && tn >= tout) {
            return s->cv->Run(s->cvode, tout, s->y, tret, CV_NORMAL);
        }
        if (steps >= s->opt.max_steps) {
            snprintf(s->cvode_message, sizeof s->cvode_message,
                     "at t = %.10g, mxstep steps taken before reaching tout", tn);
            return CV_TOO_MUCH_WORK;
        }
        int flag = s->cv->Run(s->cvode, tout, s->y, tret, CV_ONE_STEP);
        if (flag < 0)
            return flag;
        if (record_step(s) != 0)
            return CV_MEM_FAIL;
        if (sg_delay_history_error(s->hist))
            return CV_RHSFUNC_FAIL;
        if (flag == CV_ROOT_RETURN)
            return flag;
    }
}

sg_status sg_solver_advance(sg_solver *s, double tout, double tstop, sg_error *err)
{
    double reached;
    int root;
    return sg_solver_advance_roots(s, tout, tstop, &reached, &root, err);
}

sg_status sg_solver_advance_roots(sg_solver *s, double tout, double tstop, double *reached,
                                  int *root, sg_error *err)
{
    const sg_program *p = s->prog;
    sg_delay_use(s->hist);
    *reached = tout;
    *root = 0;
    if (integrates(s)) {
        sunrealtype tret = 0;
        s->call_error = s->no_progress = 0;
        /* One step at a time (delays), CVODE stops at tout itself: in
         * CV_ONE_STEP mode it reports a root anywhere in its step, also
         * beyond tout, and would not report it again. */
        int flag = s->cv->SetStopTime(s->cvode, s->hist ? tout : tstop);
        /* CVODE's first step after a (re)start is at least 100 unit roundoffs
         * of |tout| (cvHin): asked for t = 1e60 from 0, it starts near 1e18,
         * far beyond a model's time scale, and its error test accepted all
         * species at 0 (mass lost, issue 12.7). A first stretch of at most
         * 1e6 x max(|t0|, 1) keeps that first step small; the steps then
         * grow by themselves. */
        double first = s->t_start + 1e6 * fmax(fabs(s->t_start), 1.0);
        if (flag == CV_SUCCESS && s->fresh && tout > first && !s->hist)
            flag = s->cv->Run(s->cvode, first, s->y, &tret, CV_NORMAL);
        s->fresh = 0;
        if (flag == CV_SUCCESS)
            flag = s->hist ? step_to(s, tout, &tret)
                           : s->cv->Run(s->cvode, tout, s->y, &tret, CV_NORMAL);
        if (sg_delay_history_error(s->hist))
            return delay_failed(s, err);
        if (flag == CV_ROOT_RETURN) {
            *root = 1;
            *reached = tout = tret;
        }
        sunrealtype tcur = tret;
        if (flag >= 0 && s->cv->GetCurrentTime(s->cvode, &tcur) == CV_SUCCESS &&
            (s->call_error || s->no_progress || tcur < tret)) {
            /* CVode returned success but did not get there */
            sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                         "CVODE could not advance from t = %.10g to %.10g (the step size fell "
                         "below the time resolution)%s%s",
                         tcur, tout, s->cvode_message[0] ? ": " : "", s->cvode_message);
            if (err) {
                err->time = tcur;
                err->flag = flag;
            }
            return SG_ERR_SOLVER;
        }
        if (flag < 0) {
            s->cv->GetCurrentTime(s->cvode, &tcur);
            char who[300];
            blame(s, who, sizeof who);
            char *name = s->cv->GetReturnFlagName(flag); /* malloc'd by SUNDIALS */
            sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                         "CVODE failed at t = %.10g with %s%s%s%s", tcur, name ? name : "?",
                         who, s->cvode_message[0] ? ": " : "", s->cvode_message);
            free(name);
            if (err) {
                err->time = tcur;
                err->flag = flag;
            }
            return SG_ERR_SOLVER;
        }
        memcpy(s->v, N_VGetArrayPointer(s->y), sizeof(double) * (size_t)s->n);
        if (s->ns > 0 && (flag = s->cv->GetSens(s->cvode, &tret, s->yS)) != CV_SUCCESS) {
            sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                         "CVodeGetSens failed at t = %.10g (flag %d)", tout, flag);
            return SG_ERR_SOLVER;
        }
    }
    s->v[p->time_slot] = tout;
    sg_program_exec(p, 0, p->n_rhs, s->v); /* reaction rates too: they may be outputs */
    return SG_OK;
}

sg_status sg_solver_sens_enable(sg_solver *s, int ns, sg_sens_rhs_fn fn, void *ctx,
                                sg_error *err)
{
    if (s->ns > 0 || s->initialised || ns <= 0)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "sensitivities must be enabled once, before the first start");
    if (s->cv != &sg_cvode_sens && create_cvode(s, &sg_cvode_sens) != 0)
        return sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0, "could not set up CVODES%s%s",
                            s->cvode_message[0] ? ": " : "", s->cvode_message);
    s->yS = N_VCloneVectorArray(ns, s->y);
    if (!s->yS)
        return sg_error_nomem(err);
    for (int k = 0; k < ns; k++)
        N_VConst(0.0, s->yS[k]);
    s->ns = ns;
    s->sens_fn = fn;
    s->sens_ctx = ctx;
    return SG_OK;
}

double *sg_solver_sens_vector(sg_solver *s, int k) { return N_VGetArrayPointer(s->yS[k]); }

int sg_solver_roots_found(sg_solver *s, int *found)
{
    if (s->prog->nroots == 0 || s->cv->GetRootInfo(s->cvode, found) != CV_SUCCESS)
        return -1;
    return 0;
}

int sg_solver_derivatives(sg_solver *s, double t, double *ydot)
{
    sg_delay_use(s->hist);
    double *y = sg_malloc(sizeof(double) * ((size_t)s->n + 1));
    if (!y)
        return -2;
    memcpy(y, s->v, sizeof(double) * (size_t)s->n);
    int bad = sg_program_rhs(s->prog, t, y, ydot, s->v, s->st_scaled);
    memcpy(s->v, y, sizeof(double) * (size_t)s->n);
    sg_solver_update_assignments(s, t);
    sg_free(y);
    return bad;
}

void sg_solver_stats(const sg_solver *s, sg_stats *st)
{
    memset(st, 0, sizeof *st);
    st->sparse = s->sparse;
    st->lapack_lu = s->lapack_lu;
    if (!s->initialised)
        return;
    s->cv->GetNumSteps(s->cvode, &st->steps);
    s->cv->GetNumRhsEvals(s->cvode, &st->rhs_evals);
    s->cv->GetNumJacEvals(s->cvode, &st->jac_evals);
    s->cv->GetNumLinSolvSetups(s->cvode, &st->lin_setups);
    s->cv->GetNumErrTestFails(s->cvode, &st->err_test_fails);
    s->cv->GetNumNonlinSolvConvFails(s->cvode, &st->nonlin_fails);
}

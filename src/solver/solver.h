/*
 * CVODE behind a small interface: the only module that includes SUNDIALS.
 * One SUNContext per solver; nothing global, so solvers coexist in one
 * process and in several threads.
 */
#ifndef SG_SOLVER_H
#define SG_SOLVER_H

#include "../compile/program.h"

typedef struct sg_solver sg_solver;

/* `state_names` (nstate ids, borrowed) are used in failure messages. */
sg_solver *sg_solver_create(const sg_program *prog, const char *const *state_names,
                            const sg_options *opt, sg_error *err);
void sg_solver_free(sg_solver *solver);

/* The SUNDIALS library the solver integrates with: "CVODE", or "CVODES"
 * once sensitivities are enabled (and always with Debian's shared
 * libraries, where only CVODES is linked; solver/cvode_api.h). */
const char *sg_solver_library(const sg_solver *solver);

/* The value slots the program runs on (owned by the solver). Callers set
 * parameters and states here, then call sg_solver_start. */
double *sg_solver_values(sg_solver *solver);

/* (Re)starts integration at t0 from the states in the value slots,
 * picking up changed compartment sizes and parameters. */
sg_status sg_solver_start(sg_solver *solver, double t0, sg_error *err);

/* Integrates to `tout`, never stepping past `tstop` (an event or the end;
 * tstop >= tout). On success the value slots hold the states, the time and
 * the assignments at tout. */
sg_status sg_solver_advance(sg_solver *solver, double tout, double tstop, sg_error *err);

/* The same, but stops early at a root of the model's event triggers:
 * *reached is the time integrated to (tout, or the root), *root is 1 when
 * a root stopped it. */
sg_status sg_solver_advance_roots(sg_solver *solver, double tout, double tstop,
                                  double *reached, int *root, sg_error *err);

/* Models with delay(x, tau): a new run starts a new history with the
 * initial values in the value slots at t0 (what delay() reads before t0
 * derives from them). The history is also what delay() reads in this
 * thread from now on, in program code and sg_expr_eval (the sim's events);
 * every call of this solver sets that too. */
sg_status sg_solver_begin_history(sg_solver *solver, double t0, sg_error *err);
/* The initial-value expressions before the start (sg_delay_history_set_past);
 * kept until changed. Nothing without delays. */
void sg_solver_set_past(sg_solver *solver, sg_delay_past_fn fn, void *ctx);

/* Evaluates the assignments for the states now in the value slots at t. */
void sg_solver_update_assignments(sg_solver *solver, double t);

/* The right-hand side at the states in the value slots (for steady-state
 * tests); returns the index of a non-finite derivative or -1. */
int sg_solver_derivatives(sg_solver *solver, double t, double *ydot);

/* Forward sensitivities: `fn` computes, at (t, y) with f(t, y) = ydot, the
 * ns derivatives sdot[k] = J s[k] + df/dp_k; returns 0, or > 0 for a
 * recoverable failure (CVODE retries with a smaller step). Enabled once,
 * before the first sg_solver_start; afterwards each start also restarts
 * the sensitivities from the vectors sg_solver_sens_vector(k), which
 * after each advance hold s_k at the time reached. They are in the error
 * test with the states' tolerances. */
typedef int (*sg_sens_rhs_fn)(void *ctx, double t, const double *y, const double *ydot, int ns,
                              const double *const *s, double *const *sdot);
sg_status sg_solver_sens_enable(sg_solver *solver, int ns, sg_sens_rhs_fn fn, void *ctx,
                                sg_error *err);
double *sg_solver_sens_vector(sg_solver *solver, int k);

/* After an advance stopped at a root: found[r] (nroots) is non-zero for
 * each root function that crossed zero. Returns -1 if unavailable. */
int sg_solver_roots_found(sg_solver *solver, int *found);

void sg_solver_stats(const sg_solver *solver, sg_stats *stats);

/* Warnings for the user (CVODE's own, and the sim's): kept until cleared,
 * the first SG_SOLVER_MAX_WARNINGS with a last line counting the rest. */
void sg_solver_add_warning(sg_solver *solver, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sg_solver_clear_warnings(sg_solver *solver);
int sg_solver_warning_count(const sg_solver *solver);
const char *sg_solver_warning(sg_solver *solver, int i);

#endif

/*
 * sigode: reaction networks from libconfig model files, compiled into
 * CVODE right-hand sides and Jacobians.
 *
 * The one public header. Every object is opaque, made by a `_create` or
 * `_load` function and released by its `_free` function; `_free(NULL)` does
 * nothing. Functions that can fail take an `sg_error *` (may be NULL) and
 * return a status or NULL; they never print and never exit.
 *
 * Pipeline:
 *   model file --load--> sg_model --compile--> sg_sim --run--> sg_trajectory
 *                                                       --write--> CSV/TSV/JSON
 */
#ifndef SIGODE_H
#define SIGODE_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIGODE_VERSION "0.1.0"

typedef enum sg_status {
    SG_OK = 0,
    SG_ERR_MODEL,  /* the model file is wrong (names file:line:col) */
    SG_ERR_USAGE,  /* the request is wrong (unknown id, bad option value) */
    SG_ERR_SOLVER, /* CVODE failed; names the time and the flag */
    SG_ERR_IO,     /* a file could not be read or written */
    SG_ERR_NOMEM,  /* an allocation failed */
    SG_ERR_LIMIT,  /* a documented resource limit was exceeded */
    SG_ERR_UNSUPPORTED /* a valid request sigode cannot answer correctly (yet):
                          e.g. sensitivities across an event kind it does not
                          handle; the message names it */
} sg_status;

/* What went wrong and where. `line`/`col` are 1-based, 0 when unknown. */
typedef struct sg_error {
    sg_status status;
    char file[256];
    int line;
    int col;
    double time;   /* model time of a solver failure */
    int flag;      /* CVODE return flag of a solver failure */
    char message[768];
} sg_error;

/* Formats "file:line:col: error: message" (parts omitted when unknown). */
void sg_error_format(const sg_error *err, char *buf, size_t size);
/* Exit status of the contract for a status: 0, 1 (solver) or 2. */
int sg_status_exit_code(sg_status status);

/* Test hook: the nth allocation from now fails (0 disables). */
void sg_alloc_fail_after(long n);

/* ------------------------------------------------------------------ model */

typedef struct sg_model sg_model;

typedef enum sg_symbol_kind {
    SG_SYM_NONE = 0,
    SG_SYM_SPECIES,
    SG_SYM_COMPARTMENT,
    SG_SYM_PARAMETER,
    SG_SYM_ASSIGNMENT,
    SG_SYM_TIME
} sg_symbol_kind;

/* Loads and validates a model. Returns NULL and fills err on failure. */
sg_model *sg_model_load_file(const char *path, sg_error *err);
/* Same from memory; `filename` is only used in messages. */
sg_model *sg_model_load_buffer(const char *text, size_t len,
                               const char *filename, sg_error *err);
void sg_model_free(sg_model *model);

const char *sg_model_name(const sg_model *model);
const char *sg_model_description(const sg_model *model);
const char *sg_model_time_unit(const sg_model *model); /* "" if unset */
const char *sg_model_conc_unit(const sg_model *model);
const char *sg_model_path(const sg_model *model);

int sg_model_species_count(const sg_model *model);
int sg_model_state_count(const sg_model *model); /* non-constant species */
int sg_model_compartment_count(const sg_model *model);
int sg_model_parameter_count(const sg_model *model);
int sg_model_assignment_count(const sg_model *model);
int sg_model_reaction_count(const sg_model *model);
int sg_model_scenario_count(const sg_model *model);
int sg_model_check_count(const sg_model *model);

/* Accessors by index, in file order. Strings are owned by the model. */
const char *sg_model_species_id(const sg_model *model, int i);
double sg_model_species_initial(const sg_model *model, int i);
int sg_model_species_is_constant(const sg_model *model, int i);
const char *sg_model_species_compartment(const sg_model *model, int i);
const char *sg_model_compartment_id(const sg_model *model, int i);
double sg_model_compartment_size(const sg_model *model, int i);
const char *sg_model_parameter_id(const sg_model *model, int i);
double sg_model_parameter_value(const sg_model *model, int i);
const char *sg_model_parameter_unit(const sg_model *model, int i);
const char *sg_model_parameter_source(const sg_model *model, int i);
const char *sg_model_assignment_id(const sg_model *model, int i);
const char *sg_model_assignment_text(const sg_model *model, int i);
const char *sg_model_reaction_id(const sg_model *model, int i);
const char *sg_model_reaction_equation(const sg_model *model, int i);
const char *sg_model_reaction_rate(const sg_model *model, int i);
const char *sg_model_scenario_id(const sg_model *model, int i);
const char *sg_model_check_id(const sg_model *model, int i);

/* SBML-level extensions: user functions, rate rules, model events. */
int sg_model_function_count(const sg_model *model);
const char *sg_model_function_id(const sg_model *model, int i);
int sg_model_rate_rule_count(const sg_model *model);
const char *sg_model_rate_rule_target(const sg_model *model, int i);
const char *sg_model_rate_rule_rate(const sg_model *model, int i);
int sg_model_event_count(const sg_model *model);
const char *sg_model_event_id(const sg_model *model, int i);
const char *sg_model_event_trigger(const sg_model *model, int i);

/* How the compiled right-hand side and Jacobian run. Both backends give
 * bit-identical results; NATIVE is faster per evaluation.
 * - SG_BACKEND_VM: the instruction program (always available, the default).
 * - SG_BACKEND_NATIVE: the program written out as C, compiled by the system
 *   compiler ($SIGODE_CC, else $CC, else cc) into a shared object cached
 *   under $SIGODE_CACHE_DIR (else $XDG_CACHE_HOME/sigode, else
 *   ~/.cache/sigode) by a hash of the code, and loaded with dlopen. The
 *   first use of a model costs a compile; later ones find the object.
 * Fails with SG_ERR_IO (no compiler, compile failed, cache unusable) and
 * leaves the model on the VM. Not to be called while simulations of the
 * model run. */
typedef enum sg_backend { SG_BACKEND_VM = 0, SG_BACKEND_NATIVE } sg_backend;
sg_status sg_model_set_backend(sg_model *model, sg_backend backend, sg_error *err);
/* Switches to NATIVE only if the model's object is already in the cache
 * (never runs the compiler); SG_OK whether or not it switched. */
sg_status sg_model_use_cached_native(sg_model *model, sg_error *err);
sg_backend sg_model_backend(const sg_model *model);

/* The network as a Graphviz digraph (`sigode graph MODEL | dot -Tsvg`). */
sg_status sg_model_write_dot(const sg_model *model, FILE *out, sg_error *err);

/* Kind of an identifier, SG_SYM_NONE if the model does not define it. */
sg_symbol_kind sg_model_lookup(const sg_model *model, const char *id);
/* Index of a scenario by id, -1 if absent. */
int sg_model_find_scenario(const sg_model *model, const char *id);

/* ------------------------------------------------------------------- SBML */

/* Translates an SBML Level 2 or 3 file into sigode model text (what
 * `sigode convert FILE --to cfg` prints). Returns a NUL-terminated string the
 * caller frees with free(), or NULL with err filled: SG_ERR_IO when the file
 * cannot be read, SG_ERR_MODEL when it is not valid SBML or uses a construct
 * sigode does not support (the message names it and its line in the file). */
char *sg_sbml_to_config(const char *path, sg_error *err);
/* sg_sbml_to_config, then sg_model_load_buffer on the text. */
sg_model *sg_model_load_sbml(const char *path, sg_error *err);
/* The model as SBML Level 3 Version 2 text (scenarios and checks are not
 * part of it), checked with libsbml's consistency checks: a model that would
 * give errors is SG_ERR_MODEL. The caller frees the result with free(). */
char *sg_model_to_sbml(const sg_model *model, sg_error *err);
/* Writes text to `path` through a temporary file renamed over it when
 * complete (a failure leaves any previous file untouched). */
sg_status sg_write_text_file(const char *path, const char *text, sg_error *err);

/* -------------------------------------------------------------- options */

typedef enum sg_linear_solver {
    SG_LINSOL_AUTO = 0, /* dense up to SG_DENSE_MAX_STATES states, else KLU */
    SG_LINSOL_DENSE,
    SG_LINSOL_KLU
} sg_linear_solver;

/* Above this many state variables the automatic choice is sparse (KLU). */
#define SG_DENSE_MAX_STATES 100

typedef struct sg_options {
    double rtol;      /* relative tolerance, default 1e-6 */
    double atol;      /* absolute tolerance, default 1e-9 */
    long max_steps;   /* CVODE steps between outputs, default 100000 */
    sg_linear_solver linear_solver;
    long max_events;  /* model-event occurrences per run, default (and <= 0)
                         10,000,000: more is an error, not an endless run */
} sg_options;

void sg_options_default(sg_options *opt);

/* ----------------------------------------------------------- experiments */

/* What one simulation does: a time span, output times, values set at the
 * start and changed by events. Built from a model scenario plus overrides. */
typedef struct sg_experiment sg_experiment;

/* From scenario `scenario_id` (NULL: defaults, t 0..10 or the model's
 * scenario named "baseline" if there is none... see models/README.md).
 * The result is owned by the caller. */
sg_experiment *sg_experiment_create(const sg_model *model,
                                    const char *scenario_id, sg_error *err);
void sg_experiment_free(sg_experiment *exp);
/* Overrides, applied in the order given; each returns SG_ERR_USAGE with a
 * message when the value or name is not acceptable. */
sg_status sg_experiment_set_t_end(sg_experiment *exp, double t_end, sg_error *err);
sg_status sg_experiment_set_points(sg_experiment *exp, long points, sg_error *err);
/* Sets a parameter, compartment size or species initial value at t_start. */
sg_status sg_experiment_set_value(sg_experiment *exp, const char *name,
                                  double value, sg_error *err);
/* Adds an event: at time `at`, set (or with add != 0, add to) `name`. */
sg_status sg_experiment_add_event(sg_experiment *exp, double at,
                                  const char *name, double value, int add,
                                  sg_error *err);
/* A dosing schedule: from `at`, every `every` time units (0: once), `count`
 * times (0: until the end), set or add `value` to `name`. */
sg_status sg_experiment_add_schedule(sg_experiment *exp, double at, double every, long count,
                                     const char *name, double value, int add, sg_error *err);
/* Records a parameter or compartment as an extra output column (after the
 * species and assignments), e.g. one changed by a rate rule or an event. */
sg_status sg_experiment_add_output(sg_experiment *exp, const char *id, sg_error *err);
/* Asks for an output row at time t as well (a scan's readout time). */
sg_status sg_experiment_add_output_time(sg_experiment *exp, double t, sg_error *err);
/* First bring the unperturbed model (no sets) to steady state, then apply
 * the sets at t_start, as an experiment on resting cells does. */
void sg_experiment_set_preequilibrate(sg_experiment *exp, int on);
double sg_experiment_t_start(const sg_experiment *exp);
double sg_experiment_t_end(const sg_experiment *exp);
/* The scenario's scan, if it has one (else returns 0). `values` stays owned
 * by the experiment. */
int sg_experiment_scan(const sg_experiment *exp, const char **target,
                       const double **values, int *count, int *log_scale);
/* The scenario's readouts (NULL, 0 if none). */
int sg_experiment_readouts(const sg_experiment *exp, const char *const **ids);

/* ----------------------------------------------------------- simulation */

/* A compiled model with its own CVODE workspace (one SUNContext). Several
 * may exist at once, in one or several threads (one sim per thread). */
typedef struct sg_sim sg_sim;

sg_sim *sg_sim_create(const sg_model *model, const sg_options *opt, sg_error *err);
void sg_sim_free(sg_sim *sim);

/* A table of results: one row per output time, one column per species and
 * assignment (file order). */
typedef struct sg_trajectory sg_trajectory;

/* Runs an experiment. On SG_ERR_SOLVER the trajectory still holds the rows
 * computed before the failure. Returns NULL only if nothing could be run. */
sg_status sg_sim_run(sg_sim *sim, const sg_experiment *exp,
                     sg_trajectory **out, sg_error *err);

/* Local stability of a steady state: the eigenvalues of the Jacobian there. */
typedef struct sg_stability {
    int computed;          /* 0: too large (> SG_EIGEN_MAX_STATES) or failed */
    int unstable;          /* an eigenvalue with real part > tolerance */
    double max_real;       /* largest real part of the reduced Jacobian's
                              eigenvalues (conserved directions removed) */
    double max_real_imag;  /* its imaginary part */
    int npositive;         /* eigenvalues with real part > tolerance */
    double tolerance;      /* 1e-8 x the largest |eigenvalue| (rounding) */
} sg_stability;
/* Eigenvalues are computed densely (LAPACK dgeev) up to this many states;
 * the reduced Jacobian's eigenvalues are those of J without the one zero
 * eigenvalue per conservation law (C J = 0 for the laws' rows C). */
#define SG_EIGEN_MAX_STATES 2000

/* Steady state of the experiment's start values (its `set`s; events are
 * ignored): Newton (KINSOL) with conservation laws, falling back to
 * integration. `out` gets one row. SG_ERR_SOLVER when none is found. */
typedef struct sg_steady_info {
    double tolerance;      /* in: largest relative rate accepted (0: 1e-9) */
    int found;
    char method[160];      /* how it was found */
    double time;           /* integration time used (0: Newton alone) */
    double residual;       /* largest |dy/dt| at the result */
    double max_relative_rate; /* largest |dy/dt| / max(|y|, atol) */
    int conservation_laws;
    /* Out: the state found is a fixed point, not necessarily an attracting
     * one. stability.unstable = 1 says it is not (a perturbation grows). */
    sg_stability stability;
} sg_steady_info;
sg_status sg_sim_steady_state(sg_sim *sim, const sg_experiment *exp, sg_trajectory **out,
                              sg_steady_info *info, sg_error *err);

/* Solver statistics of the last run. */
typedef struct sg_stats {
    long steps, rhs_evals, jac_evals, lin_setups, err_test_fails, nonlin_fails;
    int sparse; /* 1 if KLU was used */
} sg_stats;
void sg_sim_stats(const sg_sim *sim, sg_stats *stats);

void sg_trajectory_free(sg_trajectory *traj);
int sg_trajectory_rows(const sg_trajectory *traj);
int sg_trajectory_columns(const sg_trajectory *traj);
const char *sg_trajectory_column_id(const sg_trajectory *traj, int col);
int sg_trajectory_find_column(const sg_trajectory *traj, const char *id);
double sg_trajectory_time(const sg_trajectory *traj, int row);
double sg_trajectory_value(const sg_trajectory *traj, int row, int col);
/* Value of column `col` at time t (exact row if present, else linear
 * interpolation; NaN outside the rows). */
double sg_trajectory_value_at(const sg_trajectory *traj, double t, int col);

/* ---------------------------------------------------------- sensitivities */

/* Forward sensitivities (CVODES): outputs y(t_i) of an experiment and their
 * derivatives dy(t_i)/dp_k with respect to a list of parameters fixed when
 * the sg_sens is made.
 *
 * A sensitivity parameter is a model parameter, a constant species, or a
 * state (non-constant species, or a parameter changed by a rate rule): for
 * a state, p_k is its value at the start (its initial value). Compartment
 * sizes and assignments cannot be sensitivity parameters (SG_ERR_USAGE).
 *
 * Contract:
 * - sg_sens_create derives and compiles d(rates)/dp and d(initial values)/dp
 *   once (it adds nodes to the model's expression pool, so it must not run
 *   while anything else uses the same model). Every later sg_sens_run reuses
 *   that code: no reload, no recompile; parameter values change per call.
 * - An sg_sens holds one CVODES workspace: one thread at a time. For
 *   threads (multi-starts), give each thread its own sg_sens_clone; clones
 *   share the compiled code, so the original must be freed last. Results
 *   are independent objects: different threads may hold and read their own.
 * - Memory per run: the state vector and n_params sensitivity vectors of
 *   n_states doubles (plus CVODES' own history of those), the outputs
 *   (ntimes x noutputs x (nparams + 1) doubles) and nothing proportional
 *   to n_states x n_states beyond the model's Jacobian pattern.
 * - Derivatives are exact for the compiled ODEs up to the integration
 *   tolerances (sensitivities are in CVODES' error test). Initial values
 *   given by expressions are differentiated too; a value the experiment
 *   `set`s is a constant (zero derivative) unless it is itself a
 *   sensitivity parameter.
 * - Events: the experiment's timed events (set/add a constant at a fixed
 *   time) are handled exactly (a set state gets zero sensitivity, a set
 *   parameter stops acting). Model events get the jump conditions at their
 *   trigger's root (dtau/dp from the root's gradient, then
 *   s+ = h_x s- + h_p + (h_x f- + h_t - f+) dtau/dp, as AMICI). Not
 *   covered, and refused with SG_ERR_UNSUPPORTED and a message naming the
 *   event (never wrong sensitivities): two events firing at once, an event
 *   fired by another's changes, a trigger touching zero without crossing,
 *   and an event setting a parameter that is not a sensitivity parameter
 *   to a value that depends on the sensitivity parameters or states.
 * - On SG_ERR_SOLVER (integration failed) *out is NULL. */
typedef struct sg_sens sg_sens;
typedef struct sg_sens_result sg_sens_result;

/* `params`: nparams ids (duplicates are SG_ERR_USAGE). `opt` may be NULL
 * (defaults); its tolerances apply to states and sensitivities alike. */
sg_sens *sg_sens_create(sg_model *model, const sg_options *opt, const char *const *params,
                        int nparams, sg_error *err);
/* A new workspace sharing sens' compiled code (for another thread).
 * Thread-safe: clones may be made concurrently from one original. */
sg_sens *sg_sens_clone(const sg_sens *sens, sg_error *err);
void sg_sens_free(sg_sens *sens);
int sg_sens_param_count(const sg_sens *sens);
const char *sg_sens_param_id(const sg_sens *sens, int k);

typedef struct sg_sens_request {
    /* The experiment (scenario plus overrides; from the same model). NULL:
     * the model as written, t 0..10 (sg_experiment_create(model, NULL)). */
    const sg_experiment *exp;
    /* Values of the nparams sensitivity parameters for this run, applied
     * after the experiment's sets. NULL: the experiment's / model's. */
    const double *values;
    /* Output times, increasing, within the experiment's span. NULL: the
     * experiment's own output times (its points and readout times). */
    const double *times;
    int ntimes;
    /* Output ids: species, assignments, parameters. NULL: every species
     * and assignment, in file order (the columns of sg_sim_run). */
    const char *const *outputs;
    int noutputs;
} sg_sens_request;

/* Runs the experiment with sensitivities. `*out` is a new result the
 * caller frees. The experiment's pre-equilibration, when asked for, is a
 * steady state whose sensitivities come from the implicit function
 * theorem (as sg_sens_steady). */
sg_status sg_sens_run(sg_sens *sens, const sg_sens_request *req, sg_sens_result **out,
                      sg_error *err);

/* Steady state of the experiment's start values and its sensitivities by
 * the implicit function theorem: J dx/dp = -df/dp, on the reduced system
 * when there are conservation laws (whose totals depend on the initial
 * values). The result has one time (the steady state's, NaN-free). The
 * request's times are ignored. `info` (may be NULL) as sg_sim_steady_state,
 * plus the stability report below. */
sg_status sg_sens_steady(sg_sens *sens, const sg_sens_request *req, sg_sens_result **out,
                         sg_steady_info *info, sg_stability *stability, sg_error *err);

void sg_sens_result_free(sg_sens_result *res);
int sg_sens_result_times(const sg_sens_result *res);
int sg_sens_result_outputs(const sg_sens_result *res);
int sg_sens_result_params(const sg_sens_result *res);
double sg_sens_result_time(const sg_sens_result *res, int i);
const char *sg_sens_result_output_id(const sg_sens_result *res, int j);
const char *sg_sens_result_param_id(const sg_sens_result *res, int k);
/* The value p_k had in the run (at its start). */
double sg_sens_result_param_value(const sg_sens_result *res, int k);
/* y(t_i) of output j */
double sg_sens_result_value(const sg_sens_result *res, int i, int j);
/* d y_j(t_i) / d p_k */
double sg_sens_result_deriv(const sg_sens_result *res, int i, int j, int k);
/* The nparams derivatives of y_j(t_i), contiguous (owned by the result). */
const double *sg_sens_result_derivs(const sg_sens_result *res, int i, int j);

/* ---------------------------------------------------------------- output */

typedef enum sg_format { SG_FORMAT_CSV = 0, SG_FORMAT_TSV, SG_FORMAT_JSON } sg_format;

/* A table to write: a header row and rows of numbers. Column 0 is the
 * x column (time, or the scanned value). */
typedef struct sg_table sg_table;

sg_table *sg_table_create(int columns, const char *const *names, sg_error *err);
void sg_table_free(sg_table *table);
sg_status sg_table_add_row(sg_table *table, const double *values, sg_error *err);
/* An optional text column written last (e.g. a scan row's status). */
sg_status sg_table_set_note(sg_table *table, const char *name, int row,
                            const char *text, sg_error *err);
int sg_table_rows(const sg_table *table);
int sg_table_columns(const sg_table *table);
const char *sg_table_column_name(const sg_table *table, int col);
double sg_table_get(const sg_table *table, int row, int col);

/* Makes the table of a trajectory: "time" then the selected ids (NULL or
 * empty: every column). Unknown ids are SG_ERR_USAGE. */
sg_table *sg_trajectory_table(const sg_trajectory *traj, const char *const *select,
                              int nselect, sg_error *err);

sg_status sg_table_write(const sg_table *table, sg_format format, FILE *out,
                         sg_error *err);
/* Writes to `path` through a temporary file renamed over it only when the
 * write succeeded, so a failure never leaves a truncated file. A symlink
 * is followed (its target replaced, in the target's folder); a FIFO or a
 * character device (/dev/null, /dev/stdout, a terminal) is written
 * directly; a directory or other special file is refused. */
sg_status sg_table_write_file(const sg_table *table, sg_format format,
                              const char *path, sg_error *err);
/* Whether an output file (table, plot, converted model) could be written
 * at `path` as sg_table_write_file would, checked before a long run;
 * creates nothing. SG_OK, or SG_ERR_IO with the reason. */
sg_status sg_output_check(const char *path, sg_error *err);

/* A sensitivity result in long format: columns time, output, parameter,
 * value (d output / d parameter; with normalize, d log y / d log p =
 * (p / y) dy/dp, NaN (JSON null) where y = 0). The _file variant writes
 * atomically as sg_table_write_file. */
sg_status sg_sens_write(const sg_sens_result *res, int normalize, sg_format format, FILE *out,
                        sg_error *err);
sg_status sg_sens_write_file(const sg_sens_result *res, int normalize, sg_format format,
                             const char *path, sg_error *err);

/* ------------------------------------------------------------------ scans */

/* Progress of long scans: called from worker threads (serialised) with the
 * number of points done so far. */
typedef void (*sg_progress_fn)(void *ctx, int done, int total);

typedef struct sg_scan_spec {
    const char *target;          /* parameter or species to vary */
    const double *values;
    int count;
    const char *const *readouts; /* ids of species or assignments */
    int nreadouts;
    const double *at;            /* readout times (NULL: the end time) */
    int nat;
    int jobs;                    /* worker threads, 0: all cores */
    sg_progress_fn progress;     /* may be NULL */
    void *progress_ctx;
} sg_scan_spec;

/* Runs the experiment once per value. Columns: target, then readout ids
 * (suffixed "@t" when several times are asked for); a row whose run failed
 * has NaN readouts and the note "failed: ..." in column "status".
 * Returns SG_ERR_SOLVER if any point failed (the table is still complete). */
sg_status sg_scan_run(const sg_model *model, const sg_options *opt,
                      const sg_experiment *exp, const sg_scan_spec *spec,
                      sg_table **out, sg_error *err);

/* Two-dimensional scans: every pair of a grid. Columns: target, target2,
 * then each readout, then bliss_<readout> = f(a,0) f(0,b) - f(a,b) with
 * f the readout relative to the grid's first pair (positive: more
 * inhibition than independent action predicts). The first value of each
 * axis is the reference (normally 0). */
typedef struct sg_scan2_spec {
    sg_scan_spec first;      /* target, values, readouts, at (one time), jobs */
    const char *target2;
    const double *values2;
    int count2;
} sg_scan2_spec;
sg_status sg_scan2_run(const sg_model *model, const sg_options *opt, const sg_experiment *exp,
                       const sg_scan2_spec *spec, sg_table **out, sg_error *err);


/* ---------------------------------------------------------- uncertainty */

/* A distribution of a parameter, compartment size or species initial value
 * (`uncertainty = "lognormal(median, gsd)"` in the model file). */
typedef enum sg_dist_kind {
    SG_DIST_LOGNORMAL = 0, /* a = median > 0, b = geometric sd > 1 */
    SG_DIST_UNIFORM,       /* a = low < b = high */
    SG_DIST_LOGUNIFORM,    /* 0 < a = low < b = high, uniform in log */
    SG_DIST_NORMAL         /* a = mean, b = sd > 0, truncated to [0, inf) */
} sg_dist_kind;

typedef struct sg_distribution {
    sg_dist_kind kind;
    double a, b;
} sg_distribution;

/* Parses "name(x, y)". On failure returns SG_ERR_MODEL with the message in
 * err and the byte offset of the fault in *pos (never reads past the NUL). */
sg_status sg_distribution_parse(const char *text, sg_distribution *dist, int *pos,
                                sg_error *err);
/* The value below which a fraction p (0 < p < 1) of the distribution lies
 * (the inverse CDF, GSL's gsl_cdf_*_Pinv). */
double sg_distribution_quantile(const sg_distribution *dist, double p);
/* Whether x is inside the support (x > 0 for a lognormal, low..high for the
 * uniforms, x >= 0 for the truncated normal). */
int sg_distribution_contains(const sg_distribution *dist, double x);
/* "lognormal(0.4, 2)" */
void sg_distribution_format(const sg_distribution *dist, char *buf, size_t size);

/* The model's uncertain quantities, in file order (compartments, then
 * parameters, then species). Strings are owned by the model. */
int sg_model_uncertain_count(const sg_model *model);
const char *sg_model_uncertain_id(const sg_model *model, int i);
sg_symbol_kind sg_model_uncertain_kind(const sg_model *model, int i);
double sg_model_uncertain_nominal(const sg_model *model, int i);
const sg_distribution *sg_model_uncertain_distribution(const sg_model *model, int i);
const char *sg_model_uncertain_source(const sg_model *model, int i); /* "" if none */
/* Index of an uncertain quantity by id, -1 if it has no distribution. */
int sg_model_find_uncertain(const sg_model *model, const char *id);

/* Sample designs: point i of n in the open unit cube (0,1)^dims, the same
 * whatever thread or process asks for it (see src/uncertainty/design.c).
 * A design object is for one thread. */
typedef enum sg_sampler { SG_SAMPLER_SOBOL = 0, SG_SAMPLER_LHS, SG_SAMPLER_RANDOM } sg_sampler;
typedef struct sg_design sg_design;
sg_design *sg_design_create(sg_sampler sampler, int dims, long n, unsigned long seed,
                            sg_error *err);
void sg_design_free(sg_design *design);
void sg_design_point(sg_design *design, long i, double *u);

/* Ensembles: the experiment once per sample of the uncertain quantities.
 * One sample's result is a record of doubles:
 *   [0]                  status: 0 not computed, 1 ran, 2 failed
 *   [1, 1+nparams)       the sampled values
 *   then the outputs:    rows x noutputs (row-major): the output times of
 *                        the experiment, or the scanned values
 *   then, for a scan with fit_hill, the fitted EC50 of each output (NaN when
 *   the curve admits no fit).
 * Records are computed by sg_ensemble_compute on threads and kept by the
 * caller (sg_ensemble_store below writes them to a file). */
/* Global sensitivity designs (gsa.c). SOBOL: Saltelli's design, `samples`
 * base points of a 2d-dimensional design give matrices A and B and the d
 * matrices A_B^(i) (A with column i from B): samples x (d + 2) runs.
 * MORRIS: `samples` trajectories of d + 1 points on a grid of `levels`
 * levels (level g is the quantile (g + 1/2) / levels), each step moving one
 * parameter by levels / 2 levels, i.e. by 1/2 in quantile. */
typedef enum sg_gsa_method { SG_GSA_NONE = 0, SG_GSA_SOBOL, SG_GSA_MORRIS } sg_gsa_method;

typedef struct sg_ensemble_spec {
    const char *const *params; /* uncertain ids to sample (NULL: all) */
    int nparams;
    sg_sampler sampler;
    long samples;              /* >= 2 */
    unsigned long seed;
    int preequilibrate;        /* steady state of each sample before the experiment */
    const char *const *outputs;/* species or assignment ids (NULL: the scan readouts, or all) */
    int noutputs;
    const char *target;        /* a scan: vary target over values (NULL: time course) */
    const double *values;
    int count;
    int fit_hill;
    sg_gsa_method gsa;         /* SG_GSA_NONE: samples from the design; else the
                                  evaluations of a sensitivity analysis (below) */
    int levels;                /* Morris grid levels (even, default 4) */
} sg_ensemble_spec;

typedef struct sg_ensemble sg_ensemble;
/* Checks the request and runs the nominal model once (its output grid).
 * The model and experiment must outlive the ensemble. */
sg_ensemble *sg_ensemble_create(const sg_model *model, const sg_options *opt,
                                const sg_experiment *exp, const sg_ensemble_spec *spec,
                                sg_error *err);
void sg_ensemble_free(sg_ensemble *ens);
long sg_ensemble_samples(const sg_ensemble *ens);
int sg_ensemble_record_size(const sg_ensemble *ens);
int sg_ensemble_param_count(const sg_ensemble *ens);
const char *sg_ensemble_param_id(const sg_ensemble *ens, int k);
int sg_ensemble_output_count(const sg_ensemble *ens);
const char *sg_ensemble_output_id(const sg_ensemble *ens, int k);
int sg_ensemble_rows(const sg_ensemble *ens);
double sg_ensemble_x(const sg_ensemble *ens, int row); /* time or scanned value */
const char *sg_ensemble_x_name(const sg_ensemble *ens); /* "time" or the target */
int sg_ensemble_is_scan(const sg_ensemble *ens);
int sg_ensemble_fits(const sg_ensemble *ens);

/* Called for each finished sample, one call at a time (serialised), in no
 * particular order; a non-zero return stops the computation. */
typedef int (*sg_record_fn)(void *ctx, long sample, const double *record);
/* Computes the samples `first`, `first + stride`, ... below `last` for which
 * skip (may be NULL) is not set, on `jobs` threads (0: one per core). A
 * sample whose run fails gets status 2 and NaN outputs: it is the caller's
 * to count and report it. `failure`, if not NULL, gets the message of the
 * first failure (lowest sample index). */
sg_status sg_ensemble_compute(const sg_ensemble *ens, long first, long last, long stride,
                              const unsigned char *skip, int jobs, sg_record_fn deliver,
                              void *ctx, char *failure, size_t failure_size, sg_error *err);

/* The records of every sample in a file (a checkpoint): a header that
 * names the request, then one record per sample at its own offset. A
 * missing record reads as status 0. Memory does not grow with samples. */
typedef struct sg_ensemble_store sg_ensemble_store;
/* path NULL: an anonymous temporary file. resume: reopen an existing file
 * made by the same request (`key` must match), else start afresh. */
sg_ensemble_store *sg_ensemble_store_open(const char *path, const char *key, long samples,
                                          int record_size, int resume, sg_error *err);
void sg_ensemble_store_close(sg_ensemble_store *store);
sg_status sg_ensemble_store_put(sg_ensemble_store *store, long sample, const double *record,
                                sg_error *err);
sg_status sg_ensemble_store_get(sg_ensemble_store *store, long sample, double *record,
                                sg_error *err);
/* Flushes records to the disk (a checkpoint). */
sg_status sg_ensemble_store_sync(sg_ensemble_store *store, sg_error *err);
/* A bitmap of the samples already there (status != 0); caller frees. */
unsigned char *sg_ensemble_store_done(sg_ensemble_store *store, long *ndone, sg_error *err);

/* Quantile bands: one row per output row: x, then for each output its
 * quantiles q[0..nq) (named "<id>_q<q>"), then "<id>_n" (samples used).
 * Exact quantiles (type 7, linear interpolation between order statistics:
 * gsl_stats_quantile_from_sorted_data) over the samples that ran; the
 * records are read back from the store in blocks of outputs whose values
 * fit in `budget` bytes (at least one output row at a time). */
sg_status sg_ensemble_bands(const sg_ensemble *ens, sg_ensemble_store *store, const double *q,
                            int nq, size_t budget, sg_table **out, long *failed, sg_error *err);
/* Quantiles of the fitted EC50 of output k over the samples with a fit. */
sg_status sg_ensemble_ec50(const sg_ensemble *ens, sg_ensemble_store *store, int k,
                           const double *q, int nq, double *values, long *fitted, sg_error *err);

/* Sobol indices of output k at output row `row` of a SOBOL ensemble, for
 * each sampled parameter i: first order s1[i] and total st[i] (Jansen's
 * estimators, V the variance of f(A) and f(B) together), each with a
 * bootstrap percentile interval (`boot` resamples of the base points,
 * level `confidence`) in s1_low/s1_high, st_low/st_high. Base points with a
 * failed run are left out; *used gets how many remain. */
typedef struct sg_sobol_indices {
    double s1, s1_low, s1_high;
    double st, st_low, st_high;
} sg_sobol_indices;
sg_status sg_gsa_sobol(const sg_ensemble *ens, sg_ensemble_store *store, int k, int row,
                       long boot, double confidence, unsigned long seed,
                       sg_sobol_indices *indices, long *used, double *variance, sg_error *err);
/* Morris statistics of output k at row `row` of a MORRIS ensemble: per
 * parameter the mean of |elementary effects| (mu*), their mean and their
 * standard deviation; an effect is the change of the output per unit of the
 * parameter's quantile (a step of 1/2 counts as 1/2).
 * Trajectories with a failed run are left out. */
typedef struct sg_morris_stats {
    double mu_star, mu, sigma;
} sg_morris_stats;
sg_status sg_gsa_morris(const sg_ensemble *ens, sg_ensemble_store *store, int k, int row,
                        sg_morris_stats *stats, long *used, sg_error *err);
/* Row of output time t of a time-course ensemble, -1 if none. */
int sg_ensemble_find_row(const sg_ensemble *ens, double t);

/* ------------------------------------------------------------------ fits */

/* Four-parameter Hill curve y = low + (high - low) / (1 + (ec50 / x)^slope). */
typedef struct sg_hill_fit {
    int ok;             /* 0: no fit, `why` says why */
    double low, high;   /* responses at zero and saturating dose */
    double bottom, top; /* min and max of low and high */
    double ec50;        /* half-effect dose (an IC50 when decreasing) */
    double slope;       /* Hill slope, > 0 */
    int decreasing;
    double r2, rmse;    /* goodness of fit */
    char why[200];      /* why there is no fit, or a warning */
} sg_hill_fit;

/* Least squares on log dose. Data that cannot support a fit (flat, not
 * monotone, too few doses) give fit->ok = 0 and SG_OK. */
sg_status sg_fit_hill(const double *x, const double *y, int n, sg_hill_fit *fit,
                      sg_error *err);
double sg_hill_value(const sg_hill_fit *fit, double x);

/* ----------------------------------------------------------------- plots */

typedef struct sg_plot_spec {
    const char *path;        /* .png or .svg */
    const char *title;
    const char *xlabel, *ylabel;
    int logx;
    const sg_table *table;   /* x in column 0 */
    const int *columns;      /* columns to draw */
    int ncolumns;
    const sg_hill_fit *fits; /* per drawn column (or NULL): fitted curves */
    int markers;             /* points (scans) instead of lines */
} sg_plot_spec;

/* Draws with gnuplot (SG_ERR_IO with a clear message when it is missing);
 * the file appears only when complete. */
sg_status sg_plot_write(const sg_plot_spec *spec, sg_error *err);

/* Quantile bands: for each band, a shaded ribbon between columns `low`
 * and `high` and a line for `mid` (x in column 0). */
typedef struct sg_band {
    const char *id;          /* the line's title */
    const char *band_title;  /* the ribbon's, e.g. "ER_total 5%..95%" */
    int low, mid, high;      /* table columns */
} sg_band;
typedef struct sg_band_plot_spec {
    const char *path;        /* .png or .svg */
    const char *title, *xlabel;
    int logx;
    const sg_table *table;
    const sg_band *bands;
    int nbands;
} sg_band_plot_spec;
sg_status sg_plot_bands(const sg_band_plot_spec *spec, sg_error *err);

/* Bars with intervals: one group per table row (named by names[row]), one
 * bar per series: value, low and high columns. */
typedef struct sg_bar_plot_spec {
    const char *path;
    const char *title, *ylabel;
    const sg_table *table;
    const char *const *names;
    int nnames;
    const char *const *series;
    const int *value, *low, *high;
    int nseries;
} sg_bar_plot_spec;
sg_status sg_plot_bars(const sg_bar_plot_spec *spec, sg_error *err);

/* ----------------------------------------------------------------- checks */

typedef struct sg_check_result {
    const char *id;
    int passed;        /* 1 pass, 0 fail */
    char detail[1024]; /* the measured figures, or why it could not run */
} sg_check_result;

/* Runs every check of the model. `results` gets one entry per check
 * (caller frees with free()). Returns SG_OK when all pass. */
sg_status sg_verify(const sg_model *model, const sg_options *opt,
                    sg_check_result **results, int *count, sg_error *err);

/* ---- falsification: can the checks fail? (sigode verify --falsify)
 * Each reaction is knocked out in turn (rate x 0) and each mechanistic
 * parameter scaled by 0.01 and by 100 (parameters with a `mechanism` tag,
 * or all parameters when the model tags none); every check runs on every
 * perturbed model. The model is changed during the call and restored. */
typedef struct sg_falsify_row {
    char perturbation[300];   /* "reaction r1 x 0", "parameter k2 x 0.01" */
    const char *mechanism;    /* its `mechanism` tag, or NULL */
    unsigned char *fails;     /* per check: 1 if it failed (or could not run) */
    int nfailed;
} sg_falsify_row;

typedef struct sg_falsify_mechanism {
    char name[300];           /* the tag, or "reaction r1 (untagged)" */
    int tagged;
    int perturbations;        /* how many rows perturb it */
    int noticed;              /* how many of them make some check fail */
} sg_falsify_mechanism;

typedef struct sg_falsify_control {
    int check;                /* index of the check */
    const char *knockout;     /* as written in its `knockouts` */
    int held;                 /* 1: the knock-out made the check fail */
} sg_falsify_control;

typedef struct sg_falsify_result {
    int nchecks;
    const char **check_ids;
    int *conservation;        /* per check: kind = "conservation" */
    unsigned char *baseline_fails; /* per check: fails on the model as it is */
    int baseline_failed;
    int *times_failed;        /* per check: perturbations that make it fail */
    sg_falsify_row *rows;
    int nrows;
    sg_falsify_mechanism *mechanisms;
    int nmechanisms;
    sg_falsify_control *controls;
    int ncontrols;
    /* the verdict: behaviour checks nothing fails, tagged mechanisms no
     * check notices, negative controls that did not make their check fail */
    int unfalsifiable, unnoticed, controls_failed;
} sg_falsify_result;

sg_status sg_falsify(sg_model *model, const sg_options *opt, sg_falsify_result **out,
                     sg_error *err);
void sg_falsify_free(sg_falsify_result *result);

#ifdef __cplusplus
}
#endif
#endif /* SIGODE_H */

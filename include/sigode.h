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
/* 1 if parameter i is marked `estimate = true` (then its bounds and scale:
 * 0 lin, 1 log, 2 log10), else 0. */
int sg_model_parameter_estimated(const sg_model *model, int i, double *lower, double *upper,
                                 int *scale);
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
/* 1 if the VM runs the model's instruction program as machine code that
 * sigode wrote itself (x86-64 Linux, programs up to 16,384 instructions,
 * unless SIGODE_VM_JIT=0), which is about as fast as NATIVE; 0 if it
 * interprets it. */
int sg_model_vm_machine_code(const sg_model *model);

/* The network as a Graphviz digraph (`sigode graph MODEL | dot -Tsvg`):
 * species (filled by compartment), reactions, assignments, and an edge for
 * every influence, through rate laws and through assignments. */
sg_status sg_model_write_dot(const sg_model *model, FILE *out, sg_error *err);
/* The same written to `path` as "dot" text, or drawn as "svg" or "png" by
 * Graphviz's dot (SG_ERR_IO with a clear message when it is not
 * installed). The file appears only when complete. */
sg_status sg_model_render_graph(const sg_model *model, const char *format, const char *path,
                                sg_error *err);

/* Kind of an identifier, SG_SYM_NONE if the model does not define it. */
sg_symbol_kind sg_model_lookup(const sg_model *model, const char *id);
/* Unit of an id for labels: a species' own `unit` or else the model's
 * conc_unit, an assignment's or parameter's own `unit`, the time unit for
 * "time"; "" when the file gives none. Owned by the model. */
const char *sg_model_unit_of(const sg_model *model, const char *id);
/* Index of a reaction by id, -1 if absent. */
int sg_model_find_reaction(const sg_model *model, const char *id);
/* The `name` of a compartment, species, parameter, assignment, reaction or
 * event (what SBML calls its name), "" if it has none. Owned by the model. */
const char *sg_model_name_of(const sg_model *model, const char *id);
/* The same for reaction i and event i, by index ("" if none). */
const char *sg_model_reaction_name(const sg_model *model, int i);
const char *sg_model_event_name(const sg_model *model, int i);
/* What a user typed where an id is expected: an id of the model is itself
 * (ids win over names); else the unique element with that `name` gives its
 * id; a name that several elements share is SG_ERR_USAGE naming their ids;
 * anything else is returned unchanged (the caller reports unknown ids).
 * *id points into the model or at `text`. */
sg_status sg_model_resolve_id(const sg_model *model, const char *text, const char **id,
                              sg_error *err);
/* The column name of an output id: the element's `sbml_id` when it has one
 * (an SBML id sigode cannot use, such as 'time'), else the id itself. */
const char *sg_model_output_id(const sg_model *model, const char *id);
/* 1 for the units that mean a pure number ("1", "dimensionless",
 * "fraction"). */
int sg_unit_is_dimensionless(const char *unit);
/* Index of a scenario by id, -1 if absent. */
int sg_model_find_scenario(const sg_model *model, const char *id);

/* ------------------------------------------------------------------- SBML */

/* The SBML functions below call sigode's SBML module (sigode-sbml.so, with
 * libsbml), opened on the first call from <libdir>/sigode beside
 * libsigode.so (or the program): a missing module, or one of another
 * sigode build, is SG_ERR_IO naming the path where it was expected. */

/* Translates an SBML Level 2 or 3 file into sigode model text (what
 * `sigode convert FILE --to cfg` prints). Returns a NUL-terminated string the
 * caller frees with free(), or NULL with err filled: SG_ERR_IO when the file
 * cannot be read, SG_ERR_MODEL when it is not valid SBML or uses a construct
 * sigode does not support (the message names it and its line in the file). */
char *sg_sbml_to_config(const char *path, sg_error *err);
/* sg_sbml_to_config, then sg_model_load_buffer on the text. */
sg_model *sg_model_load_sbml(const char *path, sg_error *err);
/* sg_model_load_sbml through the translation cache: the translation of a
 * file is kept in the cache folder of the native backend
 * ($SIGODE_CACHE_DIR, else $XDG_CACHE_HOME/sigode, else ~/.cache/sigode)
 * under a key made of the file's bytes, its path, the sigode build and
 * the libsbml file (a hit does not load libsbml), and reused only when
 * the entry is owned by this
 * user, writable only by it, and holds a copy of the same file byte for
 * byte with an intact checksum. $SIGODE_SBML_CACHE: 0 never uses it, 1
 * uses it for every file, unset or anything else for files of 64 KiB or
 * more (smaller ones parse in a few milliseconds). `note` (note_size
 * bytes; may be NULL) receives why an entry or the cache was not used, or
 * "" when there is nothing to say; the result is the same either way. */
sg_model *sg_model_load_sbml_cached(const char *path, char *note, size_t note_size,
                                    sg_error *err);
/* The model as SBML Level 3 Version 2 text (scenarios and checks are not
 * part of it), checked with libsbml's consistency checks: a model that would
 * give errors is SG_ERR_MODEL. The caller frees the result with free(). */
char *sg_model_to_sbml(const sg_model *model, sg_error *err);
/* The same, telling note_fn (when not NULL) what it could not carry over,
 * one message a call: a `unit` that is not one sigode can write as SBML
 * units (left undeclared). Names, units, descriptions and sources go into
 * SBML names, unit definitions and XHTML notes. */
typedef void (*sg_note_fn)(void *ctx, const char *message);
char *sg_model_to_sbml_noting(const sg_model *model, sg_note_fn note_fn, void *ctx,
                              sg_error *err);
/* Writes text to `path` through a temporary file renamed over it when
 * complete (a failure leaves any previous file untouched). */
sg_status sg_write_text_file(const char *path, const char *text, sg_error *err);
/* The same for content written by write(ctx, out, err), streamed (a table
 * too large to hold). */
sg_status sg_write_stream_file(const char *path,
                               sg_status (*write)(void *ctx, FILE *out, sg_error *err),
                               void *ctx, sg_error *err);

/* -------------------------------------------------------------- options */

typedef enum sg_linear_solver {
    SG_LINSOL_AUTO = 0, /* dense up to SG_DENSE_MAX_STATES states, else KLU */
    SG_LINSOL_DENSE,
    SG_LINSOL_KLU
} sg_linear_solver;

/* Above this many state variables the automatic choice is sparse (KLU). */
#define SG_DENSE_MAX_STATES 100

/* Warnings gathered over many runs (see sg_warnings_create). */
typedef struct sg_warnings sg_warnings;

typedef struct sg_options {
    double rtol;      /* relative tolerance, default 1e-6 */
    double atol;      /* absolute tolerance, default 1e-9 */
    long max_steps;   /* CVODE steps between outputs, default 100000 */
    sg_linear_solver linear_solver;
    long max_events;  /* model-event occurrences per run, default (and <= 0)
                         10,000,000: more is an error, not an endless run */
    sg_warnings *warnings; /* NULL, or every run (sg_sim_run, a scan point, a
                              steady state...) adds its warnings there,
                              labelled by its scenario and the values it set */
    unsigned long seed; /* random choices of a run: among model events due at
                           once with the same priority (SBML); default 1, the
                           same seed gives the same run */
    long lsetup_every;  /* at most this many steps between linear-solver setups
                           (CVODE's msbp); 0, the default: SG_KLU_LSETUP_EVERY
                           with KLU, CVODE's 20 with dense */
    double step_growth_min; /* the step size changes only when it would grow
                               at least this factor or shrink (CVODE's
                               eta_max_fx, its default 1.5); 0, the default:
                               3 with KLU when one factorisation costs more
                               than 20 solves with its factors, else 1.5 */
} sg_options;

/* KLU's default steps between setups: a setup refactorises the sparse
 * iteration matrix (on BioNetGen's fceri_ji, 354 species, 80% of the
 * integration), a Newton iteration with an older one costs only a solve. */
#define SG_KLU_LSETUP_EVERY 50

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
/* Rows only where they are read: the start, the end and the extra output
 * times (sg_experiment_add_output_time), not the evenly spaced points in
 * between; the numbers in those rows are the ones of the full run. A model
 * with event triggers keeps every row. */
void sg_experiment_set_readouts_only(sg_experiment *exp, int on);
double sg_experiment_t_start(const sg_experiment *exp);
double sg_experiment_t_end(const sg_experiment *exp);
/* The scenario's scan, if it has one (else returns 0). `values` stays owned
 * by the experiment. */
int sg_experiment_scan(const sg_experiment *exp, const char **target,
                       const double **values, int *count, int *log_scale);
/* Where the experiment changes values on its own: every occurrence of
 * its events and dosing schedules inside [t_start, t_end], sorted by
 * time. `what` says what is set ("FK506=10", "dose+=5"); `first` is 1 on a
 * schedule's first occurrence (plots label only those). */
typedef struct sg_event_mark {
    double time;
    char what[160];
    int first;
} sg_event_mark;
/* Returns the count and *marks (caller frees with free(); NULL when 0), or
 * -1 with err filled on allocation failure. */
int sg_experiment_event_marks(const sg_experiment *exp, sg_event_mark **marks, sg_error *err);
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
    int sparse;    /* 1 if KLU was used */
    int lapack_lu; /* 1 if the dense Jacobian was factorised by LAPACK (OpenBLAS) */
} sg_stats;
void sg_sim_stats(const sg_sim *sim, sg_stats *stats);

/* Warnings of the last run, for the user: CVODE's own warnings, a species
 * below -atol (the first, once per run), an assignment or extra column
 * that became NaN or infinite (once per column, with the first time).
 * Strings are owned by the sim and valid until its next run; NULL when i
 * is out of range. */
int sg_sim_warning_count(const sg_sim *sim);
const char *sg_sim_warning(sg_sim *sim, int i);

/* Warnings of many runs (scan points, ensemble draws, scenarios, fit
 * experiments) for one report: a warning several runs give (the same text,
 * numbers aside) is kept once with the count of runs that gave it and the
 * first run's message and label. Runs may be added from several threads. */
sg_warnings *sg_warnings_create(void); /* NULL when out of memory */
void sg_warnings_free(sg_warnings *w);
/* Counts one run, named `label` ("dose = 0.5"; may be NULL), and takes the
 * warnings of sim's last run (sim may be NULL: a run without warnings).
 * w may be NULL (nothing is kept). */
void sg_warnings_take(sg_warnings *w, sg_sim *sim, const char *label);
/* A warning of the run counted last (call sg_warnings_take first). */
void sg_warnings_add(sg_warnings *w, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
long sg_warnings_runs(const sg_warnings *w);
int sg_warnings_count(const sg_warnings *w); /* distinct warnings */
/* Warning i: the first message, *runs = how many runs gave it and
 * *first_label the first run's label (may be NULL). */
const char *sg_warnings_get(const sg_warnings *w, int i, long *runs, const char **first_label);

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
 * A sensitivity parameter is a model parameter, a compartment size, a
 * constant species, or a state (non-constant species, or a parameter
 * changed by a rate rule): for a state, p_k is its value at the start (its
 * initial value). A size acts through the rates of change of its species
 * (rate / size), the expressions using it and, at steady states, the
 * size-weighted conservation laws. Assignments cannot be sensitivity
 * parameters (SG_ERR_USAGE).
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
 * plus the stability report below. A Jacobian singular beyond the
 * conservation laws is SG_ERR_UNSUPPORTED (the derivatives are not
 * defined there). */
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
/* A row's note, NULL when it has none. */
const char *sg_table_note(const sg_table *table, int row);
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
typedef struct sg_hill_fit sg_hill_fit;
typedef enum sg_synergy {
    SG_SYNERGY_BLISS = 1, /* bliss_<readout> */
    SG_SYNERGY_LOEWE = 2, /* loewe_<readout> */
    SG_SYNERGY_HSA = 4    /* hsa_<readout> */
} sg_synergy;
typedef struct sg_scan2_spec {
    sg_scan_spec first;      /* target, values, readouts, at (one time), jobs */
    const char *target2;
    const double *values2;
    int count2;
    /* Scores to add, a mask of sg_synergy (0: Bliss alone), each column
     * expected - observed relative to the reference pair (positive: the
     * readout is lower than the reference model predicts, i.e. synergy
     * for drugs that lower it). Bliss: fA fB; Loewe: from Hill fits of
     * the single-agent row and column (both axes must start at dose 0);
     * HSA: min(fA, fB). */
    int synergy;
    /* If not NULL, 2 per readout: the Hill fits of the first and second
     * drug alone used by Loewe (ok = 0 and `why` when they failed, and
     * the loewe column is NaN). Fits of readouts >= 0 keep plateaus >= 0. */
    sg_hill_fit *fits;
} sg_scan2_spec;
/* Expected readout at doses (a, b) under Loewe additivity of two drugs
 * alone described by fa and fb (NaN when a fit is missing or the two act
 * in opposite directions). */
double sg_loewe_expected(const sg_hill_fit *fa, const sg_hill_fit *fb, double a, double b);
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
struct sg_hill_fit {
    int ok;             /* 0: no fit, `why` says why */
    double low, high;   /* responses at zero and saturating dose */
    double bottom, top; /* min and max of low and high */
    double ec50;        /* half-effect dose (an IC50 when decreasing) */
    double slope;       /* Hill slope, > 0 */
    int decreasing;
    double r2, rmse;    /* goodness of fit */
    double lower, upper; /* bounds the plateaus were fitted within */
    char why[200];      /* why there is no fit, or a warning */
};

/* Least squares on log dose. Data that cannot support a fit (flat, not
 * monotone, too few doses) give fit->ok = 0 and SG_OK. */
sg_status sg_fit_hill(const double *x, const double *y, int n, sg_hill_fit *fit,
                      sg_error *err);
/* The same with both plateaus held within [lower, upper] (-INFINITY,
 * INFINITY: free): a concentration's fit takes lower = 0. Responses
 * outside the bounds give fit->ok = 0. */
sg_status sg_fit_hill_bounded(const double *x, const double *y, int n, double lower,
                              double upper, sg_hill_fit *fit, sg_error *err);
double sg_hill_value(const sg_hill_fit *fit, double x);
/* The dose giving response y on the fitted curve (NaN when y is not
 * strictly between the plateaus). */
double sg_hill_dose(const sg_hill_fit *fit, double y);

/* ------------------------------------------------------ measured data */

/* A PEtab measurement table (tab-separated, header row): observableId,
 * simulationConditionId, time, measurement are required; noiseParameters
 * (a number: the standard deviation drawn as an error bar), datasetId,
 * replicateId, observableParameters, preequilibrationConditionId are
 * optional; any other column must hold numbers (e.g. the dose of a scan
 * target, named as the target). Every cell is checked: a bad one is
 * SG_ERR_MODEL naming file, row and column. */
typedef struct sg_measurements sg_measurements;
sg_measurements *sg_measurements_load(const char *path, sg_error *err);
void sg_measurements_free(sg_measurements *data);
int sg_measurements_count(const sg_measurements *data);
typedef struct sg_measurement {
    const char *observable, *condition; /* owned by the table */
    double time, value, sd;             /* sd NaN: none given */
} sg_measurement;
const sg_measurement *sg_measurements_get(const sg_measurements *data, int row);
/* Index of an extra numeric column by name, -1 if absent; its value in a
 * row (NaN when the cell is empty). */
int sg_measurements_find_column(const sg_measurements *data, const char *name);
double sg_measurements_extra(const sg_measurements *data, int row, int column);

/* ------------------------------------------------------------------ PEtab */

/* A PEtab v1 estimation problem: YAML file, SBML model (imported with
 * sg_model_load_sbml), parameter, observable, condition and measurement
 * tables. Loading checks every table and every reference between them;
 * bad input is SG_ERR_MODEL (file, row and column in err), an unreadable
 * file SG_ERR_IO. */
typedef struct sg_petab sg_petab;
sg_petab *sg_petab_load(const char *yaml_path, sg_error *err);
void sg_petab_free(sg_petab *problem);
int sg_petab_parameter_count(const sg_petab *problem);   /* rows of the parameter table */
int sg_petab_estimated_count(const sg_petab *problem);   /* rows with estimate = 1 */
int sg_petab_measurement_count(const sg_petab *problem);
const char *sg_petab_parameter_id(const sg_petab *problem, int i);
/* Parameter i of the table: its index among the estimated (-1: fixed),
 * scale (0 lin, 1 log, 2 log10), bounds and nominal value (linear). */
int sg_petab_parameter_estimated_index(const sg_petab *problem, int i);
int sg_petab_parameter_scale(const sg_petab *problem, int i);
double sg_petab_parameter_lower(const sg_petab *problem, int i);
double sg_petab_parameter_upper(const sg_petab *problem, int i);
double sg_petab_parameter_nominal(const sg_petab *problem, int i);
int sg_petab_has_priors(const sg_petab *problem);
/* x (sg_petab_estimated_count values) = the estimated parameters' nominal
 * values on their scales. */
void sg_petab_nominal(const sg_petab *problem, double *x);
/* Reads a parameter table (PEtab format, e.g. one sigode fit wrote) and
 * puts the nominal values of the estimated parameters into x, on their
 * scales. Every estimated parameter must be in it. */
sg_status sg_petab_read_parameters(const sg_petab *problem, const char *path, double *x,
                                   sg_error *err);
/* Writes the parameter table with x (on the scales) as nominal values. */
sg_status sg_petab_write_parameters(const sg_petab *problem, const double *x, const char *path,
                                    sg_error *err);
/* Writes the simulation table: the measurement table's columns with
 * `measurement` replaced by `simulation` (one value per measurement). */
sg_status sg_petab_write_simulations(const sg_petab *problem, const double *simulations,
                                     const char *path, sg_error *err);

/* An evaluator: one per thread (it owns a solver). opt NULL: rtol 1e-8,
 * atol 1e-12. */
typedef struct sg_petab_eval sg_petab_eval;
sg_petab_eval *sg_petab_eval_create(const sg_petab *problem, const sg_options *opt,
                                    sg_error *err);
void sg_petab_eval_free(sg_petab_eval *ev);

typedef struct sg_petab_result {
    double llh;       /* log-likelihood of the measurements */
    double chi2;      /* sum of squared weighted residuals */
    double log_prior; /* sum of the objective priors' log densities (0: none) */
    double nllh;      /* -(llh + log_prior): what fit and profile minimise */
} sg_petab_result;
/* Simulates every condition with the estimated parameters x (on their
 * scales). `simulations` (NULL or one per measurement) gets the simulated
 * observables. SG_ERR_SOLVER when a simulation fails (err names it), with
 * nllh = inf. */
sg_status sg_petab_evaluate(sg_petab_eval *ev, const double *x, double *simulations,
                            sg_petab_result *result, sg_error *err);

/* Where gradients come from. SG_GRADIENT_FINITE_DIFFERENCES is the
 * fallback (central differences on the parameters' scales); reports name
 * the source with sg_gradient_source_name. */
typedef enum sg_gradient_source {
    SG_GRADIENT_FINITE_DIFFERENCES = 0,
    SG_GRADIENT_SENSITIVITIES
} sg_gradient_source;
const char *sg_gradient_source_name(sg_gradient_source source);
/* nllh and its gradient with respect to x. */
sg_status sg_petab_gradient(sg_petab_eval *ev, sg_gradient_source source, const double *x,
                            double *nllh, double *grad, sg_error *err);
void sg_petab_eval_set_fd_step(sg_petab_eval *ev, double step);
/* Derives and compiles what SG_GRADIENT_SENSITIVITIES needs (call once,
 * before evaluators are used in threads). SG_ERR_UNSUPPORTED, with the
 * reason, for what it does not cover (an event kind sg_sens refuses, a
 * pre-equilibration Jacobian singular beyond the conservation laws, dense
 * steady-state limits): use finite differences. */
sg_status sg_petab_use_sensitivities(sg_petab *problem, sg_error *err);

/* Multi-start local optimisation. */
typedef enum sg_optimizer {
    SG_OPTIMIZER_LBFGS = 0, /* NLopt LD_LBFGS, bounds */
    SG_OPTIMIZER_SLSQP,     /* NLopt LD_SLSQP, bounds */
    SG_OPTIMIZER_LM         /* GSL gsl_multifit_nlinear trust-region Levenberg-Marquardt on
                               the weighted residuals (normal noise, fixed sigma, no priors) */
} sg_optimizer;

/* One start's outcome. x0, x: sg_petab_estimated_count values on the
 * parameters' scales. */
typedef struct sg_fit_start {
    int index;                /* start number, 0-based, in the order drawn */
    double *x0, *x;
    double nllh;              /* at x (inf when failed) */
    int failed;               /* no successful simulation from this start */
    long evaluations;
    int failed_evaluations;   /* trial points whose simulation failed */
    char status[800];
} sg_fit_start;

typedef void (*sg_fit_progress_fn)(void *ctx, int start, const sg_fit_start *result);

typedef struct sg_fit_options {
    int starts;
    unsigned long seed;
    int jobs;                 /* threads, 0: all cores */
    sg_optimizer optimizer;
    int sampling;             /* 0 Latin hypercube, 1 Sobol */
    sg_gradient_source gradient;
    int max_iterations;       /* objective evaluations (NLopt) or iterations (LM) */
    double ftol, xtol;        /* relative tolerances */
    double fd_step;           /* 0: default (1e-5, relative) */
    const double *x0;         /* NULL: drawn; else starts x estimated values */
    sg_fit_progress_fn progress; /* called (serialised) as each start ends */
    void *progress_ctx;
    /* one share of a job split among processes (MPI ranks): with parts > 1
     * only the starts whose index mod parts is part run; the others are
     * left as failed starts at their x0, and the starts are not sorted
     * (the caller gathers them, then sg_fit_starts_sort) */
    int part, parts;
    sg_warnings *warnings;    /* NULL, or the simulations' warnings go there */
} sg_fit_options;
void sg_fit_options_default(sg_fit_options *opt);

/* Draws `starts` start points (row-major, starts x estimated) within the
 * bounds on the parameters' scales: Latin hypercube from a Mersenne
 * Twister seeded with `seed`, or the Sobol sequence after skipping `seed`
 * points. */
sg_status sg_petab_draw_starts(const sg_petab *problem, int starts, unsigned long seed,
                               int sobol, double *x0, sg_error *err);
/* Runs every start; *out gets them sorted by nllh (failed last, ties by
 * index); free with sg_fit_starts_free. A failed start does not fail the
 * fit. The result does not depend on opt->jobs. */
sg_status sg_petab_fit(const sg_petab *problem, const sg_fit_options *opt, sg_fit_start **out,
                       sg_error *err);
void sg_fit_starts_free(sg_fit_start *starts);
/* The order sg_petab_fit returns: by nllh, failed last, ties by index. */
void sg_fit_starts_sort(sg_fit_start *starts, int count);
/* A value on a parameter scale (0 lin, 1 log, 2 log10) as a linear value. */
double sg_petab_unscale(int scale, double value);

/* Plots (gnuplot; .png or .svg): every successful start's nllh - best + 1,
 * best first (log axis), and the data with error bars (noise sigma) over
 * the simulated observables at x, one panel per observable. */
sg_status sg_petab_plot_waterfall(const sg_fit_start *starts, int count, const char *path,
                                  sg_error *err);
sg_status sg_petab_plot_fit(const sg_petab *problem, const double *x, const char *path,
                            sg_error *err);

/* Profile likelihoods around an optimum xopt (on the scales) of the
 * estimated parameters which[0..count): each stepped both ways, the
 * others re-optimised, until nllh exceeds the optimum's by
 * sg_profile_threshold() = chi2(1, 0.95)/2 or the bound is reached.
 * *fopt gets nllh at xopt. Threads: jobs (0: all cores); the result does
 * not depend on it. */
typedef struct sg_profile {
    int param;             /* index into the parameter table */
    double optimum;        /* on the parameter's scale */
    double lower, upper;   /* 95% interval on the scale; -inf / inf when open */
    int lower_open, upper_open; /* the profile stayed below the threshold to the bound */
    double *value, *nllh;  /* the profile, by increasing value (on the scale) */
    int npoints;
    double min_nllh;       /* lowest nllh met: below *fopt means xopt was no optimum */
    int failed_points;     /* steps whose re-optimisation failed (the side ends there) */
} sg_profile;
sg_status sg_petab_profile(const sg_petab *problem, const double *xopt, const int *which,
                           int count, int jobs, sg_gradient_source gradient,
                           sg_profile **out, double *fopt, sg_error *err);
void sg_profiles_free(sg_profile *profiles, int count);
double sg_profile_threshold(void);
/* One panel per profile: nllh - optimum against the parameter, with the
 * threshold line. */
sg_status sg_petab_plot_profiles(const sg_petab *problem, const sg_profile *profiles, int count,
                                 double fopt, const char *path, sg_error *err);

/* A PEtab problem made from a sigode model file whose parameters to
 * estimate are marked (`estimate = true; bounds = [lo, hi]; scale =
 * "log10";`) and a measurement table (PEtab columns observableId, time,
 * measurement, optional simulationConditionId = a scenario of the model or
 * empty, noiseParameters = sigma, default 1). The observable ids are the
 * model's species or assignments, normal noise. */
sg_petab *sg_petab_from_model(const char *model_path, const char *measurements_path,
                              sg_error *err);

/* ----------------------------------------------------------------- plots */

/* An uncertainty band: three table columns (e.g. 5%, 50%, 95% quantiles of
 * an ensemble) drawn as a shaded band around its median line. */
typedef struct sg_plot_band {
    int lower, median, upper; /* table columns */
    const char *label;        /* legend entry, e.g. "ER_total (5-95%)" */
    const char *axis;         /* y axis label of its panel (NULL: spec->ylabel) */
} sg_plot_band;

typedef struct sg_plot_spec {
    const char *path;        /* .png or .svg */
    const char *title;
    const char *xlabel, *ylabel;
    int logx, logy;
    const sg_table *table;   /* x in column 0 */
    const int *columns;      /* columns to draw */
    int ncolumns;
    /* y axis label of each drawn column (NULL: ylabel for all). Columns are
     * put in panels by label and, on a linear axis, by magnitude (a series
     * 10 times smaller than the largest of its label gets its own panel);
     * scans (markers) get one panel per column. At most 12 panels. */
    const char *const *axes;
    /* legend text of each drawn column (NULL, or a NULL entry: the column's
     * name), e.g. the element's SBML name */
    const char *const *titles;
    const sg_hill_fit *fits; /* per drawn column (or NULL): fitted curves */
    const char *x_unit;      /* unit of x for the IC50/EC50 labels ("" none) */
    int markers;             /* points (scans) instead of lines */
    const sg_event_mark *marks; /* vertical markers (events, doses) */
    int nmarks;
    const sg_plot_band *bands; /* shaded bands (ensembles) */
    int nbands;
    /* measured points with error bars: observableId matched to a drawn
     * column's name; rows of other conditions left out when `condition` is
     * set; on scans x is the extra column named `data_x` */
    const sg_measurements *data;
    const char *condition;
    const char *data_x;
} sg_plot_spec;

/* Draws with gnuplot (SG_ERR_IO with a clear message when it is missing);
 * the file appears only when complete. Every text reaches gnuplot as an
 * inert string: quotes doubled, control characters replaced. */
sg_status sg_plot_write(const sg_plot_spec *spec, sg_error *err);
/* Whether sg_plot_write would take `path` (.png or .svg, no control
 * character): checked before any computation. SG_OK or SG_ERR_USAGE. */
sg_status sg_plot_check_path(const char *path, sg_error *err);

/* A two-dimensional scan as heat maps, one panel per column of `zcols`
 * over the grid of columns 0 (x) and 1 (y) of a long-format table (rows
 * x-major, as sg_scan2_run writes them). Cells are drawn at their grid
 * index with the dose values as tick labels (a 0 dose fits no log axis).
 * `levels[k]` (NaN: none) draws the contour of column `contour_of[k]` at
 * that level on panel k: an isobologram at 50% effect. Panels whose
 * `diverging[k]` is set (synergy scores) use a blue-white-red scale
 * centred on 0. */
typedef struct sg_heatmap_spec {
    const char *path, *title, *xlabel, *ylabel;
    const sg_table *table;
    const int *zcols;
    const char *const *ztitles;
    const int *diverging;
    const int *contour_of;
    const double *levels;
    const char *contour_label;
    int npanels;
} sg_heatmap_spec;
sg_status sg_heatmap_write(const sg_heatmap_spec *spec, sg_error *err);

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

/*
 * Experiments (what to simulate) and their execution on a compiled model:
 * values set at the start, events at given times, output rows.
 */
#ifndef SG_SCENARIO_H
#define SG_SCENARIO_H

#include <gsl/gsl_rng.h>
#include "../model/model.h"
#include "../solver/solver.h"

typedef struct sg_change {
    int slot;
    int add;
    double value;
} sg_change;

typedef struct sg_timed_change {
    double at;
    double every;  /* > 0: repeats */
    long count;    /* occurrences when repeating, 0 = until the end */
    sg_change change;
} sg_timed_change;

struct sg_experiment {
    const sg_model *model;
    const sg_scenario_def *scenario; /* NULL: the model as written */
    double t_start, t_end;
    long points;
    int preequilibrate;
    sg_change *sets;
    int nsets;
    size_t sets_cap;
    sg_timed_change *events;
    int nevents;
    size_t events_cap;
    double *extra_times;
    int nextra;
    size_t extra_cap;
    int *outputs;          /* extra output columns: slots of parameters, compartments */
    int noutputs;
    size_t outputs_cap;
    int readouts_only;     /* rows only where read (sg_experiment_set_readouts_only) */
};

struct sg_trajectory {
    const sg_model *model;
    int nrows, ncols;
    size_t cap;
    double *times;
    double *data;        /* nrows x ncols */
    const char **names;  /* borrowed from the model */
    int *slots;
};

/* At a root the solver found: sets trig_now[k] for the triggers that hold
 * once the equalities whose root function changed sign (x == 5 with x
 * crossing 5 between steps) count as true; the other comparisons are read
 * from w. found: nroots ints of scratch. */
void sg_crossings_force(const sg_model *m, sg_solver *solver, int *found, const double *w,
                        unsigned char *trig_now);

/* A model event that fired and waits to execute (SBML Level 3 events:
 * delays, priorities, persistence). */
typedef struct sg_pending_event {
    double at;       /* when it executes: firing time + delay */
    long seq;        /* firing order: the tie-break after time and priority */
    int event;
    double *values;  /* assignment values read when it fired, or NULL (read when
                      * it executes) */
} sg_pending_event;

struct sg_sim {
    const sg_model *model;
    sg_options opt;
    sg_solver *solver;
    const char **state_names;
    /* steady state of the unperturbed model, once computed */
    double *preeq_state;
    /* model events: scratch for evaluating triggers just after a time */
    unsigned char *fixed;     /* nslots: set by the experiment, kept by initial values */
    double *work, *ydot, *st_scaled, *jt_scaled;
    unsigned char *trig_prev, *trig_now;
    unsigned char *fired_late;  /* events fired in the last rounds at one instant */
    double *assign_values;    /* one event's new values, before any is applied */
    /* comparisons of `time` with a value fixed between events (time == 300,
     * time > t_on): the sim stops exactly there instead of root-finding */
    const sg_expr **time_marks;
    int ntime_marks;
    long event_count;         /* model-event occurrences in this run */
    int *roots_found;         /* nroots: scratch for sg_crossings_force */
    /* fired model events waiting to execute, in no particular order */
    sg_pending_event *pending;
    int npending;
    size_t pending_cap;
    long pending_seq;
    int tie_told;             /* warned about events of equal priority */
    double *due_priority;     /* per pending event: its priority (next_due) */
    size_t due_cap;
    gsl_rng *rng;             /* the choice among equal priorities (next_due) */
    int rng_seeded;           /* seeded with opt.seed in this run */
};

/* Where the sensitivity runs of sens put their warnings (NULL: nowhere). */
void sg_sens_set_warnings(sg_sens *sens, sg_warnings *w);
/* sg_warnings_take for a bare solver (the sensitivity runs). */
void sg_warnings_take_solver(sg_warnings *w, sg_solver *solver, const char *label);
/* Warnings about a run's rows: a species below -atol, an assignment that
 * is NaN or infinite (see sg_sim_warning_count). */
void sg_sim_warn_about_rows(sg_sim *sim, const sg_trajectory *t);
/* The warnings of the run just done go to sim->opt.warnings, if any,
 * labelled by the experiment's scenario and the values set (slots). */
void sg_sim_hand_over_warnings(sg_sim *sim, const sg_experiment *exp, const int *slots,
                               const double *values, int n);

/* One occurrence of a timed change. */
typedef struct occurrence {
    double at;
    int order; /* definition order, for a stable sort */
    sg_change change;
} occurrence;

/* Every event occurrence in [t_start, t_end], sorted by time (*out is
 * the caller's to free). */
sg_status sg_experiment_occurrences(const sg_experiment *exp, occurrence **out, int *count,
                                    sg_error *err);
/* The output times: evenly spaced points plus any extra ones, sorted and
 * without duplicates (*out is the caller's to free). */
sg_status sg_experiment_output_times(const sg_experiment *exp, double **out, int *count,
                                     sg_error *err);

/* Runs exp with extra values set at the start (a scan point): slots[k] =
 * values[k] for k < n. */
sg_status sg_sim_run_point(sg_sim *sim, const sg_experiment *exp, const int *slots,
                           const double *values, int n, sg_trajectory **out, sg_error *err);

/* The steady state of the model with slots[k] = values[k] (k < n) instead
 * of their base values (an ensemble sample), kept as the pre-equilibrium
 * that later runs of pre-equilibrating experiments start from. */
sg_status sg_sim_preequilibrate_with(sg_sim *sim, double t_start, const int *slots,
                                     const double *values, int n, sg_error *err);

/* Creates an empty trajectory with the default columns (and the
 * experiment's extra outputs when exp is not NULL). */
sg_trajectory *sg_trajectory_create(const sg_model *model);
sg_trajectory *sg_trajectory_create_for(const sg_model *model, const sg_experiment *exp);
/* Appends a row read from the value slots v. Returns -1 when out of memory. */
int sg_trajectory_add_row(sg_trajectory *traj, double time, const double *v);

/* Steady state from the values now in the sim's slots (see sg_steady_info);
 * on success the slots hold it. */
sg_status sg_sim_steady_from_current(sg_sim *sim, sg_steady_info *info, sg_error *err);

#endif

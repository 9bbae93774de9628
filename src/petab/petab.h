/*
 * PEtab v1 estimation problems: the YAML file and its TSV tables (tsv.c,
 * problem.c), the objective -- simulate every condition, compare with the
 * measurements (objective.c) -- and the estimation on top of it (fit.c,
 * profile.c).
 */
#ifndef SG_PETAB_H
#define SG_PETAB_H

#include "../expr/expr.h"
#include "../model/model.h"
#include "../scenario/scenario.h"

typedef struct sg_petab_sens_exp sg_petab_sens_exp;

/* ---- tsv.c: a strict tab-separated table. Rows and columns are 1-based
 * in messages: the header is row 1, the first data row is row 2. */
typedef struct sg_tsv {
    const char *path;
    int ncols, nrows;
    char **header;   /* ncols names */
    char **cells;    /* nrows x ncols, each trimmed of surrounding blanks */
    int *line;       /* file line of each data row */
    const char **row_path;  /* NULL, or the file of each data row (merged tables) */
    const int **row_columns; /* NULL, or per row: column in its file of each column */
    sg_arena *arena;
} sg_tsv;

/* Reads `path`: every row must have exactly as many fields as the header,
 * header names unique and non-empty. SG_ERR_IO if unreadable, SG_ERR_MODEL
 * with file:row:col otherwise. */
sg_status sg_tsv_read(const char *path, sg_tsv *tsv, sg_error *err);
void sg_tsv_free(sg_tsv *tsv);
/* Reads the `n` files of one PEtab table as a single table: the rows of
 * each in order, the header the union of theirs (a cell of a column its
 * file does not have is empty); each row remembers its file. */
sg_status sg_tsv_read_all(const char *const *paths, int n, sg_tsv *tsv, sg_error *err);
/* The file a data row came from, and the 0-based column in that file of
 * column `col` (-1 if its file has no such column). */
const char *sg_tsv_row_path(const sg_tsv *tsv, int row);
int sg_tsv_file_column(const sg_tsv *tsv, int row, int col);
/* Column index of `name`, -1 if absent. */
int sg_tsv_column(const sg_tsv *tsv, const char *name);
const char *sg_tsv_cell(const sg_tsv *tsv, int row, int col);
/* A table made in memory (sigode fit MODEL --data): `label` names it in
 * messages; rows are added one by one, with the line to report. */
sg_status sg_tsv_build(sg_tsv *tsv, const char *label, int ncols, const char *const *header,
                       sg_error *err);
sg_status sg_tsv_add_row(sg_tsv *tsv, const char *const *cells, int line, sg_error *err);

/* ---- problem.c */
enum { SG_SCALE_LIN = 0, SG_SCALE_LOG, SG_SCALE_LOG10 };
enum { SG_NOISE_NORMAL = 0, SG_NOISE_LAPLACE };
enum {
    SG_PRIOR_NONE = 0, SG_PRIOR_UNIFORM, SG_PRIOR_NORMAL, SG_PRIOR_LAPLACE,
    SG_PRIOR_LOGNORMAL, SG_PRIOR_LOGLAPLACE, SG_PRIOR_PS_UNIFORM, SG_PRIOR_PS_NORMAL,
    SG_PRIOR_PS_LAPLACE
};

typedef struct sg_petab_param {
    const char *id;
    int scale;
    double lower, upper, nominal; /* linear scale */
    int estimate;
    int index;          /* position among the estimated ones, -1 if fixed */
    int model_slot;     /* the model entity it sets, -1 if none */
    int prior;          /* objective prior */
    double prior_par[2];
    int row;
} sg_petab_param;

/* A value in the condition or measurement table: a number, a parameter
 * of the parameter table, or NaN (keep the model's value). */
typedef struct sg_petab_value {
    int param;          /* index into params, -1: the number */
    double number;
} sg_petab_value;

typedef struct sg_petab_observable {
    const char *id;
    sg_expr *formula, *noise;   /* bound over obs slots (see obs_slot) */
    int transform;
    int distribution;
    int first_obs_placeholder, nobs_placeholders;
    int first_noise_placeholder, nnoise_placeholders;
    int row;
} sg_petab_observable;

typedef struct sg_petab_condition {
    const char *id;
    sg_petab_value *values;     /* one per condition column */
    int row;
} sg_petab_condition;

typedef struct sg_petab_measurement {
    int observable, condition, preeq;  /* preeq -1: none */
    double time;                        /* may be INFINITY */
    double value;
    sg_petab_value *obs_pars, *noise_pars;
    int nobs_pars, nnoise_pars;
    int row;
    const char *file;                   /* the measurement file of `row` */
    int experiment;                     /* into experiments */
} sg_petab_measurement;

/* One simulation: a (pre-equilibration, simulation) condition pair with
 * the sorted distinct finite times it is measured at. */
typedef struct sg_petab_experiment {
    int condition, preeq;
    double *times;
    int ntimes;
    int steady;         /* some measurement at time inf */
    double t_end;
} sg_petab_experiment;

struct sg_petab {
    sg_arena *arena;
    sg_pool *pool;
    char *yaml_path;
    char *model_path, *measurement_path, *condition_path, *observable_path,
        *parameter_path;
    sg_model *model;
    sg_petab_param *params;
    int nparams, nestimated;
    int *estimated;             /* nestimated indices into params */
    sg_petab_observable *observables;
    int nobservables;
    int *cond_slot;             /* per condition column: model slot */
    const char **cond_column;
    int ncond_columns;
    sg_petab_condition *conditions;
    int nconditions;
    sg_petab_measurement *measurements;
    int nmeasurements;
    sg_petab_experiment *experiments;
    int nexperiments;
    /* observable expressions' slots: the model's, then one per parameter
     * of the table, then placeholders */
    int obs_param_base, obs_placeholder_base, nobs_slots;
    int *output_slots;          /* model parameters/compartments the formulas read */
    int noutput_slots;
    sg_tsv measurement_table;   /* kept to write the simulation table */
    int from_model;             /* made by sg_petab_from_model (observables are model ids) */
    /* gradients from sensitivities (sg_petab_prepare_sensitivities) */
    sg_petab_sens_exp *sens_exps;   /* one per simulation */
    int *dslots;                    /* per observable: slots its formulas read... */
    int *dslot_start;               /* ...observable o: dslots[start[o]..start[o+1]) */
    sg_expr **dformula, **dnoise;   /* d formula / d slot, d noise / d slot */
    int *output_index;              /* model slot -> index among sens outputs, -1 */
    const char **sens_outputs;
    int *sens_output_slot;          /* the model slot of each sens output */
    int nsens_outputs;
};

/* An evaluator's state (objective.c; gradient.c reads it too). */
struct sg_petab_eval {
    const sg_petab *p;
    sg_sim *sim;
    double *values;         /* nparams, linear scale */
    double *slots;          /* observable slots */
    int *set_slot;          /* start values of one simulation */
    double *set_value;
    int nset, set_cap;
    unsigned char *fixed;
    double *preeq_state;
    sg_experiment **exps;   /* one per simulation, made once */
    double fd_step;
    double *residuals;      /* NULL, or one weighted residual per measurement */
    double *sigmas;         /* NULL, or one noise sigma per measurement */
    sg_sens **sens;         /* per simulation: this thread's clone (gradient.c) */
    sg_sens **pre_sens;     /* per simulation: its pre-equilibration's clone */
    double *dfree;          /* nstate x nestimated: d steady state / d x */
    double *dslot;          /* scratch for gradients */
};

/* objective.c internals shared with gradient.c */
void sg_petab_set_values(sg_petab_eval *ev, const double *x);
double sg_petab_value_of(const sg_petab_eval *ev, const sg_petab_value *v);
void sg_petab_fill_measurement_slots(sg_petab_eval *ev, const sg_petab_measurement *m);
sg_status sg_petab_score(sg_petab_eval *ev, const sg_petab_measurement *m, double *sim,
                         sg_petab_result *res, sg_error *err);
double sg_petab_log_prior(const sg_petab_eval *ev, const double *x);
sg_status sg_petab_steady_values(sg_petab_eval *ev, int e, sg_error *err);
/* The pre-equilibration steady state of simulation e into ev->preeq_state. */
sg_status sg_petab_preeq_state(sg_petab_eval *ev, int e, sg_error *err);

/* ---- gradient.c: nllh gradients from forward sensitivities */
struct sg_petab_sens_exp {
    sg_sens *sens;            /* template (clones per evaluator) */
    int ntargets;
    int *target_slot;         /* sensitivity parameters: model entities... */
    int *target_param;        /* ...set from these estimated parameters */
    sg_experiment *exp;       /* the other start values (constant) */
    int *set_slot;            /* every start value of the simulation */
    double *set_value;        /* (NaN where a target takes it) */
    int nset;
    /* after a pre-equilibration: the states the simulation's condition
     * does not set are sensitivity parameters too (after the targets),
     * started at the pre-equilibrated steady state; their weights are
     * that steady state's sensitivities (implicit function theorem) */
    int nfree;
    int *free_state;
    sg_sens *pre_sens;        /* NULL: no estimated parameter reaches it */
    sg_experiment *pre_exp;   /* the pre-equilibration's constant sets */
    int pre_ntargets;
    int *pre_target_slot, *pre_target_param;
};
/* Gradients from sensitivities: SG_ERR_UNSUPPORTED (with the reason) when
 * the problem has what they do not cover yet. */
sg_status sg_petab_prepare_sensitivities(sg_petab *p, sg_error *err);
sg_status sg_petab_gradient_sens(sg_petab_eval *ev, const double *x, double *nllh, double *grad,
                                 sg_error *err);
void sg_petab_eval_free_sens(sg_petab_eval *ev);
void sg_petab_free_sensitivities(sg_petab *p);

/* When set, each evaluation writes the weighted residual of every
 * measurement there ((transformed y - transformed h) / sigma). */
void sg_petab_eval_set_residuals(sg_petab_eval *ev, double *residuals);
/* --optimizer lm is right only for normal noise with a sigma that no
 * estimated parameter changes and no priors: SG_ERR_USAGE otherwise. */
sg_status sg_petab_lm_applicable(const sg_petab *p, sg_error *err);

/* Simulated observables on a grid of npoints times per simulation, for
 * the fit plot: one curve per (simulation, observable) pair with data
 * (placeholders from its first measurement). */
typedef struct sg_petab_curve {
    int experiment, observable;
    int npoints;
    double *t, *y;
} sg_petab_curve;
sg_status sg_petab_curves(sg_petab_eval *ev, const double *x, int npoints, sg_petab_curve **out,
                          int *ncurves, sg_error *err);
void sg_petab_curves_free(sg_petab_curve *curves, int n);
/* Each measurement's noise sigma at x. */
sg_status sg_petab_sigmas(sg_petab_eval *ev, const double *x, double *sigma, sg_error *err);

/* problem.c: a problem whose model, measurement path and other tables are
 * already made (sg_petab_from_model). */
sg_status sg_petab_read_tables(sg_petab *p, sg_tsv *params, sg_tsv *observables,
                               sg_tsv *conditions, sg_error *err);

/* Parameter value on its scale and back. */
double sg_petab_to_scale(int scale, double value);
double sg_petab_from_scale(int scale, double value);

#endif

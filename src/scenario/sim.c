/*
 * Running an experiment: set the start values, integrate from output time
 * to output time, stop exactly at each event (CVodeSetStopTime), apply it
 * and restart the integrator there. A row at an event's time shows the
 * values after the event.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

static void clear_pending(sg_sim *sim);

/* Upper bound on the occurrences of repeated events in one run. */
#define SG_MAX_EVENT_OCCURRENCES 10000000L

/* Rounds of events set off by each other at one time instant before the
 * run is called a cycle. */
#define SG_MAX_EVENT_ROUNDS 1000

/* A value that changes only when an event or the experiment sets it:
 * numbers, constant species, compartments and parameters without a rate
 * rule (never a state, `time` or an assignment). */
static int fixed_between_events(const sg_model *m, const sg_expr *e)
{
    if (e->kind == EX_VAR)
        return e->slot >= m->nstate && e->slot < m->time_slot;
    if (e->kind == EX_TRAJ || e->kind == EX_DELAY)
        return 0;
    for (int i = 0; i < e->nargs; i++)
        if (!fixed_between_events(m, e->arg[i]))
            return 0;
    return 1;
}

/* Collects, from every trigger, the values c of comparisons of `time` with
 * c (time == 300, time >= t_on). CVODE's root finding lands only near such
 * a root (time == 300 would never hold there); the sim stops exactly at c. */
static int collect_time_marks(sg_sim *sim, const sg_expr *e, size_t *cap)
{
    const sg_model *m = sim->model;
    if (e->kind >= EX_LT && e->kind <= EX_NE) {
        for (int side = 0; side < 2; side++) {
            const sg_expr *a = e->arg[side], *c = e->arg[1 - side];
            if (a->kind != EX_VAR || a->slot != m->time_slot || !fixed_between_events(m, c))
                continue;
            for (int k = 0; k < sim->ntime_marks; k++)
                if (sim->time_marks[k] == c)
                    return 0;
            if (sg_grow(&sim->time_marks, cap, (size_t)sim->ntime_marks + 1,
                        sizeof *sim->time_marks) != 0)
                return -1;
            sim->time_marks[sim->ntime_marks++] = c;
            return 0;
        }
    }
    for (int i = 0; i < e->nargs; i++)
        if (collect_time_marks(sim, e->arg[i], cap) != 0)
            return -1;
    return 0;
}

static int find_time_marks(sg_sim *sim)
{
    size_t cap = 0;
    for (int k = 0; k < sim->model->ntriggers; k++)
        if (collect_time_marks(sim, sim->model->triggers[k].trigger, &cap) != 0)
            return -1;
    return 0;
}

/* A trigger's value with the equalities whose root was just found taken
 * as true. */
static double eval_forcing(const sg_program *p, const int *found, const sg_expr *e,
                           const double *w)
{
    switch (e->kind) {
    case EX_EQ:
        for (int q = 0; q < p->nequalities; q++)
            if (p->equalities[q] == e && found[p->equality_root[q]] != 0)
                return 1.0;
        return sg_expr_eval(e, w);
    case EX_IF:
        return eval_forcing(p, found, e->arg[0], w) != 0.0 ? eval_forcing(p, found, e->arg[1], w)
                                                            : eval_forcing(p, found, e->arg[2], w);
    case EX_NOT: return eval_forcing(p, found, e->arg[0], w) == 0.0;
    case EX_AND:
        return eval_forcing(p, found, e->arg[0], w) != 0.0 &&
               eval_forcing(p, found, e->arg[1], w) != 0.0;
    case EX_OR:
        return eval_forcing(p, found, e->arg[0], w) != 0.0 ||
               eval_forcing(p, found, e->arg[1], w) != 0.0;
    default: return sg_expr_eval(e, w); /* no logic above an equality */
    }
}

void sg_crossings_force(const sg_model *m, sg_solver *solver, int *found, const double *w,
                        unsigned char *trig_now)
{
    const sg_program *p = m->program;
    if (p->nequalities == 0 || sg_solver_roots_found(solver, found) != 0)
        return;
    for (int k = 0; k < m->ntriggers; k++)
        if (!trig_now[k])
            trig_now[k] = eval_forcing(p, found, m->triggers[k].trigger, w) != 0.0;
}

sg_sim *sg_sim_create(const sg_model *m, const sg_options *opt, sg_error *err)
{
    sg_options defaults;
    if (!opt) {
        sg_options_default(&defaults);
        opt = &defaults;
    }
    if (!(opt->rtol > 0) || !(opt->atol > 0) || opt->max_steps <= 0) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "tolerances must be positive and max steps at least 1");
        return NULL;
    }
    if (opt->step_growth_min != 0 && !(opt->step_growth_min >= 1)) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "the step growth to wait for must be at least 1 (or 0: automatic), not %g",
                     opt->step_growth_min);
        return NULL;
    }
    sg_sim *sim = sg_calloc(1, sizeof *sim);
    if (!sim) {
        sg_error_nomem(err);
        return NULL;
    }
    sim->model = m;
    sim->opt = *opt;
    sim->state_names = sg_calloc((size_t)m->nstate + 1, sizeof *sim->state_names);
    if (!sim->state_names) {
        sg_free(sim);
        sg_error_nomem(err);
        return NULL;
    }
    for (int i = 0; i < m->nstate; i++)
        sim->state_names[i] = m->slot_name[i];
    const sg_program *p = m->program;
    size_t nst = (size_t)p->st_start[p->nstate], njt = (size_t)p->jt_start[p->nnz];
    sim->fixed = sg_calloc((size_t)p->nslots + 1, 1);
    sim->work = sg_malloc(sizeof(double) * ((size_t)p->nslots + 1));
    sim->ydot = sg_malloc(sizeof(double) * ((size_t)p->nstate + 1));
    sim->st_scaled = sg_malloc(sizeof(double) * (nst + 1));
    sim->jt_scaled = sg_malloc(sizeof(double) * (njt + 1));
    sim->trig_prev = sg_calloc((size_t)p->ntriggers + 1, 1);
    sim->trig_now = sg_calloc((size_t)p->ntriggers + 1, 1);
    sim->fired_late = sg_calloc((size_t)p->ntriggers + 1, 1);
    sim->roots_found = sg_calloc((size_t)p->nroots + 1, sizeof(int));
    size_t most_assigns = 0;
    for (int k = 0; k < m->ntriggers; k++)
        if ((size_t)m->triggers[k].nassigns > most_assigns)
            most_assigns = (size_t)m->triggers[k].nassigns;
    sim->assign_values = sg_malloc(sizeof(double) * (most_assigns + 1));
    if (!sim->fixed || !sim->work || !sim->ydot || !sim->st_scaled || !sim->jt_scaled ||
        !sim->trig_prev || !sim->trig_now || !sim->fired_late || !sim->assign_values ||
        !sim->roots_found || find_time_marks(sim) != 0) {
        sg_sim_free(sim);
        sg_error_nomem(err);
        return NULL;
    }
    sim->solver = sg_solver_create(m->program, sim->state_names, opt, err);
    if (!sim->solver) {
        sg_sim_free(sim);
        return NULL;
    }
    return sim;
}

void sg_sim_free(sg_sim *sim)
{
    if (!sim)
        return;
    sg_solver_free(sim->solver);
    sg_free(sim->state_names);
    sg_free(sim->preeq_state);
    sg_free(sim->fixed);
    sg_free(sim->work);
    sg_free(sim->ydot);
    sg_free(sim->st_scaled);
    sg_free(sim->jt_scaled);
    sg_free(sim->trig_prev);
    sg_free(sim->trig_now);
    sg_free(sim->assign_values);
    sg_free(sim->fired_late);
    sg_free(sim->time_marks);
    sg_free(sim->roots_found);
    clear_pending(sim);
    sg_free(sim->pending);
    sg_free(sim->due_priority);
    if (sim->rng)
        gsl_rng_free(sim->rng);
    sg_free(sim);
}

void sg_sim_stats(const sg_sim *sim, sg_stats *stats) { sg_solver_stats(sim->solver, stats); }

int sg_sim_warning_count(const sg_sim *sim) { return sg_solver_warning_count(sim->solver); }

const char *sg_sim_warning(sg_sim *sim, int i)
{
    return i >= 0 && i < sg_solver_warning_count(sim->solver) ? sg_solver_warning(sim->solver, i)
                                                               : NULL;
}

/* Whether any value of t calls for a warning of sg_sim_warn_about_rows:
 * one pass in memory order (the table is row-major), where the
 * column-by-column pass was about 1% of a small model's run; that pass
 * then runs only when there is something to say. */
static int rows_need_warning(const sg_trajectory *t, int nspecies, double atol)
{
    int species = nspecies < t->ncols ? nspecies : t->ncols;
    for (int r = 0; r < t->nrows; r++) {
        const double *row = t->data + (size_t)r * (size_t)t->ncols;
        int bad = 0;
        for (int c = 0; c < species; c++)
            bad |= row[c] < -atol;
        for (int c = species; c < t->ncols; c++)
            bad |= !isfinite(row[c]);
        if (bad)
            return 1;
    }
    return 0;
}

/* Results sigode cannot vouch for, found in the rows of a run: the first
 * species below -atol (once per run: a concentration cannot be negative),
 * and each assignment or extra column the first time it is NaN or
 * infinite (0/0, a division by zero, an overflow). */
void sg_sim_warn_about_rows(sg_sim *sim, const sg_trajectory *t)
{
    const sg_model *m = sim->model;
    if (!rows_need_warning(t, m->nspecies, sim->opt.atol))
        return;
    int negative_told = 0;
    for (int c = 0; c < t->ncols; c++) {
        int is_species = c < m->nspecies;
        for (int r = 0; r < t->nrows; r++) {
            double x = t->data[(size_t)r * (size_t)t->ncols + (size_t)c];
            if (is_species && !negative_told && x < -sim->opt.atol) {
                sg_solver_add_warning(sim->solver,
                                      "species '%s' is negative: %.6g at t = %.10g (below "
                                      "-atol = %g); a concentration cannot be negative: try "
                                      "tighter tolerances (--rtol, --atol) or check the rate "
                                      "laws",
                                      t->names[c], x, t->times[r], sim->opt.atol);
                negative_told = 1;
                break;
            }
            if (!is_species && !isfinite(x)) {
                sg_solver_add_warning(sim->solver,
                                      "'%s' is %s from t = %.10g on (first time): its "
                                      "expression divides by zero, takes 0/0 or overflows there",
                                      t->names[c], isnan(x) ? "nan" : x > 0 ? "inf" : "-inf",
                                      t->times[r]);
                break;
            }
        }
    }
}

/* Hands the warnings of the run just done to opt.warnings (when there is
 * one), named by the scenario and the values the run set ("scenario
 * 'dose', IL2 = 0.5"); a cut name still tells the run apart. */
void sg_sim_hand_over_warnings(sg_sim *sim, const sg_experiment *exp, const int *slots,
                               const double *values, int n)
{
    if (!sim->opt.warnings)
        return;
    if (sg_solver_warning_count(sim->solver) == 0) {
        /* the run still counts; the label (snprintf per value, 1% of an
         * ensemble) is only needed with a warning */
        sg_warnings_take(sim->opt.warnings, sim, NULL);
        return;
    }
    char label[256];
    size_t used = 0;
    label[0] = '\0';
    if (exp && exp->scenario)
        used = (size_t)snprintf(label, sizeof label, "scenario '%s'", exp->scenario->id);
    for (int k = 0; k < n && used < sizeof label; k++)
        used += (size_t)snprintf(label + used, sizeof label - used, "%s%s = %.6g",
                                 used ? ", " : "", sim->model->slot_name[slots[k]], values[k]);
    sg_warnings_take(sim->opt.warnings, sim, label[0] ? label : NULL);
}

void sg_options_default(sg_options *opt)
{
    opt->rtol = 1e-6;
    opt->atol = 1e-9;
    opt->max_steps = 100000;
    opt->linear_solver = SG_LINSOL_AUTO;
    opt->max_events = SG_MAX_EVENT_OCCURRENCES;
    opt->warnings = NULL;
    opt->seed = 1;
    opt->lsetup_every = 0;
    opt->step_growth_min = 0;
}

/* ------------------------------------------------------------ trajectory */

sg_trajectory *sg_trajectory_create(const sg_model *m)
{
    return sg_trajectory_create_for(m, NULL);
}

sg_trajectory *sg_trajectory_create_for(const sg_model *m, const sg_experiment *exp)
{
    sg_trajectory *t = sg_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->model = m;
    int extra = exp ? exp->noutputs : 0;
    t->ncols = m->nspecies + m->nassignments + extra;
    t->names = sg_malloc(sizeof *t->names * ((size_t)t->ncols + 1));
    t->slots = sg_malloc(sizeof *t->slots * ((size_t)t->ncols + 1));
    if (!t->names || !t->slots) {
        sg_trajectory_free(t);
        return NULL;
    }
    for (int i = 0; i < m->nspecies; i++) {
        t->names[i] = m->species[i].id;
        t->slots[i] = m->species[i].slot;
    }
    for (int i = 0; i < m->nassignments; i++) {
        t->names[m->nspecies + i] = m->assignments[i].id;
        t->slots[m->nspecies + i] = m->assignments[i].slot;
    }
    for (int i = 0; i < extra; i++) {
        t->names[m->nspecies + m->nassignments + i] = m->slot_name[exp->outputs[i]];
        t->slots[m->nspecies + m->nassignments + i] = exp->outputs[i];
    }
    return t;
}

void sg_trajectory_free(sg_trajectory *t)
{
    if (!t)
        return;
    sg_free(t->times);
    sg_free(t->data);
    sg_free(t->names);
    sg_free(t->slots);
    sg_free(t);
}

int sg_trajectory_add_row(sg_trajectory *t, double time, const double *v)
{
    if ((size_t)t->nrows + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        double *times = sg_realloc(t->times, cap * sizeof *times);
        if (!times)
            return -1;
        t->times = times;
        double *data = sg_realloc(t->data, cap * (size_t)(t->ncols ? t->ncols : 1) * sizeof *data);
        if (!data)
            return -1;
        t->data = data;
        t->cap = cap;
    }
    t->times[t->nrows] = time;
    double *row = t->data + (size_t)t->nrows * (size_t)t->ncols;
    for (int c = 0; c < t->ncols; c++)
        row[c] = v[t->slots[c]];
    t->nrows++;
    return 0;
}

int sg_trajectory_rows(const sg_trajectory *t) { return t->nrows; }
int sg_trajectory_columns(const sg_trajectory *t) { return t->ncols; }
const char *sg_trajectory_column_id(const sg_trajectory *t, int c) { return t->names[c]; }
double sg_trajectory_time(const sg_trajectory *t, int r) { return t->times[r]; }
double sg_trajectory_value(const sg_trajectory *t, int r, int c)
{
    return t->data[(size_t)r * (size_t)t->ncols + (size_t)c];
}

int sg_trajectory_find_column(const sg_trajectory *t, const char *id)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], id) == 0)
            return c;
    return -1;
}

double sg_trajectory_value_at(const sg_trajectory *t, double time, int c)
{
    if (t->nrows == 0 || time < t->times[0] || time > t->times[t->nrows - 1])
        return NAN;
    /* the last row at that time: after an event, values are post-event */
    int lo = 0, hi = t->nrows - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (t->times[mid] <= time)
            lo = mid;
        else
            hi = mid - 1;
    }
    if (t->times[lo] == time || lo == t->nrows - 1)
        return sg_trajectory_value(t, lo, c);
    double t0 = t->times[lo], t1 = t->times[lo + 1];
    double f = (time - t0) / (t1 - t0);
    return sg_trajectory_value(t, lo, c) * (1 - f) + sg_trajectory_value(t, lo + 1, c) * f;
}

/* ------------------------------------------------------------------ run */

static int occurrence_order(const void *x, const void *y)
{
    const occurrence *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

static int double_order(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

sg_status sg_experiment_occurrences(const sg_experiment *exp, occurrence **out, int *count,
                                    sg_error *err)
{
    long total = 0;
    for (int i = 0; i < exp->nevents; i++) {
        const sg_timed_change *e = &exp->events[i];
        if (e->at > exp->t_end)
            continue;
        long n = 1;
        if (e->every > 0) {
            double span = floor((exp->t_end - e->at) / e->every + 1e-9) + 1;
            n = e->count > 0 && e->count < span ? e->count : (long)fmin(span, 1e15);
        }
        total += n;
        if (total > SG_MAX_EVENT_OCCURRENCES)
            return sg_error_set(err, SG_ERR_LIMIT, NULL, 0, 0,
                                "more than %ld event occurrences in one run",
                                SG_MAX_EVENT_OCCURRENCES);
    }
    occurrence *occ = sg_malloc(sizeof *occ * ((size_t)total + 1));
    if (!occ)
        return sg_error_nomem(err);
    int k = 0;
    for (int i = 0; i < exp->nevents; i++) {
        const sg_timed_change *e = &exp->events[i];
        if (e->at > exp->t_end)
            continue;
        for (long j = 0;; j++) {
            double at = e->at + (double)j * e->every;
            if (at > exp->t_end * (1 + 1e-12) || (e->every <= 0 && j > 0) ||
                (e->count > 0 && j >= e->count))
                break;
            occ[k++] = (occurrence){fmin(at, exp->t_end), i, e->change};
        }
    }
    qsort(occ, (size_t)k, sizeof *occ, occurrence_order);
    *out = occ;
    *count = k;
    return SG_OK;
}

sg_status sg_experiment_output_times(const sg_experiment *exp, double **out, int *count,
                                     sg_error *err)
{
    for (int i = 0; i < exp->nextra; i++)
        if (exp->extra_times[i] < exp->t_start || exp->extra_times[i] > exp->t_end)
            return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                "readout time %g is outside the run's time span %g..%g",
                                exp->extra_times[i], exp->t_start, exp->t_end);
    size_t n = (size_t)exp->points + (size_t)exp->nextra;
    double *t = sg_malloc(sizeof *t * (n + 1));
    if (!t)
        return sg_error_nomem(err);
    double span = exp->t_end - exp->t_start;
    for (long i = 0; i < exp->points; i++)
        t[i] = exp->t_start + span * (double)i / (double)(exp->points - 1);
    t[exp->points - 1] = exp->t_end;
    if (exp->nextra > 0) /* extra_times may be NULL */
        memcpy(t + exp->points, exp->extra_times, sizeof *t * (size_t)exp->nextra);
    /* the evenly spaced points are sorted already: sort only with extra
     * times (a qsort per run was 1.6% of an ensemble) */
    int sorted = 1;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = t[i - 1] <= t[i];
    if (!sorted)
        qsort(t, n, sizeof *t, double_order);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || t[i] != t[m - 1])
            t[m++] = t[i];
    *out = t;
    *count = (int)m;
    return SG_OK;
}

/* Model events ------------------------------------------------------------
 * A trigger fires when it goes from false to true. At each instant where
 * events may fire (the start, a root CVODE found, a time mark, a scheduled
 * change) the triggers are read twice: at the time itself, then just after
 * it (a first-order step of 1e-9 relative along the derivative). So
 * `time == 300` holds at 300, `p1 >= 1` true at the start fires there even
 * if p1 then falls, and `time > 5` is true at its root 5 already. */

static void triggers_at(sg_sim *sim, double t, const double *v, int just_after,
                        unsigned char *out)
{
    const sg_program *p = sim->model->program;
    double *w = sim->work;
    double dt = just_after ? 1e-9 * fmax(1.0, fabs(t)) : 0.0;
    memcpy(w, v, sizeof(double) * (size_t)p->nslots);
    sg_program_scale(p, w, sim->st_scaled, sim->jt_scaled);
    if (p->nstate > 0 && just_after) {
        /* the states are read from v; the rates land in w */
        sg_program_rhs(p, t, v, sim->ydot, w, sim->st_scaled);
        for (int i = 0; i < p->nstate; i++)
            w[i] = v[i] + dt * (isfinite(sim->ydot[i]) ? sim->ydot[i] : 0.0);
    }
    w[p->time_slot] = t + dt;
    sg_program_exec(p, 0, p->n_roots, w);
    for (int k = 0; k < p->ntriggers; k++)
        out[k] = w[p->trigger_slot[k]] != 0.0;
}

/* After values changed outside the integrator: parameter-only code and
 * then the assignments at time t. */
static void refresh(sg_sim *sim, double t, double *v)
{
    const sg_program *p = sim->model->program;
    sg_program_scale(p, v, sim->st_scaled, sim->jt_scaled);
    v[p->time_slot] = t;
    sg_program_exec(p, 0, p->n_assign, v);
}

/* The ids of the events that fired in the last round, for a message. */
static void name_firing(const sg_sim *sim, const unsigned char *fired, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < sim->model->ntriggers && used + 1 < size; k++) {
        if (!fired[k])
            continue;
        int w = snprintf(buf + used, size - used, "%s'%s'", used ? ", " : "",
                         sim->model->triggers[k].id);
        if (w < 0 || (size_t)w >= size - used) {
            snprintf(buf + (size > 5 ? size - 5 : 0), size > 5 ? 5 : size, "...");
            break;
        }
        used += (size_t)w;
    }
}

/* Pending events (SBML Level 3 semantics) ---------------------------------
 * An event fires when its trigger goes from false to true: its delay is
 * read then, and so are its assignment values if use_values_from_trigger_time
 * (otherwise they are read when it executes). It executes at the firing time
 * plus the delay; an event without a delay is due at once. Of the events due
 * at one time, the one of highest priority executes first (an event without
 * a priority after all that have one). Of several due with the same
 * explicit priority one is chosen at random, as SBML says (its test suite
 * checks the choice is fair: cases 00952, 01588...): MT19937 (GSL) seeded
 * with opt.seed at the start of every run, so a run is reproducible and the
 * seed changes the draws. Events without a priority, for which SBML leaves
 * the order open, go in firing order, then definition order. After each
 * execution the triggers are read again: events fired by it join the queue,
 * and a non-persistent event whose trigger is now false leaves it. An event
 * that fires again while pending gets a second pending instance. */

static void drop_pending(sg_sim *sim, int i)
{
    sg_free(sim->pending[i].values);
    sim->pending[i] = sim->pending[--sim->npending];
}

static void clear_pending(sg_sim *sim)
{
    while (sim->npending > 0)
        drop_pending(sim, sim->npending - 1);
    sim->pending_seq = 0;
}

/* Event k fired at t (v refreshed): queue it. */
static sg_status queue_event(sg_sim *sim, int k, double t, const double *v, sg_error *err)
{
    const sg_trigger_def *e = &sim->model->triggers[k];
    double delay = e->delay ? sg_expr_eval(e->delay, v) : 0.0;
    if (!(delay >= 0) || !isfinite(delay)) {
        sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                     "event '%s' fired at t = %.17g with delay %g: a delay must be a finite "
                     "number >= 0",
                     e->id, t, delay);
        if (err)
            err->time = t;
        return SG_ERR_SOLVER;
    }
    if (sg_grow(&sim->pending, &sim->pending_cap, (size_t)sim->npending + 1,
                sizeof *sim->pending) != 0 ||
        sg_grow(&sim->due_priority, &sim->due_cap, (size_t)sim->npending + 1,
                sizeof *sim->due_priority) != 0)
        return sg_error_nomem(err);
    sg_pending_event *pe = &sim->pending[sim->npending];
    *pe = (sg_pending_event){t + delay, sim->pending_seq++, k, NULL};
    if (e->use_trigger_time) {
        if (!(pe->values = sg_malloc(sizeof(double) * ((size_t)e->nassigns + 1))))
            return sg_error_nomem(err);
        for (int a = 0; a < e->nassigns; a++)
            pe->values[a] = sg_expr_eval(e->assigns[a].value, v);
    }
    sim->npending++;
    return SG_OK;
}

/* The pending event to execute now at t (-1 if none is due): the highest
 * priority; among several of the same explicit priority, one at random
 * (above). The first such tie of a run gets a warning naming the seed: the
 * results depend on the draws. */
static int next_due(sg_sim *sim, double t, const double *v)
{
    int best = -1, ties = 0;
    double best_priority = 0;
    for (int i = 0; i < sim->npending; i++) {
        const sg_pending_event *pe = &sim->pending[i];
        if (pe->at > t)
            continue;
        const sg_expr *pr = sim->model->triggers[pe->event].priority;
        double priority = pr ? sg_expr_eval(pr, v) : -INFINITY;
        if (isnan(priority))
            priority = -INFINITY;
        sim->due_priority[i] = priority;
        if (best < 0 || priority > best_priority) {
            best = i;
            best_priority = priority;
            ties = 1;
        } else if (priority == best_priority) {
            ties++;
            if (pe->seq < sim->pending[best].seq)
                best = i;
        }
    }
    if (best < 0 || ties < 2 || !sim->model->triggers[sim->pending[best].event].priority)
        return best;
    if (!sim->rng && !(sim->rng = gsl_rng_alloc(gsl_rng_mt19937)))
        return best; /* no memory for the generator: firing order (not reached in practice) */
    if (!sim->rng_seeded) {
        gsl_rng_set(sim->rng, sim->opt.seed);
        sim->rng_seeded = 1;
    }
    /* the draw-th tied event in pending order: the draws, not the layout of
     * the queue, decide, since the queue's order follows from the run */
    unsigned long draw = gsl_rng_uniform_int(sim->rng, (unsigned long)ties);
    int chosen = best, other = -1;
    for (int i = 0, k = 0; i < sim->npending; i++) {
        if (sim->pending[i].at > t || sim->due_priority[i] != best_priority)
            continue;
        if ((unsigned long)k == draw)
            chosen = i;
        else if (other < 0)
            other = i;
        k++;
    }
    if (!sim->tie_told) {
        sim->tie_told = 1;
        const sg_trigger_def *ev = sim->model->triggers;
        sg_solver_add_warning(sim->solver,
                              "events '%s' and '%s' are due at t = %.10g with the same "
                              "priority %g: one is chosen at random, as SBML says (seed %lu; "
                              "the results depend on it), here and at later ties",
                              ev[sim->pending[chosen].event].id, ev[sim->pending[other].event].id,
                              t, best_priority, sim->opt.seed);
    }
    return chosen;
}

/* Reads the triggers at t (round 0) or just after it (later rounds), queues
 * the events that fired and drops non-persistent pending events whose
 * trigger is false. Then executes the due event of highest priority, one
 * per round, until none is due. *fired gets the number executed or queued
 * for later (the integrator must restart if > 0). A cascade that does not settle within
 * SG_MAX_EVENT_ROUNDS rounds is an error (the run cannot go on past t), and
 * so are more than max_events firings in one run. */
static sg_status fire_events(sg_sim *sim, double t, double *v, int at_root, int *fired,
                             sg_error *err)
{
    const sg_model *m = sim->model;
    sg_status st;
    *fired = 0;
    for (int round = 0;; round++) {
        triggers_at(sim, t, v, round > 0, sim->trig_now);
        if (round == 0 && at_root) /* x == 5 holds where x - 5 changed sign */
            sg_crossings_force(m, sim->solver, sim->roots_found, sim->work, sim->trig_now);
        refresh(sim, t, v);
        for (int k = 0; k < m->ntriggers; k++) {
            if (sim->trig_prev[k] || !sim->trig_now[k])
                continue;
            long most = sim->opt.max_events > 0 ? sim->opt.max_events : SG_MAX_EVENT_OCCURRENCES;
            if (++sim->event_count > most) {
                sg_error_set(err, SG_ERR_LIMIT, NULL, 0, 0,
                             "more than %ld model-event occurrences in one run (event '%s' at "
                             "t = %.17g; a trigger that becomes true again at once?)",
                             most, m->triggers[k].id, t);
                if (err)
                    err->time = t;
                return SG_ERR_LIMIT;
            }
            if ((st = queue_event(sim, k, t, v, err)) != SG_OK)
                return st;
            /* CVODE may have stepped past its delayed time: restart */
            if (sim->pending[sim->npending - 1].at > t)
                (*fired)++;
        }
        for (int i = sim->npending - 1; i >= 0; i--)
            if (!sim->trig_now[sim->pending[i].event] &&
                !m->triggers[sim->pending[i].event].persistent)
                drop_pending(sim, i);
        memcpy(sim->trig_prev, sim->trig_now, (size_t)m->ntriggers);
        int due = next_due(sim, t, v);
        if (due < 0) {
            if (round > 0)
                break;
            continue;
        }
        int k = sim->pending[due].event;
        const sg_trigger_def *e = &m->triggers[k];
        if (round >= SG_MAX_EVENT_ROUNDS) {
            char names[400];
            name_firing(sim, sim->fired_late, names, sizeof names);
            sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                         "events fire without end at t = %.17g: after %d rounds %s still "
                         "fire (each one's changes set off the next; the run cannot go on)",
                         t, SG_MAX_EVENT_ROUNDS, names);
            if (err)
                err->time = t;
            return SG_ERR_SOLVER;
        }
        if (*fired == 0)
            memset(sim->fired_late, 0, (size_t)m->ntriggers);
        if (round >= SG_MAX_EVENT_ROUNDS - 10) /* to name the cycle */
            sim->fired_late[k] = 1;
        const double *values = sim->pending[due].values;
        if (!values) {
            for (int a = 0; a < e->nassigns; a++)
                sim->assign_values[a] = sg_expr_eval(e->assigns[a].value, v);
            values = sim->assign_values;
        }
        for (int a = 0; a < e->nassigns; a++)
            v[e->assigns[a].slot] = values[a];
        drop_pending(sim, due);
        (*fired)++;
    }
    refresh(sim, t, v);
    return SG_OK;
}

/* The next time mark or pending event after t (+inf if none). */
static double next_time_mark(const sg_sim *sim, double t, const double *v)
{
    double next = INFINITY;
    for (int k = 0; k < sim->ntime_marks; k++) {
        double c = sg_expr_eval(sim->time_marks[k], v);
        if (c > t && c < next)
            next = c;
    }
    for (int i = 0; i < sim->npending; i++)
        if (sim->pending[i].at > t && sim->pending[i].at < next)
            next = sim->pending[i].at;
    return next;
}

/* Integrates from t to `target` (stopping exactly at `stop`), handling
 * every root of the event triggers and every time mark on the way. */
static sg_status advance(sg_sim *sim, double t, double target, double stop, double *v,
                         sg_error *err)
{
    if (sim->model->ntriggers == 0)
        return sg_solver_advance(sim->solver, target, stop, err);
    for (;;) {
        double mark = next_time_mark(sim, t, v);
        double to = fmin(target, mark), until = fmin(stop, mark);
        double reached;
        int root, fired;
        sg_status st = sg_solver_advance_roots(sim->solver, to, until, &reached, &root, err);
        if (st != SG_OK)
            return st;
        if (!root && to != mark)
            return SG_OK; /* reached target */
        if ((st = fire_events(sim, reached, v, root, &fired, err)) != SG_OK)
            return st;
        if (fired > 0 && (st = sg_solver_start(sim->solver, reached, err)) != SG_OK)
            return st;
        t = reached;
        if (reached >= target)
            return SG_OK;
    }
}

static void apply(double *v, const sg_change *c)
{
    if (c->add)
        v[c->slot] += c->value;
    else
        v[c->slot] = c->value;
}

/* Brings the unperturbed model (base values, no sets) to steady state,
 * leaving it in the slots. It depends only on the model, so each sim
 * computes it once. */
static sg_status preequilibrate(sg_sim *sim, double t_start, sg_error *err)
{
    const sg_program *p = sim->model->program;
    double *v = sg_solver_values(sim->solver);
    if (sim->preeq_state) {
        memcpy(v, sim->preeq_state, sizeof(double) * (size_t)p->nstate);
        return SG_OK;
    }
    sg_steady_info info = {0};
    sg_status st = sg_solver_begin_history(sim->solver, t_start, err);
    if (st == SG_OK)
        st = sg_solver_start(sim->solver, t_start, err);
    if (st == SG_OK)
        st = sg_sim_steady_from_current(sim, &info, err);
    if (st != SG_OK) {
        if (err) {
            char msg[sizeof err->message];
            snprintf(msg, sizeof msg, "pre-equilibration failed: %.700s", err->message);
            memcpy(err->message, msg, sizeof msg);
        }
        return st;
    }
    /* parameters and the rest of the slots return to the base values */
    memcpy(v + p->nstate, p->base + p->nstate, sizeof(double) * (size_t)(p->nslots - p->nstate));
    double *keep = sg_realloc(sim->preeq_state, sizeof(double) * ((size_t)p->nstate + 1));
    if (!keep)
        return sg_error_nomem(err);
    memcpy(keep, v, sizeof(double) * (size_t)p->nstate);
    sim->preeq_state = keep;
    return SG_OK;
}

/* A model whose expressions read the values before the start by
 * `time < 0` (runs_from_zero, the SBML import's delay guards) would read
 * the equilibrium, not the starting values, between 0 and a later start,
 * and starting values that are not the run's after a preequilibration:
 * refused. */
static sg_status check_runs_from_zero(const sg_model *m, double t_start, int preequilibrate,
                                      sg_error *err)
{
    if (!m->runs_from_zero || (t_start == 0 && !preequilibrate))
        return SG_OK;
    return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                        "model '%s' has runs_from_zero = true (its delay() reads the values "
                        "before time 0 as SBML's starting values): it runs from time 0 "
                        "without preequilibration only, not %s (not supported)", m->name,
                        preequilibrate ? "after a preequilibration" : "from another t_start");
}

sg_status sg_sim_preequilibrate_with(sg_sim *sim, double t_start, const int *slots,
                                     const double *values, int n, sg_error *err)
{
    const sg_model *m = sim->model;
    const sg_program *p = m->program;
    sg_status zero = check_runs_from_zero(m, t_start, 1, err);
    if (zero != SG_OK)
        return zero;
    double *v = sg_solver_values(sim->solver);
    memcpy(v, p->base, sizeof(double) * (size_t)p->nslots);
    for (int k = 0; k < n; k++)
        v[slots[k]] = values[k];
    sg_delay_use(NULL); /* as in sg_sim_run_point */
    if (m->ninits > 0) {
        memset(sim->fixed, 0, (size_t)p->nslots);
        for (int k = 0; k < n; k++)
            sim->fixed[slots[k]] = 1;
        v[p->time_slot] = t_start;
        sg_model_initial_values(m, v, sim->fixed);
    }
    sg_steady_info info = {0};
    sg_status st = sg_solver_begin_history(sim->solver, t_start, err);
    if (st == SG_OK)
        st = sg_solver_start(sim->solver, t_start, err);
    if (st == SG_OK)
        st = sg_sim_steady_from_current(sim, &info, err);
    if (st != SG_OK)
        return st;
    double *keep = sg_realloc(sim->preeq_state, sizeof(double) * ((size_t)p->nstate + 1));
    if (!keep)
        return sg_error_nomem(err);
    memcpy(keep, v, sizeof(double) * (size_t)p->nstate);
    sim->preeq_state = keep;
    return SG_OK;
}

/* delay(x, tau) before the start: the initial-value expressions at the
 * earlier time in v, except where the run set a value (sim->fixed). */
static void past_values(void *ctx, double *v)
{
    const sg_sim *sim = ctx;
    sg_model_initial_values(sim->model, v, sim->fixed);
}

/* The output times an experiment with readouts_only needs (times[] is
 * sorted, occ[] too): the start, the end, the extra times, and after every
 * start of CVODE (t_start and each scheduled change) the first output time
 * after it, because CVODE sizes its first step by the first time it is asked
 * for (cvHin): with it kept, the run takes the steps of the full run and the
 * kept rows hold the same numbers. The points in between cost a CVode call,
 * an interpolation and the assignments each, 7% of a dose-response ensemble
 * that reads only the end. Model events restart CVODE where the solver
 * finds them, so a model with triggers keeps every time. */
static void keep_readout_times(const sg_experiment *exp, const occurrence *occ, int nocc,
                               double *times, int *ntimes)
{
    int n = *ntimes, m = 1, next = 0;
    /* a delay model steps one CVODE step at a time and stops at every
     * output time: fewer times would change its steps, so it keeps them */
    if (!exp->readouts_only || exp->model->ntriggers > 0 || exp->model->program->ndelays > 0 ||
        n <= 2)
        return;
    /* CVODE (re)starts at times[0] and at every change after it; the first
     * output time after a start (times[r - 1] <= start < times[r]) is the
     * first it is asked for */
    for (int r = 1; r < n; r++) {
        int keep = r == n - 1 || times[r - 1] == exp->t_start;
        while (next < nocc && occ[next].at < times[r]) {
            keep |= occ[next].at >= times[r - 1] && occ[next].at > exp->t_start;
            next++;
        }
        for (int i = 0; i < exp->nextra && !keep; i++)
            keep = exp->extra_times[i] == times[r];
        if (keep)
            times[m++] = times[r];
    }
    *ntimes = m;
}

sg_status sg_sim_run_point(sg_sim *sim, const sg_experiment *exp, const int *slots,
                           const double *values, int n, sg_trajectory **out, sg_error *err)
{
    const sg_model *m = sim->model;
    const sg_program *p = m->program;
    sg_solver *solver = sim->solver;
    occurrence *occ = NULL;
    double *times = NULL;
    int nocc = 0, ntimes = 0;
    *out = NULL;
    if (exp->model != m)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "the experiment was made for another model");
    sg_status zero = check_runs_from_zero(m, exp->t_start, exp->preequilibrate, err);
    if (zero != SG_OK)
        return zero;
    sg_solver_clear_warnings(solver);
    sg_trajectory *traj = sg_trajectory_create_for(m, exp);
    if (!traj)
        return sg_error_nomem(err);
    sg_status st = sg_experiment_occurrences(exp, &occ, &nocc, err);
    if (st == SG_OK)
        st = sg_experiment_output_times(exp, &times, &ntimes, err);
    if (st != SG_OK)
        goto done;
    keep_readout_times(exp, occ, nocc, times, &ntimes);

    double *v = sg_solver_values(solver);
    memcpy(v, p->base, sizeof(double) * (size_t)p->nslots);
    /* initial values read delay(x, tau) as x now, never another run's past */
    sg_delay_use(NULL);
    if (exp->preequilibrate && (st = preequilibrate(sim, exp->t_start, err)) != SG_OK)
        goto done;
    for (int i = 0; i < exp->nsets; i++)
        apply(v, &exp->sets[i]);
    for (int k = 0; k < n; k++)
        v[slots[k]] = values[k];
    if (m->ninits > 0) {
        /* initial-value expressions, except where the experiment set a value */
        memset(sim->fixed, 0, (size_t)p->nslots);
        for (int i = 0; i < exp->nsets; i++)
            sim->fixed[exp->sets[i].slot] = 1;
        for (int k = 0; k < n; k++)
            sim->fixed[slots[k]] = 1;
        if (exp->preequilibrate) /* the states come from the steady state */
            memset(sim->fixed, 1, (size_t)p->nstate);
        v[p->time_slot] = exp->t_start;
        sg_model_initial_values(m, v, sim->fixed);
    }

    double t = exp->t_start;
    int next = 0;
    while (next < nocc && occ[next].at <= t)
        apply(v, &occ[next++].change);
    if ((st = sg_solver_begin_history(solver, t, err)) != SG_OK)
        goto done;
    sg_solver_set_past(solver, m->ninits > 0 ? past_values : NULL, sim);
    for (int k = 0; k < m->ntriggers; k++)
        sim->trig_prev[k] = (unsigned char)m->triggers[k].initial_value;
    refresh(sim, t, v);
    sim->event_count = 0;
    clear_pending(sim);
    sim->tie_told = 0;
    sim->rng_seeded = 0;
    int fired;
    if (m->ntriggers > 0 && (st = fire_events(sim, t, v, 0, &fired, err)) != SG_OK)
        goto done;
    if ((st = sg_solver_start(solver, t, err)) != SG_OK)
        goto done;
    for (int r = 0; r < ntimes; r++) {
        double tout = times[r];
        while (next < nocc && occ[next].at <= tout) {
            double te = occ[next].at;
            if (te > t) {
                if ((st = advance(sim, t, te, te, v, err)) != SG_OK)
                    goto done;
                t = te;
            }
            while (next < nocc && occ[next].at == te)
                apply(v, &occ[next++].change);
            if (m->ntriggers > 0) { /* a scheduled change may trigger events */
                refresh(sim, t, v);
                if ((st = fire_events(sim, t, v, 0, &fired, err)) != SG_OK)
                    goto done;
            }
            if ((st = sg_solver_start(solver, t, err)) != SG_OK)
                goto done;
        }
        if (tout > t) {
            double stop = next < nocc ? occ[next].at : exp->t_end;
            if ((st = advance(sim, t, tout, stop, v, err)) != SG_OK)
                goto done;
            t = tout;
        } else {
            sg_solver_update_assignments(solver, t);
        }
        if (sg_trajectory_add_row(traj, t, v) != 0) {
            st = sg_error_nomem(err);
            goto done;
        }
    }
done:
    sg_sim_warn_about_rows(sim, traj);
    sg_sim_hand_over_warnings(sim, exp, slots, values, n);
    sg_free(occ);
    sg_free(times);
    *out = traj;
    return st;
}

sg_status sg_sim_run(sg_sim *sim, const sg_experiment *exp, sg_trajectory **out,
                     sg_error *err)
{
    return sg_sim_run_point(sim, exp, NULL, NULL, 0, out, err);
}

/* Building experiments from scenarios and command-line overrides. */
#include <math.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include "scenario.h"

static sg_status add_set(sg_experiment *exp, int slot, double value, int add, sg_error *err)
{
    if (sg_grow(&exp->sets, &exp->sets_cap, (size_t)exp->nsets + 1, sizeof *exp->sets) != 0)
        return sg_error_nomem(err);
    exp->sets[exp->nsets++] = (sg_change){slot, add, value};
    return SG_OK;
}

static sg_status add_event(sg_experiment *exp, double at, double every, long count, int slot,
                           double value, int add, sg_error *err)
{
    if (sg_grow(&exp->events, &exp->events_cap, (size_t)exp->nevents + 1,
                sizeof *exp->events) != 0)
        return sg_error_nomem(err);
    exp->events[exp->nevents++] = (sg_timed_change){at, every, count, {slot, add, value}};
    return SG_OK;
}

sg_experiment *sg_experiment_create(const sg_model *m, const char *scenario_id, sg_error *err)
{
    sg_experiment *exp = sg_calloc(1, sizeof *exp);
    if (!exp) {
        sg_error_nomem(err);
        return NULL;
    }
    exp->model = m;
    exp->t_start = 0.0;
    exp->t_end = 10.0;
    exp->points = 101;
    if (!scenario_id)
        return exp;
    int i = sg_model_find_scenario(m, scenario_id);
    if (i < 0) {
        char list[512] = "";
        for (int k = 0; k < m->nscenarios; k++) {
            strncat(list, k ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, m->scenarios[k].id, sizeof list - strlen(list) - 1);
        }
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "model '%s' has no scenario '%s' (scenarios: %s)", m->name, scenario_id,
                     m->nscenarios ? list : "none");
        sg_experiment_free(exp);
        return NULL;
    }
    const sg_scenario_def *sc = &m->scenarios[i];
    exp->scenario = sc;
    exp->t_start = sc->t_start;
    exp->t_end = sc->t_end;
    exp->points = sc->points;
    exp->preequilibrate = sc->preequilibrate;
    for (int k = 0; k < sc->nsets; k++)
        if (add_set(exp, sc->sets[k].slot, sc->sets[k].value, sc->sets[k].add, err)) {
            sg_experiment_free(exp);
            return NULL;
        }
    for (int k = 0; k < sc->nevents; k++) {
        const sg_event_def *ev = &sc->events[k];
        for (int j = 0; j < ev->nsets; j++)
            if (add_event(exp, ev->at, ev->every, ev->count, ev->sets[j].slot,
                          ev->sets[j].value, ev->sets[j].add, err)) {
                sg_experiment_free(exp);
                return NULL;
            }
    }
    return exp;
}

void sg_experiment_free(sg_experiment *exp)
{
    if (!exp)
        return;
    sg_free(exp->sets);
    sg_free(exp->events);
    sg_free(exp->extra_times);
    sg_free(exp->outputs);
    sg_free(exp);
}

sg_status sg_experiment_set_t_end(sg_experiment *exp, double t_end, sg_error *err)
{
    if (!isfinite(t_end) || !(t_end > exp->t_start))
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "--t-end must be a number after the start time %g (got %g)",
                            exp->t_start, t_end);
    if (t_end - exp->t_start < sg_min_time_span(exp->t_start, t_end))
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "--t-end %g is too close to the start time %g: the solver needs a "
                            "span of at least %g",
                            t_end, exp->t_start, sg_min_time_span(exp->t_start, t_end));
    exp->t_end = t_end;
    return SG_OK;
}

sg_status sg_experiment_set_points(sg_experiment *exp, long points, sg_error *err)
{
    if (points < 2 || points > SG_MAX_POINTS)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "--points must be between 2 and %ld (got %ld)", SG_MAX_POINTS,
                            points);
    exp->points = points;
    return SG_OK;
}

/* The slot of a name that may be set, or -1 with a usage error. */
static int settable(const sg_experiment *exp, const char *name, double value, int add,
                    sg_error *err)
{
    const sg_model *m = exp->model;
    /* ids first, then the SBML id of an element sigode renamed (a parameter
     * 'time' of an SBML model), then a name: as --select reads them */
    const char *id;
    if (sg_model_resolve_id(m, name, &id, err) != SG_OK)
        return -1;
    int slot = sg_map_get(&m->symbols, id);
    if (slot < 0 && strcmp(id, "time") == 0) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "cannot set 'time': it is the model time (the run starts at the "
                     "scenario's start time)");
        return -1;
    }
    if (slot < 0) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "cannot set '%s': model '%s' has no species, parameter or compartment "
                     "with that id",
                     name, m->name);
        return -1;
    }
    sg_symbol_kind k = m->slot_kind[slot];
    if (k == SG_SYM_ASSIGNMENT) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "cannot set '%s': it is an assignment, computed from other values", name);
        return -1;
    }
    if (!isfinite(value)) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "the value for '%s' must be finite", name);
        return -1;
    }
    if (!add && k == SG_SYM_SPECIES && value < 0) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "species '%s' cannot be set to a negative value (%g)", name, value);
        return -1;
    }
    if (!add && k == SG_SYM_COMPARTMENT && value <= 0) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "compartment '%s' needs a positive size (got %g)", name, value);
        return -1;
    }
    return slot;
}

sg_status sg_experiment_set_value(sg_experiment *exp, const char *name, double value,
                                  sg_error *err)
{
    int slot = settable(exp, name, value, 0, err);
    return slot < 0 ? SG_ERR_USAGE : add_set(exp, slot, value, 0, err);
}

sg_status sg_experiment_add_schedule(sg_experiment *exp, double at, double every, long count,
                                     const char *name, double value, int add, sg_error *err)
{
    if (!isfinite(at) || at < exp->t_start)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "event time %g is before the start time %g", at, exp->t_start);
    if (at > exp->t_end)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "event time %g is after the end time %g", at, exp->t_end);
    if (!(every >= 0) || !isfinite(every) || count < 0 || (count > 0 && every == 0))
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "a repeated event needs a positive interval and a count >= 0");
    int slot = settable(exp, name, value, add, err);
    return slot < 0 ? SG_ERR_USAGE : add_event(exp, at, every, count, slot, value, add, err);
}

sg_status sg_experiment_add_event(sg_experiment *exp, double at, const char *name,
                                  double value, int add, sg_error *err)
{
    return sg_experiment_add_schedule(exp, at, 0, 0, name, value, add, err);
}

sg_status sg_experiment_add_output_time(sg_experiment *exp, double t, sg_error *err)
{
    if (!isfinite(t))
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "output time must be finite");
    if (sg_grow(&exp->extra_times, &exp->extra_cap, (size_t)exp->nextra + 1,
                sizeof *exp->extra_times) != 0)
        return sg_error_nomem(err);
    exp->extra_times[exp->nextra++] = t;
    return SG_OK;
}

void sg_experiment_set_preequilibrate(sg_experiment *exp, int on) { exp->preequilibrate = on; }
void sg_experiment_set_readouts_only(sg_experiment *exp, int on) { exp->readouts_only = on; }
double sg_experiment_t_start(const sg_experiment *exp) { return exp->t_start; }

sg_status sg_experiment_add_output(sg_experiment *exp, const char *id, sg_error *err)
{
    const sg_model *m = exp->model;
    int slot = sg_map_get(&m->symbols, id);
    int reaction = slot < 0 ? sg_model_find_reaction(m, id) : -1;
    if (reaction >= 0) /* its rate, amount per time */
        slot = m->reactions[reaction].slot;
    if (slot < 0)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "cannot output '%s': model '%s' has no such id", id, m->name);
    if (m->slot_kind[slot] == SG_SYM_SPECIES || m->slot_kind[slot] == SG_SYM_ASSIGNMENT)
        return SG_OK; /* always recorded */
    for (int i = 0; i < exp->noutputs; i++)
        if (exp->outputs[i] == slot)
            return SG_OK;
    if (sg_grow(&exp->outputs, &exp->outputs_cap, (size_t)exp->noutputs + 1,
                sizeof *exp->outputs) != 0)
        return sg_error_nomem(err);
    exp->outputs[exp->noutputs++] = slot;
    return SG_OK;
}
double sg_experiment_t_end(const sg_experiment *exp) { return exp->t_end; }

int sg_experiment_scan(const sg_experiment *exp, const char **target, const double **values,
                       int *count, int *log_scale)
{
    if (!exp->scenario || !exp->scenario->has_scan)
        return 0;
    const sg_scan_def *s = &exp->scenario->scan;
    *target = s->target;
    *values = s->values;
    *count = s->count;
    *log_scale = s->log_scale;
    return 1;
}

int sg_experiment_readouts(const sg_experiment *exp, const char *const **ids)
{
    if (!exp->scenario || exp->scenario->nreadouts == 0) {
        *ids = NULL;
        return 0;
    }
    *ids = exp->scenario->readouts;
    return exp->scenario->nreadouts;
}

static int by_mark_time(const void *a, const void *b)
{
    const sg_event_mark *x = a, *y = b;
    return (x->time > y->time) - (x->time < y->time);
}

/* Plots draw one line per occurrence: a schedule of more than this many
 * doses is shown by its first ones (the legend says what repeats). */
#define SG_MAX_EVENT_MARKS 2000

int sg_experiment_event_marks(const sg_experiment *exp, sg_event_mark **marks, sg_error *err)
{
    *marks = NULL;
    size_t cap = 0;
    int n = 0;
    const sg_model *m = exp->model;
    for (int e = 0; e < exp->nevents; e++) {
        const sg_timed_change *ev = &exp->events[e];
        for (long k = 0; n < SG_MAX_EVENT_MARKS; k++) {
            double t = ev->at + (double)k * ev->every;
            if (k > 0 && (ev->every <= 0 || (ev->count > 0 && k >= ev->count)))
                break;
            if (t > exp->t_end || t < exp->t_start)
                break;
            if (sg_grow(marks, &cap, (size_t)n + 1, sizeof **marks) != 0) {
                sg_free(*marks);
                *marks = NULL;
                sg_error_nomem(err);
                return -1;
            }
            sg_event_mark *mk = &(*marks)[n++];
            mk->time = t;
            mk->first = k == 0;
            snprintf(mk->what, sizeof mk->what, "%s%s%.6g", m->slot_name[ev->change.slot],
                     ev->change.add ? "+=" : "=", ev->change.value);
        }
    }
    if (n > 1)
        qsort(*marks, (size_t)n, sizeof **marks, by_mark_time);
    return n;
}

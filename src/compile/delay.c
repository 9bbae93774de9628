/*
 * delay(x, tau): the value x had tau time units ago (SBML's delay csymbol).
 *
 * The solver records, for each delay of the program, points (t, x) of the
 * run so far: at every (re)start and inside every accepted step (solver/
 * cvode.c). A lookup at time s = t - tau interpolates them with a cubic
 * through the four nearest points, never across a jump (two points at one
 * time, made by a restart after an event). Before the first point, x is
 * computed with the values of the start (before_start below). After the
 * last point (a tau shorter than the current step) it is the
 * line from the last point to x now.
 *
 * The instruction program reads the history of the solver that runs it
 * through a per-thread pointer (sg_delay_use): ensembles run one solver
 * per thread, and the program stays free of any solver state.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "program.h"

struct sg_delay_history {
    const sg_program *prog;
    int ndelays;
    int npoints;
    size_t cap_t, cap_x;
    double *t;     /* npoints times, non-decreasing */
    double *x;     /* npoints x ndelays values, point by point */
    double *v0;    /* the value slots at the first point */
    double *work;  /* for x before the first point */
    int in_past; /* computing x before the first point */
    sg_delay_past_fn past;
    void *past_ctx;
    char error[300];
};

static _Thread_local sg_delay_history *current;

sg_delay_history *sg_delay_history_create(const sg_program *p)
{
    sg_delay_history *h = sg_calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->prog = p;
    h->ndelays = p->ndelays;
    return h;
}

void sg_delay_history_free(sg_delay_history *h)
{
    if (!h)
        return;
    if (current == h)
        current = NULL;
    sg_free(h->t);
    sg_free(h->x);
    sg_free(h->v0);
    sg_free(h->work);
    sg_free(h);
}

void sg_delay_history_clear(sg_delay_history *h)
{
    h->npoints = 0;
    h->error[0] = '\0';
}

int sg_delay_history_count(const sg_delay_history *h) { return h->npoints; }

double sg_delay_history_last(const sg_delay_history *h)
{
    return h->npoints > 0 ? h->t[h->npoints - 1] : -INFINITY;
}

void sg_delay_history_cut(sg_delay_history *h, double t)
{
    while (h->npoints > 0 && h->t[h->npoints - 1] > t)
        h->npoints--;
}

int sg_delay_history_add(sg_delay_history *h, double t, const double *v)
{
    size_t n = (size_t)h->npoints + 1, nd = (size_t)h->ndelays;
    if (sg_grow(&h->t, &h->cap_t, n, sizeof *h->t) != 0 ||
        sg_grow(&h->x, &h->cap_x, n * nd, sizeof *h->x) != 0)
        return -1;
    if (h->npoints == 0) {
        size_t bytes = sizeof(double) * (size_t)h->prog->nslots;
        if ((!h->v0 && !(h->v0 = sg_malloc(bytes))) || (!h->work && !(h->work = sg_malloc(bytes))))
            return -1;
        memcpy(h->v0, v, bytes);
    }
    h->t[h->npoints] = t;
    for (int k = 0; k < h->ndelays; k++)
        h->x[(size_t)h->npoints * nd + (size_t)k] = v[h->prog->delay_x_slot[k]];
    h->npoints++;
    return 0;
}

void sg_delay_history_set_past(sg_delay_history *h, sg_delay_past_fn fn, void *ctx)
{
    h->past = fn;
    h->past_ctx = ctx;
}

sg_delay_history *sg_delay_use(sg_delay_history *h)
{
    sg_delay_history *before = current;
    current = h;
    return before;
}

const char *sg_delay_history_error(const sg_delay_history *h)
{
    return h && h->error[0] ? h->error : NULL;
}

/* Names delay k in a message: delay(x, ...) when x is a model value. */
static void describe(const sg_delay_history *h, int k, char *buf, size_t size)
{
    const sg_expr *e = h->prog->delay_node[k];
    const char *const *names = h->prog->slot_names;
    if (e->arg[0]->kind == EX_VAR && names && e->arg[0]->slot < h->prog->nmodel_slots)
        snprintf(buf, size, "delay(%s, ...)", names[e->arg[0]->slot]);
    else
        snprintf(buf, size, "delay number %d of the model", k + 1);
}

/* x of delay k at time s before the first point t0. As the SBML Test
 * Suite reads the spec (cases 00937, 01522: an assignment rule "applies at
 * all times, including before the beginning of the simulation"), the
 * states and parameters keep their values at t0 while time runs (those
 * with an initial-value expression follow it: case 00938): the program
 * runs at time s on the values of t0. A delay met on the way that
 * also reaches before t0 gives NaN (not computed: shown, not hidden). */
static double before_start(sg_delay_history *h, int k, double s)
{
    const sg_program *p = h->prog;
    if (!p->delay_timed[k])
        return h->x[k]; /* x does not depend on time: its value at t0 */
    if (h->in_past)
        return NAN;
    memcpy(h->work, h->v0, sizeof(double) * (size_t)p->nslots);
    h->work[p->time_slot] = s;
    h->in_past = 1;
    if (h->past)
        h->past(h->past_ctx, h->work);
    sg_program_exec(p, 0, p->n_roots, h->work);
    h->in_past = 0;
    return h->work[p->delay_x_slot[k]];
}

/* x of delay k at time s, from the history (s <= the time now, `now`). */
static double interpolate(sg_delay_history *h, int k, double s, double now, double x_now)
{
    int n = h->npoints, nd = h->ndelays;
    const double *t = h->t;
#define X(i) h->x[(size_t)(i) * (size_t)nd + (size_t)k]
    if (s < t[0])
        return before_start(h, k, s);
    if (s >= t[n - 1]) {
        if (s == t[n - 1] || !(now > t[n - 1]))
            return X(n - 1);
        double f = (s - t[n - 1]) / (now - t[n - 1]);
        return X(n - 1) + f * (x_now - X(n - 1));
    }
    /* i: the last point at or before s (after a jump at s: its new value) */
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (t[mid] <= s)
            lo = mid;
        else
            hi = mid - 1;
    }
    int i = lo;
    if (t[i] == s)
        return X(i);
    /* the smooth stretch around [t[i], t[i+1]]: up to two more points on
     * each side, none across a jump */
    int first = i, last = i + 1;
    while (first > 0 && i - first < 2 && t[first - 1] < t[first])
        first--;
    while (last < n - 1 && last - (i + 1) < 2 && t[last + 1] > t[last])
        last++;
    int a = i - 1 > first ? i - 1 : first;
    int b = a + 3 < last ? a + 3 : last;
    if (b - a < 3)
        a = b - 3 > first ? b - 3 : first;
    double sum = 0.0;
    for (int p = a; p <= b; p++) {
        double w = 1.0;
        for (int q = a; q <= b; q++)
            if (q != p)
                w *= (s - t[q]) / (t[p] - t[q]);
        sum += w * X(p);
    }
    return sum;
#undef X
}

double sg_delay_lookup(int k, double x_now, double tau, const double *v)
{
    sg_delay_history *h = current;
    if (!h || h->npoints == 0 || k < 0 || k >= h->ndelays)
        return x_now; /* no run going on: the start, or a steady state */
    double now = v[h->prog->time_slot];
    if (!(tau >= 0) || !isfinite(tau)) {
        if (!h->error[0]) {
            char name[200];
            describe(h, k, name, sizeof name);
            snprintf(h->error, sizeof h->error,
                     "%s at t = %.10g has delay %g: a delay must be a finite number >= 0", name,
                     now, tau);
        }
        return NAN;
    }
    return interpolate(h, k, now - tau, now, x_now);
}

double sg_delay_eval(const sg_expr *e, double x_now, double tau, const double *slots)
{
    sg_delay_history *h = current;
    if (!h)
        return x_now;
    for (int k = 0; k < h->ndelays; k++)
        if (h->prog->delay_node[k] == e)
            return sg_delay_lookup(k, x_now, tau, slots);
    return x_now; /* not compiled: only in initial values, read at the start */
}

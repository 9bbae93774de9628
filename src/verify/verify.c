/*
 * `sigode verify`: runs the scenarios a model's checks name and evaluates
 * each check's `expect` expression. Trajectory functions (final, halftime,
 * monotone, ...) reduce a scenario's rows to a number; each one's value is
 * reported, so a failing check shows what was measured.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../scenario/scan.h"

/* One scenario's rows: x is time, or the scanned value for a scan. */
typedef struct series {
    int ran;
    sg_status status;
    char failure[900];
    int nrows, ncols;
    double *x;
    double *rows;     /* nrows x ncols (species then assignments) */
    double *slots;    /* model slots with the scenario's start values */
    int log_x;
} series;

typedef struct verifier {
    const sg_model *m;
    const sg_options *opt;
    series *runs;     /* per scenario */
    sg_trajectory *columns; /* column layout */
    const sg_check_def *check;
    char *detail;
    size_t detail_size;
    int failed_run;   /* a scenario the check needs could not run */
} verifier;

static void free_series(series *s)
{
    sg_free(s->x);
    sg_free(s->rows);
    sg_free(s->slots);
}

static sg_status run_scenario(verifier *vf, int index, series *s)
{
    const sg_model *m = vf->m;
    sg_error err = {0};
    s->ran = 1;
    s->ncols = m->nspecies + m->nassignments;
    sg_experiment *exp = sg_experiment_create(m, m->scenarios[index].id, &err);
    s->slots = sg_malloc(sizeof(double) * (size_t)m->nslots);
    if (!exp || !s->slots) {
        sg_experiment_free(exp);
        return s->status = SG_ERR_NOMEM;
    }
    memcpy(s->slots, m->initial_values, sizeof(double) * (size_t)m->nslots);
    for (int i = 0; i < exp->nsets; i++)
        s->slots[exp->sets[i].slot] = exp->sets[i].add ? s->slots[exp->sets[i].slot] +
                                                             exp->sets[i].value
                                                       : exp->sets[i].value;
    const sg_scenario_def *sc = &m->scenarios[index];
    if (sc->has_scan) {
        sg_scan_result res;
        sg_scan_points points = {&sc->scan.slot, 1, sc->scan.values, sc->scan.count};
        s->status = sg_scan_compute(m, vf->opt, exp, &points, NULL, 0, 0, NULL, NULL, &res, &err);
        if (s->status == SG_OK) {
            s->nrows = res.count;
            s->log_x = sc->scan.log_scale;
            s->x = sg_malloc(sizeof(double) * (size_t)res.count);
            if (s->x)
                memcpy(s->x, sc->scan.values, sizeof(double) * (size_t)res.count);
            else
                s->status = sg_error_nomem(&err);
            s->rows = res.values;
            res.values = NULL;
            if (res.failed && s->status == SG_OK) {
                for (int i = 0; i < res.count; i++)
                    if (res.failure[i]) {
                        snprintf(s->failure, sizeof s->failure, "at %s = %g: %s",
                                 sc->scan.target, sc->scan.values[i], res.failure[i]);
                        break;
                    }
                s->status = SG_ERR_SOLVER;
            }
            sg_scan_result_free(&res);
        }
    } else {
        sg_sim *sim = sg_sim_create(m, vf->opt, &err);
        sg_trajectory *traj = NULL;
        s->status = sim ? sg_sim_run(sim, exp, &traj, &err) : err.status;
        if (s->status == SG_OK && traj) {
            s->nrows = traj->nrows;
            s->x = traj->times;
            s->rows = traj->data;
            traj->times = NULL;
            traj->data = NULL;
        }
        sg_trajectory_free(traj);
        sg_sim_free(sim);
    }
    if (s->status != SG_OK && !s->failure[0])
        sg_error_format(&err, s->failure, sizeof s->failure);
    sg_experiment_free(exp);
    return s->status;
}

/* X evaluated on row r of a series. */
static double eval_row(const verifier *vf, const series *s, const sg_expr *x, int r)
{
    const sg_model *m = vf->m;
    const double *row = s->rows + (size_t)r * (size_t)s->ncols;
    for (int c = 0; c < s->ncols; c++)
        s->slots[vf->columns->slots[c]] = row[c];
    s->slots[m->time_slot] = s->x[r];
    return sg_expr_eval(x, s->slots);
}

static double interpolate(double x0, double x1, double y0, double y1, double y, int log_x)
{
    double f = y1 == y0 ? 0.0 : (y - y0) / (y1 - y0);
    if (log_x && x0 > 0 && x1 > 0)
        return exp(log(x0) + f * (log(x1) - log(x0)));
    return x0 + f * (x1 - x0);
}

/* Where X first reaches halfway between its value at x_from and its last
 * value; NaN if it never changes. */
static double half_crossing(const verifier *vf, const series *s, const sg_expr *x, double from)
{
    int r0 = 0;
    while (r0 < s->nrows - 1 && s->x[r0] < from)
        r0++;
    double y0 = eval_row(vf, s, x, r0);
    double yend = eval_row(vf, s, x, s->nrows - 1);
    if (yend == y0)
        return NAN;
    double half = y0 + 0.5 * (yend - y0);
    double prev = y0;
    for (int r = r0 + 1; r < s->nrows; r++) {
        double y = eval_row(vf, s, x, r);
        if ((yend > y0 && y >= half) || (yend < y0 && y <= half))
            return interpolate(s->x[r - 1], s->x[r], prev, y, half, s->log_x);
        prev = y;
    }
    return NAN;
}

static double traj_value(verifier *vf, const sg_expr *e)
{
    const sg_model *m = vf->m;
    const char *name = e->name ? e->name : vf->check->scenario;
    int index = sg_model_find_scenario(m, name);
    series *s = &vf->runs[index];
    if (!s->ran)
        run_scenario(vf, index, s);
    if (s->status != SG_OK || s->nrows == 0) {
        if (!vf->failed_run) {
            size_t used = strlen(vf->detail);
            snprintf(vf->detail + used, vf->detail_size - used, "scenario '%s' failed: %s; ",
                     name, s->failure);
        }
        vf->failed_run = 1;
        return NAN;
    }
    const sg_expr *x = e->nargs > 0 ? e->arg[0] : NULL;
    int last = s->nrows - 1;
    double result = NAN;
    switch (e->fn) {
    case TR_INITIAL:
        return eval_row(vf, s, x, 0);
    case TR_FINAL:
        return eval_row(vf, s, x, last);
    case TR_AT: {
        double t = sg_expr_eval(e->arg[1], s->slots);
        if (!(t >= s->x[0] && t <= s->x[last]))
            return NAN;
        int r = 0;
        while (r < last && s->x[r + 1] <= t)
            r++;
        double y = eval_row(vf, s, x, r);
        if (s->x[r] == t || r == last)
            return y;
        double y1 = eval_row(vf, s, x, r + 1);
        return y + (y1 - y) * (t - s->x[r]) / (s->x[r + 1] - s->x[r]);
    }
    case TR_MINIMUM:
    case TR_MAXIMUM:
        result = eval_row(vf, s, x, 0);
        for (int r = 1; r <= last; r++) {
            double y = eval_row(vf, s, x, r);
            result = e->fn == TR_MINIMUM ? fmin(result, y) : fmax(result, y);
        }
        return result;
    case TR_HALFTIME: {
        double from = e->nargs > 1 ? sg_expr_eval(e->arg[1], s->slots) : s->x[0];
        return half_crossing(vf, s, x, from) - from;
    }
    case TR_EC50:
        return half_crossing(vf, s, x, s->x[0]);
    case TR_DRIFT:
        result = 0.0;
        for (int c = 0; c < (x ? 1 : m->nspecies); c++) {
            if (!x && m->species[c].constant)
                continue;
            double y0 = x ? eval_row(vf, s, x, 0) : s->rows[c];
            double scale = fabs(y0) > 0 ? fabs(y0) : 1e-300;
            for (int r = 1; r <= last; r++) {
                double y = x ? eval_row(vf, s, x, r) : s->rows[(size_t)r * (size_t)s->ncols + (size_t)c];
                double d = fabs(y - y0) / scale;
                if (!(d <= result)) /* NaN counts as the worst */
                    result = d;
            }
        }
        return result;
    case TR_LOWEST:
        result = INFINITY;
        for (int r = 0; r <= last; r++)
            for (int c = 0; c < m->nspecies; c++)
                result = fmin(result, s->rows[(size_t)r * (size_t)s->ncols + (size_t)c]);
        return result;
    case TR_MONOTONE: {
        /* A trend is a change larger than the solver's accuracy: a steady
         * state reached with rtol = 1e-6 jitters by a few rtol |y| + atol
         * (global error), so the margin is ten times that. A decline is
         * measured from the highest value so far (a rise from the lowest),
         * so a slow drift is still seen. */
        double *ys = sg_malloc(sizeof(double) * (size_t)s->nrows);
        if (!ys)
            return NAN;
        double biggest = 0.0;
        for (int r = 0; r <= last; r++) {
            ys[r] = eval_row(vf, s, x, r);
            biggest = fmax(biggest, fabs(ys[r]));
        }
        double tol = 10.0 * (vf->opt->rtol * biggest + vf->opt->atol);
        double lo = ys[0], hi = ys[0];
        int up = 0, down = 0;
        for (int r = 1; r <= last; r++) {
            if (ys[r] > lo + tol)
                up = 1;
            if (ys[r] < hi - tol)
                down = 1;
            lo = fmin(lo, ys[r]);
            hi = fmax(hi, ys[r]);
        }
        sg_free(ys);
        return up && !down ? 1.0 : down && !up ? -1.0 : 0.0;
    }
    }
    return NAN;
}

/* Appends "text = value" for a trajectory call to the detail. */
static void report(verifier *vf, const sg_expr *e, double value)
{
    const char *text = vf->check->expect + e->pos;
    int depth = 0, len = 0;
    for (; text[len]; len++) {
        if (text[len] == '(')
            depth++;
        else if (text[len] == ')' && --depth == 0) {
            len++;
            break;
        }
    }
    size_t used = strlen(vf->detail);
    snprintf(vf->detail + used, vf->detail_size - used, "%s%.*s = %.6g",
             used ? ", " : "", len, text, value);
}

static double evaluate(verifier *vf, const sg_expr *e)
{
    switch (e->kind) {
    case EX_NUM:
        return e->num;
    case EX_TRAJ: {
        double v = traj_value(vf, e);
        report(vf, e, v);
        return v;
    }
    case EX_FN:
        return sg_fn_apply(e->fn, evaluate(vf, e->arg[0]));
    case EX_IF: {
        double c = evaluate(vf, e->arg[0]);
        double a = evaluate(vf, e->arg[1]), b = evaluate(vf, e->arg[2]);
        return c != 0.0 ? a : b;
    }
    case EX_NEG:
    case EX_NOT:
        return sg_op_apply(e->kind, evaluate(vf, e->arg[0]), 0.0);
    default: {
        double a = evaluate(vf, e->arg[0]);
        double b = evaluate(vf, e->arg[1]);
        return sg_op_apply(e->kind, a, b);
    }
    }
}

sg_status sg_verify(const sg_model *m, const sg_options *opt, sg_check_result **results,
                    int *count, sg_error *err)
{
    *results = NULL;
    *count = 0;
    sg_options defaults;
    if (!opt) {
        sg_options_default(&defaults);
        opt = &defaults;
    }
    if (m->nchecks == 0)
        return sg_error_set(err, SG_ERR_USAGE, m->path, 0, 0,
                            "model '%s' has no checks to verify", m->name);
    verifier vf = {.m = m, .opt = opt};
    vf.runs = sg_calloc((size_t)m->nscenarios + 1, sizeof *vf.runs);
    vf.columns = sg_trajectory_create(m);
    sg_check_result *res = sg_calloc((size_t)m->nchecks, sizeof *res);
    if (!vf.runs || !vf.columns || !res) {
        sg_free(vf.runs);
        sg_trajectory_free(vf.columns);
        sg_free(res);
        return sg_error_nomem(err);
    }
    int all = 1;
    for (int i = 0; i < m->nchecks; i++) {
        vf.check = &m->checks[i];
        vf.detail = res[i].detail;
        vf.detail_size = sizeof res[i].detail;
        vf.failed_run = 0;
        res[i].id = m->checks[i].id;
        double v = evaluate(&vf, m->checks[i].tree);
        res[i].passed = !vf.failed_run && v != 0.0 && !isnan(v);
        all &= res[i].passed;
    }
    for (int k = 0; k < m->nscenarios; k++)
        free_series(&vf.runs[k]);
    sg_free(vf.runs);
    sg_trajectory_free(vf.columns);
    *results = res;
    *count = m->nchecks;
    return all ? SG_OK : sg_error_set(err, SG_ERR_SOLVER, m->path, 0, 0, "some checks failed");
}

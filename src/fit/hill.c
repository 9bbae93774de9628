/*
 * Four-parameter Hill fits of dose-response data, by nonlinear least
 * squares on log dose (GSL's trust-region Levenberg-Marquardt):
 *   y = low + (high - low) / (1 + 10^(h (c - log10 x)))
 * `low` is the response at zero dose, `high` at saturating dose, c the
 * log10 of the half-effect dose, h > 0 the Hill slope.
 *
 * Bounded fits (a concentration's plateau cannot be negative) fit the
 * plateaus on an unbounded scale: plateau = lower + exp(u) with a lower
 * bound only, lower + (upper - lower) / (1 + exp(-u)) with both, so the
 * least-squares search never leaves the physical range.
 */
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

/* qsort has no context argument; fits run one at a time per thread. */
static _Thread_local const double *sort_x;

static int by_dose(const void *a, const void *b)
{
    double xa = sort_x[*(const int *)a], xb = sort_x[*(const int *)b];
    return (xa > xb) - (xa < xb);
}

typedef struct fit_data {
    const double *x, *y;
    int n;
    double lower, upper; /* bounds of the plateaus (+-inf: none) */
} fit_data;

/* A plateau from its fitted coordinate u, and d plateau / du. */
static double plateau(const fit_data *d, double u, double *slope)
{
    if (isfinite(d->lower) && isfinite(d->upper)) {
        double s = 1.0 / (1.0 + exp(-u));
        *slope = (d->upper - d->lower) * s * (1 - s);
        return d->lower + (d->upper - d->lower) * s;
    }
    if (isfinite(d->lower)) {
        *slope = exp(u);
        return d->lower + *slope;
    }
    if (isfinite(d->upper)) {
        *slope = exp(u);
        return d->upper - *slope;
    }
    *slope = 1;
    return u;
}

/* The coordinate u of a starting plateau, moved inside the bounds by a
 * small fraction of the data range when it lies on or beyond them. */
static double coordinate(const fit_data *d, double v, double range)
{
    double eps = 1e-3 * range;
    if (isfinite(d->lower) && isfinite(d->upper)) {
        double s = (v - d->lower) / (d->upper - d->lower);
        double e = eps / (d->upper - d->lower);
        s = fmin(fmax(s, e), 1 - e);
        return log(s / (1 - s));
    }
    if (isfinite(d->lower))
        return log(fmax(v - d->lower, eps));
    if (isfinite(d->upper))
        return log(fmax(d->upper - v, eps));
    return v;
}

/* Model parameters (low, high, c, h) from the fitted vector; dlow, dhigh
 * get the chain-rule factors. */
static void unpack(const fit_data *d, const gsl_vector *p, double *q, double *dlow,
                   double *dhigh)
{
    double s0, s1;
    q[0] = plateau(d, gsl_vector_get(p, 0), &s0);
    q[1] = plateau(d, gsl_vector_get(p, 1), &s1);
    q[2] = gsl_vector_get(p, 2);
    q[3] = gsl_vector_get(p, 3);
    if (dlow)
        *dlow = s0;
    if (dhigh)
        *dhigh = s1;
}

static double model_value(double x, const double *p, double *grad)
{
    double low = p[0], high = p[1], c = p[2], h = p[3];
    if (x <= 0) { /* zero dose: the low-dose response */
        if (grad) {
            grad[0] = 1;
            grad[1] = grad[2] = grad[3] = 0;
        }
        return low;
    }
    double L = log10(x);
    double u = pow(10.0, h * (c - L));
    double g = 1.0 / (1.0 + u);
    if (grad) {
        double dg_du = -g * g;
        grad[0] = 1 - g;
        grad[1] = g;
        grad[2] = isfinite(u) ? (high - low) * dg_du * u * h * M_LN10 : 0;
        grad[3] = isfinite(u) ? (high - low) * dg_du * u * (c - L) * M_LN10 : 0;
    }
    return isfinite(u) ? low + (high - low) * g : low;
}

static int residuals(const gsl_vector *p, void *user, gsl_vector *f)
{
    fit_data *d = user;
    double q[4];
    unpack(d, p, q, NULL, NULL);
    for (int i = 0; i < d->n; i++)
        gsl_vector_set(f, (size_t)i, model_value(d->x[i], q, NULL) - d->y[i]);
    return GSL_SUCCESS;
}

static int jacobian(const gsl_vector *p, void *user, gsl_matrix *J)
{
    fit_data *d = user;
    double q[4], s0, s1;
    unpack(d, p, q, &s0, &s1);
    for (int i = 0; i < d->n; i++) {
        double g[4];
        model_value(d->x[i], q, g);
        g[0] *= s0;
        g[1] *= s1;
        for (int k = 0; k < 4; k++)
            gsl_matrix_set(J, (size_t)i, (size_t)k, g[k]);
    }
    return GSL_SUCCESS;
}

double sg_hill_value(const sg_hill_fit *fit, double x)
{
    double p[4] = {fit->low, fit->high, log10(fit->ec50), fit->slope};
    return model_value(x, p, NULL);
}

sg_status sg_fit_hill(const double *x, const double *y, int n, sg_hill_fit *fit, sg_error *err)
{
    return sg_fit_hill_bounded(x, y, n, -INFINITY, INFINITY, fit, err);
}

sg_status sg_fit_hill_bounded(const double *x, const double *y, int n, double lower,
                              double upper, sg_hill_fit *fit, sg_error *err)
{
    memset(fit, 0, sizeof *fit);
    if (isnan(lower) || isnan(upper) || !(lower < upper))
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "Hill fit bounds must satisfy lower < upper");
    int positive = 0;
    double ymin = INFINITY, ymax = -INFINITY, big = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(y[i]) || !isfinite(x[i]) || x[i] < 0) {
            snprintf(fit->why, sizeof fit->why, "no fit: a point is not finite (failed run?)");
            return SG_OK;
        }
        positive += x[i] > 0;
        ymin = fmin(ymin, y[i]);
        ymax = fmax(ymax, y[i]);
        big = fmax(big, fabs(y[i]));
    }
    if (positive < 4) {
        snprintf(fit->why, sizeof fit->why, "no fit: needs at least 4 positive doses (got %d)",
                 positive);
        return SG_OK;
    }
    if (ymax - ymin <= 1e-9 * big || ymax == ymin) {
        snprintf(fit->why, sizeof fit->why, "no fit: the response is flat (%.6g..%.6g)", ymin,
                 ymax);
        return SG_OK;
    }
    /* order by dose for the monotonicity test and the starting guess */
    int *order = sg_malloc(sizeof(int) * (size_t)n);
    if (!order)
        return sg_error_nomem(err);
    for (int i = 0; i < n; i++)
        order[i] = i;
    sort_x = x;
    qsort(order, (size_t)n, sizeof *order, by_dose);
    int up = 0, down = 0;
    double tol = 1e-6 * (ymax - ymin);
    for (int k = 1; k < n; k++) {
        double dy = y[order[k]] - y[order[k - 1]];
        up |= dy > tol;
        down |= dy < -tol;
    }
    int first = order[0], last = order[n - 1];
    sg_free(order);
    if (up && down) {
        snprintf(fit->why, sizeof fit->why,
                 "no fit: the response is not monotone in the dose (a Hill curve cannot fit)");
        return SG_OK;
    }
    double low = y[first], high = y[last], mid = 0.5 * (low + high);
    double c = log10(x[last]); /* half-effect dose guess: first crossing of mid */
    for (int i = 0; i < n; i++)
        if (x[i] > 0 && ((high > low && y[i] >= mid) || (high < low && y[i] <= mid)) &&
            log10(x[i]) < c)
            c = log10(x[i]);
    fit_data d = {x, y, n, lower, upper};
    for (int i = 0; i < n; i++)
        if (y[i] < lower || y[i] > upper) {
            snprintf(fit->why, sizeof fit->why,
                     "no fit: a response (%.6g) lies outside the physical range", y[i]);
            return SG_OK;
        }
    gsl_multifit_nlinear_fdf fdf = {.f = residuals, .df = jacobian, .fvv = NULL,
                                    .n = (size_t)n, .p = 4, .params = &d};
    gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, (size_t)n, 4);
    if (!w)
        return sg_error_nomem(err);
    double start[4] = {coordinate(&d, low, ymax - ymin), coordinate(&d, high, ymax - ymin), c,
                       1.0};
    gsl_vector_view p0 = gsl_vector_view_array(start, 4);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int info = 0;
    int status = gsl_multifit_nlinear_init(&p0.vector, &fdf, w);
    if (status == GSL_SUCCESS)
        status = gsl_multifit_nlinear_driver(500, 1e-12, 1e-12, 1e-12, NULL, NULL, &info, w);
    gsl_set_error_handler(old);
    double q[4];
    unpack(&d, gsl_multifit_nlinear_position(w), q, NULL, NULL);
    gsl_multifit_nlinear_free(w);
    /* a plateau on its bound is approached only as u -> -inf: the
     * iteration limit is then the normal end */
    int bounded = isfinite(lower) || isfinite(upper);
    if (bounded && status == GSL_EMAXITER)
        status = GSL_SUCCESS;
    if (status != GSL_SUCCESS || !isfinite(q[0]) || !isfinite(q[1]) || !isfinite(q[2]) ||
        !isfinite(q[3])) {
        snprintf(fit->why, sizeof fit->why, "no fit: least squares did not converge (%s)",
                 gsl_strerror(status));
        return SG_OK;
    }
    if (q[3] < 0) { /* the same curve with the ends swapped */
        double t = q[0];
        q[0] = q[1];
        q[1] = t;
        q[3] = -q[3];
    }
    double mean = 0, ss_tot = 0, ss_res = 0;
    for (int i = 0; i < n; i++)
        mean += y[i] / n;
    for (int i = 0; i < n; i++) {
        double r = model_value(x[i], q, NULL) - y[i];
        ss_res += r * r;
        ss_tot += (y[i] - mean) * (y[i] - mean);
    }
    fit->ok = 1;
    fit->low = q[0];
    fit->high = q[1];
    fit->ec50 = pow(10.0, q[2]);
    fit->slope = q[3];
    fit->bottom = fmin(q[0], q[1]);
    fit->top = fmax(q[0], q[1]);
    fit->decreasing = q[1] < q[0];
    fit->r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 1;
    fit->rmse = sqrt(ss_res / n);
    fit->lower = lower;
    fit->upper = upper;
    if (fit->ec50 < x[first] || fit->ec50 > x[last])
        snprintf(fit->why, sizeof fit->why, "half-effect dose outside the scanned range");
    return SG_OK;
}

double sg_hill_dose(const sg_hill_fit *fit, double y)
{
    /* y = low + (high - low) / (1 + (ec50/x)^h)  =>  x = ec50 ((y-low)/(high-y))^(1/h) */
    double r = (y - fit->low) / (fit->high - y);
    if (!fit->ok || !(r > 0) || !isfinite(r))
        return y == fit->low ? 0.0 : NAN;
    return fit->ec50 * pow(r, 1.0 / fit->slope);
}

/*
 * Four-parameter Hill fits of dose-response data, by nonlinear least
 * squares on log dose (GSL's trust-region Levenberg-Marquardt):
 *   y = low + (high - low) / (1 + 10^(h (c - log10 x)))
 * `low` is the response at zero dose, `high` at saturating dose, c the
 * log10 of the half-effect dose, h > 0 the Hill slope.
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
} fit_data;

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
    double q[4] = {gsl_vector_get(p, 0), gsl_vector_get(p, 1), gsl_vector_get(p, 2),
                   gsl_vector_get(p, 3)};
    for (int i = 0; i < d->n; i++)
        gsl_vector_set(f, (size_t)i, model_value(d->x[i], q, NULL) - d->y[i]);
    return GSL_SUCCESS;
}

static int jacobian(const gsl_vector *p, void *user, gsl_matrix *J)
{
    fit_data *d = user;
    double q[4] = {gsl_vector_get(p, 0), gsl_vector_get(p, 1), gsl_vector_get(p, 2),
                   gsl_vector_get(p, 3)};
    for (int i = 0; i < d->n; i++) {
        double g[4];
        model_value(d->x[i], q, g);
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
    memset(fit, 0, sizeof *fit);
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
    fit_data d = {x, y, n};
    gsl_multifit_nlinear_fdf fdf = {.f = residuals, .df = jacobian, .fvv = NULL,
                                    .n = (size_t)n, .p = 4, .params = &d};
    gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, (size_t)n, 4);
    if (!w)
        return sg_error_nomem(err);
    double start[4] = {low, high, c, 1.0};
    gsl_vector_view p0 = gsl_vector_view_array(start, 4);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int info = 0;
    int status = gsl_multifit_nlinear_init(&p0.vector, &fdf, w);
    if (status == GSL_SUCCESS)
        status = gsl_multifit_nlinear_driver(500, 1e-12, 1e-12, 1e-12, NULL, NULL, &info, w);
    gsl_set_error_handler(old);
    gsl_vector *p = gsl_multifit_nlinear_position(w);
    double q[4] = {gsl_vector_get(p, 0), gsl_vector_get(p, 1), gsl_vector_get(p, 2),
                   gsl_vector_get(p, 3)};
    gsl_multifit_nlinear_free(w);
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
    if (fit->ec50 < x[first] || fit->ec50 > x[last])
        snprintf(fit->why, sizeof fit->why, "half-effect dose outside the scanned range");
    return SG_OK;
}

/*
 * Distributions of uncertain quantities: "lognormal(median, gsd)",
 * "uniform(lo, hi)", "loguniform(lo, hi)", "normal(mean, sd)" (truncated to
 * non-negative values). Parsed from the model file, mapped from the unit
 * interval by their inverse CDF (GSL) when sampling.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "../util/util.h"

static const char *const dist_names[] = {"lognormal", "uniform", "loguniform", "normal"};

static sg_status parse_fail(sg_error *err, int *pos, int at, const char *fmt, const char *a)
    __attribute__((format(printf, 4, 0)));

static sg_status parse_fail(sg_error *err, int *pos, int at, const char *fmt, const char *a)
{
    *pos = at;
    return sg_error_set(err, SG_ERR_MODEL, NULL, 0, 0, fmt, a);
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A number at p, ending at a comma, a parenthesis or a space. */
static int read_number(const char *p, double *out, const char **end)
{
    char *e;
    if (!*p || !(isdigit((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.'))
        return -1;
    *out = strtod(p, &e);
    if (e == p || !isfinite(*out))
        return -1;
    *end = e;
    return 0;
}

sg_status sg_distribution_parse(const char *text, sg_distribution *dist, int *pos, sg_error *err)
{
    const char *p = skip_space(text);
    const char *name = p;
    while (isalpha((unsigned char)*p))
        p++;
    size_t len = (size_t)(p - name);
    int kind = -1;
    for (int k = 0; k < 4; k++)
        if (strlen(dist_names[k]) == len && strncmp(dist_names[k], name, len) == 0)
            kind = k;
    if (kind < 0) {
        char word[40];
        snprintf(word, sizeof word, "%.*s", (int)(len < 32 ? len : 32), name);
        return parse_fail(err, pos, (int)(name - text),
                          "unknown distribution '%s' (expected lognormal(median, gsd), "
                          "uniform(low, high), loguniform(low, high) or normal(mean, sd))",
                          word);
    }
    p = skip_space(p);
    if (*p != '(')
        return parse_fail(err, pos, (int)(p - text), "'(' expected after '%s'",
                          dist_names[kind]);
    double v[2];
    for (int i = 0; i < 2; i++) {
        p = skip_space(p + 1);
        const char *end;
        if (read_number(p, &v[i], &end) != 0)
            return parse_fail(err, pos, (int)(p - text), "a number expected in '%s(...)'",
                              dist_names[kind]);
        p = skip_space(end);
        if (*p != (i == 0 ? ',' : ')'))
            return parse_fail(err, pos, (int)(p - text),
                              i == 0 ? "',' expected between the two numbers of '%s(a, b)'"
                                     : "')' expected to close '%s(a, b)'",
                              dist_names[kind]);
    }
    p = skip_space(p + 1);
    if (*p)
        return parse_fail(err, pos, (int)(p - text), "unexpected text after '%s(a, b)'",
                          dist_names[kind]);
    const char *why = NULL;
    switch (kind) {
    case SG_DIST_LOGNORMAL:
        if (!(v[0] > 0))
            why = "lognormal(median, gsd) needs a positive median";
        else if (!(v[1] > 0))
            why = "lognormal(median, gsd) needs a positive geometric standard deviation";
        else if (!(v[1] > 1))
            why = "lognormal(median, gsd): the geometric standard deviation must be above 1 "
                  "(1 is no spread)";
        break;
    case SG_DIST_UNIFORM:
        if (!(v[0] < v[1]))
            why = "uniform(low, high) needs low < high";
        break;
    case SG_DIST_LOGUNIFORM:
        if (!(v[0] > 0))
            why = "loguniform(low, high) needs a positive low";
        else if (!(v[0] < v[1]))
            why = "loguniform(low, high) needs low < high";
        break;
    default: /* normal */
        if (!(v[1] > 0))
            why = "normal(mean, sd) needs a positive sd";
        else if (v[0] / v[1] < -6)
            why = "normal(mean, sd) is truncated at 0 and this one has almost no mass above "
                  "0 (mean more than 6 sd below 0)";
        break;
    }
    if (why)
        return parse_fail(err, pos, (int)(name - text), "%s", why);
    dist->kind = (sg_dist_kind)kind;
    dist->a = v[0];
    dist->b = v[1];
    return SG_OK;
}

double sg_distribution_quantile(const sg_distribution *d, double p)
{
    switch (d->kind) {
    case SG_DIST_LOGNORMAL:
        return d->a * exp(log(d->b) * gsl_cdf_ugaussian_Pinv(p));
    case SG_DIST_UNIFORM:
        return d->a + (d->b - d->a) * p;
    case SG_DIST_LOGUNIFORM:
        return exp(log(d->a) + (log(d->b) - log(d->a)) * p);
    default: {
        /* truncated to [0, inf): map p into (P(X < 0), 1) first; Q(x) =
         * 1 - P keeps the upper tail accurate */
        double z0 = -d->a / d->b, below = gsl_cdf_ugaussian_P(z0);
        double q = gsl_cdf_ugaussian_Q(z0) * (1 - p);
        double z = q < 0.5 ? gsl_cdf_ugaussian_Qinv(q) : gsl_cdf_ugaussian_Pinv(below + p * (1 - below));
        double x = d->a + d->b * z;
        return x < 0 ? 0 : x;
    }
    }
}

int sg_distribution_contains(const sg_distribution *d, double x)
{
    switch (d->kind) {
    case SG_DIST_LOGNORMAL:
        return x > 0;
    case SG_DIST_UNIFORM:
    case SG_DIST_LOGUNIFORM:
        return x >= d->a && x <= d->b;
    default:
        return x >= 0;
    }
}

void sg_distribution_format(const sg_distribution *d, char *buf, size_t size)
{
    snprintf(buf, size, "%s(%.10g, %.10g)", dist_names[d->kind], d->a, d->b);
}

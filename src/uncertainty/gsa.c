/*
 * Global sensitivity from an ensemble's records (the runs are ordinary
 * ensemble samples, so threads, MPI ranks and checkpoints serve them too).
 *
 * Sobol (Saltelli 2010, Comput Phys Commun 181:259): with f_A, f_B and
 * f_ABi the outputs at base point j of A, B and A with column i from B,
 *   V     = variance of f_A and f_B together,
 *   S_i   = (V - mean((f_B - f_ABi)^2) / 2) / V     (Jansen 1999)
 *   S_Ti  = mean((f_A - f_ABi)^2) / 2 / V           (Jansen 1999)
 * Intervals: the percentile bootstrap over base points (the same resample
 * for V and the means). The bootstrap needs the paired outputs: memory is
 * (d + 2) doubles per base point for the output analysed.
 *
 * Morris (Morris 1991, Technometrics 33:161; mu* of Campolongo 2007): each
 * step of a trajectory moves one parameter by levels/2 of its `levels`
 * equal-probability levels, i.e. by +-1/2 in quantile, and gives one
 * elementary effect (f after - f before) / (+-1/2): the change of f per unit
 * of quantile, comparable between parameters (a term c x of a uniform x on
 * lo..hi has the effect c (hi - lo)).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "ensemble.h"

void sg_morris_path(const sg_ensemble *e, long t, int *start, int *order, int *direction)
{
    int d = e->nparams, p = e->levels;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    uint64_t s = sg_mix64(sg_mix64((uint64_t)e->seed ^ 0x6d6f72726973ULL) ^ (uint64_t)t);
    if (rng)
        gsl_rng_set(rng, (unsigned long)(s ? s : 1));
    for (int k = 0; k < d; k++) {
        /* without a generator (out of memory): a fixed, valid path */
        start[k] = rng ? (int)gsl_rng_uniform_int(rng, (unsigned long)p) : 0;
        order[k] = k;
    }
    if (rng)
        gsl_ran_shuffle(rng, order, (size_t)d, sizeof *order);
    for (int k = 0; k < d; k++) {
        int moved = order[k];
        /* up by p/2 levels from the lower half, down from the upper */
        direction[k] = start[moved] + p / 2 <= p - 1 ? 1 : -1;
    }
    if (rng)
        gsl_rng_free(rng);
}

int sg_ensemble_find_row(const sg_ensemble *e, double t)
{
    for (int r = 0; r < e->rows; r++)
        if (e->x[r] == t)
            return r;
    return -1;
}

/* The output (k, row) of every evaluation; NaN where the run failed. */
static sg_status read_outputs(const sg_ensemble *e, sg_ensemble_store *s, int k, int row,
                              double *f, sg_error *err)
{
    double *rec = sg_malloc(sizeof(double) * (size_t)e->record_size);
    if (!rec)
        return sg_error_nomem(err);
    size_t at = 1 + (size_t)e->nparams + (size_t)row * (size_t)e->noutputs + (size_t)k;
    sg_status st = SG_OK;
    for (long i = 0; i < e->samples && st == SG_OK; i++) {
        st = sg_ensemble_store_get(s, i, rec, err);
        if (st == SG_OK && rec[0] == SG_RECORD_MISSING)
            st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "evaluation %ld is missing", i);
        f[i] = rec[0] == SG_RECORD_RAN ? rec[at] : NAN;
    }
    sg_free(rec);
    return st;
}

/* Jansen's estimates from the base points listed in idx (n of them). */
static void jansen(const double *f, int d, const long *idx, long n, double *s1, double *st)
{
    double mean = 0, m2 = 0;
    long count = 0;
    for (long a = 0; a < n; a++) {
        const double *row = f + (size_t)idx[a] * (size_t)(d + 2);
        for (int b = 0; b < 2; b++) { /* Welford over f_A and f_B */
            double delta = row[b] - mean;
            mean += delta / (double)++count;
            m2 += delta * (row[b] - mean);
        }
    }
    double v = count > 1 ? m2 / (double)(count - 1) : NAN;
    for (int i = 0; i < d; i++) {
        double sum_b = 0, sum_a = 0;
        for (long a = 0; a < n; a++) {
            const double *row = f + (size_t)idx[a] * (size_t)(d + 2);
            double db = row[1] - row[2 + i], da = row[0] - row[2 + i];
            sum_b += db * db;
            sum_a += da * da;
        }
        s1[i] = (v - sum_b / (2.0 * (double)n)) / v;
        st[i] = sum_a / (2.0 * (double)n) / v;
    }
}

sg_status sg_gsa_sobol(const sg_ensemble *e, sg_ensemble_store *s, int k, int row, long boot,
                       double confidence, unsigned long seed, sg_sobol_indices *out,
                       long *used, double *variance, sg_error *err)
{
    if (e->gsa != SG_GSA_SOBOL)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "not a Sobol design");
    int d = e->nparams;
    long n = e->base;
    double *f = sg_malloc(sizeof(double) * (size_t)e->samples);
    long *idx = sg_malloc(sizeof(long) * (size_t)n), *pick = sg_malloc(sizeof(long) * (size_t)n);
    double *s1 = sg_malloc(sizeof(double) * (size_t)d * 2), *st = s1 ? s1 + d : NULL;
    double *b1 = sg_malloc(sizeof(double) * (size_t)d * (size_t)(boot > 0 ? boot : 1));
    double *bt = sg_malloc(sizeof(double) * (size_t)d * (size_t)(boot > 0 ? boot : 1));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    sg_status status = f && idx && pick && s1 && b1 && bt && rng ? SG_OK : sg_error_nomem(err);
    if (status == SG_OK)
        status = read_outputs(e, s, k, row, f, err);
    long good = 0;
    for (long j = 0; j < n && status == SG_OK; j++) {
        int ok = 1;
        for (int b = 0; b < d + 2; b++)
            ok &= !isnan(f[j * (d + 2) + b]);
        if (ok)
            idx[good++] = j;
    }
    if (status == SG_OK && good < 2)
        status = sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                              "fewer than 2 base points ran completely: no indices");
    if (status == SG_OK) {
        jansen(f, d, idx, good, s1, st);
        double mean = 0, m2 = 0;
        long c = 0;
        for (long a = 0; a < good; a++)
            for (int b = 0; b < 2; b++) {
                double x = f[idx[a] * (d + 2) + b], delta = x - mean;
                mean += delta / (double)++c;
                m2 += delta * (x - mean);
            }
        *variance = m2 / (double)(c - 1);
        *used = good;
        gsl_rng_set(rng, (unsigned long)(sg_mix64(seed ^ 0x626f6f74ULL) | 1));
        for (long b = 0; b < boot; b++) {
            for (long a = 0; a < good; a++)
                pick[a] = idx[gsl_rng_uniform_int(rng, (unsigned long)good)];
            jansen(f, d, pick, good, b1 + b * d, bt + b * d);
        }
        double lo = (1 - confidence) / 2, hi = 1 - lo;
        for (int i = 0; i < d; i++) {
            out[i].s1 = s1[i];
            out[i].st = st[i];
            if (boot < 2) {
                out[i].s1_low = out[i].s1_high = out[i].st_low = out[i].st_high = NAN;
                continue;
            }
            /* the i-th index of each resample: a strided column */
            gsl_sort(b1 + i, (size_t)d, (size_t)boot);
            gsl_sort(bt + i, (size_t)d, (size_t)boot);
            out[i].s1_low = gsl_stats_quantile_from_sorted_data(b1 + i, (size_t)d, (size_t)boot, lo);
            out[i].s1_high = gsl_stats_quantile_from_sorted_data(b1 + i, (size_t)d, (size_t)boot, hi);
            out[i].st_low = gsl_stats_quantile_from_sorted_data(bt + i, (size_t)d, (size_t)boot, lo);
            out[i].st_high = gsl_stats_quantile_from_sorted_data(bt + i, (size_t)d, (size_t)boot, hi);
        }
    }
    if (rng)
        gsl_rng_free(rng);
    sg_free(f);
    sg_free(idx);
    sg_free(pick);
    sg_free(s1);
    sg_free(b1);
    sg_free(bt);
    return status;
}

sg_status sg_gsa_morris(const sg_ensemble *e, sg_ensemble_store *s, int k, int row,
                        sg_morris_stats *stats, long *used, sg_error *err)
{
    if (e->gsa != SG_GSA_MORRIS)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "not a Morris design");
    int d = e->nparams;
    double *f = sg_malloc(sizeof(double) * (size_t)e->samples);
    int *ints = sg_malloc(sizeof(int) * 3 * (size_t)d);
    double *sum = sg_calloc(3 * (size_t)d, sizeof(double));
    sg_status st = f && ints && sum ? SG_OK : sg_error_nomem(err);
    if (st == SG_OK)
        st = read_outputs(e, s, k, row, f, err);
    const double delta = 0.5; /* in quantile */
    long good = 0;
    for (long t = 0; t < e->base && st == SG_OK; t++) {
        const double *path = f + t * (d + 1);
        int ok = 1;
        for (int step = 0; step <= d; step++)
            ok &= !isnan(path[step]);
        if (!ok)
            continue;
        good++;
        sg_morris_path(e, t, ints, ints + d, ints + 2 * d);
        for (int step = 1; step <= d; step++) {
            int i = ints[d + step - 1];
            double ee = (path[step] - path[step - 1]) / (ints[2 * d + step - 1] * delta);
            sum[i] += fabs(ee);
            sum[d + i] += ee;
            sum[2 * d + i] += ee * ee;
        }
    }
    if (st == SG_OK && good < 2)
        st = sg_error_set(err, SG_ERR_SOLVER, NULL, 0, 0,
                          "fewer than 2 trajectories ran completely: no statistics");
    for (int i = 0; i < d && st == SG_OK; i++) {
        double n = (double)good, mean = sum[d + i] / n;
        stats[i].mu_star = sum[i] / n;
        stats[i].mu = mean;
        double var = (sum[2 * d + i] - n * mean * mean) / (n - 1);
        stats[i].sigma = sqrt(var > 0 ? var : 0);
    }
    *used = good;
    sg_free(f);
    sg_free(ints);
    sg_free(sum);
    return st;
}

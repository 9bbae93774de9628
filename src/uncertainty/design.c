/*
 * Sample designs: points of the open unit cube, one per sample index, later
 * mapped through each distribution's inverse CDF.
 *
 * Point i depends only on (sampler, seed, n, dims, i), never on which
 * thread or MPI rank computes it, so any split of the work gives the same
 * samples. Nothing here grows with n:
 * - sobol: GSL's gsl_qrng_sobol (at most 40 dimensions; GSL starts the
 *   sequence at 1/2, not at the origin, so every point has an inverse CDF);
 *   a design object walks the sequence forward, restarting only if asked
 *   for an earlier index. The seed is not used (GSL has no scrambling).
 * - lhs: Latin hypercube. Dimension j puts sample i in stratum pi_j(i) of
 *   n, where pi_j is a keyed permutation of 0..n-1 computed on demand (a
 *   four-round Feistel network on the next power of four, walked until it
 *   lands below n), jittered uniformly inside the stratum.
 * - random: independent uniforms from gsl_rng (MT19937) seeded per sample by
 *   a hash of (seed, i).
 */
#include <math.h>
#include <stdint.h>

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_rng.h>

#include "uncertainty.h"

struct sg_design {
    sg_sampler sampler;
    int dims;
    long n;
    unsigned long seed;
    gsl_qrng *qrng;
    long qpos;     /* index of the next point gsl_qrng_get gives */
    gsl_rng *rng;
    int half_bits; /* lhs: the Feistel halves */
};

uint64_t sg_mix64(uint64_t x)
{
    /* SplitMix64's finaliser: every input bit reaches every output bit */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

sg_design *sg_design_create(sg_sampler sampler, int dims, long n, unsigned long seed,
                            sg_error *err)
{
    if (dims < 1 || n < 1) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "a design needs dimensions and samples");
        return NULL;
    }
    if (sampler == SG_SAMPLER_SOBOL && dims > 40) {
        sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                     "the Sobol sampler (GSL) has at most 40 dimensions, %d asked: use "
                     "--sampler lhs or random, or fewer --params", dims);
        return NULL;
    }
    sg_design *d = sg_calloc(1, sizeof *d);
    if (!d) {
        sg_error_nomem(err);
        return NULL;
    }
    d->sampler = sampler;
    d->dims = dims;
    d->n = n;
    d->seed = seed;
    if (sampler == SG_SAMPLER_SOBOL)
        d->qrng = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)dims);
    else
        d->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!d->qrng && !d->rng) {
        sg_design_free(d);
        sg_error_nomem(err);
        return NULL;
    }
    int bits = 2;
    while (bits < 62 && ((uint64_t)1 << bits) < (uint64_t)n)
        bits += 2;
    d->half_bits = bits / 2;
    return d;
}

void sg_design_free(sg_design *d)
{
    if (!d)
        return;
    if (d->qrng)
        gsl_qrng_free(d->qrng);
    if (d->rng)
        gsl_rng_free(d->rng);
    sg_free(d);
}

/* The keyed permutation of 0..n-1 of dimension j (see the top). */
static long permute(const sg_design *d, int j, long i)
{
    int h = d->half_bits;
    uint64_t mask = ((uint64_t)1 << h) - 1, x = (uint64_t)i;
    uint64_t key = sg_mix64(((uint64_t)d->seed << 20) ^ (uint64_t)j ^ 0x51ed270b27e5a6c5ULL);
    do {
        uint64_t left = x >> h, right = x & mask;
        for (int round = 0; round < 4; round++) {
            uint64_t f = sg_mix64(key + (uint64_t)round * 0x2545f4914f6cdd1dULL + right) & mask;
            uint64_t next = left ^ f;
            left = right;
            right = next;
        }
        x = (left << h) | right;
    } while (x >= (uint64_t)d->n);
    return (long)x;
}

static void seed_sample(const sg_design *d, long i)
{
    uint64_t s = sg_mix64(sg_mix64((uint64_t)d->seed) ^ (uint64_t)i);
    gsl_rng_set(d->rng, (unsigned long)(s ? s : 1));
}

void sg_design_point(sg_design *d, long i, double *u)
{
    switch (d->sampler) {
    case SG_SAMPLER_SOBOL:
        if (i < d->qpos) {
            gsl_qrng_init(d->qrng);
            d->qpos = 0;
        }
        while (d->qpos <= i) {
            gsl_qrng_get(d->qrng, u);
            d->qpos++;
        }
        for (int j = 0; j < d->dims; j++) /* k / 2^m, never 1; never 0 in GSL's, kept safe */
            if (!(u[j] > 0))
                u[j] = 0.5 / (double)(d->n + 1);
        break;
    case SG_SAMPLER_LHS:
        seed_sample(d, i);
        for (int j = 0; j < d->dims; j++)
            u[j] = ((double)permute(d, j, i) + gsl_rng_uniform_pos(d->rng)) / (double)d->n;
        break;
    default:
        seed_sample(d, i);
        for (int j = 0; j < d->dims; j++)
            u[j] = gsl_rng_uniform_pos(d->rng);
        break;
    }
}

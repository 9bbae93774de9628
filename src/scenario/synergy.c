/*
 * Reference models of drug combinations: what a pair of doses would do if
 * the drugs did not interact, against which a combination's readout is
 * scored.
 *  - Bliss independence: relative responses multiply, fA(a) fB(b).
 *  - Loewe additivity: the drugs are dilutions of each other; the expected
 *    response y solves a / A(y) + b / B(y) = 1, with A and B the doses of
 *    each drug alone giving y, from the single agents' Hill fits.
 *  - Highest single agent (HSA): the stronger of fA(a) and fB(b).
 */
#include <math.h>

#include "../util/util.h"

/* The dose of a drug alone giving y; 0 when y is on the untreated side of
 * its low plateau, +inf when beyond its high plateau (it never gets
 * there). */
static double dose_for(const sg_hill_fit *f, double y)
{
    double towards = f->high - f->low;
    double reached = (y - f->low) / towards; /* 0 untreated, 1 saturating */
    if (reached <= 0)
        return 0;
    if (reached >= 1)
        return INFINITY;
    return f->ec50 * pow(reached / (1 - reached), 1.0 / f->slope);
}

/* a / A(y) + b / B(y) - 1: decreasing from +inf to -1 as y moves from the
 * untreated response towards the plateaus. */
static double loewe_gap(const sg_hill_fit *fa, const sg_hill_fit *fb, double a, double b,
                        double y)
{
    double da = dose_for(fa, y), db = dose_for(fb, y);
    double ta = a == 0 ? 0 : da == 0 ? INFINITY : a / da;
    double tb = b == 0 ? 0 : db == 0 ? INFINITY : b / db;
    return ta + tb - 1;
}

double sg_loewe_expected(const sg_hill_fit *fa, const sg_hill_fit *fb, double a, double b)
{
    if (!fa->ok || !fb->ok || fa->decreasing != fb->decreasing || a < 0 || b < 0)
        return NAN;
    if (b == 0)
        return sg_hill_value(fa, a);
    if (a == 0)
        return sg_hill_value(fb, b);
    /* bracket: from the untreated response (larger gap) to the farther
     * plateau (gap -1), bisected to the last bit */
    double start = fa->decreasing ? fmax(fa->low, fb->low) : fmin(fa->low, fb->low);
    double end = fa->decreasing ? fmin(fa->high, fb->high) : fmax(fa->high, fb->high);
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (start + end);
        if (mid == start || mid == end)
            break;
        if (loewe_gap(fa, fb, a, b, mid) > 0)
            start = mid;
        else
            end = mid;
    }
    return 0.5 * (start + end);
}

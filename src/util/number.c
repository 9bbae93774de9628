/* Numbers as text that reads back to the same double. */
#define __STDC_WANT_IEC_60559_BFP_EXT__ 1 /* strfromd (ISO/IEC TS 18661-1, glibc 2.25) */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The shortest of %.15g, %.16g and %.17g that strtod reads back as v:
 * 0.1 stays "0.1", 2/3 gets 16 digits. strfromd gives the same text as
 * snprintf("%.15g") without printf's format machinery, and %.17g, which
 * always reads back (17 significant digits determine a double), is not
 * read back. %.16g is tried first: when it does not read back, %.15g
 * does not either (the nearest 16-digit decimal is at least as close to v
 * as the nearest 15-digit one, and v's rounding interval is symmetric
 * except at a power of two, which takes the plain order). On fceri_ji's
 * tables this is a quarter less time than the snprintf loop. */
static void format_double_by_reading_back(char *buf, size_t size, double v)
{
    int e;
    if (!isfinite(v) || fabs(frexp(v, &e)) == 0.5 || v == 0) {
        strfromd(buf, size, "%.15g", v);
        if (strtod(buf, NULL) == v)
            return;
        strfromd(buf, size, "%.16g", v);
        if (strtod(buf, NULL) == v)
            return;
        strfromd(buf, size, "%.17g", v);
        return;
    }
    char g16[32];
    strfromd(g16, sizeof g16, "%.16g", v);
    if (strtod(g16, NULL) != v) {
        strfromd(buf, size, "%.17g", v);
        return;
    }
    strfromd(buf, size, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, size, "%s", g16);
}

/* The same text from one conversion, not two or three and their
 * read-backs (the writing of fceri_ji's 22,000-number table drops from
 * 12 to 4 ms). strfromd gives v to 19 significant digits, S = M 10^E18
 * with M < 10^19 (fits 64 bits) and |S - v| <= 1/2 in units of M's last
 * digit. Rounding S to P <= 17 digits is rounding v to P digits unless
 * the dropped digits are exactly half (then v's side is unknown), and the
 * P-digit decimal D reads back to v when |D - v| is under half of v's
 * ulp: |D - S| is exact in those units, and half an ulp there is
 * M 2^-54 / f (v = f 2^e, f in [1/2, 1)), 55 to 1110 units, so only
 * distances within a unit of it are undecided. Undecided cases, zero,
 * subnormals, powers of two and non-finite values take the read-back
 * path above; test_number_text compares both with snprintf. */

enum { SIG_DIGITS = 19 };

static const uint64_t pow10_u64[SIG_DIGITS + 1] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
    1000000000u, 10000000000u, 100000000000u, 1000000000000u, 10000000000000u,
    100000000000000u, 1000000000000000u, 10000000000000000u, 100000000000000000u,
    1000000000000000000u, 10000000000000000000u};

typedef enum { READS_BACK, DOES_NOT, UNDECIDED } read_back;

/* v rounded to `prec` digits: *digits (prec digits, the first nonzero)
 * and *exp10; 0 when the dropped digits are exactly half. The distance
 * |D - S| in units of M's last digit goes to *dist. */
static int round_to(uint64_t m, int e10, int prec, uint64_t *digits, int *exp10, uint64_t *dist)
{
    uint64_t unit = pow10_u64[SIG_DIGITS - prec], half = unit / 2;
    uint64_t kept = m / unit, dropped = m % unit;
    if (dropped == half)
        return 0;
    if (dropped > half) {
        kept++;
        *dist = unit - dropped;
    } else {
        *dist = dropped;
    }
    *exp10 = e10;
    if (kept == pow10_u64[prec]) { /* 99..9 rounded up: one more digit */
        kept /= 10;
        (*exp10)++;
    }
    *digits = kept;
    return 1;
}

/* printf's %.{prec}g of the decimal digits 10^exp10 (prec digits) */
static void write_g(char *out, int negative, uint64_t digits, int prec, int exp10)
{
    char d[SIG_DIGITS + 1] = {0}; /* -O3 cannot tell that prec >= 1 fills what is read */
    for (int k = prec - 1; k >= 0; k--) {
        d[k] = (char)('0' + digits % 10);
        digits /= 10;
    }
    int n = prec; /* %g drops trailing zeros */
    while (n > 1 && d[n - 1] == '0')
        n--;
    char *o = out;
    if (negative)
        *o++ = '-';
    if (exp10 >= -4 && exp10 < prec) {
        if (exp10 < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int k = -1; k > exp10; k--)
                *o++ = '0';
            memcpy(o, d, (size_t)n);
            o += n;
        } else {
            for (int k = 0; k <= exp10; k++)
                *o++ = k < n ? d[k] : '0';
            if (n > exp10 + 1) {
                *o++ = '.';
                memcpy(o, d + exp10 + 1, (size_t)(n - exp10 - 1));
                o += n - exp10 - 1;
            }
        }
    } else {
        *o++ = d[0];
        if (n > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)(n - 1));
            o += n - 1;
        }
        *o++ = 'e';
        *o++ = exp10 < 0 ? '-' : '+';
        unsigned a = (unsigned)(exp10 < 0 ? -exp10 : exp10);
        if (a >= 100)
            *o++ = (char)('0' + a / 100);
        *o++ = (char)('0' + a / 10 % 10);
        *o++ = (char)('0' + a % 10);
    }
    *o = '\0';
}

/* How far S may lie from v, in units of M's last digit: 1/2 from
 * strfromd's correct rounding, 2 from the long-double product below (two
 * roundings of 2^-64 relative, M < 10^19, then the rounding to an
 * integer: 0.5 + 2 * 0.55, rounded up). */
static const double STRFROMD_SLACK = 0.5;
static const double WIDE_SLACK = 2.0;

/* The classification of the comment above for an S within `slack` units
 * of v: 0 when undecided by rounding (the dropped digits within `slack`
 * of exactly half). */
static int round_near(uint64_t m, int e10, int prec, double slack, uint64_t *digits,
                      int *exp10, uint64_t *dist)
{
    uint64_t unit = pow10_u64[SIG_DIGITS - prec], half = unit / 2;
    uint64_t dropped = m % unit;
    uint64_t off_half = dropped > half ? dropped - half : half - dropped;
    if ((double)off_half <= slack)
        return 0;
    return round_to(m, e10, prec, digits, exp10, dist);
}

static read_back reads_back_near(uint64_t dist, double half_ulp, double slack)
{
    if ((double)dist + slack < half_ulp - 1e-6)
        return READS_BACK;
    if ((double)dist - slack > half_ulp + 1e-6)
        return DOES_NOT;
    return UNDECIDED;
}

/* From S = m 10^(e10 - 18) within `slack` units of v, %.15g, %.16g or
 * %.17g as the read-back loop would choose; 0 when S cannot decide it. */
static int format_from_digits(char *buf, double v, double f, uint64_t m, int e10, double slack)
{
    double half_ulp = (double)m * 0x1p-54 / fabs(f);
    uint64_t d16, d15, d17, dist;
    int x16, x15, x17;
    char text[32];
    if (!round_near(m, e10, 16, slack, &d16, &x16, &dist))
        return 0;
    read_back r16 = reads_back_near(dist, half_ulp, slack);
    if (r16 == UNDECIDED) {
        write_g(text, v < 0, d16, 16, x16);
        r16 = strtod(text, NULL) == v ? READS_BACK : DOES_NOT;
    }
    if (r16 == DOES_NOT) {
        if (!round_near(m, e10, 17, slack, &d17, &x17, &dist))
            return 0;
        write_g(buf, v < 0, d17, 17, x17);
        return 1;
    }
    if (!round_near(m, e10, 15, slack, &d15, &x15, &dist))
        return 0;
    read_back r15 = reads_back_near(dist, half_ulp, slack);
    write_g(buf, v < 0, d15, 15, x15);
    if (r15 == UNDECIDED)
        r15 = strtod(buf, NULL) == v ? READS_BACK : DOES_NOT;
    if (r15 == DOES_NOT)
        write_g(buf, v < 0, d16, 16, x16);
    return 1;
}

/* The 19 digits without strfromd, whose exact conversion is most of the
 * time of a table (366 ns a number on fceri_ji's outputs): |v| times a
 * power of ten in x87 long double (64-bit significand), for |v| in
 * [1e-36, 1e19), where concentrations live. The product is within
 * WIDE_SLACK units of v, so the classification above still holds with
 * that margin; the cases it cannot decide (about 3% of random numbers,
 * mostly within 2 units of a tie at 17 digits) take strfromd. Valgrind runs
 * x87 arithmetic in double precision: the check of the significand at run
 * time then sends every number to strfromd. */
#if LDBL_MANT_DIG == 64
#define WIDE_MIN_EXP10 (-36)
#define WIDE_MAX_EXP10 18
static const long double pow10_ld[SIG_DIGITS - 1 - WIDE_MIN_EXP10 + 1] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,  1e10L, 1e11L,
    1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L,
    1e24L, 1e25L, 1e26L, 1e27L, 1e28L, 1e29L, 1e30L, 1e31L, 1e32L, 1e33L, 1e34L, 1e35L,
    1e36L, 1e37L, 1e38L, 1e39L, 1e40L, 1e41L, 1e42L, 1e43L, 1e44L, 1e45L, 1e46L, 1e47L,
    1e48L, 1e49L, 1e50L, 1e51L, 1e52L, 1e53L, 1e54L};

static int long_double_is_wide(void)
{
    volatile long double one = 1.0L, tiny = 0x1p-60L;
    return one + tiny != one;
}

/* v = f 2^e2 (frexp), |f| != 0.5; the caller has checked buf's size */
static int format_wide(char *buf, double v, double f, int e2)
{
    double a = fabs(v);
    if (!(a >= 1e-36 && a < 1e19) || !long_double_is_wide())
        return 0;
    /* 10^e10 <= a < 10^(e10 + 1), from the binary exponent (log10(2) =
     * 0.30103), corrected below when off by one */
    int e10 = (int)floor((e2 - 1) * 0.30102999566398120);
    for (int tries = 0; tries < 3; tries++) {
        if (e10 < WIDE_MIN_EXP10 || e10 > WIDE_MAX_EXP10)
            return 0;
        long double x = (long double)a * pow10_ld[SIG_DIGITS - 1 - e10];
        if (x >= 1e19L) {
            e10++;
            continue;
        }
        if (x < 1e18L) {
            e10--;
            continue;
        }
        uint64_t m = (uint64_t)x;
        if (x - (long double)m >= 0.5L)
            m++;
        if (m == pow10_u64[SIG_DIGITS])
            return 0; /* rounded up to 10^19: rare, leave it to strfromd */
        return format_from_digits(buf, v, f, m, e10, WIDE_SLACK);
    }
    return 0;
}
#else
static int format_wide(char *buf, double v, double f, int e2)
{
    (void)buf, (void)v, (void)f, (void)e2;
    return 0;
}
#endif

int sg_format_double_wide(char *buf, size_t size, double v)
{
    int e2;
    double f = frexp(v, &e2);
    return size >= 32 && fabs(f) != 0.5 && format_wide(buf, v, f, e2);
}

void sg_format_double(char *buf, size_t size, double v)
{
    int e2;
    double f = frexp(v, &e2);
    if (!isfinite(v) || fabs(v) < DBL_MIN || fabs(f) == 0.5 || size < 32) {
        format_double_by_reading_back(buf, size, v);
        return;
    }
    if (format_wide(buf, v, f, e2))
        return;
    char sci[40]; /* -d.dddddddddddddddddde-308 */
    strfromd(sci, sizeof sci, "%.18e", v);
    const char *c = sci + (v < 0);
    uint64_t m = (uint64_t)(*c - '0');
    for (c += 2; *c >= '0' && *c <= '9'; c++)
        m = m * 10 + (uint64_t)(*c - '0');
    int e10 = atoi(c + 1);
    if (!format_from_digits(buf, v, f, m, e10, STRFROMD_SLACK))
        format_double_by_reading_back(buf, size, v);
}

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

static read_back reads_back(uint64_t dist, double half_ulp)
{
    /* |D - v| lies within 1/2 of dist; 1e-6 covers half_ulp's rounding */
    if ((double)dist + 0.5 < half_ulp - 1e-6)
        return READS_BACK;
    if ((double)dist - 0.5 > half_ulp + 1e-6)
        return DOES_NOT;
    return UNDECIDED;
}

/* printf's %.{prec}g of the decimal digits 10^exp10 (prec digits) */
static void write_g(char *out, int negative, uint64_t digits, int prec, int exp10)
{
    char d[SIG_DIGITS + 1];
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

void sg_format_double(char *buf, size_t size, double v)
{
    int e2;
    double f = frexp(v, &e2);
    if (!isfinite(v) || fabs(v) < DBL_MIN || fabs(f) == 0.5 || size < 32) {
        format_double_by_reading_back(buf, size, v);
        return;
    }
    char sci[40]; /* -d.dddddddddddddddddde-308 */
    strfromd(sci, sizeof sci, "%.18e", v);
    const char *c = sci + (v < 0);
    uint64_t m = (uint64_t)(*c - '0');
    for (c += 2; *c >= '0' && *c <= '9'; c++)
        m = m * 10 + (uint64_t)(*c - '0');
    int e10 = atoi(c + 1);
    double half_ulp = (double)m * 0x1p-54 / fabs(f);
    uint64_t d16, d15, d17, dist;
    int x16, x15, x17;
    char text[32];
    if (!round_to(m, e10, 16, &d16, &x16, &dist))
        goto slow;
    read_back r16 = reads_back(dist, half_ulp);
    if (r16 == UNDECIDED) {
        write_g(text, v < 0, d16, 16, x16);
        r16 = strtod(text, NULL) == v ? READS_BACK : DOES_NOT;
    }
    if (r16 == DOES_NOT) {
        if (!round_to(m, e10, 17, &d17, &x17, &dist))
            goto slow;
        write_g(buf, v < 0, d17, 17, x17);
        return;
    }
    if (!round_to(m, e10, 15, &d15, &x15, &dist))
        goto slow;
    read_back r15 = reads_back(dist, half_ulp);
    write_g(buf, v < 0, d15, 15, x15);
    if (r15 == UNDECIDED)
        r15 = strtod(buf, NULL) == v ? READS_BACK : DOES_NOT;
    if (r15 == DOES_NOT)
        write_g(buf, v < 0, d16, 16, x16);
    return;
slow:
    format_double_by_reading_back(buf, size, v);
}

/* Growing strings (sg_sbuf in util.h): the SBML import and export build
 * their text with them, and the SBML translation cache its entries. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

void sg_sbuf_addn(sg_sbuf *b, const char *text, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap &&
        sg_grow(&b->s, &b->cap, b->len + n + 1 + b->cap / 2 + 64, 1) != 0) {
        b->oom = 1;
        return;
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sg_sbuf_add(sg_sbuf *b, const char *text) { sg_sbuf_addn(b, text, strlen(text)); }

void sg_sbuf_printf(sg_sbuf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        sg_sbuf_addn(b, small, (size_t)n);
        return;
    }
    char *big = sg_malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sg_sbuf_addn(b, big, (size_t)n);
    sg_free(big);
}

void sg_sbuf_number(sg_sbuf *b, double v)
{
    char buf[40];
    sg_format_double(buf, sizeof buf, v);
    /* libconfig reads digits alone as a 32-bit integer: -0 would lose its
     * sign and 2^53 + 2 would be refused, so those are written as reals */
    if (!strpbrk(buf, ".en") && (signbit(v) || fabs(v) > 2147483647.0))
        strcat(buf, ".0");
    sg_sbuf_add(b, buf);
}

void sg_sbuf_free(sg_sbuf *b)
{
    sg_free(b->s);
    memset(b, 0, sizeof *b);
}

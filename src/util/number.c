/* Numbers as text that reads back to the same double. */
#define __STDC_WANT_IEC_60559_BFP_EXT__ 1 /* strfromd (ISO/IEC TS 18661-1, glibc 2.25) */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

/* The shortest of %.15g, %.16g and %.17g that strtod reads back as v:
 * 0.1 stays "0.1", 2/3 gets 16 digits. strfromd gives the same text as
 * snprintf("%.15g") without printf's format machinery (a 22,000-number
 * table is written about a quarter faster), and %.17g, which always reads
 * back (17 significant digits determine a double), is not read back. */
void sg_format_double(char *buf, size_t size, double v)
{
    strfromd(buf, size, "%.15g", v);
    if (strtod(buf, NULL) == v)
        return;
    strfromd(buf, size, "%.16g", v);
    if (strtod(buf, NULL) == v)
        return;
    strfromd(buf, size, "%.17g", v);
}

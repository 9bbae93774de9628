/* Numbers as text that reads back to the same double. */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

/* The shortest of %.15g, %.16g and %.17g that strtod reads back as v
 * (%.17g always does): 0.1 stays "0.1", 1/3 gets its 17 digits. */
void sg_format_double(char *buf, size_t size, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

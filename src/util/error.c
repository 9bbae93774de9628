/* Error records: filled by the library, formatted by the command line. */
#include <stdio.h>
#include <string.h>

#include "util.h"

sg_status sg_error_set(sg_error *err, sg_status status, const char *file,
                       int line, int col, const char *fmt, ...)
{
    if (!err)
        return status;
    memset(err, 0, sizeof *err);
    err->status = status;
    if (file)
        snprintf(err->file, sizeof err->file, "%s", file);
    err->line = line;
    err->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}

sg_status sg_error_nomem(sg_error *err)
{
    return sg_error_set(err, SG_ERR_NOMEM, NULL, 0, 0, "out of memory");
}

void sg_error_format(const sg_error *err, char *buf, size_t size)
{
    if (!err->file[0])
        snprintf(buf, size, "error: %s", err->message);
    else if (err->line <= 0)
        snprintf(buf, size, "%s: error: %s", err->file, err->message);
    else if (err->col <= 0)
        snprintf(buf, size, "%s:%d: error: %s", err->file, err->line, err->message);
    else
        snprintf(buf, size, "%s:%d:%d: error: %s", err->file, err->line, err->col,
                 err->message);
}

int sg_status_exit_code(sg_status status)
{
    switch (status) {
    case SG_OK:
        return 0;
    case SG_ERR_SOLVER:
        return 1;
    default:
        return 2;
    }
}

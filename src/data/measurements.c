/*
 * PEtab measurement tables (tab-separated): what was measured, in which
 * condition, when, and its noise. Read strictly: the file comes from
 * strangers, so every cell is checked and a bad one names file, row and
 * column.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

/* Larger files are not measurement tables a plot can show. */
#define MAX_BYTES (64L * 1024 * 1024)

enum { COL_OBSERVABLE, COL_CONDITION, COL_TIME, COL_MEASUREMENT, COL_NOISE, COL_TEXT, COL_EXTRA };

struct sg_measurements {
    sg_measurement *rows;
    int nrows;
    char **extra_names;
    int nextra;
    double *extra; /* nrows x nextra */
    char *text;    /* the file, cut into cells */
};

void sg_measurements_free(sg_measurements *d)
{
    if (!d)
        return;
    sg_free(d->rows);
    sg_free(d->extra_names);
    sg_free(d->extra);
    sg_free(d->text);
    sg_free(d);
}

int sg_measurements_count(const sg_measurements *d) { return d ? d->nrows : 0; }
const sg_measurement *sg_measurements_get(const sg_measurements *d, int row)
{
    return &d->rows[row];
}
int sg_measurements_find_column(const sg_measurements *d, const char *name)
{
    for (int i = 0; i < d->nextra; i++)
        if (strcmp(d->extra_names[i], name) == 0)
            return i;
    return -1;
}
double sg_measurements_extra(const sg_measurements *d, int row, int column)
{
    return d->extra[(size_t)row * (size_t)d->nextra + (size_t)column];
}

/* A number filling the whole cell; an empty cell is NaN when allowed. */
static int cell_number(const char *cell, int empty_ok, double *out)
{
    if (!*cell) {
        *out = NAN;
        return empty_ok ? 0 : -1;
    }
    char *end;
    *out = strtod(cell, &end);
    if (*end || end == cell)
        return -1;
    return isfinite(*out) || !strcmp(cell, "inf") || !strcmp(cell, "Inf") ? 0 : -1;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

sg_measurements *sg_measurements_load(const char *path, sg_error *err)
{
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot read the measurement table");
        return NULL;
    }
    sg_measurements *d = sg_calloc(1, sizeof *d);
    int *kind = NULL, ncols = 0;
    char **cells = NULL;
    if (!d)
        goto nomem;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 0 || size > MAX_BYTES) {
        sg_error_set(err, SG_ERR_LIMIT, path, 0, 0,
                     "a measurement table is limited to %ld bytes", MAX_BYTES);
        goto fail;
    }
    d->text = sg_malloc((size_t)size + 1);
    if (!d->text)
        goto nomem;
    len = fread(d->text, 1, (size_t)size, f);
    d->text[len] = '\0';
    if (memchr(d->text, '\0', len)) {
        sg_error_set(err, SG_ERR_MODEL, path, 0, 0, "not a text file (a NUL byte)");
        goto fail;
    }
    /* lines: CRLF accepted, a last line without newline accepted */
    char *line = d->text;
    int row = 0;
    size_t rows_cap = 0, extra_cap = 0;
    while (line && *line) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        row++;
        if (n == 0) {
            line = next;
            continue;
        }
        /* split on tabs */
        int count = 1;
        for (char *p = line; *p; p++)
            count += *p == '\t';
        if (row == 1) {
            ncols = count;
            cells = sg_calloc((size_t)ncols, sizeof *cells);
            kind = sg_calloc((size_t)ncols, sizeof *kind);
            d->extra_names = sg_calloc((size_t)ncols, sizeof *d->extra_names);
            if (!cells || !kind || !d->extra_names)
                goto nomem;
        } else if (count != ncols) {
            sg_error_set(err, SG_ERR_MODEL, path, row, 0,
                         "row has %d tab-separated cells, the header has %d", count, ncols);
            goto fail;
        }
        char *p = line;
        for (int c = 0; c < count; c++) {
            cells[c] = p;
            p += strcspn(p, "\t");
            if (*p)
                *p++ = '\0';
            if (!printable(cells[c])) {
                sg_error_set(err, SG_ERR_MODEL, path, row, c + 1,
                             "a control character in a cell");
                goto fail;
            }
        }
        if (row == 1) {
            static const char *const names[] = {"observableId", "simulationConditionId",
                                                "time", "measurement", "noiseParameters"};
            static const char *const text_cols[] = {"datasetId", "replicateId",
                                                    "observableParameters",
                                                    "preequilibrationConditionId", NULL};
            int seen[5] = {0};
            for (int c = 0; c < ncols; c++) {
                kind[c] = COL_EXTRA;
                for (int k = 0; k < 5; k++)
                    if (!strcmp(cells[c], names[k])) {
                        kind[c] = k;
                        if (seen[k]++) {
                            sg_error_set(err, SG_ERR_MODEL, path, 1, c + 1,
                                         "column '%s' appears twice", cells[c]);
                            goto fail;
                        }
                    }
                for (int k = 0; text_cols[k]; k++)
                    if (!strcmp(cells[c], text_cols[k]))
                        kind[c] = COL_TEXT;
                if (kind[c] == COL_EXTRA) {
                    if (!*cells[c]) {
                        sg_error_set(err, SG_ERR_MODEL, path, 1, c + 1, "empty column name");
                        goto fail;
                    }
                    d->extra_names[d->nextra++] = cells[c];
                }
            }
            for (int k = 0; k < 4; k++)
                if (!seen[k]) {
                    sg_error_set(err, SG_ERR_MODEL, path, 1, 0,
                                 "a PEtab measurement table needs a '%s' column", names[k]);
                    goto fail;
                }
            line = next;
            continue;
        }
        if (sg_grow(&d->rows, &rows_cap, (size_t)d->nrows + 1, sizeof *d->rows) != 0 ||
            (d->nextra && sg_grow(&d->extra, &extra_cap,
                                  (size_t)(d->nrows + 1) * (size_t)d->nextra, sizeof *d->extra)))
            goto nomem;
        sg_measurement *m = &d->rows[d->nrows];
        m->sd = NAN;
        int e = 0;
        for (int c = 0; c < ncols; c++) {
            double v = NAN;
            int bad = 0;
            const char *what = "";
            switch (kind[c]) {
            case COL_OBSERVABLE:
            case COL_CONDITION:
                if (!*cells[c]) {
                    bad = 1;
                    what = "an empty id";
                }
                *(kind[c] == COL_OBSERVABLE ? &m->observable : &m->condition) = cells[c];
                break;
            case COL_TIME:
                bad = cell_number(cells[c], 0, &m->time) || !isfinite(m->time);
                what = "time must be a finite number";
                break;
            case COL_MEASUREMENT:
                bad = cell_number(cells[c], 0, &m->value) || !isfinite(m->value);
                what = "measurement must be a finite number";
                break;
            case COL_NOISE:
                bad = cell_number(cells[c], 1, &m->sd) || m->sd < 0 || isinf(m->sd);
                what = "noiseParameters must be a standard deviation >= 0 here (a number, "
                       "not a parameter name)";
                break;
            case COL_EXTRA:
                bad = cell_number(cells[c], 1, &v) || isinf(v);
                what = "a number expected";
                d->extra[(size_t)d->nrows * (size_t)d->nextra + (size_t)e++] = v;
                break;
            default:
                break;
            }
            if (bad) {
                sg_error_set(err, SG_ERR_MODEL, path, row, c + 1, "%s, got '%.40s'", what,
                             cells[c]);
                goto fail;
            }
        }
        d->nrows++;
        line = next;
    }
    if (ncols == 0) {
        sg_error_set(err, SG_ERR_MODEL, path, 0, 0, "empty measurement table");
        goto fail;
    }
    fclose(f);
    sg_free(cells);
    sg_free(kind);
    return d;
nomem:
    sg_error_nomem(err);
fail:
    fclose(f);
    sg_free(cells);
    sg_free(kind);
    sg_measurements_free(d);
    return NULL;
}

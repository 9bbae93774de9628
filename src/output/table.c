/*
 * Result tables and their writers: CSV, TSV, JSON. Numbers are printed in
 * the shortest form that reads back to the same double. Files are written
 * beside their destination and renamed over it only when complete.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/util.h"

struct sg_table {
    int ncols;
    char **names;
    double *data;
    int nrows;
    size_t cap;
    char *note_name;   /* optional text column written last */
    char **notes;      /* per row, NULL for empty */
    size_t notes_cap;
};

sg_table *sg_table_create(int columns, const char *const *names, sg_error *err)
{
    sg_table *t = sg_calloc(1, sizeof *t);
    if (!t || !(t->names = sg_calloc((size_t)columns + 1, sizeof *t->names))) {
        sg_free(t);
        sg_error_nomem(err);
        return NULL;
    }
    t->ncols = columns;
    for (int c = 0; c < columns; c++)
        if (!(t->names[c] = sg_strdup(names[c]))) {
            sg_table_free(t);
            sg_error_nomem(err);
            return NULL;
        }
    return t;
}

void sg_table_free(sg_table *t)
{
    if (!t)
        return;
    for (int c = 0; c < t->ncols && t->names; c++)
        sg_free(t->names[c]);
    sg_free(t->names);
    sg_free(t->data);
    if (t->notes)
        for (size_t r = 0; r < t->notes_cap; r++)
            sg_free(t->notes[r]);
    sg_free(t->notes);
    sg_free(t->note_name);
    sg_free(t);
}

sg_status sg_table_add_row(sg_table *t, const double *values, sg_error *err)
{
    size_t cells = ((size_t)t->nrows + 1) * (size_t)(t->ncols ? t->ncols : 1);
    if (sg_grow(&t->data, &t->cap, cells, sizeof *t->data) != 0)
        return sg_error_nomem(err);
    memcpy(t->data + (size_t)t->nrows * (size_t)t->ncols, values,
           sizeof *values * (size_t)t->ncols);
    t->nrows++;
    return SG_OK;
}

sg_status sg_table_set_note(sg_table *t, const char *name, int row, const char *text,
                            sg_error *err)
{
    if (!t->note_name && !(t->note_name = sg_strdup(name)))
        return sg_error_nomem(err);
    size_t old = t->notes_cap;
    if (sg_grow(&t->notes, &t->notes_cap, (size_t)row + 1, sizeof *t->notes) != 0)
        return sg_error_nomem(err);
    memset(t->notes + old, 0, (t->notes_cap - old) * sizeof *t->notes);
    char *copy = sg_strdup(text);
    if (!copy)
        return sg_error_nomem(err);
    sg_free(t->notes[row]);
    t->notes[row] = copy;
    return SG_OK;
}

const char *sg_table_note(const sg_table *t, int row)
{
    return t->note_name && (size_t)row < t->notes_cap ? t->notes[row] : NULL;
}

int sg_table_rows(const sg_table *t) { return t->nrows; }
int sg_table_columns(const sg_table *t) { return t->ncols; }
const char *sg_table_column_name(const sg_table *t, int c) { return t->names[c]; }
double sg_table_get(const sg_table *t, int r, int c)
{
    return t->data[(size_t)r * (size_t)t->ncols + (size_t)c];
}

/* Shortest of %.15g..%.17g that reads back to x exactly. */
static void format_number(char *buf, size_t size, double x, int json)
{
    if (isnan(x)) {
        snprintf(buf, size, "%s", json ? "null" : "nan");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, size, "%s", json ? "null" : (x > 0 ? "inf" : "-inf"));
        return;
    }
    sg_format_double(buf, size, x);
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* A CSV field: quoted when it holds a separator, quote or newline. */
static void text_field(FILE *out, const char *s, char sep)
{
    if (!strchr(s, sep) && !strchr(s, '"') && !strchr(s, '\n')) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static const char *note_of(const sg_table *t, int r)
{
    return t->notes && (size_t)r < t->notes_cap && t->notes[r] ? t->notes[r] : "";
}

sg_status sg_table_write(const sg_table *t, sg_format format, FILE *out, sg_error *err)
{
    char num[64];
    if (format == SG_FORMAT_JSON) {
        fputs("{\"columns\": [", out);
        for (int c = 0; c < t->ncols; c++) {
            if (c)
                fputs(", ", out);
            json_string(out, t->names[c]);
        }
        if (t->note_name) {
            fputs(", ", out);
            json_string(out, t->note_name);
        }
        fputs("],\n \"data\": [", out);
        for (int r = 0; r < t->nrows; r++) {
            fputs(r ? ",\n  [" : "\n  [", out);
            for (int c = 0; c < t->ncols; c++) {
                format_number(num, sizeof num, sg_table_get(t, r, c), 1);
                if (c)
                    fputs(", ", out);
                fputs(num, out); /* not fprintf: its format parsing per number */
            }
            if (t->note_name) {
                fputs(", ", out);
                json_string(out, note_of(t, r));
            }
            fputc(']', out);
        }
        fputs("]}\n", out);
    } else {
        char sep = format == SG_FORMAT_TSV ? '\t' : ',';
        for (int c = 0; c < t->ncols; c++) {
            if (c)
                fputc(sep, out);
            text_field(out, t->names[c], sep);
        }
        if (t->note_name) {
            fputc(sep, out);
            text_field(out, t->note_name, sep);
        }
        fputc('\n', out);
        for (int r = 0; r < t->nrows; r++) {
            for (int c = 0; c < t->ncols; c++) {
                format_number(num, sizeof num, sg_table_get(t, r, c), 0);
                if (c)
                    fputc(sep, out);
                fputs(num, out);
            }
            if (t->note_name) {
                fputc(sep, out);
                text_field(out, note_of(t, r), sep);
            }
            fputc('\n', out);
        }
    }
    if (fflush(out) != 0 || ferror(out))
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "write failed: %s", strerror(errno));
    return SG_OK;
}

typedef struct table_job {
    const sg_table *table;
    sg_format format;
} table_job;

static sg_status write_table_job(void *ctx, FILE *out, sg_error *err)
{
    const table_job *job = ctx;
    return sg_table_write(job->table, job->format, out, err);
}

sg_status sg_table_write_file(const sg_table *t, sg_format format, const char *path,
                              sg_error *err)
{
    table_job job = {t, format};
    return sg_write_atomic(path, write_table_job, &job, err);
}

/* --------------------------------------------------------- sensitivities */

/* d y / d p, or d log y / d log p = (p / y) dy/dp (NaN where y = 0). */
static double sens_entry(const sg_sens_result *r, int i, int j, int k, int normalize)
{
    double d = sg_sens_result_deriv(r, i, j, k);
    if (!normalize)
        return d;
    double y = sg_sens_result_value(r, i, j);
    return y != 0.0 ? d * sg_sens_result_param_value(r, k) / y : NAN;
}

sg_status sg_sens_write(const sg_sens_result *r, int normalize, sg_format format, FILE *out,
                        sg_error *err)
{
    static const char *const columns[] = {"time", "output", "parameter", "value"};
    char num[64], tnum[64];
    int json = format == SG_FORMAT_JSON;
    char sep = format == SG_FORMAT_TSV ? '\t' : ',';
    if (json) {
        fputs("{\"columns\": [\"time\", \"output\", \"parameter\", \"value\"],\n \"data\": [", out);
    } else {
        for (int c = 0; c < 4; c++) {
            if (c)
                fputc(sep, out);
            fputs(columns[c], out);
        }
        fputc('\n', out);
    }
    int first = 1;
    for (int i = 0; i < sg_sens_result_times(r); i++) {
        format_number(tnum, sizeof tnum, sg_sens_result_time(r, i), json);
        for (int j = 0; j < sg_sens_result_outputs(r); j++)
            for (int k = 0; k < sg_sens_result_params(r); k++) {
                format_number(num, sizeof num, sens_entry(r, i, j, k, normalize), json);
                if (json) {
                    fprintf(out, "%s[%s, ", first ? "\n  " : ",\n  ", tnum);
                    json_string(out, sg_sens_result_output_id(r, j));
                    fputs(", ", out);
                    json_string(out, sg_sens_result_param_id(r, k));
                    fprintf(out, ", %s]", num);
                } else {
                    fputs(tnum, out);
                    fputc(sep, out);
                    text_field(out, sg_sens_result_output_id(r, j), sep);
                    fputc(sep, out);
                    text_field(out, sg_sens_result_param_id(r, k), sep);
                    fputc(sep, out);
                    fputs(num, out);
                    fputc('\n', out);
                }
                first = 0;
            }
    }
    if (json)
        fputs("]}\n", out);
    if (fflush(out) != 0 || ferror(out))
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "write failed: %s", strerror(errno));
    return SG_OK;
}

typedef struct sens_job {
    const sg_sens_result *r;
    int normalize;
    sg_format format;
} sens_job;

static sg_status write_sens_job(void *ctx, FILE *out, sg_error *err)
{
    const sens_job *job = ctx;
    return sg_sens_write(job->r, job->normalize, job->format, out, err);
}

sg_status sg_sens_write_file(const sg_sens_result *r, int normalize, sg_format format,
                             const char *path, sg_error *err)
{
    sens_job job = {r, normalize, format};
    return sg_write_atomic(path, write_sens_job, &job, err);
}

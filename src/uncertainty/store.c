/*
 * The records of an ensemble in a file: a 4096-byte text header naming the
 * request, then sample i's record of record_size doubles at offset
 * 4096 + i * record_size * 8 (native byte order: a checkpoint is for the
 * machine that wrote it). A record never written reads as zeros, status 0
 * (missing), so a file cut short by a crash still says what is done.
 *
 * Quantiles are exact: the values of a block of outputs (as many as fit in
 * the memory budget) are gathered from every record, sorted, and read by
 * linear interpolation between order statistics (type 7 of Hyndman & Fan,
 * the default of R and NumPy: gsl_stats_quantile_from_sorted_data). Memory
 * is the budget, or one output's values (8 bytes a sample) when larger;
 * never the whole ensemble.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "ensemble.h"

#define HEADER_BYTES 4096
#define READ_BATCH_BYTES (1 << 20)

struct sg_ensemble_store {
    int fd;
    FILE *anonymous;
    long samples;
    int record_size;
    char *path;
};

static sg_status io_fail(sg_ensemble_store *s, sg_error *err, const char *what)
{
    return sg_error_set(err, SG_ERR_IO, s && s->path ? s->path : NULL, 0, 0, "%s: %s", what,
                        strerror(errno));
}

static void make_header(char *h, const char *key, long samples, int record_size)
{
    memset(h, 0, HEADER_BYTES);
    snprintf(h, HEADER_BYTES, "sigode ensemble checkpoint 1\nsamples %ld\nrecord %d\n%s\n",
             samples, record_size, key ? key : "");
}

sg_ensemble_store *sg_ensemble_store_open(const char *path, const char *key, long samples,
                                          int record_size, int resume, sg_error *err)
{
    sg_ensemble_store *s = sg_calloc(1, sizeof *s);
    char *header = sg_malloc(HEADER_BYTES), *old = sg_malloc(HEADER_BYTES);
    if (!s || !header || !old || (path && !(s->path = sg_strdup(path)))) {
        sg_error_nomem(err);
        goto fail;
    }
    s->fd = -1;
    s->samples = samples;
    s->record_size = record_size;
    make_header(header, key, samples, record_size);
    if (!path) {
        if (!(s->anonymous = tmpfile())) {
            io_fail(s, err, "cannot make a temporary file for the samples");
            goto fail;
        }
        s->fd = fileno(s->anonymous);
    } else if (resume) {
        s->fd = open(path, O_RDWR);
        if (s->fd < 0) {
            io_fail(s, err, "cannot resume from the checkpoint");
            goto fail;
        }
        ssize_t got = pread(s->fd, old, HEADER_BYTES, 0);
        if (got != HEADER_BYTES || memcmp(old, header, HEADER_BYTES) != 0) {
            sg_error_set(err, SG_ERR_USAGE, path, 0, 0,
                         "the checkpoint was made by another request (model, scenario, "
                         "samples, seed, sampler, parameters or outputs differ): rerun "
                         "without --resume to start afresh");
            goto fail;
        }
        sg_free(header);
        sg_free(old);
        return s;
    } else {
        s->fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0666);
        if (s->fd < 0) {
            io_fail(s, err, "cannot write the checkpoint");
            goto fail;
        }
    }
    if (pwrite(s->fd, header, HEADER_BYTES, 0) != HEADER_BYTES) {
        io_fail(s, err, "cannot write the samples file");
        goto fail;
    }
    sg_free(header);
    sg_free(old);
    return s;
fail:
    sg_free(header);
    sg_free(old);
    sg_ensemble_store_close(s);
    return NULL;
}

void sg_ensemble_store_close(sg_ensemble_store *s)
{
    if (!s)
        return;
    if (s->anonymous)
        fclose(s->anonymous);
    else if (s->fd >= 0)
        close(s->fd);
    sg_free(s->path);
    sg_free(s);
}

static off_t record_offset(const sg_ensemble_store *s, long i)
{
    return (off_t)HEADER_BYTES + (off_t)i * (off_t)s->record_size * (off_t)sizeof(double);
}

sg_status sg_ensemble_store_put(sg_ensemble_store *s, long i, const double *rec, sg_error *err)
{
    size_t bytes = sizeof(double) * (size_t)s->record_size;
    if (i < 0 || i >= s->samples)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "sample %ld out of range", i);
    if (pwrite(s->fd, rec, bytes, record_offset(s, i)) != (ssize_t)bytes)
        return io_fail(s, err, "cannot write the samples file");
    return SG_OK;
}

/* Reads n records from sample i into buf; records past the end are zeros. */
static sg_status read_records(sg_ensemble_store *s, long i, long n, double *buf, sg_error *err)
{
    size_t bytes = sizeof(double) * (size_t)s->record_size * (size_t)n, done = 0;
    while (done < bytes) {
        ssize_t got = pread(s->fd, (char *)buf + done, bytes - done,
                            record_offset(s, i) + (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return io_fail(s, err, "cannot read the samples file");
        if (got == 0) {
            memset((char *)buf + done, 0, bytes - done);
            break;
        }
        done += (size_t)got;
    }
    return SG_OK;
}

sg_status sg_ensemble_store_get(sg_ensemble_store *s, long i, double *rec, sg_error *err)
{
    return read_records(s, i, 1, rec, err);
}

sg_status sg_ensemble_store_sync(sg_ensemble_store *s, sg_error *err)
{
    if (!s->anonymous && fsync(s->fd) != 0)
        return io_fail(s, err, "cannot write the checkpoint to the disk");
    return SG_OK;
}

/* Calls visit(ctx, i, record) for each record, read in batches. */
typedef void (*visit_fn)(void *ctx, long i, const double *rec);

static sg_status each_record(sg_ensemble_store *s, visit_fn visit, void *ctx, sg_error *err)
{
    long batch = READ_BATCH_BYTES / (long)(sizeof(double) * (size_t)s->record_size);
    if (batch < 1)
        batch = 1;
    double *buf = sg_malloc(sizeof(double) * (size_t)s->record_size * (size_t)batch);
    if (!buf)
        return sg_error_nomem(err);
    sg_status st = SG_OK;
    for (long i = 0; i < s->samples && st == SG_OK; i += batch) {
        long n = s->samples - i < batch ? s->samples - i : batch;
        st = read_records(s, i, n, buf, err);
        for (long k = 0; k < n && st == SG_OK; k++)
            visit(ctx, i + k, buf + (size_t)k * (size_t)s->record_size);
    }
    sg_free(buf);
    return st;
}

typedef struct done_ctx {
    unsigned char *done;
    long ndone;
} done_ctx;

static void mark_done(void *ctx, long i, const double *rec)
{
    done_ctx *d = ctx;
    d->done[i] = rec[0] != SG_RECORD_MISSING;
    d->ndone += d->done[i];
}

unsigned char *sg_ensemble_store_done(sg_ensemble_store *s, long *ndone, sg_error *err)
{
    done_ctx d = {sg_calloc((size_t)s->samples + 1, 1), 0};
    if (!d.done) {
        sg_error_nomem(err);
        return NULL;
    }
    if (each_record(s, mark_done, &d, err) != SG_OK) {
        sg_free(d.done);
        return NULL;
    }
    *ndone = d.ndone;
    return d.done;
}

/* ------------------------------------------------------------ quantiles */

typedef struct gather_ctx {
    size_t first, offset; /* first output value of the block, its offset in a record */
    int width;            /* values in the block */
    long samples;
    double *values;       /* width x samples */
    long *n;              /* per value: how many gathered */
    long failed, missing;
} gather_ctx;

static void gather(void *ctx, long i, const double *rec)
{
    gather_ctx *g = ctx;
    if (rec[0] != SG_RECORD_RAN) {
        g->failed += rec[0] == SG_RECORD_FAILED;
        g->missing += rec[0] == SG_RECORD_MISSING;
        return;
    }
    for (int b = 0; b < g->width; b++) {
        double v = rec[g->offset + g->first + (size_t)b];
        if (!isnan(v))
            g->values[(size_t)b * (size_t)g->samples + (size_t)g->n[b]++] = v;
    }
}

/* Quantiles of `total` output values (record offset `offset`), in blocks;
 * result[v * (nq + 1) + j]: quantile j of value v, then the count. */
static sg_status quantiles(sg_ensemble_store *s, size_t offset, size_t total, const double *q,
                           int nq, size_t budget, double *result, long *failed, sg_error *err)
{
    size_t per_value = sizeof(double) * (size_t)s->samples + sizeof(long);
    size_t width = budget / per_value;
    if (width < 1)
        width = 1;
    if (width > total)
        width = total;
    gather_ctx g = {0};
    g.offset = offset;
    g.samples = s->samples;
    g.values = sg_malloc(sizeof(double) * width * (size_t)s->samples);
    g.n = sg_calloc(width, sizeof *g.n);
    sg_status st = g.values && g.n ? SG_OK : sg_error_nomem(err);
    for (size_t first = 0; first < total && st == SG_OK; first += width) {
        g.first = first;
        g.width = (int)(total - first < width ? total - first : width);
        memset(g.n, 0, sizeof *g.n * width);
        g.failed = g.missing = 0;
        st = each_record(s, gather, &g, err);
        if (st == SG_OK && g.missing > 0)
            st = sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                              "%ld of %ld samples are missing from the samples file", g.missing,
                              s->samples);
        for (int b = 0; b < g.width && st == SG_OK; b++) {
            double *col = g.values + (size_t)b * (size_t)s->samples;
            double *res = result + (first + (size_t)b) * (size_t)(nq + 1);
            gsl_sort(col, 1, (size_t)g.n[b]);
            for (int j = 0; j < nq; j++)
                res[j] = g.n[b] > 0 ? gsl_stats_quantile_from_sorted_data(col, 1, (size_t)g.n[b], q[j])
                                    : NAN;
            res[nq] = (double)g.n[b];
        }
    }
    if (failed)
        *failed = g.failed;
    sg_free(g.values);
    sg_free(g.n);
    return st;
}

sg_status sg_ensemble_bands(const sg_ensemble *e, sg_ensemble_store *s, const double *q, int nq,
                            size_t budget, sg_table **out, long *failed, sg_error *err)
{
    *out = NULL;
    int no = e->noutputs, ncols = 1 + no * (nq + 1);
    size_t total = (size_t)e->rows * (size_t)no;
    double *res = sg_malloc(sizeof(double) * total * (size_t)(nq + 1));
    double *row = sg_malloc(sizeof(double) * (size_t)ncols);
    char **names = sg_calloc((size_t)ncols, sizeof *names);
    sg_table *t = NULL;
    sg_status st = res && row && names ? SG_OK : sg_error_nomem(err);
    if (st == SG_OK)
        st = quantiles(s, 1 + (size_t)e->nparams, total, q, nq, budget, res, failed, err);
    for (int c = 0; c < ncols && st == SG_OK; c++) {
        char buf[600];
        int k = (c - 1) / (nq + 1), j = (c - 1) % (nq + 1);
        if (c == 0)
            snprintf(buf, sizeof buf, "%s", sg_ensemble_x_name(e));
        else if (j < nq)
            snprintf(buf, sizeof buf, "%s_q%.10g", e->outputs[k], q[j]);
        else
            snprintf(buf, sizeof buf, "%s_n", e->outputs[k]);
        if (!(names[c] = sg_strdup(buf)))
            st = sg_error_nomem(err);
    }
    if (st == SG_OK && !(t = sg_table_create(ncols, (const char *const *)names, err)))
        st = err ? err->status : SG_ERR_NOMEM;
    for (int r = 0; r < e->rows && st == SG_OK; r++) {
        row[0] = e->x[r];
        for (int k = 0; k < no; k++)
            memcpy(row + 1 + k * (nq + 1), res + ((size_t)r * (size_t)no + (size_t)k) * (size_t)(nq + 1),
                   sizeof(double) * (size_t)(nq + 1));
        st = sg_table_add_row(t, row, err);
    }
    if (names)
        for (int c = 0; c < ncols; c++)
            sg_free(names[c]);
    sg_free(names);
    sg_free(row);
    sg_free(res);
    if (st != SG_OK) {
        sg_table_free(t);
        return st;
    }
    *out = t;
    return SG_OK;
}

sg_status sg_ensemble_ec50(const sg_ensemble *e, sg_ensemble_store *s, int k, const double *q,
                           int nq, double *values, long *fitted, sg_error *err)
{
    if (!e->fit)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "the ensemble has no fits");
    double *res = sg_malloc(sizeof(double) * (size_t)(nq + 1));
    if (!res)
        return sg_error_nomem(err);
    size_t offset = 1 + (size_t)e->nparams + (size_t)e->rows * (size_t)e->noutputs + (size_t)k;
    sg_status st = quantiles(s, offset, 1, q, nq, 0, res, NULL, err);
    if (st == SG_OK) {
        memcpy(values, res, sizeof(double) * (size_t)nq);
        *fitted = (long)res[nq];
    }
    sg_free(res);
    return st;
}

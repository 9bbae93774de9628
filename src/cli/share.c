/*
 * Sharing a study's samples: among threads (sg_ensemble_compute) and, in a
 * build with MPI, among the ranks of an MPI job. Rank r computes the samples
 * i with i mod K = r (K ranks) and sends each record to rank 0, which writes
 * it at its own place in the record file and alone writes the outputs. The
 * records, hence the outputs, do not depend on K or on the threads.
 *
 * The record file is also a checkpoint (--checkpoint FILE): a record is
 * written as soon as it arrives, so after a crash (a rank killed, the job
 * cancelled) `--resume` computes only the samples missing from it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/mpi.h"
#include "cli/study.h"
#include "util/util.h"

enum { TAG_RECORD = 1, TAG_DONE = 2, TAG_SCAN = 3, TAG_FIT = 4 };

/* Records a rank > 0 may have in flight to rank 0 (see deliver): a fixed
 * number, so a rank's memory does not grow with the samples. */
enum { SEND_RING = SG_MPI_SLOTS };

static int mpi_rank, mpi_size = 1, mpi_threads_ok = 1;

int study_mpi_rank(void) { return mpi_rank; }
int study_mpi_size(void) { return mpi_size; }

/* The process manager's world size from the environment: mpirun (Open MPI),
 * srun and Hydra set one of these in every process they start. */
static long launcher_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                       "SLURM_NTASKS", NULL};
    for (int i = 0; vars[i]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atol(v) > 1 && (i < 3 || getenv("SLURM_STEP_ID")))
            return atol(v);
    }
    return 1;
}

#ifdef SIGODE_MPI
static int mpi_started;
/* The MPI module, opened only in a process started as one of several
 * ranks: a single process never loads the MPI libraries. */
static const sg_mpi_module *mpi;
#endif

int study_mpi_init(int *argc, char ***argv)
{
    long n = launcher_size();
#ifdef SIGODE_MPI
    /* Not started by a launcher: one process, without the MPI runtime
     * (Open MPI started as a singleton spawns its daemon, about a second). */
    if (n <= 1)
        return 0;
    sg_error err;
    if (!(mpi = sg_module_open(SG_MPI_MODULE_NAME, SG_MPI_MODULE_SYMBOL, "MPI", 1, &err))) {
        fprintf(stderr, "sigode: %s\n", err.message);
        return 2;
    }
    if (mpi->init(argc, argv, &mpi_rank, &mpi_size, &mpi_threads_ok) != 0) {
        fprintf(stderr, "sigode: MPI could not start\n");
        return 2;
    }
    mpi_started = 1;
    return 0;
#else
    (void)argc;
    (void)argv;
    if (n > 1) {
        fprintf(stderr,
                "sigode: started as one of %ld MPI processes, but this sigode was built without "
                "MPI: each process would do the whole job alone. Build with MPI (cmake "
                "-DSIGODE_MPI=ON, needs libopenmpi-dev) or run a single process.\n",
                n);
        return 2;
    }
    return 0;
#endif
}

int study_mpi_refuse_ranks(const char *what)
{
    long n = launcher_size();
    if (n <= 1)
        return 0;
    fprintf(stderr, "sigode %s: started as one of %ld MPI processes, but %s does not share its "
                    "work among MPI ranks: run it as a single process\n",
            what, n, what);
    return 2;
}

void study_mpi_finalize(void)
{
#ifdef SIGODE_MPI
    if (mpi_started)
        mpi->finalize();
    mpi_started = 0;
#endif
    mpi_rank = 0;
    mpi_size = 1;
}

typedef struct share_ctx {
    sg_ensemble_store *store;
    int record_size;
    double *message;  /* [index, record...]; on a rank > 0, SEND_RING of them */
#ifdef SIGODE_MPI
    long sent; /* rank > 0: the messages sent (their slot: sent % SEND_RING) */
#endif
    sg_error err;
    int io_failed;
    long delivered;
    long die_after;   /* test hook: SIGODE_TEST_DIE_AFTER */
    int ranks_done;   /* rank 0: ranks that said they have finished */
} share_ctx;

static void maybe_die(share_ctx *s)
{
    /* a test's way to lose a process mid-run: killed, as by the OOM killer */
    if (s->die_after > 0 && ++s->delivered > s->die_after) {
        fprintf(stderr, "sigode: test hook: rank %d killing itself after %ld samples\n",
                mpi_rank, s->die_after);
        fflush(stderr);
        raise(SIGKILL);
    }
}

#ifdef SIGODE_MPI
/* Rank 0: writes the records that have arrived (counting the ranks that
 * say they are done); with block, waits for one message. */
static void receive(share_ctx *s, int block)
{
    for (;;) {
        if (!block && !mpi->probe(SG_MPI_ANY, SG_MPI_ANY, SG_MPI_DOUBLE, 0, NULL))
            return;
        int tag = mpi->recv(s->message, s->record_size + 1, SG_MPI_DOUBLE, SG_MPI_ANY,
                            SG_MPI_ANY);
        if (tag == TAG_DONE) {
            s->ranks_done++;
        } else if (!s->io_failed &&
                   sg_ensemble_store_put(s->store, (long)s->message[0], s->message + 1,
                                         &s->err) != SG_OK) {
            s->io_failed = 1;
        }
        if (block)
            return;
    }
}
#endif

static int deliver(void *ctx, long i, const double *rec)
{
    share_ctx *s = ctx;
    if (mpi_rank == 0) {
        if (!s->io_failed && sg_ensemble_store_put(s->store, i, rec, &s->err) != SG_OK)
            s->io_failed = 1;
#ifdef SIGODE_MPI
        if (mpi_size > 1)
            receive(s, 0);
#endif
        maybe_die(s);
        return s->io_failed;
    }
#ifdef SIGODE_MPI
    /* Not MPI_Send: with Open MPI's shared-memory transport it returns only
     * once rank 0 has taken the record, and rank 0 looks for records only
     * between its own samples, so a send waited for the rest of rank 0's
     * sample (2 ranks, calcineurin dose-response: 2.9 ms a record, 0.58 s
     * of rank 1's 2.4 s; scripts/bench/README.md). An MPI_Isend from a ring of buffers returns
     * at once; a buffer is reused after its send has completed, which it
     * has long since unless rank 0 lags SEND_RING records behind. */
    int k = (int)(s->sent++ % SEND_RING);
    double *m = s->message + (size_t)k * ((size_t)s->record_size + 1);
    mpi->wait(k);
    m[0] = (double)i;
    memcpy(m + 1, rec, sizeof(double) * (size_t)s->record_size);
    mpi->isend(m, s->record_size + 1, SG_MPI_DOUBLE, 0, TAG_RECORD, k);
#endif
    maybe_die(s);
    return 0;
}

/* Names some of the samples missing from the store. */
static void name_missing(const unsigned char *done, long n, char *buf, size_t size)
{
    size_t len = 0;
    int shown = 0;
    buf[0] = '\0';
    for (long i = 0; i < n && len + 32 < size; i++)
        if (!done[i]) {
            if (shown == 10) {
                snprintf(buf + len, size - len, ", ...");
                break;
            }
            len += (size_t)snprintf(buf + len, size - len, "%s%ld", shown ? ", " : "", i);
            shown++;
        }
}

int study_compute(const study_opts *o, const sg_ensemble *ens, sg_ensemble_store **store_out,
                  long *failed, char *failure, size_t failure_size)
{
    long n = sg_ensemble_samples(ens);
    int rs = sg_ensemble_record_size(ens);
    sg_error err = {0};
    share_ctx s;
    memset(&s, 0, sizeof s);
    s.record_size = rs;
    const char *die = getenv("SIGODE_TEST_DIE_AFTER");
    const char *die_rank = getenv("SIGODE_TEST_DIE_RANK");
    if (die && (!die_rank || atoi(die_rank) == mpi_rank))
        s.die_after = atol(die);
    unsigned char *skip = NULL;
    int rc = 0;
    *store_out = NULL;
    *failed = 0;
    if (mpi_rank == 0) {
        char *key = study_key(o->argc, o->argv);
        s.store = key ? sg_ensemble_store_open(o->checkpoint, key, n, rs, o->resume, &err) : NULL;
        free(key);
        if (!s.store)
            rc = key ? study_report(&err) : study_usage(o->command, "out of memory");
        long ndone = 0;
        if (!rc && o->resume) {
            skip = sg_ensemble_store_done(s.store, &ndone, &err);
            if (!skip)
                rc = study_report(&err);
            else
                fprintf(stderr, "sigode %s: resuming from %s: %ld of %ld samples done, %ld to "
                                "compute\n",
                        o->command, o->checkpoint, ndone, n, n - ndone);
        }
    }
#ifdef SIGODE_MPI
    if (mpi_size > 1) {
        mpi->bcast(&rc, 1, SG_MPI_INT);
        int resume = o->resume;
        if (!rc && resume) {
            if (!skip && !(skip = calloc((size_t)n + 1, 1)))
                mpi->abort_job(2);
            mpi->bcast(skip, (int)n, SG_MPI_UCHAR);
        }
        if (rc) {
            free(skip);
            sg_ensemble_store_close(s.store);
            return mpi_rank == 0 ? rc : 3;
        }
        size_t messages = mpi_rank == 0 ? 1 : SEND_RING;
        if (!(s.message = malloc(sizeof(double) * ((size_t)rs + 1) * messages)))
            mpi->abort_job(2);
    }
#endif
    if (rc) {
        free(skip);
        sg_ensemble_store_close(s.store);
        return rc;
    }
    int jobs = o->jobs;
    if (!mpi_threads_ok)
        jobs = 1;
    sg_status st = sg_ensemble_compute(ens, mpi_rank, n, mpi_size, skip, jobs, deliver, &s,
                                       failure, failure_size, &err);
    if (st != SG_OK && !s.io_failed)
        fprintf(stderr, "sigode %s: rank %d: ", o->command, mpi_rank), study_report(&err);
#ifdef SIGODE_MPI
    if (mpi_size > 1) {
        if (mpi_rank != 0) {
            if (failure && failure[0])
                fprintf(stderr, "sigode %s: rank %d: %s\n", o->command, mpi_rank, failure);
            mpi->wait_all();
            mpi->send(s.message, 0, SG_MPI_DOUBLE, 0, TAG_DONE);
            free(s.message);
            free(skip);
            return st == SG_OK ? 3 : sg_status_exit_code(st);
        }
        while (s.ranks_done < mpi_size - 1)
            receive(&s, 1);
        free(s.message);
    }
#endif
    free(skip);
    if (s.io_failed) {
        sg_ensemble_store_close(s.store);
        return study_report(&s.err);
    }
    if (sg_ensemble_store_sync(s.store, &err) != SG_OK) {
        sg_ensemble_store_close(s.store);
        return study_report(&err);
    }
    /* every sample must be there: a lost rank leaves holes */
    long ndone = 0;
    unsigned char *done = sg_ensemble_store_done(s.store, &ndone, &err);
    if (!done) {
        sg_ensemble_store_close(s.store);
        return study_report(&err);
    }
    if (ndone < n) {
        char list[400];
        name_missing(done, n, list, sizeof list);
        fprintf(stderr, "sigode %s: %ld of %ld samples are missing (%s)%s\n", o->command,
                n - ndone, n, list,
                o->checkpoint ? ": rerun with --resume to compute them"
                              : ": run with --checkpoint FILE to be able to resume");
        free(done);
        sg_ensemble_store_close(s.store);
        return 1;
    }
    free(done);
    if (st != SG_OK) {
        sg_ensemble_store_close(s.store);
        return sg_status_exit_code(st);
    }
    *store_out = s.store;
    return 0;
}

/* ------------------------------------------------ scan and fit on ranks
 * `scan` and `fit` share their points or starts the same way: rank r runs
 * those whose index mod K is r, and sends its results to rank 0, which
 * puts them in the order a single process gives. */

#ifdef SIGODE_MPI
/* Sends a block (count items of type) to rank 0; a count of 0 still goes. */
static void send_block(const void *data, long count, int type)
{
    if (count > 0x7fffffffL)
        mpi->abort_job(2); /* no scan or fit is that large */
    mpi->send(data, (int)count, type, 0, TAG_SCAN);
}

/* Receives a block from rank `from` into a new buffer of `size` bytes per
 * item; *count gets the items. */
static void *receive_block(int from, int type, size_t size, int *count)
{
    mpi->probe(from, TAG_SCAN, type, 1, count);
    void *buf = malloc(size * (size_t)*count + 1);
    if (!buf)
        mpi->abort_job(2);
    mpi->recv(buf, *count, type, from, TAG_SCAN);
    return buf;
}

/* One rank's part of a scan, as rank 0 receives it. */
typedef struct scan_part {
    sg_status status;
    int rows, cols;
    double *data;
    char *text;  /* the rows' notes one after the other (or the error) */
    int ntext;
    const char **notes;
} scan_part;

static void part_from_table(scan_part *part, const sg_table *t)
{
    part->rows = sg_table_rows(t);
    part->cols = sg_table_columns(t);
    part->data = malloc(sizeof(double) * (size_t)part->rows * (size_t)part->cols + 1);
    part->notes = calloc((size_t)part->rows + 1, sizeof *part->notes);
    if (!part->data || !part->notes)
        mpi->abort_job(2);
    for (int r = 0; r < part->rows; r++) {
        for (int k = 0; k < part->cols; k++)
            part->data[(size_t)r * (size_t)part->cols + (size_t)k] = sg_table_get(t, r, k);
        part->notes[r] = sg_table_note(t, r);
    }
}

static void receive_part(int from, scan_part *part)
{
    int n = 0;
    double *head = receive_block(from, SG_MPI_DOUBLE, sizeof(double), &n);
    part->status = (sg_status)head[0];
    part->rows = (int)head[1];
    part->cols = (int)head[2];
    free(head);
    part->data = receive_block(from, SG_MPI_DOUBLE, sizeof(double), &n);
    part->text = receive_block(from, SG_MPI_CHAR, 1, &part->ntext);
    part->notes = calloc((size_t)part->rows + 1, sizeof *part->notes);
    if (!part->notes)
        mpi->abort_job(2);
    /* the notes: one NUL-terminated string per row, empty for none */
    for (int r = 0, at = 0; part->ntext > 0 && r < part->rows && at < part->ntext; r++) {
        part->notes[r] = part->text[at] ? part->text + at : NULL;
        at += (int)strnlen(part->text + at, (size_t)(part->ntext - at)) + 1;
    }
}
#endif

int study_gather_scan(int count, sg_table **table, sg_status *st, sg_error *err)
{
#ifndef SIGODE_MPI
    (void)count, (void)table, (void)st, (void)err;
    return 0;
#else
    if (mpi_size <= 1)
        return 0;
    int K = mpi_size;
    if (mpi_rank != 0) {
        const sg_table *t = *table;
        int rows = t ? sg_table_rows(t) : 0, cols = t ? sg_table_columns(t) : 0;
        double head[3] = {(double)*st, rows, cols};
        double *data = malloc(sizeof(double) * (size_t)rows * (size_t)cols + 1);
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!data || !f)
            mpi->abort_job(2);
        if (!t) {
            fwrite(err->message, 1, strlen(err->message) + 1, f);
        } else {
            int notes = 0;
            for (int r = 0; r < rows; r++)
                notes |= sg_table_note(t, r) != NULL;
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < cols; k++)
                    data[(size_t)r * (size_t)cols + (size_t)k] = sg_table_get(t, r, k);
                const char *note = sg_table_note(t, r);
                if (notes)
                    fwrite(note ? note : "", 1, strlen(note ? note : "") + 1, f);
            }
        }
        fclose(f);
        send_block(head, 3, SG_MPI_DOUBLE);
        send_block(data, (long)rows * cols, SG_MPI_DOUBLE);
        send_block(text, (long)len, SG_MPI_CHAR);
        free(data);
        free(text);
        return 3;
    }
    scan_part *parts = calloc((size_t)K, sizeof *parts);
    if (!parts)
        mpi->abort_job(2);
    parts[0].status = *st;
    if (*table)
        part_from_table(&parts[0], *table);
    for (int r = 1; r < K; r++)
        receive_part(r, &parts[r]);
    /* a rank that could not scan at all (not a failed point): its error */
    int fatal = -1;
    for (int r = 0; r < K && fatal < 0; r++)
        if (parts[r].status != SG_OK && parts[r].status != SG_ERR_SOLVER)
            fatal = r;
    sg_table *merged = NULL;
    if (fatal > 0) {
        *st = parts[fatal].status;
        memset(err, 0, sizeof *err);
        err->status = *st;
        snprintf(err->message, sizeof err->message, "%s", parts[fatal].text ? parts[fatal].text : "");
    } else if (fatal < 0) {
        const char **names = calloc((size_t)parts[0].cols + 1, sizeof *names);
        for (int k = 0; names && k < parts[0].cols; k++)
            names[k] = sg_table_column_name(*table, k);
        merged = names ? sg_table_create(parts[0].cols, names, err) : NULL;
        free(names);
        int any_note = 0, failed = 0, first = -1;
        for (int r = 0; r < K; r++)
            for (int j = 0; j < parts[r].rows; j++)
                any_note |= parts[r].notes[j] != NULL;
        for (int i = 0; merged && i < count; i++) {
            scan_part *part = &parts[i % K];
            int j = i / K;
            if (j >= part->rows || part->cols != parts[0].cols ||
                sg_table_add_row(merged, part->data + (size_t)j * (size_t)part->cols, err) !=
                    SG_OK) {
                sg_table_free(merged);
                merged = NULL;
                break;
            }
            const char *note = part->notes[j];
            int bad = note && strcmp(note, "ok") != 0;
            if (bad && first < 0)
                first = i;
            failed += bad;
            if (any_note && sg_table_set_note(merged, "status", i, note ? note : "ok", err) !=
                                SG_OK) {
                sg_table_free(merged);
                merged = NULL;
            }
        }
        if (!merged) {
            *st = SG_ERR_NOMEM;
            snprintf(err->message, sizeof err->message, "the ranks' scan rows do not fit together");
        } else if (failed > 0) { /* the message sg_scan_run gives */
            *st = err->status = SG_ERR_SOLVER;
            snprintf(err->message, sizeof err->message,
                     "%d of %d scan points failed; first in row %d: %s", failed, count, first + 1,
                     parts[first % K].notes[first / K]);
        } else {
            *st = SG_OK;
        }
    }
    if (fatal != 0) { /* rank 0's own table gives way to the merged one */
        sg_table_free(*table);
        *table = merged;
    }
    for (int r = 0; r < K; r++) {
        free(parts[r].data);
        free(parts[r].text);
        free(parts[r].notes);
    }
    free(parts);
    return 0;
#endif
}

int study_gather_fit(sg_fit_start *starts, int count, int n)
{
#ifndef SIGODE_MPI
    (void)starts, (void)count, (void)n;
    return 0;
#else
    if (mpi_size <= 1)
        return 0;
    int K = mpi_size;
    /* per start: index, nllh, failed, evaluations, failed evaluations, x */
    size_t width = 5 + (size_t)n;
    double *buf = malloc(sizeof(double) * width);
    char status[sizeof starts->status];
    if (!buf)
        mpi->abort_job(2);
    if (mpi_rank != 0) {
        for (int s = 0; s < count; s++) {
            const sg_fit_start *f = &starts[s];
            if (f->index % K != mpi_rank)
                continue;
            double head[5] = {f->index, f->nllh, f->failed, (double)f->evaluations,
                              f->failed_evaluations};
            memcpy(buf, head, sizeof head);
            memcpy(buf + 5, f->x, sizeof(double) * (size_t)n);
            mpi->send(buf, (int)width, SG_MPI_DOUBLE, 0, TAG_FIT);
            mpi->send(f->status, (int)sizeof f->status, SG_MPI_CHAR, 0, TAG_FIT);
        }
        free(buf);
        return 3;
    }
    /* rank 0: the starts are still in index order (not sorted) */
    for (int s = 0; s < count; s++) {
        int from = s % K;
        if (from == 0)
            continue;
        mpi->recv(buf, (int)width, SG_MPI_DOUBLE, from, TAG_FIT);
        mpi->recv(status, (int)sizeof status, SG_MPI_CHAR, from, TAG_FIT);
        sg_fit_start *f = &starts[(int)buf[0]];
        f->nllh = buf[1];
        f->failed = (int)buf[2];
        f->evaluations = (long)buf[3];
        f->failed_evaluations = (int)buf[4];
        memcpy(f->x, buf + 5, sizeof(double) * (size_t)n);
        status[sizeof status - 1] = '\0';
        memcpy(f->status, status, sizeof status);
    }
    free(buf);
    sg_fit_starts_sort(starts, count);
    return 0;
#endif
}

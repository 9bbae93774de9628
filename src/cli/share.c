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

#ifdef SIGODE_MPI
#include <mpi.h>
#endif

#include "cli/study.h"

enum { TAG_RECORD = 1, TAG_DONE = 2 };

static int mpi_rank, mpi_size = 1, mpi_threads_ok = 1;

int study_mpi_rank(void) { return mpi_rank; }
int study_mpi_size(void) { return mpi_size; }

#ifndef SIGODE_MPI
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
#endif

int study_mpi_init(int *argc, char ***argv)
{
#ifdef SIGODE_MPI
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "sigode: MPI could not start\n");
        return 2;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    mpi_threads_ok = provided >= MPI_THREAD_SERIALIZED;
    return 0;
#else
    (void)argc;
    (void)argv;
    long n = launcher_size();
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

void study_mpi_finalize(void)
{
#ifdef SIGODE_MPI
    MPI_Finalize();
#endif
}

typedef struct share_ctx {
    sg_ensemble_store *store;
    int record_size;
    double *message;  /* [index, record...] */
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
        int flag = 1;
        MPI_Status status;
        if (!block)
            MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status);
        if (!flag)
            return;
        MPI_Recv(s->message, s->record_size + 1, MPI_DOUBLE, MPI_ANY_SOURCE, MPI_ANY_TAG,
                 MPI_COMM_WORLD, &status);
        if (status.MPI_TAG == TAG_DONE) {
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
    s->message[0] = (double)i;
    memcpy(s->message + 1, rec, sizeof(double) * (size_t)s->record_size);
    MPI_Send(s->message, s->record_size + 1, MPI_DOUBLE, 0, TAG_RECORD, MPI_COMM_WORLD);
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
        MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
        int resume = o->resume;
        if (!rc && resume) {
            if (!skip && !(skip = calloc((size_t)n + 1, 1)))
                MPI_Abort(MPI_COMM_WORLD, 2);
            MPI_Bcast(skip, (int)n, MPI_UNSIGNED_CHAR, 0, MPI_COMM_WORLD);
        }
        if (rc) {
            free(skip);
            sg_ensemble_store_close(s.store);
            return mpi_rank == 0 ? rc : 3;
        }
        if (!(s.message = malloc(sizeof(double) * ((size_t)rs + 1))))
            MPI_Abort(MPI_COMM_WORLD, 2);
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
            MPI_Send(s.message, 0, MPI_DOUBLE, 0, TAG_DONE, MPI_COMM_WORLD);
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

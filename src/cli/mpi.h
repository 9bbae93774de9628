/*
 * The MPI module, sigode-mpi.so (mpi.c, linked to Open MPI): the few MPI
 * calls with which share.c spreads a study, a scan or a fit over the
 * ranks of a job. The command line opens it (src/util/module.c) only when
 * a launcher's variables say the process is one of several ranks, so a
 * single process never loads the MPI libraries (about 2.5 ms of dynamic
 * loading every command paid when they were linked).
 */
#ifndef SG_CLI_MPI_H
#define SG_CLI_MPI_H

#define SG_MPI_MODULE_NAME "sigode-mpi.so"
#define SG_MPI_MODULE_SYMBOL "sg_mpi_module_table"

/* Item types of the messages; SG_MPI_ANY: any source or tag. */
enum { SG_MPI_DOUBLE, SG_MPI_CHAR, SG_MPI_INT, SG_MPI_UCHAR };
enum { SG_MPI_ANY = -1 };
/* Non-blocking sends in flight at once (a ring of slots; see isend). */
enum { SG_MPI_SLOTS = 64 };

typedef struct sg_mpi_module {
    const char *abi; /* first, as in every module's table */
    /* MPI_Init_thread (MPI_THREAD_SERIALIZED) and the world's rank and
     * size; *threads_ok when that level is provided. 0, or -1. */
    int (*init)(int *argc, char ***argv, int *rank, int *size, int *threads_ok);
    void (*finalize)(void);
    void (*abort_job)(int code);
    void (*send)(const void *buf, int count, int type, int to, int tag);
    /* Receives into buf (room for count items); returns the message's tag. */
    int (*recv)(void *buf, int count, int type, int from, int tag);
    /* Whether a message from `from` with `tag` is waiting (block: waits for
     * one); *count gets its item count. */
    int (*probe)(int from, int tag, int type, int block, int *count);
    /* Rank 0's buf to every rank. */
    void (*bcast)(void *buf, int count, int type);
    /* Slot k of the ring: wait waits for its send to complete (before its
     * buffer is reused), isend starts the next send from it; wait_all
     * waits for every slot. */
    void (*wait)(int slot);
    void (*isend)(const void *buf, int count, int type, int to, int tag, int slot);
    void (*wait_all)(void);
} sg_mpi_module;

#endif

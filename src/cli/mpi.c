/* The MPI module (mpi.h): each call of the table is the MPI call it names,
 * on MPI_COMM_WORLD. Only the table is exported (-fvisibility=hidden). */
#include <mpi.h>

#include "cli/mpi.h"

#ifndef SIGODE_MODULE_ABI
#error "CMakeLists.txt defines SIGODE_MODULE_ABI for the modules"
#endif

static MPI_Request sends[SG_MPI_SLOTS];

static MPI_Datatype datatype(int type)
{
    switch (type) {
    case SG_MPI_DOUBLE:
        return MPI_DOUBLE;
    case SG_MPI_INT:
        return MPI_INT;
    case SG_MPI_UCHAR:
        return MPI_UNSIGNED_CHAR;
    default:
        return MPI_CHAR;
    }
}

static int any_source(int from) { return from == SG_MPI_ANY ? MPI_ANY_SOURCE : from; }
static int any_tag(int tag) { return tag == SG_MPI_ANY ? MPI_ANY_TAG : tag; }

static int world_init(int *argc, char ***argv, int *rank, int *size, int *threads_ok)
{
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        return -1;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    *threads_ok = provided >= MPI_THREAD_SERIALIZED;
    for (int k = 0; k < SG_MPI_SLOTS; k++)
        sends[k] = MPI_REQUEST_NULL;
    return 0;
}

static void world_finalize(void) { MPI_Finalize(); }

static void world_abort_job(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static void world_send(const void *buf, int count, int type, int to, int tag)
{
    MPI_Send(buf, count, datatype(type), to, tag, MPI_COMM_WORLD);
}

static int world_recv(void *buf, int count, int type, int from, int tag)
{
    MPI_Status status;
    MPI_Recv(buf, count, datatype(type), any_source(from), any_tag(tag), MPI_COMM_WORLD,
             &status);
    return status.MPI_TAG;
}

static int world_probe(int from, int tag, int type, int block, int *count)
{
    int flag = 1;
    MPI_Status status;
    if (block)
        MPI_Probe(any_source(from), any_tag(tag), MPI_COMM_WORLD, &status);
    else
        MPI_Iprobe(any_source(from), any_tag(tag), MPI_COMM_WORLD, &flag, &status);
    if (flag && count)
        MPI_Get_count(&status, datatype(type), count);
    return flag;
}

static void world_bcast(void *buf, int count, int type)
{
    MPI_Bcast(buf, count, datatype(type), 0, MPI_COMM_WORLD);
}

static void world_wait(int slot)
{
    if (sends[slot] != MPI_REQUEST_NULL)
        MPI_Wait(&sends[slot], MPI_STATUS_IGNORE);
}

/* The caller has waited for the slot (wait) before refilling its buffer. */
static void world_isend(const void *buf, int count, int type, int to, int tag, int slot)
{
    MPI_Isend(buf, count, datatype(type), to, tag, MPI_COMM_WORLD, &sends[slot]);
}

static void world_wait_all(void) { MPI_Waitall(SG_MPI_SLOTS, sends, MPI_STATUSES_IGNORE); }

__attribute__((visibility("default"))) const sg_mpi_module sg_mpi_module_table = {
    .abi = SIGODE_MODULE_ABI,
    .init = world_init,
    .finalize = world_finalize,
    .abort_job = world_abort_job,
    .send = world_send,
    .recv = world_recv,
    .probe = world_probe,
    .bcast = world_bcast,
    .wait = world_wait,
    .isend = world_isend,
    .wait_all = world_wait_all,
};

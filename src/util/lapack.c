/*
 * LAPACK opened with dlopen on first use instead of linked: a threaded
 * OpenBLAS starts a thread per core in its constructor that spins for
 * about 0.1 s, and loading it costs about 6 ms, on every command, though
 * only steady states, their sensitivities and large dense systems need it
 * (a whole `sigode run` of fceri_ji spent 20-100 ms of CPU on the spinning
 * thread when it was linked).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "lapack.h"
#include "util.h"

#ifndef SIGODE_LAPACK_SONAME
#define SIGODE_LAPACK_SONAME "liblapack.so.3"
#endif
#ifndef SIGODE_LAPACK_SERIAL
#define SIGODE_LAPACK_SERIAL ""
#endif

static struct {
    pthread_once_t once;
    sg_lapack lib;  /* the locked wrappers below */
    sg_lapack raw;  /* the library's own entry points */
    int loaded;
    char why[512]; /* dlerror's text when loading failed */
} lapack = {PTHREAD_ONCE_INIT, {0}, {0}, 0, ""};

/* One call at a time: Debian's serial OpenBLAS is built without
 * USE_LOCKING (it imports no pthread symbol), and OpenBLAS says such a
 * build must not be entered by several threads at once (its work buffers
 * are handed out unlocked); scans, ensembles and fits run simulations in
 * threads. An uncontended lock costs tens of nanoseconds, against about a
 * microsecond for the smallest LU solved here. */
static pthread_mutex_t lapack_lock = PTHREAD_MUTEX_INITIALIZER;

static void locked_dgeev(const char *jobvl, const char *jobvr, const int *n, double *a,
                         const int *lda, double *wr, double *wi, double *vl, const int *ldvl,
                         double *vr, const int *ldvr, double *work, const int *lwork, int *info)
{
    pthread_mutex_lock(&lapack_lock);
    lapack.raw.dgeev(jobvl, jobvr, n, a, lda, wr, wi, vl, ldvl, vr, ldvr, work, lwork, info);
    pthread_mutex_unlock(&lapack_lock);
}

static void locked_dgesv(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv,
                         double *b, const int *ldb, int *info)
{
    pthread_mutex_lock(&lapack_lock);
    lapack.raw.dgesv(n, nrhs, a, lda, ipiv, b, ldb, info);
    pthread_mutex_unlock(&lapack_lock);
}

static void locked_dgetrf(const int *m, const int *n, double *a, const int *lda, int *ipiv,
                          int *info)
{
    pthread_mutex_lock(&lapack_lock);
    lapack.raw.dgetrf(m, n, a, lda, ipiv, info);
    pthread_mutex_unlock(&lapack_lock);
}

static void locked_dgetrs(const char *trans, const int *n, const int *nrhs, const double *a,
                          const int *lda, const int *ipiv, double *b, const int *ldb, int *info,
                          size_t trans_len)
{
    pthread_mutex_lock(&lapack_lock);
    lapack.raw.dgetrs(trans, n, nrhs, a, lda, ipiv, b, ldb, info, trans_len);
    pthread_mutex_unlock(&lapack_lock);
}

typedef void set_threads_fn(int);

static void lapack_load(void)
{
    /* OpenBLAS's serial build where it is installed, whatever Debian's
     * alternatives chose for liblapack.so.3 (often the threaded OpenBLAS,
     * whose threads spin as soon as it is loaded) */
    void *h = SIGODE_LAPACK_SERIAL[0] ? dlopen(SIGODE_LAPACK_SERIAL, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!h)
        h = dlopen(SIGODE_LAPACK_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(lapack.why, sizeof lapack.why, "%s", why ? why : "dlopen failed");
        return;
    }
    sg_lapack *l = &lapack.raw;
    *(void **)&l->dgeev = dlsym(h, "dgeev_");
    *(void **)&l->dgesv = dlsym(h, "dgesv_");
    *(void **)&l->dgetrf = dlsym(h, "dgetrf_");
    *(void **)&l->dgetrs = dlsym(h, "dgetrs_");
    if (!l->dgeev || !l->dgesv || !l->dgetrf || !l->dgetrs) {
        snprintf(lapack.why, sizeof lapack.why, "dgeev_, dgesv_, dgetrf_ or dgetrs_ missing");
        return;
    }
    l->openblas = dlsym(h, "openblas_get_config") != NULL;
    /* One thread per factorisation: scans and ensembles already run one
     * simulation per core, and the matrices here (tens to hundreds of
     * rows) gain little from more. A no-op for OpenBLAS's serial build. */
    set_threads_fn *set_threads;
    *(void **)&set_threads = dlsym(h, "openblas_set_num_threads");
    if (set_threads)
        set_threads(1);
    lapack.lib = (sg_lapack){locked_dgeev, locked_dgesv, locked_dgetrf, locked_dgetrs,
                             l->openblas};
    lapack.loaded = 1;
}

sg_status sg_lapack_open(const sg_lapack **lib, sg_error *err)
{
    pthread_once(&lapack.once, lapack_load);
    *lib = lapack.loaded ? &lapack.lib : NULL;
    if (lapack.loaded)
        return SG_OK;
    return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                        "LAPACK (%s, Debian package liblapack3 or libopenblas0-serial) cannot be "
                        "loaded: %s",
                        SIGODE_LAPACK_SONAME, lapack.why);
}

/* Allocation wrappers with a failure-injection hook (as Lua's ltests.c). */
#define _GNU_SOURCE /* SCHED_IDLE */
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util.h"

/* Countdown to the failing allocation; 0 means the hook is off. */
static _Atomic long fail_countdown;

void sg_alloc_fail_after(long n) { atomic_store(&fail_countdown, n > 0 ? n : 0); }

long sg_alloc_fail_pending(void) { return atomic_load(&fail_countdown); }

static int should_fail(void)
{
    long n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (n == 0)
        return 0;
    n = atomic_fetch_sub(&fail_countdown, 1);
    if (n == 1)
        return 1;
    if (n <= 0) /* raced past zero: keep the hook off */
        atomic_store(&fail_countdown, 0);
    return 0;
}

/* Large blocks (a 100,000-species model's tables, arrays and arenas, from
 * 2 MiB, the size of a huge page) are given huge pages and, when new,
 * their pages at once. The first touch of each fresh 4 KiB page costs a
 * fault; on the virtual machine of scripts/bench/README.md, touching 1 GB
 * that way took 4 s of CPU, with huge pages 2.5 s, with huge pages mapped
 * in one call 1.1 s (session 27: 256 MB at 4 KiB 0.87 s, in huge pages
 * 0.02-0.5 s). From 4 MiB down to 2 MiB, the 10^5-species load had 30%
 * fewer page faults. Only a hint: the kernel may refuse either (then
 * pages come as before). */
enum { BIG_BLOCK = 2 << 20, HUGE_PAGE = 2 << 20, PAGE = 4096 };

static void advise_big(void *ptr, size_t size, int populate)
{
#if defined(MADV_HUGEPAGE)
    if (!ptr || size < BIG_BLOCK)
        return;
    uintptr_t start = ((uintptr_t)ptr + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)ptr + size) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (end > start)
        madvise((void *)start, end - start, MADV_HUGEPAGE);
#if defined(MADV_POPULATE_WRITE)
    start = ((uintptr_t)ptr + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
    end = ((uintptr_t)ptr + size) & ~(uintptr_t)(PAGE - 1);
    if (populate && end > start)
        madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#else
    (void)populate;
#endif
#else
    (void)ptr, (void)size, (void)populate;
#endif
}

void *sg_pages_alloc(size_t size)
{
    if (should_fail())
        return NULL;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    advise_big(p, size, 0);
    return p;
}

void sg_pages_populate(void *ptr, size_t size)
{
#if defined(MADV_POPULATE_WRITE)
    uintptr_t start = (uintptr_t)ptr & ~(uintptr_t)(PAGE - 1);
    uintptr_t end = ((uintptr_t)ptr + size + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
    if (end > start)
        madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#else
    (void)ptr, (void)size;
#endif
}

void sg_pages_free(void *ptr, size_t size)
{
    if (ptr)
        munmap(ptr, size);
}

void *sg_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    void *p = malloc(size ? size : 1);
    advise_big(p, size, 1);
    return p;
}

/* calloc, the block's pages mapped in at once when `populate` (else as
 * they are first touched) */
static void *calloc_advised(size_t count, size_t size, int populate)
{
    if (should_fail())
        return NULL;
    if (count == 0 || size == 0)
        count = size = 1;
    void *p = calloc(count, size);
    if (p && count <= SIZE_MAX / size)
        advise_big(p, count * size, populate);
    return p;
}

void *sg_calloc(size_t count, size_t size) { return calloc_advised(count, size, 1); }

void *sg_calloc_later(size_t count, size_t size) { return calloc_advised(count, size, 0); }

void *sg_realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    size_t old = ptr ? malloc_usable_size(ptr) : 0;
    if (ptr && size >= BIG_BLOCK && size > old) {
        /* A large array grows into a new block advised for huge pages
         * before anything touches it, the part the copy fills mapped in at
         * once. realloc copied first (or grew the heap in place), and its
         * pages came 4 KiB per fault: 9,000 faults for the instruction
         * array of the 10^5-species network, 3.4 ms per MB on the virtual
         * machine of scripts/bench/README.md against 0.1-2 ms in huge
         * pages. The rest is not populated: a grown array's new half may
         * stay unused for long. */
        void *p = malloc(size);
        if (!p)
            return NULL;
        advise_big(p, size, 0);
        sg_pages_populate(p, old);
        memcpy(p, ptr, old);
        free(ptr);
        return p;
    }
    void *p = realloc(ptr, size ? size : 1);
    advise_big(p, size, 0);
    return p;
}

void sg_free(void *ptr) { free(ptr); }

/* Freed memory stays in the process for the next allocations instead of
 * going back to the kernel. A large load frees a lot as it goes (the
 * model's text, 53 MB at 100,000 species, before compiling; the smaller
 * block each doubling array or table leaves), and by default glibc
 * returns blocks from 128 KiB (mmap) and the heap's free top beyond 128
 * KiB (trim), so the next stage got fresh pages, which the kernel zeroes:
 * a quarter of that load's CPU time (perf). With every block in the heap
 * and nothing trimmed, the compile step reuses what the load freed: CPU
 * min 2.65 -> 2.46 s, wall min 2.28 -> 1.66 s in one interleaved run of
 * these settings (through GLIBC_TUNABLES-like mallopt calls before main;
 * session 30, load average 2, so noisy). The price: the process keeps
 * its peak memory until it exits (peak RSS 553 -> 590 MB there), as a
 * command of the CLI does soon. For a process of its own (the CLI),
 * never a library's caller.
 * Returns 1 when glibc took both settings. */
static _Atomic int keeps_freed; /* sg_alloc_keep_freed_memory took effect */

int sg_alloc_keep_freed_memory(void)
{
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    /* an older glibc refuses a threshold above 32 MiB (HEAP_MAX_SIZE / 2;
     * 2.36 takes 1 GiB): then larger blocks are still mapped on their own */
    /* glibc answers 1 when it took a setting; a sanitizer's malloc, which
     * has no such settings, 0 or -1 */
    int mmap_ok = mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1 ||
                  mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
    int trim_ok = mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
    atomic_store(&keeps_freed, mmap_ok && trim_ok);
    return mmap_ok && trim_ok;
#else
    return 0;
#endif
}

int sg_alloc_keeps_freed_memory(void) { return atomic_load(&keeps_freed); }

/* ------------------------------------------------ warming the heap
 *
 * Compiling the 100,000-species network grows the heap by 221 MB, whose
 * fresh pages the kernel zeroes as they are first touched: a sixth of the
 * load's samples (perf), all on the one core that compiles while the
 * other has nothing to do. So the heap is grown first by one block,
 * freed at once (its memory stays, sg_alloc_keep_freed_memory), and a
 * thread maps its pages in from its start, where the next allocations
 * are carved, while the caller goes on. Mapping a page in does not change
 * its contents, so the thread and whoever was given that memory meanwhile
 * do not disturb each other. */

/* A huge page at a time: sg_heap_warm_finish waits for the step under
 * way (a few ms for 2 MiB on the virtual machine of the benchmarks) */
enum { WARM_STEP = 2 << 20 };

struct sg_heap_warmer {
    char *start;
    size_t size;
    pthread_t thread;
    int threaded;
    int in_thread; /* warm_pages runs in a thread of its own */
    int idle;      /* that thread runs at SCHED_IDLE */
    _Atomic int stop;
};

static void *warm_pages(void *arg)
{
    sg_heap_warmer *w = arg;
#if defined(SCHED_IDLE)
    /* on a core nothing else wants only: beside the loader and the
     * reading thread it took time from them (10^5 species: wall min
     * 1.73 -> 1.67 s, CPU min 2.61 -> 2.50 s, one interleaved run) */
    struct sched_param none = {0};
    if (w->in_thread)
        w->idle = pthread_setschedparam(pthread_self(), SCHED_IDLE, &none) == 0;
#endif

    for (size_t at = 0; at < w->size && !atomic_load(&w->stop); at += WARM_STEP)
        sg_pages_populate(w->start + at, w->size - at < WARM_STEP ? w->size - at : WARM_STEP);
    return NULL;
}

sg_heap_warmer *sg_heap_warm_start(size_t size, int threaded)
{
    /* without the setting, freeing the block would give it back */
    if (!atomic_load(&keeps_freed) || size < BIG_BLOCK)
        return NULL;
    /* plain malloc: a failure here costs only the warming, so it is not
     * one of the allocations a test makes fail */
    sg_heap_warmer *w = malloc(sizeof *w);
    /* the block must come from the heap's top, where the allocations go
     * once the free chunks are used up (a free chunk would be memory
     * mapped in already): asked larger than all free chunks together,
     * it can only be carved from there; only its first `size` bytes are
     * warmed. (fordblks counts every arena's free chunks, keepcost the
     * main heap's top: a larger block than needed, of address space.) */
    size_t in_chunks = 0;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    struct mallinfo2 info = mallinfo2();
    in_chunks = info.fordblks > info.keepcost ? info.fordblks - info.keepcost : 0;
#endif
    char *block = w && in_chunks < SIZE_MAX - size ? malloc(size + in_chunks + 1) : NULL;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    /* a thread's arena (heaps of at most 64 MiB) gives a large block a
     * mapping of its own, which freeing unmaps: nothing to warm there */
    if (block && mallinfo2().hblks > info.hblks) {
        free(block);
        block = NULL;
    }
#endif
    if (!block) {
        free(w);
        return NULL;
    }
    advise_big(block, size, 0);
    w->start = block; /* only its address is kept: the memory is the heap's */
    w->size = size;
    free(block);
    atomic_store(&w->stop, 0);
    w->idle = 0;
    w->in_thread = threaded; /* before the thread reads it */
    w->threaded = threaded && pthread_create(&w->thread, NULL, warm_pages, w) == 0;
    if (!w->threaded) {
        w->in_thread = 0; /* the caller keeps its priority */
        warm_pages(w);
    }
    return w;
}

int sg_heap_warm_finish(sg_heap_warmer *w)
{
    if (!w)
        return 0;
    atomic_store(&w->stop, 1);
    if (w->threaded)
        pthread_join(w->thread, NULL);
    int idle = w->idle;
    free(w);
    return idle;
}

char *sg_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = sg_malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

int sg_grow(void *array, size_t *cap, size_t need, size_t size)
{
    void **slot = array;
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : 8;
    while (cap2 < need) {
        if (cap2 > SIZE_MAX / 2 / size)
            return -1;
        cap2 *= 2;
    }
    void *grown = sg_realloc(*slot, cap2 * size);
    if (!grown)
        return -1;
    *slot = grown;
    *cap = cap2;
    return 0;
}

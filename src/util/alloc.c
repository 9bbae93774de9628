/* Allocation wrappers with a failure-injection hook (as Lua's ltests.c). */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

void *sg_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *sg_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    if (count == 0 || size == 0)
        count = size = 1;
    return calloc(count, size);
}

void *sg_realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(ptr, size ? size : 1);
}

void sg_free(void *ptr) { free(ptr); }

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

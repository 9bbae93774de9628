/*
 * Shared helpers: allocation (with a failure hook for tests), errors,
 * arenas for parse-time data, and a string-to-int hash map.
 */
#ifndef SG_UTIL_H
#define SG_UTIL_H

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sigode.h"

/* Allocation goes through these so a test can fail the nth one. */
/* Allocations left before the one sg_alloc_fail_after() set to fail; 0
 * once it has failed (or when the hook is off). */
long sg_alloc_fail_pending(void);
void *sg_malloc(size_t size);
void *sg_calloc(size_t count, size_t size);
void *sg_realloc(void *ptr, size_t size);
void sg_free(void *ptr);
char *sg_strdup(const char *s);
/* sg_calloc without mapping a large block's pages in: for an array filled
 * over a long time, whose pages another thread may populate meanwhile. */
void *sg_calloc_later(size_t count, size_t size);
/* Fresh zeroed pages of their own (huge pages when the kernel agrees), for
 * a large block filled from its start: sg_pages_populate maps in a range
 * ahead of the filling at once, instead of a fault per page or the whole
 * block up front (whose tail may stay unused). */
void *sg_pages_alloc(size_t size);
void sg_pages_populate(void *ptr, size_t size);
void sg_pages_free(void *ptr, size_t size);
/* Keeps freed memory in the process (glibc's heap) for reuse instead of
 * returning it to the kernel: for the CLI's process (alloc.c says why).
 * 1 when it took effect. */
int sg_alloc_keep_freed_memory(void);
/* Whether sg_alloc_keep_freed_memory took effect. */
int sg_alloc_keeps_freed_memory(void);
/* Grows the heap by `size` bytes of free memory and maps its pages in
 * (zeroing them) in a thread of its own when `threaded`, else before
 * returning: for a stage about to allocate that much while a core is idle
 * (alloc.c). NULL when nothing was done (no sg_alloc_keep_freed_memory,
 * too small, no memory). sg_heap_warm_finish stops the thread; it returns
 * whether the thread ran only when a core was idle (SCHED_IDLE). */
typedef struct sg_heap_warmer sg_heap_warmer;
sg_heap_warmer *sg_heap_warm_start(size_t size, int threaded);
int sg_heap_warm_finish(sg_heap_warmer *w);

/* number.c: v as the shortest of %.15g..%.17g that strtod reads back as v
 * (buf of at least 32 bytes). */
void sg_format_double(char *buf, size_t size, double v);
/* Its fast path (x87 long double, |v| in [1e-36, 1e19)): 1 with the same
 * text in buf, 0 when it cannot vouch for the text (then buf is unused). */
int sg_format_double_wide(char *buf, size_t size, double v);

/* Grows *array (of *cap elements of `size` bytes) to hold `need` elements.
 * Returns 0 on success, -1 when out of memory (array untouched). */
int sg_grow(void *array, size_t *cap, size_t need, size_t size);

/* Fills err (if not NULL) and returns `status`. */
sg_status sg_error_set(sg_error *err, sg_status status, const char *file,
                       int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
sg_status sg_error_nomem(sg_error *err);

/* A bump allocator: everything is freed at once. */
typedef struct sg_arena sg_arena;
sg_arena *sg_arena_create(void);
void sg_arena_free(sg_arena *arena);
/* Frees everything allocated, keeping one block for reuse. */
void sg_arena_reset(sg_arena *arena);
void *sg_arena_alloc(sg_arena *arena, size_t size); /* zeroed, 16-aligned */
/* sg_arena_alloc without mapping in the pages of a large block it takes
 * (they come on first use, or by sg_pages_populate) */
void *sg_arena_alloc_later(sg_arena *arena, size_t size);
char *sg_arena_strndup(sg_arena *arena, const char *s, size_t n);
char *sg_arena_strdup(sg_arena *arena, const char *s);

/* Open-addressing map from strings (not copied: they must outlive the map)
 * to non-negative ints. */
typedef struct sg_map_entry {
    const char *key;    /* NULL: empty */
    unsigned hash;      /* beside the key: most probes end without strcmp */
    int value;
} sg_map_entry;

typedef struct sg_map {
    sg_map_entry *entries; /* one array: a probe touches one cache line */
    size_t cap;
    size_t count;
} sg_map;

void sg_map_init(sg_map *map);
void sg_map_clear(sg_map *map);
/* Returns 0 if inserted, 1 if the key was present (value untouched), -1 on
 * allocation failure. */
int sg_map_put(sg_map *map, const char *key, int value);
/* Returns the value, or -1 if absent. */
int sg_map_get(const sg_map *map, const char *key);
/* Starts bringing key's first bucket into the cache, for a lookup or an
 * insert soon after: a large map's buckets are cache misses, and misses
 * started together overlap. Only a hint. */
void sg_map_prefetch(const sg_map *map, const char *key);
/* Makes room for `n` keys in all (no rehash until then). -1 when out of
 * memory (the map is unchanged). */
int sg_map_reserve(sg_map *map, size_t n);

/* The cache folder (cache.c), shared by the native backend and the SBML
 * import: $SIGODE_CACHE_DIR, else $XDG_CACHE_HOME/sigode, else
 * ~/.cache/sigode, created 0700. `who` starts every message. */
sg_status sg_cache_open(const char *who, char *dir, size_t size, int *dfd, sg_error *err);
/* Opens `name` in the cache for reading: a regular file (not a link) owned
 * by this user and writable only by it; -1 otherwise. *refused (if not
 * NULL) tells a file that exists but failed the checks from a missing one. */
int sg_cache_open_file(int dfd, const char *name, int *refused);
/* Creates `name` in the cache (a new file, 0600) holding the bytes. */
int sg_cache_write_new(int dfd, const char *name, const void *data, size_t len);
/* The same with the bytes given in parts, written one after the other. */
int sg_cache_write_parts(int dfd, const char *name, const void *const *parts,
                         const size_t *sizes, int nparts);
/* Removes temporaries (tmp-PID-*) left by writers that died. */
void sg_cache_remove_stale(int dfd);
/* 64-bit FNV-1a, continued from h (start with SG_FNV1A_START): cache keys
 * and checksums against damage, not against an adversary (what is found is
 * always compared in full). */
#define SG_FNV1A_START 14695981039346656037ULL
uint64_t sg_hash_fnv1a(uint64_t h, const void *data, size_t n);
/* A faster hash for large data (a model file, a compiled-model image):
 * four 64-bit lanes of multiply-xorshift, in this machine's byte order. */
uint64_t sg_hash_words(uint64_t h, const void *data, size_t n);

/* Writes a file through a temporary beside it, renamed over `path` only
 * when `write` returned SG_OK and everything reached the disk: a failure
 * never leaves a truncated file and never replaces a good one. The file
 * gets the mode of the file it replaces, or 0666 less the umask. */
typedef sg_status (*sg_write_fn)(void *ctx, FILE *out, sg_error *err);
sg_status sg_write_atomic(const char *path, sg_write_fn write, void *ctx, sg_error *err);
/* Copies the file at `path` (a picture another program drew) to out;
 * `what` names it in messages ("the plot", "the graph"). */
sg_status sg_copy_file(const char *path, FILE *out, const char *what, sg_error *err);
/* A path that is not a regular file: a symlink is followed and its target
 * replaced in the target's folder (the link stays); a FIFO or character
 * device (/dev/null, /dev/stdout, a terminal) is written directly, as is
 * a path through /proc (/dev/stdout to a file); a directory or anything
 * else is refused. sg_output_check (sigode.h) tells early whether it could. */

/* The shortest time span the solver can integrate from t0 to t1: CVODE
 * tells the direction of a span by multiplying it with the step (below
 * about 1e-154 squared is 0: "tstop is behind t") and needs the span well
 * above the rounding of t ("tout too close to t0"). */
static inline double sg_min_time_span(double t0, double t1)
{
    double scale = fabs(t0) > fabs(t1) ? fabs(t0) : fabs(t1);
    double rounding = 1000 * DBL_EPSILON * scale;
    return rounding > 1e-150 ? rounding : 1e-150;
}

/* Parses a whole string as a finite double (strtod, no trailing text). */
int sg_parse_double(const char *text, double *out);
/* Parses a whole string as a long in [min, max]. */
int sg_parse_long(const char *text, long min, long max, long *out);

/* A growing NUL-terminated string (sbuf.c); `oom` is set when an append
 * failed (later appends do nothing), so callers check once at the end. */
typedef struct sg_sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sg_sbuf;

void sg_sbuf_add(sg_sbuf *b, const char *text);
void sg_sbuf_addn(sg_sbuf *b, const char *text, size_t n);
void sg_sbuf_printf(sg_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a double in the shortest form that reads back to the same value
 * (and that libconfig reads as a real where digits alone would not do). */
void sg_sbuf_number(sg_sbuf *b, double v);
void sg_sbuf_free(sg_sbuf *b);

/* Modules (module.c): optional parts in their own shared objects, opened
 * on first use. The table `symbol` of module `name` ("sigode-sbml.so"),
 * which starts with its ABI string; opened once and kept (global: its
 * libraries' symbols made visible to later ones, RTLD_GLOBAL). NULL with
 * err (SG_ERR_IO, starting with `what`, "SBML import") when the module is
 * missing, does not load, or comes from another build. */
const void *sg_module_open(const char *name, const char *symbol, const char *what, int global,
                           sg_error *err);
/* 1 when the module `name` has been opened in this process. */
int sg_module_is_open(const char *name);

/* "Did you mean" (suggest.c): init with the unknown word, consider each
 * known name, append " (did you mean 'NAME'?)" to a message if one is
 * near enough. */
typedef struct sg_suggest {
    const char *word, *best;
    int limit, best_distance;
} sg_suggest;
void sg_suggest_init(sg_suggest *s, const char *word);
void sg_suggest_consider(sg_suggest *s, const char *candidate);
void sg_suggest_append(const sg_suggest *s, char *msg, size_t size);

#endif

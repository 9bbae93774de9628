/* Bump allocator for parse-time data: trees and strings die together. */
#include <string.h>

#include "util.h"

typedef struct arena_block {
    struct arena_block *next;
    size_t used, size;
    size_t ready; /* a paged block: bytes of data populated so far */
    int paged;    /* from sg_pages_alloc: zero when fresh, freed by size */
    _Alignas(16) unsigned char data[];
} arena_block;

struct sg_arena {
    arena_block *head;
    size_t next;     /* size of the next block (0: ARENA_BLOCK) */
};

/* Blocks double from ARENA_BLOCK to ARENA_MAX_BLOCK: a small model's arena
 * stays small, a large one's (millions of nodes and strings) gets few
 * large blocks, on huge pages (alloc.c). */
enum { ARENA_BLOCK = 16384, ARENA_MAX_BLOCK = 8 << 20 };

/* Blocks from PAGED_BLOCK bytes get pages of their own, mapped in
 * POPULATE_STEP at a time as they fill: they were populated whole when
 * allocated, so each arena's last block was mapped in (and zeroed by the
 * kernel) to its end, used or not, and then cleared again by memset.
 * Fresh pages are zero, so their allocations skip the memset. */
enum { PAGED_BLOCK = 2 << 20, POPULATE_STEP = 2 << 20 };

/* But when the process keeps freed memory (sg_alloc_keep_freed_memory, the
 * CLI), large blocks are the heap's like the small ones: memory freed
 * earlier or warmed by another thread (sg_heap_warm_start), where fresh
 * pages are zeroed by the kernel on the allocating core, a page at a time
 * the first time it is touched (the model's strings of 100,000 species:
 * 5% of the loading thread's samples). Clearing heap memory with memset
 * costs less. */

static void block_free(arena_block *b)
{
    if (b->paged)
        sg_pages_free(b, sizeof(arena_block) + b->size);
    else
        sg_free(b);
}

sg_arena *sg_arena_create(void) { return sg_calloc(1, sizeof(sg_arena)); }

void sg_arena_free(sg_arena *arena)
{
    if (!arena)
        return;
    for (arena_block *b = arena->head, *next; b; b = next) {
        next = b->next;
        block_free(b);
    }
    sg_free(arena);
}

void sg_arena_reset(sg_arena *arena)
{
    arena_block *b = arena->head, *keep = NULL;
    while (b) {
        arena_block *next = b->next;
        if (!keep && b->size == ARENA_BLOCK && !b->paged) {
            keep = b;
        } else {
            block_free(b);
        }
        b = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    arena->head = keep;
    arena->next = 0;
}

static void *arena_alloc(sg_arena *arena, size_t size, int populate)
{
    size = (size + 15) & ~(size_t)15;
    arena_block *b = arena->head;
    if (!b || b->size - b->used < size) {
        size_t grow = arena->next ? arena->next : ARENA_BLOCK;
        size_t bsize = size > grow ? size : grow;
        int paged = bsize >= PAGED_BLOCK && !sg_alloc_keeps_freed_memory();
        if (paged) { /* whole huge pages, header included */
            size_t total = size + sizeof(arena_block) > grow ? size + sizeof(arena_block) : grow;
            total = (total + POPULATE_STEP - 1) & ~(size_t)(POPULATE_STEP - 1);
            bsize = total - sizeof(arena_block);
            b = sg_pages_alloc(total);
        } else {
            b = sg_malloc(sizeof(arena_block) + bsize);
        }
        if (!b)
            return NULL;
        if (grow < ARENA_MAX_BLOCK)
            arena->next = grow * 2;
        b->used = b->ready = 0;
        b->size = bsize;
        b->paged = paged;
        b->next = arena->head;
        arena->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    if (!b->paged) {
        memset(p, 0, size);
    } else if (!populate) {
        if (b->used > b->ready)
            b->ready = b->used;
    } else if (b->used > b->ready) {
        size_t to = (b->used + POPULATE_STEP - 1) & ~(size_t)(POPULATE_STEP - 1);
        if (to > b->size)
            to = b->size;
        sg_pages_populate(b->data + b->ready, to - b->ready);
        b->ready = to;
    }
    return p;
}

void *sg_arena_alloc(sg_arena *arena, size_t size) { return arena_alloc(arena, size, 1); }

void *sg_arena_alloc_later(sg_arena *arena, size_t size) { return arena_alloc(arena, size, 0); }

char *sg_arena_strndup(sg_arena *arena, const char *s, size_t n)
{
    char *copy = sg_arena_alloc(arena, n + 1);
    if (copy) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

char *sg_arena_strdup(sg_arena *arena, const char *s)
{
    return sg_arena_strndup(arena, s, strlen(s));
}

/*
 * The pool of bound expression nodes. Every node is unique (hash-consing),
 * so equal subexpressions share one node and the compiler computes them
 * once. Constructors simplify as they build (Lua lcode.c `constfolding`):
 * a fold that would divide by zero or give NaN/Inf is left to run time.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"

/* An EX_TRAJ keeps its scenario's name beside its two arguments. */
_Static_assert(offsetof(sg_expr, name) >= offsetof(sg_expr, arg[2]),
               "an EX_TRAJ's name must not overlap arg[0] or arg[1]");

/* Open addressing, each bucket 32 bits of the hash beside the node's id + 1
 * (0: empty). Most lookups miss (a new node): such a probe touches only the
 * table, kept small (8 bytes a bucket, filled up to 3/4) so that more of it
 * stays in the caches. The bucket index is the hash's low bits, so the table
 * grows without visiting the nodes. */
typedef struct pool_slot {
    uint32_t hash;
    uint32_t ref;
} pool_slot;

/* Leaves are looked up far more often than they are made (every name in a
 * rate law, every 0 and 1 of a derivative): they are remembered beside the
 * table, which gives the same unique node without hashing. */
enum { NUM_CACHE = 64 };

/* Nodes live in blocks of NODE_BLOCK, so a node's id finds it without an
 * array of pointers, and a node costs its 40 bytes (one allocation each
 * would round to 48). The blocks are the heap's, not the arena's: the
 * arena's large blocks are fresh pages, which the kernel zeroes on the
 * loading core (2.3 M nodes, 93 MB at 100,000 species), where heap memory
 * can be memory freed earlier or warmed by another thread
 * (sg_heap_warm_start); and nodes need no zeroing. */
enum { NODE_SHIFT = 10, NODE_BLOCK = 1 << NODE_SHIFT };

struct sg_pool {
    sg_arena *arena;       /* EX_TRAJ scenario names */
    pool_slot *buckets;
    size_t cap;
    int count;
    int unindexed;         /* nodes [unindexed, count) are not in buckets yet
                              (sg_pool_restore); count when all are */
    sg_expr **blocks;      /* node id is blocks[id >> NODE_SHIFT][id % NODE_BLOCK] */
    size_t blocks_cap;
    sg_expr **vars;        /* vars[slot]: the EX_VAR node of slot, or NULL */
    size_t vars_cap;
    sg_expr *nums[NUM_CACHE]; /* recent EX_NUM nodes, by a hash of their value */
    int *cube_ids;         /* sg_pool_cubes */
    size_t ncubes, cubes_cap;
};

sg_pool *sg_pool_create(void)
{
    sg_pool *pool = sg_calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->arena = sg_arena_create();
    pool->cap = 1024;
    pool->buckets = sg_calloc(pool->cap, sizeof *pool->buckets);
    if (!pool->arena || !pool->buckets) {
        sg_pool_free(pool);
        return NULL;
    }
    return pool;
}

void sg_pool_free(sg_pool *pool)
{
    if (!pool)
        return;
    sg_arena_free(pool->arena);
    sg_free(pool->buckets);
    /* a block is made before the first node of it (new_node) */
    for (size_t b = 0; b < ((size_t)pool->count + NODE_BLOCK - 1) >> NODE_SHIFT; b++)
        sg_free(pool->blocks[b]);
    sg_free(pool->blocks);
    sg_free(pool->vars);
    sg_free(pool->cube_ids);
    sg_free(pool);
}

int sg_pool_size(const sg_pool *pool) { return pool->count; }

size_t sg_pool_buckets(const sg_pool *pool) { return pool->cap; }

size_t sg_pool_cubes(const sg_pool *pool, const int **ids)
{
    *ids = pool->cube_ids;
    return pool->ncubes;
}

int sg_expr_is_cube(const sg_expr *e)
{
    return e->kind == EX_POW && e->arg[1]->kind == EX_NUM &&
           (e->arg[1]->num == 3.0 || e->arg[1]->num == 4.0);
}

/* Notes e in the cubes' list if it is one; -1 when out of memory */
static int note_cube(sg_pool *pool, const sg_expr *e)
{
    if (!sg_expr_is_cube(e))
        return 0;
    if (sg_grow(&pool->cube_ids, &pool->cubes_cap, pool->ncubes + 1, sizeof *pool->cube_ids) != 0)
        return -1;
    pool->cube_ids[pool->ncubes++] = e->id;
    return 0;
}

static sg_expr *node_at(const sg_pool *pool, int id)
{
    return &pool->blocks[id >> NODE_SHIFT][id & (NODE_BLOCK - 1)];
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static uint64_t node_hash(const sg_expr *e)
{
    uint64_t h = mix(e->kind, e->fn);
    if (e->kind == EX_NUM) {
        uint64_t bits;
        memcpy(&bits, &e->num, sizeof bits);
        h = mix(h, bits);
    } else if (e->kind == EX_VAR) {
        h = mix(h, (uint64_t)(int64_t)e->slot);
    } else {
        for (int i = 0; i < e->nargs; i++)
            h = mix(h, (uint64_t)e->arg[i]->id);
    }
    /* splitmix64's finaliser: buckets use the low bits, which the combining
     * above leaves poorly mixed for runs of consecutive slots and ids */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

static int same_node(const sg_expr *a, const sg_expr *b)
{
    if (a->kind != b->kind || a->fn != b->fn || a->nargs != b->nargs)
        return 0;
    if (a->kind == EX_NUM) /* bits, so that a NaN is one node */
        return memcmp(&a->num, &b->num, sizeof a->num) == 0;
    if (a->kind == EX_VAR)
        return a->slot == b->slot;
    for (int i = 0; i < a->nargs; i++)
        if (a->arg[i] != b->arg[i])
            return 0;
    return 1;
}

/* Moves the buckets into a table of cap buckets (a power of two, larger). */
static int rehash(sg_pool *pool, size_t cap)
{
    pool_slot *buckets = sg_calloc(cap, sizeof *buckets);
    if (!buckets)
        return -1;
    for (size_t i = 0; i < pool->cap; i++) {
        if (!pool->buckets[i].ref)
            continue;
        size_t j = pool->buckets[i].hash & (cap - 1);
        while (buckets[j].ref)
            j = (j + 1) & (cap - 1);
        buckets[j] = pool->buckets[i];
    }
    sg_free(pool->buckets);
    pool->buckets = buckets;
    pool->cap = cap;
    return 0;
}

static int grow_buckets(sg_pool *pool) { return rehash(pool, pool->cap * 2); }

int sg_pool_reserve(sg_pool *pool, size_t nodes)
{
    size_t cap = pool->cap;
    while ((nodes + 1) * 4 > cap * 3) {
        if (cap > SIZE_MAX / 4 / sizeof *pool->buckets)
            return -1;
        cap *= 2;
    }
    return cap > pool->cap ? rehash(pool, cap) : 0;
}

/* Room for a new node with the next id; the caller fills every field (not
 * zeroing it first spares writing 2 million nodes twice). */
static sg_expr *new_node(sg_pool *pool)
{
    size_t block = (size_t)pool->count >> NODE_SHIFT;
    if ((pool->count & (NODE_BLOCK - 1)) == 0) {
        if (pool->count == INT32_MAX)
            return NULL; /* ids must fit a bucket's ref */
        if (block >= pool->blocks_cap &&
            sg_grow(&pool->blocks, &pool->blocks_cap, block + 1, sizeof *pool->blocks) != 0)
            return NULL;
        if (!(pool->blocks[block] = sg_malloc(sizeof(sg_expr) * NODE_BLOCK)))
            return NULL;
    }
    sg_expr *e = &pool->blocks[block][pool->count & (NODE_BLOCK - 1)];
    e->id = pool->count++;
    return e;
}

/* Finds where `proto` is in the buckets (*found) or would go. */
static size_t probe(const sg_pool *pool, const sg_expr *proto, uint32_t tag, sg_expr **found)
{
    size_t mask = pool->cap - 1;
    const pool_slot *b = pool->buckets;
    size_t i = tag & mask;
    *found = NULL;
    for (; b[i].ref; i = (i + 1) & mask) {
        sg_expr *e = node_at(pool, (int)b[i].ref - 1);
        if (b[i].hash == tag && same_node(e, proto)) {
            *found = e;
            break;
        }
    }
    return i;
}

/* Enters the nodes that sg_pool_restore appended into the buckets. */
static int index_restored(sg_pool *pool)
{
    while (((size_t)pool->count + 1) * 4 > pool->cap * 3)
        if (grow_buckets(pool) != 0)
            return -1;
    for (; pool->unindexed < pool->count; pool->unindexed++) {
        sg_expr *e = node_at(pool, pool->unindexed), *equal;
        if (e->kind == EX_TRAJ)
            continue; /* never shared */
        uint32_t tag = (uint32_t)node_hash(e);
        size_t i = probe(pool, e, tag, &equal);
        if (equal)
            continue; /* an image holds none; lookups would find the first */
        pool->buckets[i].hash = tag;
        pool->buckets[i].ref = (uint32_t)e->id + 1;
    }
    return 0;
}

/* Returns the unique node equal to `proto`, creating it if needed. */
static sg_expr *intern(sg_pool *pool, const sg_expr *proto)
{
    if (pool->unindexed < pool->count && index_restored(pool) != 0)
        return NULL;
    if (((size_t)pool->count + 1) * 4 > pool->cap * 3 && grow_buckets(pool) != 0)
        return NULL;
    uint32_t tag = (uint32_t)node_hash(proto);
    sg_expr *e;
    size_t i = probe(pool, proto, tag, &e);
    if (e)
        return e;
    if (!(e = new_node(pool)))
        return NULL;
    int id = e->id;
    *e = *proto;
    e->id = id;
    pool->unindexed = pool->count;
    pool->buckets[i].hash = tag;
    pool->buckets[i].ref = (uint32_t)id + 1;
    return note_cube(pool, e) == 0 ? e : NULL;
}

sg_expr *sg_pool_num(sg_pool *pool, double value)
{
    sg_expr proto = {.kind = EX_NUM, .num = value};
    if (value == 0.0)
        proto.num = 0.0; /* one zero: -0 and +0 fold to the same node */
    uint64_t bits;
    memcpy(&bits, &proto.num, sizeof bits);
    size_t k = (size_t)((bits * 0x9e3779b97f4a7c15ULL) >> 58) & (NUM_CACHE - 1);
    sg_expr *e = pool->nums[k];
    if (e && memcmp(&e->num, &proto.num, sizeof proto.num) == 0)
        return e;
    e = intern(pool, &proto);
    if (e)
        pool->nums[k] = e;
    return e;
}

sg_expr *sg_pool_var(sg_pool *pool, int slot)
{
    if (slot >= 0 && (size_t)slot < pool->vars_cap && pool->vars[slot])
        return pool->vars[slot];
    sg_expr proto = {.kind = EX_VAR, .slot = slot};
    sg_expr *e = intern(pool, &proto);
    if (e && slot >= 0) {
        size_t old = pool->vars_cap;
        if (sg_grow(&pool->vars, &pool->vars_cap, (size_t)slot + 1, sizeof *pool->vars) != 0)
            return NULL; /* out of memory, as when intern() fails */
        memset(pool->vars + old, 0, (pool->vars_cap - old) * sizeof *pool->vars);
        pool->vars[slot] = e;
    }
    return e;
}

sg_expr *sg_pool_node(const sg_pool *pool, int id)
{
    return id >= 0 && id < pool->count ? node_at(pool, id) : NULL;
}

sg_expr *sg_pool_restore(sg_pool *pool, const sg_expr *proto)
{
    sg_expr *e = new_node(pool);
    if (!e)
        return NULL;
    int id = e->id;
    *e = *proto;
    e->id = id;
    if (proto->kind == EX_TRAJ && proto->name &&
        !(e->name = sg_arena_strdup(pool->arena, proto->name)))
        return NULL;
    if (note_cube(pool, e) != 0)
        return NULL;
    if (proto->kind == EX_VAR && proto->slot >= 0 && ((size_t)proto->slot >= pool->vars_cap ||
                                                      !pool->vars[proto->slot])) {
        size_t old = pool->vars_cap;
        if (sg_grow(&pool->vars, &pool->vars_cap, (size_t)proto->slot + 1,
                    sizeof *pool->vars) != 0)
            return NULL;
        memset(pool->vars + old, 0, (pool->vars_cap - old) * sizeof *pool->vars);
        pool->vars[proto->slot] = e;
    }
    return e;
}

int sg_expr_is_num(const sg_expr *e, double value)
{
    return e->kind == EX_NUM && e->num == value;
}

static int arity(int kind)
{
    switch (kind) {
    case EX_NEG:
    case EX_NOT:
    case EX_FN: return 1;
    case EX_IF: return 3;
    default: return 2;
    }
}

/* Constant folding: all arguments are numbers. Returns NULL when the fold
 * must not happen (division by zero, NaN or infinite result). */
static sg_expr *fold(sg_pool *pool, int kind, int fn, sg_expr *a, sg_expr *b, sg_expr *c)
{
    double r;
    if (kind == EX_IF)
        return a->num != 0.0 ? b : c;
    if (kind == EX_DIV && b->num == 0.0)
        return NULL;
    if (kind == EX_DELAY) /* a constant's past is itself; a negative delay stays an error */
        return b->num >= 0 ? a : NULL;
    if (kind == EX_FN)
        r = sg_fn_apply(fn, a->num);
    else
        r = sg_op_apply(kind, a->num, b ? b->num : 0.0);
    if (!isfinite(r))
        return NULL;
    return sg_pool_num(pool, r);
}

sg_expr *sg_pool_op(sg_pool *pool, int kind, int fn, sg_expr *a, sg_expr *b, sg_expr *c)
{
    if (!a || (arity(kind) >= 2 && !b) || (arity(kind) == 3 && !c))
        return NULL; /* an argument's allocation failed */
    int n = arity(kind);
    int all_num = a->kind == EX_NUM && (n < 2 || b->kind == EX_NUM) &&
                  (n < 3 || c->kind == EX_NUM);
    if (all_num) {
        sg_expr *folded = fold(pool, kind, fn, a, b, c);
        if (folded)
            return folded;
    }
    switch (kind) {
    case EX_NEG:
        if (a->kind == EX_NEG)
            return a->arg[0];
        break;
    case EX_ADD:
        if (sg_expr_is_num(a, 0)) return b;
        if (sg_expr_is_num(b, 0)) return a;
        if (b->kind == EX_NEG) return sg_pool_op(pool, EX_SUB, 0, a, b->arg[0], NULL);
        if (a->kind == EX_NEG) return sg_pool_op(pool, EX_SUB, 0, b, a->arg[0], NULL);
        break;
    case EX_SUB:
        if (sg_expr_is_num(b, 0)) return a;
        if (sg_expr_is_num(a, 0)) return sg_pool_op(pool, EX_NEG, 0, b, NULL, NULL);
        if (a == b) return sg_pool_num(pool, 0);
        if (b->kind == EX_NEG) return sg_pool_op(pool, EX_ADD, 0, a, b->arg[0], NULL);
        break;
    case EX_MUL:
        if (sg_expr_is_num(a, 0) || sg_expr_is_num(b, 0)) return sg_pool_num(pool, 0);
        if (sg_expr_is_num(a, 1)) return b;
        if (sg_expr_is_num(b, 1)) return a;
        if (sg_expr_is_num(a, -1)) return sg_pool_op(pool, EX_NEG, 0, b, NULL, NULL);
        if (sg_expr_is_num(b, -1)) return sg_pool_op(pool, EX_NEG, 0, a, NULL, NULL);
        if (a->kind == EX_NEG && b->kind == EX_NEG)
            return sg_pool_op(pool, EX_MUL, 0, a->arg[0], b->arg[0], NULL);
        if (a->kind == EX_NEG)
            return sg_pool_op(pool, EX_NEG, 0,
                              sg_pool_op(pool, EX_MUL, 0, a->arg[0], b, NULL), NULL, NULL);
        if (b->kind == EX_NEG)
            return sg_pool_op(pool, EX_NEG, 0,
                              sg_pool_op(pool, EX_MUL, 0, a, b->arg[0], NULL), NULL, NULL);
        break;
    case EX_DIV:
        if (sg_expr_is_num(b, 1)) return a;
        if (sg_expr_is_num(a, 0) && b->kind == EX_NUM && b->num != 0)
            return a;
        if (a->kind == EX_NEG)
            return sg_pool_op(pool, EX_NEG, 0,
                              sg_pool_op(pool, EX_DIV, 0, a->arg[0], b, NULL), NULL, NULL);
        break;
    case EX_POW:
        if (sg_expr_is_num(b, 1)) return a;
        if (sg_expr_is_num(b, 0)) return sg_pool_num(pool, 1);
        if (sg_expr_is_num(a, 1)) return a;
        break;
    case EX_IF:
        if (b == c) return b;
        break;
    }
    /* Commutative operators: a canonical argument order so that a*b and b*a
     * are the same node (IEEE + and * are commutative, so values agree). */
    if ((kind == EX_ADD || kind == EX_MUL || kind == EX_EQ || kind == EX_NE ||
         kind == EX_MIN || kind == EX_MAX || kind == EX_AND || kind == EX_OR) &&
        a->id > b->id) {
        sg_expr *t = a;
        a = b;
        b = t;
    }
    sg_expr proto = {.kind = (uint8_t)kind, .fn = (uint8_t)fn, .nargs = (uint8_t)n,
                     .arg = {a, n >= 2 ? b : NULL, n >= 3 ? c : NULL}};
    return intern(pool, &proto);
}

sg_expr *sg_pool_traj(sg_pool *pool, int fn, const char *scenario, sg_expr *a, sg_expr *b)
{
    sg_expr *e = new_node(pool);
    if (!e)
        return NULL;
    e->kind = EX_TRAJ;
    e->fn = (uint8_t)fn;
    e->nargs = (uint8_t)((a != NULL) + (b != NULL));
    e->pos = 0;
    e->depth = 0;
    e->arg[0] = a;
    e->arg[1] = b;
    e->name = NULL;
    if (scenario && !(e->name = sg_arena_strdup(pool->arena, scenario)))
        return NULL; /* not a node without its scenario */
    return e;
}

/* Inlining user functions: inside a body, parameter names stand for the
 * bound arguments of the call. */
typedef struct frame {
    const sg_user_fn *fn;
    sg_expr **bound;
    const struct frame *outer;
    int depth;
} frame;

/* How deeply user functions may call each other (SBML forbids recursion;
 * this catches it). */
enum { MAX_INLINE_DEPTH = 64 };

typedef struct binder {
    sg_pool *pool;
    sg_resolve_fn resolve;
    void *ctx;
    const sg_user_fns *user;
    const frame *scope;
    sg_parse_error *perr;
    int failed;
    long inlined;      /* nodes bound inside function bodies */
} binder;

static sg_expr *bind(binder *b, const sg_expr *t, int in_traj);

/* A user function call, inlined. Apart from bind() so that the array of
 * bound arguments is not in the frame of every level of bind()'s recursion
 * (trees may be SG_EXPR_MAX_HEIGHT deep). */
static __attribute__((noinline)) sg_expr *bind_call(binder *b, const sg_expr *t, int in_traj)
{
    const sg_user_fn *fn = &b->user->fns[t->slot];
    int depth = b->scope ? b->scope->depth + 1 : 1;
    if (depth > MAX_INLINE_DEPTH || !fn->body) {
        b->failed = 1;
        b->perr->pos = t->pos;
        snprintf(b->perr->message, sizeof b->perr->message,
                 fn->body ? "function '%s' calls itself (directly or through others)"
                          : "function '%s' is used before its body could be read",
                 fn->name);
        return NULL;
    }
    sg_expr *bound[64];
    for (int k = 0; k < t->nuargs; k++)
        if (!(bound[k] = bind(b, t->uargs[k], in_traj)))
            return NULL;
    frame f = {fn, bound, b->scope, depth};
    const frame *saved = b->scope;
    b->scope = &f;
    sg_expr *e = bind(b, fn->body, in_traj);
    b->scope = saved;
    if (!e && b->failed)
        b->perr->pos = t->pos; /* the error is inside the body: point at the call */
    return e;
}

static sg_expr *bind(binder *b, const sg_expr *t, int in_traj)
{
    if (b->scope && ++b->inlined > SG_EXPR_MAX_INLINED) {
        if (!b->failed) {
            b->failed = 1;
            b->perr->pos = t->pos;
            snprintf(b->perr->message, sizeof b->perr->message,
                     "function calls expand to more than %d operations", SG_EXPR_MAX_INLINED);
        }
        return NULL;
    }
    switch (t->kind) {
    case EX_NUM:
        return sg_pool_num(b->pool, t->num);
    case EX_NAME: {
        if (b->scope)
            for (int k = 0; k < b->scope->fn->nargs; k++)
                if (strcmp(b->scope->fn->args[k], t->name) == 0)
                    return b->scope->bound[k];
        int slot = b->resolve(b->ctx, t->name, in_traj, b->perr->message,
                              sizeof b->perr->message);
        if (slot < 0) {
            b->failed = 1;
            b->perr->pos = t->pos;
            return NULL;
        }
        return sg_pool_var(b->pool, slot);
    }
    case EX_USER:
        return bind_call(b, t, in_traj);
    case EX_TRAJ: {
        sg_expr *a = NULL, *c = NULL;
        if (t->nargs >= 1 && !(a = bind(b, t->arg[0], 1)))
            return NULL;
        if (t->nargs >= 2 && !(c = bind(b, t->arg[1], 0)))
            return NULL;
        sg_expr *e = sg_pool_traj(b->pool, t->fn, t->name, a, c);
        if (e)
            e->pos = t->pos;
        return e;
    }
    default: {
        sg_expr *args[3] = {NULL, NULL, NULL};
        for (int i = 0; i < t->nargs; i++)
            if (!(args[i] = bind(b, t->arg[i], in_traj)))
                return NULL;
        return sg_pool_op(b->pool, t->kind, t->fn, args[0], args[1], args[2]);
    }
    }
}

sg_expr *sg_expr_bind(sg_pool *pool, const sg_expr *tree, sg_resolve_fn resolve,
                      void *ctx, sg_parse_error *perr)
{
    return sg_expr_bind_user(pool, tree, resolve, ctx, NULL, perr);
}

sg_expr *sg_expr_bind_user(sg_pool *pool, const sg_expr *tree, sg_resolve_fn resolve,
                           void *ctx, const sg_user_fns *user, sg_parse_error *perr)
{
    binder b = {pool, resolve, ctx, user, NULL, perr, 0, 0};
    sg_expr *e = bind(&b, tree, 0);
    if (!e && !b.failed) {
        perr->pos = tree->pos;
        snprintf(perr->message, sizeof perr->message, "out of memory");
    }
    return e;
}

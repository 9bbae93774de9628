/*
 * Symbolic differentiation of pool nodes. The result is built with the
 * simplifying constructors, so derivatives of mass-action laws come out as
 * short products. A memo keyed by node makes shared subtrees cost once.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "expr.h"

/* A memo, reused from one derivative to the next by sg_expr_diff_memo
 * (sg_expr_diff makes one for its one derivative): open addressing by node,
 * an entry belonging to the current derivative when its stamp is `gen`
 * (the others count as empty, so nothing is cleared between derivatives).
 * It holds the nodes of one derivative, a few dozen, and stays in the
 * caches; an array indexed by node id (before) took 12 bytes for every
 * node of the pool, 28-50 MB of fresh pages at 10^5 species. */
typedef struct stamped {
    const sg_expr *key;
    sg_expr *value;
    unsigned stamp;
} stamped;

struct sg_diff_memo {
    stamped *slots;
    size_t cap, count; /* count: the current derivative's entries */
    unsigned gen;
};

typedef struct differ {
    sg_pool *pool;
    int var;
    sg_diff_memo *memo;
    int oom;
} differ;

static size_t ptr_hash(const void *p) { return ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ULL; }

#define OP(k, a, b) sg_pool_op(d->pool, (k), 0, (a), (b), NULL)
#define NUM(x) sg_pool_num(d->pool, (x))
#define FN(f, a) sg_pool_op(d->pool, EX_FN, (f), (a), NULL, NULL)

static sg_expr *derive(differ *d, sg_expr *e);

static sg_expr *derive_node(differ *d, sg_expr *e)
{
    sg_expr *a = e->nargs > 0 ? e->arg[0] : NULL, *b = e->nargs > 1 ? e->arg[1] : NULL;
    sg_expr *da, *db;
    switch (e->kind) {
    case EX_NUM:
        return NUM(0);
    case EX_VAR:
        return NUM(e->slot == d->var ? 1 : 0);
    case EX_NEG:
        return OP(EX_NEG, derive(d, a), NULL);
    case EX_ADD:
        return OP(EX_ADD, derive(d, a), derive(d, b));
    case EX_SUB:
        return OP(EX_SUB, derive(d, a), derive(d, b));
    case EX_MUL:
        da = derive(d, a);
        db = derive(d, b);
        return OP(EX_ADD, OP(EX_MUL, da, b), OP(EX_MUL, a, db));
    case EX_DIV: /* a'/b - a b'/b^2 */
        da = derive(d, a);
        db = derive(d, b);
        if (!db)
            return NULL;
        if (sg_expr_is_num(db, 0))
            return OP(EX_DIV, da, b);
        return OP(EX_SUB, OP(EX_DIV, da, b), OP(EX_DIV, OP(EX_MUL, a, db), OP(EX_MUL, b, b)));
    case EX_POW:
        da = derive(d, a);
        db = derive(d, b);
        if (!da || !db)
            return NULL;
        if (sg_expr_is_num(db, 0)) /* b a^(b-1) a' */
            return OP(EX_MUL, OP(EX_MUL, b, OP(EX_POW, a, OP(EX_SUB, b, NUM(1)))), da);
        if (sg_expr_is_num(da, 0)) /* a^b ln(a) b' */
            return OP(EX_MUL, OP(EX_MUL, e, FN(FN_LOG, a)), db);
        /* a^b (b' ln a + b a'/a) */
        return OP(EX_MUL, e,
                  OP(EX_ADD, OP(EX_MUL, db, FN(FN_LOG, a)), OP(EX_DIV, OP(EX_MUL, b, da), a)));
    case EX_FN:
        da = derive(d, a);
        if (!da)
            return NULL;
        if (sg_expr_is_num(da, 0))
            return da;
        switch (e->fn) {
        case FN_EXP: return OP(EX_MUL, e, da);
        case FN_LOG: return OP(EX_DIV, da, a);
        case FN_LOG10: return OP(EX_DIV, da, OP(EX_MUL, a, NUM(log(10.0))));
        case FN_SQRT: return OP(EX_DIV, da, OP(EX_MUL, NUM(2), e));
        case FN_ABS: /* sign(a) a' */
            return OP(EX_MUL, OP(EX_SUB, OP(EX_GT, a, NUM(0)), OP(EX_LT, a, NUM(0))), da);
        case FN_FLOOR:
        case FN_CEIL: return NUM(0);
        case FN_SIN: return OP(EX_MUL, FN(FN_COS, a), da);
        case FN_COS: return OP(EX_NEG, OP(EX_MUL, FN(FN_SIN, a), da), NULL);
        case FN_TAN: return OP(EX_MUL, OP(EX_ADD, NUM(1), OP(EX_MUL, e, e)), da);
        case FN_TANH: return OP(EX_MUL, OP(EX_SUB, NUM(1), OP(EX_MUL, e, e)), da);
        case FN_ASIN: /* a' / sqrt(1 - a^2) */
            return OP(EX_DIV, da, FN(FN_SQRT, OP(EX_SUB, NUM(1), OP(EX_MUL, a, a))));
        case FN_ACOS:
            return OP(EX_NEG, OP(EX_DIV, da, FN(FN_SQRT, OP(EX_SUB, NUM(1), OP(EX_MUL, a, a)))),
                      NULL);
        case FN_ATAN: return OP(EX_DIV, da, OP(EX_ADD, NUM(1), OP(EX_MUL, a, a)));
        case FN_FACTORIAL:
            /* Gamma(a + 1) digamma(a + 1) a'. libm has no digamma; the
             * derivative only feeds the Newton matrix, where an
             * approximation costs iterations, never accuracy: digamma(z) ~
             * log(z - 1/2) (within 2% for z >= 1.5) */
            return OP(EX_MUL, OP(EX_MUL, e, FN(FN_LOG, OP(EX_ADD, a, NUM(0.5)))), da);
        }
        return NULL;
    case EX_MIN: /* the derivative of the argument that is selected */
    case EX_MAX:
        da = derive(d, a);
        db = derive(d, b);
        return sg_pool_op(d->pool, EX_IF, 0, OP(e->kind == EX_MIN ? EX_LE : EX_GE, a, b),
                          da, db);
    case EX_IF:
        return sg_pool_op(d->pool, EX_IF, 0, a, derive(d, b), derive(d, e->arg[2]));
    default: /* comparisons and logic are piecewise constant */
        return NUM(0);
    }
}

static sg_expr *stamped_get(const sg_diff_memo *dm, const sg_expr *key)
{
    size_t mask = dm->cap - 1;
    for (size_t i = ptr_hash(key) & mask; dm->slots[i].stamp == dm->gen; i = (i + 1) & mask)
        if (dm->slots[i].key == key)
            return dm->slots[i].value;
    return NULL;
}

static void stamped_put_new(stamped *slots, size_t cap, unsigned gen, const sg_expr *key,
                            sg_expr *value)
{
    size_t i = ptr_hash(key) & (cap - 1);
    while (slots[i].stamp == gen)
        i = (i + 1) & (cap - 1);
    slots[i] = (stamped){key, value, gen};
}

static int stamped_put(sg_diff_memo *dm, const sg_expr *key, sg_expr *value)
{
    if ((dm->count + 1) * 2 > dm->cap) {
        size_t cap = dm->cap * 2;
        stamped *slots = sg_calloc(cap, sizeof *slots); /* stamps 0: empty */
        if (!slots)
            return -1;
        for (size_t i = 0; i < dm->cap; i++)
            if (dm->slots[i].stamp == dm->gen)
                stamped_put_new(slots, cap, dm->gen, dm->slots[i].key, dm->slots[i].value);
        sg_free(dm->slots);
        dm->slots = slots;
        dm->cap = cap;
    }
    stamped_put_new(dm->slots, dm->cap, dm->gen, key, value);
    dm->count++;
    return 0;
}

static sg_expr *derive(differ *d, sg_expr *e)
{
    if (!e || d->oom)
        return NULL;
    sg_expr *r = stamped_get(d->memo, e);
    if (r)
        return r;
    if (!(r = derive_node(d, e)) || stamped_put(d->memo, e, r) != 0) {
        d->oom = 1;
        return NULL;
    }
    return r;
}

enum { MEMO_FIRST_CAP = 64 };

sg_diff_memo *sg_diff_memo_create(void)
{
    sg_diff_memo *dm = sg_calloc(1, sizeof *dm);
    if (dm && !(dm->slots = sg_calloc(MEMO_FIRST_CAP, sizeof *dm->slots))) {
        sg_free(dm);
        return NULL;
    }
    if (dm)
        dm->cap = MEMO_FIRST_CAP;
    return dm;
}

void sg_diff_memo_free(sg_diff_memo *dm)
{
    if (!dm)
        return;
    sg_free(dm->slots);
    sg_free(dm);
}

sg_expr *sg_expr_diff_memo(sg_pool *pool, sg_diff_memo *dm, sg_expr *e, int var)
{
    if (++dm->gen == 0) { /* the stamps wrapped: forget them all */
        for (size_t i = 0; i < dm->cap; i++)
            dm->slots[i].stamp = 0;
        dm->gen = 1;
    }
    dm->count = 0;
    differ d = {.pool = pool, .var = var, .memo = dm};
    sg_expr *r = derive(&d, e);
    return d.oom ? NULL : r;
}

sg_expr *sg_expr_diff(sg_pool *pool, sg_expr *e, int var)
{
    sg_diff_memo *dm = sg_diff_memo_create();
    sg_expr *r = dm ? sg_expr_diff_memo(pool, dm, e, var) : NULL;
    sg_diff_memo_free(dm);
    return r;
}

int sg_expr_slots(const sg_expr *e, unsigned char *seen, int **slots, size_t *count,
                  size_t *cap)
{
    if (e->kind == EX_VAR) {
        if (seen[e->slot])
            return 0;
        if (sg_grow(slots, cap, *count + 1, sizeof **slots) != 0)
            return -1;
        seen[e->slot] = 1;
        (*slots)[(*count)++] = e->slot;
        return 0;
    }
    for (int i = 0; i < e->nargs; i++)
        if (e->arg[i] && sg_expr_slots(e->arg[i], seen, slots, count, cap) != 0)
            return -1;
    return 0;
}

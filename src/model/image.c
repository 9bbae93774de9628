/*
 * The compiled-model cache: a loaded and compiled model saved as a binary
 * image, read back instead of parsing the model file again. Reading a
 * 100,000-species file, building the model and compiling it takes about
 * 2 s; its image is read in a fraction of that (scripts/bench/README.md).
 *
 * An image, <cache>/model-<key>.img (cache folder and safety rules of
 * src/util/cache.c), is
 *
 *     header: magic, byte-order mark, format, sizes of the C types, build
 *             id, text length, a hash of the text, payload length, checksum
 *     payload: every field of the sg_model, its expression pool node by
 *              node, and the compiled sg_program
 *
 * It is used only when the header is exactly the one this build writes
 * (the build id hashes sigode's version, the sources of the model,
 * expression and compile stages and the compiler: CMakeLists.txt), the
 * sizes add up, the text has the length and the hash recorded and the
 * checksum over everything is intact. The text is not kept (format 1 kept
 * a copy to compare, which made an image 5 times the size of the text):
 * the key in the file name and the hash in the header are two independent
 * 64-bit hashes of the text (different seeds), so another text of the
 * same length would have to match both by chance. A damaged, truncated or
 * foreign image costs a rebuild, never a wrong model. Values are stored in
 * this machine's byte order (the mark tells another order apart), so a hit
 * gives back the very bits the compiler made: outputs are identical with
 * and without it.
 *
 * The image is mapped (mmap), not read into memory: the model's strings
 * point into the mapping, which lives as long as the model, and the pool
 * is restored without hashing (sg_pool_restore). The cache writes an image
 * once, through a temporary renamed into place, so a mapped image is never
 * rewritten under a reader.
 *
 * One function walks the model for writing and for reading (io below), so
 * the two cannot disagree on the order of the fields.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../compile/program.h"
#include "../compile/vm.h"
#include "model.h"

#ifndef SIGODE_MODEL_BUILD_ID
#error "CMakeLists.txt defines SIGODE_MODEL_BUILD_ID for this file"
#endif

/* Below this size a model loads in a few milliseconds: not worth a file. */
enum { CACHE_MIN_BYTES = 64 * 1024 };
enum { FORMAT = 3, ORDER_MARK = 0x01020304 };
/* The seed of the text's hash in the header (the key's seed is the build). */
static const uint64_t TEXT_SEED = 0x6a09e667f3bcc908ULL;

static const char WHO[] = "model cache";
static const char MAGIC[8] = "sgmodel";

typedef struct image_header {
    char magic[8];
    uint32_t order_mark;
    uint32_t format;
    uint32_t sizes;     /* int, long, double, pointer, sg_instr: one byte each */
    uint32_t reserved;
    char build[64];     /* NUL-padded */
    uint64_t text_len;
    uint64_t text_hash; /* sg_hash_words(TEXT_SEED, text) */
    uint64_t payload_len;
    uint64_t checksum;  /* over the header (this field 0) and payload */
} image_header;

/* What the last load on this thread did with the cache (tests, notes). */
static _Thread_local char last_outcome[512];

const char *sg_model_cache_outcome(void) { return last_outcome; }

/* ------------------------------------------------------------------ io */

typedef struct io {
    int reading;
    int bad;                   /* reading: past the end or inconsistent;
                                  writing: out of memory or not representable */
    unsigned char *buf;        /* writing */
    size_t len, cap;
    const unsigned char *p, *end; /* reading */
    sg_model *m;
} io;

static void io_raw(io *o, void *data, size_t n)
{
    if (o->bad || n == 0)
        return;
    if (o->reading) {
        if ((size_t)(o->end - o->p) < n) {
            o->bad = 1;
            return;
        }
        memcpy(data, o->p, n);
        o->p += n;
        return;
    }
    if (o->cap - o->len < n) {
        size_t cap = o->cap ? o->cap : 1 << 16;
        while (cap - o->len < n)
            cap *= 2;
        unsigned char *b = sg_realloc(o->buf, cap);
        if (!b) {
            o->bad = 1;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, data, n);
    o->len += n;
}

static void io_int(io *o, int *x) { io_raw(o, x, sizeof *x); }
static void io_long(io *o, long *x) { io_raw(o, x, sizeof *x); }
static void io_double(io *o, double *x) { io_raw(o, x, sizeof *x); }

/* A count: reading, it must be non-negative and leave at least `least`
 * bytes per element in the image (a bad count allocates nothing huge). */
static void io_count(io *o, int *n, size_t least)
{
    io_int(o, n);
    if (o->reading && !o->bad &&
        (*n < 0 || (least && (size_t)*n > (size_t)(o->end - o->p) / least)))
        o->bad = 1;
}

/* Reading: room for n elements, zeroed, in the model's arena (arena = 1)
 * or from sg_malloc with one more (as the compiler allocates); each needs
 * at least `least` bytes of the image (a bad count allocates nothing
 * huge). Writing: checks the array is there. */
static void io_alloc(io *o, void *ptr, int n, size_t size, int arena, size_t least)
{
    void **a = ptr;
    if (!o->reading) {
        if (n > 0 && !*a)
            o->bad = 1;
        return;
    }
    *a = NULL;
    if (o->bad || n < 0 || (least && (size_t)n > (size_t)(o->end - o->p) / least)) {
        o->bad = 1;
        return;
    }
    if (n == 0 && arena)
        return;
    *a = arena ? sg_arena_alloc(o->m->arena, (size_t)n * size)
               : sg_calloc((size_t)n + 1, size);
    if (!*a)
        o->bad = 1;
}

/* An array of n plain values (no pointers, no padding) copied as bytes. */
static void io_array(io *o, void *ptr, int n, size_t size, int arena)
{
    io_alloc(o, ptr, n, size, arena, size);
    if (!o->bad)
        io_raw(o, *(void **)ptr, (size_t)n * size);
}

/* A string (NULL kept apart from ""), with its NUL: read, it points into
 * the mapped image. */
static void io_str(io *o, const char **s)
{
    uint32_t n = 0;
    if (!o->reading)
        n = *s ? (uint32_t)strlen(*s) + 1 : 0;
    io_raw(o, &n, sizeof n);
    if (!o->reading) {
        if (n)
            io_raw(o, (void *)*s, n);
        return;
    }
    *s = NULL;
    if (o->bad || n == 0)
        return;
    /* the NUL ends it inside the image (the checksum vouches for the rest) */
    if ((size_t)(o->end - o->p) < n || o->p[n - 1] != '\0') {
        o->bad = 1;
        return;
    }
    *s = (const char *)o->p;
    o->p += n;
}

static void io_strs(io *o, const char ***list, int *n)
{
    io_count(o, n, 4);
    io_alloc(o, list, o->bad ? 0 : *n, sizeof **list, 1, 4);
    for (int i = 0; i < *n && !o->bad; i++)
        io_str(o, &(*list)[i]);
}

/* A node of the model's pool, by id (-1: NULL). */
static void io_expr(io *o, sg_expr **e)
{
    int id = !o->reading && *e ? (*e)->id : -1;
    io_int(o, &id);
    if (o->reading) {
        *e = id >= 0 ? sg_pool_node(o->m->pool, id) : NULL;
        if (id >= 0 && !*e)
            o->bad = 1;
    } else if (*e && sg_pool_node(o->m->pool, id) != *e) {
        o->bad = 1; /* not a node of the model's pool */
    }
}

#define IO_ARRAY(o, field, n, arena) io_array(o, &(field), (o)->bad ? 0 : (n), sizeof *(field), arena)
/* structures and pointers: allocated here, filled field by field */
#define IO_ALLOC(o, field, n, arena) io_alloc(o, &(field), (o)->bad ? 0 : (n), sizeof *(field), arena, 4)

/* Whether a pool node's nargs fits its kind: the kind says which of the
 * node's fields (one union) are there, so a number or a variable read with
 * arguments would have them written over its value or its slot. Parse-tree
 * kinds (EX_NAME, EX_USER) are never in a pool. */
static int pool_arity_ok(const sg_expr *e)
{
    switch (e->kind) {
    case EX_NUM:
    case EX_VAR: return e->nargs == 0;
    case EX_NAME:
    case EX_USER: return 0;
    case EX_NEG:
    case EX_NOT:
    case EX_FN: return e->nargs == 1;
    case EX_IF: return e->nargs == 3;
    case EX_TRAJ: return e->nargs <= 2;
    default: return e->kind <= EX_DELAY && e->nargs == 2;
    }
}

/* The pool, node by node: arguments have smaller ids than their users.
 * Reading appends each node as it was (sg_pool_restore), without looking
 * for an equal one: the writer's pool held none. */
static void io_pool(io *o)
{
    sg_pool *pool = o->m->pool;
    int count = o->reading ? 0 : sg_pool_size(pool);
    io_count(o, &count, 8);
    for (int id = 0; id < count && !o->bad; id++) {
        sg_expr node = {0}, *e = o->reading ? &node : sg_pool_node(pool, id);
        uint8_t head[3] = {e->kind, e->fn, e->nargs};
        io_raw(o, head, sizeof head);
        e->kind = head[0];
        e->fn = head[1];
        e->nargs = head[2];
        int traj = e->kind == EX_TRAJ;
        if (!pool_arity_ok(e) || (!o->reading && (e->depth || (!traj && e->pos))))
            o->bad = 1;
        if (e->kind == EX_NUM)
            io_double(o, &e->num);
        else if (e->kind == EX_VAR)
            io_int(o, &e->slot);
        if (traj) {
            io_int(o, &e->pos);
            io_str(o, &e->name);
        }
        for (int i = 0; i < e->nargs && !o->bad; i++) {
            int a = o->reading ? 0 : e->arg[i]->id;
            io_int(o, &a);
            if (a < 0 || a >= id)
                o->bad = 1;
            else if (o->reading)
                e->arg[i] = sg_pool_node(pool, a);
        }
        if (o->reading && !o->bad && !sg_pool_restore(pool, e))
            o->bad = 1;
    }
}

/* A parse tree (user function bodies), into the model's arena. */
static void io_tree(io *o, sg_expr **t, int depth)
{
    uint8_t present = !o->reading && *t;
    io_raw(o, &present, 1);
    if (o->reading)
        *t = NULL;
    if (!present || o->bad)
        return;
    if (depth > SG_EXPR_MAX_HEIGHT + 10) {
        o->bad = 1;
        return;
    }
    if (o->reading && !(*t = sg_arena_alloc(o->m->arena, sizeof **t))) {
        o->bad = 1;
        return;
    }
    sg_expr *e = *t;
    uint8_t head[3] = {e->kind, e->fn, e->nargs};
    io_raw(o, head, sizeof head);
    e->kind = head[0];
    e->fn = head[1];
    e->nargs = head[2];
    io_int(o, &e->pos);
    io_int(o, &e->depth);
    /* what follows depends on the kind (the fields share one union) */
    switch (e->kind) {
    case EX_NUM:
        io_double(o, &e->num);
        break;
    case EX_NAME:
        io_str(o, &e->name);
        break;
    case EX_VAR:
        io_int(o, &e->slot);
        break;
    case EX_USER:
        io_int(o, &e->slot);
        io_count(o, &e->nuargs, 1);
        IO_ALLOC(o, e->uargs, e->nuargs, 1);
        for (int i = 0; i < e->nuargs && !o->bad; i++)
            io_tree(o, &e->uargs[i], depth + 1);
        break;
    default:
        if (e->kind > EX_DELAY || e->nargs > (e->kind == EX_TRAJ ? 2 : 3)) {
            o->bad = 1;
            return;
        }
        for (int i = 0; i < e->nargs; i++)
            io_tree(o, &e->arg[i], depth + 1);
        if (e->kind == EX_TRAJ)
            io_str(o, &e->name);
    }
    if (o->reading && !o->bad && (e->kind == EX_NUM || e->kind == EX_NAME || e->kind == EX_VAR ||
                                  e->kind == EX_USER) && e->nargs != 0)
        o->bad = 1; /* arguments would lie over the value, the name or the slot */
}

static void io_sets(io *o, sg_set_def **sets, int *n)
{
    io_count(o, n, 8);
    IO_ALLOC(o, *sets, *n, 1);
    for (int i = 0; i < *n && !o->bad; i++) {
        sg_set_def *s = &(*sets)[i];
        io_str(o, &s->name);
        io_int(o, &s->slot);
        io_int(o, &s->add);
        io_double(o, &s->value);
    }
}

static void io_scenario(io *o, sg_scenario_def *sc)
{
    io_str(o, &sc->id);
    io_double(o, &sc->t_start);
    io_double(o, &sc->t_end);
    io_long(o, &sc->points);
    io_int(o, &sc->preequilibrate);
    io_sets(o, &sc->sets, &sc->nsets);
    io_count(o, &sc->nevents, 8);
    IO_ALLOC(o, sc->events, sc->nevents, 1);
    for (int i = 0; i < sc->nevents && !o->bad; i++) {
        sg_event_def *ev = &sc->events[i];
        io_double(o, &ev->at);
        io_double(o, &ev->every);
        io_long(o, &ev->count);
        io_sets(o, &ev->sets, &ev->nsets);
        io_int(o, &ev->line);
    }
    io_int(o, &sc->has_scan);
    sg_scan_def *scan = &sc->scan;
    io_str(o, &scan->target);
    io_int(o, &scan->slot);
    io_count(o, &scan->count, 0);
    IO_ARRAY(o, scan->values, scan->count, 1);
    io_int(o, &scan->log_scale);
    io_int(o, &scan->line);
    io_strs(o, &sc->readouts, &sc->nreadouts);
    io_int(o, &sc->line);
}

static void io_trigger(io *o, sg_trigger_def *t)
{
    io_str(o, &t->id);
    io_str(o, &t->name);
    io_str(o, &t->description);
    io_str(o, &t->text);
    io_int(o, &t->line);
    io_int(o, &t->col);
    io_expr(o, &t->trigger);
    io_count(o, &t->nassigns, 8);
    IO_ALLOC(o, t->assigns, t->nassigns, 1);
    for (int i = 0; i < t->nassigns && !o->bad; i++) {
        io_int(o, &t->assigns[i].slot);
        io_expr(o, &t->assigns[i].value);
    }
    io_int(o, &t->initial_value);
    io_int(o, &t->persistent);
    io_int(o, &t->use_trigger_time);
    io_expr(o, &t->delay);
    io_expr(o, &t->priority);
}

/* Instructions without their padding (never-written bytes in a file). */
enum { INSTR_BYTES = 2 + 4 * 4 };
_Static_assert(offsetof(sg_instr, c) == offsetof(sg_instr, dst) + 12, "dst, a, b, c adjacent");
static void io_instrs(io *o, sg_instr **code, int n)
{
    io_alloc(o, code, n, sizeof **code, 0, INSTR_BYTES);
    for (int i = 0; i < n && !o->bad; i++) {
        sg_instr *in = &(*code)[i];
        io_raw(o, &in->op, 1);
        io_raw(o, &in->fn, 1);
        io_raw(o, &in->dst, 4 * sizeof in->dst);
    }
}

static void io_program(io *o, sg_program *p)
{
    io_int(o, &p->nslots);
    io_int(o, &p->nmodel_slots);
    io_int(o, &p->nstate);
    io_int(o, &p->time_slot);
    if (p->nslots < 0 || p->nstate < 0) {
        o->bad = 1;
        return;
    }
    IO_ARRAY(o, p->base, p->nslots, 0);
    io_count(o, &p->n_setup, INSTR_BYTES);
    io_instrs(o, &p->setup, p->n_setup);
    io_count(o, &p->n_code, INSTR_BYTES);
    io_int(o, &p->n_assign);
    io_int(o, &p->n_rhs);
    io_int(o, &p->n_roots);
    io_instrs(o, &p->code, p->n_code);
    IO_ARRAY(o, p->emit_order, p->n_code, 0);
    io_count(o, &p->nroots, 4);
    IO_ARRAY(o, p->root_slot, p->nroots, 0);
    io_count(o, &p->nequalities, 8);
    IO_ALLOC(o, p->equalities, p->nequalities, 0);
    for (int i = 0; i < p->nequalities && !o->bad; i++) {
        sg_expr *e = (sg_expr *)p->equalities[i];
        io_expr(o, &e);
        p->equalities[i] = e;
    }
    IO_ARRAY(o, p->equality_root, p->nequalities, 0);
    io_count(o, &p->ntriggers, 4);
    IO_ARRAY(o, p->trigger_slot, p->ntriggers, 0);
    IO_ARRAY(o, p->st_start, p->nstate + 1, 0);
    int nst = o->bad || !p->st_start ? 0 : p->st_start[p->nstate];
    IO_ARRAY(o, p->st_rate, nst, 0);
    IO_ARRAY(o, p->st_coef, nst, 0);
    IO_ARRAY(o, p->state_comp_slot, p->nstate, 0);
    io_count(o, &p->nnz, 4);
    IO_ARRAY(o, p->jac_colptr, p->nstate + 1, 0);
    IO_ARRAY(o, p->jac_rowidx, p->nnz, 0);
    IO_ARRAY(o, p->jt_start, p->nnz + 1, 0);
    int njt = o->bad || !p->jt_start ? 0 : p->jt_start[p->nnz];
    IO_ARRAY(o, p->jt_slot, njt, 0);
    IO_ARRAY(o, p->jt_coef, njt, 0);
    io_count(o, &p->ndelays, 12);
    IO_ALLOC(o, p->delay_node, p->ndelays, 0);
    for (int i = 0; i < p->ndelays && !o->bad; i++) {
        sg_expr *e = (sg_expr *)p->delay_node[i];
        io_expr(o, &e);
        p->delay_node[i] = e;
    }
    IO_ARRAY(o, p->delay_x_slot, p->ndelays, 0);
    IO_ARRAY(o, p->delay_tau_slot, p->ndelays, 0);
    IO_ARRAY(o, p->delay_timed, p->ndelays, 0);
}

static void io_model(io *o, sg_model *m)
{
    io_str(o, &m->name);
    io_str(o, &m->description);
    io_str(o, &m->time_unit);
    io_str(o, &m->conc_unit);
    io_int(o, &m->runs_from_zero);
    io_int(o, &m->read_in_two);
    io_int(o, &m->nslots);
    io_int(o, &m->time_slot);
    io_int(o, &m->first_compartment_slot);
    io_int(o, &m->first_parameter_slot);
    io_int(o, &m->first_assignment_slot);
    io_int(o, &m->first_rate_slot);
    io_int(o, &m->nfluxes);
    io_int(o, &m->nstate);
    if (m->nslots < 0 || (o->reading && (size_t)m->nslots > (size_t)(o->end - o->p) / 8)) {
        o->bad = 1;
        return;
    }
    IO_ARRAY(o, m->initial_values, m->nslots, 0);
    IO_ARRAY(o, m->slot_kind, m->nslots, 0);
    IO_ARRAY(o, m->slot_index, m->nslots, 0);
    IO_ALLOC(o, m->slot_name, m->nslots, 0);
    for (int i = 0; i < m->nslots && !o->bad; i++)
        io_str(o, &m->slot_name[i]);
    IO_ALLOC(o, m->slot_sbml_id, m->nslots + 1, 1);
    for (int i = 0; i < m->nslots && !o->bad; i++)
        io_str(o, &m->slot_sbml_id[i]);

    io_pool(o);

    io_count(o, &m->nfunctions, 8);
    IO_ALLOC(o, m->functions, m->nfunctions, 1);
    for (int i = 0; i < m->nfunctions && !o->bad; i++) {
        sg_user_fn *f = &m->functions[i];
        io_str(o, &f->name);
        io_strs(o, &f->args, &f->nargs);
        sg_expr *body = (sg_expr *)f->body;
        io_tree(o, &body, 0);
        f->body = body;
    }
    m->user = (sg_user_fns){m->functions, m->nfunctions};

    io_count(o, &m->nspecies, 8);
    IO_ALLOC(o, m->species, m->nspecies, 1);
    for (int i = 0; i < m->nspecies && !o->bad; i++) {
        sg_species_def *s = &m->species[i];
        io_str(o, &s->id);
        io_double(o, &s->initial);
        io_int(o, &s->compartment);
        io_int(o, &s->constant);
        io_str(o, &s->unit);
        io_str(o, &s->name);
        io_str(o, &s->description);
        io_int(o, &s->line);
        io_int(o, &s->slot);
    }
    io_count(o, &m->ncompartments, 8);
    IO_ALLOC(o, m->compartments, m->ncompartments, 1);
    for (int i = 0; i < m->ncompartments && !o->bad; i++) {
        sg_compartment_def *c = &m->compartments[i];
        io_str(o, &c->id);
        io_double(o, &c->size);
        io_str(o, &c->unit);
        io_str(o, &c->name);
        io_str(o, &c->description);
        io_int(o, &c->line);
        io_int(o, &c->slot);
    }
    io_count(o, &m->nparameters, 8);
    IO_ALLOC(o, m->parameters, m->nparameters, 1);
    for (int i = 0; i < m->nparameters && !o->bad; i++) {
        sg_parameter_def *p = &m->parameters[i];
        io_str(o, &p->id);
        io_double(o, &p->value);
        io_str(o, &p->unit);
        io_str(o, &p->source);
        io_str(o, &p->mechanism);
        io_str(o, &p->name);
        io_str(o, &p->description);
        io_int(o, &p->estimate);
        io_double(o, &p->lower);
        io_double(o, &p->upper);
        io_int(o, &p->scale);
        io_int(o, &p->line);
        io_int(o, &p->slot);
    }
    io_count(o, &m->nassignments, 8);
    IO_ALLOC(o, m->assignments, m->nassignments, 1);
    for (int i = 0; i < m->nassignments && !o->bad; i++) {
        sg_assignment_def *a = &m->assignments[i];
        io_str(o, &a->id);
        io_str(o, &a->text);
        io_str(o, &a->unit);
        io_int(o, &a->line);
        io_int(o, &a->col);
        io_str(o, &a->name);
        io_str(o, &a->description);
        io_expr(o, &a->value);
        io_int(o, &a->slot);
    }
    IO_ARRAY(o, m->assignment_order, m->nassignments, 1);
    io_count(o, &m->nreactions, 8);
    IO_ALLOC(o, m->reactions, m->nreactions, 1);
    for (int i = 0; i < m->nreactions && !o->bad; i++) {
        sg_reaction_def *r = &m->reactions[i];
        io_str(o, &r->id);
        io_str(o, &r->equation);
        io_str(o, &r->rate_text);
        io_int(o, &r->line);
        io_int(o, &r->col);
        io_int(o, &r->reversible);
        io_count(o, &r->nterms, 12);
        IO_ALLOC(o, r->terms, r->nterms, 1);
        for (int k = 0; k < r->nterms && !o->bad; k++) {
            io_int(o, &r->terms[k].species);
            io_double(o, &r->terms[k].coef);
        }
        io_expr(o, &r->rate);
        io_str(o, &r->mechanism);
        io_str(o, &r->name);
        io_str(o, &r->description);
        io_int(o, &r->slot);
    }
    io_count(o, &m->nscenarios, 8);
    IO_ALLOC(o, m->scenarios, m->nscenarios, 1);
    for (int i = 0; i < m->nscenarios && !o->bad; i++)
        io_scenario(o, &m->scenarios[i]);
    io_count(o, &m->nchecks, 8);
    IO_ALLOC(o, m->checks, m->nchecks, 1);
    for (int i = 0; i < m->nchecks && !o->bad; i++) {
        sg_check_def *c = &m->checks[i];
        io_str(o, &c->id);
        io_str(o, &c->scenario);
        io_str(o, &c->expect);
        io_expr(o, &c->tree);
        io_int(o, &c->conservation);
        io_strs(o, &c->knockouts, &c->nknockouts);
        io_int(o, &c->line);
        io_int(o, &c->col);
    }
    io_count(o, &m->nrate_rules, 8);
    IO_ALLOC(o, m->rate_rules, m->nrate_rules, 1);
    for (int i = 0; i < m->nrate_rules && !o->bad; i++) {
        sg_rate_rule_def *r = &m->rate_rules[i];
        io_str(o, &r->id);
        io_str(o, &r->text);
        io_int(o, &r->line);
        io_int(o, &r->col);
        io_int(o, &r->target_slot);
        io_expr(o, &r->rate);
        io_int(o, &r->slot);
    }
    io_count(o, &m->ninits, 8);
    IO_ALLOC(o, m->inits, m->ninits, 1);
    for (int i = 0; i < m->ninits && !o->bad; i++) {
        sg_init_def *d = &m->inits[i];
        io_int(o, &d->slot);
        io_str(o, &d->text);
        io_int(o, &d->line);
        io_int(o, &d->col);
        io_expr(o, &d->value);
    }
    io_count(o, &m->ninit_steps, 8);
    IO_ALLOC(o, m->init_steps, m->ninit_steps, 1);
    for (int i = 0; i < m->ninit_steps && !o->bad; i++) {
        io_int(o, &m->init_steps[i].slot);
        io_int(o, &m->init_steps[i].is_init);
        io_expr(o, &m->init_steps[i].value);
    }
    io_count(o, &m->ntriggers, 8);
    IO_ALLOC(o, m->triggers, m->ntriggers, 1);
    for (int i = 0; i < m->ntriggers && !o->bad; i++)
        io_trigger(o, &m->triggers[i]);
    /* uncertain quantities: the loader keeps room for every quantity */
    io_count(o, &m->nuncertain, 8);
    int room = m->ncompartments + m->nparameters + m->nspecies + 1;
    if (o->reading && !o->bad && m->nuncertain > 0) {
        if (m->nuncertain > room || !(m->uncertain = sg_arena_alloc(
                                          m->arena, sizeof *m->uncertain * (size_t)room)))
            o->bad = 1;
    }
    for (int i = 0; i < m->nuncertain && !o->bad; i++) {
        sg_uncertain_def *u = &m->uncertain[i];
        io_str(o, &u->id);
        io_raw(o, &u->kind, sizeof u->kind);
        io_int(o, &u->slot);
        io_double(o, &u->nominal);
        io_raw(o, &u->dist.kind, sizeof u->dist.kind);
        io_double(o, &u->dist.a);
        io_double(o, &u->dist.b);
        io_str(o, &u->source);
        io_int(o, &u->line);
    }

    /* id -> slot */
    int nsym = (int)m->symbols.count;
    io_count(o, &nsym, 8);
    if (o->reading && !o->bad && sg_map_reserve(&m->symbols, (size_t)nsym) != 0)
        o->bad = 1;
    for (size_t i = 0, done = 0; !o->bad && (int)done < nsym; i++) {
        sg_map_entry en = {0};
        if (!o->reading) {
            en = m->symbols.entries[i];
            if (!en.key)
                continue;
        }
        const char *key = en.key;
        io_str(o, &key);
        io_int(o, &en.value);
        done++;
        if (o->reading && !o->bad && (!key || en.value < 0 || sg_map_put(&m->symbols, key,
                                                                         en.value) != 0))
            o->bad = 1;
    }

    uint8_t has_program = m->program != NULL;
    io_raw(o, &has_program, 1);
    if (o->reading && has_program && !o->bad && !(m->program = sg_calloc(1, sizeof *m->program)))
        o->bad = 1;
    if (has_program && !o->bad) {
        io_program(o, m->program);
        m->program->slot_names = m->slot_name;
        if (o->reading && !o->bad && sg_vm_build(m->program) != 0)
            o->bad = 1;
    }
}

/* --------------------------------------------------------------- image */

/* The header for a text of text_len bytes and a payload (text hash and
 * checksum 0). */
static image_header header_for(uint64_t text_len, uint64_t payload_len)
{
    image_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, sizeof h.magic);
    h.order_mark = ORDER_MARK;
    h.format = FORMAT;
    h.sizes = (uint32_t)sizeof(int) | (uint32_t)sizeof(long) << 8 |
              (uint32_t)sizeof(double) << 16 | (uint32_t)sizeof(sg_instr) << 24;
    snprintf(h.build, sizeof h.build, "%s %s", SIGODE_VERSION, SIGODE_MODEL_BUILD_ID);
    h.text_len = text_len;
    h.payload_len = payload_len;
    return h;
}

static uint64_t image_checksum(const image_header *h, const void *payload)
{
    image_header zero = *h;
    zero.checksum = 0;
    uint64_t sum = sg_hash_words(SG_FNV1A_START, &zero, sizeof zero);
    return sg_hash_words(sum, payload, h->payload_len);
}

/* The model in image `e` (e_len bytes, mapped; the model keeps the
 * mapping) if it is one this build wrote for this text, else NULL with
 * *why. */
static sg_model *from_image(unsigned char *e, size_t e_len, uint64_t text_hash, size_t len,
                            const char *filename, const char **why)
{
    image_header h, want = header_for(len, 0);
    if (e_len < sizeof h) {
        *why = "truncated";
        return NULL;
    }
    memcpy(&h, e, sizeof h);
    want.payload_len = h.payload_len;
    want.checksum = h.checksum;
    if (memcmp(h.magic, MAGIC, sizeof h.magic) != 0) {
        *why = "not a sigode model image";
        return NULL;
    }
    if (h.order_mark != ORDER_MARK) {
        *why = "written on a machine of another byte order";
        return NULL;
    }
    if (h.format != FORMAT || h.sizes != want.sizes || memcmp(h.build, want.build,
                                                              sizeof h.build) != 0) {
        *why = "written by another build of sigode";
        return NULL;
    }
    if (h.text_len != len || h.text_hash != text_hash) {
        *why = "written for another file";
        return NULL;
    }
    if (h.payload_len != e_len - sizeof h) {
        *why = "truncated or extended";
        return NULL;
    }
    const unsigned char *payload = e + sizeof h;
    if (image_checksum(&h, payload) != h.checksum) {
        *why = "checksum mismatch";
        return NULL;
    }
    sg_model *m = sg_calloc(1, sizeof *m);
    if (m) {
        sg_map_init(&m->symbols);
        m->arena = sg_arena_create();
        m->pool = sg_pool_create();
        m->image = e;
        m->image_len = e_len;
    }
    io o = {.reading = 1, .p = payload, .end = payload + h.payload_len, .m = m};
    if (!m || !m->arena || !m->pool || !(m->path = sg_arena_strdup(m->arena, filename))) {
        *why = "out of memory";
    } else {
        io_model(&o, m);
        if (!o.bad && o.p == o.end)
            return m;
        *why = "damaged contents";
    }
    if (m)
        m->image = NULL; /* the caller unmaps it */
    sg_model_free(m);
    return NULL;
}

/* Maps the image read-only, its pages read in at once (one fault each
 * would cost more than the reading). NULL if it cannot be mapped. */
static unsigned char *map_fd(int fd, size_t *len)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0)
        return NULL;
    *len = (size_t)sb.st_size;
    void *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

void sg_model_cache_unmap(sg_model *m)
{
    if (m->image)
        munmap(m->image, m->image_len);
    m->image = NULL;
}

static void store(int dfd, const char *name, const sg_model *m, size_t len, uint64_t text_hash,
                  char *outcome, size_t size)
{
    io o = {.m = (sg_model *)m};
    io_model(&o, (sg_model *)m);
    if (o.bad) {
        snprintf(outcome, size, "not stored: %s",
                 o.buf ? "the model has parts an image cannot hold" : "out of memory");
        sg_free(o.buf);
        return;
    }
    image_header h = header_for(len, o.len);
    h.text_hash = text_hash;
    h.checksum = image_checksum(&h, o.buf);
    char tmp[128];
    snprintf(tmp, sizeof tmp, "tmp-%ld-%s", (long)getpid(), name);
    sg_cache_remove_stale(dfd);
    unlinkat(dfd, tmp, 0);
    const void *parts[2] = {&h, o.buf};
    size_t sizes[2] = {sizeof h, o.len};
    if (sg_cache_write_parts(dfd, tmp, parts, sizes, 2) != 0 ||
        renameat(dfd, tmp, dfd, name) != 0) {
        snprintf(outcome, size, "cannot write %s: %s", name,
                 strerror(errno));
        unlinkat(dfd, tmp, 0);
    } else {
        snprintf(outcome, size, "stored %s", name);
    }
    sg_free(o.buf);
}

int sg_model_cache_enabled(size_t len)
{
    const char *mode = getenv("SIGODE_MODEL_CACHE");
    if (mode && !strcmp(mode, "0"))
        return 0;
    return len >= CACHE_MIN_BYTES || (mode && !strcmp(mode, "1"));
}

sg_model *sg_model_cache_find(const char *text, size_t len, const char *filename, int *dfd,
                              char *name, size_t name_size, uint64_t *text_hash)
{
    *dfd = -1;
    *text_hash = 0;
    last_outcome[0] = '\0';
    if (!sg_model_cache_enabled(len)) {
        snprintf(last_outcome, sizeof last_outcome, "off");
        return NULL;
    }
    char dir[3072];
    sg_error cache_err = {0};
    if (sg_cache_open(WHO, dir, sizeof dir, dfd, &cache_err) != SG_OK) {
        snprintf(last_outcome, sizeof last_outcome, "not used: %.400s", cache_err.message);
        return NULL;
    }
    image_header h = header_for(len, 0);
    uint64_t key = sg_hash_words(SG_FNV1A_START, h.build, sizeof h.build);
    key = sg_hash_words(key, text, len);
    *text_hash = sg_hash_words(TEXT_SEED, text, len);
    snprintf(name, name_size, "model-%016" PRIx64 ".img", key);
    int refused = 0;
    int fd = sg_cache_open_file(*dfd, name, &refused);
    const char *why = "not a regular file owned by this user and writable only by it";
    sg_model *m = NULL;
    if (fd >= 0) {
        size_t e_len = 0;
        unsigned char *e = map_fd(fd, &e_len);
        close(fd);
        why = "empty or unreadable";
        if (e && !(m = from_image(e, e_len, *text_hash, len, filename, &why)))
            munmap(e, e_len);
        refused = !m;
    }
    if (m)
        snprintf(last_outcome, sizeof last_outcome, "hit %s", name);
    else if (refused)
        snprintf(last_outcome, sizeof last_outcome, "ignored %s (%s)", name, why);
    else
        snprintf(last_outcome, sizeof last_outcome, "miss %s", name);
    return m;
}

void sg_model_cache_store(int dfd, const char *name, const sg_model *m, size_t len,
                          uint64_t text_hash)
{
    /* keeps why an old image was ignored in front of what happened next */
    size_t keep = strncmp(last_outcome, "ignored", 7) ? 0 : strlen(last_outcome);
    if (keep)
        keep += (size_t)snprintf(last_outcome + keep, sizeof last_outcome - keep, "; ");
    store(dfd, name, m, len, text_hash, last_outcome + keep, sizeof last_outcome - keep);
}

/*
 * Reading a model's libconfig text, in two threads when it is large.
 *
 * libconfig reads a text in one pass on one core, and on a large model that
 * pass is a third of the load (0.8 s of 2.4 s for 100,000 species). A
 * model's bulk is in a few top-level lists (parameters, species,
 * reactions), and top-level settings are independent of each other, so a
 * second thread reads some of them from a text of their own while the
 * first reads the rest. Each text keeps the other's settings as blanks and
 * line breaks, so every line libconfig records is the line in the file.
 *
 * Either thread's text is valid exactly when the whole is (a setting ends
 * where the next top-level name starts, and a top-level name can only start
 * a setting), but a text that either refuses is read again whole anyway, so
 * a broken model gets libconfig's own error for the whole file.
 */
#include <libconfig.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

size_t sg_cfg_split_min_bytes = (size_t)1 << 20;
size_t sg_cfg_piece_min_bytes = (size_t)1 << 20;
int sg_cfg_read_ahead = -1;

typedef struct side_read {
    config_t *cfg;
    const char *text;
    int ok;
} side_read;

static void *read_side(void *arg)
{
    side_read *side = arg;
    side->ok = config_read_string(side->cfg, side->text);
    return NULL;
}

static void init_config(config_t *cfg)
{
    config_init(cfg);
    config_set_options(cfg, CONFIG_OPTION_AUTOCONVERT);
}

/* Shares the settings between the threads by their token counts (largest
 * first, each to the thread with less so far). Returns the side's tokens. */
static long share(const sg_cfg_top *top, const unsigned char *movable, unsigned char *to_side)
{
    int order[SG_CFG_MAX_TOP];
    long main_tokens = 0, side_tokens = 0;
    int n = 0;
    for (int i = 0; i < top->count; i++) {
        to_side[i] = 0;
        if (movable[i])
            order[n++] = i;
        else
            main_tokens += top->setting[i].tokens;
    }
    for (int a = 1; a < n; a++) /* insertion sort: at most 64 */
        for (int b = a; b > 0 && top->setting[order[b]].tokens >
                                     top->setting[order[b - 1]].tokens; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (int k = 0; k < n; k++) {
        long tokens = top->setting[order[k]].tokens;
        if (side_tokens < main_tokens) {
            to_side[order[k]] = 1;
            side_tokens += tokens;
        } else {
            main_tokens += tokens;
        }
    }
    return side_tokens;
}

/* The side's text: its settings at their own lines and columns, with line
 * breaks and blanks before each. */
static char *side_text(const char *text, const sg_cfg_top *top, const unsigned char *to_side,
                       size_t *at)
{
    size_t size = 2;
    for (int i = 0; i < top->count; i++)
        if (to_side[i])
            size += (size_t)top->setting[i].line + (size_t)top->setting[i].col +
                    (top->setting[i].end - top->setting[i].start);
    char *out = sg_malloc(size), *p = out;
    if (!out)
        return NULL;
    int line = 1, col = 1; /* where p is in the file */
    for (int i = 0; i < top->count; i++) {
        const sg_cfg_setting *s = &top->setting[i];
        if (!to_side[i])
            continue;
        for (; line < s->line; line++, col = 1)
            *p++ = '\n';
        for (; col < s->col; col++)
            *p++ = ' ';
        at[i] = (size_t)(p - out);
        memcpy(p, text + s->start, s->end - s->start);
        p += s->end - s->start;
        /* a setting ends where the next one starts */
        if (i + 1 < top->count) {
            line = top->setting[i + 1].line;
            col = top->setting[i + 1].col;
        }
    }
    if (p == out || p[-1] != '\n')
        *p++ = '\n';
    *p = '\0';
    return out;
}

/* Blanks text[from..to) but for its line breaks. */
static void blank(char *text, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (text[i] != '\n')
            text[i] = ' ';
}

/* Reads the text in two. Returns 1 if both parts were read; the text is as
 * it was on return either way. */
static int read_split(char *text, const sg_cfg_top *top, const unsigned char *to_side,
                      config_t *cfg, config_t *side)
{
    size_t at[SG_CFG_MAX_TOP];
    char *other = side_text(text, top, to_side, at);
    if (!other)
        return 0;
    init_config(side);
    side_read job = {.cfg = side, .text = other};
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, read_side, &job) == 0;
    for (int i = 0; i < top->count; i++)
        if (to_side[i])
            blank(text, top->setting[i].start, top->setting[i].end);
    int ok = config_read_string(cfg, text);
    if (threaded)
        pthread_join(thread, NULL);
    else
        read_side(&job);
    for (int i = 0; i < top->count; i++)
        if (to_side[i])
            memcpy(text + top->setting[i].start, other + at[i],
                   top->setting[i].end - top->setting[i].start);
    sg_free(other);
    if (ok && job.ok)
        return 1;
    config_destroy(side);
    config_destroy(cfg);
    init_config(cfg);
    return 0;
}

int sg_cfg_read_rest(const char *text, const sg_cfg_top *top, const unsigned char *keep,
                     config_t *cfg)
{
    init_config(cfg);
    size_t at[SG_CFG_MAX_TOP];
    char *rest = side_text(text, top, keep, at);
    if (!rest)
        return 0;
    int ok = config_read_string(cfg, rest);
    sg_free(rest);
    return ok ? 1 : 0;
}

int sg_cfg_read(char *text, size_t len, const sg_cfg_top *top, const unsigned char *movable,
                config_t *cfg, config_t *side)
{
    init_config(cfg);
    if (top && top->count > 0 && len >= sg_cfg_split_min_bytes &&
        (sg_cfg_split_min_bytes == 0 || sysconf(_SC_NPROCESSORS_ONLN) > 1)) {
        unsigned char to_side[SG_CFG_MAX_TOP];
        long total = 0;
        for (int i = 0; i < top->count; i++)
            total += top->setting[i].tokens;
        long side_tokens = share(top, movable, to_side);
        /* a quarter of the work at least, or the thread gains little (the
         * tests, with no minimum size, split whatever they can) */
        int worth = side_tokens > 0 && (sg_cfg_split_min_bytes == 0 || side_tokens >= total / 4);
        if (worth && read_split(text, top, to_side, cfg, side))
            return 2;
    }
    return config_read_string(cfg, text) ? 1 : 0;
}

/* ------------------------------------------------------ lists in pieces
 *
 * A large model's long lists (parameters, species, reactions) are read a
 * piece of sg_cfg_piece_elements elements at a time, each piece a text of
 * its own, `name = ( elements );`, and freed once loaded (load.c): the
 * whole tree of a 10^5-species model was half its peak memory, and its
 * fresh pages a fifth of the load's time. The piece's text starts at its
 * first element, so libconfig's line n is the file's line n + piece.line
 * - 1; the settings' lines are moved by that much. With two cores a
 * thread reads the pieces ahead of the loader (a few at most), so that
 * libconfig's reading and the loading of what it read overlap. */

enum { PIECES_AHEAD = 3, PREFAULTS = 8 };

int sg_cfg_loader_reads = 1;

/* A piece's config, and whether the loader read it (then the loader frees
 * it: a piece is freed by the thread that made it). */
typedef struct piece_cfg {
    config_t cfg; /* first: a piece is handed out as its config */
    int by_loader;
} piece_cfg;

struct sg_cfg_pieces {
    const char *text;
    const sg_cfg_top *top;
    int *order;            /* top->setting indexes, read in this order */
    int norder;
    int at_order, at_piece; /* the next piece to claim */
    /* pieces are numbered in reading order: `claimed` have been taken by a
     * thread to read, `taken` handed to the loader; a claimed piece waits
     * in ring[number % PIECES_AHEAD] (ready once read; NULL: refused) */
    int claimed, taken, no_more;
    char *buf;             /* one piece's text: the reading thread's */
    size_t buf_cap;
    char *own_buf;         /* the loader's, when it reads a piece itself */
    size_t own_cap;
    int threaded;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    config_t *ring[PIECES_AHEAD];
    unsigned char ready[PIECES_AHEAD];
    int stop;
    /* pieces the loader is done with, freed by the thread that made them:
     * freed by the other, glibc's locks and consolidation of the thread's
     * arena cost more than libconfig's reading (perf) */
    config_t *spent[PIECES_AHEAD];
    int nspent;
    /* memory the loader will fill, whose pages the thread maps in first
     * (sg_cfg_pieces_prefault) */
    struct {
        void *ptr;
        size_t size;
    } prefault[PREFAULTS];
    int nprefault;
};

static void move_lines(config_setting_t *s, unsigned by)
{
    s->line += by;
    if (config_setting_is_aggregate(s)) {
        int n = config_setting_length(s);
        for (int i = 0; i < n; i++)
            move_lines(config_setting_get_elem(s, (unsigned)i), by);
    }
}

/* Takes the next piece to read (under the lock when threaded): NULL when
 * there are no more, and then p->no_more is set. */
static const sg_cfg_piece *claim(sg_cfg_pieces *p, const sg_cfg_setting **setting)
{
    while (p->at_order < p->norder &&
           p->at_piece >= p->top->setting[p->order[p->at_order]].pieces) {
        p->at_order++;
        p->at_piece = 0;
    }
    if (p->no_more || p->at_order >= p->norder) {
        p->no_more = 1;
        return NULL;
    }
    *setting = &p->top->setting[p->order[p->at_order]];
    p->claimed++;
    return &p->top->piece[(*setting)->first_piece + p->at_piece++];
}

/* Reads a claimed piece (its text written into *buf); NULL when libconfig
 * refused it (or no memory). */
static config_t *read_piece(const sg_cfg_pieces *p, const sg_cfg_setting *s,
                            const sg_cfg_piece *piece, char **buf, size_t *cap, int by_loader)
{
    size_t need = s->name_len + 4 + (piece->end - piece->start) + 4;
    if (sg_grow(buf, cap, need, 1) != 0)
        return NULL;
    char *w = *buf;
    memcpy(w, s->name, s->name_len);
    w += s->name_len;
    memcpy(w, " = (", 4);
    w += 4;
    memcpy(w, p->text + piece->start, piece->end - piece->start);
    w += piece->end - piece->start;
    memcpy(w, ");\n", 4);
    piece_cfg *pc = sg_malloc(sizeof *pc);
    if (!pc)
        return NULL;
    pc->by_loader = by_loader;
    config_t *cfg = &pc->cfg;
    init_config(cfg);
    config_setting_t *list = NULL;
    if (config_read_string(cfg, *buf))
        list = config_setting_get_elem(config_root_setting(cfg), 0);
    if (!list || config_setting_length(list) != piece->count) {
        sg_cfg_piece_free(cfg);
        return NULL;
    }
    move_lines(list, (unsigned)(piece->line - 1));
    return cfg;
}

/* May a thread claim a piece now? (the ring has room for it) */
static int can_claim(const sg_cfg_pieces *p)
{
    return !p->no_more && p->claimed < p->taken + PIECES_AHEAD;
}

/* Claims, reads and files one piece; called and returns with the lock
 * held (read without it). 0 when there was nothing to claim. */
static int read_one(sg_cfg_pieces *p, int by_loader)
{
    const sg_cfg_setting *s = NULL;
    const sg_cfg_piece *piece = claim(p, &s);
    if (!piece)
        return 0;
    int number = p->claimed - 1;
    pthread_mutex_unlock(&p->lock);
    config_t *cfg = by_loader ? read_piece(p, s, piece, &p->own_buf, &p->own_cap, 1)
                              : read_piece(p, s, piece, &p->buf, &p->buf_cap, 0);
    pthread_mutex_lock(&p->lock);
    p->ring[number % PIECES_AHEAD] = cfg;
    p->ready[number % PIECES_AHEAD] = 1;
    if (!cfg)
        p->no_more = 1; /* a refused piece ends the reading */
    pthread_cond_broadcast(&p->changed);
    return 1;
}

static void *read_ahead(void *arg)
{
    sg_cfg_pieces *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!can_claim(p) && !p->stop && p->nspent == 0 && p->nprefault == 0)
            pthread_cond_wait(&p->changed, &p->lock);
        if (p->nspent) {
            config_t *spent[PIECES_AHEAD];
            int nspent = p->nspent;
            memcpy(spent, p->spent, sizeof *spent * (size_t)nspent);
            p->nspent = 0;
            pthread_cond_broadcast(&p->changed);
            pthread_mutex_unlock(&p->lock);
            for (int i = 0; i < nspent; i++)
                sg_cfg_piece_free(spent[i]);
            pthread_mutex_lock(&p->lock);
        }
        if (p->stop)
            break;
        if (p->nprefault > 0) {
            void *ptr = p->prefault[0].ptr;
            size_t size = p->prefault[0].size;
            memmove(p->prefault, p->prefault + 1, sizeof p->prefault[0] * (size_t)--p->nprefault);
            pthread_mutex_unlock(&p->lock);
            sg_pages_populate(ptr, size);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        if (can_claim(p))
            read_one(p, 0);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

sg_cfg_pieces *sg_cfg_pieces_start(const char *text, const sg_cfg_top *top, const int *order,
                                   int norder, int threaded)
{
    sg_cfg_pieces *p = sg_calloc(1, sizeof *p);
    if (!p || !(p->order = sg_malloc(sizeof *p->order * (size_t)(norder + 1)))) {
        sg_free(p);
        return NULL;
    }
    memcpy(p->order, order, sizeof *order * (size_t)norder);
    p->norder = norder;
    p->text = text;
    p->top = top;
    if (threaded && pthread_mutex_init(&p->lock, NULL) == 0) {
        if (pthread_cond_init(&p->changed, NULL) == 0) {
            p->threaded = pthread_create(&p->thread, NULL, read_ahead, p) == 0;
            if (!p->threaded)
                pthread_cond_destroy(&p->changed);
        }
        if (!p->threaded)
            pthread_mutex_destroy(&p->lock);
    }
    return p;
}

/* The next piece in order. With a reading thread, the loader reads a piece
 * itself rather than wait, when the one it needs is still being read: on
 * a list the loader goes through faster than libconfig reads it (the
 * parameters of gen_network.py's models), both cores then read. */
config_t *sg_cfg_pieces_next(sg_cfg_pieces *p)
{
    if (!p->threaded) {
        const sg_cfg_setting *s = NULL;
        const sg_cfg_piece *piece = claim(p, &s);
        p->taken = p->claimed;
        return piece ? read_piece(p, s, piece, &p->buf, &p->buf_cap, 1) : NULL;
    }
    pthread_mutex_lock(&p->lock);
    config_t *cfg = NULL;
    for (;;) {
        int at = p->taken % PIECES_AHEAD;
        if (p->ready[at]) {
            cfg = p->ring[at];
            p->ring[at] = NULL;
            p->ready[at] = 0;
            p->taken++;
            pthread_cond_broadcast(&p->changed);
            break;
        }
        if (p->taken >= p->claimed && p->no_more)
            break;
        if (sg_cfg_loader_reads && can_claim(p))
            read_one(p, 1);
        else
            pthread_cond_wait(&p->changed, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return cfg;
}

void sg_cfg_pieces_prefault(sg_cfg_pieces *p, void *ptr, size_t size)
{
    if (p && p->threaded) {
        pthread_mutex_lock(&p->lock);
        int queued = p->nprefault < PREFAULTS && !p->stop;
        if (queued) {
            p->prefault[p->nprefault].ptr = ptr;
            p->prefault[p->nprefault++].size = size;
            pthread_cond_broadcast(&p->changed);
        }
        pthread_mutex_unlock(&p->lock);
        if (queued)
            return;
    }
    sg_pages_populate(ptr, size);
}

void sg_cfg_pieces_done(sg_cfg_pieces *p, config_t *piece)
{
    if (p && p->threaded && piece && !((piece_cfg *)piece)->by_loader) {
        pthread_mutex_lock(&p->lock);
        int queued = p->nspent < PIECES_AHEAD && !p->stop;
        if (queued) {
            p->spent[p->nspent++] = piece;
            pthread_cond_broadcast(&p->changed);
        }
        pthread_mutex_unlock(&p->lock);
        if (queued)
            return;
    }
    sg_cfg_piece_free(piece);
}

void sg_cfg_piece_free(config_t *piece)
{
    if (piece) {
        config_destroy(piece);
        sg_free(piece);
    }
}

void sg_cfg_pieces_stop(sg_cfg_pieces *p)
{
    if (!p)
        return;
    if (p->threaded) {
        pthread_mutex_lock(&p->lock);
        p->stop = 1;
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
        for (; p->nspent > 0; p->nspent--)
            sg_cfg_piece_free(p->spent[p->nspent - 1]);
        for (int i = 0; i < PIECES_AHEAD; i++)
            if (p->ready[i])
                sg_cfg_piece_free(p->ring[i]);
        pthread_cond_destroy(&p->changed);
        pthread_mutex_destroy(&p->lock);
    }
    sg_free(p->buf);
    sg_free(p->own_buf);
    sg_free(p->order);
    sg_free(p);
}

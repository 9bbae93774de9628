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

enum { PIECES_AHEAD = 3 };

struct sg_cfg_pieces {
    const char *text;
    const sg_cfg_top *top;
    int *order;            /* top->setting indexes, read in this order */
    int norder;
    int at_order, at_piece; /* the next piece to read */
    char *buf;             /* one piece's text */
    size_t buf_cap;
    /* read ahead by a thread: a ring of finished pieces (NULL: refused) */
    int threaded;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    config_t *ring[PIECES_AHEAD];
    int ring_from, ring_count, produced_all, stop;
    /* pieces the loader is done with, freed by the thread that made them:
     * freed by the other, glibc's locks and consolidation of the thread's
     * arena cost more than libconfig's reading (perf) */
    config_t *spent[PIECES_AHEAD];
    int nspent;
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

/* Reads the next piece; NULL when libconfig refused it (or no memory).
 * *done is set when there are no more pieces. */
static config_t *read_piece(sg_cfg_pieces *p, int *done)
{
    while (p->at_order < p->norder &&
           p->at_piece >= p->top->setting[p->order[p->at_order]].pieces) {
        p->at_order++;
        p->at_piece = 0;
    }
    *done = p->at_order >= p->norder;
    if (*done)
        return NULL;
    const sg_cfg_setting *s = &p->top->setting[p->order[p->at_order]];
    const sg_cfg_piece *piece = &p->top->piece[s->first_piece + p->at_piece++];
    size_t need = s->name_len + 4 + (piece->end - piece->start) + 4;
    if (sg_grow(&p->buf, &p->buf_cap, need, 1) != 0)
        return NULL;
    char *w = p->buf;
    memcpy(w, s->name, s->name_len);
    w += s->name_len;
    memcpy(w, " = (", 4);
    w += 4;
    memcpy(w, p->text + piece->start, piece->end - piece->start);
    w += piece->end - piece->start;
    memcpy(w, ");\n", 4);
    config_t *cfg = sg_malloc(sizeof *cfg);
    if (!cfg)
        return NULL;
    init_config(cfg);
    config_setting_t *list = NULL;
    if (config_read_string(cfg, p->buf))
        list = config_setting_get_elem(config_root_setting(cfg), 0);
    if (!list || config_setting_length(list) != piece->count) {
        sg_cfg_piece_free(cfg);
        return NULL;
    }
    move_lines(list, (unsigned)(piece->line - 1));
    return cfg;
}

static void *read_ahead(void *arg)
{
    sg_cfg_pieces *p = arg;
    for (;;) {
        config_t *spent[PIECES_AHEAD];
        pthread_mutex_lock(&p->lock);
        while (p->ring_count == PIECES_AHEAD && !p->stop && p->nspent == 0)
            pthread_cond_wait(&p->changed, &p->lock);
        int stop = p->stop, nspent = p->nspent;
        memcpy(spent, p->spent, sizeof *spent * (size_t)nspent);
        p->nspent = 0;
        int room = p->ring_count < PIECES_AHEAD;
        if (nspent)
            pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        for (int i = 0; i < nspent; i++)
            sg_cfg_piece_free(spent[i]);
        if (stop)
            return NULL;
        if (!room)
            continue;
        int done;
        config_t *piece = read_piece(p, &done);
        pthread_mutex_lock(&p->lock);
        if (done || !piece)
            p->produced_all = 1; /* a refused piece ends the reading */
        if (!done)
            p->ring[(p->ring_from + p->ring_count++) % PIECES_AHEAD] = piece;
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        if (done || !piece)
            return NULL;
    }
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

config_t *sg_cfg_pieces_next(sg_cfg_pieces *p)
{
    int done;
    if (!p->threaded)
        return read_piece(p, &done);
    pthread_mutex_lock(&p->lock);
    while (p->ring_count == 0 && !p->produced_all)
        pthread_cond_wait(&p->changed, &p->lock);
    config_t *piece = NULL;
    if (p->ring_count > 0) {
        piece = p->ring[p->ring_from];
        p->ring_from = (p->ring_from + 1) % PIECES_AHEAD;
        p->ring_count--;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return piece;
}

void sg_cfg_pieces_done(sg_cfg_pieces *p, config_t *piece)
{
    if (p && p->threaded) {
        pthread_mutex_lock(&p->lock);
        int queued = p->nspent < PIECES_AHEAD && !p->produced_all;
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
        for (; p->ring_count > 0; p->ring_count--, p->ring_from = (p->ring_from + 1) % PIECES_AHEAD)
            sg_cfg_piece_free(p->ring[p->ring_from]);
        pthread_cond_destroy(&p->changed);
        pthread_mutex_destroy(&p->lock);
    }
    sg_free(p->buf);
    sg_free(p->order);
    sg_free(p);
}

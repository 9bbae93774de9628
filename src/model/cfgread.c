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

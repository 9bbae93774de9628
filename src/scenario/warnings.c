/*
 * Warnings of many runs (the points of a scan, the draws of an ensemble,
 * the scenarios of a check, the experiments of a fit) gathered into one
 * report: a warning that several runs give (the same text once its numbers
 * are set aside: "species 'A' is negative: -3e-9 at t = 4") is told once,
 * with how many runs gave it and the first of them, instead of once per
 * run. Runs may be added from several threads.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scenario.h"

typedef struct warning_kind {
    char *key;         /* the message with each number replaced by '#' */
    char *first;       /* the first run's message */
    char *first_label; /* and that run's name */
    long runs;         /* runs that gave it */
    long last_run;     /* the run that counted it last (once per run) */
} warning_kind;

struct sg_warnings {
    pthread_mutex_t lock;
    warning_kind *kinds;
    size_t nkinds, cap;
    long runs;
    long unkept; /* kinds dropped for want of memory */
};

sg_warnings *sg_warnings_create(void)
{
    sg_warnings *w = sg_calloc(1, sizeof *w);
    if (w && pthread_mutex_init(&w->lock, NULL) != 0) {
        sg_free(w);
        return NULL;
    }
    return w;
}

void sg_warnings_free(sg_warnings *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nkinds; i++) {
        sg_free(w->kinds[i].key);
        sg_free(w->kinds[i].first);
        sg_free(w->kinds[i].first_label);
    }
    sg_free(w->kinds);
    pthread_mutex_destroy(&w->lock);
    sg_free(w);
}

/* The message without its numbers: a number starts with a digit (or a
 * sign or point before one) that does not continue an identifier (X1,
 * 'k2'), and runs over digits, points, exponents and signs. */
static char *message_key(const char *msg)
{
    size_t n = strlen(msg);
    char *key = sg_malloc(n + 1);
    if (!key)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)msg[i];
        int prev_word = i > 0 && (isalnum((unsigned char)msg[i - 1]) || msg[i - 1] == '_');
        int starts = isdigit(c) ||
                     ((c == '-' || c == '+' || c == '.') && isdigit((unsigned char)msg[i + 1]));
        if (starts && !prev_word) {
            i++;
            while (i < n && (isdigit((unsigned char)msg[i]) || msg[i] == '.' ||
                             ((msg[i] == 'e' || msg[i] == 'E') &&
                              (isdigit((unsigned char)msg[i + 1]) || msg[i + 1] == '-' ||
                               msg[i + 1] == '+')) ||
                             ((msg[i] == '-' || msg[i] == '+') &&
                              (msg[i - 1] == 'e' || msg[i - 1] == 'E'))))
                i++;
            key[k++] = '#';
        } else {
            key[k++] = msg[i++];
        }
    }
    key[k] = '\0';
    return key;
}

/* Caller holds the lock. */
static void add_locked(sg_warnings *w, const char *msg, const char *label)
{
    char *key = message_key(msg);
    if (!key) {
        w->unkept++;
        return;
    }
    for (size_t i = 0; i < w->nkinds; i++) {
        warning_kind *k = &w->kinds[i];
        if (strcmp(k->key, key) == 0) {
            sg_free(key);
            if (k->last_run != w->runs) {
                k->runs++;
                k->last_run = w->runs;
            }
            return;
        }
    }
    if (sg_grow(&w->kinds, &w->cap, w->nkinds + 1, sizeof *w->kinds) != 0) {
        sg_free(key);
        w->unkept++;
        return;
    }
    warning_kind *k = &w->kinds[w->nkinds];
    k->key = key;
    k->first = sg_strdup(msg);
    k->first_label = label ? sg_strdup(label) : NULL;
    k->runs = 1;
    k->last_run = w->runs;
    if (!k->first || (label && !k->first_label)) {
        sg_free(k->key);
        sg_free(k->first);
        sg_free(k->first_label);
        w->unkept++;
        return;
    }
    w->nkinds++;
}

void sg_warnings_take_solver(sg_warnings *w, sg_solver *solver, const char *label)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->runs++;
    for (int i = 0; solver && i < sg_solver_warning_count(solver); i++)
        add_locked(w, sg_solver_warning(solver, i), label);
    pthread_mutex_unlock(&w->lock);
}

void sg_warnings_take(sg_warnings *w, sg_sim *sim, const char *label)
{
    sg_warnings_take_solver(w, sim ? sim->solver : NULL, label);
}

void sg_warnings_add(sg_warnings *w, const char *label, const char *fmt, ...)
{
    if (!w)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap); /* a longer warning is cut, still told */
    va_end(ap);
    pthread_mutex_lock(&w->lock);
    add_locked(w, msg, label);
    pthread_mutex_unlock(&w->lock);
}

long sg_warnings_runs(const sg_warnings *w) { return w ? w->runs : 0; }

int sg_warnings_count(const sg_warnings *w)
{
    return w ? (int)w->nkinds + (w->unkept > 0) : 0;
}

const char *sg_warnings_get(const sg_warnings *w, int i, long *runs, const char **first_label)
{
    if (!w || i < 0 || i >= sg_warnings_count(w))
        return NULL;
    if ((size_t)i == w->nkinds) {
        *runs = w->unkept;
        *first_label = NULL;
        return "more warnings could not be kept (out of memory)";
    }
    *runs = w->kinds[i].runs;
    *first_label = w->kinds[i].first_label;
    return w->kinds[i].first;
}

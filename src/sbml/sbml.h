/*
 * SBML in and out (libsbml). Import translates an SBML file into sigode
 * model text, which the normal loader then reads; export writes a loaded
 * model as SBML Level 3 Version 2. Only this folder includes libsbml.
 */
#ifndef SG_SBML_H
#define SG_SBML_H

#include <stdarg.h>
#include <stddef.h>

#include "../util/util.h"

/* A growing NUL-terminated string; `oom` is set when an append failed
 * (later appends do nothing), so callers check once at the end. */
typedef struct sg_sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sg_sbuf;

void sg_sbuf_add(sg_sbuf *b, const char *text);
void sg_sbuf_addn(sg_sbuf *b, const char *text, size_t n);
void sg_sbuf_printf(sg_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a double in the shortest form that reads back to the same value. */
void sg_sbuf_number(sg_sbuf *b, double v);
void sg_sbuf_free(sg_sbuf *b);

/* Writes `text` to `path` through a temporary renamed over it when complete. */
sg_status sg_sbml_write_atomic(const char *path, const char *text, sg_error *err);

/* sg_sbml_to_config; *cacheable (if not NULL) is set to 0 when the
 * translation depends on more than the file's own bytes (a 'comp' model,
 * whose submodels may come from other files). */
char *sg_sbml_translate(const char *path, int *cacheable, sg_error *err);
/* Loads a translation (freed here) as the model of `path`, error
 * positions made to point at the translation. */
sg_model *sg_sbml_load_translation(char *text, const char *path, sg_error *err);

#endif

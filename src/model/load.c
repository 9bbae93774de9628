/*
 * Model loading: libconfig text -> validated sg_model.
 *
 * Every problem is an SG_ERR_MODEL naming file:line:col. libconfig gives
 * the line of each setting (config_setting_source_line); the column is
 * found in the source text, and for expressions the offset inside the
 * string is added, so a caret can point at the bad token.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../compile/program.h"
#include "model.h"

/* An initial value written as an expression, bound once every id exists. */
typedef struct pending_init {
    const config_setting_t *group;
    const char *key;
    int slot;
} pending_init;

/* A list of groups: whole (a setting of libconfig's tree of the file), or
 * in pieces that come one after another from ld->pieces while elem()
 * walks the list from its first element to its last. */
typedef struct list_src {
    config_setting_t *whole;
    int count;
    int pieced;
    config_t *piece;       /* the current piece, its elements base .. base + len - 1 */
    config_setting_t *list;
    int base, len;
    size_t pending_mark;   /* ld->npending when the piece came */
    const sg_cfg_setting *setting; /* in pieces: where the list is in the text */
} list_src;

typedef struct loader {
    sg_model *m;
    const char *file;
    const char *text;
    size_t text_len;
    sg_error *err;
    int failed;
    sg_map rate_targets;   /* ids that have a rate rule */
    int species_states;    /* species among the states (they come first) */
    pending_init *pending;
    size_t npending, pending_cap;
    const struct line_index *lines; /* start of each line */
    sg_arena *scratch;     /* parse trees of one expression (reset after each) */
    const config_setting_t *side_root; /* lists read in a second thread (sg_cfg_read) */
    /* lists read in pieces (sg_cfg_pieces_start): the setting of each
     * pieced list (NULL: not pieced), and the pieces an initial-value
     * expression points into, kept until bind_inits */
    const sg_cfg_top *top;
    const sg_cfg_setting *pieced[SG_CFG_MAX_TOP];
    sg_cfg_pieces *pieces;
    config_t **kept;
    size_t nkept, kept_cap;
    int piece_failed;      /* a piece was refused: load the file whole */
    list_src params, species, reactions;
} loader;


/* ------------------------------------------------------------ locations */

/* Pages of their own (sg_pages_alloc), given back when freed: made in
 * another thread, the index would otherwise stay in that thread's arena,
 * where compiling cannot reuse it (peak RSS +20 MB at 10^5 species). */
typedef struct line_index {
    const char *text;
    size_t len;
    const char **lines;    /* NULL until made (or when out of memory) */
    size_t bytes;
    int nlines;
} line_index;

static void free_lines(line_index *x)
{
    sg_pages_free((void *)x->lines, x->bytes);
    x->lines = NULL;
}

/* Indexes the start of every line, so that finding a line is constant
 * time (a search from the top for each of a large model's rate laws would
 * take time quadratic in the file size). */
static int index_lines(line_index *x)
{
    /* memchr, not a loop over the bytes: a large model's text is 50 MB and
     * its lines are long enough for memchr's wide compares to pay */
    const char *end = x->text + x->len;
    size_t n = 1;
    for (const char *p = x->text; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        n++;
    x->bytes = sizeof *x->lines * n;
    if (n > (size_t)INT_MAX - 1 || !(x->lines = sg_pages_alloc(x->bytes)))
        return -1;
    x->lines[0] = x->text;
    x->nlines = 1;
    for (const char *p = x->text; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        x->lines[x->nlines++] = p + 1;
    return 0;
}

/* The index made on the other core while sg_cfg_precheck runs (25 ms of
 * the 10^5-species text, on the loader's path before). */
static void *index_lines_beside(void *arg)
{
    (void)index_lines(arg);
    return NULL;
}

/* Start of a 1-based line (the text's start for line <= 1), NULL past the end. */
static const char *line_start(const loader *ld, int line)
{
    if (line <= 1)
        return ld->text;
    return ld->lines && line <= ld->lines->nlines ? ld->lines->lines[line - 1] : NULL;
}

/* Column (1-based) of `needle` on `line`, 0 if not found. */
static int find_col(const loader *ld, int line, const char *needle)
{
    const char *s = line_start(ld, line);
    if (!s || !needle)
        return 0;
    size_t n = strlen(needle);
    for (const char *p = s; *p && *p != '\n'; p++) {
        if ((n == 0 || *p == needle[0]) && strncmp(p, needle, n) == 0 &&
            (p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
            !(isalnum((unsigned char)p[n]) || p[n] == '_'))
            return (int)(p - s) + 1;
    }
    return 0;
}

/* Where the string value of setting `key` (named on `line`) starts: the
 * character after its opening quote. Looks ahead a few lines, since a long
 * value may be written below its name. */
static void string_start(const loader *ld, int line, const char *key, int *out_line,
                         int *out_col)
{
    *out_line = line;
    *out_col = 0;
    const char *s = line_start(ld, line);
    if (!s)
        return;
    int col = find_col(ld, line, key);
    const char *p = s + (col > 0 ? col - 1 + (int)strlen(key) : 0);
    for (int l = line; *p && l < line + 4; p++) {
        if (*p == '"') {
            *out_line = l;
            *out_col = (int)(p - line_start(ld, l)) + 2;
            return;
        }
        if (*p == '\n')
            l++;
    }
}

static sg_status fail_at(loader *ld, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sg_status fail_at(loader *ld, int line, int col, const char *fmt, ...)
{
    if (ld->failed)
        return SG_ERR_MODEL;
    ld->failed = 1;
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sg_error_set(ld->err, SG_ERR_MODEL, ld->file, line, col, "%s", msg);
}

static sg_status fail_nomem(loader *ld)
{
    if (!ld->failed) {
        ld->failed = 1;
        sg_error_nomem(ld->err);
        snprintf(ld->err->file, sizeof ld->err->file, "%s", ld->file);
    }
    return SG_ERR_NOMEM;
}

/* Error about setting `s` (a member of a group): points at its name. */
static sg_status fail_setting(loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sg_status fail_setting(loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = s ? (int)config_setting_source_line(s) : 0;
    const char *name = s ? config_setting_name(s) : NULL;
    int col = name ? find_col(ld, line, name) : 0;
    if (s && !name && line > 0) { /* a list element: point at its first token */
        const char *p = line_start(ld, line);
        col = 1;
        while (p && (p[col - 1] == ' ' || p[col - 1] == '\t'))
            col++;
    }
    return fail_at(ld, line, col, "%s", msg);
}

/* ------------------------------------------------------------- settings */

static int valid_id(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    size_t n = 1;
    for (; s[n]; n++)
        if (!(isalnum((unsigned char)s[n]) || s[n] == '_'))
            return 0;
    return n <= SG_MAX_ID_LENGTH;
}

/* config_setting_get_member, faster. libconfig compares names a character
 * at a time, looking each one up in its list of path separators (strchr):
 * a fifth of the loading thread's samples at 100,000 species (perf), for
 * lookups of "id", "value", ... in every element. A group's names are
 * unique and hold no separator, so strcmp finds the same setting (after
 * the first letters, which tell most keys apart). */
static config_setting_t *member(const config_setting_t *group, const char *key)
{
    if (!group || !config_setting_is_group(group))
        return NULL;
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = s ? config_setting_name(s) : NULL;
        if (name && name[0] == key[0] && strcmp(name, key) == 0)
            return s;
    }
    return NULL;
}

/* Rejects members of `group` not in `allowed` (typos would be silent). */
static int check_keys(loader *ld, const config_setting_t *group, const char *what,
                      const char *const *allowed)
{
    if (!config_setting_is_group(group)) {
        fail_setting(ld, group, "%s must be a group { ... }", what);
        return -1;
    }
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        int ok = 0;
        for (int k = 0; allowed[k] && !ok; k++)
            ok = allowed[k][0] == name[0] && strcmp(allowed[k], name) == 0;
        if (!ok) {
            char list[256] = "";
            for (int k = 0; allowed[k]; k++) {
                strncat(list, k ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, allowed[k], sizeof list - strlen(list) - 1);
            }
            fail_setting(ld, s, "unknown setting '%s' in %s (expected one of: %s)", name,
                         what, list);
            return -1;
        }
    }
    return 0;
}

/* Reads a number member. Returns 1 if present, 0 if absent, -1 on error. */
static int get_number(loader *ld, const config_setting_t *group, const char *key,
                      double *out)
{
    config_setting_t *s = member(group, key);
    if (!s)
        return 0;
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64 && type != CONFIG_TYPE_FLOAT) {
        fail_setting(ld, s, "'%s' must be a number", key);
        return -1;
    }
    double v = type == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                         : (double)config_setting_get_int64(s);
    if (!isfinite(v)) {
        fail_setting(ld, s, "'%s' must be a finite number", key);
        return -1;
    }
    *out = v;
    return 1;
}

/* A number, or a string holding an initial-value expression (bound later,
 * once every id is known). 1 number, 2 expression, 0 absent, -1 error. */
static int get_value(loader *ld, const config_setting_t *group, const char *key, double *out,
                     int *is_expression)
{
    config_setting_t *s = member(group, key);
    *is_expression = 0;
    int type = s ? config_setting_type(s) : CONFIG_TYPE_NONE;
    if (type == CONFIG_TYPE_STRING) {
        *is_expression = 1;
        *out = 0.0;
        return 2;
    }
    if (s && type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64 && type != CONFIG_TYPE_FLOAT) {
        fail_setting(ld, s, "'%s' must be a number or an expression in quotes, e.g. \"2 * K\"",
                     key);
        return -1;
    }
    return get_number(ld, group, key, out);
}

static int defer_init(loader *ld, const config_setting_t *group, const char *key, int slot)
{
    if (sg_grow(&ld->pending, &ld->pending_cap, ld->npending + 1, sizeof *ld->pending) != 0) {
        fail_nomem(ld);
        return -1;
    }
    ld->pending[ld->npending++] = (pending_init){group, key, slot};
    return 0;
}

static int get_long(loader *ld, const config_setting_t *group, const char *key, long min,
                    long max, long *out)
{
    config_setting_t *s = member(group, key);
    if (!s)
        return 0;
    int type = config_setting_type(s);
    double d = 0;
    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
        d = (double)config_setting_get_int64(s);
    else if (type == CONFIG_TYPE_FLOAT && floor(config_setting_get_float(s)) ==
                                              config_setting_get_float(s))
        d = config_setting_get_float(s);
    else {
        fail_setting(ld, s, "'%s' must be a whole number", key);
        return -1;
    }
    if (d < (double)min || d > (double)max) {
        fail_setting(ld, s, "'%s' must be between %ld and %ld", key, min, max);
        return -1;
    }
    *out = (long)d;
    return 1;
}

/* Reads a string member (copied into the arena). 1 present, 0 absent, -1 error. */
static int get_string(loader *ld, const config_setting_t *group, const char *key,
                      const char **out)
{
    config_setting_t *s = member(group, key);
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        fail_setting(ld, s, "'%s' must be a string in double quotes", key);
        return -1;
    }
    *out = sg_arena_strdup(ld->m->arena, config_setting_get_string(s));
    if (!*out) {
        fail_nomem(ld);
        return -1;
    }
    return 1;
}

/* An element's `name` and `description` (text for people, "" if absent:
 * SBML names and notes travel in them). 0 or -1. */
static int get_labels(loader *ld, const config_setting_t *group, const char **name,
                      const char **description)
{
    *name = *description = "";
    return get_string(ld, group, "name", name) < 0 ||
                   get_string(ld, group, "description", description) < 0
               ? -1
               : 0;
}

static int get_bool(loader *ld, const config_setting_t *group, const char *key, int *out)
{
    config_setting_t *s = member(group, key);
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        fail_setting(ld, s, "'%s' must be true or false", key);
        return -1;
    }
    *out = config_setting_get_bool(s);
    return 1;
}

/* Reads the required `id` member of a definition. */
static int get_id(loader *ld, const config_setting_t *group, const char *what,
                  const char **out)
{
    int r = get_string(ld, group, "id", out);
    if (r == 0) {
        fail_setting(ld, group, "%s without an 'id'", what);
        return -1;
    }
    if (r < 0)
        return -1;
    if (!valid_id(*out)) {
        fail_setting(ld, member(group, "id"),
                     "'%s' is not a valid identifier (letters, digits and '_', not "
                     "starting with a digit, at most %d characters)",
                     *out, SG_MAX_ID_LENGTH);
        return -1;
    }
    return 0;
}

/* A list of groups: `( {...}, {...} )`. NULL if absent. */
static int get_list(loader *ld, const config_setting_t *root, const char *key,
                    config_setting_t **out)
{
    *out = member(root, key);
    if (!*out && ld->side_root) /* a large model's list read apart (sg_cfg_read) */
        *out = member(ld->side_root, key);
    if (!*out)
        return 0;
    if (!config_setting_is_list(*out) &&
        !(config_setting_is_array(*out) && config_setting_length(*out) == 0)) {
        fail_setting(ld, *out, "'%s' must be a list of groups: ( { ... }, { ... } )", key);
        return -1;
    }
    int n = config_setting_length(*out);
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(*out, (unsigned)i);
        if (!config_setting_is_group(e)) {
            fail_setting(ld, e, "each element of '%s' must be a group { ... }", key);
            return -1;
        }
    }
    return n;
}

/* Lets go of the current piece; kept when an initial value in it waits
 * for bind_inits. */
static void release_piece(loader *ld, list_src *src)
{
    if (!src->piece)
        return;
    if (ld->npending > src->pending_mark &&
        sg_grow(&ld->kept, &ld->kept_cap, ld->nkept + 1, sizeof *ld->kept) == 0)
        ld->kept[ld->nkept++] = src->piece;
    else if (ld->npending > src->pending_mark)
        ld->piece_failed = 1; /* no memory to keep it: load whole */
    else
        sg_cfg_pieces_done(ld->pieces, src->piece);
    src->piece = NULL;
    src->list = NULL;
}

/* Element i of the list if it is in memory (the whole list, or the piece
 * read last), else NULL. */
static config_setting_t *at_hand(const list_src *src, int i)
{
    if (!src->pieced)
        return i < src->count ? config_setting_get_elem(src->whole, (unsigned)i) : NULL;
    if (src->list && i >= src->base && i < src->base + src->len)
        return config_setting_get_elem(src->list, (unsigned)(i - src->base));
    return NULL;
}

/* Element i of the list; in pieces, i goes up by one from 0 on each walk.
 * NULL when a piece was refused (ld->piece_failed; the file is then
 * loaded whole, which says why). */
static config_setting_t *elem(loader *ld, list_src *src, int i)
{
    if (!src->pieced)
        return at_hand(src, i);
    while (i >= src->base + src->len) {
        if (ld->piece_failed)
            return NULL;
        src->base += src->len;
        release_piece(ld, src);
        src->piece = sg_cfg_pieces_next(ld->pieces);
        if (!src->piece) {
            ld->piece_failed = 1;
            return NULL;
        }
        src->pending_mark = ld->npending;
        src->list = config_setting_get_elem(config_root_setting(src->piece), 0);
        src->len = config_setting_length(src->list);
        for (int k = 0; k < src->len; k++)
            if (!config_setting_is_group(config_setting_get_elem(src->list, (unsigned)k))) {
                ld->piece_failed = 1;
                return NULL;
            }
    }
    return at_hand(src, i);
}

/* Prefetches the bucket of element i's id in map, if element i is at
 * hand (in the current piece): its insert comes one element later, and
 * each insert into a large map is a cache miss (sg_map_prefetch). */
static void prefetch_id(const list_src *src, int i, const sg_map *map)
{
    config_setting_t *g = at_hand(src, i);
    config_setting_t *id = g ? member(g, "id") : NULL;
    if (id && config_setting_type(id) == CONFIG_TYPE_STRING)
        sg_map_prefetch(map, config_setting_get_string(id));
}

/* A walk of the list ends (the next walk starts again at 0). */
static void walk_done(loader *ld, list_src *src)
{
    if (src->pieced) {
        release_piece(ld, src);
        src->base = src->len = 0;
    }
}

/* get_list, or the list in pieces when ld->pieced names it. */
static int get_list_src(loader *ld, const config_setting_t *root, const char *key,
                        list_src *src)
{
    memset(src, 0, sizeof *src);
    for (int i = 0; ld->top && i < ld->top->count; i++) {
        const sg_cfg_setting *s = ld->pieced[i];
        if (s && s->name_len == strlen(key) && memcmp(s->name, key, s->name_len) == 0) {
            src->pieced = 1;
            src->count = s->elements;
            src->setting = s;
            return src->count;
        }
    }
    int n = get_list(ld, root, key, &src->whole);
    src->count = n > 0 ? n : 0;
    return n;
}

/* -------------------------------------------------------------- symbols */

static int declare(loader *ld, const config_setting_t *group, const char *id, int slot)
{
    if (strcmp(id, "time") == 0) {
        fail_setting(ld, member(group, "id"),
                     "'time' is reserved (the model time)");
        return -1;
    }
    int r = sg_map_put(&ld->m->symbols, id, slot);
    if (r < 0) {
        fail_nomem(ld);
        return -1;
    }
    if (r == 1) {
        int other = sg_map_get(&ld->m->symbols, id);
        fail_setting(ld, member(group, "id"),
                     "duplicate id '%s' (already defined as a %s)", id,
                     ld->m->slot_kind[other] == SG_SYM_SPECIES       ? "species"
                     : ld->m->slot_kind[other] == SG_SYM_COMPARTMENT ? "compartment"
                     : ld->m->slot_kind[other] == SG_SYM_PARAMETER   ? "parameter"
                                                                     : "assignment");
        return -1;
    }
    /* `sbml_id`: the element's id in SBML when sigode cannot use it (an SBML
     * parameter named 'time'); output columns and export use it */
    const char *sbml = NULL;
    int has = get_string(ld, group, "sbml_id", &sbml);
    if (has < 0)
        return -1;
    if (has && !valid_id(sbml)) {
        fail_setting(ld, member(group, "sbml_id"),
                     "'%s' is not a valid SBML id (letters, digits and '_', not starting "
                     "with a digit)", sbml);
        return -1;
    }
    if (has)
        ld->m->slot_sbml_id[slot] = sbml;
    return 0;
}

/* Every `sbml_id` names one element: it is no other element's id nor
 * another's sbml_id (export writes it as the SBML id). */
static int check_sbml_ids(loader *ld)
{
    const sg_model *m = ld->m;
    for (int i = 0; i < m->nslots; i++) {
        const char *id = m->slot_sbml_id[i];
        if (!id)
            continue;
        int other = sg_map_get(&m->symbols, id);
        for (int j = 0; j < i && other < 0; j++)
            if (m->slot_sbml_id[j] && strcmp(m->slot_sbml_id[j], id) == 0)
                other = j;
        if (other >= 0 && other != i) {
            fail_setting(ld, NULL, "'%s': sbml_id '%s' is also the id of '%s'", m->slot_name[i],
                         id, m->slot_name[other]);
            return -1;
        }
    }
    return 0;
}

static const char *kind_name(sg_symbol_kind k)
{
    switch (k) {
    case SG_SYM_SPECIES: return "species";
    case SG_SYM_COMPARTMENT: return "compartment";
    case SG_SYM_PARAMETER: return "parameter";
    case SG_SYM_ASSIGNMENT: return "assignment";
    case SG_SYM_TIME: return "time";
    default: return "unknown";
    }
}

/* Appends the closest known id to msg: species only, or any symbol. */
static void suggest_symbol(const sg_model *m, const char *name, int species_only, char *msg,
                           size_t size)
{
    sg_suggest s;
    sg_suggest_init(&s, name);
    for (int i = 0; i < m->nspecies; i++)
        sg_suggest_consider(&s, m->species[i].id);
    for (int i = 0; !species_only && i < m->nparameters; i++)
        sg_suggest_consider(&s, m->parameters[i].id);
    for (int i = 0; !species_only && i < m->ncompartments; i++)
        sg_suggest_consider(&s, m->compartments[i].id);
    for (int i = 0; !species_only && i < m->nassignments; i++)
        sg_suggest_consider(&s, m->assignments[i].id);
    sg_suggest_append(&s, msg, size);
}

/* Resolver for rate laws and assignments: any model symbol or `time`. */
static int resolve_model(void *ctx, const char *name, int in_traj, char *msg, size_t size)
{
    (void)in_traj;
    sg_model *m = ctx;
    if (strcmp(name, "time") == 0)
        return m->time_slot;
    int slot = sg_map_get(&m->symbols, name);
    if (slot < 0) {
        snprintf(msg, size, "unknown name '%s'", name);
        suggest_symbol(m, name, 0, msg, size);
    }
    return slot;
}

/* Resolver for checks: names only inside trajectory functions. */
static int resolve_check(void *ctx, const char *name, int in_traj, char *msg, size_t size)
{
    if (!in_traj) {
        snprintf(msg, size,
                 "'%s' must be inside a trajectory function such as final(%s) or at(%s, t)",
                 name, name, name);
        return -1;
    }
    return resolve_model(ctx, name, in_traj, msg, size);
}

/* Prefetches the symbol-table buckets of the names in a parse tree before
 * binding looks them up one after another (sg_map_prefetch). */
static void prefetch_names(const sg_map *symbols, const sg_expr *e, int depth)
{
    if (!e || depth > 32)
        return;
    if (e->kind == EX_NAME && e->name)
        sg_map_prefetch(symbols, e->name);
    for (int i = 0; i < e->nargs; i++)
        prefetch_names(symbols, e->arg[i], depth + 1);
    if (e->kind == EX_USER)
        for (int i = 0; i < e->nuargs; i++)
            prefetch_names(symbols, e->uargs[i], depth + 1);
}

/* Parses and binds an expression string member; reports errors at the
 * column of the offending token. */
static sg_expr *expression(loader *ld, const config_setting_t *group, const char *key,
                           const char *text, int allow_traj, sg_resolve_fn resolve,
                           int *line_out, int *col_out)
{
    config_setting_t *s = member(group, key);
    int line, col;
    string_start(ld, (int)config_setting_source_line(s), key, &line, &col);
    *line_out = line;
    *col_out = col;
    sg_parse_error perr = {0};
    if (!ld->scratch && !(ld->scratch = sg_arena_create())) {
        fail_nomem(ld);
        return NULL;
    }
    sg_arena *scratch = ld->scratch;
    sg_expr *tree = sg_expr_parse_user(scratch, text, allow_traj, &ld->m->user, &perr);
    sg_expr *bound = NULL;
    if (tree) {
        prefetch_names(&ld->m->symbols, tree, 0);
        bound = sg_expr_bind_user(ld->m->pool, tree, resolve, ld->m, &ld->m->user, &perr);
    }
    sg_arena_reset(scratch);
    if (!bound) {
        if (strcmp(perr.message, "out of memory") == 0)
            fail_nomem(ld);
        else
            fail_at(ld, line, col > 0 ? col + perr.pos : 0, "in %s: %s", key, perr.message);
    }
    return bound;
}

/* ------------------------------------------------------------- sections */

/* the header's four strings and runs_from_zero, then the lists
 * (FIRST_LIST_KEY on) */
enum { FIRST_LIST_KEY = 5 };
static const char *const top_keys[] = {"name", "description", "time_unit", "conc_unit",
                                       "runs_from_zero",
                                       "compartments", "parameters", "species",
                                       "assignments", "reactions", "scenarios", "checks",
                                       "functions", "rate_rules", "events", NULL};

static int load_header(loader *ld, const config_setting_t *root)
{
    sg_model *m = ld->m;
    if (check_keys(ld, root, "the model", top_keys))
        return -1;
    int r = get_string(ld, root, "name", &m->name);
    if (r < 0)
        return -1;
    if (r == 0) {
        fail_at(ld, 1, 1, "the model needs a 'name' (an identifier), e.g. name = \"my_model\";");
        return -1;
    }
    if (!valid_id(m->name)) {
        fail_setting(ld, member(root, "name"),
                     "name '%s' is not an identifier", m->name);
        return -1;
    }
    m->description = m->time_unit = m->conc_unit = "";
    if (get_string(ld, root, "description", &m->description) < 0 ||
        get_string(ld, root, "time_unit", &m->time_unit) < 0 ||
        get_string(ld, root, "conc_unit", &m->conc_unit) < 0 ||
        get_bool(ld, root, "runs_from_zero", &m->runs_from_zero) < 0)
        return -1;
    return 0;
}

/* Counts definitions and lays out the slots (see model.h). */
/* Is member `key` of group g the string `id`? (pre-pass, no errors) */
static const char *peek_id(const config_setting_t *g)
{
    const char *id = NULL;
    config_setting_t *s = member(g, "id");
    if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
        id = config_setting_get_string(s);
    return id ? id : "";
}

static int peek_constant(const config_setting_t *g)
{
    config_setting_t *s = member(g, "constant");
    return s && config_setting_type(s) == CONFIG_TYPE_BOOL && config_setting_get_bool(s);
}

/* Does layout() walk the species before load_species? Not for a list in
 * pieces without the word `constant`: every species is then a state, and
 * the pieces are read once. */
static int species_walked_twice(const loader *ld, const list_src *species)
{
    if (!species->pieced)
        return 1;
    const sg_cfg_setting *s = species->setting;
    return memmem(ld->text + s->start, s->end - s->start, "constant", 8) != NULL;
}

/* Does layout() walk the parameters? Only if some id has a rate rule. */
static int parameters_walked_twice(const loader *ld)
{
    return ld->rate_targets.count > 0;
}

/* Has a large array's pages mapped in (sg_cfg_pieces_prefault); a small
 * one's come with its allocation. */
static void prefault(loader *ld, void *ptr, size_t size)
{
    if (ptr && size >= ((size_t)2 << 20))
        sg_cfg_pieces_prefault(ld->pieces, ptr, size);
}

static int layout(loader *ld, config_setting_t *comps, list_src *params, list_src *species,
                  config_setting_t *assigns, list_src *reactions, config_setting_t *rate_rules)
{
    sg_model *m = ld->m;
    m->ncompartments = comps ? config_setting_length(comps) : 0;
    m->nparameters = params->count;
    m->nspecies = species->count;
    m->nassignments = assigns ? config_setting_length(assigns) : 0;
    m->nreactions = reactions->count;
    m->nrate_rules = rate_rules ? config_setting_length(rate_rules) : 0;
    m->nfluxes = m->nreactions + m->nrate_rules;
    /* states: non-constant species and species with rate rules, then
     * parameters with rate rules */
    int species_states = 0, param_states = 0;
    if (species_walked_twice(ld, species)) {
        for (int i = 0; i < m->nspecies; i++) {
            config_setting_t *g = elem(ld, species, i);
            if (!g)
                return -1;
            species_states += !peek_constant(g) || sg_map_get(&ld->rate_targets, peek_id(g)) >= 0;
        }
        walk_done(ld, species);
    } else {
        species_states = m->nspecies;
    }
    if (parameters_walked_twice(ld)) {
        for (int i = 0; i < m->nparameters; i++) {
            config_setting_t *g = elem(ld, params, i);
            if (!g)
                return -1;
            param_states += sg_map_get(&ld->rate_targets, peek_id(g)) >= 0;
        }
        walk_done(ld, params);
    }
    m->nstate = species_states + param_states;
    ld->species_states = species_states;
    long total = (long)m->ncompartments + m->nparameters + m->nspecies + m->nassignments +
                 m->nreactions + 2;
    if (total > SG_MAX_SYMBOLS) {
        fail_at(ld, 1, 0, "the model defines %ld ids; the limit is %d", total, SG_MAX_SYMBOLS);
        ld->err->status = SG_ERR_LIMIT;
        return -1;
    }
    int implicit = m->ncompartments == 0;
    if (implicit)
        m->ncompartments = 1;
    m->nslots = m->nspecies + param_states + m->ncompartments + m->nparameters + 1 +
                m->nassignments + m->nfluxes;
    /* the large arrays' pages are mapped in by the reading thread, if
     * there is one, while this one loads (prefault); the sbml ids are
     * mostly never written, and a page only read costs nothing */
    m->species = sg_arena_alloc_later(m->arena, sizeof *m->species * (size_t)(m->nspecies + 1));
    m->compartments = sg_arena_alloc(m->arena, sizeof *m->compartments * (size_t)m->ncompartments);
    m->parameters =
        sg_arena_alloc_later(m->arena, sizeof *m->parameters * (size_t)(m->nparameters + 1));
    m->assignments = sg_arena_alloc(m->arena, sizeof *m->assignments * (size_t)(m->nassignments + 1));
    m->assignment_order = sg_arena_alloc(m->arena, sizeof(int) * (size_t)(m->nassignments + 1));
    m->reactions =
        sg_arena_alloc_later(m->arena, sizeof *m->reactions * (size_t)(m->nreactions + 1));
    m->rate_rules = sg_arena_alloc(m->arena, sizeof *m->rate_rules * (size_t)(m->nrate_rules + 1));
    m->initial_values = sg_calloc_later((size_t)m->nslots, sizeof(double));
    m->slot_kind = sg_calloc_later((size_t)m->nslots, sizeof *m->slot_kind);
    m->slot_name = sg_calloc_later((size_t)m->nslots, sizeof *m->slot_name);
    m->slot_index = sg_calloc_later((size_t)m->nslots, sizeof *m->slot_index);
    m->slot_sbml_id =
        sg_arena_alloc_later(m->arena, sizeof *m->slot_sbml_id * ((size_t)m->nslots + 1));
    if (!m->species || !m->compartments || !m->parameters || !m->assignments ||
        !m->assignment_order || !m->reactions || !m->rate_rules || !m->initial_values || !m->slot_kind ||
        !m->slot_name || !m->slot_index || !m->slot_sbml_id ||
        sg_map_reserve(&m->symbols, (size_t)m->ncompartments + (size_t)m->nparameters +
                                        (size_t)m->nspecies + (size_t)m->nassignments) != 0) {
        fail_nomem(ld);
        return -1;
    }
    size_t slots = (size_t)m->nslots;
    prefault(ld, m->parameters, sizeof *m->parameters * (size_t)m->nparameters);
    prefault(ld, m->slot_kind, sizeof *m->slot_kind * slots);
    prefault(ld, m->slot_name, sizeof *m->slot_name * slots);
    prefault(ld, m->slot_index, sizeof *m->slot_index * slots);
    prefault(ld, m->initial_values, sizeof *m->initial_values * slots);
    prefault(ld, m->species, sizeof *m->species * (size_t)m->nspecies);
    prefault(ld, m->reactions, sizeof *m->reactions * (size_t)m->nreactions);
    if (implicit) {
        m->compartments[0].id = "default";
        m->compartments[0].size = 1.0;
        m->compartments[0].unit = m->compartments[0].name = "";
        m->compartments[0].description = "";
    }
    return 0;
}

static void define_slot(sg_model *m, int slot, sg_symbol_kind kind, const char *id,
                        int index, double value)
{
    m->slot_kind[slot] = kind;
    m->slot_name[slot] = id;
    m->slot_index[slot] = index;
    m->initial_values[slot] = value;
}

static const char *const compartment_keys[] = {"id", "name", "size", "unit", "description",
                                               "uncertainty", "uncertainty_source", "sbml_id",
                                               NULL};

/* `uncertainty = "lognormal(median, gsd)"` (and `uncertainty_source`) on a
 * compartment, parameter or species; the nominal value must be inside the
 * support. 0 absent or loaded, -1 error. */
static int load_uncertainty(loader *ld, const config_setting_t *g, const char *id,
                            sg_symbol_kind kind, int slot, double nominal, int is_expr)
{
    sg_model *m = ld->m;
    const char *text = NULL, *source = "";
    int r = get_string(ld, g, "uncertainty", &text);
    if (r < 0 || get_string(ld, g, "uncertainty_source", &source) < 0)
        return -1;
    if (r == 0)
        return 0;
    int line, col, pos = 0;
    string_start(ld, (int)config_setting_source_line(member(g, "uncertainty")),
                 "uncertainty", &line, &col);
    sg_distribution d;
    sg_error derr;
    const char *why = NULL;
    if (sg_distribution_parse(text, &d, &pos, &derr) != SG_OK)
        why = derr.message;
    else if (is_expr)
        why = "a quantity with an uncertainty needs a number as its value, not an expression";
    else if (!sg_distribution_contains(&d, nominal))
        why = "the distribution's support excludes the nominal value";
    else if ((kind == SG_SYM_COMPARTMENT && sg_distribution_quantile(&d, 1e-12) <= 0) ||
             (kind == SG_SYM_SPECIES && sg_distribution_quantile(&d, 1e-12) < 0))
        why = kind == SG_SYM_COMPARTMENT ? "a compartment size must stay positive"
                                         : "an initial value must stay non-negative";
    if (why) {
        fail_at(ld, line, col > 0 ? col + pos : 0, "'%s' (value %g): uncertainty \"%s\": %s", id,
                nominal, text, why);
        return -1;
    }
    if (!m->uncertain &&
        !(m->uncertain = sg_arena_alloc(m->arena, sizeof *m->uncertain *
                                                      (size_t)(m->ncompartments + m->nparameters +
                                                               m->nspecies + 1)))) {
        fail_nomem(ld);
        return -1;
    }
    m->uncertain[m->nuncertain++] =
        (sg_uncertain_def){id, kind, slot, nominal, d, source, (int)config_setting_source_line(g)};
    return 0;
}

static int load_compartments(loader *ld, config_setting_t *list, int first_slot)
{
    sg_model *m = ld->m;
    int n = list ? config_setting_length(list) : 0;
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        sg_compartment_def *c = &m->compartments[i];
        c->line = (int)config_setting_source_line(g);
        c->size = 1.0;
        int is_expr = 0;
        if (check_keys(ld, g, "a compartment", compartment_keys) ||
            get_id(ld, g, "compartment", &c->id) ||
            get_value(ld, g, "size", &c->size, &is_expr) < 0 ||
            get_labels(ld, g, &c->name, &c->description))
            return -1;
        c->unit = "";
        if (get_string(ld, g, "unit", &c->unit) < 0)
            return -1;
        if (is_expr)
            c->size = 1.0; /* until the expression is evaluated */
        if (sg_map_get(&ld->rate_targets, c->id) >= 0) {
            fail_setting(ld, member(g, "id"),
                         "compartment '%s' has a rate rule: compartments of changing size are "
                         "not supported",
                         c->id);
            return -1;
        }
        if (c->size <= 0) {
            fail_setting(ld, member(g, "size"),
                         "compartment '%s' must have a positive size (got %g)", c->id, c->size);
            return -1;
        }
        c->slot = first_slot + i;
        define_slot(m, c->slot, SG_SYM_COMPARTMENT, c->id, i, c->size);
        if (declare(ld, g, c->id, c->slot) || (is_expr && defer_init(ld, g, "size", c->slot)) ||
            load_uncertainty(ld, g, c->id, SG_SYM_COMPARTMENT, c->slot, c->size, is_expr))
            return -1;
    }
    if (n == 0) { /* the implicit compartment: a slot, but no name to refer to */
        m->compartments[0].slot = first_slot;
        define_slot(m, first_slot, SG_SYM_COMPARTMENT, "default", 0, 1.0);
    }
    return 0;
}

static const char *const parameter_keys[] = {"id", "name", "value", "unit", "source",
                                             "description", "mechanism", "estimate",
                                             "bounds", "scale", "uncertainty",
                                             "uncertainty_source", "sbml_id", NULL};

/* `estimate = true; bounds = [lo, hi]; scale = "log10";`: what sigode fit
 * --data estimates, within which bounds, on which scale. */
static int get_estimation(loader *ld, config_setting_t *g, sg_parameter_def *p, int is_expr)
{
    config_setting_t *est = member(g, "estimate");
    config_setting_t *bounds = member(g, "bounds");
    config_setting_t *scale = member(g, "scale");
    p->lower = -INFINITY;
    p->upper = INFINITY;
    if (est) {
        if (config_setting_type(est) != CONFIG_TYPE_BOOL) {
            fail_setting(ld, est, "'estimate' must be true or false");
            return -1;
        }
        p->estimate = config_setting_get_bool(est);
    }
    if (!p->estimate) {
        if (bounds || scale) {
            fail_setting(ld, bounds ? bounds : scale,
                         "'%s' is for an estimated parameter: add 'estimate = true;' to '%s'",
                         bounds ? "bounds" : "scale", p->id);
            return -1;
        }
        return 0;
    }
    if (is_expr) {
        fail_setting(ld, est, "parameter '%s' is estimated: its value must be a number, not an "
                              "expression", p->id);
        return -1;
    }
    if (!bounds) {
        fail_setting(ld, est, "parameter '%s' is estimated: it needs 'bounds = [lower, upper];'",
                     p->id);
        return -1;
    }
    int type = config_setting_type(bounds);
    if ((type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) ||
        config_setting_length(bounds) != 2) {
        fail_setting(ld, bounds, "'bounds' must be [lower, upper]");
        return -1;
    }
    double b[2];
    for (int k = 0; k < 2; k++) {
        config_setting_t *e = config_setting_get_elem(bounds, (unsigned)k);
        int t = config_setting_type(e);
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64 && t != CONFIG_TYPE_FLOAT) {
            fail_setting(ld, bounds, "'bounds' must be two numbers");
            return -1;
        }
        b[k] = config_setting_get_float(e);
        if (t != CONFIG_TYPE_FLOAT)
            b[k] = (double)config_setting_get_int64(e);
        if (!isfinite(b[k])) {
            fail_setting(ld, bounds, "'bounds' must be finite");
            return -1;
        }
    }
    if (!(b[0] < b[1])) {
        fail_setting(ld, bounds, "'bounds' [%g, %g]: the lower bound must be below the upper",
                     b[0], b[1]);
        return -1;
    }
    if (p->value < b[0] || p->value > b[1]) {
        fail_setting(ld, bounds, "the bounds [%g, %g] of '%s' exclude its value %g", b[0], b[1],
                     p->id, p->value);
        return -1;
    }
    p->lower = b[0];
    p->upper = b[1];
    if (scale) {
        const char *sc = config_setting_type(scale) == CONFIG_TYPE_STRING
                             ? config_setting_get_string(scale) : NULL;
        p->scale = !sc ? -1 : !strcmp(sc, "lin") ? 0 : !strcmp(sc, "log") ? 1
                                                  : !strcmp(sc, "log10") ? 2 : -1;
        if (p->scale < 0) {
            fail_setting(ld, scale, "'scale' must be \"lin\", \"log\" or \"log10\"");
            return -1;
        }
        if (p->scale > 0 && !(b[0] > 0)) {
            fail_setting(ld, bounds, "'%s' is estimated on a %s scale: its bounds must be "
                                     "positive (got %g)",
                         p->id, sc, b[0]);
            return -1;
        }
    }
    return 0;
}

static int load_parameters(loader *ld, list_src *list, int first_slot, int first_state)
{
    sg_model *m = ld->m;
    int next_state = first_state;
    for (int i = 0; i < m->nparameters; i++) {
        config_setting_t *g = elem(ld, list, i);
        if (!g)
            return -1;
        prefetch_id(list, i + 1, &m->symbols);
        sg_parameter_def *p = &m->parameters[i];
        p->line = (int)config_setting_source_line(g);
        p->unit = p->source = "";
        if (check_keys(ld, g, "a parameter", parameter_keys) ||
            get_id(ld, g, "parameter", &p->id))
            return -1;
        int is_expr = 0;
        int r = get_value(ld, g, "value", &p->value, &is_expr);
        if (r < 0)
            return -1;
        if (r == 0) {
            fail_setting(ld, g, "parameter '%s' needs a 'value'", p->id);
            return -1;
        }
        if (get_string(ld, g, "unit", &p->unit) < 0 ||
            get_string(ld, g, "source", &p->source) < 0 ||
            get_labels(ld, g, &p->name, &p->description) ||
            get_string(ld, g, "mechanism", &p->mechanism) < 0 ||
            get_estimation(ld, g, p, is_expr) < 0)
            return -1;
        p->slot = sg_map_get(&ld->rate_targets, p->id) >= 0 ? next_state++ : first_slot + i;
        define_slot(m, p->slot, SG_SYM_PARAMETER, p->id, i, p->value);
        if (declare(ld, g, p->id, p->slot) || (is_expr && defer_init(ld, g, "value", p->slot)) ||
            load_uncertainty(ld, g, p->id, SG_SYM_PARAMETER, p->slot, p->value, is_expr))
            return -1;
    }
    walk_done(ld, list);
    return 0;
}

static const char *const species_keys[] = {"id", "name", "initial", "compartment", "constant",
                                           "unit", "description", "uncertainty",
                                           "uncertainty_source", "sbml_id", NULL};

static int load_species(loader *ld, list_src *list, int implicit_compartment)
{
    sg_model *m = ld->m;
    /* states first (layout() counted them), then constant species */
    int next_state = 0, next_const = m->nstate;
    for (int i = 0; i < m->nspecies; i++) {
        config_setting_t *g = elem(ld, list, i);
        if (!g)
            return -1;
        prefetch_id(list, i + 1, &m->symbols);
        sg_species_def *s = &m->species[i];
        s->line = (int)config_setting_source_line(g);
        if (check_keys(ld, g, "a species", species_keys) || get_id(ld, g, "species", &s->id))
            return -1;
        int is_expr = 0;
        s->unit = "";
        if (get_value(ld, g, "initial", &s->initial, &is_expr) < 0 ||
            get_bool(ld, g, "constant", &s->constant) < 0 ||
            get_string(ld, g, "unit", &s->unit) < 0 ||
            get_labels(ld, g, &s->name, &s->description))
            return -1;
        if (s->initial < 0) {
            fail_setting(ld, member(g, "initial"),
                         "species '%s' has a negative initial value (%g)", s->id, s->initial);
            return -1;
        }
        const char *comp = NULL;
        if (get_string(ld, g, "compartment", &comp) < 0)
            return -1;
        if (comp) {
            int slot = sg_map_get(&m->symbols, comp);
            if (slot < 0 || m->slot_kind[slot] != SG_SYM_COMPARTMENT) {
                fail_setting(ld, member(g, "compartment"),
                             "species '%s': '%s' is not a compartment", s->id, comp);
                return -1;
            }
            s->compartment = m->slot_index[slot];
        } else if (!implicit_compartment && m->ncompartments > 1) {
            fail_setting(ld, g, "species '%s' needs a 'compartment' (the model has %d)",
                         s->id, m->ncompartments);
            return -1;
        } else {
            s->compartment = 0;
        }
        int state = !s->constant || sg_map_get(&ld->rate_targets, s->id) >= 0;
        s->slot = state ? next_state++ : next_const++;
        define_slot(m, s->slot, SG_SYM_SPECIES, s->id, i, s->initial);
        if (declare(ld, g, s->id, s->slot) ||
            (is_expr && defer_init(ld, g, "initial", s->slot)) ||
            load_uncertainty(ld, g, s->id, SG_SYM_SPECIES, s->slot, s->initial, is_expr))
            return -1;
    }
    walk_done(ld, list);
    return 0;
}

static const char *const assignment_keys[] = {"id", "name", "value", "unit", "description",
                                              "sbml_id", NULL};

static int load_assignment_ids(loader *ld, config_setting_t *list, int first_slot)
{
    sg_model *m = ld->m;
    for (int i = 0; i < m->nassignments; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        sg_assignment_def *a = &m->assignments[i];
        a->line = (int)config_setting_source_line(g);
        if (check_keys(ld, g, "an assignment", assignment_keys) ||
            get_id(ld, g, "assignment", &a->id))
            return -1;
        a->unit = "";
        int r = get_string(ld, g, "value", &a->text);
        if (r < 0 || get_string(ld, g, "unit", &a->unit) < 0 ||
            get_labels(ld, g, &a->name, &a->description))
            return -1;
        if (r == 0) {
            fail_setting(ld, g, "assignment '%s' needs a 'value' expression in quotes", a->id);
            return -1;
        }
        a->slot = first_slot + i;
        define_slot(m, a->slot, SG_SYM_ASSIGNMENT, a->id, i, 0.0);
        if (declare(ld, g, a->id, a->slot))
            return -1;
    }
    return 0;
}

static int bind_assignments(loader *ld, config_setting_t *list)
{
    sg_model *m = ld->m;
    for (int i = 0; i < m->nassignments; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        sg_assignment_def *a = &m->assignments[i];
        a->value = expression(ld, g, "value", a->text, 0, resolve_model, &a->line, &a->col);
        if (!a->value)
            return -1;
    }
    return 0;
}

/* Depth-first topological order of assignments; a cycle is an error that
 * names its members. state: 0 new, 1 on the stack, 2 done. */
static int order_visit(loader *ld, int i, unsigned char *state, int *stack, int depth,
                       int *out, int *nout, unsigned char *seen, int **refs, size_t *cap)
{
    sg_model *m = ld->m;
    if (state[i] == 2)
        return 0;
    stack[depth] = i;
    if (state[i] == 1) {
        char path[512] = "";
        int start = depth - 1;
        while (start > 0 && stack[start] != i)
            start--;
        for (int k = start; k <= depth; k++) {
            strncat(path, m->assignments[stack[k]].id, sizeof path - strlen(path) - 1);
            if (k < depth)
                strncat(path, " -> ", sizeof path - strlen(path) - 1);
        }
        sg_assignment_def *a = &m->assignments[i];
        fail_at(ld, a->line, a->col, "assignments form a cycle: %s", path);
        return -1;
    }
    state[i] = 1;
    size_t count = 0;
    int *slots = NULL;
    size_t slots_cap = 0;
    (void)refs;
    (void)cap;
    if (sg_expr_slots(m->assignments[i].value, seen, &slots, &count, &slots_cap) != 0) {
        sg_free(slots);
        fail_nomem(ld);
        return -1;
    }
    for (size_t k = 0; k < count; k++)
        seen[slots[k]] = 0;
    int rc = 0;
    for (size_t k = 0; k < count && rc == 0; k++)
        if (m->slot_kind[slots[k]] == SG_SYM_ASSIGNMENT)
            rc = order_visit(ld, m->slot_index[slots[k]], state, stack, depth + 1, out, nout,
                             seen, refs, cap);
    sg_free(slots);
    if (rc)
        return rc;
    state[i] = 2;
    out[(*nout)++] = i;
    return 0;
}

static int order_assignments(loader *ld)
{
    sg_model *m = ld->m;
    int n = m->nassignments, nout = 0, rc = 0;
    unsigned char *state = sg_calloc((size_t)n + 1, 1);
    int *stack = sg_calloc((size_t)n + 2, sizeof(int));
    unsigned char *seen = sg_calloc((size_t)m->nslots, 1);
    if (!state || !stack || !seen)
        rc = fail_nomem(ld) ? -1 : -1;
    for (int i = 0; i < n && rc == 0; i++)
        rc = order_visit(ld, i, state, stack, 0, m->assignment_order, &nout, seen, NULL, NULL);
    sg_free(state);
    sg_free(stack);
    sg_free(seen);
    return rc;
}

typedef struct equation_ctx {
    loader *ld;
} equation_ctx;

static int lookup_species(void *ctx, const char *name, char *msg, size_t size)
{
    sg_model *m = ((equation_ctx *)ctx)->ld->m;
    int slot = sg_map_get(&m->symbols, name);
    if (slot < 0) {
        snprintf(msg, size, "unknown species '%s'", name);
        suggest_symbol(m, name, 1, msg, size);
        return -1;
    }
    if (m->slot_kind[slot] != SG_SYM_SPECIES) {
        snprintf(msg, size, "'%s' is a %s, not a species", name, kind_name(m->slot_kind[slot]));
        return -1;
    }
    return m->slot_index[slot];
}

static const char *const reaction_keys[] = {"id", "name", "equation", "rate", "description",
                                            "mechanism", NULL};

static int load_reactions(loader *ld, list_src *list)
{
    sg_model *m = ld->m;
    sg_map ids;
    sg_map_init(&ids);
    int rc = -1;
    if (sg_map_reserve(&ids, (size_t)m->nreactions) != 0) {
        fail_nomem(ld);
        goto done;
    }
    for (int i = 0; i < m->nreactions; i++) {
        config_setting_t *g = elem(ld, list, i);
        if (!g)
            goto done;
        prefetch_id(list, i + 1, &ids);
        sg_reaction_def *r = &m->reactions[i];
        r->line = (int)config_setting_source_line(g);
        if (check_keys(ld, g, "a reaction", reaction_keys) || get_id(ld, g, "reaction", &r->id) ||
            get_string(ld, g, "mechanism", &r->mechanism) < 0 ||
            get_labels(ld, g, &r->name, &r->description))
            goto done;
        int put = sg_map_put(&ids, r->id, i);
        if (put < 0) {
            fail_nomem(ld);
            goto done;
        }
        if (put == 1) {
            fail_setting(ld, member(g, "id"), "duplicate reaction id '%s'",
                         r->id);
            goto done;
        }
        int got = get_string(ld, g, "equation", &r->equation);
        if (got == 0)
            fail_setting(ld, g, "reaction '%s' needs an 'equation', e.g. \"A + B -> C\"", r->id);
        if (got <= 0)
            goto done;
        got = get_string(ld, g, "rate", &r->rate_text);
        if (got == 0)
            fail_setting(ld, g, "reaction '%s' needs a 'rate' expression", r->id);
        if (got <= 0)
            goto done;
        equation_ctx ectx = {ld};
        int err_pos = 0;
        char msg[300];
        int eq = sg_equation_parse(m->arena, r->equation, lookup_species, &ectx,
                                   &r->reversible, &r->terms, &r->nterms, &err_pos, msg,
                                   sizeof msg);
        if (eq == -2) {
            fail_nomem(ld);
            goto done;
        }
        if (eq != 0) {
            int line, col;
            string_start(ld, (int)config_setting_source_line(
                                 member(g, "equation")),
                         "equation", &line, &col);
            fail_at(ld, line, col > 0 ? col + err_pos : 0, "in equation: %s", msg);
            goto done;
        }
        /* constant species are inputs: reactions never change them */
        int kept = 0;
        for (int k = 0; k < r->nterms; k++)
            if (!m->species[r->terms[k].species].constant)
                r->terms[kept++] = r->terms[k];
        r->nterms = kept;
        r->rate = expression(ld, g, "rate", r->rate_text, 0, resolve_model, &r->line, &r->col);
        if (!r->rate)
            goto done;
        r->slot = m->first_rate_slot + i;
        define_slot(m, r->slot, SG_SYM_NONE, r->id, i, 0.0);
    }
    walk_done(ld, list);
    rc = 0;
done:
    sg_map_clear(&ids);
    return rc;
}

/* ------------------------------------------------------------ scenarios */

/* A name a scenario may set: species, parameter or compartment. */
static int settable_slot(loader *ld, const config_setting_t *where, const char *name,
                         double value, int add)
{
    sg_model *m = ld->m;
    int slot = sg_map_get(&m->symbols, name);
    if (slot < 0) {
        fail_setting(ld, where, "cannot set '%s': no species, parameter or compartment has "
                                "that id", name);
        return -1;
    }
    sg_symbol_kind k = m->slot_kind[slot];
    if (k == SG_SYM_ASSIGNMENT) {
        fail_setting(ld, where, "cannot set '%s': it is an assignment, computed from others",
                     name);
        return -1;
    }
    if (!add && k == SG_SYM_SPECIES && value < 0) {
        fail_setting(ld, where, "species '%s' cannot be set to a negative value (%g)", name,
                     value);
        return -1;
    }
    if (!add && k == SG_SYM_COMPARTMENT && value <= 0) {
        fail_setting(ld, where, "compartment '%s' must have a positive size (got %g)", name,
                     value);
        return -1;
    }
    return slot;
}

/* set = { NAME = value; ... }  (or add = {...}) appended to *sets. */
static int load_sets(loader *ld, const config_setting_t *group, const char *key, int add,
                     sg_set_def **sets, int *nsets)
{
    config_setting_t *s = member(group, key);
    if (!s)
        return 0;
    if (!config_setting_is_group(s)) {
        fail_setting(ld, s, "'%s' must be a group: %s = { NAME = value; }", key, key);
        return -1;
    }
    int n = config_setting_length(s);
    sg_set_def *grown = sg_arena_alloc(ld->m->arena, sizeof *grown * (size_t)(*nsets + n + 1));
    if (!grown) {
        fail_nomem(ld);
        return -1;
    }
    if (*nsets)
        memcpy(grown, *sets, sizeof *grown * (size_t)*nsets);
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *name = config_setting_name(e);
        double v;
        int type = config_setting_type(e);
        if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64 && type != CONFIG_TYPE_FLOAT) {
            fail_setting(ld, e, "'%s' must be set to a number", name);
            return -1;
        }
        v = type == CONFIG_TYPE_FLOAT ? config_setting_get_float(e)
                                      : (double)config_setting_get_int64(e);
        if (!isfinite(v)) {
            fail_setting(ld, e, "'%s' must be set to a finite number", name);
            return -1;
        }
        int slot = settable_slot(ld, e, name, v, add);
        if (slot < 0)
            return -1;
        sg_set_def *d = &grown[(*nsets)++];
        d->name = ld->m->slot_name[slot];
        d->slot = slot;
        d->value = v;
        d->add = add;
    }
    *sets = grown;
    return 0;
}

static const char *const event_keys[] = {"at", "set", "add", "every", "count", NULL};

static int load_events(loader *ld, const config_setting_t *g, sg_scenario_def *sc)
{
    config_setting_t *list;
    int n = get_list(ld, g, "events", &list);
    if (n <= 0)
        return n;
    sc->events = sg_arena_alloc(ld->m->arena, sizeof *sc->events * (size_t)n);
    if (!sc->events) {
        fail_nomem(ld);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        sg_event_def *ev = &sc->events[i];
        ev->line = (int)config_setting_source_line(e);
        if (check_keys(ld, e, "an event", event_keys))
            return -1;
        int r = get_number(ld, e, "at", &ev->at);
        if (r < 0)
            return -1;
        if (r == 0) {
            fail_setting(ld, e, "event without a time: add 'at = T;'");
            return -1;
        }
        if (ev->at < sc->t_start || ev->at > sc->t_end) {
            fail_setting(ld, member(e, "at"),
                         "event at %g is outside the scenario's time span %g..%g", ev->at,
                         sc->t_start, sc->t_end);
            return -1;
        }
        if (get_number(ld, e, "every", &ev->every) < 0 ||
            get_long(ld, e, "count", 1, 1000000, &ev->count) < 0)
            return -1;
        if (member(e, "every") && ev->every <= 0) {
            fail_setting(ld, member(e, "every"),
                         "'every' must be a positive interval");
            return -1;
        }
        if (ev->count > 0 && ev->every <= 0) {
            fail_setting(ld, member(e, "count"),
                         "'count' needs 'every' (the interval between doses)");
            return -1;
        }
        if (load_sets(ld, e, "set", 0, &ev->sets, &ev->nsets) ||
            load_sets(ld, e, "add", 1, &ev->sets, &ev->nsets))
            return -1;
        if (ev->nsets == 0) {
            fail_setting(ld, e, "event at %g changes nothing: add set = { ... } or add = { ... }",
                         ev->at);
            return -1;
        }
    }
    sc->nevents = n;
    return 0;
}

static const char *const scan_keys[] = {"target", "values", "from", "to", "points", "scale",
                                        NULL};

static int load_scan(loader *ld, config_setting_t *s, sg_scenario_def *sc)
{
    sg_scan_def *scan = &sc->scan;
    scan->line = (int)config_setting_source_line(s);
    if (check_keys(ld, s, "a scan", scan_keys))
        return -1;
    int r = get_string(ld, s, "target", &scan->target);
    if (r < 0)
        return -1;
    if (r == 0) {
        fail_setting(ld, s, "scan needs a 'target' (a parameter or species id)");
        return -1;
    }
    config_setting_t *tw = member(s, "target");
    scan->slot = settable_slot(ld, tw, scan->target, 0, 1);
    if (scan->slot < 0)
        return -1;
    const char *scale = "linear";
    if (get_string(ld, s, "scale", &scale) < 0)
        return -1;
    if (strcmp(scale, "linear") && strcmp(scale, "log")) {
        fail_setting(ld, member(s, "scale"),
                     "scale must be \"linear\" or \"log\", not \"%s\"", scale);
        return -1;
    }
    scan->log_scale = strcmp(scale, "log") == 0;
    config_setting_t *vals = member(s, "values");
    if (vals) {
        if (member(s, "from") || member(s, "to") ||
            member(s, "points")) {
            fail_setting(ld, vals, "a scan takes either 'values' or 'from'/'to'/'points', "
                                   "not both");
            return -1;
        }
        if (!config_setting_is_aggregate(vals) || config_setting_length(vals) == 0) {
            fail_setting(ld, vals, "'values' must be a non-empty list of numbers: [ 1, 2, 3 ]");
            return -1;
        }
        scan->count = config_setting_length(vals);
        scan->values = sg_arena_alloc(ld->m->arena, sizeof(double) * (size_t)scan->count);
        if (!scan->values) {
            fail_nomem(ld);
            return -1;
        }
        for (int i = 0; i < scan->count; i++) {
            config_setting_t *e = config_setting_get_elem(vals, (unsigned)i);
            int type = config_setting_type(e);
            if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64 &&
                type != CONFIG_TYPE_FLOAT) {
                fail_setting(ld, vals, "'values' must contain only numbers");
                return -1;
            }
            scan->values[i] = type == CONFIG_TYPE_FLOAT ? config_setting_get_float(e)
                                                        : (double)config_setting_get_int64(e);
        }
    } else {
        double from, to;
        long points = 0;
        int hf = get_number(ld, s, "from", &from), ht = get_number(ld, s, "to", &to);
        int hp = get_long(ld, s, "points", 1, 10000000, &points);
        if (hf < 0 || ht < 0 || hp < 0)
            return -1;
        if (!hf || !ht || !hp) {
            fail_setting(ld, s, "scan needs 'values' or all of 'from', 'to' and 'points'");
            return -1;
        }
        if (scan->log_scale && (from <= 0 || to <= 0)) {
            fail_setting(ld, s, "a log scan needs positive 'from' and 'to' (got %g and %g)",
                         from, to);
            return -1;
        }
        if (points == 1 && from != to) {
            fail_setting(ld, member(s, "points"),
                         "a scan from %g to %g needs at least 2 points", from, to);
            return -1;
        }
        scan->count = (int)points;
        scan->values = sg_arena_alloc(ld->m->arena, sizeof(double) * (size_t)points);
        if (!scan->values) {
            fail_nomem(ld);
            return -1;
        }
        for (long i = 0; i < points; i++) {
            double f = points > 1 ? (double)i / (double)(points - 1) : 0.0;
            scan->values[i] = scan->log_scale ? exp(log(from) + f * (log(to) - log(from)))
                                              : from + f * (to - from);
        }
        scan->values[points - 1] = to; /* exact end point */
        scan->values[0] = from;
    }
    sg_symbol_kind k = ld->m->slot_kind[scan->slot];
    for (int i = 0; i < scan->count; i++) {
        double v = scan->values[i];
        if (!isfinite(v) || (k == SG_SYM_SPECIES && v < 0) ||
            (k == SG_SYM_COMPARTMENT && v <= 0) || (scan->log_scale && v <= 0)) {
            fail_setting(ld, s, "scan value %g is not allowed for %s '%s'%s", v, kind_name(k),
                         scan->target, scan->log_scale ? " on a log scale" : "");
            return -1;
        }
    }
    sc->has_scan = 1;
    return 0;
}

static int load_readouts(loader *ld, const config_setting_t *g, sg_scenario_def *sc)
{
    config_setting_t *r = member(g, "readouts");
    if (!r)
        return 0;
    if (!config_setting_is_aggregate(r)) {
        fail_setting(ld, r, "'readouts' must be a list of ids: [ \"A\", \"B\" ]");
        return -1;
    }
    int n = config_setting_length(r);
    sc->readouts = sg_arena_alloc(ld->m->arena, sizeof(char *) * (size_t)(n + 1));
    if (!sc->readouts) {
        fail_nomem(ld);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(r, (unsigned)i);
        const char *id = config_setting_get_string(e);
        int slot = id ? sg_map_get(&ld->m->symbols, id) : -1;
        if (!id || slot < 0 || (ld->m->slot_kind[slot] != SG_SYM_SPECIES &&
                                ld->m->slot_kind[slot] != SG_SYM_ASSIGNMENT)) {
            fail_setting(ld, r, "readout %s%s%s is not a species or assignment", id ? "'" : "",
                         id ? id : "(not a string)", id ? "'" : "");
            return -1;
        }
        sc->readouts[i] = ld->m->slot_name[slot];
    }
    sc->nreadouts = n;
    return 0;
}

static const char *const scenario_keys[] = {"id", "description", "t_start", "t_end",
                                            "points", "set", "events", "scan", "readouts",
                                            "preequilibrate", NULL};

static int load_scenarios(loader *ld, config_setting_t *list)
{
    sg_model *m = ld->m;
    int n = list ? config_setting_length(list) : 0;
    m->scenarios = sg_arena_alloc(m->arena, sizeof *m->scenarios * (size_t)(n + 1));
    if (!m->scenarios)
        return fail_nomem(ld), -1;
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        sg_scenario_def *sc = &m->scenarios[i];
        sc->line = (int)config_setting_source_line(g);
        sc->points = 101;
        if (check_keys(ld, g, "a scenario", scenario_keys) || get_id(ld, g, "scenario", &sc->id))
            return -1;
        for (int k = 0; k < i; k++)
            if (strcmp(m->scenarios[k].id, sc->id) == 0) {
                fail_setting(ld, member(g, "id"),
                             "duplicate scenario id '%s' (first at line %d)", sc->id,
                             m->scenarios[k].line);
                return -1;
            }
        int has_end = get_number(ld, g, "t_end", &sc->t_end);
        if (get_number(ld, g, "t_start", &sc->t_start) < 0 || has_end < 0 ||
            get_long(ld, g, "points", 2, SG_MAX_POINTS, &sc->points) < 0 ||
            get_bool(ld, g, "preequilibrate", &sc->preequilibrate) < 0)
            return -1;
        if (has_end == 0) {
            fail_setting(ld, g, "scenario '%s' needs 't_end'", sc->id);
            return -1;
        }
        if (!(sc->t_end > sc->t_start)) {
            fail_setting(ld, member(g, "t_end"),
                         "scenario '%s': t_end (%g) must be after t_start (%g)", sc->id,
                         sc->t_end, sc->t_start);
            return -1;
        }
        if (sc->t_end - sc->t_start < sg_min_time_span(sc->t_start, sc->t_end)) {
            fail_setting(ld, member(g, "t_end"),
                         "scenario '%s': t_end (%g) is too close to t_start (%g): the solver "
                         "needs a span of at least %g",
                         sc->id, sc->t_end, sc->t_start,
                         sg_min_time_span(sc->t_start, sc->t_end));
            return -1;
        }
        if (load_sets(ld, g, "set", 0, &sc->sets, &sc->nsets) || load_events(ld, g, sc) ||
            load_readouts(ld, g, sc))
            return -1;
        config_setting_t *scan = member(g, "scan");
        if (scan && load_scan(ld, scan, sc))
            return -1;
    }
    m->nscenarios = n;
    return 0;
}

static int find_scenario(const sg_model *m, const char *id)
{
    for (int i = 0; i < m->nscenarios; i++)
        if (strcmp(m->scenarios[i].id, id) == 0)
            return i;
    return -1;
}

/* Every trajectory function must have a scenario that exists. */
static int check_traj_scenarios(loader *ld, const sg_check_def *c, const sg_expr *e)
{
    if (e->kind == EX_DELAY) {
        /* a check reads finished rows: no history of the run is left */
        fail_at(ld, c->line, c->col > 0 ? c->col + e->pos : 0,
                "check '%s': delay() belongs in the model (an assignment), not in a check",
                c->id);
        return -1;
    }
    for (int i = 0; e->kind == EX_TRAJ && i < e->nargs; i++)
        if (e->arg[i] && check_traj_scenarios(ld, c, e->arg[i]))
            return -1;
    if (e->kind == EX_TRAJ) {
        const char *sc = e->name ? e->name : c->scenario;
        int col = c->col > 0 ? c->col + e->pos : 0; /* the trajectory call */
        if (!sc) {
            fail_at(ld, c->line, col,
                    "check '%s': %s() needs a scenario: add scenario = \"...\" to the check "
                    "or write %s(X @ scenario)",
                    c->id, sg_traj_fn_name(e->fn), sg_traj_fn_name(e->fn));
            return -1;
        }
        int si = find_scenario(ld->m, sc);
        if (si < 0) {
            fail_at(ld, c->line, col, "check '%s': unknown scenario '%s'", c->id, sc);
            return -1;
        }
        if (e->fn == TR_EC50 && !ld->m->scenarios[si].has_scan) {
            fail_at(ld, c->line, col, "check '%s': ec50() needs a scan scenario; '%s' has no scan",
                    c->id, sc);
            return -1;
        }
        return 0;
    }
    for (int i = 0; i < e->nargs; i++)
        if (e->arg[i] && check_traj_scenarios(ld, c, e->arg[i]))
            return -1;
    return 0;
}

static const char *const check_keys_list[] = {"id", "scenario", "expect", "description",
                                              "kind", "knockouts", NULL};

/* A check's `knockouts`: ids of reactions or parameters, each alone ("k1":
 * rate or value x 0) or with a factor ("k1*0.01"); checked when the model
 * has been loaded whole (sg_check_knockout_parse). */
static int load_check_knockouts(loader *ld, config_setting_t *g, sg_check_def *c)
{
    config_setting_t *s = member(g, "knockouts");
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
        fail_setting(ld, s, "'knockouts' must be a list of strings, e.g. [ \"r1\", \"k2*0.01\" ]");
        return -1;
    }
    int n = config_setting_length(s);
    c->knockouts = sg_arena_alloc(ld->m->arena, sizeof *c->knockouts * (size_t)(n + 1));
    if (!c->knockouts)
        return fail_nomem(ld), -1;
    for (int k = 0; k < n; k++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)k);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            fail_setting(ld, e, "'knockouts' must be a list of strings, e.g. [ \"r1\", \"k2*0.01\" ]");
            return -1;
        }
        char id[SG_MAX_ID_LENGTH + 1], msg[300];
        double factor;
        if (sg_knockout_parse(ld->m, config_setting_get_string(e), id, &factor, msg,
                              sizeof msg) < 0) {
            fail_setting(ld, e, "check '%s': %s", c->id, msg);
            return -1;
        }
        c->knockouts[k] = sg_arena_strdup(ld->m->arena, config_setting_get_string(e));
        if (!c->knockouts[k])
            return fail_nomem(ld), -1;
    }
    c->nknockouts = n;
    return 0;
}

static int load_checks(loader *ld, config_setting_t *list)
{
    sg_model *m = ld->m;
    int n = list ? config_setting_length(list) : 0;
    m->checks = sg_arena_alloc(m->arena, sizeof *m->checks * (size_t)(n + 1));
    if (!m->checks)
        return fail_nomem(ld), -1;
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        sg_check_def *c = &m->checks[i];
        c->line = (int)config_setting_source_line(g);
        if (check_keys(ld, g, "a check", check_keys_list) || get_id(ld, g, "check", &c->id))
            return -1;
        for (int k = 0; k < i; k++)
            if (strcmp(m->checks[k].id, c->id) == 0) {
                fail_setting(ld, member(g, "id"), "duplicate check id '%s'",
                             c->id);
                return -1;
            }
        if (get_string(ld, g, "scenario", &c->scenario) < 0)
            return -1;
        if (c->scenario && find_scenario(m, c->scenario) < 0) {
            fail_setting(ld, member(g, "scenario"),
                         "check '%s': unknown scenario '%s'", c->id, c->scenario);
            return -1;
        }
        int r = get_string(ld, g, "expect", &c->expect);
        if (r == 0)
            fail_setting(ld, g, "check '%s' needs 'expect', e.g. expect = \"final(X) > initial(X)\"",
                         c->id);
        if (r <= 0)
            return -1;
        c->tree = expression(ld, g, "expect", c->expect, 1, resolve_check, &c->line, &c->col);
        if (!c->tree || check_traj_scenarios(ld, c, c->tree))
            return -1;
        const char *kind = NULL;
        if (get_string(ld, g, "kind", &kind) < 0)
            return -1;
        if (kind && strcmp(kind, "conservation") != 0 && strcmp(kind, "behaviour") != 0) {
            fail_setting(ld, member(g, "kind"),
                         "check '%s': kind must be \"behaviour\" (the default) or "
                         "\"conservation\"", c->id);
            return -1;
        }
        c->conservation = kind && strcmp(kind, "conservation") == 0;
        if (load_check_knockouts(ld, g, c))
            return -1;
    }
    m->nchecks = n;
    return 0;
}


/* ------------------------------------------------------------ functions */

static const char *const function_keys[] = {"id", "args", "body", "description", NULL};

/* The names of every user function are known before any body is parsed, so
 * bodies may call each other (not recursively: binding refuses that). */
static int load_functions(loader *ld, config_setting_t *list)
{
    sg_model *m = ld->m;
    int n = list ? config_setting_length(list) : 0;
    m->functions = sg_arena_alloc(m->arena, sizeof *m->functions * (size_t)(n + 1));
    if (!m->functions)
        return fail_nomem(ld), -1;
    m->nfunctions = n;
    m->user.fns = m->functions;
    m->user.count = n;
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        sg_user_fn *fn = &m->functions[i];
        if (check_keys(ld, g, "a function", function_keys) || get_id(ld, g, "function", &fn->name))
            return -1;
        sg_arena *probe = sg_arena_create();
        sg_parse_error perr = {0};
        char call[300];
        snprintf(call, sizeof call, "%s(1)", fn->name);
        /* a built-in name would be shadowed silently: refuse it */
        int builtin = probe && (sg_expr_parse(probe, call, 1, &perr) != NULL ||
                                strstr(perr.message, "expects") != NULL);
        sg_arena_free(probe);
        if (builtin) {
            fail_setting(ld, member(g, "id"),
                         "function '%s' has the name of a built-in function", fn->name);
            return -1;
        }
        for (int k = 0; k < i; k++)
            if (strcmp(m->functions[k].name, fn->name) == 0) {
                fail_setting(ld, member(g, "id"), "duplicate function '%s'",
                             fn->name);
                return -1;
            }
        config_setting_t *args = member(g, "args");
        if (args && !config_setting_is_aggregate(args)) {
            fail_setting(ld, args, "'args' must be a list of names: [ \"x\", \"y\" ]");
            return -1;
        }
        fn->nargs = args ? config_setting_length(args) : 0;
        if (fn->nargs > 64) {
            fail_setting(ld, args, "function '%s' has more than 64 arguments", fn->name);
            return -1;
        }
        fn->args = sg_arena_alloc(m->arena, sizeof *fn->args * (size_t)(fn->nargs + 1));
        if (!fn->args)
            return fail_nomem(ld), -1;
        for (int k = 0; k < fn->nargs; k++) {
            const char *a = config_setting_get_string(config_setting_get_elem(args, (unsigned)k));
            if (!a || !valid_id(a)) {
                fail_setting(ld, args, "function '%s': argument %d is not an identifier",
                             fn->name, k + 1);
                return -1;
            }
            fn->args[k] = sg_arena_strdup(m->arena, a);
            if (!fn->args[k])
                return fail_nomem(ld), -1;
        }
    }
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        sg_user_fn *fn = &m->functions[i];
        const char *body = NULL;
        int r = get_string(ld, g, "body", &body);
        if (r == 0)
            fail_setting(ld, g, "function '%s' needs a 'body' expression", fn->name);
        if (r <= 0)
            return -1;
        int line, col;
        string_start(ld, (int)config_setting_source_line(member(g, "body")),
                     "body", &line, &col);
        sg_parse_error perr = {0};
        /* bodies live as long as the model: parse into its arena */
        fn->body = sg_expr_parse_user(m->arena, body, 0, &m->user, &perr);
        if (!fn->body) {
            fail_at(ld, line, col > 0 ? col + perr.pos : 0, "in body: %s", perr.message);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ rate rules */

static const char *const rate_rule_keys[] = {"id", "rate", "description", NULL};

/* Only the targets, before anything else, since they decide the states. */
static int scan_rate_targets(loader *ld, config_setting_t *list)
{
    int n = list ? config_setting_length(list) : 0;
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const char *id;
        if (check_keys(ld, g, "a rate rule", rate_rule_keys) || get_id(ld, g, "rate rule", &id))
            return -1;
        int r = sg_map_put(&ld->rate_targets, id, i);
        if (r < 0)
            return fail_nomem(ld), -1;
        if (r == 1) {
            fail_setting(ld, member(g, "id"), "'%s' has two rate rules", id);
            return -1;
        }
    }
    return 0;
}

static int load_rate_rules(loader *ld, config_setting_t *list)
{
    sg_model *m = ld->m;
    for (int i = 0; i < m->nrate_rules; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        sg_rate_rule_def *rr = &m->rate_rules[i];
        get_id(ld, g, "rate rule", &rr->id);
        config_setting_t *where = member(g, "id");
        int slot = sg_map_get(&m->symbols, rr->id);
        if (slot < 0 || (m->slot_kind[slot] != SG_SYM_SPECIES &&
                         m->slot_kind[slot] != SG_SYM_PARAMETER)) {
            fail_setting(ld, where, "rate rule for '%s': %s", rr->id,
                         slot < 0 ? "no species or parameter has that id"
                                  : "only species and parameters can have rate rules");
            return -1;
        }
        if (m->slot_kind[slot] == SG_SYM_SPECIES) {
            const sg_species_def *sp = &m->species[m->slot_index[slot]];
            for (int r = 0; r < m->nreactions && !sp->constant; r++)
                for (int t = 0; t < m->reactions[r].nterms; t++)
                    if (m->reactions[r].terms[t].species == m->slot_index[slot]) {
                        fail_setting(ld, where,
                                     "species '%s' is changed by reaction '%s' and by a rate "
                                     "rule: make it constant (a boundary species) or drop one",
                                     rr->id, m->reactions[r].id);
                        return -1;
                    }
        }
        rr->target_slot = slot;
        int r = get_string(ld, g, "rate", &rr->text);
        if (r == 0)
            fail_setting(ld, g, "rate rule for '%s' needs a 'rate' expression", rr->id);
        if (r <= 0)
            return -1;
        rr->rate = expression(ld, g, "rate", rr->text, 0, resolve_model, &rr->line, &rr->col);
        if (!rr->rate)
            return -1;
        rr->slot = m->first_rate_slot + m->nreactions + i;
        define_slot(m, rr->slot, SG_SYM_NONE, rr->id, i, 0.0);
    }
    return 0;
}

/* -------------------------------------------------------- initial values */

static int bind_inits(loader *ld)
{
    sg_model *m = ld->m;
    m->ninits = (int)ld->npending;
    m->inits = sg_arena_alloc(m->arena, sizeof *m->inits * (ld->npending + 1));
    if (!m->inits)
        return fail_nomem(ld), -1;
    for (size_t i = 0; i < ld->npending; i++) {
        pending_init *pi = &ld->pending[i];
        sg_init_def *d = &m->inits[i];
        d->slot = pi->slot;
        get_string(ld, pi->group, pi->key, &d->text);
        d->value = expression(ld, pi->group, pi->key, d->text, 0, resolve_model, &d->line,
                              &d->col);
        if (!d->value)
            return -1;
    }
    return 0;
}

/* Orders initial-value expressions and the assignments they may use by
 * dependency (depth first); a cycle is an error naming its first member. */
typedef struct init_graph {
    loader *ld;
    int *init_of_slot;     /* slot -> init index or -1 */
    unsigned char *state;  /* per node: 0 new, 1 visiting, 2 done */
    unsigned char *seen;
    int nodes_init;        /* nodes [0, ninits) inits, then assignments */
} init_graph;

static int init_visit(init_graph *g, int node)
{
    loader *ld = g->ld;
    sg_model *m = ld->m;
    if (g->state[node] == 2)
        return 0;
    int is_init = node < g->nodes_init;
    const sg_expr *e = is_init ? m->inits[node].value
                               : m->assignments[node - g->nodes_init].value;
    if (g->state[node] == 1) {
        int line = is_init ? m->inits[node].line : m->assignments[node - g->nodes_init].line;
        int col = is_init ? m->inits[node].col : m->assignments[node - g->nodes_init].col;
        fail_at(ld, line, col, "initial values form a cycle through '%s'",
                m->slot_name[is_init ? m->inits[node].slot
                                     : m->assignments[node - g->nodes_init].slot]);
        return -1;
    }
    g->state[node] = 1;
    int *slots = NULL;
    size_t count = 0, cap = 0;
    if (sg_expr_slots(e, g->seen, &slots, &count, &cap) != 0) {
        sg_free(slots);
        return fail_nomem(ld), -1;
    }
    for (size_t k = 0; k < count; k++)
        g->seen[slots[k]] = 0;
    int rc = 0;
    for (size_t k = 0; k < count && rc == 0; k++) {
        int sl = slots[k];
        if (g->init_of_slot[sl] >= 0)
            rc = init_visit(g, g->init_of_slot[sl]);
        else if (m->slot_kind[sl] == SG_SYM_ASSIGNMENT)
            rc = init_visit(g, g->nodes_init + m->slot_index[sl]);
    }
    sg_free(slots);
    if (rc)
        return rc;
    g->state[node] = 2;
    sg_init_step *step = &m->init_steps[m->ninit_steps++];
    step->is_init = is_init;
    step->slot = is_init ? m->inits[node].slot : m->assignments[node - g->nodes_init].slot;
    step->value = (sg_expr *)e;
    return 0;
}

static int order_inits(loader *ld)
{
    sg_model *m = ld->m;
    if (m->ninits == 0)
        return 0;
    int nodes = m->ninits + m->nassignments;
    init_graph g = {ld, NULL, NULL, NULL, m->ninits};
    g.init_of_slot = sg_malloc(sizeof(int) * (size_t)m->nslots);
    g.state = sg_calloc((size_t)nodes + 1, 1);
    g.seen = sg_calloc((size_t)m->nslots, 1);
    m->init_steps = sg_arena_alloc(m->arena, sizeof *m->init_steps * (size_t)(nodes + 1));
    int rc = -1;
    if (!g.init_of_slot || !g.state || !g.seen || !m->init_steps) {
        fail_nomem(ld);
        goto done;
    }
    for (int i = 0; i < m->nslots; i++)
        g.init_of_slot[i] = -1;
    for (int i = 0; i < m->ninits; i++)
        g.init_of_slot[m->inits[i].slot] = i;
    rc = 0;
    for (int i = 0; i < m->ninits && rc == 0; i++)
        rc = init_visit(&g, i);
    if (rc == 0) { /* the values written in the file, for `info` and the base */
        sg_model_initial_values(m, m->initial_values, NULL);
        for (int i = 0; i < m->ninits; i++) {
            int slot = m->inits[i].slot;
            double v = m->initial_values[slot];
            int idx = m->slot_index[slot];
            if (m->slot_kind[slot] == SG_SYM_SPECIES)
                m->species[idx].initial = v;
            else if (m->slot_kind[slot] == SG_SYM_PARAMETER)
                m->parameters[idx].value = v;
            else if (m->slot_kind[slot] == SG_SYM_COMPARTMENT)
                m->compartments[idx].size = v;
        }
    }
done:
    sg_free(g.init_of_slot);
    sg_free(g.state);
    sg_free(g.seen);
    return rc;
}

void sg_model_initial_values(const sg_model *m, double *v, const unsigned char *fixed)
{
    for (int k = 0; k < m->ninit_steps; k++) {
        const sg_init_step *step = &m->init_steps[k];
        if (step->is_init && fixed && fixed[step->slot])
            continue;
        v[step->slot] = sg_expr_eval(step->value, v);
    }
}

/* ---------------------------------------------------------- model events */

static const char *const trigger_keys[] = {"id", "name", "trigger", "assign", "persistent",
                                           "initial_value", "use_values_from_trigger_time",
                                           "delay", "priority", "description", NULL};

/* An event's `delay` or `priority`: a number or an expression string.
 * 1 read, 0 absent, -1 error. A delay that is a number must not be
 * negative (an expression's is checked when the event fires). */
static int event_expression(loader *ld, config_setting_t *g, const char *key,
                            const sg_trigger_def *t, sg_expr **out)
{
    config_setting_t *s = member(g, key);
    *out = NULL;
    if (!s)
        return 0;
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        int line, col;
        *out = expression(ld, g, key, config_setting_get_string(s), 0, resolve_model, &line,
                          &col);
        return *out ? 1 : -1;
    }
    double v;
    if (get_number(ld, g, key, &v) < 0)
        return -1;
    if (strcmp(key, "delay") == 0 && v < 0) {
        fail_setting(ld, s, "event '%s': 'delay' must not be negative (it is %g)", t->id, v);
        return -1;
    }
    if (!(*out = sg_pool_num(ld->m->pool, v)))
        return fail_nomem(ld), -1;
    return 1;
}

static int load_triggers(loader *ld, config_setting_t *list)
{
    sg_model *m = ld->m;
    int n = list ? config_setting_length(list) : 0;
    m->triggers = sg_arena_alloc(m->arena, sizeof *m->triggers * (size_t)(n + 1));
    if (!m->triggers)
        return fail_nomem(ld), -1;
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        sg_trigger_def *t = &m->triggers[i];
        t->initial_value = 1;
        t->persistent = 1;
        t->use_trigger_time = 1;
        if (check_keys(ld, g, "an event", trigger_keys))
            return -1;
        char name[32];
        snprintf(name, sizeof name, "event_%d", i + 1);
        if (member(g, "id")) {
            if (get_id(ld, g, "event", &t->id))
                return -1;
        } else if (!(t->id = sg_arena_strdup(m->arena, name))) {
            return fail_nomem(ld), -1;
        }
        if (get_labels(ld, g, &t->name, &t->description) ||
            get_bool(ld, g, "persistent", &t->persistent) < 0 ||
            get_bool(ld, g, "initial_value", &t->initial_value) < 0 ||
            get_bool(ld, g, "use_values_from_trigger_time", &t->use_trigger_time) < 0 ||
            event_expression(ld, g, "delay", t, &t->delay) < 0 ||
            event_expression(ld, g, "priority", t, &t->priority) < 0)
            return -1;
        int r = get_string(ld, g, "trigger", &t->text);
        if (r == 0)
            fail_setting(ld, g, "event '%s' needs a 'trigger' expression, e.g. \"time > 5\"",
                         t->id);
        if (r <= 0)
            return -1;
        t->trigger = expression(ld, g, "trigger", t->text, 0, resolve_model, &t->line, &t->col);
        if (!t->trigger)
            return -1;
        config_setting_t *as = member(g, "assign");
        if (!as || !config_setting_is_group(as) || config_setting_length(as) == 0) {
            fail_setting(ld, as ? as : g, "event '%s' needs assign = { NAME = value or \"expression\"; }",
                         t->id);
            return -1;
        }
        t->nassigns = config_setting_length(as);
        t->assigns = sg_arena_alloc(m->arena, sizeof *t->assigns * (size_t)t->nassigns);
        if (!t->assigns)
            return fail_nomem(ld), -1;
        for (int k = 0; k < t->nassigns; k++) {
            config_setting_t *e = config_setting_get_elem(as, (unsigned)k);
            const char *target = config_setting_name(e);
            int slot = settable_slot(ld, e, target, 0, 1);
            if (slot < 0)
                return -1;
            t->assigns[k].slot = slot;
            if (config_setting_type(e) == CONFIG_TYPE_STRING) {
                int line, col;
                t->assigns[k].value = expression(ld, as, target, config_setting_get_string(e), 0,
                                                 resolve_model, &line, &col);
                if (!t->assigns[k].value)
                    return -1;
            } else {
                double v = 0;
                if (get_number(ld, as, target, &v) < 0)
                    return -1;
                if (!(t->assigns[k].value = sg_pool_num(m->pool, v)))
                    return fail_nomem(ld), -1;
            }
        }
    }
    m->ntriggers = n;
    return 0;
}

/* ----------------------------------------------------------------- main */

/* The pieces come in the order the loader walks the lists. */
static int start_pieces(loader *ld, list_src *params, list_src *species, list_src *reactions)
{
    int order[5], n = 0;
    const sg_cfg_setting *first = ld->top ? ld->top->setting : NULL;
    if (species->pieced && species_walked_twice(ld, species))
        order[n++] = (int)(species->setting - first);
    if (params->pieced && parameters_walked_twice(ld))
        order[n++] = (int)(params->setting - first);
    if (params->pieced)
        order[n++] = (int)(params->setting - first);
    if (species->pieced)
        order[n++] = (int)(species->setting - first);
    if (reactions->pieced)
        order[n++] = (int)(reactions->setting - first);
    if (n == 0)
        return 0;
    int threaded = sg_cfg_read_ahead >= 0 ? sg_cfg_read_ahead
                                          : sysconf(_SC_NPROCESSORS_ONLN) > 1;
    ld->pieces = sg_cfg_pieces_start(ld->text, ld->top, order, n, threaded);
    if (!ld->pieces) {
        ld->piece_failed = 1;
        return -1;
    }
    return 0;
}

static sg_status load_config(loader *ld, config_t *cfg)
{
    sg_model *m = ld->m;
    config_setting_t *root = config_root_setting(cfg);
    config_setting_t *comps, *assigns, *scenarios, *checks;
    config_setting_t *functions, *rate_rules, *events;
    list_src *params = &ld->params, *species = &ld->species, *reactions = &ld->reactions;
    if (load_header(ld, root) || get_list(ld, root, "compartments", &comps) < 0 ||
        get_list_src(ld, root, "parameters", params) < 0 ||
        get_list_src(ld, root, "species", species) < 0 ||
        get_list(ld, root, "assignments", &assigns) < 0 ||
        get_list_src(ld, root, "reactions", reactions) < 0 ||
        get_list(ld, root, "scenarios", &scenarios) < 0 ||
        get_list(ld, root, "checks", &checks) < 0 ||
        get_list(ld, root, "functions", &functions) < 0 ||
        get_list(ld, root, "rate_rules", &rate_rules) < 0 ||
        get_list(ld, root, "events", &events) < 0)
        return SG_ERR_MODEL;
    if (load_functions(ld, functions) || scan_rate_targets(ld, rate_rules) ||
        start_pieces(ld, params, species, reactions) ||
        layout(ld, comps, params, species, assigns, reactions, rate_rules))
        return ld->err->status ? ld->err->status : SG_ERR_MODEL;
    int implicit = !comps || config_setting_length(comps) == 0;
    /* slot layout (model.h): states (species, then parameters with rate
     * rules), constant species, compartments, parameters, time, assignments,
     * reaction rates, rate-rule rates */
    int param_states = m->nstate - ld->species_states;
    m->first_compartment_slot = m->nspecies + param_states;
    m->first_parameter_slot = m->first_compartment_slot + m->ncompartments;
    m->time_slot = m->first_parameter_slot + m->nparameters;
    m->first_assignment_slot = m->time_slot + 1;
    m->first_rate_slot = m->first_assignment_slot + m->nassignments;
    m->nslots = m->first_rate_slot + m->nfluxes;
    define_slot(m, m->time_slot, SG_SYM_TIME, "time", 0, 0.0);
    if (load_compartments(ld, comps, m->first_compartment_slot) ||
        load_parameters(ld, params, m->first_parameter_slot, ld->species_states) ||
        load_species(ld, species, implicit) ||
        load_assignment_ids(ld, assigns, m->first_assignment_slot) || check_sbml_ids(ld) ||
        bind_assignments(ld, assigns) || order_assignments(ld) ||
        load_reactions(ld, reactions) || load_rate_rules(ld, rate_rules) || bind_inits(ld) ||
        order_inits(ld) || load_triggers(ld, events) || load_scenarios(ld, scenarios) ||
        load_checks(ld, checks))
        return ld->err && ld->err->status ? ld->err->status : SG_ERR_MODEL;
    return SG_OK;
}

/* The lists are the top-level settings that may be read in a second thread
 * (get_list finds them in either tree). */
static void mark_lists(const sg_cfg_top *top, unsigned char *movable)
{
    for (int i = 0; i < top->count; i++) {
        const sg_cfg_setting *s = &top->setting[i];
        movable[i] = 0;
        for (const char *const *k = top_keys + FIRST_LIST_KEY; *k; k++)
            if (strlen(*k) == s->name_len && memcmp(*k, s->name, s->name_len) == 0)
                movable[i] = 1;
    }
}

/* Text bytes per pool node once a model is compiled: 21-23 in the
 * generated networks (short mass-action and Michaelis-Menten rates), 60-70
 * in the shipped models and fceri_ji (names and comments): the table's
 * reservation (8 bytes a bucket, filled to 3/4 at most) is then a fraction
 * of the text's size. */
enum { TEXT_BYTES_PER_NODE = 24 };

/* Reads the text with libconfig and loads it into a new *out. In pieces
 * (in_pieces), the long lists that sg_cfg_precheck cut into pieces are
 * read a piece at a time as the loader walks them, and the rest of the
 * file in one text; otherwise the whole text (in two threads when large,
 * sg_cfg_read). The text is as it was on return. */
static sg_status read_and_load(sg_model **out, char *text, size_t len, const char *filename,
                               sg_cfg_top *top_in, int in_pieces, const line_index *lines,
                               sg_error *err)
{
    sg_cfg_top *tp = top_in;
    int line, col;
    char msg[400];
    const sg_cfg_setting *pieced[SG_CFG_MAX_TOP] = {0};
    unsigned char rest[SG_CFG_MAX_TOP];
    int npieced = 0;
    if (in_pieces) {
        static const char *const long_lists[] = {"parameters", "species", "reactions", NULL};
        for (int i = 0; i < tp->count; i++) {
            const sg_cfg_setting *s = &tp->setting[i];
            rest[i] = 1;
            if (s->list_state != SG_CFG_LIST)
                continue;
            for (const char *const *k = long_lists; *k; k++)
                if (strlen(*k) == s->name_len && memcmp(*k, s->name, s->name_len) == 0) {
                    pieced[i] = s;
                    rest[i] = 0;
                    npieced++;
                }
        }
        if (npieced == 0)
            return SG_ERR_MODEL; /* nothing to read in pieces: whole */
    }
    unsigned char movable[SG_CFG_MAX_TOP];
    mark_lists(tp, movable);
    sg_model *m = sg_calloc(1, sizeof *m);
    *out = m;
    if (m) {
        sg_map_init(&m->symbols);
        m->arena = sg_arena_create();
        m->pool = sg_pool_create();
    }
    /* the pool's table sized for the nodes loading and compiling will
     * make, rather than doubled a dozen times on the way (each doubling
     * rehashes every node: 27-90 ms of 10^5 species) */
    if (!m || !m->arena || !m->pool || !(m->path = sg_arena_strdup(m->arena, filename)) ||
        sg_pool_reserve(m->pool, len / TEXT_BYTES_PER_NODE) != 0)
        return sg_error_nomem(err);
    loader ld = {.m = m, .file = m->path, .text = text, .text_len = len, .err = err};
    config_t cfg, side;
    int read;
    if (in_pieces) {
        read = sg_cfg_read_rest(text, tp, rest, &cfg);
        ld.top = tp;
        memcpy(ld.pieced, pieced, sizeof pieced);
        m->read_in_pieces = 1;
    } else {
        read = sg_cfg_read(text, len, tp, movable, &cfg, &side);
    }
    sg_status st;
    if (!read) {
        /* libconfig says "syntax error" and a line: find the column and why */
        const char *what = config_error_text(&cfg);
        if (sg_cfg_diagnose(text, len, &line, &col, msg, sizeof msg))
            st = sg_error_set(err, SG_ERR_MODEL, m->path, line, col, "%s", msg);
        else if (what && strcmp(what, "memory exhausted") == 0)
            st = sg_error_set(err, SG_ERR_MODEL, m->path, config_error_line(&cfg), 0,
                              "lists and groups nested too deeply for libconfig");
        else
            st = sg_error_set(err, SG_ERR_MODEL, m->path, config_error_line(&cfg), 0,
                              "%s (libconfig syntax: name = value; strings in double "
                              "quotes; lists ( ... ), groups { ... })",
                              what ? what : "syntax error");
    } else if (tp->control_line) {
        st = sg_error_set(err, SG_ERR_MODEL, m->path, tp->control_line, tp->control_col, "%s",
                          tp->control_msg);
    } else if (!lines->lines) {
        st = sg_error_nomem(err);
    } else {
        ld.lines = lines;
        if (read == 2) {
            ld.side_root = config_root_setting(&side);
            m->read_in_two = 1;
        }
        st = load_config(&ld, &cfg);
        if (ld.piece_failed && st == SG_OK)
            st = SG_ERR_MODEL;
        sg_map_clear(&ld.rate_targets);
        sg_free(ld.pending);
    }
    /* the pieces: the reader first (it may hold some), then what the
     * walks hold or kept */
    sg_cfg_pieces_stop(ld.pieces);
    sg_cfg_piece_free(ld.params.piece);
    sg_cfg_piece_free(ld.species.piece);
    sg_cfg_piece_free(ld.reactions.piece);
    for (size_t i = 0; i < ld.nkept; i++)
        sg_cfg_piece_free(ld.kept[i]);
    sg_free(ld.kept);
    sg_arena_free(ld.scratch);
    if (read == 2)
        config_destroy(&side);
    config_destroy(&cfg);
    return st;
}

enum {
    LOAD_HEAP_PER_TEXT_BYTE = 4,
    COMPILE_WARM_MIN_NODES = 100000,
    COMPILE_BYTES_PER_NODE = 180
};

/* Loads from text, which has room for len + 2 bytes and is freed here. */
static sg_model *load_owned_text(char *text, size_t len, const char *filename, sg_error *err)
{
    /* libconfig 1.5 takes a comment on the last line for a syntax error
     * unless a line end follows it: the text always ends with one */
    if (len == 0 || text[len - 1] != '\n')
        text[len++] = '\n';
    text[len] = '\0';
    int cache_dfd = -1;
    char cache_name[64];
    uint64_t text_hash;
    sg_model *cached = sg_model_cache_find(text, len, filename, &cache_dfd, cache_name,
                                           sizeof cache_name, &text_hash);
    if (cached) {
        close(cache_dfd);
        sg_free(text);
        return cached;
    }
    /* only after a miss: an image is stored only for a text that loaded,
     * and a hit matches the text's length and two hashes */
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line = 1, col = 1;
        for (const char *p = text; p < nul; p++, col++)
            if (*p == '\n')
                line++, col = 0;
        if (cache_dfd >= 0)
            close(cache_dfd);
        sg_free(text);
        sg_error_set(err, SG_ERR_MODEL, filename, line, col,
                     "the file contains a NUL byte: not a text model file");
        return NULL;
    }
    int line, col;
    char msg[400];
    sg_cfg_top top;
    /* loading a large text takes about 3-3.5 bytes of fresh heap a byte
     * of text (the pool's nodes and table, the symbols, what libconfig
     * reads; 165 MB for the 53 MB of 100,000 species, 18 MB for 5 MB):
     * warmed by another thread from here, while sg_cfg_precheck runs
     * alone and then beside the reading */
    int threaded = sg_cfg_read_ahead >= 0 ? sg_cfg_read_ahead : sysconf(_SC_NPROCESSORS_ONLN) > 1;
    sg_heap_warmer *load_warm = threaded && len >= sg_cfg_piece_min_bytes
                               ? sg_heap_warm_start(len * LOAD_HEAP_PER_TEXT_BYTE, 1)
                               : NULL;
    line_index lines = {text, len, NULL, 0, 0};
    pthread_t lines_thread;
    int lines_beside = threaded && len >= sg_cfg_piece_min_bytes &&
                       pthread_create(&lines_thread, NULL, index_lines_beside, &lines) == 0;
    int checked = sg_cfg_precheck(text, len, &line, &col, msg, sizeof msg, &top);
    /* made here when not beside; without memory (either way) read_and_load
     * says so */
    if (lines_beside)
        pthread_join(lines_thread, NULL);
    else if (checked == 0)
        (void)index_lines(&lines);
    if (checked != 0) {
        free_lines(&lines);
        sg_heap_warm_finish(load_warm);
        sg_cfg_top_free(&top);
        if (cache_dfd >= 0)
            close(cache_dfd);
        sg_free(text);
        sg_error_set(err, SG_ERR_MODEL, filename, line, col, "%s", msg);
        return NULL;
    }
    if (top.nomem) {
        free_lines(&lines);
        sg_heap_warm_finish(load_warm);
        sg_cfg_top_free(&top);
        if (cache_dfd >= 0)
            close(cache_dfd);
        sg_free(text);
        sg_error_nomem(err);
        return NULL;
    }
    sg_model *m = NULL;
    sg_status st = SG_ERR_MODEL;
    if (len >= sg_cfg_piece_min_bytes && top.count > 0 && !top.control_line) {
        st = read_and_load(&m, text, len, filename, &top, 1, &lines, err);
        if (st != SG_OK && st != SG_ERR_NOMEM) {
            /* whatever went wrong, the whole file's reading says it, at
             * its place (or loads, if the pieces were at fault) */
            sg_model_free(m);
            m = NULL;
            memset(err, 0, sizeof *err);
        }
    }
    if (!m)
        st = read_and_load(&m, text, len, filename, &top, 0, &lines, err);
    free_lines(&lines);
    sg_heap_warm_finish(load_warm);
    sg_cfg_top_free(&top);
    /* the libconfig tree and the text are freed before compiling: a large
     * model's peak memory is one of them, not both (the image needs only
     * the text's length and hash) */
    sg_free(text);
    if (!m) {
        if (cache_dfd >= 0)
            close(cache_dfd);
        return NULL;
    }
    if (st == SG_OK) {
        /* compiling takes about 190 bytes of fresh heap per pool node it
         * starts from (258 MB from 1.44 M nodes at 100,000 species, 27 MB
         * from 144,000 at 10,000): warmed on the other core meanwhile, a
         * little less (what is warmed and not used stays resident) */
        size_t nodes = (size_t)sg_pool_size(m->pool);
        sg_heap_warmer *warm = threaded && nodes >= COMPILE_WARM_MIN_NODES
                                   ? sg_heap_warm_start(nodes * COMPILE_BYTES_PER_NODE, 1)
                                   : NULL;
        st = sg_program_compile(m, &m->program, err);
        sg_heap_warm_finish(warm);
    }
    if (st == SG_OK && cache_dfd >= 0)
        sg_model_cache_store(cache_dfd, cache_name, m, len, text_hash);
    if (cache_dfd >= 0)
        close(cache_dfd);
    if (st != SG_OK) {
        if (!err->file[0])
            snprintf(err->file, sizeof err->file, "%s", m->path);
        sg_model_free(m);
        return NULL;
    }
    return m;
}

sg_model *sg_model_load_buffer(const char *text, size_t len, const char *filename,
                               sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!filename)
        filename = "<model>";
    if (len > (size_t)SG_MAX_FILE_BYTES) {
        sg_error_set(err, SG_ERR_LIMIT, filename, 0, 0,
                     "model file is %zu bytes; the limit is %ld", len, SG_MAX_FILE_BYTES);
        return NULL;
    }
    char *copy = sg_malloc(len + 2);
    if (!copy) {
        sg_error_nomem(err);
        return NULL;
    }
    memcpy(copy, text, len);
    return load_owned_text(copy, len, filename, err);
}

sg_model *sg_model_load_file(const char *path, sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    FILE *f = fopen(path, "rb");
    if (!f) {
        sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot open model file: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    int regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (regular && st.st_size > SG_MAX_FILE_BYTES) {
        fclose(f);
        sg_error_set(err, SG_ERR_LIMIT, path, 0, 0, "model file is %lld bytes; the limit is %ld",
                     (long long)st.st_size, SG_MAX_FILE_BYTES);
        return NULL;
    }
    /* a regular file is read into a buffer of its size and 3 bytes: one
     * to see the end of the file in the first read, two for
     * load_owned_text's line end and NUL */
    size_t cap = regular ? (size_t)st.st_size + 3 : 65536, len = 0;
    char *buf = sg_malloc(cap);
    for (;;) {
        if (buf && cap - len < 3 && sg_grow(&buf, &cap, len + 65536, 1) != 0) {
            sg_free(buf);
            buf = NULL;
        }
        if (!buf) {
            fclose(f);
            sg_error_nomem(err);
            return NULL;
        }
        size_t want = cap - len - 2;
        size_t n = fread(buf + len, 1, want, f);
        len += n;
        if (n < want || len > (size_t)SG_MAX_FILE_BYTES)
            break; /* the end of the file, an error (below) or too large */
    }
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (bad) {
        sg_free(buf);
        sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot read model file: %s", strerror(bad));
        return NULL;
    }
    if (len > (size_t)SG_MAX_FILE_BYTES) {
        sg_free(buf);
        sg_error_set(err, SG_ERR_LIMIT, path, 0, 0, "model file is more than %ld bytes (the limit)",
                     SG_MAX_FILE_BYTES);
        return NULL;
    }
    if (len == 0) {
        sg_free(buf);
        sg_error_set(err, SG_ERR_MODEL, path, 1, 1,
                     "the model file is empty (a model needs at least name = \"...\";)");
        return NULL;
    }
    return load_owned_text(buf, len, path, err);
}

void sg_model_free(sg_model *m)
{
    if (!m)
        return;
    sg_program_free(m->program);
    sg_map_clear(&m->symbols);
    sg_free(m->initial_values);
    sg_free(m->slot_kind);
    sg_free(m->slot_name);
    sg_free(m->slot_index);
    sg_pool_free(m->pool);
    sg_arena_free(m->arena);
    sg_model_cache_unmap(m);
    sg_free(m);
}

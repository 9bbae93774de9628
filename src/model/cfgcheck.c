/*
 * The libconfig text of a model, checked on our side of libconfig:
 *
 *  - before libconfig reads it (sg_cfg_precheck): what libconfig accepts
 *    but must not, `@include "FILE"` (a model is one file; the named file
 *    could be a FIFO or a device) and whole numbers beyond 32 bits, which
 *    libconfig 1.5 truncates without a word (3000000000 would load as
 *    -1294967296);
 *  - after libconfig rejected it (sg_cfg_diagnose): where and why, with a
 *    column, since libconfig reports only "syntax error" and a line.
 *
 * The tokens are libconfig's own (its scanner.l: longest match, the same
 * string, comment and number rules) and the grammar its grammar.y:
 *
 *   config   := { setting } EOF
 *   setting  := NAME ('=' | ':') value [ ';' | ',' ]
 *   value    := scalar | '[' [ scalar { ',' scalar } ] ']'
 *             | '(' [ value { ',' value } ] ')' | '{' { setting } '}'
 *   scalar   := BOOLEAN | INTEGER | INTEGER64 | HEX | HEX64 | FLOAT | STRING { STRING }
 *
 * plus its two semantic errors: a setting name used twice in one group,
 * and array elements of different types. libconfig 1.7 also accepts a
 * comma before a closing ')' or ']'; 1.5 does not.
 */
#include <ctype.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model.h"

#if LIBCONFIG_VER_MAJOR > 1 || (LIBCONFIG_VER_MAJOR == 1 && LIBCONFIG_VER_MINOR >= 7)
#define TRAILING_COMMA 1
#else
#define TRAILING_COMMA 0
#endif

/* Deeper nesting is left to libconfig: its parser stack ends before (near
 * 3000 groups or 3400 lists), with "memory exhausted". */
enum { MAX_NESTING = 5000 };

typedef enum tkind {
    T_EOF, T_NAME, T_EQUALS, T_COMMA, T_SEMI, T_GROUP_OPEN, T_GROUP_CLOSE, T_ARRAY_OPEN,
    T_ARRAY_CLOSE, T_LIST_OPEN, T_LIST_CLOSE, T_BOOL, T_INT, T_INT64, T_HEX, T_HEX64,
    T_FLOAT, T_STRING, T_GARBAGE, T_OPEN_STRING
} tkind;

typedef struct lexer {
    const char *s;
    size_t len, i;
    int line, col;         /* of s[i] */
    tkind kind;            /* the current token */
    size_t start, tlen;
    int tline, tcol;
    int ml_from, ml_to;    /* lines of the last string that ran over lines */
    int open_comment;      /* a comment without its closing star-slash */
    int oc_line, oc_col;
} lexer;

typedef struct checker {
    lexer lx;
    int found;
    int line, col;
    char *msg;
    size_t size;
} checker;

static void advance(lexer *lx, size_t n)
{
    for (; n > 0 && lx->i < lx->len; n--, lx->i++) {
        if (lx->s[lx->i] == '\n') {
            lx->line++;
            lx->col = 1;
        } else {
            lx->col++;
        }
    }
}

/* advance() over n bytes known to hold no line break (n within the text):
 * a name, number or one-line string is most of a large model's bytes */
static void advance_in_line(lexer *lx, size_t n)
{
    lx->i += n;
    lx->col += (int)n;
}

static int at(const lexer *lx, size_t k, char c) { return k < lx->len && lx->s[k] == c; }

static size_t digits(const lexer *lx, size_t k, int hex)
{
    size_t n = 0;
    while (k + n < lx->len && (hex ? isxdigit((unsigned char)lx->s[k + n])
                                   : isdigit((unsigned char)lx->s[k + n])))
        n++;
    return n;
}

/* The longest number token at lx->i, as flex picks it; 0 if none. */
static size_t number(const lexer *lx, tkind *kind)
{
    size_t i = lx->i, p = i;
    if (at(lx, p, '+') || at(lx, p, '-'))
        p++;
    size_t d = digits(lx, p, 0), best = 0;
    *kind = T_GARBAGE;
    if (d > 0) { /* integer, integer64 */
        best = p + d - i;
        *kind = T_INT;
        if (at(lx, p + d, 'L')) {
            best += at(lx, p + d + 1, 'L') ? 2 : 1;
            *kind = T_INT64;
        }
    }
    if (p == i && at(lx, i, '0') && (at(lx, i + 1, 'x') || at(lx, i + 1, 'X'))) {
        size_t h = digits(lx, i + 2, 1);
        if (h > 0 && 2 + h > best) {
            size_t n = 2 + h;
            *kind = T_HEX;
            if (at(lx, i + n, 'L')) {
                n += at(lx, i + n + 1, 'L') ? 2 : 1;
                *kind = T_HEX64;
            }
            best = n;
        }
    }
    /* float: [-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)?  or  [-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+ */
    size_t q = p + d;
    int dot = at(lx, q, '.');
    if (dot)
        q += 1 + digits(lx, q + 1, 0);
    if (dot || d > 0) {
        size_t e = q;
        if (at(lx, e, 'e') || at(lx, e, 'E')) {
            e++;
            if (at(lx, e, '+') || at(lx, e, '-'))
                e++;
            size_t ed = digits(lx, e, 0);
            e = ed > 0 ? e + ed : q;
        }
        if ((dot || e > q) && e - i > best) {
            best = e - i;
            *kind = T_FLOAT;
        }
    }
    return best;
}

/* What strchr(" \t\n\r\f", c) finds, for c not NUL. */
static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* What strchr("-_*", c) finds, for c not NUL. */
static int is_name_mark(char c) { return c == '-' || c == '_' || c == '*'; }

static void next(lexer *lx)
{
    for (;;) {
        while (lx->i < lx->len && is_blank(lx->s[lx->i])) {
            if (lx->s[lx->i] == '\n') {
                lx->line++;
                lx->col = 1;
            } else {
                lx->col++;
            }
            lx->i++;
        }
        if (at(lx, lx->i, '/') && at(lx, lx->i + 1, '*')) {
            int line = lx->line, col = lx->col;
            advance(lx, 2);
            while (lx->i < lx->len && !(at(lx, lx->i, '*') && at(lx, lx->i + 1, '/')))
                advance(lx, 1);
            if (lx->i >= lx->len && !lx->open_comment) { /* it ends the file */
                lx->open_comment = 1;
                lx->oc_line = line;
                lx->oc_col = col;
            }
            advance(lx, 2);
            continue;
        }
        if (at(lx, lx->i, '#') || (at(lx, lx->i, '/') && at(lx, lx->i + 1, '/'))) {
            while (lx->i < lx->len && lx->s[lx->i] != '\n')
                advance(lx, 1);
            continue;
        }
        break;
    }
    lx->start = lx->i;
    lx->tline = lx->line;
    lx->tcol = lx->col;
    lx->tlen = 1;
    if (lx->i >= lx->len) {
        lx->kind = T_EOF;
        lx->tlen = 0;
        return;
    }
    char c = lx->s[lx->i];
    size_t n = 1;
    switch (c) {
    case '=':
    case ':': lx->kind = T_EQUALS; break;
    case ',': lx->kind = T_COMMA; break;
    case ';': lx->kind = T_SEMI; break;
    case '{': lx->kind = T_GROUP_OPEN; break;
    case '}': lx->kind = T_GROUP_CLOSE; break;
    case '[': lx->kind = T_ARRAY_OPEN; break;
    case ']': lx->kind = T_ARRAY_CLOSE; break;
    case '(': lx->kind = T_LIST_OPEN; break;
    case ')': lx->kind = T_LIST_CLOSE; break;
    case '"': {
        /* the closing quote, found by memchr (most of a large model's bytes
         * are in strings): the byte loop it replaced stepped over \" and
         * \\ and one byte otherwise, which is what happens from each
         * backslash before the quote */
        size_t j = lx->i + 1;
        for (;;) {
            const char *quote = memchr(lx->s + j, '"', lx->len - j);
            size_t stop = quote ? (size_t)(quote - lx->s) : lx->len;
            const char *backslash = memchr(lx->s + j, '\\', stop - j);
            if (!backslash) {
                j = stop;
                break;
            }
            j = (size_t)(backslash - lx->s);
            j += at(lx, j + 1, '"') || at(lx, j + 1, '\\') ? 2 : 1;
        }
        lx->kind = j < lx->len ? T_STRING : T_OPEN_STRING;
        n = j < lx->len ? j + 1 - lx->i : lx->len - lx->i;
        if (lx->kind == T_STRING && memchr(lx->s + lx->i, '\n', n)) {
            lx->ml_from = lx->line;
            lx->ml_to = lx->line;
            for (size_t k = lx->i; k < lx->i + n; k++)
                lx->ml_to += lx->s[k] == '\n';
        } else if (lx->kind == T_STRING) {
            lx->tlen = n;
            advance_in_line(lx, n);
            return;
        }
        break;
    }
    default:
        if (isalpha((unsigned char)c) || c == '*') {
            while (lx->i + n < lx->len && (isalnum((unsigned char)lx->s[lx->i + n]) ||
                                           is_name_mark(lx->s[lx->i + n])))
                n++;
            char first = (char)(c | 0x20); /* the cheap test first: most names are neither */
            lx->kind = (n == 4 && first == 't' && strncasecmp(lx->s + lx->i, "true", 4) == 0) ||
                               (n == 5 && first == 'f' &&
                                strncasecmp(lx->s + lx->i, "false", 5) == 0)
                           ? T_BOOL
                           : T_NAME;
        } else if ((n = number(lx, &lx->kind)) == 0) {
            lx->kind = T_GARBAGE;
            n = 1; /* a whole UTF-8 sequence, for the message */
            while (lx->i + n < lx->len && ((unsigned char)lx->s[lx->i + n] & 0xC0) == 0x80 &&
                   ((unsigned char)c & 0xC0) == 0xC0 && n < 4)
                n++;
        }
    }
    lx->tlen = n;
    /* only a string over lines (a one-line one returned above) or an
     * unclosed one holds line breaks */
    if (lx->kind == T_OPEN_STRING || lx->kind == T_STRING)
        advance(lx, n);
    else
        advance_in_line(lx, n);
}

static void lexer_init(lexer *lx, const char *text, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->s = text;
    lx->len = len;
    lx->line = lx->col = 1;
    next(lx);
}

/* The current token for a message: 'text' (cut short) or end of file. */
static void token_text(const lexer *lx, char *buf, size_t size)
{
    if (lx->kind == T_EOF) {
        snprintf(buf, size, "end of file");
        return;
    }
    size_t n = 0;
    buf[n++] = '\'';
    for (size_t k = 0; k < lx->tlen && k < 40 && n + 8 < size; k++) {
        unsigned char ch = (unsigned char)lx->s[lx->start + k];
        /* control characters, and a byte that is no UTF-8 sequence, escaped */
        if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && lx->kind == T_GARBAGE && lx->tlen == 1))
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", ch);
        else
            buf[n++] = (char)ch;
    }
    if (lx->tlen > 40 && n + 5 < size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n++] = '\'';
    buf[n] = '\0';
}

static int fail_at(checker *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(checker *c, int line, int col, const char *fmt, ...)
{
    if (c->found)
        return -1;
    c->found = 1;
    c->line = line;
    c->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, c->size, fmt, ap);
    va_end(ap);
    return -1;
}

/* An error at the current token: "<what> near '<token>'", with hints for
 * the tokens people get wrong. */
static int fail_near(checker *c, const char *what)
{
    lexer *lx = &c->lx;
    char tok[64];
    token_text(lx, tok, sizeof tok);
    char hint[120] = "";
    if (lx->ml_from && (lx->kind == T_OPEN_STRING || lx->ml_to == lx->tline))
        snprintf(hint, sizeof hint,
                 " (the string opened at line %d runs on to line %d: a '\"' missing there?)",
                 lx->ml_from, lx->ml_to);
    if (lx->kind == T_OPEN_STRING)
        return fail_at(c, lx->tline, lx->tcol, "unterminated string (no closing '\"')%s",
                       hint);
    if (lx->kind == T_GARBAGE)
        return fail_at(c, lx->tline, lx->tcol, "unexpected character %s%s", tok,
                       lx->s[lx->start] == '\'' ? " (strings go in double quotes)" : "");
    return fail_at(c, lx->tline, lx->tcol, "%s near %s%s", what, tok, hint);
}

/* Setting names of one group, to find one used twice. */
typedef struct names {
    size_t *start, *len;
    int *line;
    size_t n, cap;
} names;

static int same_name(const lexer *lx, size_t a, size_t alen, size_t b, size_t blen)
{
    return alen == blen && memcmp(lx->s + a, lx->s + b, alen) == 0;
}

static size_t name_hash(const lexer *lx, size_t start, size_t len)
{
    size_t h = 1469598103934665603ULL;
    for (size_t k = 0; k < len; k++)
        h = (h ^ (unsigned char)lx->s[start + k]) * 1099511628211ULL;
    return h;
}

/* Adds the current NAME token; returns its earlier line if present, 0 if
 * new, -1 when out of memory (then duplicates go unnoticed). */
static int add_name(const lexer *lx, names *g)
{
    if ((g->n + 1) * 2 > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        names h = {calloc(cap, sizeof(size_t)), calloc(cap, sizeof(size_t)),
                   calloc(cap, sizeof(int)), g->n, cap};
        if (!h.start || !h.len || !h.line) {
            free(h.start);
            free(h.len);
            free(h.line);
            return -1;
        }
        for (size_t k = 0; k < g->cap; k++) {
            if (!g->len[k])
                continue;
            size_t j = name_hash(lx, g->start[k], g->len[k]) & (cap - 1);
            while (h.len[j])
                j = (j + 1) & (cap - 1);
            h.start[j] = g->start[k];
            h.len[j] = g->len[k];
            h.line[j] = g->line[k];
        }
        free(g->start);
        free(g->len);
        free(g->line);
        *g = h;
    }
    size_t j = name_hash(lx, lx->start, lx->tlen) & (g->cap - 1);
    for (; g->len[j]; j = (j + 1) & (g->cap - 1))
        if (same_name(lx, g->start[j], g->len[j], lx->start, lx->tlen))
            return g->line[j];
    g->start[j] = lx->start;
    g->len[j] = lx->tlen;
    g->line[j] = lx->tline;
    g->n++;
    return 0;
}

static int value(checker *c, int depth);

static int is_scalar(tkind k)
{
    return k == T_BOOL || k == T_INT || k == T_INT64 || k == T_HEX || k == T_HEX64 ||
           k == T_FLOAT || k == T_STRING;
}

/* The type libconfig gives a scalar token (hex is an int). */
static int scalar_type(tkind k)
{
    switch (k) {
    case T_HEX: return T_INT;
    case T_HEX64: return T_INT64;
    default: return (int)k;
    }
}

static const char *type_name(int t)
{
    switch (t) {
    case T_BOOL: return "a boolean";
    case T_INT: return "an integer";
    case T_INT64: return "a 64-bit integer";
    case T_FLOAT: return "a real number";
    default: return "a string";
    }
}

/* scalar := ... | STRING { STRING }   (the current token is a scalar) */
static void scalar(checker *c)
{
    tkind k = c->lx.kind;
    next(&c->lx);
    while (k == T_STRING && c->lx.kind == T_STRING)
        next(&c->lx);
}

/* '[' [ scalar { ',' scalar } ] ']'   (the '[' is current) */
static int array(checker *c)
{
    lexer *lx = &c->lx;
    int open_line = lx->tline, type = -1;
    char what[96];
    snprintf(what, sizeof what, "',' or ']' expected (to close '[' at line %d)", open_line);
    next(lx);
    if (lx->kind == T_ARRAY_CLOSE) {
        next(lx);
        return 0;
    }
    for (;;) {
        if (!is_scalar(lx->kind))
            return fail_near(c, lx->kind == T_ARRAY_CLOSE
                                    ? "value expected (no ',' after the last element)"
                                : lx->kind == T_GROUP_OPEN || lx->kind == T_LIST_OPEN ||
                                        lx->kind == T_ARRAY_OPEN
                                    ? "an array [ ... ] holds numbers, strings or booleans: "
                                      "use a list ( ... ) for groups or lists,"
                                    : "value expected");
        int t = scalar_type(lx->kind);
        if (type < 0) {
            type = t;
        } else if (t != type) {
            char tok[64];
            token_text(lx, tok, sizeof tok);
            char hint[100] = "";
            if (type == T_FLOAT && t == T_INT && lx->tlen < 40)
                snprintf(hint, sizeof hint, " (write %.*s.0)", (int)lx->tlen, lx->s + lx->start);
            return fail_at(c, lx->tline, lx->tcol,
                           "array elements must all be of one type: %s is %s, the first "
                           "element %s%s",
                           tok, type_name(t), type_name(type), hint);
        }
        scalar(c);
        if (lx->kind == T_ARRAY_CLOSE) {
            next(lx);
            return 0;
        }
        if (lx->kind != T_COMMA)
            return fail_near(c, what);
        next(lx);
        if (TRAILING_COMMA && lx->kind == T_ARRAY_CLOSE) {
            next(lx);
            return 0;
        }
    }
}

/* '(' [ value { ',' value } ] ')'   (the '(' is current) */
static int list(checker *c, int depth)
{
    lexer *lx = &c->lx;
    char what[96];
    snprintf(what, sizeof what, "',' or ')' expected (to close '(' at line %d)", lx->tline);
    next(lx);
    if (lx->kind == T_LIST_CLOSE) {
        next(lx);
        return 0;
    }
    for (;;) {
        if (lx->kind == T_LIST_CLOSE)
            return fail_near(c, "value expected (no ',' after the last element)");
        if (value(c, depth) != 0)
            return -1;
        if (lx->kind == T_LIST_CLOSE) {
            next(lx);
            return 0;
        }
        if (lx->kind != T_COMMA)
            return fail_near(c, what);
        next(lx);
        if (TRAILING_COMMA && lx->kind == T_LIST_CLOSE) {
            next(lx);
            return 0;
        }
    }
}

static int settings(checker *c, int depth, int open_line);

static int value(checker *c, int depth)
{
    lexer *lx = &c->lx;
    if (depth > MAX_NESTING)
        return -2; /* left to libconfig */
    if (is_scalar(lx->kind)) {
        scalar(c);
        return 0;
    }
    switch (lx->kind) {
    case T_ARRAY_OPEN: return array(c);
    case T_LIST_OPEN: return list(c, depth + 1);
    case T_GROUP_OPEN: {
        int line = lx->tline;
        next(lx);
        return settings(c, depth + 1, line);
    }
    default: return fail_near(c, "value expected");
    }
}

/* { setting } up to '}' (open_line > 0) or the end of the file. */
static int settings(checker *c, int depth, int open_line)
{
    lexer *lx = &c->lx;
    names seen = {0};
    int rc = 0;
    for (;;) {
        if (open_line > 0 && lx->kind == T_GROUP_CLOSE) {
            next(lx);
            break;
        }
        if (open_line == 0 && lx->kind == T_EOF)
            break;
        if (lx->kind != T_NAME) {
            char what[96];
            if (open_line > 0)
                snprintf(what, sizeof what,
                         "setting name or '}' expected (to close '{' at line %d)", open_line);
            else
                snprintf(what, sizeof what, "%s", lx->kind == T_GROUP_CLOSE ||
                                                          lx->kind == T_LIST_CLOSE ||
                                                          lx->kind == T_ARRAY_CLOSE
                                                      ? "unbalanced closing bracket"
                                                      : "setting name expected");
            rc = fail_near(c, what);
            break;
        }
        int first = add_name(lx, &seen);
        if (first > 0) {
            rc = fail_at(c, lx->tline, lx->tcol, "duplicate setting '%.*s' (first at line %d)",
                         (int)(lx->tlen > 100 ? 100 : lx->tlen), lx->s + lx->start, first);
            break;
        }
        char name[120];
        snprintf(name, sizeof name, "'=' expected after '%.*s'",
                 (int)(lx->tlen > 60 ? 60 : lx->tlen), lx->s + lx->start);
        next(lx);
        if (lx->kind != T_EQUALS) {
            rc = fail_near(c, name);
            break;
        }
        next(lx);
        if ((rc = value(c, depth)) != 0)
            break;
        if (lx->kind == T_SEMI || lx->kind == T_COMMA)
            next(lx);
    }
    free(seen.start);
    free(seen.len);
    free(seen.line);
    return rc;
}

int sg_cfg_diagnose(const char *text, size_t len, int *line, int *col, char *msg, size_t size)
{
    checker c = {.msg = msg, .size = size};
    lexer_init(&c.lx, text, len);
    settings(&c, 0, 0);
    if (!c.found)
        return 0;
    *line = c.line;
    *col = c.col;
    return 1;
}

/* A whole number token whose value libconfig would not keep: decimal
 * beyond INT_MIN..INT_MAX or hex beyond 0x7fffffff (stored in 32 bits),
 * decimal with L beyond 64 bits (saturated). */
static int too_big(const lexer *lx)
{
    const char *s = lx->s + lx->start;
    size_t n = lx->tlen, k = 0;
    if (lx->kind == T_HEX) {
        k = 2;
        while (k < n && s[k] == '0')
            k++;
        return n - k > 8 || (n - k == 8 && strchr("89abcdefABCDEF", s[k]));
    }
    while (n > 0 && s[n - 1] == 'L')
        n--;
    int neg = s[0] == '-';
    if (s[0] == '-' || s[0] == '+')
        k++;
    while (k < n - 1 && s[k] == '0')
        k++;
    const char *max = lx->kind == T_INT64 ? (neg ? "9223372036854775808" : "9223372036854775807")
                                          : (neg ? "2147483648" : "2147483647");
    size_t width = strlen(max);
    if (n - k != width)
        return n - k > width;
    return strncmp(s + k, max, width) > 0;
}

/* The top-level settings, for sg_cfg_precheck's `top`: where each starts
 * and how many tokens it has (what libconfig's reading of it costs). */
typedef struct top_reader {
    sg_cfg_top *top;
    int depth, usable;
    int element_next;      /* in a top-level list, after '(' or ',' */
    size_t last_comma;
    int cut_lists;         /* the text is large enough to be read in pieces */
} top_reader;

int sg_cfg_piece_elements = 2048;

/* Where a top-level list's value can be cut between elements: a list read
 * in pieces never has its whole tree in memory (load.c). The states of
 * sg_cfg_setting.list_state: */
enum { LIST_NO = -1, LIST_NAME = 1, LIST_EQUALS, LIST_OPEN, LIST_DONE };
_Static_assert((int)LIST_DONE == (int)SG_CFG_LIST, "model.h names the finished state");

static void note_list(top_reader *r, const lexer *lx)
{
    sg_cfg_top *top = r->top;
    if (top->count == 0 || !r->cut_lists)
        return;
    sg_cfg_setting *s = &top->setting[top->count - 1];
    switch (s->list_state) {
    case LIST_NAME: s->list_state = lx->kind == T_EQUALS ? LIST_EQUALS : LIST_NO; break;
    case LIST_EQUALS:
        s->list_state = lx->kind == T_LIST_OPEN && r->depth == 0 ? LIST_OPEN : LIST_NO;
        r->element_next = 1;
        break;
    case LIST_OPEN:
        if (r->depth != 1)
            break;
        if (lx->kind == T_LIST_CLOSE) {
            if (s->pieces > 0)
                top->piece[top->npieces - 1].end = lx->start;
            s->list_state = LIST_DONE;
        } else if (lx->kind == T_COMMA && !r->element_next) {
            r->last_comma = lx->start;
            r->element_next = 1;
        } else if (lx->kind != T_COMMA && r->element_next) {
            r->element_next = 0;
            s->elements++;
            if (s->pieces == 0 || top->piece[top->npieces - 1].count >= sg_cfg_piece_elements) {
                if (sg_grow(&top->piece, &top->piece_cap, top->npieces + 1, sizeof *top->piece)) {
                    s->list_state = LIST_NO;
                    top->nomem = 1; /* the load says so rather than quietly reading whole */
                    break;
                }
                if (s->pieces == 0)
                    s->first_piece = (int)top->npieces;
                else
                    top->piece[top->npieces - 1].end = r->last_comma;
                top->piece[top->npieces++] = (sg_cfg_piece){lx->start, 0, lx->tline, 0};
                s->pieces++;
            }
            top->piece[top->npieces - 1].count++;
        } else {
            s->list_state = LIST_NO; /* libconfig will refuse it: read whole */
        }
        break;
    default: break;
    }
}

void sg_cfg_top_free(sg_cfg_top *top)
{
    if (!top)
        return;
    sg_free(top->piece);
    top->piece = NULL;
    top->npieces = top->piece_cap = 0;
}

static void note_token(top_reader *r, const lexer *lx)
{
    sg_cfg_top *top = r->top;
    note_list(r, lx);
    if (top->count > 0)
        top->setting[top->count - 1].tokens++;
    switch (lx->kind) {
    case T_GROUP_OPEN:
    case T_LIST_OPEN:
    case T_ARRAY_OPEN: r->depth++; break;
    case T_GROUP_CLOSE:
    case T_LIST_CLOSE:
    case T_ARRAY_CLOSE:
        if (--r->depth < 0)
            r->usable = 0;
        break;
    case T_NAME: {
        /* outside brackets a name can only start a setting */
        if (r->depth != 0)
            break;
        if (top->count == SG_CFG_MAX_TOP) {
            r->usable = 0;
            break;
        }
        sg_cfg_setting *s = &top->setting[top->count++];
        s->name = lx->s + lx->start;
        s->name_len = lx->tlen;
        s->start = lx->start;
        s->line = lx->tline;
        s->col = lx->tcol;
        s->tokens = 1;
        s->list_state = LIST_NAME;
        s->elements = s->first_piece = s->pieces = 0;
        break;
    }
    default: break;
    }
}

/* Each setting's end; no layout (count 0) unless the brackets balance and
 * no name is used twice at the top (libconfig would refuse the text). */
static void finish_top(top_reader *r, size_t len)
{
    sg_cfg_top *top = r->top;
    if (!r->usable || r->depth != 0)
        top->count = 0;
    for (int i = 0; i < top->count; i++) {
        sg_cfg_setting *s = &top->setting[i];
        s->end = i + 1 < top->count ? top->setting[i + 1].start : len;
        for (int k = 0; k < i; k++)
            if (top->setting[k].name_len == s->name_len &&
                memcmp(top->setting[k].name, s->name, s->name_len) == 0)
                top->count = 0;
    }
}

/* Keys whose strings are text for people (names, units, descriptions,
 * sources, ids): they reach plot labels, the terminal and other programs,
 * so they hold no line break or tab either. Expression strings may span
 * lines (white space there). */
static int is_text_key(const char *name, size_t n)
{
    /* by length first: every string of a model asks (5.5 million of the
     * 10^5-species network), and most keys are none of these */
    switch (n) {
    case 2: return memcmp(name, "id", 2) == 0;
    case 4: return memcmp(name, "name", 4) == 0 || memcmp(name, "unit", 4) == 0;
    case 6: return memcmp(name, "source", 6) == 0;
    case 9: return memcmp(name, "time_unit", 9) == 0 || memcmp(name, "conc_unit", 9) == 0;
    case 11: return memcmp(name, "description", 11) == 0;
    default: return 0;
    }
}

/* A control character in the string token (as written, or as a libconfig
 * escape \n \r \t \f \xNN once decoded): C0, DEL, and C1 (U+0080..U+009F
 * in UTF-8, or \x80..\x9f) start terminal escape sequences and end gnuplot
 * commands. Raw line breaks and tabs are white space in expressions, so
 * refused only under a text key. Returns 0, or -1 with the place of the
 * character and a message. */
static int control_in_string(const lexer *lx, int text_key, const char *key, size_t key_len,
                             int *line, int *col, char *msg, size_t size)
{
    int l = lx->tline, c = lx->tcol + 1;
    const unsigned char *s = (const unsigned char *)lx->s + lx->start;
    for (size_t k = 1; k + 1 < lx->tlen; k++, c++) {
        unsigned ch = s[k];
        size_t width = 1;
        if (ch == '\\' && k + 2 < lx->tlen) {
            unsigned char e = s[k + 1];
            ch = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e == 'f' ? '\f' : 0;
            if (e == 'x' && k + 3 < lx->tlen && isxdigit(s[k + 2]) && isxdigit(s[k + 3])) {
                char hex[3] = {(char)s[k + 2], (char)s[k + 3], 0};
                ch = (unsigned)strtoul(hex, NULL, 16);
                width = 4;
            } else {
                width = 2;
            }
            if (ch != 0 && (ch < 0x20 || (ch >= 0x7f && ch < 0xa0)) &&
                (text_key || (ch != '\n' && ch != '\r' && ch != '\t')))
                goto refuse;
            k += width - 1;
            c += (int)width - 1;
            continue;
        }
        if (ch == 0xc2 && k + 2 < lx->tlen && s[k + 1] >= 0x80 && s[k + 1] < 0xa0) {
            ch = s[k + 1];
            goto refuse;
        }
        if (ch < 0x20 || ch == 0x7f) {
            if (!text_key && (ch == '\n' || ch == '\r' || ch == '\t')) {
                if (ch == '\n')
                    l++, c = 0;
                continue;
            }
            goto refuse;
        }
        continue;
    refuse:
        *line = l;
        *col = c;
        snprintf(msg, size,
                 "control character 0x%02x in the string of '%.*s': model strings must be "
                 "printable text%s",
                 ch, (int)(key_len > 40 ? 40 : key_len), key,
                 text_key ? " on one line (no line break or tab)" : "");
        return -1;
    }
    return 0;
}

int sg_cfg_precheck(const char *text, size_t len, int *line, int *col, char *msg, size_t size,
                    sg_cfg_top *top)
{
    const char *key = "";
    size_t key_len = 0;
    lexer lx;
    lexer_init(&lx, text, len);
    top_reader reader = {.top = top, .usable = 1, .cut_lists = len >= sg_cfg_piece_min_bytes};
    if (top) {
        top->count = 0;
        top->nomem = 0;
        top->control_line = 0;
        top->piece = NULL;
        top->npieces = top->piece_cap = 0;
    }
    for (; lx.kind != T_EOF; next(&lx)) {
        if (top)
            note_token(&reader, &lx);
        if (lx.kind == T_NAME) {
            key = lx.s + lx.start;
            key_len = lx.tlen;
        }
        if (lx.kind == T_STRING && (!top || !top->control_line)) {
            int cl, cc;
            char cmsg[200];
            if (control_in_string(&lx, is_text_key(key, key_len), key, key_len, &cl, &cc, cmsg,
                                  sizeof cmsg) != 0) {
                if (!top) {
                    *line = cl;
                    *col = cc;
                    snprintf(msg, size, "%s", cmsg);
                    return -1;
                }
                top->control_line = cl;
                top->control_col = cc;
                snprintf(top->control_msg, sizeof top->control_msg, "%s", cmsg);
            }
        }
        /* libconfig takes an open string or comment for the end of the
         * file: the rest of the model would be dropped without a word */
        if (lx.kind == T_OPEN_STRING) {
            *line = lx.tline;
            *col = lx.tcol;
            snprintf(msg, size, "unterminated string (no closing '\"')");
            if (lx.ml_from)
                snprintf(msg + strlen(msg), size - strlen(msg),
                         " (the string opened at line %d runs on to line %d: a '\"' missing "
                         "there?)",
                         lx.ml_from, lx.ml_to);
            return -1;
        }
        if (lx.kind == T_GARBAGE && lx.s[lx.start] == '@' && len - lx.start >= 8 &&
            memcmp(lx.s + lx.start, "@include", 8) == 0) {
            *line = lx.tline;
            *col = lx.tcol;
            snprintf(msg, size, "@include is not supported: a model is one file");
            return -1;
        }
        if ((lx.kind == T_INT || lx.kind == T_HEX || lx.kind == T_INT64) && too_big(&lx)) {
            int n = (int)(lx.tlen > 40 ? 40 : lx.tlen);
            *line = lx.tline;
            *col = lx.tcol;
            if (lx.kind == T_INT)
                snprintf(msg, size,
                         "the whole number %.*s does not fit in 32 bits, where libconfig "
                         "keeps whole numbers: write it as a real number (%.*s.0)",
                         n, lx.s + lx.start, n, lx.s + lx.start);
            else
                snprintf(msg, size, "the whole number %.*s is too large for libconfig%s", n,
                         lx.s + lx.start,
                         lx.kind == T_HEX ? ": write it with the suffix L (64 bits)" : "");
            return -1;
        }
    }
    if (lx.open_comment) {
        *line = lx.oc_line;
        *col = lx.oc_col;
        snprintf(msg, size, "unterminated comment (no closing '*/')");
        return -1;
    }
    if (top)
        finish_top(&reader, len);
    return 0;
}

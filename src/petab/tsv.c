/*
 * Strict tab-separated tables (PEtab's format): a header row of unique
 * names, then rows with exactly as many fields. Fields are trimmed of
 * spaces and a trailing carriage return; blank lines at the end are
 * allowed, blank lines inside are not (a silently dropped row would be a
 * silently dropped measurement).
 */
#include <errno.h>
#include <string.h>

#include "petab.h"

/* A table of more than this many bytes is refused (a measurement table of
 * the benchmark collection is below 10 MB). */
#define SG_TSV_MAX_BYTES (256L * 1024 * 1024)

static char *read_file(const char *path, size_t *len, sg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot read: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = sg_malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap > (size_t)SG_TSV_MAX_BYTES) {
                sg_free(buf);
                fclose(f);
                sg_error_set(err, SG_ERR_LIMIT, path, 0, 0, "table larger than %ld bytes",
                             SG_TSV_MAX_BYTES);
                return NULL;
            }
            char *bigger = sg_realloc(buf, cap * 2);
            if (!bigger) {
                sg_free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf) {
        sg_error_nomem(err);
        return NULL;
    }
    if (bad) {
        sg_free(buf);
        sg_error_set(err, SG_ERR_IO, path, 0, 0, "read error");
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        sg_free(buf);
        sg_error_set(err, SG_ERR_MODEL, path, 0, 0, "a NUL byte: not a text table");
        return NULL;
    }
    *len = n;
    return buf;
}

static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Splits a line in place at tabs; returns the number of fields (at most
 * max are stored). */
static int split(char *line, char **fields, int max)
{
    int n = 0;
    for (char *p = line;;) {
        char *tab = strchr(p, '\t');
        if (tab)
            *tab = '\0';
        if (n < max)
            fields[n] = trim(p);
        n++;
        if (!tab)
            return n;
        p = tab + 1;
    }
}

/* Positions in messages are table columns (1-based fields), not
 * characters: "file:row:column". */
static int field_column(const char *original, int k)
{
    (void)original;
    return k + 1;
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return 1;
    return 0;
}

sg_status sg_tsv_read(const char *path, sg_tsv *tsv, sg_error *err)
{
    memset(tsv, 0, sizeof *tsv);
    size_t len = 0;
    char *text = read_file(path, &len, err);
    if (!text)
        return err ? err->status : SG_ERR_IO;
    sg_status st = SG_OK;
    tsv->arena = sg_arena_create();
    if (!tsv->arena || !(tsv->path = sg_arena_strdup(tsv->arena, path))) {
        st = sg_error_nomem(err);
        goto done;
    }
    /* lines: count them, then split */
    int nlines = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            nlines++;
    char **lines = sg_arena_alloc(tsv->arena, sizeof *lines * (size_t)nlines);
    char **copies = sg_arena_alloc(tsv->arena, sizeof *copies * (size_t)nlines);
    if (!lines || !copies) {
        st = sg_error_nomem(err);
        goto done;
    }
    int n = 0;
    for (char *p = text; p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lines[n++] = p;
        p = nl ? nl + 1 : NULL;
    }
    /* blank lines at the end do not count */
    while (n > 0 && trim(lines[n - 1])[0] == '\0')
        n--;
    if (n == 0) {
        st = sg_error_set(err, SG_ERR_MODEL, path, 1, 1, "empty table: no header row");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        size_t l = strlen(lines[i]);
        if (l > 0 && lines[i][l - 1] == '\r') /* CRLF line end */
            lines[i][l - 1] = '\0';
        if (has_control(lines[i])) {
            int field = 0, k = 0;
            for (; (unsigned char)lines[i][k] >= 0x20 || lines[i][k] == '\t'; k++)
                field += lines[i][k] == '\t';
            st = sg_error_set(err, SG_ERR_MODEL, path, i + 1, field + 1,
                              "control character 0x%02x in the table",
                              (unsigned char)lines[i][k]);
            goto done;
        }
        if (!(copies[i] = sg_arena_strdup(tsv->arena, lines[i]))) {
            st = sg_error_nomem(err);
            goto done;
        }
    }
    int ncols = 1;
    for (const char *c = lines[0]; *c; c++)
        ncols += *c == '\t';
    tsv->header = sg_arena_alloc(tsv->arena, sizeof *tsv->header * (size_t)ncols);
    if (!tsv->header) {
        st = sg_error_nomem(err);
        goto done;
    }
    split(lines[0], tsv->header, ncols);
    tsv->ncols = ncols;
    for (int c = 0; c < ncols; c++) {
        if (!tsv->header[c][0]) {
            st = sg_error_set(err, SG_ERR_MODEL, path, 1, field_column(copies[0], c),
                              "empty column name in the header (column %d)", c + 1);
            goto done;
        }
        for (int d = 0; d < c; d++)
            if (!strcmp(tsv->header[c], tsv->header[d])) {
                st = sg_error_set(err, SG_ERR_MODEL, path, 1, field_column(copies[0], c),
                                  "column '%s' appears twice in the header (columns %d and "
                                  "%d)", tsv->header[c], d + 1, c + 1);
                goto done;
            }
    }
    tsv->nrows = n - 1;
    tsv->cells = sg_arena_alloc(tsv->arena, sizeof *tsv->cells * ((size_t)tsv->nrows * (size_t)ncols + 1));
    tsv->line = sg_arena_alloc(tsv->arena, sizeof *tsv->line * ((size_t)tsv->nrows + 1));
    if (!tsv->cells || !tsv->line) {
        st = sg_error_nomem(err);
        goto done;
    }
    for (int r = 0; r < tsv->nrows; r++) {
        char *line = lines[r + 1];
        tsv->line[r] = r + 2;
        if (trim(line)[0] == '\0') {
            st = sg_error_set(err, SG_ERR_MODEL, path, r + 2, 1,
                              "blank row inside the table");
            goto done;
        }
        int got = split(line, tsv->cells + (size_t)r * (size_t)ncols, ncols);
        if (got != ncols) {
            int col = got > ncols ? ncols + 1 : got;
            st = sg_error_set(err, SG_ERR_MODEL, path, r + 2, col,
                              "row has %d fields, the header has %d", got, ncols);
            goto done;
        }
        /* the cells point into `text`: copy them into the arena */
        for (int c = 0; c < ncols; c++) {
            char **cell = &tsv->cells[(size_t)r * (size_t)ncols + (size_t)c];
            if (!(*cell = sg_arena_strdup(tsv->arena, *cell))) {
                st = sg_error_nomem(err);
                goto done;
            }
        }
    }
    for (int c = 0; c < ncols; c++)
        if (!(tsv->header[c] = sg_arena_strdup(tsv->arena, tsv->header[c]))) {
            st = sg_error_nomem(err);
            goto done;
        }
done:
    sg_free(text);
    if (st != SG_OK) {
        sg_arena_free(tsv->arena);
        memset(tsv, 0, sizeof *tsv);
    }
    return st;
}

void sg_tsv_free(sg_tsv *tsv)
{
    if (tsv && tsv->arena)
        sg_arena_free(tsv->arena);
    if (tsv)
        memset(tsv, 0, sizeof *tsv);
}

const char *sg_tsv_row_path(const sg_tsv *tsv, int row)
{
    return tsv->row_path && row >= 0 && row < tsv->nrows ? tsv->row_path[row] : tsv->path;
}

int sg_tsv_file_column(const sg_tsv *tsv, int row, int col)
{
    return tsv->row_columns && row >= 0 && row < tsv->nrows && tsv->row_columns[row]
               ? tsv->row_columns[row][col]
               : col;
}

/* Appends the rows of `more` to `into`, columns matched by name. */
static sg_status append_table(sg_tsv *into, const sg_tsv *more, sg_error *err)
{
    int extra = 0;
    for (int c = 0; c < more->ncols; c++)
        extra += sg_tsv_column(into, more->header[c]) < 0;
    size_t ncols = (size_t)into->ncols + (size_t)extra;
    size_t nrows = (size_t)into->nrows + (size_t)more->nrows;
    char **header = sg_arena_alloc(into->arena, sizeof *header * (ncols + 1));
    char **cells = sg_arena_alloc(into->arena, sizeof *cells * (nrows * ncols + 1));
    int *line = sg_arena_alloc(into->arena, sizeof *line * (nrows + 1));
    const char **row_path = sg_arena_alloc(into->arena, sizeof *row_path * (nrows + 1));
    const int **row_columns = sg_arena_alloc(into->arena, sizeof *row_columns * (nrows + 1));
    int *more_columns = sg_arena_alloc(into->arena, sizeof *more_columns * (ncols + 1));
    const char *more_path = sg_arena_strdup(into->arena, more->path);
    if (!header || !cells || !line || !row_path || !row_columns || !more_columns || !more_path)
        return sg_error_nomem(err);
    memcpy(header, into->header, sizeof *header * (size_t)into->ncols);
    int next = into->ncols;
    for (int c = 0; c < more->ncols; c++)
        if (sg_tsv_column(into, more->header[c]) < 0 &&
            !(header[next++] = sg_arena_strdup(into->arena, more->header[c])))
            return sg_error_nomem(err);
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++)
            cells[r * ncols + c] = "";
    for (int r = 0; r < into->nrows; r++) {
        for (int c = 0; c < into->ncols; c++)
            cells[(size_t)r * ncols + (size_t)c] = (char *)sg_tsv_cell(into, r, c);
        line[r] = into->line[r];
        row_path[r] = sg_tsv_row_path(into, r);
        row_columns[r] = into->row_columns ? into->row_columns[r] : NULL;
    }
    into->header = header;
    into->ncols = (int)ncols;
    for (size_t c = 0; c < ncols; c++)
        more_columns[c] = sg_tsv_column(more, header[c]);
    /* the rows before: their files lack the columns added now (rows of
     * one file are consecutive and share one map) */
    size_t old_ncols = ncols - (size_t)extra;
    const int *last_old = NULL;
    int *last_new = NULL;
    for (int r = 0; extra > 0 && r < into->nrows; r++) {
        if (!last_new || row_columns[r] != last_old) {
            last_old = row_columns[r];
            if (!(last_new = sg_arena_alloc(into->arena, sizeof *last_new * (ncols + 1))))
                return sg_error_nomem(err);
            for (size_t c = 0; c < ncols; c++)
                last_new[c] = c >= old_ncols ? -1 : last_old ? last_old[c] : (int)c;
        }
        row_columns[r] = last_new;
    }
    for (int r = 0; r < more->nrows; r++) {
        size_t row = (size_t)into->nrows + (size_t)r;
        for (int c = 0; c < more->ncols; c++) {
            char *copy = sg_arena_strdup(into->arena, sg_tsv_cell(more, r, c));
            if (!copy)
                return sg_error_nomem(err);
            cells[row * ncols + (size_t)sg_tsv_column(into, more->header[c])] = copy;
        }
        line[row] = more->line[r];
        row_path[row] = more_path;
        row_columns[row] = more_columns;
    }
    into->cells = cells;
    into->line = line;
    into->row_path = row_path;
    into->row_columns = row_columns;
    into->nrows = (int)nrows;
    return SG_OK;
}

sg_status sg_tsv_read_all(const char *const *paths, int n, sg_tsv *tsv, sg_error *err)
{
    sg_status st = sg_tsv_read(paths[0], tsv, err);
    for (int i = 1; i < n && st == SG_OK; i++) {
        sg_tsv more;
        if ((st = sg_tsv_read(paths[i], &more, err)) == SG_OK) {
            st = append_table(tsv, &more, err);
            sg_tsv_free(&more);
        }
    }
    if (st != SG_OK)
        sg_tsv_free(tsv);
    return st;
}

int sg_tsv_column(const sg_tsv *tsv, const char *name)
{
    for (int c = 0; c < tsv->ncols; c++)
        if (!strcmp(tsv->header[c], name))
            return c;
    return -1;
}

const char *sg_tsv_cell(const sg_tsv *tsv, int row, int col)
{
    return tsv->cells[(size_t)row * (size_t)tsv->ncols + (size_t)col];
}

sg_status sg_tsv_build(sg_tsv *tsv, const char *label, int ncols, const char *const *header,
                       sg_error *err)
{
    memset(tsv, 0, sizeof *tsv);
    if (!(tsv->arena = sg_arena_create()) || !(tsv->path = sg_arena_strdup(tsv->arena, label)) ||
        !(tsv->header = sg_arena_alloc(tsv->arena, sizeof(char *) * ((size_t)ncols + 1)))) {
        sg_tsv_free(tsv);
        return sg_error_nomem(err);
    }
    tsv->ncols = ncols;
    for (int c = 0; c < ncols; c++)
        if (!(tsv->header[c] = sg_arena_strdup(tsv->arena, header[c]))) {
            sg_tsv_free(tsv);
            return sg_error_nomem(err);
        }
    return SG_OK;
}

sg_status sg_tsv_add_row(sg_tsv *tsv, const char *const *cells, int line, sg_error *err)
{
    size_t n = (size_t)tsv->ncols;
    char **grown = sg_arena_alloc(tsv->arena, sizeof(char *) * ((size_t)tsv->nrows + 1) * n + 1);
    int *lines = sg_arena_alloc(tsv->arena, sizeof(int) * ((size_t)tsv->nrows + 1));
    if (!grown || !lines)
        return sg_error_nomem(err);
    if (tsv->nrows) {
        memcpy(grown, tsv->cells, sizeof(char *) * (size_t)tsv->nrows * n);
        memcpy(lines, tsv->line, sizeof(int) * (size_t)tsv->nrows);
    }
    for (size_t c = 0; c < n; c++)
        if (!(grown[(size_t)tsv->nrows * n + c] = sg_arena_strdup(tsv->arena, cells[c])))
            return sg_error_nomem(err);
    lines[tsv->nrows] = line;
    tsv->cells = grown;
    tsv->line = lines;
    tsv->nrows++;
    return SG_OK;
}

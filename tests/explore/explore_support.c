/* Helpers of the explorer tests (see explore_support.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "explore_support.h"

static int wait_exit(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ex_run_pty(const char *const *argv, char **tty)
{
    *tty = NULL;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
        return -1;
    const char *slave_name = ptsname(master);
    if (!slave_name) {
        close(master);
        return -1;
    }
    char slave_path[256];
    snprintf(slave_path, sizeof slave_path, "%s", slave_name);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(master);
        return -1;
    }
    if (pid == 0) {
        setsid();
        int slave = open(slave_path, O_RDWR);
        int devnull = open("/dev/null", O_WRONLY);
        if (slave < 0 || devnull < 0)
            _exit(126);
        close(master);
        dup2(slave, 0);
        dup2(devnull, 1);
        dup2(slave, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    /* read until the child has closed the terminal (EIO on Linux) */
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t got = read(master, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    close(master);
    *tty = buf;
    return wait_exit(pid);
}

/* ------------------------------------------------------------------ CSV */

static char **split_fields(const char *line, size_t len, int *count)
{
    int cap = 8, n = 0;
    char **f = malloc(sizeof *f * (size_t)cap);
    size_t i = 0;
    for (;;) {
        char *cell = malloc(len + 1);
        size_t k = 0;
        if (i < len && line[i] == '"') {
            i++;
            while (i < len) {
                if (line[i] == '"' && i + 1 < len && line[i + 1] == '"') {
                    cell[k++] = '"';
                    i += 2;
                } else if (line[i] == '"') {
                    i++;
                    break;
                } else {
                    cell[k++] = line[i++];
                }
            }
        } else {
            while (i < len && line[i] != ',')
                cell[k++] = line[i++];
        }
        cell[k] = '\0';
        if (n == cap) {
            cap *= 2;
            f = realloc(f, sizeof *f * (size_t)cap);
        }
        f[n++] = cell;
        if (i < len && line[i] == ',') {
            i++;
            continue;
        }
        break;
    }
    *count = n;
    return f;
}

ex_csv *ex_csv_parse(const char *text)
{
    assert_non_null(text);
    ex_csv *t = calloc(1, sizeof *t);
    const char *p = text;
    int rows_cap = 0;
    int header = 1;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            fail_msg("CSV line without a final newline: '%s'", p);
        size_t len = (size_t)(nl - p);
        int n;
        char **f = split_fields(p, len, &n);
        if (header) {
            t->ncols = n;
            t->names = f;
            header = 0;
        } else {
            if (n != t->ncols)
                fail_msg("CSV row %d has %d fields, the header %d: '%.*s'", t->nrows + 1, n,
                         t->ncols, (int)len, p);
            if (t->nrows == rows_cap) {
                rows_cap = rows_cap ? rows_cap * 2 : 64;
                t->v = realloc(t->v, sizeof *t->v * (size_t)rows_cap * (size_t)t->ncols);
                t->text = realloc(t->text, sizeof *t->text * (size_t)rows_cap * (size_t)t->ncols);
            }
            for (int c = 0; c < n; c++) {
                char *end;
                double x = strtod(f[c], &end);
                if (!*f[c] || *end)
                    x = NAN;
                t->v[(size_t)t->nrows * (size_t)t->ncols + (size_t)c] = x;
                t->text[(size_t)t->nrows * (size_t)t->ncols + (size_t)c] = f[c];
            }
            free(f);
            t->nrows++;
        }
        p = nl + 1;
    }
    assert_true(t->ncols > 0);
    return t;
}

void ex_csv_free(ex_csv *t)
{
    if (!t)
        return;
    for (int c = 0; c < t->ncols; c++)
        free(t->names[c]);
    free(t->names);
    for (size_t i = 0; i < (size_t)t->nrows * (size_t)t->ncols; i++)
        free(t->text[i]);
    free(t->text);
    free(t->v);
    free(t);
}

int ex_csv_col(const ex_csv *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (!strcmp(t->names[c], name))
            return c;
    fail_msg("no column '%s' in the table", name);
    return -1;
}

double ex_csv_get(const ex_csv *t, int row, int col)
{
    assert_true(row >= 0 && row < t->nrows && col >= 0 && col < t->ncols);
    return t->v[(size_t)row * (size_t)t->ncols + (size_t)col];
}

const char *ex_csv_text(const ex_csv *t, int row, int col)
{
    assert_true(row >= 0 && row < t->nrows && col >= 0 && col < t->ncols);
    return t->text[(size_t)row * (size_t)t->ncols + (size_t)col];
}

double ex_rel(double a, double b)
{
    return b != 0 ? fabs(a - b) / fabs(b) : fabs(a - b);
}

char *ex_cli(int rc, const char *const *argv, char **err)
{
    char *out = NULL, *e = NULL;
    int got = ts_run(argv, &out, &e);
    if (got != rc) {
        char cmd[2048] = "";
        for (int i = 0; argv[i]; i++) {
            strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 2);
            strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
        }
        fail_msg("'%s' exited %d (expected %d); stderr:\n%s", cmd, got, rc, e);
    }
    if (err)
        *err = e;
    else
        free(e);
    return out;
}

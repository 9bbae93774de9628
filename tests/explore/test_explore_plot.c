/*
 * Plots: --plot on run and scan writes a valid, non-empty PNG (signature,
 * IHDR first, IEND last with its fixed CRC) or SVG (well-formed XML with an
 * <svg> root); without gnuplot on PATH it is a clear error with exit
 * status 2 and no file (a previous file is kept). The validity tests are
 * skipped when gnuplot is not installed.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "explore_support.h"

#define MM EX_MODEL("mm_inhibition.cfg")
#define HILL EX_MODEL("hill_exact.cfg")

static int have_gnuplot(void)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin");
    int found = 0;
    for (char *dir = strtok(copy, ":"); dir && !found; dir = strtok(NULL, ":")) {
        char *p = ts_path(dir, "gnuplot");
        found = access(p, X_OK) == 0;
        free(p);
    }
    free(copy);
    return found;
}

static void assert_png(const char *path)
{
    size_t n = 0;
    unsigned char *b = (unsigned char *)ts_read_file(path, &n);
    assert_non_null(b);
    assert_true(n > 8 + 25 + 12 + 100); /* signature, IHDR, IEND and some image */
    assert_memory_equal(b, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(b + 8, "\0\0\0\x0dIHDR", 8);
    unsigned width = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
    unsigned height = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
    assert_true(width >= 100 && height >= 100);
    /* the IEND chunk closes the file: length 0, type, CRC ae426082 */
    assert_memory_equal(b + n - 12, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
    /* the chunks chain from IHDR to IEND */
    size_t at = 8;
    int chunks = 0, idat = 0;
    while (at + 12 <= n) {
        size_t len = (size_t)b[at] << 24 | (size_t)b[at + 1] << 16 | (size_t)b[at + 2] << 8 |
                     b[at + 3];
        idat += !memcmp(b + at + 4, "IDAT", 4);
        chunks++;
        if (!memcmp(b + at + 4, "IEND", 4))
            break;
        at += 12 + len;
    }
    assert_int_equal(at, n - 12);
    assert_true(chunks >= 3 && idat >= 1);
    free(b);
}

/* Well-formedness: declarations, comments, CDATA, balanced and matching
 * tags with quoted attributes, one root element named svg. */
static void assert_svg(const char *path)
{
    size_t n = 0;
    char *s = ts_read_file(path, &n);
    assert_non_null(s);
    assert_true(n > 200);
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    assert_true(!strncmp(p, "<?xml", 5) || !strncmp(p, "<svg", 4));
    const char *end = s + n;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    assert_true(end - s >= 6 && !strncmp(end - 6, "</svg>", 6));
    char *stack[256];
    int depth = 0, roots = 0;
    char root[16] = "";
    while ((p = strchr(p, '<')) != NULL && p < end) {
        if (!strncmp(p, "<?", 2)) {
            p = strstr(p, "?>");
            assert_non_null(p);
            p += 2;
        } else if (!strncmp(p, "<!--", 4)) {
            p = strstr(p, "-->");
            assert_non_null(p);
            p += 3;
        } else if (!strncmp(p, "<![CDATA[", 9)) {
            p = strstr(p, "]]>");
            assert_non_null(p);
            p += 3;
        } else if (!strncmp(p, "<!", 2)) { /* DOCTYPE, perhaps with [ ... ] */
            int bracket = 0;
            for (p += 2; *p && (bracket || *p != '>'); p++)
                bracket += (*p == '[') - (*p == ']');
            assert_true(*p == '>');
            p++;
        } else {
            int closing = p[1] == '/';
            const char *name = p + 1 + closing;
            size_t len = strcspn(name, " \t\r\n/>");
            assert_true(len > 0);
            const char *q = name + len;
            char quote = 0;
            for (; *q && (quote || *q != '>'); q++) {
                if (quote && *q == quote)
                    quote = 0;
                else if (!quote && (*q == '"' || *q == '\''))
                    quote = *q;
            }
            assert_true(*q == '>');
            int empty = q[-1] == '/';
            if (closing) {
                assert_true(depth > 0);
                depth--;
                if (strlen(stack[depth]) != len || strncmp(stack[depth], name, len))
                    fail_msg("</%.*s> closes <%s>", (int)len, name, stack[depth]);
                free(stack[depth]);
            } else {
                if (depth == 0) {
                    roots++;
                    snprintf(root, sizeof root, "%.*s", (int)(len < 15 ? len : 15), name);
                }
                if (!empty) {
                    assert_true(depth < 256);
                    stack[depth++] = strndup(name, len);
                }
            }
            p = q + 1;
        }
    }
    assert_int_equal(depth, 0);
    assert_int_equal(roots, 1);
    assert_string_equal(root, "svg");
    assert_true(strstr(s, "<path") || strstr(s, "<polyline")); /* something is drawn */
    free(s);
}

/* The directory holds exactly the named file (nothing half-written). */
static void assert_only(const char *dir, const char *name)
{
    char *path = ts_path(dir, name);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    free(path);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *ls = popen(cmd, "r");
    assert_non_null(ls);
    int count = -1;
    assert_int_equal(fscanf(ls, "%d", &count), 1);
    pclose(ls);
    assert_int_equal(count, 1);
}

static void run_plot(const char *command, const char *model, const char *file,
                     const char *const *args, int png)
{
    if (!have_gnuplot())
        skip();
    char *dir = ts_temp_dir();
    char *path = ts_path(dir, file);
    const char *argv[40] = {SIGODE_BINARY, command, model};
    int n = 3;
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n++] = "--plot";
    argv[n++] = path;
    argv[n] = NULL;
    char *out = ex_cli(0, argv, NULL);
    assert_true(strlen(out) > 10); /* the table still goes to standard output */
    if (png)
        assert_png(path);
    else
        assert_svg(path);
    /* only the plot is left beside it: no data, script or temporary file */
    assert_only(dir, file);
    free(out);
    unlink(path);
    free(path);
    ts_remove_dir(dir);
    free(dir);
}

static const char *const run_args[] = {"--scenario", "baseline", NULL};
static const char *const scan_args[] = {"--target", "I", "--from", "0.1", "--to", "100",
                                        "--points", "13", "--log", "--scenario", "steady",
                                        "--readout", "R,bump,flat", "--fit", "hill", NULL};

static void plot_run_png(void **state)
{
    (void)state;
    run_plot("run", MM, "run.png", run_args, 1);
}
static void plot_run_svg(void **state)
{
    (void)state;
    run_plot("run", MM, "run.svg", run_args, 0);
}
static void plot_scan_png(void **state)
{
    (void)state;
    run_plot("scan", HILL, "scan.png", scan_args, 1);
}
static void plot_scan_svg(void **state)
{
    (void)state;
    run_plot("scan", HILL, "scan.svg", scan_args, 0);
}

/* No gnuplot on PATH: exit 2, a message naming gnuplot, no plot file, and
 * a previous file is not replaced. The binary is run by its full path, so
 * an empty PATH only hides gnuplot. */
static void plot_without_gnuplot(void **state)
{
    (void)state;
    char *dir = ts_temp_dir();
    char *empty = ts_path(dir, "empty");
    assert_int_equal(mkdir(empty, 0700), 0);
    char *png = ts_path(dir, "out.png"), *svg = ts_path(dir, "out.svg");
    char path_env[600];
    snprintf(path_env, sizeof path_env, "PATH=%s", empty);
    const char *env[] = {path_env, "LC_ALL=C", NULL};
    const char *run[] = {SIGODE_BINARY, "run", MM, "--plot", png, NULL};
    const char *scan[] = {SIGODE_BINARY, "scan", HILL, "--scenario", "steady", "--target", "I",
                          "--values", "0.1,1,3,10,100", "--readout", "R", "--plot", svg, NULL};
    const char *const *cases[] = {run, scan};
    for (int k = 0; k < 2; k++) {
        char *out = NULL, *err = NULL;
        assert_int_equal(ts_run_env(cases[k], env, &out, &err), 2);
        assert_non_null(strstr(err, "gnuplot"));
        assert_non_null(strstr(err, "not installed"));
        free(out);
        free(err);
    }
    struct stat sb;
    assert_int_not_equal(stat(png, &sb), 0);
    assert_int_not_equal(stat(svg, &sb), 0);
    /* PATH=/nonexistent does the same */
    const char *env2[] = {"PATH=/nonexistent", NULL};
    assert_int_equal(ts_write_file(png, "previous", 8), 0);
    char *err = NULL;
    assert_int_equal(ts_run_env(run, env2, NULL, &err), 2);
    assert_non_null(strstr(err, "gnuplot"));
    free(err);
    char *kept = ts_read_file(png, NULL);
    assert_string_equal(kept, "previous");
    free(kept);
    rmdir(empty);
    assert_only(dir, "out.png"); /* no temporary left either */
    free(empty);
    free(png);
    free(svg);
    ts_remove_dir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plot_run_png),  cmocka_unit_test(plot_run_svg),
        cmocka_unit_test(plot_scan_png), cmocka_unit_test(plot_scan_svg),
        cmocka_unit_test(plot_without_gnuplot),
    };
    return cmocka_run_group_tests_name("explore_plot", tests, NULL, NULL);
}

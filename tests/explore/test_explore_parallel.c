/*
 * Parallel scans, failing scan points and the progress bar.
 *   - `--jobs 1`, `--jobs 2` and the default (all cores) give byte-identical
 *     tables for 200-point scans of a dense model (mm_inhibition) and of a
 *     120-species chain generated here (above 100 states: KLU), and for a
 *     2-D grid;
 *   - a point that fails (blowup: X = 1/(1 - a t) blows up at t = 1/a, or
 *     --max-steps too small for the fast-growing points) has `nan` readouts
 *     and a `status` column, the other rows are complete, exit status 1;
 *   - the progress bar appears on a terminal (a pseudo-terminal here) for a
 *     scan longer than a second, and never when standard error is a pipe.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "explore_support.h"

#define MM EX_MODEL("mm_inhibition.cfg")
#define BLISS EX_MODEL("bliss.cfg")
#define BLOWUP EX_MODEL("blowup.cfg")

#define CHAIN_LENGTH 120

/* A chain ks -> X0 -> X1 -> ... -> X119 ->, saturable steps, in dir. */
static char *write_chain(const char *dir)
{
    char *path = ts_path(dir, "chain.cfg");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "name = \"chain\";\nparameters = ( { id = \"ks\"; value = 1.0; }, "
               "{ id = \"k\"; value = 2.0; }, { id = \"K\"; value = 0.5; } );\nspecies = (\n");
    for (int i = 0; i < CHAIN_LENGTH; i++)
        fprintf(f, "  { id = \"X%d\"; initial = 0.0; }%s\n", i, i + 1 < CHAIN_LENGTH ? "," : "");
    fprintf(f, ");\nreactions = (\n  { id = \"make\"; equation = \"-> X0\"; rate = \"ks\"; },\n");
    for (int i = 0; i + 1 < CHAIN_LENGTH; i++)
        fprintf(f, "  { id = \"r%d\"; equation = \"X%d -> X%d\"; rate = \"k * X%d / (K + X%d)\"; },\n",
                i, i, i + 1, i, i);
    fprintf(f, "  { id = \"out\"; equation = \"X%d ->\"; rate = \"k * X%d\"; }\n);\n",
            CHAIN_LENGTH - 1, CHAIN_LENGTH - 1);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Runs argv three times with --jobs 1, --jobs 2 and no --jobs (argv ends
 * with three NULLs: room for the option); requires the same output and
 * exit status. */
static char *same_for_all_jobs(const char **argv, int rc)
{
    int nargs = 0;
    while (argv[nargs])
        nargs++;
    char *first = NULL;
    const char *jobs[][2] = {{"--jobs", "1"}, {"--jobs", "2"}, {NULL, NULL}};
    for (int k = 0; k < 3; k++) {
        argv[nargs] = jobs[k][0];
        argv[nargs + 1] = jobs[k][1];
        char *out = NULL;
        int got = ts_run(argv, &out, NULL);
        assert_int_equal(got, rc);
        if (!first) {
            first = out;
        } else {
            assert_int_equal(strlen(out), strlen(first));
            assert_memory_equal(out, first, strlen(first));
            free(out);
        }
    }
    argv[nargs] = NULL;
    return first;
}

static void parallel_dense_identical(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", MM, "--target", "I", "--from", "0.001",
                          "--to", "1000", "--points", "200", "--log", "--readout",
                          "P,P_exact_steady", "--at", "3,40", NULL, NULL, NULL};
    char *out = same_for_all_jobs(argv, 0);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 200);
    int p = ex_csv_col(t, "P@40"), exact = ex_csv_col(t, "P_exact_steady@40");
    for (int r = 0; r < 200; r++)
        assert_true(ex_rel(ex_csv_get(t, r, p), ex_csv_get(t, r, exact)) < 1e-5);
    ex_csv_free(t);
    free(out);
}

static void parallel_klu_identical(void **state)
{
    (void)state;
    char *dir = ts_temp_dir();
    char *chain = write_chain(dir);
    /* more than 100 states: the sparse solver */
    const char *stats[] = {SIGODE_BINARY, "run", chain, "--t-end", "1", "--select", "X0",
                           "--stats", NULL};
    char *err = NULL;
    free(ex_cli(0, stats, &err));
    assert_non_null(strstr(err, "solver: KLU"));
    free(err);
    const char *argv[] = {SIGODE_BINARY, "scan", chain, "--target", "ks", "--from", "0.1",
                          "--to", "1.5", "--points", "200", "--readout", "X0,X60,X119",
                          "--at", "5,20", NULL, NULL, NULL};
    char *out = same_for_all_jobs(argv, 0);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 200);
    assert_int_equal(t->ncols, 7);
    for (int r = 0; r < 200; r++)
        for (int c = 0; c < 7; c++)
            assert_true(isfinite(ex_csv_get(t, r, c)));
    ex_csv_free(t);
    free(out);
    free(chain);
    ts_remove_dir(dir);
    free(dir);
}

static void parallel_grid_identical(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", BLISS, "--scenario", "steady", "--target", "A",
                          "--from", "0", "--to", "5", "--points", "15", "--target2", "B",
                          "--from2", "0", "--to2", "8", "--points2", "14", NULL, NULL, NULL};
    char *out = same_for_all_jobs(argv, 0);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 15 * 14);
    ex_csv_free(t);
    free(out);
}

/* X(3) = 1 / (1 - 3 a) for a < 1/3; the run fails for a >= 1/3. */
static void failed_points(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", BLOWUP, "--scenario", "span", "--target", "a",
                          "--values", "0.01,0.1,0.4,0.2,0.5,0.3", NULL, NULL, NULL};
    char *out = same_for_all_jobs(argv, 1);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->ncols, 3);
    assert_string_equal(t->names[2], "status");
    assert_int_equal(t->nrows, 6);
    int failed = 0;
    for (int r = 0; r < 6; r++) {
        double a = ex_csv_get(t, r, 0), x = ex_csv_get(t, r, 1);
        const char *status = ex_csv_text(t, r, 2);
        if (a < 1.0 / 3) {
            /* blow-up makes the last good point sensitive: 1e-3 at rtol 1e-6 */
            assert_true(ex_rel(x, 1 / (1 - 3 * a)) < 1e-3);
            assert_string_equal(status, "ok");
        } else {
            assert_string_equal(ex_csv_text(t, r, 1), "nan");
            assert_non_null(strstr(status, "CVODE"));
            failed++;
        }
    }
    assert_int_equal(failed, 2);
    ex_csv_free(t);
    free(out);

    char *err = NULL;
    out = ex_cli(1, argv, &err);
    assert_non_null(strstr(err, "2 of 6 scan points failed"));
    free(out);
    free(err);
}

/* Too few steps for the fast-growing points only: those rows fail, the
 * others are exactly those of a run with enough steps. */
static void failed_points_max_steps(void **state)
{
    (void)state;
    const char *few[] = {SIGODE_BINARY, "scan", BLOWUP, "--scenario", "span", "--target", "a",
                         "--values", "0.01,0.1,0.2,0.3", "--max-steps", "20", NULL};
    const char *enough[] = {SIGODE_BINARY, "scan", BLOWUP, "--scenario", "span", "--target",
                            "a", "--values", "0.01,0.1,0.2,0.3", NULL};
    char *a = ex_cli(1, few, NULL), *b = ex_cli(0, enough, NULL);
    ex_csv *t = ex_csv_parse(a), *u = ex_csv_parse(b);
    assert_int_equal(t->nrows, 4);
    int ok = 0;
    for (int r = 0; r < 4; r++) {
        if (!strcmp(ex_csv_text(t, r, 2), "ok")) {
            assert_string_equal(ex_csv_text(t, r, 1), ex_csv_text(u, r, 1));
            ok++;
        } else {
            assert_string_equal(ex_csv_text(t, r, 1), "nan");
            assert_non_null(strstr(ex_csv_text(t, r, 2), "CV_TOO_MUCH_WORK"));
        }
    }
    assert_true(ok >= 1 && ok <= 3); /* some points only */
    assert_string_equal(ex_csv_text(t, 0, 2), "ok");      /* a = 0.01: few steps */
    assert_true(strcmp(ex_csv_text(t, 3, 2), "ok") != 0); /* a = 0.3: many */
    ex_csv_free(t);
    ex_csv_free(u);
    free(a);
    free(b);
}

/* With --output, a scan with failed points keeps a previous good file and
 * writes the table with its status column to FILE.partial. */
static void failed_points_output(void **state)
{
    (void)state;
    char *dir = ts_temp_dir();
    char *file = ts_path(dir, "scan.csv"), *partial = ts_path(dir, "scan.csv.partial");
    assert_int_equal(ts_write_file(file, "previous\n", 9), 0);
    const char *argv[] = {SIGODE_BINARY, "scan", BLOWUP, "--scenario", "span", "--target", "a",
                          "--values", "0.1,0.5", "--output", file, NULL};
    char *out = ex_cli(1, argv, NULL);
    assert_string_equal(out, "");
    char *kept = ts_read_file(file, NULL), *rows = ts_read_file(partial, NULL);
    assert_string_equal(kept, "previous\n");
    assert_non_null(rows);
    assert_true(strncmp(rows, "a,X,status\n0.1,", 15) == 0);
    assert_non_null(strstr(rows, "\n0.5,nan,"));
    free(kept);
    free(rows);
    free(out);
    free(file);
    free(partial);
    ts_remove_dir(dir);
    free(dir);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A scan of the chain that takes more than 1.5 s here: starts at 400
 * points (about 2 s on one core of the development machine) and grows
 * until it does. */
static void progress_bar(void **state)
{
    (void)state;
    char *dir = ts_temp_dir();
    char *chain = write_chain(dir);
    char points[32], *tty = NULL;
    const char *argv[] = {SIGODE_BINARY, "scan", chain, "--target", "ks", "--from", "0.1",
                          "--to", "1.5", "--points", points, "--readout", "X119", "--t-end",
                          "20", "--rtol", "1e-8", "--jobs", "1", NULL};
    int n = 400;
    double took = 0;
    for (;;) {
        snprintf(points, sizeof points, "%d", n);
        double t0 = now();
        int rc = ex_run_pty(argv, &tty);
        took = now() - t0;
        if (rc == -1 && !tty) { /* no pseudo-terminals here (a chroot without /dev/pts) */
            free(chain);
            ts_remove_dir(dir);
            free(dir);
            skip();
        }
        assert_int_equal(rc, 0);
        if (took > 1.5 || n >= 6400)
            break;
        free(tty);
        n *= 4;
    }
    assert_true(took > 1.5);
    char done[64];
    snprintf(done, sizeof done, "100%% %d/%d points", n, n);
    assert_non_null(strstr(tty, "[#"));
    assert_non_null(strstr(tty, done));
    free(tty);

    /* the same scan with standard error a pipe (a file here): no bar */
    char *err = NULL, *out = NULL;
    double t0 = now();
    assert_int_equal(ts_run(argv, &out, &err), 0);
    assert_true(now() - t0 > 1.0);
    assert_null(strstr(err, "[#"));
    assert_null(strstr(err, "points"));
    assert_string_equal(err, "");
    free(err);
    free(out);
    free(chain);
    ts_remove_dir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parallel_dense_identical), cmocka_unit_test(parallel_klu_identical),
        cmocka_unit_test(parallel_grid_identical),  cmocka_unit_test(failed_points),
        cmocka_unit_test(failed_points_max_steps),  cmocka_unit_test(failed_points_output),
        cmocka_unit_test(progress_bar),
    };
    return cmocka_run_group_tests_name("explore_parallel", tests, NULL, NULL);
}

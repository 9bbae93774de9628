/*
 * Allocation failures: the Nth allocation fails (sg_alloc_fail_after), for
 * N = 1, 2, ... until the operation succeeds. Every attempt must return an
 * error (SG_ERR_NOMEM, not a misleading model or usage error) or succeed,
 * never crash; in the sanitizer build LeakSanitizer checks that no attempt
 * leaks. libconfig's and SUNDIALS' own allocations do not go through the
 * hook; every allocation of sigode does.
 *
 * Covered: loading and compiling every shipped model (with one thread and
 * with two) and the loader's richest seed (every section of the format),
 * then, on a small model,
 * creating a simulation, running a scenario, making and writing a table,
 * running a scan and the model's checks.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compile/program.h"
#include "sigode.h"
#include "util/util.h"

/* No model needs this many allocations; a loop reaching it is a bug. */
enum { MAX_ATTEMPTS = 2000000 };

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

/* An attempt that failed must say it ran out of memory. */
static void expect_nomem(const sg_error *err, const char *what, long n)
{
    if (err->status != SG_ERR_NOMEM) {
        char msg[1200];
        sg_error_format(err, msg, sizeof msg);
        fail_msg("%s: allocation %ld failed but the error is status %d: %s", what, n,
                 (int)err->status, msg);
    }
}

/* Runs the operation with allocation n failing; returns 1 if the failure
 * happened (the operation made at least n allocations). */
#define WITH_FAILURE(n, op) (sg_alloc_fail_after(n), (op), fired())

static int fired(void)
{
    int hit = sg_alloc_fail_pending() == 0;
    sg_alloc_fail_after(0);
    return hit;
}

/* Loads (and compiles) `path` failing allocation 1, 2, ... until a load
 * makes fewer allocations than that. A load whose allocation failed must
 * fail with SG_ERR_NOMEM. Returns the number of allocations a load takes. */
static long load_with_failures(const char *path)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    assert_non_null(text);
    long n;
    for (n = 1; n < MAX_ATTEMPTS; n++) {
        sg_error err;
        sg_model *m = NULL;
        int hit = WITH_FAILURE(n, m = sg_model_load_buffer(text, len, path, &err));
        if (!hit) {
            assert_non_null(m);
            sg_model_free(m);
            break;
        }
        if (m)
            fail_msg("%s: allocation %ld failed but the load succeeded", path, n);
        expect_nomem(&err, path, n);
    }
    free(text);
    assert_true(n < MAX_ATTEMPTS);
    n--;
    /* and from the file, which reads it through the same allocator */
    for (long k = 1; k <= 3; k++) {
        sg_error err;
        sg_alloc_fail_after(k);
        sg_model *m = sg_model_load_file(path, &err);
        sg_alloc_fail_after(0);
        if (m)
            sg_model_free(m);
        else
            expect_nomem(&err, path, k);
    }
    return n;
}

static int is_cfg(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".cfg") == 0;
}

static void load_directory(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_cfg(e->d_name))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        long n = load_with_failures(path);
        print_message("  %-60s %ld allocations\n", path + strlen(SIGODE_SOURCE_DIR) + 1, n);
    }
    closedir(d);
}

static void test_load_shipped_models(void **state)
{
    (void)state;
    load_directory(SIGODE_SOURCE_DIR "/models");
    load_directory(SIGODE_SOURCE_DIR "/models/examples");
}

/* The same with the rates compiled by another thread while the Jacobian
 * is derived (forced: these models are small), where an allocation of
 * either thread may be the one that fails */
static void test_load_two_threads(void **state)
{
    (void)state;
    int saved = sg_compile_two_threads;
    sg_compile_two_threads = 1;
    load_directory(SIGODE_SOURCE_DIR "/models");
    load_directory(SIGODE_SOURCE_DIR "/models/examples");
    sg_error err;
    sg_model *m = sg_model_load_file(SIGODE_SOURCE_DIR "/models/examples/robertson.cfg", &err);
    sg_compile_two_threads = saved;
    assert_non_null(m);
    assert_int_equal(m->program->two_threads, 1);
    sg_model_free(m);
}

static void test_load_every_section(void **state)
{
    (void)state;
    load_with_failures(SIGODE_SOURCE_DIR "/tests/fuzz/seeds/fuzz_load/full.cfg");
}

/* Error paths under allocation failure: a bad model must give its model
 * error or run out of memory, nothing else. */
static void test_load_bad_models(void **state)
{
    (void)state;
    static const char *const bad[] = {"assignment_cycle", "equation_unknown_species",
                                      "rate_unknown_name", "check_bare_name"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[4096] = "";
        DIR *d = opendir(SIGODE_SOURCE_DIR "/tests/robustness/corpus");
        assert_non_null(d);
        struct dirent *e;
        while ((e = readdir(d)))
            if (strstr(e->d_name, bad[i]) && is_cfg(e->d_name))
                snprintf(path, sizeof path, "%s/tests/robustness/corpus/%s", SIGODE_SOURCE_DIR,
                         e->d_name);
        closedir(d);
        assert_true(path[0]);
        size_t len;
        char *text = read_file(path, &len);
        assert_non_null(text);
        long n;
        for (n = 1; n < MAX_ATTEMPTS; n++) {
            sg_error err;
            sg_model *m = NULL;
            int hit = WITH_FAILURE(n, m = sg_model_load_buffer(text, len, path, &err));
            assert_null(m);
            if (!hit) {
                assert_int_equal(err.status, SG_ERR_MODEL); /* the real error */
                break;
            }
            if (err.status != SG_ERR_MODEL) /* or it got as far before failing */
                expect_nomem(&err, path, n);
        }
        assert_true(n < MAX_ATTEMPTS);
        free(text);
    }
}

/* The whole pipeline on a small model: every step under failure. */
static const char small_model[] =
    "name = \"small\";\n"
    "parameters = ( { id = \"k1\"; value = 1.0; }, { id = \"k2\"; value = 0.5; } );\n"
    "species = ( { id = \"A\"; initial = 1.0; }, { id = \"B\"; initial = 0.0; } );\n"
    "assignments = ( { id = \"total\"; value = \"A + B\"; } );\n"
    "reactions = ( { id = \"r1\"; equation = \"A -> B\"; rate = \"k1 * A\"; },\n"
    "              { id = \"r2\"; equation = \"B ->\"; rate = \"k2 * B\"; } );\n"
    "scenarios = ( { id = \"dose\"; t_end = 4.0; points = 9;\n"
    "                events = ( { at = 2.0; add = { A = 1.0; }; } ); },\n"
    "              { id = \"scan\"; t_end = 2.0; scan = { target = \"k1\"; values = [ 0.5, 1.0, 2.0 ]; };\n"
    "                readouts = [ \"B\" ]; } );\n"
    "checks = ( { id = \"grows\"; scenario = \"dose\"; expect = \"maximum(B) > initial(B)\"; },\n"
    "           { id = \"ec\"; scenario = \"scan\"; expect = \"ec50(B) > 0\"; } );\n";

/* One pass of the pipeline; returns SG_OK when every step succeeded. */
static sg_status pipeline(const sg_model *m, const char *dir, sg_error *err)
{
    sg_status st = SG_OK;
    sg_sim *sim = NULL;
    sg_experiment *exp = NULL;
    sg_trajectory *traj = NULL;
    sg_table *table = NULL, *scan = NULL;
    sg_check_result *results = NULL;
    int nresults = 0;
    if (!(sim = sg_sim_create(m, NULL, err)) || !(exp = sg_experiment_create(m, "dose", err))) {
        st = err->status;
        goto done;
    }
    if ((st = sg_experiment_set_value(exp, "k2", 0.25, err)) != SG_OK ||
        (st = sg_experiment_add_event(exp, 3.0, "A", 0.5, 1, err)) != SG_OK ||
        (st = sg_sim_run(sim, exp, &traj, err)) != SG_OK)
        goto done;
    const char *select[] = {"B", "total"};
    if (!(table = sg_trajectory_table(traj, select, 2, err))) {
        st = err->status;
        goto done;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/out.csv", dir);
    if ((st = sg_table_write_file(table, SG_FORMAT_JSON, path, err)) != SG_OK)
        goto done;
    double values[] = {0.5, 1.0, 2.0};
    const char *readouts[] = {"B"};
    sg_scan_spec spec = {.target = "k1", .values = values, .count = 3, .readouts = readouts,
                         .nreadouts = 1, .jobs = 2};
    if ((st = sg_scan_run(m, NULL, exp, &spec, &scan, err)) != SG_OK)
        goto done;
    st = sg_verify(m, NULL, &results, &nresults, err);
    if (st == SG_OK && !results)
        st = SG_ERR_NOMEM;
done:
    free(results);
    sg_table_free(scan);
    sg_table_free(table);
    sg_trajectory_free(traj);
    sg_experiment_free(exp);
    sg_sim_free(sim);
    return st;
}

static void test_pipeline(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = sg_model_load_buffer(small_model, strlen(small_model), "small.cfg", &err);
    if (!m) {
        char msg[1200];
        sg_error_format(&err, msg, sizeof msg);
        fail_msg("%s", msg);
    }
    char dir[] = "/tmp/sigode-alloc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    long n;
    for (n = 1; n < MAX_ATTEMPTS; n++) {
        memset(&err, 0, sizeof err);
        sg_status st = SG_OK;
        int hit = WITH_FAILURE(n, st = pipeline(m, dir, &err));
        if (!hit) {
            assert_int_equal(st, SG_OK);
            break;
        }
        /* a scan point or a check whose run ran out of memory is reported
         * as a failed point (SG_ERR_SOLVER) or a failed check; a worker
         * thread that cannot start leaves its points to the others */
        if (st != SG_OK && st != SG_ERR_NOMEM && st != SG_ERR_SOLVER)
            expect_nomem(&err, "pipeline", n);
    }
    print_message("  pipeline: %ld allocations\n", n - 1);
    assert_true(n < MAX_ATTEMPTS);
    char path[4096];
    snprintf(path, sizeof path, "%s/out.csv", dir);
    unlink(path);
    /* no temporary file may be left by a failed write */
    assert_int_equal(rmdir(dir), 0);
    sg_model_free(m);
}

/* A dense run of 40 fully coupled states: LAPACK's LU where liblapack.so.3
 * is OpenBLAS (src/solver/lapack_dense.c), every allocation failing once. */
static void test_dense_lapack_run(void **state)
{
    (void)state;
    char text[8192];
    size_t used = (size_t)snprintf(text, sizeof text, "name = \"mix\";\nspecies = (");
    for (int i = 1; i <= 40; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s{ id = \"x%d\"; initial = %d.0; }",
                                 i > 1 ? ", " : "", i, i);
    used += (size_t)snprintf(text + used, sizeof text - used,
                             ");\nassignments = ( { id = \"mean\"; value = \"(x1");
    for (int i = 2; i <= 40; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, " + x%d", i);
    used += (size_t)snprintf(text + used, sizeof text - used, ") / 40\"; } );\nreactions = (");
    for (int i = 1; i <= 40; i++)
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "%s{ id = \"r%d\"; equation = \"x%d ->\"; rate = \"x%d - mean\"; }",
                                 i > 1 ? ", " : "", i, i, i);
    used += (size_t)snprintf(text + used, sizeof text - used, ");\n");
    assert_true(used < sizeof text);
    sg_error err;
    sg_model *m = sg_model_load_buffer(text, used, "mix.cfg", &err);
    assert_non_null(m);
    sg_options opt;
    sg_options_default(&opt);
    opt.linear_solver = SG_LINSOL_DENSE;
    long n;
    for (n = 1; n < MAX_ATTEMPTS; n++) {
        memset(&err, 0, sizeof err);
        sg_status st = SG_OK;
        sg_sim *sim = NULL;
        sg_experiment *exp = NULL;
        sg_trajectory *traj = NULL;
        int hit = WITH_FAILURE(n, (sim = sg_sim_create(m, &opt, &err)) &&
                                          (exp = sg_experiment_create(m, NULL, &err))
                                      ? (st = sg_sim_run(sim, exp, &traj, &err))
                                      : (st = err.status));
        sg_trajectory_free(traj);
        sg_experiment_free(exp);
        sg_sim_free(sim);
        if (!hit) {
            assert_int_equal(st, SG_OK);
            break;
        }
        if (st != SG_OK)
            expect_nomem(&err, "dense run", n);
    }
    print_message("  dense run: %ld allocations\n", n - 1);
    assert_true(n < MAX_ATTEMPTS);
    sg_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_shipped_models),
        cmocka_unit_test(test_load_two_threads),
        cmocka_unit_test(test_load_every_section),
        cmocka_unit_test(test_load_bad_models),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_dense_lapack_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

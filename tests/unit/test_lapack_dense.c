/*
 * The dense LU by LAPACK: when it is chosen (OpenBLAS present, 32 states
 * or more, a Jacobian whose elimination fills in), and that it solves a
 * linear system with a known solution as accurately as SUNDIALS' own LU.
 */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "solver/lapack_dense.h"
#include "support.h"

/* Whether OpenBLAS's serial build is installed or liblapack.so.3 is
 * OpenBLAS, read here independently of sigode. */
static int openblas_present(void)
{
    if (dlopen(SIGODE_LAPACK_SERIAL, RTLD_NOW | RTLD_LOCAL))
        return 1;
    void *h = dlopen("liblapack.so.3", RTLD_NOW | RTLD_LOCAL);
    return h && dlsym(h, "openblas_get_config") != NULL;
}

/* CSC pattern of an n x n matrix from a predicate on (row, column). */
static void pattern(int n, int (*nonzero)(int, int, int), int *colptr, int *rowidx)
{
    int e = 0;
    for (int j = 0; j < n; j++) {
        colptr[j] = e;
        for (int i = 0; i < n; i++)
            if (nonzero(n, i, j))
                rowidx[e++] = i;
    }
    colptr[n] = e;
}
static int full(int n, int i, int j) { (void)n, (void)i, (void)j; return 1; }
static int diagonal(int n, int i, int j) { (void)n; return i == j; }
static int lower_chain(int n, int i, int j) { (void)n; return i == j + 1; }
static int upper_chain(int n, int i, int j) { (void)n; return j == i + 1; }
static int arrow_last(int n, int i, int j) { return i == n - 1 || j == n - 1; }
static int arrow_first(int n, int i, int j) { (void)n; return i == 0 || j == 0; }

static double share_of(int n, int (*nonzero)(int, int, int))
{
    int *colptr = malloc(sizeof(int) * (size_t)(n + 1));
    int *rowidx = malloc(sizeof(int) * (size_t)(n * n));
    assert_non_null(colptr);
    assert_non_null(rowidx);
    pattern(n, nonzero, colptr, rowidx);
    double share = sg_dense_lu_work_share(n, colptr, rowidx);
    free(colptr);
    free(rowidx);
    return share;
}

/* Σ (n-1-k) over Σ (n-1-k)^2, k < n-1: one multiplier per row of U. */
static double one_per_row(int n)
{
    double work = 0, all = 0;
    for (int k = 0; k < n - 1; k++) {
        work += n - 1 - k;
        all += (double)(n - 1 - k) * (n - 1 - k);
    }
    return work / all;
}

static void test_work_share(void **state)
{
    (void)state;
    const int sizes[] = {2, 5, 63, 64, 65, 130};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int n = sizes[s];
        assert_true(share_of(n, full) == 1.0);
        assert_true(share_of(n, diagonal) == 0.0);
        assert_true(share_of(n, lower_chain) == 0.0); /* no multiplier above the diagonal */
        assert_float_equal(share_of(n, upper_chain), one_per_row(n), 1e-15);
        /* an arrow pointing at the last row does not fill; one pointing at
         * the first fills everything in: the order matters, as in SUNDIALS */
        assert_float_equal(share_of(n, arrow_last), one_per_row(n), 1e-15);
        assert_true(share_of(n, arrow_first) == 1.0);
    }
    assert_true(share_of(1, full) == 0.0);
}

/* dx_i/dt = mean - x_i for n species: the total stays, each deviation from
 * the mean decays as e^-t; the Jacobian -I + 11'/n is full. x_i(0) = i. */
static sg_model *averaging(int n)
{
    size_t cap = 64 * 1024, used = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    used += (size_t)snprintf(text + used, cap - used,
                             "name = \"averaging\";\nparameters = ( { id = \"k\"; value = 1.0; } );\n"
                             "species = (\n");
    for (int i = 1; i <= n; i++)
        used += (size_t)snprintf(text + used, cap - used, "  { id = \"x%d\"; initial = %d.0; }%s\n",
                                 i, i, i < n ? "," : "");
    used += (size_t)snprintf(text + used, cap - used,
                             ");\nassignments = ( { id = \"mean\"; value = \"(x1");
    for (int i = 2; i <= n; i++)
        used += (size_t)snprintf(text + used, cap - used, " + x%d", i);
    used += (size_t)snprintf(text + used, cap - used, ") / %d\"; } );\nreactions = (\n", n);
    for (int i = 1; i <= n; i++)
        used += (size_t)snprintf(text + used, cap - used,
                                 "  { id = \"r%d\"; equation = \"x%d ->\"; rate = \"k * (x%d - mean)\"; }%s\n",
                                 i, i, i, i < n ? "," : "");
    used += (size_t)snprintf(text + used, cap - used,
                             ");\nscenarios = ( { id = \"run\"; t_end = 5.0; points = 11; } );\n");
    assert_true(used < cap);
    sg_model *m = ts_load_text(text);
    free(text);
    return m;
}

/* Runs the averaging model of n species on the dense path; returns the
 * largest relative error against the exact solution. */
static double averaging_error(int n, sg_stats *stats)
{
    sg_model *m = averaging(n);
    sg_options opt;
    sg_options_default(&opt);
    opt.linear_solver = SG_LINSOL_DENSE;
    opt.rtol = 1e-10;
    opt.atol = 1e-12;
    sg_trajectory *traj = ts_run_with(m, "run", &opt, stats);
    assert_string_equal(sg_trajectory_column_id(traj, 0), "x1");
    double mean = (n + 1) / 2.0, worst = 0;
    for (int row = 0; row < sg_trajectory_rows(traj); row++) {
        double t = sg_trajectory_time(traj, row);
        for (int i = 1; i <= n; i++) {
            double exact = mean + (i - mean) * exp(-t);
            double e = ts_rel(sg_trajectory_value(traj, row, i - 1), exact, 1e-6);
            worst = e > worst ? e : worst;
        }
    }
    sg_trajectory_free(traj);
    sg_model_free(m);
    return worst;
}

static void test_lapack_lu_chosen_and_exact(void **state)
{
    (void)state;
    sg_stats large, small;
    double error_large = averaging_error(40, &large);
    double error_small = averaging_error(SG_LAPACK_LU_MIN_STATES - 1, &small);
    /* OpenBLAS present: its LU for 40 states, SUNDIALS' below 32 */
    assert_int_equal(large.lapack_lu, openblas_present());
    assert_int_equal(small.lapack_lu, 0);
    assert_int_equal(large.sparse, 0);
    if (!(error_large < 1e-7) || !(error_small < 1e-7))
        fail_msg("averaging model vs exact: 40 states %.3g, %d states %.3g (allowed 1e-7)",
                 error_large, SG_LAPACK_LU_MIN_STATES - 1, error_small);
}

/* A scan whose simulations run in two threads on the LAPACK path gives
 * the table a serial scan gives, bit for bit: LAPACK is entered by one
 * thread at a time (Debian's serial OpenBLAS is not safe otherwise), and
 * each run has its own pivots. */
static void test_parallel_scan_same_as_serial(void **state)
{
    (void)state;
    sg_model *m = averaging(40);
    sg_options opt;
    sg_options_default(&opt);
    opt.linear_solver = SG_LINSOL_DENSE;
    opt.rtol = 1e-10;
    opt.atol = 1e-12;
    double values[16];
    for (int k = 0; k < 16; k++)
        values[k] = 0.25 * (k + 1);
    const char *readouts[] = {"x1", "x40"};
    sg_table *tables[2] = {NULL, NULL};
    sg_error err;
    for (int t = 0; t < 2; t++) {
        sg_experiment *experiment = sg_experiment_create(m, "run", &err);
        assert_non_null(experiment);
        sg_scan_spec spec = {.target = "k", .values = values, .count = 16, .readouts = readouts,
                             .nreadouts = 2, .jobs = t == 0 ? 1 : 2};
        assert_int_equal(sg_scan_run(m, &opt, experiment, &spec, &tables[t], &err), SG_OK);
        sg_experiment_free(experiment);
    }
    assert_int_equal(sg_table_rows(tables[0]), 16);
    assert_int_equal(sg_table_rows(tables[1]), 16);
    assert_int_equal(sg_table_columns(tables[0]), sg_table_columns(tables[1]));
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < sg_table_columns(tables[0]); c++) {
            double a = sg_table_get(tables[0], r, c), b = sg_table_get(tables[1], r, c);
            if (memcmp(&a, &b, sizeof a) != 0)
                fail_msg("row %d column %d: serial %.17g, two threads %.17g", r, c, a, b);
        }
    /* x1 at t = 5 is the exact 20.5 - 19.5 e^(-5 k) */
    for (int r = 0; r < 16; r++) {
        double exact = 20.5 - 19.5 * exp(-5.0 * values[r]);
        int col = sg_table_columns(tables[0]) - 2;
        if (!(ts_rel(sg_table_get(tables[0], r, col), exact, 1e-6) < 1e-6))
            fail_msg("k = %g: x1(5) = %.10g, exact %.10g", values[r],
                     sg_table_get(tables[0], r, col), exact);
    }
    sg_table_free(tables[0]);
    sg_table_free(tables[1]);
    sg_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_work_share),
        cmocka_unit_test(test_lapack_lu_chosen_and_exact),
        cmocka_unit_test(test_parallel_scan_same_as_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

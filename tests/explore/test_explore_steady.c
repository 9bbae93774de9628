/*
 * Steady states (`sigode steady`, sg_sim_steady_state) and
 * pre-equilibration, against closed forms (tests/explore/models/):
 *   conserved     A <-> B and E + S <-> C: three conservation laws, raw
 *                 Jacobian singular; A = 1, B = 2, C = (3.5 - sqrt(4.25))/2
 *   cubic_decay   dX/dt = 8 - X^3 from X = 0: Newton cannot start (zero
 *                 Jacobian), integration first; X* = 2
 *   no_steady     dX/dt = 1: no steady state
 *   preeq         dX/dt = 1 - (0.5 + 0.25 D) X; resting X0 = 2
 *
 * Tolerances: Newton results to 1e-9 relative; runs at the solver's
 * defaults (rtol 1e-6) to 1e-5 relative.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "explore_support.h"

#define CONSERVED EX_MODEL("conserved.cfg")
#define CUBIC EX_MODEL("cubic_decay.cfg")
#define NO_STEADY EX_MODEL("no_steady.cfg")
#define PREEQ EX_MODEL("preeq.cfg")

static double binding_c(double Et, double St, double Kd)
{
    double b = Et + St + Kd;
    return (b - sqrt(b * b - 4 * Et * St)) / 2;
}

static void steady_conservation_cli(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "steady", CONSERVED, NULL};
    char *err = NULL;
    char *out = ex_cli(0, argv, &err);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 1);
    double C = binding_c(1, 2, 0.5);
    assert_true(ex_rel(ex_csv_get(t, 0, ex_csv_col(t, "A")), 1.0) < 1e-9);
    assert_true(ex_rel(ex_csv_get(t, 0, ex_csv_col(t, "B")), 2.0) < 1e-9);
    assert_true(ex_rel(ex_csv_get(t, 0, ex_csv_col(t, "C")), C) < 1e-9);
    assert_true(ex_rel(ex_csv_get(t, 0, ex_csv_col(t, "E")), 1 - C) < 1e-9);
    assert_true(ex_rel(ex_csv_get(t, 0, ex_csv_col(t, "S")), 2 - C) < 1e-9);
    assert_non_null(strstr(err, "Newton"));
    assert_non_null(strstr(err, "3 conservation laws"));
    ex_csv_free(t);
    free(out);
    free(err);

    /* --set moves the totals: A + B = 6 -> A = 2, B = 4; S + C = 5 */
    const char *set[] = {SIGODE_BINARY, "steady", CONSERVED, "--set", "A=6", "--set", "S=5",
                         "--select", "A,B,C", NULL};
    out = ex_cli(0, set, NULL);
    t = ex_csv_parse(out);
    assert_int_equal(t->ncols, 4);
    assert_true(ex_rel(ex_csv_get(t, 0, 1), 2.0) < 1e-9);
    assert_true(ex_rel(ex_csv_get(t, 0, 2), 4.0) < 1e-9);
    assert_true(ex_rel(ex_csv_get(t, 0, 3), binding_c(1, 5, 0.5)) < 1e-9);
    ex_csv_free(t);
    free(out);
}

/* Whether this process has LAPACK (or the OpenBLAS behind it) mapped. */
static int lapack_mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof line, f))
        found |= strstr(line, "lapack") != NULL || strstr(line, "openblas") != NULL;
    fclose(f);
    return found;
}

/* Also: LAPACK is opened on the first stability report, not at start-up
 * (stability.c): a run does not load it; a steady state with its
 * eigenvalues does, and gets them (no test before this one computes any). */
static void steady_conservation_api(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = sg_model_load_file(CONSERVED, &err);
    assert_non_null(m);
    sg_experiment *exp = sg_experiment_create(m, NULL, &err);
    sg_sim *sim = sg_sim_create(m, NULL, &err);
    assert_non_null(exp);
    assert_non_null(sim);
    sg_trajectory *traj = NULL;
    assert_int_equal(sg_sim_run(sim, exp, &traj, &err), SG_OK);
    sg_trajectory_free(traj);
    traj = NULL;
    assert_false(lapack_mapped());
    sg_steady_info info = {0};
    assert_int_equal(sg_sim_steady_state(sim, exp, &traj, &info, &err), SG_OK);
    assert_true(info.stability.computed);
    assert_true(lapack_mapped());
    assert_true(info.found);
    assert_int_equal(info.conservation_laws, 3);
    assert_true(info.time == 0); /* Newton alone */
    assert_true(info.residual < 1e-12);
    assert_int_equal(sg_trajectory_rows(traj), 1);
    assert_true(ex_rel(sg_trajectory_value(traj, 0, sg_trajectory_find_column(traj, "C")),
                       binding_c(1, 2, 0.5)) < 1e-9);
    sg_trajectory_free(traj);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    sg_model_free(m);
}

static void steady_integration_fallback(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "steady", CUBIC, NULL};
    char *err = NULL;
    char *out = ex_cli(0, argv, &err);
    ex_csv *t = ex_csv_parse(out);
    assert_true(ex_rel(ex_csv_get(t, 0, ex_csv_col(t, "X")), 2.0) < 1e-9);
    assert_non_null(strstr(err, "integration to t ="));
    ex_csv_free(t);
    free(out);
    free(err);

    sg_error e;
    sg_model *m = sg_model_load_file(CUBIC, &e);
    assert_non_null(m);
    sg_experiment *exp = sg_experiment_create(m, NULL, &e);
    sg_sim *sim = sg_sim_create(m, NULL, &e);
    sg_trajectory *traj = NULL;
    sg_steady_info info = {0};
    assert_int_equal(sg_sim_steady_state(sim, exp, &traj, &info, &e), SG_OK);
    assert_true(info.found);
    assert_true(info.time > 0); /* not Newton from the start */
    assert_true(info.max_relative_rate <= 1e-9);
    sg_trajectory_free(traj);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    sg_model_free(m);
}

/* Constant synthesis, no decay: no steady state, exit 1 and a message
 * (not a "steady state" at some large X whose relative rate is small). */
static void steady_none(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "steady", NO_STEADY, NULL};
    char *err = NULL;
    char *out = ex_cli(1, argv, &err);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "no steady state"));
    free(out);
    free(err);

    sg_error e;
    sg_model *m = sg_model_load_file(NO_STEADY, &e);
    assert_non_null(m);
    sg_experiment *exp = sg_experiment_create(m, NULL, &e);
    sg_sim *sim = sg_sim_create(m, NULL, &e);
    sg_trajectory *traj = NULL;
    sg_steady_info info = {0};
    assert_int_equal(sg_sim_steady_state(sim, exp, &traj, &info, &e), SG_ERR_SOLVER);
    assert_false(info.found);
    assert_null(traj);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    sg_model_free(m);
}

/* preeq closed forms: D = d from t = 0 */
static double preeq_rest(double d, double t)
{
    double k = 0.5 + 0.25 * d, xd = 1.0 / k;
    return xd + (2.0 - xd) * exp(-k * t);
}
static double preeq_zero(double d, double t)
{
    double k = 0.5 + 0.25 * d;
    return (1 - exp(-k * t)) / k;
}

static void check_rows(const char *out, double (*f)(double, double), double d)
{
    ex_csv *t = ex_csv_parse(out);
    int x = ex_csv_col(t, "X");
    assert_int_equal(t->nrows, 11);
    for (int r = 0; r < t->nrows; r++) {
        double time = ex_csv_get(t, r, 0);
        assert_true(time == r);
        assert_true(ex_rel(ex_csv_get(t, r, x), f(d, time)) < 1e-5);
    }
    ex_csv_free(t);
}

/* `preequilibrate = true` in a scenario: the run starts from the resting
 * state of the model as written (X = 2), then D = 2 applies at t = 0. */
static void preeq_scenario(void **state)
{
    (void)state;
    const char *rest[] = {SIGODE_BINARY, "run", PREEQ, "--scenario", "from_rest", NULL};
    char *out = ex_cli(0, rest, NULL);
    check_rows(out, preeq_rest, 2);
    assert_non_null(strstr(out, "\n0,2,2\n")); /* time 0: D = 2 set, X at rest */
    free(out);
    const char *zero[] = {SIGODE_BINARY, "run", PREEQ, "--scenario", "from_zero", NULL};
    out = ex_cli(0, zero, NULL);
    check_rows(out, preeq_zero, 2);
    free(out);
}

/* --preequilibrate on the command line does the same. */
static void preeq_cli(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "run", PREEQ, "--set", "D=2", "--t-end", "10",
                          "--points", "11", "--preequilibrate", NULL};
    char *out = ex_cli(0, argv, NULL);
    check_rows(out, preeq_rest, 2);
    free(out);
    /* without it, the run starts from the file's X = 0 */
    const char *plain[] = {SIGODE_BINARY, "run", PREEQ, "--set", "D=2", "--t-end", "10",
                           "--points", "11", NULL};
    out = ex_cli(0, plain, NULL);
    check_rows(out, preeq_zero, 2);
    free(out);
}

/* The resting state is that of the unperturbed model: a --set of a rate
 * constant applies after it. ks = 2: X = 4 - 2 exp(-t/2) from X0 = 2. */
static void preeq_sets_after(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "run", PREEQ, "--set", "ks=2", "--t-end", "10",
                          "--points", "11", "--preequilibrate", NULL};
    char *out = ex_cli(0, argv, NULL);
    ex_csv *t = ex_csv_parse(out);
    int x = ex_csv_col(t, "X");
    for (int r = 0; r < t->nrows; r++)
        assert_true(ex_rel(ex_csv_get(t, r, x), 4 - 2 * exp(-0.5 * r)) < 1e-5);
    ex_csv_free(t);
    free(out);
}

/* Scans from rest: every point starts at X = 2, whatever its dose. */
static void preeq_scan(void **state)
{
    (void)state;
    const double d[] = {0, 1, 2, 6};
    const char *scenario[] = {SIGODE_BINARY, "run", PREEQ, "--scenario", "from_rest_scan",
                              NULL};
    const char *cli[] = {SIGODE_BINARY, "scan", PREEQ, "--target", "D", "--values", "0,1,2,6",
                         "--readout", "X", "--at", "4", "--preequilibrate", NULL};
    const char *const *runs[] = {scenario, cli};
    for (int k = 0; k < 2; k++) {
        char *out = ex_cli(0, runs[k], NULL);
        ex_csv *t = ex_csv_parse(out);
        assert_int_equal(t->nrows, 4);
        for (int r = 0; r < 4; r++) {
            assert_true(ex_csv_get(t, r, 0) == d[r]);
            assert_true(ex_rel(ex_csv_get(t, r, 1), preeq_rest(d[r], 4)) < 1e-5);
        }
        ex_csv_free(t);
        free(out);
    }
    /* the same scan not from rest */
    const char *plain[] = {SIGODE_BINARY, "scan", PREEQ, "--target", "D", "--values", "0,1,2,6",
                           "--readout", "X", "--at", "4", NULL};
    char *out = ex_cli(0, plain, NULL);
    ex_csv *t = ex_csv_parse(out);
    for (int r = 0; r < 4; r++)
        assert_true(ex_rel(ex_csv_get(t, r, 1), preeq_zero(d[r], 4)) < 1e-5);
    ex_csv_free(t);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steady_conservation_cli),
        cmocka_unit_test(steady_conservation_api),
        cmocka_unit_test(steady_integration_fallback),
        cmocka_unit_test(steady_none),
        cmocka_unit_test(preeq_scenario),
        cmocka_unit_test(preeq_cli),
        cmocka_unit_test(preeq_sets_after),
        cmocka_unit_test(preeq_scan),
    };
    return cmocka_run_group_tests_name("explore_steady", tests, NULL, NULL);
}

/*
 * Dosing schedules and wash-out against closed forms:
 *   elimination   dC/dt = -0.1 C; doses of 10 added at 0, 12, 24, 36 (the
 *                 scenario `four_doses`, or --event 0:C+=10:every=12:count=4),
 *                 wash-out (C = 0) at 60:
 *                   C(t) = 10 sum_{t_i <= t} exp(-0.1 (t - t_i)),  0 after 60;
 *                 the row at a dose time shows the value after the dose.
 *   preeq         a constant drug D washed out (set to 0) during a run.
 *
 * Tolerances: runs with --rtol 1e-9 --atol 1e-12 are compared with the
 * closed form to 1e-6 relative (1e-12 absolute near 0); a missed or
 * pre-event row would be off by a whole dose (10).
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

#define ELIM EX_MODEL("elimination.cfg")
#define PREEQ EX_MODEL("preeq.cfg")

/* Sum of doses `dose` at first, first + every, ... (count of them, 0: no
 * limit), eliminated at rate k, at time t; 0 from `washout` on. */
static double sawtooth(double t, double k, double dose, double first, double every, int count,
                       double washout)
{
    if (t >= washout)
        return 0;
    double c = 0;
    for (int i = 0; count == 0 || i < count; i++) {
        double ti = first + i * every;
        if (ti > t)
            break;
        c += dose * exp(-k * (t - ti));
    }
    return c;
}

static int close_to(double got, double want)
{
    return fabs(got - want) <= 1e-6 * fabs(want) + 1e-12;
}

/* Checks every row of a run of elimination.cfg against the schedule. */
static void check_sawtooth(const char *out, int count, double washout, int rows)
{
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, rows);
    int c = ex_csv_col(t, "C");
    for (int r = 0; r < t->nrows; r++) {
        double time = ex_csv_get(t, r, 0), got = ex_csv_get(t, r, c);
        double want = sawtooth(time, 0.1, 10, 0, 12, count, washout);
        if (!close_to(got, want))
            fail_msg("C(%g) = %.17g, closed form %.17g", time, got, want);
    }
    ex_csv_free(t);
}

static void dosing_scenario(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "run", ELIM, "--scenario", "four_doses", "--rtol",
                          "1e-9", "--atol", "1e-12", NULL};
    char *out = ex_cli(0, argv, NULL);
    check_sawtooth(out, 4, 60, 73);
    /* at the dose times, post-dose: C(t_j) = 10 (1 - r^(j+1)) / (1 - r) */
    ex_csv *t = ex_csv_parse(out);
    double r = exp(-1.2);
    for (int j = 0; j < 4; j++) {
        int row = 12 * j;
        assert_true(ex_csv_get(t, row, 0) == 12.0 * j);
        assert_true(close_to(ex_csv_get(t, row, 1), 10 * (1 - pow(r, j + 1)) / (1 - r)));
    }
    assert_true(ex_csv_get(t, 60, 1) == 0); /* the wash-out row shows 0 */
    assert_true(ex_csv_get(t, 72, 1) == 0);
    ex_csv_free(t);
    free(out);
}

/* The same schedule from the command line: the same table, byte for byte. */
static void dosing_cli(void **state)
{
    (void)state;
    const char *scenario[] = {SIGODE_BINARY, "run", ELIM, "--scenario", "four_doses", "--rtol",
                              "1e-9", "--atol", "1e-12", NULL};
    const char *cli[] = {SIGODE_BINARY, "run", ELIM, "--t-end", "72", "--points", "73",
                         "--event", "0:C+=10:every=12:count=4", "--event", "60:C=0", "--rtol",
                         "1e-9", "--atol", "1e-12", NULL};
    char *a = ex_cli(0, scenario, NULL);
    char *b = ex_cli(0, cli, NULL);
    check_sawtooth(b, 4, 60, 73);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* every= without count=: a dose at every interval up to and including
 * t_end (0, 12, ..., 72: seven doses; the last row is post-dose). */
static void dosing_until_end(void **state)
{
    (void)state;
    const char *scenario[] = {SIGODE_BINARY, "run", ELIM, "--scenario", "every_12h", "--rtol",
                              "1e-9", "--atol", "1e-12", NULL};
    const char *cli[] = {SIGODE_BINARY, "run", ELIM, "--t-end", "72", "--points", "73",
                         "--event", "0:C+=10:every=12", "--rtol", "1e-9", "--atol", "1e-12",
                         NULL};
    char *a = ex_cli(0, scenario, NULL);
    char *b = ex_cli(0, cli, NULL);
    check_sawtooth(a, 0, INFINITY, 73);
    assert_string_equal(a, b);
    ex_csv *t = ex_csv_parse(a);
    double r = exp(-1.2);
    assert_true(close_to(ex_csv_get(t, 72, 1), 10 * (1 - pow(r, 7)) / (1 - r)));
    ex_csv_free(t);
    free(a);
    free(b);
}

/* A set (not add) at a time between output rows, and an add on top. */
static void dosing_set_between_rows(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "run", ELIM, "--t-end", "10", "--points", "11",
                          "--event", "2.5:C=5", "--event", "6:C+=1", "--rtol", "1e-9",
                          "--atol", "1e-12", NULL};
    char *out = ex_cli(0, argv, NULL);
    ex_csv *t = ex_csv_parse(out);
    for (int r = 0; r < t->nrows; r++) {
        double time = ex_csv_get(t, r, 0), want = 0;
        if (time >= 2.5)
            want += 5 * exp(-0.1 * (time - 2.5));
        if (time >= 6)
            want += exp(-0.1 * (time - 6));
        if (!close_to(ex_csv_get(t, r, 1), want))
            fail_msg("C(%g) = %.17g, closed form %.17g", time, ex_csv_get(t, r, 1), want);
    }
    ex_csv_free(t);
    free(out);
}

/* Wash-out of a constant input during a run from rest: D = 2 until t = 5,
 * then 0, so X returns to 2 = ks/kd:
 *   t <= 5: X = 1 + exp(-t)       (k = 0.5 + 0.25 * 2 = 1, ks/k = 1)
 *   t >= 5: X = 2 + (X(5) - 2) exp(-0.5 (t - 5)) */
static void washout_input(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "run", PREEQ, "--set", "D=2", "--preequilibrate",
                          "--event", "5:D=0", "--t-end", "15", "--points", "16", "--rtol",
                          "1e-9", "--atol", "1e-12", NULL};
    char *out = ex_cli(0, argv, NULL);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 16);
    int d = ex_csv_col(t, "D"), x = ex_csv_col(t, "X");
    double x5 = 1 + exp(-5.0);
    for (int r = 0; r < 16; r++) {
        assert_true(ex_csv_get(t, r, d) == (r < 5 ? 2 : 0)); /* the row at 5 is post-event */
        double want = r <= 5 ? 1 + exp(-(double)r)
                             : 2 + (x5 - 2) * exp(-0.5 * (r - 5));
        assert_true(close_to(ex_csv_get(t, r, x), want));
    }
    ex_csv_free(t);
    free(out);
}

/* Scans keep the schedule: each point is a full dosed run. Readouts at a
 * dose time are post-dose. */
static void dosing_in_scan(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", ELIM, "--scenario", "four_doses", "--target",
                          "k", "--values", "0.05,0.1,0.3", "--readout", "C", "--at", "24,30,66",
                          "--rtol", "1e-9", "--atol", "1e-12", "--jobs", "2", NULL};
    char *out = ex_cli(0, argv, NULL);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 3);
    const double at[] = {24, 30, 66};
    for (int r = 0; r < 3; r++) {
        double k = ex_csv_get(t, r, 0);
        for (int a = 0; a < 3; a++)
            assert_true(close_to(ex_csv_get(t, r, 1 + a), sawtooth(at[a], k, 10, 0, 12, 4, 60)));
    }
    ex_csv_free(t);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dosing_scenario),       cmocka_unit_test(dosing_cli),
        cmocka_unit_test(dosing_until_end),      cmocka_unit_test(dosing_set_between_rows),
        cmocka_unit_test(washout_input),         cmocka_unit_test(dosing_in_scan),
    };
    return cmocka_run_group_tests_name("explore_dosing", tests, NULL, NULL);
}

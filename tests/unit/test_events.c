/*
 * Events: a value set or added at a given time is a discontinuity. The
 * output row at an event's time shows the value after the event, and the
 * integration restarts from there. Compared with the closed-form solution
 * of first-order elimination (dA/dt = -k A), restarted at each event.
 *
 * Tolerance: rtol 1e-10, atol 1e-14; rows within 1e-7 relative (floor
 * 1e-12) of the closed form.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support.h"

static const char decay_model[] =
    "name = \"decay\";\n"
    "parameters = ( { id = \"k\"; value = 0.5; } );\n"
    "species = ( { id = \"A\"; initial = 2.0; } );\n"
    "reactions = ( { id = \"elim\"; equation = \"A ->\"; rate = \"k * A\"; } );\n"
    "scenarios = (\n"
    "  { id = \"set_at_5\"; t_end = 10.0; points = 11;\n"
    "    events = ( { at = 5.0; set = { A = 3.0; }; } ); },\n"
    "  { id = \"set_off_grid\"; t_end = 10.0; points = 11;\n"
    "    events = ( { at = 2.5; set = { A = 3.0; }; } ); },\n"
    "  { id = \"dosing\"; t_end = 20.0; points = 41; set = { A = 0.0; };\n"
    "    events = ( { at = 0.0; every = 2.0; count = 5; add = { A = 1.0; }; } ); },\n"
    "  { id = \"dosing_until_end\"; t_end = 10.0; points = 21; set = { A = 0.0; };\n"
    "    events = ( { at = 1.0; every = 3.0; add = { A = 2.0; }; } ); },\n"
    "  { id = \"rate_change\"; t_end = 10.0; points = 11;\n"
    "    events = ( { at = 4.0; set = { k = 2.0; }; } ); },\n"
    "  { id = \"at_the_end\"; t_end = 10.0; points = 11;\n"
    "    events = ( { at = 10.0; add = { A = 1.0; }; } ); }\n"
    ");\n";

static sg_model *model;

static int setup(void **state)
{
    (void)state;
    model = ts_load_text(decay_model);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sg_model_free(model);
    return 0;
}

/* Compares every row of `traj` with want(t). */
static void compare(const sg_trajectory *traj, double (*want)(double), const char *what)
{
    int a = sg_trajectory_find_column(traj, "A");
    assert_true(a >= 0);
    for (int r = 0; r < sg_trajectory_rows(traj); r++) {
        double t = sg_trajectory_time(traj, r), got = sg_trajectory_value(traj, r, a);
        if (!(ts_rel(got, want(t), 1e-12) <= 1e-7))
            fail_msg("%s: t = %g: A = %.12g, closed form %.12g", what, t, got, want(t));
    }
}

static double set_at_5(double t)
{
    return t < 5.0 ? 2.0 * exp(-0.5 * t) : 3.0 * exp(-0.5 * (t - 5.0));
}

static void test_set_at_output_time(void **state)
{
    (void)state;
    sg_trajectory *traj = ts_run_scenario(model, "set_at_5", 1e-10, 1e-14);
    /* one row per output time, none doubled at the event */
    assert_int_equal(sg_trajectory_rows(traj), 11);
    assert_true(sg_trajectory_time(traj, 5) == 5.0);
    /* the row at t = 5 holds the value after the event, exactly */
    assert_true(sg_trajectory_value(traj, 5, 0) == 3.0);
    /* the row before is the decayed value, not the event's */
    assert_true(ts_rel(sg_trajectory_value(traj, 4, 0), 2.0 * exp(-2.0), 0) < 1e-7);
    compare(traj, set_at_5, "set_at_5");
    /* value_at at the event time is the post-event value too */
    assert_true(sg_trajectory_value_at(traj, 5.0, 0) == 3.0);
    sg_trajectory_free(traj);
}

static double set_at_2_5(double t)
{
    return t < 2.5 ? 2.0 * exp(-0.5 * t) : 3.0 * exp(-0.5 * (t - 2.5));
}

static void test_set_between_output_times(void **state)
{
    (void)state;
    sg_trajectory *traj = ts_run_scenario(model, "set_off_grid", 1e-10, 1e-14);
    assert_int_equal(sg_trajectory_rows(traj), 11);
    compare(traj, set_at_2_5, "set_off_grid");
    sg_trajectory_free(traj);
}

/* Doses of 1 at t = 0, 2, 4, 6, 8 (count = 5), then pure elimination:
 *   A(t) = sum over doses t_n <= t of exp(-k (t - t_n)). */
static double sawtooth(double t)
{
    double a = 0.0;
    for (int n = 0; n < 5 && 2.0 * n <= t; n++)
        a += exp(-0.5 * (t - 2.0 * n));
    return a;
}

static void test_repeated_dosing(void **state)
{
    (void)state;
    sg_trajectory *traj = ts_run_scenario(model, "dosing", 1e-10, 1e-14);
    assert_int_equal(sg_trajectory_rows(traj), 41);
    compare(traj, sawtooth, "dosing");
    /* the row at a dose time shows the dose: A(2) = exp(-1) + 1 */
    assert_true(sg_trajectory_time(traj, 4) == 2.0);
    assert_true(ts_rel(sg_trajectory_value(traj, 4, 0), exp(-1.0) + 1.0, 0) < 1e-7);
    /* no sixth dose at t = 10 */
    assert_true(sg_trajectory_time(traj, 20) == 10.0);
    assert_true(ts_rel(sg_trajectory_value(traj, 20, 0), sawtooth(10.0), 0) < 1e-7);
    assert_true(sg_trajectory_value(traj, 20, 0) < 1.0);
    sg_trajectory_free(traj);
}

/* Doses of 2 at t = 1, 4, 7, 10 (every 3, no count: until t_end). */
static double until_end(double t)
{
    double a = 0.0;
    for (double tn = 1.0; tn <= t; tn += 3.0)
        a += 2.0 * exp(-0.5 * (t - tn));
    return a;
}

static void test_dosing_until_end(void **state)
{
    (void)state;
    sg_trajectory *traj = ts_run_scenario(model, "dosing_until_end", 1e-10, 1e-14);
    compare(traj, until_end, "dosing_until_end");
    /* the dose at t_end = 10 is in the last row */
    int last = sg_trajectory_rows(traj) - 1;
    assert_true(sg_trajectory_time(traj, last) == 10.0);
    assert_true(ts_rel(sg_trajectory_value(traj, last, 0), until_end(10.0), 0) < 1e-7);
    sg_trajectory_free(traj);
}

/* An event may change a parameter: the rate constant doubles... */
static double rate_change(double t)
{
    return t < 4.0 ? 2.0 * exp(-0.5 * t) : 2.0 * exp(-2.0) * exp(-2.0 * (t - 4.0));
}

static void test_parameter_event(void **state)
{
    (void)state;
    sg_trajectory *traj = ts_run_scenario(model, "rate_change", 1e-10, 1e-14);
    compare(traj, rate_change, "rate_change");
    sg_trajectory_free(traj);
}

static double at_the_end(double t)
{
    return 2.0 * exp(-0.5 * t) + (t >= 10.0 ? 1.0 : 0.0);
}

static void test_event_at_end(void **state)
{
    (void)state;
    sg_trajectory *traj = ts_run_scenario(model, "at_the_end", 1e-10, 1e-14);
    assert_int_equal(sg_trajectory_rows(traj), 11);
    compare(traj, at_the_end, "at_the_end");
    sg_trajectory_free(traj);
}

/* Events added through the API behave as events written in the file, and
 * a later experiment on the same sim starts clean (no leftover events). */
static void test_api_events(void **state)
{
    (void)state;
    sg_error err;
    sg_options opt;
    sg_options_default(&opt);
    opt.rtol = 1e-10;
    opt.atol = 1e-14;
    sg_sim *sim = sg_sim_create(model, &opt, &err);
    sg_experiment *ex = sg_experiment_create(model, NULL, &err);
    assert_non_null(sim);
    assert_non_null(ex);
    assert_int_equal(sg_experiment_set_points(ex, 11, &err), SG_OK);
    assert_int_equal(sg_experiment_add_event(ex, 5.0, "A", 3.0, 0, &err), SG_OK);
    sg_trajectory *traj = NULL;
    assert_int_equal(sg_sim_run(sim, ex, &traj, &err), SG_OK);
    compare(traj, set_at_5, "API set at 5");
    sg_trajectory_free(traj);
    sg_experiment_free(ex);

    ex = sg_experiment_create(model, NULL, &err);
    assert_int_equal(sg_experiment_set_points(ex, 11, &err), SG_OK);
    assert_int_equal(sg_sim_run(sim, ex, &traj, &err), SG_OK);
    assert_true(ts_rel(sg_trajectory_value(traj, 10, 0), 2.0 * exp(-5.0), 0) < 1e-7);
    sg_trajectory_free(traj);

    /* bad events are usage errors */
    assert_int_equal(sg_experiment_add_event(ex, -1.0, "A", 1.0, 0, &err), SG_ERR_USAGE);
    assert_int_equal(sg_experiment_add_event(ex, 1.0, "nope", 1.0, 0, &err), SG_ERR_USAGE);
    assert_int_equal(sg_experiment_add_event(ex, 1.0, "A", -1.0, 0, &err), SG_ERR_USAGE);
    /* adding a negative amount is allowed (a withdrawal) */
    assert_int_equal(sg_experiment_add_event(ex, 1.0, "A", -0.5, 1, &err), SG_OK);
    sg_experiment_free(ex);
    sg_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_at_output_time),
        cmocka_unit_test(test_set_between_output_times),
        cmocka_unit_test(test_repeated_dosing),
        cmocka_unit_test(test_dosing_until_end),
        cmocka_unit_test(test_parameter_event),
        cmocka_unit_test(test_event_at_end),
        cmocka_unit_test(test_api_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

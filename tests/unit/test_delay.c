/*
 * delay(x, tau) (SBML's delay csymbol): exact solutions of a delay
 * differential equation, no interpolation across an event's jump, the
 * value before the start, a round trip through SBML, and clear refusals
 * (a negative delay, sensitivities, the native backend).
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

/* dx/dt = -k x(t - tau), x = 1 up to t = 0, k = 1/2, tau = 1. By steps:
 *   [0, 1]: x = 1 - k t
 *   [1, 2]: x = 1 - k - k (t - 1) + k^2 (t - 1)^2 / 2
 * and xd = delay(x, tau) is 1 on [0, 1], then 1 - k (t - 1). */
static const char dde_model[] =
    "name = \"dde\";\n"
    "parameters = ( { id = \"k\"; value = 0.5; }, { id = \"tau\"; value = 1.0; } );\n"
    "species = ( { id = \"x\"; initial = 1.0; } );\n"
    "assignments = ( { id = \"xd\"; value = \"delay(x, tau)\"; } );\n"
    "reactions = ( { id = \"loss\"; equation = \"x ->\"; rate = \"k * delay(x, tau)\"; } );\n"
    "scenarios = (\n"
    "  { id = \"base\"; t_end = 2.0; points = 41; },\n"
    "  { id = \"backwards\"; t_end = 2.0; points = 41; set = { tau = -0.5; }; },\n"
    "  { id = \"jump\"; t_end = 2.0; points = 41; set = { k = 0.0; };\n"
    "    events = ( { at = 1.0; set = { x = 3.0; }; } ); }\n"
    ");\n";

static double dde_exact(double t)
{
    const double k = 0.5;
    return t <= 1 ? 1 - k * t : 1 - k - k * (t - 1) + k * k * (t - 1) * (t - 1) / 2;
}

static void test_dde_exact(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(dde_model);
    sg_trajectory *traj = ts_run_scenario(m, "base", 1e-10, 1e-14);
    int cx = sg_trajectory_find_column(traj, "x"), cd = sg_trajectory_find_column(traj, "xd");
    assert_true(cx >= 0 && cd >= 0);
    assert_int_equal(sg_trajectory_rows(traj), 41);
    for (int r = 0; r < 41; r++) {
        double t = sg_trajectory_time(traj, r);
        double x = sg_trajectory_value(traj, r, cx), xd = sg_trajectory_value(traj, r, cd);
        double want_d = t <= 1 ? 1.0 : 1 - 0.5 * (t - 1);
        if (ts_rel(x, dde_exact(t), 1e-12) > 1e-6)
            fail_msg("x(%g) = %.12g, exact %.12g", t, x, dde_exact(t));
        if (ts_rel(xd, want_d, 1e-12) > 1e-6)
            fail_msg("delay(x, 1) at %g = %.12g, exact %.12g", t, xd, want_d);
    }
    sg_trajectory_free(traj);
    sg_model_free(m);
}

/* With k = 0, x is 1 until the scheduled change sets it to 3 at t = 1:
 * delay(x, 1) is 1 up to t = 2 exactly (no slope bleeding in from the
 * jump), then 3. */
static void test_no_interpolation_across_jump(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(dde_model);
    sg_trajectory *traj = ts_run_scenario(m, "jump", 1e-8, 1e-12);
    int cd = sg_trajectory_find_column(traj, "xd");
    for (int r = 0; r < sg_trajectory_rows(traj); r++) {
        double t = sg_trajectory_time(traj, r);
        double xd = sg_trajectory_value(traj, r, cd);
        if (t < 1.999 && fabs(xd - 1.0) > 1e-9)
            fail_msg("delay(x, 1) at %g = %.12g, expected 1 (x jumped at 1)", t, xd);
    }
    assert_true(fabs(sg_trajectory_value(traj, 40, cd) - 3.0) < 1e-9);
    sg_trajectory_free(traj);
    sg_model_free(m);
}

/* Before the start, an x that depends on time alone follows it (the SBML
 * Test Suite's reading, case 00937); a state keeps its initial value. */
static void test_before_start(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(
        "name = \"echo\";\n"
        "assignments = ( { id = \"s\"; value = \"sin(10 * time)\"; },\n"
        "  { id = \"echo\"; value = \"delay(s, 0.2)\"; } );\n");
    sg_trajectory *traj = ts_run_scenario(m, NULL, 1e-8, 1e-12);
    int ce = sg_trajectory_find_column(traj, "echo");
    for (int r = 0; r < sg_trajectory_rows(traj); r++) {
        double t = sg_trajectory_time(traj, r);
        double want = sin(10 * (t - 0.2));
        if (fabs(sg_trajectory_value(traj, r, ce) - want) > 1e-5)
            fail_msg("echo(%g) = %.10g, expected %.10g", t, sg_trajectory_value(traj, r, ce),
                     want);
    }
    sg_trajectory_free(traj);
    sg_model_free(m);
}

/* A state whose initial value is an expression of time follows that
 * expression before the start (the SBML Test Suite's reading, 00938):
 * delay(x, 0.2) is sin(10 (t - 0.2)) up to t = 0.2, then x = t - 0.2. */
static void test_before_start_initial_expression(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(
        "name = \"past\";\n"
        "species = ( { id = \"x\"; initial = \"sin(10 * time)\"; } );\n"
        "assignments = ( { id = \"y\"; value = \"delay(x, 0.2)\"; } );\n"
        "reactions = ( { id = \"in\"; equation = \"-> x\"; rate = \"1\"; } );\n");
    sg_trajectory *traj = ts_run_scenario(m, NULL, 1e-8, 1e-12);
    int cy = sg_trajectory_find_column(traj, "y");
    for (int r = 0; r < sg_trajectory_rows(traj); r++) {
        double t = sg_trajectory_time(traj, r);
        double want = t < 0.2 ? sin(10 * (t - 0.2)) : t - 0.2;
        if (fabs(sg_trajectory_value(traj, r, cy) - want) > 1e-6)
            fail_msg("y(%g) = %.10g, expected %.10g", t, sg_trajectory_value(traj, r, cy), want);
    }
    sg_trajectory_free(traj);
    sg_model_free(m);
}

/* A negative delay reads the future: an error naming the delay. */
static void test_negative_delay_fails(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(dde_model);
    sg_error err;
    sg_options opt;
    sg_options_default(&opt);
    sg_sim *sim = sg_sim_create(m, &opt, &err);
    sg_experiment *ex = sg_experiment_create(m, "backwards", &err);
    assert_non_null(sim);
    assert_non_null(ex);
    sg_trajectory *traj = NULL;
    assert_int_equal(sg_sim_run(sim, ex, &traj, &err), SG_ERR_SOLVER);
    if (!strstr(err.message, "delay(x, ...)") || !strstr(err.message, ">= 0"))
        fail_msg("message: %s", err.message);
    sg_trajectory_free(traj);
    sg_experiment_free(ex);
    sg_sim_free(sim);
    sg_model_free(m);
}

/* Sensitivities and the native backend refuse delay models by name. */
static void test_refusals(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(dde_model);
    sg_error err;
    const char *params[] = {"k"};
    sg_sens *sens = sg_sens_create(m, NULL, params, 1, &err);
    assert_null(sens);
    assert_int_equal(err.status, SG_ERR_UNSUPPORTED);
    if (!strstr(err.message, "delay(x, ...)"))
        fail_msg("sens message: %s", err.message);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_ERR_UNSUPPORTED);
    if (!strstr(err.message, "delay"))
        fail_msg("native message: %s", err.message);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);
    sg_model_free(m);
}

/* At a steady state delay(x, tau) is x: dx/dt = 1 - delay(x, 1) rests at
 * x = 1 (Newton reads x now; no history there), and its stability is not
 * claimed from the Jacobian without the delay. */
static void test_steady_state(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(
        "name = \"rest\";\n"
        "species = ( { id = \"x\"; initial = 0.2; } );\n"
        "reactions = ( { id = \"in\"; equation = \"-> x\"; rate = \"1 - delay(x, 1)\"; } );\n");
    sg_error err;
    sg_sim *sim = sg_sim_create(m, NULL, &err);
    sg_experiment *ex = sg_experiment_create(m, NULL, &err);
    assert_non_null(sim);
    assert_non_null(ex);
    sg_trajectory *traj = NULL;
    sg_steady_info info;
    if (sg_sim_steady_state(sim, ex, &traj, &info, &err) != SG_OK)
        fail_msg("steady: %s", err.message);
    int cx = sg_trajectory_find_column(traj, "x");
    assert_true(fabs(sg_trajectory_value(traj, 0, cx) - 1.0) < 1e-6);
    assert_int_equal(info.stability.computed, 0);
    sg_trajectory_free(traj);
    sg_experiment_free(ex);
    sg_sim_free(sim);
    sg_model_free(m);
}

/* delay() survives a round trip through SBML (the csymbol) with the same
 * numbers. */
static void test_sbml_round_trip(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(dde_model);
    sg_error err;
    char *xml = sg_model_to_sbml(m, &err);
    if (!xml)
        fail_msg("export: %s", err.message);
    assert_non_null(strstr(xml, "delay"));
    char *dir = ts_temp_dir(), *path = ts_path(dir, "dde.xml");
    assert_int_equal(ts_write_file(path, xml, strlen(xml)), 0);
    sg_model *back = sg_model_load_sbml(path, &err);
    if (!back)
        fail_msg("import: %s", err.message);
    sg_trajectory *a = ts_run_scenario(m, NULL, 1e-10, 1e-14);
    sg_trajectory *b = ts_run_scenario(back, NULL, 1e-10, 1e-14);
    int ca = sg_trajectory_find_column(a, "x"), cb = sg_trajectory_find_column(b, "x");
    assert_true(ca >= 0 && cb >= 0);
    assert_int_equal(sg_trajectory_rows(a), sg_trajectory_rows(b));
    for (int r = 0; r < sg_trajectory_rows(a); r++)
        assert_true(ts_rel(sg_trajectory_value(b, r, cb), sg_trajectory_value(a, r, ca), 1e-12) <
                    1e-9);
    sg_trajectory_free(a);
    sg_trajectory_free(b);
    sg_model_free(back);
    sg_model_free(m);
    free(xml);
    ts_remove_dir(dir);
    free(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dde_exact),
        cmocka_unit_test(test_no_interpolation_across_jump),
        cmocka_unit_test(test_before_start),
        cmocka_unit_test(test_before_start_initial_expression),
        cmocka_unit_test(test_negative_delay_fails),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_steady_state),
        cmocka_unit_test(test_sbml_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

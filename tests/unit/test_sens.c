/*
 * Forward sensitivities (sg_sens_*) against closed forms and finite
 * differences.
 *
 * Closed forms: first-order decay A -> B (A = A0 e^{-kt}), the same with
 * timed events that set or add to A or set k, reversible isomerisation
 * A <-> B, and bimolecular binding A + B <-> AB (Riccati solution, whose
 * parameter derivatives are taken by central differences of the formula
 * itself: exact to ~1e-10), and transport between two compartments with
 * their sizes as parameters (also at its steady state). Finite differences
 * of the solution: the binding example's assignments (chain rule through
 * assignments), a model with initial-value expressions and a derived
 * parameter, and one with sizes in rates, start values and an event.
 *
 * Tolerances: integration rtol 1e-11, atol 1e-14; derivatives within 1e-6
 * relative of the closed form and of Richardson-extrapolated central
 * differences of the solution (rtol 1e-12; h = 1e-3 p, error O(h^4)).
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model.h"
#include "solver/solver.h"
#include "support.h"

static sg_options tight(void)
{
    sg_options opt;
    sg_options_default(&opt);
    opt.rtol = 1e-11;
    opt.atol = 1e-14;
    return opt;
}

static void check_close(double got, double want, double rel, double floor, const char *what,
                        double t)
{
    double err = fabs(got - want) / fmax(fabs(want), floor);
    if (!(err <= rel))
        fail_msg("%s at t = %g: got %.12g, want %.12g (relative error %.3g > %.1g)", what, t,
                 got, want, err, rel);
}

static int output_index(const sg_sens_result *r, const char *id)
{
    for (int j = 0; j < sg_sens_result_outputs(r); j++)
        if (strcmp(sg_sens_result_output_id(r, j), id) == 0)
            return j;
    fail_msg("no output %s", id);
    return -1;
}

static sg_sens_result *run(sg_sens *s, const sg_experiment *exp, const double *values)
{
    sg_sens_request req = {.exp = exp, .values = values};
    sg_sens_result *r = NULL;
    sg_error err;
    if (sg_sens_run(s, &req, &r, &err) != SG_OK) {
        char buf[1100];
        sg_error_format(&err, buf, sizeof buf);
        fail_msg("sg_sens_run: %s", buf);
    }
    return r;
}

static sg_sens *make(sg_model *m, const char *const *params, int n)
{
    sg_options opt = tight();
    sg_error err;
    sg_sens *s = sg_sens_create(m, &opt, params, n, &err);
    if (!s)
        fail_msg("sg_sens_create: %s", err.message);
    return s;
}

static sg_experiment *scenario(sg_model *m, const char *id)
{
    sg_error err;
    sg_experiment *e = sg_experiment_create(m, id, &err);
    if (!e)
        fail_msg("experiment %s: %s", id ? id : "(default)", err.message);
    return e;
}

/* ---------------------------------------------------------------- decay */

static const char decay_model[] =
    "name = \"decay\";\n"
    "parameters = ( { id = \"k\"; value = 0.5; } );\n"
    "species = ( { id = \"A\"; initial = 2.0; }, { id = \"B\"; initial = 0.0; } );\n"
    "assignments = ( { id = \"frac\"; value = \"B / (A + B)\"; } );\n"
    "reactions = ( { id = \"conv\"; equation = \"A -> B\"; rate = \"k * A\"; } );\n"
    "scenarios = (\n"
    "  { id = \"plain\"; t_end = 10.0; points = 11; },\n"
    "  { id = \"set_A\"; t_end = 10.0; points = 11;\n"
    "    events = ( { at = 5.0; set = { A = 3.0; }; } ); },\n"
    "  { id = \"add_A\"; t_end = 10.0; points = 21;\n"
    "    events = ( { at = 2.5; add = { A = 1.0; }; } ); },\n"
    "  { id = \"set_k\"; t_end = 10.0; points = 11;\n"
    "    events = ( { at = 4.0; set = { k = 2.0; }; } ); }\n"
    ");\n";

static int no_sens_rhs(void *ctx, double t, const double *y, const double *ydot, int ns,
                       const double *const *s, double *const *sdot)
{
    (void)ctx, (void)t, (void)y, (void)ydot, (void)ns, (void)s, (void)sdot;
    return 0;
}

/* A simulation integrates with plain CVODE, which spares every step
 * CVODES' sensitivity branches, where both are linked (the optimised
 * static build: SG_CVODE_SPLIT); enabling sensitivities moves the solver
 * to CVODES, and the closed-form tests here then run on it. */
static void test_library_per_run(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(decay_model);
    sg_options opt = tight();
    sg_error err;
    sg_solver *plain = sg_solver_create(m->program, NULL, &opt, &err);
    sg_solver *sens = sg_solver_create(m->program, NULL, &opt, &err);
    assert_non_null(plain);
    assert_non_null(sens);
#ifdef SG_CVODE_SPLIT
    assert_string_equal(sg_solver_library(plain), "CVODE");
#else
    assert_string_equal(sg_solver_library(plain), "CVODES");
#endif
    assert_int_equal(sg_solver_sens_enable(sens, 2, no_sens_rhs, NULL, &err), SG_OK);
    assert_string_equal(sg_solver_library(sens), "CVODES");
    sg_solver_free(plain);
    sg_solver_free(sens);
    sg_model_free(m);
}

/* dA/dk, dA/dA0, dB/dk and the assignment frac = B / A0 against the closed
 * form (frac's derivative goes through the chain rule of the output code). */
static void test_decay_closed_form(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(decay_model);
    const char *params[] = {"k", "A"};
    sg_sens *s = make(m, params, 2);
    sg_experiment *e = scenario(m, "plain");
    sg_sens_result *r = run(s, e, NULL);
    int a = output_index(r, "A"), b = output_index(r, "B"), f = output_index(r, "frac");
    const double k = 0.5, A0 = 2.0;
    assert_int_equal(sg_sens_result_times(r), 11);
    for (int i = 0; i < sg_sens_result_times(r); i++) {
        double t = sg_sens_result_time(r, i), ex = exp(-k * t);
        check_close(sg_sens_result_value(r, i, a), A0 * ex, 1e-8, 1e-12, "A", t);
        check_close(sg_sens_result_deriv(r, i, a, 0), -t * A0 * ex, 1e-6, 1e-9, "dA/dk", t);
        check_close(sg_sens_result_deriv(r, i, a, 1), ex, 1e-6, 1e-9, "dA/dA0", t);
        check_close(sg_sens_result_deriv(r, i, b, 0), t * A0 * ex, 1e-6, 1e-9, "dB/dk", t);
        check_close(sg_sens_result_deriv(r, i, b, 1), 1 - ex, 1e-6, 1e-9, "dB/dA0", t);
        /* frac = 1 - e^{-kt}: d/dk = t e^{-kt}, independent of A0 */
        check_close(sg_sens_result_deriv(r, i, f, 0), t * ex, 1e-6, 1e-9, "dfrac/dk", t);
        assert_true(fabs(sg_sens_result_deriv(r, i, f, 1)) < 1e-8);
    }
    /* new parameter values per call, same workspace */
    double values[2] = {0.2, 5.0};
    sg_sens_result *r2 = run(s, e, values);
    for (int i = 0; i < sg_sens_result_times(r2); i++) {
        double t = sg_sens_result_time(r2, i), ex = exp(-0.2 * t);
        check_close(sg_sens_result_value(r2, i, a), 5.0 * ex, 1e-8, 1e-12, "A (k=0.2)", t);
        check_close(sg_sens_result_deriv(r2, i, a, 0), -t * 5.0 * ex, 1e-6, 1e-9,
                    "dA/dk (k=0.2)", t);
    }
    sg_sens_result_free(r);
    sg_sens_result_free(r2);
    sg_experiment_free(e);
    sg_sens_free(s);
    sg_model_free(m);
}

/* Timed events: set A = 3 at t = 5 (the sensitivities of A restart from
 * 0), add 1 at 2.5 (they carry on), set k = 2 at 4 (d/dk of the rate
 * vanishes afterwards). */
static void test_decay_events(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(decay_model);
    const char *params[] = {"k", "A"};
    sg_sens *s = make(m, params, 2);
    const double k = 0.5, A0 = 2.0;

    sg_experiment *e = scenario(m, "set_A");
    sg_sens_result *r = run(s, e, NULL);
    int a = output_index(r, "A");
    for (int i = 0; i < sg_sens_result_times(r); i++) {
        double t = sg_sens_result_time(r, i);
        double want_k = t < 5 ? -t * A0 * exp(-k * t) : -(t - 5) * 3.0 * exp(-k * (t - 5));
        double want_a0 = t < 5 ? exp(-k * t) : 0.0;
        check_close(sg_sens_result_deriv(r, i, a, 0), want_k, 1e-6, 1e-9, "set_A: dA/dk", t);
        check_close(sg_sens_result_deriv(r, i, a, 1), want_a0, 1e-6, 1e-9, "set_A: dA/dA0", t);
    }
    sg_sens_result_free(r);
    sg_experiment_free(e);

    e = scenario(m, "add_A");
    r = run(s, e, NULL);
    for (int i = 0; i < sg_sens_result_times(r); i++) {
        double t = sg_sens_result_time(r, i), want_k, want_a0;
        if (t < 2.5) {
            want_k = -t * A0 * exp(-k * t);
            want_a0 = exp(-k * t);
        } else { /* A = (A0 e^{-2.5k} + 1) e^{-k(t-2.5)} */
            double pre = A0 * exp(-2.5 * k), decay = exp(-k * (t - 2.5));
            want_k = -2.5 * pre * decay - (t - 2.5) * (pre + 1) * decay;
            want_a0 = exp(-2.5 * k) * decay;
        }
        check_close(sg_sens_result_deriv(r, i, a, 0), want_k, 1e-6, 1e-9, "add_A: dA/dk", t);
        check_close(sg_sens_result_deriv(r, i, a, 1), want_a0, 1e-6, 1e-9, "add_A: dA/dA0", t);
    }
    sg_sens_result_free(r);
    sg_experiment_free(e);

    e = scenario(m, "set_k");
    r = run(s, e, NULL);
    for (int i = 0; i < sg_sens_result_times(r); i++) {
        double t = sg_sens_result_time(r, i);
        /* after t = 4, A = A0 e^{-4k} e^{-2(t-4)}: only A(4) depends on k */
        double want_k = t < 4 ? -t * A0 * exp(-k * t) : -4 * A0 * exp(-4 * k) * exp(-2 * (t - 4));
        check_close(sg_sens_result_deriv(r, i, a, 0), want_k, 1e-6, 1e-9, "set_k: dA/dk", t);
    }
    sg_sens_result_free(r);
    sg_experiment_free(e);
    sg_sens_free(s);
    sg_model_free(m);
}

/* -------------------------------------------------------- isomerisation */

static const char isomer_model[] =
    "name = \"isomer\";\n"
    "parameters = ( { id = \"kf\"; value = 0.3; }, { id = \"kb\"; value = 0.1; } );\n"
    "species = ( { id = \"A\"; initial = 4.0; }, { id = \"B\"; initial = 1.0; } );\n"
    "reactions = ( { id = \"iso\"; equation = \"A <-> B\"; rate = \"kf * A - kb * B\"; } );\n"
    "scenarios = ( { id = \"run\"; t_end = 20.0; points = 41; } );\n";

static void test_reversible_closed_form(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(isomer_model);
    const char *params[] = {"kf", "kb"};
    sg_sens *s = make(m, params, 2);
    sg_experiment *e = scenario(m, "run");
    sg_sens_result *r = run(s, e, NULL);
    int a = output_index(r, "A");
    const double kf = 0.3, kb = 0.1, A0 = 4.0, T = 5.0, K = kf + kb, Aeq = kb * T / K;
    for (int i = 0; i < sg_sens_result_times(r); i++) {
        double t = sg_sens_result_time(r, i), ex = exp(-K * t);
        double dkf = -kb * T / (K * K) * (1 - ex) - (A0 - Aeq) * t * ex;
        double dkb = kf * T / (K * K) * (1 - ex) - (A0 - Aeq) * t * ex;
        check_close(sg_sens_result_deriv(r, i, a, 0), dkf, 1e-6, 1e-9, "dA/dkf", t);
        check_close(sg_sens_result_deriv(r, i, a, 1), dkb, 1e-6, 1e-9, "dA/dkb", t);
    }
    sg_sens_result_free(r);
    sg_experiment_free(e);
    sg_sens_free(s);
    sg_model_free(m);
}

/* --------------------------------------------------------------- binding */

/* AB(t) of A + B <-> AB from AB(0) = 0: with r1 < r2 the roots of
 * kon x^2 - (kon (A0 + B0) + koff) x + kon A0 B0 and D = kon (r2 - r1),
 * AB = r1 (1 - e^{-Dt}) / (1 - (r1/r2) e^{-Dt}). */
static double binding_ab(double kon, double koff, double A0, double B0, double t)
{
    double bq = kon * (A0 + B0) + koff, disc = sqrt(bq * bq - 4 * kon * kon * A0 * B0);
    double r1 = (bq - disc) / (2 * kon), r2 = (bq + disc) / (2 * kon);
    double ex = exp(-kon * (r2 - r1) * t);
    return r1 * (1 - ex) / (1 - r1 / r2 * ex);
}

static void test_binding_closed_form(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = sg_model_load_file(SIGODE_SOURCE_DIR "/models/examples/binding.cfg", &err);
    assert_non_null(m);
    const char *params[] = {"kon", "koff", "A", "B"};
    sg_sens *s = make(m, params, 4);
    sg_experiment *e = scenario(m, "baseline");
    sg_sens_result *r = run(s, e, NULL);
    int ab = output_index(r, "AB");
    const double p0[4] = {0.01, 0.1, 100.0, 50.0};
    for (int i = 0; i < sg_sens_result_times(r); i += 10) {
        double t = sg_sens_result_time(r, i);
        check_close(sg_sens_result_value(r, i, ab), binding_ab(p0[0], p0[1], p0[2], p0[3], t),
                    1e-8, 1e-9, "AB", t);
        for (int k = 0; k < 4; k++) {
            double hi[4], lo[4];
            memcpy(hi, p0, sizeof hi);
            memcpy(lo, p0, sizeof lo);
            double h = 1e-5 * p0[k];
            hi[k] += h;
            lo[k] -= h;
            double want = (binding_ab(hi[0], hi[1], hi[2], hi[3], t) -
                           binding_ab(lo[0], lo[1], lo[2], lo[3], t)) /
                          (2 * h);
            char what[40];
            snprintf(what, sizeof what, "dAB/d%s", params[k]);
            check_close(sg_sens_result_deriv(r, i, ab, k), want, 1e-6, 1e-6, what, t);
        }
    }
    sg_sens_result_free(r);
    sg_experiment_free(e);
    sg_sens_free(s);
    sg_model_free(m);
}

/* ---------------------------------------------------- finite differences */

/* Central differences of sg_sim_run with the parameter set by the
 * experiment, against the sensitivities of every output. */
static void compare_with_fd(sg_model *m, const char *scen, const char *const *params, int np,
                            double rel)
{
    sg_sens *s = make(m, params, np);
    sg_experiment *e = scenario(m, scen);
    sg_sens_result *r = run(s, e, NULL);
    sg_options opt = tight();
    opt.rtol = 1e-12;
    opt.atol = 1e-16;
    sg_error err;
    sg_sim *sim = sg_sim_create(m, &opt, &err);
    assert_non_null(sim);
    for (int k = 0; k < np; k++) {
        /* the parameter's value at the start: its output in a plain run */
        sg_trajectory *base = NULL;
        sg_experiment *e0 = scenario(m, scen);
        assert_int_equal(sg_sim_run(sim, e0, &base, &err), SG_OK);
        int col = sg_trajectory_find_column(base, params[k]);
        double p0;
        if (col >= 0) {
            p0 = sg_trajectory_value(base, 0, col);
        } else {
            assert_int_equal(sg_experiment_add_output(e0, params[k], &err), SG_OK);
            sg_trajectory_free(base);
            assert_int_equal(sg_sim_run(sim, e0, &base, &err), SG_OK);
            p0 = sg_trajectory_value(base, 0, sg_trajectory_find_column(base, params[k]));
        }
        sg_trajectory_free(base);
        sg_experiment_free(e0);
        /* Richardson: (4 D(h/2) - D(h)) / 3 cancels the h^2 error of the
         * central differences D */
        double h = 1e-3 * fmax(fabs(p0), 1e-3);
        sg_trajectory *tr[4];
        const double shift[4] = {h, -h, h / 2, -h / 2};
        for (int q = 0; q < 4; q++) {
            sg_experiment *eq = scenario(m, scen);
            assert_int_equal(sg_experiment_set_value(eq, params[k], p0 + shift[q], &err), SG_OK);
            assert_int_equal(sg_sim_run(sim, eq, &tr[q], &err), SG_OK);
            assert_int_equal(sg_trajectory_rows(tr[q]), sg_sens_result_times(r));
            sg_experiment_free(eq);
        }
        for (int j = 0; j < sg_sens_result_outputs(r); j++) {
            int c = sg_trajectory_find_column(tr[0], sg_sens_result_output_id(r, j));
            assert_true(c >= 0);
            double scale = 0; /* the output's size over the run */
            for (int i = 0; i < sg_trajectory_rows(tr[0]); i++)
                scale = fmax(scale, fabs(sg_trajectory_value(tr[0], i, c)));
            for (int i = 0; i < sg_trajectory_rows(tr[0]); i++) {
                double d1 = (sg_trajectory_value(tr[0], i, c) - sg_trajectory_value(tr[1], i, c)) /
                            (2 * h);
                double d2 = (sg_trajectory_value(tr[2], i, c) - sg_trajectory_value(tr[3], i, c)) /
                            h;
                double fd = (4 * d2 - d1) / 3;
                char what[300];
                snprintf(what, sizeof what, "d%s/d%s", sg_sens_result_output_id(r, j),
                         params[k]);
                check_close(sg_sens_result_deriv(r, i, j, k), fd, rel,
                            1e-3 * scale / fmax(fabs(p0), 1e-3), what,
                            sg_sens_result_time(r, i));
            }
        }
        for (int q = 0; q < 4; q++)
            sg_trajectory_free(tr[q]);
    }
    sg_sim_free(sim);
    sg_sens_result_free(r);
    sg_experiment_free(e);
    sg_sens_free(s);
}

/* The binding example: outputs include assignments (A_tot, AB_eq with a
 * square root, fraction_bound) differentiated through the chain rule. */
static void test_binding_fd(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = sg_model_load_file(SIGODE_SOURCE_DIR "/models/examples/binding.cfg", &err);
    assert_non_null(m);
    const char *params[] = {"kon", "koff", "B"};
    compare_with_fd(m, "baseline", params, 3, 1e-6);
    sg_model_free(m);
}

/* Initial values given by expressions: A starts at A0 (a parameter), C at
 * 2 * A0; k2 = 3 * k1 is a derived parameter. d/dA0 and d/dk1 must go
 * through them. */
static const char init_model[] =
    "name = \"initexpr\";\n"
    "parameters = ( { id = \"k1\"; value = 0.4; }, { id = \"A0\"; value = 2.0; },\n"
    "  { id = \"k2\"; value = \"3 * k1\"; }, { id = \"Km\"; value = 1.5; } );\n"
    "species = ( { id = \"A\"; initial = \"A0\"; }, { id = \"B\"; initial = 0.0; },\n"
    "  { id = \"C\"; initial = \"2 * A0\"; } );\n"
    "assignments = ( { id = \"ratio\"; value = \"B / (C + 1)\"; } );\n"
    "reactions = (\n"
    "  { id = \"r1\"; equation = \"A -> B\"; rate = \"k1 * A * C / (Km + A)\"; },\n"
    "  { id = \"r2\"; equation = \"B -> \"; rate = \"k2 * B\"; },\n"
    "  { id = \"r3\"; equation = \"C -> A\"; rate = \"0.1 * C\"; } );\n"
    "scenarios = ( { id = \"run\"; t_end = 8.0; points = 17; } );\n";

static void test_initial_expressions_fd(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(init_model);
    const char *params[] = {"k1", "A0", "Km"};
    compare_with_fd(m, "run", params, 3, 1e-6);
    sg_model_free(m);
}

/* ------------------------------------------------------------ model events */

/* A decays at rate k A and is refilled to 4 whenever it falls below 1:
 * the n-th event comes at tau_n = ln(A0)/k + (n-1) ln(4)/k, and after it
 * A = 4 e^{-k (t - tau_n)}, so dA/dk = -t A and dA/dA0 = A / A0 at every
 * time (before the first event too). Setting A = 4 and adding 3 give the
 * same trajectory through different jump formulas. */
static const char *const refill_models[] = {
    "name = \"refill_set\";\n"
    "parameters = ( { id = \"k\"; value = 0.5; } );\n"
    "species = ( { id = \"A\"; initial = 2.0; } );\n"
    "reactions = ( { id = \"d\"; equation = \"A ->\"; rate = \"k * A\"; } );\n"
    "events = ( { id = \"refill\"; trigger = \"A < 1\"; assign = { A = 4.0; }; } );\n"
    "scenarios = ( { id = \"run\"; t_end = 10.0; points = 41; } );\n",
    "name = \"refill_add\";\n"
    "parameters = ( { id = \"k\"; value = 0.5; } );\n"
    "species = ( { id = \"A\"; initial = 2.0; } );\n"
    "reactions = ( { id = \"d\"; equation = \"A ->\"; rate = \"k * A\"; } );\n"
    "events = ( { id = \"refill\"; trigger = \"A < 1\"; assign = { A = \"A + 3\"; }; } );\n"
    "scenarios = ( { id = \"run\"; t_end = 10.0; points = 41; } );\n"};

static void test_model_event_closed_form(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        sg_model *m = ts_load_text(refill_models[v]);
        const char *params[] = {"k", "A"};
        sg_sens *s = make(m, params, 2);
        sg_experiment *e = scenario(m, "run");
        sg_sens_result *r = run(s, e, NULL);
        int events = 0;
        for (int i = 0; i < sg_sens_result_times(r); i++) {
            double t = sg_sens_result_time(r, i), a = sg_sens_result_value(r, i, 0);
            /* the closed form of A itself */
            double tau = log(2.0) / 0.5, period = log(4.0) / 0.5, want = 2.0 * exp(-0.5 * t);
            if (t >= tau) {
                double n = floor((t - tau) / period);
                want = 4.0 * exp(-0.5 * (t - tau - n * period));
                events = (int)n + 1;
            }
            check_close(a, want, 1e-7, 1e-9, v ? "A (add)" : "A (set)", t);
            check_close(sg_sens_result_deriv(r, i, 0, 0), -t * a, 1e-6, 1e-9,
                        v ? "dA/dk (add)" : "dA/dk (set)", t);
            check_close(sg_sens_result_deriv(r, i, 0, 1), a / 2.0, 1e-6, 1e-9,
                        v ? "dA/dA0 (add)" : "dA/dA0 (set)", t);
        }
        assert_int_equal(events, 4); /* at 1.39, 4.16, 6.93, 9.70 */
        sg_sens_result_free(r);
        sg_experiment_free(e);
        sg_sens_free(s);
        sg_model_free(m);
    }
}

/* An equality trigger on a state (x == 5, x decaying from 10 at rate k)
 * fires where x crosses 5, as in a simulation: the event time ln 2 / k is
 * recorded in t5, so d t5 / d k = -ln 2 / k^2 (issue 12: the trigger was
 * read just after the root, where x != 5, and never fired: derivative 0). */
static void test_equality_trigger_sensitivity(void **state)
{
    (void)state;
    sg_model *m = ts_load_text("name = \"cross\";\n"
                               "parameters = ( { id = \"k\"; value = 0.3; } );\n"
                               "species = ( { id = \"x\"; initial = 10.0; }, "
                               "{ id = \"t5\"; initial = 0.0; } );\n"
                               "reactions = ( { id = \"d\"; equation = \"x ->\"; "
                               "rate = \"k * x\"; } );\n"
                               "events = ( { id = \"at5\"; trigger = \"x == 5\"; "
                               "assign = { t5 = \"time\"; }; } );\n"
                               "scenarios = ( { id = \"run\"; t_end = 10.0; points = 3; } );\n");
    const char *params[] = {"k"};
    sg_sens *s = make(m, params, 1);
    sg_experiment *e = scenario(m, "run");
    sg_sens_result *r = run(s, e, NULL);
    int last = sg_sens_result_times(r) - 1, j = output_index(r, "t5");
    check_close(sg_sens_result_value(r, last, j), log(2.0) / 0.3, 1e-5, 0, "t5", 10.0);
    check_close(sg_sens_result_deriv(r, last, j, 0), -log(2.0) / 0.09, 1e-4, 0, "dt5/dk", 10.0);
    sg_sens_result_free(r);
    sg_experiment_free(e);
    sg_sens_free(s);
    sg_model_free(m);
}

/* An event that changes a sensitivity parameter and adds one state to
 * another, at a time that depends on every parameter: finite differences. */
static const char event_fd_model[] =
    "name = \"event_fd\";\n"
    "parameters = ( { id = \"k\"; value = 0.4; }, { id = \"kc\"; value = 0.3; },\n"
    "  { id = \"thr\"; value = 1.2; } );\n"
    "species = ( { id = \"A\"; initial = 3.0; }, { id = \"B\"; initial = 0.0; },\n"
    "  { id = \"C\"; initial = 0.5; } );\n"
    "assignments = ( { id = \"total\"; value = \"A + B + C\"; } );\n"
    "reactions = ( { id = \"r1\"; equation = \"A -> B\"; rate = \"k * A\"; },\n"
    "  { id = \"r2\"; equation = \"C ->\"; rate = \"kc * C * B\"; } );\n"
    "events = ( { id = \"switch\"; trigger = \"B > thr\";\n"
    "    assign = { k = \"2 * k\"; C = \"C + 0.5 * B\"; }; } );\n"
    "scenarios = ( { id = \"run\"; t_end = 6.0; points = 13; } );\n";

static void test_model_event_fd(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(event_fd_model);
    const char *params[] = {"k", "kc", "thr", "A"};
    compare_with_fd(m, "run", params, 4, 1e-6);
    sg_model_free(m);
}

/* ------------------------------------------------------- compartment sizes */

/* Transport from cyt (size Vc) into nuc (size Vn) at an amount flux k1 A:
 * the amount 1 starts in cyt (A(0) = 1 / Vc), so
 *   A = e^{-k1 t / Vc} / Vc,  B = (1 - e^{-k1 t / Vc}) / Vn,
 * and B_amount = B nuc = 1 - e^{-k1 t / Vc}. d/dVc goes through the start
 * value, the flux's division by the size (-f / V) and the assignment. */
static const char volume_model[] =
    "name = \"volumes\";\n"
    "compartments = ( { id = \"cyt\"; size = 2.0; }, { id = \"nuc\"; size = 0.5; } );\n"
    "parameters = ( { id = \"k1\"; value = 0.3; } );\n"
    "species = ( { id = \"A\"; initial = \"1 / cyt\"; compartment = \"cyt\"; },\n"
    "  { id = \"B\"; initial = 0.0; compartment = \"nuc\"; } );\n"
    "assignments = ( { id = \"B_amount\"; value = \"B * nuc\"; } );\n"
    "reactions = ( { id = \"imp\"; equation = \"A -> B\"; rate = \"k1 * A\"; } );\n"
    "scenarios = ( { id = \"run\"; t_end = 8.0; points = 9; } );\n";

static void test_compartment_closed_form(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(volume_model);
    const char *params[] = {"cyt", "nuc", "k1"};
    sg_sens *s = make(m, params, 3);
    sg_experiment *e = scenario(m, "run");
    sg_sens_result *r = run(s, e, NULL);
    int a = output_index(r, "A"), b = output_index(r, "B"), ba = output_index(r, "B_amount");
    const double k1 = 0.3, vc = 2.0, vn = 0.5;
    for (int i = 0; i < sg_sens_result_times(r); i++) {
        double t = sg_sens_result_time(r, i), ex = exp(-k1 * t / vc);
        double av = ex / vc, bv = (1 - ex) / vn, dex_dvc = ex * k1 * t / (vc * vc);
        check_close(sg_sens_result_value(r, i, a), av, 1e-8, 1e-12, "A", t);
        check_close(sg_sens_result_value(r, i, b), bv, 1e-8, 1e-12, "B", t);
        check_close(sg_sens_result_deriv(r, i, a, 0), -av / vc + dex_dvc / vc, 1e-6, 1e-9,
                    "dA/dcyt", t);
        assert_true(fabs(sg_sens_result_deriv(r, i, a, 1)) < 1e-12);
        check_close(sg_sens_result_deriv(r, i, a, 2), -t * av / vc, 1e-6, 1e-9, "dA/dk1", t);
        check_close(sg_sens_result_deriv(r, i, b, 0), -dex_dvc / vn, 1e-6, 1e-9, "dB/dcyt", t);
        check_close(sg_sens_result_deriv(r, i, b, 1), -bv / vn, 1e-6, 1e-9, "dB/dnuc", t);
        check_close(sg_sens_result_deriv(r, i, b, 2), t * ex / (vc * vn), 1e-6, 1e-9, "dB/dk1",
                    t);
        check_close(sg_sens_result_deriv(r, i, ba, 0), -dex_dvc, 1e-6, 1e-9, "dB_amount/dcyt",
                    t);
        assert_true(fabs(sg_sens_result_deriv(r, i, ba, 1)) < 1e-8);
    }
    sg_sens_result_free(r);
    sg_experiment_free(e);
    sg_sens_free(s);
    sg_model_free(m);
}

/* Sizes in rates (a bimolecular rate per volume), a size derived from a
 * parameter (nuc = 0.25 * vscale), a species given as an amount over a
 * derived size, and an event whose time and jump depend on the sizes:
 * finite differences. */
static const char volume_fd_model[] =
    "name = \"volumes_fd\";\n"
    "compartments = ( { id = \"cyt\"; size = 2.0; }, { id = \"nuc\"; size = \"0.25 * vscale\"; } );\n"
    "parameters = ( { id = \"kon\"; value = 0.8; }, { id = \"kt\"; value = 0.3; },\n"
    "  { id = \"vscale\"; value = 2.0; } );\n"
    "species = ( { id = \"L\"; initial = 1.5; compartment = \"cyt\"; },\n"
    "  { id = \"R\"; initial = \"0.4 / nuc\"; compartment = \"nuc\"; },\n"
    "  { id = \"C\"; initial = 0.0; compartment = \"nuc\"; } );\n"
    "assignments = ( { id = \"C_amount\"; value = \"C * nuc\"; } );\n"
    "reactions = ( { id = \"bind\"; equation = \"L + R -> C\"; rate = \"kon * L * R\"; },\n"
    "  { id = \"back\"; equation = \"C -> L\"; rate = \"kt * C * nuc / cyt\"; } );\n"
    "events = ( { id = \"refill\"; trigger = \"C_amount > 0.2\";\n"
    "    assign = { R = \"R + 0.1 / nuc\"; }; } );\n"
    "scenarios = ( { id = \"run\"; t_end = 6.0; points = 13; } );\n";

static void test_compartment_fd(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(volume_fd_model);
    const char *params[] = {"cyt", "vscale", "kon"};
    compare_with_fd(m, "run", params, 3, 1e-6);
    const char *nuc[] = {"nuc"}; /* the derived size set directly */
    compare_with_fd(m, "run", nuc, 1, 1e-6);
    sg_model_free(m);
}

/* The steady state of reversible transport (amount flux k1 A - k2 B, the
 * amount 1 in cyt at the start): k1 A = k2 B and Vc A + Vn B = 1 give
 * A* = k2 / (k2 Vc + k1 Vn), B* = k1 / (k2 Vc + k1 Vn). The conservation
 * law's weights are the sizes, so d/dV must move the law's total (as in
 * sg_sens_steady's law rows). */
static double transport_eq(const double p[4], int which)
{
    /* p: Vc, Vn, k1, k2 */
    double den = p[3] * p[0] + p[2] * p[1];
    return (which ? p[2] : p[3]) / den;
}

static void test_compartment_steady(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(
        "name = \"transport\";\n"
        "compartments = ( { id = \"cyt\"; size = 2.0; }, { id = \"nuc\"; size = 0.5; } );\n"
        "parameters = ( { id = \"k1\"; value = 0.3; }, { id = \"k2\"; value = 0.2; } );\n"
        "species = ( { id = \"A\"; initial = \"1 / cyt\"; compartment = \"cyt\"; },\n"
        "  { id = \"B\"; initial = 0.0; compartment = \"nuc\"; } );\n"
        "reactions = ( { id = \"imp\"; equation = \"A <-> B\"; rate = \"k1 * A - k2 * B\"; } );\n");
    const char *params[] = {"cyt", "nuc", "k1", "k2"};
    sg_sens *s = make(m, params, 4);
    const char *outputs[] = {"A", "B"};
    sg_sens_request req = {.outputs = outputs, .noutputs = 2};
    sg_sens_result *r = NULL;
    sg_steady_info info = {0};
    sg_error err;
    if (sg_sens_steady(s, &req, &r, &info, NULL, &err) != SG_OK)
        fail_msg("sg_sens_steady: %s", err.message);
    assert_int_equal(info.conservation_laws, 1);
    const double p0[4] = {2.0, 0.5, 0.3, 0.2};
    for (int j = 0; j < 2; j++) {
        check_close(sg_sens_result_value(r, 0, j), transport_eq(p0, j), 1e-8, 1e-12,
                    outputs[j], 0);
        for (int k = 0; k < 4; k++) {
            double hi[4], lo[4], h = 1e-4 * p0[k];
            memcpy(hi, p0, sizeof hi);
            memcpy(lo, p0, sizeof lo);
            hi[k] += h;
            lo[k] -= h;
            double want = (transport_eq(hi, j) - transport_eq(lo, j)) / (2 * h);
            char what[64];
            snprintf(what, sizeof what, "d%s*/d%s", outputs[j], params[k]);
            check_close(sg_sens_result_deriv(r, 0, j, k), want, 1e-6, 1e-9, what, 0);
        }
    }
    sg_sens_result_free(r);
    sg_sens_free(s);
    sg_model_free(m);
}

/* ---------------------------------------------------------------- refusals */

/* An event setting a parameter that is not differentiated to a value that
 * depends on one that is (kx = k A(tau), A(tau) = 2 at the root): kx would
 * need to become a sensitivity column mid-run. */
static const char refused_events_model[] =
    "name = \"refill\";\n"
    "parameters = ( { id = \"k\"; value = 0.5; }, { id = \"kx\"; value = 1.0; } );\n"
    "species = ( { id = \"A\"; initial = 4.0; } );\n"
    "reactions = ( { id = \"d\"; equation = \"A ->\"; rate = \"k * kx * A\"; } );\n"
    "events = ( { id = \"refill\"; trigger = \"A < 2\"; assign = { kx = \"k * A\"; }; } );\n";

static void test_refusals(void **state)
{
    (void)state;
    sg_error err;
    sg_options opt = tight();
    sg_model *m = ts_load_text(decay_model);
    const char *bad[] = {"frac"}, *unknown[] = {"nope"}, *twice[] = {"k", "k"};
    assert_null(sg_sens_create(m, &opt, bad, 1, &err));
    assert_int_equal(err.status, SG_ERR_USAGE);
    assert_null(sg_sens_create(m, &opt, unknown, 1, &err));
    assert_int_equal(err.status, SG_ERR_USAGE);
    assert_null(sg_sens_create(m, &opt, twice, 2, &err));
    assert_int_equal(err.status, SG_ERR_USAGE);
    sg_model_free(m);

    /* model events sigode has no jump for: refused, not wrong */
    m = ts_load_text(refused_events_model);
    const char *k[] = {"k"};
    sg_sens *s = make(m, k, 1);
    sg_sens_result *r = NULL;
    sg_sens_request req = {0};
    assert_int_equal(sg_sens_run(s, &req, &r, &err), SG_ERR_UNSUPPORTED);
    assert_null(r);
    assert_non_null(strstr(err.message, "refill"));
    assert_non_null(strstr(err.message, "depends on"));
    sg_sens_free(s);
    sg_model_free(m);

    /* a delayed event: its jump comes later, at a time the parameters move */
    m = ts_load_text("name = \"late\";\n"
                     "parameters = ( { id = \"k\"; value = 0.5; } );\n"
                     "species = ( { id = \"A\"; initial = 4.0; } );\n"
                     "reactions = ( { id = \"d\"; equation = \"A ->\"; rate = \"k * A\"; } );\n"
                     "events = ( { id = \"late_dose\"; trigger = \"A < 2\"; delay = 1.0;\n"
                     "  assign = { A = \"A + 1\"; }; } );\n");
    s = make(m, k, 1);
    assert_int_equal(sg_sens_run(s, &req, &r, &err), SG_ERR_UNSUPPORTED);
    assert_null(r);
    if (!strstr(err.message, "'late_dose'") || !strstr(err.message, "delay"))
        fail_msg("%s", err.message);
    sg_sens_free(s);
    sg_model_free(m);
}

/* ------------------------------------------------------------------ backends */

/* With the native backend the model's program runs as compiled C and the
 * derivative code on the instruction program: the same numbers as the
 * instruction program alone (both backends are bit-identical). */
static void test_native_backend(void **state)
{
    (void)state;
    sg_error err;
    sg_model *vm = sg_model_load_file(SIGODE_SOURCE_DIR "/models/examples/binding.cfg", &err);
    sg_model *nat = sg_model_load_file(SIGODE_SOURCE_DIR "/models/examples/binding.cfg", &err);
    assert_non_null(vm);
    assert_non_null(nat);
    if (sg_model_set_backend(nat, SG_BACKEND_NATIVE, &err) != SG_OK) {
        sg_model_free(vm);
        sg_model_free(nat);
        skip(); /* no compiler here: the instruction program is all there is */
    }
    const char *params[] = {"kon", "koff", "B"};
    sg_sens *a = make(vm, params, 3), *b = make(nat, params, 3);
    sg_experiment *ea = scenario(vm, "baseline"), *eb = scenario(nat, "baseline");
    sg_sens_result *ra = run(a, ea, NULL), *rb = run(b, eb, NULL);
    assert_int_equal(sg_sens_result_times(ra), sg_sens_result_times(rb));
    for (int i = 0; i < sg_sens_result_times(ra); i++)
        for (int j = 0; j < sg_sens_result_outputs(ra); j++)
            for (int k = 0; k < 3; k++)
                assert_true(sg_sens_result_deriv(ra, i, j, k) == sg_sens_result_deriv(rb, i, j, k));
    sg_sens_result_free(ra);
    sg_sens_result_free(rb);
    sg_experiment_free(ea);
    sg_experiment_free(eb);
    sg_sens_free(a);
    sg_sens_free(b);
    sg_model_free(vm);
    sg_model_free(nat);
}

/* ----------------------------------------------------------------- threads */

typedef struct job {
    sg_sens *sens;
    const sg_experiment *exp;
    double values[2];
    sg_sens_result *result;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    sg_sens_request req = {.exp = j->exp, .values = j->values};
    sg_error err;
    if (sg_sens_run(j->sens, &req, &j->result, &err) != SG_OK)
        j->result = NULL;
    return NULL;
}

/* Clones in two threads at once give what one workspace gives alone. */
static void test_clones_in_threads(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(decay_model);
    const char *params[] = {"k", "A"};
    sg_sens *s = make(m, params, 2);
    sg_experiment *e = scenario(m, "add_A");
    sg_error err;
    job jobs[2] = {{sg_sens_clone(s, &err), e, {0.5, 2.0}, NULL},
                   {sg_sens_clone(s, &err), e, {0.1, 3.0}, NULL}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        assert_non_null(jobs[i].sens);
        assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        assert_non_null(jobs[i].result);
        sg_sens_result *alone = run(s, e, jobs[i].values);
        for (int t = 0; t < sg_sens_result_times(alone); t++)
            for (int o = 0; o < sg_sens_result_outputs(alone); o++)
                for (int k = 0; k < 2; k++)
                    assert_true(sg_sens_result_deriv(alone, t, o, k) ==
                                sg_sens_result_deriv(jobs[i].result, t, o, k));
        sg_sens_result_free(alone);
        sg_sens_result_free(jobs[i].result);
        sg_sens_free(jobs[i].sens);
    }
    sg_experiment_free(e);
    sg_sens_free(s);
    sg_model_free(m);
}

/* ------------------------------------------------------------ steady states */

/* Binding at equilibrium: AB* = (s - sqrt(s^2 - 4 A0 B0)) / 2 with
 * s = A0 + B0 + koff/kon. Its derivatives with respect to kon, koff and
 * the totals (through the conservation laws) against central differences
 * of the formula. */
static double binding_eq(const double *p)
{
    double s = p[2] + p[3] + p[1] / p[0];
    return (s - sqrt(s * s - 4 * p[2] * p[3])) / 2;
}

static void test_steady_sensitivities(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = sg_model_load_file(SIGODE_SOURCE_DIR "/models/examples/binding.cfg", &err);
    assert_non_null(m);
    const char *params[] = {"kon", "koff", "A", "B"};
    sg_sens *s = make(m, params, 4);
    const char *outputs[] = {"AB", "fraction_bound"};
    sg_sens_request req = {.outputs = outputs, .noutputs = 2};
    sg_sens_result *r = NULL;
    sg_steady_info info = {0};
    sg_stability stab;
    assert_int_equal(sg_sens_steady(s, &req, &r, &info, &stab, &err), SG_OK);
    assert_int_equal(info.conservation_laws, 2);
    assert_true(stab.computed && !stab.unstable);
    const double p0[4] = {0.01, 0.1, 100.0, 50.0};
    check_close(sg_sens_result_value(r, 0, 0), binding_eq(p0), 1e-9, 1e-9, "AB*", 0);
    for (int k = 0; k < 4; k++) {
        double hi[4], lo[4], h = 1e-4 * p0[k];
        memcpy(hi, p0, sizeof hi);
        memcpy(lo, p0, sizeof lo);
        hi[k] += h;
        lo[k] -= h;
        double dab = (binding_eq(hi) - binding_eq(lo)) / (2 * h);
        /* fraction_bound = AB / B_tot = AB* / B0 */
        double dfrac = (binding_eq(hi) / hi[3] - binding_eq(lo) / lo[3]) / (2 * h);
        check_close(sg_sens_result_deriv(r, 0, 0, k), dab, 1e-6, 1e-9, params[k], 0);
        check_close(sg_sens_result_deriv(r, 0, 1, k), dfrac, 1e-6, 1e-9, params[k], 0);
    }
    sg_sens_result_free(r);
    sg_sens_free(s);
    sg_model_free(m);
}

/* Pre-equilibration: A made at ks * stim, removed at kd A, rests at
 * ks/kd; the experiment then sets stim = 3:
 *   A(t) = ks/kd (3 - 2 e^{-kd t}). */
static const char preeq_model[] =
    "name = \"preeq\";\n"
    "parameters = ( { id = \"ks\"; value = 2.0; }, { id = \"kd\"; value = 0.5; },\n"
    "  { id = \"stim\"; value = 1.0; } );\n"
    "species = ( { id = \"A\"; initial = 0.3; } );\n"
    "reactions = ( { id = \"make\"; equation = \"-> A\"; rate = \"ks * stim\"; },\n"
    "  { id = \"loss\"; equation = \"A ->\"; rate = \"kd * A\"; } );\n"
    "scenarios = ( { id = \"stimulated\"; t_end = 6.0; points = 13; preequilibrate = true;\n"
    "    set = { stim = 3.0; }; } );\n";

static void test_preequilibrated_sensitivities(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(preeq_model);
    const char *params[] = {"ks", "kd", "A"};
    sg_sens *s = make(m, params, 3);
    sg_experiment *e = scenario(m, "stimulated");
    sg_sens_result *r = run(s, e, NULL);
    const double ks = 2.0, kd = 0.5;
    for (int i = 0; i < sg_sens_result_times(r); i++) {
        double t = sg_sens_result_time(r, i), ex = exp(-kd * t);
        check_close(sg_sens_result_value(r, i, 0), ks / kd * (3 - 2 * ex), 1e-8, 1e-9, "A", t);
        check_close(sg_sens_result_deriv(r, i, 0, 0), (3 - 2 * ex) / kd, 1e-6, 1e-9, "dA/dks",
                    t);
        check_close(sg_sens_result_deriv(r, i, 0, 1),
                    -ks / (kd * kd) * (3 - 2 * ex) + ks / kd * 2 * t * ex, 1e-6, 1e-9, "dA/dkd",
                    t);
        /* the start value is forgotten at the steady state */
        assert_true(fabs(sg_sens_result_deriv(r, i, 0, 2)) < 1e-8);
    }
    sg_sens_result_free(r);
    sg_experiment_free(e);
    sg_sens_free(s);
    sg_model_free(m);
}

/* ---------------------------------------------------------------- stability */

/* The Brusselator: fixed point (a, b/a), Jacobian [[b-1, a^2], [-b, -a^2]],
 * eigenvalues (tr +- sqrt(tr^2 - 4 det)) / 2 with tr = b - 1 - a^2,
 * det = a^2: unstable (a Hopf oscillator) for b > 1 + a^2. */
static char *brusselator(double b)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f,
            "name = \"brusselator\";\n"
            "parameters = ( { id = \"a\"; value = 1.0; }, { id = \"b\"; value = %.17g; } );\n"
            "species = ( { id = \"X\"; initial = 1.1; }, { id = \"Y\"; initial = %.17g; } );\n"
            "reactions = (\n"
            "  { id = \"feed\"; equation = \"-> X\"; rate = \"a\"; },\n"
            "  { id = \"auto\"; equation = \"2 X + Y -> 3 X\"; rate = \"X^2 * Y\"; },\n"
            "  { id = \"conv\"; equation = \"X -> Y\"; rate = \"b * X\"; },\n"
            "  { id = \"loss\"; equation = \"X ->\"; rate = \"X\"; } );\n",
            b, 0.95 * b);
    fclose(f);
    return text;
}

static sg_steady_info steady_of(sg_model *m)
{
    sg_error err;
    sg_sim *sim = sg_sim_create(m, NULL, &err);
    sg_experiment *e = scenario(m, NULL);
    sg_trajectory *tr = NULL;
    sg_steady_info info = {0};
    if (sg_sim_steady_state(sim, e, &tr, &info, &err) != SG_OK)
        fail_msg("steady: %s", err.message);
    sg_trajectory_free(tr);
    sg_experiment_free(e);
    sg_sim_free(sim);
    return info;
}

static void test_stability(void **state)
{
    (void)state;
    for (int unstable = 0; unstable <= 1; unstable++) {
        double b = unstable ? 3.0 : 1.5, tr = b - 2.0, det = 1.0;
        char *text = brusselator(b);
        sg_model *m = ts_load_text(text);
        free(text);
        sg_steady_info info = steady_of(m);
        assert_true(info.stability.computed);
        assert_int_equal(info.stability.unstable, unstable);
        assert_int_equal(info.stability.npositive, unstable ? 2 : 0);
        check_close(info.stability.max_real, tr / 2, 1e-9, 1e-12, "Re(lambda)", 0);
        check_close(fabs(info.stability.max_real_imag), sqrt(4 * det - tr * tr) / 2, 1e-9, 1e-12,
                    "|Im(lambda)|", 0);
        sg_model_free(m);
    }
    /* binding, with two conservation laws: the one non-zero eigenvalue is
     * -kon (A + B) - koff at equilibrium (the laws' zeros are dropped) */
    sg_error err;
    sg_model *m = sg_model_load_file(SIGODE_SOURCE_DIR "/models/examples/binding.cfg", &err);
    assert_non_null(m);
    sg_steady_info info = steady_of(m);
    double s = 150 + 10, ab = (s - sqrt(s * s - 4 * 100 * 50)) / 2;
    assert_int_equal(info.conservation_laws, 2);
    assert_false(info.stability.unstable);
    check_close(info.stability.max_real, -0.01 * (100 - ab + 50 - ab) - 0.1, 1e-7, 1e-12,
                "binding eigenvalue", 0);
    sg_model_free(m);
}

/* ------------------------------------------------------------ command line */

/* sigode sens on the decay model: the long-format rows against the closed
 * form, --normalize (d log A / d log k = -k t), the ranking on stderr, and
 * a refused model (exit 2, no output file left behind). */
static void test_cli_sens(void **state)
{
    (void)state;
    char *dir = ts_temp_dir();
    char *model_path = ts_path(dir, "decay.cfg"), *out_path = ts_path(dir, "out.csv");
    assert_int_equal(ts_write_file(model_path, decay_model, strlen(decay_model)), 0);
    const char *argv[] = {SIGODE_BINARY, "sens", model_path, "--scenario", "plain",
                          "--params", "k,A", "--select", "A", "--at", "4,2",
                          "--rtol", "1e-11", "--atol", "1e-14", NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(ts_run(argv, &out, &err), 0);
    assert_non_null(strstr(out, "time,output,parameter,value\n"));
    int rows = 0;
    for (char *line = strchr(out, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        double t, v;
        char o[16], p[16];
        assert_int_equal(sscanf(line, "%lf,%15[^,],%15[^,],%lf", &t, o, p, &v), 4);
        double want = !strcmp(p, "k") ? -t * 2.0 * exp(-0.5 * t) : exp(-0.5 * t);
        check_close(v, want, 1e-6, 1e-9, p, t);
        rows++;
    }
    assert_int_equal(rows, 4); /* 2 times x 1 output x 2 parameters, sorted times */
    /* k matters more than A0 here: rank 1 is k */
    assert_non_null(strstr(err, "parameters by influence"));
    char *first = strstr(err, "     1  ");
    assert_non_null(first);
    assert_true(!strncmp(first + 8, "k ", 2));
    free(out);
    free(err);

    const char *argn[] = {SIGODE_BINARY, "sens", model_path, "--scenario", "plain",
                          "--params", "k", "--select", "A", "--at", "3", "--normalize",
                          "--rtol", "1e-11", "--atol", "1e-14", "--output", out_path, NULL};
    assert_int_equal(ts_run(argn, NULL, NULL), 0);
    size_t len;
    char *text = ts_read_file(out_path, &len);
    assert_non_null(text);
    double v;
    assert_int_equal(sscanf(text, "time,output,parameter,value\n3,A,k,%lf", &v), 1);
    check_close(v, -0.5 * 3, 1e-6, 1e-9, "normalised dA/dk", 3);
    free(text);

    /* refused: an event sigode has no jump for; the previous output stays */
    const char *refill = refused_events_model;
    assert_int_equal(ts_write_file(model_path, refill, strlen(refill)), 0);
    const char *argr[] = {SIGODE_BINARY, "sens", model_path, "--params", "k", "--output",
                          out_path, NULL};
    assert_int_equal(ts_run(argr, NULL, &err), 2);
    assert_non_null(strstr(err, "not supported"));
    free(err);
    text = ts_read_file(out_path, &len);
    assert_non_null(strstr(text, "3,A,k,"));
    free(text);
    ts_remove_dir(dir);
    free(dir);
    free(model_path);
    free(out_path);
}

/* sigode sens --params naming compartments (issue 19: refused before):
 * the volume model's rows against its closed form. */
static void test_cli_sens_compartments(void **state)
{
    (void)state;
    char *dir = ts_temp_dir();
    char *model_path = ts_path(dir, "volumes.cfg");
    assert_int_equal(ts_write_file(model_path, volume_model, strlen(volume_model)), 0);
    const char *argv[] = {SIGODE_BINARY, "sens", model_path, "--scenario", "run",
                          "--params", "cyt,nuc", "--select", "A,B", "--at", "1,4",
                          "--rtol", "1e-11", "--atol", "1e-14", NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(ts_run(argv, &out, &err), 0);
    const double k1 = 0.3, vc = 2.0, vn = 0.5;
    int rows = 0;
    for (char *line = strchr(out, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        double t, v;
        char o[16], p[16];
        assert_int_equal(sscanf(line, "%lf,%15[^,],%15[^,],%lf", &t, o, p, &v), 4);
        double ex = exp(-k1 * t / vc), dex = ex * k1 * t / (vc * vc), want;
        if (!strcmp(o, "A"))
            want = !strcmp(p, "cyt") ? -ex / (vc * vc) + dex / vc : 0.0;
        else
            want = !strcmp(p, "cyt") ? -dex / vn : -(1 - ex) / (vn * vn);
        check_close(v, want, 1e-6, 1e-9, p, t);
        rows++;
    }
    assert_int_equal(rows, 8); /* 2 times x 2 outputs x 2 parameters */
    free(out);
    free(err);
    ts_remove_dir(dir);
    free(dir);
    free(model_path);
}

/* sigode steady --sens on the binding example: d AB* / d koff against the
 * equilibrium formula, and the stability line. */
static void test_cli_steady_sens(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "steady", SIGODE_SOURCE_DIR "/models/examples/binding.cfg",
                          "--sens", "--params", "koff", "--select", "AB", NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(ts_run(argv, &out, &err), 0);
    double v;
    assert_int_equal(sscanf(out, "time,output,parameter,value\n0,AB,koff,%lf", &v), 1);
    const double p0[4] = {0.01, 0.1, 100.0, 50.0};
    double hi[4], lo[4];
    memcpy(hi, p0, sizeof hi);
    memcpy(lo, p0, sizeof lo);
    hi[1] += 1e-5;
    lo[1] -= 1e-5;
    check_close(v, (binding_eq(hi) - binding_eq(lo)) / 2e-5, 1e-6, 1e-9, "dAB*/dkoff", 0);
    assert_non_null(strstr(err, "stability: stable"));
    free(out);
    free(err);
    /* --params without --sens is a usage error */
    const char *bad[] = {SIGODE_BINARY, "steady", SIGODE_SOURCE_DIR "/models/examples/binding.cfg",
                         "--params", "koff", NULL};
    assert_int_equal(ts_run(bad, NULL, NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_per_run),
        cmocka_unit_test(test_decay_closed_form),
        cmocka_unit_test(test_equality_trigger_sensitivity),
        cmocka_unit_test(test_decay_events),
        cmocka_unit_test(test_reversible_closed_form),
        cmocka_unit_test(test_binding_closed_form),
        cmocka_unit_test(test_binding_fd),
        cmocka_unit_test(test_initial_expressions_fd),
        cmocka_unit_test(test_model_event_closed_form),
        cmocka_unit_test(test_model_event_fd),
        cmocka_unit_test(test_compartment_closed_form),
        cmocka_unit_test(test_compartment_fd),
        cmocka_unit_test(test_compartment_steady),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_clones_in_threads),
        cmocka_unit_test(test_native_backend),
        cmocka_unit_test(test_cli_sens),
        cmocka_unit_test(test_stability),
        cmocka_unit_test(test_steady_sensitivities),
        cmocka_unit_test(test_preequilibrated_sensitivities),
        cmocka_unit_test(test_cli_steady_sens),
        cmocka_unit_test(test_cli_sens_compartments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

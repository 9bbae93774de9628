/*
 * Dose scans, Hill fits and two-dimensional scans with Bliss excess, on
 * models with closed-form answers (tests/explore/models/):
 *   mm_inhibition  competitive inhibition, P*(I) = 4/3 / (1 + I/1.5):
 *                  IC50 = 1.5, slope 1; P(t) = P*(I) (1 - exp(-t)) from 0
 *   hill_exact     R*(I) = 10 / (1 + (I/3)^2): IC50 = 3, slope 2; `flat`, `bump`
 *   bliss          R_ind independent (Bliss excess 0), R_syn synergistic
 *
 * Tolerances: the solver runs at its defaults (rtol 1e-6, atol 1e-9), so a
 * readout is compared with its closed form to 1e-5 relative; scan values
 * computed from --from/--to are compared to 1e-12 relative; IC50 and slope
 * from a fit are required within 1% (the issue's figure; they come out
 * within ~1e-6).
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

#define MM EX_MODEL("mm_inhibition.cfg")
#define HILL EX_MODEL("hill_exact.cfg")
#define BLISS EX_MODEL("bliss.cfg")

/* closed forms of mm_inhibition (Vmax 2, S 2, Km 1, Ki 0.5, kd 1) */
static double mm_steady(double I) { return 2.0 * 2.0 / (1.0 * (1.0 + I / 0.5) + 2.0); }
static double mm_at(double I, double t) { return mm_steady(I) * (1 - exp(-t)); }

static void scan_values_list(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", MM, "--target", "I", "--values",
                          "0,0.5,1.5,4.5", "--readout", "P", "--at", "40", NULL};
    char *out = ex_cli(0, argv, NULL);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->ncols, 2);
    assert_string_equal(t->names[0], "I");
    assert_string_equal(t->names[1], "P");
    assert_int_equal(t->nrows, 4);
    const double x[] = {0, 0.5, 1.5, 4.5};
    for (int r = 0; r < 4; r++) {
        assert_true(ex_csv_get(t, r, 0) == x[r]);
        assert_true(ex_rel(ex_csv_get(t, r, 1), mm_steady(x[r])) < 1e-5);
    }
    /* the IC50 by construction: half of the uninhibited level */
    assert_true(ex_rel(ex_csv_get(t, 2, 1), 0.5 * ex_csv_get(t, 0, 1)) < 1e-5);
    ex_csv_free(t);
    free(out);
}

static void scan_log_range(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", MM, "--target", "I", "--from", "0.01",
                          "--to", "100", "--points", "21", "--log", "--readout",
                          "P,P_exact_steady", "--at", "40", NULL};
    char *out = ex_cli(0, argv, NULL);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 21);
    assert_int_equal(t->ncols, 3);
    assert_string_equal(ex_csv_text(t, 0, 0), "0.01"); /* the ends are exact */
    assert_string_equal(ex_csv_text(t, 20, 0), "100");
    for (int r = 0; r < 21; r++) {
        double x = pow(10.0, -2.0 + 0.2 * r); /* 5 points per decade */
        assert_true(ex_rel(ex_csv_get(t, r, 0), x) < 1e-12);
        assert_true(ex_rel(ex_csv_get(t, r, 1), mm_steady(x)) < 1e-5);
        assert_true(ex_rel(ex_csv_get(t, r, 2), mm_steady(ex_csv_get(t, r, 0))) < 1e-14);
    }
    ex_csv_free(t);
    free(out);
}

static void scan_linear_range(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", MM, "--target", "I", "--from", "0", "--to",
                          "2", "--points", "5", "--readout", "P", "--at", "40", NULL};
    char *out = ex_cli(0, argv, NULL);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 5);
    for (int r = 0; r < 5; r++) {
        assert_true(ex_csv_get(t, r, 0) == 0.5 * r);
        assert_true(ex_rel(ex_csv_get(t, r, 1), mm_steady(0.5 * r)) < 1e-5);
    }
    ex_csv_free(t);
    free(out);
}

/* Without --readout every species and assignment is reported. */
static void scan_default_readouts(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", MM, "--target", "Ki", "--values", "0.5,1",
                          "--at", "40", NULL};
    char *out = ex_cli(0, argv, NULL);
    assert_true(strncmp(out, "Ki,S,I,P,P_exact_steady\n", 24) == 0);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 2);
    /* a parameter as target: Ki = 1 halves the inhibition, here with I = 0: no change */
    assert_true(ex_rel(ex_csv_get(t, 1, 3), mm_steady(0)) < 1e-5);
    ex_csv_free(t);
    free(out);
}

/* Several --at times: one column per readout and time, named id@t; the
 * run goes to the last time. Both spellings (a list, or the option again)
 * give the same table. */
static void scan_several_times(void **state)
{
    (void)state;
    const char *list[] = {SIGODE_BINARY, "scan", MM, "--target", "I", "--values", "0,1.5,6",
                          "--readout", "P,P_exact_steady", "--at", "1,2.5,40", NULL};
    const char *again[] = {SIGODE_BINARY, "scan", MM, "--target", "I", "--values", "0,1.5,6",
                           "--readout", "P,P_exact_steady", "--at", "1", "--at", "2.5",
                           "--at", "40", NULL};
    char *out = ex_cli(0, list, NULL);
    char *out2 = ex_cli(0, again, NULL);
    assert_string_equal(out, out2);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->ncols, 7);
    const char *names[] = {"I", "P@1", "P@2.5", "P@40", "P_exact_steady@1",
                           "P_exact_steady@2.5", "P_exact_steady@40"};
    for (int c = 0; c < 7; c++)
        assert_string_equal(t->names[c], names[c]);
    const double times[] = {1, 2.5, 40};
    for (int r = 0; r < t->nrows; r++) {
        double I = ex_csv_get(t, r, 0);
        for (int a = 0; a < 3; a++)
            assert_true(ex_rel(ex_csv_get(t, r, 1 + a), mm_at(I, times[a])) < 1e-5);
    }
    ex_csv_free(t);
    free(out);
    free(out2);
}

/* A scenario with a scan, run by `sigode run --scenario`: the scan table
 * with the scenario's readouts, read at its t_end. */
static void scenario_scan(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "run", MM, "--scenario", "dose_response", NULL};
    char *out = ex_cli(0, argv, NULL);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->ncols, 3);
    assert_string_equal(t->names[0], "I");
    assert_string_equal(t->names[1], "P");
    assert_string_equal(t->names[2], "P_exact_steady");
    assert_int_equal(t->nrows, 21);
    for (int r = 0; r < 21; r++) {
        double x = pow(10.0, -2.0 + 0.2 * r);
        assert_true(ex_rel(ex_csv_get(t, r, 0), x) < 1e-12);
        assert_true(ex_rel(ex_csv_get(t, r, 1), mm_steady(x)) < 1e-5);
    }
    ex_csv_free(t);
    free(out);

    const char *list[] = {SIGODE_BINARY, "run", MM, "--scenario", "dose_list", NULL};
    out = ex_cli(0, list, NULL);
    t = ex_csv_parse(out);
    assert_int_equal(t->ncols, 2);
    assert_int_equal(t->nrows, 4);
    const double x[] = {0, 0.5, 1.5, 4.5};
    for (int r = 0; r < 4; r++) {
        assert_true(ex_csv_get(t, r, 0) == x[r]);
        assert_true(ex_rel(ex_csv_get(t, r, 1), mm_steady(x[r])) < 1e-5);
    }
    ex_csv_free(t);
    free(out);

    /* --select replaces the scenario's readouts */
    const char *sel[] = {SIGODE_BINARY, "run", MM, "--scenario", "dose_list", "--select",
                         "P_exact_steady", NULL};
    out = ex_cli(0, sel, NULL);
    assert_true(strncmp(out, "I,P_exact_steady\n0,", 19) == 0);
    free(out);
}

/* Reads "hill fit ID: IC50 = X ..., slope S" from standard error. */
static int parse_fit(const char *err, const char *id, const char *kind, double *ec50,
                     double *slope)
{
    char key[128];
    snprintf(key, sizeof key, "hill fit %s: %s = ", id, kind);
    const char *p = strstr(err, key);
    if (!p)
        return 0;
    p += strlen(key);
    char *end;
    *ec50 = strtod(p, &end);
    const char *s = strstr(end, "slope ");
    if (!s)
        return 0;
    *slope = strtod(s + 6, NULL);
    return 1;
}

static void fit_hill_cli(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", HILL, "--scenario", "steady", "--target", "I",
                          "--from", "0.1", "--to", "100", "--points", "16", "--log",
                          "--readout", "R", "--fit", "hill", NULL};
    char *err = NULL;
    char *out = ex_cli(0, argv, &err);
    double ec50 = 0, slope = 0;
    assert_true(parse_fit(err, "R", "IC50", &ec50, &slope));
    assert_true(ex_rel(ec50, 3.0) < 0.01);  /* Ki */
    assert_true(ex_rel(slope, 2.0) < 0.01); /* n */
    /* the fit is a message: the table stays clean */
    assert_null(strstr(out, "hill"));
    assert_true(strncmp(out, "I,R\n", 4) == 0);
    free(out);
    free(err);

    /* the Michaelis-Menten inhibitor: IC50 = Ki (1 + S/Km) = 1.5, slope 1 */
    const char *mm[] = {SIGODE_BINARY, "scan", MM, "--target", "I", "--from", "0.01", "--to",
                        "100", "--points", "21", "--log", "--readout", "P", "--at", "40",
                        "--fit", "hill", NULL};
    out = ex_cli(0, mm, &err);
    assert_true(parse_fit(err, "P", "IC50", &ec50, &slope));
    assert_true(ex_rel(ec50, 1.5) < 0.01);
    assert_true(ex_rel(slope, 1.0) < 0.01);
    free(out);
    free(err);
}

/* The same through the library: scan, then fit the column. */
static void fit_hill_api(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = sg_model_load_file(HILL, &err);
    assert_non_null(m);
    sg_experiment *exp = sg_experiment_create(m, "steady", &err);
    assert_non_null(exp);
    double dose[25];
    for (int i = 0; i < 25; i++)
        dose[i] = pow(10.0, -1.0 + 3.0 * i / 24.0); /* 0.1 .. 100 */
    const char *readouts[] = {"R"};
    sg_scan_spec spec = {.target = "I", .values = dose, .count = 25, .readouts = readouts,
                         .nreadouts = 1, .jobs = 1};
    sg_table *table = NULL;
    assert_int_equal(sg_scan_run(m, NULL, exp, &spec, &table, &err), SG_OK);
    double y[25];
    for (int i = 0; i < 25; i++) {
        y[i] = sg_table_get(table, i, 1);
        double exact = 10.0 / (1 + pow(dose[i] / 3.0, 2));
        assert_true(ex_rel(y[i], exact) < 1e-5);
    }
    sg_hill_fit fit;
    assert_int_equal(sg_fit_hill(dose, y, 25, &fit, &err), SG_OK);
    assert_true(fit.ok);
    assert_true(fit.decreasing);
    assert_true(ex_rel(fit.ec50, 3.0) < 0.01);
    assert_true(ex_rel(fit.slope, 2.0) < 0.01);
    assert_true(fabs(fit.bottom) < 0.01 * 10);
    assert_true(ex_rel(fit.top, 10.0) < 0.01);
    assert_true(fit.r2 > 0.9999);
    assert_true(ex_rel(sg_hill_value(&fit, 3.0), 5.0) < 0.01);
    sg_table_free(table);
    sg_experiment_free(exp);
    sg_model_free(m);
}

/* Flat and non-monotone readouts are reported as such, not fitted. */
static void fit_hill_refuses(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", HILL, "--scenario", "steady", "--target", "I",
                          "--from", "0.1", "--to", "100", "--points", "16", "--log",
                          "--readout", "flat,bump,R", "--fit", "hill", NULL};
    char *err = NULL;
    char *out = ex_cli(0, argv, &err);
    assert_non_null(strstr(err, "hill fit flat: no fit"));
    assert_non_null(strstr(err, "flat"));
    assert_non_null(strstr(err, "hill fit bump: no fit"));
    assert_non_null(strstr(err, "not monotone"));
    assert_non_null(strstr(err, "hill fit R: IC50 = ")); /* the good column is still fitted */
    assert_null(strstr(out, "no fit"));
    ex_csv *t = ex_csv_parse(out);
    int bump = ex_csv_col(t, "bump");
    /* the bump really rises then falls: its peak is inside the range */
    double first = ex_csv_get(t, 0, bump), last = ex_csv_get(t, t->nrows - 1, bump),
           peak = 0;
    for (int r = 0; r < t->nrows; r++)
        peak = fmax(peak, ex_csv_get(t, r, bump));
    assert_true(peak > 2 * first && peak > 2 * last);
    ex_csv_free(t);
    free(out);
    free(err);
}

/* Two-dimensional scan: long format, Bliss excess 0 for the independent
 * pair (to 1e-6, the solver's tolerance) and clearly positive for the
 * synergistic one (0.1731 at A = KA, B = KB, to 1e-4). */
static void scan2_bliss(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", BLISS, "--scenario", "steady", "--target", "A",
                          "--values", "0,1,3", "--target2", "B", "--values2", "0,2,6",
                          "--readout", "R_ind,R_syn", NULL};
    char *out = ex_cli(0, argv, NULL);
    assert_true(strncmp(out, "A,B,R_ind,R_syn,bliss_R_ind,bliss_R_syn\n", 40) == 0);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 9);
    const double a[] = {0, 1, 3}, b[] = {0, 2, 6};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int r = i * 3 + j; /* first target outer, second inner */
            assert_true(ex_csv_get(t, r, 0) == a[i]);
            assert_true(ex_csv_get(t, r, 1) == b[j]);
            double fa = 1 / (1 + a[i] / 1.0), fb = 1 / (1 + b[j] / 2.0);
            double fab_syn = 1 / (1 + a[i] / 1.0 + b[j] / 2.0 + 10 * a[i] * b[j] / 2.0);
            assert_true(ex_rel(ex_csv_get(t, r, 2), fa * fb) < 1e-5);
            assert_true(ex_rel(ex_csv_get(t, r, 3), fab_syn) < 1e-5);
            double ind = ex_csv_get(t, r, 4), syn = ex_csv_get(t, r, 5);
            assert_true(fabs(ind) < 1e-6);
            assert_true(fabs(syn - (fa * fb - fab_syn)) < 1e-4);
            if (i == 0 || j == 0) {
                assert_true(ind == 0 && syn == 0); /* an axis is its own reference */
            } else {
                assert_true(syn > 0.04);
            }
        }
    assert_true(fabs(ex_csv_get(t, 4, 5) - (0.25 - 1.0 / 13.0)) < 1e-4);
    ex_csv_free(t);
    free(out);
}

/* Independence does not need a steady state: R_ind(t) stays a product, so
 * the excess is 0 at an early readout too; the second axis from a range
 * not starting at 0 (the reference is its first value). */
static void scan2_bliss_early_range(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", BLISS, "--target", "A", "--values", "0,0.5,4",
                          "--target2", "B", "--from2", "1", "--to2", "9", "--points2", "3",
                          "--readout", "R_ind,R_syn", "--at", "0.5", NULL};
    char *out = ex_cli(0, argv, NULL);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 9);
    int ind = ex_csv_col(t, "bliss_R_ind"), syn = ex_csv_col(t, "bliss_R_syn");
    for (int r = 0; r < 9; r++) {
        assert_true(ex_csv_get(t, r, 1) == 1 + 4 * (r % 3)); /* 1, 5, 9 */
        /* three solver results in the excess, each to ~rtol 1e-6 mid-transient */
        assert_true(fabs(ex_csv_get(t, r, ind)) < 5e-6);
        if (r % 3 != 0 && r / 3 != 0)
            assert_true(ex_csv_get(t, r, syn) > 0.005);
    }
    /* R(0.5) = fa fb (1 - exp(-0.5)) */
    int col = ex_csv_col(t, "R_ind");
    assert_true(ex_rel(ex_csv_get(t, 8, col), 1 / (5.0 * 5.5) * (1 - exp(-0.5))) < 1e-5);
    ex_csv_free(t);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scan_values_list),     cmocka_unit_test(scan_log_range),
        cmocka_unit_test(scan_linear_range),    cmocka_unit_test(scan_default_readouts),
        cmocka_unit_test(scan_several_times),   cmocka_unit_test(scenario_scan),
        cmocka_unit_test(fit_hill_cli),         cmocka_unit_test(fit_hill_api),
        cmocka_unit_test(fit_hill_refuses),     cmocka_unit_test(scan2_bliss),
        cmocka_unit_test(scan2_bliss_early_range),
    };
    return cmocka_run_group_tests_name("explore_scan", tests, NULL, NULL);
}

/*
 * Combination references (Bliss, Loewe, HSA) against exact answers, and
 * Hill fits held within physical bounds.
 *   sham.cfg   R_sham: the same drug twice, Loewe excess 0 (to 1e-6);
 *              R_ind: independent mechanisms, Bliss excess 0 (to 1e-12)
 *              and HSA excess min(fA, fB) - fA fB (to 1e-12)
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

#define SHAM EX_MODEL("sham.cfg")

/* Loewe with closed form: two n = 1 drugs from 1 to 0 with EC50s 1 and 2
 * are dilutions of each other: y = 1 / (1 + a + b/2). */
static void loewe_closed_form(void **state)
{
    (void)state;
    sg_hill_fit fa = {.ok = 1, .low = 1, .high = 0, .ec50 = 1, .slope = 1, .decreasing = 1};
    sg_hill_fit fb = fa;
    fb.ec50 = 2;
    const double doses[] = {0, 0.1, 0.5, 1, 3, 20};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            double a = doses[i], b = doses[j];
            double y = sg_loewe_expected(&fa, &fb, a, b);
            assert_true(fabs(y - 1 / (1 + a + b / 2)) < 1e-12);
        }
    /* opposite directions: no Loewe reference */
    fb.low = 0;
    fb.high = 1;
    fb.decreasing = 0;
    assert_true(isnan(sg_loewe_expected(&fa, &fb, 1, 1)));
}

static void scan2_sham_and_independent(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", SHAM, "--scenario", "short", "--target", "D1",
                          "--values", "0,0.1,0.3,1,3,10,30", "--target2", "D2", "--values2",
                          "0,0.1,0.3,1,3,10,30", "--readout", "R_sham,R_ind", "--synergy",
                          "bliss,loewe,hsa", NULL};
    char *err = NULL;
    char *out = ex_cli(0, argv, &err);
    ex_csv *t = ex_csv_parse(out);
    assert_int_equal(t->nrows, 49);
    int sham = ex_csv_col(t, "loewe_R_sham"), bliss = ex_csv_col(t, "bliss_R_ind"),
        hsa = ex_csv_col(t, "hsa_R_ind");
    const double v[] = {0, 0.1, 0.3, 1, 3, 10, 30};
    double worst = 0;
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++) {
            int r = i * 7 + j;
            worst = fmax(worst, fabs(ex_csv_get(t, r, sham)));
            assert_true(fabs(ex_csv_get(t, r, bliss)) < 1e-12);
            double fa = 1 / (1 + v[i] / 1.5), fb = 1 / (1 + v[j] / 3.0);
            assert_true(fabs(ex_csv_get(t, r, hsa) - (fmin(fa, fb) - fa * fb)) < 1e-12);
        }
    assert_true(worst < 1e-6);
    /* the single-agent fits are reported */
    assert_non_null(strstr(err, "loewe R_sham: D1 alone: IC50 = 1.5 nM"));
    ex_csv_free(t);
    free(out);
    free(err);
}

/* A Loewe score needs the single agents: axes must start at 0. */
static void loewe_needs_zero_dose(void **state)
{
    (void)state;
    const char *argv[] = {SIGODE_BINARY, "scan", SHAM, "--target", "D1", "--values", "0.1,1,3",
                          "--target2", "D2", "--values2", "0,1,3", "--readout", "R_sham",
                          "--synergy", "loewe", NULL};
    char *err = NULL;
    free(ex_cli(2, argv, &err));
    assert_non_null(strstr(err, "start at dose 0"));
    free(err);
    const char *bad[] = {SIGODE_BINARY, "scan", SHAM, "--target", "D1", "--values", "0,1",
                         "--target2", "D2", "--values2", "0,1", "--synergy", "bliss,chou",
                         NULL};
    free(ex_cli(2, bad, &err));
    assert_non_null(strstr(err, "'chou'"));
    free(err);
}

/* Data a free fit explains with a negative plateau: a Hill curve from 1
 * towards -0.2, clipped at 0 as a concentration would be. Held >= 0, the
 * fit's plateaus stay physical and it still follows the data. */
static void hill_bounded_plateau(void **state)
{
    (void)state;
    double x[12], y[12];
    for (int i = 0; i < 12; i++) {
        x[i] = pow(10, -2 + 0.4 * i);
        y[i] = fmax(0, -0.2 + 1.2 / (1 + pow(x[i] / 1.0, 1.0)));
    }
    sg_hill_fit free_fit, held;
    assert_int_equal(sg_fit_hill(x, y, 12, &free_fit, NULL), SG_OK);
    assert_true(free_fit.ok);
    assert_true(free_fit.bottom < 0); /* the problem: unphysical */
    assert_int_equal(sg_fit_hill_bounded(x, y, 12, 0, INFINITY, &held, NULL), SG_OK);
    assert_true(held.ok);
    assert_true(held.bottom >= 0 && held.top > 0.9);
    assert_true(held.r2 > 0.99);
    for (int i = 0; i < 12; i++)
        assert_true(sg_hill_value(&held, x[i]) >= 0);
    /* exact Hill data inside the bounds: the same answer as a free fit */
    for (int i = 0; i < 12; i++)
        y[i] = 0.5 + 4.0 / (1 + pow(x[i] / 0.7, 1.3));
    assert_int_equal(sg_fit_hill_bounded(x, y, 12, 0, INFINITY, &held, NULL), SG_OK);
    assert_true(held.ok && fabs(held.ec50 - 0.7) < 1e-6 && fabs(held.slope - 1.3) < 1e-6);
    assert_true(fabs(held.bottom - 0.5) < 1e-6 && fabs(held.top - 4.5) < 1e-6);
    /* a response outside the bounds is refused, not forced */
    y[3] = -1;
    assert_int_equal(sg_fit_hill_bounded(x, y, 12, 0, INFINITY, &held, NULL), SG_OK);
    assert_false(held.ok);
}

/* The band interface an ensemble uses: lower, median and upper columns of
 * a table drawn as a shaded band with its median; the legend holds the
 * band's label, the axis its own label, and the shaded polygon is there. */
static void ensemble_band_plot(void **state)
{
    (void)state;
    const char *names[] = {"time", "R_q05", "R_median", "R_q95", "S"};
    sg_table *t = sg_table_create(5, names, NULL);
    assert_non_null(t);
    for (int i = 0; i <= 20; i++) {
        double x = i * 0.5, m = 10 * exp(-0.2 * x);
        double row[5] = {x, 0.8 * m, m, 1.25 * m, 3 + 0.1 * x};
        assert_int_equal(sg_table_add_row(t, row, NULL), SG_OK);
    }
    char *dir = ts_temp_dir();
    char *path = ts_path(dir, "band.svg");
    const int columns[] = {4};
    const char *axes[] = {"concentration (nM)"};
    sg_plot_band band = {1, 2, 3, "R (5-95% of 200 runs)", "concentration (nM)"};
    sg_plot_spec spec = {.path = path, .title = "ensemble", .xlabel = "time (h)",
                         .table = t, .columns = columns, .ncolumns = 1, .axes = axes,
                         .bands = &band, .nbands = 1};
    sg_error err = {0};
    assert_int_equal(sg_plot_write(&spec, &err), SG_OK);
    size_t n = 0;
    char *svg = ts_read_file(path, &n);
    assert_non_null(svg);
    assert_non_null(strstr(svg, ">R (5-95% of 200 runs)</text>"));
    assert_non_null(strstr(svg, ">concentration (nM)</text>"));
    assert_non_null(strstr(svg, ">S</text>"));
    /* one panel: the band and S share their axis label */
    assert_null(strstr(strstr(svg, ">concentration (nM)</text>") + 1,
                       ">concentration (nM)</text>"));
    /* the band is a filled, translucent polygon */
    assert_non_null(strstr(svg, "fill-opacity") ? strstr(svg, "fill-opacity")
                                                : strstr(svg, "opacity"));
    free(svg);
    free(path);
    ts_remove_dir(dir);
    free(dir);
    sg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loewe_closed_form),
        cmocka_unit_test(scan2_sham_and_independent),
        cmocka_unit_test(loewe_needs_zero_dose),
        cmocka_unit_test(hill_bounded_plateau),
        cmocka_unit_test(ensemble_band_plot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

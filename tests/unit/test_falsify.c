/*
 * verify --falsify: every reaction knocked out and every mechanistic
 * parameter scaled finds the checks that cannot fail, the mechanisms no
 * check notices, and the negative controls that do not hold; the model is
 * the same afterwards.
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

/* A -> B -> (out); C is made and lost on its own (its mechanism touches
 * nothing a check reads). */
static const char model_text[] =
    "name = \"falsify\";\n"
    "parameters = (\n"
    "  { id = \"k1\"; value = 1.0; mechanism = \"conversion\"; },\n"
    "  { id = \"k2\"; value = 0.5; mechanism = \"clearance\"; },\n"
    "  { id = \"k3\"; value = 2.0; mechanism = \"side branch\"; },\n"
    "  { id = \"unit_free\"; value = 3.0; }\n"
    ");\n"
    "species = ( { id = \"A\"; initial = 1.0; }, { id = \"B\"; initial = 0.0; },\n"
    "            { id = \"C\"; initial = 1.0; } );\n"
    "reactions = (\n"
    "  { id = \"conv\"; equation = \"A -> B\"; rate = \"k1 * A\"; mechanism = \"conversion\"; },\n"
    "  { id = \"clear\"; equation = \"B ->\"; rate = \"k2 * B\"; mechanism = \"clearance\"; },\n"
    "  { id = \"side\"; equation = \"C -> \"; rate = \"k3 * C\"; mechanism = \"side branch\"; }\n"
    ");\n"
    "scenarios = ( { id = \"s\"; t_end = 10.0; points = 101; } );\n"
    "checks = (\n"
    "  { id = \"a_falls\"; scenario = \"s\"; expect = \"final(A) < 0.5 * initial(A)\";\n"
    "    knockouts = [ \"conv\", \"k1*0.01\" ]; },\n"
    "  { id = \"b_peaks_then_falls\"; scenario = \"s\"; expect = \"final(B) < maximum(B)\";\n"
    "    knockouts = [ \"k3\" ]; },\n"
    "  { id = \"never_negative\"; scenario = \"s\"; expect = \"lowest() >= -1e-6\"; },\n"
    "  { id = \"mass\"; scenario = \"s\"; kind = \"conservation\";\n"
    "    expect = \"drift(A + B) <= 1\"; }\n"
    ");\n";

static int check_index(const sg_falsify_result *r, const char *id)
{
    for (int k = 0; k < r->nchecks; k++)
        if (strcmp(r->check_ids[k], id) == 0)
            return k;
    fail_msg("no check %s", id);
    return -1;
}

static const sg_falsify_mechanism *mechanism(const sg_falsify_result *r, const char *name)
{
    for (int i = 0; i < r->nmechanisms; i++)
        if (strcmp(r->mechanisms[i].name, name) == 0)
            return &r->mechanisms[i];
    fail_msg("no mechanism %s", name);
    return NULL;
}

static void test_falsify_report(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(model_text);
    sg_trajectory *before = ts_run_scenario(m, "s", 1e-8, 1e-10);
    sg_falsify_result *r = NULL;
    sg_error err;
    assert_int_equal(sg_falsify(m, NULL, &r, &err), SG_OK);
    /* 3 reactions x 0, 3 tagged parameters x 0.01 and x 100 (the untagged
     * one is left alone because the model tags some) */
    assert_int_equal(r->nrows, 3 + 6);
    assert_int_equal(r->baseline_failed, 0);
    /* A falls unless conversion is knocked out or slowed 100-fold */
    assert_int_equal(r->times_failed[check_index(r, "a_falls")], 2);
    /* B needs both conversion and clearance */
    assert_true(r->times_failed[check_index(r, "b_peaks_then_falls")] >= 2);
    /* nothing makes a species negative: a check that cannot fail */
    assert_int_equal(r->times_failed[check_index(r, "never_negative")], 0);
    /* the conservation check cannot fail either, but is exempt */
    assert_int_equal(r->times_failed[check_index(r, "mass")], 0);
    assert_int_equal(r->unfalsifiable, 1);
    /* the side branch changes only C, which no check reads */
    assert_int_equal(mechanism(r, "side branch")->noticed, 0);
    assert_int_equal(mechanism(r, "side branch")->perturbations, 3);
    assert_true(mechanism(r, "conversion")->noticed > 0);
    assert_int_equal(r->unnoticed, 1);
    /* negative controls: conv and k1*0.01 make a_falls fail; k3 x 0 does
     * not make b_peaks_then_falls fail */
    assert_int_equal(r->ncontrols, 3);
    assert_int_equal(r->controls[0].held, 1);
    assert_int_equal(r->controls[1].held, 1);
    assert_int_equal(r->controls[2].held, 0);
    assert_int_equal(r->controls_failed, 1);
    sg_falsify_free(r);
    /* the model is restored: the same trajectory, bit for bit */
    sg_trajectory *after = ts_run_scenario(m, "s", 1e-8, 1e-10);
    assert_int_equal(sg_trajectory_rows(before), sg_trajectory_rows(after));
    for (int row = 0; row < sg_trajectory_rows(before); row++)
        for (int c = 0; c < 3; c++)
            assert_true(sg_trajectory_value(before, row, c) == sg_trajectory_value(after, row, c));
    sg_trajectory_free(before);
    sg_trajectory_free(after);
    sg_model_free(m);
}

static void test_knockout_errors(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"[ \"nope\" ]", "'nope' is not a reaction or parameter of the model"},
        {"[ \"k1*-2\" ]", "the factor after '*' must be a number >= 0"},
        {"[ \"k1*x\" ]", "the factor after '*' must be a number >= 0"},
        {"[ 3 ]", "'knockouts' must be a list of strings"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "name = \"ko\";\nparameters = ( { id = \"k1\"; value = 1.0; } );\n"
                 "species = ( { id = \"A\"; initial = 1.0; } );\n"
                 "reactions = ( { id = \"r\"; equation = \"A ->\"; rate = \"k1 * A\"; } );\n"
                 "scenarios = ( { id = \"s\"; t_end = 1.0; } );\n"
                 "checks = ( { id = \"c\"; scenario = \"s\"; expect = \"final(A) < 1\";\n"
                 "  knockouts = %s; } );\n",
                 bad[i][0]);
        sg_error err;
        sg_model *m = sg_model_load_buffer(text, strlen(text), "ko.cfg", &err);
        assert_null(m);
        assert_int_equal(err.status, SG_ERR_MODEL);
        if (!strstr(err.message, bad[i][1]))
            fail_msg("'%s' not in '%s'", bad[i][1], err.message);
        assert_int_equal(err.line, 7);
    }
    /* kind must be one of two words */
    const char *kind = "name = \"ko\";\nspecies = ( { id = \"A\"; initial = 1.0; } );\n"
                       "scenarios = ( { id = \"s\"; t_end = 1.0; } );\n"
                       "checks = ( { id = \"c\"; scenario = \"s\"; expect = \"final(A) <= 1\";\n"
                       "  kind = \"obvious\"; } );\n";
    sg_error err;
    assert_null(sg_model_load_buffer(kind, strlen(kind), "ko.cfg", &err));
    assert_non_null(strstr(err.message, "kind must be"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_falsify_report),
        cmocka_unit_test(test_knockout_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

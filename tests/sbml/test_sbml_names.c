/*
 * Names, units and notes: element names are kept from SBML and back,
 * selectable on the command line (an id or a unique name; ids win) and
 * shown by info and in plot legends; units become SBML unit definitions
 * that libsbml's unit checks accept and come back as the same text;
 * descriptions and sources travel in XHTML notes, hostile text included;
 * a reaction id selects its rate as an output column.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sbml/SBMLTypes.h>

#include "support.h"

typedef struct fixture {
    char *dir;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = ts_temp_dir();
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ts_remove_dir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static char *write_in(fixture *f, const char *name, const char *text)
{
    char *path = ts_path(f->dir, name);
    assert_int_equal(ts_write_file(path, text, strlen(text)), 0);
    return path;
}

/* Species C is named "A": the id A wins. B and D share a name. */
static const char named_model[] =
    "name = \"named\";\ntime_unit = \"h\";\nconc_unit = \"nM\";\n"
    "parameters = ( { id = \"k\"; name = \"decay rate\"; value = 0.5; unit = \"1/h\"; } );\n"
    "species = ( { id = \"A\"; name = \"Protein A\"; initial = 2.0; },\n"
    "            { id = \"B\"; name = \"dup\"; initial = 0.0; },\n"
    "            { id = \"C\"; name = \"A\"; initial = 7.0; constant = true; },\n"
    "            { id = \"D\"; name = \"dup\"; initial = 0.0; constant = true; } );\n"
    "reactions = ( { id = \"R1\"; name = \"A decay\"; equation = \"A -> B\"; rate = \"k*A\"; } );\n";

typedef struct result {
    int status;
    char *out, *err;
} result;

static result sigode8(const char *a, const char *b, const char *c, const char *d, const char *e,
                      const char *g, const char *h, const char *i)
{
    const char *argv[] = {SIGODE_BINARY, a, b, c, d, e, g, h, i, NULL};
    result r;
    r.status = ts_run(argv, &r.out, &r.err);
    return r;
}

#define sigode(a, b, c, d, e, g) sigode8(a, b, c, d, e, g, NULL, NULL)

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
}

static void test_select_by_name(void **state)
{
    fixture *f = *state;
    char *path = write_in(f, "named.cfg", named_model);
    /* a name gives its id's column; a reaction id its rate (amount per time) */
    result r = sigode("run", path, "--select", "Protein A,A decay,A", "--points", "5");
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    assert_true(strncmp(r.out, "time,A,R1,A\n", 12) == 0);
    int rows = 0;
    for (char *line = strchr(r.out, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        double t, a, rate, a2;
        assert_int_equal(sscanf(line, "%lf,%lf,%lf,%lf", &t, &a, &rate, &a2), 4);
        assert_true(rate == 0.5 * a); /* the rate law at the output's state */
        assert_true(a == a2);         /* "A" is the id A, not species C named "A" */
        assert_true(fabs(a - 2.0 * exp(-0.5 * t)) < 1e-5);
        rows++;
    }
    assert_int_equal(rows, 5);
    result_free(&r);
    /* an ambiguous name is an error naming the candidates */
    r = sigode("run", path, "--select", "dup", NULL, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "'dup' is the name of 2 elements"));
    assert_non_null(strstr(r.err, "'B', 'D'"));
    result_free(&r);
    /* scan readouts too */
    r = sigode8("scan", path, "--target", "k", "--values", "0.5,1", "--readout", "Protein A");
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    assert_true(strncmp(r.out, "k,A\n", 4) == 0);
    result_free(&r);
    /* info shows the names */
    r = sigode("info", path, NULL, NULL, NULL, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "name \"Protein A\""));
    assert_non_null(strstr(r.out, "name \"A decay\""));
    assert_non_null(strstr(r.out, "name \"decay rate\""));
    result_free(&r);
    free(path);
}

/* A plot's legend says the name, and a hostile name stays inert. */
static void test_plot_legend_names(void **state)
{
    fixture *f = *state;
    char *path = write_in(f, "named.cfg", named_model);
    char *svg = ts_path(f->dir, "p.svg");
    result r = sigode("run", path, "--select", "A,B", "--plot", svg);
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    size_t len;
    char *text = ts_read_file(svg, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "Protein A"));
    free(text);
    result_free(&r);
    free(svg);
    free(path);
}

/* Names, units, descriptions and sources: cfg -> SBML -> cfg gives the
 * same strings, with XML specials in them; a unit that is free text is
 * reported and left out of the SBML. */
static void note(void *ctx, const char *message)
{
    char *notes = ctx;
    strncat(notes, message, 4000 - strlen(notes));
    strncat(notes, "\n", 4000 - strlen(notes));
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    const char *text =
        "name = \"hostile\";\n"
        "description = \"a <b>model</b> & \\\"quotes\\\" ]]> -- 'x'\";\n"
        "time_unit = \"min\";\nconc_unit = \"uM\";\n"
        "parameters = ( { id = \"k\"; name = \"rate <k> & co\"; value = 0.5; unit = \"1/min\";\n"
        "    source = \"Smith & Jones <2001> \\\"PNAS\\\"\"; description = \"d of k\"; },\n"
        "  { id = \"kon\"; value = 2; unit = \"1/(uM*min)\"; },\n"
        "  { id = \"r\"; value = 2; unit = \"relative to untreated\"; },\n"
        "  { id = \"q\"; value = 2; unit = \"per cell something\"; } );\n"
        "compartments = ( { id = \"cell\"; name = \"the cell\"; size = 1; description = \"one\"; } );\n"
        "species = ( { id = \"A\"; name = \"Protein A\"; initial = 2.0; compartment = \"cell\";\n"
        "    description = \"A desc\"; },\n"
        "  { id = \"B\"; initial = 0.0; compartment = \"cell\"; unit = \"nmol\"; } );\n"
        "assignments = ( { id = \"tot\"; name = \"total\"; value = \"A + B\"; unit = \"uM\"; } );\n"
        "reactions = ( { id = \"R1\"; name = \"A decay\"; equation = \"A -> B\"; rate = \"k*A\";\n"
        "    description = \"R1 desc\"; },\n"
        "  { id = \"R2\"; equation = \"A + B -> \"; rate = \"kon*A*B*r*q\"; } );\n"
        "events = ( { id = \"ev\"; name = \"the event\"; description = \"ev desc\";\n"
        "    trigger = \"time > 1\"; assign = { A = 1; }; } );\n";
    sg_model *a = ts_load_text(text);
    sg_error err;
    char notes[4001] = "";
    char *sbml = sg_model_to_sbml_noting(a, note, notes, &err);
    if (!sbml)
        fail_msg("%s", err.message);
    assert_non_null(strstr(notes, "parameter 'q': unit 'per cell something' is not one"));
    assert_null(strstr(notes, "'k'"));
    assert_non_null(strstr(sbml, "<unitDefinition id=\"unit_1_per_min\" name=\"1/min\">"));
    assert_non_null(strstr(sbml, "timeUnits=\"unit_min\""));
    char *path = write_in(f, "h.xml", sbml);
    char *cfg = sg_sbml_to_config(path, &err);
    if (!cfg)
        fail_msg("%s", err.message);
    const char *want[] = {
        "description = \"a <b>model</b> & \\\"quotes\\\" ]]> -- 'x'\";",
        "time_unit = \"min\";",
        "conc_unit = \"uM\";",
        "{ id = \"cell\"; size = 1; name = \"the cell\"; description = \"one\"; }",
        "{ id = \"k\"; value = 0.5; unit = \"1/min\"; name = \"rate <k> & co\"; description = "
        "\"d of k\"; source = \"Smith & Jones <2001> \\\"PNAS\\\"\"; }",
        "{ id = \"kon\"; value = 2; unit = \"1/(uM*min)\"; }",
        "{ id = \"r\"; value = 2; unit = \"relative to untreated\"; }",
        "{ id = \"q\"; value = 2; }",
        "initial = 2; name = \"Protein A\"; description = \"A desc\"; }",
        "initial = 0; unit = \"nmol\"; }",
        "unit = \"uM\"; name = \"total\"; }",
        "name = \"A decay\"; description = \"R1 desc\"; }",
        "{ id = \"ev\"; name = \"the event\"; description = \"ev desc\"; trigger",
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        if (!strstr(cfg, want[k]))
            fail_msg("expected %s in:\n%s", want[k], cfg);
    sg_model *b = ts_load_text(cfg);
    assert_string_equal(sg_model_name_of(b, "R1"), "A decay");
    assert_string_equal(sg_model_name_of(b, "ev"), "the event");
    /* by index, as `sigode info` asks (one lookup per element, not a walk) */
    int r1 = sg_model_find_reaction(b, "R1");
    assert_true(r1 >= 0);
    assert_string_equal(sg_model_reaction_name(b, r1), "A decay");
    assert_int_equal(sg_model_event_count(b), 1);
    assert_string_equal(sg_model_event_name(b, 0), "the event");
    assert_string_equal(sg_model_name_of(b, "A"), "Protein A"); /* a species, by its symbol */
    assert_string_equal(sg_model_name_of(b, "kon"), "");        /* a parameter without name */
    assert_string_equal(sg_model_name_of(b, "no_such_id"), "");
    assert_string_equal(sg_model_parameter_source(b, 0), "Smith & Jones <2001> \"PNAS\"");
    sg_model_free(b);
    sg_model_free(a);
    free(cfg);
    free(sbml);
    free(path);
}

/* SBML from strangers: control characters in a name and in notes (XML
 * allows tab, line ends and C1 controls such as CSI, U+009B, in UTF-8)
 * become spaces, as the loader wants. */
static void test_hostile_notes(void **state)
{
    fixture *f = *state;
    const char *text =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<sbml xmlns=\"http://www.sbml.org/sbml/level3/version2/core\" level=\"3\" "
        "version=\"2\">\n<model id=\"m\">\n"
        "<listOfParameters><parameter id=\"p\" name=\"a&#9;b&#10;c\xc2\x9b[2Jd\" value=\"1\" "
        "constant=\"true\"><notes><body xmlns=\"http://www.w3.org/1999/xhtml\">"
        "<p class=\"sigode-source\">x\xc2\x9b]0;evil&#13;y\ngnuplot `rm`</p></body></notes>"
        "</parameter></listOfParameters>\n</model>\n</sbml>\n";
    char *path = write_in(f, "bad.xml", text);
    sg_error err;
    char *cfg = sg_sbml_to_config(path, &err);
    if (!cfg)
        fail_msg("%s", err.message);
    if (!strstr(cfg, "name = \"a b c [2Jd\"") ||
        !strstr(cfg, "source = \"x ]0;evil y gnuplot `rm`\""))
        fail_msg("control characters kept in:\n%s", cfg);
    sg_model *m = ts_load_text(cfg);
    assert_string_equal(sg_model_name_of(m, "p"), "a b c [2Jd");
    sg_model_free(m);
    free(cfg);
    free(path);
}

/* libsbml's unit consistency checks on the SBML written for a shipped
 * model: the warnings (never an error), one message a line. */
static int unit_warnings(const char *model, char *out, size_t size)
{
    sg_error err;
    sg_model *m = sg_model_load_file(model, &err);
    assert_non_null(m);
    char *sbml = sg_model_to_sbml(m, &err);
    assert_non_null(sbml);
    SBMLDocument_t *doc = readSBMLFromString(sbml);
    SBMLDocument_setConsistencyChecks(doc, LIBSBML_CAT_UNITS_CONSISTENCY, 1);
    SBMLDocument_setConsistencyChecks(doc, LIBSBML_CAT_MODELING_PRACTICE, 0);
    SBMLDocument_checkConsistency(doc);
    int n = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < SBMLDocument_getNumErrors(doc); i++) {
        const XMLError_t *e = (const XMLError_t *)SBMLDocument_getError(doc, i);
        assert_false(XMLError_isError(e) || XMLError_isFatal(e));
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%u %s", XMLError_getErrorId(e),
                 XMLError_getMessage(e));
        for (char *p = out + len; *p; p++)
            if (*p == '\n')
                *p = ' ';
        strncat(out, "\n", size - strlen(out) - 1);
        n++;
    }
    SBMLDocument_free(doc);
    free(sbml);
    sg_model_free(m);
    return n;
}

/* Issue 16: libsbml's unit checks give no warning on either shipped model.
 * mir181c_bbb counts EVs and miR-181c copies per cell ("count", "copies":
 * numbers, of dimension one) beside relative pools, and its EV supply is a
 * rate (a parameter in 1/h); calcineurin_er's TG mRNA, "relative to
 * baseline" in a model of nM, has reactions in its own unit per hour, which
 * export writes as rates and a rate rule (SBML gives every kinetic law the
 * model's one extent unit). */
static void test_shipped_models_unit_check(void **state)
{
    (void)state;
    static char out[20000];
    const char *models[] = {SIGODE_SOURCE_DIR "/models/mir181c_bbb.cfg",
                            SIGODE_SOURCE_DIR "/models/calcineurin_er.cfg"};
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        int n = unit_warnings(models[k], out, sizeof out);
        if (n != 0)
            fail_msg("%s: %d unit warnings:\n%s", models[k], n, out);
    }
}

/* A reaction whose species all count in a unit of their own becomes its
 * rate (a parameter with an assignment rule, in that unit per time) and a
 * rate rule for the species: no unit warning, the same trajectory, and a
 * species also moved by an ordinary reaction keeps its reactions. */
static void test_own_unit_reactions(void **state)
{
    fixture *f = *state;
    const char *text =
        "name = \"own\";\ntime_unit = \"h\";\nconc_unit = \"nM\";\n"
        "compartments = ( { id = \"cell\"; size = 2; } );\n"
        "parameters = ( { id = \"k\"; value = 0.5; unit = \"1/h\"; },\n"
        "  { id = \"ks\"; value = 0.25; unit = \"1/(nM*h)\"; } );\n"
        "species = ( { id = \"A\"; initial = 3; compartment = \"cell\"; },\n"
        "  { id = \"R\"; initial = 1; compartment = \"cell\"; unit = \"relative to baseline\"; },\n"
        "  { id = \"R2\"; initial = 0; compartment = \"cell\"; unit = \"relative to baseline\"; } );\n"
        "reactions = ( { id = \"A_decay\"; equation = \"A ->\"; rate = \"k * A\"; },\n"
        "  { id = \"R_syn\"; equation = \"-> 2 R\"; rate = \"ks * A\"; },\n"
        "  { id = \"R_conv\"; equation = \"R -> R2\"; rate = \"k * R\"; } );\n";
    sg_model *a = ts_load_text(text);
    sg_error err;
    char *sbml = sg_model_to_sbml(a, &err);
    if (!sbml)
        fail_msg("%s", err.message);
    if (!strstr(sbml, "<rateRule variable=\"R\">") || !strstr(sbml, "<rateRule variable=\"R2\">") ||
        !strstr(sbml, "<assignmentRule variable=\"R_syn\">") ||
        !strstr(sbml, "<reaction id=\"A_decay\"") || strstr(sbml, "<reaction id=\"R_conv\""))
        fail_msg("%s", sbml);
    SBMLDocument_t *doc = readSBMLFromString(sbml);
    SBMLDocument_setConsistencyChecks(doc, LIBSBML_CAT_UNITS_CONSISTENCY, 1);
    SBMLDocument_setConsistencyChecks(doc, LIBSBML_CAT_MODELING_PRACTICE, 0);
    unsigned nerr = SBMLDocument_checkConsistency(doc);
    if (nerr)
        fail_msg("%u unit messages, the first: %s", nerr,
                 XMLError_getMessage((const XMLError_t *)SBMLDocument_getError(doc, 0)));
    SBMLDocument_free(doc);
    char *path = write_in(f, "own.xml", sbml);
    sg_model *b = sg_model_load_sbml(path, &err);
    if (!b)
        fail_msg("%s", err.message);
    sg_trajectory *ta = ts_run_scenario(a, NULL, 1e-10, 1e-14);
    sg_trajectory *tb = ts_run_scenario(b, NULL, 1e-10, 1e-14);
    const char *ids[] = {"A", "R", "R2"};
    for (size_t k = 0; k < 3; k++) {
        int ca = sg_trajectory_find_column(ta, ids[k]), cb = sg_trajectory_find_column(tb, ids[k]);
        assert_true(ca >= 0 && cb >= 0);
        for (int r = 0; r < sg_trajectory_rows(ta); r++)
            if (!(fabs(sg_trajectory_value(ta, r, ca) - sg_trajectory_value(tb, r, cb)) <=
                  1e-9 * (1 + fabs(sg_trajectory_value(ta, r, ca)))))
                fail_msg("%s row %d: %.17g vs %.17g", ids[k], r, sg_trajectory_value(ta, r, ca),
                         sg_trajectory_value(tb, r, cb));
    }
    sg_trajectory_free(ta);
    sg_trajectory_free(tb);
    sg_model_free(b);
    free(path);
    free(sbml);
    sg_model_free(a);
    /* R also made by an ordinary reaction (from A): every reaction stays one */
    const char *mixed =
        "name = \"mixed\";\ntime_unit = \"h\";\nconc_unit = \"nM\";\n"
        "parameters = ( { id = \"k\"; value = 0.5; unit = \"1/h\"; } );\n"
        "species = ( { id = \"A\"; initial = 3; },\n"
        "  { id = \"R\"; initial = 1; unit = \"relative to baseline\"; },\n"
        "  { id = \"R2\"; initial = 0; unit = \"relative to baseline\"; } );\n"
        "reactions = ( { id = \"A_to_R\"; equation = \"A -> R\"; rate = \"k * A\"; },\n"
        "  { id = \"R_conv\"; equation = \"R -> R2\"; rate = \"k * R\"; } );\n";
    a = ts_load_text(mixed);
    sbml = sg_model_to_sbml(a, &err);
    assert_non_null(sbml);
    assert_non_null(strstr(sbml, "<reaction id=\"R_conv\""));
    assert_null(strstr(sbml, "<rateRule"));
    free(sbml);
    sg_model_free(a);
}

/* An SBML parameter 'time' (sigode renames it: 'time' is the model time in
 * sigode's expressions) is set, scheduled and selected by its SBML id, as a
 * name is; 'time' in a model without such an element cannot be set. */
static const char time_param_sbml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<sbml xmlns=\"http://www.sbml.org/sbml/level3/version2/core\" level=\"3\" version=\"2\">\n"
    " <model id=\"tp\">\n"
    "  <listOfCompartments><compartment id=\"c\" size=\"1\" constant=\"true\"/>"
    "</listOfCompartments>\n"
    "  <listOfSpecies><species id=\"S\" compartment=\"c\" initialConcentration=\"1\" "
    "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"
    "</listOfSpecies>\n"
    "  <listOfParameters><parameter id=\"time\" value=\"2\" constant=\"false\"/>"
    "</listOfParameters>\n"
    "  <listOfReactions><reaction id=\"R\" reversible=\"false\">\n"
    "   <listOfReactants><speciesReference species=\"S\" stoichiometry=\"1\" "
    "constant=\"true\"/></listOfReactants>\n"
    "   <kineticLaw><math xmlns=\"http://www.w3.org/1998/Math/MathML\"><apply><times/>"
    "<ci>time</ci><ci>S</ci></apply></math></kineticLaw>\n"
    "  </reaction></listOfReactions>\n"
    " </model>\n</sbml>\n";

static void test_set_sbml_id_time(void **state)
{
    fixture *f = *state;
    char *path = write_in(f, "tp.xml", time_param_sbml);
    /* S' = -time * S with the parameter time = 0.5 instead of 2 */
    result r = sigode8("run", path, "--set", "time=0.5", "--select", "S,time", "--points", "5");
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    assert_true(strncmp(r.out, "time,S,time\n", 12) == 0);
    int rows = 0;
    for (char *line = strchr(r.out, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        double t, s, p;
        assert_int_equal(sscanf(line, "%lf,%lf,%lf", &t, &s, &p), 3);
        assert_true(p == 0.5);
        if (ts_rel(s, exp(-0.5 * t), 1e-12) > 1e-4) /* default tolerances */
            fail_msg("S(%g) = %.17g, expected %.17g", t, s, exp(-0.5 * t));
        rows++;
    }
    assert_int_equal(rows, 5);
    result_free(&r);
    /* a scheduled change by the same id: time = 0 from t = 5 holds S */
    r = sigode8("run", path, "--event", "5:time=0", "--select", "S", "--t-end", "10");
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    double t, s;
    char *last = r.out + strlen(r.out) - 2;
    while (last > r.out && *last != '\n')
        last--;
    assert_int_equal(sscanf(last + 1, "%lf,%lf", &t, &s), 2);
    assert_true(t == 10);
    /* without the hold S(10) would be exp(-20) */
    if (ts_rel(s, exp(-2.0 * 5), 1e-12) > 1e-4)
        fail_msg("S(10) = %.17g, expected %.17g", s, exp(-2.0 * 5));
    result_free(&r);
    free(path);
    /* a name sets its element too ("decay rate" is k) */
    path = write_in(f, "named.cfg", named_model);
    r = sigode8("run", path, "--set", "decay rate=0", "--select", "A", "--points", "2");
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    assert_non_null(strstr(r.out, "\n0,2\n"));
    assert_true(sscanf(strrchr(r.out, ',') + 1, "%lf", &s) == 1 && s == 2.0);
    result_free(&r);
    /* without an element 'time', --set time is the model time: refused */
    r = sigode("run", path, "--set", "time=1", NULL, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "cannot set 'time': it is the model time"));
    result_free(&r);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_select_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plot_legend_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_notes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shipped_models_unit_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_unit_reactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_sbml_id_time, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

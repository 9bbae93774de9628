/*
 * SBML import and export: MathML becomes sigode expressions with the right
 * precedence and names; SBML semantics (amounts, boundary species, local
 * parameters, function definitions, initial assignments) hold in the
 * simulation; unsupported constructs are refused with the element's name and
 * line; a sigode model written as SBML reads back to the same simulation.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model.h" /* the values read back, bit for bit */
#include "sbml/sbml.h"   /* sg_sbuf */
#include "support.h"

#define HEAD                                                                            \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                       \
    "<sbml xmlns=\"http://www.sbml.org/sbml/level3/version2/core\" level=\"3\" "         \
    "version=\"2\">\n<model id=\"m\">\n"
#define TAIL "</model>\n</sbml>\n"
#define MATH "<math xmlns=\"http://www.w3.org/1998/Math/MathML\">"
#define COMP "<listOfCompartments><compartment id=\"C\" size=\"2\" constant=\"true\"/>" \
             "</listOfCompartments>\n"

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

/* Writes an SBML text to a file of the fixture; returns its path. */
static char *sbml_file(fixture *f, const char *name, const char *text)
{
    char *path = ts_path(f->dir, name);
    assert_int_equal(ts_write_file(path, text, strlen(text)), 0);
    return path;
}

static char *translate(fixture *f, const char *text)
{
    char *path = sbml_file(f, "m.xml", text);
    sg_error err;
    char *cfg = sg_sbml_to_config(path, &err);
    if (!cfg) {
        char msg[1200];
        sg_error_format(&err, msg, sizeof msg);
        fail_msg("%s", msg);
    }
    free(path);
    return cfg;
}

/* A parameter with an assignment rule of the given MathML: the translated
 * text of the rule. */
static void assert_rule_text(fixture *f, const char *mathml, const char *expected)
{
    char text[4096];
    snprintf(text, sizeof text,
             HEAD "<listOfParameters><parameter id=\"x\" value=\"2\" constant=\"true\"/>"
                  "<parameter id=\"y\" value=\"3\" constant=\"true\"/>"
                  "<parameter id=\"r\" constant=\"false\"/></listOfParameters>\n"
                  "<listOfRules><assignmentRule variable=\"r\">" MATH "%s</math>"
                  "</assignmentRule></listOfRules>\n" TAIL,
             mathml);
    char *cfg = translate(f, text);
    char want[512];
    snprintf(want, sizeof want, "{ id = \"r\"; value = \"%s\"; }", expected);
    if (!strstr(cfg, want))
        fail_msg("expected %s in:\n%s", want, cfg);
    sg_model *m = ts_load_text(cfg); /* and sigode reads it */
    sg_model_free(m);
    free(cfg);
}

static void test_math(void **state)
{
    fixture *f = *state;
    /* -(x^2): sigode's ^ binds tighter than unary minus */
    assert_rule_text(f, "<apply><minus/><apply><power/><ci>x</ci><cn>2</cn></apply></apply>",
                     "-(x^2)");
    /* (-x)^2 keeps its parentheses */
    assert_rule_text(f, "<apply><power/><apply><minus/><ci>x</ci></apply><cn>2</cn></apply>",
                     "(-x)^2");
    /* (x^y)^2: left-nested powers stay grouped (sigode's ^ is right-associative) */
    assert_rule_text(f, "<apply><power/><apply><power/><ci>x</ci><ci>y</ci></apply>"
                        "<cn type=\"integer\">2</cn></apply>",
                     "(x^y)^2");
    assert_rule_text(f, "<apply><log/><logbase><cn>10</cn></logbase><ci>x</ci></apply>",
                     "log10(x)");
    assert_rule_text(f, "<apply><log/><logbase><cn>2</cn></logbase><ci>x</ci></apply>",
                     "log(x) / log(2)");
    assert_rule_text(f, "<apply><ln/><ci>x</ci></apply>", "log(x)");
    assert_rule_text(f, "<apply><root/><degree><cn>3</cn></degree><ci>x</ci></apply>",
                     "x^(1 / 3)");
    assert_rule_text(f, "<piecewise><piece><ci>x</ci><apply><lt/><ci>x</ci><ci>y</ci></apply>"
                        "</piece><otherwise><ci>y</ci></otherwise></piecewise>",
                     "if(x < y, x, y)");
    assert_rule_text(f, "<apply><and/><apply><geq/><ci>x</ci><cn>1</cn></apply>"
                        "<apply><not/><true/></apply></apply>",
                     "(x >= 1) && (!1)");
    assert_rule_text(f, "<apply><times/><pi/><csymbol encoding=\"text\" definitionURL="
                        "\"http://www.sbml.org/sbml/symbols/time\">t</csymbol></apply>",
                     "3.141592653589793 * time");
    assert_rule_text(f, "<apply><minus/><cn>-2.5</cn></apply>", "-(-2.5)");
}

/* dS/dt in amounts for a hasOnlySubstanceUnits species; a boundary species
 * is untouched by the reaction; a local parameter shadows a global one; a
 * function definition is inlined; an initial assignment is evaluated. */
static const char semantics_model[] =
    HEAD "<listOfFunctionDefinitions><functionDefinition id=\"mass\">" MATH
         "<lambda><bvar><ci>k</ci></bvar><bvar><ci>s</ci></bvar>"
         "<apply><times/><ci>k</ci><ci>s</ci></apply></lambda></math>"
         "</functionDefinition></listOfFunctionDefinitions>\n" COMP
         "<listOfSpecies>"
         "<species id=\"S\" compartment=\"C\" initialAmount=\"4\" hasOnlySubstanceUnits=\"true\""
         " boundaryCondition=\"false\" constant=\"false\"/>"
         "<species id=\"B\" compartment=\"C\" initialConcentration=\"1\" "
         "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"true\" constant=\"false\"/>"
         "</listOfSpecies>\n"
         "<listOfParameters><parameter id=\"k\" value=\"100\" constant=\"true\"/>"
         "<parameter id=\"k0\" constant=\"true\"/></listOfParameters>\n"
         "<listOfInitialAssignments><initialAssignment symbol=\"k0\">" MATH
         "<apply><divide/><cn>1</cn><cn>2</cn></apply></math></initialAssignment>"
         "</listOfInitialAssignments>\n"
         "<listOfReactions><reaction id=\"R\" reversible=\"false\"><listOfReactants>"
         "<speciesReference species=\"S\" stoichiometry=\"1\" constant=\"true\"/>"
         "<speciesReference species=\"B\" stoichiometry=\"1\" constant=\"true\"/>"
         "</listOfReactants><kineticLaw>" MATH
         "<apply><ci>mass</ci><ci>k</ci><ci>S</ci></apply></math><listOfLocalParameters>"
         "<localParameter id=\"k\" value=\"0.5\"/></listOfLocalParameters></kineticLaw>"
         "</reaction></listOfReactions>\n" TAIL;

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("'%s' not in:\n%s", part, text);
}

static void test_semantics(void **state)
{
    fixture *f = *state;
    char *cfg = translate(f, semantics_model);
    assert_contains(cfg, "equation = \"S ->\"");   /* B left out */
    assert_contains(cfg, "rate = \"(R_k * (S * C))\"");  /* inlined, local, amount */
    assert_contains(cfg, "{ id = \"k0\"; value = 0.5; }");
    free(cfg);
    char *path = sbml_file(f, "sem.xml", semantics_model);
    sg_error err;
    sg_model *m = sg_model_load_sbml(path, &err);
    assert_non_null(m);
    sg_trajectory *t = ts_run_scenario(m, NULL, 1e-10, 1e-12);
    int cs = sg_trajectory_find_column(t, "S"), cb = sg_trajectory_find_column(t, "B");
    /* amount a: da/dt = -0.5 a, a(0) = 4; the species holds a / 2 */
    for (int r = 0; r < sg_trajectory_rows(t); r++) {
        double time = sg_trajectory_time(t, r);
        assert_true(ts_rel(sg_trajectory_value(t, r, cs), 2 * exp(-0.5 * time), 1e-12) < 1e-6);
        assert_true(sg_trajectory_value(t, r, cb) == 1.0);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
    free(path);
}

/* An initial amount is an amount: a compartment given a new size at the
 * start (--set, a PEtab condition, an estimated size) leaves the amount and
 * changes the concentration. With C = 4 in semantics_model the amount is
 * still 4, so S (a / C) starts at 1 and follows exp(-0.5 t); the import
 * divided by the file's size (2) once before, so S started at 2. */
static void test_initial_amount_follows_new_size(void **state)
{
    fixture *f = *state;
    char *path = sbml_file(f, "amount.xml", semantics_model);
    sg_error err;
    sg_model *m = sg_model_load_sbml(path, &err);
    assert_non_null(m);
    sg_options opt;
    sg_options_default(&opt);
    opt.rtol = 1e-10;
    opt.atol = 1e-12;
    sg_experiment *x = sg_experiment_create(m, NULL, &err);
    assert_non_null(x);
    assert_int_equal(sg_experiment_set_value(x, "C", 4.0, &err), SG_OK);
    sg_sim *sim = sg_sim_create(m, &opt, &err);
    assert_non_null(sim);
    sg_trajectory *t = NULL;
    assert_int_equal(sg_sim_run(sim, x, &t, &err), SG_OK);
    int cs = sg_trajectory_find_column(t, "S");
    for (int r = 0; r < sg_trajectory_rows(t); r++) {
        double time = sg_trajectory_time(t, r);
        double rel = ts_rel(sg_trajectory_value(t, r, cs), exp(-0.5 * time), 1e-12);
        if (rel > 1e-6)
            fail_msg("S(%g) = %.17g, expected %.17g", time, sg_trajectory_value(t, r, cs),
                     exp(-0.5 * time));
    }
    sg_trajectory_free(t);
    sg_sim_free(sim);
    sg_experiment_free(x);
    sg_model_free(m);
    free(path);
}

/* A compartment that grows (dV/dt = 1, V(0) = 1) holding S, consumed at the
 * amount rate k [S] V (k = 0.5), and T, made by the same reaction with a
 * conversion factor 2; plus arcsin and factorial in rules. Amounts:
 * n_S = exp(-k t), n_T = 2 (1 - exp(-k t)); concentrations n / (1 + t). */
static const char growing_model[] =
    HEAD "<listOfCompartments><compartment id=\"V\" size=\"1\" constant=\"false\"/>"
         "</listOfCompartments>\n"
         "<listOfSpecies><species id=\"S\" compartment=\"V\" initialConcentration=\"1\" "
         "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"
         "<species id=\"T\" compartment=\"V\" initialConcentration=\"0\" "
         "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\" "
         "conversionFactor=\"cf\"/></listOfSpecies>\n"
         "<listOfParameters><parameter id=\"k\" value=\"0.5\" constant=\"true\"/>"
         "<parameter id=\"cf\" value=\"2\" constant=\"true\"/>"
         "<parameter id=\"x\" value=\"0.5\" constant=\"true\"/>"
         "<parameter id=\"a\" constant=\"false\"/><parameter id=\"g\" constant=\"false\"/>"
         "</listOfParameters>\n"
         "<listOfRules><rateRule variable=\"V\">" MATH "<cn>1</cn></math></rateRule>"
         "<assignmentRule variable=\"a\">" MATH "<apply><arcsin/><ci>x</ci></apply></math>"
         "</assignmentRule><assignmentRule variable=\"g\">" MATH
         "<apply><factorial/><cn>4</cn></apply></math></assignmentRule></listOfRules>\n"
         "<listOfReactions><reaction id=\"r\" reversible=\"false\"><listOfReactants>"
         "<speciesReference species=\"S\" stoichiometry=\"1\" constant=\"true\"/>"
         "</listOfReactants><listOfProducts><speciesReference species=\"T\" "
         "stoichiometry=\"1\" constant=\"true\"/></listOfProducts><kineticLaw>" MATH
         "<apply><times/><ci>k</ci><ci>S</ci><ci>V</ci></apply></math></kineticLaw>"
         "</reaction></listOfReactions>\n" TAIL;

static void test_growing_compartment(void **state)
{
    fixture *f = *state;
    char *cfg = translate(f, growing_model);
    assert_contains(cfg, "{ id = \"S\"; value = \"S_amount / V\"; }");
    assert_contains(cfg, "{ id = \"S_amount\"; rate = \"-(1) * (k * S * V)\"; }");
    assert_contains(cfg, "{ id = \"T_amount\"; rate = \"(1) * (k * S * V) * cf\"; }");
    assert_contains(cfg, "asin(x)");
    free(cfg);
    char *path = sbml_file(f, "grow.xml", growing_model);
    sg_error err;
    sg_model *m = sg_model_load_sbml(path, &err);
    if (!m)
        fail_msg("%s", err.message);
    sg_trajectory *t = ts_run_scenario(m, NULL, 1e-10, 1e-12);
    int cs = sg_trajectory_find_column(t, "S"), ct = sg_trajectory_find_column(t, "T");
    int ca = sg_trajectory_find_column(t, "a"), cg = sg_trajectory_find_column(t, "g");
    assert_true(cs >= 0 && ct >= 0 && ca >= 0 && cg >= 0);
    for (int r = 0; r < sg_trajectory_rows(t); r++) {
        double time = sg_trajectory_time(t, r), v = 1 + time;
        assert_true(ts_rel(sg_trajectory_value(t, r, cs), exp(-0.5 * time) / v, 1e-12) < 1e-6);
        if (time > 0)
            assert_true(ts_rel(sg_trajectory_value(t, r, ct),
                               2 * (1 - exp(-0.5 * time)) / v, 1e-12) < 1e-6);
        assert_true(fabs(sg_trajectory_value(t, r, ca) - asin(0.5)) < 1e-15);
        assert_true(sg_trajectory_value(t, r, cg) == 24);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
    free(path);
}

static void assert_refused(fixture *f, const char *text, const char *words, int line)
{
    char *path = sbml_file(f, "bad.xml", text);
    sg_error err;
    char *cfg = sg_sbml_to_config(path, &err);
    if (cfg)
        fail_msg("accepted:\n%s", cfg);
    assert_int_equal(err.status, SG_ERR_MODEL);
    if (!strstr(err.message, words))
        fail_msg("'%s' not in: %s", words, err.message);
    if (line)
        assert_int_equal(err.line, line);
    free(path);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    assert_refused(f,
                   HEAD "<listOfParameters><parameter id=\"p\" value=\"1\" constant=\"false\"/>"
                        "</listOfParameters>\n<listOfRules>\n<algebraicRule>" MATH
                        "<apply><minus/><apply><times/><ci>p</ci><ci>p</ci></apply><cn>2</cn>"
                        "</apply></math></algebraicRule></listOfRules>\n" TAIL,
                   "algebraic rule 1 is not linear, with a coefficient made of constants, in "
                   "any variable it may determine ('p')", 6);
    assert_refused(f,
                   HEAD "<listOfParameters><parameter id=\"p\" value=\"1\" constant=\"false\"/>"
                        "<parameter id=\"q\" value=\"1\" constant=\"false\"/>"
                        "</listOfParameters>\n<listOfRules>\n<algebraicRule>" MATH
                        "<apply><minus/><ci>p</ci><ci>q</ci></apply></math></algebraicRule>\n"
                        "<algebraicRule>" MATH "<apply><minus/><ci>q</ci><apply><times/>"
                        "<ci>p</ci><ci>p</ci></apply></apply></math></algebraicRule>"
                        "</listOfRules>\n" TAIL,
                   "algebraic rule 1 is not linear", 6); /* q = p * p from rule 2 first */
    assert_refused(f,
                   HEAD "<listOfParameters><parameter id=\"k\" value=\"1\" constant=\"true\"/>"
                        "<parameter id=\"p\" value=\"1\" constant=\"false\"/>"
                        "</listOfParameters>\n<listOfRules>\n<rateRule variable=\"p\">" MATH
                        "<cn>1</cn></math></rateRule>\n<algebraicRule>" MATH
                        "<apply><minus/><ci>k</ci><ci>p</ci></apply></math></algebraicRule>"
                        "</listOfRules>\n" TAIL,
                   "algebraic rule 1 determines no variable", 7);
    /* x0 = 1, x_k = x_(k-1) + x_(k-1): substituted, the math doubles at
     * each rule; refused at sigode's limit, not after exhausting memory */
    sg_sbuf chain = {0};
    sg_sbuf_add(&chain, HEAD "<listOfParameters>");
    for (int k = 0; k < 40; k++)
        sg_sbuf_printf(&chain, "<parameter id=\"x%d\" constant=\"false\"/>", k);
    sg_sbuf_add(&chain, "</listOfParameters>\n<listOfRules>\n<algebraicRule>" MATH
                        "<apply><minus/><ci>x0</ci><cn>1</cn></apply></math></algebraicRule>");
    for (int k = 1; k < 40; k++)
        sg_sbuf_printf(&chain, "<algebraicRule>" MATH "<apply><minus/><ci>x%d</ci><apply><plus/>"
                               "<ci>x%d</ci><ci>x%d</ci></apply></apply></math></algebraicRule>",
                       k, k - 1, k - 1);
    sg_sbuf_add(&chain, "</listOfRules>\n" TAIL);
    assert_false(chain.oom);
    assert_refused(f, chain.s, "its math exceeds 100000 terms", 6);
    sg_sbuf_free(&chain);
    assert_refused(f,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<sbml xmlns=\"http://www.sbml.org/sbml/level3/version1/core\" level=\"3\" "
                   "version=\"1\" xmlns:fbc=\"http://www.sbml.org/sbml/level3/version1/fbc/"
                   "version2\" fbc:required=\"false\">\n<model id=\"m\" fbc:strict=\"true\">\n"
                   TAIL,
                   "flux-balance model (SBML package 'fbc')", 0);
    assert_refused(f, "<sbml><model></sbml>", "not valid SBML", 0);
}

/* A sigode model -> SBML (validated by libsbml) -> sigode: the same run. */
static void test_export_round_trip(void **state)
{
    fixture *f = *state;
    sg_error err;
    sg_model *a = sg_model_load_file(SIGODE_SOURCE_DIR "/models/examples/michaelis_menten.cfg",
                                     &err);
    assert_non_null(a);
    char *sbml = sg_model_to_sbml(a, &err);
    assert_non_null(sbml);
    assert_non_null(strstr(sbml, "level=\"3\" version=\"2\""));
    char *path = sbml_file(f, "mm.xml", sbml);
    sg_model *b = sg_model_load_sbml(path, &err);
    if (!b) {
        char msg[1200];
        sg_error_format(&err, msg, sizeof msg);
        fail_msg("%s", msg);
    }
    sg_trajectory *ta = ts_run_scenario(a, NULL, 1e-10, 1e-14);
    sg_trajectory *tb = ts_run_scenario(b, NULL, 1e-10, 1e-14);
    assert_int_equal(sg_trajectory_rows(ta), sg_trajectory_rows(tb));
    const char *ids[] = {"E", "S", "ES", "P", "E_total", "Km"};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        int ca = sg_trajectory_find_column(ta, ids[k]), cb = sg_trajectory_find_column(tb, ids[k]);
        assert_true(ca >= 0 && cb >= 0);
        for (int r = 0; r < sg_trajectory_rows(ta); r++)
            assert_true(ts_rel(sg_trajectory_value(tb, r, cb), sg_trajectory_value(ta, r, ca),
                               1e-12) < 1e-9);
    }
    sg_trajectory_free(ta);
    sg_trajectory_free(tb);
    sg_model_free(a);
    sg_model_free(b);
    free(sbml);
    free(path);
}

/* Runs `path` with one value set, for t_end, with tight tolerances. */
static sg_trajectory *run_with(const sg_model *m, double t_end, const char *name, double value)
{
    sg_error err;
    sg_options opt;
    sg_options_default(&opt);
    opt.rtol = 1e-10;
    opt.atol = 1e-14;
    sg_experiment *exp = sg_experiment_create(m, NULL, &err);
    assert_non_null(exp);
    assert_int_equal(sg_experiment_set_t_end(exp, t_end, &err), SG_OK);
    assert_int_equal(sg_experiment_set_value(exp, name, value, &err), SG_OK);
    sg_sim *sim = sg_sim_create(m, &opt, &err);
    assert_non_null(sim);
    sg_trajectory *t = NULL;
    assert_int_equal(sg_sim_run(sim, exp, &t, &err), SG_OK);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    return t;
}

/* The mission models: cfg -> SBML -> cfg gives the same trajectories of
 * every species and assignment to 1e-8 relative (issue 7), under a drug. */
static void test_mission_round_trip(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *path, *input;
        double value, t_end;
    } cases[] = {
        {SIGODE_SOURCE_DIR "/models/calcineurin_er.cfg", "FK506", 10.0, 48.0},
        {SIGODE_SOURCE_DIR "/models/mir181c_bbb.cfg", "EV_source", 2000.0, 480.0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sg_error err;
        sg_model *a = sg_model_load_file(cases[c].path, &err);
        assert_non_null(a);
        char *sbml = sg_model_to_sbml(a, &err);
        assert_non_null(sbml);
        char *path = sbml_file(f, "mission.xml", sbml);
        char *cfg = sg_sbml_to_config(path, &err);
        assert_non_null(cfg);
        sg_model *b = sg_model_load_buffer(cfg, strlen(cfg), "round-trip.cfg", &err);
        if (!b) {
            char msg[1200];
            sg_error_format(&err, msg, sizeof msg);
            fail_msg("%s: %s", cases[c].path, msg);
        }
        sg_trajectory *ta = run_with(a, cases[c].t_end, cases[c].input, cases[c].value);
        sg_trajectory *tb = run_with(b, cases[c].t_end, cases[c].input, cases[c].value);
        assert_int_equal(sg_trajectory_rows(ta), sg_trajectory_rows(tb));
        int compared = 0;
        for (int ca = 0; ca < sg_trajectory_columns(ta); ca++) {
            int cb = sg_trajectory_find_column(tb, sg_trajectory_column_id(ta, ca));
            if (cb < 0)
                fail_msg("%s: column %s lost in the round trip", cases[c].path,
                         sg_trajectory_column_id(ta, ca));
            for (int r = 0; r < sg_trajectory_rows(ta); r++) {
                double x = sg_trajectory_value(ta, r, ca), y = sg_trajectory_value(tb, r, cb);
                if (!(ts_rel(y, x, 1e-12) < 1e-8))
                    fail_msg("%s: %s at row %d: %.17g vs %.17g", cases[c].path,
                             sg_trajectory_column_id(ta, ca), r, x, y);
            }
            compared++;
        }
        assert_true(compared >= 8);
        sg_trajectory_free(ta);
        sg_trajectory_free(tb);
        sg_model_free(a);
        sg_model_free(b);
        free(cfg);
        free(sbml);
        free(path);
    }
}

/* BioNetGen's SBML export nests an observable of n species as
 * plus(S0, plus(S1, ...)): imported as one flat sum, it loads at any n (it
 * was refused past 200 as nested parentheses); other nesting keeps its
 * limit. */
static void test_long_nested_sum(void **state)
{
    fixture *f = *state;
    const int n = 3000;
    sg_sbuf b = {0};
    sg_sbuf_add(&b, HEAD COMP "<listOfSpecies>");
    for (int i = 0; i < n; i++)
        sg_sbuf_printf(&b, "<species id=\"S%d\" compartment=\"C\" initialConcentration=\"%d\" "
                           "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" "
                           "constant=\"false\"/>", i, i % 5 + 1);
    sg_sbuf_add(&b, "</listOfSpecies>\n<listOfParameters><parameter id=\"total\" "
                    "constant=\"false\"/></listOfParameters>\n<listOfRules>"
                    "<assignmentRule variable=\"total\">" MATH);
    for (int i = 0; i < n - 1; i++)
        sg_sbuf_printf(&b, "<apply><plus/><ci>S%d</ci>", i);
    sg_sbuf_printf(&b, "<ci>S%d</ci>", n - 1);
    for (int i = 0; i < n - 1; i++)
        sg_sbuf_add(&b, "</apply>");
    sg_sbuf_add(&b, "</math></assignmentRule></listOfRules>\n" TAIL);
    char *path = sbml_file(f, "sum.xml", b.s);
    free(b.s);
    sg_error err;
    sg_model *m = sg_model_load_sbml(path, &err);
    if (!m) {
        char msg[1200];
        sg_error_format(&err, msg, sizeof msg);
        fail_msg("%s", msg);
    }
    sg_trajectory *t = ts_run_scenario(m, NULL, 1e-10, 1e-12);
    double want = 0;
    for (int i = 0; i < n; i++)
        want += i % 5 + 1;
    assert_true(sg_trajectory_value(t, 0, sg_trajectory_find_column(t, "total")) == want);
    sg_trajectory_free(t);
    sg_model_free(m);
    free(path);
}

#define TIME_CSYMBOL                                                                     \
    "<csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/time\">" \
    "t</csymbol>"

/* An event assigning `value` to `var` when `trigger_math` becomes true, with
 * the trigger's initialValue given. */
#define EVENT(id, initial, trigger_math, var, value)                                     \
    "<event id=\"" id "\" useValuesFromTriggerTime=\"true\"><trigger initialValue=\""     \
    initial "\" persistent=\"true\">" MATH trigger_math "</math></trigger>"              \
    "<listOfEventAssignments><eventAssignment variable=\"" var "\">" MATH "<cn>" value   \
    "</cn></math></eventAssignment></listOfEventAssignments></event>\n"

/* Loads an SBML text and runs it from 0 to t_end with `points` rows,
 * recording the parameters `ids` (NULL-terminated) as extra columns. */
static sg_trajectory *run_sbml(fixture *f, const char *text, double t_end, long points,
                               const char *const *ids, sg_model **mout)
{
    char *path = sbml_file(f, "run.xml", text);
    sg_error err;
    sg_model *m = sg_model_load_sbml(path, &err);
    if (!m) {
        char msg[1200];
        sg_error_format(&err, msg, sizeof msg);
        fail_msg("%s", msg);
    }
    sg_options opt;
    sg_options_default(&opt);
    opt.rtol = 1e-10;
    opt.atol = 1e-14;
    sg_experiment *exp = sg_experiment_create(m, NULL, &err);
    assert_non_null(exp);
    assert_int_equal(sg_experiment_set_t_end(exp, t_end, &err), SG_OK);
    assert_int_equal(sg_experiment_set_points(exp, points, &err), SG_OK);
    for (int i = 0; ids && ids[i]; i++)
        assert_int_equal(sg_experiment_add_output(exp, ids[i], &err), SG_OK);
    sg_sim *sim = sg_sim_create(m, &opt, &err);
    assert_non_null(sim);
    sg_trajectory *t = NULL;
    if (sg_sim_run(sim, exp, &t, &err) != SG_OK)
        fail_msg("run failed: %s", err.message);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    free(path);
    *mout = m;
    return t;
}

static double value_at(const sg_trajectory *t, const char *id, double time)
{
    int c = sg_trajectory_find_column(t, id);
    if (c < 0)
        fail_msg("no column %s", id);
    for (int r = 0; r < sg_trajectory_rows(t); r++)
        if (sg_trajectory_time(t, r) == time)
            return sg_trajectory_value(t, r, c);
    fail_msg("no row at t = %g", time);
    return NAN;
}

/* delay(rateOf(S1), 1): before the start S1 keeps its initial value, so
 * its rate there is 0 (the SBML Test Suite's cases 01401, 01403, 01406);
 * after t = 1 it is the rate of one time unit before. */
static void test_delay_of_rate(void **state)
{
    fixture *f = *state;
    sg_model *m;
    const char *ids[] = {"P1", NULL};
    sg_trajectory *t = run_sbml(
        f,
        HEAD "<listOfParameters><parameter id=\"S1\" value=\"5\" constant=\"false\"/>"
             "<parameter id=\"P1\" constant=\"false\"/></listOfParameters>\n"
             "<listOfRules><rateRule variable=\"S1\">" MATH
             "<apply><times/><cn>-0.1</cn><ci>S1</ci></apply></math></rateRule>\n"
             "<assignmentRule variable=\"P1\">" MATH "<apply><csymbol encoding=\"text\" "
             "definitionURL=\"http://www.sbml.org/sbml/symbols/delay\">delay</csymbol>"
             "<apply><csymbol encoding=\"text\" "
             "definitionURL=\"http://www.sbml.org/sbml/symbols/rateOf\">rateOf</csymbol>"
             "<ci>S1</ci></apply><cn>1</cn></apply></math></assignmentRule>"
             "</listOfRules>\n" TAIL,
        3, 13, ids, &m);
    for (double time = 0; time < 1; time += 0.25)
        if (value_at(t, "P1", time) != 0)
            fail_msg("P1(%g) = %.17g, expected 0", time, value_at(t, "P1", time));
    for (double time = 1.25; time <= 3; time += 0.25) {
        double want = -0.5 * exp(-0.1 * (time - 1));
        if (ts_rel(value_at(t, "P1", time), want, 1e-12) > 1e-6)
            fail_msg("P1(%g) = %.17g, expected %.17g", time, value_at(t, "P1", time), want);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
}

/* Events of the SBML Test Suite's kind (cases 01285, 00996, 01664) and of
 * BioModels' BIOMD0000000628 (issue 12.12):
 * - a model without any ODE state (every variable changed only by events)
 *   still fires its events: on a comparison of time (time > 5.5) and on a
 *   trigger CVODE must root-find (time * time > 30, root sqrt(30) = 5.48);
 * - a trigger `time == 300` fires at 300 (an equality never holds at the
 *   inexact root CVODE finds);
 * - initialValue="false" and a trigger true at t0 (p1 >= 1 with p1 = 1,
 *   falling): the event fires at t0, the one with initialValue="true" not;
 * - SBML's avogadro csymbol is 6.02214179e23 (the SBML value, not CODATA
 *   2018's 6.02214076e23). */
static void test_event_semantics(void **state)
{
    fixture *f = *state;
    sg_model *m;
    const char *no_state_ids[] = {"p1", "p2", NULL};
    sg_trajectory *t = run_sbml(
        f,
        HEAD "<listOfParameters><parameter id=\"p1\" value=\"5\" constant=\"false\"/>"
             "<parameter id=\"p2\" value=\"0\" constant=\"false\"/></listOfParameters>\n"
             "<listOfEvents>\n" EVENT("E0", "true", "<apply><gt/>" TIME_CSYMBOL
                                      "<cn>5.5</cn></apply>", "p1", "1")
             EVENT("E1", "true", "<apply><gt/><apply><times/>" TIME_CSYMBOL TIME_CSYMBOL
                   "</apply><cn>30</cn></apply>", "p2", "1")
             "</listOfEvents>\n" TAIL,
        10, 11, no_state_ids, &m);
    assert_true(value_at(t, "p1", 5) == 5 && value_at(t, "p1", 6) == 1);
    assert_true(value_at(t, "p2", 5) == 0 && value_at(t, "p2", 6) == 1);
    sg_trajectory_free(t);
    sg_model_free(m);

    const char *equal_ids[] = {"stim", NULL};
    t = run_sbml(f,
                 HEAD "<listOfParameters><parameter id=\"q\" value=\"1\" constant=\"false\"/>"
                      "<parameter id=\"stim\" value=\"0\" constant=\"false\"/>"
                      "</listOfParameters>\n<listOfRules><rateRule variable=\"q\">" MATH
                      "<apply><times/><cn>-0.01</cn><ci>q</ci></apply></math></rateRule>"
                      "</listOfRules>\n<listOfEvents>\n"
                      EVENT("E0", "true", "<apply><eq/>" TIME_CSYMBOL "<cn>300</cn></apply>",
                            "stim", "1")
                      "</listOfEvents>\n" TAIL,
                 400, 5, equal_ids, &m);
    assert_true(value_at(t, "stim", 200) == 0 && value_at(t, "stim", 300) == 1 &&
                value_at(t, "stim", 400) == 1);
    sg_trajectory_free(t);
    sg_model_free(m);

    const char *t0_ids[] = {"p1", "p2", "p3", NULL};
    t = run_sbml(f,
                 HEAD "<listOfParameters><parameter id=\"p1\" value=\"1\" constant=\"false\"/>"
                      "<parameter id=\"p2\" value=\"0\" constant=\"false\"/>"
                      "<parameter id=\"p3\" value=\"0\" constant=\"false\"/>"
                      "</listOfParameters>\n<listOfRules><rateRule variable=\"p1\">" MATH
                      "<cn>-1</cn></math></rateRule></listOfRules>\n<listOfEvents>\n"
                      EVENT("E0", "false", "<apply><geq/><ci>p1</ci><cn>1</cn></apply>", "p2",
                            "1")
                      EVENT("E1", "true", "<apply><geq/><ci>p1</ci><cn>1</cn></apply>", "p3",
                            "1")
                      "</listOfEvents>\n" TAIL,
                 1, 3, t0_ids, &m);
    assert_true(value_at(t, "p2", 0) == 1 && value_at(t, "p3", 0) == 0);
    assert_true(value_at(t, "p2", 1) == 1 && value_at(t, "p3", 1) == 0);
    sg_trajectory_free(t);
    sg_model_free(m);

    const char *avogadro_ids[] = {"NA", NULL};
    t = run_sbml(f,
                 HEAD "<listOfParameters><parameter id=\"NA\" constant=\"true\"/>"
                      "</listOfParameters>\n<listOfInitialAssignments><initialAssignment "
                      "symbol=\"NA\">" MATH "<csymbol encoding=\"text\" definitionURL=\"http://"
                      "www.sbml.org/sbml/symbols/avogadro\">avogadro</csymbol></math>"
                      "</initialAssignment></listOfInitialAssignments>\n" TAIL,
                 1, 2, avogadro_ids, &m);
    assert_true(value_at(t, "NA", 0) == 6.02214179e23);
    sg_trajectory_free(t);
    sg_model_free(m);
}

/* Algebraic rules solved by elimination, against closed forms:
 * - A -> B -> (k1 = 0.5, k2 = 0.2, A0 = 1) with A + B + D = T (T = 5): D, a
 *   species no reaction changes, is T - A - B from the start (its given
 *   initial 0 is inconsistent: D(0) = 4), with A = exp(-k1 t) and
 *   B = k1 / (k2 - k1) (exp(-k1 t) - exp(-k2 t));
 * - 2 E = A with E a species with hasOnlySubstanceUnits (its amount) in a
 *   compartment of size 2: E's concentration is A / 4;
 * - a coupled linear pair x + y = 2 A, x - y = A (x and y parameters
 *   without values): x = 1.5 A, y = 0.5 A; and (k3 + 1) z = A with the
 *   constant k3 = 3: z = A / 4. */
static void test_algebraic_rules(void **state)
{
    fixture *f = *state;
    sg_model *m;
    const char *ids[] = {"D", "E", "x", "y", "z", NULL};
#define SPECIES_ALG(id, attrs) "<species id=\"" id "\" compartment=\"C\" " attrs \
                               " hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" " \
                               "constant=\"false\"/>"
#define DECAY(id, from, to, k)                                                              \
    "<reaction id=\"" id "\" reversible=\"false\"><listOfReactants><speciesReference "      \
    "species=\"" from "\" stoichiometry=\"1\" constant=\"true\"/></listOfReactants>" to     \
    "<kineticLaw>" MATH "<apply><times/><ci>" k "</ci><ci>" from "</ci><ci>C</ci></apply>"  \
    "</math></kineticLaw></reaction>"
    sg_trajectory *t = run_sbml(
        f,
        HEAD COMP "<listOfSpecies>" SPECIES_ALG("A", "initialConcentration=\"1\"")
        SPECIES_ALG("B", "initialConcentration=\"0\"") SPECIES_ALG("D",
        "initialConcentration=\"0\"") "<species id=\"E\" compartment=\"C\" initialAmount=\"0\""
        " hasOnlySubstanceUnits=\"true\" boundaryCondition=\"false\" constant=\"false\"/>"
        "</listOfSpecies>\n<listOfParameters><parameter id=\"k1\" value=\"0.5\" "
        "constant=\"true\"/><parameter id=\"k2\" value=\"0.2\" constant=\"true\"/>"
        "<parameter id=\"k3\" value=\"3\" constant=\"true\"/>"
        "<parameter id=\"T\" value=\"5\" constant=\"true\"/><parameter id=\"x\" "
        "constant=\"false\"/><parameter id=\"y\" constant=\"false\"/><parameter id=\"z\" "
        "value=\"7\" constant=\"false\"/></listOfParameters>\n<listOfRules>"
        "<algebraicRule>" MATH "<apply><minus/><apply><plus/><ci>A</ci><ci>B</ci><ci>D</ci>"
        "</apply><ci>T</ci></apply></math></algebraicRule>"
        "<algebraicRule>" MATH "<apply><minus/><apply><times/><cn>2</cn><ci>E</ci></apply>"
        "<ci>A</ci></apply></math></algebraicRule>"
        "<algebraicRule>" MATH "<apply><minus/><apply><plus/><ci>x</ci><ci>y</ci></apply>"
        "<apply><times/><cn>2</cn><ci>A</ci></apply></apply></math></algebraicRule>"
        "<algebraicRule>" MATH "<apply><minus/><apply><minus/><ci>x</ci><ci>y</ci></apply>"
        "<ci>A</ci></apply></math></algebraicRule>"
        "<algebraicRule>" MATH "<apply><minus/><apply><times/><apply><plus/><ci>k3</ci>"
        "<cn>1</cn></apply><ci>z</ci></apply><ci>A</ci></apply></math></algebraicRule>"
        "</listOfRules>\n<listOfReactions>"
        DECAY("R1", "A", "<listOfProducts><speciesReference species=\"B\" stoichiometry=\"1\" "
              "constant=\"true\"/></listOfProducts>", "k1")
        DECAY("R2", "B", "", "k2") "</listOfReactions>\n" TAIL,
        4, 5, ids, &m);
#undef SPECIES_ALG
#undef DECAY
    for (int i = 0; i <= 4; i++) {
        double time = i;
        double a = exp(-0.5 * time);
        double b = 0.5 / (0.2 - 0.5) * (exp(-0.5 * time) - exp(-0.2 * time));
        assert_float_equal(value_at(t, "A", time), a, 1e-8);
        assert_float_equal(value_at(t, "B", time), b, 1e-8);
        assert_float_equal(value_at(t, "D", time), 5 - a - b, 1e-8);
        assert_float_equal(value_at(t, "E", time), a / 4, 1e-8);
        assert_float_equal(value_at(t, "x", time), 1.5 * a, 1e-8);
        assert_float_equal(value_at(t, "y", time), 0.5 * a, 1e-8);
        assert_float_equal(value_at(t, "z", time), a / 4, 1e-8);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
}

/* A fast reaction at its quasi-equilibrium, against the closed form: A in
 * C1 (size 2) <-> B in C2 (size 1), fast, rate (2 [A] - [B]) C1 (so
 * [B] = 2 [A]: equal amounts); B -> nothing slowly at 0.4 [B] C2. The
 * amount N = nA + nB decays as dN/dt = -0.4 nB = -0.2 N from N0 = 2
 * ([A]0 = 1, [B]0 = 0, equilibrated at the start): nA = nB = exp(-0.2 t),
 * [A] = exp(-0.2 t) / 2, [B] = exp(-0.2 t). (SBML L3V1: Version 2 dropped
 * `fast`.) A rate k A B: below. */
static void test_fast_reaction(void **state)
{
    fixture *f = *state;
    sg_model *m;
#define FAST_MODEL(rate_math)                                                              \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sbml xmlns=\"http://www.sbml.org/sbml/"     \
    "level3/version1/core\" level=\"3\" version=\"1\">\n<model id=\"m\">\n"                  \
    "<listOfCompartments><compartment id=\"C1\" size=\"2\" constant=\"true\"/>"      \
    "<compartment id=\"C2\" size=\"1\" constant=\"true\"/></listOfCompartments>\n"       \
    "<listOfSpecies><species id=\"A\" compartment=\"C1\" initialConcentration=\"1\" "       \
    "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"      \
    "<species id=\"B\" compartment=\"C2\" initialConcentration=\"0\" "                      \
    "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"      \
    "</listOfSpecies>\n<listOfReactions>\n<reaction id=\"bind\" reversible=\"true\" "       \
    "fast=\"true\"><listOfReactants><speciesReference species=\"A\" stoichiometry=\"1\" "   \
    "constant=\"true\"/></listOfReactants><listOfProducts><speciesReference species=\"B\" "  \
    "stoichiometry=\"1\" constant=\"true\"/></listOfProducts><kineticLaw>" MATH rate_math  \
    "</math></kineticLaw></reaction>\n<reaction id=\"loss\" reversible=\"false\" "          \
    "fast=\"false\"><listOfReactants><speciesReference species=\"B\" stoichiometry=\"1\" "  \
    "constant=\"true\"/></listOfReactants><kineticLaw>" MATH "<apply><times/><cn>0.4</cn>" \
    "<ci>B</ci><ci>C2</ci></apply></math></kineticLaw></reaction>\n</listOfReactions>\n" TAIL
    sg_trajectory *t = run_sbml(f,
                                FAST_MODEL("<apply><times/><apply><minus/><apply><times/>"
                                           "<cn>2</cn><ci>A</ci></apply><ci>B</ci></apply>"
                                           "<ci>C1</ci></apply>"),
                                4, 5, NULL, &m);
    for (int i = 0; i <= 4; i++) {
        double time = i;
        assert_float_equal(value_at(t, "A", time), exp(-0.2 * time) / 2, 1e-8);
        assert_float_equal(value_at(t, "B", time), exp(-0.2 * time), 1e-8);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
    /* A * B = 0 has no single solution for the amounts A + B keeps */
    assert_refused(f,
                   FAST_MODEL("<apply><times/><ci>A</ci><ci>B</ci></apply>"),
                   "fast reaction 'bind': its rate is not linear", 7);
#undef FAST_MODEL
    /* without the slow reaction nothing else moves A and B: k A B = 0 is
     * then held where the fast reaction runs into it from the start. 2 A
     * (C1 = 2, [A]0 = 3: amount 6) -> B (C2 = 1, [B]0 = 3), the stoichiometry
     * 2 given by a rule of constants (01571). k = 0.1: forward until A is
     * used up, extent 3: [A] = 0, [B] = 6; k = -1: backward until B is,
     * extent -3: amount of A 12, [A] = 6, [B] = 0 (01399). */
#define FAST_PRODUCT(k)                                                                      \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sbml xmlns=\"http://www.sbml.org/sbml/"     \
    "level3/version1/core\" level=\"3\" version=\"1\">\n<model id=\"m\">\n"                  \
    "<listOfCompartments><compartment id=\"C1\" size=\"2\" constant=\"true\"/>"              \
    "<compartment id=\"C2\" size=\"1\" constant=\"true\"/></listOfCompartments>\n"           \
    "<listOfSpecies><species id=\"A\" compartment=\"C1\" initialConcentration=\"3\" "       \
    "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"      \
    "<species id=\"B\" compartment=\"C2\" initialConcentration=\"3\" "                      \
    "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"      \
    "</listOfSpecies>\n<listOfParameters><parameter id=\"k\" value=\"" k "\" "               \
    "constant=\"true\"/></listOfParameters>\n<listOfRules><assignmentRule "                 \
    "variable=\"nA\">" MATH "<cn>2</cn></math></assignmentRule></listOfRules>\n"             \
    "<listOfReactions>\n<reaction id=\"bind\" reversible=\"true\" fast=\"true\">"          \
    "<listOfReactants><speciesReference id=\"nA\" species=\"A\" constant=\"false\"/>"      \
    "</listOfReactants><listOfProducts><speciesReference species=\"B\" "                    \
    "stoichiometry=\"1\" constant=\"true\"/></listOfProducts><kineticLaw>" MATH            \
    "<apply><times/><ci>k</ci><ci>A</ci><ci>B</ci></apply></math></kineticLaw>"           \
    "</reaction>\n</listOfReactions>\n" TAIL
    t = run_sbml(f, FAST_PRODUCT("0.1"), 2, 3, NULL, &m);
    for (int i = 0; i <= 2; i++) {
        assert_true(value_at(t, "A", i) == 0);
        assert_float_equal(value_at(t, "B", i), 6, 1e-12);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
    t = run_sbml(f, FAST_PRODUCT("-1"), 2, 3, NULL, &m);
    for (int i = 0; i <= 2; i++) {
        assert_float_equal(value_at(t, "A", i), 6, 1e-12);
        assert_true(value_at(t, "B", i) == 0);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
#undef FAST_PRODUCT
}

/* The head of an SBML Level 3 model with compartment C (COMP) holding
 * species A and B at initial concentrations a0 and b0, up to the end of
 * their list: the fast-reaction tests' two species. */
#define AB_IN_C(a0, b0)                                                                    \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sbml xmlns=\"http://www.sbml.org/sbml/"     \
    "level3/version1/core\" level=\"3\" version=\"1\">\n<model id=\"m\">\n" COMP             \
    "<listOfSpecies><species id=\"A\" compartment=\"C\" initialConcentration=\"" a0 "\" "    \
    "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"      \
    "<species id=\"B\" compartment=\"C\" initialConcentration=\"" b0 "\" "                   \
    "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"      \
    "</listOfSpecies>\n"

/* A fast reaction switched by events (the SBML Test Suite's 00987,
 * 00988): A -> B, rate k [A] C, fast; B -> A slow at 0.5 (amount per
 * time); C = 2, amounts A 0, B 2 at the start. k = 0 until t = 1 (A grows
 * freely: amount 0.5 t), then 2 (A held at 0, B = 2), then 0 again from
 * t = 1.5 (an event delayed 0.5, values from its trigger time): A grows
 * from 0 again, amount 0.5 (t - 1.5). Concentrations are half the
 * amounts. A switch value that makes the equilibrium unstable (k = -1),
 * or one that is not a constant, is refused. */
static void test_fast_reaction_switched(void **state)
{
    fixture *f = *state;
    sg_model *m;
#define SWITCHED(value)                                                                      \
    AB_IN_C("0", "1") "<listOfParameters><parameter id=\"k\" value=\"0\" "                  \
    "constant=\"false\"/></listOfParameters>\n<listOfReactions>\n"                          \
    "<reaction id=\"make\" reversible=\"false\" fast=\"false\"><listOfReactants>"          \
    "<speciesReference species=\"B\" stoichiometry=\"1\" constant=\"true\"/>"              \
    "</listOfReactants><listOfProducts><speciesReference species=\"A\" "                    \
    "stoichiometry=\"1\" constant=\"true\"/></listOfProducts><kineticLaw>" MATH            \
    "<cn>0.5</cn></math></kineticLaw></reaction>\n"                                         \
    "<reaction id=\"bind\" reversible=\"false\" fast=\"true\"><listOfReactants>"           \
    "<speciesReference species=\"A\" stoichiometry=\"1\" constant=\"true\"/>"              \
    "</listOfReactants><listOfProducts><speciesReference species=\"B\" "                    \
    "stoichiometry=\"1\" constant=\"true\"/></listOfProducts><kineticLaw>" MATH            \
    "<apply><times/><ci>k</ci><ci>A</ci><ci>C</ci></apply></math></kineticLaw>"           \
    "</reaction>\n</listOfReactions>\n<listOfEvents>\n"                                      \
    "<event id=\"on\" useValuesFromTriggerTime=\"true\"><trigger initialValue=\"true\" "    \
    "persistent=\"true\">" MATH "<apply><gt/><csymbol encoding=\"text\" "                   \
    "definitionURL=\"http://www.sbml.org/sbml/symbols/time\">t</csymbol><cn>1</cn>"        \
    "</apply></math></trigger><listOfEventAssignments><eventAssignment variable=\"k\">"    \
    MATH value "</math></eventAssignment></listOfEventAssignments></event>\n"              \
    "<event id=\"off\" useValuesFromTriggerTime=\"true\"><trigger initialValue=\"true\" "   \
    "persistent=\"true\">" MATH "<apply><gt/><csymbol encoding=\"text\" "                   \
    "definitionURL=\"http://www.sbml.org/sbml/symbols/time\">t</csymbol><cn>1</cn>"        \
    "</apply></math></trigger><delay>" MATH "<cn>0.5</cn></math></delay>"                   \
    "<listOfEventAssignments><eventAssignment variable=\"k\">" MATH "<cn>0</cn></math>"    \
    "</eventAssignment></listOfEventAssignments></event>\n</listOfEvents>\n" TAIL
    sg_trajectory *t = run_sbml(f, SWITCHED("<cn>2</cn>"), 3, 13, NULL, &m);
    for (int i = 0; i <= 12; i++) {
        double time = 0.25 * i;
        if (time == 1 || time == 1.5)
            continue; /* the rows at an event show the values after it */
        double a = time < 1 ? 0.5 * time : time < 1.5 ? 0 : 0.5 * (time - 1.5);
        assert_float_equal(value_at(t, "A", time), a / 2, 1e-9);
        assert_float_equal(value_at(t, "B", time), (2 - a) / 2, 1e-9);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
    assert_refused(f, SWITCHED("<cn>-1</cn>"), "with 'k' = -1 its quasi-equilibrium is "
                                               "unstable", 0);
    assert_refused(f, SWITCHED("<apply><times/><cn>2</cn><ci>B</ci></apply>"),
                   "which an event sets to a value that is not a constant", 0);
#undef SWITCHED
}

/* An event that changes the species and the stoichiometry of a fast
 * reaction (the SBML Test Suite's 01398): nA A -> B, fast, rate k A C
 * (k = 3), nA = 1 at the start; A made slowly at 0.5 (amount per time);
 * C = 2, amounts A 2, B 0. A is held at 0, so B's amount is
 * (2 + 0.5 t) / nA... with nA = 1: 2 + 0.5 t. At t = 1 an event sets
 * nA = 2 and [A] = 3 (amount 6): at once the 6 of A make 3 of B, so B's
 * amount is 2.5 + 3 = 5.5, then grows by 0.5 / 2 per time. Refused: a
 * new stoichiometry of the other sign, and a delayed event that uses
 * the values of its trigger time. */
static void test_fast_reaction_event_stoichiometry(void **state)
{
    fixture *f = *state;
    sg_model *m;
#define RESTOICH(nu, delay, trigger_time)                                                   \
    AB_IN_C("1", "0") "<listOfParameters><parameter id=\"k\" value=\"3\" "                  \
    "constant=\"true\"/></listOfParameters>\n<listOfReactions>\n"                           \
    "<reaction id=\"make\" reversible=\"false\" fast=\"false\"><listOfProducts>"           \
    "<speciesReference species=\"A\" stoichiometry=\"1\" constant=\"true\"/>"              \
    "</listOfProducts><kineticLaw>" MATH "<cn>0.5</cn></math></kineticLaw></reaction>\n"    \
    "<reaction id=\"bind\" reversible=\"false\" fast=\"true\"><listOfReactants>"           \
    "<speciesReference id=\"nA\" species=\"A\" stoichiometry=\"1\" constant=\"false\"/>"   \
    "</listOfReactants><listOfProducts><speciesReference species=\"B\" "                    \
    "stoichiometry=\"1\" constant=\"true\"/></listOfProducts><kineticLaw>" MATH            \
    "<apply><times/><ci>k</ci><ci>A</ci><ci>C</ci></apply></math></kineticLaw>"           \
    "</reaction>\n</listOfReactions>\n<listOfEvents>\n"                                      \
    "<event id=\"more\" useValuesFromTriggerTime=\"" trigger_time "\"><trigger "            \
    "initialValue=\"true\" persistent=\"true\">" MATH "<apply><gt/><csymbol "               \
    "encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/time\">t</csymbol>" \
    "<cn>" delay "</cn></apply></math></trigger>" delay_elem(delay)                          \
    "<listOfEventAssignments><eventAssignment variable=\"nA\">" MATH "<cn>" nu "</cn>"     \
    "</math></eventAssignment><eventAssignment variable=\"A\">" MATH "<cn>3</cn></math>"  \
    "</eventAssignment></listOfEventAssignments></event>\n</listOfEvents>\n" TAIL
#define delay_elem(d) ""
    sg_trajectory *t = run_sbml(f, RESTOICH("2", "1", "true"), 3, 13, NULL, &m);
    for (int i = 0; i <= 12; i++) {
        double time = 0.25 * i;
        double b = time < 1 ? 2 + 0.5 * time : 5.5 + 0.25 * (time - 1);
        assert_true(value_at(t, "A", time) == 0);
        assert_float_equal(value_at(t, "B", time), b / 2, 1e-9);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
    assert_refused(f, RESTOICH("-2", "1", "true"), "to a value that is not a constant of the "
                                                 "sign it starts with", 0);
#undef delay_elem
#define delay_elem(d) "<delay>" MATH "<cn>0.5</cn></math></delay>"
    assert_refused(f, RESTOICH("2", "1", "true"), "after a delay, with values from its "
                                                "trigger time", 0);
    /* the same delayed event reading the values when it executes runs: the
     * event happens at 1.5, B's amount 2.75 + 3 */
    t = run_sbml(f, RESTOICH("2", "1", "false"), 3, 13, NULL, &m);
    for (int i = 0; i <= 12; i++) {
        double time = 0.25 * i;
        if (time == 1.5)
            continue;
        double b = time < 1.5 ? 2 + 0.5 * time : 5.75 + 0.25 * (time - 1.5);
        assert_float_equal(value_at(t, "B", time), b / 2, 1e-9);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
#undef delay_elem
#undef RESTOICH
}

/* A fast reaction whose rate is piecewise in the sign of a parameter
 * (the SBML Test Suite's 01568): A <-> B, fast, rate piecewise(k [A] C,
 * k > 0, k [B] C), k = 1 - time by an assignment rule; A made slowly at
 * 0.5 (amount per time); C = 2, [A]0 = [B]0 = 1. The amount N = nA + nB =
 * 4 + 0.5 t; while k > 0 the reaction holds A at 0 (nB = N), from t = 1 on
 * (k <= 0) it holds B at 0 (nA = N). Concentrations are half the amounts.
 * Refused: the pieces swapped (k < 0 first), whose equilibria are both
 * unstable, and a condition that is not on the sign of k. */
static void test_fast_reaction_piecewise(void **state)
{
    fixture *f = *state;
    sg_model *m;
#define PIECEWISE_FAST(condition)                                                           \
    AB_IN_C("1", "1") "<listOfParameters><parameter id=\"k\" constant=\"false\"/>"          \
    "</listOfParameters>\n<listOfRules><assignmentRule variable=\"k\">" MATH                 \
    "<apply><minus/><cn>1</cn><csymbol encoding=\"text\" definitionURL=\"http://www.sbml."  \
    "org/sbml/symbols/time\">t</csymbol></apply></math></assignmentRule></listOfRules>\n"   \
    "<listOfReactions>\n<reaction id=\"make\" reversible=\"false\" fast=\"false\">"        \
    "<listOfProducts><speciesReference species=\"A\" stoichiometry=\"1\" "                  \
    "constant=\"true\"/></listOfProducts><kineticLaw>" MATH "<cn>0.5</cn></math>"           \
    "</kineticLaw></reaction>\n<reaction id=\"bind\" reversible=\"true\" fast=\"true\">"  \
    "<listOfReactants><speciesReference species=\"A\" stoichiometry=\"1\" "                 \
    "constant=\"true\"/></listOfReactants><listOfProducts><speciesReference species=\"B\" " \
    "stoichiometry=\"1\" constant=\"true\"/></listOfProducts><kineticLaw>" MATH            \
    "<piecewise><piece><apply><times/><ci>k</ci><ci>A</ci><ci>C</ci></apply>" condition    \
    "</piece><otherwise><apply><times/><ci>k</ci><ci>B</ci><ci>C</ci></apply></otherwise>" \
    "</piecewise></math></kineticLaw></reaction>\n</listOfReactions>\n" TAIL
    sg_trajectory *t = run_sbml(f, PIECEWISE_FAST("<apply><gt/><ci>k</ci><cn>0</cn></apply>"),
                                2, 9, NULL, &m);
    for (int i = 0; i <= 8; i++) {
        double time = 0.25 * i;
        if (time == 1)
            continue; /* k = 0: no rate, any state is at rest */
        double amount = 4 + 0.5 * time;
        assert_float_equal(value_at(t, "A", time), time < 1 ? 0 : amount / 2, 1e-9);
        assert_float_equal(value_at(t, "B", time), time < 1 ? amount / 2 : 0, 1e-9);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
    assert_refused(f, PIECEWISE_FAST("<apply><lt/><ci>k</ci><cn>0</cn></apply>"),
                   "where k is negative its quasi-equilibrium is unstable", 0);
    assert_refused(f, PIECEWISE_FAST("<apply><gt/><ci>k</ci><cn>0.5</cn></apply>"),
                   "fast reaction 'bind': its rate is not linear", 0);
#undef PIECEWISE_FAST
}

/* A fast reaction reaches its equilibrium at the start, not before: a
 * delay reaching back before time 0 reads the starting values (the SBML
 * Test Suite's 01539). A in C1 (size 2, [A]0 = 1) -> B in C2 (size 1,
 * [B]0 = 0), fast, rate [A] C1: at once [A] = 0, [B] = 2; delay([A], 1.5)
 * is 1 until t = 1.5, then 0. */
static void test_fast_reaction_delay(void **state)
{
    fixture *f = *state;
    sg_model *m;
#define DELAY_OF(id)                                                                       \
    MATH "<apply><csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/"    \
         "symbols/delay\">delay</csymbol><ci>" id "</ci><cn>1.5</cn></apply></math>"
    const char *ids[] = {"P", "Q", NULL};
    sg_trajectory *t = run_sbml(
        f,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sbml xmlns=\"http://www.sbml.org/sbml/"
        "level3/version1/core\" level=\"3\" version=\"1\">\n<model id=\"m\">\n"
        "<listOfCompartments><compartment id=\"C1\" size=\"2\" constant=\"true\"/>"
        "<compartment id=\"C2\" size=\"1\" constant=\"true\"/></listOfCompartments>\n"
        "<listOfSpecies><species id=\"A\" compartment=\"C1\" initialConcentration=\"1\" "
        "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"
        "<species id=\"B\" compartment=\"C2\" initialConcentration=\"0\" "
        "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"
        "</listOfSpecies>\n<listOfParameters><parameter id=\"P\" constant=\"false\"/>"
        "<parameter id=\"Q\" constant=\"false\"/></listOfParameters>\n<listOfRules>"
        "<assignmentRule variable=\"P\">" DELAY_OF("A") "</assignmentRule>"
        "<assignmentRule variable=\"Q\">" DELAY_OF("B") "</assignmentRule></listOfRules>\n"
        "<listOfReactions>\n<reaction id=\"go\" reversible=\"false\" fast=\"true\">"
        "<listOfReactants><speciesReference species=\"A\" stoichiometry=\"1\" "
        "constant=\"true\"/></listOfReactants><listOfProducts><speciesReference "
        "species=\"B\" stoichiometry=\"1\" constant=\"true\"/></listOfProducts><kineticLaw>"
        MATH "<apply><times/><ci>A</ci><ci>C1</ci></apply></math></kineticLaw>"
        "</reaction>\n</listOfReactions>\n" TAIL,
        3, 7, ids, &m);
#undef DELAY_OF
    for (int i = 0; i <= 6; i++) {
        double time = 0.5 * i;
        assert_true(value_at(t, "A", time) == 0);
        assert_float_equal(value_at(t, "B", time), 2, 1e-12);
        assert_float_equal(value_at(t, "P", time), time < 1.5 ? 1 : 0, 1e-12);
        assert_float_equal(value_at(t, "Q", time), time < 1.5 ? 0 : 2, 1e-12);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
}

#define DELAY_AMOUNT_MODEL \
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sbml xmlns=\"http://www.sbml.org/sbml/" \
        "level3/version1/core\" level=\"3\" version=\"1\">\n<model id=\"m\">\n" \
        "<listOfCompartments><compartment id=\"C1\" size=\"2.5\" constant=\"true\"/>" \
        "<compartment id=\"C2\" size=\"1\" constant=\"true\"/></listOfCompartments>\n" \
        "<listOfSpecies><species id=\"A\" compartment=\"C1\" initialAmount=\"5\" " \
        "hasOnlySubstanceUnits=\"true\" boundaryCondition=\"false\" constant=\"false\"/>" \
        "<species id=\"B\" compartment=\"C2\" initialConcentration=\"0\" " \
        "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>" \
        "</listOfSpecies>\n<listOfParameters><parameter id=\"P\" constant=\"false\"/>" \
        "</listOfParameters>\n<listOfRules><assignmentRule variable=\"P\">" MATH \
        "<apply><csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/" \
        "symbols/delay\">delay</csymbol><ci>A</ci><cn>1.5</cn></apply></math>" \
        "</assignmentRule></listOfRules>\n" \
        "<listOfReactions>\n<reaction id=\"go\" reversible=\"false\" fast=\"true\">" \
        "<listOfReactants><speciesReference species=\"A\" stoichiometry=\"1\" " \
        "constant=\"true\"/></listOfReactants><listOfProducts><speciesReference " \
        "species=\"B\" stoichiometry=\"1\" constant=\"true\"/></listOfProducts><kineticLaw>" \
        MATH "<ci>A</ci></math></kineticLaw></reaction>\n</listOfReactions>\n" TAIL

/* The same with A referred to by its amount (hasOnlySubstanceUnits) in a
 * compartment of size 2.5: A (amount 5) -> B (C2, size 1), fast, rate A
 * (the amount): at once A = 0, [B] = 5. delay(A, 1.5) reads A's starting
 * amount 5 until t = 1.5 (not 5 x 2.5: sigode holds A's concentration, so
 * the value before the start is the amount divided by the size), then 0. */
static void test_fast_reaction_delay_amount(void **state)
{
    fixture *f = *state;
    sg_model *m;
    const char *ids[] = {"P", NULL};
    sg_trajectory *t = run_sbml(
        f, DELAY_AMOUNT_MODEL, 3, 7, ids, &m);
    for (int i = 0; i <= 6; i++) {
        double time = 0.5 * i;
        assert_true(value_at(t, "A", time) == 0);
        assert_float_equal(value_at(t, "B", time), 5, 1e-12);
        assert_float_equal(value_at(t, "P", time), time < 1.5 ? 5 : 0, 1e-12);
    }
    sg_trajectory_free(t);
    sg_model_free(m);
}

/* The guard reads "before the start" as time < 0 (SBML runs start at 0):
 * the translation says runs_from_zero = true, and a run from another
 * t_start (a scenario added to the translation) or after a
 * preequilibration, where it would read other values, is refused. */
static void test_runs_from_zero(void **state)
{
    fixture *f = *state;
    char *cfg = translate(f, DELAY_AMOUNT_MODEL);
    assert_non_null(strstr(cfg, "runs_from_zero = true;"));
    size_t len = strlen(cfg);
    const char *late = "\nscenarios = ( { id = \"late\"; t_start = 1.0; t_end = 4.0; } );\n";
    char *text = malloc(len + strlen(late) + 1);
    assert_non_null(text);
    memcpy(text, cfg, len);
    strcpy(text + len, late);
    sg_error err;
    sg_model *m = sg_model_load_buffer(text, strlen(text), "late.cfg", &err);
    assert_non_null(m);
    sg_options opt;
    sg_options_default(&opt);
    sg_sim *sim = sg_sim_create(m, &opt, &err);
    assert_non_null(sim);
    for (int pre = 0; pre <= 1; pre++) {
        sg_experiment *exp = sg_experiment_create(m, pre ? NULL : "late", &err);
        assert_non_null(exp);
        if (pre)
            sg_experiment_set_preequilibrate(exp, 1);
        sg_trajectory *t = NULL;
        assert_int_not_equal(sg_sim_run(sim, exp, &t, &err), SG_OK);
        assert_null(t);
        assert_non_null(strstr(err.message, "runs_from_zero = true"));
        assert_non_null(strstr(err.message, pre ? "after a preequilibration"
                                                : "from another t_start"));
        sg_experiment_free(exp);
    }
    /* from time 0 it runs */
    sg_experiment *exp = sg_experiment_create(m, NULL, &err);
    sg_trajectory *t = NULL;
    assert_int_equal(sg_sim_run(sim, exp, &t, &err), SG_OK);
    sg_trajectory_free(t);
    sg_experiment_free(exp);
    sg_sim_free(sim);
    sg_model_free(m);
    free(text);
    free(cfg);
}


/* An event's delay and priority survive cfg -> SBML -> cfg (the <delay>
 * and <priority> elements, then the `delay` and `priority` keys), and the
 * model read back runs the same: the bolus executes at 1 + 2 k = 2, the
 * higher-priority `triple` before `add` (p = 3 * 1 + 1 at t >= 1). */
static void test_delay_priority_round_trip(void **state)
{
    fixture *f = *state;
    sg_error err;
    sg_model *a = ts_load_text(
        "name = \"delayed\";\n"
        "parameters = ( { id = \"k\"; value = 0.5; }, { id = \"p\"; value = 1.0; } );\n"
        "species = ( { id = \"A\"; initial = 1.0; } );\n"
        "reactions = ( { id = \"elim\"; equation = \"A ->\"; rate = \"k * A\"; } );\n"
        "events = (\n"
        "  { id = \"dose\"; trigger = \"time > 1\"; delay = \"2 * k\"; persistent = false;\n"
        "    use_values_from_trigger_time = false; assign = { A = \"A + 1\"; }; },\n"
        "  { id = \"add\"; trigger = \"time > 1\"; priority = 1;\n"
        "    use_values_from_trigger_time = false; assign = { p = \"p + 1\"; }; },\n"
        "  { id = \"triple\"; trigger = \"time > 1\"; priority = \"2 * k + 1\";\n"
        "    use_values_from_trigger_time = false; assign = { p = \"3 * p\"; }; }\n"
        ");\n"
        "scenarios = ( { id = \"base\"; t_end = 4.0; points = 9; } );\n");
    char *sbml = sg_model_to_sbml(a, &err);
    assert_non_null(sbml);
    assert_non_null(strstr(sbml, "<delay>"));
    assert_non_null(strstr(sbml, "<priority>"));
    char *path = sbml_file(f, "delayed.xml", sbml);
    char *cfg = sg_sbml_to_config(path, &err);
    assert_non_null(cfg);
    if (!strstr(cfg, "delay = \"k * 2\"") || !strstr(cfg, "priority = \"") ||
        !strstr(cfg, "persistent = false"))
        fail_msg("%s", cfg);
    sg_model *b = sg_model_load_sbml(path, &err);
    assert_non_null(b);
    sg_trajectory *ta = ts_run_scenario(a, NULL, 1e-10, 1e-14);
    sg_trajectory *tb = ts_run_scenario(b, NULL, 1e-10, 1e-14);
    int ca = sg_trajectory_find_column(ta, "A"), cb = sg_trajectory_find_column(tb, "A");
    assert_true(ca >= 0 && cb >= 0);
    assert_int_equal(sg_trajectory_rows(ta), sg_trajectory_rows(tb));
    for (int r = 0; r < sg_trajectory_rows(ta); r++) {
        double time = sg_trajectory_time(ta, r);
        double want = time < 2 ? exp(-0.5 * time) : (exp(-1.0) + 1) * exp(-0.5 * (time - 2));
        assert_true(ts_rel(sg_trajectory_value(ta, r, ca), want, 1e-12) < 1e-7);
        assert_true(ts_rel(sg_trajectory_value(tb, r, cb), want, 1e-12) < 1e-7);
    }
    sg_trajectory_free(ta);
    sg_trajectory_free(tb);
    sg_model_free(b);
    const char *ids[] = {"p", NULL};
    sg_trajectory *tp = run_sbml(f, sbml, 2, 3, ids, &b);
    assert_true(value_at(tp, "p", 0) == 1 && value_at(tp, "p", 2) == 4);
    sg_trajectory_free(tp);
    sg_model_free(b);
    sg_model_free(a);
    free(cfg);
    free(sbml);
    free(path);
}

/* An SBML id sigode reserves (case 01820): a parameter 'time' (with a rate
 * rule dp/dt = time_, p(0) = 2, beside a parameter already named 'time_')
 * becomes the fresh id time_2 with sbml_id "time"; the csymbol time stays
 * the time. The rate p S t C (C the size) gives S = exp(-(t^2 + t^3/6)), p = 2 + t/2. The
 * output column, --select and export use 'time'; the export reads back to
 * the same simulation. */
#define TIME_ID_MODEL                                                                    \
    HEAD COMP                                                                             \
    "<listOfSpecies><species id=\"S\" compartment=\"C\" initialConcentration=\"1\" "      \
    "hasOnlySubstanceUnits=\"false\" boundaryCondition=\"false\" constant=\"false\"/>"    \
    "</listOfSpecies>\n<listOfParameters><parameter id=\"time\" value=\"2\" "             \
    "constant=\"false\"/><parameter id=\"time_\" value=\"0.5\" constant=\"true\"/>"       \
    "</listOfParameters>\n<listOfRules><rateRule variable=\"time\">" MATH                 \
    "<ci>time_</ci></math></rateRule></listOfRules>\n<listOfReactions><reaction "         \
    "id=\"R\" reversible=\"false\"><listOfReactants><speciesReference species=\"S\" "     \
    "stoichiometry=\"1\" constant=\"true\"/></listOfReactants><kineticLaw>" MATH          \
    "<apply><times/><ci>time</ci><ci>S</ci>" TIME_CSYMBOL "<ci>C</ci></apply></math>"    \
    "</kineticLaw></reaction></listOfReactions>\n" TAIL

static void check_time_id_run(const sg_trajectory *t)
{
    for (int k = 0; k <= 4; k++) {
        double time = 0.25 * k;
        assert_true(ts_rel(value_at(t, "S", time), exp(-(time * time + time * time * time / 6)),
                           1e-12) < 1e-7);
        assert_true(ts_rel(value_at(t, "time_2", time), 2 + 0.5 * time, 1e-12) < 1e-9);
    }
}

static void test_time_id(void **state)
{
    fixture *f = *state;
    char *cfg = translate(f, TIME_ID_MODEL);
    if (!strstr(cfg, "{ id = \"time_2\"; value = 2; sbml_id = \"time\"; }") ||
        !strstr(cfg, "{ id = \"time_2\"; rate = \"time_\"; }"))
        fail_msg("%s", cfg);
    free(cfg);
    const char *ids[] = {"time_2", NULL};
    sg_model *m;
    sg_trajectory *t = run_sbml(f, TIME_ID_MODEL, 1, 5, ids, &m);
    check_time_id_run(t);
    sg_trajectory_free(t);
    assert_string_equal(sg_model_output_id(m, "time_2"), "time");
    assert_string_equal(sg_model_output_id(m, "S"), "S");
    const char *id;
    sg_error err;
    assert_int_equal(sg_model_resolve_id(m, "time", &id, &err), SG_OK);
    assert_string_equal(id, "time_2");
    char *sbml = sg_model_to_sbml(m, &err);
    assert_non_null(sbml);
    if (!strstr(sbml, "<parameter id=\"time\"") || !strstr(sbml, "<rateRule variable=\"time\">"))
        fail_msg("%s", sbml);
    sg_model_free(m);
    t = run_sbml(f, sbml, 1, 5, ids, &m);
    check_time_id_run(t);
    sg_trajectory_free(t);
    sg_model_free(m);
    free(sbml);
    /* a second element may not claim the same SBML id */
    const char *twice =
        "name = \"twice\";\nparameters = ( { id = \"a\"; value = 1.0; sbml_id = \"time\"; },\n"
        "  { id = \"b\"; value = 1.0; sbml_id = \"time\"; } );\n";
    sg_model *bad = sg_model_load_buffer(twice, strlen(twice), "twice.cfg", &err);
    assert_null(bad);
    assert_non_null(strstr(err.message, "sbml_id 'time'"));
}

/* Export writes every double so it reads back bit-identical (issue 12.15:
 * libsbml's 15 digits turned 0.33333333333333331 into 0.333333333333333
 * and the largest double into an overflow libsbml refused), in attributes
 * and in MathML. */
static void test_export_exact_numbers(void **state)
{
    fixture *f = *state;
    const double values[] = {0.33333333333333331, 1.7976931348623157e308, 0.1, 2.0 / 3.0,
                             1e-300 / 3};
    char text[2048];
    snprintf(text, sizeof text,
             "name = \"exact\";\nparameters = ( { id = \"p0\"; value = %.17g; }, "
             "{ id = \"p1\"; value = %.17g; }, { id = \"p2\"; value = %.17g; }, "
             "{ id = \"p3\"; value = %.17g; }, { id = \"p4\"; value = %.17g; } );\n"
             "species = ( { id = \"A\"; initial = %.17g; } );\n"
             "assignments = ( { id = \"third\"; value = \"A * 0.33333333333333331\"; } );\n",
             values[0], values[1], values[2], values[3], values[4], values[0]);
    sg_model *a = ts_load_text(text);
    sg_error err;
    char *sbml = sg_model_to_sbml(a, &err);
    if (!sbml)
        fail_msg("%s", err.message);
    char *path = sbml_file(f, "exact.xml", sbml);
    sg_model *b = sg_model_load_sbml(path, &err);
    if (!b)
        fail_msg("%s", err.message);
    for (int i = 0; i < 5; i++)
        if (sg_model_parameter_value(b, i) != values[i])
            fail_msg("p%d: %.17g read back as %.17g", i, values[i], sg_model_parameter_value(b, i));
    assert_true(sg_model_species_initial(b, 0) == values[0]);
    sg_trajectory *t = ts_run_scenario(b, NULL, 1e-6, 1e-9);
    assert_true(sg_trajectory_value(t, 0, sg_trajectory_find_column(t, "third")) ==
                values[0] * 0.33333333333333331);
    sg_trajectory_free(t);
    sg_model_free(a);
    sg_model_free(b);
    free(sbml);
    free(path);
}

/* The first number in an expression (depth first), NULL if none. */
static const double *first_number(const sg_expr *e)
{
    if (!e)
        return NULL;
    if (e->kind == EX_NUM)
        return &e->num;
    for (int i = 0; i < e->nargs; i++) {
        const double *n = first_number(e->arg[i]);
        if (n)
            return n;
    }
    return NULL;
}

/* A double as model-file text that reads back to the same bits (-0 with
 * its sign: libconfig reads "-0" as the integer 0). */
static void cfg_number(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.17g", v);
    if (!strpbrk(buf, ".eEn"))
        strncat(buf, ".0", size - strlen(buf) - 1);
}

/* Reports each value that did not come back (all of them, then fails). */
static int same_bits(const char *where, double v, double want, double got)
{
    if (memcmp(&want, &got, sizeof want) == 0)
        return 0;
    print_message("%a (%.17g): %s read back as %a (%.17g), want %a\n", v, v, where, got, got,
                  want);
    return 1;
}

/* Issue 12.15, every place export writes a number: a model file -> SBML ->
 * model gives every value bit for bit, for a table of hard values: digits
 * past 15, the largest double, -0, the smallest normal double and its
 * neighbours, subnormals (libsbml's attribute reader refuses those as out
 * of range, so export writes them as y * 2^-1022 with y normal), powers of
 * ten libsbml would write as e-notation mantissa x 10^exponent. Numbers
 * inside expressions are compared with those of the model first loaded
 * (sigode folds -0 to 0 there by design). */
static void test_export_hard_values(void **state)
{
    fixture *f = *state;
    int bad = 0;
    const double table[] = {0.33333333333333331, 0.1, 2.0 / 3.0, 0x1.fffffffffffffp+1023,
                            -0x1.fffffffffffffp+1023, DBL_MIN, 0x0.fffffffffffffp-1022,
                            0x1.0000000000001p-1022, 0x0.0000000000001p-1022,
                            -0x0.0000000000001p-1022, 0x0.0000000000003p-1022, 1e-310,
                            4.35e-320, 1.5e-300, 1.2345678901234567e-300, 1e-5,
                            1.0000000000000002, 0.30000000000000004, 1e22, 1e23,
                            9007199254740994.0, 123456789.123456789, 6.02214076e23,
                            DBL_EPSILON, -0.0, 0.0, 2.5};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        double v = table[i];
        int positive = v > 0;
        char num[64], text[4096];
        cfg_number(num, sizeof num, v);
        /* sizes, stoichiometries and delays must be positive, initial
         * values not negative; the rest any */
        snprintf(text, sizeof text,
                 "name = \"hard\";\n"
                 "compartments = ( { id = \"c\"; size = %s; } );\n"
                 "parameters = ( { id = \"p\"; value = %s; }, { id = \"q\"; value = \"%s * p\"; } );\n"
                 "species = ( { id = \"A\"; compartment = \"c\"; initial = %s; },\n"
                 "            { id = \"B\"; compartment = \"c\"; initial = 1.0; } );\n"
                 "assignments = ( { id = \"x\"; value = \"%s\"; } );\n"
                 "reactions = ( { id = \"R\"; equation = \"%s A -> B\"; rate = \"%s * A\"; } );\n"
                 "events = ( { id = \"e\"; trigger = \"time > %s\"; delay = \"%s\"; priority = \"%s\";\n"
                 "             assign = { p = \"%s\"; }; } );\n",
                 positive ? num : "2.0", num, num, v < 0 ? "1.0" : num, num,
                 positive ? num : "2", num, num,
                 positive ? num : "1", num, num);
        sg_model *a = ts_load_text(text);
        sg_error err;
        char *sbml = sg_model_to_sbml(a, &err);
        if (!sbml) {
            print_message("%a (%.17g): export: %s\n", v, v, err.message);
            bad++;
            sg_model_free(a);
            continue;
        }
        char *path = sbml_file(f, "hard.xml", sbml);
        char *cfg = sg_sbml_to_config(path, &err);
        sg_model *b = cfg ? sg_model_load_buffer(cfg, strlen(cfg), "hard.cfg", &err) : NULL;
        if (!b) {
            print_message("%a (%.17g): import: %s\n", v, v, err.message);
            bad++;
            sg_model_free(a);
            free(cfg);
            free(sbml);
            free(path);
            continue;
        }
        bad += same_bits("parameter value", v, a->parameters[0].value, b->parameters[0].value);
        bad += same_bits("parameter value (as loaded)", v, v, a->parameters[0].value);
        if (!(v < 0))
            bad += same_bits("species initial", v, a->species[0].initial, b->species[0].initial);
        if (positive)
            bad += same_bits("compartment size", v, a->compartments[0].size, b->compartments[0].size);
        if (positive)
            bad += same_bits("stoichiometry", v, -a->reactions[0].terms[0].coef,
                      -b->reactions[0].terms[0].coef);
        /* q = V * p: an initial assignment (V * p computed by import when
         * p is a number there) */
        double *va = calloc((size_t)a->nslots, sizeof *va), *vb = calloc((size_t)b->nslots, sizeof *vb);
        memcpy(va, a->initial_values, (size_t)a->nslots * sizeof *va);
        memcpy(vb, b->initial_values, (size_t)b->nslots * sizeof *vb);
        sg_model_initial_values(a, va, NULL);
        sg_model_initial_values(b, vb, NULL);
        bad += same_bits("initial-value expression", v, va[a->parameters[1].slot],
                         vb[b->parameters[1].slot]);
        free(va);
        free(vb);
        const struct {
            const char *where;
            const sg_expr *ea, *eb;
        } exprs[] = {
            {"assignment", a->assignments[0].value, b->assignments[0].value},
            {"rate", a->reactions[0].rate, b->reactions[0].rate},
            {"trigger", a->triggers[0].trigger, b->triggers[0].trigger},
            {"delay", a->triggers[0].delay, b->triggers[0].delay},
            {"priority", a->triggers[0].priority, b->triggers[0].priority},
            {"event assignment", a->triggers[0].assigns[0].value,
             b->triggers[0].assigns[0].value},
        };
        for (size_t k = 0; k < sizeof exprs / sizeof exprs[0]; k++) {
            const double *na = first_number(exprs[k].ea), *nb = first_number(exprs[k].eb);
            if (!na && !nb)
                continue; /* folded away in both (a delay of 0, a factor of 1) */
            if (!na || !nb) {
                print_message("%a (%.17g): %s: a number lost\n", v, v, exprs[k].where);
                bad++;
                continue;
            }
            bad += same_bits(exprs[k].where, v, *na, *nb);
        }
        sg_model_free(a);
        sg_model_free(b);
        free(cfg);
        free(sbml);
        free(path);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_math, setup, teardown),
        cmocka_unit_test_setup_teardown(test_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initial_amount_follows_new_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growing_compartment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mission_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_nested_sum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay_priority_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay_of_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_reaction_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_reaction_delay_amount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_from_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_reaction_switched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_reaction_piecewise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_reaction_event_stoichiometry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_exact_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_hard_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_algebraic_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_reaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_id, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Uncertainty: distributions in model files, sample designs, `sigode
 * ensemble` (quantile bands against analytic quantiles, independence of the
 * number of threads, failed samples, checkpoints and --resume) and
 * `sigode gsa` (Ishigami and Sobol g-function against their analytic
 * indices; Morris on a linear model).
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

/* ---------------------------------------------------------- distributions */

static void test_distribution_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int ok;
        int pos; /* of the fault */
        const char *message;
    } cases[] = {
        {"lognormal(0.4, 2)", 1, 0, NULL},
        {"  uniform( -3.14 ,3.14 ) ", 1, 0, NULL},
        {"loguniform(1e-3, 10)", 1, 0, NULL},
        {"normal(5, 1)", 1, 0, NULL},
        {"gamma(1, 2)", 0, 0, "unknown distribution 'gamma'"},
        {"lognormal(0, 2)", 0, 0, "positive median"},
        {"lognormal(1, -2)", 0, 0, "positive geometric standard deviation"},
        {"lognormal(1, 0.5)", 0, 0, "above 1"},
        {"uniform(2, 1)", 0, 0, "low < high"},
        {"loguniform(0, 1)", 0, 0, "positive low"},
        {"normal(1, 0)", 0, 0, "positive sd"},
        {"normal(-10, 1)", 0, 0, "almost no mass"},
        {"uniform(1 2)", 0, 10, "',' expected"},
        {"uniform(1, x)", 0, 11, "a number expected"},
        {"uniform(1, 2", 0, 12, "')' expected"},
        {"uniform(1, 2) extra", 0, 14, "unexpected text"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sg_distribution d;
        sg_error err = {0};
        int pos = -1;
        sg_status st = sg_distribution_parse(cases[i].text, &d, &pos, &err);
        if (cases[i].ok) {
            assert_int_equal(st, SG_OK);
        } else {
            assert_int_equal(st, SG_ERR_MODEL);
            if (!strstr(err.message, cases[i].message))
                fail_msg("'%s': message '%s' lacks '%s'", cases[i].text, err.message,
                         cases[i].message);
            assert_int_equal(pos, cases[i].pos);
        }
    }
}

static void test_distribution_quantiles(void **state)
{
    (void)state;
    sg_distribution d;
    sg_error err;
    int pos;
    /* lognormal(median, gsd): quantile p = median * gsd^z_p */
    assert_int_equal(sg_distribution_parse("lognormal(0.4, 2)", &d, &pos, &err), SG_OK);
    assert_true(ts_rel(sg_distribution_quantile(&d, 0.5), 0.4, 1e-300) < 1e-14);
    assert_true(ts_rel(sg_distribution_quantile(&d, 0.975), 0.4 * pow(2, 1.959963984540054),
                       1e-300) < 1e-12);
    assert_int_equal(sg_distribution_parse("loguniform(0.01, 100)", &d, &pos, &err), SG_OK);
    assert_true(ts_rel(sg_distribution_quantile(&d, 0.5), 1.0, 1e-300) < 1e-14);
    assert_true(ts_rel(sg_distribution_quantile(&d, 0.25), 0.1, 1e-300) < 1e-14);
    assert_int_equal(sg_distribution_parse("uniform(-1, 3)", &d, &pos, &err), SG_OK);
    assert_true(fabs(sg_distribution_quantile(&d, 0.25) - 0.0) < 1e-15);
    /* normal(0, 1) truncated at 0 is the half-normal: quantile p =
     * z_{(1+p)/2}; its median is z_0.75 = 0.6744897501960817 */
    assert_int_equal(sg_distribution_parse("normal(0, 1)", &d, &pos, &err), SG_OK);
    assert_true(ts_rel(sg_distribution_quantile(&d, 0.5), 0.6744897501960817, 1e-300) < 1e-12);
    /* far from 0 the truncation changes nothing: mean + sd z_p */
    assert_int_equal(sg_distribution_parse("normal(100, 2)", &d, &pos, &err), SG_OK);
    assert_true(ts_rel(sg_distribution_quantile(&d, 0.9), 100 + 2 * 1.2815515655446004,
                       1e-300) < 1e-12);
    assert_true(ts_rel(sg_distribution_quantile(&d, 1e-6), 100 - 2 * 4.753424308822899,
                       1e-300) < 1e-10);
    for (double p = 0.001; p < 1; p += 0.01)
        assert_true(sg_distribution_quantile(&d, p) >= 0);
}

/* Model text with one parameter carrying `uncertainty`. */
static void bad_uncertainty(const char *decl, int line, int col, const char *needle)
{
    char text[1024];
    snprintf(text, sizeof text,
             "name = \"m\";\nparameters = (\n  { id = \"k\"; value = 1.0;\n    %s }\n);\n"
             "species = ( { id = \"A\"; initial = 1.0; } );\n"
             "reactions = ( { id = \"d\"; equation = \"A ->\"; rate = \"k * A\"; } );\n",
             decl);
    sg_error err = {0};
    sg_model *m = sg_model_load_buffer(text, strlen(text), "bad.cfg", &err);
    if (m)
        fail_msg("'%s' was accepted", decl);
    assert_int_equal(err.status, SG_ERR_MODEL);
    if (err.line != line || err.col != col || !strstr(err.message, needle))
        fail_msg("'%s': got %d:%d '%s', expected %d:%d '%s'", decl, err.line, err.col,
                 err.message, line, col, needle);
    assert_int_equal(sg_status_exit_code(err.status), 2);
}

static void test_model_uncertainty_errors(void **state)
{
    (void)state;
    /* the column is that of the fault inside the string (col 20: its start) */
    bad_uncertainty("uncertainty = \"beta(1, 2)\";", 4, 20, "unknown distribution 'beta'");
    bad_uncertainty("uncertainty = \"lognormal(-1, 2)\";", 4, 20, "positive median");
    bad_uncertainty("uncertainty = \"lognormal(1, 0)\";", 4, 20,
                    "positive geometric standard deviation");
    bad_uncertainty("uncertainty = \"uniform(2, 3)\";", 4, 20,
                    "support excludes the nominal value");
    bad_uncertainty("uncertainty = \"uniform(2 3)\";", 4, 30, "',' expected");
    bad_uncertainty("uncertainty = 3;", 4, 5, "must be a string");
    bad_uncertainty("uncertanity = \"uniform(0, 2)\";", 4, 5, "unknown setting 'uncertanity'");
    /* a compartment size must stay positive, an initial value non-negative */
    const char *comp = "name = \"m\";\ncompartments = ( { id = \"c\"; size = 1.0;\n"
                       "  uncertainty = \"uniform(-1, 2)\"; } );\n";
    sg_error err = {0};
    assert_null(sg_model_load_buffer(comp, strlen(comp), "c.cfg", &err));
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.message, "compartment size must stay positive"));
}

static void test_model_uncertainty_listed(void **state)
{
    (void)state;
    const char *text =
        "name = \"m\";\ncompartments = ( { id = \"c\"; size = 2.0; uncertainty = "
        "\"uniform(1, 3)\"; } );\n"
        "parameters = ( { id = \"k\"; value = 1.0; uncertainty = \"lognormal(1, 1.5)\";\n"
        "  uncertainty_source = \"[A] a guess\"; },\n  { id = \"j\"; value = 2.0; } );\n"
        "species = ( { id = \"A\"; initial = 1.0; compartment = \"c\"; uncertainty = "
        "\"normal(1, 0.1)\"; } );\n"
        "reactions = ( { id = \"d\"; equation = \"A ->\"; rate = \"k * j * A\"; } );\n";
    sg_model *m = ts_load_text(text);
    assert_int_equal(sg_model_uncertain_count(m), 3);
    assert_string_equal(sg_model_uncertain_id(m, 0), "c");
    assert_int_equal(sg_model_uncertain_kind(m, 0), SG_SYM_COMPARTMENT);
    assert_string_equal(sg_model_uncertain_id(m, 1), "k");
    assert_string_equal(sg_model_uncertain_source(m, 1), "[A] a guess");
    assert_int_equal(sg_model_uncertain_distribution(m, 1)->kind, SG_DIST_LOGNORMAL);
    assert_string_equal(sg_model_uncertain_id(m, 2), "A");
    assert_true(sg_model_uncertain_nominal(m, 2) == 1.0);
    assert_int_equal(sg_model_find_uncertain(m, "j"), -1);
    sg_model_free(m);
}

/* ---------------------------------------------------------------- designs */

static void test_design_lhs_strata(void **state)
{
    (void)state;
    enum { N = 997, D = 5 };
    sg_error err;
    sg_design *d = sg_design_create(SG_SAMPLER_LHS, D, N, 42, &err);
    assert_non_null(d);
    static int seen[D][N];
    memset(seen, 0, sizeof seen);
    double u[D];
    for (long i = N - 1; i >= 0; i--) { /* any order gives the same points */
        sg_design_point(d, i, u);
        for (int j = 0; j < D; j++) {
            assert_true(u[j] > 0 && u[j] < 1);
            seen[j][(int)(u[j] * N)]++;
        }
    }
    for (int j = 0; j < D; j++)
        for (int s = 0; s < N; s++)
            assert_int_equal(seen[j][s], 1); /* each stratum exactly once */
    sg_design_free(d);
}

static void test_design_order_independent(void **state)
{
    (void)state;
    sg_sampler samplers[] = {SG_SAMPLER_SOBOL, SG_SAMPLER_LHS, SG_SAMPLER_RANDOM};
    for (int s = 0; s < 3; s++) {
        sg_error err;
        sg_design *a = sg_design_create(samplers[s], 3, 100, 7, &err);
        sg_design *b = sg_design_create(samplers[s], 3, 100, 7, &err);
        double ua[3], ub[3];
        for (long i = 0; i < 100; i++) {
            sg_design_point(a, i, ua);
            sg_design_point(b, 99 - i, ub); /* warm b up elsewhere */
            sg_design_point(b, i, ub);
            assert_memory_equal(ua, ub, sizeof ua);
        }
        sg_design_free(a);
        sg_design_free(b);
    }
    /* Sobol: GSL's sequence, which starts at 1/2, then 3/4 and 1/4 */
    sg_error err;
    sg_design *d = sg_design_create(SG_SAMPLER_SOBOL, 1, 8, 0, &err);
    double u;
    sg_design_point(d, 0, &u);
    assert_true(u == 0.5);
    sg_design_point(d, 1, &u);
    assert_true(u == 0.75);
    sg_design_point(d, 2, &u);
    assert_true(u == 0.25);
    sg_design_free(d);
    assert_null(sg_design_create(SG_SAMPLER_SOBOL, 41, 8, 0, &err));
    assert_non_null(strstr(err.message, "at most 40"));
}

/* -------------------------------------------------------- ensemble (CLI) */

static const char decay_model[] =
    "name = \"decay\";\n"
    "parameters = ( { id = \"k\"; value = 1.0; uncertainty = \"lognormal(1.0, 2)\";\n"
    "                 uncertainty_source = \"[A] test\"; } );\n"
    "species = ( { id = \"A\"; initial = 1.0; } );\n"
    "reactions = ( { id = \"d\"; equation = \"A ->\"; rate = \"k * A\"; } );\n"
    "scenarios = ( { id = \"s\"; t_end = 2.0; points = 5; },\n"
    "              { id = \"dose\"; t_end = 1.0; scan = { target = \"A\"; values = [1.0, 2.0, 4.0]; };\n"
    "                readouts = [ \"A\" ]; } );\n";

typedef struct fixture {
    char *dir;
    char *model;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = ts_temp_dir();
    f->model = ts_path(f->dir, "decay.cfg");
    ts_write_file(f->model, decay_model, strlen(decay_model));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ts_remove_dir(f->dir);
    free(f->dir);
    free(f->model);
    free(f);
    return 0;
}

/* Value of column `name` in row `row` (1-based after the header) of CSV. */
static double csv_value(const char *csv, int row, const char *name)
{
    const char *line = csv;
    int col = -1, c = 0;
    const char *end = strchr(csv, '\n');
    for (const char *p = csv; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if ((size_t)(stop - p) == strlen(name) && !strncmp(p, name, strlen(name)))
            col = c;
        c++;
        p = stop + 1;
    }
    if (col < 0)
        fail_msg("no column %s", name);
    for (int r = 0; r < row; r++) {
        line = strchr(line, '\n');
        assert_non_null(line);
        line++;
    }
    for (int k = 0; k < col; k++)
        line = strchr(line, ',') + 1;
    return strtod(line, NULL);
}

static void test_ensemble_analytic_quantiles(void **state)
{
    fixture *f = *state;
    /* A(t) = exp(-k t), k lognormal(1, 2): quantile p of A(t) is
     * exp(-t 2^z_{1-p}). With 4096 Sobol samples the sample quantiles are
     * within 1.5% of them (their standard error is about 0.5%). */
    const char *argv[] = {SIGODE_BINARY, "ensemble", f->model, "--scenario", "s", "--samples",
                          "4096", "--quantiles", "0.1,0.5,0.9", NULL};
    char *out = NULL, *err = NULL;
    int rc = ts_run(argv, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    double z[3] = {1.2815515655446004, 0, -1.2815515655446004}; /* z_{1-p} */
    const char *cols[3] = {"A_q0.1", "A_q0.5", "A_q0.9"};
    for (int row = 2; row <= 5; row++) {
        double t = csv_value(out, row, "time");
        for (int j = 0; j < 3; j++) {
            double expect = exp(-t * pow(2, z[j])), got = csv_value(out, row, cols[j]);
            if (ts_rel(got, expect, 1e-300) > 0.015)
                fail_msg("t=%g %s: %.6g, analytic %.6g", t, cols[j], got, expect);
        }
        assert_true(csv_value(out, row, "A_n") == 4096);
    }
    free(out);
    free(err);
}

static void test_ensemble_threads_and_samplers(void **state)
{
    fixture *f = *state;
    const char *samplers[] = {"sobol", "lhs", "random"};
    for (int s = 0; s < 3; s++) {
        char *out1 = NULL, *out2 = NULL;
        const char *a1[] = {SIGODE_BINARY, "ensemble", f->model, "--scenario", "dose",
                            "--samples", "200", "--sampler", samplers[s], "--seed", "3",
                            "--jobs", "1", "--fit", "hill", NULL};
        const char *a2[] = {SIGODE_BINARY, "ensemble", f->model, "--scenario", "dose",
                            "--samples", "200", "--sampler", samplers[s], "--seed", "3",
                            "--jobs", "3", "--fit", "hill", NULL};
        assert_int_equal(ts_run(a1, &out1, NULL), 0);
        assert_int_equal(ts_run(a2, &out2, NULL), 0);
        assert_string_equal(out1, out2);
        /* a scan: one row per scanned value, A(1) = A0 exp(-k) */
        assert_true(csv_value(out1, 1, "A") == 1.0);
        assert_true(ts_rel(csv_value(out1, 3, "A_q0.5"), 4 * exp(-1), 1e-300) < 0.03);
        free(out1);
        free(out2);
    }
    /* another seed gives other samples (LHS) */
    char *o1 = NULL, *o2 = NULL;
    const char *b1[] = {SIGODE_BINARY, "ensemble", f->model, "--scenario", "s", "--samples",
                        "50", "--sampler", "lhs", "--seed", "1", NULL};
    const char *b2[] = {SIGODE_BINARY, "ensemble", f->model, "--scenario", "s", "--samples",
                        "50", "--sampler", "lhs", "--seed", "2", NULL};
    assert_int_equal(ts_run(b1, &o1, NULL), 0);
    assert_int_equal(ts_run(b2, &o2, NULL), 0);
    assert_string_not_equal(o1, o2);
    free(o1);
    free(o2);
}

static void test_ensemble_samples_output(void **state)
{
    fixture *f = *state;
    char *samples = ts_path(f->dir, "samples.csv");
    const char *argv[] = {SIGODE_BINARY, "ensemble", f->model, "--scenario", "s",
                          "--samples", "20", "--samples-output", samples, NULL};
    char *out = NULL;
    assert_int_equal(ts_run(argv, &out, NULL), 0);
    size_t len;
    char *text = ts_read_file(samples, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "sample,k,A@time=2,status\n0,"));
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 21);
    /* each row's A@2 is exp(-2 k) of its own k */
    for (int row = 1; row <= 20; row++) {
        double k = csv_value(text, row, "k"), a = csv_value(text, row, "A@time=2");
        assert_true(ts_rel(a, exp(-2 * k), 1e-12) < 1e-4);
    }
    free(text);
    free(out);
    free(samples);
}

static void test_ensemble_failures_counted(void **state)
{
    fixture *f = *state;
    /* k up to ~100 with few steps allowed: the fast samples fail */
    const char *text =
        "name = \"stiff\";\n"
        "parameters = ( { id = \"k\"; value = 1.0; uncertainty = \"loguniform(0.01, 1e4)\"; } );\n"
        "species = ( { id = \"A\"; initial = 1.0; } );\n"
        "reactions = ( { id = \"d\"; equation = \"A ->\"; rate = \"k * A * sin(k * time)\"; } );\n";
    char *model = ts_path(f->dir, "stiff.cfg");
    ts_write_file(model, text, strlen(text));
    const char *argv[] = {SIGODE_BINARY, "ensemble", model, "--samples", "64", "--t-end", "10",
                          "--max-steps", "40", "--jobs", "2", NULL};
    char *out = NULL, *err = NULL;
    int rc = ts_run(argv, &out, &err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "samples failed and are left out of the quantiles"));
    assert_non_null(strstr(err, "first: sample "));
    /* the counts say how many samples each quantile used */
    double used = csv_value(out, 101, "A_n");
    assert_true(used > 0 && used < 64);
    free(out);
    free(err);
    free(model);
}

static void test_ensemble_bad_input(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *opt, *value, *needle;
    } cases[] = {
        {"--samples", "1", "--samples expects a whole number >= 2"},
        {"--quantiles", "0.5,1", "is not between 0 and 1"},
        {"--quantiles", "0", "is not between 0 and 1"},
        {"--sampler", "halton", "--sampler expects sobol, lhs or random"},
        {"--params", "nosuch", "'nosuch' has no uncertainty"},
        {"--readout", "nosuch", "cannot output 'nosuch'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *samples = strcmp(cases[i].opt, "--samples") ? "10" : cases[i].value;
        const char *argv[] = {SIGODE_BINARY, "ensemble", f->model, "--samples", samples,
                              cases[i].opt, cases[i].value, NULL};
        char *err = NULL;
        int rc = ts_run(argv, NULL, &err);
        if (rc != 2 || !strstr(err, cases[i].needle))
            fail_msg("%s %s: exit %d, '%s'", cases[i].opt, cases[i].value, rc, err);
        free(err);
    }
    /* a model without distributions */
    char *plain = ts_path(f->dir, "plain.cfg");
    const char *text = "name = \"p\";\nspecies = ( { id = \"A\"; initial = 1.0; } );\n";
    ts_write_file(plain, text, strlen(text));
    const char *argv[] = {SIGODE_BINARY, "ensemble", plain, "--samples", "10", NULL};
    char *err = NULL;
    assert_int_equal(ts_run(argv, NULL, &err), 2);
    assert_non_null(strstr(err, "has no quantity with an uncertainty"));
    free(err);
    free(plain);
    /* started by mpirun in a build without MPI: refused, not run K times */
    const char *env[] = {"OMPI_COMM_WORLD_SIZE=3", "PATH=/usr/bin:/bin", NULL};
    const char *a2[] = {SIGODE_BINARY, "ensemble", f->model, "--samples", "10", NULL};
    err = NULL;
    int rc = ts_run_env(a2, env, NULL, &err);
#ifdef SIGODE_TEST_MPI
    (void)rc; /* an MPI build starts MPI instead (tested under mpirun) */
#else
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "built without MPI"));
#endif
    free(err);
}

static void test_ensemble_checkpoint_resume(void **state)
{
    fixture *f = *state;
    char *ckpt = ts_path(f->dir, "run.ckpt");
    char *full = NULL, *resumed = NULL, *err = NULL;
    const char *plain[] = {SIGODE_BINARY, "ensemble", f->model, "--scenario", "s", "--samples",
                           "300", "--jobs", "2", NULL};
    assert_int_equal(ts_run(plain, &full, NULL), 0);
    /* the process dies (SIGKILL) after 100 samples */
    const char *argv[] = {SIGODE_BINARY, "ensemble", f->model, "--scenario", "s", "--samples",
                          "300", "--jobs", "2", "--checkpoint", ckpt, NULL};
    const char *env[] = {"SIGODE_TEST_DIE_AFTER=100", "PATH=/usr/bin:/bin", NULL};
    assert_int_equal(ts_run_env(argv, env, NULL, NULL), -1);
    /* --resume computes only what is missing, and the result is the same */
    const char *again[] = {SIGODE_BINARY, "ensemble", f->model, "--scenario", "s", "--samples",
                           "300", "--jobs", "1", "--checkpoint", ckpt, "--resume", NULL};
    assert_int_equal(ts_run(again, &resumed, &err), 0);
    assert_non_null(strstr(err, "samples done, "));
    long done = -1;
    sscanf(strstr(err, "resuming from"), "resuming from %*s %ld of 300", &done);
    assert_true(done >= 100 && done < 300);
    assert_string_equal(resumed, full);
    free(err);
    err = NULL;
    /* another request refuses the checkpoint */
    const char *other[] = {SIGODE_BINARY, "ensemble", f->model, "--scenario", "s", "--samples",
                           "300", "--seed", "9", "--checkpoint", ckpt, "--resume", NULL};
    assert_int_equal(ts_run(other, NULL, &err), 2);
    assert_non_null(strstr(err, "made by another request"));
    free(err);
    free(full);
    free(resumed);
    free(ckpt);
}

/* ------------------------------------------------------------- gsa (CLI) */

/* Row of parameter `param` in gsa's CSV: the numbers after it. */
static int gsa_row(const char *csv, const char *param, double *v, int n)
{
    char needle[64];
    snprintf(needle, sizeof needle, ",%s,", param);
    const char *p = strstr(csv, needle);
    if (!p)
        return -1;
    p += strlen(needle);
    for (int i = 0; i < n; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p)
            return -1;
        p = end + 1;
    }
    return 0;
}

/* Each analytic index inside its bootstrap interval, the intervals narrow
 * enough to mean something. */
static void check_sobol(const char *model, const char *readout, const char *samples, int d,
                        const double *s1, const double *st, double max_width)
{
    const char *argv[] = {SIGODE_BINARY, "gsa", model, "--method", "sobol", "--samples",
                          samples, "--readout", readout, "--t-end", "1", "--jobs", "2", NULL};
    char *out = NULL, *err = NULL;
    int rc = ts_run(argv, &out, &err);
    if (rc != 0)
        fail_msg("gsa exit %d: %s", rc, err);
    for (int i = 0; i < d; i++) {
        char name[16];
        double v[6];
        snprintf(name, sizeof name, "x%d", i + 1);
        if (gsa_row(out, name, v, 6) != 0)
            fail_msg("no row for %s in:\n%s", name, out);
        if (!(v[1] <= s1[i] && s1[i] <= v[2]) || !(v[4] <= st[i] && st[i] <= v[5]))
            fail_msg("%s: S1 %.4f [%.4f, %.4f] (analytic %.4f), ST %.4f [%.4f, %.4f] (analytic "
                     "%.4f)", name, v[0], v[1], v[2], s1[i], v[3], v[4], v[5], st[i]);
        if (v[2] - v[1] > max_width || v[5] - v[4] > max_width)
            fail_msg("%s: intervals too wide to test anything", name);
    }
    free(out);
    free(err);
}

static void test_gsa_ishigami(void **state)
{
    (void)state;
    /* Ishigami & Homma 1990, a = 7, b = 0.1 (Saltelli 2008, Global
     * Sensitivity Analysis: The Primer, p. 179) */
    static const double s1[3] = {0.3139, 0.4424, 0.0}, st[3] = {0.5576, 0.4424, 0.2437};
    check_sobol(SIGODE_SOURCE_DIR "/tests/unit/gsa/ishigami.cfg", "f@0", "4096", 3, s1, st,
                0.12);
}

static void test_gsa_gfunction(void **state)
{
    (void)state;
    /* g-function, a = (0, 1, 4.5, 9, 99, 99): V_i = 1 / (3 (1 + a_i)^2),
     * V = prod (1 + V_i) - 1, S_i = V_i / V, S_Ti = V_i prod_{j != i} (1 + V_j) / V */
    static const double a[6] = {0, 1, 4.5, 9, 99, 99};
    double v[6], prod = 1, s1[6], st[6];
    for (int i = 0; i < 6; i++) {
        v[i] = 1 / (3 * (1 + a[i]) * (1 + a[i]));
        prod *= 1 + v[i];
    }
    for (int i = 0; i < 6; i++) {
        s1[i] = v[i] / (prod - 1);
        st[i] = v[i] * prod / (1 + v[i]) / (prod - 1);
    }
    check_sobol(SIGODE_SOURCE_DIR "/tests/unit/gsa/gfunction.cfg", "g@0", "4096", 6, s1, st,
                0.1);
}

static void test_gsa_morris_linear(void **state)
{
    fixture *f = *state;
    /* f = 2 x1 - 3 x2 + x3 x4, x uniform on 0..1: the effects of x1 and x2
     * are exactly 2 and -3 everywhere (sigma 0); x3's is x4 (it varies) */
    const char *text =
        "name = \"lin\";\nparameters = (\n"
        "  { id = \"x1\"; value = 0.5; uncertainty = \"uniform(0, 1)\"; },\n"
        "  { id = \"x2\"; value = 0.5; uncertainty = \"uniform(0, 1)\"; },\n"
        "  { id = \"x3\"; value = 0.5; uncertainty = \"uniform(0, 1)\"; },\n"
        "  { id = \"x4\"; value = 0.5; uncertainty = \"uniform(0, 1)\"; } );\n"
        "assignments = ( { id = \"f\"; value = \"2 * x1 - 3 * x2 + x3 * x4\"; } );\n";
    char *model = ts_path(f->dir, "lin.cfg");
    ts_write_file(model, text, strlen(text));
    const char *argv[] = {SIGODE_BINARY, "gsa", model, "--method", "morris", "--samples", "30",
                          "--readout", "f@0", "--t-end", "1", NULL};
    char *out = NULL, *err = NULL;
    int rc = ts_run(argv, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    double v[4];
    assert_int_equal(gsa_row(out, "x1", v, 4), 0);
    assert_true(fabs(v[0] - 2) < 1e-12 && fabs(v[1] - 2) < 1e-12 && fabs(v[2]) < 1e-6);
    assert_true(v[3] == 30);
    assert_int_equal(gsa_row(out, "x2", v, 4), 0);
    assert_true(fabs(v[0] - 3) < 1e-12 && fabs(v[1] + 3) < 1e-12 && fabs(v[2]) < 1e-6);
    assert_int_equal(gsa_row(out, "x3", v, 4), 0);
    /* x4 is at one of the levels 1/8, 3/8, 5/8, 7/8: mu* between, sigma > 0 */
    assert_true(v[0] > 0.125 && v[0] < 0.875 && v[2] > 0.05);
    free(out);
    free(err);
    /* bad input */
    static const struct {
        const char *a, *b, *needle;
    } bad[] = {
        {"--method", "fast", "--method expects sobol or morris"},
        {"--readout", "f@5", "outside the run"},
        {"--readout", "f@x", "is not a time"},
        {"--readout", "nosuch@0", "cannot output 'nosuch'"},
        {"--levels", "3", "even number"},
        {"--samples", "1", ">= 2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *a2[] = {SIGODE_BINARY, "gsa", model, "--t-end", "1", "--readout", "f@0",
                            bad[i].a, bad[i].b, NULL};
        char *e2 = NULL;
        rc = ts_run(a2, NULL, &e2);
        if (rc != 2 || !strstr(e2, bad[i].needle))
            fail_msg("%s %s: exit %d '%s'", bad[i].a, bad[i].b, rc, e2);
        free(e2);
    }
    free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distribution_parse),
        cmocka_unit_test(test_distribution_quantiles),
        cmocka_unit_test(test_model_uncertainty_errors),
        cmocka_unit_test(test_model_uncertainty_listed),
        cmocka_unit_test(test_design_lhs_strata),
        cmocka_unit_test(test_design_order_independent),
        cmocka_unit_test_setup_teardown(test_ensemble_analytic_quantiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensemble_threads_and_samplers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensemble_samples_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensemble_failures_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensemble_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensemble_checkpoint_resume, setup, teardown),
        cmocka_unit_test(test_gsa_ishigami),
        cmocka_unit_test(test_gsa_gfunction),
        cmocka_unit_test_setup_teardown(test_gsa_morris_linear, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The command line end to end: the built binary (SIGODE_BINARY) run as a
 * child process in a temporary directory. Every subcommand, every exit
 * status of the contract (0 success, 1 solver failure, 2 bad usage or
 * model), the output formats read back, and the options of run and scan.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "support.h"

#define EXAMPLES SIGODE_SOURCE_DIR "/models/examples/"
#define ABC EXAMPLES "abc.cfg"
#define ROBERTSON EXAMPLES "robertson.cfg"
#define BINDING EXAMPLES "binding.cfg"

/* ------------------------------------------------------------- running */

typedef struct result {
    int status;
    char *out, *err;
} result;

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* sigode(arg, ..., NULL) */
static result sigode(const char *first, ...)
{
    const char *argv[64] = {SIGODE_BINARY};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        assert_true(argc < 63);
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    result r;
    r.status = ts_run(argv, &r.out, &r.err);
    return r;
}

static void expect_status(const result *r, int status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: exit %d, expected %d\nstdout: %.500s\nstderr: %.500s", what, r->status,
                 status, r->out, r->err);
}

/* ------------------------------------------------------------- parsing */

typedef struct table {
    int ncols, nrows;
    char **names;
    double *data; /* nrows x ncols */
} table;

static void table_free(table *t)
{
    for (int c = 0; c < t->ncols; c++)
        free(t->names[c]);
    free(t->names);
    free(t->data);
    memset(t, 0, sizeof *t);
}

static double cell(const table *t, int r, int c) { return t->data[(size_t)r * (size_t)t->ncols + (size_t)c]; }

static int find(const table *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0)
            return c;
    fail_msg("no column '%s'", name);
    return -1;
}

/* Parses a whole number field; fails the test on trailing text. */
static double number(const char *s, size_t len)
{
    char buf[64];
    assert_true(len > 0 && len < sizeof buf);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end)
        fail_msg("'%s' is not a number", buf);
    return v;
}

/* CSV or TSV: a header row, then rows of numbers, every row as wide. */
static table parse_delimited(const char *text, char sep)
{
    table t = {0};
    const char *line = text;
    int row = -1;
    size_t cap = 0;
    while (*line) {
        const char *eol = strchr(line, '\n');
        assert_non_null(eol); /* every line ends with a newline */
        int col = 0;
        for (const char *p = line; p <= eol; col++) {
            const char *q = p;
            while (q < eol && *q != sep)
                q++;
            if (row < 0) {
                t.names = realloc(t.names, sizeof *t.names * (size_t)(col + 1));
                t.names[col] = strndup(p, (size_t)(q - p));
                t.ncols = col + 1;
            } else {
                assert_true(col < t.ncols);
                if ((size_t)(row + 1) * (size_t)t.ncols > cap) {
                    cap = cap ? 2 * cap : 1024;
                    t.data = realloc(t.data, sizeof *t.data * cap * (size_t)t.ncols);
                }
                t.data[(size_t)row * (size_t)t.ncols + (size_t)col] = number(p, (size_t)(q - p));
            }
            p = q + 1;
        }
        if (row >= 0)
            assert_int_equal(col, t.ncols);
        row++;
        line = eol + 1;
    }
    t.nrows = row < 0 ? 0 : row;
    return t;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static const char *expect_char(const char *p, char c)
{
    p = skip_ws(p);
    if (*p != c)
        fail_msg("JSON: expected '%c' at '%.30s'", c, p);
    return p + 1;
}

/* {"columns": ["a", ...], "data": [[1, 2], ...]} (numbers or null) */
static table parse_json(const char *text)
{
    table t = {0};
    const char *p = expect_char(text, '{');
    p = skip_ws(p);
    assert_true(strncmp(p, "\"columns\"", 9) == 0);
    p = expect_char(p + 9, ':');
    p = expect_char(p, '[');
    for (;;) {
        p = expect_char(p, '"');
        const char *q = strchr(p, '"');
        t.names = realloc(t.names, sizeof *t.names * (size_t)(t.ncols + 1));
        t.names[t.ncols++] = strndup(p, (size_t)(q - p));
        p = skip_ws(q + 1);
        if (*p == ']')
            break;
        p = expect_char(p, ',');
    }
    p = expect_char(p + 1, ',');
    p = skip_ws(p);
    assert_true(strncmp(p, "\"data\"", 6) == 0);
    p = expect_char(p + 6, ':');
    p = expect_char(p, '[');
    size_t cap = 0;
    for (p = skip_ws(p); *p != ']';) {
        p = expect_char(p, '[');
        if ((size_t)(t.nrows + 1) > cap) {
            cap = cap ? 2 * cap : 1024;
            t.data = realloc(t.data, sizeof *t.data * cap * (size_t)t.ncols);
        }
        for (int c = 0; c < t.ncols; c++) {
            p = skip_ws(p);
            const char *q = p;
            while (*q && *q != ',' && *q != ']')
                q++;
            const char *e = q;
            while (e > p && (e[-1] == ' '))
                e--;
            t.data[(size_t)t.nrows * (size_t)t.ncols + (size_t)c] =
                (e - p == 4 && !strncmp(p, "null", 4)) ? NAN : number(p, (size_t)(e - p));
            p = c + 1 < t.ncols ? expect_char(q, ',') : q;
        }
        p = expect_char(p, ']');
        t.nrows++;
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
    }
    p = expect_char(p + 1, '}');
    assert_true(*skip_ws(p) == '\0');
    return t;
}

/* ------------------------------------------------------------- fixture */

static char *tmpdir;

static int setup(void **state)
{
    (void)state;
    tmpdir = ts_temp_dir();
    return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ts_remove_dir(tmpdir);
    free(tmpdir);
    return 0;
}

/* Number of entries of tmpdir (files left behind). */
static int dir_entries(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* --------------------------------------------------------------- tests */

/* Grid values as a person writes them, rounded to the grid's precision
 * (and simulated at that value): a log grid from 0.1 to 1000 holds 0.1 and
 * 0.316227766017, a linear one from 0 to 1 holds 0.3. */
static void test_grid_values_rounded(void **state)
{
    (void)state;
    result r = sigode("scan", ABC, "--target", "k1", "--from", "0.1", "--to", "1000", "--points",
                      "9", "--log", "--readout", "A", "--t-end", "1", NULL);
    expect_status(&r, 0, "log grid");
    static const char *const logrows[] = {"\n0.1,", "\n0.316227766017,", "\n1,", "\n3.16227766017,",
                                          "\n31.6227766017,", "\n1000,"};
    for (size_t i = 0; i < sizeof logrows / sizeof logrows[0]; i++)
        if (!strstr(r.out, logrows[i]))
            fail_msg("log grid lacks '%s':\n%s", logrows[i] + 1, r.out);
    /* A(1) = exp(-k1) at the rounded k1 */
    table t = parse_delimited(r.out, ',');
    for (int k = 0; k < t.nrows; k++)
        assert_true(ts_rel(cell(&t, k, 1), exp(-cell(&t, k, 0)), 1e-3) < 1e-5);
    table_free(&t);
    result_free(&r);
    r = sigode("scan", ABC, "--target", "k1", "--from", "0", "--to", "1", "--points", "11",
               "--readout", "A", "--t-end", "1", NULL);
    expect_status(&r, 0, "linear grid");
    assert_non_null(strstr(r.out, "\n0.3,"));
    assert_non_null(strstr(r.out, "\n0.7,"));
    assert_null(strstr(r.out, "0000000"));
    result_free(&r);
}

/* --fit-output: the Hill fit as a table, one row per readout, the same
 * numbers as the prose on standard error; refused without --fit. */
static void test_fit_output(void **state)
{
    (void)state;
    char *path = ts_path(tmpdir, "fit.json");
    result r = sigode("scan", ABC, "--target", "k1", "--from", "0.01", "--to", "100", "--points",
                      "13", "--log", "--readout", "A,C", "--t-end", "2", "--fit", "hill",
                      "--fit-output", path, "--format", "json", NULL);
    expect_status(&r, 0, "--fit-output");
    char *json = ts_read_file(path, NULL);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"ec50\""));
    assert_non_null(strstr(json, "\"readout\""));
    assert_non_null(strstr(json, "\"A\""));
    assert_non_null(strstr(json, "\"C\""));
    free(json);
    result_free(&r);
    remove(path);
    char *csv = ts_path(tmpdir, "fit.csv");
    r = sigode("scan", ABC, "--target", "k1", "--from", "0.01", "--to", "100", "--points", "13",
               "--log", "--readout", "A", "--t-end", "2", "--fit", "hill", "--fit-output", csv,
               NULL);
    expect_status(&r, 0, "--fit-output csv");
    char *text = ts_read_file(csv, NULL);
    assert_non_null(text);
    assert_true(!strncmp(text, "ec50,slope,bottom,top,r2,rmse,decreasing,readout\n", 49));
    double ec50 = strtod(strchr(text, '\n') + 1, NULL);
    const char *prose = strstr(r.err, "IC50 = ");
    assert_non_null(prose);
    assert_true(ts_rel(ec50, strtod(prose + 7, NULL), 0) < 1e-3); /* prose has 4 digits */
    assert_non_null(strstr(text, ",1,A\n")); /* decreasing, readout A */
    free(text);
    remove(csv);
    free(csv);
    result_free(&r);
    r = sigode("scan", ABC, "--target", "k1", "--values", "1,2", "--fit-output", path, NULL);
    expect_status(&r, 2, "--fit-output without --fit");
    assert_non_null(strstr(r.err, "--fit-output needs --fit hill"));
    result_free(&r);
    free(path);
}


static void test_help_and_version(void **state)
{
    (void)state;
    result r = sigode("--help", NULL);
    expect_status(&r, 0, "--help");
    assert_non_null(strstr(r.out, "usage: sigode"));
    for (const char *cmd = "run\0scan\0check\0info\0verify\0"; *cmd; cmd += strlen(cmd) + 1)
        assert_non_null(strstr(r.out, cmd));
    result_free(&r);
    r = sigode("--version", NULL);
    expect_status(&r, 0, "--version");
    assert_string_equal(r.out, "sigode " SIGODE_VERSION "\n");
    result_free(&r);
    /* each command's help, from its option table: standard output, status 0 */
    for (const char *cmd = "run\0scan\0steady\0graph\0check\0info\0verify\0convert\0"; *cmd;
         cmd += strlen(cmd) + 1) {
        char usage[64];
        snprintf(usage, sizeof usage, "usage: sigode %s ", cmd);
        r = sigode(cmd, "--help", NULL);
        expect_status(&r, 0, cmd);
        assert_non_null(strstr(r.out, usage));
        assert_non_null(strstr(r.out, "--help"));
        result_free(&r);
        r = sigode("help", cmd, NULL);
        expect_status(&r, 0, cmd);
        assert_non_null(strstr(r.out, usage));
        result_free(&r);
    }
    r = sigode("run", "-h", NULL);
    expect_status(&r, 0, "run -h");
    assert_non_null(strstr(r.out, "--rtol X"));
    assert_non_null(strstr(r.out, "--select ID,ID,..."));
    result_free(&r);
    r = sigode("scan", "--help", NULL);
    assert_non_null(strstr(r.out, "--target NAME"));
    assert_null(strstr(r.out, "--stats"));
    result_free(&r);
    /* no command: usage on standard error, status 2 */
    r = sigode(NULL);
    expect_status(&r, 2, "no arguments");
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "usage: sigode"));
    result_free(&r);
}

/* Bad usage: status 2, a message on standard error, nothing on standard
 * output. */
static void test_usage_errors(void **state)
{
    (void)state;
    static const struct {
        const char *args[12];
        const char *message;
    } cases[] = {
        {{"frobnicate", ABC}, "unknown command 'frobnicate'\ncommands: run scan"},
        {{"rnu", ABC}, "unknown command 'rnu' (did you mean 'run'?)"},
        {{"help", "sacn"}, "unknown command 'sacn' (did you mean 'scan'?)"},
        {{"run", ABC, "--point", "3"}, "unknown option '--point' (did you mean '--points'?)"},
        {{"run", ABC, "--rtl", "1e-3"}, "unknown option '--rtl' (did you mean '--rtol'?)"},
        {{"run", ABC, "--stats=1"}, "option --stats takes no value"},
        {{"run", ABC, "--target", "k1"}, "option --target does not apply to 'run'"},
        /* every option is checked before the model is even opened */
        {{"scan", SIGODE_SOURCE_DIR "/no/such.cfg", "--values", "1"}, "--target NAME is required"},
        {{"scan", SIGODE_SOURCE_DIR "/no/such.cfg", "--target", "k", "--from", "1"}, "give --values V,V,..."},
        {{"scan", SIGODE_SOURCE_DIR "/no/such.cfg", "--target", "k", "--values", "1", "--fit-output", "f.csv"}, "--fit-output needs --fit hill"},
        {{"scan", SIGODE_SOURCE_DIR "/no/such.cfg", "--target", "k", "--values", "1", "--values2", "1"}, "need --target2"},
        {{"run", SIGODE_SOURCE_DIR "/no/such.cfg", "--event", "1:A"}, "--event expects T:NAME=VALUE"},
        {{"run", SIGODE_SOURCE_DIR "/no/such.cfg", "--output", SIGODE_SOURCE_DIR "/no/such/dir/x.csv"}, "cannot write output"},
        /* ids of the model: the closest one is suggested (not for ids of
         * one or two letters, all one edit apart, unless only case differs) */
        {{"run", ABC, "--select", "A,totl"}, "cannot select 'totl': model 'abc' has no species or assignment with that id (did you mean 'total'?)"},
        {{"run", ABC, "--set", "A_exat=1"}, "(did you mean 'A_exact'?)"},
        {{"run", ABC, "--set", "a=1"}, "cannot set 'a': model 'abc' has no species, parameter or compartment with that id (did you mean 'A'?)"},
        {{"run", ABC, "--scenario", "baseline2"}, "(did you mean 'baseline'?)"},
        {{"run", ABC, "--event", "1:totla=1"}, "(did you mean 'total'?)"},
        {{"scan", ABC, "--target", "kk1", "--values", "1"}, "cannot scan 'kk1': model 'abc' has no species, parameter or compartment with that id (did you mean 'k1'?)"},
        {{"scan", ABC, "--target", "k1", "--values", "1", "--readout", "Totla"}, "(did you mean 'total'?)"},
        {{"run"}, "a MODEL file is expected"},
        {{"run", ABC, "--bogus"}, "unknown option '--bogus'"},
        {{"run", ABC, ABC}, "unexpected argument"},
        {{"run", ABC, "--points"}, "--points expects a value"},
        {{"run", ABC, "--points", "x"}, "--points expects a whole number"},
        {{"run", ABC, "--points", "1"}, "--points expects a whole number >= 2"},
        {{"run", ABC, "--t-end", "abc"}, "--t-end expects a number"},
        {{"run", ABC, "--t-end", "-1"}, "--t-end must be a number after the start time"},
        {{"run", ABC, "--format", "xml"}, "--format expects csv, tsv or json"},
        {{"run", ABC, "--rtol", "0"}, "--rtol expects a tolerance between 0 and 1"},
        {{"run", ABC, "--atol", "2"}, "--atol expects a tolerance between 0 and 1"},
        {{"run", ABC, "--linear-solver", "lu"}, "--linear-solver expects"},
        {{"run", ABC, "--set", "k1"}, "--set expects NAME=VALUE"},
        {{"run", ABC, "--set", "k1=fast"}, "--set expects a number"},
        {{"run", ABC, "--set", "nope=1"}, "cannot set 'nope'"},
        {{"run", ABC, "--set", "total=1"}, "cannot set 'total': it is an assignment"},
        {{"run", ABC, "--set", "A=-1"}, "species 'A' cannot be set to a negative value"},
        {{"run", ABC, "--select", "A,nope"}, "cannot select 'nope'"},
        {{"run", ABC, "--scenario", "nope"}, "has no scenario 'nope' (scenarios: baseline, fast_second_step)"},
        {{"scan", ABC, "--values", "1,2"}, "--target NAME is required"},
        {{"scan", ABC, "--target", "k1"}, "give --values V,V,..."},
        {{"scan", ABC, "--target", "k1", "--values", "1,,2"}, "--values expects numbers"},
        {{"scan", ABC, "--target", "k1", "--values", "1", "--from", "1"}, "not both"},
        {{"scan", ABC, "--target", "k1", "--from", "0", "--to", "1", "--points", "3", "--log"}, "--log needs positive --from and --to"},
        {{"scan", ABC, "--target", "nope", "--values", "1"}, "cannot scan 'nope'"},
        {{"scan", ABC, "--target", "k1", "--values", "1", "--readout", "nope"}, "readout 'nope' is not a species or assignment"},
        {{"scan", ABC, "--target", "k1", "--values", "1", "--t-end", "10", "--at", "50"}, "readout time 50 is outside the run's time span 0..10"},
        {{"check", SIGODE_SOURCE_DIR "/no/such/model.cfg"}, "cannot open model file"},
        {{"info", ABC, "--points", "3"}, "option --points does not apply to 'info'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[16] = {SIGODE_BINARY};
        int n = 1;
        for (int k = 0; cases[i].args[k]; k++)
            argv[n++] = cases[i].args[k];
        argv[n] = NULL;
        result r;
        r.status = ts_run(argv, &r.out, &r.err);
        char what[256];
        snprintf(what, sizeof what, "case %zu (%s ...)", i, cases[i].args[0]);
        expect_status(&r, 2, what);
        if (!strstr(r.err, cases[i].message))
            fail_msg("%s: stderr '%s' lacks '%s'", what, r.err, cases[i].message);
        assert_string_equal(r.out, "");
        result_free(&r);
    }
}

/* A bad model: status 2 and the file:line:col message of the corpus. */
static void test_bad_model(void **state)
{
    (void)state;
    static const char *const commands[] = {"check", "info", "run", "verify"};
    for (size_t i = 0; i < 4; i++) {
        result r = sigode(commands[i],
                          SIGODE_SOURCE_DIR "/tests/unit/bad_models/unknown_rate_name.cfg", NULL);
        expect_status(&r, 2, commands[i]);
        assert_string_equal(r.err, SIGODE_SOURCE_DIR "/tests/unit/bad_models/unknown_rate_name.cfg"
                                   ":4:46: error: in rate: unknown name 'kdeg'\n");
        assert_string_equal(r.out, "");
        result_free(&r);
    }
}

static void test_check_info_verify(void **state)
{
    (void)state;
    result r = sigode("check", ABC, NULL);
    expect_status(&r, 0, "check");
    assert_non_null(strstr(r.err, "ok"));
    assert_string_equal(r.out, "");
    result_free(&r);

    r = sigode("info", ABC, NULL);
    expect_status(&r, 0, "info");
    static const char *const needles[] = {"abc", "species:", "A_to_B", "B -> C", "k2",
                                          "[A] textbook example", "1/s", "baseline",
                                          "mass_conserved"};
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
        if (!strstr(r.out, needles[i]))
            fail_msg("info lacks '%s':\n%s", needles[i], r.out);
#if defined(__x86_64__) && defined(__linux__)
    assert_non_null(strstr(r.out, "instruction program: run as machine code"));
#endif
    result_free(&r);
    /* how the VM runs the program */
    setenv("SIGODE_VM_JIT", "0", 1);
    r = sigode("info", ABC, NULL);
    unsetenv("SIGODE_VM_JIT");
    expect_status(&r, 0, "info");
    assert_non_null(strstr(r.out, "instruction program: interpreted"));
    result_free(&r);

    /* every example's checks pass */
    static const char *const examples[] = {"abc", "binding", "michaelis_menten", "mapk_cascade",
                                           "robertson"};
    for (size_t i = 0; i < 5; i++) {
        char path[512];
        snprintf(path, sizeof path, EXAMPLES "%s.cfg", examples[i]);
        r = sigode("verify", path, NULL);
        expect_status(&r, 0, path);
        assert_non_null(strstr(r.out, " passed, 0 failed"));
        assert_null(strstr(r.out, "FAIL"));
        result_free(&r);
    }

    /* a failing check: status 1, the check marked FAIL with its figures */
    char *model = ts_path(tmpdir, "failing.cfg");
    const char *text =
        "name = \"failing\";\n"
        "species = ( { id = \"A\"; initial = 1.0; } );\n"
        "reactions = ( { id = \"r\"; equation = \"A ->\"; rate = \"A\"; } );\n"
        "scenarios = ( { id = \"s\"; t_end = 1.0; } );\n"
        "checks = ( { id = \"grows\"; scenario = \"s\"; expect = \"final(A) > initial(A)\"; },\n"
        "           { id = \"decays\"; scenario = \"s\"; expect = \"final(A) < initial(A)\"; } );\n";
    assert_int_equal(ts_write_file(model, text, strlen(text)), 0);
    r = sigode("verify", model, NULL);
    expect_status(&r, 1, "verify with a failing check");
    assert_non_null(strstr(r.out, "FAIL  grows"));
    assert_non_null(strstr(r.out, "final(A) = 0.367"));
    assert_non_null(strstr(r.out, "PASS  decays"));
    assert_non_null(strstr(r.out, "1 passed, 1 failed"));
    result_free(&r);
    /* a model without checks has nothing to verify: a usage error */
    text = "name = \"nochecks\";\nspecies = ( { id = \"A\"; initial = 1.0; } );\n";
    assert_int_equal(ts_write_file(model, text, strlen(text)), 0);
    r = sigode("verify", model, NULL);
    expect_status(&r, 2, "verify without checks");
    assert_non_null(strstr(r.err, "has no checks"));
    result_free(&r);
    free(model);
}

/* The CSV of a run holds the very numbers the library computes: the same
 * columns in file order and every value read back bit for bit. */
static void test_run_csv_is_exact(void **state)
{
    (void)state;
    result r = sigode("run", ABC, "--scenario", "baseline", NULL);
    expect_status(&r, 0, "run");
    assert_string_equal(r.err, "");
    table t = parse_delimited(r.out, ',');
    static const char *const header[] = {"time", "A", "B", "C", "total", "A_exact", "B_exact"};
    assert_int_equal(t.ncols, 7);
    for (int c = 0; c < 7; c++)
        assert_string_equal(t.names[c], header[c]);
    assert_int_equal(t.nrows, 1001);

    sg_error err;
    sg_model *m = sg_model_load_file(ABC, &err);
    assert_non_null(m);
    sg_trajectory *traj = ts_run_scenario(m, "baseline", 1e-6, 1e-9); /* the defaults */
    assert_int_equal(sg_trajectory_rows(traj), t.nrows);
    for (int r2 = 0; r2 < t.nrows; r2++) {
        assert_true(cell(&t, r2, 0) == sg_trajectory_time(traj, r2));
        for (int c = 1; c < 7; c++) {
            double lib = sg_trajectory_value(traj, r2, c - 1), cli = cell(&t, r2, c);
            if (memcmp(&lib, &cli, sizeof lib) != 0 && !(lib == 0 && cli == 0))
                fail_msg("row %d %s: CSV %.17g, library %.17g", r2, header[c], cli, lib);
        }
    }
    sg_trajectory_free(traj);
    sg_model_free(m);
    table_free(&t);
    result_free(&r);
}

/* CSV, TSV and JSON carry the same names and numbers. */
static void test_formats_agree(void **state)
{
    (void)state;
    result csv = sigode("run", ROBERTSON, "--scenario", "long", "--points", "9", NULL);
    result tsv = sigode("run", ROBERTSON, "--scenario", "long", "--points", "9", "--format", "tsv", NULL);
    result json = sigode("run", ROBERTSON, "--scenario", "long", "--points", "9", "--format", "json", NULL);
    expect_status(&csv, 0, "csv");
    expect_status(&tsv, 0, "tsv");
    expect_status(&json, 0, "json");
    assert_null(strchr(tsv.out, ','));
    table t[3] = {parse_delimited(csv.out, ','), parse_delimited(tsv.out, '\t'),
                  parse_json(json.out)};
    for (int k = 1; k < 3; k++) {
        assert_int_equal(t[k].ncols, t[0].ncols);
        assert_int_equal(t[k].nrows, 9);
        for (int c = 0; c < t[0].ncols; c++)
            assert_string_equal(t[k].names[c], t[0].names[c]);
        assert_memory_equal(t[k].data, t[0].data, sizeof(double) * 9 * (size_t)t[0].ncols);
    }
    /* tiny numbers (y2 ~ 1e-13 at 4e10) survive the round trip */
    assert_true(cell(&t[0], 8, find(&t[0], "y2")) > 0);
    assert_true(cell(&t[0], 8, 0) == 4e10);
    for (int k = 0; k < 3; k++)
        table_free(&t[k]);
    result_free(&csv);
    result_free(&tsv);
    result_free(&json);
}

static void test_run_options(void **state)
{
    (void)state;
    /* --select keeps the order asked for */
    result r = sigode("run", ABC, "--select", "C,A", "--points", "5", "--t-end", "2", NULL);
    expect_status(&r, 0, "--select");
    table t = parse_delimited(r.out, ',');
    assert_int_equal(t.ncols, 3);
    assert_string_equal(t.names[1], "C");
    assert_string_equal(t.names[2], "A");
    /* --points 5 and --t-end 2: times 0, 0.5, 1, 1.5, 2 */
    assert_int_equal(t.nrows, 5);
    for (int k = 0; k < 5; k++)
        assert_true(cell(&t, k, 0) == 0.5 * k);
    table_free(&t);
    result_free(&r);

    /* --set, repeatable: k1 = 2 and A(0) = 3 give A = 3 exp(-2 t) */
    r = sigode("run", ABC, "--set", "k1=2", "--set=A=3", "--select", "A", "--points", "11",
               "--rtol", "1e-10", "--atol", "1e-14", NULL);
    expect_status(&r, 0, "--set");
    t = parse_delimited(r.out, ',');
    assert_int_equal(t.nrows, 11);
    for (int k = 0; k < t.nrows; k++)
        assert_true(ts_rel(cell(&t, k, 1), 3.0 * exp(-2.0 * cell(&t, k, 0)), 1e-6) < 1e-7);
    table_free(&t);
    result_free(&r);

    /* --scenario: the scenario's settings apply (k2 = 5) */
    r = sigode("run", ABC, "--scenario", "fast_second_step", "--select", "B", NULL);
    expect_status(&r, 0, "--scenario");
    t = parse_delimited(r.out, ',');
    double bmax = 0;
    for (int k = 0; k < t.nrows; k++)
        bmax = fmax(bmax, cell(&t, k, 1));
    assert_true(bmax < 0.14 && bmax > 0.13);
    table_free(&t);
    result_free(&r);
}

/* Tighter --rtol/--atol give a smaller error against the exact solution. */
static void test_tolerances(void **state)
{
    (void)state;
    double worst[2];
    static const char *const tol[2][2] = {{"1e-3", "1e-6"}, {"1e-10", "1e-14"}};
    for (int k = 0; k < 2; k++) {
        result r = sigode("run", ABC, "--scenario", "baseline", "--select", "A,B", "--rtol",
                          tol[k][0], "--atol", tol[k][1], NULL);
        expect_status(&r, 0, "tolerances");
        table t = parse_delimited(r.out, ',');
        worst[k] = 0;
        for (int i = 0; i < t.nrows; i++) {
            double time = cell(&t, i, 0);
            double b = 2.0 * (exp(-0.5 * time) - exp(-time));
            worst[k] = fmax(worst[k], fabs(cell(&t, i, 1) - exp(-time)));
            worst[k] = fmax(worst[k], fabs(cell(&t, i, 2) - b));
        }
        table_free(&t);
        result_free(&r);
    }
    assert_true(worst[1] < 1e-8);
    assert_true(worst[0] > 10 * worst[1]);
}

static void test_linear_solvers(void **state)
{
    (void)state;
    result d = sigode("run", ROBERTSON, "--scenario", "long", "--linear-solver", "dense",
                      "--stats", "--rtol", "1e-8", "--atol", "1e-14", NULL);
    result k = sigode("run", ROBERTSON, "--scenario", "long", "--linear-solver", "klu",
                      "--stats", "--rtol", "1e-8", "--atol", "1e-14", NULL);
    expect_status(&d, 0, "dense");
    expect_status(&k, 0, "klu");
    assert_non_null(strstr(d.err, "solver: dense"));
    assert_non_null(strstr(k.err, "solver: KLU"));
    table td = parse_delimited(d.out, ','), tk = parse_delimited(k.out, ',');
    assert_int_equal(td.nrows, tk.nrows);
    for (int r = 0; r < td.nrows; r++)
        for (int c = 0; c < td.ncols; c++)
            if (ts_rel(cell(&tk, r, c), cell(&td, r, c), 1e-20) > 1e-6)
                fail_msg("row %d %s: dense %.10g, KLU %.10g", r, td.names[c], cell(&td, r, c),
                         cell(&tk, r, c));
    table_free(&td);
    table_free(&tk);
    result_free(&d);
    result_free(&k);
}

static int same_file(const char *path, const char *text)
{
    size_t len;
    char *got = ts_read_file(path, &len);
    int same = got && len == strlen(text) && memcmp(got, text, len) == 0;
    free(got);
    return same;
}

/* --output writes the file (nothing on standard output, no temporary file
 * left); a failing run keeps the previous good file. */
static void test_output_file_and_solver_failure(void **state)
{
    (void)state;
    char *out = ts_path(tmpdir, "result.csv");
    result plain = sigode("run", ROBERTSON, "--scenario", "long", NULL);
    expect_status(&plain, 0, "plain run");
    int before = dir_entries();
    result r = sigode("run", ROBERTSON, "--scenario", "long", "--output", out, NULL);
    expect_status(&r, 0, "--output");
    assert_string_equal(r.out, "");
    assert_true(same_file(out, plain.out));
    assert_int_equal(dir_entries(), before + 1);
    result_free(&r);

    /* the solver fails (one step allowed): status 1, the message names the
     * time and the CVODE flag, and result.csv is still the good file */
    r = sigode("run", ROBERTSON, "--scenario", "long", "--max-steps", "1", "--output", out, NULL);
    expect_status(&r, 1, "--max-steps 1 with --output");
    assert_non_null(strstr(r.err, "CV_TOO_MUCH_WORK"));
    assert_non_null(strstr(r.err, "at t = "));
    assert_true(same_file(out, plain.out));
    result_free(&r);

    /* without --output the rows computed before the failure are written */
    r = sigode("run", ROBERTSON, "--scenario", "long", "--max-steps", "1", NULL);
    expect_status(&r, 1, "--max-steps 1");
    assert_non_null(strstr(r.err, "CV_TOO_MUCH_WORK"));
    table t = parse_delimited(r.out, ',');
    assert_true(t.nrows >= 1 && t.nrows < 101);
    assert_true(cell(&t, 0, 0) == 0.0);
    assert_true(cell(&t, 0, find(&t, "y1")) == 1.0);
    table_free(&t);
    result_free(&r);

    /* bad usage does not touch the file either */
    r = sigode("run", ROBERTSON, "--set", "nope=1", "--output", out, NULL);
    expect_status(&r, 2, "bad --set with --output");
    assert_true(same_file(out, plain.out));
    result_free(&r);

    /* a directory that does not exist: an I/O error, status 2 */
    char *missing = ts_path(tmpdir, "no/such/dir/out.csv");
    r = sigode("run", ABC, "--output", missing, NULL);
    expect_status(&r, 2, "--output into a missing directory");
    assert_non_null(strstr(r.err, "cannot write output"));
    result_free(&r);
    free(missing);

    /* json to a file reads back like json to standard output */
    r = sigode("run", ABC, "--points", "3", "--format", "json", "--output", out, NULL);
    expect_status(&r, 0, "json --output");
    result j = sigode("run", ABC, "--points", "3", "--format", "json", NULL);
    assert_true(same_file(out, j.out));
    result_free(&j);
    result_free(&r);
    result_free(&plain);
    free(out);
}

static void test_scan(void **state)
{
    (void)state;
    /* --values: one row per value; A at the end time 2 is exp(-2 k1) */
    result r = sigode("scan", ABC, "--target", "k1", "--values", "0.5,1,2", "--readout", "A,C",
                      "--t-end", "2", "--rtol", "1e-10", "--atol", "1e-14", NULL);
    expect_status(&r, 0, "scan --values");
    table t = parse_delimited(r.out, ',');
    assert_int_equal(t.ncols, 3);
    assert_string_equal(t.names[0], "k1");
    assert_string_equal(t.names[1], "A");
    assert_string_equal(t.names[2], "C");
    assert_int_equal(t.nrows, 3);
    static const double values[] = {0.5, 1.0, 2.0};
    for (int k = 0; k < 3; k++) {
        assert_true(cell(&t, k, 0) == values[k]);
        assert_true(ts_rel(cell(&t, k, 1), exp(-2.0 * values[k]), 1e-12) < 1e-7);
    }
    table_free(&t);
    result_free(&r);

    /* --from --to --points --log: geometric spacing, exact end points */
    r = sigode("scan", ABC, "--target", "k1", "--from", "0.01", "--to", "100", "--points", "5",
               "--log", "--readout", "A", NULL);
    expect_status(&r, 0, "scan --log");
    t = parse_delimited(r.out, ',');
    static const double logv[] = {0.01, 0.1, 1.0, 10.0, 100.0};
    assert_int_equal(t.nrows, 5);
    for (int k = 0; k < 5; k++)
        assert_true(ts_rel(cell(&t, k, 0), logv[k], 0) < 1e-14);
    assert_true(cell(&t, 0, 0) == 0.01 && cell(&t, 4, 0) == 100.0);
    table_free(&t);
    result_free(&r);

    /* linear spacing */
    r = sigode("scan", ABC, "--target", "A", "--from", "0", "--to", "1", "--points", "3",
               "--readout", "total", NULL);
    expect_status(&r, 0, "scan linear");
    t = parse_delimited(r.out, ',');
    assert_int_equal(t.nrows, 3);
    assert_true(cell(&t, 0, 0) == 0.0 && cell(&t, 1, 0) == 0.5 && cell(&t, 2, 0) == 1.0);
    /* scanning the initial value of A: the total is what was set */
    for (int k = 0; k < 3; k++)
        assert_true(fabs(cell(&t, k, 1) - cell(&t, k, 0)) < 1e-9);
    table_free(&t);
    result_free(&r);

    /* --at with several times (a list, or repeated): one column per time */
    for (int repeated = 0; repeated <= 1; repeated++) {
        r = repeated ? sigode("scan", ABC, "--target", "k1", "--values", "1,3", "--readout",
                              "A", "--at", "1", "--at", "2.5", "--format", "json", "--rtol", "1e-10",
                              "--atol", "1e-14", NULL)
                     : sigode("scan", ABC, "--target", "k1", "--values", "1,3", "--readout",
                              "A", "--at", "1,2.5", "--format", "json", "--rtol", "1e-10",
                              "--atol", "1e-14", NULL);
        expect_status(&r, 0, "scan --at");
        t = parse_json(r.out);
        assert_int_equal(t.ncols, 3);
        assert_string_equal(t.names[1], "A@1");
        assert_string_equal(t.names[2], "A@2.5");
        for (int k = 0; k < 2; k++) {
            double k1 = cell(&t, k, 0);
            assert_true(ts_rel(cell(&t, k, 1), exp(-k1), 1e-6) < 1e-7);
            assert_true(ts_rel(cell(&t, k, 2), exp(-2.5 * k1), 1e-6) < 1e-7);
        }
        table_free(&t);
        result_free(&r);
    }

    /* a scenario with a scan runs its scan under `run` */
    r = sigode("run", BINDING, "--scenario", "titration", NULL);
    expect_status(&r, 0, "run of a scan scenario");
    t = parse_delimited(r.out, ',');
    assert_int_equal(t.ncols, 3);
    assert_string_equal(t.names[0], "A");
    assert_string_equal(t.names[1], "AB");
    assert_string_equal(t.names[2], "fraction_bound");
    assert_int_equal(t.nrows, 41);
    assert_true(cell(&t, 0, 0) == 0.1 && cell(&t, 40, 0) == 10000.0);
    table_free(&t);
    result_free(&r);

    /* a scan whose points fail: status 1, the table still complete */
    r = sigode("scan", ROBERTSON, "--target", "k1", "--values", "0.04,0.4", "--readout", "y1",
               "--scenario", "long", "--max-steps", "1", NULL);
    expect_status(&r, 1, "failing scan");
    assert_non_null(strstr(r.err, "2 of 2 scan points failed"));
    /* each row says why in a last text column, "status"; readouts are nan */
    const char *head = "k1,y1,status\n0.04,nan,";
    assert_true(strncmp(r.out, head, strlen(head)) == 0);
    assert_non_null(strstr(r.out, "\n0.4,nan,"));
    assert_non_null(strstr(strchr(r.out, '\n'), "CV_TOO_MUCH_WORK"));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_bad_model),
        cmocka_unit_test(test_check_info_verify),
        cmocka_unit_test(test_run_csv_is_exact),
        cmocka_unit_test(test_formats_agree),
        cmocka_unit_test(test_run_options),
        cmocka_unit_test(test_tolerances),
        cmocka_unit_test(test_linear_solvers),
        cmocka_unit_test(test_output_file_and_solver_failure),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_grid_values_rounded),
        cmocka_unit_test(test_fit_output),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

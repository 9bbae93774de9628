/*
 * Hostile input at sigode's boundaries (issue 12): strings from a model,
 * an SBML file or a file name that leave sigode for gnuplot or the
 * terminal are inert; output paths that are not regular files (FIFO,
 * device, symlink) are written the documented way; bad option values are
 * refused before any work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

#define ABC SIGODE_SOURCE_DIR "/models/examples/abc.cfg"

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

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* Whether text holds a byte a terminal or gnuplot would act on: C0 other
 * than the line end, DEL, or C1 (U+0080..U+009F in UTF-8). */
static int has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
            return 1;
    return 0;
}

/* ------------------------------------------------------ model strings */

static const char MODEL_HEAD[] = "name = \"m\";\n";
static const char MODEL_TAIL[] =
    "species = ( { id = \"A\"; initial = 1.0; } );\n"
    "parameters = ( { id = \"k\"; value = 1.0; } );\n"
    "reactions = ( { id = \"r\"; equation = \"A ->\"; rate = \"k * A\"; } );\n";

/* Loads MODEL_HEAD + line + MODEL_TAIL; expects a refusal at line 2 and
 * the given column, with a message naming the character. */
static void expect_refused(const char *line, int col, const char *character)
{
    char text[1024];
    snprintf(text, sizeof text, "%s%s\n%s", MODEL_HEAD, line, MODEL_TAIL);
    sg_error err;
    sg_model *m = sg_model_load_buffer(text, strlen(text), "x.cfg", &err);
    if (m) {
        sg_model_free(m);
        fail_msg("accepted: %s", line);
    }
    char msg[1200];
    sg_error_format(&err, msg, sizeof msg);
    char want[200];
    snprintf(want, sizeof want, "x.cfg:2:%d: error: control character %s", col, character);
    if (strncmp(msg, want, strlen(want)) != 0)
        fail_msg("for %s\nexpected: %s...\ngot:      %s", line, want, msg);
    assert_int_equal(sg_status_exit_code(err.status), 2);
}

/* A line break in a unit reached gnuplot's script as a new command; an
 * ESC in a description reached the terminal. Both are refused, with the
 * place of the character. */
static void test_loader_refuses_control_characters(void **state)
{
    (void)state;
    expect_refused("conc_unit = \"mM\\nsystem \\\"touch pwned\\\"\";", 16, "0x0a");
    expect_refused("description = \"ab\x1b]0;evil\x07\";", 18, "0x1b");
    expect_refused("time_unit = \"s\\x1b[2J\";", 15, "0x1b");
    expect_refused("time_unit = \"s\\r\";", 15, "0x0d");
    expect_refused("description = \"a\xc2\x9b" "31m\";", 17, "0x9b"); /* C1 CSI */
    expect_refused("description = \"a\\x9b\";", 17, "0x9b");
    expect_refused("description = \"tab\there\";", 19, "0x09");
    expect_refused("description = \"two\nlines\";", 19, "0x0a");
    expect_refused("name2 = \"a\x7f\";", 11, "0x7f");
    /* a rate law may span lines (white space in an expression) */
    const char *multi = "name = \"m\";\nspecies = ( { id = \"A\"; initial = 1.0; } );\n"
                        "reactions = ( { id = \"r\"; equation = \"A ->\";\n"
                        "  rate = \"2 *\n\tA\"; } );\n";
    sg_model *m = ts_load_text(multi);
    sg_model_free(m);
    /* UTF-8 text is fine */
    char text[512];
    snprintf(text, sizeof text, "%sconc_unit = \"\xc2\xb5M\";\n%s", MODEL_HEAD, MODEL_TAIL);
    m = ts_load_text(text);
    assert_string_equal(sg_model_conc_unit(m), "\xc2\xb5M");
    sg_model_free(m);
}

/* ------------------------------------------------------------ gnuplot */

static int have_gnuplot(void)
{
    return access("/usr/bin/gnuplot", X_OK) == 0 || system("command -v gnuplot >/dev/null") == 0;
}

/* Every label of a plot (title, axes, column names) carries a gnuplot
 * command after a line break: the plot is drawn and no command ran. */
static void test_plot_labels_inert(void **state)
{
    fixture *f = *state;
    if (!have_gnuplot())
        skip();
    char *marker = ts_path(f->dir, "pwned");
    char evil[512];
    snprintf(evil, sizeof evil, "x'\nsystem \"touch %s\"\n#\r\x1b", marker);
    const char *names[] = {"time", evil};
    sg_error err;
    sg_table *t = sg_table_create(2, names, &err);
    assert_non_null(t);
    for (int r = 0; r < 5; r++) {
        double row[2] = {r, r * r};
        assert_int_equal(sg_table_add_row(t, row, &err), SG_OK);
    }
    char *png = ts_path(f->dir, "p.png");
    int columns[] = {1};
    for (int panels = 0; panels < 2; panels++) {
        sg_plot_spec spec = {.path = png, .title = evil, .xlabel = evil, .ylabel = evil,
                             .table = t, .columns = columns, .ncolumns = 1,
                             .markers = panels};
        sg_status st = sg_plot_write(&spec, &err);
        if (st != SG_OK) {
            char msg[1200];
            sg_error_format(&err, msg, sizeof msg);
            fail_msg("%s", msg);
        }
        assert_true(exists(png));
        assert_false(exists(marker));
    }
    /* a file name with a line break is refused, not mangled */
    char *bad = ts_path(f->dir, "a\nb.png");
    sg_plot_spec spec = {.path = bad, .table = t, .columns = columns, .ncolumns = 1};
    assert_int_equal(sg_plot_write(&spec, &err), SG_ERR_USAGE);
    assert_false(exists(bad));
    free(bad);
    sg_table_free(t);
    free(png);
    free(marker);
}

/* ----------------------------------------------------------- terminal */

/* A file name is text from strangers too: `sigode info` and error
 * messages print it without its escape sequences. */
static void test_terminal_output_inert(void **state)
{
    fixture *f = *state;
    size_t n = 0;
    char *text = ts_read_file(ABC, &n);
    assert_non_null(text);
    char *path = ts_path(f->dir, "m\x1b]0;owned\x07\xc2\x9b" "2J.cfg");
    assert_int_equal(ts_write_file(path, text, n), 0);
    const char *info[] = {SIGODE_BINARY, "info", path, NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(ts_run(info, &out, &err), 0);
    assert_non_null(strstr(out, "file "));
    assert_false(has_control(out));
    assert_false(has_control(err));
    free(out);
    free(err);
    /* an error message naming the file */
    assert_int_equal(ts_write_file(path, "name = ;\n", 9), 0);
    const char *check[] = {SIGODE_BINARY, "check", path, NULL};
    assert_int_equal(ts_run(check, &out, &err), 2);
    assert_non_null(strstr(err, "error"));
    assert_false(has_control(err));
    free(out);
    free(err);
    free(path);
    free(text);
}

/* The command line is text from strangers as well: an unknown command, an
 * unknown option, a bad option value and an unknown id are quoted back in
 * the message without their escape sequences (the usage errors printed
 * them raw before). */
static void test_command_line_words_inert(void **state)
{
    (void)state;
    const char *cases[][6] = {
        {SIGODE_BINARY, "ru\x1b[2Jn", ABC, NULL},
        {SIGODE_BINARY, "help", "x\x1b]0;owned\x07", NULL},
        {SIGODE_BINARY, "run", ABC, "--fo\x1b[2J", NULL},
        {SIGODE_BINARY, "run", ABC, "--t-end=1\x1b[2J", NULL},
        {SIGODE_BINARY, "run", ABC, "--rtol=\xc2\x9b" "2J", NULL},
        {SIGODE_BINARY, "run", ABC, "--format=\x1b[2J", NULL},
        {SIGODE_BINARY, "run", ABC, "--select", "A\x1b[31m", NULL},
        {SIGODE_BINARY, "ensemble", ABC, "--samples=x\x1b[2J", NULL},
        {SIGODE_BINARY, "gsa", ABC, "--quantiles=0.5\x1b[2J", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL, *err = NULL;
        assert_int_equal(ts_run(cases[i], &out, &err), 2);
        assert_non_null(strstr(err, "sigode") ? err : strstr(err, "error"));
        if (has_control(err))
            fail_msg("case %zu: control characters reach the terminal: %s", i, err);
        free(out);
        free(err);
    }
}

/* SBML names may hold line breaks (&#10;) and C1 characters (&#x9B;, valid
 * XML 1.0): the importer turns them into spaces, the model loads and
 * `sigode info` shows no control character. */
static void test_sbml_strings_sanitised(void **state)
{
    fixture *f = *state;
    static const char sbml[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<sbml xmlns=\"http://www.sbml.org/sbml/level3/version2/core\" level=\"3\" "
        "version=\"2\">\n<model id=\"m\" name=\"a&#10;system &quot;touch x&quot;&#13;&#9;"
        "&#x9B;2J&#x7F;b\">\n"
        "<listOfCompartments><compartment id=\"C\" size=\"1\" constant=\"true\"/>"
        "</listOfCompartments>\n"
        "<listOfParameters><parameter id=\"k\" name=\"rate&#10;constant\" value=\"1\" "
        "constant=\"true\"/></listOfParameters>\n"
        "</model>\n</sbml>\n";
    char *path = ts_path(f->dir, "m.xml");
    assert_int_equal(ts_write_file(path, sbml, strlen(sbml)), 0);
    sg_error err;
    sg_model *m = sg_model_load_sbml(path, &err);
    if (!m) {
        char msg[1200];
        sg_error_format(&err, msg, sizeof msg);
        fail_msg("%s", msg);
    }
    /* the SBML model name becomes the description */
    assert_false(has_control(sg_model_description(m)));
    assert_null(strchr(sg_model_description(m), '\n'));
    assert_non_null(strstr(sg_model_description(m), "system"));
    sg_model_free(m);
    const char *info[] = {SIGODE_BINARY, "info", path, NULL};
    char *out = NULL, *errtext = NULL;
    assert_int_equal(ts_run(info, &out, &errtext), 0);
    assert_false(has_control(out));
    free(out);
    free(errtext);
    free(path);
}


/* ------------------------------------------------- special output paths */

/* Runs `sigode run ABC --output path [--plot plot]`; returns the exit
 * status, standard output in *out (caller frees) when out is given. */
static int run_to(const char *path, const char *plot, char **out)
{
    const char *argv[] = {SIGODE_BINARY, "run", ABC, "--output", path,
                          plot ? "--plot" : NULL, plot, NULL};
    char *o = NULL, *e = NULL;
    int status = ts_run(argv, &o, &e);
    if (out)
        *out = o;
    else
        free(o);
    free(e);
    return status;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; text && *text; text++)
        n += *text == '\n';
    return n;
}

/* Whether a folder holds a writer's temporary (NAME.tmp.XXXXXX). */
static int has_temporary(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q '\\.tmp\\.'", dir);
    return system(cmd) == 0;
}

/* The abc run has 101 rows and a header. */
enum { ABC_LINES = 102 };

static void test_output_symlinks(void **state)
{
    fixture *f = *state;
    char *sub = ts_path(f->dir, "sub"), *target = ts_path(sub, "t.csv");
    char *link = ts_path(f->dir, "link.csv"), *text = NULL;
    struct stat sb;
    assert_int_equal(mkdir(sub, 0755), 0);
    /* a symlink to a file in another folder: the target is replaced, the
     * link stays a link, no temporary is left in either folder */
    assert_int_equal(ts_write_file(target, "old\n", 4), 0);
    assert_int_equal(symlink("sub/t.csv", link), 0);
    assert_int_equal(run_to(link, NULL, NULL), 0);
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    text = ts_read_file(target, NULL);
    assert_int_equal(count_lines(text), ABC_LINES);
    free(text);
    assert_false(has_temporary(f->dir));
    assert_false(has_temporary(sub));
    /* a dangling symlink: its target is created, the link stays */
    unlink(target);
    assert_int_equal(run_to(link, NULL, NULL), 0);
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(lstat(target, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    /* a symlink to a folder: refused, nothing written */
    unlink(link);
    assert_int_equal(symlink("sub", link), 0);
    assert_int_equal(run_to(link, NULL, NULL), 2);
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    /* a symlink into a missing folder: refused */
    unlink(link);
    assert_int_equal(symlink("none/t.csv", link), 0);
    assert_int_equal(run_to(link, NULL, NULL), 2);
    /* a plot through a symlink: the target gets the image */
    if (have_gnuplot()) {
        char *png = ts_path(sub, "p.png"), *plink = ts_path(f->dir, "p.png");
        assert_int_equal(ts_write_file(png, "old", 3), 0);
        assert_int_equal(symlink("sub/p.png", plink), 0);
        char *table = ts_path(f->dir, "t.csv");
        assert_int_equal(run_to(table, plink, NULL), 0);
        free(table);
        assert_int_equal(lstat(plink, &sb), 0);
        assert_true(S_ISLNK(sb.st_mode));
        assert_int_equal(stat(png, &sb), 0);
        assert_true(sb.st_size > 1000);
        free(png);
        free(plink);
    }
    free(sub);
    free(target);
    free(link);
}

/* A FIFO, a character device and /dev/stdout are written directly: the
 * node stays what it was and the reader gets the whole table. */
static void test_output_special_files(void **state)
{
    fixture *f = *state;
    struct stat before, after;
    /* a character device stays one (as root, a rename over /dev/null
     * replaced the node): a private null device when the test may make
     * one (root), so a failure here cannot break the machine's */
    char *null = ts_path(f->dir, "null");
    if (mknod(null, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        free(null);
        null = strdup("/dev/null");
    }
    assert_int_equal(stat(null, &before), 0);
    assert_int_equal(run_to(null, NULL, NULL), 0);
    assert_int_equal(lstat(null, &after), 0);
    assert_true(S_ISCHR(after.st_mode));
    assert_true(before.st_rdev == after.st_rdev);
    free(null);
    /* /dev/stdout (here a file the test reads back) */
    char *out = NULL;
    assert_int_equal(run_to("/dev/stdout", NULL, &out), 0);
    assert_int_equal(count_lines(out), ABC_LINES);
    free(out);
    /* a FIFO with a reader */
    char *fifo = ts_path(f->dir, "fifo"), *copy = ts_path(f->dir, "copy.csv");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    fflush(NULL);
    pid_t reader = fork();
    assert_true(reader >= 0);
    if (reader == 0) {
        int in = open(fifo, O_RDONLY), to = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        char buf[4096];
        ssize_t n;
        while (in >= 0 && to >= 0 && (n = read(in, buf, sizeof buf)) > 0)
            if (write(to, buf, (size_t)n) != n)
                _exit(1);
        _exit(0);
    }
    assert_int_equal(run_to(fifo, NULL, NULL), 0);
    int status;
    assert_int_equal(waitpid(reader, &status, 0), reader);
    assert_int_equal(lstat(fifo, &after), 0);
    assert_true(S_ISFIFO(after.st_mode));
    char *text = ts_read_file(copy, NULL);
    assert_int_equal(count_lines(text), ABC_LINES);
    free(text);
    assert_false(has_temporary(f->dir));
    /* a folder is refused before the run */
    assert_int_equal(run_to(f->dir, NULL, NULL), 2);
    free(fifo);
    free(copy);
}

/* ------------------------------------------------- options before work */

static void expect_refusal(const char *const *argv, const char *message)
{
    char *out = NULL, *err = NULL;
    int status = ts_run(argv, &out, &err);
    if (status != 2 || !strstr(err, message))
        fail_msg("%s %s: exit %d, stderr: %s (expected '%s')", argv[1], argv[3], status, err,
                 message);
    /* refused before any work: no table was written */
    assert_string_equal(out, "");
    free(out);
    free(err);
}

/* A span CVODE cannot integrate, tolerances it would divide into infinity
 * and numbers below the smallest double are refused with their reason,
 * and --plot with a format sigode cannot draw is refused before the scan
 * (it was refused after the whole scan had run). Subnormal numbers are
 * numbers. */
static void test_bad_option_values(void **state)
{
    fixture *f = *state;
    const char *t_end[] = {SIGODE_BINARY, "run", ABC, "--t-end", "1e-300", NULL};
    expect_refusal(t_end, "--t-end 1e-300 is too close to the start time 0");
    const char *atol[] = {SIGODE_BINARY, "run", ABC, "--atol", "1e-320", NULL};
    expect_refusal(atol, "--atol must be at least 2.22507e-308, the smallest normal double");
    const char *under[] = {SIGODE_BINARY, "run", ABC, "--rtol", "1e-400", NULL};
    expect_refusal(under, "--rtol: '1e-400' is below the smallest double");
    const char *pdf[] = {SIGODE_BINARY, "scan", ABC, "--target", "k1", "--values", "1,2",
                         "--plot", "out.pdf", NULL};
    expect_refusal(pdf, "--plot expects a file ending in .png or .svg, got 'out.pdf'");
    /* the smallest span that works, and a subnormal --set */
    const char *tiny[] = {SIGODE_BINARY, "run", ABC, "--t-end", "1e-150", "--set", "k1=1e-310",
                          NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(ts_run(tiny, &out, &err), 0);
    free(out);
    free(err);
    /* a scenario in the file: refused with its place */
    char text[512];
    snprintf(text, sizeof text, "%sscenarios = ( { id = \"s\"; t_end = 1e-300; } );\n%s",
             MODEL_HEAD, MODEL_TAIL);
    sg_error e;
    sg_model *m = sg_model_load_buffer(text, strlen(text), "x.cfg", &e);
    assert_null(m);
    assert_int_equal(e.line, 2);
    assert_true(e.col > 0);
    assert_non_null(strstr(e.message, "too close to t_start"));
    (void)f;
}

/* Past the file size limit (ulimit -f) the write fails: a message, exit
 * status 2, the previous output intact and no temporary left (SIGXFSZ
 * used to kill sigode with its temporary half written). */
static void test_file_size_limit(void **state)
{
    fixture *f = *state;
    char *out_path = ts_path(f->dir, "out.csv");
    assert_int_equal(ts_write_file(out_path, "good\n", 5), 0);
    const char *argv[] = {SIGODE_BINARY, "run", ABC, "--points", "100000", "--output", out_path,
                          NULL};
    struct rlimit old, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 4096;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    char *out = NULL, *err = NULL;
    int status = ts_run(argv, &out, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    if (status != 2 || !strstr(err, "File too large"))
        fail_msg("exit %d, stderr: %s", status, err);
    char *text = ts_read_file(out_path, NULL);
    assert_string_equal(text, "good\n");
    assert_false(has_temporary(f->dir));
    free(text);
    free(out);
    free(err);
    free(out_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loader_refuses_control_characters),
        cmocka_unit_test_setup_teardown(test_plot_labels_inert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_output_inert, setup, teardown),
        cmocka_unit_test(test_command_line_words_inert),
        cmocka_unit_test_setup_teardown(test_sbml_strings_sanitised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_special_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_option_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_size_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

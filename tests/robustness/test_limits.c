/*
 * Documented resource limits (models/README.md, "Limits"): each is
 * accepted at its value and refused one past it with a clear error, never
 * by exhausting the stack, memory or time. The limits are the constants
 * SG_EXPR_MAX_DEPTH, SG_EXPR_MAX_HEIGHT, SG_EXPR_MAX_INLINED (expr/expr.h)
 * and SG_MAX_* (model/model.h).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "expr/expr.h"
#include "model/model.h"
#include "sigode.h"

/* A growing string. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static void repeat(text *t, const char *piece, long n)
{
    for (long i = 0; i < n; i++)
        put(t, "%s", piece);
}

/* A model with one species A, parameter k and the rate law
 * before + open x n + middle + close x n. */
static text nested_model(const char *before, const char *open, long n, const char *middle,
                         const char *close)
{
    text t = {0};
    put(&t, "name = \"limits\";\nparameters = ( { id = \"k\"; value = 0.5; } );\n"
            "species = ( { id = \"A\"; initial = 1.0; } );\n"
            "reactions = ( { id = \"r\"; equation = \"A ->\"; rate = \"%s", before);
    repeat(&t, open, n);
    put(&t, "%s", middle);
    repeat(&t, close, n);
    put(&t, "\"; } );\n");
    return t;
}

/* The same with before + piece x n + after. */
static text rate_model(const char *before, const char *piece, long n, const char *after)
{
    return nested_model(before, piece, n, after, "");
}

/* Loads text; returns the status and the formatted error in msg. */
static sg_status load(const text *t, char *msg, size_t size)
{
    sg_error err;
    sg_model *m = sg_model_load_buffer(t->s, t->len, "limits.cfg", &err);
    if (m) {
        sg_model_free(m);
        snprintf(msg, size, "ok");
        return SG_OK;
    }
    sg_error_format(&err, msg, size);
    return err.status;
}

static void expect_ok(text t)
{
    char msg[1200];
    sg_status st = load(&t, msg, sizeof msg);
    if (st != SG_OK)
        fail_msg("expected the model to load, got: %s", msg);
    free(t.s);
}

static void expect_error(text t, sg_status status, const char *message)
{
    char msg[1200];
    sg_status st = load(&t, msg, sizeof msg);
    if (st != status || !strstr(msg, message))
        fail_msg("expected status %d and '%s', got status %d: %s", (int)status, message,
                 (int)st, msg);
    free(t.s);
}

/* SG_EXPR_MAX_DEPTH levels, the expression itself being the first: 199
 * parentheses, unary operators, calls or powers inside it. */
static void test_nesting_depth(void **state)
{
    (void)state;
    const long max = SG_EXPR_MAX_DEPTH - 1;
    char limit[64];
    snprintf(limit, sizeof limit, "nested too deeply (limit %d)", SG_EXPR_MAX_DEPTH);
    /* parentheses */
    expect_ok(nested_model("", "(", max, "A", ")"));
    expect_error(nested_model("", "(", max + 1, "A", ")"), SG_ERR_MODEL, limit);
    /* unary operators */
    expect_ok(rate_model("", "-", max, "A"));
    expect_error(rate_model("", "-", max + 1, "A"), SG_ERR_MODEL, limit);
    /* calls */
    expect_ok(nested_model("", "exp(", max, "k", ")"));
    expect_error(nested_model("", "exp(", max + 1, "k", ")"), SG_ERR_MODEL,
                 limit);
    /* right-associative powers nest too */
    expect_ok(rate_model("A", "^A", max, ""));
    expect_error(rate_model("A", "^A", max + 1, ""), SG_ERR_MODEL, limit);
    /* far past the limit: still an error, not a stack overflow */
    expect_error(nested_model("", "(", 1000000, "A", ")"), SG_ERR_MODEL, limit);
}

static void test_expression_height(void **state)
{
    (void)state;
    /* a difference of n terms is n - 1 nested operations */
    expect_ok(rate_model("A", " - A", SG_EXPR_MAX_HEIGHT, ""));
    expect_error(rate_model("A", " - A", SG_EXPR_MAX_HEIGHT + 1, ""), SG_ERR_MODEL,
                 "expression too long: more than 10000 nested operations");
    /* sums and products are associative: a chain of any length loads, as a
     * balanced tree past 1024 terms */
    expect_ok(rate_model("A", " + A", 100000, ""));
    /* the tallest trees still differentiate and compile (products give the
     * longest derivatives; every later stage walks the tree recursively) */
    expect_ok(rate_model("k*A", " * A", SG_EXPR_MAX_HEIGHT - 1, ""));
    expect_ok(rate_model("A", " / (k + A)", SG_EXPR_MAX_HEIGHT / 2, ""));
    expect_error(rate_model("A", " / A", 1000000, ""), SG_ERR_MODEL, "expression too long");
}

static void test_identifier_length(void **state)
{
    (void)state;
    text t = {0};
    put(&t, "name = \"ids\";\nspecies = ( { id = \"");
    repeat(&t, "x", SG_MAX_ID_LENGTH);
    put(&t, "\"; initial = 1.0; } );\n");
    expect_ok(t);
    t = (text){0};
    put(&t, "name = \"ids\";\nspecies = ( { id = \"");
    repeat(&t, "x", SG_MAX_ID_LENGTH + 1);
    put(&t, "\"; initial = 1.0; } );\n");
    expect_error(t, SG_ERR_MODEL, "is not a valid identifier");
    /* in an equation, a name that long cannot be a species */
    t = (text){0};
    put(&t, "name = \"ids\";\nspecies = ( { id = \"A\"; initial = 1.0; } );\n"
            "reactions = ( { id = \"r\"; equation = \"A -> ");
    repeat(&t, "y", 100000);
    put(&t, "\"; rate = \"A\"; } );\n");
    expect_error(t, SG_ERR_MODEL, "species name too long");
}

/* A sparse file one byte over the limit: refused before it is read. */
static void test_file_size(void **state)
{
    (void)state;
    char path[] = "/tmp/sigode-limits-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    off_t size = (off_t)SG_MAX_FILE_BYTES + 1;
    assert_int_equal(ftruncate(fd, size), 0);
    sg_error err;
    assert_null(sg_model_load_file(path, &err));
    assert_int_equal(err.status, SG_ERR_LIMIT);
    char expected[200];
    snprintf(expected, sizeof expected, "model file is %lld bytes; the limit is %ld",
             (long long)size, SG_MAX_FILE_BYTES);
    assert_string_equal(err.message, expected);
    /* the same bytes from memory (mapped, never touched) */
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(map != MAP_FAILED);
    assert_null(sg_model_load_buffer(map, (size_t)size, "big.cfg", &err));
    assert_int_equal(err.status, SG_ERR_LIMIT);
    munmap(map, (size_t)size);
    close(fd);
    unlink(path);
}

/* Every rate depends on every species through one assignment: the
 * Jacobian would be dense, (n species)^2 entries from a file of size n. */
static void test_jacobian_entries(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        int n = pass == 0 ? 900 : 1001; /* 810,000 entries, then 1,002,001 */
        text t = {0};
        put(&t, "name = \"dense\";\nspecies = (\n");
        for (int i = 0; i < n; i++)
            put(&t, "%s  { id = \"S%d\"; initial = 1.0; }", i ? ",\n" : "", i);
        put(&t, "\n);\nassignments = ( { id = \"total\"; value = \"S0");
        for (int i = 1; i < n; i++)
            put(&t, " + S%d", i);
        put(&t, "\"; } );\nreactions = (\n");
        for (int i = 0; i < n; i++)
            put(&t, "%s  { id = \"r%d\"; equation = \"S%d ->\"; rate = \"1e-3 * total\"; }",
                i ? ",\n" : "", i, i);
        put(&t, "\n);\n");
        if (pass == 0)
            expect_ok(t);
        else
            expect_error(t, SG_ERR_LIMIT, "the Jacobian needs more than 1000000 entries");
    }
}

/* Functions calling functions twice: 2^40 operations from 40 lines. */
static void test_function_inlining(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        int n = pass == 0 ? 15 : 40;
        text t = {0};
        put(&t, "name = \"inline\";\nfunctions = (\n"
                "  { id = \"f0\"; args = [ \"x\" ]; body = \"x * 1.5\"; }");
        for (int k = 1; k < n; k++)
            put(&t, ",\n  { id = \"f%d\"; args = [ \"x\" ]; body = \"f%d(x) + f%d(x * 2)\"; }",
                k, k - 1, k - 1);
        put(&t, "\n);\nspecies = ( { id = \"A\"; initial = 1.0; } );\n"
                "reactions = ( { id = \"r\"; equation = \"A ->\"; rate = \"1e-9 * f%d(A)\"; } );\n",
            n - 1);
        if (pass == 0)
            expect_ok(t);
        else
            expect_error(t, SG_ERR_MODEL, "function calls expand to more than 1000000 operations");
    }
}

/* libconfig's own nesting (its parser stack) ends in an error. */
static void test_config_nesting(void **state)
{
    (void)state;
    text t = {0};
    put(&t, "name = \"deep\";\nx = ");
    repeat(&t, "(", 200000);
    repeat(&t, ")", 200000);
    put(&t, ";\n");
    expect_error(t, SG_ERR_MODEL, "limits.cfg:2: error: "); /* libconfig's error */
}

static void test_points_and_events(void **state)
{
    (void)state;
    const char *src = "name = \"p\";\nspecies = ( { id = \"A\"; initial = 1.0; } );\n"
                      "reactions = ( { id = \"r\"; equation = \"A ->\"; rate = \"A\"; } );\n";
    sg_error err;
    sg_model *m = sg_model_load_buffer(src, strlen(src), "p.cfg", &err);
    assert_non_null(m);
    sg_experiment *exp = sg_experiment_create(m, NULL, &err);
    assert_non_null(exp);
    assert_int_equal(sg_experiment_set_points(exp, SG_MAX_POINTS, &err), SG_OK);
    assert_int_equal(sg_experiment_set_points(exp, SG_MAX_POINTS + 1, &err), SG_ERR_USAGE);
    assert_int_equal(sg_experiment_set_points(exp, 11, &err), SG_OK);
    /* a dose every 1e-9 time units over 10: 1e10 occurrences */
    assert_int_equal(sg_experiment_add_schedule(exp, 0.0, 1e-9, 0, "A", 1.0, 1, &err), SG_OK);
    sg_sim *sim = sg_sim_create(m, NULL, &err);
    assert_non_null(sim);
    sg_trajectory *traj = NULL;
    assert_int_equal(sg_sim_run(sim, exp, &traj, &err), SG_ERR_LIMIT);
    assert_non_null(strstr(err.message, "event occurrences"));
    sg_trajectory_free(traj);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    sg_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting_depth),      cmocka_unit_test(test_expression_height),
        cmocka_unit_test(test_identifier_length),  cmocka_unit_test(test_file_size),
        cmocka_unit_test(test_jacobian_entries),   cmocka_unit_test(test_function_inlining),
        cmocka_unit_test(test_config_nesting),     cmocka_unit_test(test_points_and_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

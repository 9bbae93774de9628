/*
 * Rate-law expressions: lexer, parser, binding, constant folding and the
 * two evaluators (the tree walker used by folding and checks, and the
 * compiled instruction program used for the right-hand side).
 *
 * The cases are one table, in the shape of tinyexpr's smoke.c
 * (test_syntax): an input and either its value or the column (1-based,
 * inside the expression) and a fragment of the error message.
 */
#define _GNU_SOURCE
#include <float.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "compile/program.h"
#include "expr/expr.h"
#include "model/model.h"
#include "support.h"
#include "util/util.h"

/* ------------------------------------------------------------ variables */

/* The names an expression may use, with their values. The same names are
 * parameters of the model built for the compiled-program comparison. */
static const struct {
    const char *name;
    double value;
} variables[] = {
    {"a", 2.0}, {"b", 3.0}, {"x", 0.5}, {"K", 2.0}, {"n", 4.0},
    {"V", 10.0}, {"z", 0.0}, {"neg", -1.0}, {"big", 1000.0},
};
enum { NVARS = sizeof variables / sizeof variables[0] };

static int resolve(void *ctx, const char *name, int in_traj, char *msg, size_t size)
{
    (void)ctx;
    (void)in_traj;
    for (int i = 0; i < NVARS; i++)
        if (strcmp(variables[i].name, name) == 0)
            return i;
    snprintf(msg, size, "unknown name '%s'", name);
    return -1;
}

/* ---------------------------------------------------------------- cases */

typedef struct value_case {
    const char *text;
    double value;
} value_case;

#define E_ 2.718281828459045

static const value_case value_cases[] = {
    /* numbers */
    {"1", 1}, {"2.5", 2.5}, {"1e-3", 1e-3}, {".5", 0.5}, {"2.5E2", 250}, {"1e+2", 100},
    {"  7  ", 7},
    /* arithmetic and precedence */
    {"1+2*3", 7}, {"(1+2)*3", 9}, {"10-4-3", 3}, {"10/4/2", 1.25}, {"2*3^2", 18},
    {"-2^2", -4}, {"2^3^2", 512}, {"2^-1", 0.5}, {"-2^-2", -0.25}, {"(-2)^2", 4},
    {"-a*b", -6}, {"-a^2", -4}, {"a^b^2", 512}, {"-a+b", 1}, {"--2", 2}, {"+3", 3},
    {"a*-b", -6}, {"a/b*b", 2}, {"a-b-a", -3}, {"2^0.5", 1.4142135623730951},
    {"a^-1", 0.5}, {"-x^2", -0.25},
    /* comparisons give 1 or 0 */
    {"1 < 2", 1}, {"2 < 1", 0}, {"2 <= 2", 1}, {"3 <= 2", 0}, {"3 > 4", 0}, {"4 > 3", 1},
    {"3 >= 4", 0}, {"4 >= 4", 1}, {"2 == 2", 1}, {"2 == 3", 0}, {"2 != 2", 0},
    {"2 != 3", 1}, {"1 + 1 < 3", 1}, {"a < b", 1}, {"a >= b", 0}, {"a*2 == b+1", 1},
    /* logic: && binds tighter than ||, ! tighter than both */
    {"1 && 0", 0}, {"2 && 3", 1}, {"1 || 0", 1}, {"0 || 0", 0}, {"0 || 0 && 1", 0},
    {"1 || 0 && 0", 1}, {"!0", 1}, {"!3", 0}, {"!0 + 1", 2}, {"!(1 < 2)", 0},
    {"!a", 0}, {"!z", 1}, {"a < b && b < big", 1}, {"a > b || z", 0},
    /* functions */
    {"exp(1)", E_}, {"exp(x)", 1.6487212707001282}, {"log(100)", 4.605170185988092},
    {"log(a)", 0.6931471805599453}, {"ln(100)", 4.605170185988092}, {"log10(1000)", 3},
    {"log10(big)", 3}, {"sqrt(16)", 4}, {"sqrt(a)", 1.4142135623730951}, {"abs(-3)", 3},
    {"abs(neg)", 1}, {"pow(2, 10)", 1024}, {"pow(a, b)", 8}, {"floor(-1.5)", -2},
    {"ceil(-1.5)", -1}, {"floor(x)", 0}, {"ceil(x)", 1}, {"sin(0)", 0},
    {"sin(x)", 0.479425538604203}, {"cos(0)", 1}, {"cos(x)", 0.8775825618903728},
    {"tan(x)", 0.5463024898437905}, {"tanh(x)", 0.46211715726000974},
    {"asin(x)", 0.5235987755982989}, {"acos(x)", 1.0471975511965979},
    {"atan(x)", 0.4636476090008061}, {"atan(1 / neg)", -0.7853981633974483},
    {"factorial(0)", 1}, {"factorial(4)", 24}, {"factorial(x)", 0.886226925452758},
    {"min(2, 1)", 1}, {"min(3, 1, 2)", 1}, {"min(a, b, x, K)", 0.5}, {"max(2, 1)", 2},
    {"max(3, 1, 2, 5, 4)", 5}, {"max(a, b, x)", 3}, {"min(neg, z)", -1},
    {"if(1, 2, 3)", 2}, {"if(0, 2, 3)", 3}, {"if(a > 1, 10, 20)", 10},
    {"if(a > b, a, b)", 3}, {"if(z, 1/z, 5)", 5},
    {"hill(2, 2, 4)", 0.5}, {"hill(1, 2, 2)", 0.2}, {"hill(x, K, n)", 0.0625 / 16.0625},
    {"mm(2, 10, 2)", 5}, {"mm(1, 10, 3)", 2.5}, {"mm(x, V, K)", 2.0},
    {"2 * hill(a, K, n) + mm(b, V, K)", 7}, {"exp(log(a))", 2}, {"sqrt(a)^2", 2.0000000000000004},
};

/* Results that must not be folded at load time: they stay operations and
 * give Inf or NaN when evaluated (Lua lcode.c constfolding). */
typedef struct runtime_case {
    const char *text;
    int kind;     /* the top node's kind after binding */
    double value; /* NAN: expect NaN */
} runtime_case;

static const runtime_case runtime_cases[] = {
    {"1/0", EX_DIV, INFINITY},      {"-1/0", EX_DIV, -INFINITY}, {"0/0", EX_DIV, NAN},
    {"a/z", EX_DIV, INFINITY},      {"log(0)", EX_FN, -INFINITY}, {"log(-1)", EX_FN, NAN},
    {"sqrt(-1)", EX_FN, NAN},       {"exp(1000)", EX_FN, INFINITY},
    {"10^400", EX_POW, INFINITY},   {"(-8)^(1/3)", EX_POW, NAN},
};

typedef struct error_case {
    const char *text;
    int col;             /* 1-based column of the error inside the text */
    const char *message; /* a fragment of the message */
} error_case;

static const error_case error_cases[] = {
    {"", 1, "expression expected near end of expression"},
    {"   ", 4, "expression expected near end of expression"},
    {"1 +", 4, "expression expected near end of expression"},
    {"1 + * 2", 5, "unexpected symbol near '*'"},
    {"()", 2, "unexpected symbol near ')'"},
    {"(1 + 2", 7, "')' expected (to close '(' at offset 1) near end of expression"},
    {"2 * (a + (b - 1)", 17, "')' expected (to close '(' at offset 5)"},
    {"1 + 2)", 6, "unbalanced ')'"},
    {"1 2", 3, "operator or end of expression expected near '2'"},
    {"a b", 3, "operator or end of expression expected near 'b'"},
    {"2 $ 3", 3, "invalid symbol '$'"},
    {"2x", 1, "invalid symbol '2x'"},
    {"1e", 1, "invalid symbol '1e'"},
    {"1e+", 1, "invalid symbol '1e+'"},
    {"a = 1", 3, "invalid symbol '='"},
    {"a & b", 3, "invalid symbol '&'"},
    {"a | b", 3, "invalid symbol '|'"},
    {"a ^^ b", 4, "unexpected symbol near '^'"},
    {"foo(1)", 1, "unknown function 'foo'"},
    {"2 * bar(a, b)", 5, "unknown function 'bar'"},
    {"final(a)", 1, "'final'"}, /* checks only */
    {"exp(1, 2)", 1, "'exp' expects 1 argument"},
    {"exp()", 1, "'exp' expects 1 argument"},
    {"log10(1, 2)", 1, "'log10' expects 1 argument"},
    {"pow(2)", 1, "'pow' expects 2 arguments"},
    {"min(1)", 1, "'min' expects at least 2 arguments"},
    {"max()", 1, "'max' expects at least 2 arguments"},
    {"if(1, 2)", 1, "'if' expects 3 arguments"},
    {"if(1, 2, 3, 4)", 1, "'if' expects 3 arguments"},
    {"hill(1, 2)", 1, "'hill' expects 3 arguments"},
    {"mm(1, 2, 3, 4)", 1, "'mm' expects 3 arguments"},
    {"min(1, 2", 9, "')' expected (to close '(' at offset 4)"},
    {"min(1 2)", 7, "')' expected"},
    {"unknown + 1", 1, "unknown name 'unknown'"},
    {"a * (b + c)", 10, "unknown name 'c'"},
    {"exp(a) + log(nope)", 14, "unknown name 'nope'"},
    {"a @ b", 3, "operator or end of expression expected near '@'"},
};

/* --------------------------------------------------- the tree evaluator */

/* Parses and binds `text`; returns the bound node or NULL with perr set. */
static sg_expr *parse_bind(sg_arena *arena, sg_pool *pool, const char *text,
                           sg_parse_error *perr)
{
    memset(perr, 0, sizeof *perr);
    sg_expr *tree = sg_expr_parse(arena, text, 0, perr);
    if (!tree)
        return NULL;
    return sg_expr_bind(pool, tree, resolve, NULL, perr);
}

static double slots[NVARS];

static int setup(void **state)
{
    for (int i = 0; i < NVARS; i++)
        slots[i] = variables[i].value;
    sg_arena *arena = sg_arena_create();
    sg_pool *pool = sg_pool_create();
    assert_non_null(arena);
    assert_non_null(pool);
    void **pair = malloc(2 * sizeof *pair);
    pair[0] = arena;
    pair[1] = pool;
    *state = pair;
    return 0;
}

static int teardown(void **state)
{
    void **pair = *state;
    sg_arena_free(pair[0]);
    sg_pool_free(pair[1]);
    free(pair);
    return 0;
}

/* Values agree with the expected ones to 4 ulp-ish (the expected values
 * are decimal renderings of the exact result). */
static void assert_close(const char *text, double got, double want)
{
    if (!(fabs(got - want) <= 1e-15 * fabs(want) + 1e-300))
        fail_msg("'%s' = %.17g, expected %.17g", text, got, want);
}

static void test_values_from_string(void **state)
{
    void **pair = *state;
    for (size_t i = 0; i < sizeof value_cases / sizeof value_cases[0]; i++) {
        const value_case *c = &value_cases[i];
        sg_parse_error perr;
        sg_expr *e = parse_bind(pair[0], pair[1], c->text, &perr);
        if (!e)
            fail_msg("'%s' did not parse: col %d: %s", c->text, perr.pos + 1, perr.message);
        assert_close(c->text, sg_expr_eval(e, slots), c->value);
    }
}

static void test_errors_from_string(void **state)
{
    void **pair = *state;
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const error_case *c = &error_cases[i];
        sg_parse_error perr;
        sg_expr *e = parse_bind(pair[0], pair[1], c->text, &perr);
        if (e)
            fail_msg("'%s' parsed, expected an error '%s'", c->text, c->message);
        if (perr.pos + 1 != c->col || !strstr(perr.message, c->message))
            fail_msg("'%s': error at col %d '%s', expected col %d '%s'", c->text,
                     perr.pos + 1, perr.message, c->col, c->message);
    }
}

static void test_runtime_inf_nan_not_folded(void **state)
{
    void **pair = *state;
    for (size_t i = 0; i < sizeof runtime_cases / sizeof runtime_cases[0]; i++) {
        const runtime_case *c = &runtime_cases[i];
        sg_parse_error perr;
        sg_expr *e = parse_bind(pair[0], pair[1], c->text, &perr);
        if (!e)
            fail_msg("'%s' did not parse: %s", c->text, perr.message);
        if (e->kind != c->kind)
            fail_msg("'%s' became node kind %d, expected %d (folded?)", c->text, e->kind,
                     c->kind);
        double v = sg_expr_eval(e, slots);
        if (isnan(c->value) ? !isnan(v) : v != c->value)
            fail_msg("'%s' = %g, expected %g", c->text, v, c->value);
    }
}

static void test_constant_folding(void **state)
{
    void **pair = *state;
    sg_parse_error perr;
    /* all-constant expressions become one number */
    static const char *const constant[] = {"2*3+1", "-2^2", "min(3, 1, 2)", "if(1, 2, 3)",
                                           "exp(0) + log10(100)", "hill(2, 2, 4)"};
    for (size_t i = 0; i < sizeof constant / sizeof constant[0]; i++) {
        sg_expr *e = parse_bind(pair[0], pair[1], constant[i], &perr);
        assert_non_null(e);
        if (e->kind != EX_NUM)
            fail_msg("'%s' was not folded (kind %d)", constant[i], e->kind);
    }
    /* identities and sharing: a*1, a+0, a^1 are a; b*a and a*b one node */
    sg_expr *a = parse_bind(pair[0], pair[1], "a", &perr);
    assert_ptr_equal(parse_bind(pair[0], pair[1], "a*1", &perr), a);
    assert_ptr_equal(parse_bind(pair[0], pair[1], "0+a", &perr), a);
    assert_ptr_equal(parse_bind(pair[0], pair[1], "a^1", &perr), a);
    assert_ptr_equal(parse_bind(pair[0], pair[1], "--a", &perr), a);
    assert_ptr_equal(parse_bind(pair[0], pair[1], "a*b", &perr),
                     parse_bind(pair[0], pair[1], "b*a", &perr));
    sg_expr *zero = parse_bind(pair[0], pair[1], "a*0", &perr);
    assert_true(sg_expr_is_num(zero, 0.0));
}

/* Later stages walk trees recursively. A tree of the tallest accepted
 * height must fit the default 8 MB stack of a release build; under
 * AddressSanitizer, whose frames are several times larger, it gets a
 * bigger one. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_STACK_SIZE (512UL << 20)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_STACK_SIZE (512UL << 20)
#endif
#endif
#ifndef TEST_STACK_SIZE
#define TEST_STACK_SIZE (8UL << 20)
#endif

typedef struct long_sum_job {
    sg_arena *arena;
    sg_pool *pool;
    int terms;          /* number of operators */
    char op;            /* '+' (0: '+'), '-' or '*' */
    sg_expr *e;         /* out */
    double value;       /* out */
    char message[256];  /* out */
} long_sum_job;

/* Parses, binds and evaluates "a+a+...+a" (or with '-' or '*'; runs on
 * its own thread). */
static void *long_sum(void *arg)
{
    long_sum_job *job = arg;
    size_t len = 0;
    char *sum = malloc(2 * ((size_t)job->terms + 2));
    for (int i = 0; i <= job->terms; i++) {
        if (i)
            sum[len++] = job->op ? job->op : '+';
        sum[len++] = 'a';
    }
    sum[len] = '\0';
    sg_parse_error perr;
    job->e = parse_bind(job->arena, job->pool, sum, &perr);
    if (job->e)
        job->value = sg_expr_eval(job->e, slots);
    else
        snprintf(job->message, sizeof job->message, "%s", perr.message);
    free(sum);
    return NULL;
}

static void run_with_stack(void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_t th;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, TEST_STACK_SIZE), 0);
    assert_int_equal(pthread_create(&th, &attr, fn, arg), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    pthread_attr_destroy(&attr);
}

/* Nesting up to SG_EXPR_MAX_DEPTH parses; one more is an error, not a
 * stack overflow. Each '(' or unary operator is one level, the whole
 * expression another. */
static void test_depth_limit(void **state)
{
    void **pair = *state;
    char text[4 * SG_EXPR_MAX_DEPTH + 64];
    sg_parse_error perr;
    for (int extra = 0; extra <= 1; extra++) {
        int n = SG_EXPR_MAX_DEPTH - 1 + extra;
        size_t len = 0;
        for (int i = 0; i < n; i++)
            text[len++] = '(';
        text[len++] = '1';
        for (int i = 0; i < n; i++)
            text[len++] = ')';
        text[len] = '\0';
        sg_expr *e = parse_bind(pair[0], pair[1], text, &perr);
        if (!extra) {
            assert_non_null(e);
            assert_true(sg_expr_is_num(e, 1.0));
        } else {
            assert_null(e);
            assert_non_null(strstr(perr.message, "nested too deeply"));
            assert_int_equal(perr.pos, n); /* at the innermost '1' */
        }
    }
    /* the same with unary minus */
    size_t len = 0;
    for (int i = 0; i < 2 * SG_EXPR_MAX_DEPTH; i++)
        text[len++] = '-';
    text[len++] = 'a';
    text[len] = '\0';
    assert_null(parse_bind(pair[0], pair[1], text, &perr));
    assert_non_null(strstr(perr.message, "nested too deeply"));
    /* a long chain of a non-associative operator is not nesting either:
     * accepted up to SG_EXPR_MAX_HEIGHT operations, refused beyond */
    long_sum_job job[2] = {{pair[0], pair[1], SG_EXPR_MAX_HEIGHT, '-', NULL, 0, ""},
                           {pair[0], pair[1], SG_EXPR_MAX_HEIGHT + 1, '-', NULL, 0, ""}};
    for (int k = 0; k < 2; k++)
        run_with_stack(long_sum, &job[k]);
    assert_non_null(job[0].e);
    assert_close("long difference", job[0].value, 2.0 * (1 - SG_EXPR_MAX_HEIGHT));
    assert_null(job[1].e);
    assert_non_null(strstr(job[1].message, "expression too long"));
}

/* Sums and products of any length load (an observable of BioNetGen's
 * summing 100,000 species): chains of up to 1024 terms are folded left to
 * right as written, longer ones as balanced trees of height log2(n). */
static void test_long_sums_and_products(void **state)
{
    void **pair = *state;
    long_sum_job sum = {pair[0], pair[1], 100000, '+', NULL, 0, ""};
    run_with_stack(long_sum, &sum);
    assert_non_null(sum.e);
    assert_true(sum.value == 2.0 * 100001); /* integers: exact in any order */
    long_sum_job prod = {pair[0], pair[1], 1000, '*', NULL, 0, ""};
    run_with_stack(long_sum, &prod);
    assert_non_null(prod.e);
    assert_true(prod.value == ldexp(1.0, 1001));
    /* the shape: 1024 terms left-deep (height 1023 operations + the leaf),
     * 1025 terms balanced */
    for (int n = 1024; n <= 1025; n++) {
        char *text = malloc(2 * (size_t)n + 1);
        size_t len = 0;
        for (int i = 0; i < n; i++) {
            if (i)
                text[len++] = '+';
            text[len++] = 'a';
        }
        text[len] = '\0';
        sg_parse_error perr;
        sg_expr *e = sg_expr_parse(pair[0], text, 0, &perr);
        assert_non_null(e);
        if (n == 1024) {
            assert_int_equal(e->depth, 1023);
            assert_true(e->arg[1]->kind == EX_NAME); /* ((a+a)+...)+a */
        } else {
            assert_true(e->depth <= 12);
        }
        free(text);
    }
    /* real nesting keeps its limit: a sum inside 200 parentheses is refused */
    char nested[2 * SG_EXPR_MAX_DEPTH + 16];
    size_t len = 0;
    for (int i = 0; i < SG_EXPR_MAX_DEPTH; i++)
        nested[len++] = '(';
    memcpy(nested + len, "a+a", 3);
    len += 3;
    for (int i = 0; i < SG_EXPR_MAX_DEPTH; i++)
        nested[len++] = ')';
    nested[len] = '\0';
    sg_parse_error perr;
    assert_null(sg_expr_parse(pair[0], nested, 0, &perr));
    assert_non_null(strstr(perr.message, "nested too deeply"));
}

/* The lexer on its own: token kinds, lengths and numbers. */
static void test_lexer(void **state)
{
    (void)state;
    sg_lexer lx;
    sg_lex_init(&lx, " k_1*2.5e-1<=x!=y&&!z");
    static const struct { int kind, op, pos, len; } want[] = {
        {TK_NAME, 0, 1, 3},   {TK_OP, OPT_STAR, 4, 1}, {TK_NUMBER, 0, 5, 6},
        {TK_OP, OPT_LE, 11, 2}, {TK_NAME, 0, 13, 1}, {TK_OP, OPT_NE, 14, 2},
        {TK_NAME, 0, 16, 1},  {TK_OP, OPT_AND, 17, 2}, {TK_OP, OPT_NOT, 19, 1},
        {TK_NAME, 0, 20, 1},  {TK_EOF, 0, 21, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(lx.kind, want[i].kind);
        if (want[i].kind == TK_OP)
            assert_int_equal(lx.op, want[i].op);
        assert_int_equal(lx.pos, want[i].pos);
        assert_int_equal(lx.len, want[i].len);
        if (lx.kind == TK_NUMBER)
            assert_true(lx.number == 0.25);
        sg_lex_next(&lx);
    }
    /* a multi-byte UTF-8 character is one bad token */
    sg_lex_init(&lx, "\xce\xbc" "M");
    assert_int_equal(lx.kind, TK_ERROR);
    assert_int_equal(lx.len, 2);
}

/* ------------------------------------------- the compiled program (VM) */

/* A model whose one assignment is `text`, with every variable a
 * parameter. */
static char *model_with_assignment(const char *text)
{
    char params[1024] = "";
    for (int i = 0; i < NVARS; i++) {
        char one[96];
        snprintf(one, sizeof one, "%s{ id = \"%s\"; value = %.17g; }", i ? ", " : "",
                 variables[i].name, variables[i].value);
        strcat(params, one);
    }
    char *model;
    int n = asprintf(&model,
                     "name = \"expr\";\n"
                     "parameters = ( %s );\n"
                     "species = ( { id = \"S\"; initial = 1.0; } );\n"
                     "assignments = ( { id = \"out\"; value = \"%s\"; } );\n"
                     "reactions = ( { id = \"r\"; equation = \"S ->\"; rate = \"0.1 * S\"; } );\n",
                     params, text);
    assert_true(n > 0);
    return model;
}

/* The value of `out` at t = 0 as the compiled program computes it. */
static double compiled_value(const char *text)
{
    char *src = model_with_assignment(text);
    sg_error err;
    sg_model *m = sg_model_load_buffer(src, strlen(src), "expr.cfg", &err);
    if (!m) {
        char msg[1200];
        sg_error_format(&err, msg, sizeof msg);
        fail_msg("'%s': model did not load: %s", text, msg);
    }
    free(src);
    sg_trajectory *traj = ts_run_scenario(m, NULL, 1e-8, 1e-12);
    int col = sg_trajectory_find_column(traj, "out");
    assert_true(col >= 0);
    assert_true(sg_trajectory_time(traj, 0) == 0.0);
    double v = sg_trajectory_value(traj, 0, col);
    sg_trajectory_free(traj);
    sg_model_free(m);
    return v;
}

static void test_values_through_program(void **state)
{
    void **pair = *state;
    for (size_t i = 0; i < sizeof value_cases / sizeof value_cases[0]; i++) {
        const value_case *c = &value_cases[i];
        sg_parse_error perr;
        sg_expr *e = parse_bind(pair[0], pair[1], c->text, &perr);
        assert_non_null(e);
        double tree = sg_expr_eval(e, slots), vm = compiled_value(c->text);
        assert_close(c->text, vm, c->value);
        /* the VM and the tree walker share sg_op_apply / sg_fn_apply */
        if (memcmp(&tree, &vm, sizeof tree) != 0)
            fail_msg("'%s': tree %.17g, program %.17g", c->text, tree, vm);
    }
    for (size_t i = 0; i < sizeof runtime_cases / sizeof runtime_cases[0]; i++) {
        const runtime_case *c = &runtime_cases[i];
        double v = compiled_value(c->text);
        if (isnan(c->value) ? !isnan(v) : v != c->value)
            fail_msg("'%s' compiled = %g, expected %g", c->text, v, c->value);
    }
}

/* `time` is the model time in the compiled program. */
static void test_time_in_program(void **state)
{
    (void)state;
    sg_model *m = ts_load_text("name = \"t\";\n"
                               "species = ( { id = \"S\"; initial = 0.0; } );\n"
                               "assignments = ( { id = \"out\"; value = \"2 * time + 1\"; } );\n"
                               "reactions = ( { id = \"r\"; equation = \"-> S\"; rate = \"time\"; } );\n"
                               "scenarios = ( { id = \"s\"; t_end = 4.0; points = 5; } );\n");
    sg_trajectory *traj = ts_run_scenario(m, "s", 1e-10, 1e-14);
    int out = sg_trajectory_find_column(traj, "out"), s = sg_trajectory_find_column(traj, "S");
    assert_int_equal(sg_trajectory_rows(traj), 5);
    for (int r = 0; r < 5; r++) {
        double t = sg_trajectory_time(traj, r);
        assert_true(t == (double)r);
        assert_true(sg_trajectory_value(traj, r, out) == 2 * t + 1);
        /* dS/dt = t: S = t^2 / 2 */
        assert_true(fabs(sg_trajectory_value(traj, r, s) - t * t / 2) < 1e-8);
    }
    sg_trajectory_free(traj);
    sg_model_free(m);
}

/* ------------------------------------------------------ from model files */

/* An error in a rate law is reported at file:line:col, the column being
 * the string's first character in the line plus the offset inside it. */
static const struct {
    const char *rate_line; /* the line holding the rate */
    const char *expected;  /* message after "file:5:" */
} file_cases[] = {
    {"    rate = \"k * A\"; }", "13: error: in rate: unknown name 'k'"},
    {"    rate = \"2 * A + foo(A)\"; }", "21: error: in rate: unknown function 'foo'"},
    {"  rate =   \"A * (A + 1\"; }", "23: error: in rate: ')' expected (to close '(' at offset 5) near end of expression"},
    {"\trate = \"A ^ \"; }", "14: error: in rate: expression expected near end of expression"},
    {"    rate = \"exp(A, 2)\"; }", "13: error: in rate: 'exp' expects 1 argument"},
    {"    rate = \"A $ 2\"; }", "15: error: in rate: invalid symbol '$'"},
};

static void test_errors_from_file(void **state)
{
    (void)state;
    char *dir = ts_temp_dir();
    assert_non_null(dir);
    char *path = ts_path(dir, "rate.cfg");
    for (size_t i = 0; i < sizeof file_cases / sizeof file_cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "name = \"m\";\n"
                 "species = ( { id = \"A\"; initial = 1.0; } );\n"
                 "reactions = (\n"
                 "  { id = \"r\"; equation = \"A ->\";\n"
                 "%s\n"
                 ");\n",
                 file_cases[i].rate_line);
        assert_int_equal(ts_write_file(path, text, strlen(text)), 0);
        char want[1024], got[1200];
        snprintf(want, sizeof want, "%s:5:%s", path, file_cases[i].expected);
        sg_error err;
        /* from the file, and from a buffer with the same name */
        for (int from_buffer = 0; from_buffer <= 1; from_buffer++) {
            sg_model *m = from_buffer ? sg_model_load_buffer(text, strlen(text), path, &err)
                                      : sg_model_load_file(path, &err);
            assert_null(m);
            assert_int_equal(err.status, SG_ERR_MODEL);
            sg_error_format(&err, got, sizeof got);
            if (strcmp(got, want) != 0)
                fail_msg("got      '%s'\nexpected '%s'", got, want);
        }
    }
    free(path);
    ts_remove_dir(dir);
    free(dir);
}

/* A check's expect string may use trajectory functions; a rate may not. */
static void test_trajectory_functions_only_in_checks(void **state)
{
    void **pair = *state;
    sg_parse_error perr;
    sg_expr *t = sg_expr_parse(pair[0], "final(a @ s1) > 2 * halftime(b, 1) && drift() < 1e-6",
                               1, &perr);
    if (!t)
        fail_msg("check expression did not parse: %s", perr.message);
    assert_int_equal(t->kind, EX_AND);
    assert_int_equal(t->arg[0]->kind, EX_GT);
    const sg_expr *final = t->arg[0]->arg[0];
    assert_int_equal(final->kind, EX_TRAJ);
    assert_int_equal(final->fn, TR_FINAL);
    assert_string_equal(final->name, "s1");
    assert_null(sg_expr_parse(pair[0], "final(a @ )", 1, &perr));
    assert_non_null(strstr(perr.message, "scenario id expected after '@'"));
    assert_null(sg_expr_parse(pair[0], "halftime(a, 1, 2)", 1, &perr));
    assert_non_null(strstr(perr.message, "'halftime' expects 1 to 2 arguments"));
    assert_null(sg_expr_parse(pair[0], "lowest(a)", 1, &perr));
    assert_non_null(strstr(perr.message, "'lowest' expects 0 arguments"));
}

/* Numbers written to tables and SBML: sg_format_double gives exactly the
 * text of the shortest of snprintf's %.15g..%.17g that reads back, for
 * values with 15, 16 and 17 significant digits, special values and random
 * bit patterns, powers of two and their neighbours (the strfromd path and
 * its order must not change a digit of any table). */
static void reference_format(char *buf, size_t size, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void test_number_text(void **state)
{
    (void)state;
    const double fixed[] = {0.0, -0.0, 0.1, 1.0 / 3.0, 602000.0, 1e-300, 4.9e-324,
                            1.7976931348623157e308, -2.5e-8, 123456789012345678.0,
                            INFINITY, -INFINITY, NAN};
    char got[64], want[64];
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++) {
        sg_format_double(got, sizeof got, fixed[k]);
        reference_format(want, sizeof want, fixed[k]);
        assert_string_equal(got, want);
    }
    assert_string_equal((sg_format_double(got, sizeof got, 0.1), got), "0.1");
    assert_string_equal((sg_format_double(got, sizeof got, 1.0 / 3.0), got),
                        "0.3333333333333333");
    /* powers of two (an asymmetric rounding interval) and their neighbours */
    for (int k = -1074; k <= 1023; k++) {
        double p2 = ldexp(1.0, k), near[] = {p2, nextafter(p2, 0), nextafter(p2, INFINITY), -p2};
        for (int j = 0; j < 4; j++) {
            sg_format_double(got, sizeof got, near[j]);
            reference_format(want, sizeof want, near[j]);
            if (strcmp(got, want) != 0)
                fail_msg("%a: \"%s\", snprintf gives \"%s\"", near[j], got, want);
        }
    }
    uint64_t x = 0x9e3779b97f4a7c15u; /* xorshift64: any double, any exponent */
    int digits[18] = {0};
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        if (i % 2) {
            memcpy(&v, &x, sizeof v);
        } else { /* trajectory-like: moderate exponents */
            v = (double)(x >> 11) * 0x1.0p-53 * pow(10.0, (double)(int)(x % 24) - 12);
        }
        sg_format_double(got, sizeof got, v);
        reference_format(want, sizeof want, v);
        if (strcmp(got, want) != 0)
            fail_msg("%a: \"%s\", snprintf gives \"%s\"", v, got, want);
        if (isfinite(v) && v != 0) {
            int n = 0;
            for (const char *c = got; *c && *c != 'e'; c++)
                n += *c >= '0' && *c <= '9';
            digits[n > 17 ? 17 : n]++;
        }
    }
    /* the three precisions were all exercised */
    assert_true(digits[16] > 0 && digits[17] > 0);

    /* decimals of 1 to 20 significant digits, so 15- and 16-digit texts
     * that read back or just do not, and digits ending in 5, 50, 500...
     * (v within an ulp of a tie at 15, 16 or 17 digits: the one-conversion
     * path must see it cannot decide, not round the wrong way), around
     * %g's switch between fixed and exponent notation (1e-5, 1e15..1e17) */
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int ndig = 1 + (int)(x % 20), exp10 = (int)((x >> 8) % 50) - 25;
        if (i % 4 == 0)
            exp10 = (int)((x >> 8) % 8) - 6 + (i % 8 ? 0 : 20); /* -6..1, 14..21 */
        char text[64], *o = text;
        if (x >> 63)
            *o++ = '-';
        uint64_t r = x >> 13;
        for (int k = 0; k < ndig; k++) {
            int d = (int)(r % 10);
            r = r / 10 ? r / 10 : x;
            if (k == 0 && d == 0)
                d = 1;
            if (i % 3 == 0 && k >= ndig / 2) /* a tail 5, 50, 500, ... */
                d = k == ndig / 2 ? 5 : 0;
            *o++ = (char)('0' + d);
            if (k == 0)
                *o++ = '.';
        }
        snprintf(o, sizeof text - (size_t)(o - text), "e%d", exp10);
        double v = strtod(text, NULL);
        double near[] = {v, nextafter(v, 0), nextafter(v, INFINITY)};
        for (int j = 0; j < 3; j++) {
            sg_format_double(got, sizeof got, near[j]);
            reference_format(want, sizeof want, near[j]);
            if (strcmp(got, want) != 0)
                fail_msg("%a (from %s): \"%s\", snprintf gives \"%s\"", near[j], text, got,
                         want);
        }
    }
    const double edges[] = {1e-5, 9.999999999999999e-5, 1e-4, 0.0001234, 1e15, 1e16, 1e17,
                            999999999999999.9, 9999999999999998.0, 1.5e16, 12345678901234567.0,
                            0.30000000000000004, 2.675, 1e22, 1e23, 5e-324 * 3, DBL_MIN,
                            nextafter(DBL_MIN, 1), DBL_MAX, nextafter(DBL_MAX, 0), -1e-310};
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++) {
        sg_format_double(got, sizeof got, edges[k]);
        reference_format(want, sizeof want, edges[k]);
        if (strcmp(got, want) != 0)
            fail_msg("%a: \"%s\", snprintf gives \"%s\"", edges[k], got, want);
    }
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* An arena's large blocks have pages of their own, populated as they fill
 * and not cleared by memset: what it hands out is still zero, 16-aligned
 * and writable across the populated steps, after a reset too, and a
 * refused block is NULL. */
/* Every node kind made through the pool reads back what it was made of.
 * The fields after the kind share one union (expr.h): a node whose payload
 * overlapped another's field (an EX_TRAJ's name over its second argument,
 * a slot over a number) would read back wrong here, or two different
 * nodes would be taken for one. */
static void test_pool_nodes_by_kind(void **state)
{
    (void)state;
    assert_true(sizeof(sg_expr) <= 40); /* 2 million of them at 10^5 species */
    sg_pool *pool = sg_pool_create();
    assert_non_null(pool);
    sg_expr *x = sg_pool_var(pool, 3), *y = sg_pool_var(pool, 70000), *z = sg_pool_var(pool, 0);
    sg_expr *half = sg_pool_num(pool, 0.5), *tiny = sg_pool_num(pool, -1.25e-300);
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(z);
    assert_non_null(half);
    assert_non_null(tiny);
    static const int binary[] = {EX_ADD, EX_SUB, EX_MUL, EX_DIV, EX_POW, EX_LT, EX_LE,
                                 EX_GT, EX_GE, EX_EQ, EX_NE, EX_AND, EX_OR, EX_MIN,
                                 EX_MAX, EX_DELAY};
    enum { NBIN = sizeof binary / sizeof binary[0] };
    sg_expr *bin[NBIN];
    for (int k = 0; k < NBIN; k++) {
        /* x before y (ids ascending): commutative kinds keep this order */
        bin[k] = sg_pool_op(pool, binary[k], 0, x, y, NULL);
        assert_non_null(bin[k]);
    }
    sg_expr *neg = sg_pool_op(pool, EX_NEG, 0, x, NULL, NULL);
    sg_expr *not = sg_pool_op(pool, EX_NOT, 0, y, NULL, NULL);
    sg_expr *fn = sg_pool_op(pool, EX_FN, FN_TANH, z, NULL, NULL);
    sg_expr *cond = sg_pool_op(pool, EX_IF, 0, x, y, z);
    sg_expr *traj = sg_pool_traj(pool, TR_AT, "washout", x, half);
    sg_expr *traj1 = sg_pool_traj(pool, TR_FINAL, NULL, y, NULL);
    assert_non_null(neg);
    assert_non_null(not);
    assert_non_null(fn);
    assert_non_null(cond);
    assert_non_null(traj);
    assert_non_null(traj1);

    /* read back after all were made, through their ids */
    sg_expr *e = sg_pool_node(pool, x->id);
    assert_int_equal(e->kind, EX_VAR);
    assert_int_equal(e->nargs, 0);
    assert_int_equal(e->slot, 3);
    assert_int_equal(sg_pool_node(pool, y->id)->slot, 70000);
    assert_int_equal(sg_pool_node(pool, z->id)->slot, 0);
    e = sg_pool_node(pool, half->id);
    assert_int_equal(e->kind, EX_NUM);
    assert_int_equal(e->nargs, 0);
    assert_true(e->num == 0.5);
    assert_true(sg_pool_node(pool, tiny->id)->num == -1.25e-300);
    for (int k = 0; k < NBIN; k++) {
        e = sg_pool_node(pool, bin[k]->id);
        assert_int_equal(e->kind, binary[k]);
        assert_int_equal(e->nargs, 2);
        assert_ptr_equal(e->arg[0], x);
        assert_ptr_equal(e->arg[1], y);
    }
    assert_int_equal(neg->kind, EX_NEG);
    assert_int_equal(neg->nargs, 1);
    assert_ptr_equal(neg->arg[0], x);
    assert_int_equal(not->kind, EX_NOT);
    assert_ptr_equal(not->arg[0], y);
    assert_int_equal(fn->kind, EX_FN);
    assert_int_equal(fn->fn, FN_TANH);
    assert_int_equal(fn->nargs, 1);
    assert_ptr_equal(fn->arg[0], z);
    assert_int_equal(cond->kind, EX_IF);
    assert_int_equal(cond->nargs, 3);
    assert_ptr_equal(cond->arg[0], x);
    assert_ptr_equal(cond->arg[1], y);
    assert_ptr_equal(cond->arg[2], z);
    assert_int_equal(traj->kind, EX_TRAJ);
    assert_int_equal(traj->fn, TR_AT);
    assert_int_equal(traj->nargs, 2);
    assert_ptr_equal(traj->arg[0], x);
    assert_ptr_equal(traj->arg[1], half);
    assert_string_equal(traj->name, "washout");
    assert_int_equal(traj->pos, 0);
    assert_int_equal(traj->depth, 0);
    assert_int_equal(traj1->nargs, 1);
    assert_ptr_equal(traj1->arg[0], y);
    assert_null(traj1->name);

    /* made again: the same nodes; a different payload: a different node */
    assert_ptr_equal(sg_pool_var(pool, 3), x);
    assert_ptr_equal(sg_pool_num(pool, 0.5), half);
    assert_ptr_equal(sg_pool_op(pool, EX_IF, 0, x, y, z), cond);
    assert_ptr_equal(sg_pool_op(pool, EX_FN, FN_TANH, z, NULL, NULL), fn);
    for (int k = 0; k < NBIN; k++)
        assert_ptr_equal(sg_pool_op(pool, binary[k], 0, x, y, NULL), bin[k]);
    assert_ptr_not_equal(sg_pool_var(pool, 4), x);
    assert_ptr_not_equal(sg_pool_num(pool, 0.25), half);
    assert_ptr_not_equal(sg_pool_op(pool, EX_IF, 0, x, y, half), cond);
    assert_ptr_not_equal(sg_pool_op(pool, EX_FN, FN_TAN, z, NULL, NULL), fn);
    assert_ptr_not_equal(sg_pool_op(pool, EX_SUB, 0, x, z, NULL), bin[1]);
    /* a number and a variable whose payloads have equal bits stay apart */
    int bits = 3;
    double as_num;
    memset(&as_num, 0, sizeof as_num);
    memcpy(&as_num, &bits, sizeof bits);
    sg_expr *n3 = sg_pool_num(pool, as_num);
    assert_non_null(n3);
    assert_int_equal(n3->kind, EX_NUM);
    assert_ptr_not_equal(n3, x);
    assert_int_equal(x->kind, EX_VAR);
    sg_pool_free(pool);
}

/* sg_pool_reserve: the nodes already made are found again in the larger
 * table, the table does not grow until the reserved count is passed, and
 * a failed reservation leaves the pool as it was. */
static void test_pool_reserve(void **state)
{
    (void)state;
    enum { BEFORE = 3000, RESERVED = 100000 };
    sg_pool *pool = sg_pool_create();
    assert_non_null(pool);
    static sg_expr *made[BEFORE];
    for (int k = 0; k < BEFORE; k++)
        assert_non_null(made[k] = sg_pool_op(pool, EX_MUL, 0, sg_pool_var(pool, k),
                                             sg_pool_num(pool, k + 0.5), NULL));
    size_t before = sg_pool_buckets(pool);
    int count = sg_pool_size(pool);
    assert_true((size_t)count * 4 <= before * 3);

    sg_alloc_fail_after(1);
    assert_int_equal(sg_pool_reserve(pool, RESERVED), -1);
    sg_alloc_fail_after(0);
    assert_int_equal(sg_pool_buckets(pool), before);

    assert_int_equal(sg_pool_reserve(pool, RESERVED), 0);
    size_t reserved = sg_pool_buckets(pool);
    assert_true((RESERVED + 1) * 4 <= reserved * 3);
    assert_true((RESERVED + 1) * 4 > reserved / 2 * 3); /* the smallest power of two */
    assert_int_equal(reserved & (reserved - 1), 0);
    assert_int_equal(sg_pool_reserve(pool, RESERVED / 2), 0); /* less: nothing to do */
    assert_int_equal(sg_pool_buckets(pool), reserved);
    for (int k = 0; k < BEFORE; k++)
        assert_ptr_equal(sg_pool_op(pool, EX_MUL, 0, sg_pool_num(pool, k + 0.5),
                                    sg_pool_var(pool, k), NULL),
                         made[k]);
    assert_int_equal(sg_pool_size(pool), count);

    /* up to the reserved count without growing, then it grows */
    int k = 0;
    while (sg_pool_size(pool) < RESERVED) {
        assert_non_null(sg_pool_op(pool, EX_ADD, 0, made[k % BEFORE],
                                   sg_pool_num(pool, 1e6 + k), NULL));
        k++;
    }
    assert_int_equal(sg_pool_buckets(pool), reserved);
    while (sg_pool_buckets(pool) == reserved) {
        assert_non_null(sg_pool_op(pool, EX_ADD, 0, made[k % BEFORE],
                                   sg_pool_num(pool, 1e6 + k), NULL));
        k++;
    }
    assert_int_equal(sg_pool_buckets(pool), 2 * reserved);
    for (int j = 0; j < BEFORE; j++)
        assert_ptr_equal(sg_pool_op(pool, EX_MUL, 0, sg_pool_var(pool, j),
                                    sg_pool_num(pool, j + 0.5), NULL),
                         made[j]);
    sg_pool_free(pool);
}

/* A derivative memo reused from one call to the next gives each call's own
 * derivative (the node sg_expr_diff gives: nodes are unique), for an
 * expression of shared subtrees larger than the memo's first table, and
 * stays usable after running out of memory. */
static void test_diff_memo(void **state)
{
    (void)state;
    sg_pool *pool = sg_pool_create();
    sg_diff_memo *memo = sg_diff_memo_create();
    assert_non_null(pool);
    assert_non_null(memo);
    sg_expr *s = sg_pool_var(pool, 0);
    for (int k = 0; k < 40; k++) /* s_k+1 = s_k x_(k mod 5) + sin(s_k) */
        s = sg_pool_op(pool, EX_ADD, 0,
                       sg_pool_op(pool, EX_MUL, 0, s, sg_pool_var(pool, k % 5), NULL),
                       sg_pool_op(pool, EX_FN, FN_SIN, s, NULL, NULL), NULL);
    assert_non_null(s);
    int vars[] = {0, 1, 2, 3, 4, 0, 3, 7};
    for (size_t k = 0; k < sizeof vars / sizeof *vars; k++) {
        sg_expr *want = sg_expr_diff(pool, s, vars[k]);
        assert_non_null(want);
        assert_ptr_equal(sg_expr_diff_memo(pool, memo, s, vars[k]), want);
    }
    assert_true(sg_expr_is_num(sg_expr_diff_memo(pool, memo, s, 7), 0));
    sg_diff_memo_free(memo);

    /* out of memory while the memo grows: NULL, then it works again */
    memo = sg_diff_memo_create();
    assert_non_null(memo);
    sg_expr *t = sg_pool_var(pool, 10);
    for (int k = 0; k < 60; k++) /* t_k+1 = t_k (t_k + k) */
        t = sg_pool_op(pool, EX_MUL, 0, t,
                       sg_pool_op(pool, EX_ADD, 0, t, sg_pool_num(pool, k), NULL), NULL);
    /* every node of the derivative is made here: the memo's growth is then
     * the first allocation the next derivative makes */
    sg_expr *want = sg_expr_diff(pool, t, 10);
    assert_non_null(want);
    sg_alloc_fail_after(1);
    sg_expr *got = sg_expr_diff_memo(pool, memo, t, 10);
    long pending = sg_alloc_fail_pending();
    sg_alloc_fail_after(0);
    assert_int_equal(pending, 0); /* the failure happened */
    assert_null(got);
    assert_ptr_equal(sg_expr_diff_memo(pool, memo, t, 10), want);
    sg_diff_memo_free(memo);
    sg_pool_free(pool);
}

/* Parse-tree kinds: a name, a user function call (its number, arguments)
 * and a trajectory function with its scenario. */
static void test_parse_nodes_by_kind(void **state)
{
    (void)state;
    sg_arena *arena = sg_arena_create();
    assert_non_null(arena);
    static const char *args[] = {"u", "v"};
    sg_user_fn fns[2] = {{"first", args, 1, NULL}, {"second", args, 2, NULL}};
    sg_user_fns user = {fns, 2};
    sg_parse_error perr;
    sg_expr *e = sg_expr_parse_user(arena, "second(abc, 2.5)", 0, &user, &perr);
    assert_non_null(e);
    assert_int_equal(e->kind, EX_USER);
    assert_int_equal(e->nargs, 0);
    assert_int_equal(e->slot, 1);
    assert_int_equal(e->nuargs, 2);
    assert_int_equal(e->uargs[0]->kind, EX_NAME);
    assert_string_equal(e->uargs[0]->name, "abc");
    assert_int_equal(e->uargs[1]->kind, EX_NUM);
    assert_true(e->uargs[1]->num == 2.5);
    e = sg_expr_parse(arena, "at(abc @ washout, 7)", 1, &perr);
    assert_non_null(e);
    assert_int_equal(e->kind, EX_TRAJ);
    assert_int_equal(e->nargs, 2);
    assert_string_equal(e->name, "washout");
    assert_int_equal(e->arg[0]->kind, EX_NAME);
    assert_string_equal(e->arg[0]->name, "abc");
    assert_int_equal(e->arg[1]->kind, EX_NUM);
    assert_true(e->arg[1]->num == 7.0);
    sg_arena_free(arena);
}

static void test_arena_large_blocks(void **state)
{
    (void)state;
    sg_arena *a = sg_arena_create();
    assert_non_null(a);
    for (int round = 0; round < 2; round++) {
        size_t sizes[] = {100, 3u << 20, 1000, 5u << 20, 7, 9u << 20, 48, 1u << 20};
        for (int k = 0; k < 40; k++) {
            size_t n = sizes[k % 8] + (size_t)k;
            unsigned char *p = sg_arena_alloc(a, n);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % 16, 0);
            assert_true(all_zero(p, n));
            memset(p, 0xa5, n);
        }
        sg_arena_reset(a);
    }
    sg_arena_free(a);
    a = sg_arena_create();
    assert_non_null(a);
    sg_alloc_fail_after(1);
    assert_null(sg_arena_alloc(a, 6u << 20));
    sg_alloc_fail_after(0);
    unsigned char *p = sg_arena_alloc(a, 6u << 20);
    assert_non_null(p);
    assert_true(all_zero(p, 6u << 20));
    /* memory mapped in later (by the loader's reading thread): zero, and
     * populating it, partly written, keeps what was written */
    unsigned char *q = sg_arena_alloc_later(a, 5u << 20);
    unsigned char *r = sg_calloc_later(5u << 20, 1);
    assert_non_null(q);
    assert_non_null(r);
    assert_true(all_zero(q, 5u << 20) && all_zero(r, 5u << 20));
    memset(q + 4096, 7, 100000);
    memset(r + 12345, 9, 100000);
    sg_cfg_pieces_prefault(NULL, q, 5u << 20);
    sg_pages_populate(r, 5u << 20);
    assert_true(all_zero(q, 4096) && q[4096] == 7 && q[4096 + 99999] == 7 &&
                all_zero(q + 4096 + 100000, (5u << 20) - 4096 - 100000));
    assert_true(all_zero(r, 12345) && r[12345] == 9 &&
                all_zero(r + 12345 + 100000, (5u << 20) - 12345 - 100000));
    unsigned char *after = sg_arena_alloc(a, 64);
    assert_non_null(after);
    assert_true(all_zero(after, 64));
    sg_free(r);
    sg_arena_free(a);
}

/* sg_grow past 2 MiB moves a large array into a fresh block (alloc.c):
 * every element written before is still there, at each doubling. */
static void test_large_array_growth(void **state)
{
    (void)state;
    int *a = NULL;
    size_t cap = 0;
    for (int n = 0; n < (6 << 20); n++) {
        assert_int_equal(sg_grow(&a, &cap, (size_t)n + 1, sizeof *a), 0);
        a[n] = n ^ 0x5a5a5a;
        if ((n & (n - 1)) == 0) /* a power of two: at a doubling, look at all */
            for (int k = 0; k <= n; k++)
                assert_int_equal(a[k], k ^ 0x5a5a5a);
    }
    for (int k = 0; k < (6 << 20); k++)
        if (a[k] != (k ^ 0x5a5a5a))
            fail_msg("element %d lost", k);
    sg_alloc_fail_after(1);
    int *keep = a;
    assert_int_equal(sg_grow(&a, &cap, cap + 1, sizeof *a), -1);
    assert_ptr_equal(a, keep); /* a refused growth leaves the array */
    sg_alloc_fail_after(0);
    sg_free(a);
}

/* The tests of glibc's heap (freed memory kept, warming) need glibc's
 * malloc: a sanitizer's has its own, without those settings. */
#if defined(__SANITIZE_ADDRESS__)
#define GLIBC_HEAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GLIBC_HEAP 0
#endif
#endif
#if !defined(GLIBC_HEAP) && defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35)
#define GLIBC_HEAP 1
#endif
#if !defined(GLIBC_HEAP)
#define GLIBC_HEAP 0
#endif

/* sg_alloc_keep_freed_memory (the CLI's): a block larger than glibc's
 * largest automatic mmap threshold (32 MiB) comes from the heap, not a
 * mapping of its own, and freeing it does not give the heap back. Near
 * the end of this program: the setting is for the whole process. */
static void test_keep_freed_memory(void **state)
{
    (void)state;
#if GLIBC_HEAP
    assert_int_equal(sg_alloc_keep_freed_memory(), 1);
    size_t size = (size_t)80 << 20;
    struct mallinfo2 before = mallinfo2();
    unsigned char *p = sg_malloc(size);
    assert_non_null(p);
    p[0] = p[size - 1] = 1;
    struct mallinfo2 during = mallinfo2();
    assert_int_equal(during.hblks, before.hblks);
    sg_free(p);
    struct mallinfo2 after = mallinfo2();
    assert_true(after.arena == during.arena);
#else
    skip();
#endif
}

/* sg_heap_warm_start does nothing before sg_alloc_keep_freed_memory (the
 * block it frees would go back to the kernel) nor for a small size. */
static void test_heap_warm_needs_kept_memory(void **state)
{
    (void)state;
    assert_null(sg_heap_warm_start((size_t)64 << 20, 0));
    sg_heap_warm_finish(NULL);
}

typedef struct warm_in_thread {
    size_t size;
    int warmed;
} warm_in_thread;

static void *warm_from_thread(void *arg)
{
    warm_in_thread *job = arg;
    free(malloc(64)); /* the thread's arena is made by its first malloc */
    sg_heap_warmer *w = sg_heap_warm_start(job->size, 0);
    job->warmed = w != NULL;
    sg_heap_warm_finish(w);
    return NULL;
}

/* After sg_heap_warm_start, the next large allocation is carved from the
 * warmed memory: every page of it is mapped in before it is touched.
 * Without the warming, the heap's new top would not be (mincore). After
 * test_keep_freed_memory, which keeps freed memory for the process. */
static void test_heap_warm(void **state)
{
    (void)state;
#if GLIBC_HEAP
    assert_null(sg_heap_warm_start(4096, 0));
    size_t size = (size_t)160 << 20; /* more than the heap has free */
    sg_heap_warmer *w = sg_heap_warm_start(size, 0);
    assert_non_null(w);
    sg_heap_warm_finish(w);
    size_t want = size - ((size_t)1 << 20);
    unsigned char *p = malloc(want); /* not sg_malloc: that maps pages in */
    assert_non_null(p);
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)p + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t to = ((uintptr_t)p + want) & ~(uintptr_t)(page - 1);
    size_t npages = (to - from) / (size_t)page, missing = 0;
    unsigned char *in = malloc(npages);
    assert_non_null(in);
    assert_int_equal(mincore((void *)from, to - from, in), 0);
    for (size_t k = 0; k < npages; k++)
        missing += !(in[k] & 1);
    assert_int_equal(missing, 0);
    free(in);
    free(p);
    /* in a thread, which runs only when a core is idle: stopped (or done)
     * by sg_heap_warm_finish */
    assert_int_equal(sg_heap_warm_finish(NULL), 0);
    w = sg_heap_warm_start(size, 1);
    assert_non_null(w);
    assert_int_equal(sg_heap_warm_finish(w), 1);
    /* called from another thread, whose arena maps such a block on its
     * own (and unmaps it when freed): nothing is warmed */
    pthread_t thread;
    warm_in_thread job = {.size = size};
    assert_int_equal(pthread_create(&thread, NULL, warm_from_thread, &job), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_false(job.warmed);
#else
    skip();
#endif
}

/* Once freed memory is kept (test_keep_freed_memory, before), an arena's
 * large blocks are the heap's (arena.c): in use by malloc's count, and
 * zeroed though the heap gives back what an earlier block held. */
static void test_arena_blocks_from_heap(void **state)
{
    (void)state;
#if GLIBC_HEAP
    size_t size = (size_t)6 << 20;
    sg_arena *a = sg_arena_create();
    assert_non_null(a);
    for (int round = 0; round < 3; round++) {
        struct mallinfo2 before = mallinfo2();
        unsigned char *p = round == 2 ? sg_arena_alloc_later(a, size) : sg_arena_alloc(a, size);
        assert_non_null(p);
        struct mallinfo2 during = mallinfo2();
        assert_true(during.uordblks >= before.uordblks + size);
        assert_true(all_zero(p, size));
        memset(p, 0x5a, size);
        sg_arena_reset(a);
    }
    sg_arena_free(a);
#else
    skip();
#endif
}

/* The long-double path alone: where it answers (also for decimals near a
 * tie at 15-17 digits and the ends of its range), its text is snprintf's;
 * it answers for 95% of trajectory-like numbers of its range (else the
 * speed-up is lost without a word), and for none outside it, nor for
 * any when long double is no wider than double (under valgrind). */
static void test_number_text_wide(void **state)
{
    (void)state;
    char got[64], want[64];
    uint64_t x = 0x2545f4914f6cdd1du;
    long tried = 0, answered = 0;
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v = (double)(x >> 11) * 0x1.0p-53 * pow(10.0, (double)(int)(x % 55) - 35);
        if (i % 2) { /* a decimal of 1..17 digits, maybe ending in 5, 50, ... */
            char text[64];
            int ndig = 1 + (int)(x % 17);
            uint64_t r = x >> 9;
            char *o = text;
            for (int k = 0; k < ndig; k++, r /= 10) {
                int d = k == 0 ? 1 + (int)(r % 9) : (int)(r % 10);
                if (i % 6 == 1 && k >= ndig / 2)
                    d = k == ndig / 2 ? 5 : 0;
                *o++ = (char)('0' + d);
                if (k == 0)
                    *o++ = '.';
            }
            snprintf(o, sizeof text - (size_t)(o - text), "e%d", (int)((x >> 40) % 54) - 35);
            v = strtod(text, NULL);
            if (i % 4 == 3)
                v = nextafter(v, INFINITY);
        }
        if (i % 5 == 0)
            v = -v;
        if (!(fabs(v) >= 1e-36 && fabs(v) < 1e19))
            continue;
        tried += i % 2 == 0; /* trajectory-like: few ties */
        if (!sg_format_double_wide(got, sizeof got, v))
            continue;
        answered += i % 2 == 0;
        reference_format(want, sizeof want, v);
        if (strcmp(got, want) != 0)
            fail_msg("%a: long double gives \"%s\", snprintf \"%s\"", v, got, want);
    }
    volatile long double one = 1.0L, tiny = 0x1p-60L;
    if (one + tiny == one) { /* valgrind: x87 in double precision */
        assert_int_equal(answered, 0);
        return;
    }
    if (!(answered > 0.95 * (double)tried))
        fail_msg("the long-double path answered %ld of %ld trajectory-like numbers", answered,
                 tried);
    const double outside[] = {0.0, 1e19, 2e19, 9.9e-37, 1e-300, 1e300, INFINITY, NAN, 0.5, 1024.0};
    for (size_t k = 0; k < sizeof outside / sizeof outside[0]; k++)
        assert_int_equal(sg_format_double_wide(got, sizeof got, outside[k]), 0);
    const double ends[] = {1e-36, 1.0000000000000001e-36, 9.999999999999999e18, 1e18, 1e17, 1.0,
                           0.1, 9.999999999999999e-1, 123.456, 6.02e23 * 1e-9};
    for (size_t k = 0; k < sizeof ends / sizeof ends[0]; k++) {
        if (!sg_format_double_wide(got, sizeof got, ends[k]))
            continue;
        reference_format(want, sizeof want, ends[k]);
        assert_string_equal(got, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lexer),
        cmocka_unit_test_setup_teardown(test_values_from_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_from_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_inf_nan_not_folded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constant_folding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_sums_and_products, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_through_program, setup, teardown),
        cmocka_unit_test(test_time_in_program),
        cmocka_unit_test(test_errors_from_file),
        cmocka_unit_test_setup_teardown(test_trajectory_functions_only_in_checks, setup,
                                        teardown),
        cmocka_unit_test(test_number_text),
        cmocka_unit_test(test_number_text_wide),
        cmocka_unit_test(test_pool_nodes_by_kind),
        cmocka_unit_test(test_pool_reserve),
        cmocka_unit_test(test_diff_memo),
        cmocka_unit_test(test_parse_nodes_by_kind),
        cmocka_unit_test(test_arena_large_blocks),
        cmocka_unit_test(test_large_array_growth),
        cmocka_unit_test(test_heap_warm_needs_kept_memory),
        cmocka_unit_test(test_keep_freed_memory), /* then for the whole process */
        cmocka_unit_test(test_heap_warm),
        cmocka_unit_test(test_arena_blocks_from_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

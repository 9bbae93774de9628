/*
 * Parser of the expression language (precedence climbing, after Lua's
 * lparser.c `subexpr`). Produces parse trees in an arena; nodes keep the
 * byte offset of their token for messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"

typedef struct parser {
    sg_lexer lx;
    sg_arena *arena;
    int allow_traj;
    const sg_user_fns *user;
    int depth;
    sg_parse_error *err;
    int failed;
} parser;

/* Binary operators: left and right priority (Lua's priority[]). A left
 * priority higher than the right one makes the operator right-associative. */
static const struct { int token, kind, left, right; } binary_ops[] = {
    {OPT_OR, EX_OR, 1, 1},     {OPT_AND, EX_AND, 2, 2},
    {OPT_LT, EX_LT, 3, 3},     {OPT_LE, EX_LE, 3, 3},
    {OPT_GT, EX_GT, 3, 3},     {OPT_GE, EX_GE, 3, 3},
    {OPT_EQ, EX_EQ, 3, 3},     {OPT_NE, EX_NE, 3, 3},
    {OPT_PLUS, EX_ADD, 4, 4},  {OPT_MINUS, EX_SUB, 4, 4},
    {OPT_STAR, EX_MUL, 5, 5},  {OPT_SLASH, EX_DIV, 5, 5},
    {OPT_CARET, EX_POW, 8, 7},
};
/* Unary minus and `!` bind tighter than * and /, looser than ^:
 * -a^b is -(a^b), -a*b is (-a)*b, 2^-3 is 2^(-3). */
enum { UNARY_PRIORITY = 6 };

/* Functions by name: the node they make and their argument counts. */
enum { MAKE_FN, MAKE_OP, MAKE_MINMAX, MAKE_IF, MAKE_HILL, MAKE_MM, MAKE_TRAJ };
static const struct {
    const char *name;
    int make, code, min_args, max_args;
} functions[] = {
    {"exp", MAKE_FN, FN_EXP, 1, 1},       {"log", MAKE_FN, FN_LOG, 1, 1},
    {"ln", MAKE_FN, FN_LOG, 1, 1},        {"log10", MAKE_FN, FN_LOG10, 1, 1},
    {"sqrt", MAKE_FN, FN_SQRT, 1, 1},     {"abs", MAKE_FN, FN_ABS, 1, 1},
    {"floor", MAKE_FN, FN_FLOOR, 1, 1},   {"ceil", MAKE_FN, FN_CEIL, 1, 1},
    {"sin", MAKE_FN, FN_SIN, 1, 1},       {"cos", MAKE_FN, FN_COS, 1, 1},
    {"tan", MAKE_FN, FN_TAN, 1, 1},       {"tanh", MAKE_FN, FN_TANH, 1, 1},
    {"asin", MAKE_FN, FN_ASIN, 1, 1},     {"acos", MAKE_FN, FN_ACOS, 1, 1},
    {"atan", MAKE_FN, FN_ATAN, 1, 1},     {"factorial", MAKE_FN, FN_FACTORIAL, 1, 1},
    {"pow", MAKE_OP, EX_POW, 2, 2},       {"min", MAKE_MINMAX, EX_MIN, 2, 64},
    {"max", MAKE_MINMAX, EX_MAX, 2, 64},  {"if", MAKE_IF, EX_IF, 3, 3},
    {"delay", MAKE_OP, EX_DELAY, 2, 2},
    {"hill", MAKE_HILL, 0, 3, 3},         {"mm", MAKE_MM, 0, 3, 3},
    {"initial", MAKE_TRAJ, TR_INITIAL, 1, 1},
    {"final", MAKE_TRAJ, TR_FINAL, 1, 1},
    {"at", MAKE_TRAJ, TR_AT, 2, 2},
    {"minimum", MAKE_TRAJ, TR_MINIMUM, 1, 1},
    {"maximum", MAKE_TRAJ, TR_MAXIMUM, 1, 1},
    {"halftime", MAKE_TRAJ, TR_HALFTIME, 1, 2},
    {"drift", MAKE_TRAJ, TR_DRIFT, 0, 1},
    {"lowest", MAKE_TRAJ, TR_LOWEST, 0, 0},
    {"monotone", MAKE_TRAJ, TR_MONOTONE, 1, 1},
    {"ec50", MAKE_TRAJ, TR_EC50, 1, 1},
};

static const char *fn_names[FN_COUNT] = {"exp", "log", "log10", "sqrt", "abs", "floor",
                                         "ceil", "sin", "cos", "tan", "tanh", "asin",
                                         "acos", "atan", "factorial"};
static const char *traj_names[TR_COUNT] = {"initial", "final", "at", "minimum",
                                           "maximum", "halftime", "drift", "lowest",
                                           "monotone", "ec50"};

const char *sg_fn_name(int fn) { return fn >= 0 && fn < FN_COUNT ? fn_names[fn] : "?"; }
const char *sg_traj_fn_name(int fn)
{
    return fn >= 0 && fn < TR_COUNT ? traj_names[fn] : "?";
}

static void fail(parser *p, int pos, const char *fmt, const char *a, const char *b)
{
    if (p->failed)
        return;
    p->failed = 1;
    p->err->pos = pos;
    snprintf(p->err->message, sizeof p->err->message, fmt, a ? a : "", b ? b : "");
}

static void fail_near(parser *p, const char *what)
{
    char tok[64];
    if (p->lx.kind == TK_ERROR) {
        sg_lex_token_text(&p->lx, tok, sizeof tok);
        fail(p, p->lx.pos, "invalid symbol %s%s", tok, NULL);
        return;
    }
    sg_lex_token_text(&p->lx, tok, sizeof tok);
    fail(p, p->lx.pos, "%s near %s", what, tok);
}

static sg_expr *node(parser *p, int kind, int pos)
{
    sg_expr *e = sg_arena_alloc(p->arena, sizeof *e);
    if (!e) {
        fail(p, pos, "out of memory%s%s", NULL, NULL);
        return NULL;
    }
    e->kind = (uint8_t)kind;
    e->pos = pos;
    return e;
}

static sg_expr *binary(parser *p, int kind, int pos, sg_expr *a, sg_expr *b)
{
    if (!a || !b)
        return NULL;
    int depth = (a->depth > b->depth ? a->depth : b->depth) + 1;
    if (depth > SG_EXPR_MAX_HEIGHT) {
        fail(p, pos, "expression too long: more than %s nested operations%s", "10000", NULL);
        return NULL;
    }
    sg_expr *e = node(p, kind, pos);
    if (e) {
        e->depth = depth;
        e->nargs = 2;
        e->arg[0] = a;
        e->arg[1] = b;
    }
    return e;
}

static int is_op(parser *p, int op) { return p->lx.kind == TK_OP && p->lx.op == op; }

static sg_expr *subexpr(parser *p, int limit);

/* args := expr { ',' expr }      (the '(' is current)
 * In a trajectory function the first argument may be `expr '@' NAME`. */
static int arguments(parser *p, sg_expr **args, int max, int traj, const char **scenario)
{
    int open = p->lx.pos, n = 0;
    sg_lex_next(&p->lx);
    if (is_op(p, OPT_RPAREN)) {
        sg_lex_next(&p->lx);
        return 0;
    }
    for (;;) {
        sg_expr *a = subexpr(p, 0);
        if (!a)
            return -1;
        if (traj && n == 0 && is_op(p, OPT_AT)) {
            sg_lex_next(&p->lx);
            if (p->lx.kind != TK_NAME) {
                fail_near(p, "scenario id expected after '@'");
                return -1;
            }
            *scenario = sg_arena_strndup(p->arena, p->lx.text + p->lx.pos, p->lx.len);
            sg_lex_next(&p->lx);
        }
        if (n < max)
            args[n] = a;
        n++;
        if (is_op(p, OPT_COMMA)) {
            sg_lex_next(&p->lx);
            continue;
        }
        if (is_op(p, OPT_RPAREN)) {
            sg_lex_next(&p->lx);
            return n;
        }
        char where[64];
        snprintf(where, sizeof where, "')' expected (to close '(' at offset %d)", open + 1);
        fail_near(p, where);
        return -1;
    }
}

/* A call of user function u: arguments are kept for inlining at bind time. */
static sg_expr *user_call(parser *p, int u, int pos)
{
    const sg_user_fn *fn = &p->user->fns[u];
    sg_expr *args[64] = {0};
    const char *unused = NULL;
    int n = arguments(p, args, 64, 0, &unused);
    if (n < 0)
        return NULL;
    if (n != fn->nargs) {
        char expected[32];
        snprintf(expected, sizeof expected, "%d argument%s", fn->nargs, fn->nargs == 1 ? "" : "s");
        fail(p, pos, "'%s' expects %s", fn->name, expected);
        return NULL;
    }
    sg_expr *e = node(p, EX_USER, pos);
    if (!e)
        return NULL;
    e->slot = u;
    e->nuargs = n;
    e->uargs = sg_arena_alloc(p->arena, sizeof *e->uargs * (size_t)(n + 1));
    if (!e->uargs) {
        fail(p, pos, "out of memory%s%s", NULL, NULL);
        return NULL;
    }
    for (int k = 0; k < n; k++) {
        e->uargs[k] = args[k];
        if (args[k]->depth >= e->depth)
            e->depth = args[k]->depth + 1;
    }
    return e;
}

/* call := NAME '(' args ')'       (NAME is current; the next token is '(') */
static sg_expr *call(parser *p, const char *name, int pos)
{
    size_t i, nf = sizeof functions / sizeof functions[0];
    for (i = 0; i < nf; i++)
        if (strcmp(functions[i].name, name) == 0)
            break;
    int traj = i < nf && functions[i].make == MAKE_TRAJ;
    if (i == nf && p->user) {
        for (int u = 0; u < p->user->count; u++)
            if (strcmp(p->user->fns[u].name, name) == 0)
                return user_call(p, u, pos);
    }
    if (i == nf) {
        sg_suggest s;
        sg_suggest_init(&s, name);
        for (size_t k = 0; k < nf; k++)
            sg_suggest_consider(&s, functions[k].name);
        for (int u = 0; p->user && u < p->user->count; u++)
            sg_suggest_consider(&s, p->user->fns[u].name);
        char hint[128] = "";
        sg_suggest_append(&s, hint, sizeof hint);
        fail(p, pos, "unknown function '%s'%s", name, hint);
        return NULL;
    }
    if (traj && !p->allow_traj) {
        fail(p, pos, "'%s' reads a whole trajectory: it belongs in a check's expect%s", name,
             NULL);
        return NULL;
    }
    sg_expr *args[64] = {0};
    const char *scenario = NULL;
    int n = arguments(p, args, 64, traj, &scenario);
    if (n < 0)
        return NULL;
    if (n < functions[i].min_args || n > functions[i].max_args) {
        char expected[64];
        if (functions[i].min_args == functions[i].max_args)
            snprintf(expected, sizeof expected, "%d argument%s", functions[i].min_args,
                     functions[i].min_args == 1 ? "" : "s");
        else if (functions[i].max_args >= 64)
            snprintf(expected, sizeof expected, "at least %d arguments",
                     functions[i].min_args);
        else
            snprintf(expected, sizeof expected, "%d to %d arguments",
                     functions[i].min_args, functions[i].max_args);
        fail(p, pos, "'%s' expects %s", name, expected);
        return NULL;
    }
    int code = functions[i].code;
    sg_expr *e = NULL;
    switch (functions[i].make) {
    case MAKE_FN:
        e = node(p, EX_FN, pos);
        if (e) {
            e->depth = args[0]->depth + 1;
            e->fn = (uint8_t)code;
            e->nargs = 1;
            e->arg[0] = args[0];
        }
        return e;
    case MAKE_OP:
        return binary(p, code, pos, args[0], args[1]);
    case MAKE_MINMAX:
        e = args[n - 1];
        for (int k = n - 2; k >= 0 && e; k--)
            e = binary(p, code, pos, args[k], e);
        return e;
    case MAKE_IF:
        e = node(p, EX_IF, pos);
        if (e) {
            for (int k = 0; k < 3; k++)
                if (args[k]->depth >= e->depth)
                    e->depth = args[k]->depth + 1;
            e->nargs = 3;
            memcpy(e->arg, args, 3 * sizeof args[0]);
        }
        return e;
    case MAKE_HILL: { /* x^n / (K^n + x^n) */
        sg_expr *xn = binary(p, EX_POW, pos, args[0], args[2]);
        sg_expr *kn = binary(p, EX_POW, pos, args[1], args[2]);
        return binary(p, EX_DIV, pos, xn, binary(p, EX_ADD, pos, kn, xn));
    }
    case MAKE_MM: /* Vmax * x / (Km + x) */
        return binary(p, EX_DIV, pos, binary(p, EX_MUL, pos, args[1], args[0]),
                      binary(p, EX_ADD, pos, args[2], args[0]));
    case MAKE_TRAJ:
        e = node(p, EX_TRAJ, pos);
        if (e) {
            e->fn = (uint8_t)code;
            e->nargs = (uint8_t)n;
            e->name = scenario;
            memcpy(e->arg, args, (size_t)n * sizeof args[0]);
        }
        return e;
    }
    return NULL;
}

/* simple := NUMBER | NAME | call | '(' expr ')' */
static sg_expr *simple(parser *p)
{
    sg_lexer *lx = &p->lx;
    int pos = lx->pos;
    if (lx->kind == TK_NUMBER) {
        sg_expr *e = node(p, EX_NUM, pos);
        if (e)
            e->num = lx->number;
        sg_lex_next(lx);
        return e;
    }
    if (lx->kind == TK_NAME) {
        char *name = sg_arena_strndup(p->arena, lx->text + pos, lx->len);
        if (!name) {
            fail(p, pos, "out of memory%s%s", NULL, NULL);
            return NULL;
        }
        sg_lex_next(lx);
        if (is_op(p, OPT_LPAREN))
            return call(p, name, pos);
        sg_expr *e = node(p, EX_NAME, pos);
        if (e)
            e->name = name;
        return e;
    }
    if (is_op(p, OPT_LPAREN)) {
        sg_lex_next(lx);
        sg_expr *e = subexpr(p, 0);
        if (!e)
            return NULL;
        if (!is_op(p, OPT_RPAREN)) {
            char where[64];
            snprintf(where, sizeof where, "')' expected (to close '(' at offset %d)",
                     pos + 1);
            fail_near(p, where);
            return NULL;
        }
        sg_lex_next(lx);
        return e;
    }
    fail_near(p, lx->kind == TK_EOF ? "expression expected" : "unexpected symbol");
    return NULL;
}

/* Longest chain of + (or of *) folded left to right, as written; a longer
 * one (an observable summing thousands of species) is folded as a balanced
 * tree, so its height is log2 of its length and every later stage, which
 * walks trees recursively, stays shallow. Sums and products are associative
 * in the model's mathematics; only the rounding of chains this long moves. */
#define SG_EXPR_CHAIN_FLAT 1024

static sg_expr *fold_balanced(parser *p, int kind, sg_expr **terms, const int *pos,
                              size_t lo, size_t hi)
{
    if (hi - lo == 1)
        return terms[lo];
    size_t mid = lo + (hi - lo) / 2;
    sg_expr *a = fold_balanced(p, kind, terms, pos, lo, mid);
    sg_expr *b = a ? fold_balanced(p, kind, terms, pos, mid, hi) : NULL;
    return binary(p, kind, pos[mid], a, b);
}

/* left op right op ... for one associative operator `op`: the operands are
 * collected first (a chain is a loop here, not recursion), then folded. */
static sg_expr *subexpr(parser *p, int limit);
static sg_expr *chain(parser *p, int op, int kind, int right_priority, int pos,
                      sg_expr *left, sg_expr *right)
{
    size_t n = 2, cap = 16;
    sg_expr **terms = malloc(cap * sizeof *terms);
    int *where = malloc(cap * sizeof *where);
    sg_expr *result = NULL;
    if (!terms || !where) {
        fail(p, pos, "out of memory%s%s", NULL, NULL);
        goto done;
    }
    terms[0] = left;
    terms[1] = right;
    where[0] = pos; /* where[i]: the operator before terms[i] */
    where[1] = pos;
    while (is_op(p, op)) {
        int at = p->lx.pos;
        sg_lex_next(&p->lx);
        sg_expr *next = subexpr(p, right_priority);
        if (!next)
            goto done;
        if (n == cap) {
            cap *= 2;
            sg_expr **t = realloc(terms, cap * sizeof *terms);
            if (t)
                terms = t;
            int *w = t ? realloc(where, cap * sizeof *where) : NULL;
            if (!t || !w) {
                fail(p, at, "out of memory%s%s", NULL, NULL);
                goto done;
            }
            where = w;
        }
        where[n] = at;
        terms[n++] = next;
    }
    if (n <= SG_EXPR_CHAIN_FLAT) {
        result = terms[0];
        for (size_t i = 1; i < n && result; i++)
            result = binary(p, kind, where[i], result, terms[i]);
    } else {
        result = fold_balanced(p, kind, terms, where, 0, n);
    }
done:
    free(terms);
    free(where);
    return result;
}

/* subexpr := (unop subexpr | simple) { binop subexpr }
 * where each binop is taken only while its left priority exceeds `limit`. */
static sg_expr *subexpr(parser *p, int limit)
{
    sg_lexer *lx = &p->lx;
    if (++p->depth > SG_EXPR_MAX_DEPTH) {
        fail(p, lx->pos, "expression nested too deeply (limit %s)%s", "200", NULL);
        return NULL;
    }
    sg_expr *left;
    if (is_op(p, OPT_MINUS) || is_op(p, OPT_NOT) || is_op(p, OPT_PLUS)) {
        int op = lx->op, pos = lx->pos;
        sg_lex_next(lx);
        sg_expr *operand = subexpr(p, UNARY_PRIORITY);
        if (!operand)
            return NULL;
        if (op == OPT_PLUS) {
            left = operand;
        } else {
            left = node(p, op == OPT_MINUS ? EX_NEG : EX_NOT, pos);
            if (left) {
                left->depth = operand->depth + 1;
                left->nargs = 1;
                left->arg[0] = operand;
            }
        }
    } else {
        left = simple(p);
    }
    while (left && lx->kind == TK_OP) {
        size_t i, n = sizeof binary_ops / sizeof binary_ops[0];
        for (i = 0; i < n; i++)
            if (binary_ops[i].token == lx->op)
                break;
        if (i == n || binary_ops[i].left <= limit)
            break;
        int pos = lx->pos;
        sg_lex_next(lx);
        sg_expr *right = subexpr(p, binary_ops[i].right);
        if (!right)
            return NULL;
        if (binary_ops[i].kind == EX_ADD || binary_ops[i].kind == EX_MUL)
            left = chain(p, binary_ops[i].token, binary_ops[i].kind, binary_ops[i].right, pos,
                         left, right);
        else
            left = binary(p, binary_ops[i].kind, pos, left, right);
    }
    p->depth--;
    return left;
}

sg_expr *sg_expr_parse(sg_arena *arena, const char *text, int allow_traj,
                       sg_parse_error *perr)
{
    return sg_expr_parse_user(arena, text, allow_traj, NULL, perr);
}

sg_expr *sg_expr_parse_user(sg_arena *arena, const char *text, int allow_traj,
                            const sg_user_fns *user, sg_parse_error *perr)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.arena = arena;
    p.allow_traj = allow_traj;
    p.user = user;
    p.err = perr;
    sg_lex_init(&p.lx, text);
    sg_expr *e = subexpr(&p, 0);
    if (e && p.lx.kind != TK_EOF) {
        fail_near(&p, p.lx.kind == TK_OP && p.lx.op == OPT_RPAREN
                          ? "unbalanced ')'" : "operator or end of expression expected");
        e = NULL;
    }
    return p.failed ? NULL : e;
}

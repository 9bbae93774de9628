/*
 * Rate-law expressions: lexer, parser (text -> parse tree with positions),
 * pool (bound, hash-consed and simplified DAG), derivative, evaluation.
 *
 * Parse trees hold names; binding turns them into pool nodes that refer to
 * value slots. Pool nodes are unique (structural sharing), so identical
 * subexpressions anywhere in a model are one node, computed once.
 */
#ifndef SG_EXPR_H
#define SG_EXPR_H

#include <stdint.h>

#include "../util/util.h"

/* Deepest nesting the parser accepts (like Lua's LUAI_MAXCCALLS). */
#define SG_EXPR_MAX_DEPTH 200
/* Tallest tree accepted (a + b + c ... nests without recursion in the
 * parser, but later stages walk trees recursively). */
#define SG_EXPR_MAX_HEIGHT 10000
/* Operations one expression may expand to through user function calls
 * (each call inlines the body: calls inside bodies can multiply). */
#define SG_EXPR_MAX_INLINED 1000000

typedef enum sg_expr_kind {
    EX_NUM,   /* num */
    EX_NAME,  /* name (parse trees only) */
    EX_VAR,   /* slot (bound trees only) */
    EX_NEG, EX_NOT,
    EX_ADD, EX_SUB, EX_MUL, EX_DIV, EX_POW,
    EX_LT, EX_LE, EX_GT, EX_GE, EX_EQ, EX_NE, EX_AND, EX_OR,
    EX_FN,    /* one-argument function, `fn` */
    EX_MIN, EX_MAX,
    EX_IF,    /* arg[0] ? arg[1] : arg[2] */
    EX_TRAJ,  /* check-only trajectory function `fn`; `name` = scenario */
    EX_USER,  /* call of user function number `slot` with uargs (parse trees only) */
    EX_DELAY  /* arg[0] as it was arg[1] time units ago (SBML's delay csymbol) */
} sg_expr_kind;

/* One-argument functions of EX_FN. */
typedef enum sg_fn {
    FN_EXP, FN_LOG, FN_LOG10, FN_SQRT, FN_ABS, FN_FLOOR, FN_CEIL,
    FN_SIN, FN_COS, FN_TAN, FN_TANH, FN_ASIN, FN_ACOS, FN_ATAN, FN_FACTORIAL, FN_COUNT
} sg_fn;

/* Trajectory functions of EX_TRAJ (checks only). */
typedef enum sg_traj_fn {
    TR_INITIAL, TR_FINAL, TR_AT, TR_MINIMUM, TR_MAXIMUM, TR_HALFTIME,
    TR_DRIFT, TR_LOWEST, TR_MONOTONE, TR_EC50, TR_COUNT
} sg_traj_fn;

/* 40 bytes: a 100,000-species model has over 2 million pool nodes. What a
 * node holds besides its kind depends on the kind, so those fields share
 * one union: read num, slot, name or arg only after checking `kind`, and
 * go over arg[0 .. nargs), never over all three (arg[2] is an EX_TRAJ's
 * name, arg[0] an EX_VAR's slot).
 *
 *   EX_NUM          num
 *   EX_NAME         name
 *   EX_VAR          slot
 *   EX_USER         slot (the function's number), nuargs, uargs
 *   EX_TRAJ         arg[0 .. nargs) (nargs <= 2), name (scenario, NULL: default)
 *   anything else   arg[0 .. nargs)
 */
typedef struct sg_expr {
    uint8_t kind;
    uint8_t fn;
    uint8_t nargs;
    int pos;              /* byte offset in the source text (parse trees, EX_TRAJ) */
    int depth;            /* height of the parse tree (parse trees) */
    int id;               /* pool nodes: dense index from 0 */
    union {
        double num;
        struct sg_expr *arg[3];
        struct {
            int slot;
            int nuargs;
            struct sg_expr **uargs;
            const char *name; /* beside arg[0], arg[1] of an EX_TRAJ */
        };
    };
} sg_expr;

const char *sg_fn_name(int fn);
const char *sg_traj_fn_name(int fn);

/* ---- lexer */
typedef enum sg_token_kind {
    TK_EOF, TK_NUMBER, TK_NAME, TK_OP, TK_ERROR
} sg_token_kind;

typedef struct sg_lexer {
    const char *text;
    int pos;          /* start of the current token */
    int next;         /* where the next token starts scanning */
    sg_token_kind kind;
    int op;           /* TK_OP: one of the OP_ codes below */
    double number;
    int len;          /* token length */
} sg_lexer;

enum {
    OPT_PLUS = 1, OPT_MINUS, OPT_STAR, OPT_SLASH, OPT_CARET, OPT_LPAREN,
    OPT_RPAREN, OPT_COMMA, OPT_LT, OPT_LE, OPT_GT, OPT_GE, OPT_EQ, OPT_NE,
    OPT_AND, OPT_OR, OPT_NOT, OPT_AT
};

void sg_lex_init(sg_lexer *lx, const char *text);
/* Advances to the next token; TK_ERROR for a character that starts none. */
void sg_lex_next(sg_lexer *lx);
/* The current token as text (for messages). */
void sg_lex_token_text(const sg_lexer *lx, char *buf, size_t size);

/* ---- parser */
typedef struct sg_parse_error {
    int pos;           /* byte offset of the problem */
    char message[256];
} sg_parse_error;

/* User functions (the model's `functions`): names, argument names and
 * parsed bodies. Bodies are inlined when an expression is bound. */
typedef struct sg_user_fn {
    const char *name;
    const char **args;
    int nargs;
    const sg_expr *body; /* parse tree; NULL while not yet parsed */
} sg_user_fn;

typedef struct sg_user_fns {
    const sg_user_fn *fns;
    int count;
} sg_user_fns;

/* Parses `text` into a tree in `arena`. With allow_traj, check functions
 * (final, halftime, ... and `X @ scenario`) are accepted. Returns NULL and
 * fills perr on a syntax error or allocation failure. */
sg_expr *sg_expr_parse(sg_arena *arena, const char *text, int allow_traj,
                       sg_parse_error *perr);
/* The same, also accepting calls of `user` functions (may be NULL). */
sg_expr *sg_expr_parse_user(sg_arena *arena, const char *text, int allow_traj,
                            const sg_user_fns *user, sg_parse_error *perr);

/* ---- pool: bound, unique, simplified nodes */
typedef struct sg_pool sg_pool;

sg_pool *sg_pool_create(void);
void sg_pool_free(sg_pool *pool);
int sg_pool_size(const sg_pool *pool); /* number of nodes; ids are < size */
/* Makes room in the table for `nodes` nodes at once, so that it does not
 * grow (rehashing every node each time it doubles) on the way there.
 * 0, or -1 when out of memory (the table then grows as it fills). */
int sg_pool_reserve(sg_pool *pool, size_t nodes);
size_t sg_pool_buckets(const sg_pool *pool); /* the table's size (tests) */
/* Whether e is x^3 or x^4 (a number 3 or 4 as exponent), which the
 * compiler writes as products of x^2 */
int sg_expr_is_cube(const sg_expr *e);
/* The ids of the pool's nodes for which sg_expr_is_cube holds, in the order
 * made: the compiler makes their x^2 before compiling (program.c). Valid
 * until the next node is made. */
size_t sg_pool_cubes(const sg_pool *pool, const int **ids);

/* Constructors return NULL only when out of memory. They simplify: constant
 * folding (never folding a division by zero or a NaN/infinite result), and
 * identities such as x+0, x*1, x*0, x^1, --x. */
sg_expr *sg_pool_num(sg_pool *pool, double value);
sg_expr *sg_pool_var(sg_pool *pool, int slot);
sg_expr *sg_pool_op(sg_pool *pool, int kind, int fn, sg_expr *a, sg_expr *b,
                    sg_expr *c);
/* EX_TRAJ nodes are not simplified and not shared. */
sg_expr *sg_pool_traj(sg_pool *pool, int fn, const char *scenario, sg_expr *a,
                      sg_expr *b);

/* The node with this id (NULL if none). */
sg_expr *sg_pool_node(const sg_pool *pool, int id);
/* Appends a copy of `proto` (its arguments already in the pool) as the
 * next node, without simplifying and without looking for an equal node:
 * reading back a saved pool (model/image.c) gives every node its old id,
 * and the lookup table is built only when a node is next made (a pool read
 * from an image is often only evaluated). NULL when out of memory. */
sg_expr *sg_pool_restore(sg_pool *pool, const sg_expr *proto);

int sg_expr_is_num(const sg_expr *e, double value);

/* Binds a parse tree: every EX_NAME is passed to `resolve`, which returns a
 * slot (>= 0) or -1 (then *perr names the position and the message resolve
 * wrote). */
typedef int (*sg_resolve_fn)(void *ctx, const char *name, int is_traj_data,
                             char *msg, size_t msgsize);
sg_expr *sg_expr_bind(sg_pool *pool, const sg_expr *tree, sg_resolve_fn resolve,
                      void *ctx, sg_parse_error *perr);
/* The same, inlining calls of `user` functions: each argument is bound, then
 * the body with its parameter names standing for the bound arguments. */
sg_expr *sg_expr_bind_user(sg_pool *pool, const sg_expr *tree, sg_resolve_fn resolve,
                           void *ctx, const sg_user_fns *user, sg_parse_error *perr);

/* ---- derivative */
/* d e / d (slot `var`), treating every other slot as independent.
 * NULL only when out of memory. */
sg_expr *sg_expr_diff(sg_pool *pool, sg_expr *e, int var);
/* The same with a memo kept from one call to the next (its memory is
 * reused; the results of earlier calls are not). */
typedef struct sg_diff_memo sg_diff_memo;
sg_diff_memo *sg_diff_memo_create(void);
void sg_diff_memo_free(sg_diff_memo *memo);
sg_expr *sg_expr_diff_memo(sg_pool *pool, sg_diff_memo *memo, sg_expr *e, int var);
/* Collects the distinct slots e refers to (appends to *slots, marking
 * seen[slot]; seen must cover every slot and is left set). */
int sg_expr_slots(const sg_expr *e, unsigned char *seen, int **slots,
                  size_t *count, size_t *cap);

/* ---- evaluation (tree walking: folding and checks, not the RHS) */
double sg_fn_apply(int fn, double x);
double sg_op_apply(int kind, double a, double b);
double sg_expr_eval(const sg_expr *e, const double *slots);

/* delay(x, tau) outside the instruction program (event assignments,
 * priorities, triggers read by the sim): the value the running solver's
 * history holds (compile/delay.c); without one, x now (right at the
 * start and at a steady state). */
double sg_delay_eval(const sg_expr *e, double x_now, double tau, const double *slots);

#endif

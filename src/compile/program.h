/*
 * The compiled model: one flat instruction program over an array of value
 * slots, the stoichiometry as a sparse matrix, and the analytic Jacobian
 * (derived symbolically, compiled the same way) with its sparsity pattern.
 *
 * Evaluating the right-hand side allocates nothing, looks up no name and
 * walks no tree: it copies the state into the slots, runs the instructions
 * and sums rate x stoichiometry per species.
 */
#ifndef SG_PROGRAM_H
#define SG_PROGRAM_H

#include <stdint.h>

#include "../model/model.h"

/* Instructions. Operands are slot indices into the value array v.
 * The meaning of every arithmetic operator and function is the one of
 * sg_op_apply / sg_fn_apply (expr/eval.c). */
typedef enum sg_opcode {
    OP_COPY,   /* v[dst] = v[a] */
    OP_NEG,    /* v[dst] = -v[a] */
    OP_NOT,    /* v[dst] = v[a] == 0 */
    OP_ADD,    /* v[dst] = v[a] + v[b] */
    OP_SUB,    /* v[dst] = v[a] - v[b] */
    OP_MUL,    /* v[dst] = v[a] * v[b] */
    OP_DIV,    /* v[dst] = v[a] / v[b] */
    OP_POW,    /* v[dst] = pow(v[a], v[b]) */
    OP_SQUARE, /* v[dst] = v[a] * v[a]       (x^2) */
    OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE, /* v[dst] = v[a] (op) v[b], 1 or 0 */
    OP_AND,    /* v[dst] = v[a] != 0 && v[b] != 0 */
    OP_OR,     /* v[dst] = v[a] != 0 || v[b] != 0 */
    OP_MIN,    /* v[dst] = min(v[a], v[b]) */
    OP_MAX,    /* v[dst] = max(v[a], v[b]) */
    OP_FN,     /* v[dst] = fn(v[a]), fn one of sg_fn */
    OP_IF,     /* v[dst] = v[a] != 0 ? v[b] : v[c] */
    OP_DELAY,  /* v[dst] = delay number c's x (now in v[a]) at time - v[b] (delay.c) */
    OP_LAST = OP_DELAY
} sg_opcode;

typedef struct sg_native sg_native;
typedef struct sg_vm sg_vm;

typedef struct sg_instr {
    uint8_t op;
    uint8_t fn;
    int32_t dst, a, b, c;
} sg_instr;

struct sg_program {
    int nslots;            /* model slots, then constants and temporaries */
    int nmodel_slots;      /* [0, nmodel_slots): the model's own slots */
    int nstate;
    int time_slot;
    double *base;          /* initial content of the value array */

    /* Code that depends only on parameters (not on states or time) runs once
     * per start, in sg_program_scale; the sections below hold the rest. */
    sg_instr *setup;
    int n_setup;

    sg_instr *code;
    int n_assign;          /* [0, n_assign): assignments, dependency order */
    int n_rhs;             /* [n_assign, n_rhs): reaction and rate-rule rates */
    int n_roots;           /* [n_rhs, n_roots): root functions and event triggers */
    int n_code;            /* [n_roots, n_code): Jacobian partial derivatives */
    /* code indices section by section in compile order (depth first), the
     * order the native backend writes them in: code[] itself is sorted
     * for the interpreter */
    int *emit_order;

    /* Model events: CVODE watches nroots functions (each a comparison
     * a - b of some trigger); trigger_slot[k] holds trigger k (1 or 0). */
    int nroots;
    int *root_slot;
    /* the equality comparisons in triggers (x == 5) and the index of each
     * one's root function (x - 5): where the solver finds that root, x
     * crossed 5 and the comparison counts as true (sg_crossings_force) */
    const struct sg_expr **equalities;
    int *equality_root;
    int nequalities;
    int ntriggers;
    int *trigger_slot;

    /* d state_i / dt = sum_k st_coef[k] * v[st_rate[k]] / size(compartment of i)
     * for k in [st_start[i], st_start[i+1]) */
    int *st_start;
    int *st_rate;
    double *st_coef;
    int *state_comp_slot;

    /* Jacobian in compressed sparse columns over the states; entry e is
     * sum over k in [jt_start[e], jt_start[e+1]) of jt_coef[k] * v[jt_slot[k]]
     * divided by the size of row species' compartment. */
    int nnz;
    int *jac_colptr;
    int *jac_rowidx;
    int *jt_start;
    int *jt_slot;
    double *jt_coef;

    /* delay(x, tau) nodes: OP_DELAY number k reads the history of x kept
     * by the solver (delay.c); x now is in delay_x_slot[k], tau in
     * delay_tau_slot[k]. Their x and tau are computed before n_roots. */
    int ndelays;
    const struct sg_expr **delay_node;
    int *delay_x_slot;
    int *delay_tau_slot;
    int *delay_timed;      /* x changes with time alone (delay.c: before the start) */
    const char *const *slot_names; /* the model's (borrowed), for messages */

    /* The same code compiled to machine code (native.c), or NULL: the
     * instruction program runs. Either gives bit-identical values. */
    sg_native *native;
    /* The interpreter's copy of the code (vm.c: superinstructions, its own
     * order), rebuilt from code after compiling or reading an image; NULL:
     * the code itself is interpreted. */
    sg_vm *vm;
    /* Its rates were compiled by another thread while the Jacobian was
     * derived (program.c, two_threads); the program is the same either
     * way. */
    int two_threads;
};

sg_status sg_program_compile(sg_model *model, sg_program **out, sg_error *err);

/* Models with this many rates (reactions and rate rules) or more have their
 * rates compiled by another thread while the Jacobian is derived, on a
 * machine of 2 cores or more (program.c, two_threads) */
#define SG_COMPILE_TWO_THREADS_MIN_RATES 1000
/* -1: as above; 0: never; 1: for every model where it can (tests) */
extern int sg_compile_two_threads;
/* The root functions (a - b of each comparison) of a trigger, appended to
 * *roots once each in the order met: the program's root order, which the
 * sensitivity code (senscode.c) must follow. -1 when out of memory. */
int sg_program_collect_roots(sg_pool *pool, sg_expr *e, sg_expr ***roots, size_t *n,
                             size_t *cap);
void sg_program_free(sg_program *prog);

/* Prepares the value slots after parameters changed (a start, an event):
 * runs the setup code (everything that depends on parameters only) and
 * computes the scaled coefficients (stoichiometry / compartment size). */
void sg_program_scale(const sg_program *prog, double *v, double *st_scaled, double *jt_scaled);

/* Runs instructions [begin, end) on v. */
void sg_program_exec(const sg_program *prog, int begin, int end, double *v);

/* ydot = f(t, y). Returns the index of a state with a non-finite derivative,
 * or -1 when all are finite. */
int sg_program_rhs(const sg_program *prog, double t, const double *y, double *ydot, double *v,
                   const double *st_scaled);

/* Root functions at (t, y) into g (nroots values). */
void sg_program_roots(const sg_program *prog, double t, const double *y, double *g, double *v);

/* The Jacobian's nnz values (CSC order) at (t, y). */
void sg_program_jacobian(const sg_program *prog, double t, const double *y, double *values,
                         double *v, const double *jt_scaled);

/* The history delay() reads (delay.c): points (t, x of each delay). */
typedef struct sg_delay_history sg_delay_history;
sg_delay_history *sg_delay_history_create(const sg_program *prog);
void sg_delay_history_free(sg_delay_history *h);
void sg_delay_history_clear(sg_delay_history *h);
int sg_delay_history_count(const sg_delay_history *h);
/* The time of the last point (-inf when there is none). */
double sg_delay_history_last(const sg_delay_history *h);
/* Drops the points after t (a restart at t inside the last step). */
void sg_delay_history_cut(sg_delay_history *h, double t);
/* Appends the point (t, v[delay_x_slot[k]] for each k); -1 without memory.
 * Two points at one time are a jump: no interpolation across them. */
int sg_delay_history_add(sg_delay_history *h, double t, const double *v);
/* Makes h the history delay() reads in this thread; NULL: none, delay(x,
 * tau) is x now (the start, a steady state). Returns the previous one. */
sg_delay_history *sg_delay_use(sg_delay_history *h);
/* Before the start, the model's initial-value expressions hold at the
 * earlier time too (SBML Test Suite 00938: x's initial assignment
 * sin(10 * time) is x before the start): fn(ctx, v) recomputes them in v,
 * whose time is set. Set by the sim, NULL: none. */
typedef void (*sg_delay_past_fn)(void *ctx, double *v);
void sg_delay_history_set_past(sg_delay_history *h, sg_delay_past_fn fn, void *ctx);
/* The first failed lookup since the last clear (a negative tau), or NULL. */
const char *sg_delay_history_error(const sg_delay_history *h);
/* OP_DELAY: delay k's x at time v[time slot] - tau (x_now: x at that time). */
double sg_delay_lookup(int k, double x_now, double tau, const double *v);

/* Emission of further code over a program's slots (sensitivities): `out`
 * has nslots >= the model program's and a base of that many values; each
 * sg_codegen_value appends the instructions computing e (once per node) to
 * out->code and returns the slot holding it, or -1 when out of memory. */
typedef struct sg_codegen sg_codegen;
sg_codegen *sg_codegen_create(sg_model *model, sg_program *out);
int sg_codegen_value(sg_codegen *gen, sg_expr *e);
void sg_codegen_free(sg_codegen *gen);

/* Derivatives for forward sensitivities (senscode.c), compiled once per
 * list of sensitivity parameters. A "column" is a non-state slot the
 * right-hand side depends on and whose value depends on the parameters:
 * a sensitivity parameter that is not a state, or a parameter / constant
 * species / compartment whose initial-value expression uses one (a
 * derived value).
 *   df_i/du_c = sum over e in [fu_start[c], fu_start[c+1]) of
 *               fu_coef[e] * v[fu_slot[e]] / size(compartment of fu_row[e])
 *               - [u_c is the size of i's compartment] f_i / u_c
 * (the last term, from f_i = sum coef rate / size, is not compiled here:
 * scenario/sens.c adds it from f itself)
 * The code (VM only) runs on value slots extending the model program's:
 * [0, n_rhs) computes the fu slots, [n_rhs, n_code) the derivatives of
 * the assignments (for outputs):
 *   d a/dp = sum over [ax_start[a], ax_start[a+1]) v[ax_slot] * s[ax_state]
 *          + sum over [au_start[a], au_start[a+1]) v[au_slot] * du[au_col]/dp */
typedef struct sg_sens_code {
    int nparams;
    int *param_slot;
    int ncols;
    int *col_slot;
    int *col_param;        /* the sensitivity parameter of a column, -1: derived */
    sg_program *code;      /* code, n_code, nslots and base only */
    int n_rhs;
    int *fu_start, *fu_row, *fu_slot;
    double *fu_coef;
    int *ax_start, *ax_state, *ax_slot; /* per assignment (model index) */
    int *au_start, *au_col, *au_slot;
    /* initial values: for init step k, d value / d slot is_slot[e] is the
     * expression is_d[e], e in [is_start[k], is_start[k+1]) */
    int *is_start, *is_slot;
    sg_expr **is_d;
    /* Model events (jump conditions at a trigger's root): the gradients of
     * each root function g_r (the comparisons a - b of the triggers, in the
     * solver's order) and of each event assignment's value. */
    int nroots;
    struct sg_grad *root_grad;      /* nroots */
    struct sg_grad **assign_grad;   /* per trigger: one per assignment */
    int ntriggers_compiled;
    int *assign_count;
} sg_sens_code;

/* Total derivatives of an expression (through assignments) with respect
 * to the states, the columns and time; expressions over the model slots,
 * evaluated with sg_expr_eval at an event. */
typedef struct sg_grad {
    int nx, nu;
    int *x;           /* states */
    sg_expr **dx;
    int *u;           /* columns */
    sg_expr **du;
    sg_expr *dt;      /* NULL: 0 */
} sg_grad;

/* SG_ERR_USAGE for a slot that cannot be a sensitivity parameter (an
 * assignment, time). */
sg_status sg_sens_code_compile(sg_model *model, const int *param_slots, int nparams,
                               sg_sens_code **out, sg_error *err);
void sg_sens_code_free(sg_sens_code *code);

/* The native backend (native.c): writes the program as C, compiles it with
 * the system compiler (or finds it in the cache) and attaches it to prog.
 * With only_cached, it never compiles: prog stays as it is (SG_OK) when
 * the cache lacks the object. On failure prog is unchanged and keeps
 * running the instruction program. */
sg_status sg_native_build(sg_program *prog, int only_cached, sg_error *err);
void sg_native_unload(sg_native *native);
/* Runs the code up to section boundary `end`; -1 if `end` is not one. */
int sg_native_exec(const sg_program *prog, int end, double *v);
void sg_native_rhs_sum(const sg_program *prog, const double *v, const double *st_scaled,
                       double *ydot);
void sg_native_jac_sum(const sg_program *prog, const double *v, const double *jt_scaled,
                       double *values);

#endif

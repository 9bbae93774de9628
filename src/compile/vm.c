/*
 * The interpreter's copy of a program (vm.h), rebuilt from prog->code:
 *
 * - superinstructions: a temporary that a binary operation computes and
 *   exactly one instruction of the same section reads, a binary operation
 *   too, is computed inside that instruction (the temporary is then never
 *   written). Only a temporary read once may go: one read by a second
 *   instruction, or by anything outside the code (the stoichiometry and
 *   Jacobian sums, root functions, delays, the setup code), keeps its
 *   instruction. The operations and their order stay those of the program
 *   ((a * b) - c is still a product, rounded, then a difference, rounded;
 *   vm.c is compiled with -ffp-contract=off), so values are bit-identical;
 * - a temporary read by one instruction of its section and again later
 *   (by the Jacobian's code or sums, a root) is fused the same way but
 *   still stored by the fused instruction (net1000: 700 fewer of 6,400);
 *   and a few chains measured often (Michaelis-Menten and Hill rates,
 *   mass action times a size) are one instruction each (net1000: 1,000
 *   fewer again);
 * - a copy of such a temporary into a named slot (an assignment or rate
 *   whose expression was computed before) is dropped: the instruction
 *   computing the temporary writes the named slot instead;
 * - within a section the instructions are sorted again by dependency level,
 *   then by opcode, so runs of one operation keep the indirect branches
 *   predictable;
 * - each section ends with a stop instruction: the loop checks no bound
 *   per instruction, only at the (four) section ends;
 * - dispatch is threaded (GCC/Clang labels as values): each instruction
 *   holds its handler's offset from the first handler, so going on is one
 *   load and one indirect jump, predicted per handler;
 * - an instruction takes only the 32-bit words its opcode reads, and the
 *   temporaries only the copy reads are renumbered in the order it writes
 *   them: a run streams fewer bytes of code and touches fewer lines of v.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jit.h"
#include "vm.h"

/* The copy is a stream of 32-bit words: an instruction is its handler's
 * label - the first handler's (threaded dispatch; else the opcode), then
 * dst, a, b, c, d, cut to the words its opcode reads (length_of): a run
 * streams 20% fewer bytes than with six words each (net1000's rates). */
enum { AT_go, AT_dst, AT_a, AT_b, AT_c, AT_d, AT_e, AT_WORDS };

static inline int length_of(int op)
{
    switch (op) {
    case OP_COPY:
    case OP_NEG:
    case OP_NOT:
    case OP_SQUARE:
    case VM_STOP:
        return 3;
    case OP_FN:
    case OP_IF:
    case OP_DELAY:
        return 5;
    case VM_MUL_DIV_LS_ADD_L:
    case VM_MUL_DIV_LS_ADD_R:
    case VM_ADD_DIV_RS_MUL_L:
    case VM_ADD_DIV_RS_MUL_R:
    case VM_MUL_MUL_SUB_MUL_L:
    case VM_MUL_MUL_SUB_MUL_R:
        return 7;
    default:
        if (op >= VM_ADD_ADD_L && op <= VM_DIV_DIV_R)
            return 5;
        return op >= VM_ADD_ADD_LS ? 6 : 4; /* stored and double ones read d */
    }
}

/* Sums of coefficient x slot (the stoichiometry's, the Jacobian's): the
 * rows sorted by their number of terms, so that the loop of each count is
 * written out and its branches are always predicted. */
#define SG_VM_UNROLLED 8 /* rows of more terms: one loop */
typedef struct vm_sums {
    /* pairs (row, its first term): the first term beside the row, not
     * looked up in start[] through it (10% off net1000's sums) */
    int *row;
    int group_end[SG_VM_UNROLLED + 2]; /* rows of j terms: [group_end[j-1], group_end[j]) */
} vm_sums;

struct sg_vm {
    int32_t *code;
    int *at;     /* where each instruction starts in code */
    uint8_t *op; /* each instruction's opcode */
    int n;
    int bounds[4]; /* the program's n_assign, n_rhs, n_roots, n_code */
    vm_sums rhs, jac;
    int *jt_slot; /* the program's jt_slot, temporaries renumbered as in code */
    int32_t stop_go; /* a stop's first word (sg_vm_single) */
    sg_jit *jit;     /* the copy as machine code, or NULL (jit.h) */
    sg_jit *rhs_jit, *jac_jit; /* the sums as machine code, or NULL */
    int jit_on;
};

/* An instruction while the copy is built. */
typedef struct work {
    int op, fn, dst, a, b, c, d;
    int dead;
    int e; /* the chains' fifth operand */
} work;

/* ------------------------------------------------------------ interpreter */

/* The handlers: V(x) is the value of operand x. OP_FN keeps its function
 * in c, OP_DELAY its delay's number. */
#define V(x) v[i[AT_##x]]
#define SG_VM_BASE(X)                                                                          \
    X(OP_COPY, V(dst) = V(a))                                                                  \
    X(OP_NEG, V(dst) = -V(a))                                                                  \
    X(OP_NOT, V(dst) = V(a) == 0.0)                                                            \
    X(OP_ADD, V(dst) = V(a) + V(b))                                                            \
    X(OP_SUB, V(dst) = V(a) - V(b))                                                            \
    X(OP_MUL, V(dst) = V(a) * V(b))                                                            \
    X(OP_DIV, V(dst) = V(a) / V(b))                                                            \
    X(OP_POW, V(dst) = pow(V(a), V(b)))                                                        \
    X(OP_SQUARE, V(dst) = V(a) * V(a))                                                         \
    X(OP_LT, V(dst) = V(a) < V(b))                                                             \
    X(OP_LE, V(dst) = V(a) <= V(b))                                                            \
    X(OP_GT, V(dst) = V(a) > V(b))                                                             \
    X(OP_GE, V(dst) = V(a) >= V(b))                                                            \
    X(OP_EQ, V(dst) = V(a) == V(b))                                                            \
    X(OP_NE, V(dst) = V(a) != V(b))                                                            \
    X(OP_AND, V(dst) = V(a) != 0.0 && V(b) != 0.0)                                             \
    X(OP_OR, V(dst) = V(a) != 0.0 || V(b) != 0.0)                                              \
    X(OP_MIN, V(dst) = sg_op_apply(EX_MIN, V(a), V(b)))                                        \
    X(OP_MAX, V(dst) = sg_op_apply(EX_MAX, V(a), V(b)))                                        \
    X(OP_FN, V(dst) = sg_fn_apply(i[AT_c], V(a)))                                              \
    X(OP_IF, V(dst) = V(a) != 0.0 ? V(b) : V(c))                                               \
    X(OP_DELAY, V(dst) = sg_delay_lookup(i[AT_c], V(a), V(b), v))                              \
    X(VM_STOP, if (i[AT_a] >= last) return)
#define SG_VM_FUSED_BODY(X, P, p_op, C, c_op)                                                  \
    X(VM_##P##_##C##_L, V(dst) = (V(a) p_op V(b)) c_op V(c))                                   \
    X(VM_##P##_##C##_R, V(dst) = V(c) c_op (V(a) p_op V(b)))
#define SG_VM_STORED_BODY(X, P, p_op, C, c_op)                                                 \
    X(VM_##P##_##C##_LS, double t = V(a) p_op V(b); V(d) = t; V(dst) = t c_op V(c))            \
    X(VM_##P##_##C##_RS, double t = V(a) p_op V(b); V(d) = t; V(dst) = V(c) c_op t)
#define SG_VM_DOUBLE(X)                                                                        \
    X(VM_DIV_DIV_SUB, V(dst) = V(a) / V(b) - V(c) / V(d))                                      \
    X(VM_MUL_MUL_SUB, V(dst) = V(a) * V(b) - V(c) * V(d))                                      \
    X(VM_MUL_MUL_ADD, V(dst) = V(a) * V(b) + V(c) * V(d))                                      \
    X(VM_MUL_DIV_LS_ADD_L, double t = V(a) * V(b); V(d) = t; V(dst) = t / V(c) + V(e))         \
    X(VM_MUL_DIV_LS_ADD_R, double t = V(a) * V(b); V(d) = t; V(dst) = V(e) + t / V(c))         \
    X(VM_ADD_DIV_RS_MUL_L, double t = V(a) + V(b); V(d) = t; V(dst) = V(c) / t * V(e))         \
    X(VM_ADD_DIV_RS_MUL_R, double t = V(a) + V(b); V(d) = t; V(dst) = V(e) * (V(c) / t))       \
    X(VM_MUL_MUL_SUB_MUL_L, V(dst) = (V(a) * V(b) - V(c) * V(d)) * V(e))                       \
    X(VM_MUL_MUL_SUB_MUL_R, V(dst) = V(e) * (V(a) * V(b) - V(c) * V(d)))

/* Every handler, as SG_VM_CASE(code, body), which each expansion below
 * defines for itself (the handlers' places, threaded code, a switch). */
#define SG_VM_FUSED_CASE(P, p, C, c) SG_VM_FUSED_BODY(SG_VM_CASE, P, p, C, c)
#define SG_VM_STORED_CASE(P, p, C, c) SG_VM_STORED_BODY(SG_VM_CASE, P, p, C, c)
#define SG_VM_HANDLERS                                                                         \
    SG_VM_BASE(SG_VM_CASE)                                                                     \
    SG_VM_FUSED(SG_VM_FUSED_CASE) SG_VM_FUSED(SG_VM_STORED_CASE) SG_VM_DOUBLE(SG_VM_CASE)

/* Runs from i until the stop of section `last` (0..3). With `offsets`, only
 * fills offsets[op] (the handlers' places) and returns. */
#if defined(__GNUC__) && !defined(__clang__)
/* no tail merging or global CSE: each handler keeps its own jump */
__attribute__((optimize("no-crossjumping", "no-gcse")))
#endif
static void vm_run(const int32_t *i, int last, double *v, int32_t *offsets)
{
#if defined(__GNUC__)
#define SG_VM_CASE(code, body) offsets[code] = (int32_t)(&&do_##code - &&do_OP_COPY);
    if (offsets) {
        SG_VM_HANDLERS
        return;
    }
#undef SG_VM_CASE
#define SG_VM_NEXT goto *(&&do_OP_COPY + i[AT_go])
    SG_VM_NEXT;
#define SG_VM_CASE(code, body)                                                                 \
    do_##code : {                                                                              \
        body;                                                                                  \
    }                                                                                          \
    i += length_of(code);                                                                      \
    SG_VM_NEXT;
    SG_VM_HANDLERS
#undef SG_VM_CASE
#undef SG_VM_NEXT
#else
    if (offsets) {
        for (int op = 0; op <= VM_LAST; op++)
            offsets[op] = op;
        return;
    }
    for (;;) {
        switch (i[AT_go]) {
#define SG_VM_CASE(code, body)                                                                 \
    case code: {                                                                               \
        body;                                                                                  \
        i += length_of(code);                                                                  \
        break;                                                                                 \
    }
            SG_VM_HANDLERS
#undef SG_VM_CASE
        }
    }
#endif
}
#undef SG_VM_HANDLERS
#undef SG_VM_STORED_CASE
#undef SG_VM_FUSED_CASE
#undef V

int sg_vm_exec(const sg_vm *vm, int end, double *v)
{
    for (int s = 0; s < 4; s++)
        if (vm->bounds[s] == end) {
            if (vm->jit && vm->jit_on)
                sg_jit_run(vm->jit, s, v);
            else
                vm_run(vm->code, s, v, NULL);
            return 0;
        }
    return -1;
}

/* out[r] = 0.0 + coef[k] * v[slot[k]] + ... over k in [start[r], start[r+1]),
 * added in that order as the program does (sg_program_rhs). */
static void sum_rows(const vm_sums *sums, const int *start, const int *slot, const double *coef,
                     const double *v, double *out)
{
    const int *r = sums->row;
#define T(j) +coef[k + j] * v[slot[k + j]]
#define SG_VM_SUM(terms, sum)                                                                  \
    for (const int *end = sums->row + 2 * sums->group_end[terms]; r < end; r += 2) {           \
        int k = r[1];                                                                          \
        (void)k;                                                                               \
        out[r[0]] = sum;                                                                       \
    }
    SG_VM_SUM(0, 0.0)
    SG_VM_SUM(1, 0.0 T(0))
    SG_VM_SUM(2, 0.0 T(0) T(1))
    SG_VM_SUM(3, 0.0 T(0) T(1) T(2))
    SG_VM_SUM(4, 0.0 T(0) T(1) T(2) T(3))
    SG_VM_SUM(5, 0.0 T(0) T(1) T(2) T(3) T(4))
    SG_VM_SUM(6, 0.0 T(0) T(1) T(2) T(3) T(4) T(5))
    SG_VM_SUM(7, 0.0 T(0) T(1) T(2) T(3) T(4) T(5) T(6))
    SG_VM_SUM(8, 0.0 T(0) T(1) T(2) T(3) T(4) T(5) T(6) T(7))
#undef SG_VM_SUM
#undef T
    _Static_assert(SG_VM_UNROLLED == 8, "one loop per count above");
    const int *end = sums->row + 2 * sums->group_end[SG_VM_UNROLLED + 1];
    for (; r < end; r += 2) {
        double s = 0.0;
        for (int k = r[1]; k < start[r[0] + 1]; k++)
            s += coef[k] * v[slot[k]];
        out[r[0]] = s;
    }
}

void sg_vm_rhs_sum(const sg_program *p, const double *v, const double *st_scaled, double *ydot)
{
    const sg_vm *vm = p->vm;
    if (vm->rhs_jit && vm->jit_on)
        sg_jit_sums_run(vm->rhs_jit, v, st_scaled, ydot);
    else
        sum_rows(&vm->rhs, p->st_start, p->st_rate, st_scaled, v, ydot);
}

void sg_vm_jac_sum(const sg_program *p, const double *v, const double *jt_scaled, double *values)
{
    const sg_vm *vm = p->vm;
    if (vm->jac_jit && vm->jit_on)
        sg_jit_sums_run(vm->jac_jit, v, jt_scaled, values);
    else
        sum_rows(&vm->jac, p->jt_start, vm->jt_slot, jt_scaled, v, values);
}

/* ---------------------------------------------------------------- building */

/* Sorts rows [0, nrows) by their number of terms (a stable counting sort). */
static int group_rows(vm_sums *sums, int nrows, const int *start)
{
    int count[SG_VM_UNROLLED + 2] = {0};
    sums->row = sg_malloc(sizeof *sums->row * (2 * (size_t)nrows + 1));
    if (!sums->row)
        return -1;
    for (int r = 0; r < nrows; r++) {
        int terms = start[r + 1] - start[r];
        count[terms > SG_VM_UNROLLED ? SG_VM_UNROLLED + 1 : terms]++;
    }
    int at = 0;
    for (int g = 0; g < SG_VM_UNROLLED + 2; g++) {
        int n = count[g];
        count[g] = at; /* now where group g's next row goes */
        at += n;
        sums->group_end[g] = at;
    }
    for (int r = 0; r < nrows; r++) {
        int terms = start[r + 1] - start[r];
        int place = count[terms > SG_VM_UNROLLED ? SG_VM_UNROLLED + 1 : terms]++;
        sums->row[2 * place] = r;
        sums->row[2 * place + 1] = start[r];
    }
    return 0;
}

static int is_binary(int op) { return sg_vm_binary_index(op) >= 0; }

/* The superinstruction for (a p b) c x (right: x c (a p b)), p and c binary
 * opcodes; stored: the one that also stores a p b in d. */
static int fused_op(int p, int c, int right, int stored)
{
    return sg_vm_fused_op(sg_vm_binary_index(p), sg_vm_binary_index(c), right, stored);
}

static int is_chain(int op) { return op >= VM_MUL_DIV_LS_ADD_L && op <= VM_MUL_MUL_SUB_MUL_R; }

/* Whether op writes d too (the stored superinstructions and chains of one). */
static int is_stored(int op)
{
    return (op >= VM_ADD_ADD_LS && op <= VM_DIV_DIV_RS) || op == VM_MUL_DIV_LS_ADD_L ||
           op == VM_MUL_DIV_LS_ADD_R || op == VM_ADD_DIV_RS_MUL_L || op == VM_ADD_DIV_RS_MUL_R;
}

/* The chain of superinstruction `producer` read by binary operation
 * `reader` ("_R": as its second operand), or -1. */
static int chain_op(int producer, int reader, int right)
{
    if (producer == VM_MUL_DIV_LS && reader == OP_ADD)
        return VM_MUL_DIV_LS_ADD_L + right;
    if (producer == VM_ADD_DIV_RS && reader == OP_MUL)
        return VM_ADD_DIV_RS_MUL_L + right;
    if (producer == VM_MUL_MUL_SUB && reader == OP_MUL)
        return VM_MUL_MUL_SUB_MUL_L + right;
    return -1;
}

/* The superinstruction for (a p b) c (x q y), or -1. */
static int double_op(int p, int q, int c)
{
    if (p == OP_DIV && q == OP_DIV && c == OP_SUB)
        return VM_DIV_DIV_SUB;
    if (p == OP_MUL && q == OP_MUL && c == OP_SUB)
        return VM_MUL_MUL_SUB;
    if (p == OP_MUL && q == OP_MUL && c == OP_ADD)
        return VM_MUL_MUL_ADD;
    return -1;
}

/* The slots operand by operand (-1: none): c is a number for OP_FN and
 * OP_DELAY. */
static void reads(const work *w, int out[5])
{
    out[0] = w->a;
    out[1] = w->b;
    out[2] = w->op == OP_DELAY ? -1 : w->c;
    out[3] = is_stored(w->op) ? -1 : w->d; /* a stored one writes d */
    out[4] = is_chain(w->op) ? w->e : -1;
}

/* Calls mark(marks, slot) for each slot read outside the code: by the
 * stoichiometry's sums, the Jacobian's (with_jacobian: renumber moves those
 * through its own jt_slot instead), the states' compartment sizes, the root
 * functions, the triggers, the delays and the setup code. */
static void each_outside_read(const sg_program *p, int with_jacobian, void (*mark)(void *, int),
                              void *marks)
{
    const struct {
        const int *slot;
        int n;
    } lists[] = {{p->st_rate, p->st_start ? p->st_start[p->nstate] : 0},
                 {with_jacobian ? p->jt_slot : NULL, p->jt_start ? p->jt_start[p->nnz] : 0},
                 {p->state_comp_slot, p->nstate},
                 {p->root_slot, p->nroots},
                 {p->trigger_slot, p->ntriggers},
                 {p->delay_x_slot, p->ndelays},
                 {p->delay_tau_slot, p->ndelays}};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (int k = 0; lists[l].slot && k < lists[l].n; k++)
            mark(marks, lists[l].slot[k]);
    for (int k = 0; k < p->n_setup; k++) {
        const sg_instr *s = &p->setup[k];
        mark(marks, s->a);
        if (s->b >= 0)
            mark(marks, s->b);
        if (s->c >= 0 && s->op != OP_DELAY && s->op != OP_FN)
            mark(marks, s->c);
    }
}

static void pin(void *uses, int slot) { ((int *)uses)[slot] += 2; }

static void fix(void *movable, int slot) { ((unsigned char *)movable)[slot] = 0; }

/* Counts the reads of each slot; a slot read outside the code counts twice
 * (it is never fused away). */
static void count_uses(const sg_program *p, const work *w, int n, int *uses)
{
    for (int k = 0; k < n; k++) {
        int r[5];
        reads(&w[k], r);
        for (int j = 0; j < 5; j++)
            if (r[j] >= 0)
                uses[r[j]]++;
    }
    each_outside_read(p, 1, pin, uses);
}

/* The instruction in [lo, k) computing temporary `slot`, read once, when it
 * is still there and (binary) a binary operation; else -1. */
static int fusable(const sg_program *p, const work *w, const int *uses, const int *producer,
                   int slot, int lo, int k, int binary)
{
    if (slot < p->nmodel_slots || uses[slot] != 1)
        return -1;
    int at = producer[slot];
    if (at < lo || at >= k || w[at].dead)
        return -1;
    if (binary && !is_binary(w[at].op))
        return -1;
    return at;
}

/* The instruction in [lo, k) computing slot `slot` by a binary operation,
 * when the instruction reading it at k is its only reader in the section
 * (here: the reads by the section's code) and it is still there; else -1.
 * Others may read it later: fused, it is still stored. */
static int storable(const work *w, const int *here, const int *producer, int slot, int lo,
                    int k)
{
    if (here[slot] != 1)
        return -1;
    int at = producer[slot];
    if (at < lo || at >= k || w[at].dead || !is_binary(w[at].op))
        return -1;
    return at;
}

/* Rewrites section [lo, hi) of w with superinstructions (see the top). */
static void fuse(const sg_program *p, work *w, int lo, int hi, const int *uses, const int *here,
                 int *producer)
{
    for (int k = lo; k < hi; k++) {
        work *in = &w[k];
        if (is_binary(in->op)) {
            int pa = fusable(p, w, uses, producer, in->a, lo, k, 1);
            int pb = fusable(p, w, uses, producer, in->b, lo, k, 1);
            int dop = pa >= 0 && pb >= 0 ? double_op(w[pa].op, w[pb].op, in->op) : -1;
            int none = pa < 0 && pb < 0;
            int sa = none ? storable(w, here, producer, in->a, lo, k) : -1;
            int sb = none && sa < 0 ? storable(w, here, producer, in->b, lo, k) : -1;
            if (dop >= 0) {
                *in = (work){dop, 0, in->dst, w[pa].a, w[pa].b, w[pb].a, w[pb].b, 0, -1};
                w[pa].dead = w[pb].dead = 1;
            } else if (pa >= 0) {
                *in = (work){fused_op(w[pa].op, in->op, 0, 0), 0, in->dst, w[pa].a, w[pa].b,
                             in->b, -1, 0, -1};
                w[pa].dead = 1;
            } else if (pb >= 0) {
                *in = (work){fused_op(w[pb].op, in->op, 1, 0), 0, in->dst, w[pb].a, w[pb].b,
                             in->a, -1, 0, -1};
                w[pb].dead = 1;
            } else if (sa >= 0) {
                *in = (work){fused_op(w[sa].op, in->op, 0, 1), 0, in->dst, w[sa].a, w[sa].b,
                             in->b, in->a, 0, -1};
                w[sa].dead = 1;
            } else if (sb >= 0) {
                *in = (work){fused_op(w[sb].op, in->op, 1, 1), 0, in->dst, w[sb].a, w[sb].b,
                             in->a, in->b, 0, -1};
                w[sb].dead = 1;
            } else {
                /* a superinstruction's result, read once, by this one: a chain */
                int ca = fusable(p, w, uses, producer, in->a, lo, k, 0);
                int cb = fusable(p, w, uses, producer, in->b, lo, k, 0);
                int left = ca >= 0 ? chain_op(w[ca].op, in->op, 0) : -1;
                int right = cb >= 0 && left < 0 ? chain_op(w[cb].op, in->op, 1) : -1;
                int at = left >= 0 ? ca : cb;
                if (left >= 0 || right >= 0) {
                    *in = (work){left >= 0 ? left : right, 0, in->dst, w[at].a, w[at].b,
                                 w[at].c, w[at].d, 0, left >= 0 ? in->b : in->a};
                    w[at].dead = 1;
                }
            }
        } else if (in->op == OP_COPY) {
            int pa = fusable(p, w, uses, producer, in->a, lo, k, 0);
            if (pa >= 0) {
                w[pa].dst = in->dst;
                producer[in->dst] = pa;
                in->dead = 1;
            }
        }
    }
}

typedef struct order_key {
    int level, op, index;
} order_key;

/* Sorts keys[0..n), made in increasing index, by (level, op, index): a
 * stable counting sort by op into tmp, then by level back (as program.c's
 * sort_by_level); qsort's merge sort was a tenth of compiling the
 * 100,000-species network. Levels are in [1, max_level]; `count` holds
 * max_level + 2 and VM_LAST + 2 at least. */
static void sort_keys(order_key *keys, order_key *tmp, int n, int *count, int max_level)
{
    memset(count, 0, sizeof *count * (VM_LAST + 2));
    for (int r = 0; r < n; r++)
        count[keys[r].op + 1]++;
    for (int o = 0; o <= VM_LAST; o++)
        count[o + 1] += count[o];
    for (int r = 0; r < n; r++)
        tmp[count[keys[r].op]++] = keys[r];
    memset(count, 0, sizeof *count * ((size_t)max_level + 2));
    for (int r = 0; r < n; r++)
        count[tmp[r].level + 1]++;
    for (int l = 0; l <= max_level; l++)
        count[l + 1] += count[l];
    for (int r = 0; r < n; r++)
        keys[count[tmp[r].level]++] = tmp[r];
}

/* Appends instruction (op, dst, a, b, c, d, e) to the copy, in the words
 * its opcode reads; *words: the words used so far. */
static void append(sg_vm *vm, const int32_t *offsets, int op, int dst, int a, int b, int c,
                   int d, int e, int *words)
{
    int32_t all[AT_WORDS] = {offsets[op], dst, a, b, c, d, e};
    vm->op[vm->n] = (uint8_t)op;
    vm->at[vm->n++] = *words;
    for (int j = 0; j < length_of(op); j++)
        vm->code[(*words)++] = all[j];
}

/* Renumbers the temporaries that only the copy reads (its code and its
 * Jacobian sums), in the order the copy writes them, onto the slots the
 * program gave to temporaries, lowest first. A run then writes its values
 * one after another, a level's results sit next to each other for the
 * levels that read them, and the slots of fused-away temporaries end up
 * unused at the top: the copy touches fewer cache lines of v. Model slots,
 * constants and whatever the setup code, the stoichiometry, the root
 * functions, the triggers or the delays read keep their numbers. */
static int renumber(const sg_program *p, sg_vm *vm)
{
    int njt = p->jt_start ? p->jt_start[p->nnz] : 0;
    int *to = sg_malloc(sizeof *to * ((size_t)p->nslots + 1));
    unsigned char *movable = sg_calloc((size_t)p->nslots + 1, 1);
    vm->jt_slot = sg_malloc(sizeof *vm->jt_slot * ((size_t)njt + 1));
    if (!to || !movable || !vm->jt_slot) {
        sg_free(to);
        sg_free(movable);
        return -1;
    }
    for (int k = 0; k < p->n_code; k++)
        if (p->code[k].dst >= p->nmodel_slots)
            movable[p->code[k].dst] = 1;
    each_outside_read(p, 0, fix, movable);
    for (int s = 0; s < p->nslots; s++)
        to[s] = s;
    /* each slot is written by one instruction: the k-th movable one written
     * takes the k-th movable slot */
    int next = p->nmodel_slots;
    for (int k = 0; k < vm->n; k++) {
        int op = vm->op[k];
        if (op == VM_STOP)
            continue;
        const int32_t *i = vm->code + vm->at[k];
        int written[2] = {is_stored(op) ? i[AT_d] : -1, i[AT_dst]};
        for (int j = 0; j < 2; j++) {
            if (written[j] < 0 || !movable[written[j]])
                continue;
            while (!movable[next])
                next++;
            to[written[j]] = next++;
        }
    }
    for (int k = 0; k < vm->n; k++) {
        int32_t *i = vm->code + vm->at[k];
        int op = vm->op[k];
        if (op == VM_STOP)
            continue;
        for (int j = AT_dst; j < length_of(op); j++)
            if (i[j] >= 0 && !(j == AT_c && (op == OP_FN || op == OP_DELAY)))
                i[j] = to[i[j]];
    }
    for (int k = 0; k < njt; k++)
        vm->jt_slot[k] = to[p->jt_slot[k]];
    sg_free(to);
    sg_free(movable);
    return 0;
}

int sg_vm_build(sg_program *p)
{
    int rc = -1;
    sg_vm_free(p->vm);
    p->vm = NULL;
    int n = p->n_code;
    sg_vm *vm = sg_calloc(1, sizeof *vm);
    work *w = sg_malloc(sizeof *w * ((size_t)n + 1));
    int *uses = sg_calloc((size_t)p->nslots + 1, sizeof *uses);
    int *producer = sg_malloc(sizeof *producer * ((size_t)p->nslots + 1));
    int *level = sg_calloc((size_t)p->nslots + 1, sizeof *level);
    int *here = sg_calloc((size_t)p->nslots + 1, sizeof *here);
    order_key *keys = sg_malloc(sizeof *keys * ((size_t)n + 1));
    order_key *keys_tmp = sg_malloc(sizeof *keys_tmp * ((size_t)n + 1));
    int *count = NULL;
    size_t count_cap = 0;
    if (vm) {
        vm->code = sg_malloc(sizeof *vm->code * AT_WORDS * ((size_t)n + 4));
        vm->at = sg_malloc(sizeof *vm->at * ((size_t)n + 4));
        vm->op = sg_malloc((size_t)n + 4);
    }
    if (!vm || !w || !uses || !producer || !level || !here || !keys || !keys_tmp || !vm->code ||
        !vm->at || !vm->op) {
        sg_vm_free(vm);
        goto done;
    }
    if (group_rows(&vm->rhs, p->st_start ? p->nstate : 0, p->st_start) != 0 ||
        group_rows(&vm->jac, p->jt_start ? p->nnz : 0, p->jt_start) != 0) {
        sg_vm_free(vm);
        goto done;
    }
    int32_t offsets[VM_LAST + 1];
    int words = 0;
    vm_run(NULL, 0, NULL, offsets);
    for (int k = 0; k < n; k++) {
        const sg_instr *s = &p->code[k];
        w[k] = (work){s->op, s->fn, s->dst, s->a, s->b, s->c, -1, 0, -1};
        if (s->op == OP_FN)
            w[k].c = -1;
    }
    for (int s = 0; s < p->nslots; s++)
        producer[s] = -1;
    for (int k = 0; k < n; k++)
        producer[w[k].dst] = k;
    count_uses(p, w, n, uses);
    int bounds[5] = {0, p->n_assign, p->n_rhs, p->n_roots, p->n_code};
    for (int s = 0; s < 4; s++)
        for (int k = bounds[s]; k < bounds[s + 1]; k++) {
            int r[5];
            reads(&w[k], r);
            for (int j = 0; j < 5; j++)
                if (r[j] >= 0 && producer[r[j]] >= bounds[s] && producer[r[j]] < bounds[s + 1])
                    here[r[j]]++;
        }
    for (int s = 0; s < 4; s++) {
        vm->bounds[s] = bounds[s + 1];
        fuse(p, w, bounds[s], bounds[s + 1], uses, here, producer);
        /* levels, then (level, opcode) order */
        int nk = 0, max_level = 0;
        for (int k = bounds[s]; k < bounds[s + 1]; k++) {
            if (w[k].dead)
                continue;
            int r[5], l = 0;
            reads(&w[k], r);
            for (int j = 0; j < 5; j++)
                if (r[j] >= 0 && level[r[j]] > l)
                    l = level[r[j]];
            level[w[k].dst] = l + 1;
            if (is_stored(w[k].op))
                level[w[k].d] = l + 1;
            keys[nk++] = (order_key){l + 1, w[k].op, k};
            if (l + 1 > max_level)
                max_level = l + 1;
        }
        size_t need = (size_t)(max_level > VM_LAST ? max_level : VM_LAST) + 2;
        if (sg_grow(&count, &count_cap, need, sizeof *count) != 0) {
            sg_vm_free(vm);
            goto done;
        }
        sort_keys(keys, keys_tmp, nk, count, max_level);
        for (int r = 0; r < nk; r++) {
            const work *in = &w[keys[r].index];
            append(vm, offsets, in->op, in->dst, in->a, in->b, in->op == OP_FN ? in->fn : in->c,
                   in->d, in->e, &words);
        }
        append(vm, offsets, VM_STOP, -1, s, -1, -1, -1, -1, &words);
    }
    if (renumber(p, vm) != 0) {
        sg_vm_free(vm);
        goto done;
    }
    vm->stop_go = offsets[VM_STOP];
    /* without machine code (another machine) the interpreter runs the copy */
    vm->jit_on = 1;
    if (sg_jit_build(vm, &vm->jit) != 0 ||
        sg_jit_sums_build(p->st_start ? p->nstate : 0, p->st_start, p->st_rate, &vm->rhs_jit) != 0 ||
        sg_jit_sums_build(p->jt_start ? p->nnz : 0, p->jt_start, vm->jt_slot, &vm->jac_jit) != 0) {
        sg_vm_free(vm);
        goto done;
    }
    p->vm = vm;
    rc = 0;
done:
    sg_free(w);
    sg_free(uses);
    sg_free(producer);
    sg_free(level);
    sg_free(here);
    sg_free(keys);
    sg_free(keys_tmp);
    sg_free(count);
    return rc;
}

void sg_vm_free(sg_vm *vm)
{
    if (!vm)
        return;
    sg_jit_free(vm->jit);
    sg_jit_free(vm->rhs_jit);
    sg_jit_free(vm->jac_jit);
    sg_free(vm->code);
    sg_free(vm->at);
    sg_free(vm->op);
    sg_free(vm->rhs.row);
    sg_free(vm->jac.row);
    sg_free(vm->jt_slot);
    sg_free(vm);
}

int sg_vm_length(const sg_vm *vm) { return vm->n; }

int sg_vm_opcode(const sg_vm *vm, int k) { return vm->op[k]; }

void sg_vm_operands(const sg_vm *vm, int k, int operands[6])
{
    const int32_t *i = vm->code + vm->at[k];
    for (int j = 0; j < 6; j++)
        operands[j] = AT_dst + j < length_of(vm->op[k]) ? i[AT_dst + j] : -1;
}

int sg_vm_single(const sg_vm *vm, int k, int32_t *out)
{
    int n = length_of(vm->op[k]);
    _Static_assert(AT_WORDS + 3 <= SG_VM_SINGLE_WORDS, "an instruction and a stop");
    memcpy(out, vm->code + vm->at[k], sizeof *out * (size_t)n);
    out[n + AT_go] = vm->stop_go;
    out[n + AT_dst] = -1;
    out[n + AT_a] = 3; /* >= every section asked for: returns */
    return n + 3;
}

void sg_vm_run_words(const int32_t *words, double *v) { vm_run(words, 0, v, NULL); }

void sg_vm_use_jit(sg_vm *vm, int on) { vm->jit_on = on; }

size_t sg_vm_jit_size(const sg_vm *vm)
{
    return sg_jit_size(vm->jit) + sg_jit_size(vm->rhs_jit) + sg_jit_size(vm->jac_jit);
}

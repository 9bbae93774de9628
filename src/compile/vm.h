/*
 * The interpreter's own copy of a compiled program (vm.c): the program
 * (program.h) stays what the native backend and the model image read; this
 * copy, rebuilt from it, is what sg_program_exec runs when there is no
 * native code. It computes every slot the program's callers read with the
 * same operations in the same order, so every value is bit-identical.
 */
#ifndef SG_VM_H
#define SG_VM_H

#include <stddef.h>
#include <stdint.h>

#include "program.h"

/* Opcodes of the copy: the program's (sg_opcode, same numbers), then a
 * section's end, then superinstructions: a temporary computed by a binary
 * operation P and read once, by the binary operation C, is computed inside
 * C's instruction ("P_C_L": dst = (a P b) C c; "P_C_R": dst = c C (a P b)),
 * and when both of C's operands are such temporaries, "P_Q_C":
 * dst = (a P b) C (c Q d). A temporary that C alone reads in its section
 * but later sections or the sums read too is fused and still stored
 * ("P_C_LS", "P_C_RS"). */
#define SG_VM_FUSED_OVER_P(X, C, c) X(ADD, +, C, c) X(SUB, -, C, c) X(MUL, *, C, c) X(DIV, /, C, c)
/* X(P, p, C, c) for every pair, C the outer loop (the opcodes' order) */
#define SG_VM_FUSED(X)                                                                         \
    SG_VM_FUSED_OVER_P(X, ADD, +)                                                              \
    SG_VM_FUSED_OVER_P(X, SUB, -) SG_VM_FUSED_OVER_P(X, MUL, *) SG_VM_FUSED_OVER_P(X, DIV, /)
enum {
    VM_STOP = OP_LAST + 1, /* end of section a: return when it is the last one asked for */
#define SG_VM_FUSED_ENUM(P, p, C, c) VM_##P##_##C##_L, VM_##P##_##C##_R,
    SG_VM_FUSED(SG_VM_FUSED_ENUM)
#undef SG_VM_FUSED_ENUM
    /* the same with the temporary also stored (in d), for its readers in
     * later sections or outside the code: "P_C_LS": v[d] = a P b,
     * dst = v[d] C c; "P_C_RS": dst = c C v[d] */
#define SG_VM_STORED_ENUM(P, p, C, c) VM_##P##_##C##_LS, VM_##P##_##C##_RS,
    SG_VM_FUSED(SG_VM_STORED_ENUM)
#undef SG_VM_STORED_ENUM
    /* both operands fused: the pairs measured often (net1000's Michaelis-
     * Menten derivatives, mass action k1 x y - k2 z) */
    VM_DIV_DIV_SUB,
    VM_MUL_MUL_SUB,
    VM_MUL_MUL_ADD,
    /* chains measured often: a superinstruction whose result one binary
     * operation reads, with its other operand e ("_L": result op e, "_R":
     * e op result). Michaelis-Menten rates b + v S / (K + S): v[d] = a * b,
     * then (v[d] / c) + e; Hill rates v S^2 / (K^2 + S^2): v[d] = a + b,
     * then (c / v[d]) * e; mass action times a size: (a b - c d) * e */
    VM_MUL_DIV_LS_ADD_L,
    VM_MUL_DIV_LS_ADD_R,
    VM_ADD_DIV_RS_MUL_L,
    VM_ADD_DIV_RS_MUL_R,
    VM_MUL_MUL_SUB_MUL_L,
    VM_MUL_MUL_SUB_MUL_R,
    VM_LAST = VM_MUL_MUL_SUB_MUL_R
};

/* The binary operations ADD, SUB, MUL, DIV as 0..3 (their order in
 * sg_opcode, and in the superinstructions' numbering); -1 for any other op. */
static inline int sg_vm_binary_index(int op)
{
    return op == OP_ADD ? 0 : op == OP_SUB ? 1 : op == OP_MUL ? 2 : op == OP_DIV ? 3 : -1;
}

/* The superinstruction for (a P b) C x (right: x C (a P b)); stored: the one
 * that also stores a P b in d. p and c are binary indices. */
static inline int sg_vm_fused_op(int p, int c, int right, int stored)
{
    return (stored ? VM_ADD_ADD_LS : VM_ADD_ADD_L) + (c * 4 + p) * 2 + right;
}

/* The parts of such a superinstruction (op in [VM_ADD_ADD_L, VM_DIV_DIV_RS]):
 * sg_vm_fused_op's arguments back. */
static inline void sg_vm_fused_parts(int op, int *p, int *c, int *right, int *stored)
{
    *stored = op >= VM_ADD_ADD_LS;
    int rel = op - (*stored ? VM_ADD_ADD_LS : VM_ADD_ADD_L);
    *right = rel & 1;
    *p = (rel >> 1) & 3;
    *c = rel >> 3;
}

typedef struct sg_vm sg_vm;

/* Builds prog->vm from prog's code (replacing any). 0, or -1 without
 * memory (prog->vm is then NULL). */
int sg_vm_build(sg_program *prog);
void sg_vm_free(sg_vm *vm);

/* Runs the copy up to section boundary `end` (prog->n_assign, n_rhs,
 * n_roots or n_code); -1 (nothing run) if `end` is not one. */
int sg_vm_exec(const sg_vm *vm, int end, double *v);

/* The sums after the code ran (prog->vm set): d state / dt (the
 * stoichiometry's) and the Jacobian's values, as sg_program_rhs and
 * sg_program_jacobian compute them without the copy. */
void sg_vm_rhs_sum(const sg_program *prog, const double *v, const double *st_scaled,
                   double *ydot);
void sg_vm_jac_sum(const sg_program *prog, const double *v, const double *jt_scaled,
                   double *values);

/* Inspection (tests, jit.c): the instruction count, stops included, and
 * instruction k's opcode and operands (dst, a, b, c, d, e; -1 where the
 * opcode has none; a stop's section is its a). */
int sg_vm_length(const sg_vm *vm);
int sg_vm_opcode(const sg_vm *vm, int k);
void sg_vm_operands(const sg_vm *vm, int k, int operands[6]);

/* For jit.c, which leaves some instructions to the interpreter: writes
 * instruction k, then a stop that always returns, to out (at most
 * SG_VM_SINGLE_WORDS words) and returns the words written; and runs such
 * words on v. */
enum { SG_VM_SINGLE_WORDS = 12 };
int sg_vm_single(const sg_vm *vm, int k, int32_t *out);
void sg_vm_run_words(const int32_t *words, double *v);

/* Whether runs use the machine code (jit.h) when it was made: on by
 * default (tests compare the two); and its size in bytes (0: none). */
void sg_vm_use_jit(sg_vm *vm, int on);
size_t sg_vm_jit_size(const sg_vm *vm);

#endif

/*
 * Machine code for the interpreter's copy of a program (jit.c): on x86-64
 * Linux, each instruction of the copy (vm.h) becomes a few SSE2 scalar
 * instructions on the value array, in the copy's order, so the run takes
 * no dispatch at all; the operations the copy leaves to C (comparisons,
 * functions, conditions, delays) are calls of the interpreter for that one
 * instruction. Every value is bit-identical to the interpreter's.
 */
#ifndef SG_JIT_H
#define SG_JIT_H

#include <stddef.h>

typedef struct sg_vm sg_vm;
typedef struct sg_jit sg_jit;

/* Sets *out to the machine code of vm's copy, or to NULL (the interpreter
 * runs the copy): not this machine (only x86-64 Linux), SIGODE_VM_JIT=0 in
 * the environment, a copy of more than 16,384 instructions (slower as
 * machine code: jit.c), a value array too large for 32-bit offsets, or a
 * system that refuses executable pages. 0, or -1 without memory. The copy must
 * outlive the code (its calls of the interpreter read it). */
int sg_jit_build(const sg_vm *vm, sg_jit **out);
void sg_jit_free(sg_jit *jit);

/* Runs the code up to the stop of section `last` (0..3), as the
 * interpreter's run does. */
void sg_jit_run(const sg_jit *jit, int last, double *v);

/* Sets *out to machine code for sums over rows [0, nrows):
 * out[r] = 0.0 + coef[k] * v[slot[k]] + ... over k in [start[r], start[r+1]),
 * added in that order (the stoichiometry's and the Jacobian's sums, as
 * vm.c's sum_rows adds them), or to NULL: as sg_jit_build, and above
 * 16,384 terms. 0, or -1 without memory. */
int sg_jit_sums_build(int nrows, const int *start, const int *slot, sg_jit **out);
void sg_jit_sums_run(const sg_jit *jit, const double *v, const double *coef, double *out);

/* Bytes of machine code (tests, --stats). */
size_t sg_jit_size(const sg_jit *jit);

#endif

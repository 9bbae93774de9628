/*
 * Machine code for the interpreter's copy (jit.h). The interpreter costs
 * one taken indirect jump per instruction, about 0.9 ns on the machine of
 * scripts/bench/README.md: most of a small model's right-hand side, whose
 * instructions are single products k * x. Here each instruction is
 * written out as SSE2 scalar arithmetic on the value array v (held in rbx):
 *
 *   dst = (a P b) C c   ->  movsd xmm0,[a]; P xmm0,[b]; C xmm0,[c]; movsd [dst],xmm0
 *
 * - Bit-identical: every operation is one IEEE double operation rounded as
 *   the interpreter's (vm.c is compiled with -ffp-contract=off, and no FMA
 *   is emitted here), in the interpreter's order, with its operands in
 *   the same order; a stored temporary is written before the next operand
 *   is read, as in C. pow is libm's, called as the interpreter calls it.
 * - Instructions with branches or library functions (comparisons, and/or,
 *   min/max, functions, conditions, delays, negation) are not written out:
 *   the code calls the interpreter on a copy of that one instruction
 *   followed by a stop.
 * - A section's stop is a compare and a jump to the return, as the
 *   interpreter's stop returns when its section is the last one asked for.
 * - Generated from the copy alone, whose operands are slot numbers checked
 *   to fit 32-bit offsets: a model cannot put bytes of its choosing into
 *   the code. The pages are written, then made read-only and executable
 *   (never both writable and executable); a system that refuses gets the
 *   interpreter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jit.h"
#include "util/util.h"
#include "vm.h"

#if defined(__x86_64__) && defined(__linux__)
#include <math.h>
#include <sys/mman.h>
#define SG_JIT_X86_64 1
#endif

struct sg_jit {
    void (*run)(double *v, int last);                                   /* a copy's code */
    void (*sum)(const double *v, const double *coef, double *out); /* sums' code */
    uint8_t *code;
    size_t size;    /* bytes mapped */
    size_t used;    /* bytes written */
    int32_t *words; /* the interpreted instructions, each followed by a stop */
};

void sg_jit_run(const sg_jit *jit, int last, double *v) { jit->run(v, last); }

void sg_jit_sums_run(const sg_jit *jit, const double *v, const double *coef, double *out)
{
    jit->sum(v, coef, out);
}

size_t sg_jit_size(const sg_jit *jit) { return jit ? jit->used : 0; }

void sg_jit_free(sg_jit *jit)
{
    if (!jit)
        return;
#ifdef SG_JIT_X86_64
    if (jit->code)
        munmap(jit->code, jit->size);
#endif
    sg_free(jit->words);
    sg_free(jit);
}

#ifdef SG_JIT_X86_64

/* The most bytes one instruction takes (a chain: 4 loads or operations
 * from memory, 2 stores, 2 register operations; a call: 25). */
enum { MOST_BYTES = 96, PROLOGUE = 16, EPILOGUE = 16 };

/* Larger copies stay with the interpreter. The code runs once straight
 * through per call, so its bytes (about 25 per instruction) stream through
 * the instruction cache each time, where the interpreter streams a third
 * as many bytes of data past a few hot handlers. Measured on the generated
 * networks (scripts/bench/README.md, session 31), time per simulation,
 * machine code against the interpreter (copies of all four sections,
 * stops included): 1,000 species (9,300 instructions) 2-7% faster; 1,500
 * (13,863) 3% faster; 2,000 (18,517) even; 3,000 (27,653) 13% slower;
 * 10,000 23% slower. */
enum { MOST_INSTRUCTIONS = 16384 };

typedef struct emitter {
    uint8_t *at, *end;
    int full;
} emitter;

static void put(emitter *e, const uint8_t *bytes, size_t n)
{
    if ((size_t)(e->end - e->at) < n) {
        e->full = 1;
        return;
    }
    memcpy(e->at, bytes, n);
    e->at += n;
}

static void put64(emitter *e, uint64_t x)
{
    uint8_t b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(x >> (8 * k));
    put(e, b, 8);
}

/* SSE2 scalar double opcodes (after F2 0F) */
enum { LOAD = 0x10, STORE = 0x11, ADD = 0x58, MUL = 0x59, SUB = 0x5C, DIV = 0x5E };

/* base registers of the operands: the value array in the copy's code;
 * values, coefficients and results in the sums' (the arguments' registers) */
enum { RBX = 3, RDX = 2, RSI = 6, RDI = 7 };

/* op xmm, [base + 8 index] (LOAD: movsd xmm, [..]; STORE: movsd [..], xmm) */
static void sd_at(emitter *e, int op, int xmm, int base, int index)
{
    int32_t disp = index * 8; /* checked to fit: offsets_fit, sg_jit_sums_build */
    uint8_t b[8] = {0xF2, 0x0F, (uint8_t)op};
    if (disp <= 127) {
        b[3] = (uint8_t)(0x40 | xmm << 3 | base); /* mod 01: [base + disp8] */
        b[4] = (uint8_t)disp;
        put(e, b, 5);
    } else {
        b[3] = (uint8_t)(0x80 | xmm << 3 | base); /* mod 10: [base + disp32] */
        for (int k = 0; k < 4; k++)
            b[4 + k] = (uint8_t)((uint32_t)disp >> (8 * k));
        put(e, b, 8);
    }
}

/* op xmm, v[slot] in the copy's code */
static void sd_mem(emitter *e, int op, int xmm, int slot) { sd_at(e, op, xmm, RBX, slot); }

/* op xmm_dst, xmm_src */
static void sd_reg(emitter *e, int op, int dst, int src)
{
    uint8_t b[4] = {0xF2, 0x0F, (uint8_t)op, (uint8_t)(0xC0 | dst << 3 | src)};
    put(e, b, 4);
}

/* The SSE2 operation of a binary index (sg_vm_binary_index: ADD, SUB,
 * MUL, DIV; the superinstructions' P and C in the same order). */
static int sse_of(int binary_index)
{
    static const int sse[4] = {ADD, SUB, MUL, DIV};
    return sse[binary_index];
}

/* call rax = fn, with rdi = arg0 (when has_arg0) and rsi = v */
static void call(emitter *e, const void *fn, const void *arg0)
{
    static const uint8_t mov_rdi[2] = {0x48, 0xBF}, mov_rsi_rbx[3] = {0x48, 0x89, 0xDE},
                         mov_rax[2] = {0x48, 0xB8}, call_rax[2] = {0xFF, 0xD0};
    if (arg0) {
        put(e, mov_rdi, 2);
        put64(e, (uint64_t)(uintptr_t)arg0);
        put(e, mov_rsi_rbx, 3);
    }
    put(e, mov_rax, 2);
    put64(e, (uint64_t)(uintptr_t)fn);
    put(e, call_rax, 2);
}

/* xmm0 = a P b, stored in d when d >= 0 */
static void produce(emitter *e, int p, int a, int b, int d)
{
    sd_mem(e, LOAD, 0, a);
    sd_mem(e, sse_of(p), 0, b);
    if (d >= 0)
        sd_mem(e, STORE, 0, d);
}

/* dst = value C v[x] ("left"), or dst = v[x] C value, value in xmm */
static void finish(emitter *e, int c, int xmm, int x, int right, int dst)
{
    if (!right) {
        sd_mem(e, c, xmm, x);
        sd_mem(e, STORE, xmm, dst);
    } else {
        sd_mem(e, LOAD, xmm + 1, x);
        sd_reg(e, c, xmm + 1, xmm);
        sd_mem(e, STORE, xmm + 1, dst);
    }
}

/* Writes the instruction op with operands o (dst, a, b, c, d, e); 0, or
 * -1 if it is left to the interpreter (nothing written). */
static int emit_native(emitter *e, int op, const int o[6])
{
    enum { DST, A, B, C, D, E };
    int bin = sg_vm_binary_index(op);
    if (bin >= 0) {
        produce(e, bin, o[A], o[B], -1);
        sd_mem(e, STORE, 0, o[DST]);
        return 0;
    }
    if (op >= VM_ADD_ADD_L && op <= VM_DIV_DIV_RS) {
        int p, c, right, stored;
        sg_vm_fused_parts(op, &p, &c, &right, &stored);
        produce(e, p, o[A], o[B], stored ? o[D] : -1);
        finish(e, sse_of(c), 0, o[C], right, o[DST]);
        return 0;
    }
    switch (op) {
    case OP_COPY:
        sd_mem(e, LOAD, 0, o[A]);
        sd_mem(e, STORE, 0, o[DST]);
        return 0;
    case OP_SQUARE:
        sd_mem(e, LOAD, 0, o[A]);
        sd_reg(e, MUL, 0, 0);
        sd_mem(e, STORE, 0, o[DST]);
        return 0;
    case OP_POW: {
        sd_mem(e, LOAD, 0, o[A]);
        sd_mem(e, LOAD, 1, o[B]);
        double (*pow_fn)(double, double) = pow;
        call(e, (const void *)pow_fn, NULL);
        sd_mem(e, STORE, 0, o[DST]);
        return 0;
    }
    case VM_DIV_DIV_SUB:
    case VM_MUL_MUL_SUB:
    case VM_MUL_MUL_ADD: {
        int p = op == VM_DIV_DIV_SUB ? DIV : MUL;
        sd_mem(e, LOAD, 0, o[A]);
        sd_mem(e, p, 0, o[B]);
        sd_mem(e, LOAD, 1, o[C]);
        sd_mem(e, p, 1, o[D]);
        sd_reg(e, op == VM_MUL_MUL_ADD ? ADD : SUB, 0, 1);
        sd_mem(e, STORE, 0, o[DST]);
        return 0;
    }
    case VM_MUL_DIV_LS_ADD_L: /* t = a * b; d = t; dst = t / c + e */
    case VM_MUL_DIV_LS_ADD_R: /* ... dst = e + t / c */
        produce(e, 2, o[A], o[B], o[D]);
        sd_mem(e, DIV, 0, o[C]);
        finish(e, ADD, 0, o[E], op == VM_MUL_DIV_LS_ADD_R, o[DST]);
        return 0;
    case VM_ADD_DIV_RS_MUL_L: /* t = a + b; d = t; dst = c / t * e */
    case VM_ADD_DIV_RS_MUL_R: /* ... dst = e * (c / t) */
        produce(e, 0, o[A], o[B], o[D]);
        sd_mem(e, LOAD, 1, o[C]);
        sd_reg(e, DIV, 1, 0);
        finish(e, MUL, 1, o[E], op == VM_ADD_DIV_RS_MUL_R, o[DST]);
        return 0;
    case VM_MUL_MUL_SUB_MUL_L: /* dst = (a * b - c * d) * e */
    case VM_MUL_MUL_SUB_MUL_R: /* dst = e * (a * b - c * d) */
        sd_mem(e, LOAD, 0, o[A]);
        sd_mem(e, MUL, 0, o[B]);
        sd_mem(e, LOAD, 1, o[C]);
        sd_mem(e, MUL, 1, o[D]);
        sd_reg(e, SUB, 0, 1);
        finish(e, MUL, 0, o[E], op == VM_MUL_MUL_SUB_MUL_R, o[DST]);
        return 0;
    default:
        return -1;
    }
}

/* Whether machine code may be made: SIGODE_VM_JIT=0 turns it off. */
static int jit_allowed(void)
{
    const char *off = getenv("SIGODE_VM_JIT");
    return !(off && !strcmp(off, "0"));
}

/* Fresh writable pages for jit's code (jit->size bytes); -1 if the
 * system gives none (the interpreter then). */
static int pages_open(sg_jit *jit)
{
    void *pages = mmap(NULL, jit->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED)
        return -1;
    jit->code = pages;
    return 0;
}

/* Makes the code written up to `at` read-only and executable; -1 if the
 * system refuses (SELinux execmem, PaX: the interpreter then). */
static int pages_seal(sg_jit *jit, const uint8_t *at)
{
    jit->used = (size_t)(at - jit->code);
    return mprotect(jit->code, jit->size, PROT_READ | PROT_EXEC);
}

/* The code's entry as a function pointer: the code is data until sealed,
 * and converting the address is how a JIT calls its code (POSIX allows
 * the conversion; memcpy keeps ISO C's object/function pointer rule). */
static void entry_of(const sg_jit *jit, void *fn_pointer)
{
    void *entry = jit->code;
    memcpy(fn_pointer, &entry, sizeof entry);
}

/* Whether every slot the copy names fits a 32-bit offset from v. */
static int offsets_fit(const sg_vm *vm)
{
    for (int k = 0; k < sg_vm_length(vm); k++) {
        int o[6], op = sg_vm_opcode(vm, k);
        if (op == VM_STOP)
            continue;
        sg_vm_operands(vm, k, o);
        for (int j = 0; j < 6; j++) {
            if ((j == 3 && (op == OP_FN || op == OP_DELAY)) || o[j] < 0)
                continue; /* c: a function's or delay's number */
            if (o[j] > INT32_MAX / 8)
                return 0;
        }
    }
    return 1;
}

int sg_jit_build(const sg_vm *vm, sg_jit **out)
{
    *out = NULL;
    if (!jit_allowed() || sg_vm_length(vm) > MOST_INSTRUCTIONS || !offsets_fit(vm))
        return 0;
    int n = sg_vm_length(vm), interpreted = 0;
    for (int k = 0; k < n; k++) {
        int op = sg_vm_opcode(vm, k), o[6] = {0};
        uint8_t scratch[MOST_BYTES];
        emitter probe = {scratch, scratch + sizeof scratch, 0};
        interpreted += op != VM_STOP && emit_native(&probe, op, o) != 0;
    }
    sg_jit *jit = sg_calloc(1, sizeof *jit);
    size_t *jumps = sg_malloc(sizeof *jumps * ((size_t)n + 1)); /* the stops' jumps */
    if (jit)
        jit->words =
            sg_malloc(sizeof *jit->words * ((size_t)interpreted * SG_VM_SINGLE_WORDS + 1));
    if (!jit || !jumps || !jit->words) {
        sg_jit_free(jit);
        sg_free(jumps);
        return -1;
    }
    jit->size = (size_t)n * MOST_BYTES + PROLOGUE + EPILOGUE;
    if (pages_open(jit) != 0) {
        sg_jit_free(jit);
        sg_free(jumps);
        return 0;
    }
    emitter e = {jit->code, jit->code + jit->size, 0};
    /* push rbx; push r12; sub rsp, 8 (calls see a 16-byte aligned stack);
     * rbx = v; r12d = last */
    static const uint8_t prologue[] = {0x53, 0x41, 0x54, 0x48, 0x83, 0xEC, 0x08,
                                       0x48, 0x89, 0xFB, 0x41, 0x89, 0xF4};
    static const uint8_t epilogue[] = {0x48, 0x83, 0xC4, 0x08, 0x41, 0x5C, 0x5B, 0xC3};
    put(&e, prologue, sizeof prologue);
    int njumps = 0; /* the stops jump to the epilogue at the end */
    int32_t *words = jit->words;
    for (int k = 0; k < n && !e.full; k++) {
        int op = sg_vm_opcode(vm, k), o[6];
        sg_vm_operands(vm, k, o);
        if (op == VM_STOP) {
            /* the interpreter returns when this section (o[1]) >= last:
             * cmp r12d, section; jle epilogue */
            uint8_t cmp_jle[10] = {0x41, 0x83, 0xFC, (uint8_t)o[1], 0x0F, 0x8E};
            put(&e, cmp_jle, sizeof cmp_jle);
            jumps[njumps++] = (size_t)(e.at - jit->code);
            continue;
        }
        if (emit_native(&e, op, o) == 0)
            continue;
        int len = sg_vm_single(vm, k, words);
        call(&e, (const void *)sg_vm_run_words, words);
        words += len;
    }
    size_t end = (size_t)(e.at - jit->code);
    put(&e, epilogue, sizeof epilogue);
    if (e.full) { /* cannot happen: MOST_BYTES bounds every instruction */
        sg_free(jumps);
        sg_jit_free(jit);
        return 0;
    }
    for (int j = 0; j < njumps; j++) {
        int32_t rel = (int32_t)(end - jumps[j]);
        memcpy(jit->code + jumps[j] - 4, &rel, 4);
    }
    sg_free(jumps);
    if (pages_seal(jit, e.at) != 0) {
        sg_jit_free(jit);
        return 0;
    }
    entry_of(jit, &jit->run);
    *out = jit;
    return 0;
}

/* Sums: each row's terms, added in their order, from 0.0 (as sum_rows in
 * vm.c):
 *
 *   xorpd xmm0, xmm0
 *   movsd xmm1, [rsi + 8k]; mulsd xmm1, [rdi + 8 slot[k]]; addsd xmm0, xmm1   (each term)
 *   movsd [rdx + 8 row], xmm0
 *
 * The rows' slots and the terms' places are immediates: no index array is
 * read. Up to SUMS_MAX_TERMS terms, 20 bytes each: larger sums stay with
 * sum_rows' loops, for the reason of MOST_INSTRUCTIONS. */
enum { SUMS_MAX_TERMS = 16384, TERM_BYTES = 20, ROW_BYTES = 12 };

int sg_jit_sums_build(int nrows, const int *start, const int *slot, sg_jit **out)
{
    *out = NULL;
    if (!jit_allowed() || nrows <= 0 || !start)
        return 0;
    long terms = start[nrows] - start[0];
    if (terms > SUMS_MAX_TERMS || nrows > INT32_MAX / 8 || start[nrows] > INT32_MAX / 8)
        return 0;
    for (int k = start[0]; k < start[nrows]; k++)
        if (slot[k] < 0 || slot[k] > INT32_MAX / 8)
            return 0;
    sg_jit *jit = sg_calloc(1, sizeof *jit);
    if (!jit)
        return -1;
    jit->size = (size_t)terms * TERM_BYTES + (size_t)nrows * ROW_BYTES + EPILOGUE;
    if (pages_open(jit) != 0) {
        sg_jit_free(jit);
        return 0;
    }
    emitter e = {jit->code, jit->code + jit->size, 0};
    static const uint8_t zero_xmm0[] = {0x66, 0x0F, 0x57, 0xC0}, ret[] = {0xC3};
    for (int r = 0; r < nrows; r++) {
        put(&e, zero_xmm0, sizeof zero_xmm0);
        for (int k = start[r]; k < start[r + 1]; k++) {
            sd_at(&e, LOAD, 1, RSI, k);
            sd_at(&e, MUL, 1, RDI, slot[k]);
            sd_reg(&e, ADD, 0, 1);
        }
        sd_at(&e, STORE, 0, RDX, r);
    }
    put(&e, ret, sizeof ret);
    if (e.full || pages_seal(jit, e.at) != 0) {
        sg_jit_free(jit);
        return 0;
    }
    entry_of(jit, &jit->sum);
    *out = jit;
    return 0;
}

#else

int sg_jit_build(const sg_vm *vm, sg_jit **out)
{
    (void)vm;
    *out = NULL;
    return 0;
}

int sg_jit_sums_build(int nrows, const int *start, const int *slot, sg_jit **out)
{
    (void)nrows, (void)start, (void)slot;
    *out = NULL;
    return 0;
}

#endif

/*
 * The interpreter's copy of a program (src/compile/vm.c): each
 * superinstruction is made for its pattern and gives exactly the numbers
 * of the program it replaces (the same operations in the same order); a
 * temporary read twice, or computed in another section, keeps its own
 * instruction, one read once in its section and again outside it is
 * fused and still stored; the chains measured often are one instruction;
 * sections end where the program's do;
 * temporaries only the copy reads are renumbered in the order it writes them;
 * and on every shipped model the right-hand side, Jacobian and root
 * functions are bit-identical with and without the copy.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compile/program.h"
#include "compile/vm.h"
#include "support.h"

/* Inputs whose products, quotients and sums all round. */
static const double inputs[] = {0.1, 0.7, 1.0 / 3.0, 2.9};

/* A program of code[0..n) in one section (the right-hand side's) over
 * nslots slots, the first nmodel the model's, the others temporaries. */
static sg_program program_of(sg_instr *code, int n, int nslots, int nmodel)
{
    sg_program p;
    memset(&p, 0, sizeof p);
    p.code = code;
    p.n_code = p.n_rhs = p.n_roots = n;
    p.nslots = nslots;
    p.nmodel_slots = nmodel;
    p.time_slot = nmodel - 1;
    return p;
}

static sg_instr instr(int op, int dst, int a, int b)
{
    sg_instr i = {(uint8_t)op, 0, dst, a, b, -1};
    return i;
}

/* Whether this machine gets machine code for the copy (jit.h). */
static int machine_code_expected(void)
{
#if defined(__x86_64__) && defined(__linux__)
    return 1;
#else
    return 0;
#endif
}

/* Runs p from inputs with and without its copy (built here), the copy both
 * as machine code and interpreted: every slot `check` lists must be equal
 * to the bit. */
static void assert_same_values(sg_program *p, const int *check, int ncheck)
{
    double with_vm[16], interpreted[16], plain[16];
    assert_true(p->nslots <= 16);
    for (int s = 0; s < p->nslots; s++)
        with_vm[s] = interpreted[s] = plain[s] = s < 4 ? inputs[s] : -1.0;
    sg_program_exec(p, 0, p->n_code, plain);
    sg_vm_build(p);
    assert_non_null(p->vm);
    assert_int_equal(sg_vm_jit_size(p->vm) > 0, machine_code_expected());
    sg_program_exec(p, 0, p->n_code, with_vm);
    sg_vm_use_jit(p->vm, 0);
    sg_program_exec(p, 0, p->n_code, interpreted);
    sg_vm_use_jit(p->vm, 1);
    for (int k = 0; k < ncheck; k++) {
        assert_memory_equal(&with_vm[check[k]], &plain[check[k]], sizeof(double));
        assert_memory_equal(&interpreted[check[k]], &plain[check[k]], sizeof(double));
    }
}

/* The number of instructions of the copy that are not stops. */
static int operations(const sg_vm *vm)
{
    int n = 0;
    for (int k = 0; k < sg_vm_length(vm); k++)
        n += sg_vm_opcode(vm, k) != VM_STOP;
    return n;
}

/* The index of the copy's instruction number j, stops not counted. */
static int operation(const sg_vm *vm, int j)
{
    for (int k = 0; k < sg_vm_length(vm); k++)
        if (sg_vm_opcode(vm, k) != VM_STOP && j-- == 0)
            return k;
    fail_msg("no operation %d", j);
    return -1;
}

typedef struct fused_case {
    int p, c, right, expected;
} fused_case;

/* dst = (a P b) C c and dst = c C (a P b), for every P and C; when the
 * Jacobian's sums read the temporary too, the same superinstruction that
 * also stores it (P_C_LS, P_C_RS) */
static void each_pair_is_one_superinstruction(void **state)
{
    (void)state;
#define FUSED_CASE(P, p_op, C, c_op)                                                           \
    {OP_##P, OP_##C, 0, VM_##P##_##C##_L}, {OP_##P, OP_##C, 1, VM_##P##_##C##_R},
    static const fused_case cases[] = {SG_VM_FUSED(FUSED_CASE)};
#undef FUSED_CASE
#define STORED_CASE(P, p_op, C, c_op)                                                          \
    {OP_##P, OP_##C, 0, VM_##P##_##C##_LS}, {OP_##P, OP_##C, 1, VM_##P##_##C##_RS},
    static const fused_case stored_cases[] = {SG_VM_FUSED(STORED_CASE)};
#undef STORED_CASE
    assert_int_equal(sizeof cases / sizeof cases[0], 32);
    assert_int_equal(sizeof stored_cases / sizeof stored_cases[0], 32);
    for (int stored = 0; stored < 2; stored++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            const fused_case *t = stored ? &stored_cases[k] : &cases[k];
            /* model slots 0..2 inputs, 4 the result (5 is time); 6 the temporary */
            sg_instr code[2] = {instr(t->p, 6, 0, 1),
                                t->right ? instr(t->c, 4, 2, 6) : instr(t->c, 4, 6, 2)};
            int jt_start[2] = {0, 1}, jt_slot[1] = {6};
            sg_program p = program_of(code, 2, 7, 6);
            if (stored) {
                p.nnz = 1;
                p.jt_start = jt_start;
                p.jt_slot = jt_slot;
            }
            int check[] = {4, 6};
            assert_same_values(&p, check, stored ? 2 : 1);
            assert_int_equal(operations(p.vm), 1);
            assert_int_equal(sg_vm_opcode(p.vm, operation(p.vm, 0)), t->expected);
            int o[6];
            sg_vm_operands(p.vm, operation(p.vm, 0), o);
            assert_int_equal(o[0], 4);
            assert_int_equal(o[1], 0);
            assert_int_equal(o[2], 1);
            assert_int_equal(o[3], 2);
            if (stored)
                assert_int_equal(o[4], 6);
            sg_vm_free(p.vm);
        }
}

/* (a P b) C (c Q d) with both temporaries read once */
static void both_operands_fused(void **state)
{
    (void)state;
    static const fused_case cases[] = {{OP_DIV, OP_SUB, OP_DIV, VM_DIV_DIV_SUB},
                                       {OP_MUL, OP_SUB, OP_MUL, VM_MUL_MUL_SUB},
                                       {OP_MUL, OP_ADD, OP_MUL, VM_MUL_MUL_ADD}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const fused_case *t = &cases[k];
        /* inputs 0..3, result 4, time 5; temporaries 6, 7 (t->right is Q here) */
        sg_instr code[3] = {instr(t->p, 6, 0, 1), instr(t->right, 7, 2, 3),
                            instr(t->c, 4, 6, 7)};
        sg_program p = program_of(code, 3, 8, 6);
        int check[] = {4};
        assert_same_values(&p, check, 1);
        assert_int_equal(operations(p.vm), 1);
        assert_int_equal(sg_vm_opcode(p.vm, operation(p.vm, 0)), t->expected);
        sg_vm_free(p.vm);
    }
    /* a pair without its own superinstruction: the left one is fused */
    sg_instr code[3] = {instr(OP_ADD, 6, 0, 1), instr(OP_ADD, 7, 2, 3), instr(OP_MUL, 4, 6, 7)};
    sg_program p = program_of(code, 3, 8, 6);
    int check[] = {4};
    assert_same_values(&p, check, 1);
    assert_int_equal(operations(p.vm), 2);
    assert_int_equal(sg_vm_opcode(p.vm, operation(p.vm, 0)), OP_ADD);
    assert_int_equal(sg_vm_opcode(p.vm, operation(p.vm, 1)), VM_ADD_MUL_L);
    sg_vm_free(p.vm);
}

/* A temporary read twice is still computed once, into its slot: fusing it
 * into its first reader would leave the second one reading a stale value. */
static void temporary_read_twice_is_kept(void **state)
{
    (void)state;
    /* 6 = x0 * x1; 3 = 6 + x2; 4 = 6 - x2 */
    sg_instr code[3] = {instr(OP_MUL, 6, 0, 1), instr(OP_ADD, 3, 6, 2), instr(OP_SUB, 4, 6, 2)};
    sg_program p = program_of(code, 3, 7, 6);
    int check[] = {3, 4, 6};
    assert_same_values(&p, check, 3);
    assert_int_equal(operations(p.vm), 3);
    assert_int_equal(sg_vm_opcode(p.vm, operation(p.vm, 0)), OP_MUL);
    sg_vm_free(p.vm);
}

/* A temporary read once by the code but also by the Jacobian's sums (or a
 * root function) is fused and still stored: those read its slot after the
 * code ran. */
static void temporary_read_outside_is_stored(void **state)
{
    (void)state;
    sg_instr code[2] = {instr(OP_MUL, 6, 0, 1), instr(OP_ADD, 4, 6, 2)};
    int jt_start[2] = {0, 1}, jt_slot[1] = {6};
    sg_program p = program_of(code, 2, 7, 6);
    p.nnz = 1;
    p.jt_start = jt_start;
    p.jt_slot = jt_slot;
    int check[] = {4, 6};
    assert_same_values(&p, check, 2);
    assert_int_equal(operations(p.vm), 1);
    assert_int_equal(sg_vm_opcode(p.vm, operation(p.vm, 0)), VM_MUL_ADD_LS);
    sg_vm_free(p.vm);
    int root_slot[1] = {6};
    p = program_of(code, 2, 7, 6);
    p.nroots = 1;
    p.root_slot = root_slot;
    assert_same_values(&p, check, 2);
    assert_int_equal(operations(p.vm), 1);
    assert_int_equal(sg_vm_opcode(p.vm, operation(p.vm, 0)), VM_MUL_ADD_LS);
    sg_vm_free(p.vm);
}

/* A temporary of the assignments' section read by a rate stays: a run up
 * to the assignments' end must leave it computed. */
static void no_fusion_across_sections(void **state)
{
    (void)state;
    sg_instr code[2] = {instr(OP_MUL, 6, 0, 1), instr(OP_ADD, 4, 6, 2)};
    sg_program p = program_of(code, 2, 7, 6);
    p.n_assign = 1;
    int check[] = {4, 6};
    assert_same_values(&p, check, 2);
    assert_int_equal(operations(p.vm), 2);
    sg_vm_free(p.vm);
}

/* A copy of a temporary into a named slot: the temporary's instruction
 * writes the named slot. */
static void copy_folds_into_its_producer(void **state)
{
    (void)state;
    sg_instr code[2] = {instr(OP_DIV, 6, 0, 1), instr(OP_COPY, 3, 6, -1)};
    sg_program p = program_of(code, 2, 7, 6);
    int check[] = {3};
    assert_same_values(&p, check, 1);
    assert_int_equal(operations(p.vm), 1);
    assert_int_equal(sg_vm_opcode(p.vm, operation(p.vm, 0)), OP_DIV);
    int o[6];
    sg_vm_operands(p.vm, operation(p.vm, 0), o);
    assert_int_equal(o[0], 3);
    sg_vm_free(p.vm);
}

/* Each section ends with a stop: a run up to one section's end leaves the
 * later ones' slots alone; an end that is no section's is refused. */
static void runs_stop_at_section_ends(void **state)
{
    (void)state;
    /* assignments: 3 = x0 + x1; rates: 4 = 3 * x2; roots: 5 = x0 - x1;
     * the Jacobian's code: 6 = x2 * x2 (time is 7) */
    sg_instr code[4] = {instr(OP_ADD, 3, 0, 1), instr(OP_MUL, 4, 3, 2), instr(OP_SUB, 5, 0, 1),
                        instr(OP_SQUARE, 6, 2, -1)};
    sg_program p = program_of(code, 4, 8, 8);
    p.n_assign = 1;
    p.n_rhs = 2;
    p.n_roots = 3;
    sg_vm_build(&p);
    assert_non_null(p.vm);
    assert_int_equal(sg_vm_length(p.vm), 4 + 4);
    /* the interpreter, then the machine code */
    for (int jit = 0; jit < 2; jit++) {
        sg_vm_use_jit(p.vm, jit);
        double v[8] = {0.1, 0.7, 1.0 / 3.0, -1.0, -1.0, -1.0, -1.0, 0.0};
        assert_int_equal(sg_vm_exec(p.vm, p.n_assign, v), 0);
        assert_true(v[3] == 0.1 + 0.7);
        assert_true(v[4] == -1.0);
        assert_int_equal(sg_vm_exec(p.vm, 7, v), -1);
        assert_int_equal(sg_vm_exec(p.vm, p.n_rhs, v), 0);
        assert_true(v[4] == (0.1 + 0.7) * (1.0 / 3.0));
        assert_true(v[5] == -1.0);
        assert_int_equal(sg_vm_exec(p.vm, p.n_roots, v), 0);
        assert_true(v[5] == 0.1 - 0.7);
        assert_true(v[6] == -1.0);
        assert_int_equal(sg_vm_exec(p.vm, p.n_code, v), 0);
        assert_true(v[6] == (1.0 / 3.0) * (1.0 / 3.0));
    }
    sg_vm_free(p.vm);
}

/* Every operation of the program, each on its own (so none is fused), is
 * the same bits as machine code, interpreted and in the program, on inputs
 * that make the comparisons and conditions go both ways; the ones the
 * machine code leaves to the interpreter (comparisons, functions,
 * conditions) included. */
static void every_operation_in_machine_code(void **state)
{
    (void)state;
    static const double values[][2] = {{0.1, 0.7}, {2.9, 1.0 / 3.0}, {0.0, -1.5}, {-0.25, 0.0},
                                       {0.7, 0.7}};
    for (int op = OP_COPY; op <= OP_IF; op++)
        for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
            /* slots: inputs 0, 1, 2; result 3; time 4 */
            sg_instr code[1] = {instr(op, 3, 0, 1)};
            if (op == OP_FN) {
                code[0].fn = FN_EXP;
                code[0].b = -1;
            } else if (op == OP_IF) {
                code[0].c = 2;
            }
            sg_program p = program_of(code, 1, 5, 5);
            double v[3][5];
            for (int w = 0; w < 3; w++) {
                v[w][0] = values[k][0];
                v[w][1] = values[k][1];
                v[w][2] = 5.5;
                v[w][3] = -1.0;
                v[w][4] = 0.0;
            }
            sg_program_exec(&p, 0, p.n_code, v[0]);
            sg_vm_build(&p);
            assert_non_null(p.vm);
            assert_int_equal(sg_vm_jit_size(p.vm) > 0, machine_code_expected());
            sg_program_exec(&p, 0, p.n_code, v[1]);
            sg_vm_use_jit(p.vm, 0);
            sg_program_exec(&p, 0, p.n_code, v[2]);
            for (int w = 1; w < 3; w++)
                if (memcmp(v[w], v[0], sizeof v[0]))
                    fail_msg("opcode %d, inputs %g %g: %s gives %.17g, the program %.17g", op,
                             values[k][0], values[k][1],
                             w == 1 ? "machine code" : "interpreter", v[w][3], v[0][3]);
            sg_vm_free(p.vm);
        }
}

/* The stoichiometry's sums as machine code: rows of 0 to 11 terms (the
 * interpreter's unrolled counts and its loop), each added from 0.0 in the
 * terms' order, are the same bits as the interpreter's; a zero term keeps
 * 0.0 + -0.0 = 0.0. */
static void sums_in_machine_code(void **state)
{
    (void)state;
    enum { ROWS = 12, SLOTS = 7 };
    int st_start[ROWS + 1], st_rate[ROWS * ROWS];
    double coef[ROWS * ROWS], v[SLOTS + 1], out[2][ROWS];
    int k = 0;
    for (int r = 0; r < ROWS; r++) {
        st_start[r] = k;
        for (int j = 0; j < r; j++, k++) {
            st_rate[k] = (r + 3 * j) % SLOTS;
            coef[k] = (j % 2 ? -1.0 : 1.0) * (0.1 + j / 3.0);
        }
    }
    st_start[ROWS] = k;
    for (int s = 0; s < SLOTS; s++)
        v[s] = s == 2 ? -0.0 : 1.0 / (s + 3.0);
    v[SLOTS] = 0.0; /* time */
    sg_program p = program_of(NULL, 0, SLOTS + 1, SLOTS + 1);
    p.nstate = ROWS;
    p.st_start = st_start;
    p.st_rate = st_rate;
    sg_vm_build(&p);
    assert_non_null(p.vm);
    assert_int_equal(sg_vm_jit_size(p.vm) > 0, machine_code_expected());
    for (int jit = 0; jit < 2; jit++) {
        sg_vm_use_jit(p.vm, jit);
        sg_vm_rhs_sum(&p, v, coef, out[jit]);
    }
    assert_memory_equal(out[0], out[1], sizeof out[0]);
    for (int r = 0; r < ROWS; r++) {
        double sum = 0.0;
        for (int j = st_start[r]; j < st_start[r + 1]; j++)
            sum += coef[j] * v[st_rate[j]];
        assert_memory_equal(&out[1][r], &sum, sizeof sum);
    }
    assert_false(signbit(out[1][0])); /* no terms: 0.0 */
    sg_vm_free(p.vm);
}

/* A copy of more than 16,384 instructions stays with the interpreter (as
 * machine code it was slower: jit.c), one of 16,000 gets machine code, and
 * both give the program's values. */
static void large_copies_stay_interpreted(void **state)
{
    (void)state;
    for (int big = 0; big < 2; big++) {
        int n = big ? 17000 : 16000 - 4; /* the copy adds 4 stops */
        sg_instr *code = malloc(sizeof *code * (size_t)n);
        double *v[2];
        /* slots: inputs 0, 1; time 2; 3 + k = input k%2 * input 1 - k%2
         * (none reads another's result: nothing is fused) */
        for (int k = 0; k < n; k++)
            code[k] = instr(k % 3 ? OP_MUL : OP_ADD, 3 + k, k % 2, 1 - k % 2);
        sg_program p = program_of(code, n, n + 3, n + 3);
        for (int w = 0; w < 2; w++) {
            v[w] = calloc((size_t)n + 3, sizeof *v[w]);
            v[w][0] = 0.999;
            v[w][1] = 1.5;
        }
        sg_program_exec(&p, 0, p.n_code, v[0]);
        sg_vm_build(&p);
        assert_non_null(p.vm);
        assert_int_equal(sg_vm_length(p.vm), n + 4);
        assert_int_equal(sg_vm_jit_size(p.vm) > 0, !big && machine_code_expected());
        sg_program_exec(&p, 0, p.n_code, v[1]);
        assert_memory_equal(v[0], v[1], sizeof(double) * ((size_t)n + 3));
        sg_vm_free(p.vm);
        free(v[0]);
        free(v[1]);
        free(code);
    }
}

/* SIGODE_VM_JIT=0 keeps the interpreter; without it, this machine gets
 * machine code when it should. */
static void machine_code_can_be_turned_off(void **state)
{
    (void)state;
    sg_instr code[1] = {instr(OP_MUL, 3, 0, 1)};
    sg_program p = program_of(code, 1, 5, 5);
    setenv("SIGODE_VM_JIT", "0", 1);
    sg_vm_build(&p);
    unsetenv("SIGODE_VM_JIT");
    assert_non_null(p.vm);
    assert_int_equal(sg_vm_jit_size(p.vm), 0);
    sg_vm_build(&p);
    assert_int_equal(sg_vm_jit_size(p.vm) > 0, machine_code_expected());
    sg_vm_free(p.vm);
}

/* The chains: a superinstruction's result read once, by a binary
 * operation, is one instruction, the reader's operands in their order.
 * Slots: inputs 0..3, result 4, time 5, temporaries from 6; the Jacobian
 * reads 6 (stored by the chain). */
static void chains_are_one_instruction(void **state)
{
    (void)state;
    for (int right = 0; right < 2; right++) {
        /* 4 = (x0 * x1) / x2 + x3 */
        sg_instr mm[3] = {instr(OP_MUL, 6, 0, 1), instr(OP_DIV, 7, 6, 2),
                          right ? instr(OP_ADD, 4, 3, 7) : instr(OP_ADD, 4, 7, 3)};
        /* 4 = (x2 / (x0 + x1)) * x3 */
        sg_instr hill[3] = {instr(OP_ADD, 6, 0, 1), instr(OP_DIV, 7, 2, 6),
                            right ? instr(OP_MUL, 4, 3, 7) : instr(OP_MUL, 4, 7, 3)};
        /* 4 = (x0 x1 - x2 x3) * x0 */
        sg_instr mass[4] = {instr(OP_MUL, 6, 0, 1), instr(OP_MUL, 7, 2, 3),
                            instr(OP_SUB, 8, 6, 7),
                            right ? instr(OP_MUL, 4, 0, 8) : instr(OP_MUL, 4, 8, 0)};
        struct {
            sg_instr *code;
            int n, expected, stored;
        } cases[] = {{mm, 3, VM_MUL_DIV_LS_ADD_L + right, 1},
                     {hill, 3, VM_ADD_DIV_RS_MUL_L + right, 1},
                     {mass, 4, VM_MUL_MUL_SUB_MUL_L + right, 0}};
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            int jt_start[2] = {0, 1}, jt_slot[1] = {6};
            sg_program p = program_of(cases[c].code, cases[c].n, 9, 6);
            if (cases[c].stored) {
                p.nnz = 1;
                p.jt_start = jt_start;
                p.jt_slot = jt_slot;
            }
            int check[] = {4, 6};
            assert_same_values(&p, check, cases[c].stored ? 2 : 1);
            assert_int_equal(operations(p.vm), 1);
            assert_int_equal(sg_vm_opcode(p.vm, operation(p.vm, 0)), cases[c].expected);
            sg_vm_free(p.vm);
        }
    }
}

/* Temporaries only the copy reads take the temporaries' slots in the order
 * the copy writes them; the Jacobian's sums follow them there; a temporary
 * a root function reads keeps its slot. */
static void temporaries_renumbered_in_write_order(void **state)
{
    (void)state;
    /* inputs 0..3, results 4, 5, time 6; 7 = x0 * x1 and 8 = x2 + x3, each
     * read twice: 4 = 7 - 8, 5 = 7 + 8. The copy runs the addition first
     * (same level, lower opcode), so it writes 8 first. */
    sg_instr code[4] = {instr(OP_MUL, 7, 0, 1), instr(OP_ADD, 8, 2, 3), instr(OP_SUB, 4, 7, 8),
                        instr(OP_ADD, 5, 7, 8)};
    int jt_start[2] = {0, 1}, jt_slot[1] = {7};
    double jt_scaled[1] = {1.0};
    sg_program p = program_of(code, 4, 9, 7);
    p.nnz = 1;
    p.jt_start = jt_start;
    p.jt_slot = jt_slot;
    int check[] = {4, 5};
    assert_same_values(&p, check, 2);
    int o[6];
    sg_vm_operands(p.vm, operation(p.vm, 0), o);
    assert_int_equal(sg_vm_opcode(p.vm, operation(p.vm, 0)), OP_ADD);
    assert_int_equal(o[0], 7);
    sg_vm_operands(p.vm, operation(p.vm, 1), o);
    assert_int_equal(o[0], 8);
    sg_vm_operands(p.vm, operation(p.vm, 3), o); /* 4 = 7 - 8, now 8 - 7 */
    assert_int_equal(o[0], 4);
    assert_int_equal(o[1], 8);
    assert_int_equal(o[2], 7);
    double v[9] = {0.1, 0.7, 1.0 / 3.0, 2.9, 0, 0, 0, 0, 0}, value;
    sg_vm_exec(p.vm, p.n_code, v);
    sg_vm_jac_sum(&p, v, jt_scaled, &value);
    assert_true(value == 0.0 + 1.0 * (0.1 * 0.7));
    sg_vm_free(p.vm);
    /* a root function reads 7: it stays; 8 has only its own slot */
    int root_slot[1] = {7};
    p = program_of(code, 4, 9, 7);
    p.nroots = 1;
    p.root_slot = root_slot;
    int check_root[] = {4, 5, 7};
    assert_same_values(&p, check_root, 3);
    sg_vm_operands(p.vm, operation(p.vm, 0), o);
    assert_int_equal(o[0], 8);
    sg_vm_operands(p.vm, operation(p.vm, 1), o);
    assert_int_equal(o[0], 7);
    sg_vm_free(p.vm);
}

/* The right-hand side names a derivative that is not finite wherever it is
 * (the check sums four ways: every lane and the remainder), with and
 * without the copy, and -1 when all are finite. */
static void rhs_finds_any_non_finite_derivative(void **state)
{
    (void)state;
    enum { N = 7 }; /* 4 + 3: one round of four sums, then the rest */
    int st_start[N + 1], st_rate[N];
    double st_scaled[N], y[N], ydot[N], v[N + 1];
    for (int i = 0; i < N; i++) {
        st_start[i] = i;
        st_rate[i] = i; /* d x_i / dt = 0.5 x_i */
        st_scaled[i] = 0.5;
    }
    st_start[N] = N;
    sg_program p = program_of(NULL, 0, N + 1, N + 1);
    p.nstate = N;
    p.st_start = st_start;
    p.st_rate = st_rate;
    for (int with_vm = 0; with_vm < 2; with_vm++) {
        if (with_vm) {
            sg_vm_build(&p);
            assert_non_null(p.vm);
        }
        for (int bad = -1; bad < N; bad++)
            for (int kind = 0; kind < 3; kind++) {
                for (int i = 0; i < N; i++)
                    y[i] = i == bad ? (kind == 0 ? INFINITY : kind == 1 ? -INFINITY : NAN)
                                    : -1.0 + i;
                assert_int_equal(sg_program_rhs(&p, 0.0, y, ydot, v, st_scaled), bad);
            }
    }
    sg_vm_free(p.vm);
}

/* Every shipped model: the right-hand side, the Jacobian, the root
 * functions and every model slot are the same bits with and without the
 * copy (as machine code and interpreted), at the initial state and at a
 * perturbed one. */
static void shipped_models_are_bit_identical(void **state)
{
    (void)state;
    int nfiles = 0;
    char **files = ts_model_files(&nfiles);
    assert_non_null(files);
    assert_true(nfiles > 0);
    for (int f = 0; f < nfiles; f++) {
        sg_error err;
        memset(&err, 0, sizeof err);
        sg_model *m = sg_model_load_file(files[f], &err);
        if (!m)
            fail_msg("%s: %s", files[f], err.message);
        sg_program *p = m->program;
        assert_non_null(p->vm);
        int n = p->nstate;
        size_t nst = (size_t)p->st_start[n], njt = (size_t)p->jt_start[p->nnz];
        size_t nv = (size_t)p->nslots, nout = (size_t)n + (size_t)p->nnz + (size_t)p->nroots;
        double *v[3], *out[3], *st = calloc(nst + 1, sizeof *st), *jt = calloc(njt + 1, sizeof *jt);
        double *y = calloc((size_t)n + 1, sizeof *y);
        sg_vm *vm = p->vm;
        assert_int_equal(sg_vm_jit_size(vm) > 0, machine_code_expected());
        for (int k = 0; k < 3; k++) {
            v[k] = malloc((nv + 1) * sizeof *v[k]);
            out[k] = calloc(nout + 1, sizeof *out[k]);
            memcpy(v[k], p->base, nv * sizeof *v[k]);
        }
        for (int k = 0; k < 3; k++)
            sg_program_scale(p, v[k], st, jt);
        for (int trial = 0; trial < 2; trial++) {
            for (int i = 0; i < n; i++)
                y[i] = p->base[i] * (trial ? 1.37 : 1.0) + 0.01 * i;
            /* the copy as machine code, without the copy, interpreted */
            for (int k = 0; k < 3; k++) {
                p->vm = k == 1 ? NULL : vm;
                sg_vm_use_jit(vm, k == 0);
                sg_program_rhs(p, 0.5, y, out[k], v[k], st);
                sg_program_jacobian(p, 0.5, y, out[k] + n, v[k], jt);
                sg_program_roots(p, 0.5, y, out[k] + n + p->nnz, v[k]);
            }
            p->vm = vm;
            sg_vm_use_jit(vm, 1);
            for (int k = 1; k < 3; k++) {
                assert_memory_equal(out[0], out[k], nout * sizeof(double));
                assert_memory_equal(v[0], v[k], (size_t)p->nmodel_slots * sizeof(double));
            }
        }
        for (int k = 0; k < 3; k++) {
            free(v[k]);
            free(out[k]);
        }
        free(st);
        free(jt);
        free(y);
        sg_model_free(m);
    }
    ts_free_list(files, nfiles);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_pair_is_one_superinstruction),
        cmocka_unit_test(both_operands_fused),
        cmocka_unit_test(temporary_read_twice_is_kept),
        cmocka_unit_test(temporary_read_outside_is_stored),
        cmocka_unit_test(no_fusion_across_sections),
        cmocka_unit_test(copy_folds_into_its_producer),
        cmocka_unit_test(runs_stop_at_section_ends),
        cmocka_unit_test(every_operation_in_machine_code),
        cmocka_unit_test(sums_in_machine_code),
        cmocka_unit_test(large_copies_stay_interpreted),
        cmocka_unit_test(machine_code_can_be_turned_off),
        cmocka_unit_test(chains_are_one_instruction),
        cmocka_unit_test(temporaries_renumbered_in_write_order),
        cmocka_unit_test(rhs_finds_any_non_finite_derivative),
        cmocka_unit_test(shipped_models_are_bit_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

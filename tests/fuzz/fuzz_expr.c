/*
 * Fuzz target: the expression language. The input is one expression.
 *
 *  1. parse it (as a rate law and as a check expression);
 *  2. bind it against a fixed symbol table, differentiate it by every
 *     variable and evaluate the results;
 *  3. put it in a model as an assignment and a rate law, load and compile
 *     that model (binding, cycle detection, symbolic Jacobian, bytecode)
 *     and run the compiled right-hand side and Jacobian: as the VM's
 *     machine code, interpreted, and without the VM's copy.
 *
 * Oracles: an expression that binds in step 2 must load in step 3; the
 * three runs give the same numbers.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/program.h"
#include "compile/vm.h"
#include "expr/expr.h"
#include "sigode.h"

/* The names step 2 knows; step 3's model defines the same ones. */
static const char *const names[] = {"A", "B", "C", "k1", "k2", "time"};
enum { NNAMES = 6 };

static int resolve(void *ctx, const char *name, int in_traj, char *msg, size_t size)
{
    (void)ctx;
    (void)in_traj;
    for (int i = 0; i < NNAMES; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    snprintf(msg, size, "unknown name '%s'", name);
    return -1;
}

/* Steps 1 and 2. Returns 1 if the expression bound as a rate law. */
static int parse_bind(const char *text, size_t len)
{
    int bound_ok = 0;
    for (int traj = 0; traj <= 1; traj++) {
        sg_arena *arena = sg_arena_create();
        sg_pool *pool = sg_pool_create();
        if (!arena || !pool)
            abort();
        sg_parse_error perr = {0};
        sg_expr *tree = sg_expr_parse(arena, text, traj, &perr);
        if (!tree) {
            if (perr.pos < 0 || (size_t)perr.pos > len || !perr.message[0])
                abort(); /* an error must point inside the text */
        } else {
            sg_expr *e = sg_expr_bind(pool, tree, resolve, NULL, &perr);
            if (!e && (perr.pos < 0 || (size_t)perr.pos > len || !perr.message[0]))
                abort();
            if (e && !traj) {
                bound_ok = 1;
                double v[NNAMES] = {1.5, 0.25, 3.0, 2.0, 0.5, 1.0};
                (void)sg_expr_eval(e, v);
                for (int var = 0; var < 3; var++) {
                    sg_expr *d = sg_expr_diff(pool, e, var);
                    if (!d)
                        abort(); /* only out of memory may fail */
                    (void)sg_expr_eval(d, v);
                }
            }
        }
        sg_pool_free(pool);
        sg_arena_free(arena);
    }
    return bound_ok;
}

/* Writes text as the body of a libconfig string: every byte that is not
 * plain printable ASCII, and the quote and backslash, as \xNN. */
static size_t escape(char *out, const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            n += (size_t)sprintf(out + n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    out[n] = '\0';
    return n;
}

/* Whether a and b hold the same numbers: bit for bit, any NaN equal to
 * any NaN (an operation with two NaN operands may keep either's payload). */
static int same_numbers(const double *a, const double *b, int n)
{
    for (int i = 0; i < n; i++)
        if (!(isnan(a[i]) && isnan(b[i])) && memcmp(&a[i], &b[i], sizeof a[i]) != 0)
            return 0;
    return 1;
}

/* Runs the right-hand side and the Jacobian three ways: the VM's copy as
 * machine code (where there is any), interpreted, and the program without
 * the copy. Oracle: the same numbers all three ways. */
static void run_program(sg_program *p)
{
    int n = p->nstate, nnz = p->nnz;
    double *v = calloc((size_t)p->nslots + 1, sizeof *v);
    double *ydot = calloc(3 * ((size_t)n + 1), sizeof *ydot);
    double *st = calloc((size_t)p->st_start[n] + 1, sizeof *st);
    double *jt = calloc((size_t)p->jt_start[nnz] + 1, sizeof *jt);
    double *jac = calloc(3 * ((size_t)nnz + 1), sizeof *jac);
    double y[2] = {1.5, 0.25};
    sg_vm *vm = p->vm;
    if (v && ydot && st && jt && jac) {
        for (int way = 0; way < 3; way++) {
            if (vm)
                sg_vm_use_jit(vm, way == 0);
            p->vm = way == 2 ? NULL : vm;
            memcpy(v, p->base, sizeof *v * (size_t)p->nslots);
            sg_program_scale(p, v, st, jt);
            sg_program_rhs(p, 0.5, y, ydot + way * (n + 1), v, st);
            sg_program_jacobian(p, 0.5, y, jac + way * (nnz + 1), v, jt);
        }
        p->vm = vm;
        if (vm)
            sg_vm_use_jit(vm, 1);
        for (int way = 1; way < 3; way++)
            if (!same_numbers(ydot, ydot + way * (n + 1), n) ||
                !same_numbers(jac, jac + way * (nnz + 1), nnz))
                abort(); /* machine code, interpreter and program disagree */
    }
    free(v);
    free(ydot);
    free(st);
    free(jt);
    free(jac);
}

/* Step 3. */
static sg_model *load_as_model(const char *text, size_t len)
{
    static const char head[] =
        "name = \"fuzz\";\n"
        "parameters = ( { id = \"k1\"; value = 2.0; }, { id = \"k2\"; value = 0.5; } );\n"
        "species = ( { id = \"A\"; initial = 1.5; }, { id = \"B\"; initial = 0.25; },\n"
        "            { id = \"C\"; initial = 3.0; constant = true; } );\n"
        "assignments = ( { id = \"S\"; value = \"";
    static const char mid[] = "\"; } );\n"
                              "reactions = ( { id = \"r\"; equation = \"A -> 2 B\"; rate = \"";
    static const char tail[] = "\"; } );\n";
    char *esc = malloc(len * 4 + 1);
    size_t elen = escape(esc, text, len);
    size_t total = sizeof head + sizeof mid + sizeof tail + 2 * elen;
    char *model = malloc(total);
    int n = snprintf(model, total, "%s%s%s%s%s", head, esc, mid, esc, tail);
    sg_error err;
    sg_model *m = sg_model_load_buffer(model, (size_t)n, "fuzz_expr.cfg", &err);
    if (!m && (err.status == SG_OK || !err.message[0]))
        abort();
    if (m)
        run_program(m->program);
    free(model);
    free(esc);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an expression is a C string: it ends at the first NUL */
    const uint8_t *nul = memchr(data, 0, size);
    size_t len = nul ? (size_t)(nul - data) : size;
    char *text = malloc(len + 1);
    memcpy(text, data, len);
    text[len] = '\0';
    int bound = parse_bind(text, len);
    sg_model *m = load_as_model(text, len);
    /* the model defines every name step 2 knows: what bound must load
     * (unless it names S, the assignment itself: a cycle) */
    if (bound && !m)
        abort();
    sg_model_free(m);
    free(text);
    return 0;
}

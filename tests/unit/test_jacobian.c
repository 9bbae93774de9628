/*
 * The symbolic Jacobian: for every model of models/ and models/examples/
 * (found at run time), and for a model made to exercise every operator,
 * the compiled analytic Jacobian equals a central finite-difference
 * Jacobian of the compiled right-hand side at random positive states, and
 * every nonzero of the finite-difference Jacobian lies inside the
 * compressed-sparse-column pattern CVODE/KLU is given.
 *
 * Tolerance: |J - J_fd| <= 1e-6 |J| + 1e-9 max|row|, where max|row| is
 * the largest entry of the row. The floor covers the rounding error of
 * the difference quotient (about eps |f_i| / h ~ 1e-11 max|row| with
 * h = 1e-5 |y_j|); the truncation error of central differences is
 * O(h^2) ~ 1e-10 relative for these smooth rate laws.
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
#include "model/model.h"
#include "support.h"

/* xorshift64*: a fixed seed, so a failure reproduces */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static double uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* Exercises every operator, function, assignment chains, compartments of
 * different sizes, constant species, time and non-unit stoichiometry. */
static const char zoo_model[] =
    "name = \"zoo\";\n"
    "compartments = ( { id = \"cyt\"; size = 2.0; }, { id = \"nuc\"; size = 0.3; } );\n"
    "parameters = ( { id = \"k\"; value = 0.7; }, { id = \"K\"; value = 1.3; },\n"
    "               { id = \"n\"; value = 2.5; }, { id = \"V\"; value = 3.0; } );\n"
    "species = (\n"
    "  { id = \"A\"; initial = 1.0; compartment = \"cyt\"; },\n"
    "  { id = \"B\"; initial = 2.0; compartment = \"cyt\"; },\n"
    "  { id = \"C\"; initial = 0.5; compartment = \"nuc\"; },\n"
    "  { id = \"D\"; initial = 0.1; compartment = \"nuc\"; },\n"
    "  { id = \"E\"; initial = 1.0; compartment = \"cyt\"; },\n"
    "  { id = \"L\"; initial = 0.8; compartment = \"cyt\"; constant = true; }\n"
    ");\n"
    "assignments = (\n"
    "  { id = \"u\"; value = \"A * B + w\"; },\n"
    "  { id = \"w\"; value = \"sqrt(C) * exp(-D) + log(A + 1)\"; },\n"
    "  { id = \"z\"; value = \"u^2 / (1 + u) + hill(B, K, n)\"; }\n"
    ");\n"
    "reactions = (\n"
    "  { id = \"r1\"; equation = \"2 A + L <-> C\"; rate = \"k * A^2 * L - K * C\"; },\n"
    "  { id = \"r2\"; equation = \"B -> D\"; rate = \"mm(B, V * E, K) * (1 + sin(time))\"; },\n"
    "  { id = \"r3\"; equation = \"C -> 1.5 A\"; rate = \"z * C / (K + C)\"; },\n"
    "  { id = \"r4\"; equation = \"-> E\"; rate = \"V * hill(L, D, n) + pow(A, B) / 10\"; },\n"
    "  { id = \"r5\"; equation = \"E ->\"; rate = \"k * E * tanh(A) * cos(B) ^ 2\"; },\n"
    "  { id = \"r6\"; equation = \"D -> B\"; rate = \"k * D * log10(1 + A) * abs(C - 2)\"; },\n"
    "  { id = \"r7\"; equation = \"A -> E\"; rate = \"min(A, B, 3) * max(C, D) + if(A > B, A * C, B * D)\"; },\n"
    "  { id = \"r8\"; equation = \"B + E -> C\"; rate = \"k * B * E / (1 + (B / K)^n) + 1 / (1 + A * A)\"; },\n"
    "  { id = \"r9\"; equation = \"C ->\"; rate = \"k * C * tan(A / (1 + A)) + 0.1 * C * floor(3.5) * ceil(0.2) * time\"; },\n"
    "  { id = \"r10\"; equation = \"D -> A\"; rate = \"k * D * (asin(B / (1 + B)) + acos(C / (2 + C)) * atan(E))\"; }\n"
    ");\n";

typedef struct stats {
    int models, points, entries;
} stats;

/* Compares the Jacobian of one model at `npoints` random states. */
static void check_model(const sg_model *m, const char *label, int npoints, stats *st)
{
    const sg_program *p = m->program;
    int n = p->nstate;
    if (n == 0)
        return;
    size_t nst = (size_t)p->st_start[n], njt = (size_t)p->jt_start[p->nnz];
    double *v = malloc(sizeof(double) * (size_t)p->nslots);
    double *st_scaled = malloc(sizeof(double) * (nst + 1));
    double *jt_scaled = malloc(sizeof(double) * (njt + 1));
    double *jac = malloc(sizeof(double) * ((size_t)p->nnz + 1));
    double *dense = calloc((size_t)n * (size_t)n, sizeof(double));
    double *fd = malloc(sizeof(double) * (size_t)n * (size_t)n);
    unsigned char *in_pattern = calloc((size_t)n * (size_t)n, 1);
    double *y = malloc(sizeof(double) * (size_t)n), *yp = malloc(sizeof(double) * (size_t)n);
    double *fp = malloc(sizeof(double) * (size_t)n), *fm = malloc(sizeof(double) * (size_t)n);

    /* the pattern is a valid CSC matrix */
    assert_int_equal(p->jac_colptr[0], 0);
    assert_int_equal(p->jac_colptr[n], p->nnz);
    for (int j = 0; j < n; j++) {
        assert_true(p->jac_colptr[j] <= p->jac_colptr[j + 1]);
        for (int e = p->jac_colptr[j]; e < p->jac_colptr[j + 1]; e++) {
            int i = p->jac_rowidx[e];
            assert_true(i >= 0 && i < n);
            if (e > p->jac_colptr[j])
                assert_true(p->jac_rowidx[e - 1] < i); /* sorted, no duplicates */
            in_pattern[(size_t)j * (size_t)n + (size_t)i] = 1;
        }
    }

    for (int point = 0; point < npoints; point++) {
        memcpy(v, p->base, sizeof(double) * (size_t)p->nslots);
        /* random positive states around their scale, and random positive
         * values of the constant species (inputs), so no term vanishes */
        for (int s = 0; s < m->nspecies; s++) {
            const sg_species_def *sp = &m->species[s];
            double scale = sp->initial > 0 ? sp->initial : 1.0;
            double value = scale * exp(-2.0 + 4.0 * uniform());
            if (sp->constant)
                v[sp->slot] = value;
            else
                y[sp->slot] = value;
        }
        double t = 10.0 * uniform();
        sg_program_scale(p, v, st_scaled, jt_scaled);
        sg_program_jacobian(p, t, y, jac, v, jt_scaled);
        memset(dense, 0, sizeof(double) * (size_t)n * (size_t)n);
        for (int j = 0; j < n; j++)
            for (int e = p->jac_colptr[j]; e < p->jac_colptr[j + 1]; e++)
                dense[(size_t)j * (size_t)n + (size_t)p->jac_rowidx[e]] = jac[e];
        for (int j = 0; j < n; j++) {
            double h = 1e-5 * fabs(y[j]);
            memcpy(yp, y, sizeof(double) * (size_t)n);
            yp[j] = y[j] + h;
            double hp = yp[j] - y[j]; /* the step actually taken */
            assert_int_equal(sg_program_rhs(p, t, yp, fp, v, st_scaled), -1);
            yp[j] = y[j] - h;
            double hm = y[j] - yp[j];
            assert_int_equal(sg_program_rhs(p, t, yp, fm, v, st_scaled), -1);
            for (int i = 0; i < n; i++)
                fd[(size_t)j * (size_t)n + (size_t)i] = (fp[i] - fm[i]) / (hp + hm);
        }
        for (int i = 0; i < n; i++) {
            double rowmax = 0.0;
            for (int j = 0; j < n; j++) {
                rowmax = fmax(rowmax, fabs(dense[(size_t)j * (size_t)n + (size_t)i]));
                rowmax = fmax(rowmax, fabs(fd[(size_t)j * (size_t)n + (size_t)i]));
            }
            for (int j = 0; j < n; j++) {
                size_t k = (size_t)j * (size_t)n + (size_t)i;
                double diff = fabs(dense[k] - fd[k]);
                double allowed = 1e-6 * fabs(dense[k]) + 1e-9 * rowmax;
                if (!in_pattern[k] && fabs(fd[k]) > 1e-9 * rowmax)
                    fail_msg("%s: d %s / d %s = %.6g (finite differences) is outside the "
                             "sparsity pattern",
                             label, m->slot_name[i], m->slot_name[j], fd[k]);
                if (!(diff <= allowed))
                    fail_msg("%s: d %s / d %s: analytic %.12g, finite differences %.12g "
                             "(t = %g, point %d)",
                             label, m->slot_name[i], m->slot_name[j], dense[k], fd[k], t,
                             point);
                st->entries++;
            }
        }
        st->points++;
    }
    st->models++;
    free(v);
    free(st_scaled);
    free(jt_scaled);
    free(jac);
    free(dense);
    free(fd);
    free(in_pattern);
    free(y);
    free(yp);
    free(fp);
    free(fm);
}

static void test_every_model(void **state)
{
    (void)state;
    int n;
    char **files = ts_model_files(&n);
    assert_true(n >= 5);
    stats st = {0};
    for (int i = 0; i < n; i++) {
        sg_error err;
        sg_model *m = sg_model_load_file(files[i], &err);
        assert_non_null(m);
        /* large models: fewer points keep the suite fast */
        int points = m->nstate > 200 ? 1 : m->nstate > 50 ? 2 : 5;
        check_model(m, files[i], points, &st);
        sg_model_free(m);
    }
    ts_free_list(files, n);
    print_message("checked %d models, %d states, %d Jacobian entries\n", st.models, st.points,
                  st.entries);
}

static void test_operator_zoo(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(zoo_model);
    stats st = {0};
    check_model(m, "zoo", 50, &st);
    assert_int_equal(st.points, 50);
    sg_model_free(m);
}

/* The analytic Jacobian is not a finite-difference one in disguise: a
 * quadratic rate gives exactly 2 k A, with the compartment division. */
static void test_exact_entries(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(
        "name = \"q\";\n"
        "compartments = ( { id = \"c\"; size = 4.0; } );\n"
        "parameters = ( { id = \"k\"; value = 3.0; } );\n"
        "species = ( { id = \"A\"; initial = 1.0; compartment = \"c\"; },\n"
        "            { id = \"B\"; initial = 0.0; compartment = \"c\"; } );\n"
        "reactions = ( { id = \"dimer\"; equation = \"2 A -> B\"; rate = \"k * A^2\"; } );\n");
    const sg_program *p = m->program;
    double v[64], st_scaled[16], jt_scaled[16], jac[8], y[2] = {5.0, 7.0}, ydot[2];
    assert_true(p->nslots <= 64);
    memcpy(v, p->base, sizeof(double) * (size_t)p->nslots);
    sg_program_scale(p, v, st_scaled, jt_scaled);
    assert_int_equal(sg_program_rhs(p, 0.0, y, ydot, v, st_scaled), -1);
    /* dA/dt = -2 k A^2 / 4, dB/dt = k A^2 / 4 */
    assert_true(ydot[0] == -2.0 * 3.0 * 25.0 / 4.0);
    assert_true(ydot[1] == 3.0 * 25.0 / 4.0);
    sg_program_jacobian(p, 0.0, y, jac, v, jt_scaled);
    /* column A: d(dA/dt)/dA = -4 k A / 4 = -15, d(dB/dt)/dA = 2 k A / 4 = 7.5;
     * column B: only its diagonal (always in the pattern: CVODE adds the
     * identity), which is zero */
    assert_int_equal(p->nnz, 3);
    assert_int_equal(p->jac_colptr[1], 2);
    assert_int_equal(p->jac_colptr[2], 3);
    assert_int_equal(p->jac_rowidx[2], 1);
    assert_true(jac[0] == -15.0);
    assert_true(jac[1] == 7.5);
    assert_true(jac[2] == 0.0);
    sg_model_free(m);
}

/* Builds a network of n species whose rates and assignments use x^2, x^3
 * and x^4 (compiled as products of x^2, some of which are not in the text),
 * hill and mm; with an event when `event`. Caller frees. */
static char *network_text(int n, int event)
{
    size_t cap = 4096 + (size_t)n * 512, len = 0;
    char *t = malloc(cap);
    assert_non_null(t);
#define ADD(...) (len += (size_t)snprintf(t + len, cap - len, __VA_ARGS__))
    ADD("name = \"net\";\nparameters = (");
    for (int i = 0; i < n; i++)
        ADD("%s{ id = \"k%d\"; value = %g; }, { id = \"K%d\"; value = %g; }", i ? ", " : "", i,
            0.1 + 0.01 * i, i, 1.0 + 0.1 * i);
    ADD(");\nspecies = (");
    for (int i = 0; i < n; i++)
        ADD("%s{ id = \"S%d\"; initial = %g; }", i ? ", " : "", i, 0.5 + 0.05 * i);
    ADD(");\nassignments = (");
    for (int i = 0; i < n; i++)
        ADD("%s{ id = \"a%d\"; value = \"(S%d + k%d)^3 + k%d * S%d^2\"; }", i ? ", " : "", i,
            i, i, i, (i + 3) % n);
    ADD(");\nreactions = (");
    for (int i = 0; i < n; i++)
        ADD("%s{ id = \"r%d\"; equation = \"S%d -> S%d\"; "
            "rate = \"k%d * S%d^4 / (K%d^4 + S%d^4) + a%d * hill(S%d, K%d, %d)"
            " + mm(S%d, k%d, K%d)\"; }",
            i ? ", " : "", i, i, (i + 1) % n, i, i, i, i, (i + 2) % n, (i + 5) % n, i, 2 + i % 3,
            (i + 7) % n, i, (i + 1) % n);
    ADD(");\n");
    if (event)
        ADD("events = ( { id = \"e\"; trigger = \"S0 > 2\"; assign = { S1 = 0.0; }; } );\n");
#undef ADD
    assert_true(len < cap);
    return t;
}

static void assert_same_instrs(const sg_instr *a, const sg_instr *b, int n)
{
    for (int k = 0; k < n; k++) {
        assert_int_equal(a[k].op, b[k].op);
        assert_int_equal(a[k].fn, b[k].fn);
        assert_int_equal(a[k].dst, b[k].dst);
        assert_int_equal(a[k].a, b[k].a);
        assert_int_equal(a[k].b, b[k].b);
        assert_int_equal(a[k].c, b[k].c);
    }
}

/* The program compiled with two threads (the rates by one while the other
 * derives the Jacobian) is the program compiled by one: the same
 * instructions, slots, constants and sparse sums. */
static void assert_same_program(const sg_program *a, const sg_program *b)
{
    assert_int_equal(a->nslots, b->nslots);
    assert_memory_equal(a->base, b->base, sizeof(double) * (size_t)a->nslots);
    assert_int_equal(a->n_setup, b->n_setup);
    assert_same_instrs(a->setup, b->setup, a->n_setup);
    assert_int_equal(a->n_assign, b->n_assign);
    assert_int_equal(a->n_rhs, b->n_rhs);
    assert_int_equal(a->n_roots, b->n_roots);
    assert_int_equal(a->n_code, b->n_code);
    assert_same_instrs(a->code, b->code, a->n_code);
    int n = a->nstate;
    assert_memory_equal(a->st_start, b->st_start, sizeof(int) * ((size_t)n + 1));
    assert_memory_equal(a->st_rate, b->st_rate, sizeof(int) * (size_t)a->st_start[n]);
    assert_memory_equal(a->st_coef, b->st_coef, sizeof(double) * (size_t)a->st_start[n]);
    assert_int_equal(a->nnz, b->nnz);
    assert_memory_equal(a->jac_colptr, b->jac_colptr, sizeof(int) * ((size_t)n + 1));
    assert_memory_equal(a->jac_rowidx, b->jac_rowidx, sizeof(int) * (size_t)a->nnz);
    assert_memory_equal(a->jt_start, b->jt_start, sizeof(int) * ((size_t)a->nnz + 1));
    assert_memory_equal(a->jt_slot, b->jt_slot, sizeof(int) * (size_t)a->jt_start[a->nnz]);
    assert_memory_equal(a->jt_coef, b->jt_coef, sizeof(double) * (size_t)a->jt_start[a->nnz]);
}

/* ... and every node of the pool was made in the same order */
static void assert_same_pool(sg_pool *a, sg_pool *b)
{
    assert_int_equal(sg_pool_size(a), sg_pool_size(b));
    for (int id = 0; id < sg_pool_size(a); id++) {
        const sg_expr *x = sg_pool_node(a, id), *y = sg_pool_node(b, id);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->fn, y->fn);
        assert_int_equal(x->nargs, y->nargs);
        if (x->kind == EX_NUM)
            assert_memory_equal(&x->num, &y->num, sizeof x->num);
        else if (x->kind == EX_VAR)
            assert_int_equal(x->slot, y->slot);
        else
            for (int i = 0; i < x->nargs; i++)
                assert_int_equal(x->arg[i]->id, y->arg[i]->id);
    }
}

static sg_model *load_threads(const char *text, int two)
{
    int saved = sg_compile_two_threads;
    sg_compile_two_threads = two;
    sg_model *m = ts_load_text(text);
    sg_compile_two_threads = saved;
    return m;
}

static void test_two_threads(void **state)
{
    (void)state;
    char *text = network_text(40, 0);
    sg_model *one = load_threads(text, 0), *two = load_threads(text, 1);
    assert_int_equal(one->program->two_threads, 0);
    assert_int_equal(two->program->two_threads, 1);
    assert_same_program(one->program, two->program);
    assert_same_pool(one->pool, two->pool);
    /* and the program is right */
    stats st = {0};
    check_model(two, "two threads", 5, &st);
    assert_int_equal(st.points, 5);
    sg_model_free(one);
    sg_model_free(two);
    free(text);
    /* with events, compiling the roots makes nodes: one thread */
    text = network_text(40, 1);
    two = load_threads(text, 1);
    assert_int_equal(two->program->two_threads, 0);
    assert_true(two->program->ntriggers > 0);
    sg_model_free(two);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_entries),
        cmocka_unit_test(test_operator_zoo),
        cmocka_unit_test(test_every_model),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

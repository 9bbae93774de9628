/*
 * Model loading: every shipped model loads; every file of the bad-model
 * corpus (tests/unit/bad_models/) fails with exactly the message recorded
 * in bad_models/expected.txt; what a good file defines is what the model
 * reports.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "expr/expr.h"
#include "model/model.h"
#include "support.h"

#define BAD_DIR SIGODE_SOURCE_DIR "/tests/unit/bad_models"

static void test_every_model_loads(void **state)
{
    (void)state;
    int n;
    char **files = ts_model_files(&n);
    int examples = 0;
    for (int i = 0; i < n; i++) {
        sg_error err;
        sg_model *m = sg_model_load_file(files[i], &err);
        if (!m) {
            char msg[1200];
            sg_error_format(&err, msg, sizeof msg);
            fail_msg("%s", msg);
        }
        assert_true(sg_model_name(m)[0] != '\0');
        assert_true(sg_model_species_count(m) > 0);
        assert_string_equal(sg_model_path(m), files[i]);
        if (strstr(files[i], "/models/examples/")) {
            examples++;
            /* the examples document every parameter and carry checks */
            for (int p = 0; p < sg_model_parameter_count(m); p++) {
                if (!sg_model_parameter_unit(m, p)[0] || !sg_model_parameter_source(m, p)[0])
                    fail_msg("%s: parameter '%s' needs a unit and a source", files[i],
                             sg_model_parameter_id(m, p));
            }
            assert_true(sg_model_scenario_count(m) > 0);
            assert_true(sg_model_check_count(m) > 0);
        }
        sg_model_free(m);
    }
    /* the five documented examples at least */
    assert_true(examples >= 5);
    ts_free_list(files, n);
}

typedef struct expectation {
    char *file;
    char *message;
} expectation;

static expectation *read_expected(int *count)
{
    char *text = ts_read_file(BAD_DIR "/expected.txt", NULL);
    assert_non_null(text);
    expectation *list = NULL;
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *tab = strchr(line, '\t');
        if (!tab)
            fail_msg("expected.txt: no tab in '%s'", line);
        *tab = '\0';
        list = realloc(list, sizeof *list * (size_t)(n + 1));
        list[n].file = strdup(line);
        list[n].message = strdup(tab + 1);
        n++;
    }
    free(text);
    *count = n;
    return list;
}

static void test_bad_models(void **state)
{
    (void)state;
    int n;
    expectation *list = read_expected(&n);
    assert_true(n >= 25);
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    /* load by bare file name, so messages name the file as written */
    assert_int_equal(chdir(BAD_DIR), 0);
    int failures = 0;
    for (int i = 0; i < n; i++) {
        sg_error err;
        char got[1200];
        sg_model *m = sg_model_load_file(list[i].file, &err);
        if (m) {
            print_error("%s: loaded, expected: %s\n", list[i].file, list[i].message);
            sg_model_free(m);
            failures++;
            continue;
        }
        sg_error_format(&err, got, sizeof got);
        if (err.status != SG_ERR_MODEL || strcmp(got, list[i].message) != 0) {
            print_error("%s:\n   got      %s (status %d)\n   expected %s\n", list[i].file,
                        got, err.status, list[i].message);
            failures++;
        }
        /* from memory with the same name: the same message (an empty buffer
         * is not a file, so it only lacks a name) */
        size_t len;
        char *text = ts_read_file(list[i].file, &len);
        assert_non_null(text);
        if (len > 0) {
            m = sg_model_load_buffer(text, len, list[i].file, &err);
            assert_null(m);
            sg_error_format(&err, got, sizeof got);
            if (strcmp(got, list[i].message) != 0) {
                print_error("%s (buffer):\n   got      %s\n   expected %s\n", list[i].file,
                            got, list[i].message);
                failures++;
            }
        }
        free(text);
    }
    /* every file of the corpus has an expectation, and the other way round */
    DIR *d = opendir(".");
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".cfg") != 0)
            continue;
        files++;
        int found = 0;
        for (int i = 0; i < n; i++)
            found |= strcmp(list[i].file, e->d_name) == 0;
        if (!found) {
            print_error("%s has no line in expected.txt\n", e->d_name);
            failures++;
        }
    }
    closedir(d);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(files, n);
    for (int i = 0; i < n; i++) {
        free(list[i].file);
        free(list[i].message);
    }
    free(list);
    assert_int_equal(failures, 0);
}

/* A missing file is an I/O error naming the file, not a model error. */
static void test_missing_file(void **state)
{
    (void)state;
    sg_error err;
    assert_null(sg_model_load_file(BAD_DIR "/no_such_model.cfg", &err));
    assert_int_equal(err.status, SG_ERR_IO);
    assert_string_equal(err.file, BAD_DIR "/no_such_model.cfg");
    assert_non_null(strstr(err.message, "cannot open model file"));
    assert_int_equal(sg_status_exit_code(err.status), 2);
}

static const char good_model[] =
    "name = \"good\";\n"
    "description = \"every kind of definition\";\n"
    "time_unit = \"h\";\n"
    "conc_unit = \"nM\";\n"
    "compartments = ( { id = \"cell\"; size = 2; }, { id = \"nucleus\"; size = 0.5; } );\n"
    "parameters = (\n"
    "  { id = \"k\"; value = 1; unit = \"1/h\"; source = \"[A] test\"; },\n" /* an integer */
    "  { id = \"kon\"; value = 2.5e-3; }\n"
    ");\n"
    "species = (\n"
    "  { id = \"A\"; initial = 10; compartment = \"cell\"; },\n"
    "  { id = \"L\"; initial = 3.0; compartment = \"cell\"; constant = true; },\n"
    "  { id = \"B\"; initial = 0.0; compartment = \"nucleus\"; },\n"
    "  { id = \"C\"; compartment = \"cell\"; }\n"
    ");\n"
    "assignments = (\n"
    "  { id = \"total\"; value = \"A + B + tot2\"; },\n" /* uses a later assignment */
    "  { id = \"tot2\"; value = \"2 * C\"; }\n"
    ");\n"
    "reactions = (\n"
    "  { id = \"dimer\"; equation = \"2 A + L <-> B\"; rate = \"kon * A^2 * L - k * B\"; },\n"
    "  { id = \"merge\"; equation = \"A + A -> 0.5 C + A\"; rate = \"k * A\"; },\n"
    "  { id = \"syn\"; equation = \"-> C\"; rate = \"k\"; },\n"
    "  { id = \"deg\"; equation = \"C ->\"; rate = \"k * C\"; },\n"
    "  { id = \"cat\"; equation = \"A + C -> B + C\"; rate = \"k * A * C\"; }\n"
    ");\n"
    "scenarios = (\n"
    "  { id = \"baseline\"; t_end = 10; },\n"
    "  { id = \"more_L\"; t_end = 5.0; points = 11; set = { L = 6.0; k = 2.0; }; }\n"
    ");\n"
    "checks = ( { id = \"B_forms\"; scenario = \"baseline\"; expect = \"final(B) > 0\"; } );\n";

static void test_model_contents(void **state)
{
    (void)state;
    sg_model *m = ts_load_text(good_model);
    assert_string_equal(sg_model_name(m), "good");
    assert_string_equal(sg_model_description(m), "every kind of definition");
    assert_string_equal(sg_model_time_unit(m), "h");
    assert_string_equal(sg_model_conc_unit(m), "nM");
    assert_int_equal(sg_model_compartment_count(m), 2);
    assert_true(sg_model_compartment_size(m, 0) == 2.0);
    assert_int_equal(sg_model_parameter_count(m), 2);
    assert_true(sg_model_parameter_value(m, 0) == 1.0);
    assert_string_equal(sg_model_parameter_unit(m, 0), "1/h");
    assert_string_equal(sg_model_parameter_source(m, 0), "[A] test");
    assert_string_equal(sg_model_parameter_unit(m, 1), "");
    assert_int_equal(sg_model_species_count(m), 4);
    assert_int_equal(sg_model_state_count(m), 3);
    assert_string_equal(sg_model_species_id(m, 1), "L"); /* file order */
    assert_true(sg_model_species_is_constant(m, 1));
    assert_true(sg_model_species_initial(m, 0) == 10.0);
    assert_true(sg_model_species_initial(m, 3) == 0.0); /* default */
    assert_string_equal(sg_model_species_compartment(m, 2), "nucleus");
    assert_int_equal(sg_model_assignment_count(m), 2);
    assert_string_equal(sg_model_assignment_text(m, 0), "A + B + tot2");
    assert_int_equal(sg_model_reaction_count(m), 5);
    assert_string_equal(sg_model_reaction_equation(m, 0), "2 A + L <-> B");
    assert_string_equal(sg_model_reaction_rate(m, 2), "k");
    assert_int_equal(sg_model_scenario_count(m), 2);
    assert_int_equal(sg_model_find_scenario(m, "more_L"), 1);
    assert_int_equal(sg_model_find_scenario(m, "nope"), -1);
    assert_int_equal(sg_model_check_count(m), 1);
    assert_string_equal(sg_model_check_id(m, 0), "B_forms");
    assert_int_equal(sg_model_lookup(m, "A"), SG_SYM_SPECIES);
    assert_int_equal(sg_model_lookup(m, "cell"), SG_SYM_COMPARTMENT);
    assert_int_equal(sg_model_lookup(m, "kon"), SG_SYM_PARAMETER);
    assert_int_equal(sg_model_lookup(m, "tot2"), SG_SYM_ASSIGNMENT);
    assert_int_equal(sg_model_lookup(m, "dimer"), SG_SYM_NONE); /* reactions are not values */
    assert_int_equal(sg_model_lookup(m, "nothing"), SG_SYM_NONE);

    /* net stoichiometry: constant species dropped, A + A merged, catalysts
     * (on both sides) cancel */
    const sg_reaction_def *r = m->reactions;
    assert_true(r[0].reversible);
    assert_int_equal(r[0].nterms, 2);
    assert_string_equal(m->species[r[0].terms[0].species].id, "A");
    assert_true(r[0].terms[0].coef == -2.0);
    assert_string_equal(m->species[r[0].terms[1].species].id, "B");
    assert_true(r[0].terms[1].coef == 1.0);
    assert_false(r[1].reversible);
    assert_int_equal(r[1].nterms, 2); /* A: -2 + 1 = -1; C: +0.5 */
    assert_true(r[1].terms[0].coef == -1.0);
    assert_true(r[1].terms[1].coef == 0.5);
    assert_int_equal(r[2].nterms, 1);
    assert_true(r[2].terms[0].coef == 1.0);
    assert_int_equal(r[3].nterms, 1);
    assert_true(r[3].terms[0].coef == -1.0);
    assert_int_equal(r[4].nterms, 2); /* C cancels */
    assert_string_equal(m->species[r[4].terms[0].species].id, "A");
    assert_string_equal(m->species[r[4].terms[1].species].id, "B");

    /* assignments are ordered so tot2 is computed before total */
    assert_int_equal(m->assignment_order[0], 1);
    assert_int_equal(m->assignment_order[1], 0);

    /* the scenario's settings reach the experiment */
    sg_error err;
    sg_experiment *exp = sg_experiment_create(m, "more_L", &err);
    assert_non_null(exp);
    assert_true(sg_experiment_t_end(exp) == 5.0);
    assert_true(sg_experiment_t_start(exp) == 0.0);
    sg_experiment_free(exp);
    assert_null(sg_experiment_create(m, "nope", &err));
    assert_int_equal(err.status, SG_ERR_USAGE);
    assert_non_null(strstr(err.message, "baseline, more_L"));
    sg_model_free(m);
}

/* Unit labels are optional: an unset one reads as "". */
static void test_minimal_model(void **state)
{
    (void)state;
    sg_model *m = ts_load_text("name = \"tiny\";\nspecies = ( { id = \"X\"; } );\n");
    assert_string_equal(sg_model_time_unit(m), "");
    assert_string_equal(sg_model_description(m), "");
    assert_int_equal(sg_model_compartment_count(m), 1); /* the implicit one */
    assert_true(sg_model_compartment_size(m, 0) == 1.0);
    assert_int_equal(sg_model_reaction_count(m), 0);
    /* nothing happens, but it runs */
    sg_trajectory *traj = ts_run_scenario(m, NULL, 1e-6, 1e-9);
    assert_int_equal(sg_trajectory_rows(traj), 101);
    assert_true(sg_trajectory_value(traj, 100, 0) == 0.0);
    sg_trajectory_free(traj);
    sg_model_free(m);
    sg_model_free(NULL); /* does nothing */
}

/* Large texts are read by libconfig in two threads (model/cfgread.c). With
 * no minimum size every file is: each model, good or broken, must load the
 * same as when read whole: the same error message (lines and columns of a
 * list read apart included) or the same trajectory, bit for bit. */
/* The default scenario's run as text: every value's bits, or the error. */
static void run_to_text(const sg_model *m, char *out, size_t size)
{
    sg_options opt;
    sg_options_default(&opt);
    sg_error err;
    sg_experiment *exp = sg_experiment_create(m, NULL, &err);
    sg_sim *sim = exp ? sg_sim_create(m, &opt, &err) : NULL;
    sg_trajectory *traj = NULL;
    sg_status st = sim ? sg_sim_run(sim, exp, &traj, &err) : err.status;
    size_t used = (size_t)snprintf(out, size, "%d species, %d reactions: ",
                                   sg_model_species_count(m), sg_model_reaction_count(m));
    if (st != SG_OK) {
        sg_error_format(&err, out + used, size - used);
    } else {
        /* a running hash of the bits keeps the text short */
        uint64_t h = 1469598103934665603ULL;
        for (int r = 0; r < sg_trajectory_rows(traj); r++)
            for (int i = 0; i < sg_model_species_count(m); i++) {
                double v = sg_trajectory_value(traj, r, i);
                uint64_t bits;
                memcpy(&bits, &v, sizeof bits);
                h = (h ^ bits) * 1099511628211ULL;
            }
        snprintf(out + used, size - used, "%d rows, values %016llx", sg_trajectory_rows(traj),
                 (unsigned long long)h);
    }
    sg_trajectory_free(traj);
    sg_sim_free(sim);
    sg_experiment_free(exp);
}

/* Two loads of one file (whole, and another way) agree: the same error,
 * or the same run (and, when given, the same `same_places`); frees both.
 * 1 and a message when they differ. */
static int compare_loads(const char *path, sg_model *whole, const sg_error *whole_err,
                         sg_model *other, const sg_error *other_err, const char *how,
                         unsigned long long (*same_places)(const sg_model *))
{
    int differ = 0;
    if (!whole || !other) {
        char a[1200] = "", b[1200] = "";
        if (!whole)
            sg_error_format(whole_err, a, sizeof a);
        if (!other)
            sg_error_format(other_err, b, sizeof b);
        if (whole || other || strcmp(a, b) != 0 || whole_err->status != other_err->status) {
            print_error("%s:\n   whole: %s\n   %s: %s\n", path, a, how, b);
            differ = 1;
        }
    } else {
        char a[4096], b[4096];
        run_to_text(whole, a, sizeof a);
        run_to_text(other, b, sizeof b);
        if (strcmp(a, b) != 0 || (same_places && same_places(whole) != same_places(other))) {
            print_error("%s: loads differently %s:\n%s\n%s\n", path, how, a, b);
            differ = 1;
        }
    }
    sg_model_free(whole);
    sg_model_free(other);
    return differ;
}

static int load_both_ways(const char *path, int *read_in_two)
{
    size_t saved = sg_cfg_split_min_bytes, saved_pieces = sg_cfg_piece_min_bytes;
    sg_error whole_err, split_err;
    sg_cfg_piece_min_bytes = (size_t)-1; /* the two threads, not the pieces */
    sg_cfg_split_min_bytes = (size_t)-1;
    sg_model *whole = sg_model_load_file(path, &whole_err);
    sg_cfg_split_min_bytes = 0;
    sg_model *split = sg_model_load_file(path, &split_err);
    sg_cfg_split_min_bytes = saved;
    sg_cfg_piece_min_bytes = saved_pieces;
    if (whole && split) {
        assert_false(whole->read_in_two);
        *read_in_two += split->read_in_two;
    }
    return compare_loads(path, whole, &whole_err, split, &split_err, "read in two", NULL);
}

/* Where the model says its definitions are: a hash of every species',
 * parameter's and reaction's line and of each rate's place (column
 * included), which the lists read in pieces must keep. */
static unsigned long long lines_hash(const sg_model *m)
{
    unsigned long long h = 1469598103934665603ULL;
#define MIX(v) (h = (h ^ (unsigned long long)(unsigned)(v)) * 1099511628211ULL)
    for (int i = 0; i < m->nspecies; i++)
        MIX(m->species[i].line);
    for (int i = 0; i < m->nparameters; i++)
        MIX(m->parameters[i].line);
    for (int i = 0; i < m->nreactions; i++) {
        MIX(m->reactions[i].line);
        MIX(m->reactions[i].col);
    }
#undef MIX
    return h;
}

/* Loads path whole and with its long lists in pieces of `per_piece`
 * elements (read ahead by a thread or not): the same error, or the same
 * run and the same lines. */
static int load_whole_and_in_pieces(const char *path, int per_piece, int read_ahead,
                                    int *in_pieces)
{
    size_t saved_pieces = sg_cfg_piece_min_bytes, saved_split = sg_cfg_split_min_bytes;
    int saved_elements = sg_cfg_piece_elements, saved_ahead = sg_cfg_read_ahead;
    sg_error whole_err, pieces_err;
    sg_cfg_split_min_bytes = (size_t)-1;
    sg_cfg_piece_min_bytes = (size_t)-1;
    sg_model *whole = sg_model_load_file(path, &whole_err);
    sg_cfg_piece_min_bytes = 0;
    sg_cfg_piece_elements = per_piece;
    sg_cfg_read_ahead = read_ahead;
    sg_model *pieces = sg_model_load_file(path, &pieces_err);
    sg_cfg_piece_min_bytes = saved_pieces;
    sg_cfg_split_min_bytes = saved_split;
    sg_cfg_piece_elements = saved_elements;
    sg_cfg_read_ahead = saved_ahead;
    if (whole && pieces) {
        assert_false(whole->read_in_pieces);
        *in_pieces += pieces->read_in_pieces;
    }
    char how[40];
    snprintf(how, sizeof how, "in pieces of %d", per_piece);
    return compare_loads(path, whole, &whole_err, pieces, &pieces_err, how, lines_hash);
}

/* How a directory's files are loaded a second time, to compare with a
 * load of each whole: read in two (per_piece 0) or with the long lists in
 * pieces of per_piece elements. */
typedef struct {
    int per_piece, read_ahead;
} second_load;

/* Loads every .cfg file of dir whole and the second way; counts the files
 * and, in *split, the second loads that were read in two or in pieces. */
static int load_dir_two_ways(const char *dir, second_load how, int *files, int *split)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int failures = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".cfg") != 0)
            continue;
        char *path = ts_path(dir, e->d_name);
        failures += how.per_piece
                        ? load_whole_and_in_pieces(path, how.per_piece, how.read_ahead, split)
                        : load_both_ways(path, split);
        (*files)++;
        free(path);
    }
    closedir(d);
    return failures;
}

/* Large models' long lists are read in pieces (model/cfgread.c, load.c).
 * With no minimum size every file's are: pieces of 1 element read ahead
 * by a thread and of 2 read in turn, against the whole file. A broken
 * model (the bad models, the fuzzing corpus) gives the same message at
 * the same line and column, a good one the same run, bit for bit. */
static void test_lists_in_pieces(void **state)
{
    (void)state;
    int n, failures = 0, files = 0;
    char **models = ts_model_files(&n);
    for (int per_piece = 1; per_piece <= 2; per_piece++) {
        int in_pieces = 0, bad_in_pieces = 0;
        for (int i = 0; i < n; i++)
            failures += load_whole_and_in_pieces(models[i], per_piece, per_piece == 1,
                                                 &in_pieces);
        /* every shipped model has species and reactions */
        assert_int_equal(in_pieces, n);
        second_load how = {.per_piece = per_piece, .read_ahead = per_piece == 1};
        failures += load_dir_two_ways(BAD_DIR, how, &files, &bad_in_pieces);
        failures += load_dir_two_ways(SIGODE_SOURCE_DIR "/tests/robustness/corpus", how, &files,
                                      &bad_in_pieces);
    }
    /* read ahead with the loader waiting for every piece (it reads the
     * next one itself by default): the same loads */
    int in_pieces = 0, saved_reads = sg_cfg_loader_reads;
    sg_cfg_loader_reads = 0;
    for (int i = 0; i < n; i++)
        failures += load_whole_and_in_pieces(models[i], 1, 1, &in_pieces);
    sg_cfg_loader_reads = saved_reads;
    assert_int_equal(in_pieces, n);
    ts_free_list(models, n);
    assert_true(files > 300);
    assert_int_equal(failures, 0);
}

static void test_read_in_two_threads(void **state)
{
    (void)state;
    int n, read_in_two = 0, failures = 0, files = 0;
    char **models = ts_model_files(&n);
    for (int i = 0; i < n; i++)
        failures += load_both_ways(models[i], &read_in_two);
    ts_free_list(models, n);
    /* every shipped model has lists to share between the threads */
    assert_int_equal(read_in_two, n);
    second_load in_two = {.per_piece = 0};
    failures += load_dir_two_ways(BAD_DIR, in_two, &files, &read_in_two);
    failures += load_dir_two_ways(SIGODE_SOURCE_DIR "/tests/robustness/corpus", in_two, &files,
                                  &read_in_two);
    assert_true(files > 150);
    assert_int_equal(failures, 0);
}

/* A model whose pool and function bodies hold a node of every kind. */
static const char every_kind_model[] =
    "name = \"every_kind\";\n"
    "functions = (\n"
    "  { id = \"twice\"; args = [ \"u\" ]; body = \"2 * u\"; },\n"
    "  { id = \"gate\"; args = [ \"u\", \"v\" ];\n"
    "    body = \"if(u > v && !(u <= v) || u < v, min(u, v), -twice(u) / v ^ 3)\"; }\n"
    ");\n"
    "parameters = ( { id = \"k\"; value = 0.5; }, { id = \"k2\"; value = 2.0; },\n"
    "               { id = \"tau\"; value = 0.25; } );\n"
    "species = ( { id = \"A\"; initial = 1.0; }, { id = \"B\"; initial = 0.0; } );\n"
    "assignments = ( { id = \"g\"; value = \"gate(A, k) + max(A, B) - (A >= k) + (A == k2) * "
    "(B != k) + tanh(A) - delay(A, tau)\"; } );\n"
    "reactions = ( { id = \"r\"; equation = \"A -> B\"; rate = \"k * A * (1 + 0 * g)\"; } );\n"
    "scenarios = ( { id = \"s\"; t_end = 2.0; points = 5; } );\n"
    "checks = ( { id = \"c\"; scenario = \"s\"; expect = \"final(A) < at(B @ s, 1) || "
    "halftime(B) > 0\"; } );\n";

/* Two parse trees are the same, kind by kind (-1: they differ). */
static int same_tree(const sg_expr *a, const sg_expr *b, unsigned *kinds)
{
    if (!a || !b)
        return a == b ? 0 : -1;
    if (a->kind != b->kind || a->fn != b->fn || a->nargs != b->nargs || a->pos != b->pos ||
        a->depth != b->depth)
        return -1;
    *kinds |= 1u << a->kind;
    switch (a->kind) {
    case EX_NUM: return memcmp(&a->num, &b->num, sizeof a->num) ? -1 : 0;
    case EX_NAME: return strcmp(a->name, b->name) ? -1 : 0;
    case EX_VAR: return a->slot == b->slot ? 0 : -1;
    case EX_USER:
        if (a->slot != b->slot || a->nuargs != b->nuargs)
            return -1;
        for (int i = 0; i < a->nuargs; i++)
            if (same_tree(a->uargs[i], b->uargs[i], kinds) != 0)
                return -1;
        return 0;
    default:
        if (a->kind == EX_TRAJ && (a->name || b->name) &&
            (!a->name || !b->name || strcmp(a->name, b->name)))
            return -1;
        for (int i = 0; i < a->nargs; i++)
            if (same_tree(a->arg[i], b->arg[i], kinds) != 0)
                return -1;
        return 0;
    }
}

/* The compiled-model image (model/image.c) gives back every node of the
 * pool and of the function bodies with what it held. What a node holds
 * depends on its kind (one union): a writer or reader that took the wrong
 * field for a kind would change a node here. */
static void test_image_keeps_every_node_kind(void **state)
{
    (void)state;
    char *dir = ts_temp_dir();
    assert_non_null(dir);
    setenv("SIGODE_CACHE_DIR", dir, 1);
    setenv("SIGODE_MODEL_CACHE", "1", 1);
    sg_error err;
    size_t len = sizeof every_kind_model - 1;
    sg_model *made = sg_model_load_buffer(every_kind_model, len, "every_kind.cfg", &err);
    if (!made)
        fail_msg("%s", err.message);
    assert_int_equal(strncmp(sg_model_cache_outcome(), "stored", 6), 0);
    sg_model *read = sg_model_load_buffer(every_kind_model, len, "every_kind.cfg", &err);
    if (!read)
        fail_msg("%s", err.message);
    const char *outcome = sg_model_cache_outcome();
    unsetenv("SIGODE_MODEL_CACHE");
    unsetenv("SIGODE_CACHE_DIR");
    if (strncmp(outcome, "hit", 3) != 0)
        fail_msg("the second load did not read the image: %s", outcome);

    unsigned kinds = 0;
    int n = sg_pool_size(made->pool);
    assert_int_equal(sg_pool_size(read->pool), n);
    for (int id = 0; id < n; id++) {
        const sg_expr *a = sg_pool_node(made->pool, id), *b = sg_pool_node(read->pool, id);
        if (a->kind != b->kind || a->fn != b->fn || a->nargs != b->nargs)
            fail_msg("node %d: kind %d fn %d nargs %d read back as %d %d %d", id, a->kind,
                     a->fn, a->nargs, b->kind, b->fn, b->nargs);
        kinds |= 1u << a->kind;
        switch (a->kind) {
        case EX_NUM:
            if (memcmp(&a->num, &b->num, sizeof a->num))
                fail_msg("node %d: number %g read back as %g", id, a->num, b->num);
            break;
        case EX_VAR:
            if (a->slot != b->slot)
                fail_msg("node %d: slot %d read back as %d", id, a->slot, b->slot);
            break;
        default:
            for (int i = 0; i < a->nargs; i++)
                if (a->arg[i]->id != b->arg[i]->id)
                    fail_msg("node %d: argument %d is node %d, read back as %d", id, i,
                             a->arg[i]->id, b->arg[i]->id);
            if (a->kind == EX_TRAJ) {
                assert_int_equal(a->pos, b->pos);
                if (a->name || b->name) {
                    assert_non_null(a->name);
                    assert_non_null(b->name);
                    assert_string_equal(a->name, b->name);
                }
            }
        }
    }
    assert_int_equal(made->nfunctions, read->nfunctions);
    for (int f = 0; f < made->nfunctions; f++)
        if (same_tree(made->functions[f].body, read->functions[f].body, &kinds) != 0)
            fail_msg("the body of function %s changed in the image", made->functions[f].name);
    for (int k = EX_NUM; k <= EX_DELAY; k++)
        if (!(kinds & (1u << k)))
            fail_msg("the model holds no node of kind %d", k);
    sg_model_free(made);
    sg_model_free(read);
    ts_remove_dir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_model_loads),
        cmocka_unit_test(test_bad_models),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_model_contents),
        cmocka_unit_test(test_minimal_model),
        cmocka_unit_test(test_read_in_two_threads),
        cmocka_unit_test(test_lists_in_pieces),
        cmocka_unit_test(test_image_keeps_every_node_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The native backend (src/compile/native.c): compiled C gives the same bits
 * as the instruction program on every shipped model and scenario; the
 * object cache is used, checked and never trusted blindly; a missing or
 * failing compiler and an unsafe cache directory are clear errors that
 * leave the model running on the instruction program.
 *
 * Every test points SIGODE_CACHE_DIR at a fresh directory of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

static const char small_model[] =
    "name = \"small\";\n"
    "compartments = ( { id = \"cell\"; size = 1.0; } );\n"
    "species = ( { id = \"A\"; compartment = \"cell\"; initial = 1.0; },\n"
    "            { id = \"B\"; compartment = \"cell\"; initial = 0.0; } );\n"
    "parameters = ( { id = \"k\"; value = 0.7; unit = \"1/h\"; source = \"[A]\"; } );\n"
    "reactions = ( { id = \"r\"; equation = \"A -> B\"; rate = \"k * A^3 / (1 + B)\"; } );\n"
    "scenarios = ( { id = \"s\"; t_end = 5.0; points = 11; } );\n";

static const char other_model[] =
    "name = \"other\";\n"
    "compartments = ( { id = \"cell\"; size = 1.0; } );\n"
    "species = ( { id = \"A\"; compartment = \"cell\"; initial = 2.0; } );\n"
    "parameters = ( { id = \"k\"; value = 0.3; unit = \"1/h\"; source = \"[A]\"; } );\n"
    "reactions = ( { id = \"decay\"; equation = \"A -> \"; rate = \"k * exp(-A)\"; } );\n"
    "scenarios = ( { id = \"s\"; t_end = 5.0; points = 11; } );\n";

static char *cache;

static int use_fresh_cache(void **state)
{
    (void)state;
    cache = ts_temp_dir();
    setenv("SIGODE_CACHE_DIR", cache, 1);
    unsetenv("SIGODE_CC");
    return 0;
}

static int drop_cache(void **state)
{
    (void)state;
    ts_remove_dir(cache);
    free(cache);
    cache = NULL;
    unsetenv("SIGODE_CC");
    return 0;
}

/* Every value of two trajectories, bit for bit. */
static void assert_same_bits(const sg_trajectory *a, const sg_trajectory *b, const char *what)
{
    assert_int_equal(sg_trajectory_rows(a), sg_trajectory_rows(b));
    assert_int_equal(sg_trajectory_columns(a), sg_trajectory_columns(b));
    for (int r = 0; r < sg_trajectory_rows(a); r++) {
        double ta = sg_trajectory_time(a, r), tb = sg_trajectory_time(b, r);
        assert_memory_equal(&ta, &tb, sizeof ta);
        for (int c = 0; c < sg_trajectory_columns(a); c++) {
            double va = sg_trajectory_value(a, r, c), vb = sg_trajectory_value(b, r, c);
            if (memcmp(&va, &vb, sizeof va) != 0)
                fail_msg("%s: row %d column %s: vm %.17g, native %.17g", what, r,
                         sg_trajectory_column_id(a, c), va, vb);
        }
    }
}

/* The files in the cache directory whose names end in `suffix`: their
 * number, and (if `last` is not NULL) the path of one of them (caller
 * frees; NULL when there is none). */
static int cache_files(const char *suffix, char **last)
{
    DIR *d = opendir(cache);
    assert_non_null(d);
    int n = 0;
    if (last)
        *last = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), sl = strlen(suffix);
        if (len <= sl || strcmp(e->d_name + len - sl, suffix) != 0)
            continue;
        n++;
        if (last) {
            free(*last);
            *last = ts_path(cache, e->d_name);
        }
    }
    closedir(d);
    return n;
}

static int count_files(const char *suffix) { return cache_files(suffix, NULL); }

/* The one cached file ending in suffix (caller frees). */
static char *cached_file(const char *suffix)
{
    char *path;
    assert_int_equal(cache_files(suffix, &path), 1);
    return path;
}

static void identical_on_every_shipped_model(void **state)
{
    (void)state;
    int nfiles;
    char **files = ts_model_files(&nfiles);
    assert_true(nfiles >= 7);
    int compared = 0;
    for (int f = 0; f < nfiles; f++) {
        sg_error err;
        sg_model *m = sg_model_load_file(files[f], &err);
        assert_non_null(m);
        /* the defaults, then every scenario (knock-downs, drugs at 24 h,
         * dosing schedules, pre-equilibration) */
        int nscen = sg_model_scenario_count(m);
        for (int s = -1; s < nscen; s++) {
            const char *scen = s < 0 ? NULL : sg_model_scenario_id(m, s);
            assert_int_equal(sg_model_set_backend(m, SG_BACKEND_VM, &err), SG_OK);
            sg_trajectory *vm = ts_run_scenario(m, scen, 1e-6, 1e-9);
            if (sg_model_set_backend(m, SG_BACKEND_NATIVE, &err) != SG_OK)
                fail_msg("%s: %s", files[f], err.message);
            assert_int_equal(sg_model_backend(m), SG_BACKEND_NATIVE);
            sg_trajectory *native = ts_run_scenario(m, scen, 1e-6, 1e-9);
            char what[512];
            snprintf(what, sizeof what, "%s scenario %s", files[f], scen ? scen : "(default)");
            assert_same_bits(vm, native, what);
            sg_trajectory_free(vm);
            sg_trajectory_free(native);
            compared++;
        }
        sg_model_free(m);
    }
    assert_true(compared >= 40); /* 21 + 13 scenarios of the mission models alone */
    ts_free_list(files, nfiles);
}

static void cached_object_is_used_without_compiler(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = ts_load_text(small_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    sg_model_free(m);
    assert_int_equal(count_files(".so"), 1);
    assert_int_equal(count_files(".c"), 1);
    assert_int_equal(count_files(".log"), 0); /* temporaries are gone */

    /* the same compiler command (it is part of the cached source), but no
     * compiler to run: PATH finds nothing */
    char *path = strdup(getenv("PATH"));
    setenv("PATH", cache, 1);
    m = ts_load_text(small_model);
    assert_int_equal(sg_model_use_cached_native(m, &err), SG_OK);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_NATIVE);
    sg_model_free(m);
    m = ts_load_text(small_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    sg_model_free(m);

    /* a model never compiled: use_cached stays on the VM without error */
    m = ts_load_text(other_model);
    assert_int_equal(sg_model_use_cached_native(m, &err), SG_OK);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_ERR_IO);
    assert_non_null(strstr(err.message, "cannot run the C compiler 'cc'"));
    sg_model_free(m);
    setenv("PATH", path, 1);
    free(path);

    /* another compiler is another source: no match */
    setenv("SIGODE_CC", "gcc", 1);
    m = ts_load_text(small_model);
    assert_int_equal(sg_model_use_cached_native(m, &err), SG_OK);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);
    sg_model_free(m);
}

static void missing_compiler_leaves_vm(void **state)
{
    (void)state;
    setenv("SIGODE_CC", "/nonexistent/cc", 1);
    sg_error err;
    sg_model *m = ts_load_text(other_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_ERR_IO);
    assert_non_null(strstr(err.message, "cannot run the C compiler '/nonexistent/cc'"));
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);
    sg_trajectory *t = ts_run_scenario(m, "s", 1e-6, 1e-9); /* still runs */
    assert_int_equal(sg_trajectory_rows(t), 11);
    sg_trajectory_free(t);
    sg_model_free(m);
    assert_int_equal(count_files(".so") + count_files(".c"), 0);
}

static void failing_compiler_is_reported(void **state)
{
    (void)state;
    setenv("SIGODE_CC", "false", 1);
    sg_error err;
    sg_model *m = ts_load_text(other_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_ERR_IO);
    assert_non_null(strstr(err.message, "the C compiler 'false' failed (exit status 1)"));
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);
    sg_model_free(m);
    assert_int_equal(count_files(".so") + count_files(".c") + count_files(".log"), 0);
}

static void damaged_cache_is_recompiled(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = ts_load_text(small_model);
    sg_trajectory *vm = ts_run_scenario(m, "s", 1e-6, 1e-9);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    sg_model_free(m);

    /* a cached source that is not the generated one: the object beside it
     * (here garbage) is never loaded */
    char *src = cached_file(".c"), *so = cached_file(".so");
    assert_int_equal(ts_write_file(src, "/* other */\n", 12), 0);
    assert_int_equal(ts_write_file(so, "garbage", 7), 0);
    m = ts_load_text(small_model);
    assert_int_equal(sg_model_use_cached_native(m, &err), SG_OK);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);

    /* compiles again, replacing both files */
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    sg_trajectory *native = ts_run_scenario(m, "s", 1e-6, 1e-9);
    assert_same_bits(vm, native, "recompiled");
    size_t len;
    char *text = ts_read_file(src, &len);
    assert_non_null(strstr(text, "Generated by sigode"));
    free(text);
    sg_model_free(m);

    /* the right source beside an object that does not load */
    assert_int_equal(ts_write_file(so, "garbage", 7), 0);
    m = ts_load_text(small_model);
    assert_int_equal(sg_model_use_cached_native(m, &err), SG_OK);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    free(src);
    free(so);
    sg_trajectory_free(vm);
    sg_trajectory_free(native);
    sg_model_free(m);
}

static void unsafe_cache_directory_is_refused(void **state)
{
    (void)state;
    assert_int_equal(chmod(cache, 0777), 0);
    sg_error err;
    sg_model *m = ts_load_text(small_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_ERR_IO);
    assert_non_null(strstr(err.message, "writable only by it"));
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);
    sg_model_free(m);
    assert_int_equal(chmod(cache, 0700), 0);
}

static void back_to_vm(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = ts_load_text(small_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_VM, &err), SG_OK);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);
    sg_model_free(m);
}

/* The command line: --backend choices, the note when the compiler is
 * missing, and identical tables from run and scan. */
static void command_line(void **state)
{
    (void)state;
    const char *model = "models/calcineurin_er.cfg";
    char *vm_out = NULL, *native_out = NULL, *err = NULL;
    const char *run_vm[] = {SIGODE_BINARY, "run", model, "--scenario", "fk506_10nM",
                            "--backend", "vm", NULL};
    const char *run_native[] = {SIGODE_BINARY, "run", model, "--scenario", "fk506_10nM",
                                "--backend", "native", NULL};
    assert_int_equal(ts_run(run_vm, &vm_out, NULL), 0);
    assert_int_equal(ts_run(run_native, &native_out, &err), 0);
    assert_string_equal(err, "");
    assert_string_equal(vm_out, native_out);
    assert_int_equal(count_files(".so"), 1);
    free(native_out);
    free(err);

    const char *scan_native[] = {SIGODE_BINARY, "scan", model, "--target", "FK506", "--from",
                                 "0.01", "--to", "100", "--points", "30", "--log", "--at", "24",
                                 "--backend", "native", NULL};
    const char *scan_vm[] = {SIGODE_BINARY, "scan", model, "--target", "FK506", "--from",
                             "0.01", "--to", "100", "--points", "30", "--log", "--at", "24",
                             "--backend", "vm", NULL};
    char *scan_a = NULL, *scan_b = NULL;
    assert_int_equal(ts_run(scan_vm, &scan_a, NULL), 0);
    assert_int_equal(ts_run(scan_native, &scan_b, NULL), 0);
    assert_string_equal(scan_a, scan_b);
    free(scan_a);
    free(scan_b);

    /* no compiler: a note, the instruction program, the same table */
    setenv("SIGODE_CC", "/nonexistent/cc", 1);
    const char *run_other[] = {SIGODE_BINARY, "run", "models/examples/abc.cfg", "--backend",
                               "native", NULL};
    const char *run_other_vm[] = {SIGODE_BINARY, "run", "models/examples/abc.cfg", "--backend",
                                  "vm", NULL};
    char *a = NULL, *b = NULL;
    assert_int_equal(ts_run(run_other, &a, &err), 0);
    assert_non_null(strstr(err, "sigode run: note: native backend: cannot run the C compiler "
                                "'/nonexistent/cc'"));
    assert_non_null(strstr(err, "using the instruction program"));
    free(err);
    assert_int_equal(ts_run(run_other_vm, &b, NULL), 0);
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* auto (the default) finds the calcineurin object compiled above */
    const char *run_auto[] = {SIGODE_BINARY, "run", model, "--scenario", "fk506_10nM", NULL};
    char *auto_out = NULL;
    assert_int_equal(ts_run(run_auto, &auto_out, &err), 0);
    assert_string_equal(err, "");
    assert_string_equal(auto_out, vm_out);
    free(auto_out);
    free(err);
    free(vm_out);

    const char *bad[] = {SIGODE_BINARY, "run", model, "--backend", "jit", NULL};
    assert_int_equal(ts_run(bad, NULL, &err), 2);
    assert_non_null(strstr(err, "--backend expects auto, vm or native, got 'jit'"));
    free(err);
}

/* A compile killed by a signal leaves tmp-PID-* files; the next compile
 * removes those of processes that are gone and keeps a live one's. */
static void stale_temporaries_are_removed(void **state)
{
    (void)state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    char name[64];
    const char *suffixes[] = {".c", ".so", ".log"};
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "tmp-%ld-0123456789abcdef%s", (long)child, suffixes[i]);
        char *path = ts_path(cache, name);
        assert_int_equal(ts_write_file(path, "x", 1), 0);
        free(path);
    }
    snprintf(name, sizeof name, "tmp-%ld-0123456789abcdef.c", (long)getppid());
    char *live = ts_path(cache, name);
    assert_int_equal(ts_write_file(live, "x", 1), 0);
    assert_int_equal(count_files(".log"), 1);

    sg_error err;
    sg_model *m = ts_load_text(other_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    sg_model_free(m);
    /* the compiled object and its source, and the live process's file */
    assert_int_equal(count_files(".log"), 0);
    assert_int_equal(count_files(".so"), 1);
    assert_int_equal(count_files(".c"), 2);
    struct stat st;
    assert_int_equal(stat(live, &st), 0);
    free(live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(identical_on_every_shipped_model, use_fresh_cache,
                                        drop_cache),
        cmocka_unit_test_setup_teardown(cached_object_is_used_without_compiler, use_fresh_cache,
                                        drop_cache),
        cmocka_unit_test_setup_teardown(missing_compiler_leaves_vm, use_fresh_cache, drop_cache),
        cmocka_unit_test_setup_teardown(failing_compiler_is_reported, use_fresh_cache,
                                        drop_cache),
        cmocka_unit_test_setup_teardown(damaged_cache_is_recompiled, use_fresh_cache,
                                        drop_cache),
        cmocka_unit_test_setup_teardown(unsafe_cache_directory_is_refused, use_fresh_cache,
                                        drop_cache),
        cmocka_unit_test_setup_teardown(back_to_vm, use_fresh_cache, drop_cache),
        cmocka_unit_test_setup_teardown(stale_temporaries_are_removed, use_fresh_cache,
                                        drop_cache),
        cmocka_unit_test_setup_teardown(command_line, use_fresh_cache, drop_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

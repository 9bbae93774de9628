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
#include <fcntl.h>
#include <time.h>
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

/* --backend auto asks for a cached object on every run; it generates the
 * source to compare only when the program's hint is in the cache (the
 * source of fceri_ji alone costs 15 ms): without the hint it stays on the
 * instruction program; --backend native finds the object by its source,
 * without compiling, and puts the hint back. */
static void auto_probes_only_hinted_programs(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = ts_load_text(small_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    sg_model_free(m);
    assert_int_equal(count_files(".hint"), 1);
    char *hint = cached_file(".hint");
    assert_int_equal(unlink(hint), 0);

    char *path = strdup(getenv("PATH"));
    setenv("PATH", cache, 1); /* no compiler: nothing is compiled below */
    m = ts_load_text(small_model);
    assert_int_equal(sg_model_use_cached_native(m, &err), SG_OK);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    sg_model_free(m);
    assert_int_equal(count_files(".hint"), 1);
    m = ts_load_text(small_model);
    assert_int_equal(sg_model_use_cached_native(m, &err), SG_OK);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_NATIVE);
    sg_model_free(m);
    setenv("PATH", path, 1);
    free(path);
    free(hint);
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

/* Sets a file's modification time `seconds` in the past. */
static void age_file(const char *path, long seconds)
{
    struct timespec times[2];
    clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= seconds;
    times[1] = times[0];
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static char *temporary(const char *name, long pid, const char *suffix, long age)
{
    char base[64];
    snprintf(base, sizeof base, "tmp-%ld-%s%s", pid, name, suffix);
    char *path = ts_path(cache, base);
    assert_int_equal(ts_write_file(path, "x", 1), 0);
    age_file(path, age);
    return path;
}

/* A compile killed by a signal leaves tmp-PID-* files; the next compile
 * removes those an hour old whose process is gone, and any a day old. A
 * fresh one of a process not found here stays: it may be a compile running
 * in another PID namespace or on another host sharing the folder. */
static void stale_temporaries_are_removed(void **state)
{
    (void)state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    const char *suffixes[] = {".c", ".so", ".log"};
    char *stale[3];
    for (int i = 0; i < 3; i++)
        stale[i] = temporary("0123456789abcdef", (long)child, suffixes[i], 2 * 3600);
    char *foreign = temporary("1111111111111111", (long)child, ".c", 60);
    char *live = temporary("2222222222222222", (long)getppid(), ".c", 2 * 3600);
    char *abandoned = temporary("3333333333333333", (long)getppid(), ".c", 2 * 86400);

    sg_error err;
    sg_model *m = ts_load_text(other_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    sg_model_free(m);
    struct stat st;
    for (int i = 0; i < 3; i++) {
        assert_int_not_equal(stat(stale[i], &st), 0);
        free(stale[i]);
    }
    assert_int_equal(stat(foreign, &st), 0);
    assert_int_equal(stat(live, &st), 0);
    assert_int_not_equal(stat(abandoned, &st), 0);
    assert_int_equal(count_files(".so"), 1);
    free(foreign);
    free(live);
    free(abandoned);
}

/* The name of the one cached file with this suffix (caller frees). */
static char *cached(const char *suffix)
{
    char *path = NULL;
    assert_int_equal(cache_files(suffix, &path), 1);
    return path;
}

/* A cached object (or its source) another user owns, or that others may
 * write, is never loaded: the cache-only lookup finds nothing, a build
 * recompiles. */
static void foreign_or_writable_object_is_not_used(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = ts_load_text(small_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    sg_model_free(m);
    char *so = cached(".so"), *src = cached(".c");
    const struct {
        const char *path;
        int mode;
        int owner; /* 1: give to nobody (root only) */
    } cases[] = {{so, 0755, 1}, {src, 0644, 1}, {so, 0775, 0}, {so, 0757, 0}, {src, 0666, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (cases[k].owner && geteuid() != 0)
            continue;
        struct stat before;
        assert_int_equal(stat(cases[k].path, &before), 0);
        if (cases[k].owner)
            assert_int_equal(chown(cases[k].path, 65534, 65534), 0);
        assert_int_equal(chmod(cases[k].path, (mode_t)cases[k].mode), 0);
        m = ts_load_text(small_model);
        assert_int_equal(sg_model_use_cached_native(m, &err), SG_OK);
        if (sg_model_backend(m) != SG_BACKEND_VM)
            fail_msg("case %zu: a cached file of mode %o, owner %d was used", k,
                     cases[k].mode, cases[k].owner);
        sg_model_free(m);
        assert_int_equal(chown(cases[k].path, before.st_uid, before.st_gid), 0);
        assert_int_equal(chmod(cases[k].path, before.st_mode & 07777), 0);
    }
    /* and a symlink in place of the object is not followed */
    char *elsewhere = ts_path(cache, "elsewhere.so");
    assert_int_equal(rename(so, elsewhere), 0);
    assert_int_equal(symlink(elsewhere, so), 0);
    m = ts_load_text(small_model);
    assert_int_equal(sg_model_use_cached_native(m, &err), SG_OK);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_VM);
    sg_model_free(m);
    free(elsewhere);
    free(so);
    free(src);
}

/* A cache inside a folder other users can write (no sticky bit) is
 * refused: they could rename the cache and put their own in its place. */
static void writable_parent_is_refused(void **state)
{
    (void)state;
    char *open_dir = ts_path(cache, "open"), *inner = ts_path(open_dir, "cache");
    assert_int_equal(mkdir(open_dir, 0700), 0);
    assert_int_equal(chmod(open_dir, 0777), 0);
    setenv("SIGODE_CACHE_DIR", inner, 1);
    sg_error err;
    sg_model *m = ts_load_text(small_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_ERR_IO);
    assert_non_null(strstr(err.message, "other users can write"));
    sg_model_free(m);
    assert_int_equal(chmod(open_dir, 0775), 0); /* group-writable: refused too */
    m = ts_load_text(small_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_ERR_IO);
    sg_model_free(m);
    assert_int_equal(chmod(open_dir, 01777), 0); /* sticky, as /tmp: fine */
    m = ts_load_text(small_model);
    assert_int_equal(sg_model_set_backend(m, SG_BACKEND_NATIVE, &err), SG_OK);
    sg_model_free(m);
    setenv("SIGODE_CACHE_DIR", cache, 1);
    free(inner);
    free(open_dir);
}

/* The swap attack: while sigode compiles, "another user" moves the
 * checked cache folder away and puts a folder of theirs, holding their
 * object under the names sigode will use, in its place. sigode works
 * through the descriptor of the folder it checked, so it renames and
 * loads its own object and the intruder's never runs. (The compiler is a
 * wrapper doing the swap once the real compile is done.) */
static void swapped_cache_folder_is_not_used(void **state)
{
    (void)state;
    char *evil_c = ts_path(cache, "evil.c"), *evil_so = ts_path(cache, "evil.so");
    char *marker = ts_path(cache, "intruder-ran"), *wrapper = ts_path(cache, "cc-swap");
    char *work = ts_path(cache, "work");
    assert_int_equal(mkdir(work, 0700), 0);
    char text[2048];
    snprintf(text, sizeof text,
             "#include <fcntl.h>\n#include <unistd.h>\n"
             "__attribute__((constructor)) static void intrude(void)\n"
             "{ close(open(\"%s\", O_CREAT | O_WRONLY, 0600)); }\n",
             marker);
    assert_int_equal(ts_write_file(evil_c, text, strlen(text)), 0);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cc -shared -fPIC -o '%s' '%s'", evil_so, evil_c);
    assert_int_equal(system(cmd), 0);
    snprintf(text, sizeof text,
             "#!/bin/sh\n"
             "cc \"$@\" || exit 1\n"
             "while [ $# -gt 0 ]; do case \"$1\" in -o) out=$2; shift;; *.c) src=$1;; esac; "
             "shift; done\n"
             "mv \"$SIGODE_CACHE_DIR\" \"$SIGODE_CACHE_DIR.checked\"\n"
             "mkdir -m 700 \"$SIGODE_CACHE_DIR\"\n"
             "cp '%s' \"$SIGODE_CACHE_DIR/$(basename \"$out\")\"\n"
             "cp \"$SIGODE_CACHE_DIR.checked/$(basename \"$src\")\" "
             "\"$SIGODE_CACHE_DIR/$(basename \"$src\")\"\n",
             evil_so);
    assert_int_equal(ts_write_file(wrapper, text, strlen(text)), 0);
    assert_int_equal(chmod(wrapper, 0700), 0);
    char *inner = ts_path(work, "cache");
    setenv("SIGODE_CACHE_DIR", inner, 1);
    setenv("SIGODE_CC", wrapper, 1);
    sg_error err;
    sg_model *m = ts_load_text(small_model);
    sg_status st = sg_model_set_backend(m, SG_BACKEND_NATIVE, &err);
    struct stat sb;
    if (stat(marker, &sb) == 0)
        fail_msg("the intruder's object was loaded");
    assert_int_equal(st, SG_OK);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_NATIVE);
    sg_model_free(m);
    unsetenv("SIGODE_CC");
    setenv("SIGODE_CACHE_DIR", cache, 1);
    free(inner);
    free(work);
    free(wrapper);
    free(marker);
    free(evil_so);
    free(evil_c);
}

/* $SIGODE_CC is written into a comment of the generated C: a star-slash
 * in it (a folder named '*') must not end the comment. */
static void compiler_path_cannot_end_the_comment(void **state)
{
    (void)state;
    char *star = ts_path(cache, "*"), *cc = ts_path(star, "cc");
    assert_int_equal(mkdir(star, 0700), 0);
    char text[256];
    snprintf(text, sizeof text, "#!/bin/sh\nexec cc \"$@\"\n");
    assert_int_equal(ts_write_file(cc, text, strlen(text)), 0);
    assert_int_equal(chmod(cc, 0700), 0);
    setenv("SIGODE_CC", cc, 1);
    sg_error err;
    sg_model *m = ts_load_text(small_model);
    sg_status st = sg_model_set_backend(m, SG_BACKEND_NATIVE, &err);
    if (st != SG_OK)
        fail_msg("%s", err.message);
    assert_int_equal(sg_model_backend(m), SG_BACKEND_NATIVE);
    sg_model_free(m);
    unsetenv("SIGODE_CC");
    free(cc);
    free(star);
}

/* sigode ensemble (and gsa, the same set-up) compile the model when asked
 * (--backend native only loaded an object compiled before) or, with auto,
 * from 5,000 samples when the instruction program is interpreted
 * (SIGODE_VM_JIT=0, or a machine without the VM's machine code), not when
 * the VM runs it as machine code (about as fast as compiled C): the same
 * table every way. */
static void studies_compile(void **state)
{
    (void)state;
    const char *model = "models/calcineurin_er.cfg";
    const char *few[] = {SIGODE_BINARY, "ensemble", model, "--scenario", "fk506_dose_response",
                         "--samples", "4", "--readout", "CaN_rel", "--fit", "hill", NULL};
    char *auto_out = NULL, *native_out = NULL, *vm_out = NULL, *err = NULL;
    assert_int_equal(ts_run(few, &auto_out, NULL), 0);
    assert_int_equal(count_files(".so"), 0); /* 4 samples: not worth a compile */
    const char *native[] = {SIGODE_BINARY, "ensemble", model, "--scenario",
                            "fk506_dose_response", "--samples", "4", "--readout", "CaN_rel",
                            "--fit", "hill", "--backend", "native", NULL};
    assert_int_equal(ts_run(native, &native_out, &err), 0);
    assert_null(strstr(err, "note:")); /* compiled, no fallback */
    assert_int_equal(count_files(".so"), 1);
    assert_string_equal(auto_out, native_out);
    free(auto_out);
    free(native_out);
    free(err);

    /* auto from 5,000 samples (a fresh cache: nothing to load); 4,999
     * interpreted do not compile */
    ts_remove_dir(cache);
    free(cache);
    cache = ts_temp_dir();
    setenv("SIGODE_CACHE_DIR", cache, 1);
    const char *many[] = {SIGODE_BINARY, "ensemble", model, "--scenario", "fk506_1uM",
                          "--samples", "5000", "--readout", "CaN_rel", NULL};
    const char *many_vm[] = {SIGODE_BINARY, "ensemble", model, "--scenario", "fk506_1uM",
                             "--samples", "5000", "--readout", "CaN_rel", "--backend", "vm",
                             NULL};
    const char *fewer[] = {SIGODE_BINARY, "ensemble", model, "--scenario", "fk506_1uM",
                           "--samples", "4999", "--readout", "CaN_rel", NULL};
    assert_int_equal(ts_run(many_vm, &vm_out, NULL), 0);
    assert_int_equal(count_files(".so"), 0);
    assert_int_equal(ts_run(many, &auto_out, NULL), 0);
    sg_error lerr;
    sg_model *m = sg_model_load_file(model, &lerr);
    assert_non_null(m);
    int machine_code = sg_model_vm_machine_code(m);
    sg_model_free(m);
#if defined(__x86_64__) && defined(__linux__)
    assert_true(machine_code);
#endif
    assert_int_equal(count_files(".so"), machine_code ? 0 : 1);
    assert_string_equal(vm_out, auto_out);
    free(auto_out);
    /* interpreted: auto compiles from 5,000 */
    setenv("SIGODE_VM_JIT", "0", 1);
    char *fewer_out = NULL;
    assert_int_equal(ts_run(fewer, &fewer_out, NULL), 0);
    free(fewer_out);
    assert_int_equal(count_files(".so"), 0);
    assert_int_equal(ts_run(many, &auto_out, NULL), 0);
    unsetenv("SIGODE_VM_JIT");
    assert_int_equal(count_files(".so"), 1);
    assert_string_equal(vm_out, auto_out);
    free(vm_out);
    free(auto_out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(identical_on_every_shipped_model, use_fresh_cache,
                                        drop_cache),
        cmocka_unit_test_setup_teardown(auto_probes_only_hinted_programs, use_fresh_cache,
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
        cmocka_unit_test_setup_teardown(studies_compile, use_fresh_cache, drop_cache),
        cmocka_unit_test_setup_teardown(foreign_or_writable_object_is_not_used,
                                        use_fresh_cache, drop_cache),
        cmocka_unit_test_setup_teardown(writable_parent_is_refused, use_fresh_cache,
                                        drop_cache),
        cmocka_unit_test_setup_teardown(swapped_cache_folder_is_not_used, use_fresh_cache,
                                        drop_cache),
        cmocka_unit_test_setup_teardown(compiler_path_cannot_end_the_comment, use_fresh_cache,
                                        drop_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The SBML import cache (src/sbml/cache.c): a hit gives byte for byte the
 * output of a miss and really comes from the cache; an entry that is
 * damaged, truncated, from another build or another libsbml file, written
 * for another file, not private or not owned by this user is ignored with
 * a note and rewritten; a changed file misses; SIGODE_SBML_CACHE=0 and the
 * size threshold keep files out; an unsafe cache folder is not used.
 *
 * Every test points SIGODE_CACHE_DIR at a fresh directory of its own and
 * runs the command line (where the note is printed), except the last,
 * which calls the library with sg_sbml_library_identity made to fail
 * (this program is linked with --wrap=sg_sbml_library_identity).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbml/sbml.h"
#include "sigode.h"
#include "support.h"
#include "util/util.h"

/* When set, the cache cannot tell which libsbml file is loaded. */
static int identity_fails;
sg_status __real_sg_sbml_library_identity(char *buf, size_t size, sg_error *err);
sg_status __wrap_sg_sbml_library_identity(char *buf, size_t size, sg_error *err);
sg_status __wrap_sg_sbml_library_identity(char *buf, size_t size, sg_error *err)
{
    if (identity_fails)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "cannot tell which libsbml file is loaded");
    return __real_sg_sbml_library_identity(buf, size, err);
}

static const char abc_path[] = SIGODE_SOURCE_DIR "/tests/fuzz/seeds/fuzz_sbml/abc.xml";

typedef struct fixture {
    char *dir;   /* temporary folder: the model copy and the cache */
    char *cache; /* dir/cache */
    char *model; /* dir/model.xml */
    char *abc;   /* the text of abc.xml */
    size_t abc_len;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = ts_temp_dir();
    f->cache = ts_path(f->dir, "cache");
    f->model = ts_path(f->dir, "model.xml");
    f->abc = ts_read_file(abc_path, &f->abc_len);
    assert_non_null(f->abc);
    assert_int_equal(ts_write_file(f->model, f->abc, f->abc_len), 0);
    setenv("SIGODE_CACHE_DIR", f->cache, 1);
    setenv("SIGODE_SBML_CACHE", "1", 1); /* abc.xml is below the size threshold */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ts_remove_dir(f->dir);
    free(f->dir);
    free(f->cache);
    free(f->model);
    free(f->abc);
    free(f);
    unsetenv("SIGODE_SBML_CACHE");
    return 0;
}

/* `sigode run MODEL`: its table in *out, stderr in *err (caller frees). */
static void run(const char *model, char **out, char **err)
{
    const char *argv[] = {SIGODE_BINARY, "run", model, NULL};
    assert_int_equal(ts_run(argv, out, err), 0);
}

/* The one cache entry for SBML (its path, allocated), or NULL; fails the
 * test when there are several. */
static char *entry(const fixture *f, int *count)
{
    DIR *d = opendir(f->cache);
    char *found = NULL;
    *count = 0;
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "sbml-", 5) != 0 || n < 4 || strcmp(e->d_name + n - 4, ".cfg"))
            continue; /* not an entry (the symlink case's target) */
        ++*count;
        free(found);
        found = ts_path(f->cache, e->d_name);
    }
    closedir(d);
    return found;
}

static char *only_entry(const fixture *f)
{
    int n;
    char *e = entry(f, &n);
    assert_int_equal(n, 1);
    return e;
}

/* Replaces the first `from` in the entry's translation by `to` (same
 * length) and writes the checksum the cache would compute for it. */
static void forge(const char *path, const char *from, const char *to)
{
    size_t len;
    char *e = ts_read_file(path, &len);
    assert_non_null(e);
    char *body = strstr(e, "\n\n") + 2;
    char *sum = strstr(e, "checksum ");
    assert_true(sum && sum < body);
    /* the translation starts after the path and the source */
    unsigned long long path_len = 0, source_len = 0;
    assert_non_null(strstr(e, "\npath "));
    sscanf(strstr(e, "\npath ") + 6, "%llu", &path_len);
    sscanf(strstr(e, "\nsource ") + 8, "%llu", &source_len);
    char *text = body + path_len + source_len;
    char *at = strstr(text, from);
    assert_non_null(at);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(at, to, strlen(to));
    uint64_t h = sg_hash_fnv1a(SG_FNV1A_START, e, (size_t)(sum - e));
    h = sg_hash_fnv1a(h, body, len - (size_t)(body - e));
    char digits[17];
    snprintf(digits, sizeof digits, "%016" PRIx64, h);
    memcpy(sum + 9, digits, 16);
    assert_int_equal(ts_write_file(path, e, len), 0);
    free(e);
}

static void test_hit_equals_miss_and_is_used(void **state)
{
    fixture *f = *state;
    char *miss, *hit, *hit2, *plain, *err;
    run(f->model, &miss, &err);
    assert_string_equal(err, "");
    free(err);
    char *e = only_entry(f);
    struct stat sb;
    assert_int_equal(stat(e, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    run(f->model, &hit, &err);
    assert_string_equal(err, "");
    free(err);
    assert_string_equal(hit, miss);

    /* the libsbml file told without loading it is the one loaded: with
     * LD_LIBRARY_PATH set, the module is opened to ask, and it still hits */
    setenv("LD_LIBRARY_PATH", "/nonexistent", 1);
    run(f->model, &hit2, &err);
    unsetenv("LD_LIBRARY_PATH");
    assert_string_equal(err, "");
    free(err);
    assert_string_equal(hit2, miss);
    free(hit2);

    setenv("SIGODE_SBML_CACHE", "0", 1);
    run(f->model, &plain, NULL);
    assert_string_equal(plain, miss);

    /* a hit reads the entry: a translation with k1 = 4 (checksum made to
     * match) gives k1 = 4's numbers, where the file says k1 = 1 */
    setenv("SIGODE_SBML_CACHE", "1", 1);
    forge(e, "\"k1\"; value = 1;", "\"k1\"; value = 4;");
    char *forged;
    run(f->model, &forged, &err);
    assert_string_equal(err, "");
    assert_string_not_equal(forged, miss);
    free(err);
    free(forged);
    free(e);
    free(miss);
    free(hit);
    free(plain);
}

typedef enum { FLIP_TEXT, FLIP_SOURCE, TRUNCATE, EXTEND, OTHER_BUILD, OTHER_LIBSBML,
               BAD_HEADER, GROUP_WRITABLE, FOREIGN_OWNER, SYMLINK } damage;

static void spoil(const char *path, damage d)
{
    size_t len;
    char *e = ts_read_file(path, &len);
    char *body = strstr(e, "\n\n") + 2;
    switch (d) {
    case FLIP_TEXT: e[len - 5] ^= 0x01; break;
    case FLIP_SOURCE: strstr(body, "<sbml")[1] ^= 0x20; break; /* in the copy of the file */
    case TRUNCATE: len -= 7; break;
    case EXTEND: e[len - 1] = ' '; break;
    case OTHER_BUILD: memcpy(strstr(e, "build ") + 6, "9.9.9", 5); break;
    case OTHER_LIBSBML: memcpy(strstr(e, " libsbml /") + 10, "x", 1); break; /* its path */
    case BAD_HEADER: memcpy(strstr(e, "text ") + 5, "x", 1); break;
    default: break;
    }
    if (d == EXTEND) {
        char *longer = realloc(e, len + 1);
        longer[len++] = '\n';
        e = longer;
    }
    if (d <= BAD_HEADER) {
        assert_int_equal(unlink(path), 0);
        assert_int_equal(ts_write_file(path, e, len), 0);
        chmod(path, 0600);
    } else if (d == GROUP_WRITABLE) {
        assert_int_equal(chmod(path, 0620), 0);
    } else if (d == FOREIGN_OWNER) {
        assert_int_equal(chown(path, 65534, 65534), 0);
    } else if (d == SYMLINK) {
        char *copy = malloc(strlen(path) + 8);
        sprintf(copy, "%s.copy", path);
        assert_int_equal(rename(path, copy), 0);
        assert_int_equal(symlink(copy, path), 0);
        free(copy);
    }
    free(e);
}

static void test_damaged_entries_are_ignored(void **state)
{
    fixture *f = *state;
    static const struct {
        damage d;
        const char *why;
    } cases[] = {
        {FLIP_TEXT, "checksum mismatch"},
        {FLIP_SOURCE, "written for another file"},
        {TRUNCATE, "truncated or extended"},
        {EXTEND, "truncated or extended"},
        {OTHER_BUILD, "written by another build"},
        {OTHER_LIBSBML, "written by another build"},
        {BAD_HEADER, "damaged header"},
        {GROUP_WRITABLE, "not a regular file owned by this user and writable only by it"},
        {FOREIGN_OWNER, "not a regular file owned by this user and writable only by it"},
        {SYMLINK, "not a regular file owned by this user and writable only by it"},
    };
    char *reference, *err;
    run(f->model, &reference, &err);
    free(err);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].d == FOREIGN_OWNER && geteuid() != 0)
            continue; /* only root can give a file away */
        char *e = only_entry(f);
        spoil(e, cases[i].d);
        char *out;
        run(f->model, &out, &err);
        assert_string_equal(out, reference);
        if (!strstr(err, "sigode: note: SBML import cache: ignored ") ||
            !strstr(err, cases[i].why) || !strstr(err, "translating again"))
            fail_msg("case %zu: stderr '%s'", i, err);
        free(out);
        free(err);
        /* rewritten: the next run hits without a note */
        run(f->model, &out, &err);
        assert_string_equal(out, reference);
        assert_string_equal(err, "");
        free(out);
        free(err);
        char *again = only_entry(f);
        struct stat sb;
        assert_int_equal(lstat(again, &sb), 0);
        assert_true(S_ISREG(sb.st_mode));
        assert_int_equal(sb.st_uid, geteuid());
        assert_int_equal(sb.st_mode & 0777, 0600);
        free(again);
        free(e);
    }
    free(reference);
}

static void test_changed_file_misses(void **state)
{
    fixture *f = *state;
    char *before, *after, *plain, *err;
    run(f->model, &before, &err);
    free(err);
    char *entry_before = only_entry(f);

    /* k1 = 3: a new key, a new translation */
    char *changed = strdup(f->abc);
    char *k1 = strstr(changed, "<parameter id=\"k1\" value=\"1\"");
    assert_non_null(k1);
    k1[strlen("<parameter id=\"k1\" value=\"")] = '3';
    assert_int_equal(ts_write_file(f->model, changed, f->abc_len), 0);
    run(f->model, &after, &err);
    assert_string_equal(err, "");
    free(err);
    assert_string_not_equal(after, before);
    setenv("SIGODE_SBML_CACHE", "0", 1);
    run(f->model, &plain, NULL);
    assert_string_equal(after, plain);
    setenv("SIGODE_SBML_CACHE", "1", 1);
    int n;
    free(entry(f, &n));
    assert_int_equal(n, 2);

    /* the key only finds an entry: the old file's entry under the new
     * file's name (as a hash collision would put it) is not used */
    size_t len;
    char *old = ts_read_file(entry_before, &len);
    DIR *d = opendir(f->cache);
    struct dirent *de;
    char *entry_after = NULL;
    while ((de = readdir(d)) != NULL)
        if (!strncmp(de->d_name, "sbml-", 5) && !strstr(entry_before, de->d_name))
            entry_after = ts_path(f->cache, de->d_name);
    closedir(d);
    assert_non_null(entry_after);
    assert_int_equal(unlink(entry_after), 0);
    assert_int_equal(ts_write_file(entry_after, old, len), 0);
    chmod(entry_after, 0600);
    char *again;
    run(f->model, &again, &err);
    assert_string_equal(again, plain);
    assert_non_null(strstr(err, "written for another file"));
    free(err);
    free(again);
    free(old);
    free(entry_after);
    free(entry_before);
    free(changed);
    free(before);
    free(after);
    free(plain);
}

static void test_off_and_threshold(void **state)
{
    fixture *f = *state;
    char *out, *err;
    int n;
    setenv("SIGODE_SBML_CACHE", "0", 1);
    run(f->model, &out, &err);
    free(out);
    free(err);
    free(entry(f, &n));
    assert_int_equal(n, 0);

    /* by default a small file is not cached ... */
    unsetenv("SIGODE_SBML_CACHE");
    run(f->model, &out, &err);
    free(out);
    free(err);
    free(entry(f, &n));
    assert_int_equal(n, 0);

    /* ... and one of 64 KiB or more is */
    size_t pad = 70 * 1024;
    char *big = malloc(f->abc_len + pad + 16);
    char *decl_end = strstr(f->abc, "?>") + 2;
    size_t head = (size_t)(decl_end - f->abc);
    memcpy(big, f->abc, head);
    size_t at = head;
    at += (size_t)sprintf(big + at, "\n<!--");
    memset(big + at, 'x', pad);
    at += pad;
    at += (size_t)sprintf(big + at, "-->");
    memcpy(big + at, decl_end, f->abc_len - head);
    at += f->abc_len - head;
    assert_int_equal(ts_write_file(f->model, big, at), 0);
    char *first, *second;
    run(f->model, &first, &err);
    free(err);
    free(entry(f, &n));
    assert_int_equal(n, 1);
    run(f->model, &second, &err);
    assert_string_equal(err, "");
    assert_string_equal(first, second);
    free(err);
    free(first);
    free(second);
    free(big);
}

static void test_unsafe_folder_is_not_used(void **state)
{
    fixture *f = *state;
    char *open_dir = ts_path(f->dir, "open");
    assert_int_equal(mkdir(open_dir, 0700), 0);
    assert_int_equal(chmod(open_dir, 0777), 0); /* no sticky bit */
    char *inner = ts_path(open_dir, "cache");
    setenv("SIGODE_CACHE_DIR", inner, 1);
    char *out, *plain, *err;
    run(f->model, &out, &err);
    assert_non_null(strstr(err, "sigode: note: SBML import cache not used: cache directory"));
    assert_non_null(strstr(err, "other users can write"));
    setenv("SIGODE_SBML_CACHE", "0", 1);
    run(f->model, &plain, NULL);
    assert_string_equal(out, plain);
    setenv("SIGODE_CACHE_DIR", f->cache, 1);
    free(out);
    free(plain);
    free(err);
    free(inner);
    free(open_dir);
}

/* Without the libsbml file's identity no entry can be read or written:
 * the model is still translated and loaded, and the note says the cache
 * was not used rather than skipping it in silence. */
static void test_unknown_libsbml_is_noted(void **state)
{
    fixture *f = *state;
    identity_fails = 1;
    char note[512];
    sg_error err;
    sg_model *m = sg_model_load_sbml_cached(f->model, note, sizeof note, &err);
    identity_fails = 0;
    assert_non_null(m);
    assert_int_equal(sg_model_species_count(m), 3);
    assert_string_equal(note,
                        "SBML import cache not used: cannot tell which libsbml file is loaded");
    int n;
    free(entry(f, &n));
    assert_int_equal(n, 0);
    sg_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hit_equals_miss_and_is_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_entries_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_file_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_off_and_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_folder_is_not_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_libsbml_is_noted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The SBML import's cache: libsbml's reading of a large file is most of
 * the time of loading it (about 75% of `sigode check` on the 504-species
 * BIOMD0000000255), so the translation into sigode model text is kept and
 * read back instead.
 *
 * An entry, <cache>/sbml-<key>.cfg, is
 *
 *     sigode SBML translation\n
 *     format 2\n
 *     build <sigode version> libsbml <file> importer <hash of its source>\n
 *     path <bytes>\n
 *     source <bytes>\n
 *     text <bytes>\n
 *     checksum <16 hex digits>\n
 *     \n
 *     <path><the SBML file, byte for byte><the translation>
 *
 * It is used only when it passes the cache folder's checks (owned by this
 * user, writable only by it: src/util/cache.c), its header is exactly the
 * one this build would write, its size is what the header says, the path
 * and the whole SBML file equal the ones being loaded, and the checksum
 * (FNV-1a over everything else) is intact. The key only finds the entry;
 * the full comparison is what makes a hit safe, so a hash collision, a
 * damaged, truncated or foreign file, or one from another build costs a
 * translation, never a wrong model. The importer hash (the SHA-256 of
 * src/sbml/import.c and sbml.h, computed by CMake) makes a rebuilt
 * importer miss the entries of the old one even at the same version.
 * libsbml is named by its file (real path, size, inode, modification time:
 * sg_sbml_library_identity), which can be told without loading it, so a
 * hit does not load libsbml at all (about 15 ms of dynamic loading),
 * while another or an upgraded libsbml misses.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbml.h"

#ifndef SIGODE_SBML_IMPORTER_SHA
#error "CMakeLists.txt defines SIGODE_SBML_IMPORTER_SHA for this file"
#endif

/* Below this size libsbml reads a file in a few milliseconds: caching it
 * would only fill the folder (the SBML test suite has 1,800 such files). */
enum { CACHE_MIN_BYTES = 64 * 1024 };

static const char WHO[] = "SBML import cache";

/* Reads a whole open file. NULL when it cannot (errno set). */
static char *read_all(int fd, size_t *len)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return NULL;
    if (!S_ISREG(sb.st_mode)) {
        errno = EINVAL;
        return NULL;
    }
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    char *buf = sg_malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (n + 1 >= cap) { /* the file grew while being read */
            char *bigger = sg_realloc(buf, cap * 2);
            if (!bigger) {
                sg_free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            sg_free(buf);
            return NULL;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static char *read_path(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = read_all(fd, len);
    close(fd);
    return buf;
}

/* Everything of the header but the text's length and the checksum. */
static void header_start(sg_sbuf *b, const char *libsbml, const char *path, size_t source_len)
{
    sg_sbuf_printf(b,
                   "sigode SBML translation\nformat 2\n"
                   "build %s libsbml %s importer %s\n"
                   "path %zu\nsource %zu\n",
                   SIGODE_VERSION, libsbml, SIGODE_SBML_IMPORTER_SHA, strlen(path), source_len);
}

static uint64_t checksum(const sg_sbuf *start, size_t text_len, const char *path,
                         const char *source, size_t source_len, const char *text)
{
    char line[64];
    int n = snprintf(line, sizeof line, "text %zu\n", text_len);
    uint64_t h = sg_hash_fnv1a(SG_FNV1A_START, start->s, start->len);
    h = sg_hash_fnv1a(h, line, (size_t)n);
    h = sg_hash_fnv1a(h, path, strlen(path));
    h = sg_hash_fnv1a(h, source, source_len);
    return sg_hash_fnv1a(h, text, text_len);
}

/* Parses "<word> <decimal>\n" at *p (within end); advances *p. */
static int field(const char **p, const char *end, const char *word, int hex, uint64_t *out)
{
    size_t w = strlen(word);
    const char *s = *p;
    if ((size_t)(end - s) < w + 3 || memcmp(s, word, w) != 0 || s[w] != ' ')
        return -1;
    s += w + 1;
    uint64_t v = 0;
    int digits = 0;
    for (; s < end && *s != '\n'; s++, digits++) {
        int d = *s >= '0' && *s <= '9'   ? *s - '0'
                : hex && *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                                                : -1;
        if (d < 0 || digits >= (hex ? 16 : 19))
            return -1;
        v = v * (hex ? 16 : 10) + (uint64_t)d;
    }
    if (s == end || digits == 0)
        return -1;
    *p = s + 1;
    *out = v;
    return 0;
}

/* The translation in the entry `e` (e_len bytes) for this path and source,
 * or NULL with *why saying what was wrong. */
static char *entry_text(const char *e, size_t e_len, const char *libsbml, const char *path,
                        const char *source, size_t source_len, const char **why)
{
    sg_sbuf start = {0};
    header_start(&start, libsbml, path, source_len);
    char *text = NULL;
    const char *p = e, *end = e + e_len;
    uint64_t text_len, sum;
    size_t path_len = strlen(path);
    if (start.oom) {
        *why = "out of memory";
    } else if (e_len < start.len || memcmp(e, start.s, start.len) != 0) {
        *why = "written by another build or for another file";
    } else if ((p += start.len, field(&p, end, "text", 0, &text_len)) != 0 ||
               field(&p, end, "checksum", 1, &sum) != 0 || p == end || *p++ != '\n') {
        *why = "damaged header";
    } else if ((size_t)(end - p) != path_len + source_len + text_len) {
        *why = "truncated or extended";
    } else if (memcmp(p, path, path_len) != 0 ||
               memcmp(p + path_len, source, source_len) != 0) {
        *why = "written for another file";
    } else if (checksum(&start, text_len, path, source, source_len,
                        p + path_len + source_len) != sum) {
        *why = "checksum mismatch";
    } else if (memchr(p + path_len + source_len, '\0', text_len)) {
        *why = "damaged text";
    } else if (!(text = sg_malloc(text_len + 1))) {
        *why = "out of memory";
    } else {
        memcpy(text, p + path_len + source_len, text_len);
        text[text_len] = '\0';
    }
    sg_sbuf_free(&start);
    return text;
}

static void store(int dfd, const char *name, const char *libsbml, const char *path,
                  const char *source, size_t source_len, const char *text, char *note,
                  size_t note_size)
{
    size_t text_len = strlen(text);
    sg_sbuf e = {0};
    header_start(&e, libsbml, path, source_len);
    uint64_t sum = checksum(&e, text_len, path, source, source_len, text);
    sg_sbuf_printf(&e, "text %zu\nchecksum %016" PRIx64 "\n\n", text_len, sum);
    sg_sbuf_add(&e, path);
    sg_sbuf_addn(&e, source, source_len);
    sg_sbuf_addn(&e, text, text_len);
    char tmp[128];
    snprintf(tmp, sizeof tmp, "tmp-%ld-%s", (long)getpid(), name);
    sg_cache_remove_stale(dfd);
    unlinkat(dfd, tmp, 0);
    if (e.oom || sg_cache_write_new(dfd, tmp, e.s, e.len) != 0 ||
        renameat(dfd, tmp, dfd, name) != 0) {
        if (note && !*note)
            snprintf(note, note_size, "%s: cannot write %s: %s", WHO, name,
                     e.oom ? "out of memory" : strerror(errno));
        unlinkat(dfd, tmp, 0);
    }
    sg_sbuf_free(&e);
}

/* The translation of `path`, from the cache or made (and stored). */
static char *translate_cached(const char *path, char *note, size_t note_size, sg_error *err)
{
    const char *mode = getenv("SIGODE_SBML_CACHE");
    if (mode && !strcmp(mode, "0"))
        return sg_sbml_translate_file(path, NULL, err);
    size_t source_len = 0;
    char *source = read_path(path, &source_len);
    if (!source || (source_len < CACHE_MIN_BYTES && !(mode && !strcmp(mode, "1")))) {
        sg_free(source); /* unreadable: the import says why */
        return sg_sbml_translate_file(path, NULL, err);
    }
    char dir[3072], name[64];
    int dfd = -1;
    sg_error cache_err = {0};
    if (sg_cache_open(WHO, dir, sizeof dir, &dfd, &cache_err) != SG_OK) {
        if (note)
            snprintf(note, note_size, "%s not used: %s", WHO,
                     cache_err.message + sizeof WHO + 1);
        sg_free(source);
        return sg_sbml_translate_file(path, NULL, err);
    }
    uint64_t key = sg_hash_fnv1a(SG_FNV1A_START, SIGODE_VERSION, sizeof SIGODE_VERSION);
    key = sg_hash_fnv1a(key, SIGODE_SBML_IMPORTER_SHA, sizeof SIGODE_SBML_IMPORTER_SHA);
    key = sg_hash_fnv1a(key, path, strlen(path) + 1);
    key = sg_hash_fnv1a(key, source, source_len);
    snprintf(name, sizeof name, "sbml-%016" PRIx64 ".cfg", key);

    /* which libsbml would translate (no entry is read when that is unknown:
     * the translation then names the one it used) */
    char libsbml[PATH_MAX + 96];
    int refused = 0, fd = -1;
    if (sg_sbml_library_identity(libsbml, sizeof libsbml, &cache_err) == SG_OK)
        fd = sg_cache_open_file(dfd, name, &refused);
    char *text = NULL;
    const char *why = "not a regular file owned by this user and writable only by it";
    if (fd >= 0) {
        size_t e_len = 0;
        char *e = read_all(fd, &e_len);
        close(fd);
        why = "unreadable";
        if (e)
            text = entry_text(e, e_len, libsbml, path, source, source_len, &why);
        sg_free(e);
        refused = !text;
    }
    if (refused && note)
        snprintf(note, note_size, "%s: ignored %s/%s (%s); translating again", WHO, dir, name,
                 why);
    if (!text) {
        int cacheable = 0;
        text = sg_sbml_translate_file(path, &cacheable, err);
        /* the file must still be what was hashed: libsbml read it again */
        size_t again_len = 0;
        char *again = text && cacheable ? read_path(path, &again_len) : NULL;
        /* named by the libsbml that made it (the module is open now) */
        if (again && again_len == source_len && !memcmp(again, source, source_len)) {
            if (sg_sbml_library_identity(libsbml, sizeof libsbml, &cache_err) == SG_OK)
                store(dfd, name, libsbml, path, source, source_len, text, note, note_size);
            else if (note && !*note) /* correct, but the cache would be silent */
                snprintf(note, note_size, "%s not used: %s", WHO, cache_err.message);
        }
        sg_free(again);
    }
    close(dfd);
    sg_free(source);
    return text;
}

sg_model *sg_model_load_sbml_cached(const char *path, char *note, size_t note_size,
                                    sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (note && note_size)
        note[0] = '\0';
    else
        note = NULL;
    char *text = translate_cached(path, note, note_size, err);
    return text ? sg_sbml_load_translation(text, path, err) : NULL;
}

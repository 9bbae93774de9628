/* Whole-or-nothing output files (see sg_write_atomic in util.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Where an output goes. A regular file (or a new one) is replaced through
 * a temporary in its own folder; a symlink is followed to its target,
 * which is replaced in the target's folder (the link stays a link); a
 * FIFO or a character device (/dev/null, a terminal, a pipe reached
 * through /dev/stdout) is written directly, since renaming over it would
 * replace the node by a regular file; anything else is refused. */
typedef enum dest_kind { DEST_REPLACE, DEST_DIRECT } dest_kind;

/* Follows symlinks from `path` by hand (each relative target taken from
 * the link's own folder), to the file a rename must replace. A link to
 * /proc/.../fd/N (/dev/stdout, /dev/fd/N: a descriptor, not a path) is
 * written directly. Returns SG_OK with *kind and *target (allocated for
 * DEST_REPLACE), or the error. */
static sg_status resolve_destination(const char *path, dest_kind *kind, char **target, sg_error *err)
{
    struct stat sb;
    *target = NULL;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        if (S_ISFIFO(sb.st_mode) || S_ISCHR(sb.st_mode)) {
            *kind = DEST_DIRECT;
            return SG_OK;
        }
        return sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                            S_ISDIR(sb.st_mode)
                                ? strerror(EISDIR)
                                : "not a regular file, a FIFO or a character device");
    }
    char *cur = sg_strdup(path);
    if (!cur)
        return sg_error_nomem(err);
    for (int hops = 0;; hops++) {
        if (strncmp(cur, "/proc/", 6) == 0 && strstr(cur, "/fd/")) {
            sg_free(cur);
            *kind = DEST_DIRECT;
            return SG_OK;
        }
        if (lstat(cur, &sb) != 0 || !S_ISLNK(sb.st_mode))
            break;
        char link[PATH_MAX];
        ssize_t n = hops < 40 ? readlink(cur, link, sizeof link - 1) : -1;
        if (n < 0) {
            sg_free(cur);
            return sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                                hops < 40 ? strerror(errno)
                                          : "too many levels of symbolic links");
        }
        link[n] = '\0';
        const char *slash = strrchr(cur, '/');
        size_t dir = link[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
        char *next = sg_malloc(dir + (size_t)n + 1);
        if (!next) {
            sg_free(cur);
            return sg_error_nomem(err);
        }
        memcpy(next, cur, dir);
        memcpy(next + dir, link, (size_t)n + 1);
        sg_free(cur);
        cur = next;
    }
    *kind = DEST_REPLACE;
    *target = cur;
    return SG_OK;
}

/* Writes straight into a FIFO or a device. */
static sg_status write_direct(const char *path, sg_write_fn write, void *ctx, sg_error *err)
{
    int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        sg_status st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                                    strerror(errno));
        if (fd >= 0)
            close(fd);
        return st;
    }
    sg_status st = write(ctx, f, err);
    if (fclose(f) != 0 && st == SG_OK)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                          strerror(errno));
    if (st != SG_OK && err && !err->file[0])
        snprintf(err->file, sizeof err->file, "%s", path);
    return st;
}

sg_status sg_output_check(const char *path, sg_error *err)
{
    dest_kind kind;
    char *target;
    sg_status resolved = resolve_destination(path, &kind, &target, err);
    if (resolved != SG_OK)
        return resolved;
    if (kind == DEST_DIRECT) {
        if (access(path, W_OK) != 0)
            return sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                                strerror(errno));
        return SG_OK;
    }
    size_t n = strlen(target);
    char *tmp = sg_malloc(n + 16);
    if (!tmp) {
        sg_free(target);
        return sg_error_nomem(err);
    }
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", target);
    int fd = mkstemp(tmp);
    int saved = errno;
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    sg_free(tmp);
    sg_free(target);
    if (fd < 0)
        return sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                            strerror(saved));
    return SG_OK;
}

sg_status sg_write_atomic(const char *path, sg_write_fn write, void *ctx, sg_error *err)
{
    dest_kind kind;
    char *target;
    sg_status resolved = resolve_destination(path, &kind, &target, err);
    if (resolved != SG_OK)
        return resolved;
    if (kind == DEST_DIRECT)
        return write_direct(path, write, ctx, err);
    size_t n = strlen(target);
    char *tmp = sg_malloc(n + 16);
    if (!tmp) {
        sg_free(target);
        return sg_error_nomem(err);
    }
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", target);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        sg_status st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                                    strerror(errno));
        sg_free(tmp);
        sg_free(target);
        return st;
    }
    /* mkstemp makes the file private (0600): give the output the mode a
     * plain fopen would (0666 less the umask), or keep the mode of the
     * file it replaces */
    struct stat old;
    mode_t mask = umask(077);
    umask(mask);
    fchmod(fd, stat(target, &old) == 0 && S_ISREG(old.st_mode) ? old.st_mode & 07777
                                                                 : 0666 & ~mask);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        sg_free(tmp);
        sg_free(target);
        return sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                            strerror(errno));
    }
    sg_status st = write(ctx, f, err);
    if (fclose(f) != 0 && st == SG_OK)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                          strerror(errno));
    if (st == SG_OK && rename(tmp, target) != 0)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot replace output: %s",
                          strerror(errno));
    if (st != SG_OK) {
        unlink(tmp);
        if (err && !err->file[0])
            snprintf(err->file, sizeof err->file, "%s", path);
    }
    sg_free(tmp);
    sg_free(target);
    return st;
}

sg_status sg_copy_file(const char *path, FILE *out, const char *what, sg_error *err)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "cannot read %s: %s", what,
                            strerror(errno));
    char buf[65536];
    size_t n;
    int failed = 0;
    while (!failed && (n = fread(buf, 1, sizeof buf, in)) > 0)
        failed = fwrite(buf, 1, n, out) != n;
    failed |= ferror(in) || fflush(out) != 0;
    fclose(in);
    return failed ? sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "cannot write %s: %s", what,
                                 strerror(errno))
                  : SG_OK;
}

sg_status sg_write_stream_file(const char *path,
                               sg_status (*write)(void *ctx, FILE *out, sg_error *err),
                               void *ctx, sg_error *err)
{
    return sg_write_atomic(path, write, ctx, err);
}

static sg_status write_text(void *ctx, FILE *out, sg_error *err)
{
    if (fputs(ctx, out) == EOF || fflush(out) != 0)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "write failed: %s", strerror(errno));
    return SG_OK;
}

sg_status sg_write_text_file(const char *path, const char *text, sg_error *err)
{
    return sg_write_atomic(path, write_text, (void *)text, err);
}

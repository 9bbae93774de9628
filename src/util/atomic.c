/* Whole-or-nothing output files (see sg_write_atomic in util.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

sg_status sg_write_atomic(const char *path, sg_write_fn write, void *ctx, sg_error *err)
{
    size_t n = strlen(path);
    char *tmp = sg_malloc(n + 16);
    if (!tmp)
        return sg_error_nomem(err);
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        sg_status st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                                    strerror(errno));
        sg_free(tmp);
        return st;
    }
    /* mkstemp makes the file private (0600): give the output the mode a
     * plain fopen would (0666 less the umask), or keep the mode of the
     * file it replaces */
    struct stat old;
    mode_t mask = umask(077);
    umask(mask);
    fchmod(fd, stat(path, &old) == 0 && S_ISREG(old.st_mode) ? old.st_mode & 07777
                                                               : 0666 & ~mask);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        sg_free(tmp);
        return sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                            strerror(errno));
    }
    sg_status st = write(ctx, f, err);
    if (fclose(f) != 0 && st == SG_OK)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write output: %s",
                          strerror(errno));
    if (st == SG_OK && rename(tmp, path) != 0)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot replace output: %s",
                          strerror(errno));
    if (st != SG_OK) {
        unlink(tmp);
        if (err && !err->file[0])
            snprintf(err->file, sizeof err->file, "%s", path);
    }
    sg_free(tmp);
    return st;
}

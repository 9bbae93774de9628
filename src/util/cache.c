/*
 * The cache folder shared by the native backend (compiled objects) and the
 * SBML import (translations): where it is, and the checks that make what
 * is read from it safe to use.
 *
 * Everything in the cache is checked before use: the folder and each file
 * owned by this user and writable by no one else, and no folder above it
 * writable by others without the sticky bit. The folder is opened once and
 * every file is reached relative to that descriptor (openat, O_NOFOLLOW):
 * swapping the folder or a file for another after the check changes
 * nothing. New files are written under temporary names (tmp-PID-...) and
 * renamed into place when complete.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

uint64_t sg_hash_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *s = data;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* One multiply-xorshift round: a bijection of h, so a changed word always
 * changes the lane it falls in. */
static uint64_t mix_word(uint64_t h)
{
    h *= 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

uint64_t sg_hash_words(uint64_t h, const void *data, size_t n)
{
    const unsigned char *s = data;
    uint64_t lane[4] = {h, h ^ 0x243f6a8885a308d3ULL, h + 0x13198a2e03707344ULL,
                        h - 0xa4093822299f31d0ULL};
    size_t i = 0;
    /* four independent lanes of 8 bytes: several bytes a cycle, where
     * FNV-1a's chain of multiplies gives one byte in several */
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, s + i + 8 * k, sizeof w);
            lane[k] = mix_word(lane[k] ^ w);
        }
    uint64_t r = mix_word(h ^ (uint64_t)n);
    for (int k = 0; k < 4; k++)
        r = mix_word(r ^ lane[k]);
    return mix_word(sg_hash_fnv1a(r, s + i, n - i));
}

/* mkdir -p with mode 0700 for the directories it makes. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int owned_and_private(const struct stat *st)
{
    return st->st_uid == geteuid() && !(st->st_mode & 022);
}

/* No folder above the cache may let another user rename or replace what is
 * in it: each is writable only by its owner, or has the sticky bit (/tmp). */
static sg_status check_parents(const char *who, const char *dir, sg_error *err)
{
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "%s: %s: %s", who, dir, strerror(errno));
    for (char *slash = strrchr(real, '/'); slash; slash = strrchr(real, '/')) {
        *slash = '\0';
        const char *parent = real[0] ? real : "/";
        struct stat st;
        if (stat(parent, &st) != 0)
            return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "%s: %s: %s", who, parent,
                                strerror(errno));
        if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
            return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                                "%s: cache directory %s is inside %s, which "
                                "other users can write (no sticky bit): they could swap "
                                "the cache",
                                who, dir, parent);
        if (!real[0])
            break;
    }
    return SG_OK;
}

sg_status sg_cache_open(const char *who, char *dir, size_t size, int *dfd, sg_error *err)
{
    const char *own = getenv("SIGODE_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    *dfd = -1;
    if (own && *own)
        n = snprintf(dir, size, "%s", own);
    else if (xdg && *xdg)
        n = snprintf(dir, size, "%s/sigode", xdg);
    else if (home && *home)
        n = snprintf(dir, size, "%s/.cache/sigode", home);
    else
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "%s: no cache directory (set SIGODE_CACHE_DIR or HOME)", who);
    if (n < 0 || (size_t)n >= size)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "%s: cache directory path too long",
                            who);
    if (make_dirs(dir) != 0)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "%s: cannot create %s: %s", who, dir,
                            strerror(errno));
    sg_status st = check_parents(who, dir, err);
    if (st != SG_OK)
        return st;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISDIR(sb.st_mode) || !owned_and_private(&sb)) {
        if (fd >= 0)
            close(fd);
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "%s: cache directory %s is not a directory owned by "
                            "this user and writable only by it",
                            who, dir);
    }
    *dfd = fd;
    return SG_OK;
}

int sg_cache_open_file(int dfd, const char *name, int *refused)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    if (refused)
        *refused = fd < 0 && errno != ENOENT;
    if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || !owned_and_private(&sb))) {
        close(fd);
        fd = -1;
        if (refused)
            *refused = 1;
    }
    return fd;
}

int sg_cache_write_new(int dfd, const char *name, const void *data, size_t len)
{
    return sg_cache_write_parts(dfd, name, &data, &len, 1);
}

int sg_cache_write_parts(int dfd, const char *name, const void *const *parts,
                         const size_t *sizes, int nparts)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int bad = 0;
    for (int i = 0; i < nparts; i++)
        bad |= fwrite(parts[i], 1, sizes[i], f) != sizes[i];
    bad |= fclose(f) != 0;
    return bad ? -1 : 0;
}

/* A writer stopped by a signal leaves its tmp-PID-* files: the next writer
 * into the cache removes those an hour old whose process is gone (and any
 * a day old). A PID alone says nothing about a process in another PID
 * namespace or on another host sharing the folder: the age is what makes a
 * file stale, the PID only keeps a local live one. */
enum { STALE_SECONDS = 3600, ABANDONED_SECONDS = 86400 };

void sg_cache_remove_stale(int dfd)
{
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "tmp-", 4) != 0)
            continue;
        char *end;
        long pid = strtol(e->d_name + 4, &end, 10);
        if (*end != '-' || pid <= 0 || pid > INT_MAX || pid == (long)getpid())
            continue;
        struct stat sb;
        if (fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        double age = difftime(now, sb.st_mtime);
        int gone = kill((pid_t)pid, 0) != 0 && errno == ESRCH;
        if ((gone && age > STALE_SECONDS) || age > ABANDONED_SECONDS)
            unlinkat(dfd, e->d_name, 0);
    }
    closedir(d);
}

/*
 * Runs fuzz inputs through a target's LLVMFuzzerTestOneInput without
 * libFuzzer: each argument is a file or a directory of files. This is how
 * the seeds and every input a fuzzer once crashed on (regressions/) run in
 * the ordinary test suite, under the sanitizers in the sanitizer build.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *grown = realloc(buf, cap *= 2);
            if (!grown)
                free(buf);
            buf = grown;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: out of memory on %s\n", path);
        return 1;
    }
    if (getenv("SIGODE_REPLAY_VERBOSE"))
        fprintf(stderr, "replay: %s\n", path);
    /* a copy of exactly `len` bytes, so ASan sees reads past the end */
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int name_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int files = 0, failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            failed |= run_file(argv[i]);
            files++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d)
            return 1;
        char **list = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            list = realloc(list, sizeof *list * (n + 1));
            size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
            list[n] = malloc(len);
            snprintf(list[n++], len, "%s/%s", argv[i], e->d_name);
        }
        closedir(d);
        if (n > 1)
            qsort(list, n, sizeof *list, name_order);
        for (size_t k = 0; k < n; k++) {
            if (stat(list[k], &st) == 0 && S_ISREG(st.st_mode)) {
                failed |= run_file(list[k]);
                files++;
            }
            free(list[k]);
        }
        free(list);
    }
    printf("replayed %d inputs\n", files);
    return failed;
}

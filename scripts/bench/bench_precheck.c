/*
 * Times the check sigode runs on a model file's text before libconfig
 * reads it (sg_cfg_precheck: @include, whole numbers libconfig would
 * truncate, control characters, and where the long lists can be cut into
 * pieces), alone on the loading thread at the start of every load:
 *
 *   bench_precheck MODEL [REPS]
 *
 * Prints the minimum and median wall time of REPS checks (default 7) of the
 * whole text, and the pieces found, as one JSON line. The text is read once;
 * the check only reads it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "model/model.h"

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_precheck MODEL [REPS]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 7;
    if (reps < 1 || reps > 1000) {
        fprintf(stderr, "bench_precheck: REPS must be 1 to 1000\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        perror(argv[1]);
        return 1;
    }
    long len = ftell(f);
    char *text = len >= 0 ? malloc((size_t)len + 2) : NULL;
    if (!text || fseek(f, 0, SEEK_SET) != 0 || fread(text, 1, (size_t)len, f) != (size_t)len) {
        perror(argv[1]);
        return 1;
    }
    fclose(f);
    if (len == 0 || text[len - 1] != '\n') /* as the loader does */
        text[len++] = '\n';
    text[len] = '\0';
    double *took = malloc(sizeof *took * (size_t)reps);
    if (!took) {
        perror("bench_precheck");
        return 1;
    }
    size_t pieces = 0;
    for (int r = 0; r < reps; r++) {
        sg_cfg_top top;
        int line, col;
        char msg[400];
        double t0 = bench_now();
        int rc = sg_cfg_precheck(text, (size_t)len, &line, &col, msg, sizeof msg, &top);
        took[r] = bench_now() - t0;
        if (rc != 0) {
            fprintf(stderr, "bench_precheck: %s:%d:%d: %s\n", argv[1], line, col, msg);
            return 1;
        }
        pieces = top.npieces;
        sg_cfg_top_free(&top);
    }
    qsort(took, (size_t)reps, sizeof *took, by_value);
    printf("{\"tool\": \"sigode\", \"bytes\": %ld, \"pieces\": %zu, \"precheck_min_s\": %.6g, "
           "\"precheck_median_s\": %.6g}\n",
           len, pieces, took[0], took[reps / 2]);
    free(took);
    free(text);
    return 0;
}

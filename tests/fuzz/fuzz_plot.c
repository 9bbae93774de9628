/*
 * Fuzz target: the plot labels. The input is split at NUL bytes into a
 * title, the axis labels and a column name; they go to gnuplot.
 *
 * Oracle: whatever the text, gnuplot draws the plot (a label never breaks
 * the script) and runs no command: each label also carries an attempt to
 * create a marker file, which must never appear.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sigode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64], marker[96], png[96];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/sigode-fuzz-plot-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        snprintf(marker, sizeof marker, "%s/ran", dir);
        snprintf(png, sizeof png, "%s/p.svg", dir);
        if (access("/usr/bin/gnuplot", X_OK) != 0)
            fprintf(stderr, "fuzz_plot: no gnuplot, nothing to check\n");
    }
    if (access("/usr/bin/gnuplot", X_OK) != 0 || size > 4096)
        return 0;
    char *label[4] = {0};
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *p = copy;
    for (int k = 0; k < 4; k++) {
        /* the input's text, then a command that would create the marker */
        size_t n = strlen(p);
        label[k] = malloc(n + 200);
        snprintf(label[k], n + 200, "%s'\nsystem \"touch %s\"\n'%s", p, marker, p);
        p += n + (p + n < copy + size ? 1 : 0);
    }
    const char *names[] = {"time", label[3]};
    sg_error err;
    sg_table *t = sg_table_create(2, names, &err);
    for (int r = 0; t && r < 3; r++) {
        double row[2] = {r, r + 1.0};
        sg_table_add_row(t, row, &err);
    }
    int columns[] = {1};
    sg_plot_spec spec = {.path = png, .title = label[0], .xlabel = label[1], .ylabel = label[2],
                         .table = t, .columns = columns, .ncolumns = 1,
                         .markers = size > 0 && (data[0] & 1)};
    sg_status st = t ? sg_plot_write(&spec, &err) : SG_ERR_NOMEM;
    struct stat sb;
    if (stat(marker, &sb) == 0)
        abort(); /* a label ran a command */
    if (st != SG_OK && st != SG_ERR_NOMEM) {
        fprintf(stderr, "fuzz_plot: %s\n", err.message);
        abort(); /* a label broke the script */
    }
    sg_table_free(t);
    for (int k = 0; k < 4; k++)
        free(label[k]);
    free(copy);
    return 0;
}

/*
 * Plots of studies through gnuplot: quantile bands (shaded ribbons between
 * the outer quantiles, the median as a line) and bar charts of sensitivity
 * indices with their intervals. As in plot.c: the data and the script go to
 * temporaries beside the destination, every string reaches gnuplot through
 * gp_string (plot.c: inert whatever the text), and the image is renamed
 * over the destination only when gnuplot succeeded.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

typedef void (*script_fn)(FILE *f, const void *spec, const char *data);

static sg_status draw(const char *path, const sg_table *table, script_fn script_body,
                      const void *spec, sg_error *err)
{
    int svg = ends_with(path, ".svg");
    sg_status checked = sg_plot_check_path(path, err);
    if (checked != SG_OK)
        return checked;
    size_t n = strlen(path) + 32;
    char *data = sg_malloc(n), *script = sg_malloc(n), *image = sg_malloc(n);
    sg_status st = SG_OK;
    int fds[3] = {-1, -1, -1}, made[3] = {0, 0, 0};
    FILE *f = NULL;
    if (!data || !script || !image) {
        st = sg_error_nomem(err);
        goto done;
    }
    snprintf(data, n, "%s.dat.XXXXXX", path);
    snprintf(script, n, "%s.gp.XXXXXX", path);
    snprintf(image, n, "%s.tmp.XXXXXX", path);
    if ((made[0] = (fds[0] = mkstemp(data)) >= 0) == 0 ||
        (made[1] = (fds[1] = mkstemp(script)) >= 0) == 0 ||
        (made[2] = (fds[2] = mkstemp(image)) >= 0) == 0) {
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write the plot: %s",
                          strerror(errno));
        goto done;
    }
    f = fdopen(fds[0], "w");
    int rows = sg_table_rows(table), cols = sg_table_columns(table);
    for (int r = 0; f && r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            double v = sg_table_get(table, r, c);
            fprintf(f, c ? " %.17g" : "%.17g", isfinite(v) ? v : NAN);
        }
        fputc('\n', f);
    }
    if (!f || fclose(f) != 0) {
        f = NULL;
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write plot data");
        goto done;
    }
    fds[0] = -1;
    if (!(f = fdopen(fds[1], "w"))) {
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write plot script");
        goto done;
    }
    fds[1] = -1;
    fprintf(f, "set terminal %s size 900,600 font 'sans,11' noenhanced\nset output ",
            svg ? "svg dynamic background rgb 'white'" : "pngcairo");
    gp_string(f, image);
    fputs("\nset datafile missing 'nan'\nset grid\nset key below\n", f);
    script_body(f, spec, data);
    if (fclose(f) != 0) {
        f = NULL;
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write plot script");
        goto done;
    }
    f = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        FILE *null = freopen("/dev/null", "w", stderr);
        (void)null;
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0,
                          WIFEXITED(status) && WEXITSTATUS(status) == 127
                              ? "cannot plot: gnuplot is not installed (Debian: gnuplot-nox)"
                              : "gnuplot failed to draw the plot");
        goto done;
    }
    struct stat sb;
    if (stat(image, &sb) != 0 || sb.st_size == 0) {
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "gnuplot wrote an empty plot");
        goto done;
    }
    chmod(image, 0644);
    if (rename(image, path) != 0)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write the plot: %s",
                          strerror(errno));
done:
    if (f)
        fclose(f);
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (made[0])
        unlink(data);
    if (made[1])
        unlink(script);
    if (made[2] && st != SG_OK)
        unlink(image);
    sg_free(data);
    sg_free(script);
    sg_free(image);
    return st;
}

static void band_script(FILE *f, const void *arg, const char *data)
{
    const sg_band_plot_spec *s = arg;
    if (s->logx)
        fputs("set logscale x\nset format x '%g'\n", f);
    fputs("set style fill transparent solid 0.25 noborder\nset title ", f);
    gp_string(f, s->title);
    fputs("\nset xlabel ", f);
    gp_string(f, s->xlabel);
    fputs("\nplot ", f);
    for (int k = 0; k < s->nbands; k++) {
        const sg_band *b = &s->bands[k];
        if (k)
            fputs(", ", f);
        gp_string(f, data);
        fprintf(f, " using 1:%d:%d with filledcurves lc %d title ", b->low + 1, b->high + 1,
                k + 1);
        gp_string(f, b->band_title);
        fputs(", ", f);
        gp_string(f, data);
        fprintf(f, " using 1:%d with lines lw 2 lc %d title ", b->mid + 1, k + 1);
        gp_string(f, b->id);
    }
    fputc('\n', f);
}

sg_status sg_plot_bands(const sg_band_plot_spec *spec, sg_error *err)
{
    return draw(spec->path, spec->table, band_script, spec, err);
}

static void bar_script(FILE *f, const void *arg, const char *data)
{
    const sg_bar_plot_spec *s = arg;
    fputs("set style data histogram\nset style histogram errorbars gap 2 lw 1\n"
          "set style fill solid 0.6 border -1\nset xtics rotate by -45 nomirror\n"
          "set yrange [*:*]\nset title ",
          f);
    gp_string(f, s->title);
    fputs("\nset ylabel ", f);
    gp_string(f, s->ylabel);
    /* the names as x tics: set from the spec, quoted */
    fputs("\nset xtics (", f);
    for (int r = 0; r < s->nnames; r++) {
        if (r)
            fputs(", ", f);
        gp_string(f, s->names[r]);
        fprintf(f, " %d", r);
    }
    fputs(")\nplot ", f);
    for (int k = 0; k < s->nseries; k++) {
        if (k)
            fputs(", ", f);
        gp_string(f, data);
        fprintf(f, " using %d:%d:%d title ", s->value[k] + 1, s->low[k] + 1, s->high[k] + 1);
        gp_string(f, s->series[k]);
    }
    fputc('\n', f);
}

sg_status sg_plot_bars(const sg_bar_plot_spec *spec, sg_error *err)
{
    return draw(spec->path, spec->table, bar_script, spec, err);
}

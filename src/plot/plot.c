/*
 * Plots through gnuplot: the table goes to a data file, a short script
 * draws it into a temporary image, which is renamed over the destination
 * only when gnuplot succeeded.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/util.h"

/* Full path of gnuplot on PATH, or NULL. */
static char *find_gnuplot(void)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    char *copy = sg_strdup(path);
    if (!copy)
        return NULL;
    char *found = NULL;
    for (char *dir = strtok(copy, ":"); dir && !found; dir = strtok(NULL, ":")) {
        size_t n = strlen(dir) + 10;
        char *candidate = sg_malloc(n);
        if (!candidate)
            break;
        snprintf(candidate, n, "%s/gnuplot", dir);
        if (access(candidate, X_OK) == 0)
            found = candidate;
        else
            sg_free(candidate);
    }
    sg_free(copy);
    return found;
}

/* gnuplot string literal, inert whatever the text: single quotes (no
 * backquote command or @macro substitution inside them), a quote doubled,
 * and every control character (C0, DEL, C1 as UTF-8) written as a space,
 * since a line break or carriage return would end the command and start
 * another (`system "..."`). The loader refuses such characters already;
 * this holds for any other caller. */
static void quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) {
            fputc(' ', f);
            p++;
            continue;
        }
        if (*p == '\'')
            fputc('\'', f);
        fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
    }
    fputc('\'', f);
}

/* Copies the image gnuplot drew (path in ctx) to the output. */
static sg_status copy_image(void *ctx, FILE *out, sg_error *err)
{
    FILE *in = fopen(ctx, "rb");
    if (!in)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "cannot read the plot: %s",
                            strerror(errno));
    char buf[65536];
    size_t n;
    int failed = 0;
    while (!failed && (n = fread(buf, 1, sizeof buf, in)) > 0)
        failed = fwrite(buf, 1, n, out) != n;
    failed |= ferror(in) || fflush(out) != 0;
    fclose(in);
    return failed ? sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "cannot write the plot: %s",
                                 strerror(errno))
                  : SG_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

sg_status sg_plot_write(const sg_plot_spec *spec, sg_error *err)
{
    int svg = ends_with(spec->path, ".svg");
    if (!svg && !ends_with(spec->path, ".png"))
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "--plot expects a file ending in .png or .svg, got '%s'",
                            spec->path);
    for (const unsigned char *p = (const unsigned char *)spec->path; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                "--plot: the file name holds a control character");
    char *gnuplot = find_gnuplot();
    if (!gnuplot)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "cannot plot: gnuplot is not installed (Debian: apt-get install "
                            "gnuplot-nox; scripts/bootstrap.sh installs it)");
    size_t n = strlen(spec->path) + 32;
    char *data = sg_malloc(n), *script = sg_malloc(n), *image = sg_malloc(n);
    sg_status st = SG_OK;
    int fd_data = -1, fd_script = -1, fd_image = -1;
    int made_data = 0, made_script = 0, made_image = 0;
    FILE *f = NULL;
    if (!data || !script || !image) {
        st = sg_error_nomem(err);
        goto done;
    }
    snprintf(data, n, "%s.dat.XXXXXX", spec->path);
    snprintf(script, n, "%s.gp.XXXXXX", spec->path);
    snprintf(image, n, "%s.tmp.XXXXXX", spec->path);
    fd_data = mkstemp(data);
    made_data = fd_data >= 0;
    fd_script = made_data ? mkstemp(script) : -1;
    made_script = fd_script >= 0;
    fd_image = made_script ? mkstemp(image) : -1;
    made_image = fd_image >= 0;
    if (!made_image) {
        st = sg_error_set(err, SG_ERR_IO, spec->path, 0, 0, "cannot write the plot: %s",
                          strerror(errno));
        goto done;
    }
    close(fd_image);
    /* data: whitespace separated, NaN left out by gnuplot */
    f = fdopen(fd_data, "w");
    fd_data = -1;
    if (!f) {
        st = sg_error_set(err, SG_ERR_IO, spec->path, 0, 0, "cannot write plot data");
        goto done;
    }
    int rows = sg_table_rows(spec->table), cols = sg_table_columns(spec->table);
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            double v = sg_table_get(spec->table, r, c);
            fprintf(f, c ? " %.17g" : "%.17g", isfinite(v) ? v : NAN);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        f = NULL;
        st = sg_error_set(err, SG_ERR_IO, spec->path, 0, 0, "cannot write plot data");
        goto done;
    }
    f = fdopen(fd_script, "w");
    fd_script = -1;
    if (!f) {
        st = sg_error_set(err, SG_ERR_IO, spec->path, 0, 0, "cannot write plot script");
        goto done;
    }
    /* scans: one panel per readout (their units differ); runs: one panel */
    int panels = spec->markers && spec->ncolumns > 1 && spec->ncolumns <= 9 ? spec->ncolumns : 1;
    int across = panels == 1 ? 1 : panels <= 4 ? 2 : 3;
    int down = (panels + across - 1) / across;
    fprintf(f, "set terminal %s size %d,%d font 'sans,11' noenhanced\n",
            svg ? "svg dynamic background rgb 'white'" : "pngcairo", 300 + 450 * across,
            panels == 1 ? 600 : 80 + 340 * down);
    fputs("set output ", f);
    quoted(f, image);
    fputs("\nset datafile missing 'nan'\nset grid\n", f);
    fputs(panels == 1 ? "set key below\n" : "set key top right\n", f);
    if (spec->logx)
        fputs("set logscale x\nset format x '%g'\n", f);
    for (int k = 0; k < spec->ncolumns; k++)
        if (spec->fits && spec->fits[k].ok) {
            const sg_hill_fit *h = &spec->fits[k];
            fprintf(f, "f%d(x) = %.17g + (%.17g - %.17g) / (1 + (%.17g / x)**%.17g)\n", k,
                    h->low, h->high, h->low, h->ec50, h->slope);
        }
    if (panels > 1) {
        fprintf(f, "set multiplot layout %d,%d title ", down, across);
        quoted(f, spec->title ? spec->title : "");
        fputc('\n', f);
    } else if (spec->title) {
        fputs("set title ", f);
        quoted(f, spec->title);
        fputc('\n', f);
    }
    fputs("set xlabel ", f);
    quoted(f, spec->xlabel ? spec->xlabel : "");
    fputc('\n', f);
    for (int panel = 0; panel < panels; panel++) {
        int first = panels == 1 ? 0 : panel, last = panels == 1 ? spec->ncolumns : panel + 1;
        fputs("set ylabel ", f);
        quoted(f, panels == 1 ? (spec->ylabel ? spec->ylabel : "")
                              : sg_table_column_name(spec->table, spec->columns[panel]));
        fputs("\nplot ", f);
        for (int k = first; k < last; k++) {
            if (k > first)
                fputs(", ", f);
            quoted(f, data);
            fprintf(f, " using 1:%d with %s lc %d title ", spec->columns[k] + 1,
                    spec->markers ? "points pt 7 ps 0.8" : "lines lw 2", k + 1);
            quoted(f, sg_table_column_name(spec->table, spec->columns[k]));
            if (spec->fits && spec->fits[k].ok) {
                fprintf(f, ", f%d(x) with lines lc %d dt 2 title ", k, k + 1);
                char text[300];
                snprintf(text, sizeof text, "Hill fit: %s50 %.3g, n %.2f, R2 %.4f",
                         spec->fits[k].decreasing ? "IC" : "EC", spec->fits[k].ec50,
                         spec->fits[k].slope, spec->fits[k].r2);
                quoted(f, text);
            }
        }
        fputc('\n', f);
    }
    if (panels > 1)
        fputs("unset multiplot\n", f);
    if (fclose(f) != 0) {
        f = NULL;
        st = sg_error_set(err, SG_ERR_IO, spec->path, 0, 0, "cannot write plot script");
        goto done;
    }
    f = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        /* gnuplot's own complaints stay out of the user's terminal */
        FILE *null = freopen("/dev/null", "w", stderr);
        (void)null;
        execl(gnuplot, "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        st = sg_error_set(err, SG_ERR_IO, spec->path, 0, 0, "gnuplot failed to draw the plot");
        goto done;
    }
    struct stat sb;
    if (stat(image, &sb) != 0 || sb.st_size == 0) {
        st = sg_error_set(err, SG_ERR_IO, spec->path, 0, 0, "gnuplot wrote an empty plot");
        goto done;
    }
    /* the finished image goes where a table would (sg_write_atomic: a
     * symlink's target replaced, a FIFO or device written directly) */
    st = sg_write_atomic(spec->path, copy_image, image, err);
done:
    if (f)
        fclose(f);
    if (fd_data >= 0)
        close(fd_data);
    if (fd_script >= 0)
        close(fd_script);
    if (made_data)
        unlink(data);
    if (made_script)
        unlink(script);
    if (made_image)
        unlink(image);
    sg_free(data);
    sg_free(script);
    sg_free(image);
    sg_free(gnuplot);
    return st;
}

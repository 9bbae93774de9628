/*
 * Plots through gnuplot: the table goes to a data file, a short script
 * draws it into a temporary image, which is renamed over the destination
 * only when gnuplot succeeded.
 *
 * Line plots (runs, 1-D scans): series are put in panels by axis label
 * (their unit) and magnitude, coloured from the Okabe-Ito palette with dash
 * patterns once it is used up, legends outside the data, vertical markers
 * at events and doses, Hill fits with their IC50/EC50 marked, ensemble
 * bands and measured points with error bars.
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

const char *const gp_colours[GP_NCOLOURS] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                             "#E69F00", "#56B4E9", "#000000"};

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
 * backquote command or @macro substitution inside them), and every control
 * character (C0, DEL, C1 as UTF-8) written as a space, since a line break
 * or carriage return would end the command and start another
 * (`system "..."`). A quote inside cannot be doubled: gnuplot's scanner
 * takes '' as an escaped quote only after an ordinary character, so a
 * label starting with a quote, or holding two in a row (a double prime,
 * A''), ended the string early and broke the script. Each quote is
 * written instead as the string "'" joined by gnuplot's concatenation
 * operator: 'it'."'".'s' (a double-quoted string holding only a quote has
 * nothing to substitute). */
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
            fputs("'.\"'\".'", f);
        else
            fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
    }
    fputc('\'', f);
}

void gp_string(FILE *out, const char *s) { quoted(out, s ? s : ""); }

/* Copies the image gnuplot drew (path in ctx) to the output. */
static sg_status copy_image(void *ctx, FILE *out, sg_error *err)
{
    return sg_copy_file(ctx, out, "the plot", err);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

sg_status sg_plot_check_path(const char *path, sg_error *err)
{
    if (!ends_with(path, ".svg") && !ends_with(path, ".png"))
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "--plot expects a file ending in .png or .svg, got '%s'", path);
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                                "--plot: the file name holds a control character");
    return SG_OK;
}

static char *temp_name(const char *path, const char *what, sg_error *err)
{
    size_t n = strlen(path) + 32;
    char *name = sg_malloc(n);
    if (!name) {
        sg_error_nomem(err);
        return NULL;
    }
    snprintf(name, n, "%s.%s.XXXXXX", path, what);
    int fd = mkstemp(name);
    if (fd < 0) {
        sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write the plot: %s", strerror(errno));
        sg_free(name);
        return NULL;
    }
    close(fd);
    return name;
}

sg_status gp_begin(gp_job *job, const char *path, int width, int height, sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    memset(job, 0, sizeof *job);
    job->path = path;
    job->svg = ends_with(path, ".svg");
    sg_status checked = sg_plot_check_path(path, err);
    if (checked != SG_OK)
        return checked;
    job->gnuplot = find_gnuplot();
    if (!job->gnuplot)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "cannot plot: gnuplot is not installed (Debian: apt-get install "
                            "gnuplot-nox; scripts/bootstrap.sh installs it)");
    if (!(job->script = temp_name(path, "gp", err)) ||
        !(job->image = temp_name(path, "tmp", err)))
        return gp_finish(job, err->status, err);
    job->out = fopen(job->script, "w");
    if (!job->out)
        return gp_finish(job,
                         sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write plot script"),
                         err);
    fprintf(job->out, "set terminal %s size %d,%d font 'sans,%d' noenhanced\n",
            job->svg ? "svg dynamic background rgb 'white'" : "pngcairo background rgb 'white'",
            width, height, job->svg ? 12 : 10);
    fputs("set output ", job->out);
    quoted(job->out, job->image);
    fputs("\nset encoding utf8\nset datafile missing 'nan'\n", job->out);
    return SG_OK;
}

FILE *gp_data_file(gp_job *job, int *index, sg_error *err)
{
    if (job->ndata == GP_MAX_DATA_FILES) {
        sg_error_set(err, SG_ERR_LIMIT, NULL, 0, 0, "too many plot data files");
        return NULL;
    }
    char *name = temp_name(job->path, "dat", err);
    if (!name)
        return NULL;
    job->data[job->ndata] = name;
    *index = job->ndata++;
    FILE *f = fopen(name, "w");
    if (!f)
        sg_error_set(err, SG_ERR_IO, job->path, 0, 0, "cannot write plot data");
    return f;
}

sg_status gp_finish(gp_job *job, sg_status st, sg_error *err)
{
    if (job->out) {
        if (fclose(job->out) != 0 && st == SG_OK)
            st = sg_error_set(err, SG_ERR_IO, job->path, 0, 0, "cannot write plot script");
        job->out = NULL;
    }
    if (st == SG_OK) {
        pid_t pid = fork();
        if (pid == 0) {
            /* gnuplot's own complaints stay out of the user's terminal */
            FILE *null = freopen("/dev/null", "w", stderr);
            (void)null;
            execl(job->gnuplot, "gnuplot", job->script, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        struct stat sb;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            st = sg_error_set(err, SG_ERR_IO, job->path, 0, 0, "gnuplot failed to draw the plot");
        else if (stat(job->image, &sb) != 0 || sb.st_size == 0)
            st = sg_error_set(err, SG_ERR_IO, job->path, 0, 0, "gnuplot wrote an empty plot");
        else /* the finished image goes where a table would (sg_write_atomic: a
              * symlink's target replaced, a FIFO or device written directly) */
            st = sg_write_atomic(job->path, copy_image, job->image, err);
    }
    for (int i = 0; i < job->ndata; i++) {
        unlink(job->data[i]);
        sg_free(job->data[i]);
    }
    if (job->script)
        unlink(job->script);
    if (job->image)
        unlink(job->image);
    sg_free(job->script);
    sg_free(job->image);
    sg_free(job->gnuplot);
    memset(job, 0, sizeof *job);
    return st;
}

/* ------------------------------------------------------------ line plots */

#define MAX_PANELS 12

/* One thing drawn: a table column (k >= 0, index into spec->columns) or a
 * band (k < 0: band -k-1). */
typedef struct series {
    int k;
    const char *axis;
    double magnitude; /* log10 of the largest |value|, -inf if none */
    int panel;
    int colour;       /* its place in its panel: colour and dash */
} series;

static double log_magnitude(const sg_table *t, int col)
{
    double top = 0;
    for (int r = 0; r < sg_table_rows(t); r++) {
        double v = fabs(sg_table_get(t, r, col));
        if (isfinite(v))
            top = fmax(top, v);
    }
    return top > 0 ? log10(top) : -INFINITY;
}

static int by_axis_then_size(const void *a, const void *b)
{
    const series *x = a, *y = b;
    int c = strcmp(x->axis, y->axis);
    if (c)
        return c;
    return (x->magnitude < y->magnitude) - (x->magnitude > y->magnitude);
}

/* Assigns panels; returns their count. One per series for scans (up to
 * MAX_PANELS), else by axis label and, on linear axes, by magnitude: a
 * series more than 10 times smaller than its panel's largest starts a new
 * panel. When that gives too many panels, magnitude is dropped; when axis
 * labels alone are too many, the last panel takes the rest. */
static int assign_panels(series *s, int n, int one_each, int by_size)
{
    if (one_each && n <= MAX_PANELS) {
        for (int i = 0; i < n; i++)
            s[i].panel = i;
        return n;
    }
    qsort(s, (size_t)n, sizeof *s, by_axis_then_size);
    for (int pass = by_size ? 0 : 1; pass < 2; pass++) {
        int panels = 0;
        double top = 0;
        for (int i = 0; i < n; i++) {
            /* a series that is zero throughout joins the smallest of its axis */
            int fresh = i == 0 || strcmp(s[i].axis, s[i - 1].axis) != 0 ||
                        (pass == 0 && isfinite(top) && isfinite(s[i].magnitude) &&
                         s[i].magnitude < top - 1);
            if (fresh) {
                panels++;
                top = s[i].magnitude;
            }
            s[i].panel = panels - 1 < MAX_PANELS ? panels - 1 : MAX_PANELS - 1;
        }
        if (panels <= MAX_PANELS || pass == 1)
            return panels < MAX_PANELS ? panels : MAX_PANELS;
    }
    return 1;
}

/* "IC50 0.21 nM" */
static void fit_label(char *buf, size_t size, const sg_hill_fit *h, const char *unit)
{
    snprintf(buf, size, "%s50 %.3g%s%s", h->decreasing ? "IC" : "EC", h->ec50,
             unit && *unit ? " " : "", unit ? unit : "");
}

static void style(FILE *f, int index, int markers)
{
    const char *colour = gp_colours[index % GP_NCOLOURS];
    int dash = 1 + (index / GP_NCOLOURS) % 5;
    if (markers)
        fprintf(f, " with linespoints lw 1.5 dt %d pt %d ps 0.9 lc rgb '%s'", dash,
                (int[]){7, 5, 9, 11, 13}[(index / GP_NCOLOURS) % 5], colour);
    else
        fprintf(f, " with lines lw 2 dt %d lc rgb '%s'", dash, colour);
}

/* Measured points of one series: rows of `data` whose observable is the
 * series' name (and condition, if asked), as "x y sd" lines; returns how
 * many. */
static int write_points(FILE *f, const sg_plot_spec *spec, const char *name, int *any_sd)
{
    int n = 0, xcol = spec->data_x ? sg_measurements_find_column(spec->data, spec->data_x) : -1;
    for (int i = 0; i < sg_measurements_count(spec->data); i++) {
        const sg_measurement *m = sg_measurements_get(spec->data, i);
        if (strcmp(m->observable, name) != 0 ||
            (spec->condition && strcmp(m->condition, spec->condition) != 0))
            continue;
        double x = spec->data_x ? (xcol >= 0 ? sg_measurements_extra(spec->data, i, xcol) : NAN)
                                : m->time;
        if (!isfinite(x))
            continue;
        fprintf(f, "%.17g %.17g %.17g\n", x, m->value, isfinite(m->sd) ? m->sd : 0.0);
        *any_sd |= isfinite(m->sd);
        n++;
    }
    return n;
}

sg_status sg_plot_write(const sg_plot_spec *spec, sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    const sg_table *t = spec->table;
    int nseries = spec->ncolumns + spec->nbands;
    series *s = sg_calloc((size_t)nseries + 1, sizeof *s);
    if (!s)
        return sg_error_nomem(err);
    for (int k = 0; k < spec->ncolumns; k++) {
        const char *axis = spec->axes ? spec->axes[k] : NULL;
        s[k] = (series){k, axis ? axis : spec->ylabel ? spec->ylabel : "",
                        log_magnitude(t, spec->columns[k]), 0, 0};
    }
    for (int b = 0; b < spec->nbands; b++) {
        const char *axis = spec->bands[b].axis;
        s[spec->ncolumns + b] = (series){-b - 1, axis ? axis : spec->ylabel ? spec->ylabel : "",
                                         log_magnitude(t, spec->bands[b].upper), 0, 0};
    }
    int panels = nseries ? assign_panels(s, nseries, spec->markers, !spec->logy) : 1;
    for (int p = 0, next = 0; p < panels; p++, next = 0)
        for (int i = 0; i < nseries; i++)
            if (s[i].panel == p)
                s[i].colour = next++;
    int across = panels == 1 ? 1 : panels <= 4 ? 2 : 3;
    int down = (panels + across - 1) / across;
    gp_job job;
    sg_status st = gp_begin(&job, spec->path, 720 * across, 70 + 400 * down, err);
    if (st != SG_OK) {
        sg_free(s);
        return st;
    }
    /* the table: whitespace separated, NaN left out by gnuplot */
    int main_data = 0, point_data = -1;
    FILE *f = gp_data_file(&job, &main_data, err);
    if (!f) {
        sg_free(s);
        return gp_finish(&job, err->status, err);
    }
    int rows = sg_table_rows(t), cols = sg_table_columns(t);
    double xmin = INFINITY, xmax = -INFINITY;
    for (int r = 0; r < rows; r++) {
        double x = sg_table_get(t, r, 0);
        xmin = fmin(xmin, x);
        xmax = fmax(xmax, x);
        for (int c = 0; c < cols; c++) {
            double v = sg_table_get(t, r, c);
            fprintf(f, c ? " %.17g" : "%.17g", isfinite(v) ? v : NAN);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        sg_free(s);
        return gp_finish(&job, sg_error_set(err, SG_ERR_IO, spec->path, 0, 0,
                                            "cannot write plot data"), err);
    }
    /* measured points: one index block per drawn column that has some */
    int *point_block = sg_calloc((size_t)spec->ncolumns + 1, sizeof *point_block);
    int *point_sd = sg_calloc((size_t)spec->ncolumns + 1, sizeof *point_sd);
    if (!point_block || !point_sd) {
        sg_free(s);
        sg_free(point_block);
        sg_free(point_sd);
        return gp_finish(&job, sg_error_nomem(err), err);
    }
    if (spec->data) {
        f = gp_data_file(&job, &point_data, err);
        if (!f) {
            sg_free(s);
            sg_free(point_block);
            sg_free(point_sd);
            return gp_finish(&job, err->status, err);
        }
        int blocks = 0;
        for (int k = 0; k < spec->ncolumns; k++) {
            point_block[k] = -1;
            if (write_points(f, spec, sg_table_column_name(t, spec->columns[k]),
                             &point_sd[k]) > 0) {
                point_block[k] = blocks++;
                fputs("\n\n", f);
            }
        }
        if (fclose(f) != 0)
            st = sg_error_set(err, SG_ERR_IO, spec->path, 0, 0, "cannot write plot data");
    }
    FILE *g = job.out;
    fputs("set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n", g);
    fputs("set key outside right top vertical Left reverse samplen 3 spacing 1.1 box lc rgb "
          "'#bbbbbb'\n",
          g);
    if (spec->logx)
        fputs("set logscale x\nset format x '%g'\n", g);
    if (spec->logy)
        fputs("set logscale y\nset format y '%g'\n", g);
    if (!spec->markers && isfinite(xmin) && xmax > xmin)
        fprintf(g, "set xrange [%.17g:%.17g]\n", xmin, xmax);
    for (int k = 0; k < spec->ncolumns; k++)
        if (spec->fits && spec->fits[k].ok) {
            const sg_hill_fit *h = &spec->fits[k];
            fprintf(g, "f%d(x) = %.17g + (%.17g - %.17g) / (1 + (%.17g / x)**%.17g)\n", k,
                    h->low, h->high, h->low, h->ec50, h->slope);
        }
    fprintf(g, "set multiplot layout %d,%d title ", down, across);
    quoted(g, spec->title ? spec->title : "");
    fputs(" font 'sans,13'\nset xlabel ", g);
    quoted(g, spec->xlabel ? spec->xlabel : "");
    fputc('\n', g);
    /* event and dose markers: a dotted line on every panel, what changed
     * written along it on the first */
    for (int i = 0; i < spec->nmarks; i++)
        fprintf(g, "set arrow from %.17g, graph 0 to %.17g, graph 1 nohead dt 3 lw 1.2 "
                   "lc rgb '#555555' back\n",
                spec->marks[i].time, spec->marks[i].time);
    for (int panel = 0; panel < panels; panel++) {
        const char *axis = "";
        for (int i = 0; i < nseries; i++)
            if (s[i].panel == panel)
                axis = s[i].axis;
        fputs("set ylabel ", g);
        quoted(g, axis);
        fputc('\n', g);
        int labels = 0;
        if (panel == 0)
            for (int i = 0; i < spec->nmarks; i++)
                if (spec->marks[i].first) {
                    char text[220];
                    snprintf(text, sizeof text, "t=%g: %s", spec->marks[i].time,
                             spec->marks[i].what);
                    fprintf(g, "set label %d ", ++labels);
                    quoted(g, text);
                    fprintf(g, " at %.17g, graph 0.98 rotate by 90 right offset -0.6,0 "
                               "font 'sans,9' tc rgb '#333333' front\n",
                            spec->marks[i].time);
                }
        for (int i = 0; i < nseries; i++) {
            int k = s[i].k;
            if (s[i].panel != panel || k < 0 || !spec->fits || !spec->fits[k].ok ||
                !(spec->fits[k].ec50 >= xmin && spec->fits[k].ec50 <= xmax))
                continue;
            const sg_hill_fit *h = &spec->fits[k];
            char text[220];
            fit_label(text, sizeof text, h, spec->x_unit);
            fprintf(g, "set label %d ", ++labels);
            quoted(g, text);
            fprintf(g, " at %.17g, %.17g point pt 6 ps 2 lw 2 lc rgb '%s' offset 1.2,0.9 "
                       "front\n",
                    h->ec50, sg_hill_value(h, h->ec50), gp_colours[s[i].colour % GP_NCOLOURS]);
        }
        fputs("plot ", g);
        int drawn = 0;
        for (int i = 0; i < nseries; i++) {
            if (s[i].panel != panel)
                continue;
            int k = s[i].k, index = s[i].colour;
            if (k < 0) { /* a band: shaded, then its median */
                const sg_plot_band *b = &spec->bands[-k - 1];
                const char *colour = gp_colours[index % GP_NCOLOURS];
                fputs(drawn++ ? ", " : "", g);
                quoted(g, job.data[main_data]);
                fprintf(g, " using 1:%d:%d with filledcurves fc rgb '%s' fs transparent "
                           "solid 0.25 noborder title ",
                        b->lower + 1, b->upper + 1, colour);
                quoted(g, b->label ? b->label : "");
                fputs(", ", g);
                quoted(g, job.data[main_data]);
                fprintf(g, " using 1:%d", b->median + 1);
                style(g, index, spec->markers);
                fputs(" notitle", g);
                continue;
            }
            const char *name = sg_table_column_name(t, spec->columns[k]);
            fputs(drawn++ ? ", " : "", g);
            quoted(g, job.data[main_data]);
            fprintf(g, " using 1:%d", spec->columns[k] + 1);
            style(g, index, spec->markers);
            fputs(" title ", g);
            quoted(g, spec->titles && spec->titles[k] ? spec->titles[k] : name);
            if (spec->fits && spec->fits[k].ok) {
                fprintf(g, ", f%d(x) with lines lw 1.5 dt 2 lc rgb '%s' title ", k,
                        gp_colours[index % GP_NCOLOURS]);
                char text[300];
                const sg_hill_fit *h = &spec->fits[k];
                int inside = h->ec50 >= xmin && h->ec50 <= xmax;
                snprintf(text, sizeof text, "Hill fit: n %.2f, R2 %.4f%s%s", h->slope, h->r2,
                         inside ? "" : h->decreasing ? ", IC50 " : ", EC50 ",
                         inside ? "" : "beyond the scan");
                quoted(g, text);
            }
            if (point_data >= 0 && point_block[k] >= 0) {
                fputs(", ", g);
                quoted(g, job.data[point_data]);
                fprintf(g, " index %d using 1:2%s with %s pt 7 ps 0.9 lc rgb '%s' title ",
                        point_block[k], point_sd[k] ? ":3" : "",
                        point_sd[k] ? "yerrorbars" : "points", gp_colours[index % GP_NCOLOURS]);
                char text[300];
                snprintf(text, sizeof text, "%s (data)", name);
                quoted(g, text);
            }
        }
        if (!drawn)
            fputs("NaN notitle", g);
        fputc('\n', g);
        if (labels)
            fputs("unset label\n", g);
    }
    fputs("unset multiplot\n", g);
    sg_free(s);
    sg_free(point_block);
    sg_free(point_sd);
    return gp_finish(&job, st, err);
}

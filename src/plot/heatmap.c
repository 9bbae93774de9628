/*
 * Heat maps of a two-dimensional (combination) scan: one panel per column,
 * cells at their grid index with the dose values as tick labels, contour
 * lines (isobolograms) computed here by marching squares so they are the
 * same whatever gnuplot's contouring does.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"

/* Grid shape of a long-format table: n1 distinct x values in runs of n2
 * rows, the y values repeating the same n2 values. */
static int grid_shape(const sg_table *t, int *n1, int *n2)
{
    int rows = sg_table_rows(t);
    if (rows == 0)
        return -1;
    int run = 1;
    while (run < rows && sg_table_get(t, run, 0) == sg_table_get(t, 0, 0))
        run++;
    if (rows % run != 0)
        return -1;
    for (int r = 0; r < rows; r++)
        if (sg_table_get(t, r, 1) != sg_table_get(t, r % run, 1) ||
            sg_table_get(t, r, 0) != sg_table_get(t, r - r % run, 0))
            return -1;
    *n1 = rows / run;
    *n2 = run;
    return 0;
}

static void tics(FILE *g, const char *axis, const sg_table *t, int col, int n, int stride)
{
    int every = n > 10 ? (n + 9) / 10 : 1;
    fprintf(g, "set %stics (", axis);
    for (int i = 0, first = 1; i < n; i++)
        if (i % every == 0 || i == n - 1) {
            char text[40];
            snprintf(text, sizeof text, "%.3g", sg_table_get(t, i * stride, col));
            fputs(first ? "" : ", ", g);
            gp_string(g, text);
            fprintf(g, " %d", i);
            first = 0;
        }
    fputs(")\n", g);
}

/* Where the level crosses the edge from (xa,ya,va) to (xb,yb,vb). */
static int crossing(double xa, double ya, double va, double xb, double yb, double vb,
                    double level, double *x, double *y)
{
    if (!isfinite(va) || !isfinite(vb) || (va < level) == (vb < level))
        return 0;
    double f = (level - va) / (vb - va);
    *x = xa + f * (xb - xa);
    *y = ya + f * (yb - ya);
    return 1;
}

/* Marching squares over the index grid; each segment is a block of two
 * points. Returns the number of segments. */
static int contour(FILE *f, const sg_table *t, int col, int n1, int n2, double level)
{
    int segments = 0;
    for (int i = 0; i + 1 < n1; i++)
        for (int j = 0; j + 1 < n2; j++) {
            double v00 = sg_table_get(t, i * n2 + j, col);
            double v10 = sg_table_get(t, (i + 1) * n2 + j, col);
            double v11 = sg_table_get(t, (i + 1) * n2 + j + 1, col);
            double v01 = sg_table_get(t, i * n2 + j + 1, col);
            double px[4], py[4];
            int n = 0;
            n += crossing(i, j, v00, i + 1, j, v10, level, &px[n], &py[n]);
            n += crossing(i + 1, j, v10, i + 1, j + 1, v11, level, &px[n], &py[n]);
            n += crossing(i + 1, j + 1, v11, i, j + 1, v01, level, &px[n], &py[n]);
            n += crossing(i, j + 1, v01, i, j, v00, level, &px[n], &py[n]);
            for (int k = 0; k + 1 < n; k += 2) {
                fprintf(f, "%.17g %.17g\n%.17g %.17g\n\n", px[k], py[k], px[k + 1], py[k + 1]);
                segments++;
            }
        }
    return segments;
}

sg_status sg_heatmap_write(const sg_heatmap_spec *spec, sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    const sg_table *t = spec->table;
    int n1 = 0, n2 = 0;
    if (grid_shape(t, &n1, &n2) != 0 || spec->npanels < 1)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "a heat map needs a complete two-dimensional grid");
    int across = spec->npanels == 1 ? 1 : 2, down = (spec->npanels + 1) / 2;
    gp_job job;
    sg_status st = gp_begin(&job, spec->path, 640 * across, 70 + 540 * down, err);
    if (st != SG_OK)
        return st;
    int cells = 0, lines = 0;
    FILE *f = gp_data_file(&job, &cells, err);
    if (!f)
        return gp_finish(&job, err->status, err);
    int cols = sg_table_columns(t);
    for (int i = 0; i < n1; i++) {
        for (int j = 0; j < n2; j++) {
            fprintf(f, "%d %d", i, j);
            for (int c = 2; c < cols; c++) {
                double v = sg_table_get(t, i * n2 + j, c);
                fprintf(f, " %.17g", isfinite(v) ? v : NAN);
            }
            fputc('\n', f);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0)
        return gp_finish(&job, sg_error_set(err, SG_ERR_IO, spec->path, 0, 0,
                                            "cannot write plot data"), err);
    f = gp_data_file(&job, &lines, err);
    if (!f)
        return gp_finish(&job, err->status, err);
    int *segments = sg_calloc((size_t)spec->npanels, sizeof *segments);
    if (!segments) {
        fclose(f);
        return gp_finish(&job, sg_error_nomem(err), err);
    }
    for (int p = 0; p < spec->npanels; p++) {
        if (spec->levels && isfinite(spec->levels[p]))
            segments[p] = contour(f, t, spec->contour_of[p], n1, n2, spec->levels[p]);
        /* one index block per panel, never empty, so indices match panels */
        fputs(segments[p] ? "\n" : "nan nan\n\n\n", f);
    }
    if (fclose(f) != 0)
        st = sg_error_set(err, SG_ERR_IO, spec->path, 0, 0, "cannot write plot data");
    FILE *g = job.out;
    fprintf(g, "set xrange [-0.5:%g]\nset yrange [-0.5:%g]\n", n1 - 0.5, n2 - 0.5);
    fputs("set key below\nset tics out nomirror\nset size ratio -1\n"
          "set style textbox opaque noborder\n",
          g);
    tics(g, "x", t, 0, n1, n2);
    tics(g, "y", t, 1, n2, 1);
    fputs("set xlabel ", g);
    gp_string(g, spec->xlabel);
    fputs("\nset ylabel ", g);
    gp_string(g, spec->ylabel);
    fprintf(g, "\nset multiplot layout %d,%d title ", down, across);
    gp_string(g, spec->title);
    fputs(" font 'sans,13'\n", g);
    for (int p = 0; p < spec->npanels; p++) {
        int col = spec->zcols[p];
        double top = 0;
        for (int r = 0; r < sg_table_rows(t); r++)
            if (isfinite(sg_table_get(t, r, col)))
                top = fmax(top, fabs(sg_table_get(t, r, col)));
        if (spec->diverging && spec->diverging[p]) {
            /* blue (antagonism) - white (additive) - red (synergy) */
            fputs("set palette defined (0 '#2166AC', 0.5 '#F7F7F7', 1 '#B2182B')\n", g);
            /* at least +-0.01 (1% of the reference response): rounding noise
             * of an additive pair stays white instead of filling the scale */
            double range = fmax(top, 0.01);
            fprintf(g, "set cbrange [%.17g:%.17g]\n", -range, range);
        } else { /* viridis, readable in grey and by colour-blind readers */
            fputs("set palette defined (0 '#440154', 0.25 '#3B528B', 0.5 '#21918C', "
                  "0.75 '#5EC962', 1 '#FDE725')\nset autoscale cb\n",
                  g);
        }
        int all_nan = 1;
        for (int r = 0; r < sg_table_rows(t); r++)
            all_nan &= !isfinite(sg_table_get(t, r, col));
        /* why a panel is empty or has no isobole, said on the panel */
        if (all_nan)
            fputs("set label 1 'not defined here (see the messages)' at graph 0.5, graph 0.5 "
                  "center front boxed\n",
                  g);
        else if (spec->levels && isfinite(spec->levels[p]) && !segments[p] &&
                 spec->contour_of[p] == col)
            fputs("set label 1 'no isobole: the grid never reaches the 50% level' at graph "
                  "0.5, graph 0.06 center front boxed\n",
                  g);
        else
            fputs("unset label 1\n", g);
        fputs("set title ", g);
        gp_string(g, spec->ztitles[p]);
        fputs("\nplot ", g);
        gp_string(g, job.data[cells]);
        fprintf(g, " using 1:2:%d with image notitle", col - 2 + 3);
        if (segments[p] > 0) {
            fputs(", ", g);
            gp_string(g, job.data[lines]);
            fprintf(g, " index %d using 1:2 with lines lw 3 lc rgb 'black' title ", p);
            gp_string(g, spec->contour_label ? spec->contour_label : "");
        }
        fputc('\n', g);
    }
    fputs("unset multiplot\n", g);
    sg_free(segments);
    return gp_finish(&job, st, err);
}

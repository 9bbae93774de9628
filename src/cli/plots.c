/*
 * Plots and fits of the command line, shared by run and scan: the plot
 * option group (--plot, --log-y, --data), axis labels with the model's
 * units, the title with the command-line overrides, event markers, Hill
 * fits held within physical bounds, heat maps of combination grids.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int parse_plot(cli *c, const char *opt, const char *value)
{
    if (!*value)
        return cli_usage_error(c->command, "--plot expects a file name ending in .png or .svg");
    c->plot = value;
    return 0;
}

static int parse_log_y(cli *c, const char *opt, const char *value)
{
    c->log_y = 1;
    return 0;
}

/* Read at once: a bad file costs no simulation. */
static int parse_data(cli *c, const char *opt, const char *value)
{
    sg_error err = {0};
    sg_measurements_free(c->data);
    c->data_path = value;
    c->data = sg_measurements_load(value, &err);
    return c->data ? 0 : cli_report(&err);
}

static const cli_option plot_options[] = {
    {"plot", "FILE.png|FILE.svg",
     "plot with gnuplot: panels by unit and magnitude, units from the model, events marked",
     parse_plot},
    {"log-y", NULL, "logarithmic y axes (one panel per unit)", parse_log_y},
    {"data", "FILE.tsv",
     "draw measurements (a PEtab measurement table) on the plot, with error bars",
     parse_data},
    {NULL, NULL, NULL, NULL}};
const cli_group cli_plot_group = {"plot options", plot_options};

/* --data without --plot, checked before any work. */
int cli_check_plot_options(const cli *c)
{
    if (c->data && !c->plot)
        return cli_usage_error(c->command, "--data draws measurements on a plot: add --plot FILE");
    return 0;
}

/* Unit of a model quantity for labels (sg_model_unit_of). */
static const char *unit_of(const sg_model *m, const char *id) { return sg_model_unit_of(m, id); }

static void label(char *buf, size_t size, const char *what, const char *unit)
{
    if (unit && *unit)
        snprintf(buf, size, "%s (%s)", what, unit);
    else
        snprintf(buf, size, "%s", what);
}

/* Molar units: M, mM, uM, nM, pM (with or without a trailing text). */
static int unit_is_conc(const char *unit)
{
    size_t n = strspn(unit, "munp");
    return n <= 1 && unit[n] == 'M' && (unit[n + 1] == '\0' || unit[n + 1] == ' ');
}

/* The y axis label of a quantity: what it is and its unit from the model,
 * so series of one axis share a unit. */
static void axis_label(char *buf, size_t size, const sg_model *m, const char *id)
{
    const char *unit = unit_of(m, id);
    sg_symbol_kind k = sg_model_lookup(m, id);
    if (sg_unit_is_dimensionless(unit))
        snprintf(buf, size, "fraction or ratio (dimensionless)");
    else if (!*unit)
        snprintf(buf, size, "value (no unit in the model)");
    else if (!strcmp(unit, sg_model_conc_unit(m)) || (k == SG_SYM_SPECIES && unit_is_conc(unit)))
        snprintf(buf, size, "concentration (%s)", unit);
    else if (k == SG_SYM_SPECIES)
        snprintf(buf, size, "level (%s)", unit);
    else
        snprintf(buf, size, "value (%s)", unit);
}

/* "model: scenario, --set A=1, --event 24:FK506=10": what was drawn. */
static void plot_title(char *buf, size_t size, const cli *c, const sg_model *m)
{
    snprintf(buf, size, "%s%s%s", sg_model_name(m), c->scenario ? ": " : "",
             c->scenario ? c->scenario : "");
    for (int i = 0; i < c->nsets; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, "%s--set %s=%g", n ? ", " : "", c->set_names[i],
                 c->set_values[i]);
    }
    for (int i = 0; i < c->nevents; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, "%s--event %s", n ? ", " : "", c->events[i]);
    }
    if (strlen(buf) + 1 == size)
        memcpy(buf + size - 4, "...", 4);
}

/* Physical bounds of a readout's Hill plateaus: a species' concentration,
 * or an assignment in concentration units or a dimensionless one whose
 * values are all >= 0 (a fraction), cannot go below 0. */
static double plateau_floor(const sg_model *m, const char *id, const double *y, int n)
{
    for (int i = 0; i < n; i++)
        if (y[i] < 0)
            return -INFINITY;
    sg_symbol_kind k = sg_model_lookup(m, id);
    const char *unit = unit_of(m, id);
    if (k == SG_SYM_SPECIES ||
        (k == SG_SYM_ASSIGNMENT && (sg_unit_is_dimensionless(unit) ||
                                    (*unit && !strcmp(unit, sg_model_conc_unit(m))))))
        return 0.0;
    return -INFINITY;
}

/* Hill fits of every readout column of a 1-D scan table, reported on
 * standard error; fits[] gets one entry per readout column. */
void cli_fit_columns(const sg_model *m, const sg_table *t, const char *target,
                        sg_hill_fit *fits)
{
    int rows = sg_table_rows(t), cols = sg_table_columns(t);
    double *x = malloc(sizeof *x * (size_t)(rows + 1)), *y = malloc(sizeof *y * (size_t)(rows + 1));
    if (!x || !y) {
        free(x);
        free(y);
        return;
    }
    for (int r = 0; r < rows; r++)
        x[r] = sg_table_get(t, r, 0);
    const char *unit = unit_of(m, target);
    for (int c = 1; c < cols; c++) {
        for (int r = 0; r < rows; r++)
            y[r] = sg_table_get(t, r, c);
        sg_error err = {0};
        sg_hill_fit *f = &fits[c - 1];
        /* a readout at several times is named id@t */
        char id[300];
        snprintf(id, sizeof id, "%s", sg_table_column_name(t, c));
        id[strcspn(id, "@")] = '\0';
        double floor = plateau_floor(m, id, y, rows);
        if (sg_fit_hill_bounded(x, y, rows, floor, INFINITY, f, &err) != SG_OK) {
            cli_report(&err);
            continue;
        }
        if (!f->ok) {
            fprintf(stderr, "hill fit %s: %s\n", sg_table_column_name(t, c), f->why);
            continue;
        }
        fprintf(stderr,
                "hill fit %s: %s = %.4g %s, slope %.3g, bottom %.4g, top %.4g, R^2 = %.6f, "
                "RMSE = %.3g%s%s%s\n",
                sg_table_column_name(t, c), f->decreasing ? "IC50" : "EC50", f->ec50, unit,
                f->slope, f->bottom, f->top, f->r2, f->rmse,
                isfinite(floor) ? " (plateaus held >= 0)" : "", f->why[0] ? "; warning: " : "",
                f->why);
    }
    free(x);
    free(y);
}

/* Warns when no measurement matches a drawn series: a misspelt
 * observableId or condition would otherwise just draw nothing. */
static void check_data_matches(const cli *c, const sg_table *t)
{
    int matched = 0;
    for (int i = 0; i < sg_measurements_count(c->data); i++) {
        const sg_measurement *m = sg_measurements_get(c->data, i);
        if (c->scenario && strcmp(m->condition, c->scenario) != 0)
            continue;
        for (int k = 1; k < sg_table_columns(t); k++)
            matched += !strcmp(m->observable, sg_table_column_name(t, k));
    }
    if (!matched)
        fprintf(stderr,
                "sigode: warning: no row of %s matches a plotted series (observableId = a "
                "plotted id%s)\n",
                c->data_path, c->scenario ? ", simulationConditionId = the scenario" : "");
}

int cli_plot_table(const cli *c, const sg_model *m, const sg_table *t, const char *xname,
                      int logx, int markers, const sg_hill_fit *fits, const sg_experiment *exp)
{
    int cols = sg_table_columns(t);
    int *which = malloc(sizeof *which * (size_t)cols);
    char (*axes)[300] = malloc(sizeof *axes * (size_t)cols);
    const char **axis_ptr = malloc(sizeof *axis_ptr * (size_t)cols);
    /* legends: an element's name where it has one ("name@t" for a readout
     * at time t), else the column's id */
    char (*titles)[300] = malloc(sizeof *titles * (size_t)cols);
    const char **title_ptr = malloc(sizeof *title_ptr * (size_t)cols);
    sg_event_mark *marks = NULL;
    sg_error err = {0};
    int nmarks = exp && !markers ? sg_experiment_event_marks(exp, &marks, &err) : 0;
    if (!which || !axes || !axis_ptr || !titles || !title_ptr || nmarks < 0) {
        free(which);
        free(axes);
        free(axis_ptr);
        free(titles);
        free(title_ptr);
        return cli_usage_error(c->command, "out of memory");
    }
    for (int k = 1; k < cols; k++) {
        which[k - 1] = k;
        char id[300];
        snprintf(id, sizeof id, "%s", sg_table_column_name(t, k));
        id[strcspn(id, "@")] = '\0';
        axis_label(axes[k - 1], sizeof axes[k - 1], m, id);
        axis_ptr[k - 1] = axes[k - 1];
        const char *name = sg_model_name_of(m, id), *at = strchr(sg_table_column_name(t, k), '@');
        snprintf(titles[k - 1], sizeof titles[k - 1], "%s%s", name, at ? at : "");
        title_ptr[k - 1] = *name ? titles[k - 1] : NULL;
    }
    char xlabel[300], ylabel[300], title[1000];
    label(xlabel, sizeof xlabel, xname, !strcmp(xname, "time") ? sg_model_time_unit(m)
                                                               : unit_of(m, xname));
    label(ylabel, sizeof ylabel, "concentration", sg_model_conc_unit(m));
    plot_title(title, sizeof title, c, m);
    if (c->data)
        check_data_matches(c, t);
    if (c->data && markers && sg_measurements_find_column(c->data, xname) < 0)
        fprintf(stderr,
                "sigode: warning: %s has no column '%s' (the dose of each measurement on a "
                "scan plot): no measured point drawn\n",
                c->data_path, xname);
    sg_plot_spec spec = {.path = c->plot, .title = title, .xlabel = xlabel, .ylabel = ylabel,
                         .logx = logx, .logy = c->log_y, .table = t, .columns = which,
                         .ncolumns = cols - 1, .axes = axis_ptr, .titles = title_ptr,
                         .fits = fits,
                         .x_unit = unit_of(m, xname), .markers = markers, .marks = marks,
                         .nmarks = nmarks, .data = c->data, .condition = c->scenario,
                         .data_x = markers ? xname : NULL};
    cli_begin_writing();
    sg_status st = sg_plot_write(&spec, &err);
    cli_end_writing();
    free(which);
    free(axes);
    free(axis_ptr);
    free(titles);
    free(title_ptr);
    free(marks);
    return st == SG_OK ? 0 : cli_report(&err);
}

/* Heat maps of a 2-D scan: per readout, the readout and each synergy
 * score, with the 50% effect isobole (half the reference readout). */
int cli_plot_grid(const cli *c, const sg_model *m, const sg_table *t, int nreadouts)
{
    int cols = sg_table_columns(t), nscores = (cols - 2) / nreadouts - 1;
    int shown = nreadouts < 3 ? nreadouts : 3; /* at most 12 panels */
    int npanels = shown * (1 + nscores);
    int *zcols = calloc((size_t)npanels, sizeof *zcols);
    int *diverging = calloc((size_t)npanels, sizeof *diverging);
    int *contour_of = calloc((size_t)npanels, sizeof *contour_of);
    double *levels = calloc((size_t)npanels, sizeof *levels);
    char (*titles)[300] = calloc((size_t)npanels, sizeof *titles);
    const char **title_ptr = calloc((size_t)npanels, sizeof *title_ptr);
    if (!zcols || !diverging || !contour_of || !levels || !titles || !title_ptr) {
        free(zcols);
        free(diverging);
        free(contour_of);
        free(levels);
        free(titles);
        free(title_ptr);
        return cli_usage_error(c->command, "out of memory");
    }
    for (int k = 0, p = 0; k < shown; k++) {
        const char *id = sg_table_column_name(t, 2 + k);
        double half = 0.5 * sg_table_get(t, 0, 2 + k);
        for (int q = 0; q <= nscores; q++, p++) {
            int col = q == 0 ? 2 + k : 2 + nreadouts * q + k;
            zcols[p] = col;
            diverging[p] = q > 0;
            contour_of[p] = 2 + k;
            levels[p] = half;
            if (q == 0) {
                char unit[300];
                label(unit, sizeof unit, id, unit_of(m, id));
                snprintf(titles[p], sizeof titles[p], "%s", unit);
            } else {
                const char *name = sg_table_column_name(t, col);
                snprintf(titles[p], sizeof titles[p], "%s excess (expected - observed, "
                                                      "relative; > 0 synergy)",
                         !strncmp(name, "bliss_", 6)   ? "Bliss"
                         : !strncmp(name, "loewe_", 6) ? "Loewe"
                                                       : "HSA");
            }
            title_ptr[p] = titles[p];
        }
    }
    char xlabel[300], ylabel[300], title[1000];
    label(xlabel, sizeof xlabel, c->target, unit_of(m, c->target));
    label(ylabel, sizeof ylabel, c->target2, unit_of(m, c->target2));
    plot_title(title, sizeof title, c, m);
    sg_heatmap_spec spec = {.path = c->plot, .title = title, .xlabel = xlabel,
                            .ylabel = ylabel, .table = t, .zcols = zcols,
                            .ztitles = title_ptr, .diverging = diverging,
                            .contour_of = contour_of, .levels = levels,
                            .contour_label = "isobole: 50% of the untreated readout",
                            .npanels = npanels};
    sg_error err = {0};
    cli_begin_writing();
    sg_status st = sg_heatmap_write(&spec, &err);
    cli_end_writing();
    free(zcols);
    free(diverging);
    free(contour_of);
    free(levels);
    free(titles);
    free(title_ptr);
    return st == SG_OK ? 0 : cli_report(&err);
}


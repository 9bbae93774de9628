/*
 * sigode scan MODEL --target NAME (--values V,V,... | --from A --to B --points N [--log])
 * A dose-response scan: one simulation per value of the target, the
 * readouts at the end (or at --at times); optionally a second axis
 * (--target2 ...), a Hill fit and a plot.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/study.h"

static int parse_target(cli *c, const char *opt, const char *value)
{
    if (!strcmp(opt, "--target"))
        c->target = value;
    else
        c->target2 = value;
    return 0;
}

static int parse_values(cli *c, const char *opt, const char *value)
{
    char **dest = !strcmp(opt, "--values") ? &c->values_text : &c->values2_text;
    free(*dest);
    *dest = strdup(value);
    return 0;
}

static int parse_bound(cli *c, const char *opt, const char *value)
{
    int second = opt[strlen(opt) - 1] == '2', from = !strncmp(opt, "--from", 6);
    double *dest = from ? (second ? &c->from2 : &c->from) : (second ? &c->to2 : &c->to);
    if (cli_parse_number(c->command, opt, value, dest))
        return 2;
    *(from ? (second ? &c->has_from2 : &c->has_from) : (second ? &c->has_to2 : &c->has_to)) = 1;
    return 0;
}

static int parse_points(cli *c, const char *opt, const char *value)
{
    if (!strcmp(opt, "--points")) {
        if (cli_parse_count(c->command, opt, value, 2, &c->points))
            return 2;
        c->has_points = 1;
    } else {
        if (cli_parse_count(c->command, opt, value, 2, &c->points2))
            return 2;
        c->has_points2 = 1;
    }
    return 0;
}

static int parse_log(cli *c, const char *opt, const char *value)
{
    if (!strcmp(opt, "--log"))
        c->log_scale = 1;
    else
        c->log2_scale = 1;
    return 0;
}

static int parse_readout(cli *c, const char *opt, const char *value)
{
    free(c->readout);
    c->readout = strdup(value);
    return 0;
}

static int parse_at(cli *c, const char *opt, const char *value)
{
    int n = 0;
    char *copy = strdup(value), **parts = copy ? cli_split_alloc(copy, &n) : NULL;
    if (n == 0) {
        free(parts);
        free(copy);
        return cli_usage_error(c->command, "--at expects a time or times T,T,..., got '%s'",
                               value);
    }
    double *at = realloc(c->at, sizeof *at * (size_t)(c->nat + n));
    if (!at) {
        free(parts);
        free(copy);
        return cli_usage_error(c->command, "out of memory");
    }
    c->at = at;
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++)
        if (cli_parse_number(c->command, "--at", parts[k], &c->at[c->nat++]))
            rc = 2;
    free(parts);
    free(copy);
    return rc;
}

static int parse_jobs(cli *c, const char *opt, const char *value)
{
    long count;
    if (cli_parse_count(c->command, opt, value, 0, &count))
        return 2;
    c->jobs = count > 1024 ? 1024 : (int)count;
    return 0;
}

static int parse_fit(cli *c, const char *opt, const char *value)
{
    if (strcmp(value, "hill") != 0)
        return cli_usage_error(c->command, "--fit expects 'hill' (a four-parameter Hill curve), "
                                           "got '%s'",
                               value);
    c->fit_hill = 1;
    return 0;
}

static int parse_fit_output(cli *c, const char *opt, const char *value)
{
    if (!*value)
        return cli_usage_error(c->command, "--fit-output expects a file name");
    c->fit_output = value;
    return 0;
}

static int parse_synergy(cli *c, const char *opt, const char *value)
{
    char *copy = strdup(value), *parts[8];
    int n = copy ? cli_split_list(copy, parts, 8) : 0;
    c->synergy = 0;
    for (int k = 0; k < n; k++) {
        int bit = !strcmp(parts[k], "bliss")   ? SG_SYNERGY_BLISS
                  : !strcmp(parts[k], "loewe") ? SG_SYNERGY_LOEWE
                  : !strcmp(parts[k], "hsa")   ? SG_SYNERGY_HSA
                                               : 0;
        if (!bit) {
            cli_usage_error(c->command, "--synergy expects bliss, loewe and/or hsa separated "
                                        "by commas, got '%s'",
                            parts[k]);
            free(copy);
            return 2;
        }
        c->synergy |= bit;
    }
    free(copy);
    if (n == 0)
        return cli_usage_error(c->command,
                               "--synergy expects bliss, loewe and/or hsa separated by commas");
    return 0;
}

static const cli_option scan_options[] = {
    {"target", "NAME", "the parameter, species or compartment to vary (required)", parse_target},
    {"values", "V,V,...", "the values of NAME", parse_values},
    {"from", "A", "the first value of a range", parse_bound},
    {"to", "B", "the last value of a range", parse_bound},
    {"points", "N", "the number of values from A to B", parse_points},
    {"log", NULL, "values evenly spaced on a log scale (A and B positive)", parse_log},
    {"readout", "ID,ID,...", "the species or assignments to read (default: the scenario's "
                             "readouts, else every species)",
     parse_readout},
    {"at", "T[,T...]", "read at these times instead of the end (repeatable)", parse_at},
    {"jobs", "N", "simulations in parallel (default: one per core; 1: sequential)",
     parse_jobs},
    {"fit", "hill", "fit a four-parameter Hill curve to each readout (EC50/IC50, slope, bottom, "
                    "top on standard error)",
     parse_fit},
    {"fit-output", "FILE", "also write the fitted parameters as a table to FILE, one row per "
                           "readout, in the format of --format",
     parse_fit_output},
    {"target2", "NAME", "a second target: a two-dimensional grid in long format", parse_target},
    {"values2", "V,V,...", "the values of the second target", parse_values},
    {"from2", "A", "the first value of the second range", parse_bound},
    {"to2", "B", "the last value of the second range", parse_bound},
    {"points2", "N", "the number of values of the second range", parse_points},
    {"log2", NULL, "the second range on a log scale", parse_log},
    {"synergy", "bliss,loewe,hsa",
     "combination scores written as columns (default bliss); with --plot, heat maps and the "
     "50% isobole",
     parse_synergy},
    {NULL, NULL, NULL, NULL}};

static const cli_group scan_group = {"scan options", scan_options};
static const cli_group *const scan_groups[] = {&scan_group, &cli_experiment_group,
                                               &cli_plot_group, &cli_output_group,
                                               &cli_solver_group, NULL};

/* Significant digits of a grid value: twelve more than the spacing needs,
 * so neighbours stay distinct and the value is written as a person would
 * (a log grid from 0.1 to 1000 holds 0.1, not 0.10000000000000002; a
 * linear grid from 0 to 1 holds 0.3, not 0.30000000000000004). */
static int grid_digits(double v, double from, double to, long points, int log_scale)
{
    double spacing = log_scale ? pow(to / from, 1.0 / (double)(points - 1)) - 1.0
                               : fabs(to - from) / (double)(points - 1) / fmax(fabs(v), 1e-300);
    if (!(spacing > 0) || v == 0)
        return 15;
    int digits = (int)ceil(-log10(spacing)) + 12;
    return digits < 1 ? 1 : digits > 15 ? 15 : digits;
}

/* v rounded to `digits` significant digits: the value simulated and
 * written. */
static double grid_round(double v, int digits)
{
    char text[64];
    snprintf(text, sizeof text, "%.*g", digits, v);
    return strtod(text, NULL);
}

/* The values of a scan axis: a list, or from/to/points (log or linear).
 * Returns the count, or -1 after printing a usage error. */
static int axis_values(const char *opt, char *list, int has_from, double from, int has_to,
                       double to, int has_points, long points, int log_scale, double **out)
{
    *out = NULL;
    if (list) {
        if (has_from || has_to || has_points || log_scale)
            return cli_usage_error("scan", "use either %s or a range (from/to/points), not both", opt),
                   -1;
        int max = 1;
        for (const char *p = list; *p; p++)
            max += *p == ',';
        char **parts = malloc(sizeof *parts * (size_t)max);
        double *values = malloc(sizeof *values * (size_t)max);
        int count = parts && values ? cli_split_list(list, parts, max) : 0;
        for (int i = 0; i < count; i++)
            if (cli_parse_number("scan", opt, parts[i], &values[i])) {
                count = -2;
                break;
            }
        free(parts);
        if (count <= 0) {
            free(values);
            if (count == 0)
                cli_usage_error("scan", "%s expects numbers separated by commas", opt);
            return -1;
        }
        *out = values;
        return count;
    }
    if (!has_from || !has_to || !has_points)
        return cli_usage_error("scan", "give %s V,V,... or all of the from, to and points options",
                           opt),
               -1;
    if (log_scale && (from <= 0 || to <= 0)) {
        const char *axis = opt + strlen("--values"); /* "" or "2" */
        return cli_usage_error("scan", "--log%s needs positive --from%s and --to%s (got %g and %g)",
                           axis, axis, axis, from, to),
               -1;
    }
    if (points > 10000000)
        return cli_usage_error("scan", "a scan axis is limited to 10000000 points"), -1;
    int count = (int)points;
    double *values = malloc(sizeof *values * (size_t)count);
    if (!values)
        return cli_usage_error("scan", "out of memory"), -1;
    for (int i = 0; i < count; i++) {
        double f = (double)i / (double)(count - 1);
        values[i] = log_scale ? exp(log(from) + f * (log(to) - log(from))) : from + f * (to - from);
        values[i] = grid_round(values[i], grid_digits(values[i], from, to, count, log_scale));
    }
    values[0] = from;
    values[count - 1] = to;
    *out = values;
    return count;
}

/* A progress bar on standard error for scans longer than about a second,
 * only when standard error is a terminal. */
typedef struct progress {
    struct timespec start;
    double last_draw;
    int drawn;
} progress;

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + 1e-9 * (double)(now.tv_nsec - t0->tv_nsec);
}

static void show_progress(void *ctx, int done, int total)
{
    progress *p = ctx;
    double t = seconds_since(&p->start);
    if ((t < 1.0 && !p->drawn) || (t - p->last_draw < 0.1 && done < total))
        return;
    p->last_draw = t;
    p->drawn = 1;
    int width = 40, filled = (int)((double)width * done / (total > 0 ? total : 1));
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : ' ';
    bar[width] = '\0';
    double eta = done > 0 ? t * (total - done) / done : 0;
    fprintf(stderr, "\r[%s] %3d%% %d/%d points, %.0f s left ", bar,
            (int)(100.0 * done / (total > 0 ? total : 1)), done, total, eta);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* --fit-output: one row per readout column of the scan table; the values
 * are NaN where there is no fit (the reason is on standard error). */
static int write_fits(const cli *c, const sg_table *scan, const sg_hill_fit *fits)
{
    static const char *const names[] = {"ec50", "slope", "bottom", "top", "r2", "rmse",
                                        "decreasing"};
    sg_error err = {0};
    sg_table *t = sg_table_create(7, names, &err);
    for (int col = 1; t && col < sg_table_columns(scan); col++) {
        const sg_hill_fit *f = &fits[col - 1];
        double row[7] = {f->ec50, f->slope, f->bottom, f->top, f->r2, f->rmse, f->decreasing};
        if (!f->ok)
            for (int k = 0; k < 7; k++)
                row[k] = NAN;
        if (sg_table_add_row(t, row, &err) != SG_OK ||
            sg_table_set_note(t, "readout", col - 1, sg_table_column_name(scan, col), &err) !=
                SG_OK) {
            sg_table_free(t);
            t = NULL;
        }
    }
    int rc = t ? cli_write_table(c, t, c->fit_output) : cli_report(&err);
    sg_table_free(t);
    return rc;
}

int cli_run_scan(cli *c, sg_model *model, sg_experiment *exp, const char *target,
                    const double *values, int count, int log_scale, char **readouts,
                    int nreadouts, const double *values2, int count2)
{
    progress bar = {0};
    clock_gettime(CLOCK_MONOTONIC, &bar.start);
    sg_scan_spec spec = {.target = target, .values = values, .count = count,
                         .readouts = (const char *const *)readouts, .nreadouts = nreadouts,
                         .at = c->at, .nat = c->nat, .jobs = c->jobs,
                         .progress = isatty(STDERR_FILENO) ? show_progress : NULL,
                         .progress_ctx = &bar};
    sg_table *table = NULL;
    sg_error err = {0};
    sg_status st;
    if (c->target2) {
        sg_hill_fit *agents = calloc(2 * (size_t)nreadouts + 1, sizeof *agents);
        sg_scan2_spec spec2 = {spec, c->target2, values2, count2, c->synergy, agents};
        st = sg_scan2_run(model, &c->opt, exp, &spec2, &table, &err);
        for (int k = 0; agents && st == SG_OK && (c->synergy & SG_SYNERGY_LOEWE) &&
                        k < nreadouts;
             k++)
            for (int axis = 0; axis < 2; axis++) {
                const sg_hill_fit *f = &agents[2 * k + axis];
                const char *drug = axis ? c->target2 : target;
                if (f->ok)
                    fprintf(stderr, "loewe %s: %s alone: %s = %.4g %s, slope %.3g, R^2 = %.6f\n",
                            readouts[k], drug, f->decreasing ? "IC50" : "EC50", f->ec50,
                            sg_model_unit_of(model, drug), f->slope, f->r2);
                else
                    fprintf(stderr, "sigode: warning: loewe_%s is nan: %s alone has %s\n",
                            readouts[k], drug, f->why);
            }
        free(agents);
    } else {
        /* under mpirun: this rank's points (i mod K = rank), gathered on rank 0 */
        int ranks = study_mpi_size(), rank = study_mpi_rank(), mine = count;
        double *own = NULL;
        if (ranks > 1) {
            if (!(own = malloc(sizeof *own * (size_t)count))) {
                fprintf(stderr, "sigode: out of memory\n");
                return 2;
            }
            mine = 0;
            for (int i = rank; i < count; i += ranks)
                own[mine++] = values[i];
            spec.values = own;
            spec.count = mine;
        }
        st = mine > 0 ? sg_scan_run(model, &c->opt, exp, &spec, &table, &err) : SG_OK;
        free(own);
        if (study_gather_scan(count, &table, &st, &err) == 3) {
            sg_table_free(table);
            return 3; /* rank 0 writes */
        }
    }
    int rc = 0;
    if (table && st == SG_OK) {
        rc = cli_write_table(c, table, c->output);
    } else if (table) { /* some points failed: keep any previous good file */
        if (c->output) {
            size_t n = strlen(c->output) + 16;
            char *partial = malloc(n);
            if (partial) {
                snprintf(partial, n, "%s.partial", c->output);
                if (cli_write_table(c, table, partial) == 0)
                    fprintf(stderr, "sigode: the scan with its failed rows is in %s\n", partial);
                free(partial);
            }
        } else {
            cli_write_table(c, table, NULL);
        }
    }
    sg_hill_fit *fits = NULL;
    if (table && rc == 0 && c->fit_hill) {
        fits = calloc((size_t)sg_table_columns(table), sizeof *fits);
        if (fits)
            cli_fit_columns(model, table, target, fits);
        if (fits && c->fit_output)
            rc = write_fits(c, table, fits);
    }
    if (table && rc == 0 && c->plot && st == SG_OK)
        rc = c->target2 ? cli_plot_grid(c, model, table, nreadouts)
                        : cli_plot_table(c, model, table, target, log_scale, 1, fits, exp);
    free(fits);
    sg_table_free(table);
    if (st != SG_OK)
        return cli_report(&err);
    return rc;
}

/* The grid, made from the options before the model is loaded. */
static struct {
    double *values, *values2;
    int count, count2;
} grid;

/* Everything that can be checked without the model, before loading it. */
static int validate_scan(cli *c)
{
    if (!c->target)
        return cli_usage_error("scan", "--target NAME is required");
    if (c->fit_output && !c->fit_hill)
        return cli_usage_error("scan", "--fit-output needs --fit hill");
    if (cli_check_plot_options(c))
        return 2;
    if (c->target2 && (c->fit_hill || c->data))
        return cli_usage_error("scan", "--fit and --data apply to one-dimensional scans (a "
                                       "--target2 scan fits its single agents for --synergy "
                                       "loewe)");
    if (!c->target2 && c->synergy)
        return cli_usage_error("scan", "--synergy needs --target2 (a combination grid)");
    if (!c->target2 &&
        (c->values2_text || c->has_from2 || c->has_to2 || c->has_points2 || c->log2_scale))
        return cli_usage_error("scan", "--values2/--from2/--to2/--points2/--log2 need --target2");
    if (c->readout) {
        size_t n = strlen(c->readout);
        if (!n || c->readout[0] == ',' || c->readout[n - 1] == ',' || strstr(c->readout, ",,"))
            return cli_usage_error("scan", "--readout expects ids separated by commas");
    }
    grid.count = axis_values("--values", c->values_text, c->has_from, c->from, c->has_to, c->to,
                             c->has_points, c->points, c->log_scale, &grid.values);
    if (grid.count < 0)
        return 2;
    if (c->target2) {
        grid.count2 = axis_values("--values2", c->values2_text, c->has_from2, c->from2,
                                  c->has_to2, c->to2, c->has_points2, c->points2, c->log2_scale,
                                  &grid.values2);
        if (grid.count2 < 0)
            return 2;
    }
    if (c->fit_output && cli_check_output_path(c->fit_output, "the fit table"))
        return 2;
    return 0;
}

static int run_scan_command(cli *c)
{
    sg_model *model = c->model;
    double *values = grid.values, *values2 = grid.values2;
    int count = grid.count, count2 = grid.count2;
    grid.values = grid.values2 = NULL;
    sg_error err = {0};
    sg_experiment *exp = cli_make_experiment(c, model, &err);
    if (!exp) {
        free(values);
        free(values2);
        return cli_report(&err);
    }
    char **readouts = NULL;
    int nread = 0;
    if (c->readout && ((readouts = cli_split_alloc(c->readout, &nread)) == NULL || nread == 0)) {
        free(readouts);
        free(values);
        free(values2);
        sg_experiment_free(exp);
        return cli_usage_error("scan", "--readout expects ids separated by commas");
    }
    if (!c->readout) {
        const char *const *ids;
        nread = sg_experiment_readouts(exp, &ids);
        readouts = (char **)ids; /* the scenario's, not copied */
    }
    /* under mpirun (not for a --target2 grid, which runs on rank 0 alone) */
    int rc = c->target2 ? study_mpi_refuse_ranks("scan --target2") : study_mpi_init(NULL, NULL);
    if (rc == 0)
        rc = cli_run_scan(c, model, exp, c->target, values, count, c->log_scale, readouts, nread,
                          values2, count2);
    if (rc == 3)
        rc = 0;
    study_mpi_finalize();
    if (c->readout)
        free(readouts);
    free(values);
    free(values2);
    sg_experiment_free(exp);
    return rc;
}

const cli_command cli_cmd_scan = {
    "scan",
    "MODEL --target NAME (--values V,V,... | --from A --to B --points N [--log]) [options]",
    "Simulate once per value of a parameter, species or compartment and tabulate the readouts "
    "(a dose-response curve); with --target2, a two-dimensional grid.",
    scan_groups, CLI_NEEDS_MODEL, run_scan_command, validate_scan};

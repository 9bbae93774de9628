/*
 * Plots of an estimation, drawn by gnuplot: the waterfall (every start's
 * final nllh, best first) and the fit (data with error bars over the
 * simulated observables, one panel per observable, one colour per
 * condition). Data and script go to temporary files beside the plot; the
 * image is renamed over the destination only when gnuplot succeeded. Every
 * string in the script is made inert: control characters dropped, single
 * quotes doubled inside single-quoted gnuplot strings.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "petab.h"

static void inert(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f)
            continue;
        if (ch == '\'')
            fputc('\'', f);
        fputc(ch, f);
    }
    fputc('\'', f);
}

static char *find_gnuplot(void)
{
    const char *path = getenv("PATH");
    char *copy = sg_strdup(path ? path : "/usr/bin:/bin");
    if (!copy)
        return NULL;
    char *found = NULL, *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
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

typedef sg_status (*write_fn)(void *ctx, FILE *data, FILE *script, const char *data_path,
                              const char *image_path, sg_error *err);

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static sg_status draw(const char *path, write_fn write, void *ctx, sg_error *err)
{
    if (!ends_with(path, ".png") && !ends_with(path, ".svg"))
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "a plot file must end in .png or .svg, got '%s'", path);
    char *gnuplot = find_gnuplot();
    if (!gnuplot)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "cannot plot: gnuplot is not installed (Debian: gnuplot-nox; "
                            "scripts/bootstrap.sh installs it)");
    size_t n = strlen(path) + 32;
    char *data = sg_malloc(n), *script = sg_malloc(n), *image = sg_malloc(n);
    int fd_data = -1, fd_script = -1, fd_image = -1;
    FILE *fdata = NULL, *fscript = NULL;
    sg_status st = SG_OK;
    if (!data || !script || !image) {
        st = sg_error_nomem(err);
        goto done;
    }
    snprintf(data, n, "%s.dat.XXXXXX", path);
    snprintf(script, n, "%s.gp.XXXXXX", path);
    snprintf(image, n, "%s.tmp.XXXXXX", path);
    if ((fd_data = mkstemp(data)) < 0 || (fd_script = mkstemp(script)) < 0 ||
        (fd_image = mkstemp(image)) < 0) {
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write the plot: %s",
                          strerror(errno));
        goto done;
    }
    close(fd_image);
    fdata = fdopen(fd_data, "w");
    fscript = fdata ? fdopen(fd_script, "w") : NULL;
    if (!fdata || !fscript) {
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write the plot data");
        goto done;
    }
    fprintf(fscript, "set terminal %s noenhanced\nset output ",
            ends_with(path, ".svg") ? "svg size 1000,700 dynamic background rgb 'white'"
                                    : "pngcairo size 1000,700 font 'sans,10'");
    inert(fscript, image);
    fputs("\nset datafile missing 'nan'\nset grid\n", fscript);
    st = write(ctx, fdata, fscript, data, image, err);
    int bad = fclose(fdata) != 0;
    bad |= fclose(fscript) != 0;
    fdata = fscript = NULL;
    fd_data = fd_script = -1;
    if (st == SG_OK && bad)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write the plot data");
    if (st != SG_OK)
        goto done;
    pid_t pid = fork();
    if (pid == 0) {
        FILE *null = freopen("/dev/null", "w", stderr);
        (void)null;
        execl(gnuplot, "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct stat sb;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "gnuplot failed to draw the plot");
    else if (stat(image, &sb) != 0 || sb.st_size == 0)
        st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "gnuplot wrote an empty plot");
    else {
        chmod(image, 0644);
        if (rename(image, path) != 0)
            st = sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot write the plot: %s",
                              strerror(errno));
    }
done:
    if (fdata)
        fclose(fdata);
    else if (fd_data >= 0)
        close(fd_data);
    if (fscript)
        fclose(fscript);
    else if (fd_script >= 0)
        close(fd_script);
    if (fd_data >= 0 || fdata || data)
        unlink(data);
    if (script)
        unlink(script);
    if (st != SG_OK && image)
        unlink(image);
    sg_free(data);
    sg_free(script);
    sg_free(image);
    sg_free(gnuplot);
    return st;
}

/* ------------------------------------------------------------ waterfall */

typedef struct waterfall_ctx {
    const sg_fit_start *starts;
    int count;
} waterfall_ctx;

static sg_status write_waterfall(void *vctx, FILE *data, FILE *script, const char *data_path,
                                 const char *image, sg_error *err)
{
    waterfall_ctx *c = vctx;
    double best = c->starts[0].nllh;
    int ok = 0;
    for (int i = 0; i < c->count; i++)
        if (!c->starts[i].failed) {
            /* offset so the log axis shows the distance to the best start */
            fprintf(data, "%d %.17g\n", i + 1, c->starts[i].nllh - best + 1);
            ok++;
        }
    fputs("set title 'Waterfall: final objective of each start, best first'\n"
          "set xlabel 'start (sorted)'\nset ylabel 'nllh - best nllh + 1'\n"
          "set logscale y\nset key off\nplot ",
          script);
    inert(script, data_path);
    fputs(" using 1:2 with linespoints pt 7 ps 0.7 lw 1.5\n", script);
    (void)image;
    if (ok == 0)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "no successful start to plot");
    return SG_OK;
}

sg_status sg_petab_plot_waterfall(const sg_fit_start *starts, int count, const char *path,
                                  sg_error *err)
{
    waterfall_ctx c = {starts, count};
    return draw(path, write_waterfall, &c, err);
}

/* ------------------------------------------------------------------ fit */

typedef struct fit_ctx {
    const sg_petab *p;
    const sg_petab_curve *curves;
    int ncurves;
    const double *sims, *sigma;
} fit_ctx;

static void experiment_name(const sg_petab *p, int e, char *buf, size_t size)
{
    const sg_petab_experiment *x = &p->experiments[e];
    if (x->preeq >= 0)
        snprintf(buf, size, "%s (pre-eq. %s)", p->conditions[x->condition].id,
                 p->conditions[x->preeq].id);
    else
        snprintf(buf, size, "%s", p->conditions[x->condition].id);
}

static sg_status write_fit(void *vctx, FILE *data, FILE *script, const char *data_path,
                           const char *image, sg_error *err)
{
    fit_ctx *c = vctx;
    const sg_petab *p = c->p;
    (void)image;
    (void)err;
    /* blocks: each curve, then each (simulation, observable)'s data */
    int block = 0;
    int *curve_block = sg_malloc(sizeof(int) * ((size_t)c->ncurves + 1));
    if (!curve_block)
        return sg_error_nomem(err);
    for (int i = 0; i < c->ncurves; i++) {
        for (int k = 0; k < c->curves[i].npoints; k++)
            fprintf(data, "%.17g %.17g\n", c->curves[i].t[k], c->curves[i].y[k]);
        fputs("\n\n", data);
        curve_block[i] = block++;
    }
    int *data_block = sg_malloc(sizeof(int) * ((size_t)c->ncurves + 1));
    if (!data_block) {
        sg_free(curve_block);
        return sg_error_nomem(err);
    }
    for (int i = 0; i < c->ncurves; i++) {
        int any = 0;
        for (int r = 0; r < p->nmeasurements; r++) {
            const sg_petab_measurement *m = &p->measurements[r];
            if (m->experiment != c->curves[i].experiment ||
                m->observable != c->curves[i].observable || isinf(m->time))
                continue;
            int tr = p->observables[m->observable].transform;
            double s = c->sigma[r], y = m->value, lo, hi;
            if (tr == SG_SCALE_LOG) {
                lo = y * exp(-s);
                hi = y * exp(s);
            } else if (tr == SG_SCALE_LOG10) {
                lo = y * pow(10, -s);
                hi = y * pow(10, s);
            } else {
                lo = y - s;
                hi = y + s;
            }
            fprintf(data, "%.17g %.17g %.17g %.17g\n", m->time, y, lo, hi);
            any = 1;
        }
        if (!any)
            fputs("nan nan nan nan\n", data);
        fputs("\n\n", data);
        data_block[i] = block++;
    }
    int panels = 0;
    for (int o = 0; o < p->nobservables; o++)
        for (int i = 0; i < c->ncurves; i++)
            if (c->curves[i].observable == o) {
                panels++;
                break;
            }
    int across = panels <= 1 ? 1 : panels <= 4 ? 2 : 3;
    int down = (panels + across - 1) / across;
    if (down < 1)
        down = 1;
    fprintf(script, "set multiplot layout %d,%d title 'Fit: data (error bars: noise sigma) and "
                    "simulation'\nset key top right font ',8'\nset xlabel 'time'\n",
            down, across);
    for (int o = 0; o < p->nobservables; o++) {
        int first = 1;
        for (int i = 0; i < c->ncurves; i++) {
            if (c->curves[i].observable != o)
                continue;
            if (first) {
                fputs(p->observables[o].transform != SG_SCALE_LIN ? "set logscale y\n"
                                                                  : "unset logscale y\n",
                      script);
                fputs("set title ", script);
                inert(script, p->observables[o].id);
                fputs("\nplot ", script);
            } else {
                fputs(", ", script);
            }
            char name[300];
            experiment_name(p, c->curves[i].experiment, name, sizeof name);
            int color = c->curves[i].experiment % 8 + 1;
            inert(script, data_path);
            fprintf(script, " index %d using 1:2 with lines lw 2 lc %d title ", curve_block[i],
                    color);
            inert(script, name);
            fputs(", ", script);
            inert(script, data_path);
            fprintf(script, " index %d using 1:2:3:4 with yerrorbars pt 7 ps 0.6 lc %d notitle",
                    data_block[i], color);
            first = 0;
        }
        if (!first)
            fputc('\n', script);
    }
    fputs("unset multiplot\n", script);
    sg_free(curve_block);
    sg_free(data_block);
    return SG_OK;
}

sg_status sg_petab_plot_fit(const sg_petab *p, const double *x, const char *path, sg_error *err)
{
    sg_petab_eval *ev = sg_petab_eval_create(p, NULL, err);
    if (!ev)
        return err ? err->status : SG_ERR_NOMEM;
    double *sigma = sg_malloc(sizeof(double) * ((size_t)p->nmeasurements + 1));
    sg_petab_curve *curves = NULL;
    int ncurves = 0;
    sg_status st = sigma ? SG_OK : sg_error_nomem(err);
    if (st == SG_OK)
        st = sg_petab_sigmas(ev, x, sigma, err);
    if (st == SG_OK)
        st = sg_petab_curves(ev, x, 201, &curves, &ncurves, err);
    if (st == SG_OK) {
        fit_ctx c = {p, curves, ncurves, NULL, sigma};
        st = draw(path, write_fit, &c, err);
    }
    sg_petab_curves_free(curves, ncurves);
    sg_free(sigma);
    sg_petab_eval_free(ev);
    return st;
}

/* ------------------------------------------------------------- profiles */

typedef struct profile_ctx {
    const sg_petab *p;
    const sg_profile *pr;
    int count;
    double fopt;
} profile_ctx;

static sg_status write_profiles(void *vctx, FILE *data, FILE *script, const char *data_path,
                                const char *image, sg_error *err)
{
    profile_ctx *c = vctx;
    (void)image;
    (void)err;
    for (int i = 0; i < c->count; i++) {
        for (int k = 0; k < c->pr[i].npoints; k++)
            fprintf(data, "%.17g %.17g\n", c->pr[i].value[k], c->pr[i].nllh[k] - c->fopt);
        if (c->pr[i].npoints == 0)
            fputs("nan nan\n", data);
        fputs("\n\n", data);
    }
    int across = c->count <= 1 ? 1 : c->count <= 4 ? 2 : 3;
    int down = (c->count + across - 1) / across;
    fprintf(script, "set multiplot layout %d,%d title 'Profile likelihoods (dashed: 95%% "
                    "threshold %.3f)'\nset key off\nset ylabel 'nllh - optimum'\n",
            down < 1 ? 1 : down, across, sg_profile_threshold());
    for (int i = 0; i < c->count; i++) {
        const sg_petab_param *q = &c->p->params[c->pr[i].param];
        char label[300];
        snprintf(label, sizeof label, "%s (%s scale)", q->id,
                 q->scale == SG_SCALE_LOG ? "log" : q->scale == SG_SCALE_LOG10 ? "log10" : "lin");
        fputs("set xlabel ", script);
        inert(script, label);
        fputs("\nplot ", script);
        inert(script, data_path);
        fprintf(script, " index %d using 1:2 with linespoints pt 7 ps 0.5 lw 2, %.17g with "
                        "lines dt 2 lc rgb 'red'\n",
                i, sg_profile_threshold());
    }
    fputs("unset multiplot\n", script);
    return SG_OK;
}

sg_status sg_petab_plot_profiles(const sg_petab *p, const sg_profile *pr, int count, double fopt,
                                 const char *path, sg_error *err)
{
    profile_ctx c = {p, pr, count, fopt};
    return draw(path, write_profiles, &c, err);
}

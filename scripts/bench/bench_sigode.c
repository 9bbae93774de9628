/*
 * Times sigode through its public API, without process start or output:
 *
 *   bench_sigode MODEL [--scenario ID] [--set NAME=VALUE]... [--t-end T]
 *                [--points N] [--rtol X] [--atol X] [--linear-solver auto|dense|klu]
 *                [--backend vm|native]
 *                [--min-reps N] [--max-reps N] [--min-seconds S] [--out FILE.csv]
 *
 * Loads and compiles the model once (timed: load_s; the native backend's
 * C compile or cache look-up apart: backend_s), then repeats
 * sg_sim_run on one sg_sim (the first run initialises CVODE, later ones
 * re-initialise it, as a scan does) and reports the minimum and median wall
 * time per simulation, CVODE's counters, and the peak resident memory, as
 * one JSON line on standard output. --out writes the last trajectory's
 * states (time, then the non-constant species in file order) as CSV.
 */
#include <sigode.h>

#include "bench_common.h"

static void die(const char *what, const sg_error *err)
{
    char buf[1200];
    sg_error_format(err, buf, sizeof buf);
    fprintf(stderr, "bench_sigode: %s: %s\n", what, buf);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sigode MODEL [options] (see the source)\n");
        return 2;
    }
    const char *path = argv[1], *scenario = NULL, *out = NULL;
    const char *set_name[64];
    double set_value[64];
    int nset = 0;
    double t_end = -1, rtol = -1, atol = -1, min_seconds = 1.0;
    long points = -1;
    int min_reps = 3, max_reps = 10000, load_only = 0;
    sg_backend backend = SG_BACKEND_VM;
    sg_options opt;
    sg_options_default(&opt);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench_sigode: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--scenario"))
            scenario = v;
        else if (!strcmp(a, "--set")) {
            const char *eq = strchr(v, '=');
            if (!eq || nset == 64) {
                fprintf(stderr, "bench_sigode: --set expects NAME=VALUE\n");
                return 2;
            }
            set_name[nset] = strndup(v, (size_t)(eq - v));
            set_value[nset++] = bench_number("--set", eq + 1);
        } else if (!strcmp(a, "--t-end"))
            t_end = bench_number(a, v);
        else if (!strcmp(a, "--points"))
            points = (long)bench_number(a, v);
        else if (!strcmp(a, "--rtol"))
            rtol = bench_number(a, v);
        else if (!strcmp(a, "--atol"))
            atol = bench_number(a, v);
        else if (!strcmp(a, "--linear-solver"))
            opt.linear_solver = !strcmp(v, "dense") ? SG_LINSOL_DENSE
                                : !strcmp(v, "klu") ? SG_LINSOL_KLU
                                                    : SG_LINSOL_AUTO;
        else if (!strcmp(a, "--backend"))
            backend = !strcmp(v, "native") ? SG_BACKEND_NATIVE : SG_BACKEND_VM;
        else if (!strcmp(a, "--min-reps"))
            min_reps = (int)bench_number(a, v);
        else if (!strcmp(a, "--max-reps"))
            max_reps = (int)bench_number(a, v);
        else if (!strcmp(a, "--min-seconds"))
            min_seconds = bench_number(a, v);
        else if (!strcmp(a, "--out"))
            out = v;
        else if (!strcmp(a, "--load-only"))
            load_only = !strcmp(v, "yes");
        else {
            fprintf(stderr, "bench_sigode: unknown option %s\n", a);
            return 2;
        }
    }
    if (rtol > 0)
        opt.rtol = rtol;
    if (atol > 0)
        opt.atol = atol;

    sg_error err;
    double t0 = bench_now();
    sg_model *m = sg_model_load_file(path, &err);
    double load_s = bench_now() - t0;
    if (!m)
        die("load", &err);
    long rss_load = bench_peak_rss_kib();
    t0 = bench_now();
    if (sg_model_set_backend(m, backend, &err) != SG_OK)
        die("backend", &err);
    double backend_s = bench_now() - t0;
    if (load_only) {
        /* load+compile in a fresh process, as a user's first command */
        printf("{\"tool\": \"sigode\", \"load_s\": %.6g, \"backend_s\": %.6g, "
               "\"peak_rss_kib\": %ld}\n",
               load_s, backend_s, bench_peak_rss_kib());
        sg_model_free(m);
        return 0;
    }

    sg_experiment *exp = sg_experiment_create(m, scenario, &err);
    if (!exp)
        die("experiment", &err);
    for (int k = 0; k < nset; k++)
        if (sg_experiment_set_value(exp, set_name[k], set_value[k], &err) != SG_OK)
            die("--set", &err);
    if (t_end > 0 && sg_experiment_set_t_end(exp, t_end, &err) != SG_OK)
        die("--t-end", &err);
    if (points > 0 && sg_experiment_set_points(exp, points, &err) != SG_OK)
        die("--points", &err);

    t0 = bench_now();
    sg_sim *sim = sg_sim_create(m, &opt, &err);
    double create_s = bench_now() - t0;
    if (!sim)
        die("sim", &err);

    double *times = malloc(sizeof(double) * (size_t)max_reps);
    int reps = 0;
    double spent = 0, first_s = 0;
    sg_trajectory *traj = NULL;
    while (reps < max_reps && (reps < min_reps || spent < min_seconds)) {
        sg_trajectory_free(traj);
        traj = NULL;
        t0 = bench_now();
        sg_status st = sg_sim_run(sim, exp, &traj, &err);
        double dt = bench_now() - t0;
        if (st != SG_OK)
            die("run", &err);
        if (reps == 0)
            first_s = dt; /* includes CVodeInit */
        times[reps++] = dt;
        spent += dt;
    }
    sg_stats s;
    sg_sim_stats(sim, &s);

    if (out) {
        FILE *f = fopen(out, "w");
        if (!f) {
            perror(out);
            return 1;
        }
        int ns = sg_model_species_count(m);
        fprintf(f, "time");
        for (int i = 0; i < ns; i++)
            if (!sg_model_species_is_constant(m, i))
                fprintf(f, ",%s", sg_model_species_id(m, i));
        fprintf(f, "\n");
        for (int r = 0; r < sg_trajectory_rows(traj); r++) {
            fprintf(f, "%.17g", sg_trajectory_time(traj, r));
            for (int i = 0; i < ns; i++)
                if (!sg_model_species_is_constant(m, i))
                    fprintf(f, ",%.17g", sg_trajectory_value(traj, r, i));
            fprintf(f, "\n");
        }
        fclose(f);
    }
    double min = times[0];
    for (int k = 1; k < reps; k++)
        if (times[k] < min)
            min = times[k];
    double median = bench_median(times, reps);
    printf("{\"tool\": \"sigode\", \"model\": \"%s\", \"states\": %d, \"reactions\": %d, "
           "\"backend\": \"%s\", \"backend_s\": %.6g, \"load_s\": %.6g, \"create_s\": %.6g, \"first_s\": %.6g, \"sim_min_s\": %.6g, "
           "\"sim_median_s\": %.6g, \"reps\": %d, \"steps\": %ld, \"rhs\": %ld, \"jac\": %ld, "
           "\"setups\": %ld, \"etf\": %ld, \"nlf\": %ld, \"sparse\": %d, "
           "\"rss_load_kib\": %ld, \"peak_rss_kib\": %ld, \"rtol\": %g, \"atol\": %g}\n",
           sg_model_name(m), sg_model_state_count(m), sg_model_reaction_count(m),
           sg_model_backend(m) == SG_BACKEND_NATIVE ? "native" : "vm", backend_s, load_s,
           create_s, first_s, min, median, reps, s.steps, s.rhs_evals, s.jac_evals, s.lin_setups,
           s.err_test_fails, s.nonlin_fails, s.sparse, rss_load, bench_peak_rss_kib(), opt.rtol,
           opt.atol);
    sg_trajectory_free(traj);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    sg_model_free(m);
    free(times);
    return 0;
}

/* A program written against the installed library only: built by
 * tests/install/install_test.sh with `pkg-config --cflags --libs sigode`.
 * A -> B at rate k*A from A = 1: A(t) = exp(-k t); prints |error| at t = 2.
 * With a second argument, also writes the model there as SBML and runs the
 * model read back from it (libsigode.so opens its SBML module, installed
 * in <libdir>/sigode), which must give the same A(2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sigode.h>

/* A(2), or NAN with the error printed. */
static double a_at_2(const sg_model *m)
{
    sg_error err = {0};
    sg_options opt;
    sg_options_default(&opt);
    sg_experiment *e = sg_experiment_create(m, NULL, &err);
    sg_sim *sim = e && !sg_experiment_set_t_end(e, 2.0, &err) ? sg_sim_create(m, &opt, &err) : NULL;
    sg_trajectory *traj = NULL;
    if (!sim || sg_sim_run(sim, e, &traj, &err) != SG_OK)
        return fprintf(stderr, "decay: %s\n", err.message), NAN;
    sg_table *t = sg_trajectory_table(traj, NULL, 0, &err);
    double a = sg_table_get(t, sg_table_rows(t) - 1, 1);
    sg_table_free(t), sg_trajectory_free(traj), sg_sim_free(sim), sg_experiment_free(e);
    return a;
}

int main(int argc, char **argv)
{
    sg_error err = {0};
    sg_model *m = argc > 1 ? sg_model_load_file(argv[1], &err) : NULL;
    if (!m)
        return fprintf(stderr, "decay: %s\n", err.message), 1;
    double a = a_at_2(m);
    printf("sigode %s: A(2) = %.9f, error %.1e\n", SIGODE_VERSION, a, fabs(a - exp(-2.0)));
    int ok = fabs(a - exp(-2.0)) < 1e-5;
    if (ok && argc > 2) {
        char *xml = sg_model_to_sbml(m, &err);
        FILE *f = xml ? fopen(argv[2], "w") : NULL;
        int written = f && fputs(xml, f) != EOF;
        free(xml);
        if (f && fclose(f) != 0)
            written = 0;
        sg_model *back = written ? sg_model_load_sbml(argv[2], &err) : NULL;
        if (!back)
            return fprintf(stderr, "decay: SBML: %s\n", err.message), 1;
        double b = a_at_2(back);
        printf("read back from SBML: A(2) = %.9f\n", b);
        ok = b == a;
        sg_model_free(back);
    }
    sg_model_free(m);
    return ok ? 0 : 1;
}

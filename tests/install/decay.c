/* A program written against the installed library only: built by
 * tests/install/install_test.sh with `pkg-config --cflags --libs sigode`.
 * A -> B at rate k*A from A = 1: A(t) = exp(-k t); prints |error| at t = 2. */
#include <math.h>
#include <stdio.h>
#include <sigode.h>

int main(int argc, char **argv)
{
    sg_error err = {0};
    sg_options opt;
    sg_options_default(&opt);
    sg_model *m = argc > 1 ? sg_model_load_file(argv[1], &err) : NULL;
    sg_experiment *e = m ? sg_experiment_create(m, NULL, &err) : NULL;
    sg_sim *sim = e && !sg_experiment_set_t_end(e, 2.0, &err) ? sg_sim_create(m, &opt, &err) : NULL;
    sg_trajectory *traj = NULL;
    if (!sim || sg_sim_run(sim, e, &traj, &err) != SG_OK)
        return fprintf(stderr, "decay: %s\n", err.message), 1;
    sg_table *t = sg_trajectory_table(traj, NULL, 0, &err);
    double a = sg_table_get(t, sg_table_rows(t) - 1, 1);
    printf("sigode %s: A(2) = %.9f, error %.1e\n", SIGODE_VERSION, a, fabs(a - exp(-2.0)));
    sg_table_free(t), sg_trajectory_free(traj), sg_sim_free(sim), sg_experiment_free(e), sg_model_free(m);
    return fabs(a - exp(-2.0)) < 1e-5 ? 0 : 1;
}

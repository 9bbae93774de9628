/* The SBML module seen from inside a process (src/util/module.c): loading
 * and running a model file maps no libsbml; the first SBML export opens
 * the module (and libsbml with it), and the model read back from that SBML
 * runs to the same values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sigode.h"

/* Whether this process has a file whose name contains `part` mapped. */
static int mapped(const char *part)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof line, f))
        found |= strstr(line, part) != NULL;
    fclose(f);
    return found;
}

static const char MODEL[] =
    "name = \"decay\";\n"
    "parameters = ( { id = \"k\"; value = 0.7; } );\n"
    "species = ( { id = \"A\"; initial = 2.0; }, { id = \"B\"; initial = 0.0; } );\n"
    "reactions = ( { id = \"r\"; equation = \"A -> B\"; rate = \"k * A\"; } );\n";

/* A at the last row of a run to t = 3. */
static double last_a(sg_model *m)
{
    sg_error err;
    sg_experiment *e = sg_experiment_create(m, NULL, &err);
    assert_non_null(e);
    assert_int_equal(sg_experiment_set_t_end(e, 3.0, &err), SG_OK);
    sg_sim *sim = sg_sim_create(m, NULL, &err);
    assert_non_null(sim);
    sg_trajectory *traj = NULL;
    assert_int_equal(sg_sim_run(sim, e, &traj, &err), SG_OK);
    double a = sg_trajectory_value(traj, sg_trajectory_rows(traj) - 1,
                                   sg_trajectory_find_column(traj, "A"));
    sg_trajectory_free(traj);
    sg_sim_free(sim);
    sg_experiment_free(e);
    return a;
}

static void sbml_loaded_on_first_use(void **state)
{
    (void)state;
    sg_error err;
    sg_model *m = sg_model_load_buffer(MODEL, strlen(MODEL), "decay.cfg", &err);
    assert_non_null(m);
    double a = last_a(m);
    assert_true(fabs(a - 2.0 * exp(-0.7 * 3.0)) < 1e-5);
    assert_false(mapped("libsbml"));
    assert_false(mapped("sigode-sbml.so"));

    char *xml = sg_model_to_sbml(m, &err);
    assert_non_null(xml);
    assert_true(mapped("sigode-sbml.so"));
    assert_true(mapped("libsbml"));

    char path[] = "/tmp/sigode-test-modules-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
    close(fd);
    free(xml);
    sg_model *back = sg_model_load_sbml(path, &err);
    unlink(path);
    assert_non_null(back);
    assert_true(fabs(last_a(back) - a) <= 1e-9 * fabs(a));
    sg_model_free(back);
    sg_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sbml_loaded_on_first_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Fuzz target: the event machinery. The input is a table of up to six
 * model events on a small model (X grows at rate 1, Y is constant), four
 * bytes each: which species the trigger watches, its comparison and
 * threshold, the species assigned and the value (a number or an
 * expression of X and Y), and the flags persistent, initial_value,
 * use_values_from_trigger_time, then a delay (none, 0.5, "X": negative
 * when X is, or 0) and a priority (none, 1, "X", -1).
 *
 * Oracle: the run ends, and either succeeds with finite values or fails
 * with a message; never a crash. Events that trigger each other without
 * end at one instant (a silent cascade) must end in an error, never in a
 * success: the target checks this for the one cascade it can tell for
 * sure, two events each making the other's trigger rise
 * ("X > a -> X = lo" with "X < b -> X = hi", lo < b < a < hi).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigode.h"

static const char *const delays[] = {"", " delay = 0.5;", " delay = \"X\";", " delay = 0;"};
static const char *const priorities[] = {"", " priority = 1;", " priority = \"X\";",
                                         " priority = -1;"};

static const char *const values[] = {"0", "1", "2", "0.5", "X + 1", "X - 1", "Y", "2 * X",
                                     "Y + 1", "-1", "10", "X / 2", "1e300", "X * X", "3",
                                     "time"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t nevents = size / 4 > 6 ? 6 : size / 4;
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text,
                                "name = \"ev\";\n"
                                "species = ( { id = \"X\"; initial = 0.0; },\n"
                                "            { id = \"Y\"; initial = 0.0; constant = true; } );\n"
                                "reactions = ( { id = \"grow\"; equation = \"-> X\"; "
                                "rate = \"1\"; } );\n"
                                "scenarios = ( { id = \"s\"; t_end = 4.0; points = 5; } );\n");
    if (nevents)
        n += (size_t)snprintf(text + n, sizeof text - n, "events = (\n");
    for (size_t k = 0; k < nevents; k++) {
        const uint8_t *b = data + 4 * k;
        const char *watch = b[0] & 1 ? "Y" : "X";
        const char *cmp = (b[0] >> 1) & 1 ? ">" : "<";
        double threshold = (b[1] % 16) * 0.5 - 1;
        const char *target = "X"; /* Y is constant: only X may be assigned */
        const char *value = values[b[2] % 16];
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "  { id = \"e%zu\"; trigger = \"%s %s %g\"; assign = { %s = "
                              "\"%s\"; }; persistent = %s; initial_value = %s; "
                              "use_values_from_trigger_time = %s;%s%s }%s\n",
                              k, watch, cmp, threshold, target, value,
                              b[3] & 1 ? "true" : "false", b[3] & 2 ? "true" : "false",
                              b[3] & 4 ? "true" : "false", delays[(b[3] >> 3) & 3],
                              priorities[(b[3] >> 5) & 3], k + 1 < nevents ? "," : "");
    }
    if (nevents)
        n += (size_t)snprintf(text + n, sizeof text - n, ");\n");
    sg_error err;
    sg_model *m = sg_model_load_buffer(text, n, "events.cfg", &err);
    if (!m)
        return 0;
    /* the one cascade that is sure: a pair of events re-raising each other */
    int cascade = 0;
    for (size_t i = 0; i < nevents; i++)
        for (size_t j = 0; j < nevents; j++) {
            const uint8_t *a = data + 4 * i, *c = data + 4 * j;
            double ta = (a[1] % 16) * 0.5 - 1, tc = (c[1] % 16) * 0.5 - 1;
            const char *va = values[a[2] % 16], *vc = values[c[2] % 16];
            char *end;
            double lo = strtod(va, &end);
            int lo_number = *end == '\0';
            double hi = strtod(vc, &end);
            int hi_number = *end == '\0';
            /* i: X > ta -> X = lo; j: X < tc -> X = hi, reachable as X grows;
             * both without a delay (or a delay of 0): all at one instant */
            int at_once = ((a[3] >> 3) & 3) % 3 == 0 && ((c[3] >> 3) & 3) % 3 == 0;
            if (at_once && !(a[0] & 1) && ((a[0] >> 1) & 1) && !(c[0] & 1) && !((c[0] >> 1) & 1) &&
                lo_number && hi_number && lo < tc && tc < ta && ta < hi && ta > 0 && ta < 4)
                cascade = 1;
        }
    sg_options opt;
    sg_options_default(&opt);
    sg_experiment *exp = sg_experiment_create(m, NULL, &err);
    sg_sim *sim = exp ? sg_sim_create(m, &opt, &err) : NULL;
    sg_trajectory *traj = NULL;
    sg_status st = sim ? sg_sim_run(sim, exp, &traj, &err) : err.status;
    if (st == SG_OK && cascade)
        abort(); /* a cascade without end passed in silence */
    if (st != SG_OK && !err.message[0])
        abort(); /* a failure says why */
    sg_trajectory_free(traj);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    sg_model_free(m);
    return 0;
}

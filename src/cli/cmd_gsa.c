/* sigode gsa: see below (placeholder replaced in the next step). */
#include "study.h"
int cmd_gsa(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return study_usage("gsa", "not built yet");
}

/*
 * Fuzz target: the command line. The input is an argument vector, one
 * argument per line; a small valid model is m.cfg in the working folder
 * (a fresh temporary folder).
 *
 * Oracle: the exit status is 0, 1 or 2 (the documented ones), never a
 * crash. Arguments are filtered so a run stays short and inside its
 * folder: none holds a '/', none names a plot (gnuplot is slow), no
 * number above 10^4 (points, values, steps).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sigode_cli_main(int argc, char **argv);

static const char model[] =
    "name = \"base\";\n"
    "parameters = ( { id = \"k1\"; value = 1.0; }, { id = \"k2\"; value = 0.5; } );\n"
    "species = ( { id = \"A\"; initial = 1.0; }, { id = \"B\"; initial = 0.0; } );\n"
    "assignments = ( { id = \"total\"; value = \"A + B\"; } );\n"
    "reactions = ( { id = \"r1\"; equation = \"A -> B\"; rate = \"k1 * A\"; },\n"
    "              { id = \"r2\"; equation = \"B ->\"; rate = \"k2 * B\"; } );\n"
    "scenarios = ( { id = \"baseline\"; t_end = 10.0; points = 11;\n"
    "                events = ( { at = 5.0; add = { A = 1.0; }; } ); } );\n"
    "checks = ( { id = \"c\"; scenario = \"baseline\"; expect = \"A(10) < 1\"; } );\n";

/* Whether the argument could make a run long or reach outside the folder. */
static int unsafe(const char *a)
{
    if (strchr(a, '/') || strstr(a, "plot") || strstr(a, "jobs"))
        return 1;
    for (const char *p = a; *p; p++)
        if (*p >= '0' && *p <= '9') {
            char *end;
            double v = strtod(p, &end);
            if (end > p && (v > 1e4 || v < -1e4))
                return 1;
            p = end > p ? end - 1 : p;
        }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        char dir[] = "/tmp/sigode-fuzz-cli-XXXXXX";
        if (!mkdtemp(dir) || chdir(dir) != 0)
            abort();
        FILE *f = fopen("m.cfg", "w");
        if (!f || fputs(model, f) < 0 || fclose(f) != 0)
            abort();
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            abort();
        ready = 1;
    }
    if (size > 2000)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[34] = {"sigode"};
    int argc = 1;
    for (char *line = text; line && argc < 33;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (memchr(line, '\0', (size_t)(text + size - line)) != line + strlen(line) && !nl)
            break;
        if (unsafe(line)) {
            free(text);
            return 0;
        }
        argv[argc++] = line;
        line = nl ? nl + 1 : NULL;
    }
    argv[argc] = NULL;
    optind = 0; /* getopt_long starts afresh */
    int rc = sigode_cli_main(argc, argv);
    fflush(stdout);
    if (rc != 0 && rc != 1 && rc != 2)
        abort();
    free(text);
    return 0;
}

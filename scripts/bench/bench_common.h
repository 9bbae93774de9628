/*
 * Small helpers shared by the two benchmark drivers (bench_sigode.c and
 * handc.c): a monotonic clock, peak memory, option parsing, output times
 * exactly as sigode computes them, and the JSON result line.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Peak resident set size of this program so far, in KiB: VmHWM of
 * /proc/self/status (getrusage's ru_maxrss would include the memory of the
 * process that started this one: Linux keeps it across fork and exec). */
static long bench_peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    if (kib < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kib = ru.ru_maxrss;
    }
    return kib;
}

static double bench_number(const char *opt, const char *text)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end) {
        fprintf(stderr, "%s expects a number, got '%s'\n", opt, text);
        exit(2);
    }
    return v;
}

static int bench_double_order(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Sorts `t` in place and returns its median. */
static double bench_median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, bench_double_order);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* The i-th of `points` output times, the formula of sg_sim_run. */
static double bench_output_time(double t0, double t1, long i, long points)
{
    if (i == points - 1)
        return t1;
    return t0 + (t1 - t0) * (double)i / (double)(points - 1);
}

/* Repetitions: at least `min_reps`, and more until `min_seconds` of runs
 * have been timed, at most `max_reps`. */
typedef struct bench_reps {
    int min_reps, max_reps;
    double min_seconds;
} bench_reps;

#endif

/* Helpers shared by the unit tests (see support.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

char *ts_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int ts_write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t put = fwrite(text, 1, len, f);
    return fclose(f) == 0 && put == len ? 0 : -1;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **ts_model_files(int *count)
{
    static const char *const patterns[] = {SIGODE_SOURCE_DIR "/models/*.cfg",
                                           SIGODE_SOURCE_DIR "/models/examples/*.cfg"};
    char **list = NULL;
    int n = 0;
    for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
        glob_t g;
        if (glob(patterns[p], 0, NULL, &g) != 0)
            continue;
        list = realloc(list, sizeof *list * (size_t)(n + (int)g.gl_pathc + 1));
        for (size_t i = 0; i < g.gl_pathc; i++)
            list[n++] = strdup(g.gl_pathv[i]);
        globfree(&g);
    }
    if (n > 1)
        qsort(list, (size_t)n, sizeof *list, compare_strings);
    *count = n;
    return list;
}

void ts_free_list(char **list, int count)
{
    for (int i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

char *ts_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl;
    if (asprintf(&tmpl, "%s/sigode-test-XXXXXX", base && *base ? base : "/tmp") < 0)
        return NULL;
    if (!mkdtemp(tmpl)) {
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

void ts_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *p = ts_path(dir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

char *ts_path(const char *dir, const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    return p;
}

static char *slurp_fd(int fd)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    return buf;
}

int ts_run(const char *const *argv, char **out, char **err)
{
    return ts_run_env(argv, NULL, out, err);
}

int ts_run_env(const char *const *argv, const char *const *env, char **out, char **err)
{
    char out_name[] = "/tmp/sigode-out-XXXXXX", err_name[] = "/tmp/sigode-err-XXXXXX";
    int fo = mkstemp(out_name), fe = mkstemp(err_name);
    assert_true(fo >= 0 && fe >= 0);
    unlink(out_name);
    unlink(err_name);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fo, 1);
        dup2(fe, 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        if (env)
            execve(argv[0], (char *const *)argv, (char *const *)env);
        else
            execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (out)
        *out = slurp_fd(fo);
    if (err)
        *err = slurp_fd(fe);
    close(fo);
    close(fe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

sg_model *ts_load_text(const char *text)
{
    sg_error err;
    sg_model *m = sg_model_load_buffer(text, strlen(text), "<test>", &err);
    if (!m) {
        char msg[1200];
        sg_error_format(&err, msg, sizeof msg);
        fail_msg("model did not load: %s", msg);
    }
    return m;
}

sg_trajectory *ts_run_with(const sg_model *m, const char *scenario, const sg_options *opt,
                           sg_stats *stats)
{
    sg_error err;
    char msg[1200];
    sg_experiment *exp = sg_experiment_create(m, scenario, &err);
    sg_sim *sim = exp ? sg_sim_create(m, opt, &err) : NULL;
    sg_trajectory *traj = NULL;
    sg_status st = sim ? sg_sim_run(sim, exp, &traj, &err) : err.status;
    if (st != SG_OK) {
        sg_error_format(&err, msg, sizeof msg);
        fail_msg("run of '%s' failed: %s", scenario ? scenario : "(default)", msg);
    }
    if (stats)
        sg_sim_stats(sim, stats);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    return traj;
}

sg_trajectory *ts_run_scenario(const sg_model *m, const char *scenario, double rtol,
                               double atol)
{
    sg_options opt;
    sg_options_default(&opt);
    opt.rtol = rtol;
    opt.atol = atol;
    return ts_run_with(m, scenario, &opt, NULL);
}

double ts_rel(double a, double b, double floor)
{
    double scale = fabs(b) > floor ? fabs(b) : floor;
    return fabs(a - b) / scale;
}

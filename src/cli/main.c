/*
 * The sigode command line. The only part of sigode that prints to the
 * terminal or decides an exit status:
 *   0 success, 1 the solver failed (or a check failed), 2 bad usage or model.
 */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sigode.h"
#include "study.h"

static const char usage_text[] =
    "usage: sigode <command> MODEL [options]\n"
    "\n"
    "commands:\n"
    "  run    MODEL [--scenario ID] [--t-end T] [--points N] [--set NAME=VALUE]...\n"
    "               [--select ID,ID,...] [--output FILE] [--format csv|tsv|json]\n"
    "               [--rtol X] [--atol X] [--max-steps N] [--linear-solver auto|dense|klu]\n"
    "               [--backend auto|vm|native]\n"
    "               [--stats] [--plot FILE.png|FILE.svg] [--preequilibrate] [--event T:NAME=V[:every=I][:count=N]]...\n"
    "               (an event NAME+=V adds V instead of setting it)\n"
    "  scan   MODEL --target NAME (--values V,V,... | --from A --to B --points N [--log])\n"
    "               [--readout ID,ID,...] [--at T]... [--jobs N] [--fit hill] [--plot FILE]\n"
    "               [--target2 NAME (--values2 ... | --from2 A --to2 B --points2 N [--log2])]\n"
    "               [other run options]\n"
    "  steady MODEL [--scenario ID] [--set NAME=VALUE]... [--select ...] [--format ...]\n"
    "               steady state: Newton (KINSOL) with conservation laws, else integration\n"
    "  graph  MODEL   the network as a Graphviz digraph (pipe into dot -Tsvg)\n"
    "  check  MODEL   load and validate only\n"
    "  info   MODEL   species, parameters, reactions, stoichiometry summary\n"
    "  verify MODEL [--rtol X] [--atol X] [--max-steps N] [--linear-solver ...] [--backend ...]\n"
    "               run the model's checks; one line per check, exit 0 only if all pass\n"
    "  convert MODEL --to cfg|sbml [--output FILE]\n"
    "               an SBML file as a sigode model, or a sigode model as SBML L3V2\n"
    "  ensemble MODEL --samples N [--scenario ID | --target NAME (--values ...|--from A --to B\n"
    "               --points N [--log])] [--seed S] [--sampler sobol|lhs|random]\n"
    "               [--params ID,...|all] [--readout ID,...] [--quantiles Q,Q,...]\n"
    "               [--preequilibrate] [--fit hill] [--samples-output FILE] [--plot FILE]\n"
    "               [--checkpoint FILE [--resume]] [--jobs N] [other run options]\n"
    "               quantile bands over samples of the model's uncertain quantities\n"
    "  gsa    MODEL --method sobol|morris [--samples N] [--readout ID@T,...] [--seed S]\n"
    "               [--params ...] [--levels P] [--bootstrap B] [--confidence C] [--plot FILE]\n"
    "               [--checkpoint FILE [--resume]] [--jobs N] [other run options]\n"
    "               Sobol indices (Saltelli design, Jansen estimators, bootstrap intervals)\n"
    "               or Morris elementary effects (mu*, sigma)\n"
    "  (ensemble and gsa share their work among the ranks of 'mpirun -np K sigode ...')\n"
    "\n"
    "MODEL is a sigode model file, or an SBML file (.xml, .sbml), imported on the fly.\n"
    "\n"
    "exit status: 0 success; 1 the solver failed or a check failed; 2 bad usage or model\n";

/* --backend: the instruction program, compiled C, or the choice of
 * choose_backend() */
enum { BACKEND_AUTO = 0, BACKEND_VM, BACKEND_NATIVE };

typedef struct cli {
    const char *command;
    const char *model_path;
    const char *scenario;
    double t_end;
    int has_t_end;
    long points;
    int has_points;
    const char **set_names;
    double *set_values;
    int nsets;
    char *select;
    const char *output;
    sg_format format;
    sg_options opt;
    int backend;
    int stats;
    int preequilibrate;
    char **events;
    int nevents;
    /* scan */
    const char *target;
    char *values_text;
    double from, to;
    int has_from, has_to, log_scale;
    char *readout;
    double *at;
    int nat;
    int jobs;
    const char *plot;
    int fit_hill;
    const char *target2;
    char *values2_text;
    double from2, to2;
    long points2;
    int has_from2, has_to2, has_points2, log2_scale;
} cli;

static int usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sigode%s%s: ", command ? " " : "", command ? command : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'sigode --help')\n");
    return 2;
}

static int report(const sg_error *err)
{
    char msg[1200];
    sg_error_format(err, msg, sizeof msg);
    fprintf(stderr, "%s\n", msg);
    return sg_status_exit_code(err->status);
}

static int parse_number(const char *command, const char *opt, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = text ? strtod(text, &end) : 0;
    if (!text || !*text || *end || errno == ERANGE || !isfinite(v))
        return usage_error(command, "%s expects a number, got '%s'", opt, text ? text : "");
    *out = v;
    return 0;
}

static int parse_count(const char *command, const char *opt, const char *text, long min,
                       long *out)
{
    char *end;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || errno == ERANGE || v < min)
        return usage_error(command, "%s expects a whole number >= %ld, got '%s'", opt, min,
                           text ? text : "");
    *out = v;
    return 0;
}

/* Splits "a,b,c" in place. Returns the count (0 if any part is empty). */
static int split_list(char *text, char **parts, int max)
{
    int n = 0;
    for (char *p = text;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p || n >= max)
            return 0;
        parts[n++] = p;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static int is_value_option(const char *name)
{
    static const char *const with_value[] = {
        "--scenario", "--t-end", "--points", "--set", "--select", "--output", "--format",
        "--rtol", "--atol", "--max-steps", "--linear-solver", "--target", "--values", "--from",
        "--to", "--readout", "--at", "--jobs", "--event", "--plot", "--fit", "--target2",
        "--values2", "--from2", "--to2", "--points2", "--backend", NULL};
    for (int i = 0; with_value[i]; i++)
        if (strcmp(with_value[i], name) == 0)
            return 1;
    return 0;
}

static int parse_args(cli *c, int argc, char **argv)
{
    const char *cmd = c->command;
    int run_like = !strcmp(cmd, "run") || !strcmp(cmd, "scan") || !strcmp(cmd, "steady");
    for (int i = 2; i < argc; i++) {
        char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {
            if (c->model_path)
                return usage_error(cmd, "unexpected argument '%s' (the model is '%s')", arg,
                                   c->model_path);
            c->model_path = arg;
            continue;
        }
        char name[64];
        const char *value = NULL;
        char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len >= sizeof name)
            return usage_error(cmd, "unknown option '%s'", arg);
        memcpy(name, arg, len);
        name[len] = '\0';
        int solver_option = !strcmp(name, "--rtol") || !strcmp(name, "--atol") ||
                            !strcmp(name, "--max-steps") || !strcmp(name, "--linear-solver") ||
                            !strcmp(name, "--backend");
        if (is_value_option(name)) {
            if (!run_like && !(solver_option && !strcmp(cmd, "verify")))
                return usage_error(cmd, "option %s does not apply to '%s'", name, cmd);
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return usage_error(cmd, "%s expects a value", name);
        } else if (eq) {
            return usage_error(cmd, "option %s takes no value", name);
        }
        long count;
        if (!strcmp(name, "--scenario")) {
            c->scenario = value;
        } else if (!strcmp(name, "--t-end")) {
            if (parse_number(cmd, name, value, &c->t_end))
                return 2;
            c->has_t_end = 1;
        } else if (!strcmp(name, "--points")) {
            if (parse_count(cmd, name, value, 2, &c->points))
                return 2;
            c->has_points = 1;
        } else if (!strcmp(name, "--set")) {
            const char *sep = strchr(value, '=');
            if (!sep || sep == value)
                return usage_error(cmd, "--set expects NAME=VALUE, got '%s'", value);
            double v;
            if (parse_number(cmd, "--set", sep + 1, &v))
                return 2;
            char *nm = strndup(value, (size_t)(sep - value));
            const char **names = realloc(c->set_names, sizeof *names * (size_t)(c->nsets + 1));
            double *vals = realloc(c->set_values, sizeof *vals * (size_t)(c->nsets + 1));
            if (names)
                c->set_names = names;
            if (vals)
                c->set_values = vals;
            if (!nm || !names || !vals) {
                free(nm);
                return usage_error(cmd, "out of memory");
            }
            c->set_names[c->nsets] = nm;
            c->set_values[c->nsets++] = v;
        } else if (!strcmp(name, "--select")) {
            size_t vlen = strlen(value);
            if (!vlen || value[0] == ',' || value[vlen - 1] == ',' || strstr(value, ",,"))
                return usage_error(cmd, "--select expects ids separated by commas, got '%s'",
                                   value);
            c->select = strdup(value);
        } else if (!strcmp(name, "--output")) {
            if (!*value)
                return usage_error(cmd, "--output expects a file name");
            c->output = value;
        } else if (!strcmp(name, "--format")) {
            if (!strcmp(value, "csv"))
                c->format = SG_FORMAT_CSV;
            else if (!strcmp(value, "tsv"))
                c->format = SG_FORMAT_TSV;
            else if (!strcmp(value, "json"))
                c->format = SG_FORMAT_JSON;
            else
                return usage_error(cmd, "--format expects csv, tsv or json, got '%s'", value);
        } else if (!strcmp(name, "--rtol") || !strcmp(name, "--atol")) {
            double v;
            if (parse_number(cmd, name, value, &v))
                return 2;
            if (!(v > 0) || v >= 1)
                return usage_error(cmd, "%s expects a tolerance between 0 and 1, got '%s'",
                                   name, value);
            if (!strcmp(name, "--rtol"))
                c->opt.rtol = v;
            else
                c->opt.atol = v;
        } else if (!strcmp(name, "--max-steps")) {
            if (parse_count(cmd, name, value, 1, &count))
                return 2;
            c->opt.max_steps = count;
        } else if (!strcmp(name, "--linear-solver")) {
            if (!strcmp(value, "dense"))
                c->opt.linear_solver = SG_LINSOL_DENSE;
            else if (!strcmp(value, "klu"))
                c->opt.linear_solver = SG_LINSOL_KLU;
            else if (!strcmp(value, "auto"))
                c->opt.linear_solver = SG_LINSOL_AUTO;
            else
                return usage_error(cmd, "--linear-solver expects auto, dense or klu, got '%s'",
                                   value);
        } else if (!strcmp(name, "--backend")) {
            if (!strcmp(value, "vm"))
                c->backend = BACKEND_VM;
            else if (!strcmp(value, "native"))
                c->backend = BACKEND_NATIVE;
            else if (!strcmp(value, "auto"))
                c->backend = BACKEND_AUTO;
            else
                return usage_error(cmd, "--backend expects auto, vm or native, got '%s'", value);
        } else if (!strcmp(name, "--stats") && run_like) {
            c->stats = 1;
        } else if (!strcmp(name, "--plot")) {
            if (!*value)
                return usage_error(cmd, "--plot expects a file name ending in .png or .svg");
            c->plot = value;
        } else if (!strcmp(name, "--fit")) {
            if (strcmp(value, "hill") != 0)
                return usage_error(cmd, "--fit expects 'hill' (a four-parameter Hill curve), "
                                        "got '%s'", value);
            c->fit_hill = 1;
        } else if (!strcmp(name, "--target2")) {
            c->target2 = value;
        } else if (!strcmp(name, "--values2")) {
            c->values2_text = strdup(value);
        } else if (!strcmp(name, "--from2")) {
            if (parse_number(cmd, name, value, &c->from2))
                return 2;
            c->has_from2 = 1;
        } else if (!strcmp(name, "--to2")) {
            if (parse_number(cmd, name, value, &c->to2))
                return 2;
            c->has_to2 = 1;
        } else if (!strcmp(name, "--points2")) {
            if (parse_count(cmd, name, value, 2, &c->points2))
                return 2;
            c->has_points2 = 1;
        } else if (!strcmp(name, "--log2") && run_like) {
            c->log2_scale = 1;
        } else if (!strcmp(name, "--preequilibrate") && run_like) {
            c->preequilibrate = 1;
        } else if (!strcmp(name, "--event")) {
            char **events = realloc(c->events, sizeof *events * (size_t)(c->nevents + 1));
            if (!events)
                return usage_error(cmd, "out of memory");
            c->events = events;
            c->events[c->nevents++] = (char *)value;
        } else if (!strcmp(name, "--target")) {
            c->target = value;
        } else if (!strcmp(name, "--values")) {
            c->values_text = strdup(value);
        } else if (!strcmp(name, "--from")) {
            if (parse_number(cmd, name, value, &c->from))
                return 2;
            c->has_from = 1;
        } else if (!strcmp(name, "--to")) {
            if (parse_number(cmd, name, value, &c->to))
                return 2;
            c->has_to = 1;
        } else if (!strcmp(name, "--log") && run_like) {
            c->log_scale = 1;
        } else if (!strcmp(name, "--readout")) {
            c->readout = strdup(value);
        } else if (!strcmp(name, "--at")) {
            char *copy = strdup(value), *parts[256];
            int n = copy ? split_list(copy, parts, 256) : 0;
            if (n == 0) {
                free(copy);
                return usage_error(cmd, "--at expects a time or times T,T,..., got '%s'", value);
            }
            double *at = realloc(c->at, sizeof *at * (size_t)(c->nat + n));
            if (!at) {
                free(copy);
                return usage_error(cmd, "out of memory");
            }
            c->at = at;
            for (int k = 0; k < n; k++)
                if (parse_number(cmd, "--at", parts[k], &c->at[c->nat++])) {
                    free(copy);
                    return 2;
                }
            free(copy);
        } else if (!strcmp(name, "--jobs")) {
            if (parse_count(cmd, name, value, 0, &count))
                return 2;
            c->jobs = count > 1024 ? 1024 : (int)count;
        } else {
            return usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (!c->model_path)
        return usage_error(cmd, "a MODEL file is expected");
    return 0;
}

static void free_cli(cli *c)
{
    for (int i = 0; i < c->nsets; i++)
        free((char *)c->set_names[i]);
    free(c->set_names);
    free(c->set_values);
    free(c->select);
    free(c->values_text);
    free(c->readout);
    free(c->at);
    free(c->events);
    free(c->values2_text);
}

/* Interrupts (SIGINT, SIGTERM, SIGHUP). Output files are written to a
 * temporary beside the destination and renamed over it when complete
 * (sg_table_write_file, sg_plot_write), and only after the computation.
 * An interrupt while computing exits at once: no temporary exists yet and
 * a previous output is untouched. An interrupt while writing is held until
 * the write has finished or cleaned up after itself, so no temporary or
 * truncated file is left; then the exit. Exit status 128 + signal (130 for
 * SIGINT), as a shell reports it. */
static volatile sig_atomic_t writing, interrupted;

static void on_interrupt(int sig)
{
    interrupted = sig;
    if (!writing) {
        static const char msg[] = "sigode: interrupted\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        _exit(128 + sig);
    }
}

static void catch_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESTART; /* the write in progress goes on */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void begin_writing(void) { writing = 1; }

/* Ends a write section; exits now if an interrupt came during it. */
static void end_writing(void)
{
    writing = 0;
    if (interrupted) {
        fflush(stdout);
        fprintf(stderr, "sigode: interrupted\n");
        _exit(128 + interrupted);
    }
}

/* Fails early when an output file could not be written, so a long run
 * does not compute for nothing: creates and removes a temporary beside the
 * destination, as the real write will. Returns 0 or 2 (reported). */
static int check_output_path(const char *path, const char *what)
{
    sg_error err = {0};
    err.status = SG_ERR_IO;
    snprintf(err.file, sizeof err.file, "%s", path);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err.message, sizeof err.message, "cannot write %s: Is a directory", what);
        return report(&err);
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return usage_error(NULL, "out of memory");
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    begin_writing();
    int fd = mkstemp(tmp);
    int saved = errno;
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    end_writing();
    free(tmp);
    if (fd < 0) {
        snprintf(err.message, sizeof err.message, "cannot write %s: %s", what, strerror(saved));
        return report(&err);
    }
    return 0;
}

/* Writes a table to --output (atomically) or standard output. */
static int write_table(const cli *c, const sg_table *table, const char *path)
{
    sg_error err = {0};
    begin_writing();
    sg_status st = path ? sg_table_write_file(table, c->format, path, &err)
                        : sg_table_write(table, c->format, stdout, &err);
    end_writing();
    return st == SG_OK ? 0 : report(&err);
}

/* Fills err with a usage error (the library's errors come the same way). */
static void usage_fill(sg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void usage_fill(sg_error *err, const char *fmt, ...)
{
    va_list ap;
    memset(err, 0, sizeof *err);
    err->status = SG_ERR_USAGE;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* --event T:NAME=V[:every=I][:count=N], or NAME+=V to add. */
static sg_status add_event(sg_experiment *exp, const char *spec, sg_error *err)
{
    char *copy = strdup(spec);
    if (!copy)
        return SG_ERR_NOMEM;
    sg_status st = SG_ERR_USAGE;
    char *fields[4];
    int n = 0;
    for (char *p = copy; n < 4;) {
        fields[n++] = p;
        char *colon = strchr(p, ':');
        if (!colon)
            break;
        *colon = '\0';
        p = colon + 1;
    }
    double at, value, every = 0;
    long count = 0;
    char *eq = n >= 2 ? strchr(fields[1], '=') : NULL;
    int add = eq && eq > fields[1] && eq[-1] == '+';
    char *end;
    if (n < 2 || !eq || eq == fields[1] + add) {
        usage_fill(err,
                     "--event expects T:NAME=VALUE[:every=I][:count=N], got '%s'", spec);
        goto done;
    }
    *(add ? eq - 1 : eq) = '\0';
    at = strtod(fields[0], &end);
    if (!*fields[0] || *end || !isfinite(at)) {
        usage_fill(err, "--event: '%s' is not a time", fields[0]);
        goto done;
    }
    value = strtod(eq + 1, &end);
    if (!eq[1] || *end || !isfinite(value)) {
        usage_fill(err, "--event: '%s' is not a number", eq + 1);
        goto done;
    }
    for (int k = 2; k < n; k++) {
        if (!strncmp(fields[k], "every=", 6)) {
            every = strtod(fields[k] + 6, &end);
            if (*end || !(every > 0)) {
                usage_fill(err,
                             "--event: every= expects a positive interval, got '%s'", fields[k] + 6);
                goto done;
            }
        } else if (!strncmp(fields[k], "count=", 6)) {
            count = strtol(fields[k] + 6, &end, 10);
            if (*end || count < 1) {
                usage_fill(err,
                             "--event: count= expects a whole number >= 1, got '%s'", fields[k] + 6);
                goto done;
            }
        } else {
            usage_fill(err,
                         "--event: unknown field '%s' (expected every=I or count=N)", fields[k]);
            goto done;
        }
    }
    if (count > 0 && every <= 0) {
        usage_fill(err, "--event: count= needs every=");
        goto done;
    }
    st = sg_experiment_add_schedule(exp, at, every, count, fields[1], value, add, err);
done:
    free(copy);
    return st;
}

static sg_experiment *make_experiment(const cli *c, const sg_model *model, sg_error *err)
{
    sg_experiment *exp = sg_experiment_create(model, c->scenario, err);
    if (!exp)
        return NULL;
    if ((c->has_t_end && sg_experiment_set_t_end(exp, c->t_end, err)) ||
        (c->has_points && strcmp(c->command, "scan") != 0 &&
         sg_experiment_set_points(exp, c->points, err))) {
        sg_experiment_free(exp);
        return NULL;
    }
    for (int i = 0; i < c->nsets; i++)
        if (sg_experiment_set_value(exp, c->set_names[i], c->set_values[i], err)) {
            sg_experiment_free(exp);
            return NULL;
        }
    /* selected parameters and compartments become extra output columns */
    if (c->select) {
        char *copy = strdup(c->select), *ids[4096];
        int n = copy ? split_list(copy, ids, 4096) : 0;
        for (int i = 0; i < n; i++) {
            sg_symbol_kind k = sg_model_lookup(model, ids[i]);
            if (k == SG_SYM_NONE) { /* a typo costs no run */
                usage_fill(err, "cannot select '%s': model '%s' has no species or "
                                "assignment with that id",
                           ids[i], sg_model_name(model));
                free(copy);
                sg_experiment_free(exp);
                return NULL;
            }
            if ((k == SG_SYM_PARAMETER || k == SG_SYM_COMPARTMENT) &&
                sg_experiment_add_output(exp, ids[i], err)) {
                free(copy);
                sg_experiment_free(exp);
                return NULL;
            }
        }
        free(copy);
    }
    /* without a scenario or --t-end, a scan runs until its last readout */
    double last_at = -INFINITY;
    for (int i = 0; i < c->nat; i++)
        last_at = fmax(last_at, c->at[i]);
    if (!c->scenario && !c->has_t_end && c->nat > 0 && last_at > sg_experiment_t_start(exp) &&
        sg_experiment_set_t_end(exp, last_at, err)) {
        sg_experiment_free(exp);
        return NULL;
    }
    /* events last: their times are checked against the final time span */
    for (int i = 0; i < c->nevents; i++)
        if (add_event(exp, c->events[i], err)) {
            sg_experiment_free(exp);
            return NULL;
        }
    if (c->preequilibrate)
        sg_experiment_set_preequilibrate(exp, 1);
    return exp;
}

static void print_stats(const sg_sim *sim)
{
    sg_stats s;
    sg_sim_stats(sim, &s);
    fprintf(stderr,
            "solver: %s, %ld steps, %ld right-hand sides, %ld Jacobians, %ld setups, "
            "%ld error-test failures, %ld nonlinear failures\n",
            s.sparse ? "KLU" : "dense", s.steps, s.rhs_evals, s.jac_evals, s.lin_setups,
            s.err_test_fails, s.nonlin_fails);
}

/* The values of a scan axis: a list, or from/to/points (log or linear).
 * Returns the count, or -1 after printing a usage error. */
static int axis_values(const char *opt, char *list, int has_from, double from, int has_to,
                       double to, int has_points, long points, int log_scale, double **out)
{
    *out = NULL;
    if (list) {
        if (has_from || has_to || has_points || log_scale)
            return usage_error("scan", "use either %s or a range (from/to/points), not both", opt),
                   -1;
        int max = 1;
        for (const char *p = list; *p; p++)
            max += *p == ',';
        char **parts = malloc(sizeof *parts * (size_t)max);
        double *values = malloc(sizeof *values * (size_t)max);
        int count = parts && values ? split_list(list, parts, max) : 0;
        for (int i = 0; i < count; i++)
            if (parse_number("scan", opt, parts[i], &values[i])) {
                count = -2;
                break;
            }
        free(parts);
        if (count <= 0) {
            free(values);
            if (count == 0)
                usage_error("scan", "%s expects numbers separated by commas", opt);
            return -1;
        }
        *out = values;
        return count;
    }
    if (!has_from || !has_to || !has_points)
        return usage_error("scan", "give %s V,V,... or all of the from, to and points options",
                           opt),
               -1;
    if (log_scale && (from <= 0 || to <= 0)) {
        const char *axis = opt + strlen("--values"); /* "" or "2" */
        return usage_error("scan", "--log%s needs positive --from%s and --to%s (got %g and %g)",
                           axis, axis, axis, from, to),
               -1;
    }
    if (points > 10000000)
        return usage_error("scan", "a scan axis is limited to 10000000 points"), -1;
    int count = (int)points;
    double *values = malloc(sizeof *values * (size_t)count);
    if (!values)
        return usage_error("scan", "out of memory"), -1;
    for (int i = 0; i < count; i++) {
        double f = (double)i / (double)(count - 1);
        values[i] = log_scale ? exp(log(from) + f * (log(to) - log(from))) : from + f * (to - from);
    }
    values[0] = from;
    values[count - 1] = to;
    *out = values;
    return count;
}

/* A progress bar on standard error for scans longer than about a second,
 * only when standard error is a terminal. */
typedef struct progress {
    struct timespec start;
    double last_draw;
    int drawn;
} progress;

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + 1e-9 * (double)(now.tv_nsec - t0->tv_nsec);
}

static void show_progress(void *ctx, int done, int total)
{
    progress *p = ctx;
    double t = seconds_since(&p->start);
    if ((t < 1.0 && !p->drawn) || (t - p->last_draw < 0.1 && done < total))
        return;
    p->last_draw = t;
    p->drawn = 1;
    int width = 40, filled = (int)((double)width * done / (total > 0 ? total : 1));
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : ' ';
    bar[width] = '\0';
    double eta = done > 0 ? t * (total - done) / done : 0;
    fprintf(stderr, "\r[%s] %3d%% %d/%d points, %.0f s left ", bar,
            (int)(100.0 * done / (total > 0 ? total : 1)), done, total, eta);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Unit of a model quantity for labels: a parameter's unit, the model's
 * concentration unit for species and assignments. */
static const char *unit_of(const sg_model *m, const char *id)
{
    sg_symbol_kind k = sg_model_lookup(m, id);
    if (k == SG_SYM_PARAMETER)
        for (int i = 0; i < sg_model_parameter_count(m); i++)
            if (!strcmp(sg_model_parameter_id(m, i), id))
                return sg_model_parameter_unit(m, i);
    if (k == SG_SYM_SPECIES)
        return sg_model_conc_unit(m);
    return "";
}

static void label(char *buf, size_t size, const char *what, const char *unit)
{
    if (unit && *unit)
        snprintf(buf, size, "%s (%s)", what, unit);
    else
        snprintf(buf, size, "%s", what);
}

/* Hill fits of every readout column of a 1-D scan table, reported on
 * standard error; fits[] gets one entry per readout column. */
static void fit_columns(const sg_model *m, const sg_table *t, const char *target,
                        sg_hill_fit *fits)
{
    int rows = sg_table_rows(t), cols = sg_table_columns(t);
    double *x = malloc(sizeof *x * (size_t)(rows + 1)), *y = malloc(sizeof *y * (size_t)(rows + 1));
    if (!x || !y) {
        free(x);
        free(y);
        return;
    }
    for (int r = 0; r < rows; r++)
        x[r] = sg_table_get(t, r, 0);
    const char *unit = unit_of(m, target);
    for (int c = 1; c < cols; c++) {
        for (int r = 0; r < rows; r++)
            y[r] = sg_table_get(t, r, c);
        sg_error err = {0};
        sg_hill_fit *f = &fits[c - 1];
        if (sg_fit_hill(x, y, rows, f, &err) != SG_OK) {
            report(&err);
            continue;
        }
        if (!f->ok) {
            fprintf(stderr, "hill fit %s: %s\n", sg_table_column_name(t, c), f->why);
            continue;
        }
        fprintf(stderr,
                "hill fit %s: %s = %.4g %s, slope %.3g, bottom %.4g, top %.4g, R^2 = %.6f, "
                "RMSE = %.3g%s%s\n",
                sg_table_column_name(t, c), f->decreasing ? "IC50" : "EC50", f->ec50, unit,
                f->slope, f->bottom, f->top, f->r2, f->rmse, f->why[0] ? "; warning: " : "",
                f->why);
    }
    free(x);
    free(y);
}

static int plot_table(const cli *c, const sg_model *m, const sg_table *t, const char *xname,
                      int logx, int markers, const sg_hill_fit *fits)
{
    int cols = sg_table_columns(t);
    int *which = malloc(sizeof *which * (size_t)cols);
    if (!which)
        return usage_error(c->command, "out of memory");
    for (int k = 1; k < cols; k++)
        which[k - 1] = k;
    char xlabel[300], ylabel[300], title[300];
    label(xlabel, sizeof xlabel, xname, !strcmp(xname, "time") ? sg_model_time_unit(m)
                                                               : unit_of(m, xname));
    label(ylabel, sizeof ylabel, "concentration", sg_model_conc_unit(m));
    snprintf(title, sizeof title, "%s%s%s", sg_model_name(m), c->scenario ? ": " : "",
             c->scenario ? c->scenario : "");
    sg_plot_spec spec = {.path = c->plot, .title = title, .xlabel = xlabel, .ylabel = ylabel,
                         .logx = logx, .table = t, .columns = which, .ncolumns = cols - 1,
                         .fits = fits, .markers = markers};
    sg_error err = {0};
    begin_writing();
    sg_status st = sg_plot_write(&spec, &err);
    end_writing();
    free(which);
    return st == SG_OK ? 0 : report(&err);
}

static int run_scan(cli *c, sg_model *model, sg_experiment *exp, const char *target,
                    const double *values, int count, int log_scale, char **readouts,
                    int nreadouts, const double *values2, int count2)
{
    progress bar = {0};
    clock_gettime(CLOCK_MONOTONIC, &bar.start);
    sg_scan_spec spec = {.target = target, .values = values, .count = count,
                         .readouts = (const char *const *)readouts, .nreadouts = nreadouts,
                         .at = c->at, .nat = c->nat, .jobs = c->jobs,
                         .progress = isatty(STDERR_FILENO) ? show_progress : NULL,
                         .progress_ctx = &bar};
    sg_table *table = NULL;
    sg_error err = {0};
    sg_status st;
    if (c->target2) {
        sg_scan2_spec spec2 = {spec, c->target2, values2, count2};
        st = sg_scan2_run(model, &c->opt, exp, &spec2, &table, &err);
    } else {
        st = sg_scan_run(model, &c->opt, exp, &spec, &table, &err);
    }
    int rc = 0;
    if (table && st == SG_OK) {
        rc = write_table(c, table, c->output);
    } else if (table) { /* some points failed: keep any previous good file */
        if (c->output) {
            size_t n = strlen(c->output) + 16;
            char *partial = malloc(n);
            if (partial) {
                snprintf(partial, n, "%s.partial", c->output);
                if (write_table(c, table, partial) == 0)
                    fprintf(stderr, "sigode: the scan with its failed rows is in %s\n", partial);
                free(partial);
            }
        } else {
            write_table(c, table, NULL);
        }
    }
    sg_hill_fit *fits = NULL;
    if (table && rc == 0 && c->fit_hill) {
        fits = calloc((size_t)sg_table_columns(table), sizeof *fits);
        if (fits)
            fit_columns(model, table, target, fits);
    }
    if (table && rc == 0 && c->plot && st == SG_OK)
        rc = plot_table(c, model, table, target, log_scale, 1, fits);
    free(fits);
    sg_table_free(table);
    if (st != SG_OK)
        return report(&err);
    return rc;
}

static int cmd_run(cli *c, sg_model *model)
{
    sg_error err = {0};
    sg_experiment *exp = make_experiment(c, model, &err);
    if (!exp)
        return report(&err);
    int rc = 0;
    const char *target;
    const double *values;
    int count, log_scale;
    if (sg_experiment_scan(exp, &target, &values, &count, &log_scale)) {
        /* a scenario with a scan: the scan, readouts as the scenario says */
        const char *const *ids;
        int n = sg_experiment_readouts(exp, &ids);
        char *sel[256];
        int nsel = 0;
        char *copy = c->select ? strdup(c->select) : NULL;
        if (copy)
            nsel = split_list(copy, sel, 256);
        rc = run_scan(c, model, exp, target, values, count, log_scale,
                      nsel ? sel : (char **)ids, nsel ? nsel : n, NULL, 0);
        free(copy);
        sg_experiment_free(exp);
        return rc;
    }
    sg_sim *sim = sg_sim_create(model, &c->opt, &err);
    if (!sim) {
        sg_experiment_free(exp);
        return report(&err);
    }
    char *sel[4096];
    int nsel = 0;
    if (c->select && (nsel = split_list(c->select, sel, 4096)) == 0) {
        sg_sim_free(sim);
        sg_experiment_free(exp);
        return usage_error("run", "--select expects ids separated by commas, got '%s'",
                           c->select);
    }
    sg_trajectory *traj = NULL;
    sg_status st = sg_sim_run(sim, exp, &traj, &err);
    if (c->stats)
        print_stats(sim);
    sg_error werr = {0};
    sg_table *table = traj ? sg_trajectory_table(traj, (const char *const *)sel, nsel, &werr)
                           : NULL;
    if (!table && traj) {
        rc = report(&werr);
    } else if (table) {
        if (st == SG_OK) {
            rc = write_table(c, table, c->output);
            if (rc == 0 && c->plot)
                rc = plot_table(c, model, table, "time", 0, 0, NULL);
        } else if (c->output) {
            /* keep a previous good file: the partial rows go beside it */
            size_t n = strlen(c->output) + 16;
            char *partial = malloc(n);
            if (partial) {
                snprintf(partial, n, "%s.partial", c->output);
                if (write_table(c, table, partial) == 0)
                    fprintf(stderr, "sigode: %d rows computed before the failure written to %s\n",
                            sg_table_rows(table), partial);
                free(partial);
            }
        } else {
            write_table(c, table, NULL);
        }
    }
    sg_table_free(table);
    sg_trajectory_free(traj);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    if (st != SG_OK)
        return report(&err);
    return rc;
}

static int cmd_scan(cli *c, sg_model *model)
{
    if (!c->target)
        return usage_error("scan", "--target NAME is required");
    double *values = NULL, *values2 = NULL;
    int count = axis_values("--values", c->values_text, c->has_from, c->from, c->has_to, c->to,
                            c->has_points, c->points, c->log_scale, &values);
    if (count < 0)
        return 2;
    int count2 = 0;
    if (c->target2) {
        count2 = axis_values("--values2", c->values2_text, c->has_from2, c->from2, c->has_to2,
                             c->to2, c->has_points2, c->points2, c->log2_scale, &values2);
        if (count2 < 0) {
            free(values);
            return 2;
        }
        if (c->fit_hill || c->plot) {
            free(values);
            free(values2);
            return usage_error("scan", "--fit and --plot apply to one-dimensional scans; a "
                                       "--target2 scan writes the long-format grid");
        }
    } else if (c->values2_text || c->has_from2 || c->has_to2 || c->has_points2 || c->log2_scale) {
        free(values);
        return usage_error("scan", "--values2/--from2/--to2/--points2/--log2 need --target2");
    }
    sg_error err = {0};
    sg_experiment *exp = make_experiment(c, model, &err);
    if (!exp) {
        free(values);
        free(values2);
        return report(&err);
    }
    char *readouts[4096];
    int nread = 0;
    if (c->readout && (nread = split_list(c->readout, readouts, 4096)) == 0) {
        free(values);
        free(values2);
        sg_experiment_free(exp);
        return usage_error("scan", "--readout expects ids separated by commas");
    }
    if (!c->readout) {
        const char *const *ids;
        int n = sg_experiment_readouts(exp, &ids);
        for (int i = 0; i < n && i < 4096; i++)
            readouts[nread++] = (char *)ids[i];
    }
    int rc = run_scan(c, model, exp, c->target, values, count, c->log_scale, readouts, nread,
                      values2, count2);
    free(values);
    free(values2);
    sg_experiment_free(exp);
    return rc;
}

static const char *kind_label(int constant) { return constant ? "constant" : "state"; }

static int cmd_info(sg_model *m)
{
    printf("model %s", sg_model_name(m));
    if (*sg_model_description(m))
        printf(": %s", sg_model_description(m));
    printf("\nfile %s\n", sg_model_path(m));
    if (*sg_model_time_unit(m) || *sg_model_conc_unit(m))
        printf("units: time %s, concentration %s\n", sg_model_time_unit(m),
               sg_model_conc_unit(m));
    int ns = sg_model_species_count(m), nstate = sg_model_state_count(m), nconst = 0;
    for (int i = 0; i < ns; i++)
        nconst += sg_model_species_is_constant(m, i);
    printf("\n%d compartments, %d species (%d constant), %d parameters, %d assignments, "
           "%d reactions, %d rate rules, %d events, %d functions, %d scenarios, %d checks\n"
           "%d state variables\n",
           sg_model_compartment_count(m), ns, nconst, sg_model_parameter_count(m),
           sg_model_assignment_count(m), sg_model_reaction_count(m),
           sg_model_rate_rule_count(m), sg_model_event_count(m), sg_model_function_count(m),
           sg_model_scenario_count(m), sg_model_check_count(m), nstate);
    printf("linear solver: %s (dense up to %d states, KLU above)\n",
           nstate > SG_DENSE_MAX_STATES ? "KLU" : "dense", SG_DENSE_MAX_STATES);
    printf("\ncompartments:\n");
    for (int i = 0; i < sg_model_compartment_count(m); i++)
        printf("  %-20s size %.10g\n", sg_model_compartment_id(m, i),
               sg_model_compartment_size(m, i));
    printf("\nspecies:\n");
    for (int i = 0; i < ns; i++)
        printf("  %-20s initial %-12.6g in %-10s %s\n", sg_model_species_id(m, i),
               sg_model_species_initial(m, i), sg_model_species_compartment(m, i),
               kind_label(sg_model_species_is_constant(m, i)));
    printf("\nparameters:\n");
    for (int i = 0; i < sg_model_parameter_count(m); i++)
        printf("  %-20s %-12.6g %-10s %s\n", sg_model_parameter_id(m, i),
               sg_model_parameter_value(m, i), sg_model_parameter_unit(m, i),
               sg_model_parameter_source(m, i));
    if (sg_model_uncertain_count(m)) {
        printf("\nuncertainties (sampled by 'sigode ensemble' and 'sigode gsa'):\n");
        for (int i = 0; i < sg_model_uncertain_count(m); i++) {
            char dist[120];
            sg_distribution_format(sg_model_uncertain_distribution(m, i), dist, sizeof dist);
            printf("  %-20s %-12.6g %-32s %s\n", sg_model_uncertain_id(m, i),
                   sg_model_uncertain_nominal(m, i), dist, sg_model_uncertain_source(m, i));
        }
    }
    if (sg_model_assignment_count(m)) {
        printf("\nassignments:\n");
        for (int i = 0; i < sg_model_assignment_count(m); i++)
            printf("  %-20s = %s\n", sg_model_assignment_id(m, i), sg_model_assignment_text(m, i));
    }
    printf("\nreactions:\n");
    for (int i = 0; i < sg_model_reaction_count(m); i++)
        printf("  %-20s %-36s rate %s\n", sg_model_reaction_id(m, i),
               sg_model_reaction_equation(m, i), sg_model_reaction_rate(m, i));
    if (sg_model_rate_rule_count(m)) {
        printf("\nrate rules:\n");
        for (int i = 0; i < sg_model_rate_rule_count(m); i++)
            printf("  d%s/dt = %s\n", sg_model_rate_rule_target(m, i), sg_model_rate_rule_rate(m, i));
    }
    if (sg_model_event_count(m)) {
        printf("\nevents:\n");
        for (int i = 0; i < sg_model_event_count(m); i++)
            printf("  %-20s when %s\n", sg_model_event_id(m, i), sg_model_event_trigger(m, i));
    }
    if (sg_model_function_count(m)) {
        printf("\nfunctions:");
        for (int i = 0; i < sg_model_function_count(m); i++)
            printf(" %s", sg_model_function_id(m, i));
        printf("\n");
    }
    if (sg_model_scenario_count(m)) {
        printf("\nscenarios:");
        for (int i = 0; i < sg_model_scenario_count(m); i++)
            printf(" %s", sg_model_scenario_id(m, i));
        printf("\n");
    }
    if (sg_model_check_count(m)) {
        printf("checks:");
        for (int i = 0; i < sg_model_check_count(m); i++)
            printf(" %s", sg_model_check_id(m, i));
        printf("\n");
    }
    return 0;
}

static int cmd_steady(cli *c, sg_model *model)
{
    sg_error err = {0};
    sg_experiment *exp = make_experiment(c, model, &err);
    sg_sim *sim = exp ? sg_sim_create(model, &c->opt, &err) : NULL;
    if (!sim) {
        sg_experiment_free(exp);
        return report(&err);
    }
    sg_trajectory *state = NULL;
    sg_steady_info info = {0};
    int rc = 0;
    sg_status st = sg_sim_steady_state(sim, exp, &state, &info, &err);
    if (st != SG_OK) {
        rc = report(&err);
    } else {
        char *sel[4096];
        int nsel = c->select ? split_list(c->select, sel, 4096) : 0;
        sg_error werr = {0};
        sg_table *table = sg_trajectory_table(state, (const char *const *)sel, nsel, &werr);
        rc = table ? write_table(c, table, c->output) : report(&werr);
        sg_table_free(table);
        fprintf(stderr,
                "steady state found by %s; %d conservation law%s; max |dy/dt| = %.3g "
                "(relative %.3g)\n",
                info.method, info.conservation_laws, info.conservation_laws == 1 ? "" : "s",
                info.residual, info.max_relative_rate);
    }
    sg_trajectory_free(state);
    sg_sim_free(sim);
    sg_experiment_free(exp);
    return rc;
}

static int cmd_verify(cli *c, sg_model *m)
{
    sg_check_result *res = NULL;
    int n = 0;
    sg_error err = {0};
    sg_status st = sg_verify(m, &c->opt, &res, &n, &err);
    if (!res)
        return report(&err);
    int passed = 0;
    for (int i = 0; i < n; i++) {
        printf("%s  %-40s %s\n", res[i].passed ? "PASS" : "FAIL", res[i].id, res[i].detail);
        passed += res[i].passed;
    }
    printf("%d passed, %d failed\n", passed, n - passed);
    free(res);
    (void)st;
    return passed == n ? 0 : 1;
}

/* A model file: SBML (by extension .xml or .sbml) is imported, anything else
 * is a sigode model. */
static int is_sbml_path(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    return dot && (!strcmp(dot, ".xml") || !strcmp(dot, ".sbml"));
}

/* --backend auto: compiled C where it is known to pay. Models up to this
 * many states compile in about 3 s or less (GCC -O1, 1,000 species of the
 * benchmark network: 3.1 s); a scan of this many simulations earns that
 * back (a simulation of such a model takes about 0.1 s; compiled C saves
 * 15% of it). Larger models only on request (--backend native). */
#define AUTO_NATIVE_MAX_STATES 1000
#define AUTO_NATIVE_MIN_SIMULATIONS 200

static long axis_size(const char *values, long points)
{
    if (!values)
        return points;
    long n = 1;
    for (const char *p = values; *p; p++)
        n += *p == ',';
    return n;
}

static int native_pays(const cli *c, const sg_model *model)
{
    if (strcmp(c->command, "scan") != 0 || sg_model_state_count(model) > AUTO_NATIVE_MAX_STATES)
        return 0;
    long n = axis_size(c->values_text, c->points);
    if (c->target2)
        n *= axis_size(c->values2_text, c->points2);
    return n >= AUTO_NATIVE_MIN_SIMULATIONS;
}

static sg_model *load_model(const char *path, sg_error *err)
{
    return is_sbml_path(path) ? sg_model_load_sbml(path, err) : sg_model_load_file(path, err);
}

/* Switches to compiled C when asked, or for auto when it pays (above). A
 * compiler that is missing or fails is not an error: the instruction
 * program gives the same numbers, only slower; --backend native says so. */
static void choose_backend(const cli *c, sg_model *model)
{
    sg_error err = {0};
    if (c->backend == BACKEND_VM)
        return;
    if (c->backend == BACKEND_AUTO) {
        /* an object compiled before costs only its loading */
        if (sg_model_state_count(model) <= AUTO_NATIVE_MAX_STATES)
            sg_model_use_cached_native(model, &err);
        if (sg_model_backend(model) == SG_BACKEND_NATIVE || !native_pays(c, model))
            return;
    }
    if (sg_model_set_backend(model, SG_BACKEND_NATIVE, &err) != SG_OK && c->backend == BACKEND_NATIVE)
        fprintf(stderr, "sigode %s: note: %s; using the instruction program\n", c->command,
                err.message);
}

/* sigode convert MODEL --to cfg|sbml [--output FILE] */
static int cmd_convert(int argc, char **argv)
{
    const char *path = NULL, *to = NULL, *out = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **dest = !strcmp(a, "--to") ? &to : !strcmp(a, "--output") ? &out : NULL;
        if (dest) {
            if (i + 1 >= argc)
                return usage_error("convert", "%s expects a value", a);
            *dest = argv[++i];
        } else if (!strncmp(a, "--to=", 5)) {
            to = a + 5;
        } else if (!strncmp(a, "--output=", 9)) {
            out = a + 9;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("convert", "unknown option '%s'", a);
        } else if (path) {
            return usage_error("convert", "unexpected argument '%s' (the model is '%s')", a,
                               path);
        } else {
            path = a;
        }
    }
    if (!path)
        return usage_error("convert", "which model? sigode convert MODEL --to cfg|sbml");
    if (!to || (strcmp(to, "cfg") && strcmp(to, "sbml")))
        return usage_error("convert", "--to cfg or --to sbml is required");
    sg_error err = {0};
    char *text = NULL;
    if (!strcmp(to, "cfg")) {
        if (!is_sbml_path(path))
            return usage_error("convert", "--to cfg reads an SBML file (.xml or .sbml), got '%s'",
                               path);
        text = sg_sbml_to_config(path, &err);
    } else {
        sg_model *m = load_model(path, &err);
        text = m ? sg_model_to_sbml(m, &err) : NULL;
        sg_model_free(m);
    }
    if (!text)
        return report(&err);
    sg_status st = SG_OK;
    begin_writing();
    if (out)
        st = sg_write_text_file(out, text, &err);
    else if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
        st = err.status = SG_ERR_IO;
        snprintf(err.message, sizeof err.message, "cannot write to standard output");
    }
    end_writing();
    free(text);
    return st == SG_OK ? 0 : report(&err);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("sigode %s\n", SIGODE_VERSION);
        return 0;
    }
    catch_interrupts();
    cli c;
    memset(&c, 0, sizeof c);
    c.command = argv[1];
    sg_options_default(&c.opt);
    if (!strcmp(c.command, "convert"))
        return cmd_convert(argc, argv);
    if (!strcmp(c.command, "ensemble") || !strcmp(c.command, "gsa")) {
        int rc = study_mpi_init(&argc, &argv);
        if (rc == 0)
            rc = !strcmp(c.command, "ensemble") ? cmd_ensemble(argc, argv) : cmd_gsa(argc, argv);
        study_mpi_finalize();
        return rc;
    }
    static const char *const commands[] = {"run", "scan", "steady", "check", "info", "verify",
                                           "graph", NULL};
    int known = 0;
    for (int i = 0; commands[i]; i++)
        known |= !strcmp(commands[i], c.command);
    if (!known)
        return usage_error(NULL, "unknown command '%s' (expected run, scan, steady, check, info, verify, graph, convert, ensemble or gsa)",
                           c.command);
    int rc = parse_args(&c, argc, argv);
    if (rc) {
        free_cli(&c);
        return rc;
    }
    sg_error err = {0};
    sg_model *model = load_model(c.model_path, &err);
    if (!model) {
        free_cli(&c);
        return report(&err);
    }
    if ((c.output && check_output_path(c.output, "output")) ||
        (c.plot && check_output_path(c.plot, "the plot"))) {
        sg_model_free(model);
        free_cli(&c);
        return 2;
    }
    if (strcmp(c.command, "check") && strcmp(c.command, "graph") && strcmp(c.command, "info"))
        choose_backend(&c, model);
    if (!strcmp(c.command, "check")) {
        fprintf(stderr, "%s: ok (%d species, %d reactions, %d scenarios, %d checks)\n",
                c.model_path, sg_model_species_count(model), sg_model_reaction_count(model),
                sg_model_scenario_count(model), sg_model_check_count(model));
        rc = 0;
    } else if (!strcmp(c.command, "graph")) {
        sg_error gerr = {0};
        rc = sg_model_write_dot(model, stdout, &gerr) == SG_OK ? 0 : report(&gerr);
    } else if (!strcmp(c.command, "info")) {
        rc = cmd_info(model);
    } else if (!strcmp(c.command, "verify")) {
        rc = cmd_verify(&c, model);
    } else if (!strcmp(c.command, "steady")) {
        rc = cmd_steady(&c, model);
    } else if (!strcmp(c.command, "run")) {
        rc = cmd_run(&c, model);
    } else {
        rc = cmd_scan(&c, model);
    }
    sg_model_free(model);
    free_cli(&c);
    return rc;
}

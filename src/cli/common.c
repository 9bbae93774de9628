#include <limits.h>
/*
 * Helpers shared by the subcommands: usage errors and library errors on
 * standard error, number parsing, interrupt-safe writing of outputs,
 * loading a model, the backend choice, building an experiment from the
 * experiment options.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

/* "sigode CMD: message" and where to read more; returns 2. The message
 * quotes the user's words (an option, a value, a command): it is formatted
 * first, then written with control characters made inert, so that an
 * escape sequence on the command line cannot drive the terminal. */
int cli_usage_verror(const char *command, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text)
        vsnprintf(text, (size_t)n + 1, fmt, again);
    va_end(again);
    fprintf(stderr, "sigode%s%s: ", command ? " " : "", command ? command : "");
    if (text)
        cli_put_terminal_text(stderr, text, (size_t)n);
    else
        fputs("(out of memory formatting the message)", stderr);
    free(text);
    if (command && cli_find_command(command))
        fprintf(stderr, "\n(see 'sigode %s --help')\n", command);
    else
        fprintf(stderr, "\n(see 'sigode --help')\n");
    return 2;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cli_usage_verror(command, fmt, ap);
    va_end(ap);
    return rc;
}

void cli_put_terminal_text(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] < 0xa0) {
            fputc('?', out);
            i++;
        } else {
            fputc((c < 0x20 && c != '\n') || c == 0x7f ? '?' : c, out);
        }
    }
}

/* The model of the command being run, for suggestions (cli_report). */
static const sg_model *current_model;

void cli_set_model(const sg_model *model) { current_model = model; }

/* The id of the model closest to `word` (scenarios when `scenarios`), or
 * NULL. */
static const char *closest_id(const sg_model *m, const char *word, int scenarios)
{
    int n = 0, cap = scenarios ? sg_model_scenario_count(m)
                               : sg_model_species_count(m) + sg_model_parameter_count(m) +
                                     sg_model_compartment_count(m) + sg_model_assignment_count(m);
    const char **ids = malloc(sizeof *ids * (size_t)(cap + 1));
    if (!ids)
        return NULL;
    if (scenarios) {
        for (int i = 0; i < sg_model_scenario_count(m); i++)
            ids[n++] = sg_model_scenario_id(m, i);
    } else {
        for (int i = 0; i < sg_model_species_count(m); i++)
            ids[n++] = sg_model_species_id(m, i);
        for (int i = 0; i < sg_model_parameter_count(m); i++)
            ids[n++] = sg_model_parameter_id(m, i);
        for (int i = 0; i < sg_model_compartment_count(m); i++)
            ids[n++] = sg_model_compartment_id(m, i);
        for (int i = 0; i < sg_model_assignment_count(m); i++)
            ids[n++] = sg_model_assignment_id(m, i);
    }
    const char *near = cli_closest_id(word, ids, n);
    free(ids);
    return near;
}

/* A usage error about an id the model does not have ("cannot set 'EFG'",
 * "cannot select 'EFG'", "has no scenario 'bseline'"): the first quoted
 * word of the message that is not an id of the model gets the closest id
 * that is, if one is near: "... (did you mean 'EGF'?)". */
static void suggest_id(sg_error *err)
{
    if (!current_model || err->status != SG_ERR_USAGE || strstr(err->message, "did you mean"))
        return;
    const char *scenario_word = strstr(err->message, "scenario '");
    const char *open = scenario_word ? scenario_word + 9 : strchr(err->message, '\'');
    const char *close = open ? strchr(open + 1, '\'') : NULL;
    if (!close || close - open > 200)
        return;
    char word[256];
    memcpy(word, open + 1, (size_t)(close - open - 1));
    word[close - open - 1] = '\0';
    int scenario = scenario_word != NULL;
    if (!scenario && sg_model_lookup(current_model, word) != SG_SYM_NONE)
        return;
    const char *near = closest_id(current_model, word, scenario);
    size_t len = strlen(err->message);
    if (near && len + strlen(near) + 24 < sizeof err->message)
        snprintf(err->message + len, sizeof err->message - len, " (did you mean '%s'?)", near);
}

int cli_report(const sg_error *err)
{
    char msg[1200];
    sg_error copy = *err;
    suggest_id(&copy);
    sg_error_format(&copy, msg, sizeof msg);
    cli_put_terminal_text(stderr, msg, strlen(msg));
    fputc('\n', stderr);
    return sg_status_exit_code(err->status);
}

int cli_parse_number(const char *command, const char *opt, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = text ? strtod(text, &end) : 0;
    if (!text || !*text || *end || !isfinite(v))
        return cli_usage_error(command, "%s expects a number, got '%s'", opt, text ? text : "");
    /* ERANGE on a tiny value: a subnormal is a number (the option may
     * refuse it with its own reason); below the smallest double it would
     * silently become 0 */
    if (errno == ERANGE && v == 0)
        return cli_usage_error(command, "%s: '%s' is below the smallest double (%g) and "
                               "would read as 0", opt, text, DBL_TRUE_MIN);
    *out = v;
    return 0;
}

int cli_parse_count(const char *command, const char *opt, const char *text, long min,
                       long *out)
{
    char *end;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || errno == ERANGE || v < min)
        return cli_usage_error(command, "%s expects a whole number >= %ld, got '%s'", opt, min,
                           text ? text : "");
    *out = v;
    return 0;
}

/* Splits "a,b,c" in place. Returns the count (0 if any part is empty). */
char **cli_split_alloc(char *text, int *count)
{
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    char **parts = malloc(sizeof *parts * (n + 1));
    *count = parts && n <= INT_MAX ? cli_split_list(text, parts, (int)n) : 0;
    return parts;
}

void cli_print_warnings(sg_sim *sim)
{
    for (int i = 0; i < sg_sim_warning_count(sim); i++)
        fprintf(stderr, "warning: %s\n", sg_sim_warning(sim, i));
}

void cli_print_run_warnings(const sg_warnings *w, const char *runs_name)
{
    long total = sg_warnings_runs(w);
    for (int i = 0; i < sg_warnings_count(w); i++) {
        long runs = 0;
        const char *label = NULL;
        const char *msg = sg_warnings_get(w, i, &runs, &label);
        if (total <= 1)
            fprintf(stderr, "warning: %s\n", msg);
        else
            fprintf(stderr, "warning: %ld of %ld %s: %s%s%s%s\n", runs, total, runs_name, msg,
                    label ? " (first at " : "", label ? label : "", label ? ")" : "");
    }
}

int cli_split_list(char *text, char **parts, int max)
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

void cli_free(cli *c)
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
    sg_measurements_free(c->data);
    free(c->values2_text);
    free(c->args);
    if (c->model == current_model)
        cli_set_model(NULL); /* a later cli_report must not suggest ids from it */
    sg_model_free(c->model);
    c->model = NULL;
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

void cli_catch_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESTART; /* the write in progress goes on */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* past the file size limit (ulimit -f) a write fails with EFBIG instead
     * of killing the process: the writer then removes its temporary and
     * the error is reported */
    signal(SIGXFSZ, SIG_IGN);
}

void cli_begin_writing(void) { writing = 1; }

/* Ends a write section; exits now if an interrupt came during it. */
void cli_end_writing(void)
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
int cli_check_output_path(const char *path, const char *what)
{
    sg_error err = {0};
    cli_begin_writing();
    sg_status st = sg_output_check(path, &err);
    cli_end_writing();
    if (st == SG_OK)
        return 0;
    /* "cannot write output: why" -> "cannot write <what>: why" */
    const char *why = strchr(err.message, ':');
    char msg[sizeof err.message];
    snprintf(msg, sizeof msg, "cannot write %s%s", what, why ? why : "");
    snprintf(err.message, sizeof err.message, "%s", msg);
    err.status = SG_ERR_IO;
    return cli_report(&err);
}

char *cli_companion_path(const char *output, const char *suffix, int *special)
{
    struct stat sb;
    *special = stat(output, &sb) == 0 && !S_ISREG(sb.st_mode);
    size_t n = strlen(output);
    if (n > 4 && !strcmp(output + n - 4, ".tsv"))
        n -= 4;
    char *out = malloc(n + strlen(suffix) + 1);
    if (out) {
        memcpy(out, output, n);
        strcpy(out + n, suffix);
    }
    return out;
}

/* Writes a table to --output (atomically) or standard output. */
int cli_write_table(const cli *c, const sg_table *table, const char *path)
{
    sg_error err = {0};
    cli_begin_writing();
    sg_status st = path ? sg_table_write_file(table, c->format, path, &err)
                        : sg_table_write(table, c->format, stdout, &err);
    cli_end_writing();
    return st == SG_OK ? 0 : cli_report(&err);
}

/* Fills err with a usage error (the library's errors come the same way). */
void cli_usage_fill(sg_error *err, const char *fmt, ...)
{
    va_list ap;
    memset(err, 0, sizeof *err);
    err->status = SG_ERR_USAGE;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* --event T:NAME=V[:every=I][:count=N], or NAME+=V to add; with exp
 * NULL only the syntax is checked (cli_check_event). */
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
        cli_usage_fill(err,
                     "--event expects T:NAME=VALUE[:every=I][:count=N], got '%s'", spec);
        goto done;
    }
    *(add ? eq - 1 : eq) = '\0';
    at = strtod(fields[0], &end);
    if (!*fields[0] || *end || !isfinite(at)) {
        cli_usage_fill(err, "--event: '%s' is not a time", fields[0]);
        goto done;
    }
    value = strtod(eq + 1, &end);
    if (!eq[1] || *end || !isfinite(value)) {
        cli_usage_fill(err, "--event: '%s' is not a number", eq + 1);
        goto done;
    }
    for (int k = 2; k < n; k++) {
        if (!strncmp(fields[k], "every=", 6)) {
            every = strtod(fields[k] + 6, &end);
            if (*end || !(every > 0)) {
                cli_usage_fill(err,
                             "--event: every= expects a positive interval, got '%s'", fields[k] + 6);
                goto done;
            }
        } else if (!strncmp(fields[k], "count=", 6)) {
            count = strtol(fields[k] + 6, &end, 10);
            if (*end || count < 1) {
                cli_usage_fill(err,
                             "--event: count= expects a whole number >= 1, got '%s'", fields[k] + 6);
                goto done;
            }
        } else {
            cli_usage_fill(err,
                         "--event: unknown field '%s' (expected every=I or count=N)", fields[k]);
            goto done;
        }
    }
    if (count > 0 && every <= 0) {
        cli_usage_fill(err, "--event: count= needs every=");
        goto done;
    }
    st = exp ? sg_experiment_add_schedule(exp, at, every, count, fields[1], value, add, err)
             : SG_OK;
done:
    free(copy);
    return st;
}

int cli_check_event(const char *spec)
{
    sg_error err = {0};
    return add_event(NULL, spec, &err) == SG_OK ? 0 : cli_report(&err);
}

sg_experiment *cli_make_experiment(const cli *c, const sg_model *model, sg_error *err)
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
        int n = 0;
        char *copy = strdup(c->select), **ids = copy ? cli_split_alloc(copy, &n) : NULL;
        for (int i = 0; i < n; i++) {
            sg_symbol_kind k = sg_model_lookup(model, ids[i]);
            int reaction = k == SG_SYM_NONE && sg_model_find_reaction(model, ids[i]) >= 0;
            if (k == SG_SYM_NONE && !reaction) { /* a typo costs no run */
                cli_usage_fill(err, "cannot select '%s': model '%s' has no species or "
                                "assignment with that id",
                           ids[i], sg_model_name(model));
                free(ids);
                free(copy);
                sg_experiment_free(exp);
                return NULL;
            }
            if ((k == SG_SYM_PARAMETER || k == SG_SYM_COMPARTMENT || reaction) &&
                sg_experiment_add_output(exp, ids[i], err)) {
                free(ids);
                free(copy);
                sg_experiment_free(exp);
                return NULL;
            }
        }
        free(ids);
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

void cli_print_stats(const sg_sim *sim)
{
    sg_stats s;
    sg_sim_stats(sim, &s);
    fprintf(stderr,
            "solver: %s, %ld steps, %ld right-hand sides, %ld Jacobians, %ld setups, "
            "%ld error-test failures, %ld nonlinear failures\n",
            s.sparse ? "KLU" : s.lapack_lu ? "dense (LAPACK LU)" : "dense", s.steps, s.rhs_evals, s.jac_evals, s.lin_setups,
            s.err_test_fails, s.nonlin_fails);
}

/* A model file: SBML (by extension .xml or .sbml) is imported, anything else
 * is a sigode model. */
int cli_is_sbml_path(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    return dot && (!strcmp(dot, ".xml") || !strcmp(dot, ".sbml"));
}

/* --backend auto: compiled C where it is known to pay. Models up to this
 * many states compile in about 5 s or less (GCC -O1, 1,000 species of the
 * benchmark network: 4.5 s). Not when the VM runs the program as machine
 * code (sg_model_vm_machine_code): compiled C then saves 1-4%
 * (scripts/bench/README.md, session 31). When the program is interpreted,
 * compiled C saves little more since the interpreter's superinstructions,
 * and the compile pays only from thousands of runs (session 32, 2 cores,
 * SIGODE_VM_JIT=0 against --backend native with an empty cache):
 * calcineurin ensembles of 200, 2,000 and 5,000 samples took 0.04, 0.38
 * and 0.94-1.00 s interpreted against 0.10-0.17, 0.41 and 0.97-0.98 s with
 * the compile; scans of the 1,000-species network at 200, 400 and 1,000
 * points 8.8, 18.3 and 42.2 s against 12.6, 21.2 and 45.0 s. Larger
 * models only on request (--backend native). */
#define AUTO_NATIVE_MAX_STATES 1000
#define AUTO_NATIVE_MIN_SIMULATIONS 5000

static long axis_size(const char *values, long points)
{
    if (!values)
        return points;
    long n = 1;
    for (const char *p = values; *p; p++)
        n += *p == ',';
    return n;
}

/* The simulations a command runs, for --backend auto: a scan's points (0
 * for the other commands of this dispatcher, which run a few). */
static long scan_simulations(const cli *c)
{
    if (strcmp(c->command, "scan") != 0)
        return 0;
    long n = axis_size(c->values_text, c->points);
    if (c->target2)
        n *= axis_size(c->values2_text, c->points2);
    return n;
}

sg_model *cli_load_model(const char *path, sg_error *err)
{
    if (!cli_is_sbml_path(path))
        return sg_model_load_file(path, err);
    /* a cache entry that is not used changes nothing but the time: a note */
    char note[1024];
    sg_model *m = sg_model_load_sbml_cached(path, note, sizeof note, err);
    if (note[0]) {
        fputs("sigode: note: ", stderr);
        cli_put_terminal_text(stderr, note, strlen(note)); /* names folders */
        fputc('\n', stderr);
    }
    return m;
}

/* Rewrites a list "a,b,c" of ids or names into ids (sg_model_resolve_id);
 * empty parts are kept for the command's own check. 0, or 2 reported. */
static int resolve_list(const cli *c, char **list)
{
    if (!*list)
        return 0;
    char *copy = strdup(*list), *out = calloc(1, 1);
    size_t have = 0;
    for (char *part = copy, *next = NULL; copy && out; part = next + 1) {
        next = strchr(part, ',');
        if (next)
            *next = '\0';
        const char *id;
        sg_error err = {0};
        if (sg_model_resolve_id(c->model, part, &id, &err) != SG_OK) {
            free(copy);
            free(out);
            return cli_report(&err);
        }
        char *grown = realloc(out, have + strlen(id) + 2);
        if (!grown)
            break;
        out = grown;
        have += (size_t)sprintf(out + have, "%s%s", part != copy ? "," : "", id);
        if (!next) {
            free(copy);
            free(*list);
            *list = out;
            return 0;
        }
    }
    free(copy);
    free(out);
    return cli_usage_error(c->command, "out of memory");
}

int cli_resolve_names(cli *c) { return resolve_list(c, &c->select) || resolve_list(c, &c->readout) ? 2 : 0; }

/* Switches to compiled C when asked (backend BACKEND_NATIVE), or for
 * BACKEND_AUTO when `simulations` runs of the model make it pay (above). A
 * compiler that is missing or fails is not an error: the instruction
 * program gives the same numbers, only slower; --backend native says so. */
void cli_apply_backend(const char *command, int backend, long simulations, sg_model *model)
{
    sg_error err = {0};
    if (backend == BACKEND_VM)
        return;
    if (backend == BACKEND_AUTO) {
        /* an object compiled before costs only its loading */
        if (sg_model_state_count(model) <= AUTO_NATIVE_MAX_STATES)
            sg_model_use_cached_native(model, &err);
        if (sg_model_backend(model) == SG_BACKEND_NATIVE ||
            sg_model_state_count(model) > AUTO_NATIVE_MAX_STATES ||
            simulations < AUTO_NATIVE_MIN_SIMULATIONS || sg_model_vm_machine_code(model))
            return;
    }
    if (sg_model_set_backend(model, SG_BACKEND_NATIVE, &err) != SG_OK && backend == BACKEND_NATIVE)
        fprintf(stderr, "sigode %s: note: %s; using the instruction program\n", command,
                err.message);
}

void cli_choose_backend(const cli *c, sg_model *model)
{
    cli_apply_backend(c->command, c->backend, scan_simulations(c), model);
}

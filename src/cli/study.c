/* Options, set-up and computation shared by `sigode ensemble` and `sigode gsa`. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/study.h"

/* Every MPI rank meets the same bad input: rank 0 alone says so. */
int study_usage(const char *command, const char *fmt, ...)
{
    if (study_mpi_rank() != 0)
        return 2;
    va_list ap;
    va_start(ap, fmt);
    int rc = cli_usage_verror(command, fmt, ap);
    va_end(ap);
    return rc;
}

int study_report(const sg_error *err)
{
    if (study_mpi_rank() != 0)
        return sg_status_exit_code(err->status);
    char msg[1200];
    sg_error_format(err, msg, sizeof msg);
    fprintf(stderr, "%s\n", msg);
    return sg_status_exit_code(err->status);
}

void study_number(char *buf, size_t size, double x)
{
    if (isnan(x)) {
        snprintf(buf, size, "nan");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

int study_split(char *text, const char ***out)
{
    int n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    const char **parts = calloc((size_t)n + 1, sizeof *parts);
    if (!parts)
        return -1;
    int k = 0;
    for (char *p = text;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p) {
            free(parts);
            return -1;
        }
        parts[k++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = parts;
    return k;
}

static int number(const char *cmd, const char *opt, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno == ERANGE || !isfinite(v))
        return study_usage(cmd, "%s expects a number, got '%s'", opt, text);
    *out = v;
    return 0;
}

static int count(const char *cmd, const char *opt, const char *text, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (!*text || *end || errno == ERANGE || v < min)
        return study_usage(cmd, "%s expects a whole number >= %ld, got '%s'", opt, min, text);
    *out = v;
    return 0;
}

enum {
    OPT_SCENARIO = 256, OPT_SET, OPT_T_END, OPT_POINTS, OPT_RTOL, OPT_ATOL, OPT_MAX_STEPS,
    OPT_BACKEND, OPT_TARGET, OPT_VALUES, OPT_FROM, OPT_TO, OPT_LOG, OPT_SAMPLES, OPT_SEED,
    OPT_SAMPLER, OPT_PARAMS, OPT_QUANTILES, OPT_JOBS, OPT_READOUT, OPT_PREEQ, OPT_FIT,
    OPT_OUTPUT, OPT_SAMPLES_OUTPUT, OPT_PLOT, OPT_CHECKPOINT, OPT_RESUME, OPT_FORMAT,
    OPT_METHOD, OPT_LEVELS, OPT_BOOTSTRAP, OPT_CONFIDENCE
};

static const struct option study_options[] = {
    {"scenario", required_argument, NULL, OPT_SCENARIO},
    {"set", required_argument, NULL, OPT_SET},
    {"t-end", required_argument, NULL, OPT_T_END},
    {"points", required_argument, NULL, OPT_POINTS},
    {"rtol", required_argument, NULL, OPT_RTOL},
    {"atol", required_argument, NULL, OPT_ATOL},
    {"max-steps", required_argument, NULL, OPT_MAX_STEPS},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"target", required_argument, NULL, OPT_TARGET},
    {"values", required_argument, NULL, OPT_VALUES},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"log", no_argument, NULL, OPT_LOG},
    {"samples", required_argument, NULL, OPT_SAMPLES},
    {"seed", required_argument, NULL, OPT_SEED},
    {"sampler", required_argument, NULL, OPT_SAMPLER},
    {"params", required_argument, NULL, OPT_PARAMS},
    {"quantiles", required_argument, NULL, OPT_QUANTILES},
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"readout", required_argument, NULL, OPT_READOUT},
    {"select", required_argument, NULL, OPT_READOUT},
    {"preequilibrate", no_argument, NULL, OPT_PREEQ},
    {"fit", required_argument, NULL, OPT_FIT},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"samples-output", required_argument, NULL, OPT_SAMPLES_OUTPUT},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"method", required_argument, NULL, OPT_METHOD},
    {"levels", required_argument, NULL, OPT_LEVELS},
    {"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
    {"confidence", required_argument, NULL, OPT_CONFIDENCE},
    {NULL, 0, NULL, 0}};

/* Options that do not change the records (left out of the checkpoint key). */
static int output_only(int code)
{
    return code == OPT_JOBS || code == OPT_OUTPUT || code == OPT_SAMPLES_OUTPUT ||
           code == OPT_PLOT || code == OPT_CHECKPOINT || code == OPT_RESUME ||
           code == OPT_FORMAT || code == OPT_QUANTILES || code == OPT_BOOTSTRAP ||
           code == OPT_CONFIDENCE;
}

static int gsa_only(int code)
{
    return code == OPT_METHOD || code == OPT_LEVELS || code == OPT_BOOTSTRAP ||
           code == OPT_CONFIDENCE;
}

static int parse_quantiles(study_opts *o, const char *text)
{
    char *copy = strdup(text);
    const char **parts = NULL;
    int n = copy ? study_split(copy, &parts) : -1;
    if (n <= 0 || n > STUDY_MAX_QUANTILES) {
        free(copy);
        return study_usage(o->command, "--quantiles expects 1 to %d numbers separated by "
                                       "commas, got '%s'", STUDY_MAX_QUANTILES, text);
    }
    for (int i = 0; i < n; i++) {
        if (number(o->command, "--quantiles", parts[i], &o->q[i])) {
            free(parts);
            free(copy);
            return 2;
        }
        if (!(o->q[i] > 0 && o->q[i] < 1)) {
            int rc = study_usage(o->command, "--quantiles: %s is not between 0 and 1 "
                                             "(exclusive)", parts[i]);
            free(parts);
            free(copy);
            return rc;
        }
    }
    o->nq = n;
    free(parts);
    free(copy);
    return 0;
}

sg_warnings *study_warnings;

int study_parse(study_opts *o, int argc, char **argv)
{
    const char *cmd = argv[1];
    int gsa = !strcmp(cmd, "gsa");
    memset(o, 0, sizeof *o);
    o->command = cmd;
    o->argc = argc;
    o->argv = argv;
    sg_options_default(&o->opt);
    o->opt.warnings = study_warnings;
    o->seed = 1;
    o->sampler = SG_SAMPLER_SOBOL;
    o->q[0] = 0.05, o->q[1] = 0.5, o->q[2] = 0.95;
    o->nq = 3;
    o->levels = 4;
    o->bootstrap = 500;
    o->confidence = 0.95;
    opterr = 0;
    optind = 0; /* full reinitialisation (glibc): the dispatcher parsed first */
    int code, index;
    while ((code = getopt_long(argc - 1, argv + 1, "", study_options, &index)) != -1) {
        if (code == '?' || code == ':') {
            const char *bad = argv[optind > 1 ? optind : 1];
            return study_usage(cmd, code == ':' ? "%s expects a value" : "unknown option '%s'",
                               bad);
        }
        if (gsa_only(code) && !gsa)
            return study_usage(cmd, "option --%s applies to 'gsa'", study_options[index].name);
        const char *a = optarg;
        long n = 0;
        double v = 0;
        switch (code) {
        case OPT_SCENARIO: o->scenario = a; break;
        case OPT_SET: {
            const char *eq = strchr(a, '=');
            if (!eq || eq == a)
                return study_usage(cmd, "--set expects NAME=VALUE, got '%s'", a);
            if (number(cmd, "--set", eq + 1, &v))
                return 2;
            const char **names = realloc(o->set_names, sizeof *names * (size_t)(o->nsets + 1));
            if (names)
                o->set_names = names;
            double *vals = realloc(o->set_values, sizeof *vals * (size_t)(o->nsets + 1));
            if (vals)
                o->set_values = vals;
            char *name = strndup(a, (size_t)(eq - a));
            if (!names || !vals || !name) {
                free(name);
                return study_usage(cmd, "out of memory");
            }
            o->set_names[o->nsets] = name;
            o->set_values[o->nsets++] = v;
            break;
        }
        case OPT_T_END:
            if (number(cmd, "--t-end", a, &o->t_end))
                return 2;
            o->has_t_end = 1;
            break;
        case OPT_POINTS:
            if (count(cmd, "--points", a, 2, &o->points))
                return 2;
            o->has_points = 1;
            break;
        case OPT_RTOL:
        case OPT_ATOL:
            if (number(cmd, code == OPT_RTOL ? "--rtol" : "--atol", a, &v))
                return 2;
            if (!(v > 0 && v < 1))
                return study_usage(cmd, "a tolerance is between 0 and 1, got '%s'", a);
            *(code == OPT_RTOL ? &o->opt.rtol : &o->opt.atol) = v;
            break;
        case OPT_MAX_STEPS:
            if (count(cmd, "--max-steps", a, 1, &o->opt.max_steps))
                return 2;
            break;
        case OPT_BACKEND:
            if (strcmp(a, "vm") && strcmp(a, "native") && strcmp(a, "auto"))
                return study_usage(cmd, "--backend expects auto, vm or native, got '%s'", a);
            o->backend = !strcmp(a, "vm")       ? BACKEND_VM
                         : !strcmp(a, "native") ? BACKEND_NATIVE
                                                : BACKEND_AUTO;
            break;
        case OPT_TARGET: o->target = a; break;
        case OPT_VALUES:
            free(o->values_text);
            o->values_text = strdup(a);
            break;
        case OPT_FROM:
            if (number(cmd, "--from", a, &o->from))
                return 2;
            o->has_from = 1;
            break;
        case OPT_TO:
            if (number(cmd, "--to", a, &o->to))
                return 2;
            o->has_to = 1;
            break;
        case OPT_LOG: o->log_scale = 1; break;
        case OPT_SAMPLES:
            if (count(cmd, "--samples", a, gsa ? 2 : 2, &o->samples))
                return 2;
            o->has_samples = 1;
            break;
        case OPT_SEED:
            if (count(cmd, "--seed", a, 0, &n))
                return 2;
            o->seed = (unsigned long)n;
            o->opt.seed = o->seed; /* and the random choices of each run (events) */
            break;
        case OPT_SAMPLER:
            if (!strcmp(a, "sobol"))
                o->sampler = SG_SAMPLER_SOBOL;
            else if (!strcmp(a, "lhs"))
                o->sampler = SG_SAMPLER_LHS;
            else if (!strcmp(a, "random"))
                o->sampler = SG_SAMPLER_RANDOM;
            else
                return study_usage(cmd, "--sampler expects sobol, lhs or random, got '%s'", a);
            break;
        case OPT_PARAMS:
            free(o->params);
            o->params = strcmp(a, "all") ? strdup(a) : NULL;
            break;
        case OPT_QUANTILES:
            if (parse_quantiles(o, a))
                return 2;
            break;
        case OPT_JOBS:
            if (count(cmd, "--jobs", a, 0, &n))
                return 2;
            o->jobs = n > 1024 ? 1024 : (int)n;
            break;
        case OPT_READOUT:
            free(o->outputs);
            o->outputs = strdup(a);
            break;
        case OPT_PREEQ: o->preequilibrate = 1; break;
        case OPT_FIT:
            if (strcmp(a, "hill"))
                return study_usage(cmd, "--fit expects 'hill', got '%s'", a);
            o->fit_hill = 1;
            break;
        case OPT_OUTPUT: o->output = a; break;
        case OPT_SAMPLES_OUTPUT: o->samples_output = a; break;
        case OPT_PLOT: o->plot = a; break;
        case OPT_CHECKPOINT: o->checkpoint = a; break;
        case OPT_RESUME: o->resume = 1; break;
        case OPT_FORMAT:
            if (!strcmp(a, "csv"))
                o->format = SG_FORMAT_CSV;
            else if (!strcmp(a, "tsv"))
                o->format = SG_FORMAT_TSV;
            else if (!strcmp(a, "json"))
                o->format = SG_FORMAT_JSON;
            else
                return study_usage(cmd, "--format expects csv, tsv or json, got '%s'", a);
            break;
        case OPT_METHOD:
            if (!strcmp(a, "sobol"))
                o->morris = 0;
            else if (!strcmp(a, "morris"))
                o->morris = 1;
            else
                return study_usage(cmd, "--method expects sobol or morris, got '%s'", a);
            break;
        case OPT_LEVELS:
            if (count(cmd, "--levels", a, 2, &n))
                return 2;
            if (n % 2 || n > 100)
                return study_usage(cmd, "--levels expects an even number from 2 to 100, got "
                                        "'%s'", a);
            o->levels = (int)n;
            break;
        case OPT_BOOTSTRAP:
            if (count(cmd, "--bootstrap", a, 0, &o->bootstrap))
                return 2;
            break;
        case OPT_CONFIDENCE:
            if (number(cmd, "--confidence", a, &o->confidence))
                return 2;
            if (!(o->confidence > 0 && o->confidence < 1))
                return study_usage(cmd, "--confidence is between 0 and 1 (exclusive), got '%s'",
                                   a);
            break;
        default:
            return study_usage(cmd, "unknown option");
        }
    }
    for (int i = optind + 1; i < argc; i++) {
        if (o->model_path)
            return study_usage(cmd, "unexpected argument '%s' (the model is '%s')", argv[i],
                               o->model_path);
        o->model_path = argv[i];
    }
    if (!o->model_path)
        return study_usage(cmd, "a MODEL file is expected");
    if (o->resume && !o->checkpoint)
        return study_usage(cmd, "--resume needs --checkpoint FILE (the file to resume from)");
    return 0;
}

char *study_key(int argc, char **argv)
{
    /* the command line without the options that only shape the output */
    size_t size = 64;
    for (int i = 1; i < argc; i++)
        size += strlen(argv[i]) + 1;
    char *key = calloc(1, size);
    if (!key)
        return NULL;
    opterr = 0;
    optind = 0; /* full reinitialisation (glibc) */
    int code, index;
    size_t len = 0;
    while ((code = getopt_long(argc - 1, argv + 1, "", study_options, &index)) != -1) {
        if (code == '?' || code == ':' || output_only(code))
            continue;
        len += (size_t)snprintf(key + len, size - len, "--%s%s%s ", study_options[index].name,
                                optarg ? "=" : "", optarg ? optarg : "");
    }
    for (int i = optind + 1; i < argc; i++)
        len += (size_t)snprintf(key + len, size - len, "%s ", argv[i]);
    return key;
}

void study_free(study_opts *o)
{
    for (int i = 0; i < o->nsets; i++)
        free((char *)o->set_names[i]);
    free(o->set_names);
    free(o->set_values);
    free(o->values_text);
    free(o->params);
    free(o->outputs);
}

int study_setup(const study_opts *o, sg_model **model, sg_experiment **exp)
{
    sg_error err = {0};
    *exp = NULL;
    *model = cli_load_model(o->model_path, &err);
    if (!*model)
        return study_report(&err);
    /* every sample is at least one simulation: a large enough ensemble or
     * sensitivity analysis pays for compiling a model whose instruction
     * program is interpreted (cli_apply_backend says from how many;
     * --backend native used to load only an object compiled before) */
    cli_apply_backend(o->command, o->backend, o->samples, *model);
    *exp = sg_experiment_create(*model, o->scenario, &err);
    int bad = !*exp || (o->has_t_end && sg_experiment_set_t_end(*exp, o->t_end, &err)) ||
              (o->has_points && !o->target && sg_experiment_set_points(*exp, o->points, &err));
    for (int i = 0; i < o->nsets && !bad; i++)
        bad = sg_experiment_set_value(*exp, o->set_names[i], o->set_values[i], &err) != SG_OK;
    if (bad) {
        sg_experiment_free(*exp);
        sg_model_free(*model);
        *exp = NULL;
        *model = NULL;
        return study_report(&err);
    }
    if (o->preequilibrate)
        sg_experiment_set_preequilibrate(*exp, 1);
    return 0;
}

int study_scan_values(study_opts *o, const sg_experiment *experiment, const char **target,
                      double **values)
{
    *values = NULL;
    *target = o->target;
    if (!o->target) {
        if (o->values_text || o->has_from || o->has_to || o->log_scale)
            return study_usage(o->command, "--values/--from/--to/--log need --target"), -1;
        const double *v;
        int n, log_scale;
        if (!sg_experiment_scan(experiment, target, &v, &n, &log_scale))
            return 0;
        *values = malloc(sizeof **values * (size_t)n);
        if (!*values)
            return study_usage(o->command, "out of memory"), -1;
        memcpy(*values, v, sizeof **values * (size_t)n);
        return n;
    }
    if (o->values_text) {
        char *copy = strdup(o->values_text);
        const char **parts = NULL;
        int n = copy ? study_split(copy, &parts) : -1;
        double *v = n > 0 ? malloc(sizeof *v * (size_t)n) : NULL;
        for (int i = 0; i < n && v; i++)
            if (number(o->command, "--values", parts[i], &v[i])) {
                free(v);
                v = NULL;
                n = -2;
            }
        free(parts);
        free(copy);
        if (!v) {
            if (n != -2)
                study_usage(o->command, "--values expects numbers separated by commas");
            return -1;
        }
        *values = v;
        return n;
    }
    if (!o->has_from || !o->has_to || !o->has_points)
        return study_usage(o->command, "--target needs --values V,V,... or --from, --to and "
                                       "--points"), -1;
    if (o->log_scale && !(o->from > 0 && o->to > 0))
        return study_usage(o->command, "--log needs positive --from and --to"), -1;
    int n = (int)(o->points > 100000 ? 100000 : o->points);
    double *v = malloc(sizeof *v * (size_t)n);
    if (!v)
        return study_usage(o->command, "out of memory"), -1;
    for (int i = 0; i < n; i++) {
        double f = (double)i / (double)(n - 1);
        v[i] = o->log_scale ? exp(log(o->from) + f * (log(o->to) - log(o->from)))
                            : o->from + f * (o->to - o->from);
    }
    v[0] = o->from;
    v[n - 1] = o->to;
    *values = v;
    return n;
}

int study_write_table(const study_opts *o, const sg_table *t, const char *path)
{
    sg_error err = {0};
    cli_begin_writing(); /* an interrupt waits until no temporary is left */
    sg_status st = path ? sg_table_write_file(t, o->format, path, &err)
                        : sg_table_write(t, o->format, stdout, &err);
    cli_end_writing();
    return st == SG_OK ? 0 : study_report(&err);
}

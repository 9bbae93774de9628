/*
 * Loading a PEtab v1 problem: the YAML file (libyaml), the SBML model
 * (sigode's importer), the parameter, observable, condition and
 * measurement tables, every reference between them checked with the file,
 * row and column of a bad one.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "petab.h"

/* ------------------------------------------------------------------ YAML */

/* Each table of a problem may be split over several files (PEtab v1
 * allows a list); sigode reads them as one table, rows in file order. */
typedef struct file_list {
    char **names;
    int n;
} file_list;

typedef struct yaml_paths {
    file_list parameter, sbml, measurement, condition, observable;
} yaml_paths;

static void file_list_free(file_list *l)
{
    for (int i = 0; i < l->n; i++)
        sg_free(l->names[i]);
    sg_free(l->names);
    memset(l, 0, sizeof *l);
}

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* `key` of the problem: a file name or a non-empty list of them. */
static sg_status files_of(yaml_document_t *doc, yaml_node_t *map, const char *key,
                          const char *path, file_list *out, sg_error *err)
{
    yaml_node_t *n = map_get(doc, map, key);
    int line = map ? (int)map->start_mark.line + 1 : 1;
    if (!n)
        return sg_error_set(err, SG_ERR_MODEL, path, line, 1, "the problem has no '%s'", key);
    yaml_node_item_t *items = NULL;
    int count = 1;
    if (n->type == YAML_SEQUENCE_NODE) {
        items = n->data.sequence.items.start;
        count = (int)(n->data.sequence.items.top - items);
        if (count < 1)
            return sg_error_set(err, SG_ERR_MODEL, path, (int)n->start_mark.line + 1,
                                (int)n->start_mark.column + 1, "'%s' lists no file", key);
    }
    if (!(out->names = sg_calloc((size_t)count, sizeof *out->names)))
        return sg_error_nomem(err);
    for (int i = 0; i < count; i++) {
        yaml_node_t *f = items ? yaml_document_get_node(doc, items[i]) : n;
        int fline = f ? (int)f->start_mark.line + 1 : line;
        int fcol = f ? (int)f->start_mark.column + 1 : 1;
        if (!f || f->type != YAML_SCALAR_NODE || f->data.scalar.length == 0)
            return sg_error_set(err, SG_ERR_MODEL, path, fline, fcol,
                                "'%s' must name a file", key);
        if (strlen((char *)f->data.scalar.value) != f->data.scalar.length)
            return sg_error_set(err, SG_ERR_MODEL, path, fline, fcol, "a NUL byte in '%s'",
                                key);
        if (!(out->names[i] = sg_strdup((char *)f->data.scalar.value)))
            return sg_error_nomem(err);
        out->n++;
    }
    return SG_OK;
}

static sg_status read_yaml(const char *path, yaml_paths *paths, sg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_error_set(err, SG_ERR_IO, path, 0, 0, "cannot read the PEtab problem");
    yaml_parser_t parser;
    yaml_document_t doc;
    sg_status st = SG_OK;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return sg_error_nomem(err);
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        st = sg_error_set(err, SG_ERR_MODEL, path, (int)parser.problem_mark.line + 1,
                          (int)parser.problem_mark.column + 1, "malformed YAML: %s%s%s",
                          parser.problem ? parser.problem : "error",
                          parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        fclose(f);
        return st;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        st = sg_error_set(err, SG_ERR_MODEL, path, root ? (int)root->start_mark.line + 1 : 1, 1,
                          "a PEtab problem is a YAML mapping (format_version, "
                          "parameter_file, problems)");
        goto done;
    }
    yaml_node_t *version = map_get(&doc, root, "format_version");
    if (!version || version->type != YAML_SCALAR_NODE) {
        st = sg_error_set(err, SG_ERR_MODEL, path, 1, 1, "no format_version");
        goto done;
    }
    const char *v = (const char *)version->data.scalar.value;
    if (strcmp(v, "1") && strcmp(v, "1.0.0") && strcmp(v, "1.0")) {
        st = sg_error_set(err, SG_ERR_MODEL, path, (int)version->start_mark.line + 1,
                          (int)version->start_mark.column + 1,
                          "format_version '%.40s': sigode reads PEtab version 1", v);
        goto done;
    }
    if ((st = files_of(&doc, root, "parameter_file", path, &paths->parameter, err)))
        goto done;
    yaml_node_t *problems = map_get(&doc, root, "problems");
    if (!problems || problems->type != YAML_SEQUENCE_NODE ||
        problems->data.sequence.items.top - problems->data.sequence.items.start != 1) {
        st = sg_error_set(err, SG_ERR_MODEL, path,
                          problems ? (int)problems->start_mark.line + 1 : 1,
                          problems ? (int)problems->start_mark.column + 1 : 1,
                          "'problems' must be a list of exactly one problem");
        goto done;
    }
    yaml_node_t *pb = yaml_document_get_node(&doc, *problems->data.sequence.items.start);
    if (!pb || pb->type != YAML_MAPPING_NODE) {
        st = sg_error_set(err, SG_ERR_MODEL, path, (int)problems->start_mark.line + 1, 1,
                          "the problem must be a mapping");
        goto done;
    }
    if ((st = files_of(&doc, pb, "sbml_files", path, &paths->sbml, err)) ||
        (st = files_of(&doc, pb, "measurement_files", path, &paths->measurement, err)) ||
        (st = files_of(&doc, pb, "condition_files", path, &paths->condition, err)) ||
        (st = files_of(&doc, pb, "observable_files", path, &paths->observable, err)))
        goto done;
    if (paths->sbml.n != 1) {
        yaml_node_t *n = map_get(&doc, pb, "sbml_files");
        st = sg_error_set(err, SG_ERR_MODEL, path, (int)n->start_mark.line + 1,
                          (int)n->start_mark.column + 1,
                          "'sbml_files' lists %d models; a PEtab v1 problem has one",
                          paths->sbml.n);
        goto done;
    }
done:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return st;
}

/* `file` relative to the directory of the YAML file. */
static char *beside(const char *yaml_path, const char *file)
{
    if (file[0] == '/')
        return sg_strdup(file);
    const char *slash = strrchr(yaml_path, '/');
    size_t dir = slash ? (size_t)(slash - yaml_path) + 1 : 0;
    char *out = sg_malloc(dir + strlen(file) + 1);
    if (!out)
        return NULL;
    memcpy(out, yaml_path, dir);
    strcpy(out + dir, file);
    return out;
}

/* ------------------------------------------------------------- helpers */

double sg_petab_to_scale(int scale, double value)
{
    return scale == SG_SCALE_LOG ? log(value) : scale == SG_SCALE_LOG10 ? log10(value) : value;
}

double sg_petab_from_scale(int scale, double value)
{
    return scale == SG_SCALE_LOG ? exp(value) : scale == SG_SCALE_LOG10 ? pow(10, value) : value;
}

static int is_identifier(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

/* A number of a table: also inf, -inf (bounds, times); NaN is `*nan`. */
static int parse_number(const char *text, double *out, int allow_inf)
{
    char *end;
    if (!*text)
        return -1;
    double v = strtod(text, &end);
    if (*end || end == text || isnan(v) || (!allow_inf && !isfinite(v)))
        return -1;
    *out = v;
    return 0;
}

static int is_nan_text(const char *s) { return !*s || !strcasecmp(s, "nan"); }

static int find_param(const sg_petab *p, const char *id)
{
    for (int i = 0; i < p->nparams; i++)
        if (!strcmp(p->params[i].id, id))
            return i;
    return -1;
}

static sg_status table_error(sg_error *err, const sg_tsv *t, int row, int col, const char *fmt,
                             ...) __attribute__((format(printf, 5, 6)));
static sg_status table_error(sg_error *err, const sg_tsv *t, int row, int col, const char *fmt,
                             ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* row: data row index (-1: the header); col: index (-1: none) */
    int file_col = col < 0 ? -1 : sg_tsv_file_column(t, row, col);
    return sg_error_set(err, SG_ERR_MODEL, row < 0 ? t->path : sg_tsv_row_path(t, row),
                        row < 0 ? 1 : t->line[row],
                        file_col < 0 ? 0 : file_col + 1, "%s%s%s%s", msg, col >= 0 ? " (column '" : "",
                        col >= 0 ? t->header[col] : "", col >= 0 ? "')" : "");
}

static sg_status required_columns(const sg_tsv *t, const char *const *names, int *cols,
                                  sg_error *err)
{
    for (int i = 0; names[i]; i++)
        if ((cols[i] = sg_tsv_column(t, names[i])) < 0)
            return sg_error_set(err, SG_ERR_MODEL, t->path, 1, 0,
                                "missing column '%s' in the header", names[i]);
    return SG_OK;
}

/* A value cell: a number, NaN/empty (if allowed), or a parameter id. */
static sg_status value_cell(sg_petab *p, const sg_tsv *t, int row, int col, const char *text,
                            int allow_nan, sg_petab_value *out, sg_error *err)
{
    out->param = -1;
    out->number = NAN;
    if (is_nan_text(text)) {
        if (!allow_nan)
            return table_error(err, t, row, col, "a value is required here, not '%s'",
                               *text ? text : "(empty)");
        return SG_OK;
    }
    if (parse_number(text, &out->number, 0) == 0)
        return SG_OK;
    int k = find_param(p, text);
    if (k < 0)
        return table_error(err, t, row, col,
                           "'%.100s' is neither a number nor a parameter of the parameter "
                           "table",
                           text);
    out->param = k;
    return SG_OK;
}

/* ---------------------------------------------------------- parameters */

static int parse_scale(const char *s)
{
    if (!strcmp(s, "lin"))
        return SG_SCALE_LIN;
    if (!strcmp(s, "log"))
        return SG_SCALE_LOG;
    if (!strcmp(s, "log10"))
        return SG_SCALE_LOG10;
    return -1;
}

static const struct {
    const char *name;
    int type;
} prior_names[] = {
    {"uniform", SG_PRIOR_UNIFORM},
    {"normal", SG_PRIOR_NORMAL},
    {"laplace", SG_PRIOR_LAPLACE},
    {"logNormal", SG_PRIOR_LOGNORMAL},
    {"logLaplace", SG_PRIOR_LOGLAPLACE},
    {"parameterScaleUniform", SG_PRIOR_PS_UNIFORM},
    {"parameterScaleNormal", SG_PRIOR_PS_NORMAL},
    {"parameterScaleLaplace", SG_PRIOR_PS_LAPLACE},
};

static sg_status read_parameters_table(sg_petab *p, sg_tsv *tp, sg_error *err);

static sg_status read_parameters(sg_petab *p, const file_list *files, sg_error *err)
{
    sg_tsv t;
    sg_status st = sg_tsv_read_all((const char *const *)files->names, files->n, &t, err);
    if (st)
        return st;
    st = read_parameters_table(p, &t, err);
    sg_tsv_free(&t);
    return st;
}

/* (the table is freed by the caller) */
static sg_status read_parameters_table(sg_petab *p, sg_tsv *tp, sg_error *err)
{
    sg_tsv t = *tp;
    sg_status st = SG_OK;
    static const char *const names[] = {"parameterId", "parameterScale", "lowerBound",
                                        "upperBound", "nominalValue", "estimate", NULL};
    int c[6];
    if ((st = required_columns(&t, names, c, err)))
        goto done;
    int c_prior = sg_tsv_column(&t, "objectivePriorType");
    int c_prior_par = sg_tsv_column(&t, "objectivePriorParameters");
    p->params = sg_arena_alloc(p->arena, sizeof *p->params * ((size_t)t.nrows + 1));
    p->estimated = sg_arena_alloc(p->arena, sizeof *p->estimated * ((size_t)t.nrows + 1));
    if (!p->params || !p->estimated) {
        st = sg_error_nomem(err);
        goto done;
    }
    for (int r = 0; r < t.nrows; r++) {
        sg_petab_param *q = &p->params[r];
        const char *id = sg_tsv_cell(&t, r, c[0]);
        q->row = t.line[r];
        if (!is_identifier(id)) {
            st = table_error(err, &t, r, c[0], "'%.100s' is not a valid parameter id", id);
            goto done;
        }
        if (find_param(p, id) >= 0) {
            st = table_error(err, &t, r, c[0], "parameter '%s' appears twice", id);
            goto done;
        }
        if (!(q->id = sg_arena_strdup(p->arena, id))) {
            st = sg_error_nomem(err);
            goto done;
        }
        p->nparams = r + 1;
        if ((q->scale = parse_scale(sg_tsv_cell(&t, r, c[1]))) < 0) {
            st = table_error(err, &t, r, c[1], "scale '%.40s': expected lin, log or log10",
                             sg_tsv_cell(&t, r, c[1]));
            goto done;
        }
        const char *est = sg_tsv_cell(&t, r, c[5]);
        if (strcmp(est, "0") && strcmp(est, "1")) {
            st = table_error(err, &t, r, c[5], "estimate must be 0 or 1, not '%.40s'", est);
            goto done;
        }
        q->estimate = est[0] == '1';
        if (parse_number(sg_tsv_cell(&t, r, c[4]), &q->nominal, 0)) {
            st = table_error(err, &t, r, c[4], "nominal value '%.40s' is not a finite number",
                             sg_tsv_cell(&t, r, c[4]));
            goto done;
        }
        const char *lo = sg_tsv_cell(&t, r, c[2]), *hi = sg_tsv_cell(&t, r, c[3]);
        q->lower = -INFINITY;
        q->upper = INFINITY;
        if ((q->estimate || *lo) && parse_number(lo, &q->lower, 1)) {
            st = table_error(err, &t, r, c[2], "lower bound '%.40s' is not a number", lo);
            goto done;
        }
        if ((q->estimate || *hi) && parse_number(hi, &q->upper, 1)) {
            st = table_error(err, &t, r, c[3], "upper bound '%.40s' is not a number", hi);
            goto done;
        }
        if (q->scale != SG_SCALE_LIN) {
            int bad_col = q->nominal <= 0 ? c[4] : (*lo && q->lower <= 0) ? c[2]
                                                 : (*hi && q->upper <= 0) ? c[3] : -1;
            if (bad_col >= 0) {
                st = table_error(err, &t, r, bad_col,
                                 "parameter '%s' is on a %s scale: its values must be positive",
                                 id, sg_tsv_cell(&t, r, c[1]));
                goto done;
            }
        }
        if (q->lower > q->upper) {
            st = table_error(err, &t, r, c[2], "lower bound %g is above the upper bound %g",
                             q->lower, q->upper);
            goto done;
        }
        if (q->nominal < q->lower || q->nominal > q->upper) {
            st = table_error(err, &t, r, c[4], "the bounds [%g, %g] exclude the nominal value %g",
                             q->lower, q->upper, q->nominal);
            goto done;
        }
        if (q->estimate && !(isfinite(q->lower) && isfinite(q->upper))) {
            st = table_error(err, &t, r, isfinite(q->lower) ? c[3] : c[2],
                             "an estimated parameter needs finite bounds (multi-start draws "
                             "within them)");
            goto done;
        }
        q->index = q->estimate ? p->nestimated : -1;
        if (q->estimate)
            p->estimated[p->nestimated++] = r;
        /* the model entity it sets */
        q->model_slot = sg_map_get(&p->model->symbols, id);
        if (q->model_slot >= 0) {
            sg_symbol_kind k = p->model->slot_kind[q->model_slot];
            if (k == SG_SYM_ASSIGNMENT || k == SG_SYM_TIME) {
                st = table_error(err, &t, r, c[0],
                                 "'%s' is computed by the model (an assignment), it cannot be "
                                 "a parameter",
                                 id);
                goto done;
            }
        }
        /* objective prior */
        q->prior = SG_PRIOR_NONE;
        const char *ptype = c_prior >= 0 ? sg_tsv_cell(&t, r, c_prior) : "";
        if (*ptype) {
            for (size_t k = 0; k < sizeof prior_names / sizeof *prior_names; k++)
                if (!strcmp(ptype, prior_names[k].name))
                    q->prior = prior_names[k].type;
            if (q->prior == SG_PRIOR_NONE) {
                st = table_error(err, &t, r, c_prior, "unknown prior type '%.60s'", ptype);
                goto done;
            }
            const char *pp = c_prior_par >= 0 ? sg_tsv_cell(&t, r, c_prior_par) : "";
            char buf[200];
            snprintf(buf, sizeof buf, "%s", pp);
            char *semi = strchr(buf, ';');
            if (semi)
                *semi = '\0';
            if (!*pp && (q->prior == SG_PRIOR_UNIFORM || q->prior == SG_PRIOR_PS_UNIFORM)) {
                /* bounds by default */
                q->prior_par[0] = q->prior == SG_PRIOR_UNIFORM ? q->lower
                                                               : sg_petab_to_scale(q->scale, q->lower);
                q->prior_par[1] = q->prior == SG_PRIOR_UNIFORM ? q->upper
                                                               : sg_petab_to_scale(q->scale, q->upper);
            } else if (!semi || parse_number(buf, &q->prior_par[0], 0) ||
                       parse_number(semi + 1, &q->prior_par[1], 0)) {
                st = table_error(err, &t, r, c_prior_par >= 0 ? c_prior_par : c_prior,
                                 "prior parameters must be two numbers separated by ';' (got "
                                 "'%.60s')",
                                 pp);
                goto done;
            } else if (q->prior != SG_PRIOR_UNIFORM && q->prior != SG_PRIOR_PS_UNIFORM &&
                       !(q->prior_par[1] > 0)) {
                st = table_error(err, &t, r, c_prior_par,
                                 "the prior's second parameter (its scale) must be positive");
                goto done;
            }
        }
    }
done:
    return st;
}

/* --------------------------------------------------------- observables */

typedef struct bind_ctx {
    sg_petab *p;
    const char *obs_id;
    int obs_first, obs_count;       /* placeholders of this formula */
    const char *prefix;             /* "observableParameter" or "noiseParameter" */
    int *max_index;                 /* largest placeholder number seen (first pass) */
    int counting;
} bind_ctx;

/* `observableParameter3_obs` -> 3 when the suffix is this observable. */
static int placeholder_number(const char *name, const char *prefix, const char *obs_id)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n))
        return 0;
    const char *s = name + n;
    if (!isdigit((unsigned char)*s))
        return 0;
    char *end;
    long k = strtol(s, &end, 10);
    if (*end != '_' || strcmp(end + 1, obs_id) || k < 1 || k > 1000)
        return 0;
    return (int)k;
}

static int resolve_observable(void *vctx, const char *name, int is_traj, char *msg, size_t size)
{
    bind_ctx *ctx = vctx;
    sg_petab *p = ctx->p;
    int slot = sg_map_get(&p->model->symbols, name);
    if (slot < 0 && (!strcmp(name, "time") || (!strcmp(name, "t") && find_param(p, "t") < 0)))
        return p->model->time_slot; /* PEtab's time is `time` (sympy's `t` too) */
    if (slot >= 0) {
        sg_symbol_kind k = p->model->slot_kind[slot];
        if (k == SG_SYM_PARAMETER || k == SG_SYM_COMPARTMENT) {
            int seen = 0;
            for (int i = 0; i < p->noutput_slots; i++)
                seen |= p->output_slots[i] == slot;
            if (!seen) {
                int *grown = sg_arena_alloc(p->arena, sizeof *grown * ((size_t)p->noutput_slots + 1));
                if (!grown) {
                    snprintf(msg, size, "out of memory");
                    return -1;
                }
                if (p->noutput_slots)
                    memcpy(grown, p->output_slots, sizeof *grown * (size_t)p->noutput_slots);
                grown[p->noutput_slots++] = slot;
                p->output_slots = grown;
            }
        }
        return slot;
    }
    int k = find_param(p, name);
    if (k >= 0)
        return p->obs_param_base + k;
    int n = placeholder_number(name, ctx->prefix, ctx->obs_id);
    if (n > 0) {
        if (ctx->counting) {
            if (n > *ctx->max_index)
                *ctx->max_index = n;
            return 0;
        }
        return p->obs_placeholder_base + ctx->obs_first + n - 1;
    }
    snprintf(msg, size,
             "unknown id '%.100s': not in the model, the parameter table or this "
             "observable's placeholders (%sN_%.60s)",
             name, ctx->prefix, ctx->obs_id);
    return -1;
}

static sg_status parse_formula(sg_petab *p, const sg_tsv *t, int row, int col, sg_arena *scratch,
                               bind_ctx *ctx, sg_expr **out, sg_error *err)
{
    const char *text = sg_tsv_cell(t, row, col);
    if (!*text)
        return table_error(err, t, row, col, "empty formula");
    /* Python's power operator, as in formulas written with sympy */
    char *copy = sg_arena_strdup(scratch, text);
    if (!copy)
        return sg_error_nomem(err);
    for (char *s = copy; (s = strstr(s, "**")) != NULL;)
        s[0] = '^', s[1] = ' ';
    sg_parse_error perr;
    sg_expr *tree = sg_expr_parse(scratch, copy, 0, &perr);
    if (!tree)
        return table_error(err, t, row, col, "at character %d of '%.100s': %s", perr.pos + 1,
                           text, perr.message);
    sg_expr *bound = sg_expr_bind(p->pool, tree, resolve_observable, ctx, &perr);
    if (!bound)
        return table_error(err, t, row, col, "at character %d of '%.100s': %s", perr.pos + 1,
                           text, perr.message);
    *out = bound;
    return SG_OK;
}

static sg_status read_observables_table(sg_petab *p, sg_tsv *tp, sg_error *err);

static sg_status read_observables(sg_petab *p, const file_list *files, sg_error *err)
{
    sg_tsv t;
    sg_status st = sg_tsv_read_all((const char *const *)files->names, files->n, &t, err);
    if (st)
        return st;
    st = read_observables_table(p, &t, err);
    sg_tsv_free(&t);
    return st;
}

/* (the table is freed by the caller) */
static sg_status read_observables_table(sg_petab *p, sg_tsv *tp, sg_error *err)
{
    sg_tsv t = *tp;
    sg_status st = SG_OK;
    static const char *const names[] = {"observableId", "observableFormula", "noiseFormula",
                                        NULL};
    int c[3];
    sg_arena *scratch = sg_arena_create();
    if (!scratch) {
        return sg_error_nomem(err);
    }
    if ((st = required_columns(&t, names, c, err)))
        goto done;
    int c_tr = sg_tsv_column(&t, "observableTransformation");
    int c_dist = sg_tsv_column(&t, "noiseDistribution");
    p->observables = sg_arena_alloc(p->arena, sizeof *p->observables * ((size_t)t.nrows + 1));
    if (!p->observables) {
        st = sg_error_nomem(err);
        goto done;
    }
    int nplaceholders = 0;
    for (int r = 0; r < t.nrows; r++) {
        sg_petab_observable *o = &p->observables[r];
        const char *id = sg_tsv_cell(&t, r, c[0]);
        o->row = t.line[r];
        if (!is_identifier(id)) {
            st = table_error(err, &t, r, c[0], "'%.100s' is not a valid observable id", id);
            goto done;
        }
        for (int k = 0; k < r; k++)
            if (!strcmp(p->observables[k].id, id)) {
                st = table_error(err, &t, r, c[0], "observable '%s' appears twice", id);
                goto done;
            }
        if ((!p->from_model && sg_map_get(&p->model->symbols, id) >= 0) || find_param(p, id) >= 0) {
            st = table_error(err, &t, r, c[0],
                             "observable id '%s' is already an id of the model or the "
                             "parameter table",
                             id);
            goto done;
        }
        if (!(o->id = sg_arena_strdup(p->arena, id))) {
            st = sg_error_nomem(err);
            goto done;
        }
        p->nobservables = r + 1;
        const char *tr = c_tr >= 0 ? sg_tsv_cell(&t, r, c_tr) : "";
        o->transform = *tr ? parse_scale(tr) : SG_SCALE_LIN;
        if (o->transform < 0) {
            st = table_error(err, &t, r, c_tr, "transformation '%.40s': expected lin, log or log10",
                             tr);
            goto done;
        }
        const char *dist = c_dist >= 0 ? sg_tsv_cell(&t, r, c_dist) : "";
        if (!*dist || !strcmp(dist, "normal"))
            o->distribution = SG_NOISE_NORMAL;
        else if (!strcmp(dist, "laplace"))
            o->distribution = SG_NOISE_LAPLACE;
        else {
            st = table_error(err, &t, r, c_dist, "noise distribution '%.40s': expected normal or laplace",
                             dist);
            goto done;
        }
    }
    /* placeholders first (counted), so that their slots are known when
     * the formulas are bound */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            p->obs_param_base = p->model->nslots;
            p->obs_placeholder_base = p->obs_param_base + p->nparams;
            p->nobs_slots = p->obs_placeholder_base + nplaceholders;
        }
        for (int r = 0; r < t.nrows; r++) {
            sg_petab_observable *o = &p->observables[r];
            int nobs = 0, nnoise = 0;
            bind_ctx ctx = {p, o->id, 0, 0, "observableParameter", &nobs, pass == 0};
            if (pass == 1) {
                ctx.obs_first = o->first_obs_placeholder;
                ctx.obs_count = o->nobs_placeholders;
            }
            sg_expr *formula, *noise;
            if ((st = parse_formula(p, &t, r, c[1], scratch, &ctx, &formula, err)))
                goto done;
            bind_ctx nctx = {p, o->id, 0, 0, "noiseParameter", &nnoise, pass == 0};
            if (pass == 1) {
                nctx.obs_first = o->first_noise_placeholder;
                nctx.obs_count = o->nnoise_placeholders;
            }
            if ((st = parse_formula(p, &t, r, c[2], scratch, &nctx, &noise, err)))
                goto done;
            if (pass == 0) {
                o->first_obs_placeholder = nplaceholders;
                o->nobs_placeholders = nobs;
                o->first_noise_placeholder = nplaceholders + nobs;
                o->nnoise_placeholders = nnoise;
                nplaceholders += nobs + nnoise;
            } else {
                o->formula = formula;
                o->noise = noise;
            }
            sg_arena_reset(scratch);
        }
    }
done:
    sg_arena_free(scratch);
    return st;
}

/* ---------------------------------------------------------- conditions */

static int find_condition(const sg_petab *p, const char *id)
{
    for (int i = 0; i < p->nconditions; i++)
        if (!strcmp(p->conditions[i].id, id))
            return i;
    return -1;
}

static sg_status read_conditions_table(sg_petab *p, sg_tsv *tp, sg_error *err);

static sg_status read_conditions(sg_petab *p, const file_list *files, sg_error *err)
{
    sg_tsv t;
    sg_status st = sg_tsv_read_all((const char *const *)files->names, files->n, &t, err);
    if (st)
        return st;
    st = read_conditions_table(p, &t, err);
    sg_tsv_free(&t);
    return st;
}

/* (the table is freed by the caller) */
static sg_status read_conditions_table(sg_petab *p, sg_tsv *tp, sg_error *err)
{
    sg_tsv t = *tp;
    sg_status st = SG_OK;
    int c_id = sg_tsv_column(&t, "conditionId");
    if (c_id < 0) {
        st = sg_error_set(err, SG_ERR_MODEL, t.path, 1, 0, "missing column 'conditionId'");
        goto done;
    }
    int c_name = sg_tsv_column(&t, "conditionName");
    p->cond_slot = sg_arena_alloc(p->arena, sizeof *p->cond_slot * ((size_t)t.ncols + 1));
    p->cond_column = sg_arena_alloc(p->arena, sizeof *p->cond_column * ((size_t)t.ncols + 1));
    int *column_of = sg_arena_alloc(p->arena, sizeof *column_of * ((size_t)t.ncols + 1));
    p->conditions = sg_arena_alloc(p->arena, sizeof *p->conditions * ((size_t)t.nrows + 1));
    if (!p->cond_slot || !p->cond_column || !column_of || !p->conditions) {
        st = sg_error_nomem(err);
        goto done;
    }
    for (int c = 0; c < t.ncols; c++) {
        if (c == c_id || c == c_name)
            continue;
        const char *id = t.header[c];
        int slot = sg_map_get(&p->model->symbols, id);
        if (slot < 0 || p->model->slot_kind[slot] == SG_SYM_ASSIGNMENT ||
            p->model->slot_kind[slot] == SG_SYM_TIME) {
            st = table_error(err, &t, -1, c,
                             slot < 0 ? "'%s' is not a parameter, species or compartment of "
                                        "the model"
                                      : "'%s' is computed by the model, a condition cannot "
                                        "set it",
                             id);
            goto done;
        }
        if (find_param(p, id) >= 0 && p->params[find_param(p, id)].estimate) {
            st = table_error(err, &t, -1, c,
                             "'%s' is estimated in the parameter table; a condition cannot "
                             "also set it",
                             id);
            goto done;
        }
        column_of[p->ncond_columns] = c;
        p->cond_slot[p->ncond_columns] = slot;
        p->cond_column[p->ncond_columns] = sg_arena_strdup(p->arena, id);
        p->ncond_columns++;
    }
    for (int r = 0; r < t.nrows; r++) {
        sg_petab_condition *cd = &p->conditions[r];
        const char *id = sg_tsv_cell(&t, r, c_id);
        cd->row = t.line[r];
        if (!is_identifier(id)) {
            st = table_error(err, &t, r, c_id, "'%.100s' is not a valid condition id", id);
            goto done;
        }
        if (find_condition(p, id) >= 0) {
            st = table_error(err, &t, r, c_id, "condition '%s' appears twice", id);
            goto done;
        }
        cd->id = sg_arena_strdup(p->arena, id);
        cd->values = sg_arena_alloc(p->arena, sizeof *cd->values * ((size_t)p->ncond_columns + 1));
        if (!cd->id || !cd->values) {
            st = sg_error_nomem(err);
            goto done;
        }
        p->nconditions = r + 1;
        for (int k = 0; k < p->ncond_columns; k++) {
            int c = column_of[k];
            if ((st = value_cell(p, &t, r, c, sg_tsv_cell(&t, r, c), 1, &cd->values[k], err)))
                goto done;
            double v = cd->values[k].number;
            sg_symbol_kind kind = p->model->slot_kind[p->cond_slot[k]];
            if (cd->values[k].param < 0 && !isnan(v) &&
                ((kind == SG_SYM_SPECIES && v < 0) || (kind == SG_SYM_COMPARTMENT && v <= 0))) {
                st = table_error(err, &t, r, c, "%s '%s' cannot be %g",
                                 kind == SG_SYM_SPECIES ? "species" : "compartment",
                                 p->cond_column[k], v);
                goto done;
            }
        }
    }
done:
    return st;
}

/* -------------------------------------------------------- measurements */

static sg_status overrides(sg_petab *p, const sg_tsv *t, int r, int c, int expected,
                           const char *what, sg_petab_value **out, int *count, sg_error *err)
{
    const char *text = c >= 0 ? sg_tsv_cell(t, r, c) : "";
    *out = NULL;
    *count = 0;
    if (!*text) {
        if (expected > 0)
            return table_error(err, t, r, c, "observable needs %d %s (separated by ';')",
                               expected, what);
        return SG_OK;
    }
    int n = 1;
    for (const char *s = text; *s; s++)
        n += *s == ';';
    if (n != expected)
        return table_error(err, t, r, c, "%d %s given, the observable's formula has %d", n,
                           what, expected);
    sg_petab_value *v = sg_arena_alloc(p->arena, sizeof *v * (size_t)n);
    char *copy = sg_arena_strdup(p->arena, text);
    if (!v || !copy)
        return sg_error_nomem(err);
    char *save = NULL, *s = copy;
    for (int k = 0; k < n; k++) {
        char *semi = strchr(s, ';');
        if (semi)
            *semi = '\0';
        while (*s == ' ')
            s++;
        size_t l = strlen(s);
        while (l > 0 && s[l - 1] == ' ')
            s[--l] = '\0';
        sg_status st = value_cell(p, t, r, c, s, 0, &v[k], err);
        if (st)
            return st;
        s = semi ? semi + 1 : s + l;
    }
    (void)save;
    *out = v;
    *count = n;
    return SG_OK;
}

static int double_order(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static sg_status read_measurements(sg_petab *p, const file_list *files, sg_error *err)
{
    sg_tsv *t = &p->measurement_table;
    sg_status st = sg_tsv_read_all((const char *const *)files->names, files->n, t, err);
    if (st)
        return st;
    static const char *const names[] = {"observableId", "simulationConditionId", "time",
                                        "measurement", NULL};
    static const char *const model_names[] = {"observableId", "time", "measurement", NULL};
    int c[4];
    if (p->from_model) {
        /* conditions are optional: the model as written */
        int mc[3];
        if ((st = required_columns(t, model_names, mc, err)))
            return st;
        c[0] = mc[0];
        c[1] = sg_tsv_column(t, "simulationConditionId");
        c[2] = mc[1];
        c[3] = mc[2];
    } else if ((st = required_columns(t, names, c, err)))
        return st;
    int c_pre = sg_tsv_column(t, "preequilibrationConditionId");
    int c_op = sg_tsv_column(t, "observableParameters");
    int c_np = sg_tsv_column(t, "noiseParameters");
    p->measurements = sg_arena_alloc(p->arena, sizeof *p->measurements * ((size_t)t->nrows + 1));
    p->experiments = sg_arena_alloc(p->arena, sizeof *p->experiments * ((size_t)t->nrows + 1));
    if (!p->measurements || !p->experiments)
        return sg_error_nomem(err);
    if (t->nrows == 0)
        return sg_error_set(err, SG_ERR_MODEL, t->path, 1, 0, "no measurements");
    for (int r = 0; r < t->nrows; r++) {
        sg_petab_measurement *m = &p->measurements[r];
        m->row = t->line[r];
        m->file = sg_tsv_row_path(t, r);
        const char *obs = sg_tsv_cell(t, r, c[0]);
        m->observable = -1;
        for (int k = 0; k < p->nobservables; k++)
            if (!strcmp(p->observables[k].id, obs))
                m->observable = k;
        if (m->observable < 0)
            return table_error(err, t, r, c[0], p->from_model
                                                    ? "unknown observable '%.100s' (not a "
                                                      "species or assignment of the model)"
                                                    : "unknown observable '%.100s'",
                               obs);
        const char *cond = c[1] >= 0 ? sg_tsv_cell(t, r, c[1]) : "";
        if (p->from_model && !*cond)
            cond = "default";
        if ((m->condition = find_condition(p, cond)) < 0)
            return table_error(err, t, r, c[1], "unknown condition '%.100s' (not in the "
                               "condition table %s)", cond, p->condition_path);
        const char *pre = c_pre >= 0 ? sg_tsv_cell(t, r, c_pre) : "";
        m->preeq = -1;
        if (*pre && (m->preeq = find_condition(p, pre)) < 0)
            return table_error(err, t, r, c_pre, "unknown condition '%.100s' (not in the "
                               "condition table %s)", pre, p->condition_path);
        const char *time = sg_tsv_cell(t, r, c[2]);
        if (parse_number(time, &m->time, 1) || m->time < 0 || m->time == -INFINITY)
            return table_error(err, t, r, c[2],
                               "time '%.40s' must be a number >= 0 or inf (steady state)", time);
        const char *val = sg_tsv_cell(t, r, c[3]);
        if (parse_number(val, &m->value, 0))
            return table_error(err, t, r, c[3], "measurement '%.40s' is not a finite number",
                               val);
        const sg_petab_observable *o = &p->observables[m->observable];
        if (o->transform != SG_SCALE_LIN && m->value <= 0)
            return table_error(err, t, r, c[3],
                               "measurement %g of observable '%s' must be positive: its "
                               "transformation is log",
                               m->value, o->id);
        if ((st = overrides(p, t, r, c_op, o->nobs_placeholders, "observable parameters",
                            &m->obs_pars, &m->nobs_pars, err)) ||
            (st = overrides(p, t, r, c_np, o->nnoise_placeholders, "noise parameters",
                            &m->noise_pars, &m->nnoise_pars, err)))
            return st;
        /* its simulation */
        int e = 0;
        for (; e < p->nexperiments; e++)
            if (p->experiments[e].condition == m->condition && p->experiments[e].preeq == m->preeq)
                break;
        if (e == p->nexperiments) {
            p->experiments[e] = (sg_petab_experiment){m->condition, m->preeq, NULL, 0, 0, 0};
            p->nexperiments++;
        }
        m->experiment = e;
    }
    p->nmeasurements = t->nrows;
    /* each simulation's distinct finite times */
    for (int e = 0; e < p->nexperiments; e++) {
        sg_petab_experiment *x = &p->experiments[e];
        int n = 0;
        for (int r = 0; r < t->nrows; r++)
            n += p->measurements[r].experiment == e;
        x->times = sg_arena_alloc(p->arena, sizeof *x->times * ((size_t)n + 1));
        if (!x->times)
            return sg_error_nomem(err);
        for (int r = 0; r < t->nrows; r++) {
            const sg_petab_measurement *m = &p->measurements[r];
            if (m->experiment != e)
                continue;
            if (isinf(m->time))
                x->steady = 1;
            else
                x->times[x->ntimes++] = m->time;
        }
        qsort(x->times, (size_t)x->ntimes, sizeof *x->times, double_order);
        int k = 0;
        for (int i = 0; i < x->ntimes; i++)
            if (k == 0 || x->times[i] != x->times[k - 1])
                x->times[k++] = x->times[i];
        x->ntimes = k;
    }
    return SG_OK;
}

/* ---------------------------------------------------------------- load */

/* sigode fit MODEL --data: the problem from tables made in memory */
sg_status sg_petab_read_tables(sg_petab *p, sg_tsv *params, sg_tsv *observables,
                               sg_tsv *conditions, sg_error *err)
{
    sg_status st;
    if ((st = read_parameters_table(p, params, err)) ||
        (st = read_observables_table(p, observables, err)) ||
        (st = read_conditions_table(p, conditions, err)))
        return st;
    file_list measurements = {&p->measurement_path, 1};
    if ((st = read_measurements(p, &measurements, err)))
        return st;
    return SG_OK;
}

void sg_petab_free(sg_petab *p)
{
    if (!p)
        return;
    sg_petab_free_sensitivities(p);
    sg_model_free(p->model);
    sg_pool_free(p->pool);
    sg_tsv_free(&p->measurement_table);
    sg_free(p->yaml_path);
    sg_free(p->model_path);
    sg_free(p->measurement_path);
    sg_free(p->condition_path);
    sg_free(p->observable_path);
    sg_free(p->parameter_path);
    sg_arena_free(p->arena);
    sg_free(p);
}

sg_petab *sg_petab_load(const char *yaml_path, sg_error *err)
{
    sg_petab *p = sg_calloc(1, sizeof *p);
    yaml_paths paths = {0};
    sg_status st = SG_OK;
    if (!p || !(p->arena = sg_arena_create()) || !(p->pool = sg_pool_create()) ||
        !(p->yaml_path = sg_strdup(yaml_path))) {
        sg_error_nomem(err);
        goto fail;
    }
    if ((st = read_yaml(yaml_path, &paths, err)))
        goto fail;
    file_list *lists[] = {&paths.sbml, &paths.measurement, &paths.condition, &paths.observable,
                          &paths.parameter};
    for (size_t k = 0; k < sizeof lists / sizeof *lists; k++)
        for (int i = 0; i < lists[k]->n; i++) {
            char *full = beside(yaml_path, lists[k]->names[i]);
            if (!full) {
                sg_error_nomem(err);
                goto fail;
            }
            sg_free(lists[k]->names[i]);
            lists[k]->names[i] = full;
        }
    /* the first file of each table names it in messages */
    if (!(p->model_path = sg_strdup(paths.sbml.names[0])) ||
        !(p->measurement_path = sg_strdup(paths.measurement.names[0])) ||
        !(p->condition_path = sg_strdup(paths.condition.names[0])) ||
        !(p->observable_path = sg_strdup(paths.observable.names[0])) ||
        !(p->parameter_path = sg_strdup(paths.parameter.names[0]))) {
        sg_error_nomem(err);
        goto fail;
    }
    if (!(p->model = sg_model_load_sbml(p->model_path, err)))
        goto fail;
    if ((st = read_parameters(p, &paths.parameter, err)) ||
        (st = read_observables(p, &paths.observable, err)) ||
        (st = read_conditions(p, &paths.condition, err)) ||
        (st = read_measurements(p, &paths.measurement, err)))
        goto fail;
    for (size_t k = 0; k < sizeof lists / sizeof *lists; k++)
        file_list_free(lists[k]);
    return p;
fail:
    file_list_free(&paths.parameter);
    file_list_free(&paths.sbml);
    file_list_free(&paths.measurement);
    file_list_free(&paths.condition);
    file_list_free(&paths.observable);
    sg_petab_free(p);
    return NULL;
}

int sg_petab_parameter_count(const sg_petab *p) { return p->nparams; }
int sg_petab_estimated_count(const sg_petab *p) { return p->nestimated; }
int sg_petab_measurement_count(const sg_petab *p) { return p->nmeasurements; }
const char *sg_petab_parameter_id(const sg_petab *p, int i) { return p->params[i].id; }

double sg_petab_unscale(int scale, double value) { return sg_petab_from_scale(scale, value); }

/*
 * PEtab tables sigode writes (simulations, estimated parameters) and the
 * parameter table it reads back (--parameters).
 */
#include <math.h>
#include <string.h>

#include "petab.h"

int sg_petab_parameter_estimated_index(const sg_petab *p, int i) { return p->params[i].index; }
int sg_petab_parameter_scale(const sg_petab *p, int i) { return p->params[i].scale; }
double sg_petab_parameter_lower(const sg_petab *p, int i) { return p->params[i].lower; }
double sg_petab_parameter_upper(const sg_petab *p, int i) { return p->params[i].upper; }
double sg_petab_parameter_nominal(const sg_petab *p, int i) { return p->params[i].nominal; }

static const char *scale_name(int scale)
{
    return scale == SG_SCALE_LOG ? "log" : scale == SG_SCALE_LOG10 ? "log10" : "lin";
}

sg_status sg_petab_read_parameters(const sg_petab *p, const char *path, double *x, sg_error *err)
{
    sg_tsv t;
    sg_status st = sg_tsv_read(path, &t, err);
    if (st)
        return st;
    int c_id = sg_tsv_column(&t, "parameterId"), c_val = sg_tsv_column(&t, "nominalValue");
    if (c_id < 0 || c_val < 0) {
        st = sg_error_set(err, SG_ERR_MODEL, path, 1, 0,
                          "missing column '%s' in the header",
                          c_id < 0 ? "parameterId" : "nominalValue");
        goto done;
    }
    unsigned char *seen = sg_calloc((size_t)p->nestimated + 1, 1);
    if (!seen) {
        st = sg_error_nomem(err);
        goto done;
    }
    for (int r = 0; r < t.nrows; r++) {
        const char *id = sg_tsv_cell(&t, r, c_id);
        int k = -1;
        for (int i = 0; i < p->nparams; i++)
            if (!strcmp(p->params[i].id, id))
                k = i;
        if (k < 0) {
            st = sg_error_set(err, SG_ERR_MODEL, path, t.line[r], c_id + 1,
                              "'%.100s' is not a parameter of the problem's parameter table", id);
            break;
        }
        const sg_petab_param *q = &p->params[k];
        if (q->index < 0)
            continue; /* fixed: the problem's value stands */
        const char *text = sg_tsv_cell(&t, r, c_val);
        double v;
        if (sg_parse_double(text, &v) != 0 || (q->scale != SG_SCALE_LIN && v <= 0)) {
            st = sg_error_set(err, SG_ERR_MODEL, path, t.line[r], c_val + 1,
                              "value '%.40s' of '%s' is not a %snumber", text, id,
                              q->scale != SG_SCALE_LIN ? "positive " : "");
            break;
        }
        x[q->index] = sg_petab_to_scale(q->scale, v);
        seen[q->index] = 1;
    }
    for (int k = 0; st == SG_OK && k < p->nestimated; k++)
        if (!seen[k])
            st = sg_error_set(err, SG_ERR_MODEL, path, 0, 0,
                              "estimated parameter '%s' is missing", p->params[p->estimated[k]].id);
    sg_free(seen);
done:
    sg_tsv_free(&t);
    return st;
}

typedef struct param_ctx {
    const sg_petab *p;
    const double *x;
} param_ctx;

static void write_number(FILE *out, double v)
{
    if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", out);
    else
        fprintf(out, "%.17g", v);
}

static sg_status write_params(void *vctx, FILE *out, sg_error *err)
{
    const param_ctx *ctx = vctx;
    const sg_petab *p = ctx->p;
    fputs("parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n", out);
    for (int i = 0; i < p->nparams; i++) {
        const sg_petab_param *q = &p->params[i];
        double v = q->index >= 0 ? sg_petab_from_scale(q->scale, ctx->x[q->index]) : q->nominal;
        fprintf(out, "%s\t%s\t", q->id, scale_name(q->scale));
        write_number(out, q->lower);
        fputc('\t', out);
        write_number(out, q->upper);
        fputc('\t', out);
        write_number(out, v);
        fprintf(out, "\t%d\n", q->estimate);
    }
    return ferror(out) ? sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "write failed") : SG_OK;
}

sg_status sg_petab_write_parameters(const sg_petab *p, const double *x, const char *path,
                                    sg_error *err)
{
    param_ctx ctx = {p, x};
    return sg_write_atomic(path, write_params, &ctx, err);
}

typedef struct sim_ctx {
    const sg_petab *p;
    const double *sims;
} sim_ctx;

static sg_status write_sims(void *vctx, FILE *out, sg_error *err)
{
    const sim_ctx *ctx = vctx;
    const sg_tsv *t = &ctx->p->measurement_table;
    int c_meas = sg_tsv_column(t, "measurement");
    for (int c = 0; c < t->ncols; c++)
        fprintf(out, "%s%s", c ? "\t" : "", c == c_meas ? "simulation" : t->header[c]);
    fputc('\n', out);
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c)
                fputc('\t', out);
            if (c == c_meas)
                write_number(out, ctx->sims[r]);
            else
                fputs(sg_tsv_cell(t, r, c), out);
        }
        fputc('\n', out);
    }
    return ferror(out) ? sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "write failed") : SG_OK;
}

sg_status sg_petab_write_simulations(const sg_petab *p, const double *sims, const char *path,
                                     sg_error *err)
{
    sim_ctx ctx = {p, sims};
    return sg_write_atomic(path, write_sims, &ctx, err);
}

/*
 * `sigode verify --falsify`: are the model's checks able to fail?
 *
 * A check that passes whatever the mechanism does is no evidence. This knocks
 * out each reaction in turn (rate x 0) and scales each mechanistic parameter
 * by 0.01 and by 100, runs every check on each perturbed model, and reports
 * which checks each perturbation makes fail. From that table it lists the
 * behaviour checks no perturbation can fail, the mechanisms no check
 * notices, and whether each check's own negative controls (`knockouts`)
 * make it fail as they should.
 *
 * The model is perturbed in place and restored after each run (a reaction's
 * rate node swapped for 0 and the program recompiled; a parameter's start
 * value scaled): no copy of a large model, no reload.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../compile/program.h"
#include "../model/model.h"

/* Which parameters are perturbed: those tagged with a `mechanism`, or,
 * when the model tags none, all of them. */
static int perturbs_parameter(const sg_model *m, int i, int any_tagged)
{
    return !any_tagged || m->parameters[i].mechanism;
}

static sg_status recompile(sg_model *m, sg_error *err)
{
    sg_program *prog = NULL;
    sg_status st = sg_program_compile(m, &prog, err);
    if (st != SG_OK)
        return st;
    sg_program_free(m->program);
    m->program = prog;
    return SG_OK;
}

/* Runs every check; fails[c] = 1 when check c fails or cannot run. */
static sg_status run_checks(sg_model *m, const sg_options *opt, unsigned char *fails,
                            int *nfailed)
{
    sg_check_result *res = NULL;
    int count = 0;
    sg_error local = {0};
    sg_status st = sg_verify(m, opt, &res, &count, &local);
    if (!res)
        return st == SG_OK ? SG_ERR_NOMEM : st;
    *nfailed = 0;
    for (int c = 0; c < count; c++) {
        fails[c] = !res[c].passed;
        *nfailed += fails[c];
    }
    sg_free(res);
    return SG_OK;
}

/* Applies one perturbation (is_reaction, index, factor), runs the checks
 * into fails, and restores the model. */
static sg_status perturbed_run(sg_model *m, const sg_options *opt, int is_reaction, int index,
                               double factor, unsigned char *fails, int *nfailed,
                               sg_error *err)
{
    sg_status st;
    if (is_reaction) {
        sg_reaction_def *r = &m->reactions[index];
        sg_expr *saved = r->rate;
        sg_expr *zero = sg_pool_num(m->pool, 0.0);
        sg_expr *scaled = zero && factor != 0.0
                              ? sg_pool_op(m->pool, EX_MUL, 0, sg_pool_num(m->pool, factor),
                                           saved, NULL)
                              : zero;
        if (!scaled)
            return sg_error_nomem(err);
        r->rate = scaled;
        st = recompile(m, err);
        if (st == SG_OK)
            st = run_checks(m, opt, fails, nfailed);
        r->rate = saved;
        sg_status back = recompile(m, err);
        return st != SG_OK ? st : back;
    }
    /* the start value lives in the model and in the program's copy of it
     * (program.c: base), which every simulation starts from */
    sg_parameter_def *p = &m->parameters[index];
    double saved = m->initial_values[p->slot], saved_value = p->value;
    double saved_base = m->program->base[p->slot];
    m->initial_values[p->slot] = saved * factor;
    m->program->base[p->slot] = saved_base * factor;
    p->value = saved_value * factor;
    st = run_checks(m, opt, fails, nfailed);
    m->initial_values[p->slot] = saved;
    m->program->base[p->slot] = saved_base;
    p->value = saved_value;
    return st;
}

static int add_mechanism(sg_falsify_result *r, const char *name)
{
    for (int i = 0; i < r->nmechanisms; i++)
        if (strcmp(r->mechanisms[i].name, name) == 0)
            return i;
    sg_falsify_mechanism *grown =
        sg_realloc(r->mechanisms, sizeof *grown * (size_t)(r->nmechanisms + 1));
    if (!grown)
        return -1;
    r->mechanisms = grown;
    memset(&grown[r->nmechanisms], 0, sizeof grown[0]);
    snprintf(grown[r->nmechanisms].name, sizeof grown[0].name, "%s", name);
    return r->nmechanisms++;
}

void sg_falsify_free(sg_falsify_result *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->nrows; i++)
        sg_free(r->rows[i].fails);
    sg_free(r->rows);
    sg_free(r->check_ids);
    sg_free(r->conservation);
    sg_free(r->baseline_fails);
    sg_free(r->times_failed);
    sg_free(r->controls);
    sg_free(r->mechanisms);
    sg_free(r);
}

sg_status sg_falsify(sg_model *m, const sg_options *opt, sg_falsify_result **out,
                     sg_error *err)
{
    *out = NULL;
    if (m->nchecks == 0)
        return sg_error_set(err, SG_ERR_USAGE, m->path, 0, 0,
                            "model '%s' has no checks to falsify", m->name);
    sg_backend backend = sg_model_backend(m);
    if (backend != SG_BACKEND_VM) { /* every perturbation recompiles */
        sg_status st = sg_model_set_backend(m, SG_BACKEND_VM, err);
        if (st != SG_OK)
            return st;
    }
    int any_tagged = 0;
    for (int i = 0; i < m->nparameters; i++)
        any_tagged |= m->parameters[i].mechanism != NULL;
    int nrows = m->nreactions;
    for (int i = 0; i < m->nparameters; i++)
        nrows += 2 * perturbs_parameter(m, i, any_tagged);
    int ncontrols = 0;
    for (int c = 0; c < m->nchecks; c++)
        ncontrols += m->checks[c].nknockouts;

    sg_falsify_result *r = sg_calloc(1, sizeof *r);
    sg_status st = SG_OK;
    if (!r)
        return sg_error_nomem(err);
    r->nchecks = m->nchecks;
    r->check_ids = sg_calloc((size_t)m->nchecks, sizeof *r->check_ids);
    r->conservation = sg_calloc((size_t)m->nchecks, sizeof *r->conservation);
    r->baseline_fails = sg_calloc((size_t)m->nchecks, 1);
    r->times_failed = sg_calloc((size_t)m->nchecks, sizeof *r->times_failed);
    r->rows = sg_calloc((size_t)nrows + 1, sizeof *r->rows);
    r->controls = sg_calloc((size_t)ncontrols + 1, sizeof *r->controls);
    if (!r->check_ids || !r->conservation || !r->baseline_fails || !r->times_failed ||
        !r->rows || !r->controls) {
        st = sg_error_nomem(err);
        goto done;
    }
    for (int c = 0; c < m->nchecks; c++) {
        r->check_ids[c] = m->checks[c].id;
        r->conservation[c] = m->checks[c].conservation;
    }
    int nfailed = 0;
    st = run_checks(m, opt, r->baseline_fails, &nfailed);
    if (st != SG_OK)
        goto done;
    r->baseline_failed = nfailed;

    /* every reaction x 0, then every mechanistic parameter x 0.01 and x 100 */
    for (int k = 0; k < nrows; k++) {
        sg_falsify_row *row = &r->rows[r->nrows];
        int is_reaction = k < m->nreactions;
        int index = k;
        double factor = 0.0;
        if (!is_reaction) {
            int j = k - m->nreactions, seen = 0;
            for (index = 0; index < m->nparameters; index++) {
                if (!perturbs_parameter(m, index, any_tagged))
                    continue;
                if (seen == j / 2)
                    break;
                seen++;
            }
            factor = j % 2 ? 100.0 : 0.01;
        }
        const char *id = is_reaction ? m->reactions[index].id : m->parameters[index].id;
        const char *mech = is_reaction ? m->reactions[index].mechanism
                                       : m->parameters[index].mechanism;
        row->fails = sg_calloc((size_t)m->nchecks, 1);
        if (!row->fails) {
            st = sg_error_nomem(err);
            goto done;
        }
        r->nrows++;
        snprintf(row->perturbation, sizeof row->perturbation, "%s %s x %g",
                 is_reaction ? "reaction" : "parameter", id, factor);
        row->mechanism = mech;
        st = perturbed_run(m, opt, is_reaction, index, factor, row->fails, &row->nfailed, err);
        if (st != SG_OK)
            goto done;
        char named[300];
        if (mech)
            snprintf(named, sizeof named, "%s", mech);
        else
            snprintf(named, sizeof named, "%s %s (untagged)",
                     is_reaction ? "reaction" : "parameter", id);
        int mi = add_mechanism(r, named);
        if (mi < 0) {
            st = sg_error_nomem(err);
            goto done;
        }
        r->mechanisms[mi].tagged = mech != NULL;
        r->mechanisms[mi].perturbations++;
        if (row->nfailed)
            r->mechanisms[mi].noticed++;
        for (int c = 0; c < m->nchecks; c++)
            r->times_failed[c] += row->fails[c] && !r->baseline_fails[c];
    }

    /* negative controls: each listed perturbation must make its check fail */
    unsigned char *fails = sg_calloc((size_t)m->nchecks, 1);
    if (!fails) {
        st = sg_error_nomem(err);
        goto done;
    }
    for (int c = 0; c < m->nchecks && st == SG_OK; c++) {
        for (int k = 0; k < m->checks[c].nknockouts; k++) {
            char id[SG_MAX_ID_LENGTH + 1], msg[300];
            double factor;
            int kind = sg_knockout_parse(m, m->checks[c].knockouts[k], id, &factor, msg,
                                         sizeof msg);
            sg_falsify_control *ctl = &r->controls[r->ncontrols++];
            ctl->check = c;
            ctl->knockout = m->checks[c].knockouts[k];
            int index = -1;
            if (kind == 0) {
                for (index = 0; strcmp(m->reactions[index].id, id) != 0; index++) {}
            } else if (kind == 1) {
                for (index = 0; strcmp(m->parameters[index].id, id) != 0; index++) {}
            } else {
                st = sg_error_set(err, SG_ERR_MODEL, m->path, m->checks[c].line, 0, "%s", msg);
                break;
            }
            int n = 0;
            st = perturbed_run(m, opt, kind == 0, index, factor, fails, &n, err);
            ctl->held = st == SG_OK && fails[c];
        }
    }
    sg_free(fails);
    if (st != SG_OK)
        goto done;

    for (int c = 0; c < m->nchecks; c++) {
        if (!r->conservation[c] && !r->baseline_fails[c] && r->times_failed[c] == 0)
            r->unfalsifiable++;
    }
    for (int i = 0; i < r->nmechanisms; i++)
        if (r->mechanisms[i].tagged && r->mechanisms[i].noticed == 0)
            r->unnoticed++;
    for (int i = 0; i < r->ncontrols; i++)
        r->controls_failed += !r->controls[i].held;
done:
    if (backend != SG_BACKEND_VM) {
        sg_error ignored;
        sg_model_set_backend(m, backend, &ignored);
    }
    if (st != SG_OK) {
        sg_falsify_free(r);
        return st;
    }
    *out = r;
    return SG_OK;
}

/*
 * The gradient of nllh from forward sensitivities (CVODES, sg_sens): per
 * simulation, the sensitivity parameters are the model entities whose
 * start value an estimated parameter sets (a model parameter of the
 * parameter table, or a condition-table entry naming an estimated
 * parameter). The observables' and noise formulas' partial derivatives
 * are symbolic (sg_expr_diff), and the chain rule runs through the
 * parameters' scales:
 *   d nllh / d x_k = -sum_m [dllh/dh dh/dx_k + dllh/dsigma dsigma/dx_k]
 *                    - d log prior / d x_k.
 * Model events are covered as sg_sens_run covers them (sensitivity jumps
 * at each firing); an event kind it refuses is found by one trial run per
 * simulation at the nominal values while preparing, so the caller falls
 * back before the fit starts; one refused later (an event that fires only
 * at other parameter values) fails that evaluation with the event's name.
 * Measurements at time inf: the steady state's sensitivities by the
 * implicit function theorem (sg_sens_steady), up to SG_EIGEN_MAX_STATES
 * states (it solves densely).
 * Pre-equilibration: the steady state of the pre-equilibration condition
 * and its sensitivities to that condition's targets (sg_sens_steady: the
 * implicit function theorem, conservation laws kept) give d x_ss / d x per
 * estimated parameter x. The simulation then has the states its condition
 * does not set as further sensitivity parameters (their start values),
 * started at x_ss, and d y / d x = sum over its targets of dy/dp (as
 * without pre-equilibration) + sum over those states of dy/dx_i(0) *
 * d x_ss,i / d x. A parameter may so set different model entities in the
 * two conditions; a state the condition sets takes the sensitivity of its
 * new value (zero for a number). The cost: one sensitivity vector more
 * per state not set. A Jacobian singular beyond the conservation laws at
 * the nominal pre-equilibrated state is SG_ERR_UNSUPPORTED here (the
 * caller falls back to finite differences); at other values it fails that
 * evaluation.
 * An estimated compartment size is a sensitivity parameter like any other
 * (sg_sens covers the -f_i / V term of the species in it, and the start
 * values computed from it, e.g. an amount / V); an observable reading it
 * gets its derivative directly (slot_derivative).
 */
#include <math.h>
#include <string.h>

#include "petab.h"

static double scale_derivative(int scale, double value)
{
    return scale == SG_SCALE_LOG ? value : scale == SG_SCALE_LOG10 ? value * log(10.0) : 1.0;
}

void sg_petab_free_sensitivities(sg_petab *p)
{
    if (!p->sens_exps)
        return;
    for (int e = 0; e < p->nexperiments; e++) {
        sg_sens_free(p->sens_exps[e].sens);
        sg_experiment_free(p->sens_exps[e].exp);
        sg_free(p->sens_exps[e].target_slot);
        sg_free(p->sens_exps[e].target_param);
        sg_free(p->sens_exps[e].set_slot);
        sg_free(p->sens_exps[e].set_value);
        sg_free(p->sens_exps[e].free_state);
        sg_sens_free(p->sens_exps[e].pre_sens);
        sg_experiment_free(p->sens_exps[e].pre_exp);
        sg_free(p->sens_exps[e].pre_target_slot);
        sg_free(p->sens_exps[e].pre_target_param);
    }
    sg_free(p->sens_exps);
    sg_free(p->dslots);
    sg_free(p->dslot_start);
    sg_free(p->dformula);
    sg_free(p->dnoise);
    sg_free(p->output_index);
    sg_free(p->sens_outputs);
    sg_free(p->sens_output_slot);
    p->sens_exps = NULL;
}

/* The start values of condition c as (slot, source): source a parameter
 * index, or -1 for a number. Later entries win, as in condition_sets. */
static int final_sets(const sg_petab *p, int c, int *slot, int *source, double *number)
{
    int n = 0;
    for (int i = 0; i < p->nparams; i++)
        if (p->params[i].model_slot >= 0) {
            slot[n] = p->params[i].model_slot;
            source[n] = i;
            number[n++] = NAN;
        }
    const sg_petab_condition *cd = &p->conditions[c];
    for (int k = 0; k < p->ncond_columns; k++) {
        const sg_petab_value *v = &cd->values[k];
        if (v->param < 0 && isnan(v->number))
            continue;
        slot[n] = p->cond_slot[k];
        source[n] = v->param;
        number[n++] = v->number;
    }
    /* keep the last entry per slot */
    int m = 0;
    for (int i = 0; i < n; i++) {
        int later = 0;
        for (int j = i + 1; j < n; j++)
            later |= slot[j] == slot[i];
        if (!later) {
            slot[m] = slot[i];
            source[m] = source[i];
            number[m++] = number[i];
        }
    }
    return m;
}

/* One run with sensitivities at the nominal values: an event kind whose
 * sensitivities are not covered shows here (SG_ERR_UNSUPPORTED). */
static sg_status trial_run(const sg_petab *p, const sg_petab_sens_exp *se,
                           const sg_petab_experiment *x, sg_error *err)
{
    double values[se->ntargets + se->nfree + 1];
    for (int t = 0; t < se->ntargets; t++)
        values[t] = p->params[se->target_param[t]].nominal;
    /* after a pre-equilibration: the model's start values stand in for
     * the steady state (only the events' kinds matter here) */
    for (int j = 0; j < se->nfree; j++)
        values[se->ntargets + j] = p->model->program->base[se->free_state[j]];
    sg_sens_request req = {se->exp, values, x->times, x->ntimes, NULL, 0};
    sg_sens_result *r = NULL;
    sg_error trial = {0};
    if (x->ntimes == 0)
        return SG_OK;
    sg_status st = sg_sens_run(se->sens, &req, &r, &trial);
    sg_sens_result_free(r);
    /* any other failure at the nominal values is the evaluation's to report */
    if (st != SG_ERR_UNSUPPORTED)
        return SG_OK;
    if (err)
        *err = trial;
    return st;
}

/* The start values (slot, source, number: n of them, from final_sets)
 * split into targets -- slots an estimated parameter sets -- and constants,
 * which go into exp; set_slot/set_value get all n (NaN for a target). */
static sg_status split_sets(const sg_petab *p, const int *slot, const int *source,
                            const double *number, int n, sg_experiment *exp, int *target_slot,
                            int *target_param, int *ntargets, int *set_slot, double *set_value,
                            int *nset, sg_error *err)
{
    const sg_model *m = p->model;
    for (int i = 0; i < n; i++) {
        int estimated = source[i] >= 0 && p->params[source[i]].estimate;
        double v = source[i] >= 0 ? p->params[source[i]].nominal : number[i];
        if (estimated) {
            target_slot[*ntargets] = slot[i];
            target_param[(*ntargets)++] = source[i];
        } else {
            sg_status st = sg_experiment_set_value(exp, m->slot_name[slot[i]], v, err);
            if (st != SG_OK)
                return st;
        }
        if (set_slot) {
            set_slot[*nset] = slot[i];
            set_value[(*nset)++] = estimated ? NAN : v;
        }
    }
    return SG_OK;
}

/* The pre-equilibration of simulation se: its condition's targets and
 * constants, and (when an estimated parameter reaches it) its
 * sensitivities, tried at the nominal values: a Jacobian singular beyond
 * the conservation laws there is SG_ERR_UNSUPPORTED. */
static sg_status prepare_preeq(const sg_petab *p, sg_petab_sens_exp *se,
                               const sg_petab_experiment *x, const sg_options *opt,
                               sg_error *err)
{
    sg_model *m = p->model;
    const char *cid = p->conditions[x->preeq].id;
    if (m->nstate > SG_EIGEN_MAX_STATES)
        return sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                            "pre-equilibration (condition '%s'): steady-state sensitivities "
                            "are solved densely, up to %d states (the model has %d)",
                            cid, SG_EIGEN_MAX_STATES, m->nstate);
    int cap = p->nparams + p->ncond_columns + 1;
    int *slot = sg_malloc(sizeof(int) * (size_t)cap), *source = sg_malloc(sizeof(int) * (size_t)cap);
    double *number = sg_malloc(sizeof(double) * (size_t)cap);
    const char **ids = sg_malloc(sizeof(char *) * (size_t)cap);
    sg_status st = SG_OK;
    if (!slot || !source || !number || !ids) {
        st = sg_error_nomem(err);
        goto done;
    }
    int n = final_sets(p, x->preeq, slot, source, number);
    se->pre_target_slot = sg_malloc(sizeof(int) * ((size_t)n + 1));
    se->pre_target_param = sg_malloc(sizeof(int) * ((size_t)n + 1));
    if (!se->pre_target_slot || !se->pre_target_param ||
        !(se->pre_exp = sg_experiment_create(m, NULL, err))) {
        st = err && err->status ? err->status : sg_error_nomem(err);
        goto done;
    }
    if ((st = split_sets(p, slot, source, number, n, se->pre_exp, se->pre_target_slot,
                         se->pre_target_param, &se->pre_ntargets, NULL, NULL, NULL, err)) !=
        SG_OK)
        goto done;
    if (se->pre_ntargets == 0)
        goto done; /* a constant steady state: the objective's own */
    for (int t = 0; t < se->pre_ntargets; t++)
        ids[t] = m->slot_name[se->pre_target_slot[t]];
    if (!(se->pre_sens = sg_sens_create(m, opt, ids, se->pre_ntargets, err))) {
        st = err ? err->status : SG_ERR_NOMEM;
        goto done;
    }
    double *values = sg_malloc(sizeof(double) * (size_t)se->pre_ntargets);
    if (!values) {
        st = sg_error_nomem(err);
        goto done;
    }
    for (int t = 0; t < se->pre_ntargets; t++)
        values[t] = p->params[se->pre_target_param[t]].nominal;
    sg_sens_request req = {se->pre_exp, values, NULL, 0, NULL, 0};
    sg_sens_result *r = NULL;
    sg_error trial = {0};
    st = sg_sens_steady(se->pre_sens, &req, &r, NULL, NULL, &trial);
    sg_sens_result_free(r);
    sg_free(values);
    /* any other failure at the nominal values is the evaluation's to report */
    if (st != SG_ERR_UNSUPPORTED)
        st = SG_OK;
    else
        sg_error_set(err, st, NULL, 0, 0, "pre-equilibration (condition '%s'): %.700s", cid,
                     trial.message);
done:
    sg_free(slot);
    sg_free(source);
    sg_free(number);
    sg_free(ids);
    return st;
}

sg_status sg_petab_prepare_sensitivities(sg_petab *p, sg_error *err)
{
    if (p->sens_exps)
        return SG_OK;
    sg_model *m = p->model;
    for (int e = 0; e < p->nexperiments; e++) {
        if (p->experiments[e].steady && m->nstate > SG_EIGEN_MAX_STATES)
            return sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                                "measurements at time inf: steady-state sensitivities are "
                                "solved densely, up to %d states (the model has %d)",
                                SG_EIGEN_MAX_STATES, m->nstate);
    }
    sg_status st = SG_OK;
    int cap = p->nparams + p->ncond_columns + 1;
    int *slot = sg_malloc(sizeof(int) * (size_t)cap), *source = sg_malloc(sizeof(int) * (size_t)cap);
    double *number = sg_malloc(sizeof(double) * (size_t)cap);
    unsigned char *seen = sg_calloc((size_t)p->nobs_slots + 1, 1);
    int *slots = NULL;
    size_t nslots = 0, slots_cap = 0;
    p->sens_exps = sg_calloc((size_t)p->nexperiments + 1, sizeof *p->sens_exps);
    p->dslot_start = sg_calloc((size_t)p->nobservables + 1, sizeof *p->dslot_start);
    p->output_index = sg_malloc(sizeof(int) * ((size_t)m->nslots + 1));
    p->sens_outputs = sg_calloc((size_t)m->nslots + 1, sizeof *p->sens_outputs);
    p->sens_output_slot = sg_calloc((size_t)m->nslots + 1, sizeof *p->sens_output_slot);
    if (!slot || !source || !number || !seen || !p->sens_exps || !p->dslot_start ||
        !p->output_index || !p->sens_outputs || !p->sens_output_slot) {
        st = sg_error_nomem(err);
        goto done;
    }
    /* the slots each observable reads, their partial derivatives, and the
     * species and assignments to follow */
    for (int s = 0; s < m->nslots; s++)
        p->output_index[s] = -1;
    for (int o = 0; o < p->nobservables; o++) {
        size_t before = nslots;
        if (sg_expr_slots(p->observables[o].formula, seen, &slots, &nslots, &slots_cap) ||
            sg_expr_slots(p->observables[o].noise, seen, &slots, &nslots, &slots_cap)) {
            st = sg_error_nomem(err);
            goto done;
        }
        for (size_t i = before; i < nslots; i++)
            seen[slots[i]] = 0; /* per observable */
        p->dslot_start[o + 1] = (int)nslots;
    }
    p->dslots = slots;
    slots = NULL;
    p->dformula = sg_calloc(nslots + 1, sizeof *p->dformula);
    p->dnoise = sg_calloc(nslots + 1, sizeof *p->dnoise);
    if (!p->dformula || !p->dnoise) {
        st = sg_error_nomem(err);
        goto done;
    }
    for (int o = 0; o < p->nobservables; o++)
        for (int i = p->dslot_start[o]; i < p->dslot_start[o + 1]; i++) {
            int s = p->dslots[i];
            if (!(p->dformula[i] = sg_expr_diff(p->pool, p->observables[o].formula, s)) ||
                !(p->dnoise[i] = sg_expr_diff(p->pool, p->observables[o].noise, s))) {
                st = sg_error_nomem(err);
                goto done;
            }
            if (s < m->nslots && s != m->time_slot && p->output_index[s] < 0 &&
                (m->slot_kind[s] == SG_SYM_SPECIES || m->slot_kind[s] == SG_SYM_ASSIGNMENT)) {
                p->output_index[s] = p->nsens_outputs;
                p->sens_output_slot[p->nsens_outputs] = s;
                p->sens_outputs[p->nsens_outputs++] = m->slot_name[s];
            }
        }
    /* per simulation: sensitivity parameters and the constant start values */
    sg_options opt;
    sg_options_default(&opt);
    opt.rtol = 1e-8;
    opt.atol = 1e-12;
    for (int e = 0; e < p->nexperiments; e++) {
        sg_petab_sens_exp *se = &p->sens_exps[e];
        const sg_petab_experiment *x = &p->experiments[e];
        int n = final_sets(p, x->condition, slot, source, number);
        size_t room = (size_t)n + (x->preeq >= 0 ? (size_t)m->nstate : 0) + 1;
        se->target_slot = sg_malloc(sizeof(int) * room);
        se->target_param = sg_malloc(sizeof(int) * room);
        se->set_slot = sg_malloc(sizeof(int) * room);
        se->set_value = sg_malloc(sizeof(double) * room);
        se->free_state = sg_malloc(sizeof(int) * room);
        const char **ids = sg_malloc(sizeof(char *) * room);
        if (!se->target_slot || !se->target_param || !se->set_slot || !se->set_value ||
            !se->free_state || !ids || !(se->exp = sg_experiment_create(m, NULL, err))) {
            sg_free(ids);
            st = err && err->status ? err->status : sg_error_nomem(err);
            goto done;
        }
        double t_end = x->ntimes ? x->times[x->ntimes - 1] : 1.0;
        if ((st = sg_experiment_set_t_end(se->exp, t_end > 0 ? t_end : 1.0, err)) == SG_OK)
            st = split_sets(p, slot, source, number, n, se->exp, se->target_slot,
                            se->target_param, &se->ntargets, se->set_slot, se->set_value,
                            &se->nset, err);
        for (int t = 0; t < se->ntargets; t++)
            ids[t] = m->slot_name[se->target_slot[t]];
        /* after a pre-equilibration, the states the condition leaves */
        for (int i = 0; x->preeq >= 0 && i < m->nstate; i++) {
            int set = 0;
            for (int k = 0; k < se->nset; k++)
                set |= se->set_slot[k] == i;
            if (!set) {
                ids[se->ntargets + se->nfree] = m->slot_name[i];
                se->free_state[se->nfree++] = i;
            }
        }
        if (st == SG_OK && x->preeq >= 0)
            st = prepare_preeq(p, se, x, &opt, err);
        if (st == SG_OK && se->ntargets + se->nfree > 0 &&
            !(se->sens = sg_sens_create(m, &opt, ids, se->ntargets + se->nfree, err)))
            st = err ? err->status : SG_ERR_NOMEM;
        sg_free(ids);
        if (st == SG_OK && se->sens && m->ntriggers > 0)
            st = trial_run(p, se, x, err);
        if (st != SG_OK)
            goto done;
    }
done:
    sg_free(slot);
    sg_free(source);
    sg_free(number);
    sg_free(seen);
    sg_free(slots);
    if (st != SG_OK)
        sg_petab_free_sensitivities(p);
    return st;
}

void sg_petab_eval_free_sens(sg_petab_eval *ev)
{
    for (int e = 0; e < ev->p->nexperiments; e++) {
        if (ev->sens)
            sg_sens_free(ev->sens[e]);
        if (ev->pre_sens)
            sg_sens_free(ev->pre_sens[e]);
    }
    sg_free(ev->sens);
    sg_free(ev->pre_sens);
    sg_free(ev->dslot);
    sg_free(ev->dfree);
    ev->sens = NULL;
    ev->pre_sens = NULL;
    ev->dslot = NULL;
    ev->dfree = NULL;
}

/* Simulation e's pre-equilibration: its steady state into ev->preeq_state
 * and d x_ss,i / d x_k (x on its scale) into ev->dfree (zero when no
 * estimated parameter reaches it). */
static sg_status preequilibrate(sg_petab_eval *ev, int e, sg_error *err)
{
    const sg_petab *p = ev->p;
    const sg_petab_sens_exp *se = &p->sens_exps[e];
    const sg_model *m = p->model;
    int n = p->nestimated;
    memset(ev->dfree, 0, sizeof(double) * ((size_t)m->nstate * (size_t)n + 1));
    if (!ev->pre_sens[e])
        return sg_petab_preeq_state(ev, e, err);
    double values[se->pre_ntargets];
    for (int t = 0; t < se->pre_ntargets; t++)
        values[t] = ev->values[se->pre_target_param[t]];
    /* the states, in order, are the model's first slots */
    sg_sens_request req = {se->pre_exp, values, NULL, 0, (const char *const *)m->slot_name,
                           m->nstate};
    sg_sens_result *r = NULL;
    sg_status st = sg_sens_steady(ev->pre_sens[e], &req, &r, NULL, NULL, err);
    if (st != SG_OK) {
        if (err) {
            char msg[sizeof err->message];
            snprintf(msg, sizeof msg, "pre-equilibration in condition '%.80s': %.600s",
                     p->conditions[p->experiments[e].preeq].id, err->message);
            memcpy(err->message, msg, sizeof msg);
        }
        return st;
    }
    for (int i = 0; i < m->nstate; i++) {
        ev->preeq_state[i] = sg_sens_result_value(r, 0, i);
        const double *dx = sg_sens_result_derivs(r, 0, i);
        for (int t = 0; t < se->pre_ntargets; t++) {
            const sg_petab_param *q = &p->params[se->pre_target_param[t]];
            ev->dfree[(size_t)i * (size_t)n + (size_t)q->index] +=
                dx[t] * scale_derivative(q->scale, ev->values[se->pre_target_param[t]]);
        }
    }
    sg_sens_result_free(r);
    return SG_OK;
}

/* d(value in slot s)/dx for this measurement, into d (n values). */
static void slot_derivative(sg_petab_eval *ev, const sg_petab_sens_exp *se,
                            const sg_petab_measurement *mm,
                            const sg_sens_result *r, int row, int s, double *d)
{
    const sg_petab *p = ev->p;
    const sg_model *m = p->model;
    int n = p->nestimated;
    memset(d, 0, sizeof(double) * (size_t)n);
    if (s < m->nslots) {
        int j = p->output_index[s];
        if (j >= 0 && r) {
            const double *dy = sg_sens_result_derivs(r, row, j);
            for (int t = 0; t < se->ntargets; t++) {
                const sg_petab_param *q = &p->params[se->target_param[t]];
                d[q->index] += dy[t] * scale_derivative(q->scale, ev->values[se->target_param[t]]);
            }
            /* through the pre-equilibrated start values */
            for (int f = 0; f < se->nfree; f++) {
                double dyf = dy[se->ntargets + f];
                const double *g = ev->dfree + (size_t)se->free_state[f] * (size_t)n;
                for (int k = 0; dyf != 0 && k < n; k++)
                    d[k] += dyf * g[k];
            }
        } else {
            for (int t = 0; t < se->ntargets; t++)
                if (se->target_slot[t] == s) {
                    const sg_petab_param *q = &p->params[se->target_param[t]];
                    d[q->index] += scale_derivative(q->scale, ev->values[se->target_param[t]]);
                }
        }
        return;
    }
    if (s < p->obs_placeholder_base) {
        const sg_petab_param *q = &p->params[s - p->obs_param_base];
        if (q->estimate)
            d[q->index] = scale_derivative(q->scale, ev->values[s - p->obs_param_base]);
        return;
    }
    const sg_petab_observable *o = &p->observables[mm->observable];
    int k = s - p->obs_placeholder_base;
    const sg_petab_value *v = NULL;
    if (k >= o->first_obs_placeholder && k < o->first_obs_placeholder + mm->nobs_pars)
        v = &mm->obs_pars[k - o->first_obs_placeholder];
    else if (k >= o->first_noise_placeholder && k < o->first_noise_placeholder + mm->nnoise_pars)
        v = &mm->noise_pars[k - o->first_noise_placeholder];
    if (v && v->param >= 0 && p->params[v->param].estimate)
        d[p->params[v->param].index] =
            scale_derivative(p->params[v->param].scale, ev->values[v->param]);
}

/* Scores measurement mm (the model's values in ev->slots; r, row: their
 * sensitivities) into res and adds its d llh / d x into dllh. */
static sg_status add_measurement(sg_petab_eval *ev, const sg_petab_sens_exp *se,
                                 const sg_petab_measurement *mm, const sg_sens_result *r,
                                 int row, sg_petab_result *res, double *dllh, sg_error *err)
{
    const sg_petab *p = ev->p;
    const sg_model *m = p->model;
    int n = p->nestimated;
    double *d = ev->dslot;
    sg_status st = sg_petab_score(ev, mm, NULL, res, err);
    if (st != SG_OK)
        return st;
    /* dllh/dh and dllh/dsigma at this measurement */
    const sg_petab_observable *o = &p->observables[mm->observable];
    double h = sg_expr_eval(o->formula, ev->slots);
    double sigma = sg_expr_eval(o->noise, ev->slots);
    double ty = sg_petab_to_scale(o->transform, mm->value);
    double th = sg_petab_to_scale(o->transform, h);
    double rres = (ty - th) / sigma;
    double dth_dh = o->transform == SG_SCALE_LOG     ? 1 / h
                    : o->transform == SG_SCALE_LOG10 ? 1 / (h * log(10.0))
                                                     : 1.0;
    double dl_dh, dl_ds;
    if (o->distribution == SG_NOISE_LAPLACE) {
        dl_dh = (rres > 0 ? 1 : rres < 0 ? -1 : 0) / sigma * dth_dh;
        dl_ds = -1 / sigma + fabs(rres) / sigma;
    } else {
        dl_dh = rres / sigma * dth_dh;
        dl_ds = -1 / sigma + rres * rres / sigma;
    }
    for (int i = p->dslot_start[mm->observable]; i < p->dslot_start[mm->observable + 1]; i++) {
        int s = p->dslots[i];
        if (s == m->time_slot)
            continue;
        double df = sg_expr_eval(p->dformula[i], ev->slots);
        double dn = sg_expr_eval(p->dnoise[i], ev->slots);
        if (df == 0 && dn == 0)
            continue;
        slot_derivative(ev, se, mm, r, row, s, d);
        for (int k = 0; k < n; k++)
            dllh[k] += (dl_dh * df + dl_ds * dn) * d[k];
    }
    return SG_OK;
}

sg_status sg_petab_gradient_sens(sg_petab_eval *ev, const double *x, double *nllh, double *grad,
                                 sg_error *err)
{
    const sg_petab *p = ev->p;
    const sg_model *m = p->model;
    int n = p->nestimated;
    if (!p->sens_exps)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "sensitivities were not prepared for this problem");
    if (!ev->sens) {
        ev->sens = sg_calloc((size_t)p->nexperiments + 1, sizeof *ev->sens);
        ev->pre_sens = sg_calloc((size_t)p->nexperiments + 1, sizeof *ev->pre_sens);
        ev->dslot = sg_malloc(sizeof(double) * (2 * (size_t)n + 1));
        ev->dfree = sg_malloc(sizeof(double) * ((size_t)m->nstate * (size_t)n + 1));
        if (!ev->sens || !ev->pre_sens || !ev->dslot || !ev->dfree) {
            sg_petab_eval_free_sens(ev);
            return sg_error_nomem(err);
        }
        for (int e = 0; e < p->nexperiments; e++) {
            const sg_sens *tmpl[2] = {p->sens_exps[e].sens, p->sens_exps[e].pre_sens};
            sg_sens **clone[2] = {&ev->sens[e], &ev->pre_sens[e]};
            for (int k = 0; k < 2; k++) {
                if (!tmpl[k])
                    continue;
                if (!(*clone[k] = sg_sens_clone(tmpl[k], err))) {
                    sg_petab_eval_free_sens(ev);
                    return err ? err->status : SG_ERR_NOMEM;
                }
                /* its runs' warnings go where the simulations' go */
                sg_sens_set_warnings(*clone[k], ev->sim->opt.warnings);
            }
        }
    }
    sg_petab_set_values(ev, x);
    sg_petab_result res = {0};
    double dllh[n > 0 ? n : 1];
    memset(dllh, 0, sizeof dllh);
    const sg_program *prog = m->program;
    for (int e = 0; e < p->nexperiments; e++) {
        const sg_petab_sens_exp *se = &p->sens_exps[e];
        const sg_petab_experiment *xp = &p->experiments[e];
        double values[se->ntargets + se->nfree + 1];
        for (int t = 0; t < se->ntargets; t++)
            values[t] = ev->values[se->target_param[t]];
        sg_sens_result *r = NULL;
        sg_trajectory *traj = NULL;
        sg_status st = SG_OK;
        if (xp->preeq >= 0 && ev->sens[e]) {
            if ((st = preequilibrate(ev, e, err)) != SG_OK)
                return st;
            for (int f = 0; f < se->nfree; f++)
                values[se->ntargets + f] = ev->preeq_state[se->free_state[f]];
        }
        if (xp->ntimes == 0) {
            /* only measurements at time inf */
        } else if (ev->sens[e]) {
            sg_sens_request req = {se->exp, values, xp->times, xp->ntimes, p->sens_outputs,
                                   p->nsens_outputs};
            if (p->nsens_outputs == 0)
                req.outputs = NULL;
            st = sg_sens_run(ev->sens[e], &req, &r, err);
        } else {
            /* nothing estimated reaches this simulation's model: values only */
            st = sg_sim_run_point(ev->sim, ev->exps[e], se->set_slot, se->set_value, se->nset,
                                  &traj, err);
        }
        if (st != SG_OK) {
            sg_trajectory_free(traj);
            return st;
        }
        /* model parameters and compartments the formulas read: start values */
        for (int i = 0; i < m->nslots; i++)
            ev->slots[i] = prog->base[i];
        for (int i = 0; i < se->nset; i++)
            ev->slots[se->set_slot[i]] = se->set_value[i];
        for (int t = 0; t < se->ntargets; t++)
            ev->slots[se->target_slot[t]] = values[t];
        for (int rr = 0; rr < p->nmeasurements && st == SG_OK; rr++) {
            const sg_petab_measurement *mm = &p->measurements[rr];
            if (mm->experiment != e || isinf(mm->time))
                continue;
            int row = 0;
            while (row < xp->ntimes && xp->times[row] != mm->time)
                row++;
            if (r) {
                for (int j = 0; j < p->nsens_outputs; j++)
                    ev->slots[p->sens_output_slot[j]] = sg_sens_result_value(r, row, j);
            } else {
                int trow = -1;
                for (int k = traj->nrows - 1; k >= 0 && trow < 0; k--)
                    if (traj->times[k] == mm->time)
                        trow = k;
                const double *data = traj->data + (size_t)trow * (size_t)traj->ncols;
                for (int c = 0; c < traj->ncols; c++)
                    ev->slots[traj->slots[c]] = data[c];
            }
            ev->slots[m->time_slot] = mm->time;
            st = add_measurement(ev, se, mm, r, row, &res, dllh, err);
        }
        sg_sens_result_free(r);
        sg_trajectory_free(traj);
        r = NULL;
        traj = NULL;
        if (st != SG_OK)
            return st;
        if (!xp->steady)
            continue;
        /* measurements at time inf: the steady state and its sensitivities */
        if (ev->sens[e]) {
            sg_sens_request req = {se->exp, values, NULL, 0, p->sens_outputs, p->nsens_outputs};
            if (p->nsens_outputs == 0)
                req.outputs = NULL;
            if ((st = sg_sens_steady(ev->sens[e], &req, &r, NULL, NULL, err)) != SG_OK)
                return st;
            for (int j = 0; j < p->nsens_outputs; j++)
                ev->slots[p->sens_output_slot[j]] = sg_sens_result_value(r, 0, j);
            ev->slots[m->time_slot] = INFINITY;
        } else if ((st = sg_petab_steady_values(ev, e, err)) != SG_OK) {
            return st;
        }
        for (int rr = 0; rr < p->nmeasurements && st == SG_OK; rr++) {
            const sg_petab_measurement *mm = &p->measurements[rr];
            if (mm->experiment == e && isinf(mm->time))
                st = add_measurement(ev, se, mm, r, 0, &res, dllh, err);
        }
        sg_sens_result_free(r);
        if (st != SG_OK)
            return st;
    }
    /* priors */
    double lp = sg_petab_log_prior(ev, x);
    for (int k = 0; k < n; k++) {
        const sg_petab_param *q = &p->params[p->estimated[k]];
        double v = sg_petab_from_scale(q->scale, x[k]), s = x[k], dv = scale_derivative(q->scale, v);
        double a = q->prior_par[0], b = q->prior_par[1], g = 0;
        switch (q->prior) {
        case SG_PRIOR_NORMAL: g = -(v - a) / (b * b) * dv; break;
        case SG_PRIOR_PS_NORMAL: g = -(s - a) / (b * b); break;
        case SG_PRIOR_LAPLACE: g = -((v > a) - (v < a)) / b * dv; break;
        case SG_PRIOR_PS_LAPLACE: g = -((s > a) - (s < a)) / b; break;
        case SG_PRIOR_LOGNORMAL: g = (-1 / v - (log(v) - a) / (b * b * v)) * dv; break;
        case SG_PRIOR_LOGLAPLACE:
            g = (-1 / v - ((log(v) > a) - (log(v) < a)) / (b * v)) * dv;
            break;
        default: break;
        }
        grad[k] = -(dllh[k] + g);
    }
    *nllh = -(res.llh + lp);
    return SG_OK;
}

sg_status sg_petab_use_sensitivities(sg_petab *p, sg_error *err)
{
    return sg_petab_prepare_sensitivities(p, err);
}

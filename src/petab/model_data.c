/*
 * `sigode fit MODEL.cfg --data MEASUREMENTS.tsv`: a PEtab problem made
 * from a sigode model whose parameters to estimate are marked (`estimate
 * = true; bounds = [lo, hi]; scale = "log10";`) and a measurement table.
 * The tables PEtab would read from files are made in memory:
 *   parameters   the marked parameters, their value as the nominal one;
 *   observables  one per observableId of the measurements: the model's
 *                species or assignment of that id, normal noise with sigma
 *                noiseParameter1 (the measurement's noiseParameters, a
 *                number or a marked parameter) or 1 without that column;
 *   conditions   "default" (the model as written; an empty or missing
 *                simulationConditionId) and each scenario of the model that
 *                only sets values at its start (its `set`s).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "petab.h"

static int usable_scenario(const sg_scenario_def *sc)
{
    if (sc->nevents > 0 || sc->has_scan || sc->t_start != 0 || sc->preequilibrate)
        return 0;
    for (int k = 0; k < sc->nsets; k++)
        if (sc->sets[k].add)
            return 0;
    return 1;
}

sg_petab *sg_petab_from_model(const char *model_path, const char *measurements_path,
                              sg_error *err)
{
    sg_petab *p = sg_calloc(1, sizeof *p);
    sg_tsv params = {0}, observables = {0}, conditions = {0};
    int *columns = NULL;
    if (!p || !(p->arena = sg_arena_create()) || !(p->pool = sg_pool_create()) ||
        !(p->yaml_path = sg_strdup(model_path)) || !(p->model_path = sg_strdup(model_path)) ||
        !(p->measurement_path = sg_strdup(measurements_path)) ||
        !(p->condition_path = sg_strdup(model_path)) ||
        !(p->observable_path = sg_strdup(model_path)) ||
        !(p->parameter_path = sg_strdup(model_path))) {
        sg_error_nomem(err);
        goto fail;
    }
    p->from_model = 1;
    if (!(p->model = sg_model_load_file(model_path, err)))
        goto fail;
    const sg_model *m = p->model;
    /* parameters */
    static const char *const ph[] = {"parameterId", "parameterScale", "lowerBound",
                                     "upperBound", "nominalValue", "estimate"};
    static const char *const scales[] = {"lin", "log", "log10"};
    if (sg_tsv_build(&params, model_path, 6, ph, err))
        goto fail;
    int nestimated = 0;
    for (int i = 0; i < m->nparameters; i++) {
        const sg_parameter_def *q = &m->parameters[i];
        if (!q->estimate)
            continue;
        char lo[40], hi[40], val[40];
        snprintf(lo, sizeof lo, "%.17g", q->lower);
        snprintf(hi, sizeof hi, "%.17g", q->upper);
        snprintf(val, sizeof val, "%.17g", q->value);
        const char *row[] = {q->id, scales[q->scale], lo, hi, val, "1"};
        if (sg_tsv_add_row(&params, row, q->line, err))
            goto fail;
        nestimated++;
    }
    if (nestimated == 0) {
        sg_error_set(err, SG_ERR_USAGE, model_path, 0, 0,
                     "no parameter is marked for estimation: add 'estimate = true; bounds = "
                     "[lower, upper];' to the parameters to fit (models/README.md)");
        goto fail;
    }
    /* observables: the measurement table's ids */
    sg_tsv meas;
    if (sg_tsv_read(measurements_path, &meas, err))
        goto fail;
    int c_obs = sg_tsv_column(&meas, "observableId");
    int has_noise = sg_tsv_column(&meas, "noiseParameters") >= 0;
    static const char *const oh[] = {"observableId", "observableFormula", "noiseFormula"};
    if (c_obs < 0) {
        sg_error_set(err, SG_ERR_MODEL, measurements_path, 1, 0,
                     "missing column 'observableId' in the header");
        sg_tsv_free(&meas);
        goto fail;
    }
    if (sg_tsv_build(&observables, measurements_path, 3, oh, err)) {
        sg_tsv_free(&meas);
        goto fail;
    }
    for (int r = 0; r < meas.nrows; r++) {
        const char *id = sg_tsv_cell(&meas, r, c_obs);
        int seen = 0;
        for (int k = 0; k < observables.nrows && !seen; k++)
            seen = !strcmp(sg_tsv_cell(&observables, k, 0), id);
        if (seen)
            continue;
        int slot = sg_map_get(&m->symbols, id);
        if (slot < 0 || (m->slot_kind[slot] != SG_SYM_SPECIES &&
                         m->slot_kind[slot] != SG_SYM_ASSIGNMENT)) {
            sg_error_set(err, SG_ERR_MODEL, measurements_path, meas.line[r], c_obs + 1,
                         "observable '%.100s' is not a species or assignment of the model "
                         "(column 'observableId')",
                         id);
            sg_tsv_free(&meas);
            goto fail;
        }
        char noise[400];
        snprintf(noise, sizeof noise, has_noise ? "noiseParameter1_%s" : "1", id);
        const char *row[] = {id, id, noise};
        if (sg_tsv_add_row(&observables, row, meas.line[r], err)) {
            sg_tsv_free(&meas);
            goto fail;
        }
    }
    sg_tsv_free(&meas);
    /* conditions: "default" and the scenarios that only set start values */
    int ncols = 1;
    columns = sg_calloc((size_t)m->nslots + 1, sizeof *columns);
    const char **header = sg_calloc((size_t)m->nslots + 2, sizeof *header);
    if (!columns || !header) {
        sg_free(header);
        sg_error_nomem(err);
        goto fail;
    }
    header[0] = "conditionId";
    for (int s = 0; s < m->nscenarios; s++) {
        const sg_scenario_def *sc = &m->scenarios[s];
        if (!usable_scenario(sc))
            continue;
        for (int k = 0; k < sc->nsets; k++) {
            int slot = sc->sets[k].slot, known = 0;
            for (int c = 1; c < ncols; c++)
                known |= columns[c] == slot;
            if (!known) {
                columns[ncols] = slot;
                header[ncols++] = m->slot_name[slot];
            }
        }
    }
    sg_status st = sg_tsv_build(&conditions, model_path, ncols, header, err);
    sg_free(header);
    if (st)
        goto fail;
    char (*cells)[40] = sg_calloc((size_t)ncols + 1, sizeof *cells);
    const char **row = sg_calloc((size_t)ncols + 1, sizeof *row);
    if (!cells || !row) {
        sg_free(cells);
        sg_free(row);
        sg_error_nomem(err);
        goto fail;
    }
    row[0] = "default";
    for (int c = 1; c < ncols; c++)
        row[c] = "";
    st = sg_tsv_add_row(&conditions, row, 1, err);
    for (int s = 0; s < m->nscenarios && st == SG_OK; s++) {
        const sg_scenario_def *sc = &m->scenarios[s];
        if (!usable_scenario(sc) || !strcmp(sc->id, "default"))
            continue;
        row[0] = sc->id;
        for (int c = 1; c < ncols; c++) {
            row[c] = "";
            for (int k = 0; k < sc->nsets; k++)
                if (sc->sets[k].slot == columns[c]) {
                    snprintf(cells[c], sizeof cells[c], "%.17g", sc->sets[k].value);
                    row[c] = cells[c];
                }
        }
        st = sg_tsv_add_row(&conditions, row, sc->line, err);
    }
    sg_free(cells);
    sg_free(row);
    if (st || sg_petab_read_tables(p, &params, &observables, &conditions, err))
        goto fail;
    sg_tsv_free(&params);
    sg_tsv_free(&observables);
    sg_tsv_free(&conditions);
    sg_free(columns);
    return p;
fail:
    sg_tsv_free(&params);
    sg_tsv_free(&observables);
    sg_tsv_free(&conditions);
    sg_free(columns);
    sg_petab_free(p);
    return NULL;
}

/* Turning a trajectory into an output table, with an optional selection. */
#include <string.h>

#include "../scenario/scenario.h"

sg_table *sg_trajectory_table(const sg_trajectory *traj, const char *const *select,
                              int nselect, sg_error *err)
{
    int ncols = nselect > 0 ? nselect : traj->ncols;
    int *cols = sg_malloc(sizeof *cols * ((size_t)ncols + 1));
    const char **names = sg_malloc(sizeof *names * ((size_t)ncols + 2));
    double *row = sg_malloc(sizeof *row * ((size_t)ncols + 2));
    sg_table *table = NULL;
    if (!cols || !names || !row) {
        sg_error_nomem(err);
        goto done;
    }
    names[0] = "time";
    for (int c = 0; c < ncols; c++) {
        if (nselect > 0) {
            cols[c] = sg_trajectory_find_column(traj, select[c]);
            if (cols[c] < 0) {
                sg_symbol_kind k = sg_model_lookup(traj->model, select[c]);
                sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                             k == SG_SYM_NONE
                                 ? "cannot select '%s': model '%s' has no species or "
                                   "assignment with that id"
                                 : "cannot select '%s': it is not an output of this run "
                                   "(model '%s'); select species, assignments, parameters "
                                   "or compartments",
                             select[c], traj->model->name);
                goto done;
            }
        } else {
            cols[c] = c;
        }
        /* an element renamed at SBML import is headed by its SBML id */
        names[c + 1] = sg_model_output_id(traj->model, traj->names[cols[c]]);
    }
    table = sg_table_create(ncols + 1, names, err);
    for (int r = 0; table && r < traj->nrows; r++) {
        row[0] = traj->times[r];
        for (int c = 0; c < ncols; c++)
            row[c + 1] = sg_trajectory_value(traj, r, cols[c]);
        if (sg_table_add_row(table, row, err) != SG_OK) {
            sg_table_free(table);
            table = NULL;
        }
    }
done:
    sg_free(cols);
    sg_free(names);
    sg_free(row);
    return table;
}

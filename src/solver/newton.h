/*
 * Steady states by Newton's method (KINSOL) on the compiled right-hand
 * side, with conservation laws: for each independent conservation law
 * c.y = const of the stoichiometry, one species' equation is replaced by
 * the law, so the Jacobian is not singular.
 */
#ifndef SG_NEWTON_H
#define SG_NEWTON_H

#include "../compile/program.h"

/* Largest system the Newton path handles (dense linear algebra); larger
 * models use integration to steady state alone. */
#define SG_NEWTON_MAX_STATES 2000

typedef struct sg_conservation {
    int nlaws;
    int *pivot;      /* state whose equation each law replaces */
    double *c;       /* nlaws x nstate coefficients */
} sg_conservation;

/* Independent conservation laws of the scaled stoichiometry (states x
 * reactions) of `model` with the compartment sizes in v. */
sg_status sg_conservation_find(const sg_model *model, const double *v,
                               sg_conservation *out, sg_error *err);
void sg_conservation_free(sg_conservation *law);

/* Newton from the states in v[0..nstate) (the other slots hold parameters).
 * On success v holds the steady state (non-negative), *iterations the
 * Newton iterations. The laws' totals are taken from the starting states. */
sg_status sg_newton_steady(const sg_program *prog, const sg_conservation *law, double *v,
                           double ftol, long *iterations, sg_error *err);

#endif

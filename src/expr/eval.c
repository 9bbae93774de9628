/* Numeric meaning of operators and functions, shared by constant folding,
 * the instruction program and check evaluation, so they cannot disagree. */
#include <math.h>

#include "expr.h"

double sg_fn_apply(int fn, double x)
{
    switch (fn) {
    case FN_EXP: return exp(x);
    case FN_LOG: return log(x);
    case FN_LOG10: return log10(x);
    case FN_SQRT: return sqrt(x);
    case FN_ABS: return fabs(x);
    case FN_FLOOR: return floor(x);
    case FN_CEIL: return ceil(x);
    case FN_SIN: return sin(x);
    case FN_COS: return cos(x);
    case FN_TAN: return tan(x);
    case FN_TANH: return tanh(x);
    case FN_ASIN: return asin(x);
    case FN_ACOS: return acos(x);
    case FN_ATAN: return atan(x);
    case FN_FACTORIAL: return tgamma(x + 1.0); /* x! for whole x, Gamma(x + 1) between */
    }
    return NAN;
}

double sg_op_apply(int kind, double a, double b)
{
    switch (kind) {
    case EX_NEG: return -a;
    case EX_NOT: return a == 0.0;
    case EX_ADD: return a + b;
    case EX_SUB: return a - b;
    case EX_MUL: return a * b;
    case EX_DIV: return a / b;
    case EX_POW: return pow(a, b);
    case EX_LT: return a < b;
    case EX_LE: return a <= b;
    case EX_GT: return a > b;
    case EX_GE: return a >= b;
    case EX_EQ: return a == b;
    case EX_NE: return a != b;
    case EX_AND: return a != 0.0 && b != 0.0;
    case EX_OR: return a != 0.0 || b != 0.0;
    case EX_MIN: return a < b ? a : (b < a ? b : (isnan(a) ? a : b));
    case EX_MAX: return a > b ? a : (b > a ? b : (isnan(a) ? a : b));
    }
    return NAN;
}

double sg_expr_eval(const sg_expr *e, const double *slots)
{
    switch (e->kind) {
    case EX_NUM: return e->num;
    case EX_VAR: return slots[e->slot];
    case EX_FN: return sg_fn_apply(e->fn, sg_expr_eval(e->arg[0], slots));
    case EX_IF:
        return sg_expr_eval(e->arg[0], slots) != 0.0 ? sg_expr_eval(e->arg[1], slots)
                                                     : sg_expr_eval(e->arg[2], slots);
    case EX_NEG:
    case EX_NOT: return sg_op_apply(e->kind, sg_expr_eval(e->arg[0], slots), 0.0);
    case EX_NAME:
    case EX_TRAJ: return NAN; /* never evaluated here */
    case EX_DELAY:
        return sg_delay_eval(e, sg_expr_eval(e->arg[0], slots), sg_expr_eval(e->arg[1], slots),
                             slots);
    default:
        return sg_op_apply(e->kind, sg_expr_eval(e->arg[0], slots),
                           sg_expr_eval(e->arg[1], slots));
    }
}

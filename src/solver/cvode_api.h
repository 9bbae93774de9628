/*
 * The CVODE functions the solver calls, from one of two libraries
 * (cvode_api.c): plain CVODE for simulations and CVODES, its superset, for
 * forward sensitivities. CVODES costs every step its sensitivity and
 * quadrature branches (about 3% of a small model's run, measured against
 * the hand-written C of scripts/bench), so a run without sensitivities
 * uses CVODE when both are linked. The two export the same names; the
 * optimised static build links a copy of CVODES whose names start with
 * sgs_ (scripts/rename-cvodes.sh, SG_CVODE_SPLIT). With Debian's shared
 * libraries only CVODES is linked, and both tables are CVODES.
 */
#ifndef SG_CVODE_API_H
#define SG_CVODE_API_H

#include <cvodes/cvodes.h>
#include <cvodes/cvodes_ls.h>

/* X(member, function) for every function used; the sensitivity ones last */
#define SG_CVODE_COMMON(X)                                                                     \
    X(Create, CVodeCreate)                                                                     \
    X(Free, CVodeFree)                                                                         \
    X(Init, CVodeInit)                                                                         \
    X(ReInit, CVodeReInit)                                                                     \
    X(Run, CVode)                                                                              \
    X(SStolerances, CVodeSStolerances)                                                         \
    X(RootInit, CVodeRootInit)                                                                 \
    X(SetUserData, CVodeSetUserData)                                                           \
    X(SetErrHandlerFn, CVodeSetErrHandlerFn)                                                   \
    X(SetLinearSolver, CVodeSetLinearSolver)                                                   \
    X(SetJacFn, CVodeSetJacFn)                                                                 \
    X(SetMaxNumSteps, CVodeSetMaxNumSteps)                                                     \
    X(SetMaxStep, CVodeSetMaxStep)                                                             \
    X(SetStopTime, CVodeSetStopTime)                                                           \
    X(SetLSetupFrequency, CVodeSetLSetupFrequency)                                             \
    X(SetEtaFixedStepBounds, CVodeSetEtaFixedStepBounds)                                       \
    X(GetCurrentTime, CVodeGetCurrentTime)                                                     \
    X(GetLastStep, CVodeGetLastStep)                                                           \
    X(GetDky, CVodeGetDky)                                                                     \
    X(GetRootInfo, CVodeGetRootInfo)                                                           \
    X(GetErrWeights, CVodeGetErrWeights)                                                       \
    X(GetEstLocalErrors, CVodeGetEstLocalErrors)                                               \
    X(GetNumSteps, CVodeGetNumSteps)                                                           \
    X(GetNumRhsEvals, CVodeGetNumRhsEvals)                                                     \
    X(GetNumJacEvals, CVodeGetNumJacEvals)                                                     \
    X(GetNumLinSolvSetups, CVodeGetNumLinSolvSetups)                                           \
    X(GetNumErrTestFails, CVodeGetNumErrTestFails)                                             \
    X(GetNumNonlinSolvConvFails, CVodeGetNumNonlinSolvConvFails)                               \
    X(GetReturnFlagName, CVodeGetReturnFlagName)
#define SG_CVODE_SENS(X)                                                                       \
    X(SensInit, CVodeSensInit)                                                                 \
    X(SensReInit, CVodeSensReInit)                                                             \
    X(SensSStolerances, CVodeSensSStolerances)                                                 \
    X(SetSensErrCon, CVodeSetSensErrCon)                                                       \
    X(GetSens, CVodeGetSens)

typedef struct sg_cvode_api {
    const char *library; /* "CVODE" or "CVODES" (--stats) */
#define SG_CVODE_MEMBER(member, function) __typeof__(function) *member;
    SG_CVODE_COMMON(SG_CVODE_MEMBER)
    SG_CVODE_SENS(SG_CVODE_MEMBER) /* NULL in sg_cvode_plain when split */
#undef SG_CVODE_MEMBER
} sg_cvode_api;

extern const sg_cvode_api sg_cvode_plain; /* simulations */
extern const sg_cvode_api sg_cvode_sens;  /* forward sensitivities */

#endif

/*
 * The table of simulations (cvode_api.h): in the split build the names
 * CVodeInit, ... are plain CVODE's (the CVODES copy's start with sgs_);
 * otherwise they are CVODES', the one library linked.
 */
#include "cvode_api.h"

#define SG_CVODE_ENTRY(member, function) .member = function,
#define SG_CVODE_NONE(member, function) .member = NULL,

const sg_cvode_api sg_cvode_plain = {
#ifdef SG_CVODE_SPLIT
    .library = "CVODE",
    SG_CVODE_COMMON(SG_CVODE_ENTRY) SG_CVODE_SENS(SG_CVODE_NONE)
#else
    .library = "CVODES",
    SG_CVODE_COMMON(SG_CVODE_ENTRY) SG_CVODE_SENS(SG_CVODE_ENTRY)
#endif
};

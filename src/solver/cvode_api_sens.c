/*
 * The table of sensitivity runs (cvode_api.h): CVODES. In the split build
 * sg_cvodes_names.h (scripts/rename-cvodes.sh, in the build folder) maps
 * every CVODES name to its sgs_ copy before the header declares them.
 */
#ifdef SG_CVODE_SPLIT
#include "sg_cvodes_names.h"
#endif
#include "cvode_api.h"

#define SG_CVODE_ENTRY(member, function) .member = function,

const sg_cvode_api sg_cvode_sens = {
    .library = "CVODES",
    SG_CVODE_COMMON(SG_CVODE_ENTRY) SG_CVODE_SENS(SG_CVODE_ENTRY)};

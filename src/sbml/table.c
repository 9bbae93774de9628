/* The SBML module's one exported symbol: the table through which the core
 * (src/sbml/entry.c) calls the import and export. Everything else in the
 * module is hidden (built with -fvisibility=hidden). */
#include <sbml/common/libsbml-version.h>

#include "sbml.h"

#ifndef SIGODE_MODULE_ABI
#error "CMakeLists.txt defines SIGODE_MODULE_ABI for the modules"
#endif

__attribute__((visibility("default"))) const sg_sbml_module sg_sbml_module_table = {
    .abi = SIGODE_MODULE_ABI,
    .translate = sg_sbml_translate,
    .to_sbml = sg_sbml_export,
    .libsbml_version = getLibSBMLDottedVersion,
};

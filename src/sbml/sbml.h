/*
 * SBML in and out (libsbml). Import translates an SBML file into sigode
 * model text, which the normal loader then reads; export writes a loaded
 * model as SBML Level 3 Version 2. Import, export and units (import.c,
 * export.c, units.c, table.c) make the SBML module, sigode-sbml.so, the
 * only code that includes libsbml; the core opens it on first use
 * (entry.c, through src/util/module.c) and calls it through its table.
 */
#ifndef SG_SBML_H
#define SG_SBML_H

#include <stdarg.h>
#include <stddef.h>

#include "../util/util.h"

/* The SBML module's table, its one exported symbol (SG_SBML_MODULE_SYMBOL).
 * `abi` comes first in every module's table (src/util/module.c checks it). */
typedef struct sg_sbml_module {
    const char *abi;
    /* sg_sbml_to_config; *cacheable (if not NULL) is set to 0 when the
     * translation depends on more than the file's own bytes (a 'comp'
     * model, whose submodels may come from other files). */
    char *(*translate)(const char *path, int *cacheable, sg_error *err);
    /* sg_model_to_sbml_noting */
    char *(*to_sbml)(const sg_model *model, sg_note_fn note_fn, void *ctx, sg_error *err);
    /* libsbml's own function (its address tells which file it is in) */
    const char *(*libsbml_version)(void);
} sg_sbml_module;
#define SG_SBML_MODULE_NAME "sigode-sbml.so"
#define SG_SBML_MODULE_SYMBOL "sg_sbml_module_table"

/* In the module (import.c, export.c): what its table points to. */
char *sg_sbml_translate(const char *path, int *cacheable, sg_error *err);
char *sg_sbml_export(const sg_model *model, sg_note_fn note_fn, void *ctx, sg_error *err);

/* In the core (entry.c): the module's sg_sbml_translate, the module
 * opened on first use. */
char *sg_sbml_translate_file(const char *path, int *cacheable, sg_error *err);
/* Loads a translation (freed here) as the model of `path`, error
 * positions made to point at the translation. */
sg_model *sg_sbml_load_translation(char *text, const char *path, sg_error *err);
/* The libsbml file a translation comes from, as the translation cache
 * names it ("<real path> <size> <inode> <modification time>"), told
 * without loading libsbml when it can be: SG_OK, or an error. */
sg_status sg_sbml_library_identity(char *buf, size_t size, sg_error *err);

/* Classes of the XHTML paragraphs in SBML notes that carry an element's
 * `description` and `source` (export writes them, import reads them). */
#define SG_NOTES_DESCRIPTION "sigode-description"
#define SG_NOTES_SOURCE "sigode-source"

/* Units (units.c). A unit as SBML wants it: one term per symbol written
 * (kind is a libsbml UnitKind_t); `length`: how much of the text is the
 * unit (the rest is a remark for people). */
#define SG_UNIT_MAX_TERMS 16
typedef struct sg_unit_term {
    int kind, exponent, scale;
    double multiplier;
} sg_unit_term;
typedef struct sg_unit {
    sg_unit_term term[SG_UNIT_MAX_TERMS];
    int nterms; /* 0: a pure number */
    size_t length;
} sg_unit;

/* Reads a sigode unit ("nM", "1/h", "1/(nM*h)", "h"): 0, or -1 when the
 * text is not a unit sigode can write as SBML. molar_as_amount: M, nM...
 * are read as mol, nmol... (the amount in a compartment of size 1 without
 * a unit, which is what a concentration is when sizes are pure numbers). */
int sg_unit_parse(const char *text, int molar_as_amount, sg_unit *u);
/* An SBML UnitSId made from `text` ("unit_1_per_nM_h"). */
void sg_unit_id(const char *text, const sg_unit *u, char *buf, size_t size);
/* The readable text of an SBML unit definition, or of the base unit `kind`
 * when def is NULL: "nM", "1/h", "1/(nM*h)". 0, or -1 when no combination
 * of sigode's symbols says it (then the caller leaves the unit out). */
struct UnitDefinition;
/* 1 when `text` reads as a unit equal to def (a concentration also as the
 * amount in a pure-number volume), else 0. */
int sg_unit_matches(const char *text, const struct UnitDefinition *def);
int sg_unit_render(const struct UnitDefinition *def, int kind, char *buf, size_t size);

#endif

/* Read-only accessors of a loaded model (the public face of model.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

const char *sg_model_name(const sg_model *m) { return m->name; }
const char *sg_model_description(const sg_model *m) { return m->description; }
const char *sg_model_time_unit(const sg_model *m) { return m->time_unit; }
const char *sg_model_conc_unit(const sg_model *m) { return m->conc_unit; }
const char *sg_model_path(const sg_model *m) { return m->path; }
int sg_model_species_count(const sg_model *m) { return m->nspecies; }
int sg_model_state_count(const sg_model *m) { return m->nstate; }
int sg_model_compartment_count(const sg_model *m) { return m->ncompartments; }
int sg_model_parameter_count(const sg_model *m) { return m->nparameters; }
int sg_model_assignment_count(const sg_model *m) { return m->nassignments; }
int sg_model_reaction_count(const sg_model *m) { return m->nreactions; }
int sg_model_scenario_count(const sg_model *m) { return m->nscenarios; }
int sg_model_check_count(const sg_model *m) { return m->nchecks; }

const char *sg_model_species_id(const sg_model *m, int i) { return m->species[i].id; }
double sg_model_species_initial(const sg_model *m, int i) { return m->species[i].initial; }
int sg_model_species_is_constant(const sg_model *m, int i) { return m->species[i].constant; }
const char *sg_model_species_compartment(const sg_model *m, int i)
{
    return m->compartments[m->species[i].compartment].id;
}
const char *sg_model_compartment_id(const sg_model *m, int i) { return m->compartments[i].id; }
double sg_model_compartment_size(const sg_model *m, int i) { return m->compartments[i].size; }
const char *sg_model_parameter_id(const sg_model *m, int i) { return m->parameters[i].id; }
double sg_model_parameter_value(const sg_model *m, int i) { return m->parameters[i].value; }
const char *sg_model_parameter_unit(const sg_model *m, int i) { return m->parameters[i].unit; }
const char *sg_model_parameter_source(const sg_model *m, int i)
{
    return m->parameters[i].source;
}
const char *sg_model_assignment_id(const sg_model *m, int i) { return m->assignments[i].id; }
const char *sg_model_assignment_text(const sg_model *m, int i)
{
    return m->assignments[i].text;
}
const char *sg_model_reaction_id(const sg_model *m, int i) { return m->reactions[i].id; }
const char *sg_model_reaction_equation(const sg_model *m, int i)
{
    return m->reactions[i].equation;
}
const char *sg_model_reaction_rate(const sg_model *m, int i) { return m->reactions[i].rate_text; }
const char *sg_model_scenario_id(const sg_model *m, int i) { return m->scenarios[i].id; }
const char *sg_model_check_id(const sg_model *m, int i) { return m->checks[i].id; }

const char *sg_model_output_id(const sg_model *m, const char *id)
{
    int slot = sg_map_get(&m->symbols, id);
    return slot >= 0 && m->slot_sbml_id && m->slot_sbml_id[slot] ? m->slot_sbml_id[slot] : id;
}

sg_symbol_kind sg_model_lookup(const sg_model *m, const char *id)
{
    if (strcmp(id, "time") == 0)
        return SG_SYM_TIME;
    int slot = sg_map_get(&m->symbols, id);
    return slot < 0 ? SG_SYM_NONE : m->slot_kind[slot];
}

const char *sg_model_unit_of(const sg_model *m, const char *id)
{
    if (strcmp(id, "time") == 0)
        return m->time_unit;
    int slot = sg_map_get(&m->symbols, id);
    if (slot < 0)
        return "";
    int i = m->slot_index[slot];
    const char *unit = NULL;
    switch (m->slot_kind[slot]) {
    case SG_SYM_SPECIES:
        unit = m->species[i].unit && *m->species[i].unit ? m->species[i].unit : m->conc_unit;
        break;
    case SG_SYM_ASSIGNMENT:
        unit = m->assignments[i].unit;
        break;
    case SG_SYM_PARAMETER:
        unit = m->parameters[i].unit;
        break;
    default:
        break;
    }
    return unit ? unit : "";
}

int sg_unit_is_dimensionless(const char *unit)
{
    return unit && (!strcmp(unit, "1") || !strcmp(unit, "dimensionless") ||
                    !strcmp(unit, "fraction"));
}

int sg_model_find_scenario(const sg_model *m, const char *id)
{
    for (int i = 0; i < m->nscenarios; i++)
        if (strcmp(m->scenarios[i].id, id) == 0)
            return i;
    return -1;
}

int sg_model_function_count(const sg_model *m) { return m->nfunctions; }
const char *sg_model_function_id(const sg_model *m, int i) { return m->functions[i].name; }
int sg_model_rate_rule_count(const sg_model *m) { return m->nrate_rules; }
const char *sg_model_rate_rule_target(const sg_model *m, int i) { return m->rate_rules[i].id; }
const char *sg_model_rate_rule_rate(const sg_model *m, int i) { return m->rate_rules[i].text; }
int sg_model_event_count(const sg_model *m) { return m->ntriggers; }
const char *sg_model_event_id(const sg_model *m, int i) { return m->triggers[i].id; }
const char *sg_model_event_trigger(const sg_model *m, int i) { return m->triggers[i].text; }

int sg_model_uncertain_count(const sg_model *m) { return m->nuncertain; }
const char *sg_model_uncertain_id(const sg_model *m, int i) { return m->uncertain[i].id; }
sg_symbol_kind sg_model_uncertain_kind(const sg_model *m, int i) { return m->uncertain[i].kind; }
double sg_model_uncertain_nominal(const sg_model *m, int i) { return m->uncertain[i].nominal; }
const sg_distribution *sg_model_uncertain_distribution(const sg_model *m, int i)
{
    return &m->uncertain[i].dist;
}
const char *sg_model_uncertain_source(const sg_model *m, int i) { return m->uncertain[i].source; }
int sg_model_find_uncertain(const sg_model *m, const char *id)
{
    for (int i = 0; i < m->nuncertain; i++)
        if (strcmp(m->uncertain[i].id, id) == 0)
            return i;
    return -1;
}

int sg_knockout_parse(const sg_model *m, const char *text, char *id, double *factor,
                      char *msg, size_t size)
{
    const char *star = strchr(text, '*');
    size_t len = star ? (size_t)(star - text) : strlen(text);
    while (len && text[len - 1] == ' ')
        len--;
    if (len == 0 || len > SG_MAX_ID_LENGTH) {
        snprintf(msg, size, "knock-out '%s': expected a reaction or parameter id, "
                            "optionally '*factor' (e.g. \"k1*0.01\")", text);
        return -1;
    }
    memcpy(id, text, len);
    id[len] = '\0';
    *factor = 0.0;
    if (star) {
        char *end;
        errno = 0;
        *factor = strtod(star + 1, &end);
        while (*end == ' ')
            end++;
        if (end == star + 1 || *end || errno == ERANGE || !isfinite(*factor) || *factor < 0) {
            snprintf(msg, size, "knock-out '%s': the factor after '*' must be a number >= 0",
                     text);
            return -1;
        }
    }
    for (int i = 0; i < m->nreactions; i++)
        if (strcmp(m->reactions[i].id, id) == 0)
            return 0;
    for (int i = 0; i < m->nparameters; i++)
        if (strcmp(m->parameters[i].id, id) == 0)
            return 1;
    snprintf(msg, size, "knock-out '%s': '%s' is not a reaction or parameter of the model",
             text, id);
    return -1;
}

int sg_model_parameter_estimated(const sg_model *m, int i, double *lower, double *upper,
                                 int *scale)
{
    const sg_parameter_def *p = &m->parameters[i];
    if (lower)
        *lower = p->lower;
    if (upper)
        *upper = p->upper;
    if (scale)
        *scale = p->scale;
    return p->estimate;
}

int sg_model_find_reaction(const sg_model *m, const char *id)
{
    for (int i = 0; i < m->nreactions; i++)
        if (strcmp(m->reactions[i].id, id) == 0)
            return i;
    return -1;
}

/* Calls fn(id, name, ctx) for every element that may carry a name, in
 * file order; stops when fn returns nonzero. */
static void each_named(const sg_model *m, int (*fn)(const char *, const char *, void *),
                       void *ctx)
{
    for (int i = 0; i < m->ncompartments; i++)
        if (m->compartments[i].name && fn(m->compartments[i].id, m->compartments[i].name, ctx))
            return;
    for (int i = 0; i < m->nspecies; i++)
        if (fn(m->species[i].id, m->species[i].name, ctx))
            return;
    for (int i = 0; i < m->nparameters; i++)
        if (fn(m->parameters[i].id, m->parameters[i].name, ctx))
            return;
    for (int i = 0; i < m->nassignments; i++)
        if (fn(m->assignments[i].id, m->assignments[i].name, ctx))
            return;
    for (int i = 0; i < m->nreactions; i++)
        if (fn(m->reactions[i].id, m->reactions[i].name, ctx))
            return;
    for (int i = 0; i < m->ntriggers; i++)
        if (fn(m->triggers[i].id, m->triggers[i].name, ctx))
            return;
}

typedef struct name_query {
    const char *key;   /* the id or the name looked for */
    const char *found; /* name of the id / first id of the name */
    int count;         /* ids with that name */
    char list[400];    /* those ids, for the message */
} name_query;

static int name_of_id(const char *id, const char *name, void *ctx)
{
    name_query *q = ctx;
    if (strcmp(id, q->key) != 0)
        return 0;
    q->found = name;
    return 1;
}

static int id_of_name(const char *id, const char *name, void *ctx)
{
    name_query *q = ctx;
    if (!*name || strcmp(name, q->key) != 0)
        return 0;
    if (q->count++ == 0)
        q->found = id;
    size_t n = strlen(q->list);
    snprintf(q->list + n, sizeof q->list - n, "%s'%s'", n ? ", " : "", id);
    return 0;
}

/* The name of the element behind a symbol slot; NULL for a compartment
 * without one (each_named skips those too). */
static const char *slot_element_name(const sg_model *m, int slot)
{
    int i = m->slot_index[slot];
    switch (m->slot_kind[slot]) {
    case SG_SYM_COMPARTMENT: return m->compartments[i].name;
    case SG_SYM_SPECIES: return m->species[i].name;
    case SG_SYM_PARAMETER: return m->parameters[i].name;
    case SG_SYM_ASSIGNMENT: return m->assignments[i].name;
    default: return NULL;
    }
}

/* Ids of compartments, species, parameters and assignments are found in
 * the symbol table at once: `sigode info` and plots ask once per element,
 * and a walk over every element each time made `info` of a 10^5-species
 * model run for hours. Reactions and events are not symbols: walked. */
const char *sg_model_name_of(const sg_model *m, const char *id)
{
    int slot = sg_map_get(&m->symbols, id);
    const char *name = slot >= 0 ? slot_element_name(m, slot) : NULL;
    if (name)
        return name;
    name_query q = {id, NULL, 0, ""};
    each_named(m, name_of_id, &q);
    return q.found ? q.found : "";
}

const char *sg_model_reaction_name(const sg_model *m, int i)
{
    return m->reactions[i].name ? m->reactions[i].name : "";
}

const char *sg_model_event_name(const sg_model *m, int i)
{
    return m->triggers[i].name ? m->triggers[i].name : "";
}

sg_status sg_model_resolve_id(const sg_model *m, const char *text, const char **id,
                              sg_error *err)
{
    *id = text;
    int slot = sg_map_get(&m->symbols, text);
    if (slot >= 0 || sg_model_find_reaction(m, text) >= 0)
        return SG_OK; /* an id wins over a name */
    /* then the SBML id of an element sigode renamed: an imported parameter
     * 'time' is selected as 'time' (its output column says so) */
    for (int i = 0; m->slot_sbml_id && i < m->nslots; i++)
        if (m->slot_sbml_id[i] && strcmp(m->slot_sbml_id[i], text) == 0) {
            *id = m->slot_name[i];
            return SG_OK;
        }
    if (strcmp(text, "time") == 0)
        return SG_OK;
    name_query q = {text, NULL, 0, ""};
    each_named(m, id_of_name, &q);
    if (q.count > 1)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0,
                            "'%s' is the name of %d elements of model '%s' (%s): select one "
                            "by its id",
                            text, q.count, m->name, q.list);
    if (q.count == 1)
        *id = q.found;
    return SG_OK;
}

/*
 * Fuzz target: the model loader from a buffer (sg_model_load_buffer), then
 * every scenario turned into an experiment and the compiled right-hand
 * side and Jacobian evaluated once at the initial values.
 *
 * Properties checked besides "no crash, no leak, no undefined behaviour":
 * a failed load fills an error with a status and a message, and a model
 * that loads reports consistent counts. And a differential one: our
 * reading of libconfig's grammar (model/cfgcheck.c) finds an error in a
 * text exactly when libconfig rejects it (save its parser-stack limit),
 * and reading its largest setting apart (sg_cfg_read) accepts exactly the
 * texts libconfig accepts whole.
 */
#include <libconfig.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compile/program.h"
#include "model/model.h"
#include "sigode.h"

static void evaluate(const sg_model *m)
{
    const sg_program *p = m->program;
    size_t nslots = (size_t)p->nslots + 1;
    double *v = calloc(nslots, sizeof *v);
    double *y = calloc((size_t)p->nstate + 1, sizeof *y);
    double *ydot = calloc((size_t)p->nstate + 1, sizeof *ydot);
    double *st = calloc((size_t)p->st_start[p->nstate] + 1, sizeof *st);
    double *jt = calloc((size_t)p->jt_start[p->nnz] + 1, sizeof *jt);
    double *jac = calloc((size_t)p->nnz + 1, sizeof *jac);
    if (v && y && ydot && st && jt && jac) {
        memcpy(v, p->base, sizeof *v * (size_t)p->nslots);
        memcpy(y, p->base, sizeof *y * (size_t)p->nstate);
        sg_program_scale(p, v, st, jt);
        sg_program_rhs(p, 0.0, y, ydot, v, st);
        sg_program_jacobian(p, 0.0, y, jac, v, jt);
    }
    free(v);
    free(y);
    free(ydot);
    free(st);
    free(jt);
    free(jac);
}

static void differential(const uint8_t *data, size_t size)
{
    if (memchr(data, 0, size))
        return; /* refused before libconfig sees it */
    char *text = malloc(size + 2);
    memcpy(text, data, size);
    if (size == 0 || text[size - 1] != '\n')
        text[size++] = '\n'; /* as sg_model_load_buffer does */
    text[size] = '\0';
    int line, col;
    char msg[400];
    sg_cfg_top top;
    if (sg_cfg_precheck(text, size, &line, &col, msg, sizeof msg, &top) == 0) {
        config_t cfg;
        config_init(&cfg);
        int ok = config_read_string(&cfg, text);
        /* read in two (any top-level setting may go to the second
         * thread): the same verdict, and the text as it was */
        char *before = malloc(size + 1);
        memcpy(before, text, size + 1);
        config_t whole, side;
        unsigned char movable[SG_CFG_MAX_TOP];
        memset(movable, 1, sizeof movable);
        int read = sg_cfg_read(text, size, &top, movable, &whole, &side);
        if (read == 2)
            config_destroy(&side);
        config_destroy(&whole);
        if ((read != 0) != (ok != 0) || (ok && top.count > 1 && read != 2) ||
            memcmp(before, text, size + 1) != 0)
            abort();
        free(before);
        const char *what = ok ? NULL : config_error_text(&cfg);
        int found = sg_cfg_diagnose(text, size, &line, &col, msg, sizeof msg);
        if (ok && found)
            abort(); /* an error where libconfig sees none */
        if (!ok && !found && !(what && strcmp(what, "memory exhausted") == 0))
            abort(); /* a libconfig error we cannot place */
        config_destroy(&cfg);
    }
    sg_cfg_top_free(&top);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sg_cfg_split_min_bytes = 0; /* the loader reads every text it can in two */
    differential(data, size);
    /* and every second input's long lists in pieces of 1 or 2 elements */
    sg_cfg_piece_min_bytes = size % 2 ? 0 : (size_t)-1;
    sg_cfg_piece_elements = 1 + (int)(size % 4 == 1);
    /* and every other pair's rates compiled by a second thread while the
     * Jacobian is derived (models without events) */
    sg_compile_two_threads = (int)(size % 4 >= 2);
    sg_error err;
    sg_model *m = sg_model_load_buffer((const char *)data, size, "fuzz.cfg", &err);
    if (!m) {
        char buf[1200];
        sg_error_format(&err, buf, sizeof buf);
        if (err.status == SG_OK || !err.message[0] || !memchr(err.message, 0, sizeof err.message))
            abort(); /* a failure must say what went wrong */
        return 0;
    }
    if (sg_model_state_count(m) > sg_model_species_count(m) || !sg_model_name(m))
        abort();
    for (int i = 0; i < sg_model_scenario_count(m); i++) {
        sg_experiment *exp = sg_experiment_create(m, sg_model_scenario_id(m, i), &err);
        if (!exp)
            abort(); /* a scenario that loaded must make an experiment */
        sg_experiment_free(exp);
    }
    evaluate(m);
    sg_model_free(m);
    return 0;
}

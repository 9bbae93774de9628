/*
 * Fuzz target: the SBML importer. The input is an SBML file.
 *
 * Oracle: whatever sigode makes of it, a model text it produced loads
 * with the model loader (the importer blanks what the loader refuses,
 * e.g. control characters in names), and a refusal carries a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sigode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/sigode-fuzz-sbml-%ld.xml", (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    sg_error err;
    char *text = sg_sbml_to_config(path, &err);
    if (!text) {
        if (!err.message[0])
            abort(); /* a refusal says why */
        unlink(path);
        return 0;
    }
    sg_error lerr;
    sg_model *m = sg_model_load_buffer(text, strlen(text), "imported.cfg", &lerr);
    if (!m && strstr(lerr.message, "control character"))
        abort(); /* the importer let a control character through */
    sg_model_free(m);
    free(text);
    unlink(path);
    return 0;
}

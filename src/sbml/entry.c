/*
 * The SBML entry points of the public API (sigode.h), in the core: they
 * open the SBML module (sigode-sbml.so, libsbml's only user) on first use
 * and call it through its table, so the programs that never read or
 * write SBML never load libsbml. A missing or foreign module is an
 * SG_ERR_IO naming the path where it was expected (src/util/module.c).
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sbml.h"

#ifndef SIGODE_LIBSBML_FILE
#error "CMakeLists.txt defines SIGODE_LIBSBML_FILE for this file"
#endif

static const sg_sbml_module *module(sg_error *err)
{
    return sg_module_open(SG_SBML_MODULE_NAME, SG_SBML_MODULE_SYMBOL, "SBML import and export",
                          0, err);
}

char *sg_sbml_translate_file(const char *path, int *cacheable, sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    const sg_sbml_module *sbml = module(err);
    return sbml ? sbml->translate(path, cacheable, err) : NULL;
}

char *sg_sbml_to_config(const char *path, sg_error *err)
{
    return sg_sbml_translate_file(path, NULL, err);
}

sg_model *sg_sbml_load_translation(char *text, const char *path, sg_error *err)
{
    sg_model *m = sg_model_load_buffer(text, strlen(text), path, err);
    sg_free(text);
    if (!m && err->status == SG_ERR_MODEL && err->line > 0) {
        /* the position is in the translation, not in the XML */
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%.500s (line %d of the translation: see 'sigode convert "
                                  "%.150s --to cfg')", err->message, err->line, path);
        snprintf(err->message, sizeof err->message, "%s", msg);
        err->line = err->col = 0;
    }
    return m;
}

sg_model *sg_model_load_sbml(const char *path, sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    char *text = sg_sbml_to_config(path, err);
    return text ? sg_sbml_load_translation(text, path, err) : NULL;
}

char *sg_model_to_sbml_noting(const sg_model *model, sg_note_fn note_fn, void *ctx,
                              sg_error *err)
{
    sg_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    const sg_sbml_module *sbml = module(err);
    return sbml ? sbml->to_sbml(model, note_fn, ctx, err) : NULL;
}

char *sg_model_to_sbml(const sg_model *model, sg_error *err)
{
    return sg_model_to_sbml_noting(model, NULL, NULL, err);
}

/* The libsbml file: the one the module loaded when it is open; else, when
 * no environment variable can make the dynamic loader take another, the
 * one the module was linked with (the loader takes that one: the build
 * found it where the system looks). So a cache hit need not load libsbml
 * at all, and an upgraded or replaced libsbml (another file, or the same
 * path with another size, inode or time) misses every entry of the old. */
sg_status sg_sbml_library_identity(char *buf, size_t size, sg_error *err)
{
    const char *file = SIGODE_LIBSBML_FILE;
    const char *lp = getenv("LD_LIBRARY_PATH"), *pre = getenv("LD_PRELOAD");
    int predict = file[0] && !sg_module_is_open(SG_SBML_MODULE_NAME) && !(lp && *lp) &&
                  !(pre && *pre);
    Dl_info info;
    if (!predict) {
        const sg_sbml_module *sbml = module(err);
        if (!sbml)
            return err->status;
        if (!dladdr((const void *)sbml->libsbml_version, &info) || !info.dli_fname)
            return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                                "cannot tell which libsbml file is loaded (dladdr failed)");
        file = info.dli_fname;
    }
    char real[PATH_MAX];
    struct stat sb;
    if (!realpath(file, real) || stat(real, &sb) != 0)
        return sg_error_set(err, SG_ERR_IO, file, 0, 0, "cannot read libsbml's file: %s",
                            strerror(errno));
    snprintf(buf, size, "%s %lld %llu %lld.%09ld", real, (long long)sb.st_size,
             (unsigned long long)sb.st_ino, (long long)sb.st_mtim.tv_sec,
             (long)sb.st_mtim.tv_nsec);
    return SG_OK;
}

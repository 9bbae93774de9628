/*
 * Modules: optional parts of sigode in their own shared objects, opened
 * with dlopen on first use (sg_module_open in util.h). Linked into the
 * program, libsbml (with libxml2, ICU and libstdc++) cost every command
 * about 15 ms of dynamic loading (issue 17), also the many that never read
 * or write SBML.
 *
 * A module is looked for in one place, an absolute path found from where
 * this code itself lies; never from the environment or the working
 * directory, since whatever is opened runs with the user's rights:
 *   - in the sigode program: <its folder>/SIGODE_MODULES_FROM_BIN, the
 *     path from the installed bin folder to <libdir>/sigode;
 *   - in libsigode.so: <its folder>/sigode;
 *   - in the build tree (the program or library directly in the build
 *     folder, or a test program under its tests/ folder):
 *     <build folder>/modules.
 * A module's undefined sg_* symbols are resolved from its host (the
 * program exports them, libsigode.so has them), so the two share one
 * allocator, error type and model layout. It is opened with RTLD_NOW, so a
 * symbol it lacks is an error at once rather than a crash later (and
 * RTLD_LOCAL unless the caller asks otherwise: Open MPI's own plugins need
 * libmpi's symbols global), and used
 * only when the ABI string at the head of its table equals the host's
 * (CMakeLists.txt hashes what the module reads of the core): a module of
 * another build is refused.
 */
#define _GNU_SOURCE /* dladdr1, dlinfo */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#if !defined(SIGODE_MODULE_ABI) || !defined(SIGODE_BUILD_DIR) || !defined(SIGODE_MODULES_FROM_BIN)
#error "CMakeLists.txt defines SIGODE_MODULE_ABI, SIGODE_BUILD_DIR and SIGODE_MODULES_FROM_BIN"
#endif

/* The modules opened so far (there are two kinds): opened once, kept. */
enum { MAX_OPEN = 4 };
static struct {
    char name[64];
    const void *table;
} opened[MAX_OPEN];
static int nopened;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* 1 when `dir` is the build folder or lies under its tests/ folder. */
static int in_build_tree(const char *dir)
{
    char build[PATH_MAX];
    if (!realpath(SIGODE_BUILD_DIR, build))
        return 0;
    size_t n = strlen(build);
    return strcmp(dir, build) == 0 ||
           (strncmp(dir, build, n) == 0 && strncmp(dir + n, "/tests/", 7) == 0);
}

/* The folder the modules of this program or library are in. */
static sg_status module_dir(char *out, size_t size, sg_error *err)
{
    Dl_info info;
    struct link_map *self = NULL, *program = NULL;
    if (!dladdr1((void *)module_dir, &info, (void **)&self, RTLD_DL_LINKMAP) || !self)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "cannot tell where sigode's code is loaded from (dladdr failed)");
    void *main_handle = dlopen(NULL, RTLD_LAZY);
    if (main_handle) {
        if (dlinfo(main_handle, RTLD_DI_LINKMAP, &program) != 0)
            program = NULL;
        dlclose(main_handle);
    }
    int is_program = self == program;
    const char *where = is_program ? "/proc/self/exe" : info.dli_fname;
    char real[PATH_MAX];
    if (!realpath(where, real))
        return sg_error_set(err, SG_ERR_IO, where, 0, 0,
                            "cannot find the folder of sigode's modules: %s", strerror(errno));
    if (!is_program) {
        /* libsigode.so opened by dlopen without RTLD_GLOBAL (Python's ctypes
         * does so) keeps its symbols to itself: make them visible to the
         * module, which needs them */
        void *again = dlopen(real, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
        (void)again; /* a reference kept for as long as the process runs */
    }
    char *slash = strrchr(real, '/');
    if (slash == real)
        slash[1] = '\0';
    else
        *slash = '\0';
    int n = in_build_tree(real) ? snprintf(out, size, "%s/modules", SIGODE_BUILD_DIR)
            : is_program        ? snprintf(out, size, "%s/%s", real, SIGODE_MODULES_FROM_BIN)
                                : snprintf(out, size, "%s/sigode", real);
    if (n < 0 || (size_t)n >= size)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "the folder of sigode's modules has too long a path");
    return SG_OK;
}

static const void *open_module(const char *name, const char *symbol, const char *what,
                               int global, sg_error *err)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    if (module_dir(dir, sizeof dir, err) != SG_OK)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (access(path, F_OK) != 0) {
        sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                     "%s needs sigode's module %s, which is not at %s (%s): it is installed "
                     "with sigode, in <libdir>/sigode; reinstall sigode",
                     what, name, path, strerror(errno));
        return NULL;
    }
    void *handle = dlopen(path, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
    if (!handle) {
        const char *why = dlerror();
        sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "%s: cannot load sigode's module %s: %s",
                     what, path, why ? why : "unknown error");
        return NULL;
    }
    const char *const *table = dlsym(handle, symbol);
    if (!table || !*table || strcmp(*table, SIGODE_MODULE_ABI) != 0) {
        sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                     "%s: the module %s was built %s; it is not used (reinstall sigode)", what,
                     path, table ? "by another build of sigode" : "for another program");
        dlclose(handle);
        return NULL;
    }
    return table; /* the handle stays open: the module is used until exit */
}

const void *sg_module_open(const char *name, const char *symbol, const char *what, int global,
                           sg_error *err)
{
    const void *table = NULL;
    pthread_mutex_lock(&lock);
    /* i < MAX_OPEN too: GCC's -O3 cannot tell that nopened stays within */
    for (int i = 0; i < nopened && i < MAX_OPEN && !table; i++)
        if (strcmp(opened[i].name, name) == 0)
            table = opened[i].table;
    if (!table && (table = open_module(name, symbol, what, global, err)) != NULL &&
        nopened < MAX_OPEN && strlen(name) < sizeof opened[0].name) {
        strcpy(opened[nopened].name, name);
        opened[nopened++].table = table;
    }
    pthread_mutex_unlock(&lock);
    return table;
}

int sg_module_is_open(const char *name)
{
    int found = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nopened; i++)
        found |= strcmp(opened[i].name, name) == 0;
    pthread_mutex_unlock(&lock);
    return found;
}

/* A module that needs a function its host does not have (as a module
 * would whose host lacks a part of the library): opened with RTLD_NOW,
 * it must fail at once with the loader's message, not crash at the call
 * (tests/modules/modules.sh, src/util/module.c). */
void sg_no_such_function_in_sigode(void);

__attribute__((visibility("default"))) const struct {
    const char *abi;
    void (*call)(void);
} sg_sbml_module_table = {"", sg_no_such_function_in_sigode};

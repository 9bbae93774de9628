/* A module with the SBML module's name and table symbol but another
 * build's ABI string: tests/modules/modules.sh puts it where a program
 * looks for its SBML module, which must refuse it (src/util/module.c). */
__attribute__((visibility("default"))) const struct {
    const char *abi;
} sg_sbml_module_table = {"another build of sigode"};

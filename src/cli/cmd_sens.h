/* sigode sens (cmd_sens.c): argv as main() got it; returns the exit status. */
#ifndef SG_CMD_SENS_H
#define SG_CMD_SENS_H

int sigode_cmd_sens(int argc, char **argv);

#endif

/* Shared declarations of the terracl command-line tool's sub-commands. */
#ifndef TC_CLI_CLI_H
#define TC_CLI_CLI_H

#include "terracl/terracl.h"

/* Each sub-command gets argv after the command name and returns the exit
 * status: 0 on success, 1 on a runtime failure, 2 on a usage error. */
int tc_cmd_devices(int argc, char **argv);
int tc_cmd_selftest(int argc, char **argv);
int tc_cmd_run(int argc, char **argv);

/* Prints "terracl: <message>" (or the status text) on stderr and returns 1. */
int tc_cli_fail(const terracl_error *err, terracl_status st);

/* Finds "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past the
 * value. Returns the value or NULL when argv[*i] is another option. Sets
 * *missing when the option is present without a value. */
const char *tc_cli_option(int argc, char **argv, int *i, const char *name, int *missing);

#endif /* TC_CLI_CLI_H */

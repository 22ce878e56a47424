/* Shared declarations of the terracl command-line tool's sub-commands. */
#ifndef TC_CLI_CLI_H
#define TC_CLI_CLI_H

#include <stdio.h>

#include "terracl/terracl.h"

/* Each sub-command gets argv after the command name and returns the exit
 * status: 0 on success, 1 on a runtime failure, 2 on a usage error. */
int tc_cmd_devices(int argc, char **argv);
int tc_cmd_selftest(int argc, char **argv);
int tc_cmd_run(int argc, char **argv);
int tc_cmd_predict(int argc, char **argv);
int tc_cmd_bench(int argc, char **argv);
int tc_cmd_tune(int argc, char **argv);
/* tune's search over terracl's own CPU kernel parameters (tune_native.c)
 * for a model with `tokens` tokens; stores the winner; an exit status. */
int tc_tune_native(terracl_runtime *rt, size_t tokens);
int tc_cmd_list(int argc, char **argv);
int tc_cmd_info(int argc, char **argv);

/* list/info with explicit streams (tests call these). tc_cli_kind maps
 * "backbone(s)" etc. to a registry kind, or prints the unknown word with
 * the nearest kinds on errf and returns 0. */
int tc_cli_list(int argc, char **argv, FILE *out, FILE *errf);
int tc_cli_info(int argc, char **argv, FILE *out, FILE *errf);
int tc_cli_kind(const char *word, int plural, enum terracl_registry_kind *kind, FILE *errf);

/* 1 when argv holds -h or --help: the command then prints its usage
 * (every option it accepts) on stdout and returns 0. */
int tc_cli_wants_help(int argc, char **argv);

/* Prints "terracl: <message>" (or the status text) on stderr and returns 1. */
int tc_cli_fail(const terracl_error *err, terracl_status st);

/* Finds "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past the
 * value. Returns the value or NULL when argv[*i] is another option. Sets
 * *missing when the option is present without a value. */
const char *tc_cli_option(int argc, char **argv, int *i, const char *name, int *missing);

#endif /* TC_CLI_CLI_H */

/* -h / --help, answered the same way by every sub-command. */
#include <string.h>

#include "cli/cli.h"

int tc_cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

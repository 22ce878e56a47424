/* terracl: the command-line tool. Dispatches to one file per sub-command. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command k_commands[] = {
    {"devices", tc_cmd_devices, "list OpenCL platforms and devices with their indices"},
    {"selftest", tc_cmd_selftest, "run one GEMM on a device and check it against a C reference"},
    {"bench", tc_cmd_bench, "time backbones, models or GEMMs on one or all devices"},
    {"tune", tc_cmd_tune, "search GEMM parameters for a device and store them"},
    {"run", tc_cmd_run, "run a model: --config C.yaml --weights W.h5 --input IN.h5 --output OUT"},
    {"predict", tc_cmd_predict, "GeoTIFF scenes in, georeferenced predictions out (--help)"},
    {"list", tc_cmd_list, "registered backbones, necks, decoders, factories (with prefixes)"},
    {"info", tc_cmd_info, "a component's resolved defaults: info KIND NAME"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: terracl COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(f, "  %-10s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(f, "\nDevice selection: --device D or TERRACL_DEVICE=D, where D is an index from "
               "`terracl devices`,\ncpu, gpu, accelerator, or part of a device name.\n");
}

int tc_cli_fail(const terracl_error *err, terracl_status st)
{
    if (err != NULL && err->status != TERRACL_OK && err->message[0] != '\0')
        fprintf(stderr, "terracl: %s\n", err->message);
    else
        fprintf(stderr, "terracl: %s\n", terracl_status_text(st));
    return 1;
}

const char *tc_cli_option(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    const char *arg = argv[*i];
    *missing = 0;
    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    *i += 1;
    return argv[*i];
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (strcmp(argv[1], k_commands[i].name) == 0)
            return k_commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "terracl: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

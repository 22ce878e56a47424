/* terracl devices: every platform and device, with the index selectors use. */
#include <stdio.h>

#include "cli/cli.h"

static const char k_usage[] = "usage: terracl devices\n";
static const char k_help[] =
    "\nLists OpenCL platforms and devices; the index in brackets is what --device and\n"
    "TERRACL_DEVICE take (* marks the default device).\n"
    "  -h, --help         this text\n";

int tc_cmd_devices(int argc, char **argv)
{
    if (tc_cli_wants_help(argc, argv)) {
        printf("%s%s", k_usage, k_help);
        return 0;
    }
    if (argc != 0) {
        fputs(k_usage, stderr);
        return 2;
    }
    terracl_error err = {0};
    size_t count = 0;
    terracl_status st = terracl_device_count(&count, &err);
    if (st != TERRACL_OK)
        return tc_cli_fail(&err, st);
    if (count == 0) {
        size_t index;
        st = terracl_device_select(NULL, &index, &err);
        return tc_cli_fail(&err, st);
    }
    size_t default_index = 0;
    (void)terracl_device_select(NULL, &default_index, NULL);
    size_t last_platform = (size_t)-1;
    for (size_t i = 0; i < count; i++) {
        struct terracl_device_info info;
        st = terracl_device_get_info(i, &info, &err);
        if (st != TERRACL_OK)
            return tc_cli_fail(&err, st);
        if (info.platform_index != last_platform) {
            printf("platform %zu: %s (%s)\n", info.platform_index, info.platform_name,
                   info.platform_version);
            last_platform = info.platform_index;
        }
        printf("  [%zu]%s %s\n", i, i == default_index ? "*" : " ", info.name);
        printf("       type %s, %u compute units, global memory %.1f GiB, max allocation %.1f GiB\n",
               info.type, info.compute_units, (double)info.global_mem_bytes / (1 << 30),
               (double)info.max_alloc_bytes / (1 << 30));
        printf("       fp16 %s, fp64 %s, driver %s, %s\n", info.fp16 ? "yes" : "no",
               info.fp64 ? "yes" : "no", info.driver_version, info.device_version);
    }
    printf("(* = default device)\n");
    return 0;
}

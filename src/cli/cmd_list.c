/*
 * terracl list [backbones|necks|decoders|factories|full_models]: the names
 * in the top-level registries, with their source prefix
 * ("terratorch_prithvi_eo_v2_300"), one per line.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/value.h"
#include "registry/registry.h"

static const struct {
    const char *plural, *singular;
    enum terracl_registry_kind kind;
} k_kinds[] = {
    {"backbones", "backbone", TERRACL_REGISTRY_BACKBONE},
    {"necks", "neck", TERRACL_REGISTRY_NECK},
    {"decoders", "decoder", TERRACL_REGISTRY_DECODER},
    {"factories", "factory", TERRACL_REGISTRY_MODEL_FACTORY},
    {"full_models", "full_model", TERRACL_REGISTRY_FULL_MODEL},
};
#define TC_NKINDS (sizeof k_kinds / sizeof k_kinds[0])

int tc_cli_kind(const char *word, int plural, enum terracl_registry_kind *kind, FILE *errf)
{
    /* Both forms are accepted ("list backbone" reads fine too); suggestions
     * use the form the command documents. */
    const char *words[TC_NKINDS];
    for (size_t i = 0; i < TC_NKINDS; i++) {
        words[i] = plural ? k_kinds[i].plural : k_kinds[i].singular;
        if (strcmp(word, k_kinds[i].plural) == 0 || strcmp(word, k_kinds[i].singular) == 0) {
            *kind = k_kinds[i].kind;
            return 1;
        }
    }
    size_t best[3];
    size_t n = tc_nearest_names(word, words, TC_NKINDS, 3, best);
    fprintf(errf, "terracl: unknown kind '%s' (nearest:", word);
    for (size_t i = 0; i < n; i++)
        fprintf(errf, "%s %s", i ? "," : "", words[best[i]]);
    fprintf(errf, ")\n");
    return 0;
}

/* Prints every name of one registry, each line starting with `indent`. */
static int print_names(enum terracl_registry_kind kind, const char *indent, FILE *out, FILE *errf)
{
    const terracl_registry *reg = terracl_registry_get(kind);
    size_t n = terracl_registry_count(reg);
    for (size_t i = 0; i < n; i++) {
        char name[512];
        terracl_error err = {0};
        terracl_status st = terracl_registry_name(reg, i, name, sizeof name, &err);
        if (st == TERRACL_ERR_NOT_FOUND)
            break; /* another thread changed the registry; what we printed stands */
        if (st != TERRACL_OK) {
            fprintf(errf, "terracl: %s\n", err.message);
            return 1;
        }
        fprintf(out, "%s%s\n", indent, name);
    }
    if (n == 0 && indent[0] != '\0')
        fprintf(out, "%s(none registered)\n", indent);
    return 0;
}

static const char k_usage[] = "usage: terracl list [backbones|necks|decoders|factories|full_models]\n";
static const char k_help[] =
    "\nPrints the registered names of one registry, or of all of them, with their source prefix\n"
    "(terratorch_prithvi_eo_v2_300; configs may leave the prefix out). The singular\n"
    "(backbone, neck...) is accepted too. `terracl info KIND NAME` shows one of them.\n"
    "  -h, --help         this text\n";

int tc_cli_list(int argc, char **argv, FILE *out, FILE *errf)
{
    if (tc_cli_wants_help(argc, argv)) {
        fprintf(out, "%s%s", k_usage, k_help);
        return 0;
    }
    if (argc > 1 || (argc == 1 && argv[0][0] == '-')) {
        fputs(k_usage, errf);
        return 2;
    }
    if (argc == 1) {
        enum terracl_registry_kind kind;
        if (!tc_cli_kind(argv[0], 1, &kind, errf))
            return 1;
        return print_names(kind, "", out, errf);
    }
    for (size_t i = 0; i < TC_NKINDS; i++) {
        fprintf(out, "%s%s:\n", i ? "\n" : "", k_kinds[i].plural);
        int rc = print_names(k_kinds[i].kind, "  ", out, errf);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int tc_cmd_list(int argc, char **argv) { return tc_cli_list(argc, argv, stdout, stderr); }

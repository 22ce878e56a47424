/*
 * terracl info KIND NAME [--channels C1,C2,...]: builds one component with
 * its default arguments and prints the resolved configuration as YAML
 * (backbones: also the learnable parameter count). Decoders are built over
 * the channel list given with --channels, by default [768] (one ViT-B
 * feature map).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "models/factories/factories.h"

static void usage(FILE *errf)
{
    fprintf(errf, "usage: terracl info backbone|neck|decoder|factory|full_model NAME "
                  "[--channels C1,C2,...]\n");
}

/* "32,64,128" -> a list value; NULL (with a message) when malformed. */
static terracl_value *parse_channels(const char *text, FILE *errf)
{
    terracl_value *list = terracl_value_new_list();
    const char *p = text;
    while (list != NULL) {
        char *end;
        errno = 0;
        long long c = strtoll(p, &end, 10);
        if (end == p || errno != 0 || c <= 0 || (*end != ',' && *end != '\0')) {
            fprintf(errf, "terracl: --channels wants positive integers separated by commas, "
                          "got '%s'\n",
                    text);
            terracl_value_free(list);
            return NULL;
        }
        if (terracl_value_list_append(list, terracl_value_new_int((int64_t)c), NULL) != TERRACL_OK)
            break;
        if (*end == '\0')
            return list;
        p = end + 1;
    }
    terracl_value_free(list);
    fprintf(errf, "terracl: out of memory\n");
    return NULL;
}

int tc_cli_info(int argc, char **argv, FILE *out, FILE *errf)
{
    const char *pos[2] = {NULL, NULL};
    const char *channels = NULL;
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--channels=", 11) == 0) {
            channels = a + 11;
        } else if (strcmp(a, "--channels") == 0 && i + 1 < argc) {
            channels = argv[++i];
        } else if (a[0] == '-' || npos == 2) {
            usage(errf);
            return 2;
        } else {
            pos[npos++] = a;
        }
    }
    if (npos != 2) {
        usage(errf);
        return 2;
    }
    enum terracl_registry_kind kind;
    if (!tc_cli_kind(pos[0], 0, &kind, errf))
        return 1;
    if (channels != NULL && kind != TERRACL_REGISTRY_DECODER && kind != TERRACL_REGISTRY_NECK) {
        fprintf(errf, "terracl: --channels applies to decoders and necks only\n");
        return 2;
    }
    if (kind == TERRACL_REGISTRY_MODEL_FACTORY) {
        /* A factory builds whole models from a config's model_args; there
         * is nothing to build without one. */
        if (!terracl_registry_contains(terracl_registry_get(kind), pos[1])) {
            terracl_error e = {0};
            terracl_module *none = NULL;
            terracl_registry_build(terracl_registry_get(kind), pos[1], NULL, NULL, &none, &e);
            fprintf(errf, "terracl: %s\n", e.message);
            return 1;
        }
        const char *usage_text = tc_model_factory_usage(pos[1]);
        fprintf(out, "%s: %s", pos[1],
                usage_text ? usage_text : "builds a whole model from a config's model_args\n");
        return 0;
    }
    terracl_value *first = NULL;
    if (kind == TERRACL_REGISTRY_DECODER || kind == TERRACL_REGISTRY_NECK) {
        /* Necks default to four ViT-B features (LearnedInterpolateToPyramidal
         * needs exactly four). */
        const char *def = kind == TERRACL_REGISTRY_DECODER ? "768" : "768,768,768,768";
        first = parse_channels(channels ? channels : def, errf);
        if (first == NULL)
            return channels ? 2 : 1;
    }
    terracl_error err = {0};
    terracl_module *m = NULL;
    terracl_status st =
        terracl_registry_build(terracl_registry_get(kind), pos[1], first, NULL, &m, &err);
    terracl_value_free(first);
    if (st != TERRACL_OK) {
        fprintf(errf, "terracl: %s\n", err.message[0] ? err.message : terracl_status_text(st));
        return 1;
    }
    const terracl_value *cfg = terracl_module_config(m);
    int rc = 0;
    if (cfg != NULL && terracl_value_type_of(cfg) == TERRACL_VALUE_MAP &&
        terracl_value_map_size(cfg) > 0) {
        char *text = NULL;
        st = terracl_value_to_yaml(cfg, &text, &err);
        if (st != TERRACL_OK) {
            fprintf(errf, "terracl: %s\n", err.message);
            rc = 1;
        } else {
            fputs(text, out);
            free(text);
        }
    }
    if (rc == 0 && kind == TERRACL_REGISTRY_BACKBONE)
        fprintf(out, "parameters: %" PRIu64 "\n", terracl_module_param_count(m));
    if (rc == 0 && kind == TERRACL_REGISTRY_NECK) {
        int64_t ch[64];
        size_t n = terracl_module_out_channels(m, ch, 64);
        fprintf(out, "output channels: [");
        for (size_t i = 0; i < n && i < 64; i++)
            fprintf(out, "%s%" PRId64, i ? ", " : "", ch[i]);
        fprintf(out, "]\n");
    }
    terracl_module_destroy(m);
    return rc;
}

int tc_cmd_info(int argc, char **argv) { return tc_cli_info(argc, argv, stdout, stderr); }

/*
 * terracl info KIND NAME [--channels C1,C2,...] [KEY=VALUE ...]: builds one
 * component with its default arguments (plus the ones given) and prints the
 * resolved configuration as YAML (backbones: also the learnable parameter
 * count; necks: their output channels). Decoders and necks are built over
 * the feature channels given with --channels, by default ViT-B features.
 * Arguments that have no default (UNetDecoder's channels...) get an example
 * value, named in a comment line, so every component can be shown.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "io/yaml_config.h"
#include "models/backbones/torchgeo.h"
#include "models/factories/factories.h"

static const char k_usage[] = "usage: terracl info backbone|neck|decoder|factory|full_model NAME "
                              "[--channels C1,C2,...] [KEY=VALUE ...]\n";
static const char k_help[] =
    "\nBuilds one component and prints its resolved arguments as YAML (backbones: also the\n"
    "learnable parameter count; necks: their output channels; factories: the model_args they read).\n"
    "  --channels C1,C2,...  feature channels a decoder or neck receives (its first argument,\n"
    "                        TerraTorch's embed_dim); default 768 for decoders, 768,768,768,768\n"
    "                        for necks and for UNetDecoder\n"
    "  KEY=VALUE             one of the component's own arguments, named as in a config's model_args\n"
    "                        without the backbone_/decoder_ prefix, e.g. channels=512,256,128,64\n"
    "                        (UNetDecoder's decoder channels), num_classes=2, num_frames=4;\n"
    "                        VALUE is read as YAML, and a bare comma-separated list is a list\n"
    "  -h, --help            this text\n"
    "Arguments without a default (UNetDecoder channels, LinearDecoder num_classes and\n"
    "upsampling_size, SelectIndices indices, PermuteDims new_order) are shown with an example\n"
    "value when not given; a comment line on top names it.\n"
    "Names may carry a source prefix (terratorch_UNetDecoder); `terracl list` shows them.\n";

static void usage(FILE *errf) { fputs(k_usage, errf); }

/* Arguments with no default, filled with an example so `info` can show the
 * component. UNetDecoder's example follows TerraTorch's tutorial configs. */
static const struct {
    enum terracl_registry_kind kind;
    /* example: YAML; "" = one per input, halving from 512; "-" = one per input
     * but the first, halving from 256, when smp's default does not fit */
    const char *name, *key, *example;
} k_examples[] = {
    {TERRACL_REGISTRY_DECODER, "UNetDecoder", "channels", ""},
    {TERRACL_REGISTRY_DECODER, "smp_Unet", "decoder_channels", "-"},
    {TERRACL_REGISTRY_DECODER, "smp_UnetPlusPlus", "decoder_channels", "-"},
    {TERRACL_REGISTRY_DECODER, "smp_MAnet", "decoder_channels", "-"},
    {TERRACL_REGISTRY_DECODER, "ASPPModule", "in_channels", "768"},
    {TERRACL_REGISTRY_DECODER, "ASPPModule", "channels", "256"},
    {TERRACL_REGISTRY_DECODER, "ASPPModule", "conv_cfg", "null"},
    {TERRACL_REGISTRY_DECODER, "ASPPModule", "norm_cfg", "null"},
    {TERRACL_REGISTRY_DECODER, "ASPPModule", "act_cfg", "null"},
    {TERRACL_REGISTRY_DECODER, "ASPPHead", "in_channels", "768"},
    {TERRACL_REGISTRY_DECODER, "ASPPHead", "channels", "256"},
    {TERRACL_REGISTRY_DECODER, "ASPPSegmentationHead", "in_channels", "768"},
    {TERRACL_REGISTRY_DECODER, "ASPPSegmentationHead", "channels", "256"},
    {TERRACL_REGISTRY_DECODER, "ASPPRegressionHead", "in_channels", "768"},
    {TERRACL_REGISTRY_DECODER, "ASPPRegressionHead", "channels", "256"},
    {TERRACL_REGISTRY_DECODER, "LinearDecoder", "num_classes", "2"},
    {TERRACL_REGISTRY_DECODER, "LinearDecoder", "upsampling_size", "16"},
    {TERRACL_REGISTRY_NECK, "SelectIndices", "indices", "[0, 1, 2, 3]"},
    {TERRACL_REGISTRY_NECK, "PermuteDims", "new_order", "[0, 3, 1, 2]"},
};

/* The name inside its source: "terratorch_UNetDecoder" -> "UNetDecoder". */
static int same_component(const char *given, const char *name)
{
    if (strncmp(name, "smp_", 4) == 0 && strcmp(given, name + 4) == 0)
        return 1; /* smp's own name without its source prefix */
    size_t n = strlen(given), m = strlen(name);
    return n >= m && strcmp(given + n - m, name) == 0 && (n == m || given[n - m - 1] == '_');
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

/* KEY=VALUE -> args[KEY] = VALUE read as YAML ("32,64" is read as a list).
 * Returns 0 after printing why when it cannot. */
static int add_argument(terracl_value *args, const char *text, FILE *errf)
{
    const char *eq = strchr(text, '=');
    size_t klen = eq ? (size_t)(eq - text) : 0;
    char key[128], yaml[1024];
    if (klen == 0 || klen >= sizeof key) {
        fprintf(errf, "terracl info: arguments are KEY=VALUE, got '%s'\n", text);
        return 0;
    }
    memcpy(key, text, klen);
    key[klen] = '\0';
    const char *v = eq + 1;
    int bare_list = strchr(v, ',') != NULL && strchr("[{\"'", v[0]) == NULL;
    int w = snprintf(yaml, sizeof yaml, bare_list ? "[%s]" : "%s", v);
    if (w < 0 || (size_t)w >= sizeof yaml) {
        fprintf(errf, "terracl info: the value of %s is too long\n", key);
        return 0;
    }
    terracl_value *value = NULL;
    terracl_error e = {0};
    if (tc_yaml_parse(yaml, strlen(yaml), key, &value, &e) != TERRACL_OK) {
        fprintf(errf, "terracl info: %s\n", e.message);
        return 0;
    }
    if (terracl_value_map_set(args, key, value, &e) != TERRACL_OK) {
        fprintf(errf, "terracl info: %s\n", e.message);
        return 0;
    }
    return 1;
}

/* Fills the arguments listed in k_examples that were not given, and says so
 * in a YAML comment. `inputs`: how many feature maps the component gets. */
static int add_examples(enum terracl_registry_kind kind, const char *name, size_t inputs,
                        terracl_value *args, FILE *out, FILE *errf)
{
    for (size_t i = 0; i < sizeof k_examples / sizeof k_examples[0]; i++) {
        if (k_examples[i].kind != kind || !same_component(name, k_examples[i].name) ||
            terracl_value_map_peek(args, k_examples[i].key) != NULL)
            continue;
        int per_block = strcmp(k_examples[i].example, "-") == 0;
        if (per_block && inputs == 6)
            continue; /* smp's default (five blocks) fits */
        char text[256];
        int used = snprintf(text, sizeof text, "%s=%s", k_examples[i].key,
                            per_block ? "" : k_examples[i].example);
        size_t n = per_block ? inputs - 1 : k_examples[i].example[0] == '\0' ? inputs : 0;
        for (size_t c = 0; c < n && c < 32; c++) {
            int64_t ch = (per_block ? 256 : 512) >> c;
            used += snprintf(text + used, sizeof text - (size_t)used, "%s%" PRId64, c ? "," : "",
                             ch < 16 ? 16 : ch);
        }
        if (!add_argument(args, text, errf))
            return 0;
        fprintf(out, "# %s has no default for %s: shown with the example %s (pass %s=... to "
                     "choose)\n",
                k_examples[i].name, k_examples[i].key, text, k_examples[i].key);
    }
    return 1;
}

/* TerraTorch's torchgeo backbones have no default model_bands: shown with
 * the bands of their pretrained weights (whose count sets in_chans). */
static int add_model_bands(enum terracl_registry_kind kind, const char *name, terracl_value *args,
                           FILE *out, FILE *errf)
{
    char bands[512], text[600];
    if (kind != TERRACL_REGISTRY_BACKBONE || terracl_value_map_peek(args, "model_bands") != NULL ||
        !tc_torchgeo_example_bands(name, bands, sizeof bands))
        return 1;
    snprintf(text, sizeof text, "model_bands=%s", bands);
    if (!add_argument(args, text, errf))
        return 0;
    fprintf(out, "# %s has no default for model_bands: shown with its pretrained weights' bands "
                 "(pass model_bands=... to choose)\n",
            name);
    return 1;
}

/* Decoders that combine one feature map per decoder stage default to four. */
static size_t default_inputs(enum terracl_registry_kind kind, const char *name,
                             const terracl_value *args)
{
    if (kind == TERRACL_REGISTRY_NECK)
        return 4;
    /* smp's decoders are made for its default encoder_depth 5: six features. */
    if (same_component(name, "smp_Unet") || same_component(name, "smp_FPN") ||
        same_component(name, "smp_DeepLabV3Plus") || same_component(name, "smp_Linknet") ||
        same_component(name, "smp_UPerNet") || same_component(name, "smp_UnetPlusPlus") ||
        same_component(name, "smp_PAN") || same_component(name, "smp_MAnet") ||
        same_component(name, "smp_Segformer"))
        return 6;
    if (!same_component(name, "UNetDecoder"))
        return 1;
    const terracl_value *given = terracl_value_map_peek(args, "channels");
    if (given != NULL && terracl_value_type_of(given) == TERRACL_VALUE_LIST &&
        terracl_value_list_size(given) > 0 && terracl_value_list_size(given) <= 16)
        return terracl_value_list_size(given);
    return 4;
}

static int info_component(enum terracl_registry_kind kind, const char *name,
                          const char *channels, terracl_value *args, FILE *out, FILE *errf);

int tc_cli_info(int argc, char **argv, FILE *out, FILE *errf)
{
    if (tc_cli_wants_help(argc, argv)) {
        fprintf(out, "%s%s", k_usage, k_help);
        return 0;
    }
    const char *pos[2] = {NULL, NULL};
    const char *channels = NULL;
    int npos = 0;
    terracl_value *args = terracl_value_new_map();
    if (args == NULL) {
        fprintf(errf, "terracl: out of memory\n");
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--channels=", 11) == 0) {
            channels = a + 11;
        } else if (strcmp(a, "--channels") == 0 && i + 1 < argc) {
            channels = argv[++i];
        } else if (a[0] != '-' && strchr(a, '=') != NULL) {
            rc = add_argument(args, a, errf) ? 0 : 2;
        } else if (a[0] == '-' || npos == 2) {
            usage(errf);
            rc = 2;
        } else {
            pos[npos++] = a;
        }
    }
    if (rc == 0 && npos != 2) {
        usage(errf);
        rc = 2;
    }
    enum terracl_registry_kind kind = TERRACL_REGISTRY_BACKBONE;
    if (rc == 0 && !tc_cli_kind(pos[0], 0, &kind, errf))
        rc = 1;
    if (rc == 0)
        rc = info_component(kind, pos[1], channels, args, out, errf);
    terracl_value_free(args);
    return rc;
}

static int info_component(enum terracl_registry_kind kind, const char *name,
                          const char *channels, terracl_value *args, FILE *out, FILE *errf)
{
    if (channels != NULL && kind != TERRACL_REGISTRY_DECODER && kind != TERRACL_REGISTRY_NECK) {
        fprintf(errf, "terracl: --channels applies to decoders and necks only\n");
        return 2;
    }
    if (kind == TERRACL_REGISTRY_MODEL_FACTORY) {
        /* A factory builds whole models from a config's model_args; there
         * is nothing to build without one. */
        if (!terracl_registry_contains(terracl_registry_get(kind), name)) {
            terracl_error e = {0};
            terracl_module *none = NULL;
            terracl_registry_build(terracl_registry_get(kind), name, NULL, NULL, &none, &e);
            fprintf(errf, "terracl: %s\n", e.message);
            return 1;
        }
        if (terracl_value_map_size(args) > 0) {
            fprintf(errf, "terracl: KEY=VALUE arguments apply to backbones, necks and decoders\n");
            return 2;
        }
        const char *usage_text = tc_model_factory_usage(name);
        fprintf(out, "%s: %s", name,
                usage_text ? usage_text : "builds a whole model from a config's model_args\n");
        return 0;
    }
    terracl_value *first = NULL;
    size_t inputs = default_inputs(kind, name, args);
    if (kind == TERRACL_REGISTRY_DECODER || kind == TERRACL_REGISTRY_NECK) {
        char def[128] = "768";
        for (size_t i = 1; i < inputs; i++)
            strcat(def, ",768");
        first = parse_channels(channels ? channels : def, errf);
        if (first == NULL)
            return channels ? 2 : 1;
        inputs = terracl_value_list_size(first);
    }
    /* An unknown name is left to the build, which reports it. */
    if (terracl_registry_contains(terracl_registry_get(kind), name) &&
        (!add_examples(kind, name, inputs, args, out, errf) ||
         !add_model_bands(kind, name, args, out, errf))) {
        terracl_value_free(first);
        return 2;
    }
    terracl_error err = {0};
    terracl_module *m = NULL;
    terracl_status st =
        terracl_registry_build(terracl_registry_get(kind), name, first, args, &m, &err);
    terracl_value_free(first);
    if (st != TERRACL_OK) {
        fprintf(errf, "terracl: %s\n", err.message[0] ? err.message : terracl_status_text(st));
        return 1;
    }
    const char *unused[4];
    size_t nunused = terracl_value_unused_keys(args, unused, 4);
    if (nunused > 0) {
        fprintf(errf, "terracl: %s does not take the argument '%s'\n", name, unused[0]);
        terracl_module_destroy(m);
        return 2;
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
    if (rc == 0 && (kind == TERRACL_REGISTRY_BACKBONE || kind == TERRACL_REGISTRY_DECODER))
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

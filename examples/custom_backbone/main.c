/*
 * Registering your own component and using it through TerraTorch's
 * factory, from C:
 *   1. the registry basics (membership with and without a source prefix,
 *      building TerraTorch's components by name, listing source prefixes);
 *   2. a user's BasicBackbone (a patchifying convolution + ReLU) registered
 *      in the backbone registry and built with out_channels=64;
 *   3. a whole model from config.yaml (BasicBackbone -> FCNDecoder ->
 *      segmentation head) run on the default device with random weights.
 * Usage: custom_backbone [FOLDER_WITH_CONFIG]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <terracl/terracl.h>

static terracl_status basic_backbone(const terracl_value *first, const terracl_value *args,
                                     void *user, terracl_module **out, terracl_error *err)
{
    (void)first;
    (void)user;
    int64_t in_chans, out_channels, patch;
    terracl_status st;
    if ((st = terracl_args_int(args, "in_chans", 6, &in_chans, err)) ||
        (st = terracl_args_int(args, "out_channels", 64, &out_channels, err)) ||
        (st = terracl_args_int(args, "patch_size", 16, &patch, err)))
        return st;
    terracl_module *m = NULL;
    if ((st = terracl_sequential_create("BasicBackbone", &m, err)))
        return st;
    if ((st = terracl_sequential_add_conv2d(m, "0", in_chans, out_channels, patch, patch, 0, 1, err)) ||
        (st = terracl_sequential_add_activation(m, "ReLU", err)) ||
        (st = terracl_module_set_out_channels(m, &out_channels, 1, err))) {
        terracl_module_destroy(m);
        return st;
    }
    *out = m;
    return TERRACL_OK;
}

#define CHECK(call)                                                                                \
    do {                                                                                           \
        terracl_status st_ = (call);                                                               \
        if (st_ != TERRACL_OK) {                                                                   \
            fprintf(stderr, "%s failed: %s\n", #call, err.message);                                \
            return st_ == TERRACL_ERR_NO_DEVICE ? 77 : 1;                                          \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    terracl_error err = {0};
    terracl_registry *backbones = terracl_registry_get(TERRACL_REGISTRY_BACKBONE);
    terracl_registry *decoders = terracl_registry_get(TERRACL_REGISTRY_DECODER);

    /* 1. Registry basics. */
    printf("prithvi_eo_v1_100 in backbones: %d\n",
           terracl_registry_contains(backbones, "prithvi_eo_v1_100"));
    for (size_t i = 0; i < terracl_registry_source_count(backbones); i++)
        printf("backbone source prefix: %s\n", terracl_registry_source_prefix(backbones, i));
    terracl_value *args = terracl_value_new_map();
    terracl_value_map_set(args, "num_frames", terracl_value_new_int(1), NULL);
    terracl_module *m = NULL;
    CHECK(terracl_registry_build(backbones, "terratorch_prithvi_eo_v2_300", NULL, args, &m, &err));
    printf("prithvi_eo_v2_300: %llu parameters\n", (unsigned long long)terracl_module_param_count(m));
    terracl_module_destroy(m);
    terracl_value_free(args);
    terracl_value *channels = terracl_value_new_list();
    for (int c = 32; c <= 128; c *= 2)
        terracl_value_list_append(channels, terracl_value_new_int(c), NULL);
    CHECK(terracl_registry_build(decoders, "FCNDecoder", channels, NULL, &m, &err));
    int64_t out_ch = 0;
    terracl_module_out_channels(m, &out_ch, 1);
    printf("FCNDecoder on [32, 64, 128]: %lld output channels\n", (long long)out_ch);
    terracl_module_destroy(m);
    terracl_value_free(channels);

    /* 2. A user's backbone. */
    CHECK(terracl_registry_register(terracl_registry_source(backbones, "terratorch"),
                                    "BasicBackbone", basic_backbone, NULL, 0, &err));
    args = terracl_value_new_map();
    terracl_value_map_set(args, "out_channels", terracl_value_new_int(64), NULL);
    CHECK(terracl_registry_build(backbones, "BasicBackbone", NULL, args, &m, &err));
    terracl_module_out_channels(m, &out_ch, 1);
    printf("BasicBackbone: %lld output channels, %llu parameters, registered as %s\n",
           (long long)out_ch, (unsigned long long)terracl_module_param_count(m),
           terracl_registry_contains(backbones, "terratorch_BasicBackbone") ? "terratorch_BasicBackbone"
                                                                           : "?");
    terracl_module_destroy(m);
    terracl_value_free(args);

    /* 3. A whole model through the factory. */
    char config[4096];
    snprintf(config, sizeof config, "%s/config.yaml", argc > 1 ? argv[1] : ".");
    terracl_runtime *rt = NULL;
    terracl_model *model = NULL;
    CHECK(terracl_runtime_create(NULL, &rt, &err));
    CHECK(terracl_model_load_random(rt, config, &model, &err));
    static float image[1 * 6 * 64 * 64];
    for (size_t i = 0; i < sizeof image / sizeof image[0]; i++)
        image[i] = (float)(i % 17) / 17.0f - 0.5f;
    struct terracl_inputs in = {0};
    in.image = (struct terracl_tensor){image, 4, {1, 6, 64, 64}};
    struct terracl_tensor out = {0};
    CHECK(terracl_model_run(model, &in, &out, &err));
    printf("model output: [%lld, %lld, %lld, %lld] (%s)\n", (long long)out.dims[0],
           (long long)out.dims[1], (long long)out.dims[2], (long long)out.dims[3],
           terracl_model_task(model));
    int ok = out.ndim == 4 && out.dims[1] == 2 && out.dims[2] == 64 && out.dims[3] == 64;
    free(out.data);
    terracl_model_destroy(model);
    terracl_runtime_destroy(rt);
    if (!ok) {
        fprintf(stderr, "unexpected output shape\n");
        return 1;
    }
    return 0;
}

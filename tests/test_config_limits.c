/*
 * Integers from a config must be range-checked before they take part in a
 * size: values whose products wrap (img_size 2^40, num_frames 2^62...) are
 * refused with a config error instead of sizing a table for one token and
 * writing past its end.
 */
#include "test_common.h"

#include <string.h>

#include "io/yaml_config.h"

struct limit_case {
    enum terracl_registry_kind kind;
    const char *name;
    const char *first; /* YAML of the first argument (channel list) or NULL */
    const char *args;  /* YAML flow map */
    const char *fragment;
};

static const struct limit_case k_cases[] = {
    {TERRACL_REGISTRY_BACKBONE, "prithvi_eo_tiny", NULL, "{img_size: 1099511627776}", "img_size"},
    {TERRACL_REGISTRY_BACKBONE, "prithvi_eo_tiny", NULL, "{img_size: [1099511627776, 16]}",
     "img_size"},
    {TERRACL_REGISTRY_BACKBONE, "prithvi_eo_tiny", NULL, "{num_frames: 4611686018427387904}",
     "num_frames"},
    {TERRACL_REGISTRY_BACKBONE, "prithvi_eo_tiny", NULL,
     "{num_frames: 4611686018427387904, patch_size: [4611686018427387904, 16, 16]}",
     "num_frames"},
    {TERRACL_REGISTRY_BACKBONE, "prithvi_eo_tiny", NULL,
     "{img_size: 65536, num_frames: 4096, patch_size: [1, 1, 1]}", "tokens"},
    {TERRACL_REGISTRY_BACKBONE, "prithvi_eo_tiny", NULL, "{mlp_ratio: 1.0e300}", "mlp_ratio"},
    {TERRACL_REGISTRY_BACKBONE, "prithvi_eo_tiny", NULL, "{mlp_ratio: .nan}", "mlp_ratio"},
    {TERRACL_REGISTRY_BACKBONE, "prithvi_eo_tiny", NULL, "{mlp_ratio: 0.0001}", "mlp_ratio"},
    {TERRACL_REGISTRY_NECK, "ReshapeTokensToImage", "[64]",
     "{effective_time_dim: 4611686018427387904}", "effective_time_dim"},
    {TERRACL_REGISTRY_NECK, "ReshapeTokensToImage", "[64]", "{h: 4611686018427387904}",
     "effective_time_dim"},
    {TERRACL_REGISTRY_NECK, "InterpolateToPyramidal", "[64, 64]", "{scale_factor: 1.0e300}",
     "scale_factor"},
    {TERRACL_REGISTRY_MODEL_FACTORY, "EncoderDecoderFactory", NULL,
     "{task: segmentation, backbone: prithvi_eo_tiny, backbone_img_size: 1099511627776, decoder: FCNDecoder, "
     "num_classes: 2}",
     "img_size"},
    {TERRACL_REGISTRY_MODEL_FACTORY, "EncoderDecoderFactory", NULL,
     "{task: segmentation, backbone: prithvi_eo_tiny, backbone_img_size: 32, decoder: FCNDecoder, "
     "num_classes: 4611686018427387904}",
     "num_classes"},
    {TERRACL_REGISTRY_MODEL_FACTORY, "EncoderDecoderFactory", NULL,
     "{task: segmentation, backbone: prithvi_eo_tiny, backbone_img_size: 32, decoder: FCNDecoder, num_classes: 2, "
     "head_channel_list: [4611686018427387904]}",
     "channel_list"},
    {TERRACL_REGISTRY_MODEL_FACTORY, "EncoderDecoderFactory", NULL,
     "{task: segmentation, backbone: prithvi_eo_tiny, backbone_img_size: 32, decoder: FCNDecoder, num_classes: 2, "
     "necks: [{name: ReshapeTokensToImage, effective_time_dim: 4611686018427387904}]}",
     "effective_time_dim"},
};

static terracl_value *parse(const char *text)
{
    terracl_error err = {0};
    terracl_value *v = NULL;
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "case", &v, &err), err);
    return v;
}

static void test_huge_values_are_config_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        const struct limit_case *c = &k_cases[i];
        terracl_value *args = parse(c->args);
        terracl_value *first = c->first ? parse(c->first) : NULL;
        terracl_error err = {0};
        terracl_module *m = NULL;
        terracl_status st =
            terracl_registry_build(terracl_registry_get(c->kind), c->name, first, args, &m, &err);
        if (st == TERRACL_OK || strstr(err.message, c->fragment) == NULL)
            fail_msg("%s %s: status %s, message '%s' (expected a failure naming '%s')", c->name,
                     c->args, terracl_status_name(st), err.message, c->fragment);
        assert_null(m);
        terracl_value_free(args);
        terracl_value_free(first);
    }
}

/* The bounds leave ordinary configs alone. */
static void test_ordinary_values_build(void **state)
{
    (void)state;
    terracl_value *args = parse("{img_size: [64, 48], num_frames: 3, mlp_ratio: 2.5}");
    terracl_error err = {0};
    terracl_module *m = NULL;
    TC_ASSERT_OK(terracl_registry_build(terracl_registry_get(TERRACL_REGISTRY_BACKBONE),
                                        "prithvi_eo_tiny", NULL, args, &m, &err),
                 err);
    terracl_module_destroy(m);
    terracl_value_free(args);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_values_are_config_errors),
        cmocka_unit_test(test_ordinary_values_build),
    };
    return cmocka_run_group_tests_name("config_limits", tests, NULL, NULL);
}
